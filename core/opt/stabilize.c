/*
** stabilize.c — the stabilize pass: numerically stable forms of
** expressions that overflow, cancel or divide by zero when written naively.
**
** Forward forms: log(det(A)) -> slogdet's logdet + log(sign), inv(A)·b ->
** solve(A, b), cholesky(L·L^T) -> L and solve(L·L^T, b) -> two triangular
** solves for L = cholesky(X), log(1+x) -> log1p(x), exp(x)-1 -> expm1(x),
** log(1+exp(x)) -> softplus(x), log(sigmoid(x)) -> -softplus(-x),
** log(1-sigmoid(x)) -> -softplus(x), log(softmax(x)) -> log_softmax(x),
** log(sum(exp(x))) -> logsumexp(x), and cross-entropy of a softmax
** (log_softmax picked at the labels, or summed against targets) ->
** softmax_crossentropy(x, y).
**
** Gradient forms, as sl.grad builds them (lua/symlua/grad.lua): the log's
** gradient g/z fed to softmax's (softmax_grad) or multiplied back by a
** positive z, 1 - sigmoid(x) and 1 - tanh(x)^2. The engine's sum_to nodes
** may sit between the parts: sum_to(g/z, z) = sum_to(g, z)/z, since z is
** constant along the axes that sum_to adds up.
**
** Matching: "1 - s" is sub(1, s) or add(1, neg(s)) in either order, and
** constants are accepted as Lua numbers (weak) or as tensors of any dtype
** with every size 1 and no more axes than the other operand, so a
** replacement never changes the shape. A replacement of another dtype is
** cast to the old one; one that would change the rank or widen an axis is
** skipped.
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

/* v = x + c (either order) with c the constant k: x, else NULL. */
static sl_var *plus_constant(const sl_var *v, double k)
{
  sl_node *n = sl_rw_owner(v, &sl_op_add);
  if (!n) return NULL;
  for (int i = 0; i < 2; i++)
    if (unit_constant(n->inputs[i], k, n->inputs[1 - i])) return n->inputs[1 - i];
  return NULL;
}

/* v = x - 1, x + (-1) or (-1) + x: x, else NULL. */
static sl_var *minus_one(const sl_var *v)
{
  sl_node *n = sl_rw_owner(v, &sl_op_sub);
  if (n && unit_constant(n->inputs[1], 1, n->inputs[0])) return n->inputs[0];
  return plus_constant(v, -1);
}

/* v = 1 - s, 1 + (-s) or (-s) + 1: s, else NULL. */
static sl_var *one_minus(const sl_var *v)
{
  sl_node *n = sl_rw_owner(v, &sl_op_sub);
  if (n) return unit_constant(n->inputs[0], 1, n->inputs[1]) ? n->inputs[1] : NULL;
  sl_var *m = plus_constant(v, 1);
  sl_node *neg = m ? sl_rw_owner(m, &sl_op_neg) : NULL;
  return neg ? neg->inputs[0] : NULL;
}

/* The input of v's node when op made v, else NULL. */
static sl_var *arg_of(const sl_var *v, const sl_op *op)
{
  sl_node *n = v ? sl_rw_owner(v, op) : NULL;
  return n ? n->inputs[0] : NULL;
}

/* v = t*t, sqr(t) or t^2: t, else NULL. */
static sl_var *square_of(const sl_var *v)
{
  sl_node *n = sl_rw_owner(v, &sl_op_mul);
  if (n) return n->inputs[0] == n->inputs[1] ? n->inputs[0] : NULL;
  if ((n = sl_rw_owner(v, &sl_op_pow))) return sl_rw_is_constant(n->inputs[1], 2) &&
                                           n->inputs[1]->type.ndim == 0 ? n->inputs[0] : NULL;
  return arg_of(v, &sl_op_sqr);
}

/* The class axis of an op of ops/nn.c. */
static int64_t axis_of(const sl_node *n) { return n->params.v[0]; }

static sl_params axis_params(int64_t a)
{
  sl_params p = { 0 };
  p.n = 1;
  p.v[0] = a;
  return p;
}

/* A dimshuffle pattern of an nd-axis result that inserts a size-1 axis at a
** (insert) or drops axis a of an nd-axis input (!insert). */
static sl_params axis_pattern(int nd, int64_t a, int insert)
{
  sl_params p = { 0 };
  if (insert) {
    for (int i = 0; i < nd; i++) p.v[p.n++] = i < a ? i : (i == a ? -1 : i - 1);
  } else {
    for (int i = 0; i < nd; i++) if (i != a) p.v[p.n++] = i;
  }
  return p;
}

static int same_params(const sl_params *a, const sl_params *b)
{
  return a->n == b->n && memcmp(a->v, b->v, (size_t)a->n * sizeof *a->v) == 0;
}

/* -- replacing ------------------------------------------------------------------------- */

/* Replace old by nv, cast to old's dtype; 0 (skipped) when the rank differs
** or nv would widen an axis that old knows to be 1. */
static int replace(sl_fgraph *g, sl_var *old, sl_var *nv)
{
  if (!nv) return -1;
  if (nv->type.ndim != old->type.ndim) return 0;
  for (int d = 0; d < old->type.ndim; d++) {
    int64_t a = old->type.shape[d], b = nv->type.shape[d];
    if ((a == 1 && b != 1) || (a != SL_UNKNOWN && b != SL_UNKNOWN && a != b)) return 0;
  }
  if (nv->type.dtype != old->type.dtype && !(nv = sl_rw_cast(g, nv, old->type.dtype))) return -1;
  return sl_rw_replace(g, old, nv) ? -1 : 1;
}

static sl_var *unary(sl_fgraph *g, const sl_op *op, sl_var *x)
{
  return x ? sl_rw_apply(g, op, NULL, 1, x) : NULL;
}

/* -- log and exp forms ------------------------------------------------------------------ */

/* log(1 + exp(x)) and log1p(exp(x)) -> softplus(x) */
static int softplus_from_log(sl_fgraph *g, sl_node *n)
{
  sl_var *e = n->op == &sl_op_log1p ? n->inputs[0] : plus_constant(n->inputs[0], 1);
  sl_var *x = arg_of(e, &sl_op_exp);
  if (!x) return 0;
  return replace(g, &n->outputs[0], unary(g, &sl_op_softplus, x));
}

/* log(1 + x) -> log1p(x), x in the add's dtype */
static int log1p_from_log(sl_fgraph *g, sl_node *n)
{
  sl_var *x = plus_constant(n->inputs[0], 1);
  if (!x) return 0;
  sl_var *xc = sl_rw_cast(g, x, n->inputs[0]->type.dtype);
  return replace(g, &n->outputs[0], unary(g, &sl_op_log1p, xc));
}

/* exp(x) - 1 -> expm1(x) */
static int expm1_from_exp(sl_fgraph *g, sl_node *n)
{
  sl_var *x = arg_of(minus_one(&n->outputs[0]), &sl_op_exp);
  if (!x) return 0;
  return replace(g, &n->outputs[0], unary(g, &sl_op_expm1, x));
}

/* log(sigmoid(x)) -> -softplus(-x) */
static int log_sigmoid(sl_fgraph *g, sl_node *n)
{
  sl_var *x = arg_of(n->inputs[0], &sl_op_sigmoid);
  if (!x) return 0;
  x = sl_rw_cast(g, x, n->inputs[0]->type.dtype);   /* negate in float, not uint8 */
  return replace(g, &n->outputs[0], unary(g, &sl_op_neg, unary(g, &sl_op_softplus, unary(g, &sl_op_neg, x))));
}

/* log(1 - sigmoid(x)) and log1p(-sigmoid(x)) -> -softplus(x) */
static int log_one_minus_sigmoid(sl_fgraph *g, sl_node *n)
{
  sl_var *s = n->op == &sl_op_log1p ? arg_of(n->inputs[0], &sl_op_neg) : one_minus(n->inputs[0]);
  sl_var *x = arg_of(s, &sl_op_sigmoid);
  if (!x) return 0;
  return replace(g, &n->outputs[0], unary(g, &sl_op_neg, unary(g, &sl_op_softplus, x)));
}

/* 1 - sigmoid(x) -> sigmoid(-x), which keeps its precision where sigmoid(x)
** rounds to 1; left to log_one_minus_sigmoid when only logs read it. */
static int one_minus_sigmoid(sl_fgraph *g, sl_node *n)
{
  sl_var *x = arg_of(one_minus(&n->outputs[0]), &sl_op_sigmoid);
  if (!x) return 0;
  const sl_client *c;
  int nc = sl_rw_clients(g, &n->outputs[0], &c), logs = nc > 0;
  for (int i = 0; i < nc; i++) logs &= c[i].node && c[i].node->op == &sl_op_log;
  if (logs) return 0;
  x = sl_rw_cast(g, x, n->outputs[0].type.dtype);
  return replace(g, &n->outputs[0], unary(g, &sl_op_sigmoid, unary(g, &sl_op_neg, x)));
}

/* 1 - tanh(x)^2 (tanh's gradient) -> 1/cosh(x)^2, which keeps its relative
** precision where tanh(x) rounds to +-1 */
static int tanh_grad_sech2(sl_fgraph *g, sl_node *n)
{
  sl_var *t = one_minus(&n->outputs[0]);
  sl_var *x = t ? arg_of(square_of(t), &sl_op_tanh) : NULL;
  if (!x) return 0;
  return replace(g, &n->outputs[0], unary(g, &sl_op_sqr, unary(g, &sl_op_reciprocal, unary(g, &sl_op_cosh, x))));
}

/* -- softmax forms ------------------------------------------------------------------------ */

/* log(softmax(x)) -> log_softmax(x) */
static int log_softmax_from_log(sl_fgraph *g, sl_node *n)
{
  sl_node *s = sl_rw_owner(n->inputs[0], &sl_op_softmax);
  if (!s) return 0;
  return replace(g, &n->outputs[0], sl_rw_apply(g, &sl_op_log_softmax, &s->params, 1, s->inputs[0]));
}

/* log(sum(exp(x))) -> logsumexp(x), over the same axes */
static int logsumexp_from_log(sl_fgraph *g, sl_node *n)
{
  sl_node *s = sl_rw_owner(n->inputs[0], &sl_op_sum);
  sl_var *x = s ? arg_of(s->inputs[0], &sl_op_exp) : NULL;
  if (!x) return 0;
  return replace(g, &n->outputs[0], sl_rw_apply(g, &sl_op_logsumexp, &s->params, 1, x));
}

/* softmax_crossentropy(x, y) on the class axis a of log_softmax node ls. */
static sl_var *crossentropy(sl_fgraph *g, sl_node *ls, sl_var *y)
{
  sl_params p = axis_params(axis_of(ls));
  sl_var *x = sl_rw_cast(g, ls->inputs[0], ls->outputs[0].type.dtype);
  return x && y ? sl_rw_apply(g, &sl_op_softmax_crossentropy, &p, 2, x, y) : NULL;
}

/* gather(log_softmax(x), a, Y) along the softmax axis a, Y integer labels
** with a size-1 axis at a: the log-probability of each row's label. */
static sl_node *picked_log_softmax(sl_node *gather)
{
  if (!gather || gather->op != &sl_op_gather) return NULL;
  sl_node *ls = sl_rw_owner(gather->inputs[0], &sl_op_log_softmax);
  const sl_type *yt = &gather->inputs[1]->type;
  if (!ls || axis_of(ls) != gather->params.v[0] || yt->ndim != ls->outputs[0].type.ndim ||
      yt->shape[axis_of(ls)] != 1)
    return NULL;
  return ls;
}

/* The labels of gather's Y with axis a dropped. */
static sl_var *labels_of(sl_fgraph *g, sl_var *Y, int64_t a)
{
  sl_node *d = sl_rw_owner(Y, &sl_op_dimshuffle);
  sl_params ins = axis_pattern(Y->type.ndim, a, 1);
  if (d && same_params(&d->params, &ins)) return d->inputs[0];
  sl_params drop = axis_pattern(Y->type.ndim, a, 0);
  return sl_rw_apply(g, &sl_op_dimshuffle, &drop, 1, Y);
}

/* Whether v's only reader is a dimshuffle that drops axis a (and the
** rewrite rooted there will take the pattern whole). */
static int read_by_drop(sl_fgraph *g, sl_var *v, int64_t a)
{
  const sl_client *c;
  if (sl_rw_clients(g, v, &c) != 1 || !c[0].node || c[0].node->op != &sl_op_dimshuffle) return 0;
  sl_params drop = axis_pattern(v->type.ndim, a, 0);
  return same_params(&c[0].node->params, &drop);
}

/* gather(log_softmax(x), a, Y), or a dimshuffle dropping its axis a ->
** -softmax_crossentropy(x, y), the axis kept where the gather kept it. */
static int crossentropy_from_picked(sl_fgraph *g, sl_node *n)
{
  int dropped = n->op == &sl_op_dimshuffle;
  sl_node *gather = dropped ? n->inputs[0]->owner : n;
  sl_node *ls = picked_log_softmax(gather);
  if (!ls) return 0;
  int64_t a = axis_of(ls);
  int nd = ls->outputs[0].type.ndim;
  if (dropped) {
    sl_params drop = axis_pattern(nd, a, 0);
    if (!same_params(&n->params, &drop)) return 0;
  } else if (read_by_drop(g, &n->outputs[0], a)) {
    return 0;
  }
  sl_var *loss = unary(g, &sl_op_neg, crossentropy(g, ls, labels_of(g, gather->inputs[1], a)));
  if (!dropped && loss) {
    sl_params ins = axis_pattern(nd, a, 1);
    loss = sl_rw_apply(g, &sl_op_dimshuffle, &ins, 1, loss);
  }
  return replace(g, &n->outputs[0], loss);
}

/* sum(t * log_softmax(x)) over axes that include the softmax axis a ->
** -softmax_crossentropy(x, t) summed over the other axes; t may not widen x. */
static int crossentropy_from_targets(sl_fgraph *g, sl_node *n)
{
  sl_node *m = sl_rw_owner(n->inputs[0], &sl_op_mul);
  if (!m) return 0;
  for (int i = 0; i < 2; i++) {
    sl_node *ls = sl_rw_owner(m->inputs[i], &sl_op_log_softmax);
    sl_var *t = m->inputs[1 - i];
    if (!ls || t->type.ndim != ls->outputs[0].type.ndim) continue;
    const sl_type *xt = &ls->outputs[0].type;
    int64_t a = axis_of(ls);
    int widens = 0, has_a = 0;
    for (int d = 0; d < xt->ndim; d++) widens |= xt->shape[d] == 1 && t->type.shape[d] != 1;
    /* the other reduced axes, numbered as axes of the cross-entropy */
    sl_params rest = { 0 };
    rest.n = 1;
    rest.v[0] = n->params.v[0];
    for (int k = 1; k < n->params.n; k++) {
      int64_t d = n->params.v[k];
      if (d == a) has_a = 1;
      else rest.v[rest.n++] = d < a ? d : d - 1;
    }
    if (widens || !has_a) continue;
    sl_var *loss = unary(g, &sl_op_neg, crossentropy(g, ls, t));
    if (loss && rest.n > 1) loss = sl_rw_apply(g, &sl_op_sum, &rest, 1, loss);
    if (n->params.v[0] && loss) {
      sl_params ins = axis_pattern(xt->ndim, a, 1);
      loss = sl_rw_apply(g, &sl_op_dimshuffle, &ins, 1, loss);
    }
    return replace(g, &n->outputs[0], loss);
  }
  return 0;
}

/* v made by softmax_crossentropy, directly or through a dimshuffle */
static int is_crossentropy(const sl_var *v)
{
  sl_node *d = sl_rw_owner(v, &sl_op_dimshuffle);
  return sl_rw_owner(d ? d->inputs[0] : v, &sl_op_softmax_crossentropy) != NULL;
}

/* -(-v) -> v and -(R(-v)) -> R(v), R up to three dimshuffles, sums and
** means, for v a cross-entropy: the fused forms above leave such pairs. */
static int crossentropy_double_negation(sl_fgraph *g, sl_node *n)
{
  static const sl_op *const linear[] = { &sl_op_dimshuffle, &sl_op_sum, &sl_op_mean };
  sl_node *chain[3];
  int depth = 0;
  sl_var *v = n->inputs[0];
  while (!sl_rw_owner(v, &sl_op_neg)) {
    sl_node *r = NULL;
    for (int i = 0; i < 3 && !r; i++) r = sl_rw_owner(v, linear[i]);
    if (!r || depth == 3) return 0;
    chain[depth++] = r;
    v = r->inputs[0];
  }
  v = arg_of(v, &sl_op_neg);
  if (!is_crossentropy(v)) return 0;
  while (v && depth > 0) {
    sl_node *r = chain[--depth];
    v = sl_rw_apply(g, r->op, &r->params, 1, v);
  }
  return replace(g, &n->outputs[0], v);
}

/* -- gradient forms ------------------------------------------------------------------------ */

/* d = g / z or g * (1/z): g, else NULL. */
static sl_var *over(const sl_var *d, const sl_var *z)
{
  sl_node *n = sl_rw_owner(d, &sl_op_true_div);
  if (n) return n->inputs[1] == z ? n->inputs[0] : NULL;
  if ((n = sl_rw_owner(d, &sl_op_mul)))
    for (int i = 0; i < 2; i++)
      if (arg_of(n->inputs[i], &sl_op_reciprocal) == z) return n->inputs[1 - i];
  return NULL;
}

/* num broadcast to cover z: num itself when its static shape shows it
** does, else where(true, num, z). */
static sl_var *covering(sl_fgraph *g, sl_var *num, const sl_var *z)
{
  int lead = num->type.ndim - z->type.ndim, covers = lead >= 0;
  for (int d = 0; d < z->type.ndim && covers; d++)
    covers = !(num->type.shape[lead + d] == 1 && z->type.shape[d] != 1);
  if (covers) return num;
  sl_var *yes = sl_rw_constant(g, 1, SL_BOOL, NULL);
  return yes ? sl_rw_apply(g, &sl_op_where, NULL, 3, yes, num, (sl_var *)z) : NULL;
}

/* v = sum_to(g / z, z) -> sum_to(g, z), and v = g / z -> g, each broadcast
** to cover z (sum_to(g/z, z) = sum_to(g, z)/z: z is constant along the axes
** sum_to adds up); NULL when v is neither. */
static sl_var *gradient_over(sl_fgraph *g, const sl_var *v, const sl_var *z)
{
  sl_node *st = sl_rw_owner(v, &sl_op_sum_to);
  sl_var *num = st ? (st->inputs[1] == z ? over(st->inputs[0], z) : NULL) : over(v, z);
  if (!num || !(num = covering(g, num, z))) return NULL;
  return st ? sl_rw_apply(g, &sl_op_sum_to, NULL, 2, num, z) : num;
}

/* softmax_grad(v, z) with the divisions by z in v cancelled: v = g / z
** gives g - z * sum(g, axis); softmax_grad is linear in v, so sums and
** differences split, and a term without a division keeps its softmax_grad.
** NULL when no term divides by z. */
static sl_var *softmax_grad_cancelling(sl_fgraph *g, const sl_node *n, sl_var *v, int depth)
{
  sl_var *z = n->inputs[1];
  sl_var *gl = gradient_over(g, v, z);
  if (gl) {
    sl_params p = { 0 };
    p.n = 2;
    p.v[0] = 1;
    p.v[1] = axis_of(n);
    sl_var *sum = sl_rw_apply(g, &sl_op_sum, &p, 1, gl);
    sl_var *zs = sum ? sl_rw_apply(g, &sl_op_mul, NULL, 2, z, sum) : NULL;
    return zs ? sl_rw_apply(g, &sl_op_sub, NULL, 2, gl, zs) : NULL;
  }
  sl_node *t = v->owner;
  if (depth == 0 || !t || (t->op != &sl_op_add && t->op != &sl_op_sub)) return NULL;
  sl_var *c[2];
  for (int i = 0; i < 2; i++) c[i] = softmax_grad_cancelling(g, n, t->inputs[i], depth - 1);
  if (!c[0] && !c[1]) return NULL;
  for (int i = 0; i < 2; i++)
    if (!c[i] && !(c[i] = sl_rw_apply(g, &sl_op_softmax_grad, &n->params, 2, t->inputs[i], z))) return NULL;
  return sl_rw_apply(g, t->op, NULL, 2, c[0], c[1]);
}

/* softmax_grad(g / z, z) for z = softmax(x) (the gradient of log(softmax(x)))
** -> g - z * sum(g, axis), free of the division by a z that underflowed */
static int softmax_grad_of_log(sl_fgraph *g, sl_node *n)
{
  sl_node *s = sl_rw_owner(n->inputs[1], &sl_op_softmax);
  if (!s || axis_of(s) != axis_of(n)) return 0;
  sl_var *r = softmax_grad_cancelling(g, n, n->inputs[0], 4);
  return r ? replace(g, &n->outputs[0], r) : 0;
}

/* v * z with the division by z inside v cancelled: through products,
** sums, differences and negations of terms, one of which must be g / z (or
** sum_to(g / z, z)); NULL when there is none. Terms without one are
** multiplied by z. */
static sl_var *times_cancelling(sl_fgraph *g, sl_var *v, sl_var *z, int depth)
{
  sl_var *direct = gradient_over(g, v, z);
  if (direct || depth == 0) return direct;
  sl_node *n = v->owner;
  if (!n) return NULL;
  const sl_op *op = n->op;
  if (op == &sl_op_neg) {
    sl_var *c = times_cancelling(g, n->inputs[0], z, depth - 1);
    return c ? unary(g, &sl_op_neg, c) : NULL;
  }
  if (op == &sl_op_mul) {
    for (int i = 0; i < 2; i++) {
      sl_var *c = times_cancelling(g, n->inputs[i], z, depth - 1);
      if (c) return sl_rw_apply(g, &sl_op_mul, NULL, 2, c, n->inputs[1 - i]);
    }
    return NULL;
  }
  if (op != &sl_op_add && op != &sl_op_sub) return NULL;
  sl_var *c[2];
  for (int i = 0; i < 2; i++) c[i] = times_cancelling(g, n->inputs[i], z, depth - 1);
  if (!c[0] && !c[1]) return NULL;
  for (int i = 0; i < 2; i++)
    if (!c[i] && !(c[i] = sl_rw_apply(g, &sl_op_mul, NULL, 2, n->inputs[i], z))) return NULL;
  return sl_rw_apply(g, op, NULL, 2, c[0], c[1]);
}

/* (g / z) * z -> g for z = sigmoid(x), exp(x) or softmax(x), never 0 in
** exact arithmetic: the gradient of log(z) meeting z's own, also inside
** sums such as (a / z - b / (1 - z)) * z * (1 - z), sigmoid's gradient of a
** binary cross-entropy */
static int cancel_positive_division(sl_fgraph *g, sl_node *n)
{
  static const sl_op *const positive[] = { &sl_op_sigmoid, &sl_op_exp, &sl_op_softmax };
  for (int i = 0; i < 2; i++) {
    sl_var *z = n->inputs[1 - i];
    int pos = 0;
    for (int k = 0; k < 3; k++) pos |= sl_rw_owner(z, positive[k]) != NULL;
    if (!pos) continue;
    sl_var *r = times_cancelling(g, n->inputs[i], z, 6);
    if (r) return replace(g, &n->outputs[0], r);
  }
  return 0;
}

/* The dimshuffle pattern that puts back the axes a reduction dropped. */
static sl_params unreduce_pattern(const sl_node *red, int nd)
{
  sl_params p = { 0 };
  int at = 0, k = 1;
  for (int d = 0; d < nd; d++) {
    int reduced = k < red->params.n && red->params.v[k] == d;
    if (reduced) k++;
    p.v[p.n++] = reduced ? -1 : at++;
  }
  return p;
}

/* exp(x) * U(g / sum(exp(x))), U putting the summed axes back (a
** dimshuffle, or nothing with keepdims, perhaps inside an alloc): the
** gradient of log(sum(exp(x))) -> U(g) * exp(x - logsumexp(x)), which never
** divides inf by inf */
static int logsumexp_grad(sl_fgraph *g, sl_node *n)
{
  for (int i = 0; i < 2; i++) {
    sl_var *e = n->inputs[1 - i], *q = n->inputs[i];
    sl_var *x = arg_of(e, &sl_op_exp);
    if (!x) continue;
    sl_node *alloc = sl_rw_owner(q, &sl_op_alloc);
    if (alloc) q = alloc->inputs[0];
    sl_node *ds = sl_rw_owner(q, &sl_op_dimshuffle);
    if (ds) q = ds->inputs[0];
    sl_node *div = sl_rw_owner(q, &sl_op_true_div);
    sl_node *sum = div ? sl_rw_owner(div->inputs[1], &sl_op_sum) : NULL;
    if (!sum || sum->inputs[0] != e) continue;
    int keep = sum->params.v[0] != 0, nd = x->type.ndim;
    sl_params back = unreduce_pattern(sum, nd);
    if (keep == (ds != NULL) || (ds && !same_params(&ds->params, &back))) continue;
    sl_var *gu = div->inputs[0];
    if (ds) {
      if (gu->type.ndim != sum->outputs[0].type.ndim) continue;
      gu = sl_rw_apply(g, &sl_op_dimshuffle, &back, 1, gu);
    }
    if (gu && alloc) {
      sl_var *in[SL_MAXDIM + 1];
      in[0] = gu;
      for (int k = 1; k < alloc->nin; k++) in[k] = alloc->inputs[k];
      gu = sl_rw_applyv(g, &sl_op_alloc, &alloc->params, alloc->nin, in);
    }
    sl_params kp = sum->params;
    kp.v[0] = 1;
    sl_var *lse = sl_rw_apply(g, &sl_op_logsumexp, &kp, 1, x);
    sl_var *shifted = lse ? sl_rw_apply(g, &sl_op_sub, NULL, 2, x, lse) : NULL;
    sl_var *w = unary(g, &sl_op_exp, shifted);
    return replace(g, &n->outputs[0], gu && w ? sl_rw_apply(g, &sl_op_mul, NULL, 2, gu, w) : NULL);
  }
  return 0;
}

/* -- linear algebra ---------------------------------------------------------------------- */

/* inv(A)·b -> solve(A, b): one LU and two triangular solves per column
** instead of forming the inverse, and a smaller error. A 1-d b is solved as
** one column. Only when the inverse has no other reader. */
static int inv_dot_to_solve(sl_fgraph *g, sl_node *n)
{
  sl_node *inv = sl_rw_owner(n->inputs[0], &sl_op_inv);
  sl_var *a = inv ? inv->inputs[0] : NULL, *b = n->inputs[1];
  if (!a || sl_rw_nclients(g, n->inputs[0]) != 1) return 0;
  int na = a->type.ndim, nb = b->type.ndim;
  if (!((na == 2 && (nb == 1 || nb == 2)) || (na == 3 && nb == 3))) return 0;
  if (nb > 1) return replace(g, &n->outputs[0], sl_rw_apply(g, &sl_op_solve, NULL, 2, a, b));
  sl_params col = { .n = 2, .v = { 0, -1 } }, drop = { .n = 1, .v = { 0 } };
  sl_var *c = sl_rw_apply(g, &sl_op_dimshuffle, &col, 1, b);
  sl_var *x = c ? sl_rw_apply(g, &sl_op_solve, NULL, 2, a, c) : NULL;
  return replace(g, &n->outputs[0], x ? sl_rw_apply(g, &sl_op_dimshuffle, &drop, 1, x) : NULL);
}

/* log(sign * exp(logdet)) of one slogdet -> logdet + log(sign): no overflow
** of det itself; log(-1) stays NaN and log(0) -inf, as log(det) gives. */
static int log_det_to_slogdet(sl_fgraph *g, sl_node *n)
{
  sl_node *m = sl_rw_owner(n->inputs[0], &sl_op_mul);
  if (!m) return 0;
  for (int i = 0; i < 2; i++) {
    sl_var *sign = m->inputs[i], *l = arg_of(m->inputs[1 - i], &sl_op_exp);
    sl_node *sd = sign->owner;
    if (!l || !sd || sd->op != &sl_op_slogdet || sign->index != 0 || l->owner != sd || l->index != 1) continue;
    sl_var *ls = unary(g, &sl_op_log, sign);
    return replace(g, &n->outputs[0], ls ? sl_rw_apply(g, &sl_op_add, NULL, 2, l, ls) : NULL);
  }
  return 0;
}

/* v = L·L^T for L an output of cholesky (L^T: a dimshuffle swapping L's last
** two axes): L, else NULL. Such an L is lower triangular with a positive
** diagonal, so it is the one Cholesky factor of the product. */
static sl_var *cholesky_product(const sl_var *v)
{
  sl_node *d = sl_rw_owner(v, &sl_op_dot);
  sl_var *l = d ? d->inputs[0] : NULL;
  sl_node *t = d ? sl_rw_owner(d->inputs[1], &sl_op_dimshuffle) : NULL;
  if (!t || t->inputs[0] != l || !sl_rw_owner(l, &sl_op_cholesky)) return NULL;
  int nd = l->type.ndim;
  if (nd < 2 || nd > 3 || t->params.n != nd || d->inputs[1]->type.ndim != nd) return NULL;
  for (int k = 0; k < nd - 2; k++) if (t->params.v[k] != k) return NULL;
  return t->params.v[nd - 2] == nd - 1 && t->params.v[nd - 1] == nd - 2 ? l : NULL;
}

/* cholesky(L·L^T) -> L for L = cholesky(X): no second factorization, and
** L exactly instead of L refactored from its rounded product. */
static int cholesky_of_product(sl_fgraph *g, sl_node *n)
{
  sl_var *l = cholesky_product(n->inputs[0]);
  return l ? replace(g, &n->outputs[0], l) : 0;
}

/* solve(L·L^T, b) -> L^-T (L^-1 b) for L = cholesky(X): two triangular
** solves (cho_solve) instead of an LU of the product, whose condition number
** is the square of L's. */
static int solve_cholesky_product(sl_fgraph *g, sl_node *n)
{
  sl_var *l = cholesky_product(n->inputs[0]), *b = n->inputs[1];
  if (!l || b->type.ndim != l->type.ndim) return 0;
  sl_params fwd = { .n = 3, .v = { 1, 0, 0 } }, back = { .n = 3, .v = { 1, 1, 0 } };
  sl_var *y = sl_rw_apply(g, &sl_op_solve_triangular, &fwd, 2, l, b);
  return replace(g, &n->outputs[0], y ? sl_rw_apply(g, &sl_op_solve_triangular, &back, 2, l, y) : NULL);
}

const sl_rewrite sl_rewrites_stabilize[] = {
  { .name = "softplus_from_log_one_plus_exp", .pass = "stabilize", .ops = SL_OPS(&sl_op_log, &sl_op_log1p),
    .fn = softplus_from_log, .doc = "log(1 + exp(x)) and log1p(exp(x)) -> softplus(x)" },
  { .name = "log_one_minus_sigmoid", .pass = "stabilize", .ops = SL_OPS(&sl_op_log, &sl_op_log1p),
    .fn = log_one_minus_sigmoid, .doc = "log(1 - sigmoid(x)) -> -softplus(x)" },
  { .name = "log1p_from_log_one_plus", .pass = "stabilize", .ops = SL_OPS(&sl_op_log),
    .fn = log1p_from_log, .doc = "log(1 + x) -> log1p(x)" },
  { .name = "expm1_from_exp_minus_one", .pass = "stabilize", .ops = SL_OPS(&sl_op_sub, &sl_op_add),
    .fn = expm1_from_exp, .doc = "exp(x) - 1 -> expm1(x)" },
  { .name = "log_sigmoid_to_softplus", .pass = "stabilize", .ops = SL_OPS(&sl_op_log),
    .fn = log_sigmoid, .doc = "log(sigmoid(x)) -> -softplus(-x)" },
  { .name = "one_minus_sigmoid", .pass = "stabilize", .ops = SL_OPS(&sl_op_sub, &sl_op_add),
    .fn = one_minus_sigmoid, .doc = "1 - sigmoid(x) -> sigmoid(-x) (sigmoid's gradient)" },
  { .name = "tanh_grad_sech2", .pass = "stabilize", .ops = SL_OPS(&sl_op_sub, &sl_op_add),
    .fn = tanh_grad_sech2, .doc = "1 - tanh(x)^2 -> 1/cosh(x)^2 (tanh's gradient)" },
  { .name = "log_softmax_from_log_softmax", .pass = "stabilize", .ops = SL_OPS(&sl_op_log),
    .fn = log_softmax_from_log, .doc = "log(softmax(x)) -> log_softmax(x)" },
  { .name = "logsumexp_from_log_sum_exp", .pass = "stabilize", .ops = SL_OPS(&sl_op_log),
    .fn = logsumexp_from_log, .doc = "log(sum(exp(x))) -> logsumexp(x), shifted by the maximum" },
  { .name = "crossentropy_from_picked_log_softmax", .pass = "stabilize", .ops = SL_OPS(&sl_op_gather, &sl_op_dimshuffle),
    .fn = crossentropy_from_picked,
    .doc = "-log_softmax(x) gathered at labels y -> softmax_crossentropy(x, y)" },
  { .name = "crossentropy_from_targets_log_softmax", .pass = "stabilize", .ops = SL_OPS(&sl_op_sum),
    .fn = crossentropy_from_targets,
    .doc = "-sum(t * log_softmax(x), axes with the softmax axis) -> softmax_crossentropy(x, t)" },
  { .name = "crossentropy_double_negation", .pass = "stabilize", .ops = SL_OPS(&sl_op_neg),
    .fn = crossentropy_double_negation,
    .doc = "-(-v), -sum(-v), -mean(-v) of a fused cross-entropy v -> v, sum(v), mean(v)" },
  { .name = "softmax_grad_of_log", .pass = "stabilize", .ops = SL_OPS(&sl_op_softmax_grad),
    .fn = softmax_grad_of_log,
    .doc = "softmax_grad(g / softmax(x)) -> g - softmax(x) * sum(g) (log(softmax)'s gradient)" },
  { .name = "logsumexp_grad", .pass = "stabilize", .ops = SL_OPS(&sl_op_mul),
    .fn = logsumexp_grad,
    .doc = "exp(x) * g / sum(exp(x)) -> g * exp(x - logsumexp(x)) (log(sum(exp))'s gradient)" },
  { .name = "cancel_positive_division", .pass = "stabilize", .ops = SL_OPS(&sl_op_mul),
    .fn = cancel_positive_division,
    .doc = "(g / z) * z -> g for z = sigmoid, exp or softmax (log(z)'s gradient)" },
  { .name = "inv_dot_to_solve", .pass = "stabilize", .ops = SL_OPS(&sl_op_dot),
    .fn = inv_dot_to_solve, .doc = "inv(A)·b -> solve(A, b)" },
  { .name = "log_det_to_slogdet", .pass = "stabilize", .ops = SL_OPS(&sl_op_log),
    .fn = log_det_to_slogdet, .doc = "log(det(A)) = log(sign * exp(logdet)) -> logdet + log(sign)" },
  { .name = "cholesky_of_cholesky_product", .pass = "stabilize", .ops = SL_OPS(&sl_op_cholesky),
    .fn = cholesky_of_product, .doc = "cholesky(L·L^T) -> L for L = cholesky(X)" },
  { .name = "solve_cholesky_product", .pass = "stabilize", .ops = SL_OPS(&sl_op_solve),
    .fn = solve_cholesky_product, .doc = "solve(L·L^T, b) -> two triangular solves for L = cholesky(X)" },
};
const int sl_rewrites_stabilize_n = sizeof sl_rewrites_stabilize / sizeof *sl_rewrites_stabilize;
