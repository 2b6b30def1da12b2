/*
** tensor.c — tensor headers: creation, reference counts, and views that
** share storage (reshape, permute, slice, select, expand, squeeze).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* -- creation -------------------------------------------------------------- */

/* At most 2^60 - 1 elements, so that the bytes of any dtype fit in int64_t. */
int64_t sl_numel_mul(int64_t n, int64_t size)
{
  return size && n > SL_MAX_NUMEL / size ? -1 : n * size;
}

int sl_check_shape(int ndim, const int64_t *shape, int64_t *numel)
{
  if (ndim < 0 || ndim > SL_MAXDIM)
    return sl_fail("a tensor has 0 to %d dimensions, not %d", SL_MAXDIM, ndim);
  /* Zero sizes are skipped in the product: strides multiply the other sizes
  ** even when a tensor is empty, so (0, 2^62, 2^62) is as refused as (2^62, 2^62). */
  int64_t n = 1, span = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0)
      return sl_fail("size %lld of dimension %d is negative", (long long)shape[i], i + 1);
    if ((span = sl_numel_mul(span, shape[i] ? shape[i] : 1)) < 0) {
      char text[SL_MAXDIM * 24 + 8];
      sl_shape_text(text, sizeof text, ndim, shape);
      return sl_fail("shape %s has more than the 2^60 - 1 elements a tensor can hold "
                     "(counting its nonzero sizes only)", text);
    }
    n *= shape[i];
  }
  *numel = n;
  return 0;
}

void sl_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides)
{
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] > 1 ? shape[i] : 1;
  }
}

sl_tensor *sl_tensor_over(sl_storage *s, sl_dtype dt, int64_t offset,
                          int ndim, const int64_t *shape, const int64_t *strides)
{
  sl_tensor *t = malloc(sizeof *t);
  if (!t) { sl_fail("out of memory"); return NULL; }
  t->refcount = 1;
  t->dtype = dt;
  t->ndim = ndim;
  t->offset = offset;
  if (ndim > 0) memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);   /* 0-d: shape may be NULL */
  if (strides && ndim > 0) memcpy(t->strides, strides, (size_t)ndim * sizeof *strides);
  else sl_contiguous_strides(ndim, shape, t->strides);
  t->storage = s;
  sl_ref_inc(&s->refcount);
  return t;
}

sl_tensor *sl_tensor_empty(sl_dtype dt, int ndim, const int64_t *shape)
{
  int64_t n;
  if ((unsigned)dt >= SL_NDTYPES) { sl_fail("invalid dtype %d", (int)dt); return NULL; }
  if (sl_check_shape(ndim, shape, &n)) return NULL;
  sl_storage *s = sl_storage_new((size_t)n * sl_dtype_size(dt));
  if (!s) return NULL;
  sl_tensor *t = sl_tensor_over(s, dt, 0, ndim, shape, NULL);
  sl_storage_release(s);
  return t;
}

sl_tensor *sl_tensor_zeros(sl_dtype dt, int ndim, const int64_t *shape)
{
  sl_tensor *t = sl_tensor_empty(dt, ndim, shape);
  if (t) memset(t->storage->data, 0, t->storage->nbytes);
  return t;
}

static void keep_buffer(void *data, void *ud) { (void)data; (void)ud; }

sl_tensor *sl_tensor_wrap(void *data, sl_dtype dt, int ndim,
                          const int64_t *shape, const int64_t *strides,
                          void (*release)(void *, void *), void *ud)
{
  int64_t n;
  if ((unsigned)dt >= SL_NDTYPES) { sl_fail("invalid dtype %d", (int)dt); return NULL; }
  if (sl_check_shape(ndim, shape, &n)) return NULL;
  if (!data && n > 0) { sl_fail("sl_tensor_wrap: NULL data"); return NULL; }
  sl_storage *s = malloc(sizeof *s);
  if (!s) { sl_fail("out of memory"); return NULL; }
  s->data = data;
  s->nbytes = (size_t)n * sl_dtype_size(dt);
  s->refcount = 1;
  s->device = SL_DEVICE_HOST;
  s->allocator = &sl_wrapped_allocator;
  s->release = release ? release : keep_buffer;
  s->release_ud = ud;
  sl_tensor *t = sl_tensor_over(s, dt, 0, ndim, shape, strides);
  sl_storage_release(s);
  return t;
}

void sl_tensor_retain(sl_tensor *t) { sl_ref_inc(&t->refcount); }

void sl_tensor_release(sl_tensor *t)
{
  if (!t || sl_ref_dec(&t->refcount) > 0) return;
  sl_storage_release(t->storage);
  free(t);
}

int64_t sl_tensor_numel(const sl_tensor *t)
{
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
  return n;
}

int sl_tensor_is_contiguous(const sl_tensor *t)
{
  int64_t s = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    if (t->shape[i] == 0) return 1;
    if (t->shape[i] != 1 && t->strides[i] != s) return 0;
    s *= t->shape[i];
  }
  return 1;
}

void *sl_tensor_ptr(const sl_tensor *t)
{
  return (char *)t->storage->data + t->offset * (int64_t)sl_dtype_size(t->dtype);
}

/* -- views ------------------------------------------------------------------ */

static sl_tensor *view_of(sl_tensor *t, int64_t offset, int ndim,
                          const int64_t *shape, const int64_t *strides)
{
  return sl_tensor_over(t->storage, t->dtype, offset, ndim, shape, strides);
}

static int check_dim(const sl_tensor *t, int dim, const char *op)
{
  if (dim < 0 || dim >= t->ndim)
    return sl_fail("%s: dimension %d out of range for a %d-d tensor", op, dim + 1, t->ndim);
  return 0;
}

/* Resolve one -1 in shape against numel; check the total. */
static int infer_shape(const sl_tensor *t, int ndim, const int64_t *in, int64_t *out)
{
  int64_t numel = sl_tensor_numel(t), known = 1;
  int unknown = -1;
  if (ndim < 0 || ndim > SL_MAXDIM)
    return sl_fail("reshape: a tensor has 0 to %d dimensions, not %d", SL_MAXDIM, ndim);
  for (int i = 0; i < ndim; i++) {
    out[i] = in[i];
    if (in[i] == -1) {
      if (unknown >= 0) return sl_fail("reshape: only one size may be -1");
      unknown = i;
    } else if (in[i] < 0) {
      return sl_fail("reshape: invalid size %lld", (long long)in[i]);
    } else if ((known = sl_numel_mul(known, in[i])) < 0) {
      char text[SL_MAXDIM * 22 + 4];
      sl_shape_text(text, sizeof text, ndim, in);
      return sl_fail("reshape: shape %s has more than the 2^60 - 1 elements a tensor can hold", text);
    }
  }
  if (unknown >= 0) {
    if (known == 0 || numel % known)
      return sl_fail("reshape: cannot infer the -1 size: %lld elements do not "
                     "divide by %lld", (long long)numel, (long long)known);
    out[unknown] = numel / known;
  } else if (known != numel) {
    return sl_fail("reshape: cannot reshape %lld elements into a shape of %lld",
                   (long long)numel, (long long)known);
  }
  return 0;
}

/* Strides for viewing t as shape without a copy, or -1 when impossible.
** Old axes are walked from the back in chunks that are contiguous with each
** other; each chunk must map onto whole new axes. */
static int view_strides(const sl_tensor *t, int nnd, const int64_t *nshape, int64_t *nstr)
{
  if (sl_tensor_numel(t) == 0 || t->ndim == 0) {
    sl_contiguous_strides(nnd, nshape, nstr);
    return 0;
  }
  int vd = nnd - 1;
  int64_t base = t->strides[t->ndim - 1], tnumel = 1, vnumel = 1;
  for (int td = t->ndim - 1; td >= 0; td--) {
    tnumel *= t->shape[td];
    if (td == 0 || (t->shape[td - 1] != 1 && t->strides[td - 1] != tnumel * base)) {
      while (vd >= 0 && (vnumel < tnumel || nshape[vd] == 1)) {
        nstr[vd] = vnumel * base;
        vnumel *= nshape[vd];
        vd--;
      }
      if (vnumel != tnumel) return -1;
      if (td > 0) { base = t->strides[td - 1]; tnumel = 1; vnumel = 1; }
    }
  }
  return vd == -1 ? 0 : -1;
}

sl_tensor *sl_tensor_view(sl_tensor *t, int ndim, const int64_t *shape)
{
  int64_t nshape[SL_MAXDIM], nstr[SL_MAXDIM];
  if (infer_shape(t, ndim, shape, nshape)) return NULL;
  if (view_strides(t, ndim, nshape, nstr)) {
    sl_fail("view: the strides of this tensor do not allow the new shape without "
            "a copy (use reshape, or contiguous() first)");
    return NULL;
  }
  return view_of(t, t->offset, ndim, nshape, nstr);
}

sl_tensor *sl_tensor_reshape(sl_tensor *t, int ndim, const int64_t *shape)
{
  int64_t nshape[SL_MAXDIM], nstr[SL_MAXDIM];
  if (infer_shape(t, ndim, shape, nshape)) return NULL;
  if (!view_strides(t, ndim, nshape, nstr)) return view_of(t, t->offset, ndim, nshape, nstr);
  sl_tensor *c = sl_tensor_clone(t);
  if (!c) return NULL;
  sl_tensor *v = sl_tensor_view(c, ndim, nshape);
  sl_tensor_release(c);
  return v;
}

sl_tensor *sl_tensor_permute(sl_tensor *t, const int *perm)
{
  int64_t shape[SL_MAXDIM], strides[SL_MAXDIM];
  int seen[SL_MAXDIM] = {0};
  for (int i = 0; i < t->ndim; i++) {
    int p = perm[i];
    if (p < 0 || p >= t->ndim || seen[p]) {
      sl_fail("permute: the axes are not a permutation of 1..%d", t->ndim);
      return NULL;
    }
    seen[p] = 1;
    shape[i] = t->shape[p];
    strides[i] = t->strides[p];
  }
  return view_of(t, t->offset, t->ndim, shape, strides);
}

sl_tensor *sl_tensor_transpose(sl_tensor *t, int d0, int d1)
{
  int perm[SL_MAXDIM];
  if (check_dim(t, d0, "transpose") || check_dim(t, d1, "transpose")) return NULL;
  for (int i = 0; i < t->ndim; i++) perm[i] = i;
  perm[d0] = d1;
  perm[d1] = d0;
  return sl_tensor_permute(t, perm);
}

/* Elements start, start+step, ... before stop (NumPy's half-open rule, either
** direction); start and stop must already lie within the axis. */
sl_tensor *sl_tensor_slice(sl_tensor *t, int dim, int64_t start, int64_t stop, int64_t step)
{
  if (check_dim(t, dim, "slice")) return NULL;
  int64_t size = t->shape[dim], n = 0;
  if (step == 0) { sl_fail("slice: step must not be 0"); return NULL; }
  if (step > 0 ? (start < 0 || start > size || stop < 0 || stop > size)
               : (start < -1 || start >= size || stop < -1 || stop >= size)) {
    sl_fail("slice: range %lld..%lld out of bounds for dimension %d of size %lld",
            (long long)start + 1, (long long)stop, dim + 1, (long long)size);
    return NULL;
  }
  if (step > 0 && stop > start) n = (stop - start + step - 1) / step;
  if (step < 0 && start > stop) n = (start - stop - step - 1) / -step;
  int64_t shape[SL_MAXDIM], strides[SL_MAXDIM];
  memcpy(shape, t->shape, sizeof shape);
  memcpy(strides, t->strides, sizeof strides);
  shape[dim] = n;
  strides[dim] *= step;
  return view_of(t, n ? t->offset + start * t->strides[dim] : t->offset,
                 t->ndim, shape, strides);
}

sl_tensor *sl_tensor_select(sl_tensor *t, int dim, int64_t index)
{
  if (check_dim(t, dim, "select")) return NULL;
  if (index < 0 || index >= t->shape[dim]) {
    sl_fail("index %lld out of range for dimension %d of size %lld",
            (long long)index + 1, dim + 1, (long long)t->shape[dim]);
    return NULL;
  }
  int64_t shape[SL_MAXDIM], strides[SL_MAXDIM];
  for (int i = 0, j = 0; i < t->ndim; i++)
    if (i != dim) { shape[j] = t->shape[i]; strides[j++] = t->strides[i]; }
  return view_of(t, t->offset + index * t->strides[dim], t->ndim - 1, shape, strides);
}

void sl_shape_text(char *buf, size_t n, int ndim, const int64_t *shape)
{
  size_t k = (size_t)snprintf(buf, n, "(");
  for (int i = 0; i < ndim && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, i ? ", %lld" : "%lld", (long long)shape[i]);
  if (k < n) snprintf(buf + k, n - k, ndim == 1 ? ",)" : ")");
}

sl_tensor *sl_tensor_expand(sl_tensor *t, int ndim, const int64_t *shape)
{
  int64_t nshape[SL_MAXDIM], nstr[SL_MAXDIM];
  if (ndim < t->ndim || ndim > SL_MAXDIM) {
    sl_fail("expand: cannot expand a %d-d tensor to %d dimensions", t->ndim, ndim);
    return NULL;
  }
  for (int i = ndim - 1, j = t->ndim - 1; i >= 0; i--, j--) {
    int64_t have = j >= 0 ? t->shape[j] : 1;
    int64_t want = (shape[i] == -1 && j >= 0) ? have : shape[i];
    if (want < 0 || (have != want && have != 1)) {
      char a[256], b[256];
      sl_shape_text(a, sizeof a, t->ndim, t->shape);
      sl_shape_text(b, sizeof b, ndim, shape);
      sl_fail("expand: shape %s cannot broadcast to %s", a, b);
      return NULL;
    }
    nshape[i] = want;
    nstr[i] = (j >= 0 && have == want) ? t->strides[j] : 0;
  }
  return view_of(t, t->offset, ndim, nshape, nstr);
}

sl_tensor *sl_tensor_squeeze(sl_tensor *t, int dim)
{
  int64_t shape[SL_MAXDIM], strides[SL_MAXDIM];
  int n = 0;
  if (dim >= 0) {
    if (check_dim(t, dim, "squeeze")) return NULL;
    if (t->shape[dim] != 1) {
      sl_fail("squeeze: dimension %d has size %lld, not 1", dim + 1, (long long)t->shape[dim]);
      return NULL;
    }
  }
  for (int i = 0; i < t->ndim; i++)
    if (!(t->shape[i] == 1 && (dim < 0 || dim == i))) {
      shape[n] = t->shape[i];
      strides[n++] = t->strides[i];
    }
  return view_of(t, t->offset, n, shape, strides);
}

sl_tensor *sl_tensor_unsqueeze(sl_tensor *t, int dim)
{
  int64_t shape[SL_MAXDIM], strides[SL_MAXDIM];
  if (dim < 0 || dim > t->ndim || t->ndim >= SL_MAXDIM) {
    sl_fail("unsqueeze: position %d out of range for a %d-d tensor", dim + 1, t->ndim);
    return NULL;
  }
  for (int i = 0, j = 0; i <= t->ndim; i++) {
    if (i == dim) {
      shape[i] = 1;
      strides[i] = dim < t->ndim ? t->shape[dim] * t->strides[dim] : 1;
    } else {
      shape[i] = t->shape[j];
      strides[i] = t->strides[j++];
    }
  }
  return view_of(t, t->offset, t->ndim + 1, shape, strides);
}

int sl_broadcast_shapes(int na, const int64_t *a, int nb, const int64_t *b,
                        int *nout, int64_t *out)
{
  int n = na > nb ? na : nb;
  for (int i = n - 1, ia = na - 1, ib = nb - 1; i >= 0; i--, ia--, ib--) {
    int64_t x = ia >= 0 ? a[ia] : 1, y = ib >= 0 ? b[ib] : 1;
    if (x != y && x != 1 && y != 1) {
      char sa[256], sb[256];
      sl_shape_text(sa, sizeof sa, na, a);
      sl_shape_text(sb, sizeof sb, nb, b);
      return sl_fail("shapes %s and %s cannot broadcast (dimension %d: %lld vs %lld)",
                     sa, sb, i + 1, (long long)x, (long long)y);
    }
    out[i] = x == 1 ? y : x;
  }
  *nout = n;
  return 0;
}
