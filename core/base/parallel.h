/*
** parallel.h — splitting a range of independent work items between threads.
*/
#ifndef SL_PARALLEL_H
#define SL_PARALLEL_H

#include <stdint.h>

typedef void (*sl_range_fn)(int64_t lo, int64_t hi, void *ctx);

/* Runs fn over [0, n) in contiguous parts, one per thread (sl.config.threads,
** or every core when 0), each part at least `grain` items; the calling thread
** takes the first. fn must give the same results however [0, n) is split:
** callers compute item i from i alone. */
void sl_parallel_for(int64_t n, int64_t grain, sl_range_fn fn, void *ctx);

#endif
