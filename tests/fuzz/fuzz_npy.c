/*
** fuzz_npy.c — libFuzzer harness for the .npy reader: any bytes, read as a
** file through fmemopen by the same sl_npy_read that sl.load uses.
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
  sl_tensor *t = sl_npy_read(f, (int64_t)size, "fuzz.npy");
  if (t) sl_tensor_release(t);
  fclose(f);
  return 0;
}
