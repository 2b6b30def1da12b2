/*
** philox.c — Philox-4x32-10 (Salmon et al., SC'11) and the draws built on it.
**
** Every draw consumes a run of 128-bit counter blocks starting at the
** generator's offset. Value i of a draw reads block offset + i/2, half i%2
** (two 32-bit words), so it depends only on (seed, offset, i): the same on
** every machine, in every thread split, for float32 and float64 alike.
*/
#include <math.h>

#include "internal.h"

static uint64_t rng_seed, rng_offset;

void sl_manual_seed(uint64_t seed) { rng_seed = seed; rng_offset = 0; }

static uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t *hi)
{
  uint64_t p = (uint64_t)a * b;
  *hi = (uint32_t)(p >> 32);
  return (uint32_t)p;
}

void sl_philox4x32_10(const uint32_t in[4], const uint32_t key[2], uint32_t out[4])
{
  uint32_t c0 = in[0], c1 = in[1], c2 = in[2], c3 = in[3], k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; r++) {
    uint32_t hi0, hi1;
    uint32_t lo0 = mulhilo(0xD2511F53u, c0, &hi0);
    uint32_t lo1 = mulhilo(0xCD9E8D57u, c2, &hi1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;   /* Weyl key schedule */
    k1 += 0xBB67AE85u;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

static double uniform53(uint32_t a, uint32_t b)   /* [0, 1) from 53 bits */
{
  return (double)(((uint64_t)a << 21) ^ (b >> 11)) * 0x1p-53;
}

typedef enum { DRAW_UNIFORM, DRAW_NORMAL, DRAW_INT } draw_kind;

/* The value that words (a, b) of a block give. */
static void store_one(sl_tensor *t, draw_kind kind, char *dst, uint32_t a, uint32_t b,
                      int64_t low, int64_t range)
{
  if (kind == DRAW_INT) {
    uint64_t x = ((uint64_t)a << 32) | b;
    int64_t v = low + (int64_t)(((unsigned __int128)x * (uint64_t)range) >> 64);
    sl_cast_fn(t->dtype, SL_INT64)(dst, 1, &v, 1, 1);
  } else if (t->dtype == SL_FLOAT32) {
    *(float *)dst = (float)(a >> 8) * 0x1p-24f;   /* 24 bits: never rounds up to 1 */
  } else {
    *(double *)dst = uniform53(a, b);
  }
}

/* One Philox block per pair of values: value 2j reads words 0-1 of block
** offset + j, value 2j + 1 words 2-3. A normal pair is Box-Muller on the
** block's two uniforms: r cos(theta), r sin(theta). */
static uint64_t draw_at(sl_tensor *t, draw_kind kind, int64_t low, int64_t range,
                        uint64_t seed, uint64_t offset)
{
  int64_t n = sl_tensor_numel(t);
  size_t sz = sl_dtype_size(t->dtype);
  char *p = sl_tensor_ptr(t);
  uint32_t key[2] = { (uint32_t)seed, (uint32_t)(seed >> 32) };
  for (int64_t i = 0; i < n; i += 2) {
    uint64_t block = offset + (uint64_t)i / 2;
    uint32_t ctr[4] = { (uint32_t)block, (uint32_t)(block >> 32), 0, 0 }, w[4];
    sl_philox4x32_10(ctr, key, w);
    char *dst = p + i * (int64_t)sz;
    int two = i + 1 < n;
    if (kind == DRAW_NORMAL) {
      double r = sqrt(-2.0 * log(1.0 - uniform53(w[0], w[1])));
      double th = 6.283185307179586 * uniform53(w[2], w[3]);   /* 2 pi */
      double v[2] = { r * cos(th), r * sin(th) };
      sl_cast_fn(t->dtype, SL_FLOAT64)(dst, 1, v, 1, two ? 2 : 1);
    } else {
      store_one(t, kind, dst, w[0], w[1], low, range);
      if (two) store_one(t, kind, dst + sz, w[2], w[3], low, range);
    }
  }
  return (uint64_t)(n + 1) / 2;
}

static void draw(sl_tensor *t, draw_kind kind, int64_t low, int64_t range)
{
  rng_offset += draw_at(t, kind, low, range, rng_seed, rng_offset);
}

uint64_t sl_random_fill(sl_tensor *t, int normal, uint64_t seed, uint64_t offset)
{
  return draw_at(t, normal ? DRAW_NORMAL : DRAW_UNIFORM, 0, 0, seed, offset);
}

static sl_tensor *draw_new(sl_dtype dt, int ndim, const int64_t *shape,
                           draw_kind kind, int64_t low, int64_t range)
{
  sl_tensor *t = sl_tensor_empty(dt, ndim, shape);
  if (t) draw(t, kind, low, range);
  return t;
}

static int need_float(sl_dtype dt, const char *fn)
{
  if (dt == SL_FLOAT32 || dt == SL_FLOAT64) return 0;
  return sl_fail("%s: dtype must be float32 or float64, not %s%s", fn, sl_dtype_name(dt),
                 sl_dtype_is_half(dt) ? " (draw float32 and cast)" : "");
}

sl_tensor *sl_tensor_rand(sl_dtype dt, int ndim, const int64_t *shape)
{
  return need_float(dt, "rand") ? NULL : draw_new(dt, ndim, shape, DRAW_UNIFORM, 0, 0);
}

sl_tensor *sl_tensor_randn(sl_dtype dt, int ndim, const int64_t *shape)
{
  return need_float(dt, "randn") ? NULL : draw_new(dt, ndim, shape, DRAW_NORMAL, 0, 0);
}

sl_tensor *sl_tensor_randint(int64_t low, int64_t high, sl_dtype dt,
                             int ndim, const int64_t *shape)
{
  if (high <= low) {
    sl_fail("randint: high (%lld) must be greater than low (%lld)", (long long)high, (long long)low);
    return NULL;
  }
  if (low < 0 && high > INT64_MAX + low) {
    sl_fail("randint: the range [%lld, %lld) is wider than 2^63 - 1", (long long)low, (long long)high);
    return NULL;
  }
  if (dt == SL_BOOL || sl_dtype_kind(dt) == 'f' || sl_dtype_kind(dt) == 'c') {
    sl_fail("randint: dtype must be an integer type, not %s", sl_dtype_name(dt));
    return NULL;
  }
  return draw_new(dt, ndim, shape, DRAW_INT, low, high - low);
}
