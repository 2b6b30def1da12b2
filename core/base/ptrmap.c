/*
** ptrmap.c — a map from pointers to ints (open addressing, linear probing).
** Keys are never removed; values are ints >= 0 so -1 can say "absent".
*/
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"
#include "ptrmap.h"

static size_t hash_ptr(const void *p, size_t cap)
{
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33;
  return (size_t)x & (cap - 1);
}

int sl_ptrmap_get(const sl_ptrmap *m, const void *k)
{
  if (!m->cap) return -1;
  for (size_t i = hash_ptr(k, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (!m->keys[i]) return -1;
    if (m->keys[i] == k) return m->vals[i];
  }
}

int sl_ptrmap_put(sl_ptrmap *m, const void *k, int v)
{
  if ((m->n + 1) * 2 > m->cap) {
    sl_ptrmap g = { 0 };
    g.cap = m->cap ? m->cap * 2 : 64;
    g.keys = calloc(g.cap, sizeof *g.keys);
    g.vals = calloc(g.cap, sizeof *g.vals);
    if (!g.keys || !g.vals) { free(g.keys); free(g.vals); return sl_fail("out of memory"); }
    for (size_t i = 0; i < m->cap; i++) if (m->keys[i]) sl_ptrmap_put(&g, m->keys[i], m->vals[i]);
    free(m->keys); free(m->vals);
    *m = g;
  }
  size_t i = hash_ptr(k, m->cap);
  while (m->keys[i] && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
  if (!m->keys[i]) m->n++;
  m->keys[i] = k;
  m->vals[i] = v;
  return 0;
}

void sl_ptrmap_free(sl_ptrmap *m)
{
  free(m->keys);
  free(m->vals);
  m->keys = NULL; m->vals = NULL; m->cap = m->n = 0;
}
