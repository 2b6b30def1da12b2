/*
** params.c — op parameters: equality and hashing (what merging equal nodes
** needs), and the reference-counted sub-functions they can hold.
*/
#include <stdlib.h>
#include <string.h>

#include "graph.h"

sl_subfn *sl_subfn_new(int nin, sl_var **inputs, int nout, sl_var **outputs)
{
  sl_subfn *f = calloc(1, sizeof *f);
  if (!f) { sl_fail("out of memory"); return NULL; }
  f->inputs = calloc((size_t)nin + 1, sizeof *f->inputs);
  f->outputs = calloc((size_t)nout + 1, sizeof *f->outputs);
  if (!f->inputs || !f->outputs) { free(f->inputs); free(f->outputs); free(f); sl_fail("out of memory"); return NULL; }
  f->refcount = 1;
  f->nin = nin;
  f->nout = nout;
  for (int i = 0; i < nin; i++) { f->inputs[i] = inputs[i]; sl_var_retain(inputs[i]); }
  for (int i = 0; i < nout; i++) { f->outputs[i] = outputs[i]; sl_var_retain(outputs[i]); }
  return f;
}

void sl_subfn_retain(sl_subfn *f) { if (f) f->refcount++; }

void sl_subfn_release(sl_subfn *f)
{
  if (!f || --f->refcount > 0) return;
  if (f->impl && f->impl_free) f->impl_free(f->impl);
  for (int i = 0; i < f->nin; i++) sl_var_release(f->inputs[i]);
  for (int i = 0; i < f->nout; i++) sl_var_release(f->outputs[i]);
  free(f->inputs);
  free(f->outputs);
  free(f);
}

static int input_index(const sl_subfn *f, const sl_var *v)
{
  for (int i = 0; i < f->nin; i++) if (f->inputs[i] == v) return i;
  return -1;
}

static int same_type(const sl_type *a, const sl_type *b)
{
  return a->dtype == b->dtype && a->ndim == b->ndim &&
         memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof *a->shape) == 0;
}

/* var a of fa computes what var b of fb does, inputs matched by position */
static int same_var(const sl_subfn *fa, const sl_var *a, const sl_subfn *fb, const sl_var *b, int depth)
{
  if (a == b) return input_index(fa, a) == input_index(fb, b);
  if (a->kind != b->kind || !same_type(&a->type, &b->type) || depth > 10000) return 0;
  switch (a->kind) {
  case SL_VAR_INPUT: return input_index(fa, a) >= 0 && input_index(fa, a) == input_index(fb, b);
  case SL_VAR_CONSTANT: case SL_VAR_SHARED: return a->value == b->value && a->weak == b->weak;
  default: break;
  }
  const sl_node *na = a->owner, *nb = b->owner;
  if (a->index != b->index || na->op != nb->op || na->nin != nb->nin ||
      !sl_params_equal(&na->params, &nb->params)) return 0;
  for (int i = 0; i < na->nin; i++)
    if (!same_var(fa, na->inputs[i], fb, nb->inputs[i], depth + 1)) return 0;
  return 1;
}

static int same_subfn(const sl_subfn *a, const sl_subfn *b)
{
  if (a == b) return 1;
  if (!a || !b || a->nin != b->nin || a->nout != b->nout) return 0;
  for (int i = 0; i < a->nin; i++) if (!same_type(&a->inputs[i]->type, &b->inputs[i]->type)) return 0;
  for (int i = 0; i < a->nout; i++) if (!same_var(a, a->outputs[i], b, b->outputs[i], 0)) return 0;
  return 1;
}

int sl_params_equal(const sl_params *a, const sl_params *b)
{
  return a->n == b->n && a->dtype == b->dtype && memcmp(&a->x, &b->x, sizeof a->x) == 0 &&
         memcmp(a->v, b->v, (size_t)a->n * sizeof *a->v) == 0 && same_subfn(a->sub, b->sub);
}

static uint64_t mix(uint64_t h, uint64_t x)
{
  h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

/* Equal parameters hash equal: a sub-function adds only what same_subfn
** compares without walking its graph (its arity and its inputs' types). */
uint64_t sl_params_hash(const sl_params *p)
{
  uint64_t h = mix((uint64_t)p->n, (uint64_t)p->dtype);
  for (int i = 0; i < p->n; i++) h = mix(h, (uint64_t)p->v[i]);
  if (p->sub) {
    h = mix(h, (uint64_t)p->sub->nin * 131 + (uint64_t)p->sub->nout);
    for (int i = 0; i < p->sub->nin; i++) h = mix(h, (uint64_t)p->sub->inputs[i]->type.dtype);
  }
  return h;
}
