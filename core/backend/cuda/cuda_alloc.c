/*
** cuda_alloc.c — the caching allocator of device memory (cuda_alloc.h).
**
** Blocks come in size classes: multiples of 512 bytes up to 4 KiB, then
** eight per power of two (2^k + j 2^(k-3), j = 1..8), rounded to whole
** 2 MiB pages from 2 MiB on (the driver's granularity there); each rounding
** lands on a class of the grid, so a class has one bin. A given-back block
** goes to its bin (newest first) and to the list of all cached blocks by
** age; the oldest go back to the device when the cached bytes would pass
** the limit. The nodes live in host memory: device memory is never touched.
** One mutex per allocator; the callbacks run outside it.
*/
#include <pthread.h>
#include <stdlib.h>

#include "cuda_alloc.h"
#include "internal.h"

#define MIN_CLASS ((size_t)512)
#define PAGE      ((size_t)2 << 20)
#define MAX_LOG   47                          /* classes up to 2^48 bytes */
#define NBINS     (8 + (MAX_LOG - 12 + 1) * 8)

typedef struct block {
  uint64_t ptr;
  size_t cap;
  int bin;
  struct block *bin_next, *bin_prev;
  struct block *newer, *older;
} block;

struct sl_cuda_allocator {
  sl_cuda_alloc_ops ops;
  pthread_mutex_t lock;
  block *bins[NBINS];
  block *newest, *oldest;
  sl_cuda_memory_info info;
};

size_t sl_cuda_size_class(size_t n)
{
  if (n <= 8 * MIN_CLASS) return n <= MIN_CLASS ? MIN_CLASS : (n + MIN_CLASS - 1) & ~(MIN_CLASS - 1);
  int k = 63 - __builtin_clzll((unsigned long long)(n - 1));   /* 2^k < n <= 2^(k+1) */
  size_t step = (size_t)1 << (k - 3);
  size_t cap = (n + step - 1) & ~(step - 1);
  return cap > PAGE ? (cap + PAGE - 1) & ~(PAGE - 1) : cap;
}

/* The bin of a class: 0..7 for 512..4096, then eight per power of two. */
static int bin_of(size_t cap)
{
  if (cap <= 8 * MIN_CLASS) return (int)(cap / MIN_CLASS) - 1;
  int k = 63 - __builtin_clzll((unsigned long long)(cap - 1));
  size_t step = (size_t)1 << (k - 3);
  return 8 + (k - 12) * 8 + (int)((cap - ((size_t)1 << k)) / step) - 1;
}

sl_cuda_allocator *sl_cuda_allocator_new(const sl_cuda_alloc_ops *ops, int64_t limit)
{
  sl_cuda_allocator *a = calloc(1, sizeof *a);
  if (!a) { sl_fail("out of memory"); return NULL; }
  a->ops = *ops;
  a->info.limit = limit < 0 ? 0 : limit;
  pthread_mutex_init(&a->lock, NULL);
  return a;
}

/* -- the cache's lists (callers hold the lock) ------------------------------ */

static void unlink_block(sl_cuda_allocator *a, block *b)
{
  if (b->bin_prev) b->bin_prev->bin_next = b->bin_next; else a->bins[b->bin] = b->bin_next;
  if (b->bin_next) b->bin_next->bin_prev = b->bin_prev;
  if (b->newer) b->newer->older = b->older; else a->newest = b->older;
  if (b->older) b->older->newer = b->newer; else a->oldest = b->newer;
  a->info.cached -= (int64_t)b->cap;
}

static void link_block(sl_cuda_allocator *a, block *b)
{
  b->bin_prev = NULL;
  b->bin_next = a->bins[b->bin];
  if (b->bin_next) b->bin_next->bin_prev = b;
  a->bins[b->bin] = b;
  b->newer = NULL;
  b->older = a->newest;
  if (a->newest) a->newest->newer = b; else a->oldest = b;
  a->newest = b;
  a->info.cached += (int64_t)b->cap;
}

/* Cached blocks off the lists, oldest first, until at most keep bytes stay;
** the caller returns them (give_back) after unlocking. */
static block *evict_locked(sl_cuda_allocator *a, int64_t keep)
{
  block *out = NULL;
  while (a->oldest && a->info.cached > keep) {
    block *b = a->oldest;
    unlink_block(a, b);
    b->bin_next = out;
    out = b;
  }
  return out;
}

static void give_back(sl_cuda_allocator *a, block *list)
{
  int64_t n = 0;
  while (list) {
    block *next = list->bin_next;
    a->ops.free(a->ops.ctx, list->ptr);
    free(list);
    list = next;
    n++;
  }
  pthread_mutex_lock(&a->lock);
  a->info.device_frees += n;
  pthread_mutex_unlock(&a->lock);
}

/* -- allocating ---------------------------------------------------------------- */

int sl_cuda_alloc(sl_cuda_allocator *a, size_t bytes, uint64_t *ptr)
{
  if (bytes > ((size_t)1 << (MAX_LOG + 1)))
    return sl_fail("cuda: %zu bytes is more than a device allocation can be", bytes);
  size_t cap = sl_cuda_size_class(bytes);
  pthread_mutex_lock(&a->lock);
  a->info.allocs++;
  block *b = a->bins[bin_of(cap)];
  if (b) {
    unlink_block(a, b);
    a->info.hits++;
    a->info.in_use += (int64_t)cap;
    if (a->info.in_use > a->info.peak) a->info.peak = a->info.in_use;
    pthread_mutex_unlock(&a->lock);
    *ptr = b->ptr;
    free(b);
    return 0;
  }
  pthread_mutex_unlock(&a->lock);
  int rc = a->ops.alloc(a->ops.ctx, cap, ptr);
  int retried = rc != 0;
  if (rc) {   /* out of memory: what the cache holds may make room */
    sl_cuda_empty_cache(a);
    rc = a->ops.alloc(a->ops.ctx, cap, ptr);
  }
  pthread_mutex_lock(&a->lock);
  a->info.retries += retried;
  a->info.device_allocs += retried ? 2 : 1;
  if (!rc) {
    a->info.in_use += (int64_t)cap;
    if (a->info.in_use > a->info.peak) a->info.peak = a->info.in_use;
  }
  int64_t in_use = a->info.in_use;
  pthread_mutex_unlock(&a->lock);
  if (rc)
    return sl_fail("cuda: out of device memory: %zu bytes asked (a block of %zu), %lld bytes in use",
                   bytes, cap, (long long)in_use);
  return 0;
}

int sl_cuda_free(sl_cuda_allocator *a, uint64_t ptr, size_t bytes)
{
  size_t cap = sl_cuda_size_class(bytes);
  block *b = (int64_t)cap <= a->info.limit ? malloc(sizeof *b) : NULL;
  pthread_mutex_lock(&a->lock);
  a->info.in_use -= (int64_t)cap;
  block *evicted = NULL;
  if (b) {
    b->ptr = ptr;
    b->cap = cap;
    b->bin = bin_of(cap);
    evicted = evict_locked(a, a->info.limit - (int64_t)cap);
    link_block(a, b);
  }
  pthread_mutex_unlock(&a->lock);
  give_back(a, evicted);
  if (b) return 0;
  a->ops.free(a->ops.ctx, ptr);   /* larger than the whole cache, or no node for it */
  pthread_mutex_lock(&a->lock);
  a->info.device_frees++;
  int64_t limit = a->info.limit;
  pthread_mutex_unlock(&a->lock);
  return (int64_t)cap <= limit ? sl_fail("out of memory") : 0;
}

void sl_cuda_empty_cache(sl_cuda_allocator *a)
{
  pthread_mutex_lock(&a->lock);
  block *all = evict_locked(a, 0);
  pthread_mutex_unlock(&a->lock);
  give_back(a, all);
}

void sl_cuda_memory_info_of(sl_cuda_allocator *a, sl_cuda_memory_info *out)
{
  pthread_mutex_lock(&a->lock);
  *out = a->info;
  pthread_mutex_unlock(&a->lock);
}

void sl_cuda_allocator_delete(sl_cuda_allocator *a)
{
  if (!a) return;
  sl_cuda_empty_cache(a);
  pthread_mutex_destroy(&a->lock);
  free(a);
}
