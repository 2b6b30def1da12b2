/*
** clock.h — the monotonic clock that profiles, debug timings and the
** optimizer's timer read, in seconds.
*/
#ifndef SL_CLOCK_H
#define SL_CLOCK_H

#include <time.h>

static inline double sl_clock(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
