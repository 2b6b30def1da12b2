/*
** storage.c — reference-counted, 64-byte aligned buffers, the count of bytes
** they hold (which the Lua binding uses to drive the collector), and a cache
** of freed buffers that later allocations of a similar size reuse.
**
** Why a cache: a compiled function returns a fresh output on every call, and
** a fresh buffer from the system costs a page fault per page on first touch
** (about 3 GB/s here, against ~57 GB/s for writing memory already mapped).
** A reused buffer is already mapped, so the output costs only its writes.
**
** Buffers come in size classes: eight per power of two, so a reused buffer
** is at most 12.5% larger than asked (the tail beyond the asked size is never
** touched, so it costs address space, not memory). Freed buffers are kept
** per class, newest first; the oldest are freed when the cached bytes pass
** min(sl.config.buffer_cache, max(64 MiB, 3 x live bytes)). The collector
** lets garbage grow to about the live size before it runs (lua/tensor.c), and
** then frees it at once, on top of what the cache holds already (a call's
** intermediates): three times the live size keeps all of that for reuse, with
** room for the rounding up to a class; and never less than what the
** collector may free at once (its threshold: sl_storage_cache_expect), or a
** collection in a large Lua heap frees more than the cache keeps and the
** next calls take fresh memory again. Cached bytes are not live:
** sl_mem_bytes() counts only buffers in use.
**
** One mutex guards the cache and the counts: tensors are made on the thread
** that owns the Lua state, but a background compiler thread may release some.
*/
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "config.h"
#include "internal.h"

/* Under a memory checker a cached buffer is marked unusable, and a reused one
** as uninitialized, so the cache hides neither use-after-free nor reads of
** stale data. */
#if defined(__SANITIZE_ADDRESS__)
#  define SL_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define SL_ASAN 1
#  endif
#endif
#ifdef SL_ASAN
#  include <sanitizer/asan_interface.h>
#  define MARK_CACHED(p, n)  ASAN_POISON_MEMORY_REGION((p), (n))
#  define MARK_REUSED(p, n)  ASAN_UNPOISON_MEMORY_REGION((p), (n))
#elif defined(__has_include)
#  if __has_include(<valgrind/memcheck.h>)
#    include <valgrind/memcheck.h>
#    define MARK_CACHED(p, n)  VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#    define MARK_REUSED(p, n)  VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#  endif
#endif
#ifndef MARK_CACHED
#  define MARK_CACHED(p, n)  ((void)(p), (void)(n))
#  define MARK_REUSED(p, n)  ((void)(p), (void)(n))
#endif

#define SL_HUGE_BYTES ((size_t)2 << 20)
#define CACHE_FLOOR   ((int64_t)64 << 20)   /* the cache may always hold this much */
#define MIN_CLASS     ((size_t)64)
#define MAX_CLASS_LOG 62                     /* larger requests fail outright */
#define NBINS         (1 + (MAX_CLASS_LOG - 5) * 8)

/* A cached buffer: on its class's list (newest first) and on the list of all
** cached buffers by age, so the oldest can be freed first. Nodes live outside
** the buffers, which stay untouched (and poisoned) while cached. */
typedef struct cached {
  void *data;
  size_t cap;
  int bin;
  struct cached *bin_next, *bin_prev;
  struct cached *newer, *older;
} cached;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t live_bytes;            /* sum of nbytes of core-owned storage in use */
static int64_t cache_bytes;           /* sum of cap of cached buffers */
static int64_t cache_count, cache_hits, cache_misses;
static cached *bins[NBINS];
static cached *newest, *oldest;
static pthread_once_t exit_hook = PTHREAD_ONCE_INIT;

/* The capacity of n's size class: n rounded up to a multiple of an eighth of
** its power of two, of 64 bytes, and (from 2 MiB on) of 2 MiB, which every
** smaller class step divides, so the result is itself a class boundary. */
static size_t class_cap(size_t n)
{
  if (n <= MIN_CLASS) return MIN_CLASS;
  int k = 63 - __builtin_clzll((unsigned long long)(n - 1));   /* 2^k < n <= 2^(k+1) */
  size_t step = (size_t)1 << (k - 3);
  if (step < MIN_CLASS) step = MIN_CLASS;
  size_t cap = (n + step - 1) & ~(step - 1);
  if (cap >= SL_HUGE_BYTES) cap = (cap + SL_HUGE_BYTES - 1) & ~(SL_HUGE_BYTES - 1);
  return cap;
}

static int class_bin(size_t cap)
{
  if (cap <= MIN_CLASS) return 0;
  int k = 63 - __builtin_clzll((unsigned long long)(cap - 1));
  size_t step = (size_t)1 << (k - 3);
  return 1 + (k - 6) * 8 + (int)((cap - ((size_t)1 << k)) / step) - 1;
}

/* Fresh memory from the system. Large buffers ask for transparent huge pages:
** first touching fresh 4 KiB pages runs several times slower than the copy
** that fills them. */
static void *system_alloc(size_t cap)
{
  size_t align = cap >= SL_HUGE_BYTES ? SL_HUGE_BYTES : MIN_CLASS;
  void *p = aligned_alloc(align, cap);
#ifdef MADV_HUGEPAGE
  if (p && align == SL_HUGE_BYTES) madvise(p, cap, MADV_HUGEPAGE);
#endif
  return p;
}

/* -- the cache's lists (callers hold the lock) ------------------------------ */

static void unlink_node(cached *c)
{
  if (c->bin_prev) c->bin_prev->bin_next = c->bin_next; else bins[c->bin] = c->bin_next;
  if (c->bin_next) c->bin_next->bin_prev = c->bin_prev;
  if (c->newer) c->newer->older = c->older; else newest = c->older;
  if (c->older) c->older->newer = c->newer; else oldest = c->newer;
  cache_bytes -= (int64_t)c->cap;
  cache_count--;
}

static void link_node(cached *c)
{
  c->bin_prev = NULL;
  c->bin_next = bins[c->bin];
  if (c->bin_next) c->bin_next->bin_prev = c;
  bins[c->bin] = c;
  c->newer = NULL;
  c->older = newest;
  if (newest) newest->newer = c; else oldest = c;
  newest = c;
  cache_bytes += (int64_t)c->cap;
  cache_count++;
}

/* Take cached buffers off the lists, oldest first, until at most `keep`
** bytes are cached; the caller frees them (free_evicted) after unlocking. */
static cached *evict_locked(int64_t keep)
{
  cached *out = NULL;
  while (oldest && cache_bytes > keep) {
    cached *c = oldest;
    unlink_node(c);
    c->bin_next = out;
    out = c;
  }
  return out;
}

static void free_evicted(cached *list)
{
  while (list) {
    cached *next = list->bin_next;
    free(list->data);
    free(list);
    list = next;
  }
}

static int64_t comeback_bytes;        /* what one collection may free at once (sl_storage_cache_expect) */

static int64_t cache_limit_locked(void)
{
  int64_t cap = sl_cfg.buffer_cache;
  int64_t floor = 3 * live_bytes > CACHE_FLOOR ? 3 * live_bytes : CACHE_FLOOR;
  if (comeback_bytes > floor) floor = comeback_bytes;
  return cap < floor ? cap : floor;
}

/* -- public ----------------------------------------------------------------- */

int64_t sl_mem_bytes(void)
{
  pthread_mutex_lock(&lock);
  int64_t n = live_bytes;
  pthread_mutex_unlock(&lock);
  return n;
}

void sl_storage_cache_info(sl_storage_cache_stats *out)
{
  pthread_mutex_lock(&lock);
  out->bytes = cache_bytes;
  out->buffers = cache_count;
  out->hits = cache_hits;
  out->misses = cache_misses;
  pthread_mutex_unlock(&lock);
}

void sl_storage_cache_expect(int64_t bytes)
{
  pthread_mutex_lock(&lock);
  comeback_bytes = bytes;
  pthread_mutex_unlock(&lock);
}

void sl_storage_cache_trim(void)
{
  pthread_mutex_lock(&lock);
  cached *list = evict_locked(0);
  pthread_mutex_unlock(&lock);
  free_evicted(list);
}

/* At exit (or when a dynamically loaded core is unloaded) the cache goes back,
** so leak checkers see nothing held. */
static void register_exit_hook(void) { atexit(sl_storage_cache_trim); }

sl_storage *sl_storage_new(size_t nbytes)
{
  if (nbytes > ((size_t)1 << MAX_CLASS_LOG)) {
    sl_fail("out of memory allocating %zu bytes", nbytes);
    return NULL;
  }
  sl_storage *s = malloc(sizeof *s);
  if (!s) { sl_fail("out of memory"); return NULL; }
  size_t cap = class_cap(nbytes);

  pthread_mutex_lock(&lock);
  cached *hit = bins[class_bin(cap)], *evicted = NULL;
  if (hit) {
    unlink_node(hit);
    cache_hits++;
  } else {
    cache_misses++;
    /* A miss while the cache holds more than it may now (the live size
    ** fell, or the setting was lowered) is the moment to give back the excess. */
    evicted = evict_locked(cache_limit_locked());
  }
  live_bytes += (int64_t)nbytes;
  pthread_mutex_unlock(&lock);
  free_evicted(evicted);

  void *data;
  if (hit) {
    data = hit->data;
    free(hit);
    MARK_REUSED(data, cap);
  } else if (!(data = system_alloc(cap))) {
    sl_storage_cache_trim();   /* cached buffers of other sizes may stand in the way */
    data = system_alloc(cap);
  }
  if (!data) {
    pthread_mutex_lock(&lock);
    live_bytes -= (int64_t)nbytes;
    pthread_mutex_unlock(&lock);
    free(s);
    sl_fail("out of memory allocating %zu bytes", nbytes);
    return NULL;
  }
  s->data = data;
  s->nbytes = nbytes;
  s->refcount = 1;
  s->device = SL_DEVICE_HOST;
  s->allocator = &sl_host_allocator;
  s->release = NULL;
  s->release_ud = NULL;
  return s;
}

void sl_storage_release(sl_storage *s)
{
  if (!s || sl_ref_dec(&s->refcount) > 0) return;
  s->allocator->give_back(s);
  free(s);
}

/* A buffer the host wrapped (sl_tensor_wrap) goes back through its callback. */
static void wrapped_give_back(sl_storage *s) { s->release(s->data, s->release_ud); }
const sl_allocator sl_wrapped_allocator = { "wrapped", SL_DEVICE_HOST, wrapped_give_back };

/* The host caching allocator: the buffer goes to the cache of its size class. */
static void host_give_back(sl_storage *s)
{
  size_t cap = class_cap(s->nbytes);
  cached *c = malloc(sizeof *c);
  if (c) {
    c->data = s->data;
    c->cap = cap;
    c->bin = class_bin(cap);
    MARK_CACHED(c->data, cap);   /* before another thread can take it */
  }
  pthread_mutex_lock(&lock);
  live_bytes -= (int64_t)s->nbytes;
  int64_t limit = cache_limit_locked();
  cached *evicted = NULL;
  int kept = c && (int64_t)cap <= limit;
  if (kept) {
    link_node(c);
    evicted = evict_locked(limit);
  }
  pthread_mutex_unlock(&lock);
  free_evicted(evicted);
  if (kept) {
    pthread_once(&exit_hook, register_exit_hook);
  } else {
    free(s->data);
    free(c);
  }
}
const sl_allocator sl_host_allocator = { "host cache", SL_DEVICE_HOST, host_give_back };
