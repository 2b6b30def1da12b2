/*
** config.c — the table of the core's settings (sl.config in Lua), and the
** one place that reads the environment.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "internal.h"

sl_config sl_cfg = {
  .omp_threshold = 1 << 15,
  .omp_threshold_compute = 1 << 12,
  .tile_threshold_f32 = 1 << 21,
  .tile_threshold_f64 = 1 << 20,
  .autotune = 1,
  .fft_plan = "estimate",
  .buffer_cache = (int64_t)1 << 30,
  .mode = "c",
  .device = "cpu",
  .compile = "tiered",
};

const sl_config_key sl_config_keys[] = {
  { "floatX", SL_CFG_FLOAT_DTYPE, &sl_float_default, NULL, "default float dtype", NULL },
  { "cc", SL_CFG_STRING, &sl_cfg.cc, NULL, "C compiler for generated code ($CC or cc)", NULL },
  { "cflags", SL_CFG_STRING, &sl_cfg.cflags, NULL, "flags for the C compiler", NULL },
  { "cache_dir", SL_CFG_STRING, &sl_cfg.cache_dir, NULL, "where compiled code is cached", NULL },
  { "require_compiler", SL_CFG_BOOL, &sl_cfg.require_compiler, NULL,
    "fail instead of falling back to the reference backend when no compiler works", NULL },
  { "compile", SL_CFG_STRING, &sl_cfg.compile, "tiered|sync|tcc",
    "how generated C is built: tiered (libtcc now, the optimizing compiler in the background), "
    "sync (the optimizing compiler at the first call) or tcc (libtcc only)", "SYMLUA_COMPILE" },
  { "omp_threshold", SL_CFG_INT, &sl_cfg.omp_threshold, NULL,
    "elements below which a kernel runs on one thread (calibrated, see symlua --tune)",
    "SYMLUA_OMP_THRESHOLD" },
  { "omp_threshold_compute", SL_CFG_INT, &sl_cfg.omp_threshold_compute, NULL,
    "the same for kernels with a transcendental op such as exp (calibrated)",
    "SYMLUA_OMP_THRESHOLD_COMPUTE" },
  { "tile_threshold_f32", SL_CFG_INT, &sl_cfg.tile_threshold_f32, NULL,
    "elements from which a transposed operand of 4 bytes or less is read in tiles (calibrated)",
    "SYMLUA_TILE_THRESHOLD_F32" },
  { "tile_threshold_f64", SL_CFG_INT, &sl_cfg.tile_threshold_f64, NULL,
    "the same for 8-byte elements (calibrated)", "SYMLUA_TILE_THRESHOLD_F64" },
  { "autotune", SL_CFG_BOOL, &sl_cfg.autotune, NULL,
    "calibrate the thresholds in the background when this machine has no calibration yet "
    "(false: the defaults until symlua --tune)", "SYMLUA_AUTOTUNE" },
  { "threads", SL_CFG_INT, &sl_cfg.threads, NULL, "threads for kernels (0: OMP_NUM_THREADS or all cores)", NULL },
  { "fft_plan", SL_CFG_STRING, &sl_cfg.fft_plan, "estimate|measure", "FFTW planning effort", NULL },
  { "buffer_cache", SL_CFG_INT, &sl_cfg.buffer_cache, NULL,
    "bytes of freed tensor buffers kept for reuse (also at most 3 x the live bytes, or 64 MiB)", NULL },
  { "mode", SL_CFG_STRING, &sl_cfg.mode, "c|reference",
    "backend of sl.compile when opts.mode is not given", "SYMLUA_MODE" },
  { "device", SL_CFG_STRING, &sl_cfg.device, "cpu|cuda",
    "where sl.compile runs a function when opts.mode is not given: cpu (the backend of mode) or cuda "
    "(the cuda backend; an error naming what is missing when there is no driver or device)", "SYMLUA_DEVICE" },
  { NULL, 0, NULL, NULL, NULL, NULL }
};

#define NKEYS (sizeof sl_config_keys / sizeof *sl_config_keys)
static sl_cfg_origin origin[NKEYS];

sl_cfg_origin sl_config_origin(const sl_config_key *k) { return origin[k - sl_config_keys]; }
void sl_config_set_origin(const sl_config_key *k, sl_cfg_origin o) { origin[k - sl_config_keys] = o; }

static int set_int_from_env(const sl_config_key *k, const char *v)
{
  char *end;
  long long x = strtoll(v, &end, 10);
  if (*end || x < 0) return sl_fail("config.%s must be a non-negative integer", k->name);
  *(int64_t *)k->value = x;
  return 0;
}

int sl_config_from_env(void)
{
  for (const sl_config_key *k = sl_config_keys; k->name; k++) {
    const char *v = k->env ? getenv(k->env) : NULL;
    if (!v || !*v) continue;
    if (k->kind == SL_CFG_INT ? set_int_from_env(k, v) : sl_config_set_string(k, v)) {
      char why[256];
      snprintf(why, sizeof why, "%s", sl_errmsg());   /* sl_fail rewrites the message */
      return sl_fail("%s=%s: %s", k->env, v, why);
    }
    sl_config_set_origin(k, SL_CFG_FROM_USER);
  }
  return 0;
}

const sl_config_key *sl_config_find(const char *name)
{
  for (const sl_config_key *k = sl_config_keys; k->name; k++)
    if (strcmp(k->name, name) == 0) return k;
  return NULL;
}

static int is_choice(const char *choices, const char *value)
{
  size_t n = strlen(value);
  for (const char *c = choices; *c; ) {
    const char *bar = strchr(c, '|');
    size_t len = bar ? (size_t)(bar - c) : strlen(c);
    if (len == n && strncmp(c, value, n) == 0) return 1;
    c += len + (bar != NULL);
  }
  return 0;
}

/* Strings set from Lua are copied and kept; the defaults above are static, so
** a copy is recognized by being listed here. */
static char *owned[NKEYS];
static const char *first_choice[NKEYS];

int sl_config_set_string(const sl_config_key *k, const char *value)
{
  int i = (int)(k - sl_config_keys);
  if (value && k->choices && !is_choice(k->choices, value))
    return sl_fail("config.%s must be one of %s, not '%s'", k->name, k->choices, value);
  if (k->choices && !first_choice[i]) {
    first_choice[i] = strndup(k->choices, strcspn(k->choices, "|"));
    if (!first_choice[i]) return sl_fail("out of memory");
  }
  char *copy = value ? strdup(value) : NULL;
  if (value && !copy) return sl_fail("out of memory");
  free(owned[i]);
  owned[i] = copy;
  *(const char **)k->value = copy ? copy : k->choices ? first_choice[i] : NULL;
  return 0;
}

static const char *const env_names[SL_ENV_COUNT] = {
#define SL_ENV_NAME(e, name, doc) name,
  SL_ENV_VARS(SL_ENV_NAME)
#undef SL_ENV_NAME
};

const char *sl_env(sl_env_var v)
{
  return v >= 0 && v < SL_ENV_COUNT ? getenv(env_names[v]) : NULL;
}

int sl_env_on(sl_env_var v)
{
  const char *s = sl_env(v);
  return s && *s && strcmp(s, "0") != 0;
}

int sl_env_int(sl_env_var v)
{
  const char *s = sl_env(v);
  return s ? atoi(s) : 0;
}

sl_compile_mode sl_config_compile(void)
{
  const char *v = sl_cfg.compile;
  return v && strcmp(v, "sync") == 0 ? SL_COMPILE_SYNC
       : v && strcmp(v, "tcc") == 0 ? SL_COMPILE_TCC : SL_COMPILE_TIERED;
}
