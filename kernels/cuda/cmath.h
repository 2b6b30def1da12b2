/*
** cmath.h — C's meaning for the math calls of the kernel headers, in CUDA
** C++. The op rows' expressions and kernels/scalar.h are C, where sin(x) of
** a float x is the double sin of x rounded to float; C++ (NVRTC, and the
** host compiler under SL_CUDA_HOST) would call the float overload sinf
** instead, a different function with different results. Each inexact libm
** call used by name therefore takes its arguments as double, as in C, and
** a float32 sin on the device rounds the same double value that the C
** backend rounds. Exact ones (fabs, floor, sqrt, fmod, ...) need nothing.
** Comes after device.h or host.h: a macro does not apply to its own
** expansion, so each still names the library's double function.
*/
#ifndef SL_CUDA_CMATH_H
#define SL_CUDA_CMATH_H

#define sin(x) sin((double)(x))
#define cos(x) cos((double)(x))
#define tan(x) tan((double)(x))
#define asin(x) asin((double)(x))
#define acos(x) acos((double)(x))
#define atan(x) atan((double)(x))
#define sinh(x) sinh((double)(x))
#define cosh(x) cosh((double)(x))
#define tanh(x) tanh((double)(x))
#define asinh(x) asinh((double)(x))
#define acosh(x) acosh((double)(x))
#define atanh(x) atanh((double)(x))
#define exp(x) exp((double)(x))
#define exp2(x) exp2((double)(x))
#define expm1(x) expm1((double)(x))
#define log(x) log((double)(x))
#define log2(x) log2((double)(x))
#define log10(x) log10((double)(x))
#define log1p(x) log1p((double)(x))
#define cbrt(x) cbrt((double)(x))
#define erf(x) erf((double)(x))
#define erfc(x) erfc((double)(x))
#define atan2(y, x) atan2((double)(y), (double)(x))
#define hypot(x, y) hypot((double)(x), (double)(y))
#define pow(x, y) pow((double)(x), (double)(y))

#endif
