/*
** shape_infer.c — symbolic shape inference: the size of an axis of any var as
** an expression over the function's input sizes, so that shape-only uses
** of a value never compute it; and sum_to nodes that provably sum nothing.
**
** The scheme. shape_i(v, k) is where every size is read (shape(v) becomes
** a stack of them). When v's static size at k is known it becomes a
** constant. When an op with a size rule made v, the rule rewrites the size
** over the op's inputs (their sizes, its params, its integer inputs), and
** those are lifted in turn, up to the graph's inputs, in one rewrite; an
** op without a rule keeps shape_i(v), which computes v. Rules live in one
** table keyed by op name, one small function per op family.
**
** Sizes are int64 0-d vars made by a builder that folds constants and
** identities and hash-conses what it builds (one var per computation).
** NumPy broadcasting of sizes a, b, c... (each may be 1 at run time) is
** where(eq(a, 1), bcast(b, c...), a) over the distinct operands sorted by
** id: a size known to be > 1 decides it, a known 1 drops out, and equal
** broadcasts build the same var.
**
** The rules assume the graph as written is valid: once an expression is no
** longer computed, nothing checks at run time that its operands' sizes
** agreed (sizes that do not broadcast, a dot whose inner sizes differ).
**
** Proofs. sum_to(g, like) is g itself when every size of g equals like's.
** The builder's deep mode lifts both sides as far as they go, so equal
** sizes become the same var; a size that a dot, concatenate or stack
** reading the var ties to a partner's size counts as that size. Built
** sizes are kept for the whole optimization, so each is worked out once.
*/
#include <stdlib.h>
#include <string.h>

#include "fgraph.h"

#define MAX_DEPTH 512     /* deep lifting stops here (the size stays a shape_i) */
#define MAX_BUILT 200000  /* ... and once this many nodes are built */
#define MAX_LEAVES 64     /* operands of one broadcast */

enum { RS_INFER = -1, RS_DYN = -2 };           /* reshape entries (ops/shape.c) */
enum { B_ABSENT, B_CONST, B_INPUT };           /* subtensor bounds (ops/index.c) */

/* -- the size builder ------------------------------------------------------------------ */

typedef struct { uint64_t h; sl_var *out; } memo_entry;

/* What the builder made, kept for the whole optimization (the graph frees
** it): sizes are facts about values, which rewrites never change, so they
** stay true while the graph is rewritten. Every var it names is retained,
** so no address is reused for another var while it is here. */
typedef struct {
  memo_entry *memo;            /* built nodes by op, params and inputs */
  size_t cap, n;
  sl_ptrmap dims;              /* deep mode: (var, axis) -> index in dimv */
  sl_var **dimv;
  char *busy;                  /* per dimv entry: being worked out */
  int ndims, dims_cap;
  sl_var *consts[32];          /* the constants built, one per value */
  int nconsts;
  sl_var **held;               /* retained */
  int nheld, held_cap;
} shape_memo;

typedef struct {
  sl_fgraph *g;
  shape_memo *m;
  int deep, depth, err;
  int cycles;                  /* sizes found while being worked out */
} dimctx;

static void memo_free(void *p)
{
  shape_memo *m = p;
  for (int i = 0; i < m->nheld; i++) sl_var_release(m->held[i]);
  free(m->held);
  free(m->memo);
  free(m->dimv);
  free(m->busy);
  sl_ptrmap_free(&m->dims);
  free(m);
}

/* A context for one rewrite over the graph's memo; 0, or -1 + sl_fail. */
static int ctx_init(dimctx *c, sl_fgraph *g, int deep)
{
  memset(c, 0, sizeof *c);
  c->g = g;
  c->deep = deep;
  if (!g->shapes) {
    if (!(g->shapes = calloc(1, sizeof(shape_memo)))) return sl_fail("out of memory");
    g->free_shapes = memo_free;
  }
  c->m = g->shapes;
  return 0;
}

static int hold(dimctx *c, sl_var *v)
{
  shape_memo *m = c->m;
  if (m->nheld == m->held_cap) {
    int cap = m->held_cap ? 2 * m->held_cap : 256;
    sl_var **h = realloc(m->held, (size_t)cap * sizeof *h);
    if (!h) { c->err = 1; return sl_fail("out of memory"); }
    m->held = h;
    m->held_cap = cap;
  }
  sl_var_retain(v);
  m->held[m->nheld++] = v;
  return 0;
}

/* Memo of deep results: (var, axis) for sizes, the var itself for a 0-d
** var's canonical form (no axis key of a 0-d var exists). */
static int memo_put(dimctx *c, sl_var *v, int k, sl_var *d)
{
  shape_memo *m = c->m;
  if (m->ndims == m->dims_cap) {
    int cap = m->dims_cap ? 2 * m->dims_cap : 64;
    sl_var **dv = realloc(m->dimv, (size_t)cap * sizeof *dv);
    if (dv) m->dimv = dv;
    char *b = dv ? realloc(m->busy, (size_t)cap) : NULL;
    if (!b) { c->err = 1; return sl_fail("out of memory"); }
    m->busy = b;
    m->dims_cap = cap;
  }
  m->busy[m->ndims] = 0;
  if (hold(c, v)) return -1;
  if (sl_ptrmap_put(&m->dims, (const char *)v + k, m->ndims)) { c->err = 1; return -1; }
  m->dimv[m->ndims++] = d;
  return 0;
}

static uint64_t mix(uint64_t h, uint64_t x)
{
  h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}

static uint64_t node_key(const sl_op *op, const sl_params *p, int nin, sl_var **in)
{
  uint64_t h = mix((uint64_t)(uintptr_t)op, (uint64_t)nin);
  for (int i = 0; i < nin; i++) h = mix(h, (uint64_t)(uintptr_t)in[i]);
  for (int i = 0; p && i < p->n; i++) h = mix(h, (uint64_t)p->v[i]);
  return mix(h, p ? (uint64_t)p->dtype : 0);
}

static int same_build(const sl_node *n, const sl_op *op, const sl_params *p, int nin, sl_var **in)
{
  static const sl_params none;
  if (!p) p = &none;
  if (n->op != op || n->nin != nin || n->params.n != p->n || n->params.dtype != p->dtype ||
      n->params.x != p->x) return 0;
  for (int i = 0; i < p->n; i++) if (n->params.v[i] != p->v[i]) return 0;
  for (int i = 0; i < nin; i++) if (n->inputs[i] != in[i]) return 0;
  return 1;
}

/* op(in...) as a var: the one built before when there is one. */
static sl_var *b_node(dimctx *c, const sl_op *op, const sl_params *p, int nin, sl_var **in)
{
  for (int i = 0; i < nin; i++) if (!in[i]) return NULL;
  uint64_t h = node_key(op, p, nin, in);
  shape_memo *mm = c->m;
  if (mm->n * 2 >= mm->cap) {   /* grow: rehash into a table twice as large */
    size_t cap = mm->cap ? 2 * mm->cap : 64;
    memo_entry *m = calloc(cap, sizeof *m);
    if (!m) { c->err = 1; sl_fail("out of memory"); return NULL; }
    for (size_t j = 0; j < mm->cap; j++) {
      if (!mm->memo[j].out) continue;
      size_t k = mm->memo[j].h & (cap - 1);
      while (m[k].out) k = (k + 1) & (cap - 1);
      m[k] = mm->memo[j];
    }
    free(mm->memo);
    mm->memo = m;
    mm->cap = cap;
  }
  size_t j = h & (mm->cap - 1);
  for (; mm->memo[j].out; j = (j + 1) & (mm->cap - 1))
    if (mm->memo[j].h == h && same_build(mm->memo[j].out->owner, op, p, nin, in)) return mm->memo[j].out;
  sl_var *v = sl_rw_applyv(c->g, op, p, nin, in);
  if (!v || hold(c, v)) { c->err = 1; return NULL; }
  mm->memo[j] = (memo_entry){ h, v };
  mm->n++;
  return v;
}

/* A 0-d integer constant's value. */
static int b_value_of(const sl_var *v, int64_t *x)
{
  if (!v || v->kind != SL_VAR_CONSTANT || !v->value || v->type.ndim != 0) return 0;
  char k = sl_dtype_kind(v->type.dtype);
  if (k != 'i' && k != 'u' && k != 'b') return 0;
  *x = (int64_t)sl_tensor_get(v->value, NULL);
  return 1;
}

static int b_is(const sl_var *v, int64_t x)
{
  int64_t y;
  return b_value_of(v, &y) && y == x;
}

static sl_var *b_const(dimctx *c, int64_t x)
{
  int64_t y;
  if (c->err) return NULL;
  shape_memo *m = c->m;
  for (int i = 0; i < m->nconsts; i++) if (b_value_of(m->consts[i], &y) && y == x) return m->consts[i];
  sl_var *v = sl_rw_constant(c->g, (double)x, SL_INT64, NULL);
  if (!v || hold(c, v)) { c->err = 1; return NULL; }
  if (m->nconsts < 32) m->consts[m->nconsts++] = v;
  return v;
}

/* Binary integer arithmetic on sizes, folded when both are constants. */
typedef enum { S_ADD, S_SUB, S_MUL, S_DIV, S_MAX, S_MIN } size_op;
static const sl_op *const size_ops[] = { &sl_op_add, &sl_op_sub, &sl_op_mul, &sl_op_int_div, &sl_op_maximum, &sl_op_minimum };

static int64_t floordiv(int64_t a, int64_t b)
{
  if (b == 0) return 0;   /* as the int_div kernel */
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static sl_var *b_arith(dimctx *c, size_op op, sl_var *a, sl_var *b)
{
  int64_t x, y;
  if (!a || !b) return NULL;
  int ka = b_value_of(a, &x), kb = b_value_of(b, &y);
  if (ka && kb) {
    int64_t r = op == S_ADD ? x + y : op == S_SUB ? x - y : op == S_MUL ? x * y
              : op == S_DIV ? floordiv(x, y) : op == S_MAX ? (x > y ? x : y) : (x < y ? x : y);
    return b_const(c, r);
  }
  switch (op) {
  case S_ADD: if (ka && x == 0) return b; if (kb && y == 0) return a; break;
  case S_SUB: if (kb && y == 0) return a; if (a == b) return b_const(c, 0); break;
  case S_MUL:
    if ((ka && x == 0) || (kb && y == 0)) return b_const(c, 0);
    if (ka && x == 1) return b;
    if (kb && y == 1) return a;
    break;
  case S_DIV: if (kb && y == 1) return a; break;
  case S_MAX: case S_MIN: if (a == b) return a; break;
  }
  /* commutative ops take their operands in id order, so a+b and b+a are one var */
  if (op != S_SUB && op != S_DIV && a->id > b->id) { sl_var *t = a; a = b; b = t; }
  sl_var *in[2] = { a, b };
  return b_node(c, size_ops[op], NULL, 2, in);
}

static sl_var *b_add(dimctx *c, sl_var *a, sl_var *b) { return b_arith(c, S_ADD, a, b); }
static sl_var *b_sub(dimctx *c, sl_var *a, sl_var *b) { return b_arith(c, S_SUB, a, b); }
static sl_var *b_mul(dimctx *c, sl_var *a, sl_var *b) { return b_arith(c, S_MUL, a, b); }

/* v < 0 ? if_neg : if_not */
static sl_var *b_if_negative(dimctx *c, sl_var *v, sl_var *if_neg, sl_var *if_not)
{
  int64_t x;
  if (!v || !if_neg || !if_not) return NULL;
  if (b_value_of(v, &x)) return x < 0 ? if_neg : if_not;
  if (if_neg == if_not) return if_neg;
  sl_var *lt[2] = { v, b_const(c, 0) };
  sl_var *in[3] = { b_node(c, &sl_op_lt, NULL, 2, lt), if_neg, if_not };
  return b_node(c, &sl_op_where, NULL, 3, in);
}

static sl_var *b_cast(dimctx *c, sl_var *v, sl_dtype dt)
{
  if (!v || v->type.dtype == dt) return v;
  sl_params p = { .dtype = dt };
  return b_node(c, &sl_op_cast, &p, 1, &v);
}

static sl_var *dim_of(dimctx *c, sl_var *v, int k);
static sl_var *canon(dimctx *c, sl_var *v);

/* An integer scalar var used as a size or bound, as int64; deep mode
** rebuilds it from the sizes it reads. */
static sl_var *b_scalar(dimctx *c, sl_var *v)
{
  int64_t x;
  if (b_value_of(v, &x)) return b_const(c, x);
  if (c->deep && v->type.dtype == SL_INT64) return canon(c, v);
  return b_cast(c, v, SL_INT64);
}

/* Entry j of an integer vector var of static length. */
static sl_var *b_entry(dimctx *c, sl_var *s, int j)
{
  sl_node *o = s->owner;
  if (s->kind == SL_VAR_CONSTANT && s->value) {
    int64_t idx = j;
    return b_const(c, (int64_t)sl_tensor_get(s->value, &idx));
  }
  if (o && o->op == &sl_op_shape) return dim_of(c, o->inputs[0], j);
  if (o && o->op == &sl_op_stack && o->params.v[0] == 0 && o->inputs[j]->type.ndim == 0)
    return b_scalar(c, o->inputs[j]);
  /* s[j + 1]: one selected index (word 1 | B_CONST << 1, then the index) */
  sl_params p = { .n = 3, .v = { 1, 1 | (B_CONST << 1), j + 1 } };
  return b_scalar(c, b_node(c, &sl_op_subtensor, &p, 1, &s));
}

/* where(eq(a, 1), b, a), the broadcast of a and b: its parts when v is one. */
static int bcast_parts(const sl_var *v, sl_var **a, sl_var **rest)
{
  sl_node *w = sl_rw_owner(v, &sl_op_where), *e = w ? sl_rw_owner(w->inputs[0], &sl_op_eq) : NULL;
  if (!e || e->inputs[0] != w->inputs[2] || !b_is(e->inputs[1], 1)) return 0;
  *a = w->inputs[2];
  *rest = w->inputs[1];
  return 1;
}

static int by_id(const void *a, const void *b)
{
  int64_t x = (*(sl_var *const *)a)->id, y = (*(sl_var *const *)b)->id;
  return (x > y) - (x < y);
}

/* The broadcast of sizes in[0..m-1]. */
static sl_var *b_broadcast(dimctx *c, int m, sl_var **in)
{
  sl_var *leaf[MAX_LEAVES], *stack[MAX_LEAVES];
  int nleaf = 0, depth = 0;
  for (int i = 0; i < m; i++) {
    if (!in[i]) return NULL;
    if (depth == MAX_LEAVES) return NULL;
    stack[depth++] = in[i];
    while (depth > 0) {
      sl_var *v = stack[--depth], *a, *rest;
      int64_t x;
      if (b_value_of(v, &x)) {
        if (x != 1) return v;   /* a size other than 1 is the broadcast */
        continue;
      }
      if (bcast_parts(v, &a, &rest)) {
        if (depth + 2 > MAX_LEAVES) return NULL;
        stack[depth++] = rest;
        stack[depth++] = a;
        continue;
      }
      int seen = 0;
      for (int j = 0; j < nleaf && !seen; j++) seen = leaf[j] == v;
      if (seen) continue;
      if (nleaf == MAX_LEAVES) return NULL;
      leaf[nleaf++] = v;
    }
  }
  if (nleaf == 0) return b_const(c, 1);
  qsort(leaf, (size_t)nleaf, sizeof *leaf, by_id);
  sl_var *r = leaf[nleaf - 1];
  for (int j = nleaf - 2; j >= 0; j--) {
    sl_var *eq[2] = { leaf[j], b_const(c, 1) };
    sl_var *w[3] = { b_node(c, &sl_op_eq, NULL, 2, eq), r, leaf[j] };
    r = b_node(c, &sl_op_where, NULL, 3, w);
  }
  return r;
}

/* -- size rules, one per op family ------------------------------------------------------------
** rule(c, n, k): the size of axis k of n's output as a var, or NULL: no
** rule for this case (c->err unset) or an error (c->err set). */

typedef sl_var *(*size_rule)(dimctx *c, sl_node *n, int k);

static sl_var *numel_of(dimctx *c, sl_var *v, int from)
{
  sl_var *r = b_const(c, 1);
  for (int d = from; d < v->type.ndim; d++) r = b_mul(c, r, dim_of(c, v, d));
  return r;
}

/* Elementwise: NumPy broadcasting, inputs aligned at their last axes. */
static sl_var *size_elemwise(dimctx *c, sl_node *n, int k)
{
  sl_var *in[16];
  int m = 0, nd = n->outputs[0].type.ndim;
  if (n->nin > 16) return NULL;
  for (int i = 0; i < n->nin; i++) {
    sl_var *x = n->inputs[i];
    int a = k - (nd - x->type.ndim);
    if (a < 0 || x->type.shape[a] == 1) continue;
    if (x->type.shape[a] != SL_UNKNOWN) return b_const(c, x->type.shape[a]);
    in[m++] = dim_of(c, x, a);
  }
  return b_broadcast(c, m, in);
}

/* Reductions: params { keepdims, axes... }; a reduced axis is gone or 1. */
static sl_var *size_reduce(dimctx *c, sl_node *n, int k)
{
  int reduced[SL_MAXDIM] = { 0 }, keep = (int)n->params.v[0];
  sl_var *x = n->inputs[0];
  for (int i = 1; i < n->params.n; i++) reduced[n->params.v[i]] = 1;
  for (int a = 0, o = 0; a < x->type.ndim; a++) {
    if (reduced[a] && !keep) continue;
    if (o++ == k) return reduced[a] ? b_const(c, 1) : dim_of(c, x, a);
  }
  return NULL;
}

/* dot: (batch,) rows of a, columns of b (see ops/blas.c). */
static sl_var *size_dot(dimctx *c, sl_node *n, int k)
{
  sl_var *a = n->inputs[0], *b = n->inputs[1];
  int na = a->type.ndim, nb = b->type.ndim;
  if (na == 3 || nb == 3) {
    if (k == 0) {
      sl_var *batch[2];
      int m = 0;
      if (na == 3) batch[m++] = a->type.shape[0] == SL_UNKNOWN ? dim_of(c, a, 0) : b_const(c, a->type.shape[0]);
      if (nb == 3) batch[m++] = b->type.shape[0] == SL_UNKNOWN ? dim_of(c, b, 0) : b_const(c, b->type.shape[0]);
      return b_broadcast(c, m, batch);
    }
    k--;
  }
  if (na >= 2 && k == 0) return dim_of(c, a, na - 2);
  return nb >= 2 ? dim_of(c, b, nb - 1) : NULL;
}

static sl_var *size_outer(dimctx *c, sl_node *n, int k)
{
  return numel_of(c, n->inputs[k], 0);
}

static sl_var *size_dimshuffle(dimctx *c, sl_node *n, int k)
{
  int64_t a = n->params.v[k];
  return a < 0 ? b_const(c, 1) : dim_of(c, n->inputs[0], (int)a);
}

/* reshape: its entries (params, then the shape inputs' values in order);
** -1 is the element count over the product of the others. */
static sl_var *size_reshape(dimctx *c, sl_node *n, int k)
{
  sl_var *e[SL_MAXDIM];
  int infer = -1, in = 1, pos = 0;
  for (int i = 0; i < n->params.n; i++) {
    int64_t v = n->params.v[i];
    e[i] = NULL;
    if (v >= 0) e[i] = b_const(c, v);
    else if (v == RS_INFER) infer = i;
    else {
      while (n->inputs[in]->type.ndim == 1 && n->inputs[in]->type.shape[0] == 0) in++;
      sl_var *s = n->inputs[in];
      e[i] = s->type.ndim == 0 ? b_scalar(c, s) : b_entry(c, s, pos);
      if (s->type.ndim == 0 || ++pos == s->type.shape[0]) { in++; pos = 0; }
    }
  }
  if (k != infer) return e[k];
  sl_var *rest = b_const(c, 1);
  for (int i = 0; i < n->params.n; i++) if (i != infer) rest = b_mul(c, rest, e[i]);
  return b_arith(c, S_DIV, numel_of(c, n->inputs[0], 0), rest);
}

static sl_var *size_flatten(dimctx *c, sl_node *n, int k)
{
  int keep = (int)n->params.v[0] - 1;
  return k < keep ? dim_of(c, n->inputs[0], k) : numel_of(c, n->inputs[0], keep);
}

static sl_var *size_concatenate(dimctx *c, sl_node *n, int k)
{
  if (k != n->params.v[0]) return dim_of(c, n->inputs[0], k);
  sl_var *r = b_const(c, 0);
  for (int i = 0; i < n->nin; i++) r = b_add(c, r, dim_of(c, n->inputs[i], k));
  return r;
}

static sl_var *size_stack(dimctx *c, sl_node *n, int k)
{
  int axis = (int)n->params.v[0];
  if (k == axis) return b_const(c, n->nin);
  return dim_of(c, n->inputs[0], k < axis ? k : k - 1);
}

/* narrow: params { axis, start, length, whole } */
static sl_var *size_narrow(dimctx *c, sl_node *n, int k)
{
  return k == n->params.v[0] ? b_const(c, n->params.v[2]) : dim_of(c, n->inputs[0], k);
}

/* repeat: params { repeats, axis } */
static sl_var *size_repeat(dimctx *c, sl_node *n, int k)
{
  sl_var *d = dim_of(c, n->inputs[0], k);
  return k == n->params.v[1] ? b_mul(c, d, b_const(c, n->params.v[0])) : d;
}

/* tile: reps aligned with the last axes, the shorter padded with 1s */
static sl_var *size_tile(dimctx *c, sl_node *n, int k)
{
  sl_var *x = n->inputs[0];
  int nd = x->type.ndim, nr = n->params.n, d = nd > nr ? nd : nr;
  int ri = k - (d - nr), si = k - (d - nd);
  sl_var *s = si >= 0 ? dim_of(c, x, si) : b_const(c, 1);
  return ri >= 0 ? b_mul(c, s, b_const(c, n->params.v[ri])) : s;
}

/* Updates of part of x have x's shape; so does sum_to's like. */
static sl_var *size_of_first(dimctx *c, sl_node *n, int k) { return dim_of(c, n->inputs[0], k); }
static sl_var *size_sum_to(dimctx *c, sl_node *n, int k) { return dim_of(c, n->inputs[1], k); }
static sl_var *size_gather(dimctx *c, sl_node *n, int k) { return dim_of(c, n->inputs[1], k); }

/* take(x, ind, axis): ind's axes in place of x's axis (x flattened for -1). */
static sl_var *size_take(dimctx *c, sl_node *n, int k)
{
  sl_var *x = n->inputs[0], *ind = n->inputs[1];
  int axis = n->params.n > 0 ? (int)n->params.v[0] : -1, ni = ind->type.ndim;
  if (axis < 0) return dim_of(c, ind, k);
  if (k < axis) return dim_of(c, x, k);
  if (k < axis + ni) return dim_of(c, ind, k - axis);
  return dim_of(c, x, k - ni + 1);
}

/* alloc: params per axis a size, or -1 for the next size input */
static sl_var *size_alloc(dimctx *c, sl_node *n, int k)
{
  int in = 1;
  for (int i = 0; i < k; i++) in += n->params.v[i] < 0;
  return n->params.v[k] >= 0 ? b_const(c, n->params.v[k]) : b_scalar(c, n->inputs[in]);
}

/* arange: max(0, ceil((stop - start) / step)) in double, as the kernel does */
static sl_var *size_arange(dimctx *c, sl_node *n, int k)
{
  (void)k;
  sl_var *v[3];
  for (int i = 0; i < 3; i++) v[i] = b_cast(c, n->inputs[i], SL_FLOAT64);
  sl_var *d[2] = { v[1], v[0] };
  sl_var *q[2] = { b_node(c, &sl_op_sub, NULL, 2, d), v[2] };
  sl_var *r = b_node(c, &sl_op_true_div, NULL, 2, q);
  r = b_cast(c, b_node(c, &sl_op_ceil, NULL, 1, &r), SL_INT64);
  return b_arith(c, S_MAX, r, b_const(c, 0));
}

/* subtensor: params { m, per indexed axis a word and its constants } (see
** ops/index.c); bound inputs follow x. A range's length is worked out as the
** kernel does (clamped to the axis), with the step a known constant. */
typedef struct { int select, has[3]; sl_var *val[3]; } index_axis;

static int read_index(dimctx *c, sl_node *n, index_axis *ax, int *m)
{
  const sl_params *p = &n->params;
  int at = 1, in = 1;
  *m = (int)p->v[0];
  for (int a = 0; a < *m; a++) {
    int64_t w = p->v[at++];
    ax[a].select = (int)(w & 1);
    for (int s = 0; s < 3; s++) {
      int how = (int)((w >> (1 + 2 * s)) & 3);
      ax[a].has[s] = how != B_ABSENT;
      ax[a].val[s] = how == B_CONST ? b_const(c, p->v[at++])
                   : how == B_INPUT ? b_scalar(c, n->inputs[in++]) : NULL;
      if (how != B_ABSENT && !ax[a].val[s]) return -1;
    }
  }
  return 0;
}

/* A 1-based bound (negative from the end) as a 0-based position. */
static sl_var *zero_based(dimctx *c, sl_var *i, sl_var *size)
{
  return b_if_negative(c, i, b_add(c, i, size), b_sub(c, i, b_const(c, 1)));
}

static sl_var *range_length(dimctx *c, const index_axis *ax, sl_var *size)
{
  int64_t step = 1;
  if (ax->has[2] && !b_value_of(ax->val[2], &step)) return NULL;   /* a symbolic step */
  if (step == 0) return NULL;
  if (!ax->has[0] && !ax->has[1] && step == 1) return size;
  int only_first = ax->has[0] && !ax->has[1] && !ax->has[2];
  sl_var *one = b_const(c, 1), *first, *last, *start, *stop;
  if (step > 0) {
    first = ax->has[0] ? zero_based(c, ax->val[0], size) : b_const(c, 0);
    last = only_first ? first : ax->has[1] ? zero_based(c, ax->val[1], size) : b_sub(c, size, one);
    start = b_arith(c, S_MIN, b_arith(c, S_MAX, first, b_const(c, 0)), size);
    stop = b_arith(c, S_MAX, start, b_arith(c, S_MIN, b_add(c, last, one), size));
    return b_arith(c, S_DIV, b_add(c, b_sub(c, stop, start), b_const(c, step - 1)), b_const(c, step));
  }
  first = ax->has[0] ? zero_based(c, ax->val[0], size) : b_sub(c, size, one);
  last = only_first ? first : ax->has[1] ? zero_based(c, ax->val[1], size) : b_const(c, 0);
  start = b_arith(c, S_MAX, b_const(c, -1), b_arith(c, S_MIN, first, b_sub(c, size, one)));
  stop = b_arith(c, S_MIN, start, b_arith(c, S_MAX, b_sub(c, last, one), b_const(c, -1)));
  return b_arith(c, S_DIV, b_add(c, b_sub(c, start, stop), b_const(c, -step - 1)), b_const(c, -step));
}

static sl_var *size_subtensor(dimctx *c, sl_node *n, int k)
{
  index_axis ax[SL_MAXDIM];
  int m;
  sl_var *x = n->inputs[0];
  if (read_index(c, n, ax, &m)) return NULL;
  for (int a = 0, o = 0; a < x->type.ndim; a++) {
    if (a < m && ax[a].select) continue;
    if (o++ != k) continue;
    sl_var *size = dim_of(c, x, a);
    return a < m ? range_length(c, &ax[a], size) : size;
  }
  return NULL;
}

/* Windows (ops/conv.c): conv2d(x, w) is (N, K, OH, OW), pooling (N, C, OH, OW),
** with OH = (H + 2 pad - dil (k - 1) - 1) / stride + 1. */
static sl_var *size_window(dimctx *c, sl_node *n, int k)
{
  const int64_t *v = n->params.v;
  int conv = n->nin == 2, a = k - 2;
  sl_var *x = n->inputs[0];
  if (k == 0) return dim_of(c, x, 0);
  if (k == 1) return conv ? dim_of(c, n->inputs[1], 0) : dim_of(c, x, 1);
  sl_var *win = conv ? dim_of(c, n->inputs[1], k) : b_const(c, v[a]);
  int64_t stride = conv ? v[a] : v[2 + a], pad = conv ? v[2 + a] : v[4 + a], dil = conv ? v[4 + a] : 1;
  sl_var *span = b_sub(c, b_add(c, dim_of(c, x, k), b_const(c, 2 * pad + dil - 1)), b_mul(c, win, b_const(c, dil)));
  return b_add(c, b_arith(c, S_DIV, span, b_const(c, stride)), b_const(c, 1));
}

static sl_var *size_of_last(dimctx *c, sl_node *n, int k) { return dim_of(c, n->inputs[n->nin - 1], k); }

/* FFTs (ops/fft.c): rfft halves its last transformed axis, irfft restores
** the length its params or its second input give. */
static sl_var *size_fft(dimctx *c, sl_node *n, int k)
{
  const int64_t *v = n->params.v;
  int last = (int)(v[1] >= 0 ? v[1] : v[0]);
  sl_var *x = n->inputs[0];
  if (k != last || n->op == &sl_op_fft || n->op == &sl_op_ifft) return dim_of(c, x, k);
  if (n->op == &sl_op_rfft)
    return b_add(c, b_arith(c, S_DIV, dim_of(c, x, k), b_const(c, 2)), b_const(c, 1));
  return n->nin == 2 ? dim_of(c, n->inputs[1], k) : b_const(c, v[2]);
}

/* Linear algebra (ops/lapack.c), single-output ops: cholesky and inv keep
** their input's sizes; solve and solve_triangular have A's rows and B's
** columns (their broadcast batch axes have no rule); eigvalsh and svdvals
** keep the input's batch, eigvalsh its order too. */
static sl_var *size_linalg(dimctx *c, sl_node *n, int k)
{
  sl_var *a = n->inputs[0];
  int nd = n->outputs[0].type.ndim;
  if (n->nin == 2) {
    sl_var *b = n->inputs[1];
    if (k == nd - 2) return dim_of(c, a, a->type.ndim - 2);
    if (k == nd - 1) return dim_of(c, b, b->type.ndim - 1);
    return NULL;
  }
  if (nd == a->type.ndim) return dim_of(c, a, k);
  if (k < nd - 1 || n->op == &sl_op_eigvalsh) return dim_of(c, a, k);
  return NULL;
}

/* The rule of each kind an op's row names (graph.h: sl_size_rule). */
static const size_rule size_rules[SL_SIZE_COUNT] = {
  [SL_SIZE_WINDOW] = size_window,
  [SL_SIZE_OF_LAST] = size_of_last,
  [SL_SIZE_OF_FIRST] = size_of_first,
  [SL_SIZE_FFT] = size_fft,
  [SL_SIZE_LINALG] = size_linalg,
  [SL_SIZE_REDUCE] = size_reduce,
  [SL_SIZE_DOT] = size_dot,
  [SL_SIZE_OUTER] = size_outer,
  [SL_SIZE_DIMSHUFFLE] = size_dimshuffle,
  [SL_SIZE_RESHAPE] = size_reshape,
  [SL_SIZE_FLATTEN] = size_flatten,
  [SL_SIZE_CONCATENATE] = size_concatenate,
  [SL_SIZE_STACK] = size_stack,
  [SL_SIZE_NARROW] = size_narrow,
  [SL_SIZE_REPEAT] = size_repeat,
  [SL_SIZE_TILE] = size_tile,
  [SL_SIZE_SUBTENSOR] = size_subtensor,
  [SL_SIZE_TAKE] = size_take,
  [SL_SIZE_GATHER] = size_gather,
  [SL_SIZE_ALLOC] = size_alloc,
  [SL_SIZE_ARANGE] = size_arange,
  [SL_SIZE_SUM_TO] = size_sum_to,
};

static size_rule rule_for(const sl_node *n)
{
  if (n->nout != 1) return NULL;
  if (n->op->rule != SL_TR_NONE) return size_elemwise;
  return size_rules[n->op->size];
}

/* -- sizes of vars ------------------------------------------------------------------------ */

static sl_var *shape_i_of(dimctx *c, sl_var *v, int k)
{
  sl_params p = { .n = 1, .v = { k } };
  return b_node(c, &sl_op_shape_i, &p, 1, &v);
}

/* Deep mode: a size that a node reading v ties to another var's size (a
** dot's inner sizes, the joined axes of concatenate and stack), so that
** both sides of the tie are one var: a known size first, else the size of
** a var that a rule lifts, else that of the oldest var among them. */
static sl_var *tied_size(dimctx *c, sl_var *v, int k)
{
  const sl_client *cl;
  sl_var *oldest = v, *lifted = NULL;
  int oldest_k = k, lifted_k = 0;
  int m = sl_rw_clients(c->g, v, &cl);
  for (int i = 0; i < m; i++) {
    sl_node *n = cl[i].node;
    sl_var *tie[16];
    int tie_k[16], nt = 0;
    if (!n) continue;
    const sl_op *op = n->op;
    if (op == &sl_op_dot) {
      sl_var *a = n->inputs[0], *b = n->inputs[1];
      int kb = b->type.ndim == 1 ? 0 : b->type.ndim - 2;
      if (cl[i].index == 0 && k == a->type.ndim - 1) { tie[nt] = b; tie_k[nt++] = kb; }
      if (cl[i].index == 1 && k == kb) { tie[nt] = a; tie_k[nt++] = a->type.ndim - 1; }
    } else if (op == &sl_op_concatenate || op == &sl_op_stack) {
      if (op == &sl_op_concatenate && k == n->params.v[0]) continue;   /* the joined axis */
      for (int j = 0; j < n->nin && nt < 16; j++)
        if (n->inputs[j] != v && n->inputs[j]->type.ndim == v->type.ndim) { tie[nt] = n->inputs[j]; tie_k[nt++] = k; }
    }
    for (int j = 0; j < nt; j++) {
      int64_t s = tie[j]->type.shape[tie_k[j]];
      if (s != SL_UNKNOWN) return b_const(c, s);
      if (tie[j]->owner && rule_for(tie[j]->owner)) {
        if (!lifted) { lifted = tie[j]; lifted_k = tie_k[j]; }
      } else if (tie[j]->id < oldest->id) {
        oldest = tie[j];
        oldest_k = tie_k[j];
      }
    }
  }
  if (lifted) return dim_of(c, lifted, lifted_k);
  return oldest != v ? shape_i_of(c, oldest, oldest_k) : NULL;
}

/* Output index of n's node through its rule; NULL when there is none. */
static sl_var *lift(dimctx *c, sl_var *v, int k)
{
  size_rule rule = v->owner ? rule_for(v->owner) : NULL;
  return rule ? rule(c, v->owner, k) : NULL;
}

/* The size of axis k of v: a constant when static; shallow mode, else
** shape_i(v, k); deep mode, lifted as far as the rules go. */
static sl_var *dim_of(dimctx *c, sl_var *v, int k)
{
  if (c->err) return NULL;
  if (v->type.shape[k] != SL_UNKNOWN) return b_const(c, v->type.shape[k]);
  sl_var *leaf = shape_i_of(c, v, k);
  if (!c->deep || !leaf) return leaf;
  /* k < sizeof *v: v + k is (v, k)'s key */
  int at = sl_ptrmap_get(&c->m->dims, (const char *)v + k);
  if (at >= 0) {
    c->cycles += c->m->busy[at];
    return c->m->dimv[at];
  }
  /* the leaf stands for the size while it is worked out; a size that ties
  ** lead back to stays the leaf (else lifting it would never end) */
  at = c->m->ndims;
  if (memo_put(c, v, k, leaf)) return NULL;
  sl_var *d = NULL;
  int cycles = c->cycles;
  c->m->busy[at] = 1;
  if (c->depth < MAX_DEPTH && c->m->n < MAX_BUILT) {
    c->depth++;
    d = lift(c, v, k);
    if (!d && !c->err) d = tied_size(c, v, k);
    c->depth--;
  }
  c->m->busy[at] = 0;
  if (c->err) return NULL;
  if (d && c->cycles == cycles) c->m->dimv[at] = d;
  return c->m->dimv[at];
}

/* Deep mode: an int64 0-d size expression of the graph (shape_i's and
** integer arithmetic on them) rebuilt by the builder from lifted sizes, so
** that it is the same var as an equal size built here. */
static sl_var *canon(dimctx *c, sl_var *v)
{
  sl_node *o = v->owner;
  int at = sl_ptrmap_get(&c->m->dims, v);
  if (at >= 0) return c->m->dimv[at];
  if (!o || v->type.ndim != 0 || c->depth >= MAX_DEPTH) return v;
  sl_var *r = v, *a, *rest;
  c->depth++;
  if (o->op == &sl_op_shape_i) r = dim_of(c, o->inputs[0], (int)o->params.v[0]);
  else if (bcast_parts(v, &a, &rest)) {
    sl_var *in[2] = { canon(c, a), canon(c, rest) };
    r = b_broadcast(c, 2, in);
  } else if (o->nin == 2 && o->inputs[0]->type.ndim == 0 && o->inputs[1]->type.ndim == 0 &&
             o->inputs[0]->type.dtype == SL_INT64 && o->inputs[1]->type.dtype == SL_INT64) {
    for (int op = S_ADD; op <= S_MIN; op++)
      if (o->op == size_ops[op]) {
        r = b_arith(c, (size_op)op, canon(c, o->inputs[0]), canon(c, o->inputs[1]));
        break;
      }
  }
  c->depth--;
  if (r && memo_put(c, v, 0, r)) return NULL;
  return r;
}

/* -- the rewrites ------------------------------------------------------------------------- */

static int replace_by(dimctx *c, sl_var *old, sl_var *nv)
{
  return c->err ? -1 : nv ? (sl_rw_replace(c->g, old, nv) ? -1 : 1) : 0;
}

/* shape_i(v, k) with v's size at k known: the constant */
static int shape_i_constant(sl_fgraph *g, sl_node *n)
{
  sl_var *v = n->inputs[0];
  int64_t s = v->type.shape[n->params.v[0]];
  if (s == SL_UNKNOWN) return 0;
  dimctx c;
  if (ctx_init(&c, g, 0)) return -1;
  return replace_by(&c, &n->outputs[0], b_const(&c, s));
}

/* shape_i(op(...), k): the op's size rule over its inputs, and theirs in
** turn, all the way in one step (one sweep per level would be slow) */
static int shape_i_lift(sl_fgraph *g, sl_node *n)
{
  dimctx c;
  if (ctx_init(&c, g, 1)) return -1;
  sl_var *v = n->inputs[0];
  if (v->type.shape[n->params.v[0]] != SL_UNKNOWN) return 0;   /* shape_i_constant's */
  sl_var *d = dim_of(&c, v, (int)n->params.v[0]);
  sl_node *o = d ? d->owner : NULL;
  if (o && o->op == n->op && o->inputs[0] == v && o->params.v[0] == n->params.v[0]) d = NULL;
  return replace_by(&c, &n->outputs[0], d);
}

/* shape(v): a stack of its sizes, or a constant when all are known */
static int shape_to_stack(sl_fgraph *g, sl_node *n)
{
  dimctx c;
  if (ctx_init(&c, g, 0)) return -1;
  sl_var *v = n->inputs[0], *d[SL_MAXDIM];
  int nd = v->type.ndim, known = 1;
  for (int k = 0; k < nd; k++) {
    d[k] = dim_of(&c, v, k);
    known &= v->type.shape[k] != SL_UNKNOWN;
  }
  sl_var *r = NULL;
  if (known) {
    int64_t len = nd;
    sl_tensor *t = sl_tensor_empty(SL_INT64, 1, &len);
    if (t) memcpy(sl_tensor_ptr(t), v->type.shape, (size_t)nd * sizeof(int64_t));
    r = sl_rw_constant_tensor(g, t);
    sl_tensor_release(t);
    if (!r) c.err = 1;
  } else {
    sl_params p = { .n = 1, .v = { 0 } };
    r = b_node(&c, &sl_op_stack, &p, nd, d);
  }
  return replace_by(&c, &n->outputs[0], r);
}

/* sum_to(x, like) where x's sizes provably are like's: x */
static int sum_to_useless(sl_fgraph *g, sl_node *n)
{
  sl_var *x = n->inputs[0], *like = n->inputs[1], *out = &n->outputs[0];
  int nd = x->type.ndim;
  if (like->type.ndim != nd || x->type.dtype != out->type.dtype) return 0;
  int known = 1;   /* like's static shape alone decides: sum_to_noop's case */
  for (int k = 0; k < nd; k++) known &= like->type.shape[k] != SL_UNKNOWN;
  if (known) return 0;
  for (int k = 0; k < nd; k++) {   /* x must fit out's static type */
    int64_t a = out->type.shape[k], b = x->type.shape[k];
    if ((a != SL_UNKNOWN && b != SL_UNKNOWN && a != b) || (a == 1 && b != 1)) return 0;
  }
  dimctx c;
  if (ctx_init(&c, g, 1)) return -1;
  int same = 1;
  for (int k = 0; k < nd && same && !c.err; k++) {
    sl_var *a = dim_of(&c, x, k), *b = dim_of(&c, like, k);
    int64_t p, q;
    same = a == b || (b_value_of(a, &p) && b_value_of(b, &q) && p == q);
  }
  return replace_by(&c, out, same ? x : NULL);
}

const sl_rewrite sl_rewrites_shape[] = {
  { .name = "shape_i_constant", .pass = "canonicalize", .ops = SL_OPS(&sl_op_shape_i), .fn = shape_i_constant,
    .doc = "the size of an axis whose static size is known is that constant" },
  { .name = "shape_i_lift", .pass = "canonicalize", .ops = SL_OPS(&sl_op_shape_i), .fn = shape_i_lift,
    .doc = "the size of an op's result is computed from its inputs' sizes, not from the result" },
  { .name = "shape_to_stack", .pass = "canonicalize", .ops = SL_OPS(&sl_op_shape), .fn = shape_to_stack,
    .doc = "shape(x) is a stack of the sizes of its axes (a constant when all are known)" },
  { .name = "sum_to_useless", .pass = "canonicalize", .ops = SL_OPS(&sl_op_sum_to), .fn = sum_to_useless,
    .doc = "sum_to(x, like) is x when x's sizes provably are like's (like's static shape not all known)" },
};
const int sl_rewrites_shape_n = sizeof sl_rewrites_shape / sizeof *sl_rewrites_shape;
