/*
** philox.h — Philox-4x32-10 (Salmon et al., SC'11) and the values a draw
** makes of its blocks, for the CPU (core/tensor/philox.c) and the CUDA
** kernels (kernels/cuda/random.h) alike: one source, the same numbers.
** Valid C and C++.
**
** Value i of a draw of (key, offset) comes from block offset + i/2: words
** 0-1 for even i, 2-3 for odd i. A float64 uniform takes 53 bits of its
** two words, a float32 one the top 24 bits of the first (exact in double,
** never rounding up to 1); a normal pair is Box-Muller on the block's two
** 53-bit uniforms: r cos(theta) for even i, r sin(theta) for odd i.
*/
#ifndef SL_PHILOX_H
#define SL_PHILOX_H

#include <math.h>
#include <stdint.h>

#include "vmath.h"   /* sl_vlog_d; pasted before this file where includes are dropped */

/* The ten rounds on counter c (in place) under key (k0, k1). */
static inline void sl_philox_rounds(uint32_t c[4], uint32_t k0, uint32_t k1)
{
  for (int r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1;
    c[1] = (uint32_t)p1;
    c[3] = (uint32_t)p0;
    c[0] = n0;
    c[2] = n2;
    k0 += 0x9E3779B9u;   /* Weyl key schedule */
    k1 += 0xBB67AE85u;
  }
}

/* Block b of key (the seed's low and high words): counter (b, 0). */
static inline void sl_philox_block(uint64_t b, uint64_t seed, uint32_t w[4])
{
  w[0] = (uint32_t)b;
  w[1] = (uint32_t)(b >> 32);
  w[2] = w[3] = 0;
  sl_philox_rounds(w, (uint32_t)seed, (uint32_t)(seed >> 32));
}

/* [0, 1) from 53 bits of two words, as 27 + 26 bits each exact in int32
** (no 64-bit integer converts to double before AVX-512, so this
** vectorizes); from the top 24 bits of one. */
static inline double sl_philox_u53(uint32_t a, uint32_t b)
{
  int32_t hi = (int32_t)(a >> 5), lo = (int32_t)(((a & 31u) << 21) | (b >> 11));
  return (double)hi * 0x1p-27 + (double)lo * 0x1p-53;
}
static inline double sl_philox_u24(uint32_t a) { return (double)(a >> 8) * 0x1p-24; }

/* The normal pair of a block: Box-Muller on its two uniforms u, v,
** r = sqrt(-2 log(1 - u)) and theta = 2 pi v, giving r cos(theta) and
** r sin(theta). No libm call but sqrt, so a loop over blocks vectorizes and
** a device computes the same bits: log is vmath.h's (within 2 ulp of
** libm), and cos and sin of 2 pi v come from v = q/4 + f, q = round(4 v),
** exact in binary; then |2 pi f| <= pi/4, where the Taylor polynomials
** (to degree 17 and 18) are correct to well under an ulp, and q picks the
** quadrant. */
typedef struct { double even, odd; } sl_philox_pair;

static inline sl_philox_pair sl_philox_normals(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3)
{
  double u = sl_philox_u53(w0, w1), v = sl_philox_u53(w2, w3);
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
  sl_philox_pair p = { r * c, r * s };
  return p;
}

#endif
