/*
** shape.c — ops that move elements without computing on them: reshape,
** flatten, dimshuffle, concatenate, stack, narrow, repeat and tile.
**
** Each op infers its static shape from its inputs' static shapes, reporting
** any conflict those already show, and has a reference kernel built on the
** tensor view API. The kernels always return fresh contiguous tensors, even
** where a view would do (reshape of a contiguous input, dimshuffle): an
** output never shares storage with an input, so later passes can reuse or
** write buffers freely; turning pure views into views is left to the
** inplace/view rewrites.
**
** Params (sl_params.v), axes 0-based:
**   reshape      v[0..n-1] target sizes: >= 0, RS_INFER (one at most), or
**                RS_DYN: taken in order from inputs 2.. (integer scalars fill
**                one entry each, integer vectors of static length k fill k)
**   flatten      v[0] the number of output axes (>= 1)
**   dimshuffle   v[0..n-1] the input axis of each output axis, or -1 ('x')
**   concatenate  v[0] axis            stack  v[0] axis of the new dimension
**   narrow       v[0] axis, v[1] start, v[2] length, v[3] the size the axis
**                must have at run time, or -1 (split uses it to check that
**                its parts cover the axis)
**   repeat       v[0] repeats, v[1] axis
**   tile         v[0..n-1] repetitions per axis, aligned to the last axes
*/
#include <stdio.h>
#include <string.h>

#include "rows.h"

#define RS_INFER (-1)
#define RS_DYN   (-2)
#define RS_LATER (-3)   /* a dynamic entry whose value is not known yet */

/* -- helpers ------------------------------------------------------------------ */

static const char *type_str(const sl_type *ty, char *buf, size_t n)
{
  sl_type_text(ty, buf, n);
  return buf;
}

static const char *tensor_str(const sl_tensor *t, char *buf, size_t n)
{
  sl_type ty;
  sl_type_of_tensor(t, &ty);
  return type_str(&ty, buf, n);
}

/* A new contiguous tensor with src's contents; releases src (a view). */
static int fresh_from_view(sl_tensor *src, sl_tensor **out)
{
  if (!src) return -1;
  *out = sl_tensor_clone(src);
  sl_tensor_release(src);
  return *out ? 0 : -1;
}

/* A new tensor of shape (nd, shape) holding in's elements in C order. */
static int copy_reshaped(sl_tensor *in, int nd, const int64_t *shape, sl_tensor **out)
{
  *out = sl_tensor_empty(in->dtype, nd, shape);
  if (!*out) return -1;
  sl_tensor *dst = sl_tensor_view(*out, in->ndim, in->shape);
  int rc = dst ? sl_tensor_copy(dst, in) : -1;
  sl_tensor_release(dst);
  return rc;
}

static int check_axis(const sl_node *n, int64_t axis, int nd)
{
  if (axis < 0 || axis >= nd)
    return sl_fail("%s: axis %lld is out of range for %d-d input", n->op->name,
                   (long long)axis + 1, nd);
  return 0;
}


/* Merge static size b into a: unknown takes the known one; -1 on conflict. */
static int merge_size(int64_t *a, int64_t b)
{
  if (*a == SL_UNKNOWN) { *a = b; return 0; }
  return b == SL_UNKNOWN || b == *a ? 0 : -1;
}

/* -- reshape -------------------------------------------------------------------- */

static void entries_text(char *buf, size_t n, int nd, const int64_t *e)
{
  size_t k = (size_t)snprintf(buf, n, "(");
  for (int i = 0; i < nd && k < n; i++) {
    const char *sep = i ? ", " : "";
    if (e[i] == RS_LATER) k += (size_t)snprintf(buf + k, n - k, "%s?", sep);
    else k += (size_t)snprintf(buf + k, n - k, "%s%lld", sep, (long long)e[i]);
  }
  if (k < n) snprintf(buf + k, n - k, nd == 1 ? ",)" : ")");
}

/* How many dynamic entries shape input k holds. */
static int64_t shape_input_len(const sl_node *n, int k)
{
  const sl_type *t = &n->inputs[k]->type;
  return t->ndim ? t->shape[0] : 1;
}

/* The target entries: params with the dynamic ones filled from the shape
** inputs' values, where those are known (always at run time; at build time
** only for constants). */
static void reshape_entries(const sl_node *n, sl_tensor *const *in, int64_t *e)
{
  int k = 1;
  int64_t pos = 0;
  for (int i = 0; i < n->params.n; i++) {
    e[i] = n->params.v[i];
    if (e[i] != RS_DYN) continue;
    while (pos >= shape_input_len(n, k)) { k++; pos = 0; }
    const sl_var *s = n->inputs[k];
    sl_tensor *t = in ? in[k] : s->kind == SL_VAR_CONSTANT ? s->value : NULL;
    e[i] = t ? (int64_t)sl_tensor_get(t, &pos) : RS_LATER;
    pos++;
  }
}

/* Resolve entries against numel (SL_UNKNOWN when not known) into out. */
static int reshape_resolve(const char *from, int64_t numel, int nd,
                           const int64_t *e, int64_t *out)
{
  char want[256];
  int infer = -1, later = 0;
  int64_t prod = 1;
  for (int i = 0; i < nd; i++) {
    if (e[i] == RS_LATER) { later = 1; continue; }
    if (e[i] == RS_INFER) {
      if (infer >= 0) {
        entries_text(want, sizeof want, nd, e);
        return sl_fail("reshape: only one size may be -1, got %s", want);
      }
      infer = i;
      continue;
    }
    if (e[i] < 0) {
      entries_text(want, sizeof want, nd, e);
      return sl_fail("reshape: invalid size %lld in shape %s", (long long)e[i], want);
    }
    if ((prod = sl_numel_mul(prod, e[i])) < 0) {
      entries_text(want, sizeof want, nd, e);
      return sl_fail("reshape: shape %s has more than the 2^60 - 1 elements a tensor can hold", want);
    }
  }
  for (int i = 0; i < nd; i++) out[i] = e[i] >= 0 ? e[i] : SL_UNKNOWN;
  if (numel == SL_UNKNOWN) return 0;
  entries_text(want, sizeof want, nd, e);
  if (infer >= 0) {
    if (later) return 0;
    if (prod == 0 || numel % prod)
      return sl_fail("reshape: cannot reshape %s (%lld elements) into shape %s: the size "
                     "for -1 %s", from, (long long)numel, want,
                     prod == 0 ? "is ambiguous next to a size 0" : "is not a whole number");
    out[infer] = numel / prod;
    return 0;
  }
  if (!later && prod != numel)
    return sl_fail("reshape: cannot reshape %s (%lld elements) into shape %s (%lld elements)",
                   from, (long long)numel, want, (long long)prod);
  if (later && (prod == 0 ? numel != 0 : numel % prod))
    return sl_fail("reshape: cannot reshape %s (%lld elements) into shape %s: the known "
                   "sizes do not divide the element count", from, (long long)numel, want);
  return 0;
}

static int64_t type_numel(const sl_type *ty)
{
  int64_t m = 1;
  for (int i = 0; i < ty->ndim; i++) {
    if (ty->shape[i] == SL_UNKNOWN) return SL_UNKNOWN;
    m *= ty->shape[i];
  }
  return m;
}

static int reshape_infer(sl_node *n, sl_type *out)
{
  char a[256];
  int nd = n->params.n, dyn = 0;
  if (n->nin < 1) return sl_fail("reshape: no input");
  if (nd > SL_MAXDIM) return sl_fail("reshape: at most %d dimensions, got %d", SL_MAXDIM, nd);
  for (int i = 0; i < nd; i++) dyn += n->params.v[i] == RS_DYN;
  int64_t given = 0;
  for (int k = 1; k < n->nin; k++) {
    const sl_type *t = &n->inputs[k]->type;
    char kind = sl_dtype_kind(t->dtype);
    if ((kind != 'i' && kind != 'u') || t->ndim > 1)
      return sl_fail("reshape: shape input %d must be an integer scalar or vector, got %s",
                     k, type_str(t, a, sizeof a));
    if (t->ndim == 1 && t->shape[0] == SL_UNKNOWN)
      return sl_fail("reshape: shape input %d is a vector of unknown length, so the number "
                     "of dimensions is not known (give it a static length)", k);
    given += shape_input_len(n, k);
  }
  if (given != dyn)
    return sl_fail("reshape: %d symbolic shape entr%s but the shape inputs hold %lld",
                   dyn, dyn == 1 ? "y" : "ies", (long long)given);
  int64_t e[SL_MAXDIM];
  reshape_entries(n, NULL, e);
  const sl_type *x = &n->inputs[0]->type;
  out->dtype = x->dtype;
  out->ndim = nd;
  return reshape_resolve(type_str(x, a, sizeof a), type_numel(x), nd, e, out->shape);
}

static int reshape_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  char a[256];
  int64_t e[SL_MAXDIM], shape[SL_MAXDIM];
  reshape_entries(n, in, e);
  if (reshape_resolve(tensor_str(in[0], a, sizeof a), sl_tensor_numel(in[0]),
                      n->params.n, e, shape))
    return -1;
  return copy_reshaped(in[0], n->params.n, shape, out);
}

/* A contiguous input's elements are already in C order: the result is a
** view of them (data_parallel's flattened gradients and the split bucket's
** pieces, a copy each otherwise). Any other input is copied: its view would
** need strides that no reshape of a strided layout has in general. */
static sl_tensor *reshape_view(const sl_node *n, sl_tensor *const *in)
{
  char a[256];
  int64_t e[SL_MAXDIM], shape[SL_MAXDIM];
  sl_tensor *out = NULL;
  reshape_entries(n, in, e);
  if (reshape_resolve(tensor_str(in[0], a, sizeof a), sl_tensor_numel(in[0]), n->params.n, e, shape))
    return NULL;
  if (sl_tensor_is_contiguous(in[0])) return sl_tensor_view(in[0], n->params.n, shape);
  if (copy_reshaped(in[0], n->params.n, shape, &out) == 0) return out;
  sl_tensor_release(out);
  return NULL;
}

/* -- flatten ---------------------------------------------------------------------- */

/* The output shape: the first outdim-1 axes kept, the rest multiplied. */
static int flatten_shape(const sl_node *n, int nd, const int64_t *in, int64_t *out)
{
  int64_t outdim = n->params.v[0];
  if (n->params.n < 1 || outdim < 1 || outdim > (nd > 1 ? nd : 1))
    return sl_fail("flatten: ndim must be between 1 and %d for a %d-d input, got %lld",
                   nd > 1 ? nd : 1, nd, (long long)outdim);
  int keep = (int)outdim - 1;
  int64_t last = 1;
  for (int i = 0; i < keep; i++) out[i] = in[i];
  for (int i = keep; i < nd; i++) {
    if (in[i] == SL_UNKNOWN || last == SL_UNKNOWN) last = SL_UNKNOWN;
    else last *= in[i];
  }
  out[keep] = last;
  return 0;
}

static int flatten_infer(sl_node *n, sl_type *out)
{
  const sl_type *x = &n->inputs[0]->type;
  out->dtype = x->dtype;
  out->ndim = (int)n->params.v[0];
  return flatten_shape(n, x->ndim, x->shape, out->shape);
}

static int flatten_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int64_t shape[SL_MAXDIM];
  if (flatten_shape(n, in[0]->ndim, in[0]->shape, shape)) return -1;
  return copy_reshaped(in[0], (int)n->params.v[0], shape, out);
}

/* -- dimshuffle ------------------------------------------------------------------- */

static void pattern_text(char *buf, size_t n, const sl_params *p)
{
  size_t k = (size_t)snprintf(buf, n, "(");
  for (int i = 0; i < p->n && k < n; i++) {
    const char *sep = i ? ", " : "";
    if (p->v[i] < 0) k += (size_t)snprintf(buf + k, n - k, "%s'x'", sep);
    else k += (size_t)snprintf(buf + k, n - k, "%s%lld", sep, (long long)p->v[i] + 1);
  }
  if (k < n) snprintf(buf + k, n - k, ")");
}

/* Checks the pattern against an input shape; fills used[] per input axis. */
static int dimshuffle_check(const sl_node *n, const sl_type *x, int *used)
{
  char pat[256], a[256];
  const sl_params *p = &n->params;
  if (p->n > SL_MAXDIM)
    return sl_fail("dimshuffle: at most %d dimensions, got %d", SL_MAXDIM, p->n);
  pattern_text(pat, sizeof pat, p);
  for (int i = 0; i < x->ndim; i++) used[i] = 0;
  for (int i = 0; i < p->n; i++) {
    int64_t ax = p->v[i];
    if (ax < -1 || ax >= x->ndim)
      return sl_fail("dimshuffle: pattern %s names axis %lld, but the input %s has %d",
                     pat, (long long)ax + 1, type_str(x, a, sizeof a), x->ndim);
    if (ax < 0) continue;
    if (used[ax]++)
      return sl_fail("dimshuffle: pattern %s names axis %lld twice", pat, (long long)ax + 1);
  }
  for (int i = 0; i < x->ndim; i++)
    if (!used[i] && x->shape[i] != 1)
      return sl_fail("dimshuffle: pattern %s drops axis %d of %s, whose size is %s; only "
                     "axes of size 1 can be dropped", pat, i + 1, type_str(x, a, sizeof a),
                     x->shape[i] == SL_UNKNOWN ? "not known to be 1" : "not 1");
  return 0;
}

static int dimshuffle_infer(sl_node *n, sl_type *out)
{
  const sl_type *x = &n->inputs[0]->type;
  int used[SL_MAXDIM];
  if (dimshuffle_check(n, x, used)) return -1;
  out->dtype = x->dtype;
  out->ndim = n->params.n;
  for (int i = 0; i < n->params.n; i++)
    out->shape[i] = n->params.v[i] < 0 ? 1 : x->shape[n->params.v[i]];
  return 0;
}

static sl_tensor *dimshuffle_view(const sl_node *n, sl_tensor *const *in)
{
  sl_type ty;
  int used[SL_MAXDIM];
  sl_type_of_tensor(in[0], &ty);
  if (dimshuffle_check(n, &ty, used)) return NULL;
  int64_t shape[SL_MAXDIM], strides[SL_MAXDIM];
  for (int i = 0; i < n->params.n; i++) {
    int64_t ax = n->params.v[i];
    shape[i] = ax < 0 ? 1 : in[0]->shape[ax];
    strides[i] = ax < 0 ? 0 : in[0]->strides[ax];
  }
  return sl_tensor_over(in[0]->storage, in[0]->dtype, in[0]->offset, n->params.n, shape, strides);
}

static int dimshuffle_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  return fresh_from_view(dimshuffle_view(n, in), out);
}

/* -- concatenate and stack ------------------------------------------------------------ */

/* Checks that the inputs agree in rank and in every axis but `skip` (-1:
** none), and gives their common static shape. */
static int join_shapes(const sl_node *n, int skip, sl_type *common)
{
  char a[256], b[256];
  if (n->nin < 1) return sl_fail("%s: needs at least one input", n->op->name);
  const sl_type *first = &n->inputs[0]->type;
  *common = *first;
  for (int k = 1; k < n->nin; k++) {
    const sl_type *t = &n->inputs[k]->type;
    if (t->ndim != first->ndim)
      return sl_fail("%s: input %d is %s but input 1 is %s: the ranks differ", n->op->name,
                     k + 1, type_str(t, a, sizeof a), type_str(first, b, sizeof b));
    for (int d = 0; d < t->ndim; d++) {
      if (d == skip || !merge_size(&common->shape[d], t->shape[d])) continue;
      if (skip >= 0)
        return sl_fail("%s: input %d is %s but input 1 is %s: they differ in dimension %d "
                       "(only dimension %d, the concatenation axis, may differ)", n->op->name,
                       k + 1, type_str(t, a, sizeof a), type_str(first, b, sizeof b), d + 1,
                       skip + 1);
      return sl_fail("%s: input %d is %s but input 1 is %s: stacked inputs must have one "
                     "shape", n->op->name, k + 1, type_str(t, a, sizeof a),
                     type_str(first, b, sizeof b));
    }
  }
  return 0;
}

static int concat_infer(sl_node *n, sl_type *out)
{
  if (n->nin < 1) return sl_fail("concatenate: needs at least one input");
  int nd = n->inputs[0]->type.ndim;
  if (nd == 0) return sl_fail("concatenate: 0-d inputs cannot be concatenated (use stack)");
  if (check_axis(n, n->params.v[0], nd)) return -1;
  int axis = (int)n->params.v[0];
  if (join_shapes(n, axis, out)) return -1;
  int64_t total = 0;
  for (int k = 0; k < n->nin && total != SL_UNKNOWN; k++) {
    int64_t s = n->inputs[k]->type.shape[axis];
    total = s == SL_UNKNOWN ? SL_UNKNOWN : total + s;
  }
  out->shape[axis] = total;
  out->dtype = sl_promote_inputs(n, 0);
  return 0;
}

/* Run-time twin of join_shapes on the tensors. */
static int join_check(const sl_node *n, sl_tensor **in, int skip)
{
  char a[256], b[256];
  for (int k = 1; k < n->nin; k++) {
    int bad = in[k]->ndim != in[0]->ndim;
    for (int d = 0; d < in[0]->ndim && !bad; d++)
      bad = d != skip && in[k]->shape[d] != in[0]->shape[d];
    if (bad)
      return sl_fail("%s: input %d is %s but input 1 is %s%s", n->op->name, k + 1,
                     tensor_str(in[k], a, sizeof a), tensor_str(in[0], b, sizeof b),
                     skip >= 0 ? ": they may differ only in the concatenation axis" : "");
  }
  return 0;
}

static int concat_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int axis = (int)n->params.v[0];
  if (join_check(n, in, axis)) return -1;
  int64_t shape[SL_MAXDIM];
  memcpy(shape, in[0]->shape, sizeof shape);
  shape[axis] = 0;
  for (int k = 0; k < n->nin; k++) shape[axis] += in[k]->shape[axis];
  *out = sl_tensor_empty(n->outputs[0].type.dtype, in[0]->ndim, shape);
  if (!*out) return -1;
  int64_t at = 0;
  for (int k = 0; k < n->nin; k++) {
    int64_t s = in[k]->shape[axis];
    sl_tensor *dst = sl_tensor_slice(*out, axis, at, at + s, 1);
    int rc = dst ? sl_tensor_copy(dst, in[k]) : -1;
    sl_tensor_release(dst);
    if (rc) return -1;
    at += s;
  }
  return 0;
}

static int stack_infer(sl_node *n, sl_type *out)
{
  sl_type common;
  if (join_shapes(n, -1, &common)) return -1;
  int nd = common.ndim, axis = (int)n->params.v[0];
  if (nd + 1 > SL_MAXDIM) return sl_fail("stack: the result would have more than %d dimensions", SL_MAXDIM);
  if (check_axis(n, axis, nd + 1)) return -1;
  out->dtype = sl_promote_inputs(n, 0);
  out->ndim = nd + 1;
  for (int d = 0, j = 0; d <= nd; d++) out->shape[d] = d == axis ? n->nin : common.shape[j++];
  return 0;
}

static int stack_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int axis = (int)n->params.v[0], nd = in[0]->ndim;
  if (join_check(n, in, -1)) return -1;
  int64_t shape[SL_MAXDIM];
  for (int d = 0, j = 0; d <= nd; d++) shape[d] = d == axis ? n->nin : in[0]->shape[j++];
  *out = sl_tensor_empty(n->outputs[0].type.dtype, nd + 1, shape);
  if (!*out) return -1;
  for (int k = 0; k < n->nin; k++) {
    sl_tensor *dst = sl_tensor_select(*out, axis, k);
    int rc = dst ? sl_tensor_copy(dst, in[k]) : -1;
    sl_tensor_release(dst);
    if (rc) return -1;
  }
  return 0;
}

/* -- narrow ------------------------------------------------------------------------- */

/* Checks the range against the input's shape (static or actual). */
static int narrow_check(const sl_node *n, int nd, const int64_t *shape)
{
  const int64_t *v = n->params.v;
  if (n->params.n < 4) return sl_fail("narrow: expected 4 parameters");
  if (check_axis(n, v[0], nd)) return -1;
  if (v[1] < 0 || v[2] < 0)
    return sl_fail("narrow: start %lld and length %lld must not be negative",
                   (long long)v[1] + 1, (long long)v[2]);
  int64_t size = shape[v[0]];
  if (size == SL_UNKNOWN) return 0;
  if (v[3] >= 0 && size != v[3])
    return sl_fail("split: the parts add up to %lld but dimension %lld has size %lld",
                   (long long)v[3], (long long)v[0] + 1, (long long)size);
  if (v[1] + v[2] > size)
    return sl_fail("narrow: %lld elements from %lld exceed dimension %lld of size %lld",
                   (long long)v[2], (long long)v[1] + 1, (long long)v[0] + 1, (long long)size);
  return 0;
}

static int narrow_infer(sl_node *n, sl_type *out)
{
  const sl_type *x = &n->inputs[0]->type;
  if (narrow_check(n, x->ndim, x->shape)) return -1;
  *out = *x;
  out->shape[n->params.v[0]] = n->params.v[2];
  return 0;
}

static sl_tensor *narrow_view(const sl_node *n, sl_tensor *const *in)
{
  const int64_t *v = n->params.v;
  if (narrow_check(n, in[0]->ndim, in[0]->shape)) return NULL;
  return sl_tensor_slice(in[0], (int)v[0], v[1], v[1] + v[2], 1);
}

static int narrow_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  return fresh_from_view(narrow_view(n, in), out);
}

/* -- repeat ------------------------------------------------------------------------- */

static int repeat_check(const sl_node *n, int nd)
{
  if (n->params.n < 2) return sl_fail("repeat: expected repeats and an axis");
  if (n->params.v[0] < 0)
    return sl_fail("repeat: repeats must not be negative, got %lld", (long long)n->params.v[0]);
  return check_axis(n, n->params.v[1], nd);
}

static int repeat_infer(sl_node *n, sl_type *out)
{
  const sl_type *x = &n->inputs[0]->type;
  if (repeat_check(n, x->ndim)) return -1;
  int axis = (int)n->params.v[1];
  *out = *x;
  if (x->shape[axis] != SL_UNKNOWN && (out->shape[axis] = sl_numel_mul(x->shape[axis], n->params.v[0])) < 0)
    return sl_fail("repeat: %lld repeats make more than the 2^60 - 1 elements a tensor can hold",
                   (long long)n->params.v[0]);
  return 0;
}

/* out[..., i*r + j, ...] = in[..., i, ...]: one strided copy per j. */
static int repeat_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  if (repeat_check(n, in[0]->ndim)) return -1;
  int axis = (int)n->params.v[1];
  int64_t r = n->params.v[0], shape[SL_MAXDIM];
  memcpy(shape, in[0]->shape, sizeof shape);
  shape[axis] *= r;
  *out = sl_tensor_empty(in[0]->dtype, in[0]->ndim, shape);
  if (!*out) return -1;
  for (int64_t j = 0; j < r; j++) {
    sl_tensor *dst = sl_tensor_slice(*out, axis, j, shape[axis], r);
    int rc = dst ? sl_tensor_copy(dst, in[0]) : -1;
    sl_tensor_release(dst);
    if (rc) return -1;
  }
  return 0;
}

/* -- tile --------------------------------------------------------------------------- */

/* NumPy aligns reps and the input's shape at their last axes, padding the
** shorter with 1s: the result has max(ndim, #reps) axes. */
static int tile_layout(const sl_node *n, int nd, const int64_t *in, int *ond, int64_t *shape,
                       int64_t *reps)
{
  int nr = n->params.n;
  int d = nd > nr ? nd : nr;
  if (nr > SL_MAXDIM) return sl_fail("tile: at most %d repetitions, got %d", SL_MAXDIM, nr);
  for (int i = 0; i < d; i++) {
    int ri = i - (d - nr), si = i - (d - nd);
    reps[i] = ri >= 0 ? n->params.v[ri] : 1;
    shape[i] = si >= 0 ? in[si] : 1;
    if (reps[i] < 0) return sl_fail("tile: repetitions must not be negative, got %lld",
                                    (long long)reps[i]);
  }
  *ond = d;
  return 0;
}

static int tile_infer(sl_node *n, sl_type *out)
{
  const sl_type *x = &n->inputs[0]->type;
  int64_t reps[SL_MAXDIM];
  if (tile_layout(n, x->ndim, x->shape, &out->ndim, out->shape, reps)) return -1;
  for (int i = 0; i < out->ndim; i++) {
    if (out->shape[i] == SL_UNKNOWN) continue;
    if ((out->shape[i] = sl_numel_mul(out->shape[i], reps[i])) < 0)
      return sl_fail("tile: %lld repetitions make more than the 2^60 - 1 elements a tensor can hold",
                     (long long)reps[i]);
  }
  out->dtype = x->dtype;
  return 0;
}

/* One axis at a time: each step copies the previous result reps[i] times
** side by side along axis i. */
static int tile_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int d;
  int64_t shape[SL_MAXDIM], reps[SL_MAXDIM], strides[SL_MAXDIM] = { 0 };
  if (tile_layout(n, in[0]->ndim, in[0]->shape, &d, shape, reps)) return -1;
  memcpy(strides + (d - in[0]->ndim), in[0]->strides, (size_t)in[0]->ndim * sizeof *strides);
  sl_tensor *cur = sl_tensor_over(in[0]->storage, in[0]->dtype, in[0]->offset, d, shape, strides);
  if (!cur) return -1;
  for (int i = 0; i < d; i++) {
    if (reps[i] == 1) continue;
    int64_t s = shape[i];
    shape[i] *= reps[i];
    sl_tensor *next = sl_tensor_empty(cur->dtype, d, shape);
    for (int64_t j = 0; next && j < reps[i]; j++) {
      sl_tensor *dst = sl_tensor_slice(next, i, j * s, (j + 1) * s, 1);
      int rc = dst ? sl_tensor_copy(dst, cur) : -1;
      sl_tensor_release(dst);
      if (rc) { sl_tensor_release(next); next = NULL; }
    }
    sl_tensor_release(cur);
    if (!next) return -1;
    cur = next;
  }
  if (cur->storage == in[0]->storage) return fresh_from_view(cur, out);   /* all reps 1 */
  *out = cur;
  return 0;
}

/* -- the table ---------------------------------------------------------------------- */

const sl_op sl_op_reshape = { .name = "reshape",     .nin = -1, .nout = 1, .infer = reshape_infer,    .perform = reshape_perform, .view = reshape_view, .flags = SL_OP_COMPLEX | SL_OP_MOVES | SL_OP_EXACT_GRAD, .size = SL_SIZE_RESHAPE };
const sl_op sl_op_flatten = { .name = "flatten",     .nin = 1,  .nout = 1, .infer = flatten_infer,    .perform = flatten_perform, .flags = SL_OP_COMPLEX | SL_OP_MOVES | SL_OP_EXACT_GRAD, .size = SL_SIZE_FLATTEN };
const sl_op sl_op_dimshuffle = { .name = "dimshuffle",  .nin = 1,  .nout = 1, .infer = dimshuffle_infer, .perform = dimshuffle_perform, .view = dimshuffle_view, .flags = SL_OP_COMPLEX | SL_OP_MOVES | SL_OP_EXACT_GRAD, .size = SL_SIZE_DIMSHUFFLE };
const sl_op sl_op_concatenate = { .name = "concatenate", .nin = -1, .nout = 1, .infer = concat_infer,     .perform = concat_perform, .flags = SL_OP_COMPLEX | SL_OP_MOVES, .size = SL_SIZE_CONCATENATE };
const sl_op sl_op_stack = { .name = "stack",       .nin = -1, .nout = 1, .infer = stack_infer,      .perform = stack_perform, .flags = SL_OP_COMPLEX | SL_OP_MOVES, .size = SL_SIZE_STACK };
const sl_op sl_op_narrow = { .name = "narrow",      .nin = 1,  .nout = 1, .infer = narrow_infer,     .perform = narrow_perform, .view = narrow_view, .flags = SL_OP_COMPLEX | SL_OP_MOVES, .size = SL_SIZE_NARROW };
const sl_op sl_op_repeat = { .name = "repeat",      .nin = 1,  .nout = 1, .infer = repeat_infer,     .perform = repeat_perform, .flags = SL_OP_COMPLEX | SL_OP_MOVES, .size = SL_SIZE_REPEAT };
const sl_op sl_op_tile = { .name = "tile",        .nin = 1,  .nout = 1, .infer = tile_infer,       .perform = tile_perform, .flags = SL_OP_COMPLEX | SL_OP_MOVES, .size = SL_SIZE_TILE };
