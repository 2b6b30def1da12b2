/*
** elemwise.c — hand-written C loops for bench/elemwise.lua: the baseline for
** each expression, and a STREAM triad.
**
** Built by the bench with -O3 -march=native -fopenmp -fno-math-errno. With
** BENCH_VMATH defined, exp/tanh/sigmoid/softplus come from kernels/vmath.h
** (branch-free, so `omp simd` loops vectorize); without it, from libm.
**
** Every kernel has one signature, so the bench drives them from a table:
**   kernel(rows, cols, a, b, c, d, e, out)
** Elementwise kernels treat their operands as rows * cols contiguous
** elements. Loops run on OpenMP threads above bench_threshold elements, as
** symlua's kernels do above sl.config.omp_threshold. Sums accumulate in
** double, as symlua's do.
*/
#include <math.h>
#include <omp.h>

#ifdef BENCH_VMATH
#include "vmath.h"
#define EXP_D(x)      sl_vexp_d(x)
#define EXP_F(x)      sl_vexp_f(x)
#define TANH_D(x)     sl_vtanh_d(x)
#define TANH_F(x)     sl_vtanh_f(x)
#define SIGMOID_D(x)  sl_vsigmoid_d(x)
#define SIGMOID_F(x)  sl_vsigmoid_f(x)
#define SOFTPLUS_D(x) sl_vsoftplus_d(x)
#define SOFTPLUS_F(x) sl_vsoftplus_f(x)
#else
#define EXP_D(x)      exp(x)
#define EXP_F(x)      expf(x)
#define TANH_D(x)     tanh(x)
#define TANH_F(x)     tanhf(x)
#define SIGMOID_D(x)  (1.0 / (1.0 + exp(-(x))))
#define SIGMOID_F(x)  (1.0f / (1.0f + expf(-(x))))
#define SOFTPLUS_D(x) ((x) > 0 ? (x) + log1p(exp(-(x))) : log1p(exp(x)))
#define SOFTPLUS_F(x) ((x) > 0 ? (x) + log1pf(expf(-(x))) : log1pf(expf(x)))
#endif

long bench_threshold = 32768;

int bench_vector_math(void)
{
#ifdef BENCH_VMATH
  return 1;
#else
  return 0;
#endif
}

void bench_set_threads(int n) { omp_set_num_threads(n); }
int bench_max_threads(void) { return omp_get_max_threads(); }

/* One elementwise loop: out[i] = EXPR, written in A[i], B[i], C[i], D[i], E[i]. */
#define ELEMWISE(name, T, EXPR)                                                    \
  void name(long rows, long cols, const T *restrict A, const T *restrict B,        \
            const T *restrict C, const T *restrict D, const T *restrict E, T *restrict out)            \
  {                                                                                \
    long n = rows * cols;                                                          \
    (void)A; (void)B; (void)C; (void)D; (void)E;                                            \
    _Pragma("omp parallel for simd schedule(static) if (parallel: n >= bench_threshold)")    \
    for (long i = 0; i < n; i++) out[i] = EXPR;                                    \
  }

ELEMWISE(fma_f64, double, A[i] * B[i] + C[i])
ELEMWISE(fma_f32, float, A[i] * B[i] + C[i])
ELEMWISE(fma_exp_f64, double, A[i] * B[i] + C[i] * EXP_D(D[i]))
ELEMWISE(fma_exp_f32, float, A[i] * B[i] + C[i] * EXP_F(D[i]))
ELEMWISE(sigmoid_f64, double, SIGMOID_D(A[i]))
ELEMWISE(sigmoid_f32, float, SIGMOID_F(A[i]))
ELEMWISE(tanh_mix_f64, double, TANH_D(A[i]) * B[i] + 0.5 * A[i] * A[i])
ELEMWISE(tanh_mix_f32, float, TANH_F(A[i]) * B[i] + 0.5f * A[i] * A[i])
ELEMWISE(softplus_f64, double, SOFTPLUS_D(A[i]))
ELEMWISE(softplus_f32, float, SOFTPLUS_F(A[i]))
ELEMWISE(chains5_f64, double, (A[i] * B[i] + C[i]) + D[i] * EXP_D(E[i]))
ELEMWISE(chains5_f32, float, (A[i] * B[i] + C[i]) + D[i] * EXP_F(E[i]))

/* sum(a * b) into out[0] */
#define DOT(name, T)                                                               \
  void name(long rows, long cols, const T *restrict A, const T *restrict B,        \
            const T *C, const T *D, const T *E, T *out)                                        \
  {                                                                                \
    long n = rows * cols;                                                          \
    double acc = 0;                                                                \
    (void)C; (void)D; (void)E;                                                              \
    _Pragma("omp parallel for simd reduction(+:acc) schedule(static) if (parallel: n >= bench_threshold)") \
    for (long i = 0; i < n; i++) acc += (double)A[i] * (double)B[i];              \
    out[0] = (T)acc;                                                               \
  }
DOT(dot_f64, double)
DOT(dot_f32, float)

/* Sum over axis 1 (down the rows): out[j] = sum_i a[i][j]. Threads take
** blocks of columns; each block keeps its sums in double. */
#define COLSUM_BLOCK 512
#define COLSUM(name, T)                                                            \
  void name(long rows, long cols, const T *restrict A, const T *B, const T *C,     \
            const T *D, const T *E, T *restrict out)                                           \
  {                                                                                \
    long nblocks = (cols + COLSUM_BLOCK - 1) / COLSUM_BLOCK;                       \
    (void)B; (void)C; (void)D; (void)E;                                                     \
    _Pragma("omp parallel for schedule(static) if (parallel: rows * cols >= bench_threshold)") \
    for (long blk = 0; blk < nblocks; blk++) {                                     \
      double acc[COLSUM_BLOCK];                                                    \
      long j0 = blk * COLSUM_BLOCK;                                                \
      long w = cols - j0 < COLSUM_BLOCK ? cols - j0 : COLSUM_BLOCK;                \
      for (long j = 0; j < w; j++) acc[j] = 0;                                     \
      for (long i = 0; i < rows; i++) {                                            \
        const T *row = A + i * cols + j0;                                          \
        _Pragma("omp simd")                                                        \
        for (long j = 0; j < w; j++) acc[j] += row[j];                             \
      }                                                                            \
      for (long j = 0; j < w; j++) out[j0 + j] = (T)acc[j];                        \
    }                                                                              \
  }
COLSUM(colsum_f64, double)
COLSUM(colsum_f32, float)

/* Sum over axis 2 (along each row): out[i] = sum_j a[i][j]. */
#define ROWSUM(name, T)                                                            \
  void name(long rows, long cols, const T *restrict A, const T *B, const T *C,     \
            const T *D, const T *E, T *restrict out)                                           \
  {                                                                                \
    (void)B; (void)C; (void)D; (void)E;                                                     \
    _Pragma("omp parallel for schedule(static) if (parallel: rows * cols >= bench_threshold)") \
    for (long i = 0; i < rows; i++) {                                              \
      double acc = 0;                                                              \
      const T *row = A + i * cols;                                                 \
      _Pragma("omp simd reduction(+:acc)")                                         \
      for (long j = 0; j < cols; j++) acc += row[j];                               \
      out[i] = (T)acc;                                                             \
    }                                                                              \
  }
ROWSUM(rowsum_f64, double)
ROWSUM(rowsum_f32, float)

/* out[i][j] = a[i][j] + b[j]: a matrix plus a row vector. */
#define ADDROW(name, T)                                                            \
  void name(long rows, long cols, const T *restrict A, const T *restrict B,        \
            const T *C, const T *D, const T *E, T *restrict out)                               \
  {                                                                                \
    (void)C; (void)D; (void)E;                                                              \
    _Pragma("omp parallel for schedule(static) if (parallel: rows * cols >= bench_threshold)") \
    for (long i = 0; i < rows; i++) {                                              \
      _Pragma("omp simd")                                                          \
      for (long j = 0; j < cols; j++) out[i * cols + j] = A[i * cols + j] + B[j];  \
    }                                                                              \
  }
ADDROW(addrow_f64, double)
ADDROW(addrow_f32, float)

/* out[i][j] = a[i][j] + b[j][i], b stored (cols, rows): tiles keep both the
** rows of a and the columns of b in cache. */
#define TILE 64
#define ADDT(name, T)                                                              \
  void name(long rows, long cols, const T *restrict A, const T *restrict B,        \
            const T *C, const T *D, const T *E, T *restrict out)                               \
  {                                                                                \
    (void)C; (void)D; (void)E;                                                              \
    _Pragma("omp parallel for schedule(static) if (parallel: rows * cols >= bench_threshold)") \
    for (long i0 = 0; i0 < rows; i0 += TILE) {                                     \
      long i1 = i0 + TILE < rows ? i0 + TILE : rows;                               \
      for (long j0 = 0; j0 < cols; j0 += TILE) {                                   \
        long j1 = j0 + TILE < cols ? j0 + TILE : cols;                             \
        for (long i = i0; i < i1; i++)                                             \
          for (long j = j0; j < j1; j++)                                           \
            out[i * cols + j] = A[i * cols + j] + B[j * rows + i];                 \
      }                                                                            \
    }                                                                              \
  }
ADDT(addt_f64, double)
ADDT(addt_f32, float)

/* out[i][j][k][l] = a[i][j][k][l] + b[j][0][l], dims (p, q, r, s) in bench_dims. */
long bench_dims[4];
#define BCAST4(name, T)                                                            \
  void name(long rows, long cols, const T *restrict A, const T *restrict B,        \
            const T *C, const T *D, const T *E, T *restrict out)                   \
  {                                                                                \
    const long p = bench_dims[0], q = bench_dims[1], r = bench_dims[2], s = bench_dims[3]; \
    (void)rows; (void)cols; (void)C; (void)D; (void)E;                             \
    _Pragma("omp parallel for collapse(2) schedule(static) if (parallel: p * q * r * s >= bench_threshold)") \
    for (long i = 0; i < p; i++)                                                   \
      for (long j = 0; j < q; j++)                                                 \
        for (long k = 0; k < r; k++) {                                             \
          const T *a = A + ((i * q + j) * r + k) * s, *b = B + j * s;              \
          T *o = out + ((i * q + j) * r + k) * s;                                  \
          _Pragma("omp simd")                                                      \
          for (long l = 0; l < s; l++) o[l] = a[l] + b[l];                         \
        }                                                                          \
  }
BCAST4(bcast4_f64, double)
BCAST4(bcast4_f32, float)

/* STREAM triad, a = b + s * c, on the same threads. */
void bench_triad(long n, double *restrict a, const double *restrict b,
                 const double *restrict c, double s)
{
  #pragma omp parallel for simd schedule(static)
  for (long i = 0; i < n; i++) a[i] = b[i] + s * c[i];
}

/* Fill on the threads that will use the memory, so pages land where they run. */
void bench_fill(long n, double *a, double v)
{
  #pragma omp parallel for simd schedule(static)
  for (long i = 0; i < n; i++) a[i] = v;
}
