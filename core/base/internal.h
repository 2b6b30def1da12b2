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

/* Messages: a text too long for its buffer keeps its start and its end (the
** reason) around an ellipsis. sl_clip gives s, or its first and last
** characters in out when s is long (paths, names echoed in a message). */
#include <stdarg.h>
#define SL_ERRMSG_CAP 1024
#define SL_CLIP_CAP 160
void sl_vformat(char *buf, size_t cap, const char *fmt, va_list ap);
void sl_format(char *buf, size_t cap, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 3, 4)))
#endif
  ;
const char *sl_clip(const char *s, char out[SL_CLIP_CAP]);

/* Files: path opened for reading when it is a regular file; its size in
** *size. NULL + sl_fail with the reason alone ("is a directory", "Permission
** denied"), for the caller to prefix with what it was doing. */
#include <stdio.h>
FILE *sl_open_regular(const char *path, int64_t *size);

/* Readers over an open stream (files, or memory through fmemopen); name is
** what messages call it, and size its length in bytes (which bounds what a
** corrupt header may allocate). */
sl_tensor *sl_npy_read(FILE *f, int64_t size, const char *name);
sl_tensor *sl_idx_read(FILE *f, int64_t size, const char *name);

/* Reference counts of tensors and storages are atomic: a compiled function
** called from several host threads at once retains the same constants and
** shared values in each call. sl_refs reads a count (the inplace checks). */
static inline void sl_ref_inc(int *c) { __atomic_add_fetch(c, 1, __ATOMIC_RELAXED); }
static inline int  sl_ref_dec(int *c) { return __atomic_sub_fetch(c, 1, __ATOMIC_ACQ_REL); }
static inline int  sl_refs(const int *c) { return __atomic_load_n(c, __ATOMIC_ACQUIRE); }

/* FFTW's planner is not reentrant: fft.c and conv.c make and look up their
** plans under this one lock (executing a plan needs none). */
void sl_fftw_plan_lock(void);
void sl_fftw_plan_unlock(void);

/* Storage: 64-byte aligned, counted in sl_mem_bytes(), from the host caching
** allocator; buffers the host wraps come from the wrapped one (storage.c). */
extern const sl_allocator sl_host_allocator, sl_wrapped_allocator;
sl_storage *sl_storage_new(size_t nbytes);
void sl_storage_release(sl_storage *s);

/* A tensor header over storage s (retained), with C-order strides. */
sl_tensor *sl_tensor_over(sl_storage *s, sl_dtype dt, int64_t offset,
                          int ndim, const int64_t *shape, const int64_t *strides);
void sl_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides);
/* A shape's sizes are >= 0 and the product of its nonzero sizes is at most
** SL_MAX_NUMEL, so that every byte offset and stride fits in an int64. */
#define SL_MAX_NUMEL (INT64_MAX / 8)
int  sl_check_shape(int ndim, const int64_t *shape, int64_t *numel);
/* n * size (both >= 0) when at most SL_MAX_NUMEL, else -1 */
int64_t sl_numel_mul(int64_t n, int64_t size);
void sl_shape_text(char *buf, size_t n, int ndim, const int64_t *shape);  /* "(2, 3)" */

/* Convert n elements between dtypes; strides in elements. */
typedef void (*sl_castfn)(void *dst, int64_t ds, const void *src, int64_t ss, int64_t n);
sl_castfn sl_cast_fn(sl_dtype to, sl_dtype from);
/* float16 and bfloat16 bits from and to double (half.c) */
uint16_t sl_f16_from_double(double x);
double   sl_f16_to_double(uint16_t h);
uint16_t sl_bf16_from_double(double x);
double   sl_bf16_to_double(uint16_t h);
static inline int sl_dtype_is_half(sl_dtype dt) { return dt == SL_FLOAT16 || dt == SL_BFLOAT16; }

/* Loops over whole tensors that the compiler vectorizes get an AVX2+FMA
** clone besides the baseline one, picked once at load time (GCC's
** target_clones, an ifunc). Not under clang or another libc, nor under
** ThreadSanitizer or AddressSanitizer, whose runtimes are not up yet when
** the loader runs the picker. Their files build with -ffp-contract=off and
** vmath.h rounds through fma on every target, so both clones compute the
** same bits; FMA is what makes vmath's polynomials vectorize. */
#include <stdint.h>   /* and with it __GLIBC__ */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__) && \
    !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
#define SL_LOOP_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SL_LOOP_CLONES
#endif

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
