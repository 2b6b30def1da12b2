/*
** fuzz_cache_entry.c — libFuzzer harness for the compile cache's entry
** check: any bytes as an entry (object, then trailer) go through
** sl_cache_entry_problem, which sl_cache_check runs on every entry it reads.
*/
#include <stdint.h>
#include <string.h>

#include "cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *bad = sl_cache_entry_problem(data, size);
  /* the only verdicts are intact, truncated and a checksum mismatch */
  if (bad && strcmp(bad, "truncated") && strcmp(bad, "checksum mismatch")) __builtin_trap();
  return 0;
}
