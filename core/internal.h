/*
** internal.h — helpers shared by the core's files; not part of the public API.
*/
#ifndef SL_INTERNAL_H
#define SL_INTERNAL_H

#include "symlua.h"

/* Record a failure for sl_errmsg(); returns -1 so callers can `return sl_fail(...)`. */
int sl_fail(const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 1, 2)))
#endif
  ;

/* Storage: 64-byte aligned, counted in sl_mem_bytes(). */
sl_storage *sl_storage_new(size_t nbytes);
void sl_storage_release(sl_storage *s);

/* A tensor header over storage s (retained), with C-order strides. */
sl_tensor *sl_tensor_over(sl_storage *s, sl_dtype dt, int64_t offset,
                          int ndim, const int64_t *shape, const int64_t *strides);
void sl_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides);
int  sl_check_shape(int ndim, const int64_t *shape, int64_t *numel);
void sl_shape_text(char *buf, size_t n, int ndim, const int64_t *shape);  /* "(2, 3)" */

/* Convert n elements between dtypes; strides in elements. */
typedef void (*sl_castfn)(void *dst, int64_t ds, const void *src, int64_t ss, int64_t n);
sl_castfn sl_cast_fn(sl_dtype to, sl_dtype from);

/* Visit t in C order, calling fn on runs of equally strided elements.
** Axes that are contiguous with each other are merged first. */
typedef void (*sl_run2fn)(char *a, int64_t as, const char *b, int64_t bs, int64_t n, void *ctx);
void sl_foreach2(int ndim, const int64_t *shape,
                 char *a, const int64_t *astr, size_t asz,
                 const char *b, const int64_t *bstr, size_t bsz,
                 sl_run2fn fn, void *ctx);

/* One Philox-4x32-10 block: out = bijection of counter in under key. */
void sl_philox4x32_10(const uint32_t in[4], const uint32_t key[2], uint32_t out[4]);

#endif
