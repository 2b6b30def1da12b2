/*
** half.h — float16 (IEEE binary16) and bfloat16 in generated code. Their
** values compute as float; a node that returns one rounds its result once,
** to nearest even, straight from double (sl_f16_round), so that the value
** in the register is the one memory will hold; loads widen the 16 bits
** exactly (sl_h2f) and stores narrow an already rounded value (sl_d2h).
** The same rounding as core/tensor/half.c, by bit operations: overflow to
** infinity, subnormals kept, NaN stays NaN. Valid C and C++.
*/
#ifndef SL_HALF_H
#define SL_HALF_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The 16 bits of x as a float of ebits exponent and mbits fraction bits. */
static inline uint16_t sl_d2small(double x, int ebits, int mbits)
{
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  uint16_t sign = (uint16_t)((u >> 48) & 0x8000);
  uint64_t a = u & 0x7fffffffffffffffULL;
  int bias = (1 << (ebits - 1)) - 1;
  uint16_t inf = (uint16_t)(((1 << ebits) - 1) << mbits);
  if (a > 0x7ff0000000000000ULL) return (uint16_t)(sign | inf | (1 << (mbits - 1)));
  int e = (int)(a >> 52) - 1023;
  if (e < 1 - bias) {
    /* a subnormal of the small format (or zero): its count of the smallest
    ** step, rounded to nearest even by the addition of 2^52 */
    double s = (x < 0 ? -x : x) * ldexp(1.0, bias - 1 + mbits);
    double q = (s + 0x1p52) - 0x1p52;
    return (uint16_t)(sign | (uint16_t)q);
  }
  int sh = 52 - mbits;
  uint64_t r = (a + ((1ULL << (sh - 1)) - 1) + ((a >> sh) & 1)) >> sh;   /* ties to even; a carry raises the exponent */
  r -= (uint64_t)(1023 - bias) << mbits;
  return r >= inf ? (uint16_t)(sign | inf) : (uint16_t)(sign | r);
}

static inline float sl_small2f(uint16_t h, int ebits, int mbits)
{
  int bias = (1 << (ebits - 1)) - 1, top = (1 << ebits) - 1;
  int ex = (h >> mbits) & top;
  uint32_t m = h & ((1u << mbits) - 1), bits;
  float v;
  if (ex == 0) {
    v = (float)m * (float)ldexp(1.0, 1 - bias - mbits);
    return (h & 0x8000) ? -v : v;
  }
  bits = ((uint32_t)(h & 0x8000) << 16) | (m << (23 - mbits));
  bits |= ex == top ? 0x7f800000u : (uint32_t)(ex - bias + 127) << 23;
  memcpy(&v, &bits, sizeof v);
  return v;
}

static inline uint16_t sl_d2h(double x) { return sl_d2small(x, 5, 10); }
static inline uint16_t sl_d2bf(double x) { return sl_d2small(x, 8, 7); }
static inline float sl_h2f(uint16_t h) { return sl_small2f(h, 5, 10); }
static inline float sl_bf2f(uint16_t h) { return sl_small2f(h, 8, 7); }
static inline float sl_f16_round(double x) { return sl_h2f(sl_d2h(x)); }
static inline float sl_bf16_round(double x) { return sl_bf2f(sl_d2bf(x)); }

#endif
