/*
** basic.c — the rewrites every optimizing level runs: merging equal
** computations and equal constants, and folding constant subgraphs.
*/
#include <stdlib.h>
#include <string.h>

#include "fgraph.h"

/* Constants larger than this are not compared by value, and folding does
** not make them: a large result is cheaper computed than stored. */
#define SMALL_CONSTANT 65536

/* -- merge --------------------------------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t x)
{
  h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
  return h;
}


static uint64_t node_hash(const sl_node *n)
{
  uint64_t h = mix((uint64_t)(uintptr_t)n->op, (uint64_t)n->nin);
  for (int i = 0; i < n->nin; i++) h = mix(h, (uint64_t)(uintptr_t)n->inputs[i]);
  return mix(h, sl_params_hash(&n->params));
}

static int same_node(const sl_node *a, const sl_node *b)
{
  if (a->op != b->op || a->nin != b->nin || !sl_params_equal(&a->params, &b->params)) return 0;
  for (int i = 0; i < a->nin; i++) if (a->inputs[i] != b->inputs[i]) return 0;
  return 1;
}

/* A small constant's identity: type, weakness and contents. */
typedef struct { sl_var *v; sl_tensor *data; uint64_t h; } const_entry;

static int const_key(sl_var *v, const_entry *e)
{
  const sl_tensor *t = v->value;
  e->v = v;
  e->data = NULL;
  if (sl_tensor_numel(t) > SMALL_CONSTANT) return 0;
  if (!(e->data = sl_tensor_clone(t))) return -1;
  uint64_t h = mix((uint64_t)t->dtype, (uint64_t)(t->ndim * 2 + v->weak));
  for (int d = 0; d < t->ndim; d++) h = mix(h, (uint64_t)t->shape[d]);
  e->h = hash_bytes(h, sl_tensor_ptr(e->data), (size_t)sl_tensor_numel(t) * sl_dtype_size(t->dtype));
  return 0;
}

static int same_constant(const const_entry *a, const const_entry *b)
{
  const sl_tensor *x = a->data, *y = b->data;
  if (a->h != b->h || x->dtype != y->dtype || x->ndim != y->ndim || a->v->weak != b->v->weak) return 0;
  for (int d = 0; d < x->ndim; d++) if (x->shape[d] != y->shape[d]) return 0;
  return memcmp(sl_tensor_ptr(x), sl_tensor_ptr(y),
                (size_t)sl_tensor_numel(x) * sl_dtype_size(x->dtype)) == 0;
}

/* Walks the graph in topological order with two hash tables (open
** addressing): nodes by op, params and inputs; constants by contents. A node
** equal to one seen before hands its clients over to it. */
static int merge(sl_fgraph *g)
{
  sl_node **order;
  int norder = sl_fgraph_toposort(g, &order);
  if (norder < 0) return -1;
  size_t cap = 64;
  while (cap < 2 * (size_t)norder + 2) cap *= 2;
  sl_node **nodes = calloc(cap, sizeof *nodes);
  const_entry *consts = calloc(cap, sizeof *consts);
  sl_ptrmap seen_const = { 0 };   /* constants already looked at */
  int changed = 0, rc = 0;
  if (!nodes || !consts) { rc = sl_fail("out of memory"); goto done; }
  for (int k = 0; k < norder && rc == 0; k++) {
    sl_node *n = order[k];
    if (!sl_fgraph_alive(g, n)) continue;
    for (int i = 0; i < n->nin && rc == 0; i++) {
      sl_var *c = n->inputs[i];
      if (c->kind != SL_VAR_CONSTANT || sl_ptrmap_get(&seen_const, c) >= 0) continue;
      if (sl_ptrmap_put(&seen_const, c, 1)) { rc = -1; break; }
      const_entry e;
      if (const_key(c, &e)) { rc = -1; break; }
      if (!e.data) continue;
      size_t j = e.h & (cap - 1);
      while (consts[j].v && !same_constant(&consts[j], &e)) j = (j + 1) & (cap - 1);
      if (!consts[j].v) { consts[j] = e; continue; }
      sl_tensor_release(e.data);
      if (sl_rw_replace(g, c, consts[j].v)) rc = -1;
      else changed++;
    }
    if (rc || (n->op->flags & SL_OP_IMPURE)) continue;
    size_t j = node_hash(n) & (cap - 1);
    while (nodes[j] && !same_node(nodes[j], n)) j = (j + 1) & (cap - 1);
    if (!nodes[j]) { nodes[j] = n; continue; }
    for (int o = 0; o < n->nout && rc == 0; o++)
      if (sl_rw_replace(g, &n->outputs[o], &nodes[j]->outputs[o])) rc = -1;
    changed++;
  }
done:
  for (size_t j = 0; consts && j < cap; j++) sl_tensor_release(consts[j].data);
  free(consts);
  free(nodes);
  sl_ptrmap_free(&seen_const);
  for (int k = 0; k < norder; k++) sl_node_release(order[k]);
  free(order);
  return rc < 0 ? -1 : changed;
}

/* -- constant folding ---------------------------------------------------------------- */

static int static_numel(const sl_type *ty, int64_t *numel)
{
  *numel = 1;
  for (int d = 0; d < ty->ndim; d++) {
    if (ty->shape[d] == SL_UNKNOWN) return 0;
    *numel *= ty->shape[d];
  }
  return 1;
}

static int fold(sl_fgraph *g, sl_node *n)
{
  sl_tensor *in[64], *out[8];
  int weak = n->nin > 0;
  if ((n->op->flags & SL_OP_IMPURE) || n->nin > 64 || n->nout > 8) return 0;
  for (int i = 0; i < n->nin; i++) {
    if (n->inputs[i]->kind != SL_VAR_CONSTANT) return 0;
    in[i] = n->inputs[i]->value;
    weak &= n->inputs[i]->weak;
  }
  for (int k = 0; k < n->nout; k++) {
    int64_t numel;
    if (static_numel(&n->outputs[k].type, &numel) && numel > SMALL_CONSTANT) return 0;
  }
  /* a failing node (a bad index, say) is left for the run to report */
  if (sl_node_perform(n, in, out)) return 0;
  int ok = 1;
  for (int k = 0; k < n->nout; k++)
    ok &= sl_type_accepts(&n->outputs[k].type, out[k]) && sl_tensor_numel(out[k]) <= SMALL_CONSTANT;
  sl_var *c[8] = { 0 };
  for (int k = 0; k < n->nout && ok; k++) {
    c[k] = sl_rw_constant_tensor(g, out[k]);
    if (!c[k]) ok = -1;
    else c[k]->weak = weak;
  }
  for (int k = 0; k < n->nout; k++) sl_tensor_release(out[k]);
  if (ok <= 0) return ok;
  for (int k = 0; k < n->nout; k++)
    if (sl_rw_replace(g, &n->outputs[k], c[k])) return -1;
  return 1;
}

const sl_rewrite sl_rewrites_basic[] = {
  { .name = "merge", .pass = "merge", .global = merge,
    .doc = "equal nodes (same op, parameters and inputs) and equal constants become one" },
  { .name = "constant_folding", .pass = "constant_folding", .fn = fold,
    .doc = "a node whose inputs are all constants is computed once, at compile time" },
};
const int sl_rewrites_basic_n = sizeof sl_rewrites_basic / sizeof *sl_rewrites_basic;
