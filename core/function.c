/*
** function.c — compiled functions: the graph between inputs and outputs in
** topological order, and the reference backend that runs it.
**
** Compiling collects every node the outputs and updates need, in an order
** where each node follows its inputs, and gives every var a slot. Calling
** fills the input slots, runs each node's reference kernel, frees a slot
** after its last reader has run, and applies updates to shared variables
** together at the end, so every update sees the old values.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "function.h"

/* -- a pointer → index map (open addressing) ---------------------------------- */

typedef struct { const void **keys; int *vals; size_t cap, n; } ptrmap;

static size_t hash_ptr(const void *p, size_t cap)
{
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33;
  return (size_t)x & (cap - 1);
}

static int map_get(const ptrmap *m, const void *k)
{
  if (!m->cap) return -1;
  for (size_t i = hash_ptr(k, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (!m->keys[i]) return -1;
    if (m->keys[i] == k) return m->vals[i];
  }
}

static int map_put(ptrmap *m, const void *k, int v)
{
  if ((m->n + 1) * 2 > m->cap) {
    ptrmap g = { 0 };
    g.cap = m->cap ? m->cap * 2 : 64;
    g.keys = calloc(g.cap, sizeof *g.keys);
    g.vals = calloc(g.cap, sizeof *g.vals);
    if (!g.keys || !g.vals) { free(g.keys); free(g.vals); return sl_fail("out of memory"); }
    for (size_t i = 0; i < m->cap; i++) if (m->keys[i]) map_put(&g, m->keys[i], m->vals[i]);
    free(m->keys); free(m->vals);
    *m = g;
  }
  size_t i = hash_ptr(k, m->cap);
  while (m->keys[i] && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
  if (!m->keys[i]) m->n++;
  m->keys[i] = k;
  m->vals[i] = v;
  return 0;
}

static void map_free(ptrmap *m) { free(m->keys); free(m->vals); }

/* -- growing arrays ------------------------------------------------------------- */

static int grow(void **arr, int *cap, int need, size_t esz)
{
  if (need <= *cap) return 0;
  int c = *cap ? *cap * 2 : 16;
  while (c < need) c *= 2;
  void *p = realloc(*arr, (size_t)c * esz);
  if (!p) return sl_fail("out of memory");
  *arr = p;
  *cap = c;
  return 0;
}

/* -- compiling -------------------------------------------------------------------- */

typedef struct {
  sl_function *f;
  ptrmap slot_of;      /* var -> slot */
  ptrmap seen_node;    /* node -> 1 */
  int slot_cap, node_cap;
} builder;

static int add_slot(builder *b, sl_var *v)
{
  int s = map_get(&b->slot_of, v);
  if (s >= 0) return s;
  sl_function *f = b->f;
  if (grow((void **)&f->slot_var, &b->slot_cap, f->nslots + 1, sizeof *f->slot_var)) return -1;
  s = f->nslots++;
  f->slot_var[s] = v;
  return map_put(&b->slot_of, v, s) ? -1 : s;
}

/* Depth-first post-order with an explicit stack: graphs can be deep. */
static int visit(builder *b, sl_var *root)
{
  sl_function *f = b->f;
  typedef struct { sl_node *n; int next; } frame;
  frame *stack = NULL;
  int depth = 0, cap = 0, rc = 0;
  if (add_slot(b, root) < 0) return -1;
  if (!root->owner || map_get(&b->seen_node, root->owner) >= 0) return 0;
  if (grow((void **)&stack, &cap, 1, sizeof *stack)) return -1;
  stack[depth++] = (frame){ root->owner, 0 };
  map_put(&b->seen_node, root->owner, 1);
  while (depth > 0 && !rc) {
    frame *top = &stack[depth - 1];
    if (top->next < top->n->nin) {
      sl_var *in = top->n->inputs[top->next++];
      if (add_slot(b, in) < 0) { rc = -1; break; }
      if (in->owner && map_get(&b->seen_node, in->owner) < 0) {
        if (map_put(&b->seen_node, in->owner, 1) ||
            grow((void **)&stack, &cap, depth + 1, sizeof *stack)) { rc = -1; break; }
        stack[depth++] = (frame){ in->owner, 0 };
      }
      continue;
    }
    sl_node *n = top->n;
    depth--;
    for (int k = 0; k < n->nout; k++)
      if (add_slot(b, &n->outputs[k]) < 0) { rc = -1; break; }
    if (rc || grow((void **)&f->order, &b->node_cap, f->nnodes + 1, sizeof *f->order)) { rc = -1; break; }
    f->order[f->nnodes++] = n;
    sl_node_retain(n);
  }
  free(stack);
  return rc;
}

static int check_update(const sl_var *shared, const sl_var *expr)
{
  char a[128], b[128];
  if (shared->kind != SL_VAR_SHARED) return sl_fail("updates: only shared variables can be updated");
  if (shared->type.dtype != expr->type.dtype || shared->type.ndim != expr->type.ndim) {
    sl_type_text(&shared->type, a, sizeof a);
    sl_type_text(&expr->type, b, sizeof b);
    if (shared->type.dtype != expr->type.dtype)
      return sl_fail("updates: the update of shared variable '%s' is %s but the variable is %s; "
                     "cast it with :cast('%s')", shared->name ? shared->name : "?", b, a,
                     sl_dtype_name(shared->type.dtype));
    return sl_fail("updates: the update of shared variable '%s' is %s but the variable is %s",
                   shared->name ? shared->name : "?", b, a);
  }
  return 0;
}

sl_function *sl_function_new(int nin, sl_var **inputs, int nout, sl_var **outputs,
                             int nupd, sl_var **upd_shared, sl_var **upd_expr)
{
  sl_function *f = calloc(1, sizeof *f);
  builder b = { .f = f };
  if (!f) { sl_fail("out of memory"); return NULL; }
  f->nin = nin; f->nout = nout; f->nupd = nupd;
  f->inputs = calloc((size_t)nin + 1, sizeof *f->inputs);
  f->outputs = calloc((size_t)nout + 1, sizeof *f->outputs);
  f->upd_shared = calloc((size_t)nupd + 1, sizeof *f->upd_shared);
  f->upd_expr = calloc((size_t)nupd + 1, sizeof *f->upd_expr);
  if (!f->inputs || !f->outputs || !f->upd_shared || !f->upd_expr) goto fail_oom;
  for (int i = 0; i < nin; i++) {
    if (inputs[i]->kind != SL_VAR_INPUT) {
      char buf[64];
      sl_fail("compile: input %d (%s) is not a symbolic input: it is %s", i + 1,
              sl_var_label(inputs[i], buf, sizeof buf),
              inputs[i]->kind == SL_VAR_SHARED ? "a shared variable" :
              inputs[i]->kind == SL_VAR_CONSTANT ? "a constant" : "computed from other variables");
      goto fail;
    }
    for (int j = 0; j < i; j++)
      if (inputs[j] == inputs[i]) { sl_fail("compile: input %d is given twice", i + 1); goto fail; }
    f->inputs[i] = inputs[i]; sl_var_retain(inputs[i]);
    if (add_slot(&b, inputs[i]) < 0) goto fail;
  }
  for (int i = 0; i < nout; i++) { f->outputs[i] = outputs[i]; sl_var_retain(outputs[i]); }
  for (int i = 0; i < nupd; i++) {
    if (check_update(upd_shared[i], upd_expr[i])) goto fail;
    for (int j = 0; j < i; j++)
      if (upd_shared[j] == upd_shared[i]) { sl_fail("updates: a shared variable is updated twice"); goto fail; }
    f->upd_shared[i] = upd_shared[i]; sl_var_retain(upd_shared[i]);
    f->upd_expr[i] = upd_expr[i]; sl_var_retain(upd_expr[i]);
  }
  for (int i = 0; i < nout; i++) if (visit(&b, outputs[i])) goto fail;
  for (int i = 0; i < nupd; i++) if (visit(&b, upd_expr[i])) goto fail;

  /* every input a result needs must be among the function's inputs */
  for (int s = 0; s < f->nslots; s++) {
    sl_var *v = f->slot_var[s];
    int given = 0;
    for (int i = 0; i < nin; i++) given |= inputs[i] == v;
    if (v->kind == SL_VAR_INPUT && !given) {
      char buf[64];
      sl_fail("compile: the outputs depend on input '%s', which is not in the list of inputs",
              sl_var_label(v, buf, sizeof buf));
      goto fail;
    }
  }

  /* slot bookkeeping for the run: node inputs/outputs as slots, readers per slot */
  f->in_slot = calloc((size_t)f->nnodes + 1, sizeof *f->in_slot);
  f->out_slot = calloc((size_t)f->nnodes + 1, sizeof *f->out_slot);
  f->readers = calloc((size_t)f->nslots + 1, sizeof *f->readers);
  if (!f->in_slot || !f->out_slot || !f->readers) goto fail_oom;
  for (int k = 0; k < f->nnodes; k++) {
    sl_node *n = f->order[k];
    f->in_slot[k] = malloc(((size_t)n->nin + 1) * sizeof(int));
    f->out_slot[k] = malloc(((size_t)n->nout + 1) * sizeof(int));
    if (!f->in_slot[k] || !f->out_slot[k]) goto fail_oom;
    for (int i = 0; i < n->nin; i++) {
      f->in_slot[k][i] = map_get(&b.slot_of, n->inputs[i]);
      f->readers[f->in_slot[k][i]]++;
    }
    for (int i = 0; i < n->nout; i++) f->out_slot[k][i] = map_get(&b.slot_of, &n->outputs[i]);
  }
  f->result_slot = calloc((size_t)(nout + nupd) + 1, sizeof *f->result_slot);
  if (!f->result_slot) goto fail_oom;
  for (int i = 0; i < nout; i++) f->result_slot[i] = map_get(&b.slot_of, outputs[i]);
  for (int i = 0; i < nupd; i++) f->result_slot[nout + i] = map_get(&b.slot_of, upd_expr[i]);
  map_free(&b.slot_of);
  map_free(&b.seen_node);
  return f;

fail_oom:
  sl_fail("out of memory");
fail:
  map_free(&b.slot_of);
  map_free(&b.seen_node);
  sl_function_free(f);
  return NULL;
}

void sl_function_free(sl_function *f)
{
  if (!f) return;
  for (int i = 0; i < f->nin; i++) sl_var_release(f->inputs[i]);
  for (int i = 0; i < f->nout; i++) sl_var_release(f->outputs[i]);
  for (int i = 0; i < f->nupd; i++) { sl_var_release(f->upd_shared[i]); sl_var_release(f->upd_expr[i]); }
  for (int k = 0; k < f->nnodes; k++) {
    sl_node_release(f->order[k]);
    if (f->in_slot) free(f->in_slot[k]);
    if (f->out_slot) free(f->out_slot[k]);
  }
  free(f->inputs); free(f->outputs); free(f->upd_shared); free(f->upd_expr);
  free(f->order); free(f->slot_var); free(f->in_slot); free(f->out_slot);
  free(f->readers); free(f->result_slot);
  free(f);
}

/* -- calling ---------------------------------------------------------------------- */

static int where_fail(const sl_var *v, const char *what)
{
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", sl_errmsg());
  if (v && v->where) return sl_fail("%s (%s built at %s)", msg, what, v->where);
  return sl_fail("%s", msg);
}

int sl_function_check_input(const sl_function *f, int i, const sl_tensor *t)
{
  const sl_var *v = f->inputs[i];
  if (sl_type_accepts(&v->type, t)) return 0;
  char want[128], got[128], label[64];
  sl_type ty;
  sl_type_of_tensor(t, &ty);
  sl_type_text(&v->type, want, sizeof want);
  sl_type_text(&ty, got, sizeof got);
  sl_var_label(v, label, sizeof label);
  if (t->dtype != v->type.dtype)
    return sl_fail("input %d ('%s'): expected %s, got %s (wrong dtype: convert it with "
                   ":cast('%s'))", i + 1, label, want, got, sl_dtype_name(v->type.dtype));
  return sl_fail("input %d ('%s'): expected %s, got %s (wrong %s)", i + 1, label, want, got,
                 t->ndim != v->type.ndim ? "rank" : "shape");
}

int sl_function_call(sl_function *f, sl_tensor **args, sl_tensor **results)
{
  int nres = f->nout + f->nupd, rc = 0;
  sl_tensor **val = calloc((size_t)f->nslots + 1, sizeof *val);
  int *left = malloc(((size_t)f->nslots + 1) * sizeof *left);
  if (!val || !left) { free(val); free(left); return sl_fail("out of memory"); }
  memcpy(left, f->readers, (size_t)f->nslots * sizeof *left);
  for (int i = 0; i < f->nin; i++) {
    if (sl_function_check_input(f, i, args[i])) { rc = -1; goto done; }
  }
  for (int s = 0; s < f->nslots; s++) {
    sl_var *v = f->slot_var[s];
    sl_tensor *t = NULL;
    if (v->kind == SL_VAR_CONSTANT || v->kind == SL_VAR_SHARED) t = v->value;
    for (int i = 0; i < f->nin && !t; i++) if (f->inputs[i] == v) t = args[i];
    if (t) { val[s] = t; sl_tensor_retain(t); }
  }
  for (int k = 0; k < f->nnodes; k++) {
    sl_node *n = f->order[k];
    sl_tensor *in[SL_MAX_OPERANDS * 4], *out[8];
    if (n->nin > (int)(sizeof in / sizeof *in)) { rc = sl_fail("%s: too many inputs", n->op->name); goto done; }
    for (int i = 0; i < n->nin; i++) in[i] = val[f->in_slot[k][i]];
    if (sl_node_perform(n, in, out)) { rc = where_fail(&n->outputs[0], "node"); goto done; }
    for (int i = 0; i < n->nout; i++) {
      int s = f->out_slot[k][i];
      if (!sl_type_accepts(&n->outputs[i].type, out[i])) {
        char want[128], got[128];
        sl_type ty;
        sl_type_of_tensor(out[i], &ty);
        sl_type_text(&n->outputs[i].type, want, sizeof want);
        sl_type_text(&ty, got, sizeof got);
        sl_fail("%s: produced %s where the graph expects %s", n->op->name, got, want);
        for (int j = i; j < n->nout; j++) sl_tensor_release(out[j]);
        rc = where_fail(&n->outputs[i], "node");
        goto done;
      }
      sl_tensor_release(val[s]);
      val[s] = out[i];
    }
    /* free what no later node reads; results are held by an extra count below */
    for (int i = 0; i < n->nin; i++) {
      int s = f->in_slot[k][i];
      if (--left[s] == 0 && !f->slot_var[s]->value) {
        int is_result = 0;
        for (int r = 0; r < nres; r++) is_result |= f->result_slot[r] == s;
        int is_input = 0;
        for (int j = 0; j < f->nin; j++) is_input |= f->inputs[j] == f->slot_var[s];
        if (!is_result && !is_input) { sl_tensor_release(val[s]); val[s] = NULL; }
      }
    }
  }
  /* a result that is an input, constant or shared value is returned as a
  ** copy, so writing to it cannot change the caller's data or the graph */
  for (int r = 0; r < f->nout; r++) {
    sl_tensor *t = val[f->result_slot[r]];
    if (f->outputs[r]->kind == SL_VAR_RESULT) sl_tensor_retain(t);
    else if (!(t = sl_tensor_clone(t))) { while (r--) sl_tensor_release(results[r]); rc = -1; goto done; }
    results[r] = t;
  }
  /* updates take effect together, after everything has read the old values */
  sl_tensor **fresh = calloc((size_t)f->nupd + 1, sizeof *fresh);
  if (!fresh) { for (int r = 0; r < f->nout; r++) sl_tensor_release(results[r]); rc = sl_fail("out of memory"); goto done; }
  for (int u = 0; u < f->nupd && !rc; u++) {
    /* the new value must belong to the shared variable alone */
    sl_var *e = f->upd_expr[u];
    int alone = e->kind == SL_VAR_RESULT;
    for (int r = 0; r < f->nout; r++) alone &= f->outputs[r] != e;
    for (int w = 0; w < u; w++) alone &= f->upd_expr[w] != e;
    fresh[u] = val[f->result_slot[f->nout + u]];
    if (alone) sl_tensor_retain(fresh[u]);
    else if (!(fresh[u] = sl_tensor_clone(fresh[u]))) rc = -1;
  }
  if (rc) {
    for (int r = 0; r < f->nout; r++) sl_tensor_release(results[r]);
  } else {
    for (int u = 0; u < f->nupd; u++) {
      sl_tensor_release(f->upd_shared[u]->value);
      f->upd_shared[u]->value = fresh[u];
      fresh[u] = NULL;
    }
  }
  for (int u = 0; u < f->nupd; u++) sl_tensor_release(fresh[u]);
  free(fresh);
done:
  for (int s = 0; s < f->nslots; s++) sl_tensor_release(val[s]);
  free(val);
  free(left);
  return rc;
}
