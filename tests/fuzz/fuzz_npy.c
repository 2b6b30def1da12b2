/*
** fuzz_npy.c — libFuzzer harness for the .npy reader: any bytes, read by
** the sl_npy_read that sl.load uses.
*/
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  return read_bytes(sl_npy_read, "fuzz.npy", data, size);
}
