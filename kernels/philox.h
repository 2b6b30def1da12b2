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

/* [0, 1) from 53 bits of two words; from the top 24 bits of one. */
static inline double sl_philox_u53(uint32_t a, uint32_t b)
{
  return (double)(((uint64_t)a << 21) ^ (b >> 11)) * 0x1p-53;
}
static inline double sl_philox_u24(uint32_t a) { return (double)(a >> 8) * 0x1p-24; }

/* The normal pair of a block: r cos(theta), r sin(theta). */
static inline void sl_philox_normals(const uint32_t w[4], double *even, double *odd)
{
  double r = sqrt(-2.0 * log(1.0 - sl_philox_u53(w[0], w[1])));
  double theta = 6.283185307179586 * sl_philox_u53(w[2], w[3]);   /* 2 pi u */
  *even = r * cos(theta);
  *odd = r * sin(theta);
}

#endif
