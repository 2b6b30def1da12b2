/*
** canonicalize.c — the canonicalize pass: algebraic identities, add and
** mul chains in one normal form with their constants collected, shape ops
** composed, useless casts, allocs and sum_to removed, broadcasts sunk.
**
** Every rewrite keeps the result's dtype exactly and its run-time shape:
** an operand is only dropped when its static type proves it broadcasts into
** what remains (rank no larger, each size 1 or equal to a known size).
** Float chains are reassociated, as in Theano: that may change rounding and
** may remove an overflow in an intermediate ((x * 1e200) * 1e-200 -> x).
*/
#include <stdlib.h>
#include <string.h>

#include "fgraph.h"

/* Constants larger than this are not computed on (as in constant folding). */
#define SMALL_CONSTANT 65536
/* Longest add or mul chain flattened at once; longer ones stay as they are. */
#define MAXTERMS 256

/* -- helpers ------------------------------------------------------------------------ */

static sl_var *out0(sl_node *n) { return &n->outputs[0]; }

static int is_op(const sl_node *n, const sl_op *op) { return n->op == op; }

static int is_elemwise(const sl_node *n) { return n->op->rule != SL_TR_NONE; }

/* A signed integer or float dtype: arithmetic identities hold (modulo 2^n). */
static int signed_kind(sl_dtype dt) { return sl_dtype_kind(dt) == 'i' || sl_dtype_kind(dt) == 'f'; }

/* new may stand for old: same dtype and rank, no known size contradicted,
** and no axis old knows to be 1 that could be larger in new. */
static int can_replace(const sl_var *old, const sl_var *nv)
{
  if (!nv || old->type.dtype != nv->type.dtype || old->type.ndim != nv->type.ndim) return 0;
  for (int d = 0; d < old->type.ndim; d++) {
    int64_t a = old->type.shape[d], b = nv->type.shape[d];
    if (a != SL_UNKNOWN && b != SL_UNKNOWN && a != b) return 0;
    if (a == 1 && b != 1) return 0;
  }
  return 1;
}

/* Replace old by nv when it fits: 1, 0 (no match), -1 (error). */
static int replace(sl_fgraph *g, sl_var *old, sl_var *nv)
{
  if (!can_replace(old, nv)) return 0;
  return sl_rw_replace(g, old, nv) ? -1 : 1;
}

/* Replace old by x, cast to old's dtype when it differs (exact: the node
** converted x to that dtype anyway). */
static int replace_cast(sl_fgraph *g, sl_var *old, sl_var *x)
{
  sl_var *c = sl_rw_cast(g, x, old->type.dtype);
  return c ? replace(g, old, c) : -1;
}

/* Broadcasting small against big leaves big's shape, at run time too: small
** has no more axes, and each of its sizes is 1 or big's known size. */
static int broadcasts_into(const sl_type *small, const sl_type *big)
{
  if (small->ndim > big->ndim) return 0;
  for (int d = 0; d < small->ndim; d++) {
    int64_t s = small->shape[d], b = big->shape[big->ndim - small->ndim + d];
    if (s != 1 && (b == SL_UNKNOWN || s != b)) return 0;
  }
  return 1;
}

static int small_constant(const sl_var *v)
{
  return v->kind == SL_VAR_CONSTANT && v->value && sl_tensor_numel(v->value) <= SMALL_CONSTANT;
}

/* Runs op on constant tensors (reference kernel): a new tensor or NULL. */
static sl_tensor *eval_op(const sl_op *op, const sl_params *p, int nin, sl_tensor **ts)
{
  sl_var *vars[2] = { NULL, NULL };
  sl_tensor *out[1] = { NULL };
  int ok = 1;
  for (int i = 0; i < nin; i++) ok &= (vars[i] = sl_var_constant(ts[i], 0)) != NULL;
  sl_node *n = ok ? sl_node_apply(op, p, nin, vars) : NULL;
  if (n && sl_node_perform(n, ts, out)) out[0] = NULL;
  sl_node_release(n);
  for (int i = 0; i < nin; i++) sl_var_release(vars[i]);
  return out[0];
}

static sl_tensor *eval2(const sl_op *op, sl_tensor *a, sl_tensor *b)
{
  sl_tensor *ts[2] = { a, b };
  return eval_op(op, NULL, 2, ts);
}

/* 1 when every element of t satisfies the test. */
enum { ALL_ZERO, ALL_ONE, ALL_MINUS_ONE, ALL_NEGATIVE, ALL_POSITIVE };
static int all_are(const sl_tensor *t, int test)
{
  int64_t n = sl_tensor_numel(t), idx[SL_MAXDIM] = { 0 };
  for (int64_t k = 0; k < n; k++) {
    double x = sl_tensor_get(t, idx);
    int ok = test == ALL_ZERO ? x == 0 : test == ALL_ONE ? x == 1 : test == ALL_MINUS_ONE ? x == -1
           : test == ALL_NEGATIVE ? x < 0 : x > 0;
    if (!ok) return 0;
    for (int d = t->ndim - 1; d >= 0; d--) {   /* next index in C order */
      if (++idx[d] < t->shape[d]) break;
      idx[d] = 0;
    }
  }
  return 1;
}

/* Same shape and values (NaN equal to NaN), whatever the dtypes. */
static int same_values(const sl_tensor *x, const sl_tensor *y)
{
  if (x->ndim != y->ndim) return 0;
  for (int d = 0; d < x->ndim; d++) if (x->shape[d] != y->shape[d]) return 0;
  int64_t n = sl_tensor_numel(x), idx[SL_MAXDIM] = { 0 };
  for (int64_t k = 0; k < n; k++) {
    double p = sl_tensor_get(x, idx), q = sl_tensor_get(y, idx);
    if (!(p == q || (p != p && q != q))) return 0;
    for (int d = x->ndim - 1; d >= 0; d--) {
      if (++idx[d] < x->shape[d]) break;
      idx[d] = 0;
    }
  }
  return 1;
}

/* Structural equality of two expressions: the same vars, or nodes with the
** same op, params and equal inputs, or constants with equal contents. Used
** to tell that a rebuilt chain is the one already there. */
static int same_expr(const sl_var *a, const sl_var *b, int depth)
{
  if (a == b) return 1;
  if (depth > 2 * MAXTERMS) return 0;
  /* constants by value: the node above has the same dtype, so a weak 2
  ** there is the same operand as a strong one of that dtype */
  if (a->kind == SL_VAR_CONSTANT && b->kind == SL_VAR_CONSTANT) return same_values(a->value, b->value);
  const sl_node *m = a->owner, *n = b->owner;
  if (a->type.dtype != b->type.dtype || a->type.ndim != b->type.ndim) return 0;
  if (!m || !n || m->op != n->op || m->nin != n->nin || a->index != b->index) return 0;
  if (m->params.n != n->params.n || m->params.dtype != n->params.dtype ||
      memcmp(m->params.v, n->params.v, (size_t)m->params.n * sizeof *m->params.v)) return 0;
  for (int i = 0; i < m->nin; i++)
    if (!same_expr(m->inputs[i], n->inputs[i], depth + 1)) return 0;
  return 1;
}

/* -- identities ---------------------------------------------------------------------- */

/* x + 0, 0 + x, x - 0 -> x */
static int add_zero(sl_fgraph *g, sl_node *n)
{
  for (int k = 0; k < 2; k++) {
    sl_var *c = n->inputs[k], *x = n->inputs[1 - k];
    if (k == 0 && is_op(n, &sl_op_sub)) continue;
    if (sl_rw_is_constant(c, 0) && broadcasts_into(&c->type, &x->type))
      return replace_cast(g, out0(n), x);
  }
  return 0;
}

/* x * 1, 1 * x, x / 1 -> x */
static int mul_one(sl_fgraph *g, sl_node *n)
{
  for (int k = 0; k < 2; k++) {
    sl_var *c = n->inputs[k], *x = n->inputs[1 - k];
    if (k == 0 && is_op(n, &sl_op_true_div)) continue;
    if (sl_rw_is_constant(c, 1) && broadcasts_into(&c->type, &x->type))
      return replace_cast(g, out0(n), x);
  }
  return 0;
}

/* An alloc of value v (0-d, dtype dt) with x's shape: known sizes as
** params, the others read from x by shape_i. */
static sl_var *zeros_shaped_like(sl_fgraph *g, sl_var *x, double v, sl_dtype dt)
{
  sl_params p = { .n = x->type.ndim };
  sl_var *in[SL_MAXDIM + 1];
  int nin = 0;
  in[nin++] = sl_rw_constant(g, v, dt, NULL);
  for (int d = 0; d < x->type.ndim; d++) {
    p.v[d] = x->type.shape[d];
    if (p.v[d] != SL_UNKNOWN) continue;
    sl_params axis = { .n = 1, .v = { d } };
    in[nin++] = sl_rw_apply(g, &sl_op_shape_i, &axis, 1, x);
  }
  return sl_rw_applyv(g, &sl_op_alloc, &p, nin, in);
}

/* x - x -> zeros, integers only: for floats Inf - Inf and NaN - NaN are NaN,
** and that is kept. */
static int sub_self(sl_fgraph *g, sl_node *n)
{
  sl_var *x = n->inputs[0];
  char kind = sl_dtype_kind(out0(n)->type.dtype);
  if (x != n->inputs[1] || (kind != 'i' && kind != 'u')) return 0;
  sl_var *z = zeros_shaped_like(g, x, 0, out0(n)->type.dtype);
  return z ? replace(g, out0(n), z) : -1;
}

/* --x -> x */
static int neg_neg(sl_fgraph *g, sl_node *n)
{
  sl_node *inner = sl_rw_owner(n->inputs[0], &sl_op_neg);
  if (!inner || sl_dtype_kind(out0(n)->type.dtype) == 'b') return 0;
  return replace_cast(g, out0(n), inner->inputs[0]);
}

/* A constant as dtype dt, negated: a new tensor or NULL. */
static sl_tensor *negated(const sl_var *c, sl_dtype dt)
{
  sl_tensor *t = sl_tensor_cast(c->value, dt);
  sl_tensor *r = t ? eval_op(&sl_op_neg, NULL, 1, &t) : NULL;
  sl_tensor_release(t);
  return r;
}

/* -c -> the constant; -(x * c) -> x * (-c) */
static int neg_constant(sl_fgraph *g, sl_node *n)
{
  sl_var *out = out0(n), *in = n->inputs[0];
  sl_dtype dt = out->type.dtype;
  if (!signed_kind(dt)) return 0;
  if (small_constant(in)) {
    sl_tensor *t = negated(in, dt);
    sl_var *c = sl_rw_constant_tensor(g, t);
    sl_tensor_release(t);
    return c ? replace(g, out, c) : -1;
  }
  sl_node *m = sl_rw_owner(in, &sl_op_mul);
  if (!m || in->type.dtype != dt || sl_rw_nclients(g, in) != 1) return 0;
  for (int k = 0; k < 2; k++) {
    if (!small_constant(m->inputs[k])) continue;
    sl_tensor *t = negated(m->inputs[k], dt);
    sl_var *c = sl_rw_constant_tensor(g, t);
    sl_tensor_release(t);
    if (!c) return -1;
    return replace(g, out, sl_rw_apply(g, &sl_op_mul, NULL, 2, m->inputs[1 - k], c));
  }
  return 0;
}

/* -- add and mul chains -------------------------------------------------------------
** A chain is a tree of add/sub/neg (or mul) nodes of one dtype D whose inner
** nodes have no other reader. Its normal form: the non-constant terms in
** the order met, added (multiplied) left to right, the subtracted ones
** after them, and all constants folded into one at the end, added (or
** subtracted when all of it is negative). With no added term, the form is
** c - a - b, or -(a + b). Integer chains are exact (modulo 2^n). */

typedef struct { sl_var *v; int neg; } term;
typedef struct {
  int is_add;
  sl_dtype dt;
  term t[MAXTERMS];
  int n, overflow, narrow;
} chain;

static void collect(const sl_fgraph *g, chain *c, sl_var *v, int neg, int root)
{
  const sl_node *o = v->owner;
  if (o && v->type.dtype == c->dt && (root || sl_rw_nclients(g, v) == 1 || is_op(o, &sl_op_neg))) {
    if (c->is_add ? is_op(o, &sl_op_add) : is_op(o, &sl_op_mul)) {
      collect(g, c, o->inputs[0], neg, 0);
      collect(g, c, o->inputs[1], neg, 0);
      return;
    }
    if (c->is_add && is_op(o, &sl_op_sub)) {
      collect(g, c, o->inputs[0], neg, 0);
      collect(g, c, o->inputs[1], !neg, 0);
      return;
    }
    if (c->is_add && is_op(o, &sl_op_neg)) { collect(g, c, o->inputs[0], !neg, 0); return; }
  }
  if (c->n == MAXTERMS) { c->overflow = 1; return; }
  c->t[c->n++] = (term){ v, neg };
}

/* Folds the chain's constants into one tensor of dtype dt (NULL: none). */
static int fold_constants(const chain *c, sl_tensor **out)
{
  sl_tensor *acc = NULL;
  *out = NULL;
  for (int i = 0; i < c->n; i++) {
    if (!small_constant(c->t[i].v)) continue;
    sl_tensor *t = sl_tensor_cast(c->t[i].v->value, c->dt), *r;
    if (!t) { sl_tensor_release(acc); return -1; }
    if (!acc) r = c->t[i].neg ? eval_op(&sl_op_neg, NULL, 1, &t) : (sl_tensor_retain(t), t);
    else r = eval2(!c->is_add ? &sl_op_mul : c->t[i].neg ? &sl_op_sub : &sl_op_add, acc, t);
    sl_tensor_release(t);
    sl_tensor_release(acc);
    if (!(acc = r)) return -1;
  }
  *out = acc;
  return 0;
}

/* A chain node collect() would open (other than the root). */
static int inner_link(const sl_fgraph *g, const chain *c, const sl_var *v)
{
  const sl_node *o = v->owner;
  if (!o || v->type.dtype != c->dt || sl_rw_nclients(g, v) != 1) return 0;
  return c->is_add ? is_op(o, &sl_op_add) || is_op(o, &sl_op_sub) : is_op(o, &sl_op_mul);
}

/* 1 when the tree at out already is the normal form: walking down the left
** inputs meets the terms, the ops and the constant k where build_chain
** would put them. Checked before building, as most chains are canonical. */
static int chain_is_canonical(const sl_fgraph *g, const chain *c, sl_var *out,
                              const sl_tensor *k, int npos, int flip, int ksub)
{
  const sl_var *want[MAXTERMS + 1];
  const sl_op *ops[MAXTERMS + 1];
  int m = 0;
  if (flip || (c->is_add && npos == 0 && !k)) return 0;
  for (int pass = 0; pass < 2; pass++)   /* added terms, then subtracted ones */
    for (int i = 0; i < c->n; i++) {
      if (small_constant(c->t[i].v) || c->t[i].neg != pass) continue;
      ops[m] = pass ? &sl_op_sub : c->is_add ? &sl_op_add : &sl_op_mul;
      want[m++] = c->t[i].v;
    }
  int kfirst = npos == 0;   /* c - a - b */
  const sl_var *v = out;
  for (int j = m - 1 + (k && !kfirst); j >= (kfirst ? 0 : 1); j--) {
    if (v != out && !inner_link(g, c, v)) return 0;
    const sl_node *o = v->owner;
    if (!o || o->nin != 2 || v->type.dtype != c->dt) return 0;
    if (j == m) {   /* the constant, last */
      const sl_var *kv = o->inputs[1];
      if (!is_op(o, !c->is_add ? &sl_op_mul : ksub ? &sl_op_sub : &sl_op_add) || kv->kind != SL_VAR_CONSTANT ||
          !same_values(kv->value, k)) return 0;
    } else if (!is_op(o, ops[j]) || o->inputs[1] != want[j]) {
      return 0;
    }
    v = o->inputs[0];
  }
  if (kfirst) return v->kind == SL_VAR_CONSTANT && same_values(v->value, k);
  return v == want[0];
}

/* acc op x (x alone when acc is NULL); notes a result narrower than D. */
static sl_var *join(sl_fgraph *g, chain *c, const sl_op *op, sl_var *acc, sl_var *x)
{
  sl_var *r = acc && x ? sl_rw_apply(g, op, NULL, 2, acc, x) : acc ? NULL : x;
  if (r && acc && r->type.dtype != c->dt) c->narrow = 1;
  return r;
}

/* The normal form from the terms and the folded constant kv (or NULL);
** cast: convert every term to D first. */
static sl_var *build_chain(sl_fgraph *g, chain *c, sl_var *kv, int npos, int flip, int ksub, int cast)
{
  sl_var *pos = NULL, *negs = NULL, *r;
  for (int i = 0; i < c->n; i++) {
    if (small_constant(c->t[i].v)) continue;
    sl_var *v = cast ? sl_rw_cast(g, c->t[i].v, c->dt) : c->t[i].v;
    if (!c->t[i].neg) pos = join(g, c, c->is_add ? &sl_op_add : &sl_op_mul, pos, v);
    else negs = join(g, c, &sl_op_add, negs, v);
    if (!v || (!c->t[i].neg && !pos) || (c->t[i].neg && !negs)) return NULL;
  }
  if (!c->is_add) {
    r = pos && kv ? join(g, c, &sl_op_mul, pos, kv) : pos ? pos : kv;
    return flip && r ? sl_rw_apply(g, &sl_op_neg, NULL, 1, r) : r;
  }
  if (npos == 0 && !kv) return sl_rw_apply(g, &sl_op_neg, NULL, 1, negs);
  r = npos ? pos : kv;
  for (int i = 0; i < c->n && r; i++)
    if (c->t[i].neg && !small_constant(c->t[i].v))
      r = join(g, c, &sl_op_sub, r, cast ? sl_rw_cast(g, c->t[i].v, c->dt) : c->t[i].v);
  if (r && npos && kv) r = join(g, c, ksub ? &sl_op_sub : &sl_op_add, r, kv);
  return r;
}

static int canonical_chain(sl_fgraph *g, sl_node *n, int is_add)
{
  sl_var *out = out0(n);
  chain *c = malloc(sizeof *c);
  if (!c) return sl_fail("out of memory");
  c->is_add = is_add;
  c->dt = out->type.dtype;
  c->n = c->overflow = 0;
  int rc = 0;
  sl_tensor *k = NULL;
  if (!signed_kind(c->dt)) goto done;
  collect(g, c, out, 0, 1);
  if (c->overflow || fold_constants(c, &k)) goto done;

  /* the static broadcast type of the non-constant terms */
  sl_var *kv = NULL;
  int npos = 0, nonconst = 0, flip = 0, ksub = 0;
  sl_type rest = { .ndim = 0 };
  for (int i = 0; i < c->n; i++) {
    sl_var *v = c->t[i].v;
    if (small_constant(v)) continue;
    const sl_type *both[2] = { &rest, &v->type };
    if (sl_type_broadcast(2, both, &rest)) goto done;
    nonconst++;
    npos += !c->t[i].neg;
  }
  /* a neutral constant goes when the other terms give the shape alone */
  if (k) {
    sl_type kt;
    sl_type_of_tensor(k, &kt);
    int drop = nonconst > 0 && broadcasts_into(&kt, &rest);
    if (drop && all_are(k, is_add ? ALL_ZERO : ALL_ONE)) { sl_tensor_release(k); k = NULL; }
    else if (drop && !is_add && all_are(k, ALL_MINUS_ONE)) { sl_tensor_release(k); k = NULL; flip = 1; }
    else if (is_add && npos > 0 && all_are(k, ALL_NEGATIVE)) {
      sl_tensor *m = eval_op(&sl_op_neg, NULL, 1, &k);   /* -INT64_MIN stays negative */
      if (m && all_are(m, ALL_POSITIVE)) { sl_tensor_release(k); k = m; ksub = 1; }
      else sl_tensor_release(m);
    }
  }
  if (chain_is_canonical(g, c, out, k, npos, flip, ksub)) goto done;
  if (k && !(kv = sl_rw_constant_tensor(g, k))) { rc = -1; goto done; }
  sl_var *r = NULL;
  for (int cast = 0; cast < 2 && !r; cast++) {
    c->narrow = 0;
    r = build_chain(g, c, kv, npos, flip, ksub, cast);
    /* an intermediate in a narrower dtype: cast the terms */
    if (r && (c->narrow || r->type.dtype != c->dt)) r = NULL;
  }
  if (!r) goto done;   /* not buildable: left as it is */
  if (same_expr(r, out, 0)) goto done;
  rc = replace(g, out, r);
done:
  sl_tensor_release(k);
  free(c);
  return rc;
}

static int add_chain(sl_fgraph *g, sl_node *n) { return canonical_chain(g, n, 1); }
static int mul_chain(sl_fgraph *g, sl_node *n) { return canonical_chain(g, n, 0); }

/* -- shape ops ----------------------------------------------------------------------- */

static int identity_pattern(const sl_params *p, int ndim)
{
  if (p->n != ndim) return 0;
  for (int i = 0; i < p->n; i++) if (p->v[i] != i) return 0;
  return 1;
}

/* dimshuffle(dimshuffle(x, p), q) -> dimshuffle(x, p o q), or x */
static int dimshuffle_dimshuffle(sl_fgraph *g, sl_node *n)
{
  sl_node *inner = sl_rw_owner(n->inputs[0], &sl_op_dimshuffle);
  if (!inner) return 0;
  sl_var *x = inner->inputs[0];
  sl_params p = { .n = n->params.n };
  for (int i = 0; i < p.n; i++)
    p.v[i] = n->params.v[i] < 0 ? -1 : inner->params.v[n->params.v[i]];
  if (identity_pattern(&p, x->type.ndim)) return replace(g, out0(n), x);
  return replace(g, out0(n), sl_rw_apply(g, &sl_op_dimshuffle, &p, 1, x));
}

/* dimshuffle(x, (1, 2, ..., n)) -> x */
static int dimshuffle_identity(sl_fgraph *g, sl_node *n)
{
  if (!identity_pattern(&n->params, n->inputs[0]->type.ndim)) return 0;
  return replace(g, out0(n), n->inputs[0]);
}

/* reshape(reshape(x) or flatten(x), s) -> reshape(x, s): only the element
** count and the C order matter, and both are x's. */
static int reshape_reshape(sl_fgraph *g, sl_node *n)
{
  sl_node *inner = sl_rw_owner(n->inputs[0], &sl_op_reshape);
  if (!inner) inner = sl_rw_owner(n->inputs[0], &sl_op_flatten);
  if (!inner || n->nin > SL_MAXDIM + 1) return 0;
  sl_var *in[SL_MAXDIM + 1];
  in[0] = inner->inputs[0];
  for (int i = 1; i < n->nin; i++) in[i] = n->inputs[i];
  sl_var *r = sl_rw_applyv(g, &sl_op_reshape, &n->params, n->nin, in);
  return r ? replace(g, out0(n), r) : 0;
}

/* flatten(flatten(x, a), b) -> flatten(x, b): b <= a, so the axes kept are x's */
static int flatten_flatten(sl_fgraph *g, sl_node *n)
{
  sl_node *inner = sl_rw_owner(n->inputs[0], &sl_op_flatten);
  if (!inner) return 0;
  return replace(g, out0(n), sl_rw_apply(g, &sl_op_flatten, &n->params, 1, inner->inputs[0]));
}

/* reshape or flatten to the shape x already has -> x */
static int reshape_same_shape(sl_fgraph *g, sl_node *n)
{
  const sl_type *x = &n->inputs[0]->type, *y = &out0(n)->type;
  int same = x->ndim == y->ndim;
  if (is_op(n, &sl_op_flatten)) same = same && n->params.v[0] == x->ndim;
  else
    for (int d = 0; d < x->ndim && same; d++)
      same = x->shape[d] != SL_UNKNOWN && x->shape[d] == y->shape[d];
  return same ? replace(g, out0(n), n->inputs[0]) : 0;
}

/* -- casts --------------------------------------------------------------------------- */

/* cast(x, dtype of x) -> x */
static int cast_same_dtype(sl_fgraph *g, sl_node *n)
{
  if (n->inputs[0]->type.dtype != out0(n)->type.dtype) return 0;
  return replace(g, out0(n), n->inputs[0]);
}

/* Every value of dtype from is exactly a value of dtype to. */
static int exact_widening(sl_dtype from, sl_dtype to)
{
  static const char *wider[SL_NDTYPES] = {
    [SL_BOOL] = "bool uint8 int8 int16 int32 int64 float32 float64",
    [SL_UINT8] = "uint8 int16 int32 int64 float32 float64",
    [SL_INT8] = "int8 int16 int32 int64 float32 float64",
    [SL_INT16] = "int16 int32 int64 float32 float64",
    [SL_INT32] = "int32 int64 float64",
    [SL_INT64] = "int64",
    [SL_FLOAT16] = "float16 float32 float64",
    [SL_BFLOAT16] = "bfloat16 float32 float64",
    [SL_FLOAT32] = "float32 float64",
    [SL_FLOAT64] = "float64",
  };
  const char *list = wider[from], *name = sl_dtype_name(to);
  size_t len = strlen(name);
  for (const char *s = list; s && *s; s += strcspn(s, " "), s += strspn(s, " "))
    if (strncmp(s, name, len) == 0 && (s[len] == ' ' || s[len] == 0)) return 1;
  return 0;
}

/* cast(cast(x, a), b) -> cast(x, b) when x -> a keeps every value */
static int cast_of_exact_cast(sl_fgraph *g, sl_node *n)
{
  sl_node *inner = sl_rw_owner(n->inputs[0], &sl_op_cast);
  if (!inner) return 0;
  sl_var *x = inner->inputs[0];
  if (!exact_widening(x->type.dtype, n->inputs[0]->type.dtype)) return 0;
  return replace_cast(g, out0(n), x);
}

/* -- alloc --------------------------------------------------------------------------- */

/* The var giving alloc a's size on axis d, or NULL when it is a param. */
static sl_var *alloc_size_input(const sl_node *a, int d)
{
  if (a->params.v[d] >= 0) return NULL;
  int k = 1;
  for (int i = 0; i < d; i++) k += a->params.v[i] < 0;
  return a->inputs[k];
}

/* Axis e of w has the size of axis d of x at run time: w is x, or w comes
** from x through elementwise ops whose other inputs only broadcast into it. */
static int same_axis(const sl_var *w, int e, const sl_var *x, int d, int depth)
{
  while (w != x && depth++ < 16) {
    const sl_node *o = w->owner;
    const sl_var *from = NULL;
    if (!o || !is_elemwise(o)) return 0;
    for (int i = 0; i < o->nin && !from; i++) {
      const sl_var *u = o->inputs[i];
      int ok = u->type.ndim == w->type.ndim;
      for (int j = 0; j < o->nin && ok; j++)
        ok = j == i || broadcasts_into(&o->inputs[j]->type, &u->type);
      if (ok) from = u;
    }
    if (!from) return 0;
    w = from;
  }
  return w == x && e == d;
}

/* Axis d of alloc a, as seen in n's output (rank nd): some other input of n
** has the same size there at run time, so a need not widen it. */
static int axis_covered(const sl_node *n, int skip, const sl_node *a, int d)
{
  const sl_type *at = &out0((sl_node *)a)->type;
  int od = d + out0((sl_node *)n)->type.ndim - at->ndim;
  if (at->shape[d] == 1) return 1;
  sl_var *size = alloc_size_input(a, d);
  sl_node *si = size ? sl_rw_owner(size, &sl_op_shape_i) : NULL;
  for (int j = 0; j < n->nin; j++) {
    if (j == skip) continue;
    const sl_var *w = n->inputs[j];
    int e = od - (out0((sl_node *)n)->type.ndim - w->type.ndim);
    if (e < 0) continue;
    if (w->type.shape[e] != SL_UNKNOWN && w->type.shape[e] != 1) return 1;
    if (si && same_axis(w, e, si->inputs[0], (int)si->params.v[0], 0)) return 1;
  }
  return 0;
}

/* f(alloc(v, s), y) -> f(v, y) when y alone gives the result its shape */
static int alloc_sink(sl_fgraph *g, sl_node *n)
{
  if (!is_elemwise(n) || n->nin > 3) return 0;
  for (int k = 0; k < n->nin; k++) {
    sl_node *a = sl_rw_owner(n->inputs[k], &sl_op_alloc);
    if (!a || a->inputs[0]->weak) continue;
    int ok = 1;
    for (int d = 0; d < a->params.n && ok; d++) ok = axis_covered(n, k, a, d);
    if (!ok) continue;
    sl_var *in[3];
    for (int i = 0; i < n->nin; i++) in[i] = n->inputs[i];
    in[k] = a->inputs[0];
    sl_var *r = sl_rw_applyv(g, n->op, &n->params, n->nin, in);
    if (r && can_replace(out0(n), r)) return sl_rw_replace(g, out0(n), r) ? -1 : 1;
  }
  return 0;
}

static int same_alloc_shape(const sl_node *a, const sl_node *b)
{
  if (a->nin != b->nin || a->params.n != b->params.n ||
      memcmp(a->params.v, b->params.v, (size_t)a->params.n * sizeof *a->params.v)) return 0;
  for (int i = 1; i < a->nin; i++) if (a->inputs[i] != b->inputs[i]) return 0;
  return 1;
}

/* f(alloc(v, s), c) -> alloc(f(v, c), s) when c is all size-1 axes (or an
** alloc of the same shape): f runs on the small value. */
static int alloc_hoist(sl_fgraph *g, sl_node *n)
{
  if (!is_elemwise(n) || n->nin > 3 || (n->op->flags & SL_OP_IMPURE)) return 0;
  sl_node *first = NULL;
  sl_var *in[3];
  for (int i = 0; i < n->nin; i++) {
    sl_node *a = sl_rw_owner(n->inputs[i], &sl_op_alloc);
    if (a && !a->inputs[0]->weak && (!first || same_alloc_shape(first, a))) {
      if (!first) first = a;
      in[i] = a->inputs[0];
    } else {
      in[i] = n->inputs[i];
    }
  }
  if (!first) return 0;
  const sl_type *at = &out0(first)->type;
  for (int i = 0; i < n->nin; i++) {
    const sl_type *t = &in[i]->type;
    if (in[i] != n->inputs[i]) continue;
    if (t->ndim > at->ndim) return 0;
    for (int d = 0; d < t->ndim; d++) if (t->shape[d] != 1) return 0;
  }
  sl_var *v = sl_rw_applyv(g, n->op, &n->params, n->nin, in);
  if (!v || v->type.ndim > at->ndim) return 0;
  sl_var *ain[SL_MAXDIM + 1];
  ain[0] = v;
  for (int i = 1; i < first->nin; i++) ain[i] = first->inputs[i];
  sl_var *r = sl_rw_applyv(g, &sl_op_alloc, &first->params, first->nin, ain);
  return r ? replace(g, out0(n), r) : 0;
}

/* alloc(v, s) where v has shape s already -> v */
static int alloc_same_shape(sl_fgraph *g, sl_node *n)
{
  sl_var *v = n->inputs[0], *out = out0(n);
  if (v->type.ndim != out->type.ndim || v->weak) return 0;
  for (int d = 0; d < v->type.ndim; d++) {
    int64_t a = v->type.shape[d], b = out->type.shape[d];
    if (a != SL_UNKNOWN && a == b) continue;
    sl_var *size = alloc_size_input(n, d);
    sl_node *si = size ? sl_rw_owner(size, &sl_op_shape_i) : NULL;
    if (!si || si->inputs[0] != v || si->params.v[0] != d) return 0;
  }
  return replace(g, out, v);
}

/* -- sum_to and reductions ----------------------------------------------------------- */

/* dimshuffle dropping x's axes where drop[d] is set (all of static size 1). */
static sl_var *drop_axes(sl_fgraph *g, sl_var *x, const int *drop)
{
  sl_params p = { .n = 0 };
  for (int d = 0; d < x->type.ndim; d++) if (!drop[d]) p.v[p.n++] = d;
  if (p.n == x->type.ndim) return x;
  return sl_rw_apply(g, &sl_op_dimshuffle, &p, 1, x);
}

/* sum_to(x, like) -> x when the static types show that nothing is summed:
** the extra leading axes have size 1, and each of like's sizes is known and
** either not 1 (so x's equals it) or 1 with x's size 1 too. */
static int sum_to_noop(sl_fgraph *g, sl_node *n)
{
  const sl_type *x = &n->inputs[0]->type, *like = &n->inputs[1]->type;
  int lead = x->ndim - like->ndim, drop[SL_MAXDIM] = { 0 };
  for (int d = 0; d < lead; d++) {
    if (x->shape[d] != 1) return 0;
    drop[d] = 1;
  }
  for (int d = 0; d < like->ndim; d++) {
    int64_t s = like->shape[d];
    if (s == SL_UNKNOWN || (s == 1 && x->shape[lead + d] != 1)) return 0;
  }
  sl_var *r = drop_axes(g, n->inputs[0], drop);
  return r ? replace(g, out0(n), r) : -1;
}

/* sum, prod, mean, max, min, all, any over no axes, or over axes of static
** size 1: each result is its one element (as the result dtype). */
static int reduce_trivial(sl_fgraph *g, sl_node *n)
{
  sl_var *x = n->inputs[0];
  int drop[SL_MAXDIM] = { 0 };
  if (n->params.n < 1) return 0;
  for (int k = 1; k < n->params.n; k++) {
    int64_t a = n->params.v[k];
    if (a < 0 || a >= x->type.ndim || x->type.shape[a] != 1) return 0;
    drop[a] = !n->params.v[0];
  }
  sl_var *r = drop_axes(g, x, drop);
  return r ? replace_cast(g, out0(n), r) : -1;
}

/* -- the table ----------------------------------------------------------------------- */

const sl_rewrite sl_rewrites_canonicalize[] = {
  { .name = "add_zero", .pass = "canonicalize", .ops = SL_OPS(&sl_op_add, &sl_op_sub), .fn = add_zero,
    .doc = "x + 0, 0 + x, x - 0 -> x when the zero broadcasts into x (the sign of a zero result may differ)" },
  { .name = "mul_one", .pass = "canonicalize", .ops = SL_OPS(&sl_op_mul, &sl_op_true_div), .fn = mul_one,
    .doc = "x * 1, 1 * x, x / 1 -> x (cast when the result dtype differs) when the one broadcasts into x" },
  { .name = "sub_self_to_zeros", .pass = "canonicalize", .ops = SL_OPS(&sl_op_sub), .fn = sub_self,
    .doc = "x - x -> zeros for integer x only; for floats Inf - Inf and NaN - NaN are NaN, so they are kept" },
  { .name = "neg_neg", .pass = "canonicalize", .ops = SL_OPS(&sl_op_neg), .fn = neg_neg,
    .doc = "a negation of a negation, --x -> x (exact for floats and, modulo 2^n, for integers)" },
  { .name = "neg_constant", .pass = "canonicalize", .ops = SL_OPS(&sl_op_neg), .fn = neg_constant,
    .doc = "-c -> the negated constant, and -(x * c) -> x * (-c)" },
  { .name = "add_chain_canonical", .pass = "canonicalize", .ops = SL_OPS(&sl_op_add, &sl_op_sub), .fn = add_chain,
    .doc = "add/sub/neg chains flattened: terms in order, subtracted ones last, constants folded into one at the end" },
  { .name = "mul_chain_canonical", .pass = "canonicalize", .ops = SL_OPS(&sl_op_mul), .fn = mul_chain,
    .doc = "mul chains flattened: factors in order, constants folded into one at the end; * 1 dropped, * -1 a neg" },
  { .name = "dimshuffle_dimshuffle", .pass = "canonicalize", .ops = SL_OPS(&sl_op_dimshuffle), .fn = dimshuffle_dimshuffle,
    .doc = "a dimshuffle (or transpose) of a dimshuffle -> one dimshuffle, or nothing when they cancel" },
  { .name = "dimshuffle_identity", .pass = "canonicalize", .ops = SL_OPS(&sl_op_dimshuffle), .fn = dimshuffle_identity,
    .doc = "a dimshuffle that keeps every axis in place -> its input" },
  { .name = "reshape_reshape", .pass = "canonicalize", .ops = SL_OPS(&sl_op_reshape), .fn = reshape_reshape,
    .doc = "reshape of a reshape or of a flatten -> one reshape of the first input" },
  { .name = "flatten_flatten", .pass = "canonicalize", .ops = SL_OPS(&sl_op_flatten), .fn = flatten_flatten,
    .doc = "flatten of a flatten -> one flatten" },
  { .name = "reshape_same_shape", .pass = "canonicalize", .ops = SL_OPS(&sl_op_reshape, &sl_op_flatten), .fn = reshape_same_shape,
    .doc = "a reshape or flatten to the static shape its input already has -> its input" },
  { .name = "cast_same_dtype", .pass = "canonicalize", .ops = SL_OPS(&sl_op_cast), .fn = cast_same_dtype,
    .doc = "a cast to the dtype its input already has -> its input" },
  { .name = "cast_of_exact_cast", .pass = "canonicalize", .ops = SL_OPS(&sl_op_cast), .fn = cast_of_exact_cast,
    .doc = "cast(cast(x, a), b) -> cast(x, b) when every value of x is exact in a (bool -> int32, float32 -> float64...)" },
  { .name = "alloc_same_shape", .pass = "canonicalize", .ops = SL_OPS(&sl_op_alloc), .fn = alloc_same_shape,
    .doc = "an alloc of a value that already has the alloc's shape -> the value" },
  { .name = "alloc_sink_into_elemwise", .pass = "canonicalize", .fn = alloc_sink,
    .doc = "an elementwise op reads alloc(v, s) as v when its other inputs already give s (broadcasting does the rest)" },
  { .name = "alloc_hoist_over_elemwise", .pass = "canonicalize", .fn = alloc_hoist,
    .doc = "f(alloc(v, s), c) -> alloc(f(v, c), s) when c has only size-1 axes: f runs on the small value" },
  { .name = "sum_to_noop", .pass = "canonicalize", .ops = SL_OPS(&sl_op_sum_to), .fn = sum_to_noop,
    .doc = "a sum_to whose input has the target's static shape (or extra leading size-1 axes) -> the input" },
  { .name = "reduce_trivial_axes", .pass = "canonicalize", .ops = SL_OPS(&sl_op_sum, &sl_op_prod, &sl_op_mean, &sl_op_max, &sl_op_min, &sl_op_all, &sl_op_any), .fn = reduce_trivial,
    .doc = "sum/prod/mean/max/min/all/any over no axes or only static size-1 axes -> the input, reshaped and cast" },
};
const int sl_rewrites_canonicalize_n = sizeof sl_rewrites_canonicalize / sizeof *sl_rewrites_canonicalize;
