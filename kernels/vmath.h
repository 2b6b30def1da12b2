/*
** vmath.h — exp, expm1, exp2, log, log1p, log2, log10, tanh, sigmoid and
** softplus for float and double, written so that a compiler vectorizes loops
** that call them.
**
** Selection: generated code defines SL_VECTOR_MATH (to 1) before the text of
** kernels/scalar.h, whose helpers (sl_exp, sl_log, sl_tanh, ...) then call
** the functions here; without it they call libm, as the reference backend
** does. This header only needs system headers, so that it can be pasted at
** the top of a generated file.
**
** How: no branches, no tables, no calls. The argument is reduced with
** integer tricks on the bit pattern, a polynomial does the rest, and special
** cases (±0, ±inf, NaN, overflow, underflow, subnormals) are fixed at the end
** by selects, which vectorize as blends. In a `#pragma omp simd` loop built
** with -O3 -march=native -fno-math-errno they become SIMD code (AVX-512 and
** AVX2 alike). Results stay within 2 ulp of glibc's libm, and within about
** 1 ulp of the exact result (tests/c/test_vmath.c measures it); the float
** versions compute in float. The polynomials use fma(), and exp2, tanh and
** sigmoid use it for exact remainders: one instruction wherever the target
** has FMA (x86-64 since 2013); elsewhere a libm call, still correct but not
** vectorized. Since fma rounds once on every target, every compiler and
** target gets the same bits from this text.
**
** Conventions: every function is sl_v<name>_d (double) or sl_v<name>_f
** (float). Rounding to an integer adds and subtracts 1.5 * 2^52 (2^23), so
** the integer is in the low bits of the sum; 2^n is built from its biased
** exponent. The sums are written without reassociation in mind: these
** functions need the default rounding mode and no -ffast-math.
*/
#ifndef SL_VMATH_H
#define SL_VMATH_H

#include <math.h>
#include <stdint.h>

/* The functions this header provides, as (type, name). */
#define SL_VMATH_FUNCS(_) \
  _(double, sl_vexp_d) _(float, sl_vexp_f) _(double, sl_vexp2_d) _(float, sl_vexp2_f) \
  _(double, sl_vexpm1_d) _(float, sl_vexpm1_f) _(double, sl_vlog_d) _(float, sl_vlog_f) \
  _(double, sl_vlog2_d) _(float, sl_vlog2_f) _(double, sl_vlog10_d) _(float, sl_vlog10_f) \
  _(double, sl_vlog1p_d) _(float, sl_vlog1p_f) _(double, sl_vtanh_d) _(float, sl_vtanh_f) \
  _(float, sl_vcosh_f) _(double, sl_vsigmoid_d) _(float, sl_vsigmoid_f) \
  _(double, sl_vsoftplus_d) _(float, sl_vsoftplus_f)

#ifdef SL_VMATH_EXTERN
/* libtcc's build of generated code (the C backend's first tier) defines
** SL_VMATH_EXTERN: it calls the copies that the system compiler built into
** symlua (core/backend/c/vmath_symbols.c) from this same text, which are
** many times faster than libtcc's and give the same bits. */
#define SL_VM_DECLARE(T, name) T name(T);
SL_VMATH_FUNCS(SL_VM_DECLARE)
#undef SL_VM_DECLARE
#else

#if defined(__GNUC__) && !defined(__TINYC__)
#define SL_VM_INLINE static inline __attribute__((always_inline))
#else
#define SL_VM_INLINE static inline
#endif

/* -- bit patterns ----------------------------------------------------------- */
SL_VM_INLINE uint64_t sl_vm_bits_d(double x) { union { double f; uint64_t u; } v = { .f = x }; return v.u; }
SL_VM_INLINE double sl_vm_from_d(uint64_t u) { union { double f; uint64_t u; } v = { .u = u }; return v.f; }
SL_VM_INLINE uint32_t sl_vm_bits_f(float x) { union { float f; uint32_t u; } v = { .f = x }; return v.u; }
SL_VM_INLINE float sl_vm_from_f(uint32_t u) { union { float f; uint32_t u; } v = { .u = u }; return v.f; }

/* c ? a : b through bit masks. Written as a conditional, GCC (12) turns it
** into a blend only where the target has masked instructions (AVX-512)
** unless -fno-trapping-math is given; this form vectorizes everywhere. */
SL_VM_INLINE double sl_vm_sel_d(int c, double a, double b)
{
  uint64_t m = -(uint64_t)(c != 0);
  return sl_vm_from_d((sl_vm_bits_d(a) & m) | (sl_vm_bits_d(b) & ~m));
}

SL_VM_INLINE float sl_vm_sel_f(int c, float a, float b)
{
  uint32_t m = -(uint32_t)(c != 0);
  return sl_vm_from_f((sl_vm_bits_f(a) & m) | (sl_vm_bits_f(b) & ~m));
}

/* a * b + c for the polynomials, rounded once: fma everywhere, so that every
** compiler and target computes the same bits (one instruction that vectorizes
** where the target has FMA; elsewhere libm's exact fma). Spelt out because
** generated code is built with -ffp-contract=off, which keeps the ops' own
** a * b + c at two roundings. */
#if defined(__GNUC__) && !defined(__TINYC__)
#define SL_VM_MADD_D(a, b, c) __builtin_fma(a, b, c)
#define SL_VM_MADD_F(a, b, c) __builtin_fmaf(a, b, c)
#else
#define SL_VM_MADD_D(a, b, c) fma(a, b, c)
#define SL_VM_MADD_F(a, b, c) fmaf(a, b, c)
#endif

#define SL_VM_SHIFT_D 0x1.8p52       /* x + SHIFT rounds x to an integer */
#define SL_VM_SHIFT_F 0x1.8p23f

/* ln 2 split so that n * hi is exact for the n that occur here. */
#define SL_VM_LN2_D    0x1.62e42fefa39efp-1
#define SL_VM_LN2HI_D  0x1.62e42ff000000p-1
#define SL_VM_LN2LO_D  -0x1.718432a1b0e26p-35
#define SL_VM_LN2HI_F  0x1.62e4p-1f
#define SL_VM_LN2LO_F  0x1.7f7d1cp-20f
#define SL_VM_LOG2E_D  0x1.71547652b82fep+0
#define SL_VM_LOG2E_F  0x1.715476p+0f

/* -- scaling by 2^n -------------------------------------------------------------
** t is the shifted sum holding the integer n (|n| < 1100 for double, < 160
** for float). The result is y * 2^n as y * 2^n1 * 2^n2 with n1 + n2 = n and
** both halves normal: one rounding, so overflow gives inf and gradual
** underflow gives the correctly scaled subnormal.
*/
SL_VM_INLINE double sl_vm_scale_d(double y, double t)
{
  uint64_t k = sl_vm_bits_d(t) - sl_vm_bits_d(SL_VM_SHIFT_D) + 2048;  /* n + 2048 > 0 */
  uint64_t h = k >> 1;                                /* n1 + 1024 */
  double s1 = sl_vm_from_d((h - 1) << 52);             /* 2^n1 */
  double s2 = sl_vm_from_d((k - h - 1) << 52);         /* 2^n2, n2 = n - n1 */
  return y * s1 * s2;
}

SL_VM_INLINE float sl_vm_scale_f(float y, float t)
{
  uint32_t k = sl_vm_bits_f(t) - sl_vm_bits_f(SL_VM_SHIFT_F) + 256;
  uint32_t h = k >> 1;
  float s1 = sl_vm_from_f((h - 1) << 23);
  float s2 = sl_vm_from_f((k - h - 1) << 23);
  return y * s1 * s2;
}

/* -- e^x as 2^n (1 + r + tail) ---------------------------------------------------
** x = n ln2 + r with n * LN2HI exact; rl is what rounding r lost, so that
** r + rl is the reduced argument to about 2^-100. tail = e^(r+rl) - 1 - r is
** r^2 q(r) + rl (1 + r), q a minimax fit of (e^r - 1 - r) / r^2 of degree
** 10 (5 for float) with relative error below 2^-61 (2^-31) in e^r - 1 (made
** by kernels/vmath_fit.py). Keeping 1 + r apart from the tail lets the
** callers sum them with one rounding.
*/
typedef struct { double r, tail, t; } sl_vm_expparts_d;
typedef struct { float r, tail, t; } sl_vm_expparts_f;

SL_VM_INLINE double sl_vm_exptail_d(double r, double rl)
{
  double q = 0x1.1ee8876a5d3c3p-29;
  q = SL_VM_MADD_D(q, r, 0x1.af5ea845398cep-26);
  q = SL_VM_MADD_D(q, r, 0x1.27e53643b4a8dp-22);
  q = SL_VM_MADD_D(q, r, 0x1.71ddf863bf115p-19);
  q = SL_VM_MADD_D(q, r, 0x1.a01a017bb06dep-16);
  q = SL_VM_MADD_D(q, r, 0x1.a01a01afdd8c7p-13);
  q = SL_VM_MADD_D(q, r, 0x1.6c16c16c1f0e4p-10);
  q = SL_VM_MADD_D(q, r, 0x1.111111110f6c5p-7);
  q = SL_VM_MADD_D(q, r, 0x1.555555555553ep-5);
  q = SL_VM_MADD_D(q, r, 0x1.5555555555559p-3);
  q = SL_VM_MADD_D(q, r, 0.5);
  return SL_VM_MADD_D(r * r, q, rl * (1.0 + r));
}

SL_VM_INLINE sl_vm_expparts_d sl_vm_expparts_of_d(double x)
{
  double t = x * SL_VM_LOG2E_D + SL_VM_SHIFT_D;
  double n = t - SL_VM_SHIFT_D;
  double rh = x - n * SL_VM_LN2HI_D;
  double r = rh - n * SL_VM_LN2LO_D;
  double rl = (rh - r) - n * SL_VM_LN2LO_D;
  sl_vm_expparts_d p = { r, sl_vm_exptail_d(r, rl), t };
  return p;
}

SL_VM_INLINE float sl_vm_exptail_f(float r, float rl)
{
  float q = 0x1.a032c4p-13f;
  q = SL_VM_MADD_F(q, r, 0x1.6d723ep-10f);
  q = SL_VM_MADD_F(q, r, 0x1.11118ap-7f);
  q = SL_VM_MADD_F(q, r, 0x1.5554b0p-5f);
  q = SL_VM_MADD_F(q, r, 0x1.555554p-3f);
  q = SL_VM_MADD_F(q, r, 0.5f);
  return SL_VM_MADD_F(r * r, q, rl * (1.0f + r));
}

SL_VM_INLINE sl_vm_expparts_f sl_vm_expparts_of_f(float x)
{
  float t = x * SL_VM_LOG2E_F + SL_VM_SHIFT_F;
  float n = t - SL_VM_SHIFT_F;
  float rh = x - n * SL_VM_LN2HI_F;
  float r = rh - n * SL_VM_LN2LO_F;
  float rl = (rh - r) - n * SL_VM_LN2LO_F;
  sl_vm_expparts_f p = { r, sl_vm_exptail_f(r, rl), t };
  return p;
}

/* -- exp ---------------------------------------------------------------------------
** Clamping first keeps n in range; beyond the clamps the result is inf or 0
** anyway, and NaN passes through. sl_vm_exp2sum_* returns e^x as an
** unevaluated sum hi + lo, for tanh and sigmoid (x in [-746, 41]).
*/
typedef struct { double hi, lo; } sl_vm_dd;
typedef struct { float hi, lo; } sl_vm_ff;

SL_VM_INLINE double sl_vexp_d(double x)
{
  double xc = sl_vm_sel_d(x > 710.0, 710.0, x);
  xc = sl_vm_sel_d(xc < -746.0, -746.0, xc);
  sl_vm_expparts_d p = sl_vm_expparts_of_d(xc);
  double hi = 1.0 + p.r, lo = ((1.0 - hi) + p.r) + p.tail;
  return sl_vm_scale_d(hi + lo, p.t);
}

SL_VM_INLINE float sl_vexp_f(float x)
{
  float xc = sl_vm_sel_f(x > 89.0f, 89.0f, x);
  xc = sl_vm_sel_f(xc < -104.0f, -104.0f, xc);
  sl_vm_expparts_f p = sl_vm_expparts_of_f(xc);
  float hi = 1.0f + p.r, lo = ((1.0f - hi) + p.r) + p.tail;
  return sl_vm_scale_f(hi + lo, p.t);
}

SL_VM_INLINE sl_vm_dd sl_vm_exp2sum_d(double x)
{
  double xc = sl_vm_sel_d(x < -746.0, -746.0, x);
  sl_vm_expparts_d p = sl_vm_expparts_of_d(xc);
  double hi = 1.0 + p.r, lo = ((1.0 - hi) + p.r) + p.tail;
  double y = hi + lo, yl = (hi - y) + lo;
  sl_vm_dd e = { sl_vm_scale_d(y, p.t), sl_vm_scale_d(yl, p.t) };
  return e;
}

SL_VM_INLINE sl_vm_ff sl_vm_exp2sum_f(float x)
{
  float xc = sl_vm_sel_f(x < -104.0f, -104.0f, x);
  sl_vm_expparts_f p = sl_vm_expparts_of_f(xc);
  float hi = 1.0f + p.r, lo = ((1.0f - hi) + p.r) + p.tail;
  float y = hi + lo, yl = (hi - y) + lo;
  sl_vm_ff e = { sl_vm_scale_f(y, p.t), sl_vm_scale_f(yl, p.t) };
  return e;
}

/* -- exp2 ---------------------------------------------------------------------------
** x = n + f with f exact in [-1/2, 1/2]; 2^f = e^(f ln2) with f ln2 as
** r + rl (exact through fma), then as exp.
*/
SL_VM_INLINE double sl_vexp2_d(double x)
{
  double xc = sl_vm_sel_d(x > 1025.0, 1025.0, x);
  xc = sl_vm_sel_d(xc < -1080.0, -1080.0, xc);
  double t = xc + SL_VM_SHIFT_D;
  double f = xc - (t - SL_VM_SHIFT_D);
  double r = f * SL_VM_LN2_D, rl = fma(f, SL_VM_LN2_D, -r) + f * 0x1.abc9e3b39803fp-56;
  double hi = 1.0 + r, lo = ((1.0 - hi) + r) + sl_vm_exptail_d(r, rl);
  return sl_vm_scale_d(hi + lo, t);
}

SL_VM_INLINE float sl_vexp2_f(float x)
{
  float xc = sl_vm_sel_f(x > 129.0f, 129.0f, x);
  xc = sl_vm_sel_f(xc < -151.0f, -151.0f, xc);
  float t = xc + SL_VM_SHIFT_F;
  float f = xc - (t - SL_VM_SHIFT_F);
  float r = f * 0x1.62e430p-1f, rl = fmaf(f, 0x1.62e430p-1f, -r) + f * -0x1.05c61p-29f;
  float hi = 1.0f + r, lo = ((1.0f - hi) + r) + sl_vm_exptail_f(r, rl);
  return sl_vm_scale_f(hi + lo, t);
}

/* -- expm1 --------------------------------------------------------------------------
** e^x - 1 = 2^n (1 + r + tail) - 1 = 2 (h r + (h - 1/2) + h tail) with
** h = 2^(n-1): h - 1/2 is exact while it matters and |h r| <= |h - 1/2|, so
** (h - 1/2) + h r is summed exactly as hi + lo and the result rounds once.
** Below -40 (-18) the result is -1 to working precision; below 2^-54
** (2^-25) in magnitude it is x.
*/
SL_VM_INLINE double sl_vexpm1_d(double x)
{
  double xc = sl_vm_sel_d(x > 710.0, 710.0, x);
  xc = sl_vm_sel_d(xc < -40.0, -40.0, xc);
  sl_vm_expparts_d p = sl_vm_expparts_of_d(xc);
  uint64_t k = sl_vm_bits_d(p.t) - sl_vm_bits_d(SL_VM_SHIFT_D) + 1022;   /* n - 1 + 1023 */
  double h = sl_vm_from_d(k << 52);
  double a = h - 0.5, b = h * p.r;
  double hi = a + b, lo = (a - hi) + b;
  double y = 2.0 * (hi + (lo + h * p.tail));
  return sl_vm_sel_d(fabs(x) < 0x1p-54, x, y);
}

SL_VM_INLINE float sl_vexpm1_f(float x)
{
  float xc = sl_vm_sel_f(x > 89.0f, 89.0f, x);
  xc = sl_vm_sel_f(xc < -18.0f, -18.0f, xc);
  sl_vm_expparts_f p = sl_vm_expparts_of_f(xc);
  uint32_t k = sl_vm_bits_f(p.t) - sl_vm_bits_f(SL_VM_SHIFT_F) + 126;
  float h = sl_vm_from_f(k << 23);
  float a = h - 0.5f, b = h * p.r;
  float hi = a + b, lo = (a - hi) + b;
  float y = 2.0f * (hi + (lo + h * p.tail));
  return sl_vm_sel_f(fabsf(x) < 0x1p-25f, x, y);
}

/* -- log ------------------------------------------------------------------------------
** A positive normal x is 2^k (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)).
** With s = f / (2 + f), log(1 + f) = 2 atanh(s) = f - (f^2/2 - s (f^2/2 + R))
** where R = 2 s^2/3 + 2 s^4/5 + ... (|s| < 0.172), here s^2 P(s^2) with P a
** minimax fit of degree 6 (2 for float; relative error 2^-59, 2^-30, from
** kernels/vmath_fit.py). The parts are returned unsummed, log(1 + f) =
** f + c, so that log, log2 and log10 each add them up with a split constant.
*/
typedef struct { double k, f, c; } sl_vm_logparts_d;
typedef struct { float k, f, c; } sl_vm_logparts_f;

SL_VM_INLINE double sl_vm_log_c_d(double f)
{
  double s = f / (2.0 + f), z = s * s;
  double R = 0x1.2f07f983dca96p-3;
  R = SL_VM_MADD_D(R, z, 0x1.39a17c22fae7dp-3);
  R = SL_VM_MADD_D(R, z, 0x1.7466413523af7p-3);
  R = SL_VM_MADD_D(R, z, 0x1.c71c51fecb3ecp-3);
  R = SL_VM_MADD_D(R, z, 0x1.24924941fd539p-2);
  R = SL_VM_MADD_D(R, z, 0x1.999999997fcebp-2);
  R = SL_VM_MADD_D(R, z, 0x1.5555555555592p-1);
  R *= z;
  double hfsq = 0.5 * f * f;
  return SL_VM_MADD_D(s, hfsq + R, -hfsq);
}

SL_VM_INLINE float sl_vm_log_c_f(float f)
{
  float s = f / (2.0f + f), z = s * s;
  float R = 0x1.31e40ep-2f;
  R = SL_VM_MADD_F(R, z, 0x1.995eb0p-2f);
  R = SL_VM_MADD_F(R, z, 0x1.55557ap-1f);
  R *= z;
  float hfsq = 0.5f * f * f;
  return SL_VM_MADD_F(s, hfsq + R, -hfsq);
}

/* x > 0 and finite (subnormals included); other x give garbage, which the
** callers replace. */
SL_VM_INLINE sl_vm_logparts_d sl_vm_logparts_of_d(double x)
{
  int sub = x < 0x1p-1022;
  double xs = sl_vm_sel_d(sub, x * 0x1p54, x);
  /* Adding 1 - sqrt(1/2) to the bits carries into the exponent exactly when
  ** the mantissa is at least sqrt(1/2)'s: that is the k wanted. */
  uint64_t u = sl_vm_bits_d(xs) + (0x3ff0000000000000u - 0x3fe6a09e667f3bcdu);
  uint64_t e = u >> 52;                                        /* k + 1023 */
  double k = sl_vm_from_d(0x4330000000000000u | e) - (0x1p52 + 1023.0);
  k = sl_vm_sel_d(sub, k - 54.0, k);
  double f = sl_vm_from_d((u & 0x000fffffffffffffu) + 0x3fe6a09e667f3bcdu) - 1.0;
  sl_vm_logparts_d p = { k, f, sl_vm_log_c_d(f) };
  return p;
}

SL_VM_INLINE sl_vm_logparts_f sl_vm_logparts_of_f(float x)
{
  int sub = x < 0x1p-126f;
  float xs = sl_vm_sel_f(sub, x * 0x1p25f, x);
  uint32_t u = sl_vm_bits_f(xs) + (0x3f800000u - 0x3f3504f3u);
  uint32_t e = u >> 23;
  float k = sl_vm_from_f(0x4b000000u | e) - (0x1p23f + 127.0f);
  k = sl_vm_sel_f(sub, k - 25.0f, k);
  float f = sl_vm_from_f((u & 0x007fffffu) + 0x3f3504f3u) - 1.0f;
  sl_vm_logparts_f p = { k, f, sl_vm_log_c_f(f) };
  return p;
}

/* log's special cases: log(0) = -inf, log(x < 0) = NaN, inf and NaN pass. */
SL_VM_INLINE double sl_vm_log_special_d(double x, double y)
{
  y = sl_vm_sel_d(x < 0, (double)NAN, y);
  y = sl_vm_sel_d(x == 0, -(double)INFINITY, y);
  return sl_vm_sel_d(x != x || x == (double)INFINITY, x, y);
}

SL_VM_INLINE float sl_vm_log_special_f(float x, float y)
{
  y = sl_vm_sel_f(x < 0, NAN, y);
  y = sl_vm_sel_f(x == 0, -INFINITY, y);
  return sl_vm_sel_f(x != x || x == INFINITY, x, y);
}

/* hi + lo = a + b exactly, given |a| >= |b| or a == 0. */
#define SL_VM_FAST2SUM(hi, lo, a, b) do { hi = (a) + (b); lo = ((a) - hi) + (b); } while (0)

SL_VM_INLINE double sl_vlog_d(double x)
{
  sl_vm_logparts_d p = sl_vm_logparts_of_d(x);
  double hi, lo;
  SL_VM_FAST2SUM(hi, lo, p.k * SL_VM_LN2HI_D, p.f);
  return sl_vm_log_special_d(x, hi + (lo + (p.c + p.k * SL_VM_LN2LO_D)));
}

SL_VM_INLINE float sl_vlog_f(float x)
{
  sl_vm_logparts_f p = sl_vm_logparts_of_f(x);
  float hi, lo;
  SL_VM_FAST2SUM(hi, lo, p.k * SL_VM_LN2HI_F, p.f);
  return sl_vm_log_special_f(x, hi + (lo + (p.c + p.k * SL_VM_LN2LO_F)));
}

/* log2 and log10: (f + c) * C with f split in two so that f_hi * C_hi is
** exact (f_hi keeps 21 bits, 8 for float); k log_b(2) likewise (for log2 it
** is k itself). */
SL_VM_INLINE double sl_vlog2_d(double x)
{
  sl_vm_logparts_d p = sl_vm_logparts_of_d(x);
  double fhi = sl_vm_from_d(sl_vm_bits_d(p.f) & 0xffffffff00000000u), flo = p.f - fhi;
  double a = fhi * 0x1.7154765200000p+0;
  double b = flo * SL_VM_LOG2E_D + fhi * 0x1.705fc2eefa200p-33 + p.c * SL_VM_LOG2E_D;
  double hi, lo;
  SL_VM_FAST2SUM(hi, lo, p.k, a);
  return sl_vm_log_special_d(x, hi + (lo + b));
}

SL_VM_INLINE float sl_vlog2_f(float x)
{
  sl_vm_logparts_f p = sl_vm_logparts_of_f(x);
  float fhi = sl_vm_from_f(sl_vm_bits_f(p.f) & 0xffff0000u), flo = p.f - fhi;
  float a = fhi * 0x1.7154p+0f;
  float b = flo * SL_VM_LOG2E_F + fhi * 0x1.d94ae0p-18f + p.c * SL_VM_LOG2E_F;
  float hi, lo;
  SL_VM_FAST2SUM(hi, lo, p.k, a);
  return sl_vm_log_special_f(x, hi + (lo + b));
}

SL_VM_INLINE double sl_vlog10_d(double x)
{
  sl_vm_logparts_d p = sl_vm_logparts_of_d(x);
  double fhi = sl_vm_from_d(sl_vm_bits_d(p.f) & 0xffffffff00000000u), flo = p.f - fhi;
  double a = fhi * 0x1.bcb7b15200000p-2;
  double b = flo * 0x1.bcb7b1526e50ep-2 + fhi * 0x1.b9438ca9aadd5p-36 + p.c * 0x1.bcb7b1526e50ep-2;
  double hi, lo;
  SL_VM_FAST2SUM(hi, lo, p.k * 0x1.3441350a00000p-2, a);
  return sl_vm_log_special_d(x, hi + (lo + (b + p.k * -0x1.0c0219dc1da99p-39)));
}

SL_VM_INLINE float sl_vlog10_f(float x)
{
  sl_vm_logparts_f p = sl_vm_logparts_of_f(x);
  float fhi = sl_vm_from_f(sl_vm_bits_f(p.f) & 0xffff0000u), flo = p.f - fhi;
  float a = fhi * 0x1.bcb8p-2f;
  float b = flo * 0x1.bcb7b2p-2f + fhi * -0x1.3ab646p-20f + p.c * 0x1.bcb7b2p-2f;
  float hi, lo;
  SL_VM_FAST2SUM(hi, lo, p.k * 0x1.3442p-2f, a);
  return sl_vm_log_special_f(x, hi + (lo + (b + p.k * -0x1.95ec10p-19f)));
}

/* -- log1p ----------------------------------------------------------------------------
** log(1 + x + xl) = log(u) + log(1 + d/u) with u = 1 + x rounded and d =
** x - (u - 1) + xl its rounding error (x - (u - 1) is exact); the second
** term is q - q^2/2, q = d/u, to working precision. xl is a low part of x
** (softplus has one).
*/
SL_VM_INLINE double sl_vm_log1p2_d(double x, double xl)
{
  double u = 1.0 + x;
  double d = (x - (u - 1.0)) + xl;
  sl_vm_logparts_d p = sl_vm_logparts_of_d(u);
  double hi, lo;
  SL_VM_FAST2SUM(hi, lo, p.k * SL_VM_LN2HI_D, p.f);
  double q = d / u;
  return hi + (lo + (p.c + (p.k * SL_VM_LN2LO_D + (q - 0.5 * q * q))));
}

SL_VM_INLINE float sl_vm_log1p2_f(float x, float xl)
{
  float u = 1.0f + x;
  float d = (x - (u - 1.0f)) + xl;
  sl_vm_logparts_f p = sl_vm_logparts_of_f(u);
  float hi, lo;
  SL_VM_FAST2SUM(hi, lo, p.k * SL_VM_LN2HI_F, p.f);
  float q = d / u;
  return hi + (lo + (p.c + (p.k * SL_VM_LN2LO_F + (q - 0.5f * q * q))));
}

SL_VM_INLINE double sl_vlog1p_d(double x)
{
  double y = sl_vm_log_special_d(1.0 + x, sl_vm_log1p2_d(x, 0.0));
  return sl_vm_sel_d(x == 0, x, y);
}

SL_VM_INLINE float sl_vlog1p_f(float x)
{
  float y = sl_vm_log_special_f(1.0f + x, sl_vm_log1p2_f(x, 0.0f));
  return sl_vm_sel_f(x == 0, x, y);
}

/* -- tanh -------------------------------------------------------------------------------
** |x| < 0.55: x + x^3 P(x^2), P a minimax fit (relative error 2^-60 for
** double, 2^-30 for float). Above: 1 - 2 / (e + 1), e = e^2|x| (clamped
** where tanh is 1) as hi + lo; the quotient is corrected by its remainder
** (exact through fma) and the subtraction is summed exactly, so that the
** result rounds about once: libm's tanh is itself up to 2 ulp off, and this
** keeps the two within 2 ulp of each other. The sign is put back at the end.
*/
SL_VM_INLINE double sl_vtanh_d(double x)
{
  double a = fabs(x), z = a * a;
  double p = -0x1.471107405d478p-16;
  p = SL_VM_MADD_D(p, z, 0x1.5d745862fff44p-14);
  p = SL_VM_MADD_D(p, z, -0x1.e96fc5140607dp-13);
  p = SL_VM_MADD_D(p, z, 0x1.3483ae7750c83p-11);
  p = SL_VM_MADD_D(p, z, -0x1.7d8fd3a9c3dbfp-10);
  p = SL_VM_MADD_D(p, z, 0x1.d6d29b968efc4p-9);
  p = SL_VM_MADD_D(p, z, -0x1.226e2f14785c4p-7);
  p = SL_VM_MADD_D(p, z, 0x1.664f4859708c1p-6);
  p = SL_VM_MADD_D(p, z, -0x1.ba1ba1b97d886p-5);
  p = SL_VM_MADD_D(p, z, 0x1.111111111079fp-3);
  p = SL_VM_MADD_D(p, z, -0x1.555555555554fp-2);
  double small = SL_VM_MADD_D(a * z, p, a);
  sl_vm_dd e = sl_vm_exp2sum_d(2.0 * sl_vm_sel_d(a > 20.0, 20.0, a));
  double d = e.hi + 1.0, dl = ((e.hi - d) + 1.0) + e.lo;      /* e + 1 = d + dl */
  double q = 2.0 / d;
  double ql = (fma(-q, d, 2.0) - q * dl) * (0.5 * q);          /* 2/(d + dl) - q */
  double hi = 1.0 - q, lo = ((1.0 - hi) - q) - ql;
  return copysign(sl_vm_sel_d(a < 0.55, small, hi + lo), x);
}

SL_VM_INLINE float sl_vtanh_f(float x)
{
  float a = fabsf(x), z = a * a;
  float p = -0x1.9b3046p-8f;
  p = SL_VM_MADD_F(p, z, 0x1.593d08p-6f);
  p = SL_VM_MADD_F(p, z, -0x1.b9287ap-5f);
  p = SL_VM_MADD_F(p, z, 0x1.110d26p-3f);
  p = SL_VM_MADD_F(p, z, -0x1.55554ap-2f);
  float small = SL_VM_MADD_F(a * z, p, a);
  sl_vm_ff e = sl_vm_exp2sum_f(2.0f * sl_vm_sel_f(a > 10.0f, 10.0f, a));
  float d = e.hi + 1.0f, dl = ((e.hi - d) + 1.0f) + e.lo;
  float q = 2.0f / d;
  float ql = (fmaf(-q, d, 2.0f) - q * dl) * (0.5f * q);
  float hi = 1.0f - q, lo = ((1.0f - hi) - q) - ql;
  return copysignf(sl_vm_sel_f(a < 0.55f, small, hi + lo), x);
}

/* cosh in float from the double exponential: vectorized, correctly rounded
** but for double rounding, and finite up to float's own overflow near 89.4
** (tanh's gradient, 1/cosh^2, meets it in every tanh layer's backward pass). */
SL_VM_INLINE float sl_vcosh_f(float x)
{
  double d = (double)x;
  return (float)(0.5 * (sl_vexp_d(d) + sl_vexp_d(-d)));
}

/* -- sigmoid and softplus -----------------------------------------------------------------
** The forms scalar.h uses with libm, stable for large |x|: e = e^-|x| <= 1,
** sigmoid = (x >= 0 ? 1 : e) / (1 + e), softplus = max(x, 0) + log1p(e).
** e comes as hi + lo and the quotient is corrected as in tanh.
*/
SL_VM_INLINE double sl_vsigmoid_d(double x)
{
  sl_vm_dd e = sl_vm_exp2sum_d(-fabs(x));
  double d = 1.0 + e.hi, dl = ((1.0 - d) + e.hi) + e.lo;        /* 1 + e = d + dl */
  double num = sl_vm_sel_d(x >= 0, 1.0, e.hi), numl = sl_vm_sel_d(x >= 0, 0.0, e.lo);
  double inv = 1.0 / d, q = num * inv;
  return q + ((fma(-q, d, num) + numl) - q * dl) * inv;
}

SL_VM_INLINE float sl_vsigmoid_f(float x)
{
  sl_vm_ff e = sl_vm_exp2sum_f(-fabsf(x));
  float d = 1.0f + e.hi, dl = ((1.0f - d) + e.hi) + e.lo;
  float num = sl_vm_sel_f(x >= 0, 1.0f, e.hi), numl = sl_vm_sel_f(x >= 0, 0.0f, e.lo);
  float inv = 1.0f / d, q = num * inv;
  return q + ((fmaf(-q, d, num) + numl) - q * dl) * inv;
}

SL_VM_INLINE double sl_vsoftplus_d(double x)
{
  sl_vm_dd e = sl_vm_exp2sum_d(-fabs(x));
  return sl_vm_sel_d(x > 0, x, 0.0) + sl_vm_log1p2_d(e.hi, e.lo);
}

SL_VM_INLINE float sl_vsoftplus_f(float x)
{
  sl_vm_ff e = sl_vm_exp2sum_f(-fabsf(x));
  return sl_vm_sel_f(x > 0, x, 0.0f) + sl_vm_log1p2_f(e.hi, e.lo);
}

#endif /* SL_VMATH_EXTERN */
#endif
