/*
** test_storage.c — the storage allocator: freed buffers are reused by later
** allocations of the same size class, the cache stays within its bound and
** frees its oldest buffers first, cached bytes are not counted as live,
** alignment holds for reused buffers, and the cache empties on request.
**
** Prints "ok N - name" / "not ok N - name" lines; exits 1 on any failure.
*/
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "symlua.h"
#include "config.h"
#include "internal.h"
#include "tap.h"


#define MiB ((size_t)1 << 20)

static sl_storage_cache_stats stats(void)
{
  sl_storage_cache_stats st;
  sl_storage_cache_info(&st);
  return st;
}

/* Allocate, fill with a pattern and check it (a reused buffer must be fully
** writable and keep what is written). */
static int fill_and_check(sl_storage *s, unsigned char v)
{
  memset(s->data, v, s->nbytes);
  const unsigned char *p = s->data;
  for (size_t i = 0; i < s->nbytes; i++) if (p[i] != v) return 0;
  return 1;
}

static void *churn(void *arg)
{
  int id = (int)(intptr_t)arg;
  for (int i = 0; i < 2000; i++) {
    sl_storage *s = sl_storage_new((size_t)(64 + 64 * ((i + id) % 7)));
    if (!s) return (void *)1;
    memset(s->data, id, s->nbytes);
    sl_storage_release(s);
  }
  return NULL;
}

int main(void)
{
  sl_storage_cache_trim();
  int64_t live0 = sl_mem_bytes();

  /* -- reuse of the same buffer ----------------------------------------------- */
  sl_storage *a = sl_storage_new(1000);
  CHECK(((uintptr_t)a->data & 63) == 0, "a new buffer is 64-byte aligned");
  CHECK(a->device == SL_DEVICE_HOST && a->allocator == &sl_host_allocator &&
        strcmp(a->allocator->name, "host cache") == 0,
        "a new buffer is on the host, from the host caching allocator");
  CHECK(sl_mem_bytes() == live0 + 1000, "a live buffer counts its asked size");
  CHECK(fill_and_check(a, 0x5a), "a new buffer is writable");
  void *first = a->data;
  sl_storage_release(a);
  sl_storage_cache_stats st = stats();
  CHECK(sl_mem_bytes() == live0, "a freed buffer is no longer live");
  /* 1000 lies in (512, 1024], whose classes step by 64: 1024 is its class */
  CHECK(st.buffers == 1 && st.bytes == 1024, "a freed buffer is cached with its class size");

  int64_t hits = st.hits;
  sl_storage *b = sl_storage_new(1000);
  CHECK(b->data == first && stats().hits == hits + 1, "the same size reuses the cached buffer");
  CHECK(fill_and_check(b, 0xa5), "a reused buffer is writable throughout");
  CHECK(stats().buffers == 0 && stats().bytes == 0, "the cache is empty again");
  sl_storage_release(b);

  sl_storage *c = sl_storage_new(961);   /* another size of the same class */
  CHECK(c->data == first && c->nbytes == 961, "a size of the same class reuses it");
  sl_storage_release(c);

  sl_storage *d = sl_storage_new(1100);  /* class 1152: a different one */
  CHECK(d->data != first, "a size of another class does not");
  sl_storage_release(d);
  CHECK(stats().buffers == 2 && stats().bytes == 1024 + 1152, "both classes are now cached");

  /* -- tensors go through it, with their values right ----------------------------- */
  int64_t shape[2] = { 300, 7 };
  sl_tensor *t = sl_tensor_zeros(SL_FLOAT64, 2, shape);
  void *tdata = t->storage->data;
  sl_tensor_release(t);
  t = sl_tensor_zeros(SL_FLOAT64, 2, shape);
  int zero = t->storage->data == tdata;
  for (int64_t i = 0; i < 2100; i++) zero = zero && ((double *)t->storage->data)[i] == 0.0;
  CHECK(zero, "zeros over a reused buffer are all zero");
  sl_tensor_release(t);

  /* -- large buffers keep huge-page alignment ------------------------------------ */
  sl_storage *h = sl_storage_new(5 * MiB + 3);
  CHECK(((uintptr_t)h->data & (2 * MiB - 1)) == 0, "a large buffer is 2 MiB aligned");
  CHECK(fill_and_check(h, 1), "a large buffer is writable");
  void *hdata = h->data;
  sl_storage_release(h);
  h = sl_storage_new(5 * MiB);
  CHECK(h->data == hdata && ((uintptr_t)h->data & (2 * MiB - 1)) == 0,
        "a reused large buffer is the same, still aligned");
  CHECK(fill_and_check(h, 2), "the reused large buffer is writable");
  sl_storage_release(h);

  /* -- zero bytes ------------------------------------------------------------ */
  sl_storage *z = sl_storage_new(0);
  CHECK(z && z->data && z->nbytes == 0, "an empty buffer has a pointer");
  sl_storage_release(z);

  /* -- trimming ----------------------------------------------------------------- */
  sl_storage_cache_trim();
  st = stats();
  CHECK(st.bytes == 0 && st.buffers == 0, "trim empties the cache");
  CHECK(sl_mem_bytes() == live0, "trim does not touch the live count");

  /* -- the bound: oldest first out -------------------------------------------------- */
  int64_t saved = sl_cfg.buffer_cache;
  sl_cfg.buffer_cache = (int64_t)(3 * MiB);
  sl_storage *m[4];
  for (int i = 0; i < 4; i++) m[i] = sl_storage_new(MiB);   /* class 1 MiB exactly */
  void *m0 = m[0]->data, *m3 = m[3]->data;
  for (int i = 0; i < 4; i++) sl_storage_release(m[i]);
  st = stats();
  CHECK(st.bytes == (int64_t)(3 * MiB) && st.buffers == 3,
        "the cache holds no more than its setting");
  sl_storage *n1 = sl_storage_new(MiB);
  CHECK(n1->data == m3, "the newest freed buffer is reused first");
  sl_storage *n2 = sl_storage_new(MiB), *n3 = sl_storage_new(MiB);
  CHECK(n2->data != m0 && n3->data != m0 && stats().buffers == 0,
        "the oldest freed buffer was the one given back");
  sl_storage_release(n1);
  sl_storage_release(n2);
  sl_storage_release(n3);

  sl_cfg.buffer_cache = (int64_t)MiB / 2;
  sl_storage *small = sl_storage_new(100);   /* a miss: no buffer of its class is cached */
  CHECK(stats().bytes == 0, "lowering the setting gives back the excess at the next miss");
  sl_storage_release(small);
  sl_storage *big = sl_storage_new(MiB);
  sl_storage_release(big);
  CHECK(stats().bytes == 128, "a buffer larger than the bound is freed, not cached");

  sl_cfg.buffer_cache = 0;
  sl_storage *off = sl_storage_new(100);
  sl_storage_release(off);
  CHECK(stats().bytes == 0 && stats().buffers == 0, "buffer_cache = 0 keeps nothing");
  sl_cfg.buffer_cache = saved;

  /* -- failures -------------------------------------------------------------------- */
  sl_storage *huge = sl_storage_new(SIZE_MAX / 2);
  CHECK(huge == NULL && strstr(sl_errmsg(), "out of memory") != NULL,
        "an impossible size fails with a message");
  CHECK(sl_mem_bytes() == live0, "a failed allocation leaves the live count alone");

  /* -- two threads at once ------------------------------------------------------------ */
  pthread_t th[2];
  for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, churn, (void *)(intptr_t)(i + 1));
  void *r0, *r1;
  pthread_join(th[0], &r0);
  pthread_join(th[1], &r1);
  CHECK(r0 == NULL && r1 == NULL, "two threads allocating and freeing at once both succeed");
  CHECK(sl_mem_bytes() == live0, "and the live count is back where it was");
  st = stats();
  CHECK(st.hits + st.misses >= 4000 && st.buffers <= 14,
        "the counts add up: every allocation was a hit or a miss");

  sl_storage_cache_trim();
  CHECK(stats().bytes == 0, "the cache ends empty");
  return tap_done();
}
