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
#include <signal.h>
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
#include "vmath_symbols.h"

extern char **environ;

/* Flags when sl.config.cflags is unset. -fno-math-errno lets sqrt and
** friends inline and vectorize; -fno-trapping-math lets conditionals be
** if-converted into vector selects (nothing here relies on FP traps); both
** keep IEEE results, unlike -ffast-math. -ffp-contract=off keeps a*b+c two
** roundings, as libtcc computes it, so both tiers give equal elementwise
** results. -fopenmp enables `omp parallel` and `omp simd` and links libgomp
** into the module. */
#define DEFAULT_CFLAGS "-O3 -march=native -fno-math-errno -fno-trapping-math -ffp-contract=off -fopenmp -pipe"
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

/* Compilers running now, each the leader of its own process group: stopped
** at exit, when no one is left to install what they build. */
static pthread_mutex_t children_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t children[64];
static atomic_int exiting;

static void stop_children(void)
{
  exiting = 1;
  pthread_mutex_lock(&children_lock);
  for (size_t i = 0; i < sizeof children / sizeof *children; i++)
    if (children[i] > 0) kill(-children[i], SIGTERM);
  pthread_mutex_unlock(&children_lock);
}

static void register_stop(void) { atexit(stop_children); }

static void note_child(pid_t old, pid_t pid)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, register_stop);
  pthread_mutex_lock(&children_lock);
  for (size_t i = 0; i < sizeof children / sizeof *children; i++)
    if (children[i] == old) { children[i] = pid; break; }
  pthread_mutex_unlock(&children_lock);
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
  posix_spawnattr_t at;
  posix_spawnattr_init(&at);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&at, 0);
  pid_t pid;
  int err = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  if (!err) note_child(0, pid);
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
    if (errno != EINTR) { note_child(pid, 0); return -1; }
  note_child(pid, 0);
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

int sl_cc_runs(const char *cc)
{
  const compiler *c = compiler_info(cc);
  return c && c->ok;
}

int sl_cc_identity(char *out, size_t n)
{
  settings s;
  if (settings_get(&s) != 0) return -1;
  const compiler *c = compiler_info(s.cc);
  int rc = 0;
  if (!c || !c->ok) rc = sl_fail("compiler '%s' does not run", s.cc);
  else snprintf(out, n, "%s | %.*s | %s", s.cc, (int)strcspn(c->version, "\n"), c->version, s.cflags);
  settings_free(&s);
  return rc;
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
  sl_hasher_code(&h, source);
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
  if (exiting) { unlink(tmp_c); return sl_fail("C compile stopped: the process is exiting"); }
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

/* The entry of source under settings s: its path where it is installed (a
** cache directory that cannot be written is still read: its entries are
** used, new ones go to the directory sl_cache_dir picks), and the key.
** 1: found and verified; 0: not there (path is where to build it); -1 + sl_fail. */
static int find_entry(const settings *s, const char *source, sl_hash128 *key, char *path, size_t n)
{
  if (!source) return sl_fail("sl_module_compile: no source");
  const compiler *c = compiler_info(s->cc);
  if (!c) return sl_fail("out of memory");
  if (!c->ok) return sl_fail("C compiler '%s' is not available: %s", s->cc, c->why);
  *key = cache_key(source, c, s->cflags);
  char rdir[PATH_MAX], dir[PATH_MAX];
  if (sl_cache_read_dir(s->cache_dir, rdir, sizeof rdir) &&
      sl_cache_name(rdir, *key, ".so", path, n) == 0 && sl_cache_check(path)) return 1;
  if (sl_cache_dir(s->cache_dir, dir, sizeof dir) != 0 ||
      sl_cache_path(dir, *key, ".so", path, n) != 0) return -1;
  return sl_cache_check(path);
}

/* Build source into the cache entry at so (its key: key). 0, or -1 + sl_fail. */
static int build_entry(const settings *s, const char *source, sl_hash128 key, const char *so)
{
  char dir[PATH_MAX], kept_c[PATH_MAX + 64], tmp_c[PATH_MAX + 128], tmp_so[PATH_MAX + 128];
  if (sl_cache_dir(s->cache_dir, dir, sizeof dir) != 0 ||
      sl_cache_path(dir, key, ".c", kept_c, sizeof kept_c) != 0) return -1;
  sl_cache_temp_path(so, ".c", tmp_c, sizeof tmp_c);
  sl_cache_temp_path(so, ".so", tmp_so, sizeof tmp_so);
  if (write_file(tmp_c, source) != 0) return sl_fail("cannot write %s: %s", tmp_c, strerror(errno));
  if (run_compiler(s, tmp_c, tmp_so, kept_c) != 0) return -1;
  if (keep_source()) rename(tmp_c, kept_c);
  else unlink(tmp_c);
  if (sl_cache_install(tmp_so, so) != 0) return -1;
  sl_cache_sweep(so);
  return 0;
}

/* The entry of source, built when missing; its path in so. 0, or -1 + sl_fail. */
static int compile_entry(const settings *s, const char *source, char *so, size_t n)
{
  sl_hash128 key;
  int found = find_entry(s, source, &key, so, n);
  if (found < 0) return -1;
  sl_cache_count(found);
  return found ? 0 : build_entry(s, source, key, so);
}

static sl_module *load_entry(const char *so)
{
  char err[512] = "";
  sl_module *m = load(so, err, sizeof err);
  if (!m) sl_fail("cannot load compiled module %s: %s", so, err);
  return m;
}

static sl_module *compile_with(const settings *s, const char *source)
{
  char so[PATH_MAX + 64];
  if (compile_entry(s, source, so, sizeof so) != 0) return NULL;
  sl_module *m = load_entry(so);
  /* A verified entry that does not load (removed meanwhile, or a library it
  ** needs is gone): build it again. */
  if (!m && sl_cache_check(so) == 0 && compile_entry(s, source, so, sizeof so) == 0) m = load_entry(so);
  return m;
}

int sl_module_lookup(const char *source, sl_module **m)
{
  settings s;
  char so[PATH_MAX + 64];
  sl_hash128 key;
  *m = NULL;
  if (settings_get(&s) != 0) return -1;
  int found = find_entry(&s, source, &key, so, sizeof so);
  settings_free(&s);
  if (found == 1 && (*m = load_entry(so))) { sl_cache_count(1); return 1; }
  return found < 0 ? -1 : 0;
}

static sl_module *join_or_compile(const settings *s, const char *source);

sl_module *sl_module_compile(const char *source)
{
  settings s;
  if (settings_get(&s) != 0) return NULL;
  sl_module *m = join_or_compile(&s, source);
  settings_free(&s);
  return m;
}

sl_module *sl_module_compile_using(const char *source, const char *cc, const char *cflags)
{
  settings s = { strdup(cc), strdup(cflags), sl_cfg.cache_dir ? strdup(sl_cfg.cache_dir) : NULL };
  sl_module *m = NULL;
  if (!s.cc || !s.cflags || (sl_cfg.cache_dir && !s.cache_dir)) sl_fail("out of memory");
  else m = compile_with(&s, source);
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
#pragma weak tcc_define_symbol
#pragma weak tcc_add_symbol
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
    /* the vector math links to symlua's optimized copies (vmath_symbols.c) */
    tcc_define_symbol(t, "SL_VMATH_EXTERN", "1");
    ok = tcc_set_output_type(t, TCC_OUTPUT_MEMORY) == 0 &&
         tcc_compile_string(t, source) == 0 &&
         tcc_add_library(t, "m") == 0;
    for (const sl_vmath_symbol *v = sl_vmath_symbols(); ok && v->name; v++)
      ok = tcc_add_symbol(t, v->name, v->fn) == 0;
    ok = ok && tcc_relocate(t, TCC_RELOCATE_AUTO) >= 0;
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

/* -- background compiles ------------------------------------------------------------
** Jobs wait in one queue, in the order they were started, for a few worker
** threads (at most max_workers, so at most that many compilers run at once
** however many functions a process compiles). A start for a source (and
** settings) that is already queued or compiling joins that job: one module is
** never compiled twice at once in one process, and a synchronous compile of
** it waits for the job instead. Workers build the cache entry; every owner
** loads it from there. At exit the compilers still running are stopped (their
** temporaries are removed; nothing half-written is ever installed).
*/

enum { JOB_QUEUED, JOB_RUNNING, JOB_READY, JOB_FAILED };

struct sl_compile_job {
  sl_compile_job *next;   /* in the list of unfinished jobs, oldest first */
  int refs;               /* owners, plus one while unfinished (held by the list) */
  int state;
  sl_hash128 id;          /* of the source and the settings */
  settings s;
  char *source;
  char path[PATH_MAX + 64];   /* the entry, once READY */
  char err[1024];             /* the compiler's message, once FAILED */
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_work = PTHREAD_COND_INITIALIZER;   /* a job was queued */
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;   /* a job finished */
static sl_compile_job *unfinished;
static int workers, idle;

static int max_workers(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n >= 4 ? (int)(n / 2 < 8 ? n / 2 : 8) : 1;
}

static sl_hash128 job_id(const settings *s, const char *source)
{
  sl_hasher h;
  sl_hasher_init(&h, 0);
  sl_hasher_string(&h, s->cc);
  sl_hasher_string(&h, s->cflags);
  sl_hasher_string(&h, s->cache_dir);
  sl_hasher_string(&h, source);
  return sl_hasher_final(&h);
}

static sl_compile_job *find_unfinished(sl_hash128 id)
{
  for (sl_compile_job *j = unfinished; j; j = j->next)
    if (j->id.lo == id.lo && j->id.hi == id.hi) return j;
  return NULL;
}

static void job_destroy(sl_compile_job *j)
{
  settings_free(&j->s);
  free(j->source);
  free(j);
}

/* pool_lock held */
static void job_unref(sl_compile_job *j)
{
  if (--j->refs == 0) job_destroy(j);
}

/* pool_lock held (released while the compiler runs): build a queued job's
** entry, unless every owner is gone, then drop it from the list. */
static void run_job(sl_compile_job *j)
{
  int wanted = j->refs > 1;
  int rc = -1;
  j->state = JOB_RUNNING;
  if (wanted) {
    pthread_mutex_unlock(&pool_lock);
    rc = compile_entry(&j->s, j->source, j->path, sizeof j->path);
    pthread_mutex_lock(&pool_lock);
    if (rc != 0) snprintf(j->err, sizeof j->err, "%s", sl_errmsg());
  }
  j->state = rc == 0 ? JOB_READY : JOB_FAILED;
  sl_compile_job **at = &unfinished;
  while (*at != j) at = &(*at)->next;
  *at = j->next;
  pthread_cond_broadcast(&pool_done);
  job_unref(j);
}

static void *worker_main(void *arg)
{
  (void)arg;
  pthread_mutex_lock(&pool_lock);
  for (;;) {
    sl_compile_job *j = unfinished;
    while (j && j->state != JOB_QUEUED) j = j->next;
    if (j) { run_job(j); continue; }
    idle++;
    pthread_cond_wait(&pool_work, &pool_lock);
    idle--;
  }
  return NULL;
}

/* pool_lock held: queue j, and start a worker when none is free. */
static int enqueue(sl_compile_job *j)
{
  if (idle == 0 && workers < max_workers()) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int err = pthread_create(&t, &attr, worker_main, NULL);
    pthread_attr_destroy(&attr);
    if (err && workers == 0) return sl_fail("cannot start a compile thread: %s", strerror(err));
    if (!err) workers++;
  }
  sl_compile_job **at = &unfinished;
  while (*at) at = &(*at)->next;
  *at = j;
  pthread_cond_signal(&pool_work);
  return 0;
}

sl_compile_job *sl_compile_start(const char *source)
{
  if (!source) { sl_fail("sl_compile_start: no source"); return NULL; }
  sl_compile_job *j = calloc(1, sizeof *j);
  if (!j) { sl_fail("out of memory"); return NULL; }
  if (settings_get(&j->s) != 0) { free(j); return NULL; }
  j->id = job_id(&j->s, source);
  pthread_mutex_lock(&pool_lock);
  sl_compile_job *same = find_unfinished(j->id);
  if (same) {
    same->refs++;
    pthread_mutex_unlock(&pool_lock);
    job_destroy(j);
    return same;
  }
  j->refs = 2;
  j->state = JOB_QUEUED;
  if (!(j->source = strdup(source)) || enqueue(j) != 0) {
    if (!j->source) sl_fail("out of memory");
    pthread_mutex_unlock(&pool_lock);
    job_destroy(j);
    return NULL;
  }
  pthread_mutex_unlock(&pool_lock);
  return j;
}

/* A compile on the calling thread, or a wait for the job already compiling the same. */
static sl_module *join_or_compile(const settings *s, const char *source)
{
  if (!source) { sl_fail("sl_module_compile: no source"); return NULL; }
  pthread_mutex_lock(&pool_lock);
  sl_compile_job *j = find_unfinished(job_id(s, source));
  if (!j) { pthread_mutex_unlock(&pool_lock); return compile_with(s, source); }
  j->refs++;
  if (j->state == JOB_QUEUED) run_job(j);   /* not started yet: build it here rather than wait */
  while (j->state == JOB_RUNNING) pthread_cond_wait(&pool_done, &pool_lock);
  pthread_mutex_unlock(&pool_lock);
  sl_module *m = sl_compile_poll(j);
  if (!m) sl_compile_failed(j);   /* its message */
  sl_compile_job_free(j);
  return m;
}

sl_module *sl_compile_poll(sl_compile_job *j)
{
  if (!j) return NULL;
  pthread_mutex_lock(&pool_lock);
  int state = j->state;
  pthread_mutex_unlock(&pool_lock);
  if (state == JOB_FAILED) sl_fail("%s", j->err);
  if (state != JOB_READY) return NULL;
  sl_module *m = load_entry(j->path);   /* path is final once READY */
  if (!m) {
    pthread_mutex_lock(&pool_lock);
    snprintf(j->err, sizeof j->err, "%s", sl_errmsg());
    j->state = JOB_FAILED;
    pthread_mutex_unlock(&pool_lock);
  }
  return m;
}

int sl_compile_failed(const sl_compile_job *j)
{
  if (!j) return 0;
  pthread_mutex_lock(&pool_lock);
  int failed = j->state == JOB_FAILED;
  pthread_mutex_unlock(&pool_lock);
  if (failed) sl_fail("%s", j->err);
  return failed;
}

void sl_compile_job_free(sl_compile_job *j)
{
  if (!j) return;
  pthread_mutex_lock(&pool_lock);
  job_unref(j);
  pthread_mutex_unlock(&pool_lock);
}
