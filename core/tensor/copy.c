/*
** copy.c — moving elements: dtype conversion, strided traversal, copy with
** broadcasting, fill, clone, cast, and single-element access.
*/
#include <string.h>

#include "internal.h"

/* -- conversions ------------------------------------------------------------
** One loop per (to, from) pair, reached only through cast_table, so the
** pasted names never need to be grepped for. Conversion to bool tests != 0;
** complex to real keeps the real part (C99 6.3.1.7, and NumPy's cast).
*/
#define CONVERT(TK, TCT, x) ((TK) == 'b' ? (TCT)((x) != 0) : (TCT)(x))
/* float16 and bfloat16 hold bits: loaded as doubles, stored by rounding */
#define LOAD_BOOL(x) (x)
#define LOAD_UINT8(x) (x)
#define LOAD_INT8(x) (x)
#define LOAD_INT16(x) (x)
#define LOAD_INT32(x) (x)
#define LOAD_INT64(x) (x)
#define LOAD_FLOAT16(x) sl_f16_to_double(x)
#define LOAD_BFLOAT16(x) sl_bf16_to_double(x)
#define LOAD_FLOAT32(x) (x)
#define LOAD_FLOAT64(x) (x)
#define LOAD_COMPLEX64(x) (x)
#define LOAD_COMPLEX128(x) (x)
#define STORE_FLOAT16(TK, TCT, x) sl_f16_from_double((double)(x))
#define STORE_BFLOAT16(TK, TCT, x) sl_bf16_from_double((double)(x))
#define STORE_BOOL CONVERT
#define STORE_UINT8 CONVERT
#define STORE_INT8 CONVERT
#define STORE_INT16 CONVERT
#define STORE_INT32 CONVERT
#define STORE_INT64 CONVERT
#define STORE_FLOAT32 CONVERT
#define STORE_FLOAT64 CONVERT
#define STORE_COMPLEX64 CONVERT
#define STORE_COMPLEX128 CONVERT
#define DEF_CAST(TO, TCT, TK, FROM, FCT) \
  static void cast_##TO##_from_##FROM(void *d, int64_t ds, const void *s, int64_t ss, int64_t n) \
  { \
    TCT *dp = d; \
    const FCT *sp = s; \
    if (ds == 1 && ss == 1) /* contiguous: a loop the compiler vectorizes */ \
      for (int64_t i = 0; i < n; i++) dp[i] = STORE_##TO(TK, TCT, LOAD_##FROM(sp[i])); \
    else \
      for (int64_t i = 0; i < n; i++) dp[i * ds] = STORE_##TO(TK, TCT, LOAD_##FROM(sp[i * ss])); \
  }
/* the "from" side repeats SL_DTYPES' rows: a macro cannot expand itself */
#define DEF_CASTS_TO(TO, name, TCT, descr, TK) \
  DEF_CAST(TO, TCT, TK, BOOL, uint8_t) DEF_CAST(TO, TCT, TK, UINT8, uint8_t) \
  DEF_CAST(TO, TCT, TK, INT8, int8_t) DEF_CAST(TO, TCT, TK, INT16, int16_t) \
  DEF_CAST(TO, TCT, TK, INT32, int32_t) DEF_CAST(TO, TCT, TK, INT64, int64_t) \
  DEF_CAST(TO, TCT, TK, FLOAT16, uint16_t) DEF_CAST(TO, TCT, TK, BFLOAT16, uint16_t) \
  DEF_CAST(TO, TCT, TK, FLOAT32, float) DEF_CAST(TO, TCT, TK, FLOAT64, double) \
  DEF_CAST(TO, TCT, TK, COMPLEX64, float _Complex) DEF_CAST(TO, TCT, TK, COMPLEX128, double _Complex)
SL_DTYPES(DEF_CASTS_TO)

#define CAST_ROW(TO, name, TCT, descr, TK) \
  { cast_##TO##_from_BOOL, cast_##TO##_from_UINT8, cast_##TO##_from_INT8, \
    cast_##TO##_from_INT16, cast_##TO##_from_INT32, cast_##TO##_from_INT64, \
    cast_##TO##_from_FLOAT16, cast_##TO##_from_BFLOAT16, \
    cast_##TO##_from_FLOAT32, cast_##TO##_from_FLOAT64, \
    cast_##TO##_from_COMPLEX64, cast_##TO##_from_COMPLEX128 },
static const sl_castfn cast_table[SL_NDTYPES][12] = { SL_DTYPES(CAST_ROW) };
_Static_assert(SL_NDTYPES == 12, "cast_table lists every dtype as a source");

sl_castfn sl_cast_fn(sl_dtype to, sl_dtype from) { return cast_table[to][from]; }

/* -- copy -------------------------------------------------------------------- */

typedef struct { sl_castfn fn; } cast_ctx;

static void cast_run(char **p, const int64_t *stride, int64_t n, void *ctx)
{
  ((cast_ctx *)ctx)->fn(p[0], stride[0], p[1], stride[1], n);
}

static int overlaps(const sl_tensor *a, const sl_tensor *b)
{
  return a->storage == b->storage;   /* conservative: same buffer */
}

/* A 2-d copy whose source runs along the first axis (a transpose made
** contiguous) goes in square tiles, so that the lines of both sides stay in
** cache; by rows it would read a source cache line per element. */
#define TILE 32
#define TILE_COPY(T) \
  do { \
    for (int64_t i = i0; i < i1; i++) \
      for (int64_t j = j0; j < j1; j++) ((T *)d)[i * n1 + j] = ((const T *)s)[i + j * s1]; \
  } while (0)

static int copy_transposed(sl_tensor *dst, const sl_tensor *src)
{
  if (dst->ndim != 2 || dst->dtype != src->dtype || !sl_tensor_is_contiguous(dst) ||
      src->strides[0] != 1 || src->strides[1] == 1 || dst->shape[0] < 2 || dst->shape[1] < 2)
    return 0;
  int64_t n0 = dst->shape[0], n1 = dst->shape[1], s1 = src->strides[1];
  size_t sz = sl_dtype_size(dst->dtype);
  char *d = sl_tensor_ptr(dst);
  const char *s = sl_tensor_ptr(src);
  for (int64_t i0 = 0; i0 < n0; i0 += TILE) {
    int64_t i1 = i0 + TILE < n0 ? i0 + TILE : n0;
    for (int64_t j0 = 0; j0 < n1; j0 += TILE) {
      int64_t j1 = j0 + TILE < n1 ? j0 + TILE : n1;
      switch (sz) {
      case 1: TILE_COPY(uint8_t); break;
      case 2: TILE_COPY(uint16_t); break;
      case 4: TILE_COPY(uint32_t); break;
      case 8: TILE_COPY(uint64_t); break;
      default:
        for (int64_t i = i0; i < i1; i++)
          for (int64_t j = j0; j < j1; j++)
            memcpy(d + (size_t)(i * n1 + j) * sz, s + (size_t)(i + j * s1) * sz, sz);
      }
    }
  }
  return 1;
}

int sl_tensor_copy(sl_tensor *dst, const sl_tensor *src)
{
  sl_tensor *tmp = NULL;
  if (overlaps(dst, src) && src != dst) {
    tmp = sl_tensor_clone(src);
    if (!tmp) return -1;
    src = tmp;
  }
  sl_tensor *b = sl_tensor_expand((sl_tensor *)src, dst->ndim, dst->shape);
  if (!b) {
    char sa[256], sb[256];
    sl_shape_text(sa, sizeof sa, src->ndim, src->shape);
    sl_shape_text(sb, sizeof sb, dst->ndim, dst->shape);
    sl_fail("copy: a tensor of shape %s cannot be copied into shape %s", sa, sb);
    sl_tensor_release(tmp);
    return -1;
  }
  size_t dsz = sl_dtype_size(dst->dtype), ssz = sl_dtype_size(src->dtype);
  if (dst->dtype == src->dtype && sl_tensor_is_contiguous(dst) && sl_tensor_is_contiguous(b)) {
    memmove(sl_tensor_ptr(dst), sl_tensor_ptr(b), (size_t)sl_tensor_numel(dst) * dsz);
  } else if (!copy_transposed(dst, b)) {
    cast_ctx ctx = { sl_cast_fn(dst->dtype, src->dtype) };
    char *base[2] = { sl_tensor_ptr(dst), sl_tensor_ptr(b) };
    const int64_t *strides[2] = { dst->strides, b->strides };
    size_t esize[2] = { dsz, ssz };
    sl_foreach(2, dst->ndim, dst->shape, base, strides, esize, cast_run, &ctx);
  }
  sl_tensor_release(b);
  sl_tensor_release(tmp);
  return 0;
}

/* Contiguous fill: v converted once, then its bytes repeated through a
** local word (a store through p could alias a union member and force a
** reload per element), in loops the compiler vectorizes. */
#define FILL_WORDS(T) \
  do { T w; memcpy(&w, one, sizeof w); T *q = (T *)p; for (int64_t i = 0; i < n; i++) q[i] = w; } while (0)

static void fill_contiguous(sl_tensor *t, double v)
{
  unsigned char one[16] = { 0 };
  static const unsigned char zero[16];
  size_t sz = sl_dtype_size(t->dtype);
  int64_t n = sl_tensor_numel(t);
  char *p = sl_tensor_ptr(t);
  sl_cast_fn(t->dtype, SL_FLOAT64)(one, 1, &v, 1, 1);
  if (memcmp(one, zero, sz) == 0) { memset(p, 0, (size_t)n * sz); return; }
  switch (sz) {
  case 1: memset(p, one[0], (size_t)n); break;
  case 2: FILL_WORDS(uint16_t); break;
  case 4: FILL_WORDS(uint32_t); break;
  case 8: FILL_WORDS(uint64_t); break;
  default: for (int64_t i = 0; i < n; i++) memcpy(p + (size_t)i * sz, one, sz); break;
  }
}

int sl_tensor_fill(sl_tensor *t, double v)
{
  if (sl_tensor_is_contiguous(t)) { fill_contiguous(t, v); return 0; }
  sl_tensor *s = sl_tensor_wrap(&v, SL_FLOAT64, 0, NULL, NULL, NULL, NULL);
  if (!s) return -1;
  int r = sl_tensor_copy(t, s);
  sl_tensor_release(s);
  return r;
}

sl_tensor *sl_tensor_cast(const sl_tensor *t, sl_dtype dt)
{
  sl_tensor *c = sl_tensor_empty(dt, t->ndim, t->shape);
  if (c && sl_tensor_copy(c, t)) { sl_tensor_release(c); return NULL; }
  return c;
}

sl_tensor *sl_tensor_clone(const sl_tensor *t) { return sl_tensor_cast(t, t->dtype); }

sl_tensor *sl_tensor_contiguous(sl_tensor *t)
{
  if (sl_tensor_is_contiguous(t)) { sl_tensor_retain(t); return t; }
  return sl_tensor_clone(t);
}

/* -- single elements --------------------------------------------------------- */

static char *element(const sl_tensor *t, const int64_t *idx)
{
  int64_t off = t->offset;
  for (int i = 0; i < t->ndim; i++) off += idx[i] * t->strides[i];
  return (char *)t->storage->data + off * (int64_t)sl_dtype_size(t->dtype);
}

double sl_tensor_get(const sl_tensor *t, const int64_t *idx)
{
  double v;
  sl_cast_fn(SL_FLOAT64, t->dtype)(&v, 1, element(t, idx), 1, 1);
  return v;
}

void sl_tensor_set(sl_tensor *t, const int64_t *idx, double v)
{
  sl_cast_fn(t->dtype, SL_FLOAT64)(element(t, idx), 1, &v, 1, 1);
}
