/*
** stream.h — what the reader harnesses share: the fuzzer's bytes become a
** stream through fmemopen, read by the same function that reads files.
*/
#ifndef SL_FUZZ_STREAM_H
#define SL_FUZZ_STREAM_H

#define _GNU_SOURCE   /* fmemopen */
#include <stdint.h>
#include <stdio.h>

#include "internal.h"

typedef sl_tensor *(*stream_reader)(FILE *f, int64_t size, const char *name);

static int read_bytes(stream_reader read, const char *name, const uint8_t *data, size_t size)
{
  if (size == 0) return 0;   /* fmemopen refuses an empty buffer */
  FILE *f = fmemopen((void *)data, size, "rb");
  if (!f) return 0;
  sl_tensor *t = read(f, (int64_t)size, name);
  if (t) sl_tensor_release(t);
  fclose(f);
  return 0;
}

#endif
