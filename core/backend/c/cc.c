/*
** cc.c — compiling generated C (see cc.h): the system compiler through the
** disk cache of cache.c, libtcc in memory, and compiles in background threads.
*/
#define _GNU_SOURCE   /* pipe2 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libtcc.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "cache.h"
#include "cc.h"
#include "config.h"
#include "internal.h"

extern char **environ;

/* Flags when sl.config.cflags is unset. -fno-math-errno lets sqrt and
** friends inline and vectorize; -fno-trapping-math lets conditionals be
** if-converted into vector selects (nothing here relies on FP traps); both
** keep IEEE results, unlike -ffast-math. -fopenmp enables `omp parallel` and
** `omp simd` and links libgomp into the module. */
#define DEFAULT_CFLAGS "-O3 -march=native -fno-math-errno -fno-trapping-math -fopenmp -pipe"
/* Always passed: a module is a position-independent shared object. */
#define REQUIRED_FLAGS "-fPIC -shared"

struct sl_module {
  void *dl;          /* from dlopen, or NULL */
  TCCState *tcc;     /* from libtcc, or NULL */
};

/* The settings a compile reads, copied so that a background compile is not
** affected by (or racing with) later changes to sl.config. */
typedef struct settings {
  char *cc, *cflags, *cache_dir;
} settings;

static void settings_free(settings *s)
{
  free(s->cc);
  free(s->cflags);
  free(s->cache_dir);
}

/* Valgrind (which runs the C tests) does not emulate AVX-512, which
** -march=native may pick: under it, the default flags leave it out. */
static int under_valgrind(void)
{
  const char *p = sl_env(SL_ENV_LD_PRELOAD);
  return p && strstr(p, "vgpreload") != NULL;
}

static int settings_get(settings *s)
{
  const char *env = sl_env(SL_ENV_CC);
  s->cc = strdup(sl_cfg.cc && *sl_cfg.cc ? sl_cfg.cc : env && *env ? env : "cc");
  s->cflags = strdup(sl_cfg.cflags ? sl_cfg.cflags
                     : under_valgrind() ? DEFAULT_CFLAGS " -mno-avx512f" : DEFAULT_CFLAGS);
  s->cache_dir = sl_cfg.cache_dir ? strdup(sl_cfg.cache_dir) : NULL;
  if (!s->cc || !s->cflags || (sl_cfg.cache_dir && !s->cache_dir)) {
    settings_free(s);
    return sl_fail("out of memory");
  }
  return 0;
}

/* -- running the compiler --------------------------------------------------------- */

/* Split a command line at white space (no quoting: compiler and flags are words). */
static int split_words(char *s, char **argv, int max, int n)
{
  char *save = NULL;
  for (char *tok = strtok_r(s, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
    if (n < max - 1) argv[n++] = tok;
  return n;
}

/* Run argv with stdin from /dev/null and stdout + stderr collected in *out
** (malloc'd, NUL-terminated). Returns the exit status, or -1 with errno when
** the program could not be started (a missing binary prints nothing). */
static int run_capture(char *const argv[], char **out)
{
  int fds[2];
  *out = NULL;
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  pid_t pid;
  int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (err) { close(fds[0]); errno = err; return -1; }
  size_t n = 0, cap = 4096;
  char *buf = malloc(cap);
  for (;;) {
    if (buf && n + 1024 > cap) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) { free(buf); buf = NULL; }
      else buf = nb;
    }
    char sink[1024];
    ssize_t r = read(fds[0], buf ? buf + n : sink, buf ? cap - n - 1 : sizeof sink);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    if (buf) n += (size_t)r;
  }
  close(fds[0]);
  if (buf) buf[n] = '\0';
  *out = buf;
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* What `CC --version` said, asked once per compiler string. */
typedef struct compiler {
  struct compiler *next;
  char *cc;
  int ok;
  char *version;   /* its output: the compiler's identity in cache keys */
  char why[256];   /* when not ok */
} compiler;

static pthread_mutex_t compilers_lock = PTHREAD_MUTEX_INITIALIZER;
static compiler *compilers;

static const compiler *compiler_info(const char *cc)
{
  pthread_mutex_lock(&compilers_lock);
  compiler *c = compilers;
  while (c && strcmp(c->cc, cc) != 0) c = c->next;
  if (!c && (c = calloc(1, sizeof *c)) && (c->cc = strdup(cc))) {
    char words[1024], *argv[64], *out = NULL;
    snprintf(words, sizeof words, "%s", cc);
    int argc = split_words(words, argv, 62, 0);
    argv[argc++] = "--version";
    argv[argc] = NULL;
    int rc = argc > 1 ? run_capture(argv, &out) : (errno = ENOENT, -1);
    if (rc == 0 && out) { c->ok = 1; c->version = out; out = NULL; }
    else if (rc < 0) snprintf(c->why, sizeof c->why, "%s", strerror(errno));
    else snprintf(c->why, sizeof c->why, "`%s --version` exited with status %d", cc, rc);
    free(out);
    c->next = compilers;
    compilers = c;
  } else if (!c) {
    pthread_mutex_unlock(&compilers_lock);
    return NULL;
  }
  pthread_mutex_unlock(&compilers_lock);
  return c;
}

int sl_cc_available(void)
{
  settings s;
  if (settings_get(&s) != 0) return 0;
  const compiler *c = compiler_info(s.cc);
  settings_free(&s);
  return c && c->ok;
}

/* -- the host, for cache keys ----------------------------------------------------- */

static char host_isa[1024];
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

/* The processor's identity and feature bits: what -march=native resolves from. */
static void host_isa_init(void)
{
  struct utsname u;
  size_t n = 0;
  if (uname(&u) == 0) n += (size_t)snprintf(host_isa, sizeof host_isa, "%s;", u.machine);
#if defined(__x86_64__) || defined(__i386__)
  unsigned r[4], leaves[] = { 0, 1, 7, 0x80000001u };
  unsigned max = __get_cpuid_max(0, NULL), maxx = __get_cpuid_max(0x80000000u, NULL);
  for (size_t i = 0; i < sizeof leaves / sizeof *leaves; i++) {
    unsigned leaf = leaves[i];
    if (leaf >= 0x80000000u ? leaf > maxx : leaf > max) continue;
    __cpuid_count(leaf, 0, r[0], r[1], r[2], r[3]);
    if (leaf == 1) r[1] &= 0x0000ffffu;   /* drop the APIC id and CPU count of this core */
    n += (size_t)snprintf(host_isa + n, sizeof host_isa - n, "%x:%x,%x,%x,%x;", leaf, r[0], r[1], r[2], r[3]);
    if (n >= sizeof host_isa) break;
  }
  if (maxx >= 0x80000004u && n < sizeof host_isa - 49) {
    for (unsigned leaf = 0x80000002u; leaf <= 0x80000004u; leaf++) {   /* the brand string */
      __cpuid(leaf, r[0], r[1], r[2], r[3]);
      memcpy(host_isa + n, r, 16);
      n += 16;
    }
    host_isa[n] = '\0';
  }
#else
  /* Elsewhere, the first processor's lines of /proc/cpuinfo, minus the clock. */
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  while (f && fgets(line, sizeof line, f) && line[0] != '\n' && n < sizeof host_isa - sizeof line)
    if (!strstr(line, "MHz") && !strstr(line, "BogoMIPS") && !strstr(line, "bogomips"))
      n += (size_t)snprintf(host_isa + n, sizeof host_isa - n, "%s", line);
  if (f) fclose(f);
#endif
}

/* Feed C source without its comments (each one a space, as the compiler
** sees it): annotations such as node ids or script lines then do not change
** the key of code that compiles the same. Literals are kept whole. */
static void hash_code(sl_hasher *h, const char *s)
{
  const char *run = s;   /* start of the text not yet fed */
  while (*s) {
    if (*s == '"' || *s == '\'') {
      char q = *s++;
      while (*s && *s != q && *s != '\n') s += (*s == '\\' && s[1]) ? 2 : 1;
      if (*s == q) s++;
    } else if (s[0] == '/' && (s[1] == '*' || s[1] == '/')) {
      sl_hasher_update(h, run, (size_t)(s - run));
      sl_hasher_update(h, " ", 1);
      if (s[1] == '*') {
        const char *end = strstr(s + 2, "*/");
        s = end ? end + 2 : s + strlen(s);
      } else {
        for (s += 2; *s && !(*s == '\n' && s[-1] != '\\'); s++) {}
      }
      run = s;
    } else s++;
  }
  sl_hasher_update(h, run, (size_t)(s - run));
}

static sl_hash128 cache_key(const char *source, const compiler *c, const char *cflags)
{
  pthread_once(&host_once, host_isa_init);
  sl_hasher h;
  sl_hasher_init(&h, SL_CODEGEN_VERSION);
  sl_hasher_string(&h, "symlua module");
  sl_hasher_string(&h, c->version);
  sl_hasher_string(&h, cflags);
  sl_hasher_string(&h, REQUIRED_FLAGS);
  sl_hasher_string(&h, host_isa);
  hash_code(&h, source);
  return sl_hasher_final(&h);
}

/* -- compiling through the cache --------------------------------------------------- */

static int write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  size_t n = strlen(text);
  int ok = fwrite(text, 1, n, f) == n;
  if (fclose(f) != 0) ok = 0;
  if (!ok) unlink(path);
  return ok ? 0 : -1;
}

static int keep_source(void)
{
  return sl_env_on(SL_ENV_KEEP_SOURCE);
}

/* Replace each occurrence of from in text by to, keeping at most max bytes
** of the result (then marked as cut), written into out. */
static void trim_message(const char *text, const char *from, const char *to, char *out, size_t max)
{
  size_t n = 0, lf = strlen(from), lt = strlen(to);
  while (*text == '\n' || *text == ' ') text++;
  while (*text && n + 1 < max) {
    if (lf && strncmp(text, from, lf) == 0) {
      size_t k = lt < max - 1 - n ? lt : max - 1 - n;
      memcpy(out + n, to, k);
      n += k;
      text += lf;
    } else out[n++] = *text++;
  }
  while (n && (out[n - 1] == '\n' || out[n - 1] == ' ')) n--;
  if (*text && max > 8) {   /* cut: say so */
    if (n > max - 5) n = max - 5;
    memcpy(out + n, " ...", 4);
    n += 4;
  }
  out[n] = '\0';
}

/* Build source into the shared object tmp_so; 0, or -1 + sl_fail with the
** compiler's message (naming kept_c, where the source is left). */
static int run_compiler(const settings *s, const char *tmp_c, const char *tmp_so, const char *kept_c)
{
  char words[4096], *argv[256], *out = NULL;
  if (snprintf(words, sizeof words, "%s %s %s", s->cc, s->cflags, REQUIRED_FLAGS) >= (int)sizeof words)
    return sl_fail("C compiler flags too long");
  int argc = split_words(words, argv, 250, 0);
  argv[argc++] = "-o";
  argv[argc++] = (char *)tmp_so;
  argv[argc++] = (char *)tmp_c;
  argv[argc++] = "-lm";
  argv[argc] = NULL;
  int rc = run_capture(argv, &out);
  if (rc == 0) { free(out); return 0; }
  int e = errno;
  unlink(tmp_so);
  rename(tmp_c, kept_c);
  char msg[720];
  if (rc < 0) snprintf(msg, sizeof msg, "cannot run %s: %s", argv[0], strerror(e));
  else trim_message(out ? out : "", tmp_c, kept_c, msg, sizeof msg);
  free(out);
  return sl_fail("C compile failed (%s, exit status %d); source kept at %s:\n%s",
                 s->cc, rc, kept_c, msg);
}

/* OpenMP's runtime must outlive the modules that brought it in: its idle
** worker threads sleep inside it, and would crash once it is unmapped. */
static void pin_openmp(void)
{
  static atomic_int pinned;
  if (pinned) return;
  if (dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE)) pinned = 1;
}

static sl_module *load(const char *path, char *err, size_t n)
{
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    const char *e = dlerror();
    snprintf(err, n, "%s", e ? e : "unknown error");
    return NULL;
  }
  pin_openmp();
  sl_module *m = calloc(1, sizeof *m);
  if (!m) { dlclose(dl); snprintf(err, n, "out of memory"); return NULL; }
  m->dl = dl;
  return m;
}

static sl_module *compile_with(const settings *s, const char *source)
{
  if (!source) { sl_fail("sl_module_compile: no source"); return NULL; }
  const compiler *c = compiler_info(s->cc);
  if (!c) { sl_fail("out of memory"); return NULL; }
  if (!c->ok) { sl_fail("C compiler '%s' is not available: %s", s->cc, c->why); return NULL; }
  sl_hash128 key = cache_key(source, c, s->cflags);
  char dir[PATH_MAX], so[PATH_MAX + 64], kept_c[PATH_MAX + 64], tmp_c[PATH_MAX + 128],
       tmp_so[PATH_MAX + 128], err[512] = "";
  if (sl_cache_dir(s->cache_dir, dir, sizeof dir) != 0 ||
      sl_cache_path(dir, key, ".so", so, sizeof so) != 0 ||
      sl_cache_path(dir, key, ".c", kept_c, sizeof kept_c) != 0) return NULL;

  if (sl_cache_check(so)) {
    sl_module *m = load(so, err, sizeof err);
    if (m) { sl_cache_count(1); return m; }
    /* A verified entry that does not load (removed meanwhile, or a library
    ** it needs is gone): build it again below. */
  }
  sl_cache_count(0);
  sl_cache_temp_path(so, ".c", tmp_c, sizeof tmp_c);
  sl_cache_temp_path(so, ".so", tmp_so, sizeof tmp_so);
  if (write_file(tmp_c, source) != 0) {
    sl_fail("cannot write %s: %s", tmp_c, strerror(errno));
    return NULL;
  }
  if (run_compiler(s, tmp_c, tmp_so, kept_c) != 0) return NULL;
  if (keep_source()) rename(tmp_c, kept_c);
  else unlink(tmp_c);
  if (sl_cache_install(tmp_so, so) != 0) return NULL;
  sl_cache_sweep(so);
  sl_module *m = load(so, err, sizeof err);
  if (!m) sl_fail("cannot load compiled module %s: %s", so, err);
  return m;
}

sl_module *sl_module_compile(const char *source)
{
  settings s;
  if (settings_get(&s) != 0) return NULL;
  sl_module *m = compile_with(&s, source);
  settings_free(&s);
  return m;
}

/* -- libtcc ------------------------------------------------------------------------ */

/* libtcc is linked into executables only (see the Makefile): elsewhere its
** functions are NULL and compiles say so. */
#pragma weak tcc_new
#pragma weak tcc_delete
#pragma weak tcc_set_error_func
#pragma weak tcc_set_output_type
#pragma weak tcc_compile_string
#pragma weak tcc_add_library
#pragma weak tcc_relocate
#pragma weak tcc_get_symbol

/* libtcc keeps global state while compiling: one compile at a time. */
static pthread_mutex_t tcc_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct tcc_errors { char text[720]; size_t n; } tcc_errors;

static void tcc_error_sink(void *opaque, const char *msg)
{
  tcc_errors *e = opaque;
  if (e->n + 2 < sizeof e->text)
    e->n += (size_t)snprintf(e->text + e->n, sizeof e->text - e->n, "%s%s", e->n ? "\n" : "", msg);
  if (e->n >= sizeof e->text) e->n = sizeof e->text - 1;
}

int sl_cc_tcc_available(void) { return tcc_new != NULL && tcc_get_symbol != NULL; }

sl_module *sl_module_compile_tcc(const char *source)
{
  if (!source) { sl_fail("sl_module_compile_tcc: no source"); return NULL; }
  if (!sl_cc_tcc_available()) { sl_fail("libtcc is not part of this build of symlua"); return NULL; }
  tcc_errors errs = { "", 0 };
  pthread_mutex_lock(&tcc_lock);
  TCCState *t = tcc_new();
  int ok = t != NULL;
  if (ok) {
    tcc_set_error_func(t, &errs, tcc_error_sink);
    ok = tcc_set_output_type(t, TCC_OUTPUT_MEMORY) == 0 &&
         tcc_compile_string(t, source) == 0 &&
         tcc_add_library(t, "m") == 0 &&
         tcc_relocate(t, TCC_RELOCATE_AUTO) >= 0;
  }
  pthread_mutex_unlock(&tcc_lock);
  if (!ok) {
    if (t) tcc_delete(t);
    sl_fail("libtcc compile failed:\n%s", errs.n ? errs.text : "(no message)");
    return NULL;
  }
  sl_module *m = calloc(1, sizeof *m);
  if (!m) { tcc_delete(t); sl_fail("out of memory"); return NULL; }
  m->tcc = t;
  return m;
}

/* -- modules ----------------------------------------------------------------------- */

void *sl_module_sym(const sl_module *m, const char *name)
{
  if (!m || !name) return NULL;
  if (!m->tcc) return dlsym(m->dl, name);
  pthread_mutex_lock(&tcc_lock);
  void *p = tcc_get_symbol(m->tcc, name);
  pthread_mutex_unlock(&tcc_lock);
  return p;
}

void sl_module_release(sl_module *m)
{
  if (!m) return;
  if (m->tcc) {
    pthread_mutex_lock(&tcc_lock);
    tcc_delete(m->tcc);
    pthread_mutex_unlock(&tcc_lock);
  }
  if (m->dl) dlclose(m->dl);
  free(m);
}

extern const char sl_prelude_text[];

const char *sl_cc_prelude(void) { return sl_prelude_text; }

/* -- background compiles ------------------------------------------------------------ */

enum { JOB_RUNNING, JOB_READY, JOB_FAILED, JOB_TAKEN };

struct sl_compile_job {
  pthread_mutex_t lock;
  pthread_t thread;
  int state;
  int abandoned;     /* freed by its owner while running: the thread cleans up */
  settings s;
  char *source;
  sl_module *m;
  char err[1024];    /* the thread's sl_errmsg, handed to the polling thread */
};

static void job_destroy(sl_compile_job *j)
{
  sl_module_release(j->m);
  settings_free(&j->s);
  free(j->source);
  pthread_mutex_destroy(&j->lock);
  free(j);
}

static void *job_main(void *arg)
{
  sl_compile_job *j = arg;
  sl_module *m = compile_with(&j->s, j->source);
  pthread_mutex_lock(&j->lock);
  j->m = m;
  if (!m) snprintf(j->err, sizeof j->err, "%s", sl_errmsg());
  j->state = m ? JOB_READY : JOB_FAILED;
  int abandoned = j->abandoned;
  pthread_mutex_unlock(&j->lock);
  if (abandoned) job_destroy(j);
  return NULL;
}

sl_compile_job *sl_compile_start(const char *source)
{
  if (!source) { sl_fail("sl_compile_start: no source"); return NULL; }
  sl_compile_job *j = calloc(1, sizeof *j);
  if (!j) { sl_fail("out of memory"); return NULL; }
  if (settings_get(&j->s) != 0) { free(j); return NULL; }
  pthread_mutex_init(&j->lock, NULL);
  j->source = strdup(source);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int err = j->source ? pthread_create(&j->thread, &attr, job_main, j) : ENOMEM;
  pthread_attr_destroy(&attr);
  if (err) {
    job_destroy(j);
    sl_fail("cannot start a compile thread: %s", strerror(err));
    return NULL;
  }
  return j;
}

sl_module *sl_compile_poll(sl_compile_job *j)
{
  if (!j) return NULL;
  sl_module *m = NULL;
  pthread_mutex_lock(&j->lock);
  if (j->state == JOB_READY) {
    m = j->m;
    j->m = NULL;
    j->state = JOB_TAKEN;
  } else if (j->state == JOB_FAILED) sl_fail("%s", j->err);
  pthread_mutex_unlock(&j->lock);
  return m;
}

int sl_compile_failed(const sl_compile_job *j)
{
  if (!j) return 0;
  sl_compile_job *mj = (sl_compile_job *)j;
  pthread_mutex_lock(&mj->lock);
  int failed = mj->state == JOB_FAILED;
  if (failed) sl_fail("%s", mj->err);   /* also when it failed after the last poll */
  pthread_mutex_unlock(&mj->lock);
  return failed;
}

void sl_compile_job_free(sl_compile_job *j)
{
  if (!j) return;
  pthread_mutex_lock(&j->lock);
  int running = j->state == JOB_RUNNING;
  j->abandoned = 1;
  pthread_mutex_unlock(&j->lock);
  if (!running) job_destroy(j);
}
