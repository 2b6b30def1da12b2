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
#include "parallel.h"
#include "../kernels/vmath.h"

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

/* -- normals --------------------------------------------------------------------
** Box-Muller on a block's two uniforms u, v: r = sqrt(-2 log(1 - u)) and
** theta = 2 pi v, the pair r cos(theta), r sin(theta). The loop has no
** calls, so it vectorizes: log is vmath.h's (within 2 ulp of libm), and
** cos and sin of 2 pi v come from v = q/4 + f, q = round(4 v), which is
** exact in binary; then |2 pi f| <= pi/4, where the Taylor polynomials
** below (to degree 17 and 18) are correct to well under an ulp, and q
** picks the quadrant. Each value depends on its block alone, so the
** numbers are the same for any thread count and on every machine (the
** roundings are those of the written operations).
*/
/* uniform53 in operations that vectorize (no 64-bit integer converts to
** double before AVX-512): its 53 bits as 27 + 26, each exact in int32. */
static double uniform53_split(uint32_t a, uint32_t b)
{
  int32_t hi = (int32_t)(a >> 5), lo = (int32_t)(((a & 31u) << 21) | (b >> 11));
  return (double)hi * 0x1p-27 + (double)lo * 0x1p-53;
}

SL_LOOP_CLONES
static void normal_pairs(const uint32_t (*w)[BATCH], int m, double *out)
{
#pragma omp simd
  for (int j = 0; j < m; j++) {
    double u = uniform53_split(w[0][j], w[1][j]), v = uniform53_split(w[2][j], w[3][j]);
    double r = sqrt(-2.0 * sl_vlog_d(1.0 - u));
    double t = 4.0 * v + SL_VM_SHIFT_D;   /* q in the low bits */
    uint64_t q = sl_vm_bits_d(t) & 3;
    double x = 6.283185307179586 * (v - 0.25 * (t - SL_VM_SHIFT_D)), z = x * x;
    double sn = x + x * z * (-1.0 / 6 + z * (1.0 / 120 + z * (-1.0 / 5040 + z * (1.0 / 362880 +
                z * (-1.0 / 39916800 + z * (1.0 / 6227020800.0 + z * (-1.0 / 1307674368000.0 +
                z * (1.0 / 355687428096000.0))))))));
    double cs = 1.0 + z * (-0.5 + z * (1.0 / 24 + z * (-1.0 / 720 + z * (1.0 / 40320 +
                z * (-1.0 / 3628800 + z * (1.0 / 479001600 + z * (-1.0 / 87178291200.0 +
                z * (1.0 / 20922789888000.0 + z * (-1.0 / 6402373705728000.0)))))))));
    double c = sl_vm_sel_d(q & 1, sn, cs), s = sl_vm_sel_d(q & 1, cs, sn);
    c = sl_vm_sel_d(q == 1 || q == 2, -c, c);   /* cos(theta) < 0 in quadrants 1, 2 */
    s = sl_vm_sel_d(q >= 2, -s, s);             /* sin(theta) < 0 in 2, 3 */
    out[2 * j] = r * c;
    out[2 * j + 1] = r * s;
  }
}

/* Value 2j reads words 0-1 of block offset + j, value 2j + 1 words 2-3. A
** normal pair is Box-Muller on the block's two uniforms (normal_pairs).
** A float32 uniform takes the top 24 bits, so it never rounds up to 1 and
** is exact in double. */
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
          v.f[2 * j] = (double)(w[0][j] >> 8) * 0x1p-24;
          v.f[2 * j + 1] = (double)(w[2][j] >> 8) * 0x1p-24;
        }
      } else {
        for (int j = 0; j < m; j++) {
          v.f[2 * j] = uniform53(w[0][j], w[1][j]);
          v.f[2 * j + 1] = uniform53(w[2][j], w[3][j]);
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
