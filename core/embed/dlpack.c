/*
** dlpack.c — DLPack in and out (see symlua_dlpack.h): a foreign buffer
** becomes a wrapped storage whose release runs the producer's deleter; an
** exported tensor is one block (the managed struct, its shape and strides)
** that holds a reference to the tensor until the receiver's deleter call.
*/
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "symlua_dlpack.h"

/* One row per symlua dtype: its DLPack code and bits (one lane). */
static const struct { uint8_t code, bits; sl_dtype dt; } dtypes[] = {
  { kDLBool, 8, SL_BOOL },       { kDLUInt, 8, SL_UINT8 },
  { kDLInt, 32, SL_INT32 },      { kDLInt, 64, SL_INT64 },
  { kDLFloat, 32, SL_FLOAT32 },  { kDLFloat, 64, SL_FLOAT64 },
  { kDLComplex, 64, SL_COMPLEX64 }, { kDLComplex, 128, SL_COMPLEX128 },
};
#define NDTYPES ((int)(sizeof dtypes / sizeof *dtypes))

static const char *const code_names[] = { "int", "uint", "float", "opaque handle", "bfloat", "complex", "bool" };

/* -- import --------------------------------------------------------------------------- */

static void keep_buffer(void *data, void *ud) { (void)data; (void)ud; }

/* A tensor over dl's buffer; release(data, ud) runs when its last view goes.
** On failure nothing is released: the caller keeps its tensor. */
static sl_tensor *import(const DLTensor *dl, void (*release)(void *, void *), void *ud, const char *who)
{
  if (dl->device.device_type != kDLCPU && dl->device.device_type != kDLCUDAHost) {
    sl_fail("%s: the tensor is on device type %d (id %d); only CPU memory (kDLCPU, kDLCUDAHost) "
            "can be imported", who, (int)dl->device.device_type, (int)dl->device.device_id);
    return NULL;
  }
  const DLDataType ty = dl->dtype;
  int k = 0;
  while (k < NDTYPES && !(dtypes[k].code == ty.code && dtypes[k].bits == ty.bits)) k++;
  if (k == NDTYPES || ty.lanes != 1) {
    sl_fail("%s: no symlua dtype for DLPack dtype %s%u%s%u (code %u)", who,
            ty.code < sizeof code_names / sizeof *code_names ? code_names[ty.code] : "code ", (unsigned)ty.bits,
            ty.lanes != 1 ? " x " : "", ty.lanes != 1 ? (unsigned)ty.lanes : 0u, (unsigned)ty.code);
    return NULL;
  }
  sl_dtype dt = dtypes[k].dt;
  int64_t esize = (int64_t)sl_dtype_size(dt), numel;
  if (dl->ndim < 0 || dl->ndim > SL_MAXDIM) {
    sl_fail("%s: %d dimensions; a tensor has 0 to %d", who, (int)dl->ndim, SL_MAXDIM);
    return NULL;
  }
  if (dl->ndim > 0 && !dl->shape) { sl_fail("%s: shape is NULL for %d dimensions", who, (int)dl->ndim); return NULL; }
  if (sl_check_shape(dl->ndim, dl->shape, &numel)) return NULL;
  if (dl->byte_offset % (uint64_t)esize) {
    sl_fail("%s: byte_offset %llu is not a multiple of the %s element size (%lld)", who,
            (unsigned long long)dl->byte_offset, sl_dtype_name(dt), (long long)esize);
    return NULL;
  }
  if (!dl->data && numel > 0) { sl_fail("%s: data is NULL for %lld elements", who, (long long)numel); return NULL; }
  /* the elements' span: strides may be negative, so the storage starts at the lowest */
  int64_t strides[SL_MAXDIM], lo = 0, hi = 0;
  if (dl->strides) memcpy(strides, dl->strides, (size_t)dl->ndim * sizeof *strides);
  else sl_contiguous_strides(dl->ndim, dl->shape, strides);
  for (int d = 0; d < dl->ndim && numel > 0; d++) {
    int64_t reach = strides[d] * (dl->shape[d] - 1);
    if (reach < 0) lo += reach; else hi += reach;
  }
  sl_storage *s = malloc(sizeof *s);
  if (!s) { sl_fail("out of memory"); return NULL; }
  s->data = numel > 0 ? (char *)dl->data + dl->byte_offset + lo * esize : dl->data;
  s->nbytes = numel > 0 ? (size_t)(hi - lo + 1) * (size_t)esize : 0;
  s->refcount = 1;
  s->device = SL_DEVICE_HOST;
  s->allocator = &sl_wrapped_allocator;
  s->release = keep_buffer;   /* until the tensor exists: a failure must not call the deleter */
  s->release_ud = NULL;
  sl_tensor *t = sl_tensor_over(s, dt, -lo, dl->ndim, dl->shape, strides);
  if (t) { s->release = release; s->release_ud = ud; }
  sl_storage_release(s);
  return t;
}

static void delete_versioned(void *data, void *ud)
{
  (void)data;
  DLManagedTensorVersioned *m = ud;
  if (m->deleter) m->deleter(m);
}

static void delete_unversioned(void *data, void *ud)
{
  (void)data;
  DLManagedTensor *m = ud;
  if (m->deleter) m->deleter(m);
}

sl_tensor *sl_tensor_from_dlpack_versioned(DLManagedTensorVersioned *m)
{
  static const char who[] = "sl_tensor_from_dlpack_versioned";
  if (!m) { sl_fail("%s: the tensor is NULL", who); return NULL; }
  if (m->version.major != DLPACK_MAJOR_VERSION) {
    sl_fail("%s: DLPack version %u.%u; this build reads major version %d", who,
            (unsigned)m->version.major, (unsigned)m->version.minor, DLPACK_MAJOR_VERSION);
    return NULL;
  }
  if (m->flags & DLPACK_FLAG_BITMASK_READ_ONLY) {
    sl_fail("%s: the tensor is read-only (DLPACK_FLAG_BITMASK_READ_ONLY) and symlua tensors are "
            "writable; export a writable one, or copy it", who);
    return NULL;
  }
  return import(&m->dl_tensor, delete_versioned, m, who);
}

sl_tensor *sl_tensor_from_dlpack(DLManagedTensor *m)
{
  if (!m) { sl_fail("sl_tensor_from_dlpack: the tensor is NULL"); return NULL; }
  return import(&m->dl_tensor, delete_unversioned, m, "sl_tensor_from_dlpack");
}

/* -- export ------------------------------------------------------------------------------ */

typedef struct {
  DLManagedTensorVersioned v;   /* first: the receiver's pointer is the block's */
  DLManagedTensor u;
  sl_tensor *t;
  int64_t shape[SL_MAXDIM], strides[SL_MAXDIM];
} exported;

static exported *export(sl_tensor *t, const char *who)
{
  if (!t) { sl_fail("%s: the tensor is NULL", who); return NULL; }
  if (t->storage->device != SL_DEVICE_HOST) { sl_fail("%s: only host tensors can be exported", who); return NULL; }
  int k = 0;
  while (k < NDTYPES && dtypes[k].dt != t->dtype) k++;
  if (k == NDTYPES) { sl_fail("%s: dtype %d has no DLPack code", who, (int)t->dtype); return NULL; }
  exported *e = calloc(1, sizeof *e);
  if (!e) { sl_fail("out of memory"); return NULL; }
  sl_tensor_retain(t);
  e->t = t;
  memcpy(e->shape, t->shape, sizeof e->shape);
  memcpy(e->strides, t->strides, sizeof e->strides);
  DLTensor dl = {
    .data = t->storage->data,
    .device = { kDLCPU, 0 },
    .ndim = t->ndim,
    .dtype = { dtypes[k].code, dtypes[k].bits, 1 },
    .shape = e->shape,
    .strides = e->strides,
    .byte_offset = (uint64_t)t->offset * sl_dtype_size(t->dtype),
  };
  e->v.dl_tensor = e->u.dl_tensor = dl;
  e->v.manager_ctx = e->u.manager_ctx = e;
  return e;
}

static void release_versioned(DLManagedTensorVersioned *m)
{
  exported *e = m->manager_ctx;
  sl_tensor_release(e->t);
  free(e);
}

static void release_unversioned(DLManagedTensor *m)
{
  exported *e = m->manager_ctx;
  sl_tensor_release(e->t);
  free(e);
}

DLManagedTensorVersioned *sl_tensor_to_dlpack_versioned(sl_tensor *t)
{
  exported *e = export(t, "sl_tensor_to_dlpack_versioned");
  if (!e) return NULL;
  e->v.version = (DLPackVersion){ DLPACK_MAJOR_VERSION, DLPACK_MINOR_VERSION };
  e->v.deleter = release_versioned;
  e->v.flags = 0;
  return &e->v;
}

DLManagedTensor *sl_tensor_to_dlpack(sl_tensor *t)
{
  exported *e = export(t, "sl_tensor_to_dlpack");
  if (!e) return NULL;
  e->u.deleter = release_unversioned;
  return &e->u;
}
