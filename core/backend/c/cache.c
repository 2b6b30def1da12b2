/*
** cache.c — the disk cache of compiled shared objects (see cache.h): where it
** lives, entries verified by a checksum trailer, atomic installs by rename.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "internal.h"

/* -- hashing --------------------------------------------------------------------
** Two 64-bit lanes take 16 bytes per step. For a fixed state a step is
** injective in its 16 input bytes (each word passes through an odd multiply
** and a rotation, and the lanes are added), so two inputs that differ in one
** block always leave different states; the finalizer mixes both lanes into
** each output word.
*/
#define P1 0x9e3779b97f4a7c15ull
#define P2 0xc2b2ae3d27d4eb4full
#define P3 0x165667b19e3779f9ull
#define P4 0xd6e8feb86659fd93ull

static uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t load64(const unsigned char *p)
{
  uint64_t v;
  memcpy(&v, p, 8);
  return v;   /* host order: keys only need to agree on one machine */
}

static uint64_t finish64(uint64_t x)   /* an invertible avalanche */
{
  x ^= x >> 31; x *= 0x7fb5d329728ea185ull;
  x ^= x >> 27; x *= 0x81dadef4bc2dd44dull;
  x ^= x >> 33;
  return x;
}

static void hash_block(sl_hasher *h, const unsigned char *p)
{
  uint64_t k1 = load64(p), k2 = load64(p + 8);
  h->a ^= k1 * P1;
  h->a = rotl64(h->a, 31) * P2 + (h->b ^ k2);
  h->b ^= k2 * P3;
  h->b = rotl64(h->b, 29) * P4 + h->a;
}

void sl_hasher_init(sl_hasher *h, uint64_t seed)
{
  h->a = seed ^ P3;
  h->b = finish64(seed + P4);
  h->len = 0;
  h->nbuf = 0;
}

void sl_hasher_update(sl_hasher *h, const void *data, size_t n)
{
  const unsigned char *p = data;
  h->len += n;
  if (h->nbuf) {
    size_t take = 16 - h->nbuf < n ? 16 - h->nbuf : n;
    memcpy(h->buf + h->nbuf, p, take);
    h->nbuf += take; p += take; n -= take;
    if (h->nbuf < 16) return;
    hash_block(h, h->buf);
    h->nbuf = 0;
  }
  for (; n >= 16; p += 16, n -= 16) hash_block(h, p);
  memcpy(h->buf, p, n);
  h->nbuf = n;
}

void sl_hasher_string(sl_hasher *h, const char *s)
{
  sl_hasher_update(h, s ? s : "", (s ? strlen(s) : 0) + 1);
}

sl_hash128 sl_hasher_final(const sl_hasher *h0)
{
  sl_hasher h = *h0;
  unsigned char last[16] = { 0 };
  memcpy(last, h.buf, h.nbuf);
  hash_block(&h, last);   /* zero padding; the length below tells it apart */
  uint64_t a = h.a ^ h.len, b = h.b ^ rotl64(h.len * P1, 17);
  a = finish64(a + b);
  b = finish64(b ^ rotl64(a, 23));
  a += b;
  return (sl_hash128){ a, b };
}

sl_hash128 sl_hash128_bytes(const void *p, size_t n)
{
  sl_hasher h;
  sl_hasher_init(&h, 0);
  sl_hasher_update(&h, p, n);
  return sl_hasher_final(&h);
}

void sl_hash128_hex(sl_hash128 h, char out[33])
{
  snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.hi, (unsigned long long)h.lo);
}

/* -- warnings and counters ---------------------------------------------------------- */

void sl_cache_warn(const char *fmt, ...)
{
  char msg[SL_ERRMSG_CAP];
  va_list ap;
  va_start(ap, fmt);
  sl_vformat(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "symlua: warning: %s\n", msg);
  fflush(stderr);
}

static _Atomic int64_t n_hits, n_misses, n_corrupt;

void sl_cache_count(int hit)
{
  if (hit) n_hits++;
  else n_misses++;
}

/* -- the directory ------------------------------------------------------------------ */

static pthread_mutex_t dir_lock = PTHREAD_MUTEX_INITIALIZER;
static char resolved_for[PATH_MAX];   /* the wanted directory last resolved ... */
static char resolved[PATH_MAX];       /* ... and the one used for it */
static char fallback[PATH_MAX];       /* the temporary directory, once made */

static int mkdir_p(const char *path)
{
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) { errno = ENAMETOOLONG; return -1; }
  for (char *p = buf + 1; ; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
      *p = c;
      if (!c) break;
    }
  }
  struct stat st;
  if (stat(path, &st) != 0) return -1;
  if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; return -1; }
  return 0;
}

/* Whether a file can be created in dir (root passes access() checks that a
** write would fail, e.g. on a read-only file system, so really try). */
static int writable(const char *dir)
{
  char probe[PATH_MAX + 64];
  snprintf(probe, sizeof probe, "%s/.probe.%ld", dir, (long)getpid());
  int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) return errno == EEXIST ? (unlink(probe), writable(dir)) : 0;
  close(fd);
  unlink(probe);
  return 1;
}

static void remove_fallback(void);

/* The directory wanted by the settings and the environment, or "" if none. */
static void wanted_dir(const char *configured, char *out, size_t n)
{
  const char *e;
  if (configured && *configured) snprintf(out, n, "%s", configured);
  else if ((e = sl_env(SL_ENV_CACHE_DIR)) && *e) snprintf(out, n, "%s", e);
  else if ((e = sl_env(SL_ENV_XDG_CACHE_HOME)) && *e == '/') snprintf(out, n, "%s/symlua", e);
  else if ((e = sl_env(SL_ENV_HOME)) && *e) snprintf(out, n, "%s/.cache/symlua", e);
  else out[0] = '\0';
}

int sl_cache_dir(const char *configured, char *dir, size_t n)
{
  char want[PATH_MAX];
  wanted_dir(configured, want, sizeof want);
  pthread_mutex_lock(&dir_lock);
  if (!resolved[0] || strcmp(want, resolved_for) != 0) {
    const char *why = "no HOME or cache directory set";
    if (want[0]) {
      if (mkdir_p(want) == 0 && writable(want)) why = NULL;
      else why = strerror(errno ? errno : EACCES);
    }
    if (!why) {
      if (!realpath(want, resolved)) snprintf(resolved, sizeof resolved, "%s", want);
    } else {
      if (!fallback[0]) {
        const char *tmp = sl_env(SL_ENV_TMPDIR);
        snprintf(fallback, sizeof fallback, "%s/symlua-cache-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(fallback)) {
          int e = errno;
          fallback[0] = '\0';
          pthread_mutex_unlock(&dir_lock);
          return sl_fail("cache directory '%s' is not usable (%s), and no temporary one "
                         "could be made (%s)", want, why, strerror(e));
        }
        atexit(remove_fallback);
      }
      sl_cache_warn("cache directory '%s' is not writable (%s); using %s for this run",
                    want, why, fallback);
      snprintf(resolved, sizeof resolved, "%s", fallback);
    }
    snprintf(resolved_for, sizeof resolved_for, "%s", want);
  }
  snprintf(dir, n, "%s", resolved);
  pthread_mutex_unlock(&dir_lock);
  return 0;
}

int sl_cache_read_dir(const char *configured, char *dir, size_t n)
{
  char want[PATH_MAX];
  struct stat st;
  wanted_dir(configured, want, sizeof want);
  if (!want[0] || stat(want, &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
  if (!realpath(want, dir)) snprintf(dir, n, "%s", want);
  return 1;
}

int sl_cache_name(const char *dir, sl_hash128 key, const char *ext, char *out, size_t n)
{
  char hex[33];
  sl_hash128_hex(key, hex);
  if (snprintf(out, n, "%s/%.2s/%s%s", dir, hex, hex, ext) >= (int)n)
    return sl_fail("cache path too long: %s", dir);
  return 0;
}

int sl_cache_path(const char *dir, sl_hash128 key, const char *ext, char *out, size_t n)
{
  char hex[33];
  sl_hash128_hex(key, hex);
  if (snprintf(out, n, "%s/%.2s", dir, hex) >= (int)n)
    return sl_fail("cache path too long: %s", dir);
  if (mkdir(out, 0755) != 0 && errno != EEXIST && mkdir_p(out) != 0)   /* dir removed meanwhile */
    return sl_fail("cannot create cache folder %s: %s", out, strerror(errno));
  if (snprintf(out, n, "%s/%.2s/%s%s", dir, hex, hex, ext) >= (int)n)
    return sl_fail("cache path too long: %s", dir);
  return 0;
}

void sl_cache_temp_path(const char *final, const char *ext, char *out, size_t n)
{
  static _Atomic unsigned long counter;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  const char *slash = strrchr(final, '/'), *dot = strrchr(final, '.');
  int stem = (int)(dot && (!slash || dot > slash) ? dot - final : (long)strlen(final));
  snprintf(out, n, "%.*s.%ld-%lu-%lx.tmp%s", stem, final, (long)getpid(),
           (unsigned long)++counter, (unsigned long)ts.tv_nsec, ext);
}

void sl_hasher_code(sl_hasher *h, const char *s)
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

/* -- entries ------------------------------------------------------------------------ */

#define MAGIC "SLCACHE1"
typedef struct trailer {
  char magic[8];
  uint64_t size;       /* bytes of the shared object before the trailer */
  uint64_t lo, hi;     /* their hash */
} trailer;

/* The whole file; NULL when it cannot be opened or read. */
static unsigned char *read_all(const char *path, size_t *n)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  unsigned char *buf = NULL;
  if (fstat(fd, &st) == 0 && (buf = malloc((size_t)st.st_size + 1))) {
    size_t got = 0;
    ssize_t r;
    while (got < (size_t)st.st_size && (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
      got += (size_t)r;
    *n = got;
  }
  close(fd);
  return buf;
}

const char *sl_cache_entry_problem(const unsigned char *buf, size_t n)
{
  trailer t;
  if (n < sizeof t) return "truncated";
  memcpy(&t, buf + n - sizeof t, sizeof t);
  if (memcmp(t.magic, MAGIC, 8) != 0 || t.size != n - sizeof t) return "truncated";
  sl_hash128 h = sl_hash128_bytes(buf, (size_t)t.size);
  if (h.lo != t.lo || h.hi != t.hi) return "checksum mismatch";
  return NULL;
}

int sl_cache_check(const char *path)
{
  size_t n = 0;
  unsigned char *buf = read_all(path, &n);
  if (!buf) return 0;   /* missing (or unreadable: treated as missing, then replaced) */
  const char *bad = sl_cache_entry_problem(buf, n);
  free(buf);
  if (!bad) return 1;
  n_corrupt++;
  sl_cache_warn("cache entry %s is corrupt (%s); removed, rebuilding it", path, bad);
  unlink(path);
  return 0;
}

unsigned char *sl_cache_read(const char *path, size_t *size)
{
  size_t n = 0;
  if (!sl_cache_check(path)) return NULL;
  unsigned char *buf = read_all(path, &n);
  if (buf && sl_cache_entry_problem(buf, n)) { free(buf); return NULL; }   /* replaced meanwhile */
  if (!buf) return NULL;
  *size = n - sizeof(trailer);
  buf[*size] = 0;
  return buf;
}

int sl_cache_install(const char *tmp, const char *final)
{
  size_t n = 0;
  unsigned char *buf = read_all(tmp, &n);
  if (!buf) return sl_fail("cannot read the compiled object %s: %s", tmp, strerror(errno));
  sl_hash128 h = sl_hash128_bytes(buf, n);
  free(buf);
  trailer t;
  memcpy(t.magic, MAGIC, 8);
  t.size = n;
  t.lo = h.lo;
  t.hi = h.hi;
  int fd = open(tmp, O_WRONLY | O_APPEND | O_CLOEXEC);
  int ok = fd >= 0 && write(fd, &t, sizeof t) == (ssize_t)sizeof t;
  if (fd >= 0 && close(fd) != 0) ok = 0;
  if (!ok || rename(tmp, final) != 0) {
    int e = errno;
    unlink(tmp);
    return sl_fail("cannot install cache entry %s: %s", final, strerror(e));
  }
  return 0;
}

/* -- listing and clearing ------------------------------------------------------------ */

static int is_hex(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  return 1;
}

/* 1: an entry (.so), 2: another file of the cache (kept source, stale
** temporary), 0: not ours. */
static int entry_kind(const char *sub, const char *name)
{
  if (strlen(name) < 33 || !is_hex(name, 32) || strncmp(name, sub, 2) != 0) return 0;
  const char *rest = name + 32;
  if (strcmp(rest, ".so") == 0) return 1;
  if (strcmp(rest, ".c") == 0) return 2;
  if (rest[0] == '.' && (strstr(rest, ".tmp.so") || strstr(rest, ".tmp.c"))) return 2;
  return 0;
}

/* Visit the cache's files under dir; remove them when del. */
static int64_t walk(const char *dir, int del, sl_cache_stats *st)
{
  DIR *d = opendir(dir);
  if (!d) return 0;
  int64_t count = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strlen(e->d_name) != 2 || !is_hex(e->d_name, 2)) continue;
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
    DIR *s = opendir(sub);
    if (!s) continue;
    struct dirent *f;
    while ((f = readdir(s))) {
      int kind = entry_kind(e->d_name, f->d_name);
      if (!kind) continue;
      char path[PATH_MAX + 256];
      snprintf(path, sizeof path, "%s/%s", sub, f->d_name);
      struct stat fs;
      if (stat(path, &fs) != 0 || !S_ISREG(fs.st_mode)) continue;
      if (del) { if (unlink(path) == 0) count++; }
      else {
        if (kind == 1) st->entries++;
        st->bytes += fs.st_size;
      }
    }
    closedir(s);
    if (del) rmdir(sub);   /* only succeeds when nothing else is left */
  }
  closedir(d);
  return count;
}

void sl_cache_sweep(const char *entry)
{
  char sub[PATH_MAX];
  const char *slash = strrchr(entry, '/');
  if (!slash || snprintf(sub, sizeof sub, "%.*s", (int)(slash - entry), entry) >= (int)sizeof sub) return;
  const char *name = strrchr(sub, '/');
  name = name ? name + 1 : sub;
  DIR *d = opendir(sub);
  if (!d) return;
  time_t old = time(NULL) - 3600;
  struct dirent *f;
  while ((f = readdir(d))) {
    if (entry_kind(name, f->d_name) != 2 || !strstr(f->d_name, ".tmp")) continue;
    char path[PATH_MAX + 256];
    snprintf(path, sizeof path, "%s/%s", sub, f->d_name);
    struct stat fs;
    if (stat(path, &fs) == 0 && S_ISREG(fs.st_mode) && fs.st_mtime < old) unlink(path);
  }
  closedir(d);
}

int sl_cache_info(char *dir, size_t n, sl_cache_stats *st)
{
  memset(st, 0, sizeof *st);
  st->hits = n_hits;
  st->misses = n_misses;
  st->corrupt = n_corrupt;
  if (sl_cache_dir(sl_cfg.cache_dir, dir, n) != 0) return -1;
  walk(dir, 0, st);
  return 0;
}

int64_t sl_cache_clear(void)
{
  char dir[PATH_MAX];
  if (sl_cache_dir(sl_cfg.cache_dir, dir, sizeof dir) != 0) return -1;
  return walk(dir, 1, NULL);
}

static void remove_fallback(void)
{
  if (!fallback[0]) return;
  walk(fallback, 1, NULL);
  rmdir(fallback);
}
