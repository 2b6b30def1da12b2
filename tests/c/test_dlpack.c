/*
** test_dlpack.c — DLPack both ways against a producer and a consumer written
** here: a foreign buffer (strided, offset) imported without a copy and run
** through a compiled function, its deleter called exactly once when the last
** view goes; a symlua result exported and read as a consumer would, its
** deleter releasing the tensor; and the refusals, each leaving ownership
** with the caller.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symlua_dlpack.h"
#include "symlua_host.h"

#include "tap.h"

/* -- a producer: a 3x4 float64 matrix stored transposed (column-major), one
**    padding element in front reached through byte_offset -- */
typedef struct {
  DLManagedTensorVersioned m;
  int64_t shape[2], strides[2];
  double *buf;
  int *deleted;
} produced;

static void producer_delete(DLManagedTensorVersioned *self)
{
  produced *p = self->manager_ctx;
  (*p->deleted)++;
  free(p->buf);
  free(p);
}

static DLManagedTensorVersioned *produce(int *deleted)
{
  produced *p = calloc(1, sizeof *p);
  p->buf = malloc(13 * sizeof *p->buf);
  p->buf[0] = -999;                              /* not part of the tensor */
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) p->buf[1 + j * 3 + i] = 10 * i + j;   /* element (i, j) */
  p->shape[0] = 3; p->shape[1] = 4;
  p->strides[0] = 1; p->strides[1] = 3;
  p->deleted = deleted;
  p->m.version.major = 1;
  p->m.version.minor = 0;
  p->m.manager_ctx = p;
  p->m.deleter = producer_delete;
  p->m.dl_tensor = (DLTensor){ p->buf, { kDLCPU, 0 }, 2, { kDLFloat, 64, 1 }, p->shape, p->strides, sizeof(double) };
  return &p->m;
}

/* -- a consumer's view of an exported tensor: element (i, j) of a 2-d float64 -- */
static double dl_at(const DLTensor *t, int64_t i, int64_t j)
{
  const char *base = (const char *)t->data + t->byte_offset;
  return ((const double *)base)[i * t->strides[0] + j * t->strides[1]];
}

static int released;
static void count_release(void *data, void *ud) { (void)data; (void)ud; released++; }

int main(void)
{
  int deleted = 0;
  DLManagedTensorVersioned *m = produce(&deleted);
  sl_tensor *t = sl_tensor_from_dlpack_versioned(m);
  CHECK(t && t->ndim == 2 && t->shape[0] == 3 && t->shape[1] == 4 && t->dtype == SL_FLOAT64,
        "a versioned DLPack tensor imports with its shape and dtype");
  CHECK(t && sl_tensor_get(t, (int64_t[]){ 2, 3 }) == 23 && sl_tensor_get(t, (int64_t[]){ 1, 0 }) == 10,
        "its strides and byte_offset are honoured");
  double *p2 = ((produced *)m->manager_ctx)->buf;
  sl_tensor_set(t, (int64_t[]){ 0, 1 }, 7.5);
  CHECK(p2[1 + 1 * 3 + 0] == 7.5, "no copy: a write lands in the producer's buffer");

  /* through a compiled function */
  sl_state *S = sl_state_open("lua");
  sl_function *f = NULL;
  CHECK(S && sl_state_dostring(S, "local sl = require 'symlua'\n"
                                  "sl.config.compile = 'sync'\n"
                                  "local a = sl.matrix('a')\n"
                                  "colsum = sl.compile({a}, sl.sum(a, 1) + 0.5)") == SL_OK &&
        sl_state_get_function(S, "colsum", &f) == SL_OK, "a function over matrices");
  sl_tensor *out[1] = { NULL };
  int ok = f && sl_function_call(f, &t, out) == SL_OK && out[0]->ndim == 1 && out[0]->shape[0] == 4;
  /* columns: (0 + 10 + 20) + 0.5, (7.5 + 11 + 21) + 0.5, ... */
  double want[4] = { 30.5, 40, 36.5, 39.5 };
  for (int j = 0; ok && j < 4; j++) ok &= sl_tensor_get(out[0], (int64_t[]){ j }) == want[j];
  CHECK(ok, "the imported tensor runs through the function in place");
  sl_tensor *col = sl_tensor_select(t, 1, 2);
  sl_tensor_release(t);
  CHECK(deleted == 0, "the deleter waits for the last view");
  sl_tensor_release(col);
  CHECK(deleted == 1, "the deleter runs once when the last view goes");

  /* export: a consumer reads the result and calls the deleter */
  DLManagedTensorVersioned *e = sl_tensor_to_dlpack_versioned(out[0]);
  CHECK(e && e->version.major == 1 && e->flags == 0 && e->dl_tensor.device.device_type == kDLCPU &&
        e->dl_tensor.dtype.code == kDLFloat && e->dl_tensor.dtype.bits == 64 && e->dl_tensor.dtype.lanes == 1 &&
        e->dl_tensor.ndim == 1 && e->dl_tensor.shape[0] == 4 && e->dl_tensor.strides[0] == 1,
        "an exported tensor describes itself as DLPack says");
  CHECK(e && ((const double *)e->dl_tensor.data)[3] == 39.5 && e->dl_tensor.data == sl_tensor_ptr(out[0]),
        "the export shares the tensor's buffer");
  sl_tensor_release(out[0]);
  CHECK(e && ((const double *)e->dl_tensor.data)[0] == 30.5, "the export keeps the tensor alive");
  e->deleter(e);

  /* a round trip of a transposed view, through the unversioned struct */
  double host[6] = { 1, 2, 3, 4, 5, 6 };
  sl_tensor *h = sl_tensor_wrap(host, SL_FLOAT64, 2, (int64_t[]){ 2, 3 }, NULL, count_release, NULL);
  sl_tensor *ht = sl_tensor_transpose(h, 0, 1);
  sl_tensor_release(h);
  DLManagedTensor *u = sl_tensor_to_dlpack(ht);
  CHECK(u && dl_at(&u->dl_tensor, 2, 1) == 6 && u->dl_tensor.strides[0] == 1 && u->dl_tensor.strides[1] == 3,
        "a transposed view exports with its strides");
  sl_tensor *back = u ? sl_tensor_from_dlpack(u) : NULL;
  CHECK(back && sl_tensor_ptr(back) == (void *)host && sl_tensor_get(back, (int64_t[]){ 1, 0 }) == 2,
        "and imports back over the same memory");
  sl_tensor_release(ht);
  CHECK(released == 0, "the host buffer lives while the round trip holds it");
  sl_tensor_release(back);
  CHECK(released == 1, "the last release runs the export's deleter, which releases the host buffer");

  /* refusals: nothing taken, the deleter not called */
  deleted = 0;
  m = produce(&deleted);
  m->version.major = 2;
  CHECK(!sl_tensor_from_dlpack_versioned(m) && strstr(sl_errmsg(), "DLPack version 2.0; this build reads major version 1"),
        "another major version is refused");
  m->version.major = 1;
  m->flags = DLPACK_FLAG_BITMASK_READ_ONLY;
  CHECK(!sl_tensor_from_dlpack_versioned(m) && strstr(sl_errmsg(), "read-only"), "a read-only tensor is refused");
  m->flags = 0;
  m->dl_tensor.device.device_type = kDLCUDA;
  CHECK(!sl_tensor_from_dlpack_versioned(m) && strstr(sl_errmsg(), "device type 2"), "a CUDA tensor is refused for now");
  m->dl_tensor.device.device_type = kDLCPU;
  m->dl_tensor.dtype = (DLDataType){ kDLBfloat, 16, 1 };
  CHECK(!sl_tensor_from_dlpack_versioned(m) && strstr(sl_errmsg(), "no symlua dtype for DLPack dtype bfloat16"),
        "an unknown dtype is named");
  m->dl_tensor.dtype = (DLDataType){ kDLFloat, 64, 1 };
  m->dl_tensor.byte_offset = 3;
  CHECK(!sl_tensor_from_dlpack_versioned(m) && strstr(sl_errmsg(), "byte_offset 3 is not a multiple"),
        "a misaligned byte_offset is refused");
  m->dl_tensor.byte_offset = 0;
  m->dl_tensor.data = NULL;
  CHECK(!sl_tensor_from_dlpack_versioned(m) && strstr(sl_errmsg(), "data is NULL for 12 elements"),
        "a NULL buffer is refused");
  CHECK(!sl_tensor_from_dlpack_versioned(NULL) && strstr(sl_errmsg(), "the tensor is NULL"), "NULL is refused");
  CHECK(deleted == 0, "no refusal called the deleter");
  m->dl_tensor.data = ((produced *)m->manager_ctx)->buf;
  m->deleter(m);

  sl_function_release(f);
  sl_state_close(S);
  return tap_done();
}
