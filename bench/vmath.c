/*
** vmath.c — ns per element of kernels/vmath.h's functions in `omp simd`
** loops against the same loops calling libm, on one thread, next to a loop
** that moves the same bytes and computes nothing (the memory bound).
**
** Built and run by bench/vmath.lua (-O3 -march=native -fopenmp
** -fno-math-errno, as generated code). Usage: vmath [elements] (default 10^7).
** Prints a markdown table.
*/
#define SL_VECTOR_MATH 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../kernels/scalar.h"
#include "../kernels/vmath.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One kernel: out = f(a, b, c, d) over n elements. */
typedef void (*kernel_d)(long n, const double *a, const double *b, const double *c,
                         const double *d, double *out);
typedef void (*kernel_f)(long n, const float *a, const float *b, const float *c,
                         const float *d, float *out);

#define LOOP1(name, T, expr) \
  static void name(long n, const T *restrict a, const T *restrict b, const T *restrict c, \
                   const T *restrict d, T *restrict out) \
  { (void)b; (void)c; (void)d; _Pragma("omp simd") for (long i = 0; i < n; i++) out[i] = (expr); }
#define LOOP4(name, T, expr) \
  static void name(long n, const T *restrict a, const T *restrict b, const T *restrict c, \
                   const T *restrict d, T *restrict out) \
  { _Pragma("omp simd") for (long i = 0; i < n; i++) out[i] = (expr); }

/* the memory bounds: one operand in and one out; four in and one out */
LOOP1(copy_d, double, a[i] * 0.5)
LOOP4(axpy4_d, double, a[i] * b[i] + c[i] * d[i])
LOOP1(copy_f, float, a[i] * 0.5f)
LOOP4(axpy4_f, float, a[i] * b[i] + c[i] * d[i])

LOOP1(exp_vm_d, double, sl_vexp_d(a[i]))
LOOP1(exp_libm_d, double, exp(a[i]))
LOOP1(log_vm_d, double, sl_vlog_d(a[i]))
LOOP1(log_libm_d, double, log(a[i]))
LOOP1(tanh_vm_d, double, sl_vtanh_d(a[i]))
LOOP1(tanh_libm_d, double, tanh(a[i]))
LOOP1(expm1_vm_d, double, sl_vexpm1_d(a[i]))
LOOP1(expm1_libm_d, double, expm1(a[i]))
LOOP1(log1p_vm_d, double, sl_vlog1p_d(a[i]))
LOOP1(log1p_libm_d, double, log1p(a[i]))
LOOP1(sigmoid_vm_d, double, sl_vsigmoid_d(a[i]))
LOOP1(sigmoid_libm_d, double, sl_sigmoid_d(a[i]))
LOOP1(softplus_vm_d, double, sl_vsoftplus_d(a[i]))
LOOP1(softplus_libm_d, double, sl_softplus_d(a[i]))
LOOP4(abcexp_vm_d, double, a[i] * b[i] + c[i] * sl_vexp_d(d[i]))
LOOP4(abcexp_libm_d, double, a[i] * b[i] + c[i] * exp(d[i]))

LOOP1(exp_vm_f, float, sl_vexp_f(a[i]))
LOOP1(exp_libm_f, float, expf(a[i]))
LOOP1(log_vm_f, float, sl_vlog_f(a[i]))
LOOP1(log_libm_f, float, logf(a[i]))
LOOP1(tanh_vm_f, float, sl_vtanh_f(a[i]))
LOOP1(tanh_libm_f, float, tanhf(a[i]))
LOOP1(expm1_vm_f, float, sl_vexpm1_f(a[i]))
LOOP1(expm1_libm_f, float, expm1f(a[i]))
LOOP1(log1p_vm_f, float, sl_vlog1p_f(a[i]))
LOOP1(log1p_libm_f, float, log1pf(a[i]))
LOOP1(sigmoid_vm_f, float, sl_vsigmoid_f(a[i]))
LOOP1(sigmoid_libm_f, float, sl_sigmoid_f(a[i]))
LOOP1(softplus_vm_f, float, sl_vsoftplus_f(a[i]))
LOOP1(softplus_libm_f, float, sl_softplus_f(a[i]))
LOOP4(abcexp_vm_f, float, a[i] * b[i] + c[i] * sl_vexp_f(d[i]))
LOOP4(abcexp_libm_f, float, a[i] * b[i] + c[i] * expf(d[i]))

typedef struct {
  const char *expr;
  kernel_d vm_d, libm_d, bound_d;
  kernel_f vm_f, libm_f, bound_f;
  double lo, hi;            /* the inputs' range */
} row;

static const row ROWS[] = {
  { "exp(x)", exp_vm_d, exp_libm_d, copy_d, exp_vm_f, exp_libm_f, copy_f, -20, 20 },
  { "log(x)", log_vm_d, log_libm_d, copy_d, log_vm_f, log_libm_f, copy_f, 1e-3, 1e3 },
  { "tanh(x)", tanh_vm_d, tanh_libm_d, copy_d, tanh_vm_f, tanh_libm_f, copy_f, -5, 5 },
  { "expm1(x)", expm1_vm_d, expm1_libm_d, copy_d, expm1_vm_f, expm1_libm_f, copy_f, -5, 5 },
  { "log1p(x)", log1p_vm_d, log1p_libm_d, copy_d, log1p_vm_f, log1p_libm_f, copy_f, -0.5, 10 },
  { "sigmoid(x)", sigmoid_vm_d, sigmoid_libm_d, copy_d, sigmoid_vm_f, sigmoid_libm_f, copy_f, -20, 20 },
  { "softplus(x)", softplus_vm_d, softplus_libm_d, copy_d, softplus_vm_f, softplus_libm_f, copy_f, -20, 20 },
  { "a*b+c*exp(d)", abcexp_vm_d, abcexp_libm_d, axpy4_d, abcexp_vm_f, abcexp_libm_f, axpy4_f, -5, 5 },
};
#define NROWS ((int)(sizeof ROWS / sizeof *ROWS))

#define REPS 5

/* best of REPS, in ns per element */
static double time_d(kernel_d k, long n, double **v)
{
  double best = 1e30;
  for (int r = 0; r < REPS; r++) {
    double t0 = now();
    k(n, v[0], v[1], v[2], v[3], v[4]);
    double t = now() - t0;
    if (t < best) best = t;
  }
  return best * 1e9 / (double)n;
}

static double time_f(kernel_f k, long n, float **v)
{
  double best = 1e30;
  for (int r = 0; r < REPS; r++) {
    double t0 = now();
    k(n, v[0], v[1], v[2], v[3], v[4]);
    double t = now() - t0;
    if (t < best) best = t;
  }
  return best * 1e9 / (double)n;
}

int main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 10000000;
  if (n < 1) { fprintf(stderr, "usage: vmath [elements]\n"); return 2; }
  double *vd[5];
  float *vf[5];
  for (int k = 0; k < 5; k++) {
    vd[k] = malloc(sizeof(double) * (size_t)n);
    vf[k] = malloc(sizeof(float) * (size_t)n);
    if (!vd[k] || !vf[k]) { fprintf(stderr, "out of memory\n"); return 2; }
    memset(vd[k], 0, sizeof(double) * (size_t)n);   /* touch every page before timing */
    memset(vf[k], 0, sizeof(float) * (size_t)n);
  }
  printf("%ld elements, one thread, best of %d; ns per element (lower is better)\n\n", n, REPS);
  printf("| expression | dtype | vmath | libm | memory bound | libm / vmath | vmath / bound |\n");
  printf("|---|---|---|---|---|---|---|\n");
  unsigned seed = 1;
  for (int r = 0; r < NROWS; r++) {
    const row *w = &ROWS[r];
    for (int k = 0; k < 4; k++)
      for (long i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        double u = w->lo + (w->hi - w->lo) * (double)(seed >> 8) / 16777216.0;
        vd[k][i] = u;
        vf[k][i] = (float)u;
      }
    double vm = time_d(w->vm_d, n, vd), lm = time_d(w->libm_d, n, vd), bd = time_d(w->bound_d, n, vd);
    printf("| %s | float64 | %.2f | %.2f | %.2f | %.1f | %.2f |\n", w->expr, vm, lm, bd, lm / vm, vm / bd);
    vm = time_f(w->vm_f, n, vf), lm = time_f(w->libm_f, n, vf), bd = time_f(w->bound_f, n, vf);
    printf("| %s | float32 | %.2f | %.2f | %.2f | %.1f | %.2f |\n", w->expr, vm, lm, bd, lm / vm, vm / bd);
  }
  for (int k = 0; k < 5; k++) { free(vd[k]); free(vf[k]); }
  return 0;
}
