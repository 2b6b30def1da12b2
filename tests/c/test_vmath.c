/*
** test_vmath.c — accuracy of kernels/vmath.h against libm: the largest ulp
** error of each function, float and double, over random bit patterns, dense
** ranges and the neighbourhoods of thresholds, and exact special values.
**
** Usage: test_vmath [N]. N samples per input class (default 4000, small
** enough for valgrind); spec/vmath_spec.lua builds this file the way
** generated code is built (-O3 -march=native -fopenmp) and runs it with a
** large N. A result more than 2 ulp from libm's fails, and so does any
** mismatch in NaN, infinity or the sign of zero.
*/
#define SL_VECTOR_MATH 1
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernels/scalar.h"
#include "../../kernels/vmath.h"

#define MAX_ULP 2.0

#ifdef _OPENMP
#define SIMD_LOOP _Pragma("omp simd")
#else
#define SIMD_LOOP
#endif

/* The functions are applied to arrays through loops the compiler may
** vectorize, as in generated code. */
#define ARRAY_D(name, fn) \
  static void name(const double *x, double *y, int n) { SIMD_LOOP for (int i = 0; i < n; i++) y[i] = fn(x[i]); }
#define ARRAY_F(name, fn) \
  static void name(const float *x, float *y, int n) { SIMD_LOOP for (int i = 0; i < n; i++) y[i] = fn(x[i]); }
ARRAY_D(array_exp_d, sl_vexp_d)
ARRAY_D(array_exp2_d, sl_vexp2_d)
ARRAY_D(array_expm1_d, sl_vexpm1_d)
ARRAY_D(array_log_d, sl_vlog_d)
ARRAY_D(array_log2_d, sl_vlog2_d)
ARRAY_D(array_log10_d, sl_vlog10_d)
ARRAY_D(array_log1p_d, sl_vlog1p_d)
ARRAY_D(array_tanh_d, sl_vtanh_d)
ARRAY_D(array_sigmoid_d, sl_vsigmoid_d)
ARRAY_D(array_softplus_d, sl_vsoftplus_d)
ARRAY_F(array_exp_f, sl_vexp_f)
ARRAY_F(array_exp2_f, sl_vexp2_f)
ARRAY_F(array_expm1_f, sl_vexpm1_f)
ARRAY_F(array_log_f, sl_vlog_f)
ARRAY_F(array_log2_f, sl_vlog2_f)
ARRAY_F(array_log10_f, sl_vlog10_f)
ARRAY_F(array_log1p_f, sl_vlog1p_f)
ARRAY_F(array_tanh_f, sl_vtanh_f)
ARRAY_F(array_sigmoid_f, sl_vsigmoid_f)
ARRAY_F(array_softplus_f, sl_vsoftplus_f)

/* The references for sigmoid and softplus are scalar.h's libm versions,
** which the reference backend runs. */
static double ref_sigmoid_d(double x) { return sl_sigmoid_d(x); }
static double ref_softplus_d(double x) { return sl_softplus_d(x); }
static float ref_sigmoid_f(float x) { return sl_sigmoid_f(x); }
static float ref_softplus_f(float x) { return sl_softplus_f(x); }

#define NEDGE 6
typedef struct {
  const char *name;
  void (*vd)(const double *, double *, int);
  double (*rd)(double);
  void (*vf)(const float *, float *, int);
  float (*rf)(float);
  double lo, hi, flo, fhi;          /* dense linear ranges, double and float */
  double edges[NEDGE], fedges[NEDGE];   /* thresholds: their neighbours are tested */
} fn_row;

static const fn_row FUNCS[] = {
  { "exp", array_exp_d, exp, array_exp_f, expf, -746, 710, -104, 89,
    { 709.782712893384, -708.3964185322641, -745.1332191019411, 0.34657359027997264, 0 },
    { 88.72283935546875, -87.33654022216797, -103.97208404541016, 0.3465735912322998f, 0 } },
  { "exp2", array_exp2_d, exp2, array_exp2_f, exp2f, -1080, 1025, -151, 129,
    { 1024, -1022, -1074, -1075, 0.5, 0 }, { 128, -126, -149, -150, 0.5f, 0 } },
  { "expm1", array_expm1_d, expm1, array_expm1_f, expm1f, -40, 710, -18, 89,
    { 709.782712893384, 0.34657359027997264, -0.34657359027997264, -37.42994775023705, 0 },
    { 88.72283935546875, 0.3465735912322998f, -0.3465735912322998f, -17.32868f, 0 } },
  { "log", array_log_d, log, array_log_f, logf, 0, 4, 0, 4,
    { 1, 0x1p-1022, 0.7071067811865476, DBL_MAX, 0 }, { 1, 0x1p-126, 0.70710677f, FLT_MAX, 0 } },
  { "log2", array_log2_d, log2, array_log2_f, log2f, 0, 4, 0, 4,
    { 1, 0x1p-1022, 0.7071067811865476, DBL_MAX, 0 }, { 1, 0x1p-126, 0.70710677f, FLT_MAX, 0 } },
  { "log10", array_log10_d, log10, array_log10_f, log10f, 0, 4, 0, 4,
    { 1, 0x1p-1022, 0.7071067811865476, 10, 0 }, { 1, 0x1p-126, 0.70710677f, 10, 0 } },
  { "log1p", array_log1p_d, log1p, array_log1p_f, log1pf, -1, 4, -1, 4,
    { -1, 0, -0.2928932188134524, 0x1p53, 0 }, { -1, 0, -0.29289323f, 0x1p24, 0 } },
  { "tanh", array_tanh_d, tanh, array_tanh_f, tanhf, -25, 25, -12, 12,
    { 0.55, -0.55, 19.06154746539849, 0 }, { 0.55f, -0.55f, 9.010913f, 0 } },
  { "sigmoid", array_sigmoid_d, ref_sigmoid_d, array_sigmoid_f, ref_sigmoid_f, -750, 750, -110, 110,
    { -745.1332191019411, -708.3964185322641, 36.7368005696771, 0 },
    { -103.97208404541016f, -87.33654022216797f, 16.635532f, 0 } },
  { "softplus", array_softplus_d, ref_softplus_d, array_softplus_f, ref_softplus_f, -750, 750, -110, 110,
    { -745.1332191019411, -708.3964185322641, 36.7368005696771, 0 },
    { -103.97208404541016f, -87.33654022216797f, 16.635532f, 0 } },
};
#define NFUNCS ((int)(sizeof FUNCS / sizeof *FUNCS))

static int failures;

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next_random(void)   /* splitmix64 */
{
  uint64_t z = (rng += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}
static double uniform(double lo, double hi) { return lo + (hi - lo) * (double)(next_random() >> 11) * 0x1p-53; }

/* Distance in units in the last place: the number of representable values
** between a and b. NaN against a number, infinity against a finite value and
** zeros of opposite sign are infinitely far apart. */
static double ulp_d(double a, double b)
{
  if (a != a || b != b) return (a != a && b != b) ? 0 : INFINITY;
  if (isinf(a) || isinf(b) || a == 0 || b == 0)
    return (a == b && signbit(a) == signbit(b)) ? 0 : (isinf(a) || isinf(b) || a == b) ? INFINITY : fabs(a - b) / 0x1p-1074;
  int64_t ia, ib;
  memcpy(&ia, &a, 8);
  memcpy(&ib, &b, 8);
  if (ia < 0) ia = INT64_MIN - ia;   /* order negatives below positives */
  if (ib < 0) ib = INT64_MIN - ib;
  return (double)(ia > ib ? (uint64_t)ia - (uint64_t)ib : (uint64_t)ib - (uint64_t)ia);
}

static double ulp_f(float a, float b)
{
  if (a != a || b != b) return (a != a && b != b) ? 0 : INFINITY;
  if (isinf(a) || isinf(b) || a == 0 || b == 0)
    return (a == b && signbit(a) == signbit(b)) ? 0 : (isinf(a) || isinf(b) || a == b) ? INFINITY : fabsf(a - b) / 0x1p-149f;
  int32_t ia, ib;
  memcpy(&ia, &a, 4);
  memcpy(&ib, &b, 4);
  if (ia < 0) ia = INT32_MIN - ia;
  if (ib < 0) ib = INT32_MIN - ib;
  return fabs((double)ia - (double)ib);
}

typedef struct { double err, at; long n; } worst;

static void measure_d(const fn_row *f, const double *x, int n, worst *w)
{
  double *y = malloc(sizeof *y * (size_t)n);
  f->vd(x, y, n);
  for (int i = 0; i < n; i++) {
    double e = ulp_d(y[i], f->rd(x[i]));
    if (e > w->err) { w->err = e; w->at = x[i]; }
  }
  w->n += n;
  free(y);
}

static void measure_f(const fn_row *f, const float *x, int n, worst *w)
{
  float *y = malloc(sizeof *y * (size_t)n);
  f->vf(x, y, n);
  for (int i = 0; i < n; i++) {
    double e = ulp_f(y[i], f->rf(x[i]));
    if (e > w->err) { w->err = e; w->at = x[i]; }
  }
  w->n += n;
  free(y);
}

/* The inputs of one function: random bit patterns (every sign and exponent,
** NaN and infinity included), positive ones, the dense range, and 256
** neighbours on each side of every edge. */
static int inputs_d(const fn_row *f, int n, double *x)
{
  int m = 0;
  for (int i = 0; i < n; i++) { uint64_t u = next_random(); memcpy(&x[m++], &u, 8); }
  for (int i = 0; i < n; i++) { uint64_t u = next_random() >> 1; memcpy(&x[m++], &u, 8); }
  for (int i = 0; i < n; i++) x[m++] = uniform(f->lo, f->hi);
  for (int i = 0; i < n; i++) x[m++] = uniform(-1, 1) * 0x1p-20;
  for (int e = 0; e < NEDGE; e++) {
    if (f->edges[e] == 0 && e > 0) continue;
    double up = f->edges[e], down = f->edges[e];
    for (int i = 0; i < 256; i++) { x[m++] = up; x[m++] = down; up = nextafter(up, INFINITY); down = nextafter(down, -INFINITY); }
  }
  return m;
}

static int inputs_f(const fn_row *f, int n, float *x)
{
  int m = 0;
  for (int i = 0; i < n; i++) { uint32_t u = (uint32_t)(next_random() >> 32); memcpy(&x[m++], &u, 4); }
  for (int i = 0; i < n; i++) { uint32_t u = (uint32_t)(next_random() >> 33); memcpy(&x[m++], &u, 4); }
  for (int i = 0; i < n; i++) x[m++] = (float)uniform(f->flo, f->fhi);
  for (int i = 0; i < n; i++) x[m++] = (float)(uniform(-1, 1) * 0x1p-10);
  for (int e = 0; e < NEDGE; e++) {
    if (f->fedges[e] == 0 && e > 0) continue;
    float up = (float)f->fedges[e], down = up;
    for (int i = 0; i < 256; i++) { x[m++] = up; x[m++] = down; up = nextafterf(up, INFINITY); down = nextafterf(down, -INFINITY); }
  }
  return m;
}

/* Special inputs: where libm's result is zero, infinite, NaN or an integer,
** the result must be the same bits (any NaN for NaN); elsewhere within
** MAX_ULP like the rest. */
static const double SPECIAL[] = {
  0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN, 1, -1, 2, -2, 0.5, -0.5, 10, 100, 1000, 1e22,
  0x1p-1074, -0x1p-1074, 0x1p-1022, -0x1p-1022, DBL_MAX, -DBL_MAX, 1000, -1000, 1e300, -1e300,
  FLT_MAX, -FLT_MAX, 0x1p-149, -0x1p-149, 0x1p-126, -0x1p-126, 0x1p-60, -0x1p-60, 64, -64,
};
#define NSPECIAL ((int)(sizeof SPECIAL / sizeof *SPECIAL))

static int exact_kind(double r) { return r != r || isinf(r) || r == 0 || (fabs(r) <= 4096 && r == floor(r)); }

static void check_specials(const fn_row *f)
{
  double xd[NSPECIAL], yd[NSPECIAL];
  float xf[NSPECIAL], yf[NSPECIAL];
  for (int i = 0; i < NSPECIAL; i++) { xd[i] = SPECIAL[i]; xf[i] = (float)SPECIAL[i]; }
  f->vd(xd, yd, NSPECIAL);
  f->vf(xf, yf, NSPECIAL);
  for (int i = 0; i < NSPECIAL; i++) {
    double r = f->rd(xd[i]), e = ulp_d(yd[i], r);
    if (e > (exact_kind(r) ? 0 : MAX_ULP)) {
      printf("FAIL %s(%a) = %a, libm %a (double)\n", f->name, xd[i], yd[i], r);
      failures++;
    }
    float rf = f->rf(xf[i]);
    e = ulp_f(yf[i], rf);
    if (e > (exact_kind(rf) ? 0 : MAX_ULP)) {
      printf("FAIL %s(%a) = %a, libm %a (float)\n", f->name, (double)xf[i], (double)yf[i], (double)rf);
      failures++;
    }
  }
}

/* Hand-checked values: large arguments of the stable forms. */
static void check_value(const char *what, double got, double want)
{
  int ok = got == want && signbit(got) == signbit(want);
  printf("%s %s = %g\n", ok ? "ok" : "FAIL", what, got);
  if (!ok) failures++;
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 4000;
  if (n < 1) { fprintf(stderr, "usage: test_vmath [samples per class >= 1]\n"); return 2; }
  size_t cap = 4 * (size_t)n + 2 * 256 * NEDGE;
  double *xd = malloc(sizeof *xd * cap);
  float *xf = malloc(sizeof *xf * cap);
  if (!xd || !xf) { fprintf(stderr, "out of memory\n"); return 2; }

  printf("| function | double: max ulp | at x | float: max ulp | at x |\n|---|---|---|---|---|\n");
  for (int k = 0; k < NFUNCS; k++) {
    const fn_row *f = &FUNCS[k];
    worst wd = { 0, 0, 0 }, wf = { 0, 0, 0 };
    measure_d(f, xd, inputs_d(f, n, xd), &wd);
    measure_f(f, xf, inputs_f(f, n, xf), &wf);
    check_specials(f);
    printf("| %s | %.0f | %a | %.0f | %a |\n", f->name, wd.err, wd.at, wf.err, wf.at);
    if (wd.err > MAX_ULP || wf.err > MAX_ULP) {
      printf("FAIL %s: more than %g ulp from libm\n", f->name, MAX_ULP);
      failures++;
    }
  }
  printf("# %ld inputs per function and dtype\n", (long)(4 * (size_t)n));

  check_value("sigmoid(-1000)", sl_sigmoid(-1000.0), 0);
  check_value("sigmoid(1000)", sl_sigmoid(1000.0), 1);
  check_value("sigmoid(-1000f)", sl_sigmoid(-1000.0f), 0);
  check_value("sigmoid(0f)", sl_sigmoid(0.0f), 0.5);
  check_value("softplus(1000)", sl_softplus(1000.0), 1000);
  check_value("softplus(-1000)", sl_softplus(-1000.0), 0);
  check_value("softplus(1000f)", sl_softplus(1000.0f), 1000);
  check_value("softplus(0)", sl_softplus(0.0), log(2.0));
  check_value("tanh(-30)", sl_tanh(-30.0), -1);
  check_value("exp(-0f)", sl_exp(-0.0f), 1);
  check_value("log1p(-0)", sl_log1p(-0.0), -0.0);
  check_value("expm1(-0f)", sl_expm1(-0.0f), -0.0);
  check_value("log2(0x1p-1074)", sl_log2(0x1p-1074), -1074);
  check_value("exp2(-1074)", sl_exp2(-1074.0), 0x1p-1074);
  check_value("exp2f(-149)", sl_exp2(-149.0f), 0x1p-149);

  free(xd);
  free(xf);
  if (failures) printf("%d failures\n", failures);
  else printf("all vmath checks passed\n");
  return failures != 0;
}
