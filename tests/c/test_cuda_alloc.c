/*
** test_cuda_alloc.c — the caching allocator of device memory
** (core/backend/cuda/cuda_alloc.c) over malloc-backed callbacks that play a
** device of limited capacity: size classes, reuse newest first within a
** class only, the cache's bound and its oldest-first returns, a block past
** the bound going back at once, the retry after emptying the cache when
** the device is full, the counters, and concurrent use.
**
** Prints "ok N - name" / "not ok N - name" lines; exits 1 on any failure.
*/
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symlua.h"
#include "cuda_alloc.h"

static int ntests, nfailed;

static void report(int ok, const char *name, const char *expr, int line)
{
  ntests++;
  if (ok) {
    printf("ok %d - %s\n", ntests, name);
  } else {
    nfailed++;
    printf("not ok %d - %s\n#   %s:%d: %s\n", ntests, name, __FILE__, line, expr);
  }
}
#define CHECK(name, cond) report(!!(cond), (name), #cond, __LINE__)

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* -- a device of `capacity` bytes, in host memory --------------------------- */

typedef struct fake_device {
  pthread_mutex_t lock;
  size_t capacity, used;
  int64_t live;                  /* blocks out */
  int nfreed;
  uint64_t freed[64];            /* the first blocks given back, in order */
} fake_device;

/* The block's size sits in front of it, so that free knows how much comes back. */
static int dev_alloc(void *ctx, size_t bytes, uint64_t *ptr)
{
  fake_device *d = ctx;
  pthread_mutex_lock(&d->lock);
  int full = d->used + bytes > d->capacity;
  if (!full) { d->used += bytes; d->live++; }
  pthread_mutex_unlock(&d->lock);
  if (full) return 2;   /* CUDA_ERROR_OUT_OF_MEMORY */
  size_t *p = malloc(sizeof(size_t) + bytes);
  if (!p) return 2;
  p[0] = bytes;
  memset(p + 1, 0xab, bytes);   /* the whole block is writable */
  *ptr = (uint64_t)(uintptr_t)(p + 1);
  return 0;
}

static void dev_free(void *ctx, uint64_t ptr)
{
  fake_device *d = ctx;
  size_t *p = (size_t *)(uintptr_t)ptr - 1;
  pthread_mutex_lock(&d->lock);
  d->used -= p[0];
  d->live--;
  if (d->nfreed < 64) d->freed[d->nfreed++] = ptr;
  pthread_mutex_unlock(&d->lock);
  free(p);
}

static fake_device *device_new(size_t capacity)
{
  fake_device *d = calloc(1, sizeof *d);
  pthread_mutex_init(&d->lock, NULL);
  d->capacity = capacity;
  return d;
}

static sl_cuda_allocator *allocator_on(fake_device *d, int64_t limit)
{
  sl_cuda_alloc_ops ops = { dev_alloc, dev_free, d };
  return sl_cuda_allocator_new(&ops, limit);
}

static sl_cuda_memory_info info(sl_cuda_allocator *a)
{
  sl_cuda_memory_info m;
  sl_cuda_memory_info_of(a, &m);
  return m;
}

/* -- concurrent use ----------------------------------------------------------- */

static sl_cuda_allocator *shared;

static void *churn(void *arg)
{
  int id = (int)(intptr_t)arg;
  for (int i = 0; i < 3000; i++) {
    uint64_t p;
    size_t n = 512 + 700 * (size_t)((i + id) % 9);
    if (sl_cuda_alloc(shared, n, &p)) return (void *)1;
    memset((void *)(uintptr_t)p, id, n);
    if (sl_cuda_free(shared, p, n)) return (void *)1;
  }
  return NULL;
}

int main(void)
{
  /* -- size classes ------------------------------------------------------------ */
  CHECK("the smallest class is 512 bytes", sl_cuda_size_class(1) == 512 && sl_cuda_size_class(512) == 512);
  CHECK("multiples of 512 up to 4 KiB", sl_cuda_size_class(513) == 1024 && sl_cuda_size_class(4095) == 4096);
  CHECK("then eight classes per power of two", sl_cuda_size_class(4097) == 4608 &&
        sl_cuda_size_class(8193) == 9216 && sl_cuda_size_class(MiB + 1) == MiB + 128 * KiB);
  CHECK("whole 2 MiB pages past 2 MiB", sl_cuda_size_class(2 * MiB) == 2 * MiB &&
        sl_cuda_size_class(2 * MiB + 1) == 4 * MiB && sl_cuda_size_class(5 * MiB) == 6 * MiB &&
        sl_cuda_size_class(17 * MiB) == 18 * MiB);
  int bounded = 1, idempotent = 1, covers = 1;
  for (size_t n = 1; n < 64 * MiB; n = n * 5 / 4 + 3) {
    size_t c = sl_cuda_size_class(n);
    covers &= c >= n;
    idempotent &= sl_cuda_size_class(c) == c;
    if (n > 4 * KiB && n <= 2 * MiB) bounded &= c * 8 <= n * 9;   /* at most 12.5% over */
  }
  CHECK("a class covers its request", covers);
  CHECK("a class is its own class", idempotent);
  CHECK("a class is at most 12.5% over the request (4 KiB to 2 MiB)", bounded);

  /* -- reuse -------------------------------------------------------------------- */
  fake_device *d = device_new(64 * MiB);
  sl_cuda_allocator *a = allocator_on(d, (int64_t)(16 * KiB));
  uint64_t p, q, r, s;
  CHECK("a first block comes from the device", sl_cuda_alloc(a, 1000, &p) == 0 && d->live == 1);
  sl_cuda_memory_info m = info(a);
  CHECK("in use counts its class", m.in_use == 1024 && m.cached == 0 && m.device_allocs == 1);
  CHECK("a given-back block is cached, not returned", sl_cuda_free(a, p, 1000) == 0 && d->live == 1 &&
        info(a).cached == 1024 && info(a).in_use == 0);
  CHECK("a request of the same class gets it back", sl_cuda_alloc(a, 900, &q) == 0 && q == p);
  m = info(a);
  CHECK("a hit calls no device", m.hits == 1 && m.device_allocs == 1 && m.allocs == 2 && m.cached == 0);
  sl_cuda_free(a, q, 900);
  CHECK("another class does not take it", sl_cuda_alloc(a, 2000, &r) == 0 && r != p && d->live == 2);
  CHECK("the cached block stays", info(a).cached == 1024);
  sl_cuda_alloc(a, 1000, &s);   /* p again */
  sl_cuda_free(a, r, 2000);
  sl_cuda_free(a, s, 1000);
  uint64_t x, y, z;
  sl_cuda_alloc(a, 1024, &x);
  sl_cuda_alloc(a, 1024, &y);
  sl_cuda_free(a, x, 1024);
  sl_cuda_free(a, y, 1024);
  CHECK("newest first within a class", sl_cuda_alloc(a, 1024, &z) == 0 && z == y);
  sl_cuda_free(a, z, 1024);
  m = info(a);
  CHECK("the peak is the most in use at once", m.peak == 2048 + 1024);
  sl_cuda_allocator_delete(a);
  CHECK("deleting the allocator returns every cached block", d->live == 0 && d->used == 0);

  /* every class its own bin: a cached block never serves a larger class */
  a = allocator_on(d, (int64_t)(64 * MiB));
  int apart = 1;
  size_t c = 512;
  for (int i = 0; i < 120 && c < 32 * MiB; i++) {
    size_t next = sl_cuda_size_class(c + 1);
    int64_t hits = info(a).hits;
    sl_cuda_alloc(a, c, &p);
    sl_cuda_free(a, p, c);
    sl_cuda_alloc(a, next, &q);
    apart &= info(a).hits == hits && q != p;
    sl_cuda_free(a, q, next);
    sl_cuda_empty_cache(a);   /* the fake device stays small */
    c = next;
  }
  CHECK("no class is served from the bin of the class below it", apart && c >= 32 * MiB);
  sl_cuda_allocator_delete(a);

  /* -- the cache's bound ---------------------------------------------------------- */
  d->nfreed = 0;
  a = allocator_on(d, (int64_t)(8 * KiB));
  uint64_t b[6];
  for (int i = 0; i < 6; i++) sl_cuda_alloc(a, 2 * KiB, &b[i]);
  for (int i = 0; i < 6; i++) sl_cuda_free(a, b[i], 2 * KiB);
  m = info(a);
  CHECK("the cache holds at most its limit", m.cached == (int64_t)(8 * KiB) && m.limit == (int64_t)(8 * KiB));
  CHECK("the oldest blocks went back to the device first", d->nfreed == 2 && d->freed[0] == b[0] &&
        d->freed[1] == b[1] && m.device_frees == 2 && d->live == 4);
  uint64_t big;
  sl_cuda_alloc(a, 64 * KiB, &big);
  sl_cuda_free(a, big, 64 * KiB);
  CHECK("a block larger than the limit goes back at once", d->nfreed == 3 && d->freed[2] == big &&
        info(a).cached == (int64_t)(8 * KiB));
  sl_cuda_empty_cache(a);
  CHECK("emptying the cache returns everything", info(a).cached == 0 && d->live == 0 && info(a).device_frees == 7);
  sl_cuda_allocator_delete(a);

  /* -- a full device ------------------------------------------------------------ */
  fake_device *small = device_new(16 * KiB);
  a = allocator_on(small, (int64_t)(64 * KiB));
  sl_cuda_alloc(a, 12 * KiB, &p);
  sl_cuda_free(a, p, 12 * KiB);
  CHECK("a block held by the cache still fills the device", small->used == 12 * KiB);
  CHECK("when the device is full the cache is emptied and the allocation retried",
        sl_cuda_alloc(a, 8 * KiB, &q) == 0 && info(a).retries == 1 && info(a).cached == 0 &&
        small->used == 8 * KiB);
  CHECK("a request the device cannot hold fails", sl_cuda_alloc(a, 32 * KiB, &r) == -1);
  CHECK("with a message naming the sizes",
        strstr(sl_errmsg(), "out of device memory: 32768 bytes asked") != NULL &&
        strstr(sl_errmsg(), "8192 bytes in use") != NULL);
  CHECK("a failed request leaves the counters of the blocks in use", info(a).in_use == (int64_t)(8 * KiB));
  CHECK("more than a device can address fails at once", sl_cuda_alloc(a, SIZE_MAX / 2, &r) == -1 &&
        strstr(sl_errmsg(), "more than a device allocation can be") != NULL);
  sl_cuda_free(a, q, 8 * KiB);
  sl_cuda_allocator_delete(a);
  CHECK("nothing is left on the small device", small->live == 0 && small->used == 0);

  /* -- threads --------------------------------------------------------------------- */
  shared = allocator_on(d, (int64_t)(64 * KiB));
  pthread_t th[4];
  for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, churn, (void *)(intptr_t)(i + 1));
  int ok = 1;
  for (int i = 0; i < 4; i++) { void *rv; pthread_join(th[i], &rv); ok &= rv == NULL; }
  m = info(shared);
  CHECK("concurrent allocations and frees all succeed", ok);
  CHECK("afterwards nothing is in use and the device holds just the cache",
        m.in_use == 0 && (int64_t)d->used == m.cached && m.allocs == 12000 &&
        m.hits + m.device_allocs == m.allocs);
  CHECK("most of them are served by the cache", m.hits > 11000);
  sl_cuda_allocator_delete(shared);
  CHECK("the device is empty at the end", d->live == 0 && d->used == 0);
  free(d);
  free(small);

  printf("1..%d\n", ntests);
  return nfailed ? 1 : 0;
}
