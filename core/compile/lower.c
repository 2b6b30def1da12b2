/*
** lower.c — lowering a compiled function into its fusion plan (lower.h).
**
** f->order (after the optimizer) is walked once. An elementwise node joins
** the kernel of its latest elementwise producer when its static shape is
** that kernel's loop shape and every other input is ready before the kernel
** runs; otherwise it starts a kernel. A sum, prod, mean, max or min whose
** input is a kernel's only result that nothing else reads closes that kernel
** as a fused reduction (sum(x*y) writes no x*y; the op's row says which fuse); over any other input it is
** a kernel of its own. Every other node is a step running its op's
** reference kernel. A kernel's results (stores) are the vars read outside it
** or returned; everything else lives in registers.
*/
#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "ptrmap.h"

/* complex values, and the casts to and from float16 and bfloat16 (whose
** bits the generated code does not convert), stay on the reference kernels */
static int off_generated(sl_dtype dt) { return sl_dtype_kind(dt) == 'c' || sl_dtype_is_half(dt); }
static int touches_complex(const sl_node *n)
{
  for (int i = 0; i < n->nin; i++) if (off_generated(n->inputs[i]->type.dtype)) return 1;
  return off_generated(n->outputs[0].type.dtype);
}

static int is_elemwise(const sl_node *n)
{
  return n->op->rule != SL_TR_NONE && n->op->cexpr && n->nout == 1 && !touches_complex(n);
}

static int is_fusable_reduce(const sl_node *n)
{
  return n->op->fuse != SL_FUSE_NONE && n->nin == 1 && n->nout == 1 && !touches_complex(n);
}

/* Same static shape: every axis known and equal, or unknown in both. */
static int same_static_shape(const sl_type *a, const sl_type *b)
{
  if (a->ndim != b->ndim) return 0;
  for (int d = 0; d < a->ndim; d++) if (a->shape[d] != b->shape[d]) return 0;
  return 1;
}

static int all_ones(const sl_type *t)
{
  for (int d = 0; d < t->ndim; d++) if (t->shape[d] != 1) return 0;
  return 1;
}

typedef struct {
  sl_function *f;
  sl_plan *p;
  sl_ptrmap slot_of;     /* var -> slot */
  int *step_of_slot;     /* the step that produces a slot, -1 for inputs */
  int *kernel_of_node;   /* -1 when the node is not in a kernel */
  int *closed;           /* per kernel: ended in a reduction */
  int *kernel_step;      /* per kernel: its step */
  int **readers;         /* per slot: the node indices that read it (count in f->readers) */
  int *is_result;        /* per slot */
  int *reduce_of;        /* per node: the reduction it is computed inside, or -1 */
  int fuse;              /* 0: every node a step of its own */
} lowering;

static int slot(lowering *L, const sl_var *v) { return sl_ptrmap_get(&L->slot_of, v); }

/* 1 when the var of node index `at` (a member of kernel k, or about to be)
** is read by nodes outside k's members or is a result. */
static int escapes(lowering *L, int s, int k, int except)
{
  if (L->is_result[s]) return 1;
  for (int r = 0; r < L->f->readers[s]; r++) {
    int reader = L->readers[s][r];
    if (reader != except && L->kernel_of_node[reader] != k) return 1;
  }
  return 0;
}

static sl_kernel *new_kernel(lowering *L, int ndim)
{
  sl_plan *p = L->p;
  sl_kernel *k = calloc(1, sizeof *k);
  sl_kernel **ks = realloc(p->kernels, ((size_t)p->nkernels + 1) * sizeof *ks);
  int *c = realloc(L->closed, ((size_t)p->nkernels + 1) * sizeof *c);
  if (c) L->closed = c;
  int *ksz = realloc(L->kernel_step, ((size_t)p->nkernels + 1) * sizeof *ksz);
  if (ksz) L->kernel_step = ksz;
  if (ks) p->kernels = ks;
  if (!k || !ks || !c || !ksz) { free(k); sl_fail("out of memory"); return NULL; }
  k->id = p->nkernels;
  k->ndim = ndim;
  L->closed[k->id] = 0;
  p->kernels[p->nkernels++] = k;
  return k;
}

static sl_step *new_step(lowering *L)
{
  sl_plan *p = L->p;
  sl_step *s = realloc(p->steps, ((size_t)p->nsteps + 1) * sizeof *s);
  if (!s) { sl_fail("out of memory"); return NULL; }
  p->steps = s;
  s = &p->steps[p->nsteps++];
  memset(s, 0, sizeof *s);
  s->node = -1;
  return s;
}

/* Loads a node adds to kernel k (vars from outside k, counted once). */
static int new_loads(lowering *L, const sl_kernel *k, const sl_node *n)
{
  int add = 0;
  for (int i = 0; i < n->nin; i++) {
    int s = slot(L, n->inputs[i]);
    int inside = 0;
    for (int j = 0; j < k->nnodes && !inside; j++)
      inside = &L->f->order[k->node[j]]->outputs[0] == n->inputs[i];
    for (int j = 0; j < k->nload && !inside; j++) inside = k->load[j].slot == s;
    for (int j = 0; j < i && !inside; j++) inside = n->inputs[j] == n->inputs[i];
    add += !inside;
  }
  return add;
}

/* Can node n (index at) join kernel k? */
static int joinable(lowering *L, const sl_kernel *k, const sl_node *n)
{
  if (L->closed[k->id] || k->reduce) return 0;
  const sl_node *first = L->f->order[k->node[0]];
  if (!same_static_shape(&n->outputs[0].type, &first->outputs[0].type)) return 0;
  for (int i = 0; i < n->nin; i++) {
    int s = slot(L, n->inputs[i]);
    int owner = -1;
    for (int j = 0; j < k->nnodes && owner < 0; j++)
      if (&L->f->order[k->node[j]]->outputs[0] == n->inputs[i]) owner = j;
    if (owner < 0 && L->step_of_slot[s] >= L->kernel_step[k->id]) return 0;
  }
  /* loads, plus a store for every member (a bound: not all of them escape) */
  return k->nload + new_loads(L, k, n) + k->nnodes + 1 <= SL_KMAXOPS;
}

/* A node joining a kernel it reads nothing from must have the kernel's shape
** at run time, or the call falls back to the reference path: so either the
** shape is fully known, or n reads a var the kernel reads too whose static
** shape is n's (unknown sizes of unrelated vars often differ). */
static int same_run_shape(lowering *L, const sl_kernel *k, const sl_node *n)
{
  const sl_type *t = &n->outputs[0].type;
  int known = 1;
  for (int d = 0; d < t->ndim; d++) known &= t->shape[d] != SL_UNKNOWN;
  if (known) return 1;
  for (int i = 0; i < n->nin; i++) {
    if (!same_static_shape(&n->inputs[i]->type, t)) continue;
    int s = slot(L, n->inputs[i]);
    for (int l = 0; l < k->nload; l++) if (k->load[l].slot == s) return 1;
  }
  return 0;
}

static int add_node(lowering *L, sl_kernel *k, int at)
{
  sl_node *n = L->f->order[at];
  int *nodes = realloc(k->node, ((size_t)k->nnodes + 1) * sizeof *nodes);
  if (!nodes) return sl_fail("out of memory");
  k->node = nodes;
  int **src = realloc(k->src, ((size_t)k->nnodes + 1) * sizeof *src);
  if (!src) return sl_fail("out of memory");
  k->src = src;
  int *row = calloc((size_t)n->nin + 1, sizeof *row);
  if (!row) return sl_fail("out of memory");
  k->src[k->nnodes] = row;
  for (int i = 0; i < n->nin; i++) {
    sl_var *v = n->inputs[i];
    int j = 0;
    while (j < k->nnodes && &L->f->order[k->node[j]]->outputs[0] != v) j++;
    if (j < k->nnodes) { row[i] = j; continue; }
    int s = slot(L, v), l = 0;
    while (l < k->nload && k->load[l].slot != s) l++;
    if (l == k->nload) {
      if (k->nload == SL_KMAXOPS) return sl_fail("lowering: too many loads");
      sl_kload *ld = &k->load[k->nload++];
      ld->slot = s;
      ld->dtype = v->type.dtype;
      ld->pasted = v->kind == SL_VAR_CONSTANT && v->value && sl_tensor_numel(v->value) == 1;
      ld->how = all_ones(&v->type) ? SL_LOAD_SCALAR :
                v->type.ndim >= 1 && v->type.shape[v->type.ndim - 1] == 1 ? SL_LOAD_COLUMN :
                SL_LOAD_FULL;
      ld->op = -1;
    }
    row[i] = -(l + 1);
  }
  k->node[k->nnodes++] = at;
  L->kernel_of_node[at] = k->id;
  for (int i = 0; i < n->nout; i++) L->step_of_slot[slot(L, &n->outputs[i])] = L->kernel_step[k->id];
  return 0;
}

/* After grouping: operand numbers, stores, and column loads only where the
** loop's own last axis is not statically 1. */
static int finish_kernel(lowering *L, sl_kernel *k)
{
  int ops = 0;
  for (int l = 0; l < k->nload; l++) {
    sl_kload *ld = &k->load[l];
    if (k->reduce && ld->how == SL_LOAD_COLUMN) ld->how = SL_LOAD_FULL;
    if (ld->how == SL_LOAD_COLUMN) {
      const sl_node *last = L->f->order[k->node[k->nnodes - 1]];
      const sl_type *t = &last->outputs[0].type;
      if (t->ndim == 0 || t->shape[t->ndim - 1] == 1) ld->how = SL_LOAD_FULL;
    }
    ld->op = ld->pasted ? -1 : ops++;
  }
  k->nstore = 0;
  for (int j = 0; j < k->nnodes; j++) {
    const sl_node *n = L->f->order[k->node[j]];
    if (k->reduce && j < k->nnodes - 1) continue;   /* a fused reduction stores its result only */
    if (!k->reduce && !escapes(L, slot(L, &n->outputs[0]), k->id, -1)) continue;
    if (ops == SL_KMAXOPS) return sl_fail("lowering: too many operands");
    k->store_node[k->nstore++] = j;
    ops++;
  }
  k->nops = ops;
  return 0;
}

void sl_plan_free(sl_plan *p)
{
  if (!p) return;
  for (int i = 0; i < p->nkernels; i++) {
    sl_kernel *k = p->kernels[i];
    for (int j = 0; j < k->nnodes; j++) free(k->src[j]);
    free(k->src); free(k->node);
    free(k);
  }
  for (int i = 0; i < p->nsteps; i++) free(p->steps[i].free_slot);
  free(p->kernels); free(p->steps);
  free(p->keep);
  free(p);
}

/* For each fusable reduction: the elementwise nodes whose values only it
** needs (read by nothing else, not results), found backwards from its input.
** They run inside the reduction's kernel, at the reduction's place. */
static void mark_reduce_inputs(lowering *L)
{
  sl_function *f = L->f;
  for (int k = 0; k < f->nnodes; k++) L->reduce_of[k] = -1;
  for (int r = 0; r < f->nnodes && L->fuse; r++) {
    sl_node *red = f->order[r];
    if (!is_fusable_reduce(red)) continue;
    int s = slot(L, red->inputs[0]);
    if (!red->inputs[0]->owner || f->readers[s] != 1 || L->is_result[s]) continue;
    int marked = 0;
    for (int j = r - 1; j >= 0; j--) {
      sl_node *u = f->order[j];
      if (!is_elemwise(u) || L->reduce_of[j] >= 0) continue;
      int us = slot(L, &u->outputs[0]), ok = f->readers[us] > 0 && !L->is_result[us];
      for (int q = 0; ok && q < f->readers[us]; q++) {
        int reader = L->readers[us][q];
        ok = reader == r || L->reduce_of[reader] == r;
      }
      if (ok) { L->reduce_of[j] = r; marked++; }
    }
    /* too many distinct inputs for one kernel: leave them to ordinary kernels */
    int loads[SL_KMAXOPS], nl = 0, fits = 1;
    for (int j = 0; j < r && fits && marked; j++) {
      if (L->reduce_of[j] != r) continue;
      sl_node *u = f->order[j];
      for (int i = 0; i < u->nin && fits; i++) {
        sl_var *v = u->inputs[i];
        int vs = slot(L, v), q = 0, inside = 0;
        for (int jj = 0; jj < j && !inside; jj++)
          inside = L->reduce_of[jj] == r && &f->order[jj]->outputs[0] == v;
        if (inside) continue;
        while (q < nl && loads[q] != vs) q++;
        if (q == nl) { if (nl == SL_KMAXOPS - 2) fits = 0; else loads[nl++] = vs; }
      }
    }
    if (!fits) for (int j = 0; j < r; j++) if (L->reduce_of[j] == r) L->reduce_of[j] = -1;
  }
}

static int plan(lowering *L)
{
  sl_function *f = L->f;
  sl_plan *p = L->p;
  int nsl = f->nslots;
  mark_reduce_inputs(L);
  for (int k = 0; k < f->nnodes; k++) {
    sl_node *n = f->order[k];
    if (L->reduce_of[k] >= 0) continue;   /* computed inside its reduction */
    if (L->fuse && is_elemwise(n)) {
      sl_kernel *best = NULL;
      for (int i = 0; i < n->nin; i++) {
        sl_node *o = n->inputs[i]->owner;
        if (!o) continue;
        int at = -1;
        for (int j = 0; j < k && at < 0; j++) if (f->order[j] == o) at = j;
        int kid = at >= 0 ? L->kernel_of_node[at] : -1;
        if (kid < 0) continue;
        sl_kernel *c = p->kernels[kid];
        if (!joinable(L, c, n)) continue;
        if (!best || L->kernel_step[c->id] > L->kernel_step[best->id]) best = c;
      }
      /* no producer's kernel: an open kernel that likely has n's shape at run time */
      for (int c = p->nkernels - 1; c >= 0 && !best; c--)
        if (joinable(L, p->kernels[c], n) && same_run_shape(L, p->kernels[c], n)) best = p->kernels[c];
      if (!best) {
        sl_step *s = new_step(L);
        if (!s || !(best = new_kernel(L, n->outputs[0].type.ndim))) return -1;
        s->k = best;
        L->kernel_step[best->id] = p->nsteps - 1;
      }
      if (add_node(L, best, k)) return -1;
      continue;
    }
    if (L->fuse && is_fusable_reduce(n)) {
      /* the reduction and the nodes only it needs, all of them ready by now */
      sl_step *st = new_step(L);
      sl_kernel *c;
      if (!st || !(c = new_kernel(L, n->inputs[0]->type.ndim))) return -1;
      st->k = c;
      L->kernel_step[c->id] = p->nsteps - 1;
      for (int j = 0; j < k; j++)
        if (L->reduce_of[j] == k && add_node(L, c, j)) return -1;
      c->reduce = n;
      if (add_node(L, c, k)) return -1;
      L->closed[c->id] = 1;
      continue;
    }
    sl_step *st = new_step(L);
    if (!st) return -1;
    st->node = k;
    st->last = k;
    for (int i = 0; i < n->nout; i++) L->step_of_slot[slot(L, &n->outputs[i])] = p->nsteps - 1;
  }
  for (int i = 0; i < p->nkernels; i++) if (finish_kernel(L, p->kernels[i])) return -1;
  /* which slots each step reads for the last time */
  int *last = malloc(((size_t)nsl + 1) * sizeof *last);
  if (!last) return sl_fail("out of memory");
  for (int s = 0; s < nsl; s++) last[s] = -1;
  for (int i = 0; i < p->nsteps; i++) {
    sl_step *st = &p->steps[i];
    if (st->node >= 0) {
      for (int j = 0; j < f->order[st->node]->nin; j++) last[f->in_slot[st->node][j]] = i;
    } else {
      for (int l = 0; l < st->k->nload; l++) last[st->k->load[l].slot] = i;
      st->last = st->k->node[st->k->nnodes - 1];
    }
  }
  for (int i = 0; i < p->nsteps; i++) {
    sl_step *st = &p->steps[i];
    int n = 0;
    for (int s = 0; s < nsl; s++) n += last[s] == i && !p->keep[s];
    st->free_slot = malloc(((size_t)n + 1) * sizeof *st->free_slot);
    if (!st->free_slot) { free(last); return sl_fail("out of memory"); }
    for (int s = 0; s < nsl; s++) if (last[s] == i && !p->keep[s]) st->free_slot[st->nfree++] = s;
  }
  free(last);
  return 0;
}

sl_plan *sl_lower(sl_function *f, int fuse)
{
  lowering L = { .f = f, .fuse = fuse };
  int nsl = f->nslots, rc = -1;
  sl_plan *p = L.p = calloc(1, sizeof *p);
  if (!p) { sl_fail("out of memory"); return NULL; }
  p->keep = calloc((size_t)nsl + 1, 1);
  L.step_of_slot = malloc(((size_t)nsl + 1) * sizeof(int));
  L.kernel_of_node = malloc(((size_t)f->nnodes + 1) * sizeof(int));
  L.readers = calloc((size_t)nsl + 1, sizeof *L.readers);
  L.is_result = calloc((size_t)nsl + 1, sizeof(int));
  L.reduce_of = calloc((size_t)f->nnodes + 1, sizeof(int));
  if (!p->keep || !L.step_of_slot || !L.kernel_of_node || !L.readers || !L.is_result || !L.reduce_of) {
    sl_fail("out of memory");
    goto done;
  }
  for (int s = 0; s < nsl; s++) {
    L.step_of_slot[s] = -1;
    if (sl_ptrmap_put(&L.slot_of, f->slot_var[s], s)) goto done;
    if (!(L.readers[s] = calloc((size_t)f->readers[s] + 1, sizeof(int)))) { sl_fail("out of memory"); goto done; }
    p->keep[s] = f->slot_var[s]->kind != SL_VAR_RESULT;
  }
  for (int k = 0; k < f->nnodes; k++) L.kernel_of_node[k] = -1;
  int *fill = calloc((size_t)nsl + 1, sizeof *fill);
  if (!fill) { sl_fail("out of memory"); goto done; }
  for (int k = 0; k < f->nnodes; k++)
    for (int i = 0; i < f->order[k]->nin; i++) {
      int s = f->in_slot[k][i];
      L.readers[s][fill[s]++] = k;
    }
  free(fill);
  for (int r = 0; r < f->nout + f->nupd; r++) {
    L.is_result[f->result_slot[r]] = 1;
    p->keep[f->result_slot[r]] = 1;
  }
  rc = plan(&L);
done:
  if (L.readers) for (int s = 0; s < nsl; s++) free(L.readers[s]);
  free(L.readers); free(L.is_result); free(L.reduce_of); free(L.step_of_slot); free(L.kernel_of_node);
  free(L.closed); free(L.kernel_step);
  sl_ptrmap_free(&L.slot_of);
  if (rc) { sl_plan_free(p); return NULL; }
  return p;
}
