/*
** fuzz_idx.c — libFuzzer harness for the IDX reader, plain and gzipped (the
** corpus holds both): any bytes, read by the sl_idx_read that sl.data.idx uses.
*/
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return read_bytes(sl_idx_read, "fuzz.idx", data, size);
}
