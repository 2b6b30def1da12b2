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

/* Storage: 64-byte aligned, counted in sl_mem_bytes(), from the host caching
** allocator; buffers the host wraps come from the wrapped one (storage.c). */
extern const sl_allocator sl_host_allocator, sl_wrapped_allocator;
sl_storage *sl_storage_new(size_t nbytes);
void sl_storage_release(sl_storage *s);

/* A tensor header over storage s (retained), with C-order strides. */
sl_tensor *sl_tensor_over(sl_storage *s, sl_dtype dt, int64_t offset,
                          int ndim, const int64_t *shape, const int64_t *strides);
void sl_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides);
int  sl_check_shape(int ndim, const int64_t *shape, int64_t *numel);
/* n * size (both >= 0) when within the 2^60 - 1 elements a tensor can hold, else -1 */
int64_t sl_numel_mul(int64_t n, int64_t size);
void sl_shape_text(char *buf, size_t n, int ndim, const int64_t *shape);  /* "(2, 3)" */

/* Convert n elements between dtypes; strides in elements. */
typedef void (*sl_castfn)(void *dst, int64_t ds, const void *src, int64_t ss, int64_t n);
sl_castfn sl_cast_fn(sl_dtype to, sl_dtype from);

/* Visit nops same-shaped operands in C order: fn gets each operand's pointer
** and element stride for a run of n elements along the innermost axis. */
#define SL_MAX_OPERANDS 8
typedef void (*sl_runfn)(char **p, const int64_t *stride, int64_t n, void *ctx);
void sl_foreach(int nops, int ndim, const int64_t *shape, char **base,
                const int64_t *const *strides, const size_t *esize,
                sl_runfn fn, void *ctx);

/* Fill contiguous float tensor t with uniforms in [0, 1) (or normals) from
** Philox key seed, blocks from offset on; returns the blocks used. */
uint64_t sl_random_fill(sl_tensor *t, int normal, uint64_t seed, uint64_t offset);

/* Default float dtype for results that NumPy would make float64 (floatX). */
extern sl_dtype sl_float_default;

#endif
