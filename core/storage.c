/*
** storage.c — reference-counted, 64-byte aligned buffers, and the count of
** bytes they hold (which the Lua binding uses to drive the collector).
*/
#include <stdlib.h>

#include "internal.h"

static int64_t held_bytes;   /* touched only by the thread that owns the Lua state */

int64_t sl_mem_bytes(void) { return held_bytes; }

sl_storage *sl_storage_new(size_t nbytes)
{
  sl_storage *s = malloc(sizeof *s);
  if (!s) { sl_fail("out of memory"); return NULL; }
  /* aligned_alloc needs a size that is a multiple of the alignment */
  size_t rounded = (nbytes + 63) & ~(size_t)63;
  s->data = aligned_alloc(64, rounded ? rounded : 64);
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
