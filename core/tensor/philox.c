/*
** philox.c — Philox-4x32-10 (Salmon et al., SC'11) and the draws built on it.
**
** Every draw consumes a run of 128-bit counter blocks starting at the
** generator's offset. Value i of a draw reads block offset + i/2, half i%2
** (two 32-bit words), so it depends only on (seed, offset, i): the same on
** every machine, in every thread split, for float32 and float64 alike.
*/
#include "../kernels/philox.h"
#include "internal.h"
#include "parallel.h"

static uint64_t rng_seed, rng_offset;

void sl_manual_seed(uint64_t seed) { rng_seed = seed; rng_offset = 0; }

void sl_philox4x32_10(const uint32_t in[4], const uint32_t key[2], uint32_t out[4])
{
  for (int i = 0; i < 4; i++) out[i] = in[i];
  sl_philox_rounds(out, key[0], key[1]);
}

typedef enum { DRAW_UNIFORM, DRAW_NORMAL, DRAW_INT } draw_kind;

/* -- batches of blocks ----------------------------------------------------------
** A draw is computed BATCH blocks at a time: the ten rounds run over arrays
** of counters, one loop per round that the compiler vectorizes, then the
** block's words become values in double (int64 for integers) and are stored
** in the tensor's dtype by one cast. Each value depends only on its index,
** so the blocks can be split between threads in any way.
*/
#define BATCH 64
/* blocks per thread at least, so that a thread's start (tens of microseconds)
** is a small part of its work: normals cost about 40 ns a block, the rest 8 */
#define GRAIN_NORMAL 2048
#define GRAIN_OTHER 16384

typedef struct {
  sl_tensor *t;
  draw_kind kind;
  int64_t low, range, n;
  uint64_t offset;
  uint32_t key[2];
} draw_job;

SL_LOOP_CLONES   /* the batch loops: an AVX2 clone too (internal.h) */
static void philox_batch(uint64_t first, int m, const uint32_t key[2], uint32_t w[4][BATCH])
{
  uint32_t c0[BATCH], c1[BATCH], c2[BATCH] = { 0 }, c3[BATCH] = { 0 }, k0 = key[0], k1 = key[1];
  for (int j = 0; j < m; j++) {
    c0[j] = (uint32_t)(first + (uint64_t)j);
    c1[j] = (uint32_t)((first + (uint64_t)j) >> 32);
  }
  for (int r = 0; r < 10; r++) {
    for (int j = 0; j < m; j++) {
      uint64_t p0 = (uint64_t)0xD2511F53u * c0[j], p1 = (uint64_t)0xCD9E8D57u * c2[j];
      uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[j] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3[j] ^ k1;
      c1[j] = (uint32_t)p1;
      c3[j] = (uint32_t)p0;
      c0[j] = n0;
      c2[j] = n2;
    }
    k0 += 0x9E3779B9u;   /* Weyl key schedule */
    k1 += 0xBB67AE85u;
  }
  for (int j = 0; j < m; j++) { w[0][j] = c0[j]; w[1][j] = c1[j]; w[2][j] = c2[j]; w[3][j] = c3[j]; }
}

static int64_t int_below(uint32_t a, uint32_t b, int64_t low, int64_t range)
{
  uint64_t x = ((uint64_t)a << 32) | b;
  return low + (int64_t)(((unsigned __int128)x * (uint64_t)range) >> 64);
}

/* The normal pairs of m blocks (kernels/philox.h), in a loop that
** vectorizes. */
SL_LOOP_CLONES
static void normal_pairs(const uint32_t (*w)[BATCH], int m, double *out)
{
  for (int j = 0; j < m; j++) {
    sl_philox_pair p = sl_philox_normals(w[0][j], w[1][j], w[2][j], w[3][j]);
    out[2 * j] = p.even;
    out[2 * j + 1] = p.odd;
  }
}

/* Value 2j reads words 0-1 of block offset + j, value 2j + 1 words 2-3, as
** kernels/philox.h makes them (which the CUDA kernels share). */
static void draw_blocks(int64_t lo, int64_t hi, void *vjob)
{
  const draw_job *job = vjob;
  sl_tensor *t = job->t;
  size_t sz = sl_dtype_size(t->dtype);
  int f32 = t->dtype == SL_FLOAT32;
  sl_castfn store = sl_cast_fn(t->dtype, job->kind == DRAW_INT ? SL_INT64 : SL_FLOAT64);
  char *p = sl_tensor_ptr(t);
  uint32_t w[4][BATCH];
  union { double f[2 * BATCH]; int64_t i[2 * BATCH]; } v;
  for (int64_t b0 = lo; b0 < hi; b0 += BATCH) {
    int m = hi - b0 < BATCH ? (int)(hi - b0) : BATCH;
    philox_batch(job->offset + (uint64_t)b0, m, job->key, w);
    switch (job->kind) {
    case DRAW_NORMAL:
      normal_pairs((const uint32_t (*)[BATCH])w, m, v.f);
      break;
    case DRAW_UNIFORM:
      if (f32) {
        for (int j = 0; j < m; j++) {
          v.f[2 * j] = sl_philox_u24(w[0][j]);
          v.f[2 * j + 1] = sl_philox_u24(w[2][j]);
        }
      } else {
        for (int j = 0; j < m; j++) {
          v.f[2 * j] = sl_philox_u53(w[0][j], w[1][j]);
          v.f[2 * j + 1] = sl_philox_u53(w[2][j], w[3][j]);
        }
      }
      break;
    case DRAW_INT:
      for (int j = 0; j < m; j++) {
        v.i[2 * j] = int_below(w[0][j], w[1][j], job->low, job->range);
        v.i[2 * j + 1] = int_below(w[2][j], w[3][j], job->low, job->range);
      }
      break;
    }
    int64_t first = 2 * b0, count = 2 * (int64_t)m;
    if (first + count > job->n) count = job->n - first;   /* an odd count: the last block's half */
    store(p + first * (int64_t)sz, 1, &v, 1, count);
  }
}

static uint64_t draw_at(sl_tensor *t, draw_kind kind, int64_t low, int64_t range,
                        uint64_t seed, uint64_t offset)
{
  int64_t n = sl_tensor_numel(t), blocks = (n + 1) / 2;
  draw_job job = { t, kind, low, range, n, offset, { (uint32_t)seed, (uint32_t)(seed >> 32) } };
  sl_parallel_for(blocks, kind == DRAW_NORMAL ? GRAIN_NORMAL : GRAIN_OTHER, draw_blocks, &job);
  return (uint64_t)blocks;
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
