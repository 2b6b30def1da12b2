/*
** tune.c — the thresholds of the C backend's kernel choices, measured on the
** machine: from how many elements a kernel pays for threads (a memory-bound
** one, a + b, and a compute-bound one, exp), and from how many a transposed
** operand pays for tiles (a + b^T, per element size).
**
** The calibration times the backend's own generated kernels: it compiles
** three small functions (a + b in float64 and float32, exp in float64) through the
** normal path (codegen.c, the optimizing compiler, the disk cache) and calls
** the variants of its kernels directly, with argument blocks it builds, so
** that no setting of sl.config changes while it runs. For each question it
** walks a grid of sizes upwards, each size the best of five samples of each
** side, and takes the first size from which the candidate (threads, tiles)
** wins by 5% twice in a row; never winning gives twice the largest size.
**
** The result is a small text file in the cache directory, named and headed by
** what it depends on: the CPU (model name, cores) and the compiler (command,
** version line, flags). Anything else in the file, or anything missing, and
** the file is ignored (a warning under SYMLUA_DEBUG) and calibrated again.
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "cache.h"
#include "cc.h"
#include "clock.h"
#include "config.h"
#include "internal.h"
#include "program.h"
#include "tune.h"

#define FILE_HEADER "symlua thresholds 1"

static const char *const key_names[SL_TUNE_NKEYS] = {
#define SL_TUNE_NAME(k) #k,
  SL_TUNE_KEYS(SL_TUNE_NAME)
#undef SL_TUNE_NAME
};

typedef struct tuning { int64_t v[SL_TUNE_NKEYS]; } tuning;

enum { ST_UNLOADED, ST_CALIBRATED, ST_DEFAULTS, ST_CALIBRATING };
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int state = ST_UNLOADED;
static char in_force[1024];          /* the file whose values apply, or "" */
int sl_tune_wanted;

static int debug(void) { return sl_env_int(SL_ENV_DEBUG) >= 1; }

/* -- the file -------------------------------------------------------------------- */

/* What the thresholds depend on, as the file's lines 2-4. 0, or -1 + sl_fail. */
static int machine_key(char *out, size_t n)
{
  char model[256] = "unknown", line[512], cc[1024];
  FILE *f = fopen("/proc/cpuinfo", "r");
  while (f && fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (strncmp(line, "model name", 10) != 0 || !colon) continue;
    colon += 1 + strspn(colon + 1, " \t");
    snprintf(model, sizeof model, "%.*s", (int)strcspn(colon, "\n"), colon);
    break;
  }
  if (f) fclose(f);
  if (sl_cc_identity(cc, sizeof cc)) return -1;
  snprintf(out, n, "cpu: %s\ncores: %ld\ncompiler: %s\n", model, sysconf(_SC_NPROCESSORS_ONLN), cc);
  return 0;
}

/* The file's path for this key in the cache directory. 0, or -1 + sl_fail. */
static int file_path(const char *key, char *out, size_t n)
{
  char dir[1024], hex[33];
  if (sl_cache_dir(sl_cfg.cache_dir, dir, sizeof dir)) return -1;
  sl_hash128_hex(sl_hash128_bytes(key, strlen(key)), hex);
  snprintf(out, n, "%s/thresholds-%.16s.txt", dir, hex);
  return 0;
}

/* NULL when text is a whole file for key, its values in *t; else what is wrong. */
static const char *parse(const char *text, const char *key, tuning *t)
{
  size_t hl = strlen(FILE_HEADER), kl = strlen(key);
  if (strncmp(text, FILE_HEADER "\n", hl + 1) != 0) return "not a thresholds file (first line)";
  text += hl + 1;
  if (strncmp(text, key, kl) != 0)
    return strncmp(text, key, strlen(text)) == 0 ? "truncated" : "made for another CPU or compiler";
  text += kl;
  int seen[SL_TUNE_NKEYS] = { 0 };
  for (int i = 0; i < SL_TUNE_NKEYS; i++) {
    char name[64];
    long long v;
    int used = 0;
    if (sscanf(text, "%63[a-z0-9_] %lld\n%n", name, &v, &used) != 2 || used == 0 || text[used - 1] != '\n')
      return "truncated or garbled values";
    int k = 0;
    while (k < SL_TUNE_NKEYS && strcmp(key_names[k], name) != 0) k++;
    if (k == SL_TUNE_NKEYS || seen[k]) return "an unknown or repeated threshold";
    if (v < 0) return "a negative threshold";
    seen[k] = 1;
    t->v[k] = v;
    text += used;
  }
  if (strcmp(text, "end\n") != 0) return "truncated (no end line) or extra text";
  return NULL;
}

static char *read_text(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = malloc(8192);
  size_t n = buf ? fread(buf, 1, 8191, f) : 0;
  fclose(f);
  if (buf) buf[n] = '\0';
  if (buf && strlen(buf) != n) buf[0] = '\0';   /* a NUL inside: garbage */
  return buf;
}

static int write_file(const char *path, const char *key, const tuning *t)
{
  char tmp[1200];
  sl_cache_temp_path(path, ".txt", tmp, sizeof tmp);
  FILE *f = fopen(tmp, "w");
  if (!f) return sl_fail("thresholds: cannot write %s: %s", tmp, strerror(errno));
  fprintf(f, FILE_HEADER "\n%s", key);
  for (int k = 0; k < SL_TUNE_NKEYS; k++) fprintf(f, "%s %lld\n", key_names[k], (long long)t->v[k]);
  fprintf(f, "end\n");
  int bad = ferror(f);
  if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
    remove(tmp);
    return sl_fail("thresholds: cannot write %s", path);
  }
  return 0;
}

/* -- settings ---------------------------------------------------------------------- */

static const sl_config_key *key_of(int k) { return sl_config_find(key_names[k]); }

/* The values of t go to every threshold the user has not set. Under lock. */
static void apply(const tuning *t, const char *path)
{
  for (int k = 0; k < SL_TUNE_NKEYS; k++) {
    const sl_config_key *c = key_of(k);
    if (sl_config_origin(c) == SL_CFG_FROM_USER) continue;
    __atomic_store_n((int64_t *)c->value, t->v[k], __ATOMIC_RELAXED);
    sl_config_set_origin(c, SL_CFG_FROM_TUNED);
  }
  snprintf(in_force, sizeof in_force, "%s", path);
}

static int all_user_set(void)
{
  for (int k = 0; k < SL_TUNE_NKEYS; k++)
    if (sl_config_origin(key_of(k)) != SL_CFG_FROM_USER) return 0;
  return 1;
}

static void get_info(sl_tune_info *info)
{
  pthread_mutex_lock(&lock);
  for (int k = 0; k < SL_TUNE_NKEYS; k++) {
    const sl_config_key *c = key_of(k);
    sl_cfg_origin o = sl_config_origin(c);
    info->name[k] = key_names[k];
    info->value[k] = *(const int64_t *)c->value;
    info->source[k] = o == SL_CFG_FROM_USER ? "user" : o == SL_CFG_FROM_TUNED ? "calibrated" : "default";
  }
  snprintf(info->file, sizeof info->file, "%s", in_force);
  info->state = state == ST_CALIBRATING ? "calibrating" : state == ST_CALIBRATED ? "calibrated" : "defaults";
  pthread_mutex_unlock(&lock);
}

void sl_tune_get(sl_tune_info *info)
{
  sl_tune_load();
  get_info(info);
}

int sl_tune_is_key(const char *name)
{
  for (int k = 0; k < SL_TUNE_NKEYS; k++) if (strcmp(key_names[k], name) == 0) return 1;
  return 0;
}

static void print_in_force(void)
{
  sl_tune_info info;
  get_info(&info);
  for (int k = 0; k < SL_TUNE_NKEYS; k++)
    fprintf(stderr, "symlua: %s = %lld (%s%s%s)\n", info.name[k], (long long)info.value[k], info.source[k],
            strcmp(info.source[k], "calibrated") ? "" : ": ", strcmp(info.source[k], "calibrated") ? "" : info.file);
}

/* Valgrind and the like make every timing meaningless: no calibration under them. */
static int timings_meaningful(void)
{
  const char *p = sl_env(SL_ENV_LD_PRELOAD);
  return !(p && strstr(p, "vgpreload"));
}

static void load_once(void)
{
  char key[2048], path[1200];
  tuning t;
  const char *why = NULL;
  int found = 0;
  if (machine_key(key, sizeof key) == 0 && file_path(key, path, sizeof path) == 0) {
    char *text = read_text(path);
    if (text && !(why = parse(text, key, &t))) found = 1;
    else if (text && debug()) fprintf(stderr, "symlua: warning: ignored %s: %s; calibrating again\n", path, why);
    free(text);
  }
  pthread_mutex_lock(&lock);
  if (found) apply(&t, path);
  state = found ? ST_CALIBRATED : ST_DEFAULTS;
  __atomic_store_n(&sl_tune_wanted, !found && !all_user_set() && timings_meaningful() && sl_cc_available(),
                   __ATOMIC_RELAXED);
  pthread_mutex_unlock(&lock);
  if (debug()) print_in_force();
}

static pthread_once_t load_flag = PTHREAD_ONCE_INIT;
void sl_tune_load(void) { pthread_once(&load_flag, load_once); }

/* Ops whose arithmetic outweighs their memory traffic: a kernel with one of
** them takes threads from omp_threshold_compute on. */
static const sl_op *const compute_ops[] = {
  &sl_op_pow, &sl_op_atan2, &sl_op_hypot, &sl_op_logaddexp, &sl_op_exp, &sl_op_exp2, &sl_op_expm1,
  &sl_op_log, &sl_op_log2, &sl_op_log10, &sl_op_log1p, &sl_op_sin, &sl_op_cos, &sl_op_tan,
  &sl_op_asin, &sl_op_acos, &sl_op_atan, &sl_op_asinh, &sl_op_acosh, &sl_op_atanh, &sl_op_cbrt,
  &sl_op_sinh, &sl_op_cosh, &sl_op_tanh, &sl_op_sigmoid, &sl_op_softplus, &sl_op_erf, &sl_op_erfc,
};

int sl_tune_compute_bound(const sl_function *f, const sl_kernel *k)
{
  for (int j = 0; j < k->nnodes; j++)
    for (size_t i = 0; i < sizeof compute_ops / sizeof *compute_ops; i++)
      if (f->order[k->node[j]]->op == compute_ops[i]) return 1;
  return 0;
}

/* -- measuring ---------------------------------------------------------------------- */

/* The kernels timed, each the one kernel of its own function (so that no
** fusion rule can merge them), and their variants in its compiled module. */
enum { K_ADD64, K_ADD32, K_EXP64, NPROBES };
typedef struct probes {
  sl_function *f[NPROBES];
  sl_module *m[NPROBES];
  sl_kfn fn[NPROBES][SL_V_COUNT];
} probes;

/* A sample runs under this lock, and an exiting process takes it for good:
** no generated kernel is left running on OpenMP threads while exit tears
** the runtime down. */
static pthread_mutex_t sampling = PTHREAD_MUTEX_INITIALIZER;
static int exiting;
static char held_lock[1300];   /* the lock file this process holds, or "" */
static void stop_sampling(void)
{
  pthread_mutex_lock(&sampling);
  exiting = 1;
  if (held_lock[0]) remove(held_lock);
}

static sl_var *apply_op(const sl_op *op, int nin, sl_var **in)
{
  sl_node *n = sl_node_apply(op, NULL, nin, in);
  return n ? &n->outputs[0] : NULL;
}

static void probes_free(probes *p)
{
  for (int i = 0; i < NPROBES; i++) {
    if (p->m[i]) sl_module_release(p->m[i]);
    if (p->f[i]) sl_function_free(p->f[i]);
  }
}

/* Probe i: op over nin inputs of type ty, compiled by the optimizing compiler. */
static int probe_build(probes *p, int i, const sl_op *op, int nin, const sl_type *ty)
{
  sl_var *in[2] = { NULL, NULL }, *out = NULL;
  for (int j = 0; j < nin; j++) in[j] = sl_var_input(ty, j ? "b" : "a");
  if (in[0] && (nin < 2 || in[1])) out = apply_op(op, nin, in);
  if (out) p->f[i] = sl_function_new(nin, in, 1, &out, 0, NULL, NULL);
  for (int j = 0; j < nin; j++) if (in[j]) sl_var_release(in[j]);
  if (out) sl_var_release(out);
  if (!p->f[i]) return -1;
  p->f[i]->debug = 0;
  if (sl_function_use_backend(p->f[i], &sl_backend_c)) return -1;
  const sl_program *prog = p->f[i]->backend_state;
  if (!prog || prog->plan->nkernels != 1) return sl_fail("thresholds: a probe is not one kernel");
  if (!(p->m[i] = sl_module_compile(prog->source))) return -1;
  for (int v = 0; v < SL_V_COUNT; v++) {
    char name[64];
    snprintf(name, sizeof name, "sl_k%d_v%d", prog->plan->kernels[0]->code, v);
    p->fn[i][v] = (sl_kfn)sl_module_sym(p->m[i], name);
  }
  if (!p->fn[i][SL_V_CONTIG] || (nin == 2 && (!p->fn[i][SL_V_TILED] || !p->fn[i][SL_V_STRIDED])))
    return sl_fail("thresholds: a probe kernel is missing");
  return 0;
}

static int probes_build(probes *p)
{
  memset(p, 0, sizeof *p);
  sl_type m64 = { SL_FLOAT64, 2, { SL_UNKNOWN, SL_UNKNOWN } }, m32 = { SL_FLOAT32, 2, { SL_UNKNOWN, SL_UNKNOWN } };
  sl_type v64 = { SL_FLOAT64, 1, { SL_UNKNOWN } };
  if (probe_build(p, K_ADD64, &sl_op_add, 2, &m64) || probe_build(p, K_ADD32, &sl_op_add, 2, &m32) ||
      probe_build(p, K_EXP64, &sl_op_exp, 1, &v64)) return -1;
  return 0;
}

/* Seconds per call of fn: the best of 5 samples of at least 0.2 ms each;
** -1 when the process is exiting. */
static double seconds_per_call(sl_kfn fn, const sl_kargs *a)
{
  pthread_mutex_lock(&sampling);
  if (exiting) { pthread_mutex_unlock(&sampling); return -1; }
  fn(a);   /* warm: pages, caches, the thread team */
  int64_t reps = 1;
  double best = 1e30;
  for (int sample = 0; sample < 5; ) {
    double t0 = sl_clock();
    for (int64_t r = 0; r < reps; r++) fn(a);
    double t = sl_clock() - t0;
    if (t < 2e-4 && reps < ((int64_t)1 << 20)) { reps *= 4; continue; }
    if (t / (double)reps < best) best = t / (double)reps;
    sample++;
  }
  pthread_mutex_unlock(&sampling);
  return best;
}

typedef struct buffers { char *ptr[3]; } buffers;
#define MAX_ELEMENTS ((int64_t)1 << 21)

/* An argument block over nops operands of n elements: flat, or (side x side)
** with the operand b read transposed (stride 1 down columns). */
static void flat_args(sl_kargs *a, int64_t n, int nops, const buffers *b, int64_t threshold)
{
  memset(a, 0, sizeof *a);
  a->n = n, a->nd = 1, a->shape[0] = n;
  a->threads = (int)sl_cfg.threads, a->omp_threshold = threshold;
  for (int k = 0; k < nops; k++) a->ptr[k] = b->ptr[k], a->st[k][0] = 1;
}

static void transposed_args(sl_kargs *a, int64_t side, const buffers *b, int64_t threshold)
{
  flat_args(a, side * side, 3, b, threshold);
  a->nd = 2, a->shape[0] = a->shape[1] = side;
  for (int k = 0; k < 3; k++) a->st[k][0] = side, a->st[k][1] = 1;
  a->st[1][0] = 1, a->st[1][1] = side;
}

typedef enum { Q_THREADS_ADD, Q_THREADS_EXP, Q_TILES32, Q_TILES64 } question;

/* Times of the base and the candidate for question q at n elements: 0, or -1 (exiting). */
static int measure(const probes *p, const buffers *b, question q, int64_t n, int64_t omp, double *base, double *cand)
{
  sl_kargs one, many;
  if (q == Q_THREADS_ADD || q == Q_THREADS_EXP) {
    sl_kfn fn = p->fn[q == Q_THREADS_ADD ? K_ADD64 : K_EXP64][SL_V_CONTIG];
    int nops = q == Q_THREADS_ADD ? 3 : 2;
    flat_args(&one, n, nops, b, INT64_MAX);
    flat_args(&many, n, nops, b, 0);
    *base = seconds_per_call(fn, &one);
    *cand = seconds_per_call(fn, &many);
  } else {
    const sl_kfn *fn = p->fn[q == Q_TILES32 ? K_ADD32 : K_ADD64];
    transposed_args(&one, n, b, omp);   /* here n is the side */
    *base = seconds_per_call(fn[SL_V_STRIDED], &one);
    *cand = seconds_per_call(fn[SL_V_TILED], &one);
  }
  return *base < 0 || *cand < 0 ? -1 : 0;
}

/* The first element count of the grid from which the candidate wins by 5%
** twice in a row; twice the largest when it never does; -1 when exiting. */
static int64_t crossover(const probes *p, const buffers *b, question q, int64_t omp)
{
  int tiles = q == Q_TILES32 || q == Q_TILES64;
  int64_t first_win = -1, last = 0;
  for (int e = tiles ? 10 : q == Q_THREADS_EXP ? 8 : 10; e <= 21; e++) {
    int64_t n = (int64_t)1 << e, side = 0;
    if (tiles) {
      side = 1;
      while ((side + 1) * (side + 1) <= n) side++;
      n = side * side;
    }
    double base, cand;
    if (measure(p, b, q, tiles ? side : n, omp, &base, &cand)) return -1;
    last = n;
    if (cand < 0.95 * base) {
      if (first_win >= 0) return first_win;
      first_win = n;
    } else first_win = -1;
  }
  return first_win >= 0 ? first_win : 2 * last;
}

static int calibrate(tuning *t)
{
  probes p;
  buffers b = { { NULL, NULL, NULL } };
  int rc = probes_build(&p);
  for (int k = 0; k < 3 && rc == 0; k++) {
    if (!(b.ptr[k] = aligned_alloc(64, (size_t)MAX_ELEMENTS * sizeof(double)))) rc = sl_fail("out of memory");
    else for (int64_t i = 0; i < MAX_ELEMENTS; i++) ((double *)b.ptr[k])[i] = 0.25 + (double)(i % 7) * 0.125;
  }
  if (rc == 0) {
    long threads = sl_cfg.threads > 0 ? (long)sl_cfg.threads : sysconf(_SC_NPROCESSORS_ONLN);
    t->v[0] = threads > 1 ? crossover(&p, &b, Q_THREADS_ADD, 0) : sl_cfg.omp_threshold;
    t->v[1] = threads > 1 && t->v[0] >= 0 ? crossover(&p, &b, Q_THREADS_EXP, 0) : sl_cfg.omp_threshold_compute;
    t->v[2] = t->v[1] >= 0 ? crossover(&p, &b, Q_TILES32, t->v[0]) : -1;
    t->v[3] = t->v[2] >= 0 ? crossover(&p, &b, Q_TILES64, t->v[0]) : -1;
    if (t->v[3] < 0) rc = sl_fail("thresholds: the process is exiting");
  }
  for (int k = 0; k < 3; k++) free(b.ptr[k]);
  probes_free(&p);
  return rc;
}

/* -- when ------------------------------------------------------------------------- */

/* Measure, write the file, and (apply_now) give the values to this process.
** Holds `running`, so a second calibration in this process waits for the first. */
static pthread_mutex_t running = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t exit_hook = PTHREAD_ONCE_INIT;
static void hook_exit(void) { atexit(stop_sampling); }

static int calibrate_and_write(int apply_now)
{
  char key[2048], path[1200];
  tuning t;
  pthread_once(&exit_hook, hook_exit);
  if (machine_key(key, sizeof key) || file_path(key, path, sizeof path)) return -1;
  double t0 = sl_clock();
  if (calibrate(&t) || write_file(path, key, &t)) return -1;
  if (debug())
    fprintf(stderr, "symlua: thresholds calibrated in %.2f s, written to %s\n", sl_clock() - t0, path);
  if (apply_now) {
    pthread_mutex_lock(&lock);
    apply(&t, path);
    pthread_mutex_unlock(&lock);
  }
  return 0;
}

/* Another process calibrating for the same file holds path.lock (taken with
** O_EXCL; one older than a minute is a leftover of a killed process). */
static int take_file_lock(char *lockpath, size_t n)
{
  char key[2048], path[1200];
  if (machine_key(key, sizeof key) || file_path(key, path, sizeof path)) return 0;
  snprintf(lockpath, n, "%s.lock", path);
  struct stat st;
  if (stat(lockpath, &st) == 0 && time(NULL) - st.st_mtime > 60) remove(lockpath);
  int fd = open(lockpath, O_CREAT | O_EXCL | O_WRONLY, 0644);
  if (fd < 0) return 0;
  close(fd);
  return 1;
}

static void *background(void *arg)
{
  (void)arg;
  pthread_mutex_lock(&running);
  pthread_once(&exit_hook, hook_exit);
  pthread_mutex_lock(&sampling);
  int mine = !exiting && take_file_lock(held_lock, sizeof held_lock);
  if (!mine) held_lock[0] = '\0';
  pthread_mutex_unlock(&sampling);
  if (mine) {
    /* the values are the next processes': this one keeps its choices */
    if (calibrate_and_write(0) && debug())
      fprintf(stderr, "symlua: warning: calibrating the thresholds failed: %s\n", sl_errmsg());
    pthread_mutex_lock(&sampling);
    if (!exiting) { remove(held_lock); held_lock[0] = '\0'; }
    pthread_mutex_unlock(&sampling);
  }
  pthread_mutex_lock(&lock);
  state = ST_DEFAULTS;
  pthread_mutex_unlock(&lock);
  pthread_mutex_unlock(&running);
  return NULL;
}

void sl_tune_start(void)
{
  pthread_mutex_lock(&lock);
  int go = __atomic_exchange_n(&sl_tune_wanted, 0, __ATOMIC_RELAXED);
  if (go) state = ST_CALIBRATING;
  pthread_mutex_unlock(&lock);
  if (!go) return;
  pthread_t th;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&th, &attr, background, NULL) != 0) {
    pthread_mutex_lock(&lock);
    state = ST_DEFAULTS;
    pthread_mutex_unlock(&lock);
  }
  pthread_attr_destroy(&attr);
}

int sl_tune_run(void)
{
  sl_tune_load();
  pthread_mutex_lock(&lock);
  int was_running = state == ST_CALIBRATING;
  __atomic_store_n(&sl_tune_wanted, 0, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&lock);
  pthread_mutex_lock(&running);   /* waits for a background calibration */
  int rc = 0;
  if (was_running) {
    /* its file, read back as the next process would */
    tuning t;
    char key[2048], path[1200];
    char *text = machine_key(key, sizeof key) || file_path(key, path, sizeof path) ? NULL : read_text(path);
    if (text && !parse(text, key, &t)) {
      pthread_mutex_lock(&lock);
      apply(&t, path);
      pthread_mutex_unlock(&lock);
    } else rc = calibrate_and_write(1);
    free(text);
  } else rc = calibrate_and_write(1);
  if (rc == 0) {
    pthread_mutex_lock(&lock);
    state = ST_CALIBRATED;
    pthread_mutex_unlock(&lock);
  }
  pthread_mutex_unlock(&running);
  return rc;
}
