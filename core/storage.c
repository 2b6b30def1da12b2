/*
** storage.c — reference-counted, 64-byte aligned buffers, and the count of
** bytes they hold (which the Lua binding uses to drive the collector).
*/
#include <stdlib.h>
#include <sys/mman.h>

#include "internal.h"

#define SL_HUGE_BYTES ((size_t)2 << 20)

static int64_t held_bytes;   /* touched only by the thread that owns the Lua state */

int64_t sl_mem_bytes(void) { return held_bytes; }

sl_storage *sl_storage_new(size_t nbytes)
{
  sl_storage *s = malloc(sizeof *s);
  if (!s) { sl_fail("out of memory"); return NULL; }
  /* Large buffers ask for transparent huge pages: first touching fresh 4 KiB
  ** pages runs several times slower than the copy that fills them. */
  size_t align = nbytes >= SL_HUGE_BYTES ? SL_HUGE_BYTES : 64;
  size_t rounded = (nbytes + align - 1) & ~(align - 1);   /* a multiple, as aligned_alloc needs */
  s->data = aligned_alloc(align, rounded ? rounded : align);
#ifdef MADV_HUGEPAGE
  if (s->data && align == SL_HUGE_BYTES) madvise(s->data, rounded, MADV_HUGEPAGE);
#endif
  if (!s->data) {
    free(s);
    sl_fail("out of memory allocating %zu bytes", nbytes);
    return NULL;
  }
  s->nbytes = nbytes;
  s->refcount = 1;
  s->release = NULL;
  s->release_ud = NULL;
  held_bytes += (int64_t)nbytes;
  return s;
}

void sl_storage_release(sl_storage *s)
{
  if (!s || --s->refcount > 0) return;
  if (s->release) {
    s->release(s->data, s->release_ud);
  } else {
    held_bytes -= (int64_t)s->nbytes;
    free(s->data);
  }
  free(s);
}
