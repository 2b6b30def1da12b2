/*
** nn.c — neural-network ops along an axis: softmax, log_softmax,
** logsumexp, the softmax gradient, and softmax cross-entropy from logits.
**
** Params: softmax, log_softmax, softmax_grad and softmax_crossentropy take
** v[0] = the class axis, 0-based. logsumexp is laid out like a reduction
** (ops/reduce.c): v[0] keepdims, v[1..] the reduced axes, sorted and unique.
**
** softmax_crossentropy(x, y) is -sum(t * log_softmax(x)) over the axis, for
** either integer labels y (x's shape without the axis; values 1..K, as
** everywhere in Lua) or targets t broadcastable to x's shape (one-hot rows
** or probabilities; a target of 0 contributes 0 even where x is -inf).
** softmax_grad(gz, z) is the gradient of softmax given z = softmax(x):
** z * (gz - sum(gz * z)).
**
** Kernel: the axes worked on are moved last and the data converted to
** double as one C-order block, so every row is contiguous; every row is
** shifted by its maximum before exp, so large logits never overflow. Float32
** data thus accumulates in double. A row of -inf has logsumexp -inf; a +inf
** in a row makes logsumexp +inf.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rows.h"

/* -- row kernels ------------------------------------------------------------------- */

/* The row's maximum; NaN when the row has one. */
static double row_max(const double *x, int64_t n)
{
  double m = -INFINITY;
  for (int64_t k = 0; k < n; k++) {
    if (x[k] != x[k]) return x[k];
    if (x[k] > m) m = x[k];
  }
  return m;
}

/* log(sum(exp(x))), shifted by the maximum. */
static double row_logsumexp(const double *x, int64_t n)
{
  double m = row_max(x, n);
  if (m != m || isinf(m)) return m;   /* NaN, +inf, or an empty or all -inf row */
  double s = 0;
  for (int64_t k = 0; k < n; k++) s += exp(x[k] - m);
  return m + log(s);
}

static void row_softmax(double *x, int64_t n)
{
  double m = row_max(x, n), s = 0;
  if (m == -INFINITY) m = 0;   /* all -inf: 0/0, NaN, as NumPy would give */
  for (int64_t k = 0; k < n; k++) s += (x[k] = exp(x[k] - m));
  for (int64_t k = 0; k < n; k++) x[k] /= s;
}

static void row_log_softmax(double *x, int64_t n)
{
  double lse = row_logsumexp(x, n);
  for (int64_t k = 0; k < n; k++) x[k] -= lse;
}

/* -- moving axes last ------------------------------------------------------------------ */

/* x with the marked axes moved last, as a contiguous float64 block of outer
** rows of inner elements each. */
typedef struct {
  sl_tensor *rows;
  int perm[SL_MAXDIM];
  int64_t outer, inner;
} row_block;

static int rows_of(sl_tensor *x, const int *marked, row_block *b)
{
  int k = 0;
  b->outer = b->inner = 1;
  for (int i = 0; i < x->ndim; i++) if (!marked[i]) { b->perm[k++] = i; b->outer *= x->shape[i]; }
  for (int i = 0; i < x->ndim; i++) if (marked[i]) { b->perm[k++] = i; b->inner *= x->shape[i]; }
  sl_tensor *moved = sl_tensor_permute(x, b->perm);
  b->rows = moved ? sl_tensor_cast(moved, SL_FLOAT64) : NULL;
  sl_tensor_release(moved);
  return b->rows ? 0 : -1;
}

/* The block's rows put back in x's axis order, as dtype dt. */
static sl_tensor *rows_back(const row_block *b, sl_dtype dt)
{
  int inv[SL_MAXDIM], identity = 1;
  for (int i = 0; i < b->rows->ndim; i++) { inv[b->perm[i]] = i; identity &= b->perm[i] == i; }
  if (identity && dt == SL_FLOAT64) { sl_tensor_retain(b->rows); return b->rows; }
  sl_tensor *v = sl_tensor_permute(b->rows, inv);
  sl_tensor *r = v ? sl_tensor_cast(v, dt) : NULL;
  sl_tensor_release(v);
  return r;
}

/* -- typing ------------------------------------------------------------------------------ */

static sl_dtype float_of(sl_dtype dt) { return sl_dtype_kind(dt) == 'f' ? dt : sl_float_default; }

static int is_int_dtype(sl_dtype dt) { char k = sl_dtype_kind(dt); return k == 'i' || k == 'u'; }

static int class_axis(const sl_node *n, int ndim, int *axis)
{
  if (n->params.n < 1 || n->params.v[0] < 0 || n->params.v[0] >= ndim)
    return sl_fail("%s: axis %lld is out of range for a %d-d input", n->op->name,
                   n->params.n < 1 ? 0LL : (long long)n->params.v[0] + 1, ndim);
  *axis = (int)n->params.v[0];
  return 0;
}

static int axis_infer(sl_node *n, sl_type *out)
{
  int axis = 0;
  if (class_axis(n, n->inputs[0]->type.ndim, &axis)) return -1;
  *out = n->inputs[0]->type;
  out->dtype = float_of(out->dtype);
  return 0;
}

/* logsumexp's axes, checked like a reduction's. */
static int lse_axes(const sl_node *n, int nd, int *reduced)
{
  const sl_params *p = &n->params;
  if (p->n < 1 || (p->v[0] != 0 && p->v[0] != 1))
    return sl_fail("logsumexp: params must be { keepdims (0 or 1), axes... }");
  memset(reduced, 0, SL_MAXDIM * sizeof *reduced);
  for (int k = 1; k < p->n; k++) {
    int64_t a = p->v[k];
    if (a < 0 || a >= nd)
      return sl_fail("logsumexp: axis %lld is out of range for a %d-d input", (long long)a + 1, nd);
    if (reduced[a] || (k > 1 && a < p->v[k - 1]))
      return sl_fail("logsumexp: axes must be sorted and unique");
    reduced[a] = 1;
  }
  return 0;
}

static int lse_shape(int nd, const int64_t *in, const int *reduced, int keep, int64_t *out)
{
  int k = 0;
  for (int i = 0; i < nd; i++) {
    if (!reduced[i]) out[k++] = in[i];
    else if (keep) out[k++] = 1;
  }
  return k;
}

static int lse_infer(sl_node *n, sl_type *out)
{
  const sl_type *x = &n->inputs[0]->type;
  int reduced[SL_MAXDIM];
  if (lse_axes(n, x->ndim, reduced)) return -1;
  out->dtype = float_of(x->dtype);
  out->ndim = lse_shape(x->ndim, x->shape, reduced, (int)n->params.v[0], out->shape);
  return 0;
}

/* softmax_grad(gz, z): same rank, broadcast shapes, promoted float dtype. */
static int smgrad_infer(sl_node *n, sl_type *out)
{
  const sl_type *in[2] = { &n->inputs[0]->type, &n->inputs[1]->type };
  int axis = 0;
  if (in[0]->ndim != in[1]->ndim)
    return sl_fail("softmax_grad: the gradient has %d axes and softmax's output %d",
                   in[0]->ndim, in[1]->ndim);
  if (class_axis(n, in[1]->ndim, &axis)) return -1;
  if (sl_type_broadcast(2, in, out)) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", sl_errmsg());
    return sl_fail("softmax_grad: %s", msg);
  }
  out->dtype = float_of(sl_promote_inputs(n, 0));
  return 0;
}

/* Cross-entropy: labels when y has one axis fewer than x, else targets. */
static int xent_infer(sl_node *n, sl_type *out)
{
  const sl_type *x = &n->inputs[0]->type, *y = &n->inputs[1]->type;
  int axis = 0;
  char a[128], b[128];
  if (class_axis(n, x->ndim, &axis)) return -1;
  if (sl_dtype_kind(x->dtype) != 'f')
    return sl_fail("softmax_crossentropy: the logits must be float, got %s", sl_dtype_name(x->dtype));
  sl_type_text(x, a, sizeof a);
  sl_type_text(y, b, sizeof b);
  out->ndim = 0;
  if (y->ndim == x->ndim - 1) {
    if (!is_int_dtype(y->dtype))
      return sl_fail("softmax_crossentropy: labels %s must be integers (class numbers 1..K); "
                     "give targets with the logits' shape %s for probabilities", b, a);
    for (int i = 0, j = 0; i < x->ndim; i++) {
      if (i == axis) continue;
      int64_t xs = x->shape[i], ys = y->shape[j++];
      if (xs != SL_UNKNOWN && ys != SL_UNKNOWN && xs != ys)
        return sl_fail("softmax_crossentropy: labels %s do not match logits %s (class axis %d)",
                       b, a, axis + 1);
      out->shape[out->ndim++] = xs != SL_UNKNOWN ? xs : ys;
    }
    out->dtype = x->dtype;
    return 0;
  }
  if (y->ndim != x->ndim)
    return sl_fail("softmax_crossentropy: targets %s must have the logits' axes %s, or one "
                   "fewer (integer labels)", b, a);
  for (int i = 0; i < x->ndim; i++) {
    int64_t xs = x->shape[i], ys = y->shape[i];
    if (ys != 1 && ys != SL_UNKNOWN && xs != SL_UNKNOWN && xs != ys)
      return sl_fail("softmax_crossentropy: targets %s do not fit logits %s", b, a);
    if (i != axis) out->shape[out->ndim++] = xs;
  }
  out->dtype = float_of(sl_promote_inputs(n, 0));
  return 0;
}

/* -- reference kernels ------------------------------------------------------------------- */

static int axis_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int axis = 0, marked[SL_MAXDIM] = { 0 };
  if (class_axis(n, in[0]->ndim, &axis)) return -1;
  marked[axis] = 1;
  row_block b;
  if (rows_of(in[0], marked, &b)) return -1;
  double *p = sl_tensor_ptr(b.rows);
  int log_form = n->op == &sl_op_log_softmax;
  for (int64_t o = 0; o < b.outer; o++) {
    if (log_form) row_log_softmax(p + o * b.inner, b.inner);
    else row_softmax(p + o * b.inner, b.inner);
  }
  out[0] = rows_back(&b, n->outputs[0].type.dtype);
  sl_tensor_release(b.rows);
  return out[0] ? 0 : -1;
}

static int lse_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int reduced[SL_MAXDIM];
  if (lse_axes(n, in[0]->ndim, reduced)) return -1;
  row_block b;
  if (rows_of(in[0], reduced, &b)) return -1;
  int64_t shape[SL_MAXDIM];
  int nd = lse_shape(in[0]->ndim, in[0]->shape, reduced, (int)n->params.v[0], shape);
  sl_tensor *r = sl_tensor_empty(SL_FLOAT64, nd, shape);
  if (r) {
    const double *src = sl_tensor_ptr(b.rows);
    double *dst = sl_tensor_ptr(r);
    for (int64_t o = 0; o < b.outer; o++) dst[o] = row_logsumexp(src + o * b.inner, b.inner);
    out[0] = sl_tensor_cast(r, n->outputs[0].type.dtype);
  }
  sl_tensor_release(r);
  sl_tensor_release(b.rows);
  return r && out[0] ? 0 : -1;
}

/* Both inputs expanded to one shape, as row blocks along the axis. */
static int two_blocks(const sl_node *n, sl_tensor *a, sl_tensor *c, int axis, row_block *ba,
                      row_block *bc)
{
  int nd, marked[SL_MAXDIM] = { 0 };
  int64_t shape[SL_MAXDIM];
  if (sl_broadcast_shapes(a->ndim, a->shape, c->ndim, c->shape, &nd, shape)) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", sl_errmsg());
    return sl_fail("%s: %s", n->op->name, msg);
  }
  marked[axis] = 1;
  sl_tensor *ea = sl_tensor_expand(a, nd, shape), *ec = sl_tensor_expand(c, nd, shape);
  int rc = ea && ec ? 0 : -1;
  ba->rows = bc->rows = NULL;
  if (!rc) rc = rows_of(ea, marked, ba);
  if (!rc) rc = rows_of(ec, marked, bc);
  sl_tensor_release(ea);
  sl_tensor_release(ec);
  return rc;
}

static int smgrad_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int axis = 0;
  if (class_axis(n, in[1]->ndim, &axis)) return -1;
  row_block bg, bz;
  int rc = two_blocks(n, in[0], in[1], axis, &bg, &bz);
  if (!rc) {
    double *g = sl_tensor_ptr(bg.rows);
    const double *z = sl_tensor_ptr(bz.rows);
    for (int64_t o = 0; o < bg.outer; o++) {
      double *gr = g + o * bg.inner;
      const double *zr = z + o * bg.inner;
      double s = 0;
      for (int64_t k = 0; k < bg.inner; k++) s += gr[k] * zr[k];
      for (int64_t k = 0; k < bg.inner; k++) gr[k] = zr[k] * (gr[k] - s);
    }
    out[0] = rows_back(&bg, n->outputs[0].type.dtype);
    rc = out[0] ? 0 : -1;
  }
  sl_tensor_release(bg.rows);
  sl_tensor_release(bz.rows);
  return rc;
}

static int xent_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  sl_tensor *x = in[0], *y = in[1];
  int axis = 0, marked[SL_MAXDIM] = { 0 };
  if (class_axis(n, x->ndim, &axis)) return -1;
  marked[axis] = 1;
  int64_t shape[SL_MAXDIM];
  int nd = 0;
  for (int i = 0; i < x->ndim; i++) if (i != axis) shape[nd++] = x->shape[i];
  int labels = y->ndim == x->ndim - 1;
  if (labels) {
    int same = 1;
    for (int i = 0; i < nd; i++) same &= y->shape[i] == shape[i];
    if (!same) {
      char a[128], b[128];
      sl_shape_text(a, sizeof a, x->ndim, x->shape);
      sl_shape_text(b, sizeof b, y->ndim, y->shape);
      return sl_fail("softmax_crossentropy: labels of shape %s do not match logits of shape %s",
                     b, a);
    }
  }
  row_block bx = { 0 }, bt = { 0 };
  sl_tensor *lab = NULL, *r = NULL;
  int rc = -1;
  if (labels) {
    if (rows_of(x, marked, &bx)) return -1;
    lab = sl_tensor_cast(y, SL_INT64);
  } else {   /* targets broadcast to x's shape, never x to theirs */
    sl_tensor *t = sl_tensor_expand(y, x->ndim, x->shape);
    if (!t) {
      char a[128], b[128];
      sl_shape_text(a, sizeof a, x->ndim, x->shape);
      sl_shape_text(b, sizeof b, y->ndim, y->shape);
      return sl_fail("softmax_crossentropy: targets of shape %s do not fit logits of shape %s", b, a);
    }
    rc = rows_of(x, marked, &bx) || rows_of(t, marked, &bt) ? -1 : 0;
    sl_tensor_release(t);
    if (rc) goto done;
    rc = -1;
  }
  if ((labels && !lab) || !(r = sl_tensor_empty(SL_FLOAT64, nd, shape))) goto done;
  const double *xr = sl_tensor_ptr(bx.rows);
  double *dst = sl_tensor_ptr(r);
  int64_t K = bx.inner;
  rc = 0;
  for (int64_t o = 0; o < bx.outer && !rc; o++) {
    const double *row = xr + o * K;
    double lse = row_logsumexp(row, K);
    if (labels) {
      int64_t c = ((const int64_t *)sl_tensor_ptr(lab))[o];
      if (c < 1 || c > K)
        rc = sl_fail("softmax_crossentropy: label %lld is out of range: classes are 1..%lld",
                     (long long)c, (long long)K);
      else dst[o] = lse - row[c - 1];
    } else {
      const double *t = (const double *)sl_tensor_ptr(bt.rows) + o * K;
      double s = 0;
      for (int64_t k = 0; k < K; k++) if (t[k] != 0) s += t[k] * (lse - row[k]);
      dst[o] = s;
    }
  }
  if (!rc) rc = (out[0] = sl_tensor_cast(r, n->outputs[0].type.dtype)) ? 0 : -1;
done:
  sl_tensor_release(r);
  sl_tensor_release(lab);
  sl_tensor_release(bx.rows);
  sl_tensor_release(bt.rows);
  return rc;
}

/* -- the table ------------------------------------------------------------------------- */

const sl_op sl_op_softmax = { .name = "softmax", .nin = 1, .nout = 1, .infer = axis_infer, .perform = axis_perform, .flags = SL_OP_EXACT_GRAD, .size = SL_SIZE_OF_FIRST };
const sl_op sl_op_log_softmax = { .name = "log_softmax", .nin = 1, .nout = 1, .infer = axis_infer, .perform = axis_perform, .flags = SL_OP_EXACT_GRAD, .size = SL_SIZE_OF_FIRST };
const sl_op sl_op_logsumexp = { .name = "logsumexp", .nin = 1, .nout = 1, .infer = lse_infer, .perform = lse_perform };
const sl_op sl_op_softmax_grad = { .name = "softmax_grad", .nin = 2, .nout = 1, .infer = smgrad_infer, .perform = smgrad_perform, .size = SL_SIZE_OF_FIRST };
const sl_op sl_op_softmax_crossentropy = { .name = "softmax_crossentropy", .nin = 2, .nout = 1, .infer = xent_infer, .perform = xent_perform };
