/*
** config.h — settings of the core (sl.config in Lua): one table of named
** settings, each a string, integer or boolean, read by the parts that use them.
*/
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stdint.h>

typedef struct sl_config {
  const char *cc;          /* C compiler for generated code; NULL: $CC or "cc" */
  const char *cflags;      /* its flags; NULL: the defaults of cc.c */
  const char *cache_dir;   /* NULL: $SYMLUA_CACHE_DIR, $XDG_CACHE_HOME/symlua, ~/.cache/symlua */
  int require_compiler;    /* no compiler is an error instead of a fallback */
  const char *compile;     /* "tiered", "sync" or "tcc": see sl_config_compile */
  int64_t omp_threshold;   /* elements below which a kernel runs on one thread */
  int64_t omp_threshold_compute;   /* the same for kernels with a transcendental op (exp, ...) */
  int64_t tile_threshold_f32;      /* elements from which a transposed operand is read in tiles: */
  int64_t tile_threshold_f64;      /* elements of 4 bytes or less, and of 8 bytes */
  int autotune;            /* calibrate those in the background when no calibration exists */
  int64_t threads;         /* 0: OMP_NUM_THREADS or the number of cores */
  const char *fft_plan;    /* "estimate" or "measure" */
  int64_t buffer_cache;    /* bytes of freed tensor buffers kept for reuse (storage.c) */
  const char *mode;        /* backend of a compile without opts.mode: "c" or "reference" */
  const char *device;      /* where a compile without opts.mode runs: "cpu" (on mode) or "cuda" */
} sl_config;

extern sl_config sl_cfg;

typedef enum { SL_CFG_STRING, SL_CFG_INT, SL_CFG_BOOL, SL_CFG_FLOAT_DTYPE } sl_cfg_kind;

typedef struct sl_config_key {
  const char *name;
  sl_cfg_kind kind;
  void *value;             /* const char **, int64_t *, int * or sl_dtype * */
  const char *choices;     /* strings only: allowed values separated by '|', or NULL;
                              the first is the default */
  const char *doc;
  const char *env;         /* the environment variable that sets it, or NULL */
} sl_config_key;

/* The settings in a fixed order, NULL-terminated by name. */
extern const sl_config_key sl_config_keys[];
const sl_config_key *sl_config_find(const char *name);

/* Apply the environment variables of the settings that have one (at load).
** 0, or -1 + sl_fail naming the variable. */
int sl_config_from_env(void);

/* How generated C is compiled (sl.config.compile, $SYMLUA_COMPILE):
** tiered: libtcc in memory for the first calls, the optimizing compiler in the
** background, its code from the first call after it is ready; sync: the
** optimizing compiler at the first call; tcc: libtcc only. */
typedef enum { SL_COMPILE_TIERED, SL_COMPILE_SYNC, SL_COMPILE_TCC } sl_compile_mode;
sl_compile_mode sl_config_compile(void);

/* Set a string setting (copied; NULL restores the default). 0, or -1 + sl_fail. */
int sl_config_set_string(const sl_config_key *k, const char *value);

/* Where a setting's value came from: the default, a calibration file (the
** thresholds of tune.c), or the user (sl.config.x = v, or its environment
** variable). A user's value is never replaced by a calibrated one. */
typedef enum { SL_CFG_FROM_DEFAULT, SL_CFG_FROM_TUNED, SL_CFG_FROM_USER } sl_cfg_origin;
sl_cfg_origin sl_config_origin(const sl_config_key *k);
void sl_config_set_origin(const sl_config_key *k, sl_cfg_origin o);

/* Every other environment variable the core reads (the settings' own are
** in sl_config_keys), read in config.c alone, when it is needed (so a host
** that sets one at run time is heard). */
#define SL_ENV_VARS(_) \
  _(DEBUG,          "SYMLUA_DEBUG",       "1..4: kernel choices, step timings and GB/s, generated source") \
  _(PROFILE,        "SYMLUA_PROFILE",     "profile every function, print the profiles at exit") \
  _(NAN_GUARD,      "SYMLUA_NAN_GUARD",   "check every node's float results for NaN/Inf") \
  _(OPTIMIZER,      "SYMLUA_OPTIMIZER",   "the default optimizing level: none, fast_compile, fast_run") \
  _(OPT_TRACE,      "SYMLUA_OPT_TRACE",   "trace every rewrite the optimizer applies") \
  _(KEEP_SOURCE,    "SYMLUA_KEEP_SOURCE", "keep generated sources next to their cached objects") \
  _(CACHE_DIR,      "SYMLUA_CACHE_DIR",   "where compiled code is cached (before XDG_CACHE_HOME, HOME)") \
  _(XDG_CACHE_HOME, "XDG_CACHE_HOME",     "the cache goes to its symlua folder") \
  _(HOME,           "HOME",               "the cache goes to ~/.cache/symlua") \
  _(TMPDIR,         "TMPDIR",             "where a fallback cache is made") \
  _(CC,             "CC",                 "the C compiler, unless sl.config.cc names one") \
  _(OMPI_SIZE,      "OMPI_COMM_WORLD_SIZE", "set by Open MPI's mpirun: the number of ranks; sl.dist opens MPI only then") \
  _(OMPI_LOCAL_SIZE, "OMPI_COMM_WORLD_LOCAL_SIZE", "set by mpirun: the ranks on this machine, which share its cores") \
  _(OMP_NUM_THREADS, "OMP_NUM_THREADS",   "the user's thread count: sl.dist then leaves the threads per rank alone") \
  _(OPENBLAS_NUM_THREADS, "OPENBLAS_NUM_THREADS", "the same, for OpenBLAS") \
  _(LD_PRELOAD,     "LD_PRELOAD",         "shows valgrind, which lacks AVX-512: generated code leaves it out")
typedef enum {
#define SL_ENV_ENUM(e, name, doc) SL_ENV_##e,
  SL_ENV_VARS(SL_ENV_ENUM)
#undef SL_ENV_ENUM
  SL_ENV_COUNT
} sl_env_var;

const char *sl_env(sl_env_var v);   /* its value, or NULL when unset */
int sl_env_on(sl_env_var v);        /* set, not empty and not "0" */
int sl_env_int(sl_env_var v);       /* its value as a number, 0 when unset */

#endif
