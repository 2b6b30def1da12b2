/*
** symlua.h — public C API of the symlua core: dtypes, tensors, errors, memory.
**
** Conventions: axes and indices are 0-based here (the Lua layer is 1-based);
** strides and offsets count elements, not bytes. Functions that can fail
** return NULL (or -1) and leave a message in sl_errmsg().
*/
#ifndef SYMLUA_H
#define SYMLUA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SYMLUA_VERSION "0.1.0"
#define SL_MAXDIM 16   /* most axes a tensor may have */

/* -- dtypes ----------------------------------------------------------------
** One row per dtype: enum suffix, name, C storage type, .npy descr, kind
** ('b' bool, 'u' unsigned, 'i' signed, 'f' float, 'c' complex). Everything
** per dtype is generated from this list. Complex values are C99's complex
** types: a (real, imaginary) pair of floats, as NumPy stores them. float16
** and bfloat16 are stored as their 16 bits and converted by every cast
** (core/tensor/half.c); only cast computes with them. bfloat16 has no .npy
** descr (NumPy has no such dtype): "".
*/
#define SL_DTYPES(_) \
  _(BOOL,    "bool",    uint8_t, "|b1", 'b') \
  _(UINT8,   "uint8",   uint8_t, "|u1", 'u') \
  _(INT8,    "int8",    int8_t,  "|i1", 'i') \
  _(INT16,   "int16",   int16_t, "<i2", 'i') \
  _(INT32,   "int32",   int32_t, "<i4", 'i') \
  _(INT64,   "int64",   int64_t, "<i8", 'i') \
  _(FLOAT16, "float16", uint16_t, "<f2", 'f') \
  _(BFLOAT16, "bfloat16", uint16_t, "", 'f') \
  _(FLOAT32, "float32", float,   "<f4", 'f') \
  _(FLOAT64, "float64", double,  "<f8", 'f') \
  _(COMPLEX64,  "complex64",  float _Complex,  "<c8",  'c') \
  _(COMPLEX128, "complex128", double _Complex, "<c16", 'c')

typedef enum {
#define SL_DTYPE_ENUM(E, name, ctype, descr, kind) SL_##E,
  SL_DTYPES(SL_DTYPE_ENUM)
#undef SL_DTYPE_ENUM
  SL_NDTYPES
} sl_dtype;

const char *sl_dtype_name(sl_dtype dt);
size_t      sl_dtype_size(sl_dtype dt);
char        sl_dtype_kind(sl_dtype dt);
const char *sl_dtype_descr(sl_dtype dt);       /* .npy descr, little endian */
int         sl_dtype_from_name(const char *name, sl_dtype *out);  /* 0 or -1 */
sl_dtype    sl_dtype_promote(sl_dtype a, sl_dtype b);  /* NumPy's rules */
int         sl_dtype_can_cast(sl_dtype from, sl_dtype to); /* every value survives: NumPy's "safe" */

/* -- errors ---------------------------------------------------------------- */
const char *sl_errmsg(void);   /* message of the last failure in this thread */

/* -- memory ----------------------------------------------------------------
** Bytes of tensor storage currently held by the core. A host language with
** a garbage collector polls this to decide when to collect.
*/
int64_t sl_mem_bytes(void);

/* Freed buffers are kept for reuse by later tensors of a similar size (the
** setting buffer_cache bounds them); they are not counted in sl_mem_bytes.
** sl_storage_cache_trim frees them all (it also runs at exit). */
typedef struct sl_storage_cache_stats {
  int64_t bytes, buffers;   /* held in the cache now */
  int64_t hits, misses;     /* allocations served from it, and not, so far */
} sl_storage_cache_stats;
void sl_storage_cache_info(sl_storage_cache_stats *out);
void sl_storage_cache_trim(void);
/* A host's collector frees up to `bytes` of tensors at once (its threshold):
** the cache keeps at least that much, so the next calls reuse all of it. */
void sl_storage_cache_expect(int64_t bytes);

/* -- tensors ---------------------------------------------------------------- */
/* Where a buffer lives; a device backend adds its kind. Tensors on
** different devices never meet in one kernel. */
typedef enum { SL_DEVICE_HOST } sl_device;

/* Who gave a storage its buffer, and takes it back when the last reference goes. */
struct sl_storage;
typedef struct sl_allocator {
  const char *name;                         /* "host cache", "wrapped" */
  sl_device device;
  void (*give_back)(struct sl_storage *s);  /* frees or keeps s->data; s itself is freed after */
} sl_allocator;

typedef struct sl_storage {
  void *data;         /* 64-byte aligned when the core allocated it */
  size_t nbytes;
  int refcount;
  sl_device device;
  const sl_allocator *allocator;
  void (*release)(void *data, void *ud);  /* NULL: the core owns data */
  void *release_ud;
} sl_storage;

typedef struct sl_tensor {
  int refcount;
  sl_dtype dtype;
  int ndim;
  int64_t offset;                 /* first element, in elements */
  int64_t shape[SL_MAXDIM];
  int64_t strides[SL_MAXDIM];     /* in elements; 0 on broadcast axes */
  sl_storage *storage;
} sl_tensor;

/* Creation. A fresh tensor has refcount 1; shapes may contain 0. */
sl_tensor *sl_tensor_empty(sl_dtype dt, int ndim, const int64_t *shape);
sl_tensor *sl_tensor_zeros(sl_dtype dt, int ndim, const int64_t *shape);
sl_tensor *sl_tensor_full(sl_dtype dt, int ndim, const int64_t *shape, double v);
sl_tensor *sl_tensor_arange(double start, double stop, double step, sl_dtype dt);
sl_tensor *sl_tensor_linspace(double start, double stop, int64_t n, sl_dtype dt);
sl_tensor *sl_tensor_eye(int64_t n, int64_t m, sl_dtype dt);
/* Wrap a caller's buffer without copying; release(data, ud) runs when the
** last view goes (NULL: the caller keeps ownership). strides may be NULL
** for C order. */
sl_tensor *sl_tensor_wrap(void *data, sl_dtype dt, int ndim,
                          const int64_t *shape, const int64_t *strides,
                          void (*release)(void *, void *), void *ud);

void sl_tensor_retain(sl_tensor *t);
void sl_tensor_release(sl_tensor *t);   /* NULL is allowed */

int64_t sl_tensor_numel(const sl_tensor *t);
int     sl_tensor_is_contiguous(const sl_tensor *t);  /* C order, no gaps */
void   *sl_tensor_ptr(const sl_tensor *t);            /* first element */

/* Element access by 0-based index, through double (exact up to 2^53). */
double sl_tensor_get(const sl_tensor *t, const int64_t *idx);
void   sl_tensor_set(sl_tensor *t, const int64_t *idx, double v);

/* Views: share storage with t. */
sl_tensor *sl_tensor_view(sl_tensor *t, int ndim, const int64_t *shape);   /* one -1 allowed */
sl_tensor *sl_tensor_reshape(sl_tensor *t, int ndim, const int64_t *shape); /* copies if needed */
sl_tensor *sl_tensor_permute(sl_tensor *t, const int *perm);
sl_tensor *sl_tensor_transpose(sl_tensor *t, int d0, int d1);
sl_tensor *sl_tensor_slice(sl_tensor *t, int dim, int64_t start, int64_t stop, int64_t step);
sl_tensor *sl_tensor_select(sl_tensor *t, int dim, int64_t index);
sl_tensor *sl_tensor_expand(sl_tensor *t, int ndim, const int64_t *shape);
sl_tensor *sl_tensor_squeeze(sl_tensor *t, int dim);   /* dim < 0: every size-1 axis */
sl_tensor *sl_tensor_unsqueeze(sl_tensor *t, int dim);

/* Copies. */
sl_tensor *sl_tensor_contiguous(sl_tensor *t);  /* t itself, retained, when already so */
sl_tensor *sl_tensor_clone(const sl_tensor *t);
sl_tensor *sl_tensor_cast(const sl_tensor *t, sl_dtype dt);
int sl_tensor_copy(sl_tensor *dst, const sl_tensor *src);  /* broadcasts and casts */
int sl_tensor_fill(sl_tensor *t, double v);

/* Broadcast two shapes by NumPy's rules into out (SL_MAXDIM long). */
int sl_broadcast_shapes(int na, const int64_t *a, int nb, const int64_t *b,
                        int *nout, int64_t *out);

/* -- random numbers ----------------------------------------------------------
** Philox-4x32-10, counter based: element i of a draw depends only on the
** seed, the generator's offset and i, never on threads or machine.
*/
void sl_manual_seed(uint64_t seed);
sl_tensor *sl_tensor_rand(sl_dtype dt, int ndim, const int64_t *shape);    /* [0, 1) */
sl_tensor *sl_tensor_randn(sl_dtype dt, int ndim, const int64_t *shape);   /* N(0, 1) */
sl_tensor *sl_tensor_randint(int64_t low, int64_t high, sl_dtype dt,
                             int ndim, const int64_t *shape);             /* [low, high) */

/* -- files: NumPy .npy --------------------------------------------------------- */
sl_tensor *sl_npy_load(const char *path);
int        sl_npy_save(const char *path, const sl_tensor *t);
/* An IDX file (MNIST's format), plain or gzipped; int8 and int16 become int32. */
sl_tensor *sl_idx_load(const char *path);

/* -- printing --------------------------------------------------------------------
** NumPy-style text for t (aligned columns, summarized past 1000 elements,
** shape and dtype shown). Returns a malloc'ed string, or NULL on failure.
*/
char *sl_tensor_format(const sl_tensor *t);

#ifdef __cplusplus
}
#endif
#endif
