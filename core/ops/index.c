/*
** index.c — indexing and allocation ops: subtensor (basic slicing with
** constant or symbolic bounds), its functional updates set_subtensor and
** inc_subtensor, take/gather with 1-based index values and their updates,
** arange, alloc, and the shape of a variable (shape, shape_i).
**
** Index values arrive 1-based (negative counts from the end) and become
** 0-based here. Every kernel returns fresh tensors, never views of inputs.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rows.h"

static int is_int_dtype(sl_dtype dt)
{
  char k = sl_dtype_kind(dt);
  return k == 'i' || k == 'u';
}

/* A 0-d integer input, for bounds and sizes. */
static int check_int_scalar(const sl_node *n, int i, const char *what)
{
  const sl_type *ty = &n->inputs[i]->type;
  if (ty->ndim != 0 || !is_int_dtype(ty->dtype)) {
    char t[128];
    sl_type_text(ty, t, sizeof t);
    return sl_fail("%s: %s must be an integer scalar, got %s", n->op->name, what, t);
  }
  return 0;
}

/* The value of input i when the graph already knows it: a constant, or the
** size of an axis whose static size is known. */
static int known_value(const sl_node *n, int i, int64_t *out)
{
  const sl_var *v = n->inputs[i];
  if (v->kind == SL_VAR_CONSTANT && v->value) {
    *out = (int64_t)sl_tensor_get(v->value, NULL);
    return 1;
  }
  const sl_node *o = v->owner;
  if (o && o->op == &sl_op_shape_i) {
    *out = o->inputs[0]->type.shape[o->params.v[0]];
    return *out != SL_UNKNOWN;
  }
  return 0;
}

static int64_t scalar_of(const sl_tensor *t) { return (int64_t)sl_tensor_get(t, NULL); }

/* -- index descriptions ------------------------------------------------------------
** subtensor's params: v[0] = m, the number of leading axes indexed; then per
** axis one word, followed by the constant bounds it uses. A word's bit 0 says
** "select" (one index, axis dropped) or "range" (inclusive {first, last,
** step}); bits 1-2, 3-4, 5-6 say for first, last, step: 0 absent, 1 a
** constant (the next param), 2 an input (the next bound input). The bound
** inputs follow x (and y, for the update ops), in order.
*/
enum { B_ABSENT, B_CONST, B_INPUT };

typedef struct {
  int select;
  int has[3];
  int input[3];          /* input index, or -1 for a constant */
  int64_t val[3];        /* the constant */
} axis_index;

typedef struct {
  int m;
  axis_index ax[SL_MAXDIM];
} index_desc;

/* Parse params; first_bound is the first bound input. */
static int parse_index(const sl_node *n, int first_bound, index_desc *d)
{
  const sl_params *p = &n->params;
  int k = 1, in = first_bound, ndim = n->inputs[0]->type.ndim;
  if (p->n < 1 || p->v[0] < 0 || p->v[0] > ndim)
    return sl_fail("%s: %lld indices for a %d-d variable", n->op->name,
                   p->n < 1 ? 0LL : (long long)p->v[0], ndim);
  d->m = (int)p->v[0];
  for (int a = 0; a < d->m; a++) {
    if (k >= p->n) return sl_fail("%s: malformed index parameters", n->op->name);
    int64_t w = p->v[k++];
    axis_index *ax = &d->ax[a];
    ax->select = (int)(w & 1);
    for (int s = 0; s < 3; s++) {
      int how = (int)((w >> (1 + 2 * s)) & 3);
      ax->has[s] = how != B_ABSENT;
      ax->input[s] = -1;
      ax->val[s] = 0;
      if (how == B_CONST) {
        if (k >= p->n) return sl_fail("%s: malformed index parameters", n->op->name);
        ax->val[s] = p->v[k++];
      } else if (how == B_INPUT) {
        if (in >= n->nin) return sl_fail("%s: fewer bound inputs than the index uses", n->op->name);
        if (check_int_scalar(n, in, "an index bound")) return -1;
        ax->input[s] = in++;
      }
    }
    if (ax->select && !ax->has[0]) return sl_fail("%s: a selected axis needs an index", n->op->name);
  }
  if (in != n->nin)
    return sl_fail("%s: %d bound inputs given but the index uses %d", n->op->name,
                   n->nin - first_bound, in - first_bound);
  return 0;
}

/* A 1-based index (negative from the end) on an axis of size `size`, 0-based. */
static int index_check(const char *op, int64_t i, int64_t size, int axis, int64_t *z)
{
  *z = i < 0 ? i + size : i - 1;
  if (i == 0 || *z < 0 || *z >= size)
    return sl_fail("%s: index %lld is out of range for axis %d of size %lld", op, (long long)i,
                   axis + 1, (long long)size);
  return 0;
}

/* An inclusive 1-based range clamped to the axis, as start/stop/step for
** sl_tensor_slice (stop exclusive, -1 allowed when stepping down); {i}
** alone is the single index i, kept as an axis. */
static int range_resolve(const char *op, int64_t size, const int has[3], const int64_t v[3],
                         int64_t *start, int64_t *stop, int64_t *step, int64_t *len)
{
  int only_first = has[0] && !has[1] && !has[2];
  *step = has[2] ? v[2] : 1;
  if (*step == 0) return sl_fail("%s: a range step must not be 0", op);
  int64_t first = has[0] ? (v[0] < 0 ? v[0] + size : v[0] - 1) : (*step > 0 ? 0 : size - 1);
  int64_t last = only_first ? first
               : has[1] ? (v[1] < 0 ? v[1] + size : v[1] - 1) : (*step > 0 ? size - 1 : 0);
  if (*step > 0) {
    *start = first < 0 ? 0 : first > size ? size : first;
    *stop = last + 1 < *start ? *start : last + 1 > size ? size : last + 1;
    *len = (*stop - *start + *step - 1) / *step;
  } else {
    *start = first < -1 ? -1 : first >= size ? size - 1 : first;
    *stop = last - 1 > *start ? *start : last - 1 < -1 ? -1 : last - 1;
    *len = (*start - *stop - *step - 1) / -*step;
  }
  return 0;
}

/* Static type of x indexed by d (bounds known when constant). */
static int index_infer(const sl_node *n, const index_desc *d, sl_type *out)
{
  const sl_type *x = &n->inputs[0]->type;
  out->dtype = x->dtype;
  out->ndim = 0;
  for (int a = 0; a < x->ndim; a++) {
    int64_t size = x->shape[a];
    if (a >= d->m) { out->shape[out->ndim++] = size; continue; }
    const axis_index *ax = &d->ax[a];
    int64_t v[3];
    int known = 1;
    for (int s = 0; s < 3; s++) {
      v[s] = ax->val[s];
      if (ax->input[s] >= 0 && !known_value(n, ax->input[s], &v[s])) known = 0;
    }
    if (ax->select) {
      int64_t z;
      if (known && size != SL_UNKNOWN && index_check(n->op->name, v[0], size, a, &z)) return -1;
      continue;
    }
    if (known && ax->has[2] && v[2] == 0) return sl_fail("%s: a range step must not be 0", n->op->name);
    if (!ax->has[0] && !ax->has[1] && (!ax->has[2] || (known && v[2] == 1))) {
      out->shape[out->ndim++] = size;   /* the whole axis */
      continue;
    }
    int64_t start, stop, step, len = SL_UNKNOWN;
    if (known && size != SL_UNKNOWN &&
        range_resolve(n->op->name, size, ax->has, v, &start, &stop, &step, &len)) return -1;
    out->shape[out->ndim++] = known && size != SL_UNKNOWN ? len : SL_UNKNOWN;
  }
  return 0;
}

/* The view of t indexed by d with bound values from in[]. The result is a
** new reference (a view of t). */
static sl_tensor *index_view(const sl_node *n, const index_desc *d, sl_tensor *t, sl_tensor **in)
{
  sl_tensor *cur = sl_tensor_view(t, t->ndim, t->shape);
  int dim = 0;
  for (int a = 0; a < d->m && cur; a++) {
    const axis_index *ax = &d->ax[a];
    int64_t v[3];
    for (int s = 0; s < 3; s++) v[s] = ax->input[s] >= 0 ? scalar_of(in[ax->input[s]]) : ax->val[s];
    sl_tensor *next = NULL;
    if (ax->select) {
      int64_t z;
      if (!index_check(n->op->name, v[0], cur->shape[dim], a, &z))
        next = sl_tensor_select(cur, dim, z);
    } else {
      int64_t start, stop, step, len;
      if (!range_resolve(n->op->name, cur->shape[dim], ax->has, v, &start, &stop, &step, &len))
        next = sl_tensor_slice(cur, dim, start, stop, step);
      dim++;
    }
    sl_tensor_release(cur);
    cur = next;
  }
  return cur;
}

/* -- subtensor ------------------------------------------------------------------------ */

static int subtensor_infer(sl_node *n, sl_type *out)
{
  index_desc d;
  if (parse_index(n, 1, &d)) return -1;
  return index_infer(n, &d, out);
}

static sl_tensor *subtensor_view(const sl_node *n, sl_tensor *const *in)
{
  index_desc d;
  if (parse_index(n, 1, &d)) return NULL;
  return index_view(n, &d, in[0], (sl_tensor **)in);
}

static int subtensor_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  sl_tensor *v = subtensor_view(n, in);
  if (!v) return -1;
  out[0] = sl_tensor_clone(v);
  sl_tensor_release(v);
  return out[0] ? 0 : -1;
}

/* -- accumulation: dst += src, in int64 or double ------------------------------------- */

#define CHUNK 256

typedef struct { sl_castfn load_dst, load_src, store; int as_float; size_t esize[2]; } acc_ctx;

static void acc_run(char **p, const int64_t *stride, int64_t n, void *vctx)
{
  acc_ctx *c = vctx;
  union { double f[CHUNK]; int64_t i[CHUNK]; } a, b;
  for (int64_t done = 0; done < n; done += CHUNK) {
    int64_t m = n - done < CHUNK ? n - done : CHUNK;
    char *dp = p[0] + done * stride[0] * (int64_t)c->esize[0];
    c->load_dst(&a, 1, dp, stride[0], m);
    c->load_src(&b, 1, p[1] + done * stride[1] * (int64_t)c->esize[1], stride[1], m);
    if (c->as_float) for (int64_t j = 0; j < m; j++) a.f[j] += b.f[j];
    else for (int64_t j = 0; j < m; j++) a.i[j] = (int64_t)((uint64_t)a.i[j] + (uint64_t)b.i[j]);
    c->store(dp, stride[0], &a, 1, m);
  }
}

/* dst += src (src broadcast to dst's shape, cast to dst's dtype); op names the caller. */
static int accumulate(const char *op, sl_tensor *dst, sl_tensor *src)
{
  sl_tensor *b = sl_tensor_expand(src, dst->ndim, dst->shape);
  if (!b) {
    char sa[128], sb[128];
    sl_shape_text(sa, sizeof sa, src->ndim, src->shape);
    sl_shape_text(sb, sizeof sb, dst->ndim, dst->shape);
    return sl_fail("%s: a value of shape %s does not broadcast to the region's shape %s", op, sa, sb);
  }
  int as_float = sl_dtype_kind(dst->dtype) == 'f';
  sl_dtype dom = as_float ? SL_FLOAT64 : SL_INT64;
  acc_ctx c = { sl_cast_fn(dom, dst->dtype), sl_cast_fn(dom, b->dtype), sl_cast_fn(dst->dtype, dom),
                as_float, { sl_dtype_size(dst->dtype), sl_dtype_size(b->dtype) } };
  char *base[2] = { sl_tensor_ptr(dst), sl_tensor_ptr(b) };
  const int64_t *strides[2] = { dst->strides, b->strides };
  sl_foreach(2, dst->ndim, dst->shape, base, strides, c.esize, acc_run, &c);
  sl_tensor_release(b);
  return 0;
}

/* dst = src or dst += src, with a clear message when src does not fit. */
static int write_region(const char *op, int inc, sl_tensor *dst, sl_tensor *src)
{
  if (inc) return accumulate(op, dst, src);
  int nd;
  int64_t shape[SL_MAXDIM];
  if (src->ndim > dst->ndim || sl_broadcast_shapes(dst->ndim, dst->shape, src->ndim, src->shape, &nd, shape) ||
      memcmp(shape, dst->shape, (size_t)nd * sizeof *shape) != 0) {
    char sa[128], sb[128];
    sl_shape_text(sa, sizeof sa, src->ndim, src->shape);
    sl_shape_text(sb, sizeof sb, dst->ndim, dst->shape);
    return sl_fail("%s: a value of shape %s does not broadcast to the region's shape %s", op, sa, sb);
  }
  return sl_tensor_copy(dst, src);
}

/* Static check that y broadcasts to a region of type r. */
static int check_fits(const sl_node *n, const sl_type *y, const sl_type *r)
{
  int bad = y->ndim > r->ndim;
  for (int i = 0; i < y->ndim && !bad; i++) {
    int64_t ys = y->shape[i], rs = r->shape[r->ndim - y->ndim + i];
    if (ys != SL_UNKNOWN && ys != 1 && rs != SL_UNKNOWN && ys != rs) bad = 1;
  }
  if (!bad) return 0;
  char a[128], b[128];
  sl_type_text(y, a, sizeof a);
  sl_type_text(r, b, sizeof b);
  return sl_fail("%s: a value of type %s does not broadcast to the region's type %s",
                 n->op->name, a, b);
}

static int is_inc(const sl_node *n) { return n->op == &sl_op_inc_subtensor || n->op == &sl_op_inc_take; }

/* -- set_subtensor, inc_subtensor: (x, y, bounds...) -------------------------------------- */

static int update_infer(sl_node *n, sl_type *out)
{
  index_desc d;
  sl_type region;
  if (n->nin < 2) return sl_fail("%s takes x, y and the index bounds", n->op->name);
  if (parse_index(n, 2, &d) || index_infer(n, &d, &region)) return -1;
  if (check_fits(n, &n->inputs[1]->type, &region)) return -1;
  *out = n->inputs[0]->type;
  return 0;
}

static int update_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  index_desc d;
  if (parse_index(n, 2, &d)) return -1;
  out[0] = sl_tensor_clone(in[0]);
  if (!out[0]) return -1;
  sl_tensor *v = index_view(n, &d, out[0], in);
  if (!v) return -1;
  int rc = write_region(n->op->name, is_inc(n), v, in[1]);
  sl_tensor_release(v);
  return rc;
}

/* -- take: (x, indices), params v[0] = axis or -1 (flattened x) ------------------------------ */

static int check_indices(const sl_node *n, int i)
{
  const sl_type *ty = &n->inputs[i]->type;
  if (is_int_dtype(ty->dtype)) return 0;
  return sl_fail("%s: indices must be integers, got %s", n->op->name, sl_dtype_name(ty->dtype));
}

/* v[0] = -1 (or no params): take from x flattened, as NumPy's axis=None */
static int take_axis(const sl_node *n, int ndim, int *axis)
{
  int64_t a = n->params.n > 0 ? n->params.v[0] : -1;
  if (a < -1 || a >= ndim)
    return sl_fail("%s: axis %lld is out of range for a %d-d variable", n->op->name,
                   (long long)a + 1, ndim);
  *axis = (int)a;
  return 0;
}

/* Type of take(x, ind, axis): x's axes with `axis` replaced by ind's. */
static int take_type(const sl_node *n, const sl_type *x, const sl_type *ind, int axis, sl_type *out)
{
  sl_type flat = { x->dtype, 1, { SL_UNKNOWN } };
  if (axis < 0) {   /* flattened */
    int64_t num = 1;
    for (int i = 0; i < x->ndim; i++)
      num = x->shape[i] == SL_UNKNOWN || num == SL_UNKNOWN ? SL_UNKNOWN : num * x->shape[i];
    flat.shape[0] = num;
    x = &flat;
    axis = 0;
  }
  if (x->ndim - 1 + ind->ndim > SL_MAXDIM)
    return sl_fail("%s: the result would have more than %d axes", n->op->name, SL_MAXDIM);
  out->dtype = x->dtype;
  out->ndim = 0;
  for (int i = 0; i < axis; i++) out->shape[out->ndim++] = x->shape[i];
  for (int i = 0; i < ind->ndim; i++) out->shape[out->ndim++] = ind->shape[i];
  for (int i = axis + 1; i < x->ndim; i++) out->shape[out->ndim++] = x->shape[i];
  return 0;
}

static int take_infer(sl_node *n, sl_type *out)
{
  int axis = -1;
  if (check_indices(n, 1) || take_axis(n, n->inputs[0]->type.ndim, &axis)) return -1;
  return take_type(n, &n->inputs[0]->type, &n->inputs[1]->type, axis, out);
}

/* Index values as a contiguous int64 array, checked and made 0-based. */
static sl_tensor *zero_based(const sl_node *n, sl_tensor *ind, int64_t size, int axis)
{
  sl_tensor *z = sl_tensor_cast(ind, SL_INT64);
  if (!z) return NULL;
  int64_t *p = sl_tensor_ptr(z);
  for (int64_t j = 0, m = sl_tensor_numel(z); j < m; j++)
    if (index_check(n->op->name, p[j], size, axis, &p[j])) { sl_tensor_release(z); return NULL; }
  return z;
}

/* x flattened when axis < 0 (a copy), else x retained. */
static sl_tensor *take_source(sl_tensor *x, int *axis)
{
  if (*axis >= 0) { sl_tensor_retain(x); return x; }
  *axis = 0;
  int64_t num = sl_tensor_numel(x);
  return sl_tensor_reshape(x, 1, &num);
}

/* Visit each index j of take: the slab of x at idx[j] along axis, and slab
** j of r, a view of the result (or update) with ind's axes collapsed. */
typedef int (*slab_fn)(const char *op, sl_tensor *xs, sl_tensor *rs, void *ctx);

static int each_slab(const sl_node *n, sl_tensor *x, int axis, const sl_tensor *z, sl_tensor *r,
                     slab_fn fn, void *ctx)
{
  int64_t m = sl_tensor_numel(z), shape[SL_MAXDIM];
  const int64_t *p = sl_tensor_ptr(z);
  int nd = 0;
  for (int i = 0; i < axis; i++) shape[nd++] = x->shape[i];
  shape[nd++] = m;
  for (int i = axis + 1; i < x->ndim; i++) shape[nd++] = x->shape[i];
  sl_tensor *rv = sl_tensor_view(r, nd, shape);   /* r is contiguous: a view always exists */
  if (!rv) return -1;
  int rc = 0;
  for (int64_t j = 0; j < m && !rc; j++) {
    sl_tensor *xs = sl_tensor_select(x, axis, p[j]), *rs = sl_tensor_select(rv, axis, j);
    rc = xs && rs ? fn(n->op->name, xs, rs, ctx) : -1;
    sl_tensor_release(xs);
    sl_tensor_release(rs);
  }
  sl_tensor_release(rv);
  return rc;
}

static int slab_read(const char *op, sl_tensor *xs, sl_tensor *rs, void *ctx)
{
  (void)op; (void)ctx;
  return sl_tensor_copy(rs, xs);
}

static int take_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int axis = -1;
  if (take_axis(n, in[0]->ndim, &axis)) return -1;
  int flat = axis < 0;
  sl_tensor *x = take_source(in[0], &axis);
  if (!x) return -1;
  sl_tensor *z = zero_based(n, in[1], x->shape[axis], flat ? -1 : axis);
  int rc = -1;
  if (z) {
    sl_type xt, it, ot;
    sl_type_of_tensor(x, &xt);
    sl_type_of_tensor(in[1], &it);
    if (!take_type(n, &xt, &it, axis, &ot) && (out[0] = sl_tensor_empty(x->dtype, ot.ndim, ot.shape)))
      rc = each_slab(n, x, axis, z, out[0], slab_read, NULL);
  }
  sl_tensor_release(z);
  sl_tensor_release(x);
  return rc;
}

/* -- set_take, inc_take: (x, y, indices) — inc accumulates repeated indices ----------------- */

static int take_update_infer(sl_node *n, sl_type *out)
{
  int axis = -1;
  sl_type region;
  if (check_indices(n, 2) || take_axis(n, n->inputs[0]->type.ndim, &axis)) return -1;
  if (take_type(n, &n->inputs[0]->type, &n->inputs[2]->type, axis, &region)) return -1;
  if (check_fits(n, &n->inputs[1]->type, &region)) return -1;
  *out = n->inputs[0]->type;
  return 0;
}

static int slab_write(const char *op, sl_tensor *xs, sl_tensor *ys, void *ctx)
{
  return write_region(op, *(int *)ctx, xs, ys);
}

static int take_update_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int axis = -1, inc = is_inc(n);
  if (take_axis(n, in[0]->ndim, &axis)) return -1;
  int flat = axis < 0;
  out[0] = sl_tensor_clone(in[0]);   /* contiguous, so a flat view shares its data */
  if (!out[0]) return -1;
  sl_tensor *x = take_source(out[0], &axis);
  if (!x) return -1;
  sl_tensor *z = zero_based(n, in[2], x->shape[axis], flat ? -1 : axis), *y = NULL;
  int rc = -1;
  if (z) {
    sl_type xt, it, rt;
    sl_type_of_tensor(x, &xt);
    sl_type_of_tensor(in[2], &it);
    /* y broadcast to the whole region, then made contiguous so slabs are views of it */
    sl_tensor *e = NULL;
    if (!take_type(n, &xt, &it, axis, &rt)) {
      e = sl_tensor_expand(in[1], rt.ndim, rt.shape);
      if (!e) {
        char sa[128], sb[128];
        sl_shape_text(sa, sizeof sa, in[1]->ndim, in[1]->shape);
        sl_shape_text(sb, sizeof sb, rt.ndim, rt.shape);
        sl_fail("%s: a value of shape %s does not broadcast to the region's shape %s", n->op->name,
                sa, sb);
      }
    }
    if (e) y = sl_tensor_clone(e);
    sl_tensor_release(e);
    if (y) rc = each_slab(n, x, axis, z, y, slab_write, &inc);
  }
  sl_tensor_release(y);
  sl_tensor_release(z);
  sl_tensor_release(x);
  return rc;
}

/* -- gather: (x, indices), params v[0] = axis; out[i][j] = x[i][ind[i][j]] on axis 1 ---------- */

static int gather_infer(sl_node *n, sl_type *out)
{
  const sl_type *x = &n->inputs[0]->type, *ind = &n->inputs[1]->type;
  if (check_indices(n, 1)) return -1;
  if (n->params.n < 1 || n->params.v[0] < 0 || n->params.v[0] >= x->ndim)
    return sl_fail("gather: axis %lld is out of range for a %d-d variable",
                   n->params.n < 1 ? 0LL : (long long)n->params.v[0] + 1, x->ndim);
  char a[128], b[128];
  sl_type_text(x, a, sizeof a);
  sl_type_text(ind, b, sizeof b);
  if (ind->ndim != x->ndim)
    return sl_fail("gather: indices %s must have as many axes as x %s", b, a);
  for (int i = 0; i < x->ndim; i++)
    if (i != n->params.v[0] && x->shape[i] != SL_UNKNOWN && ind->shape[i] != SL_UNKNOWN &&
        ind->shape[i] > x->shape[i])
      return sl_fail("gather: indices %s exceed x %s in axis %d", b, a, i + 1);
  *out = *ind;
  out->dtype = x->dtype;
  return 0;
}

static int gather_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  sl_tensor *x = in[0];
  int axis = (int)n->params.v[0];
  for (int i = 0; i < x->ndim; i++)
    if (i != axis && in[1]->shape[i] > x->shape[i]) {
      char a[128], b[128];
      sl_shape_text(a, sizeof a, x->ndim, x->shape);
      sl_shape_text(b, sizeof b, in[1]->ndim, in[1]->shape);
      return sl_fail("gather: indices of shape %s exceed x of shape %s in axis %d", b, a, i + 1);
    }
  sl_tensor *z = zero_based(n, in[1], x->shape[axis], axis);
  if (!z) return -1;
  out[0] = sl_tensor_empty(x->dtype, z->ndim, z->shape);
  if (!out[0]) { sl_tensor_release(z); return -1; }
  /* both z and out are contiguous: walk them in C order with a counter */
  size_t es = sl_dtype_size(x->dtype);
  const int64_t *p = sl_tensor_ptr(z);
  char *dst = sl_tensor_ptr(out[0]);
  const char *src = sl_tensor_ptr(x);
  int64_t idx[SL_MAXDIM] = { 0 }, m = sl_tensor_numel(z);
  for (int64_t j = 0; j < m; j++) {
    int64_t off = 0;
    for (int i = 0; i < x->ndim; i++) off += (i == axis ? p[j] : idx[i]) * x->strides[i];
    memcpy(dst + (size_t)j * es, src + off * (int64_t)es, es);
    for (int i = z->ndim - 1; i >= 0 && ++idx[i] == z->shape[i]; i--) idx[i] = 0;
  }
  sl_tensor_release(z);
  return 0;
}

/* -- arange: (start, stop, step), params.dtype the result's --------------------------------- */

static int64_t arange_len(double start, double stop, double step)
{
  double len = ceil((stop - start) / step);
  return len > 0 ? (int64_t)len : 0;
}

static int arange_infer(sl_node *n, sl_type *out)
{
  static const char *const what[] = { "start", "stop", "step" };
  double v[3];
  int known = 1;
  for (int i = 0; i < 3; i++) {
    const sl_var *in = n->inputs[i];
    if (in->type.ndim != 0 || in->type.dtype == SL_BOOL) {
      char t[128];
      sl_type_text(&in->type, t, sizeof t);
      return sl_fail("arange: %s must be a number scalar, got %s", what[i], t);
    }
    if (in->kind == SL_VAR_CONSTANT && in->value) v[i] = sl_tensor_get(in->value, NULL);
    else known = 0;
  }
  if (known && v[2] == 0) return sl_fail("arange: step must not be 0");
  if ((unsigned)n->params.dtype >= SL_NDTYPES || n->params.dtype == SL_BOOL)
    return sl_fail("arange: invalid result dtype");
  out->dtype = n->params.dtype;
  out->ndim = 1;
  out->shape[0] = known ? arange_len(v[0], v[1], v[2]) : SL_UNKNOWN;
  return 0;
}

static int arange_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  double start = sl_tensor_get(in[0], NULL), stop = sl_tensor_get(in[1], NULL);
  double step = sl_tensor_get(in[2], NULL);
  if (step == 0) return sl_fail("arange: step must not be 0");
  int64_t len = arange_len(start, stop, step);
  out[0] = sl_tensor_empty(n->params.dtype, 1, &len);
  if (!out[0]) return -1;
  /* computed as start + i * step in double, then stored in the result dtype */
  for (int64_t i = 0; i < len; i++) sl_tensor_set(out[0], &i, start + (double)i * step);
  return 0;
}

/* -- alloc: (value, sizes...), params.v per axis a size or -1 (the next input) --------------- */

static int alloc_infer(sl_node *n, sl_type *out)
{
  const sl_params *p = &n->params;
  if (p->n > SL_MAXDIM) return sl_fail("alloc: at most %d axes", SL_MAXDIM);
  int in = 1;
  out->dtype = n->inputs[0]->type.dtype;
  out->ndim = p->n;
  for (int i = 0; i < p->n; i++) {
    if (p->v[i] >= 0) { out->shape[i] = p->v[i]; continue; }
    if (p->v[i] != -1) return sl_fail("alloc: invalid size %lld", (long long)p->v[i]);
    if (in >= n->nin) return sl_fail("alloc: fewer size inputs than the shape uses");
    if (check_int_scalar(n, in, "a size")) return -1;
    int64_t s;
    out->shape[i] = known_value(n, in, &s) ? s : SL_UNKNOWN;
    if (out->shape[i] < SL_UNKNOWN) return sl_fail("alloc: negative size %lld", (long long)s);
    in++;
  }
  if (in != n->nin) return sl_fail("alloc: %d size inputs given but the shape uses %d", n->nin - 1, in - 1);
  return check_fits(n, &n->inputs[0]->type, out);
}

static int alloc_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int64_t shape[SL_MAXDIM];
  for (int i = 0, k = 1; i < n->params.n; i++) {
    shape[i] = n->params.v[i] >= 0 ? n->params.v[i] : scalar_of(in[k++]);
    if (shape[i] < 0) return sl_fail("alloc: negative size %lld for axis %d", (long long)shape[i], i + 1);
  }
  out[0] = sl_tensor_empty(in[0]->dtype, n->params.n, shape);
  if (!out[0]) return -1;
  return write_region(n->op->name, 0, out[0], in[0]);
}

/* -- shape, shape_i --------------------------------------------------------------------------- */

static int shape_infer(sl_node *n, sl_type *out)
{
  out->dtype = SL_INT64;
  out->ndim = 1;
  out->shape[0] = n->inputs[0]->type.ndim;
  return 0;
}

static int shape_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  (void)n;
  int64_t nd = in[0]->ndim;
  out[0] = sl_tensor_empty(SL_INT64, 1, &nd);
  if (!out[0]) return -1;
  memcpy(sl_tensor_ptr(out[0]), in[0]->shape, (size_t)nd * sizeof(int64_t));
  return 0;
}

static int shape_i_infer(sl_node *n, sl_type *out)
{
  int nd = n->inputs[0]->type.ndim;
  if (n->params.n < 1 || n->params.v[0] < 0 || n->params.v[0] >= nd)
    return sl_fail("shape_i: axis %lld is out of range for a %d-d variable",
                   n->params.n < 1 ? 0LL : (long long)n->params.v[0] + 1, nd);
  out->dtype = SL_INT64;
  out->ndim = 0;
  return 0;
}

static int shape_i_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  out[0] = sl_tensor_full(SL_INT64, 0, NULL, (double)in[0]->shape[n->params.v[0]]);
  return out[0] ? 0 : -1;
}

/* -- the table -------------------------------------------------------------------------------- */

const sl_op sl_op_subtensor = { .name = "subtensor", .nin = -1, .nout = 1, .infer = subtensor_infer, .perform = subtensor_perform, .view = subtensor_view, .flags = SL_OP_COMPLEX | SL_OP_MOVES, .size = SL_SIZE_SUBTENSOR };
const sl_op sl_op_set_subtensor = { .name = "set_subtensor", .nin = -1, .nout = 1, .infer = update_infer, .perform = update_perform, .size = SL_SIZE_OF_FIRST };
const sl_op sl_op_inc_subtensor = { .name = "inc_subtensor", .nin = -1, .nout = 1, .infer = update_infer, .perform = update_perform, .size = SL_SIZE_OF_FIRST };
const sl_op sl_op_take = { .name = "take", .nin = 2, .nout = 1, .infer = take_infer, .perform = take_perform, .flags = SL_OP_COMPLEX | SL_OP_MOVES, .size = SL_SIZE_TAKE };
const sl_op sl_op_set_take = { .name = "set_take", .nin = 3, .nout = 1, .infer = take_update_infer, .perform = take_update_perform, .size = SL_SIZE_OF_FIRST };
const sl_op sl_op_inc_take = { .name = "inc_take", .nin = 3, .nout = 1, .infer = take_update_infer, .perform = take_update_perform, .size = SL_SIZE_OF_FIRST };
const sl_op sl_op_gather = { .name = "gather", .nin = 2, .nout = 1, .infer = gather_infer, .perform = gather_perform, .flags = SL_OP_COMPLEX | SL_OP_MOVES, .size = SL_SIZE_GATHER };
const sl_op sl_op_arange = { .name = "arange", .nin = 3, .nout = 1, .infer = arange_infer, .perform = arange_perform, .size = SL_SIZE_ARANGE };
const sl_op sl_op_alloc = { .name = "alloc", .nin = -1, .nout = 1, .infer = alloc_infer, .perform = alloc_perform, .size = SL_SIZE_ALLOC };
const sl_op sl_op_shape = { .name = "shape", .nin = 1, .nout = 1, .infer = shape_infer, .perform = shape_perform, .flags = SL_OP_COMPLEX | SL_OP_MOVES };
const sl_op sl_op_shape_i = { .name = "shape_i", .nin = 1, .nout = 1, .infer = shape_i_infer, .perform = shape_i_perform, .flags = SL_OP_COMPLEX | SL_OP_MOVES };
