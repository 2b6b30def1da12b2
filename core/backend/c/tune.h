/*
** tune.h — the thresholds of the C backend's kernel choices (when to use
** threads, when to read a transposed operand in tiles), measured on the
** machine once and kept in the cache directory (see tune.c).
*/
#ifndef SL_TUNE_H
#define SL_TUNE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Read the calibration file of this machine and compiler, once per process,
** and give its values to the settings the user has not set. A damaged or
** mismatched file is ignored (a warning under SYMLUA_DEBUG) and calibrated
** again at the first need. SYMLUA_DEBUG=1 prints the values in force. */
void sl_tune_load(void);

/* A kernel is about to run over n elements: when no calibration exists and n
** is large enough for the thresholds to decide anything, calibrate in a
** background thread (once per process; the values are for the processes
** that start after it, so one process's kernels never change their choices),
** unless sl.config.autotune is false. */
#define SL_TUNE_NEED 1024
void sl_tune_start(void);
extern int sl_tune_wanted;   /* 1 while no calibration is known and none runs */
static inline void sl_tune_need(int64_t n)
{
  if (n >= SL_TUNE_NEED && sl_cfg.autotune && __atomic_load_n(&sl_tune_wanted, __ATOMIC_RELAXED)) sl_tune_start();
}

/* 1 when a kernel computes more than it moves (a transcendental op such as
** exp): it takes threads from sl.config.omp_threshold_compute on. */
struct sl_function;
struct sl_kernel;
int sl_tune_compute_bound(const struct sl_function *f, const struct sl_kernel *k);

/* Calibrate now (or wait for this process's background calibration, if one
** runs), write the file and apply its values to the settings the user has not
** set. 0, or -1 + sl_fail. */
int sl_tune_run(void);

/* The thresholds and where each value in force came from. */
#define SL_TUNE_KEYS(_) \
  _(omp_threshold) _(omp_threshold_compute) _(tile_threshold_f32) _(tile_threshold_f64)
enum { SL_TUNE_NKEYS = 4 };
typedef struct sl_tune_info {
  const char *name[SL_TUNE_NKEYS];
  int64_t value[SL_TUNE_NKEYS];
  const char *source[SL_TUNE_NKEYS];   /* "default", "user" or "calibrated" */
  char file[1024];         /* the calibration file in force, or "" */
  const char *state;       /* "calibrated", "defaults" or "calibrating" */
} sl_tune_info;
void sl_tune_get(sl_tune_info *info);
int sl_tune_is_key(const char *name);   /* 1 for the names of SL_TUNE_KEYS */

#endif
