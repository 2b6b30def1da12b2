/*
** lower.c — lowering a compiled function into its fusion plan (lower.h).
**
** The elementwise nodes are partitioned into kernels. Starting from one
** group per node, a producer joins its consumer's group, and then groups
** with the same loop shape that share nothing join each other (independent
** chains), whenever the result is still one loop:
** - every member read outside the group (a store) has the loop's static
**   shape; a producer of a smaller shape that broadcasts into the loop may
**   join only when it is cheap to recompute at every element (no math call,
**   no division) and nothing else reads it;
** - no path leaves the group and comes back into it through other steps
**   (the plan stays a DAG);
** - loads and stores fit the kernel's operands (SL_KMAXOPS) and the members
**   its body (SL_KMAXNODES).
** Independent groups join only when their shapes are fully known, or when
** they read one var of the loop's shape: unrelated unknown sizes often differ.
** A sum, prod, mean, max or min closes a kernel of its own together with the
** elementwise nodes only it reads (sum(x*y) writes no x*y; the op's row says
** which fuse). Every other node is a step running its op's reference kernel.
** The steps run in a topological order of the partition that keeps the
** graph's order where it can.
*/
#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "ptrmap.h"
#include "rows.h"

/* The most nodes in one kernel: its body is one expression per node, held in registers. */
#define SL_KMAXNODES 64
/* The most steps a search for a path between two groups visits before it gives up (and the
** groups stay apart): it bounds the lowering of very large graphs. */
#define SL_PATH_VISITS (1 << 14)

/* complex values stay on the reference kernels */
static int off_generated(sl_dtype dt) { return sl_dtype_kind(dt) == 'c'; }
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
  int *owner_of;         /* per slot: the node index computing it, -1 for inputs, constants, shared */
  int *kernel_of_node;   /* -1 when the node is not in a kernel */
  int **readers;         /* per slot: the node indices that read it (count in f->readers) */
  int *is_result;        /* per slot */
  int *reduce_of;        /* per node: the reduction it is computed inside, or -1 */
  int fuse;              /* 0: every node a step of its own */
  /* the partition. A unit is one step: a group of elementwise nodes, a
  ** reduction with the nodes computed inside it, or one other node. Units
  ** are named by their head node: a group's first member, the reduction. */
  int *group;            /* per node: union-find parent among elementwise nodes, -1 for others */
  int *next, *tail;      /* a unit's members as a list from its head; tail: per head */
  const sl_type **loop;  /* per group head: the static shape of its stores */
  int *seen, stamp;      /* per head: the last path search that reached it */
  int *todo;             /* per node: the path search's stack */
} lowering;

static int slot(lowering *L, const sl_var *v) { return sl_ptrmap_get(&L->slot_of, v); }

static int find(lowering *L, int x)
{
  while (L->group[x] != x) x = L->group[x] = L->group[L->group[x]];
  return x;
}

static int unit_of(lowering *L, int x)
{
  return L->group[x] >= 0 ? find(L, x) : L->reduce_of[x] >= 0 ? L->reduce_of[x] : x;
}

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

/* -- the partition ------------------------------------------------------------------ */

/* Recomputing it at every element of a larger loop costs less than storing it and
** loading it back: no math function, no division. */
static int cheap(const sl_node *n) { return n->op->rule != SL_TR_FLOAT && n->op != &sl_op_pow; }

/* t broadcasts into loop: every axis of t is 1 or loop's size there. */
static int broadcasts_into(const sl_type *t, const sl_type *loop)
{
  if (t->ndim > loop->ndim) return 0;
  for (int d = 0; d < t->ndim; d++) {
    int64_t x = t->shape[d], y = loop->shape[loop->ndim - t->ndim + d];
    if (x != 1 && x != y) return 0;
  }
  return 1;
}

/* Member m of the union of groups a and b is read outside it, or is a result. */
static int read_outside(lowering *L, int m, int a, int b)
{
  int s = slot(L, &L->f->order[m]->outputs[0]);
  if (L->is_result[s]) return 1;
  for (int r = 0; r < L->f->readers[s]; r++) {
    int u = unit_of(L, L->readers[s][r]);
    if (u != a && u != b) return 1;
  }
  return 0;
}

/* Groups a and b as one kernel with this loop shape: its stores have the
** loop's shape, its operands and members fit. */
static int fits(lowering *L, int a, int b, const sl_type *loop)
{
  int loads[SL_KMAXOPS], nl = 0, ns = 0, nm = 0;
  for (int h = 0; h < 2; h++)
    for (int m = h ? b : a; m >= 0; m = L->next[m]) {
      const sl_node *n = L->f->order[m];
      if (++nm > SL_KMAXNODES) return 0;
      if (read_outside(L, m, a, b)) {
        if (!same_static_shape(&n->outputs[0].type, loop)) return 0;
        ns++;
      }
      for (int i = 0; i < n->nin; i++) {
        int s = slot(L, n->inputs[i]), o = L->owner_of[s], q = 0;
        if (o >= 0 && (unit_of(L, o) == a || unit_of(L, o) == b)) continue;
        while (q < nl && loads[q] != s) q++;
        if (q == nl) { if (nl == SL_KMAXOPS) return 0; loads[nl++] = s; }
      }
    }
  return nl + ns <= SL_KMAXOPS;
}

/* 1 when some path from unit a reaches unit b through another unit (or
** the search is too long to tell): a and b then cannot run as one step. */
static int path_through_others(lowering *L, int a, int b)
{
  const sl_function *f = L->f;
  int top = 0, visits = 0;
  L->stamp++;
  L->seen[a] = L->stamp;
  L->todo[top++] = a;
  while (top) {
    int u = L->todo[--top];
    for (int m = u; m >= 0; m = L->next[m])
      for (int o = 0; o < f->order[m]->nout; o++) {
        int s = f->out_slot[m][o];
        for (int r = 0; r < f->readers[s]; r++) {
          int w = unit_of(L, L->readers[s][r]);
          if (w == b) { if (u != a) return 1; continue; }
          if (L->seen[w] == L->stamp) continue;
          if (++visits > SL_PATH_VISITS) return 1;
          L->seen[w] = L->stamp;
          L->todo[top++] = w;
        }
      }
  }
  return 0;
}

static int all_cheap(lowering *L, int g)
{
  for (int m = g; m >= 0; m = L->next[m]) if (!cheap(L->f->order[m])) return 0;
  return 1;
}

/* Independent groups a and b likely have the same shape at run time (or the
** call takes the reference path): the loop's shape is known, or both read one
** var of the loop's shape. */
static int likely_same_run_shape(lowering *L, int a, int b, const sl_type *loop)
{
  int known = 1;
  for (int d = 0; d < loop->ndim; d++) known &= loop->shape[d] != SL_UNKNOWN;
  if (known) return 1;
  for (int m = a; m >= 0; m = L->next[m]) {
    const sl_node *n = L->f->order[m];
    for (int i = 0; i < n->nin; i++) {
      if (!same_static_shape(&n->inputs[i]->type, loop)) continue;
      for (int q = b; q >= 0; q = L->next[q]) {
        const sl_node *u = L->f->order[q];
        for (int j = 0; j < u->nin; j++) if (u->inputs[j] == n->inputs[i]) return 1;
      }
    }
  }
  return 0;
}

/* Join the groups of nodes a and b when the rules of the header allow it. */
static void try_join(lowering *L, int a, int b, int independent)
{
  a = find(L, a), b = find(L, b);
  if (a == b) return;
  const sl_type *ta = L->loop[a], *tb = L->loop[b], *loop;
  if (same_static_shape(ta, tb)) loop = ta;
  else if (independent) return;
  else if (broadcasts_into(ta, tb) && all_cheap(L, a)) loop = tb;
  else if (broadcasts_into(tb, ta) && all_cheap(L, b)) loop = ta;
  else return;
  if (independent && !likely_same_run_shape(L, a, b, loop)) return;
  if (!fits(L, a, b, loop) || path_through_others(L, a, b) || path_through_others(L, b, a)) return;
  if (b < a) { int t = a; a = b; b = t; }   /* the head stays the first member */
  L->group[b] = a;
  L->next[L->tail[a]] = b;
  L->tail[a] = L->tail[b];
  L->loop[a] = loop;
}

/* How many earlier groups an independent group tries to join. */
#define SL_JOIN_TRIES 16

static void partition(lowering *L)
{
  sl_function *f = L->f;
  int n = f->nnodes;
  for (int k = 0; k < n; k++) {
    L->next[k] = -1;
    L->tail[k] = k;
    L->group[k] = L->fuse && L->reduce_of[k] < 0 && is_elemwise(f->order[k]) ? k : -1;
    L->loop[k] = &f->order[k]->outputs[0].type;
  }
  for (int k = 0; k < n; k++)   /* a reduction's list: it, then what it computes inside */
    if (L->reduce_of[k] >= 0) {
      int r = L->reduce_of[k];
      L->next[L->tail[r]] = k;
      L->tail[r] = k;
    }
  for (int c = 0; c < n; c++) {
    if (L->group[c] < 0) continue;
    const sl_node *u = f->order[c];
    for (int i = 0; i < u->nin; i++) {
      int o = L->owner_of[slot(L, u->inputs[i])];
      if (o >= 0 && L->group[o] >= 0) try_join(L, o, c, 0);
    }
  }
  for (int g = 0; g < n; g++) {
    if (L->group[g] != g) continue;
    for (int h = g - 1, tries = 0; h >= 0 && tries < SL_JOIN_TRIES && find(L, g) == g; h--) {
      if (L->group[h] != h || !same_static_shape(L->loop[h], L->loop[g])) continue;
      tries++;
      try_join(L, h, g, 1);
    }
  }
}

/* -- steps ------------------------------------------------------------------------- */

static sl_kernel *new_kernel(lowering *L, int ndim)
{
  sl_plan *p = L->p;
  sl_kernel *k = calloc(1, sizeof *k);
  sl_kernel **ks = realloc(p->kernels, ((size_t)p->nkernels + 1) * sizeof *ks);
  if (ks) p->kernels = ks;
  if (!k || !ks) { free(k); sl_fail("out of memory"); return NULL; }
  k->id = p->nkernels;
  k->ndim = ndim;
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
  return 0;
}

static int ascending(const void *x, const void *y) { return *(const int *)x - *(const int *)y; }

/* The step of unit u: a kernel of its members in graph order, or its node. */
static int emit(lowering *L, int u, int *members)
{
  sl_function *f = L->f;
  sl_node *n = f->order[u];
  int group = L->group[u] >= 0, reduction = !group && L->fuse && is_fusable_reduce(n);
  sl_step *st = new_step(L);
  if (!st) return -1;
  if (!group && !reduction) {
    st->node = st->last = u;
    return 0;
  }
  sl_kernel *k = new_kernel(L, group ? L->loop[u]->ndim : n->inputs[0]->type.ndim);
  if (!k) return -1;
  st->k = k;
  int nm = 0;
  for (int m = reduction ? L->next[u] : u; m >= 0; m = L->next[m]) members[nm++] = m;
  qsort(members, (size_t)nm, sizeof *members, ascending);
  for (int j = 0; j < nm; j++) if (add_node(L, k, members[j])) return -1;
  if (reduction) {
    k->reduce = n;
    if (add_node(L, k, u)) return -1;
  }
  return 0;
}

/* -- a min-heap of unit heads: the ready step first in graph order ---------------------- */
static void heap_push(int *h, int *n, int v)
{
  int i = (*n)++;
  for (; i > 0 && h[(i - 1) / 2] > v; i = (i - 1) / 2) h[i] = h[(i - 1) / 2];
  h[i] = v;
}

static int heap_pop(int *h, int *n)
{
  int top = h[0], v = h[--*n], i = 0;
  for (;;) {
    int c = 2 * i + 1;
    if (c >= *n) break;
    if (c + 1 < *n && h[c + 1] < h[c]) c++;
    if (h[c] >= v) break;
    h[i] = h[c];
    i = c;
  }
  if (*n) h[i] = v;
  return top;
}

/* Steps for the units in a topological order (Kahn's), the earliest ready first. */
static int emit_steps(lowering *L)
{
  sl_function *f = L->f;
  int n = f->nnodes, rc = -1, nh = 0, done = 0, units = 0;
  int *indeg = calloc((size_t)n + 1, sizeof *indeg), *heap = malloc(((size_t)n + 1) * sizeof *heap);
  int *members = malloc(((size_t)n + 1) * sizeof *members);
  if (!indeg || !heap || !members) { sl_fail("out of memory"); goto out; }
  for (int m = 0; m < n; m++) {
    int u = unit_of(L, m);
    units += u == m;
    for (int i = 0; i < f->order[m]->nin; i++) {
      int o = L->owner_of[f->in_slot[m][i]];
      if (o >= 0 && unit_of(L, o) != u) indeg[u]++;
    }
  }
  for (int m = 0; m < n; m++) if (unit_of(L, m) == m && !indeg[m]) heap_push(heap, &nh, m);
  while (nh) {
    int u = heap_pop(heap, &nh);
    if (emit(L, u, members)) goto out;
    done++;
    for (int m = u; m >= 0; m = L->next[m])
      for (int o = 0; o < f->order[m]->nout; o++) {
        int s = f->out_slot[m][o];
        for (int r = 0; r < f->readers[s]; r++) {
          int w = unit_of(L, L->readers[s][r]);
          if (w != u && --indeg[w] == 0) heap_push(heap, &nh, w);
        }
      }
  }
  rc = done == units ? 0 : sl_fail("lowering: the fusion plan has a cycle (a bug)");
out:
  free(indeg); free(heap); free(members);
  return rc;
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
  partition(L);
  if (emit_steps(L)) return -1;
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
  size_t nn = (size_t)f->nnodes + 1;
  L.owner_of = malloc(((size_t)nsl + 1) * sizeof(int));
  L.kernel_of_node = malloc(nn * sizeof(int));
  L.group = malloc(nn * sizeof(int));
  L.next = malloc(nn * sizeof(int));
  L.tail = malloc(nn * sizeof(int));
  L.seen = calloc(nn, sizeof(int));
  L.todo = malloc(nn * sizeof(int));
  L.loop = malloc(nn * sizeof *L.loop);
  L.readers = calloc((size_t)nsl + 1, sizeof *L.readers);
  L.is_result = calloc((size_t)nsl + 1, sizeof(int));
  L.reduce_of = calloc((size_t)f->nnodes + 1, sizeof(int));
  if (!p->keep || !L.owner_of || !L.kernel_of_node || !L.readers || !L.is_result || !L.reduce_of ||
      !L.group || !L.next || !L.tail || !L.seen || !L.todo || !L.loop) {
    sl_fail("out of memory");
    goto done;
  }
  for (int s = 0; s < nsl; s++) {
    L.owner_of[s] = -1;
    if (sl_ptrmap_put(&L.slot_of, f->slot_var[s], s)) goto done;
    if (!(L.readers[s] = calloc((size_t)f->readers[s] + 1, sizeof(int)))) { sl_fail("out of memory"); goto done; }
    p->keep[s] = f->slot_var[s]->kind != SL_VAR_RESULT;
  }
  for (int k = 0; k < f->nnodes; k++) {
    L.kernel_of_node[k] = -1;
    for (int o = 0; o < f->order[k]->nout; o++) L.owner_of[f->out_slot[k][o]] = k;
  }
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
  free(L.readers); free(L.is_result); free(L.reduce_of); free(L.owner_of); free(L.kernel_of_node);
  free(L.group); free(L.next); free(L.tail); free(L.seen); free(L.todo); free(L.loop);
  sl_ptrmap_free(&L.slot_of);
  if (rc) { sl_plan_free(p); return NULL; }
  return p;
}
