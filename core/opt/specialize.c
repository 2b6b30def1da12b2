/*
** specialize.c — the specialize pass: cheaper ops for special cases.
**
** Powers: x^2 -> sqr(x), x^0.5 -> sqrt(x), x^-1 -> reciprocal(x), and
** x*x -> sqr(x). The exponent is a constant with every size 1 and no more
** axes than x, so the result keeps x's shape; x is cast to the pow's result
** dtype first (an int32 x to a float64 power is computed in float64 either
** way), and sqrt and reciprocal only stand for float results (an integer
** power is exact; their results are always float). One difference in
** corner cases: sqrt(-0) is -0 and sqrt(-inf) NaN where pow gives +0 and
** +inf, as with the same rewrite in Theano.
**
** mean(x) -> sum(x) / n, n the number of elements reduced: a constant when
** the static sizes are known, else the product of shape_i(x, axis) at run
** time. A division rather than a product with 1/n: it touches only the
** reduced result, and a float64 sum over n is then exactly the mean kernel's.
**
** Products added to an operand, for the BLAS ops of ops/blas.c:
**   alpha*dot(A, B) + beta*C -> gemm(C, alpha, A, B, beta)   A, B matrices
**   alpha*dot(A, x) + beta*y -> gemv(y, alpha, A, x, beta)   x a vector
**   alpha*dot(x, B) + beta*y -> gemv(y, alpha, B.T, x, beta)
**   A + alpha*outer(x, y)   -> ger(A, alpha, x, y)           x, y vectors
** in either order of the add, or as a sub (C - lr * dot(X.T, G) is gemm
** with alpha = -lr: an SGD step). A scale is a product of negations and of
** factors that are 0-d vars or unit constants (as above), at most one of
** them symbolic; a factor may not change the dtype. Every node between the
** add and the product must be read only there, or the product would be
** computed twice. Float results only (the BLAS ops take no integers).
*/
#include <string.h>

#include "fgraph.h"

/* -- matching helpers ---------------------------------------------------------------- */

/* c is a constant equal to x everywhere, with size 1 on every axis and no
** more axes than other. */
static int unit_constant(const sl_var *c, double x, const sl_var *other)
{
  if (!sl_rw_is_constant(c, x) || c->type.ndim > other->type.ndim) return 0;
  for (int d = 0; d < c->type.ndim; d++) if (c->type.shape[d] != 1) return 0;
  return 1;
}

/* new may stand for old (sl_rw_replace's test, checked first so that a
** mismatch skips the rewrite instead of failing the compile). */
static int fits(const sl_var *old, const sl_var *nv)
{
  if (old->type.dtype != nv->type.dtype || old->type.ndim != nv->type.ndim) return 0;
  for (int d = 0; d < old->type.ndim; d++) {
    int64_t a = old->type.shape[d], b = nv->type.shape[d];
    if ((a != SL_UNKNOWN && b != SL_UNKNOWN && a != b) || (a == 1 && b != 1)) return 0;
  }
  return 1;
}

/* A replacement that failed to build (its op refused the types) is skipped. */
static int replace(sl_fgraph *g, sl_var *old, sl_var *nv)
{
  if (!nv) return 0;
  if (!fits(old, nv)) return 0;
  return sl_rw_replace(g, old, nv) ? -1 : 1;
}

/* -- powers ----------------------------------------------------------------------------- */

/* pow(x, e) -> op(x) */
static int pow_as(sl_fgraph *g, sl_node *n, double e, const sl_op *op)
{
  sl_var *x = n->inputs[0], *out = &n->outputs[0];
  sl_dtype dt = out->type.dtype;
  if (!unit_constant(n->inputs[1], e, x)) return 0;
  if (op != &sl_op_sqr && sl_dtype_kind(dt) != 'f') return 0;
  return replace(g, out, sl_rw_apply(g, op, NULL, 1, sl_rw_cast(g, x, dt)));
}

static int sqr_from_pow(sl_fgraph *g, sl_node *n) { return pow_as(g, n, 2, &sl_op_sqr); }
static int sqrt_from_pow(sl_fgraph *g, sl_node *n) { return pow_as(g, n, 0.5, &sl_op_sqrt); }
static int reciprocal_from_pow(sl_fgraph *g, sl_node *n) { return pow_as(g, n, -1, &sl_op_reciprocal); }

static int sqr_from_mul(sl_fgraph *g, sl_node *n)
{
  sl_var *x = n->inputs[0], *out = &n->outputs[0];
  if (n->inputs[1] != x || x->type.dtype != out->type.dtype) return 0;
  return replace(g, out, sl_rw_apply(g, &sl_op_sqr, NULL, 1, x));
}

/* -- mean -------------------------------------------------------------------------------- */

/* Params (ops/reduce.c): v[0] keepdims, v[1..] the reduced axes, 0-based. */
static int mean_as_sum(sl_fgraph *g, sl_node *n)
{
  sl_var *x = n->inputs[0], *out = &n->outputs[0];
  sl_dtype dt = out->type.dtype;
  if (sl_dtype_kind(dt) != 'f') return 0;
  sl_var *sum = sl_rw_apply(g, &sl_op_sum, &n->params, 1, sl_rw_cast(g, x, dt));
  double known = 1;   /* the product of the static sizes */
  sl_var *unknown = NULL;   /* and of the others, int64 at run time */
  for (int k = 1; k < n->params.n; k++) {
    int64_t a = n->params.v[k], size = x->type.shape[a];
    if (size != SL_UNKNOWN) { known *= (double)size; continue; }
    sl_params p = { .n = 1, .v = { a } };
    sl_var *s = sl_rw_apply(g, &sl_op_shape_i, &p, 1, x);
    unknown = unknown ? sl_rw_apply(g, &sl_op_mul, NULL, 2, unknown, s) : s;
  }
  sl_var *count = sl_rw_constant(g, known, dt, NULL);   /* 0/0: the mean of nothing is NaN */
  if (unknown) {
    count = known == 1 ? sl_rw_cast(g, unknown, dt)
                       : sl_rw_apply(g, &sl_op_mul, NULL, 2, sl_rw_cast(g, unknown, dt), count);
  }
  return replace(g, out, sl_rw_apply(g, &sl_op_true_div, NULL, 2, sum, count));
}

/* -- products added to an operand ----------------------------------------------------- */

/* A scale: k times sym (sym NULL: the constant k). */
typedef struct { double k; sl_var *sym; } scale;

/* v as a factor that scales other: a unit constant or a 0-d float var. */
static int as_factor(sl_var *v, const sl_var *other, scale *f)
{
  double k;
  if (sl_rw_constant_value(v, &k) && unit_constant(v, k, other)) { *f = (scale){ k, NULL }; return 1; }
  if (v->type.ndim == 0 && sl_dtype_kind(v->type.dtype) == 'f') { *f = (scale){ 1, v }; return 1; }
  return 0;
}

/* v = (scale) * P, where P is made by op and every node from v down to P is
** read only by its parent: P's node, with the scale multiplied into *s. */
static sl_node *scaled_product(sl_fgraph *g, sl_var *v, const sl_op *op, scale *s, int depth)
{
  sl_node *n;
  if (depth > 6 || sl_rw_nclients(g, v) != 1) return NULL;
  if ((n = sl_rw_owner(v, op))) return n;
  if ((n = sl_rw_owner(v, &sl_op_neg))) {
    sl_node *p = scaled_product(g, n->inputs[0], op, s, depth + 1);
    if (p) s->k = -s->k;
    return p;
  }
  if (!(n = sl_rw_owner(v, &sl_op_mul))) return NULL;
  for (int i = 0; i < 2; i++) {
    sl_var *w = n->inputs[1 - i];
    scale f, inner = { 1, NULL };
    if (w->type.dtype != v->type.dtype || !as_factor(n->inputs[i], w, &f)) continue;
    sl_node *p = scaled_product(g, w, op, &inner, depth + 1);
    if (!p || (f.sym && inner.sym) || (f.sym && s->sym) || (inner.sym && s->sym)) continue;
    s->k *= f.k * inner.k;
    if (!s->sym) s->sym = f.sym ? f.sym : inner.sym;
    return p;
  }
  return NULL;
}

/* v = (scale) * w with one factor, read only by the add: w and the scale
** multiplied into *s; else v itself. */
static sl_var *scaled_operand(sl_fgraph *g, sl_var *v, scale *s)
{
  sl_node *n;
  if (sl_rw_nclients(g, v) != 1) return v;
  if ((n = sl_rw_owner(v, &sl_op_neg))) { s->k = -s->k; return n->inputs[0]; }
  if ((n = sl_rw_owner(v, &sl_op_mul))) {
    for (int i = 0; i < 2; i++) {
      scale f;
      sl_var *w = n->inputs[1 - i];
      if (w->type.dtype != v->type.dtype || w->type.ndim != v->type.ndim || !as_factor(n->inputs[i], w, &f))
        continue;
      if (f.sym && s->sym) continue;
      s->k *= f.k;
      if (f.sym) s->sym = f.sym;
      return w;
    }
  }
  return v;
}

/* The scale as a 0-d var: a constant in dt, or sym times k. */
static sl_var *scale_var(sl_fgraph *g, const scale *s, sl_dtype dt)
{
  if (!s->sym) return sl_rw_constant(g, s->k, dt, NULL);
  if (s->k == 1) return s->sym;
  if (s->k == -1) return sl_rw_apply(g, &sl_op_neg, NULL, 1, s->sym);
  return sl_rw_apply(g, &sl_op_mul, NULL, 2, s->sym, sl_rw_constant(g, s->k, s->sym->type.dtype, NULL));
}

typedef enum { TO_GEMM, TO_GEMV, TO_GER } blas_target;

/* The product P's operands fit the target: their ranks. */
static int product_fits(const sl_node *p, blas_target t)
{
  int ra = p->inputs[0]->type.ndim, rb = p->inputs[1]->type.ndim;
  switch (t) {
  case TO_GEMM: return ra == 2 && rb == 2;
  case TO_GEMV: return (ra == 2 && rb == 1) || (ra == 1 && rb == 2);
  default: return ra == 1 && rb == 1;
  }
}

static int product_add(sl_fgraph *g, sl_node *n, blas_target t)
{
  sl_var *out = &n->outputs[0];
  sl_dtype dt = out->type.dtype;
  int is_sub = n->op == &sl_op_sub;
  if (sl_dtype_kind(dt) != 'f') return 0;
  for (int side = 0; side < 2; side++) {
    scale alpha = { is_sub && side == 1 ? -1 : 1, NULL };
    scale beta = { is_sub && side == 0 ? -1 : 1, NULL };
    sl_node *p = scaled_product(g, n->inputs[side], t == TO_GER ? &sl_op_outer : &sl_op_dot, &alpha, 0);
    if (!p || !product_fits(p, t) || p->outputs[0].type.dtype != dt) continue;
    sl_var *c = scaled_operand(g, n->inputs[1 - side], &beta);
    if (c->type.ndim > p->outputs[0].type.ndim) continue;
    if (t == TO_GER && (beta.sym || beta.k != 1)) continue;   /* ger adds A as it is */
    double k;   /* a constant C (a Lua number) becomes one of the result's dtype */
    sl_var *cc = c->type.dtype == dt ? c : sl_rw_constant_value(c, &k) && unit_constant(c, k, out)
                 ? sl_rw_constant(g, k, dt, &c->type) : sl_rw_cast(g, c, dt);
    sl_var *in[5] = { cc, scale_var(g, &alpha, dt), p->inputs[0], p->inputs[1],
                      scale_var(g, &beta, dt) };
    if (t == TO_GEMV && p->inputs[0]->type.ndim == 1) {   /* x·B = B.T·x */
      sl_params tr = { .n = 2, .v = { 1, 0 } };
      in[2] = sl_rw_apply(g, &sl_op_dimshuffle, &tr, 1, p->inputs[1]);
      in[3] = p->inputs[0];
    }
    static const sl_op *const ops[] = { &sl_op_gemm, &sl_op_gemv, &sl_op_ger };
    return replace(g, out, sl_rw_applyv(g, ops[t], NULL, t == TO_GER ? 4 : 5, in));
  }
  return 0;
}

static int gemm_from_dot(sl_fgraph *g, sl_node *n) { return product_add(g, n, TO_GEMM); }
static int gemv_from_dot(sl_fgraph *g, sl_node *n) { return product_add(g, n, TO_GEMV); }
static int ger_from_outer(sl_fgraph *g, sl_node *n) { return product_add(g, n, TO_GER); }

const sl_rewrite sl_rewrites_specialize[] = {
  { .name = "sqr_from_pow_two", .pass = "specialize", .ops = SL_OPS(&sl_op_pow), .fn = sqr_from_pow,
    .doc = "x^2 -> sqr(x)" },
  { .name = "sqrt_from_pow_half", .pass = "specialize", .ops = SL_OPS(&sl_op_pow), .fn = sqrt_from_pow,
    .doc = "x^0.5 -> sqrt(x), for float results" },
  { .name = "reciprocal_from_pow_minus_one", .pass = "specialize", .ops = SL_OPS(&sl_op_pow), .fn = reciprocal_from_pow,
    .doc = "x^-1 -> reciprocal(x), for float results" },
  { .name = "sqr_from_mul_self", .pass = "specialize", .ops = SL_OPS(&sl_op_mul), .fn = sqr_from_mul,
    .doc = "x*x -> sqr(x)" },
  { .name = "mean_as_sum_over_count", .pass = "specialize", .ops = SL_OPS(&sl_op_mean), .fn = mean_as_sum,
    .doc = "mean(x) -> sum(x) / n, n static or from shape_i" },
  { .name = "gemm_from_dot_add", .pass = "specialize", .ops = SL_OPS(&sl_op_add, &sl_op_sub), .fn = gemm_from_dot,
    .doc = "alpha*dot(A, B) + beta*C (matrices) -> gemm(C, alpha, A, B, beta)" },
  { .name = "gemv_from_dot_add", .pass = "specialize", .ops = SL_OPS(&sl_op_add, &sl_op_sub), .fn = gemv_from_dot,
    .doc = "alpha*dot(A, x) + beta*y (a matrix and a vector) -> gemv(y, alpha, A, x, beta)" },
  { .name = "ger_from_outer_add", .pass = "specialize", .ops = SL_OPS(&sl_op_add, &sl_op_sub), .fn = ger_from_outer,
    .doc = "A + alpha*outer(x, y) (vectors) -> ger(A, alpha, x, y)" },
};
const int sl_rewrites_specialize_n = sizeof sl_rewrites_specialize / sizeof *sl_rewrites_specialize;
