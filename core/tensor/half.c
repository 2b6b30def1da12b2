/*
** half.c — float16 (IEEE binary16) and bfloat16 (float32's top half): the
** conversions every cast of them goes through. To them: one rounding to
** nearest even straight from double (no double rounding through float),
** overflow to infinity, subnormals kept, NaN stays NaN; from them: exact.
*/
#include <math.h>

#include "internal.h"

/* A binary float of ebits exponent and mbits fraction bits in 16 bits. */
static uint16_t to_small(double x, int ebits, int mbits)
{
  int bias = (1 << (ebits - 1)) - 1, emin = 1 - bias;
  uint16_t sign = signbit(x) ? (uint16_t)0x8000 : 0, inf = (uint16_t)(((1 << ebits) - 1) << mbits);
  if (isnan(x)) return (uint16_t)(sign | inf | (1 << (mbits - 1)));
  double a = fabs(x);
  if (a == 0) return sign;
  if (isinf(a)) return (uint16_t)(sign | inf);
  int e;
  frexp(a, &e);
  e -= 1;                              /* a = 1.f * 2^e */
  if (e < emin) e = emin;              /* a subnormal's scale */
  double q = nearbyint(ldexp(a, mbits - e));   /* the significand, rounded to nearest even */
  if (q >= ldexp(1, mbits + 1)) { q /= 2; e += 1; }
  if (e > bias) return (uint16_t)(sign | inf);
  if (q < ldexp(1, mbits)) return (uint16_t)(sign | (uint16_t)q);          /* subnormal */
  return (uint16_t)(sign | ((e + bias) << mbits) | ((uint16_t)q - (1 << mbits)));
}

static double from_small(uint16_t h, int ebits, int mbits)
{
  int bias = (1 << (ebits - 1)) - 1, top = (1 << ebits) - 1;
  int ex = (h >> mbits) & top, m = h & ((1 << mbits) - 1);
  double v;
  if (ex == top) v = m ? NAN : INFINITY;
  else if (ex == 0) v = ldexp(m, 1 - bias - mbits);
  else v = ldexp(m + (1 << mbits), ex - bias - mbits);
  return (h & 0x8000) ? -v : v;
}

uint16_t sl_f16_from_double(double x) { return to_small(x, 5, 10); }
double sl_f16_to_double(uint16_t h) { return from_small(h, 5, 10); }
uint16_t sl_bf16_from_double(double x) { return to_small(x, 8, 7); }
double sl_bf16_to_double(uint16_t h) { return from_small(h, 8, 7); }
