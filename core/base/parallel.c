/*
** parallel.c — sl_parallel_for: a range split between short-lived pthreads.
** Meant for work of a millisecond or more (large random draws), where
** starting a thread (tens of microseconds) does not matter.
*/
#include <pthread.h>
#include <unistd.h>

#include "config.h"
#include "parallel.h"

#define MAX_THREADS 64

typedef struct { sl_range_fn fn; void *ctx; int64_t lo, hi; } part;

static void *run_part(void *p)
{
  part *q = p;
  q->fn(q->lo, q->hi, q->ctx);
  return NULL;
}

static int64_t cores;
static void count_cores(void) { cores = (int64_t)sysconf(_SC_NPROCESSORS_ONLN); }

static int64_t thread_count(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, count_cores);   /* sysconf reads a file in /sys: once */
  int64_t t = sl_cfg.threads > 0 ? sl_cfg.threads : cores;
  return t < 1 ? 1 : t > MAX_THREADS ? MAX_THREADS : t;
}

void sl_parallel_for(int64_t n, int64_t grain, sl_range_fn fn, void *ctx)
{
  int64_t t = thread_count();
  if (grain < 1) grain = 1;
  if (t > n / grain) t = n / grain;
  if (t <= 1) { if (n > 0) fn(0, n, ctx); return; }
  part parts[MAX_THREADS];
  pthread_t tid[MAX_THREADS];
  int started[MAX_THREADS] = { 0 };
  for (int64_t k = 0; k < t; k++)
    parts[k] = (part){ fn, ctx, n * k / t, n * (k + 1) / t };
  for (int64_t k = 1; k < t; k++)
    started[k] = pthread_create(&tid[k], NULL, run_part, &parts[k]) == 0;
  fn(parts[0].lo, parts[0].hi, ctx);
  for (int64_t k = 1; k < t; k++) {   /* a part whose thread did not start runs here */
    if (started[k]) pthread_join(tid[k], NULL);
    else fn(parts[k].lo, parts[k].hi, ctx);
  }
}
