/*
** fuzz_idx.c — libFuzzer harness for the IDX reader, plain and gzipped:
** any bytes, read through fmemopen by the same sl_idx_read that
** sl.data.idx uses. The corpus holds both kinds.
*/
#define _GNU_SOURCE   /* fmemopen */
#include <stdint.h>
#include <stdio.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0) return 0;   /* fmemopen refuses an empty buffer */
  FILE *f = fmemopen((void *)data, size, "rb");
  if (!f) return 0;
  sl_tensor *t = sl_idx_read(f, (int64_t)size, "fuzz.idx");
  if (t) sl_tensor_release(t);
  fclose(f);
  return 0;
}
