/*
** scalar.h — scalar helpers that elementwise expressions use, for both the
** reference kernels and generated code. Each works on double, float and
** int64_t through _Generic (overloads in C++, which CUDA compiles), so one
** expression serves every dtype; integer
** versions define the cases C leaves undefined (x / 0, INT64_MIN / -1) the
** way NumPy does (result 0).
**
** Transcendentals (sl_exp, sl_log, sl_tanh, sl_sigmoid, ...) call libm, as
** the reference backend must; where SL_VECTOR_MATH is defined before this
** header (generated code defines it to 1) they call the vectorizable
** versions of kernels/vmath.h instead, which must then be included too.
*/
#ifndef SL_SCALAR_H
#define SL_SCALAR_H

#include <math.h>
#include <stdint.h>

/* + - * on integers wrap around, as NumPy's do (signed overflow is undefined
** in C, so they go through uint64_t); on floats they are the plain operators. */
static inline int64_t sl_add_i(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static inline int64_t sl_sub_i(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static inline int64_t sl_mul_i(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }
static inline int64_t sl_neg_i(int64_t a) { return (int64_t)(0 - (uint64_t)a); }
static inline double sl_add_d(double a, double b) { return a + b; }
static inline double sl_sub_d(double a, double b) { return a - b; }
static inline double sl_mul_d(double a, double b) { return a * b; }
static inline double sl_neg_d(double a) { return -a; }
static inline float sl_add_f(float a, float b) { return a + b; }
static inline float sl_sub_f(float a, float b) { return a - b; }
static inline float sl_mul_f(float a, float b) { return a * b; }
static inline float sl_neg_f(float a) { return -a; }

static inline int64_t sl_floordiv_i(int64_t a, int64_t b)
{
  if (b == 0 || (b == -1 && a == INT64_MIN)) return b == 0 ? 0 : a;
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
/* Float floor division as Python and NumPy define it: consistent with mod
** (a == b * (a // b) + a % b up to rounding), so 1 // 0.1 is 9, not
** floor(1 / 0.1) = 10; inf // x is NaN; x // 0 is x / 0. */
static inline double sl_floordiv_d(double a, double b)
{
  if (b == 0) return a / b;
  double m = fmod(a, b);
  double d = (a - m) / b;
  if (m != 0 && ((m < 0) != (b < 0))) d -= 1;
  if (d == 0) return copysign(0.0, a / b);
  double f = floor(d);
  return d - f > 0.5 ? f + 1 : f;   /* d is near an integer: snap to it */
}
static inline float sl_floordiv_f(float a, float b) { return (float)sl_floordiv_d(a, b); }

/* Python's modulo: the result takes the sign of the divisor. */
static inline int64_t sl_mod_i(int64_t a, int64_t b)
{
  if (b == 0 || b == -1) return 0;
  int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
static inline double sl_mod_d(double a, double b)
{
  double r = fmod(a, b);
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
static inline float sl_mod_f(float a, float b) { return (float)sl_mod_d(a, b); }

/* Integer powers by squaring; a negative exponent truncates 1/a^-b toward 0. */
static inline int64_t sl_pow_i(int64_t a, int64_t b)
{
  if (b < 0) return a == 1 ? 1 : a == -1 ? ((b & 1) ? -1 : 1) : 0;
  uint64_t r = 1, x = (uint64_t)a;
  for (; b; b >>= 1, x *= x) if (b & 1) r *= x;
  return (int64_t)r;
}

static inline int64_t sl_abs_i(int64_t a) { return a < 0 ? (int64_t)(0 - (uint64_t)a) : a; }
static inline int64_t sl_sign_i(int64_t a) { return (a > 0) - (a < 0); }
static inline double sl_sign_d(double a) { return a > 0 ? 1.0 : a < 0 ? -1.0 : a; }
static inline float sl_sign_f(float a) { return a > 0 ? 1.0f : a < 0 ? -1.0f : a; }

/* NaN-propagating maximum and minimum, as NumPy's maximum/minimum. */
static inline double sl_max_d(double a, double b) { return (a != a || a > b) ? a : b; }
static inline double sl_min_d(double a, double b) { return (a != a || a < b) ? a : b; }
static inline float sl_max_f(float a, float b) { return (a != a || a > b) ? a : b; }
static inline float sl_min_f(float a, float b) { return (a != a || a < b) ? a : b; }
static inline int64_t sl_max_i(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t sl_min_i(int64_t a, int64_t b) { return a < b ? a : b; }

/* Stable forms: no overflow for large |x|. */
static inline double sl_sigmoid_d(double x)
{
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}
static inline float sl_sigmoid_f(float x) { return (float)sl_sigmoid_d(x); }
static inline double sl_softplus_d(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static inline float sl_softplus_f(float x) { return (float)sl_softplus_d(x); }

/* log(exp(a) + exp(b)) without overflow; equal infinities give that infinity. */
static inline double sl_logaddexp_d(double a, double b)
{
  if (a == b) return a + 0.6931471805599453;   /* also +-inf with itself */
  double m = a > b ? a : b, d = a > b ? b - a : a - b;
  return d == d ? m + log1p(exp(d)) : a + b;   /* NaN in, NaN out */
}
static inline float sl_logaddexp_f(float a, float b) { return (float)sl_logaddexp_d(a, b); }

static inline int64_t sl_isnan_i(int64_t a) { (void)a; return 0; }
static inline int64_t sl_isinf_i(int64_t a) { (void)a; return 0; }
static inline double sl_isnan_d(double a) { return isnan(a); }
static inline double sl_isinf_d(double a) { return isinf(a); }
static inline float sl_isnan_f(float a) { return isnan(a); }
static inline float sl_isinf_f(float a) { return isinf(a); }

#ifndef __cplusplus
/* C11: the function for a's type; any integer type takes the int64_t one. */
#define SL_GENERIC(x, d, f, i) _Generic((x), double: d, float: f, default: i)
#define sl_add(a, b)      SL_GENERIC(a, sl_add_d, sl_add_f, sl_add_i)(a, b)
#define sl_sub(a, b)      SL_GENERIC(a, sl_sub_d, sl_sub_f, sl_sub_i)(a, b)
#define sl_mul(a, b)      SL_GENERIC(a, sl_mul_d, sl_mul_f, sl_mul_i)(a, b)
#define sl_neg(a)         SL_GENERIC(a, sl_neg_d, sl_neg_f, sl_neg_i)(a)
#define sl_floordiv(a, b) SL_GENERIC(a, sl_floordiv_d, sl_floordiv_f, sl_floordiv_i)(a, b)
#define sl_mod(a, b)      SL_GENERIC(a, sl_mod_d, sl_mod_f, sl_mod_i)(a, b)
#define sl_pow(a, b)      SL_GENERIC(a, pow, powf, sl_pow_i)(a, b)
#define sl_abs(a)         SL_GENERIC(a, fabs, fabsf, sl_abs_i)(a)
#define sl_sign(a)        SL_GENERIC(a, sl_sign_d, sl_sign_f, sl_sign_i)(a)
#define sl_max(a, b)      SL_GENERIC(a, sl_max_d, sl_max_f, sl_max_i)(a, b)
#define sl_min(a, b)      SL_GENERIC(a, sl_min_d, sl_min_f, sl_min_i)(a, b)
#ifdef SL_VECTOR_MATH
#define sl_exp(a)         SL_GENERIC(a, sl_vexp_d, sl_vexp_f, sl_vexp_d)(a)
#define sl_exp2(a)        SL_GENERIC(a, sl_vexp2_d, sl_vexp2_f, sl_vexp2_d)(a)
#define sl_expm1(a)       SL_GENERIC(a, sl_vexpm1_d, sl_vexpm1_f, sl_vexpm1_d)(a)
#define sl_log(a)         SL_GENERIC(a, sl_vlog_d, sl_vlog_f, sl_vlog_d)(a)
#define sl_log2(a)        SL_GENERIC(a, sl_vlog2_d, sl_vlog2_f, sl_vlog2_d)(a)
#define sl_log10(a)       SL_GENERIC(a, sl_vlog10_d, sl_vlog10_f, sl_vlog10_d)(a)
#define sl_log1p(a)       SL_GENERIC(a, sl_vlog1p_d, sl_vlog1p_f, sl_vlog1p_d)(a)
#define sl_tanh(a)        SL_GENERIC(a, sl_vtanh_d, sl_vtanh_f, sl_vtanh_d)(a)
#define sl_sigmoid(a)     SL_GENERIC(a, sl_vsigmoid_d, sl_vsigmoid_f, sl_vsigmoid_d)(a)
#define sl_softplus(a)    SL_GENERIC(a, sl_vsoftplus_d, sl_vsoftplus_f, sl_vsoftplus_d)(a)
#define sl_cosh(a)        SL_GENERIC(a, cosh, sl_vcosh_f, cosh)(a)
#else
#define sl_exp(a)         SL_GENERIC(a, exp, expf, exp)(a)
#define sl_exp2(a)        SL_GENERIC(a, exp2, exp2f, exp2)(a)
#define sl_expm1(a)       SL_GENERIC(a, expm1, expm1f, expm1)(a)
#define sl_log(a)         SL_GENERIC(a, log, logf, log)(a)
#define sl_log2(a)        SL_GENERIC(a, log2, log2f, log2)(a)
#define sl_log10(a)       SL_GENERIC(a, log10, log10f, log10)(a)
#define sl_log1p(a)       SL_GENERIC(a, log1p, log1pf, log1p)(a)
#define sl_tanh(a)        SL_GENERIC(a, tanh, tanhf, tanh)(a)
#define sl_sigmoid(a)     SL_GENERIC(a, sl_sigmoid_d, sl_sigmoid_f, sl_sigmoid_d)(a)
#define sl_softplus(a)    SL_GENERIC(a, sl_softplus_d, sl_softplus_f, sl_softplus_d)(a)
#define sl_cosh(a)        SL_GENERIC(a, cosh, coshf, cosh)(a)
#endif
#define sl_logaddexp(a, b) SL_GENERIC(a, sl_logaddexp_d, sl_logaddexp_f, sl_logaddexp_d)(a, b)
#define sl_isnan(a)       SL_GENERIC(a, sl_isnan_d, sl_isnan_f, sl_isnan_i)(a)
#define sl_isinf(a)       SL_GENERIC(a, sl_isinf_d, sl_isinf_f, sl_isinf_i)(a)
#else
/* C++ (CUDA compiles the generated expressions as C++) has no _Generic: the
** same choice by overloading on the first operand's type, the others
** converted to it, any other type through the int64_t version. */
#define SL_OVERLOAD1(name, d, f, i) \
  template <class A> static inline auto name(A a) -> decltype(i((int64_t)a)) { return i((int64_t)a); } \
  static inline double name(double a) { return d(a); } \
  static inline float name(float a) { return f(a); }
#define SL_OVERLOAD2(name, d, f, i) \
  template <class A, class B> static inline auto name(A a, B b) -> decltype(i((int64_t)a, (int64_t)b)) \
  { return i((int64_t)a, (int64_t)b); } \
  template <class B> static inline double name(double a, B b) { return d(a, (double)b); } \
  template <class B> static inline float name(float a, B b) { return f(a, (float)b); }
SL_OVERLOAD2(sl_add, sl_add_d, sl_add_f, sl_add_i)
SL_OVERLOAD2(sl_sub, sl_sub_d, sl_sub_f, sl_sub_i)
SL_OVERLOAD2(sl_mul, sl_mul_d, sl_mul_f, sl_mul_i)
SL_OVERLOAD1(sl_neg, sl_neg_d, sl_neg_f, sl_neg_i)
SL_OVERLOAD2(sl_floordiv, sl_floordiv_d, sl_floordiv_f, sl_floordiv_i)
SL_OVERLOAD2(sl_mod, sl_mod_d, sl_mod_f, sl_mod_i)
SL_OVERLOAD2(sl_pow, pow, powf, sl_pow_i)
SL_OVERLOAD1(sl_abs, fabs, fabsf, sl_abs_i)
SL_OVERLOAD1(sl_sign, sl_sign_d, sl_sign_f, sl_sign_i)
SL_OVERLOAD2(sl_max, sl_max_d, sl_max_f, sl_max_i)
SL_OVERLOAD2(sl_min, sl_min_d, sl_min_f, sl_min_i)
#ifdef SL_VECTOR_MATH
/* defined by kernels/vmath.h, which comes after this header */
static inline double sl_vexp_d(double x); static inline float sl_vexp_f(float x);
static inline double sl_vexp2_d(double x); static inline float sl_vexp2_f(float x);
static inline double sl_vexpm1_d(double x); static inline float sl_vexpm1_f(float x);
static inline double sl_vlog_d(double x); static inline float sl_vlog_f(float x);
static inline double sl_vlog2_d(double x); static inline float sl_vlog2_f(float x);
static inline double sl_vlog10_d(double x); static inline float sl_vlog10_f(float x);
static inline double sl_vlog1p_d(double x); static inline float sl_vlog1p_f(float x);
static inline double sl_vtanh_d(double x); static inline float sl_vtanh_f(float x);
static inline double sl_vsigmoid_d(double x); static inline float sl_vsigmoid_f(float x);
static inline double sl_vsoftplus_d(double x); static inline float sl_vsoftplus_f(float x);
static inline float sl_vcosh_f(float x);
SL_OVERLOAD1(sl_exp, sl_vexp_d, sl_vexp_f, sl_vexp_d)
SL_OVERLOAD1(sl_exp2, sl_vexp2_d, sl_vexp2_f, sl_vexp2_d)
SL_OVERLOAD1(sl_expm1, sl_vexpm1_d, sl_vexpm1_f, sl_vexpm1_d)
SL_OVERLOAD1(sl_log, sl_vlog_d, sl_vlog_f, sl_vlog_d)
SL_OVERLOAD1(sl_log2, sl_vlog2_d, sl_vlog2_f, sl_vlog2_d)
SL_OVERLOAD1(sl_log10, sl_vlog10_d, sl_vlog10_f, sl_vlog10_d)
SL_OVERLOAD1(sl_log1p, sl_vlog1p_d, sl_vlog1p_f, sl_vlog1p_d)
SL_OVERLOAD1(sl_tanh, sl_vtanh_d, sl_vtanh_f, sl_vtanh_d)
SL_OVERLOAD1(sl_sigmoid, sl_vsigmoid_d, sl_vsigmoid_f, sl_vsigmoid_d)
SL_OVERLOAD1(sl_softplus, sl_vsoftplus_d, sl_vsoftplus_f, sl_vsoftplus_d)
SL_OVERLOAD1(sl_cosh, cosh, sl_vcosh_f, cosh)
#else
SL_OVERLOAD1(sl_exp, exp, expf, exp)
SL_OVERLOAD1(sl_exp2, exp2, exp2f, exp2)
SL_OVERLOAD1(sl_expm1, expm1, expm1f, expm1)
SL_OVERLOAD1(sl_log, log, logf, log)
SL_OVERLOAD1(sl_log2, log2, log2f, log2)
SL_OVERLOAD1(sl_log10, log10, log10f, log10)
SL_OVERLOAD1(sl_log1p, log1p, log1pf, log1p)
SL_OVERLOAD1(sl_tanh, tanh, tanhf, tanh)
SL_OVERLOAD1(sl_sigmoid, sl_sigmoid_d, sl_sigmoid_f, sl_sigmoid_d)
SL_OVERLOAD1(sl_softplus, sl_softplus_d, sl_softplus_f, sl_softplus_d)
SL_OVERLOAD1(sl_cosh, cosh, coshf, cosh)
#endif
SL_OVERLOAD1(sl_isnan, sl_isnan_d, sl_isnan_f, sl_isnan_i)
SL_OVERLOAD1(sl_isinf, sl_isinf_d, sl_isinf_f, sl_isinf_i)
SL_OVERLOAD2(sl_logaddexp, sl_logaddexp_d, sl_logaddexp_f, sl_logaddexp_d)
#endif
#define sl_clip(a, lo, hi) sl_min(sl_max(a, lo), hi)

#endif
