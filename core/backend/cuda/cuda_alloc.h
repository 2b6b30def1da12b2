/*
** cuda_alloc.h — the caching allocator of device memory (cuda_alloc.c).
** A device allocation costs a driver call that synchronizes the device, so
** freed blocks are kept by size class and handed out again. It works over
** two callbacks (cuMemAlloc and cuMemFree on a device; malloc and free in
** tests/c/test_cuda_alloc.c), so its logic is checked without a GPU.
*/
#ifndef SL_CUDA_ALLOC_H
#define SL_CUDA_ALLOC_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_cuda_alloc_ops {
  int (*alloc)(void *ctx, size_t bytes, uint64_t *ptr);   /* 0, or nonzero: out of memory */
  void (*free)(void *ctx, uint64_t ptr);
  void *ctx;
} sl_cuda_alloc_ops;

/* Counters for sl.cuda.memory_info(); bytes are those of the size classes. */
typedef struct sl_cuda_memory_info {
  int64_t in_use;          /* blocks handed out and not given back */
  int64_t cached;          /* given back, kept for reuse */
  int64_t peak;            /* the most in_use has been */
  int64_t limit;           /* the most cached may be */
  int64_t allocs, hits;    /* requests, and those a cached block served */
  int64_t device_allocs, device_frees;   /* callback calls */
  int64_t retries;         /* device allocations retried after emptying the cache */
} sl_cuda_memory_info;

typedef struct sl_cuda_allocator sl_cuda_allocator;

/* An allocator over ops that caches at most limit bytes. NULL + sl_fail. */
sl_cuda_allocator *sl_cuda_allocator_new(const sl_cuda_alloc_ops *ops, int64_t limit);
/* Returns every cached block through ops->free, then frees a. Blocks still
** in use stay the device's (a leak the in_use counter showed). */
void sl_cuda_allocator_delete(sl_cuda_allocator *a);

/* The size class of a request: at least 512 bytes, eight classes per power
** of two (at most 12.5% over), whole 2 MiB pages from 2 MiB on. */
size_t sl_cuda_size_class(size_t bytes);

/* A block of at least bytes: a cached one of its class (newest first), else
** a new one; when the device is out of memory the cache is emptied and the
** allocation tried once more. 0 and *ptr, or -1 + sl_fail. */
int sl_cuda_alloc(sl_cuda_allocator *a, size_t bytes, uint64_t *ptr);
/* Gives back a block of sl_cuda_alloc(a, bytes): cached, the oldest blocks
** returned to the device while the cache would exceed its limit (a block
** larger than the limit goes back at once). -1 + sl_fail when out of memory
** for the cache's bookkeeping (the block then goes back to the device). */
int sl_cuda_free(sl_cuda_allocator *a, uint64_t ptr, size_t bytes);
/* Returns every cached block to the device. */
void sl_cuda_empty_cache(sl_cuda_allocator *a);

void sl_cuda_memory_info_of(sl_cuda_allocator *a, sl_cuda_memory_info *out);

#endif
