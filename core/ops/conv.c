/*
** conv.c — 2-d convolution and pooling over NCHW float tensors, with the
** ops their gradients need.
**
** conv2d(x, w): x (N, C, H, W), w (K, C/G, kh, kw) -> (N, K, OH, OW), with
** OH = (H + 2 ph - dh (kh - 1) - 1) / sh + 1 (and OW alike). Five ways to
** compute it: im2col + gemm over chunks of the batch; at stride and
** dilation 1, Winograd (F(2x2, 3x3), F(4x4, 3x3), F(2x2, 5x5)), a sliding
** window over the padded image (few channels), and an FFT path for large
** kernels (its cost does not grow with the kernel); and the direct
** definition (the oracle). The gradients take the same paths where they
** fit. Params v: sh, sw, ph, pw, dh, dw, G, algo.
** 'auto' times the candidates once per shape (conv_tune.c keeps the choice).
**
** conv2d_grad_input(dy, w, x) and conv2d_grad_filters(x, dy, w) read their
** last input only for its shape. max_pool2d / avg_pool2d(x): params v: kh,
** kw, sh, sw, ph, pw; their gradients take (x, dy).
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <fftw3.h>
#include <omp.h>

#include "clock.h"
#include "config.h"
#include "conv_tune.h"
#include "rows.h"

typedef struct {
  int64_t N, C, H, W, K, kh, kw, OH, OW, sh, sw, ph, pw, dh, dw, G;
} conv_geo;

/* The values of params v[7], in the order of lua/symlua/conv.lua's names. */
enum { ALGO_AUTO, ALGO_IM2COL, ALGO_FFT, ALGO_DIRECT, ALGO_WINOGRAD, ALGO_WINOGRAD4X4, ALGO_SLIDING, ALGO_COUNT };
static const char *const algo_names[ALGO_COUNT] = { "auto", "im2col", "fft", "direct", "winograd", "winograd4x4",
                                                    "sliding" };

/* Winograd F(m x m, r x r): Y = A^T [(G f G^T) * (B^T d B)] A for an n x n
** input tile d, n = m + r - 1 (Lavin and Gray's form). The matrices come
** from evaluating at the points 0, 1, -1, 2, -2 (and infinity), B^T scaled
** to integers; each was checked against the direct correlation. */
enum { WINO_M = 5, WINO_R = 5, WINO_N = 6 };   /* the largest m (and r), r and n below */
typedef struct {
  int m, r;
  double BT[WINO_N][WINO_N], G[WINO_N][WINO_R], AT[WINO_M][WINO_N];
  /* the filter gradient is F(r x r, m x m) on the same points: B^T as
  ** above, Ge (n x m) for the output gradient's tiles, ATe (r x n) */
  double Ge[WINO_N][WINO_M], ATe[WINO_R][WINO_N];
} wino_rule;

static const wino_rule wino_2x2_3x3 = { 2, 3,
  { { 1, 0, -1, 0 }, { 0, 1, 1, 0 }, { 0, -1, 1, 0 }, { 0, -1, 0, 1 } },
  { { 1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 } },
  { { 1, 1, 1, 0 }, { 0, 1, -1, 1 } },
  { { 1, 0 }, { 0.5, 0.5 }, { 0.5, -0.5 }, { 0, 1 } },
  { { 1, 1, 1, 0 }, { 0, 1, -1, 0 }, { 0, 1, 1, 1 } } };

#define WINO_BT_6 { { 4, 0, -5, 0, 1, 0 }, { 0, 4, 4, -1, -1, 0 }, { 0, -4, 4, 1, -1, 0 }, \
                    { 0, -2, -1, 2, 1, 0 }, { 0, 2, -1, -2, 1, 0 }, { 0, 4, 0, -5, 0, 1 } }
static const wino_rule wino_4x4_3x3 = { 4, 3, WINO_BT_6,
  { { 1. / 4, 0, 0 }, { 1. / 6, 1. / 6, 1. / 6 }, { 1. / 6, -1. / 6, 1. / 6 },
    { 1. / 24, 1. / 12, 1. / 6 }, { 1. / 24, -1. / 12, 1. / 6 }, { 0, 0, 1 } },
  { { 1, 1, 1, 1, 1, 0 }, { 0, 1, -1, 2, -2, 0 }, { 0, 1, 1, 4, 4, 0 }, { 0, 1, -1, 8, -8, 1 } },
  { { 1. / 4, 0, 0, 0 }, { 1. / 6, 1. / 6, 1. / 6, 1. / 6 }, { 1. / 6, -1. / 6, 1. / 6, -1. / 6 },
    { 1. / 24, 1. / 12, 1. / 6, 1. / 3 }, { 1. / 24, -1. / 12, 1. / 6, -1. / 3 }, { 0, 0, 0, 1 } },
  { { 1, 1, 1, 1, 1, 0 }, { 0, 1, -1, 2, -2, 0 }, { 0, 1, 1, 4, 4, 1 } } };

static const wino_rule wino_2x2_5x5 = { 2, 5, WINO_BT_6,
  { { 1. / 4, 0, 0, 0, 0 }, { 1. / 6, 1. / 6, 1. / 6, 1. / 6, 1. / 6 }, { 1. / 6, -1. / 6, 1. / 6, -1. / 6, 1. / 6 },
    { 1. / 24, 1. / 12, 1. / 6, 1. / 3, 2. / 3 }, { 1. / 24, -1. / 12, 1. / 6, -1. / 3, 2. / 3 }, { 0, 0, 0, 0, 1 } },
  { { 1, 1, 1, 1, 1, 0 }, { 0, 1, -1, 2, -2, 1 } },
  { { 1. / 4, 0 }, { 1. / 6, 1. / 6 }, { 1. / 6, -1. / 6 }, { 1. / 24, 1. / 12 }, { 1. / 24, -1. / 12 }, { 0, 1 } },
  { { 1, 1, 1, 1, 1, 0 }, { 0, 1, -1, 2, -2, 0 }, { 0, 1, 1, 4, 4, 0 }, { 0, 1, -1, 8, -8, 0 }, { 0, 1, 1, 16, 16, 1 } } };

/* The hot loops of Winograd's transforms and the sliding window in copies
** for AVX-512, AVX2 (with FMA) and the baseline, one chosen at load time by
** the processor (the core builds for the baseline). Not under the
** sanitizers, whose runtimes are not up when the loader picks a copy. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
#define VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif

/* The sliding-window kernel's registers: SLIDE_K filters of one vector each. */
typedef float vec_float __attribute__((vector_size(64)));
typedef double vec_double __attribute__((vector_size(64)));
enum { SLIDE_K = 8 };

/* Winograd's view of a stride-1 r x r correlation: Ci input channels of
** H x W into Co output channels of OH x OW, padded by (ph, pw). flip: the
** filters are (Ci, Co, r, r) and turned by 180 degrees, which makes the
** input gradient of a convolution another one of these. */
typedef struct {
  int64_t N, Ci, H, W, Co, OH, OW, ph, pw;
  int flip;
  const wino_rule *rule;
} wino_geo;

/* Per-thread scratch of WINO_INPUT, WINO_OUTPUT and WINO_GRAD_TILES, in elements. */
static int64_t wino_scratch(const wino_geo *g)
{
  int64_t m = g->rule->m, r = g->rule->r, n = m + r - 1, TH = (g->OH + m - 1) / m, TW = (g->OW + m - 1) / m;
  int64_t in = (m * TH + r - 1) * (m * TW + r - 1) + 2 * n * n * TH * TW, out = m * (n + m) * TH * TW;
  int64_t dy = m * TH * m * TW + (m + n) * m * TH * TW;   /* WINO_GRAD_TILES */
  return in > out ? (in > dy ? in : dy) : (out > dy ? out : dy);
}

/* The batch in chunks of nb images (chunks of them), run on nt threads. */
typedef struct {
  int64_t nb, chunks;
  int nt;
} conv_split;

static int conv_threads(void)
{
  return sl_cfg.threads > 0 ? (int)sl_cfg.threads : omp_get_max_threads();
}

/* A chunk gives its gemm at least COLS_WANTED columns where images are
** small, and keeps its buffers within COLS_MAX elements; each thread gets a
** chunk at least. With fewer chunks than threads they run one after another
** and each gemm uses every thread. */
enum { COLS_WANTED = 2048, COLS_MAX = 1 << 22 };

static conv_split split_batch(int64_t N, int64_t cols_per_image, int64_t elems_per_col)
{
  conv_split s = { 1, N, conv_threads() };
  int64_t per_image = cols_per_image * elems_per_col > 0 ? cols_per_image * elems_per_col : 1;
  int64_t nb = (COLS_WANTED + cols_per_image - 1) / (cols_per_image > 0 ? cols_per_image : 1);
  if (nb > COLS_MAX / per_image) nb = COLS_MAX / per_image;
  if (nb > (N + s.nt - 1) / s.nt) nb = (N + s.nt - 1) / s.nt;
  s.nb = nb > 1 ? nb : 1;
  s.chunks = (N + s.nb - 1) / s.nb;
  if (s.chunks < s.nt) s.nt = 1;
  return s;
}

/* Chunks of as many images as fit in budget bytes of per_image each, one
** at least, a chunk per thread at least. */
static conv_split split_fitting(int64_t N, int64_t per_image, int64_t budget)
{
  conv_split s = { 1, N, conv_threads() };
  int64_t nb = per_image > 0 ? budget / per_image : N;
  if (nb > (N + s.nt - 1) / s.nt) nb = (N + s.nt - 1) / s.nt;
  s.nb = nb > 1 ? nb : 1;
  s.chunks = (N + s.nb - 1) / s.nb;
  if (s.chunks < s.nt) s.nt = 1;
  return s;
}

/* Winograd's transformed inputs and products of a chunk stay within about
** a core's L2 cache, so that each pass reads what the one before it wrote
** while it is still there: chunks of one image were up to twice as fast
** as chunks of 2048 tiles. */
enum { WINO_BYTES = 1 << 20 };

/* The smallest size >= n whose only prime factors are 2, 3, 5 and 7, which
** FFTW transforms fastest. */
static int64_t fft_size(int64_t n)
{
  for (int64_t m = n > 1 ? n : 1;; m++) {
    int64_t r = m;
    for (int p = 2; p <= 7; p++) while (r % p == 0) r /= p;
    if (r == 1) return m;
  }
}

/* -- FFT plans, made once per (type, P, Q) and kept ---------------------------------- */

typedef struct plan_entry {
  int is_float;
  int64_t P, Q;
  void *fwd, *inv;
  struct plan_entry *next;
} plan_entry;

static plan_entry *plans;

static int plans_locked(int is_float, int64_t P, int64_t Q, void **fwd, void **inv);

static int plans_for(int is_float, int64_t P, int64_t Q, void **fwd, void **inv)
{
  sl_fftw_plan_lock();
  int rc = plans_locked(is_float, P, Q, fwd, inv);
  sl_fftw_plan_unlock();
  return rc;
}

static int plans_locked(int is_float, int64_t P, int64_t Q, void **fwd, void **inv)
{
  for (plan_entry *e = plans; e; e = e->next)
    if (e->is_float == is_float && e->P == P && e->Q == Q) { *fwd = e->fwd; *inv = e->inv; return 0; }
  plan_entry *e = calloc(1, sizeof *e);
  if (!e) return sl_fail("out of memory");
  size_t n = (size_t)(P * Q), nc = (size_t)(P * (Q / 2 + 1));
  unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED;
  if (is_float) {
    float *r = fftwf_malloc(n * sizeof *r);
    fftwf_complex *c = fftwf_malloc(nc * sizeof *c);
    if (r && c) {
      e->fwd = fftwf_plan_dft_r2c_2d((int)P, (int)Q, r, c, flags);
      e->inv = fftwf_plan_dft_c2r_2d((int)P, (int)Q, c, r, flags);
    }
    fftwf_free(r); fftwf_free(c);
  } else {
    double *r = fftw_malloc(n * sizeof *r);
    fftw_complex *c = fftw_malloc(nc * sizeof *c);
    if (r && c) {
      e->fwd = fftw_plan_dft_r2c_2d((int)P, (int)Q, r, c, flags);
      e->inv = fftw_plan_dft_c2r_2d((int)P, (int)Q, c, r, flags);
    }
    fftw_free(r); fftw_free(c);
  }
  if (!e->fwd || !e->inv) { free(e); return sl_fail("conv2d: FFTW could not plan a %lldx%lld transform", (long long)P, (long long)Q); }
  e->is_float = is_float; e->P = P; e->Q = Q;
  e->next = plans;
  plans = e;
  *fwd = e->fwd; *inv = e->inv;
  return 0;
}

static int plans_float(int64_t P, int64_t Q, fftwf_plan *f, fftwf_plan *i)
{
  void *a, *b;
  if (plans_for(1, P, Q, &a, &b)) return -1;
  *f = a; *i = b;
  return 0;
}

static int plans_double(int64_t P, int64_t Q, fftw_plan *f, fftw_plan *i)
{
  void *a, *b;
  if (plans_for(0, P, Q, &a, &b)) return -1;
  *f = a; *i = b;
  return 0;
}

/* The output columns ox in [*lo, *hi) whose input column ox*sw + off lies
** inside a row of width W; the others read padding. */
static inline void inside(int64_t OW, int64_t sw, int64_t off, int64_t W, int64_t *lo, int64_t *hi)
{
  int64_t a = off >= 0 ? 0 : (-off + sw - 1) / sw, b = W - off <= 0 ? 0 : (W - off + sw - 1) / sw;
  *lo = a < OW ? a : OW;
  *hi = b < *lo ? *lo : b < OW ? b : OW;
}

/* Pooling splits its planes between the threads once there are enough
** outputs to pay for starting them; planes are independent, so the
** results do not depend on the split. */
enum { POOL_PARALLEL_MIN = 1 << 15 };
#define POOL_PLANES _Pragma("omp parallel for num_threads(conv_threads()) schedule(static) if (g->N * g->C * g->OH * g->OW >= POOL_PARALLEL_MIN)")

/* What IM2COL_RUN computes. */
typedef enum { IM_FORWARD, IM_GRAD_INPUT, IM_GRAD_FILTERS } im_kind;

/* -- the loops, once per type -------------------------------------------------------------- */

#define REAL float
#define GEMM cblas_sgemm
#define FFT_PLAN fftwf_plan
#define FFT_PLANS plans_float
#define FFT_MALLOC fftwf_malloc
#define FFT_FREE fftwf_free
#define FFT_R2C(p, in, out) fftwf_execute_dft_r2c(p, in, (fftwf_complex *)(out))
#define FFT_C2R(p, in, out) fftwf_execute_dft_c2r(p, (fftwf_complex *)(in), out)
#define IM2COL im2col_float
#define COL2IM col2im_float
#define CONV_IM2COL conv_im2col_float
#define CONV_GRAD_INPUT conv_grad_input_float
#define CONV_GRAD_FILTERS conv_grad_filters_float
#define CONV_DIRECT conv_direct_float
#define CONV_FFT conv_fft_float
#define IM2COL_RUN im2col_run_float
#define IM2COL_CHUNK im2col_chunk_float
#define TO_ROWS to_rows_float
#define FROM_ROWS from_rows_float
#define WINO_FILTERS wino_filters_float
#define WINO_COMBINE wino_combine_float
#define WINO_INPUT wino_input_float
#define WINO_OUTPUT wino_output_float
#define WINOGRAD winograd_float
#define VEC vec_float
#define SLIDE_ROW slide_row_float
#define CONV_SLIDING conv_sliding_float
#define WINO_GRAD_TILES wino_grad_tiles_float
#define WINOGRAD_FILTERS winograd_filters_float
#define MAX_POOL max_pool_float
#define MAX_POOL_GRAD max_pool_grad_float
#define AVG_POOL avg_pool_float
#define AVG_POOL_GRAD avg_pool_grad_float
#include "conv_real.h"
#undef REAL
#undef GEMM
#undef FFT_PLAN
#undef FFT_PLANS
#undef FFT_MALLOC
#undef FFT_FREE
#undef FFT_R2C
#undef FFT_C2R
#undef IM2COL
#undef COL2IM
#undef CONV_IM2COL
#undef CONV_GRAD_INPUT
#undef CONV_GRAD_FILTERS
#undef CONV_DIRECT
#undef CONV_FFT
#undef IM2COL_RUN
#undef IM2COL_CHUNK
#undef TO_ROWS
#undef FROM_ROWS
#undef WINO_FILTERS
#undef WINO_COMBINE
#undef WINO_INPUT
#undef WINO_OUTPUT
#undef WINOGRAD
#undef VEC
#undef SLIDE_ROW
#undef CONV_SLIDING
#undef WINO_GRAD_TILES
#undef WINOGRAD_FILTERS
#undef MAX_POOL
#undef MAX_POOL_GRAD
#undef AVG_POOL
#undef AVG_POOL_GRAD

#define REAL double
#define GEMM cblas_dgemm
#define FFT_PLAN fftw_plan
#define FFT_PLANS plans_double
#define FFT_MALLOC fftw_malloc
#define FFT_FREE fftw_free
#define FFT_R2C(p, in, out) fftw_execute_dft_r2c(p, in, (fftw_complex *)(out))
#define FFT_C2R(p, in, out) fftw_execute_dft_c2r(p, (fftw_complex *)(in), out)
#define IM2COL im2col_double
#define COL2IM col2im_double
#define CONV_IM2COL conv_im2col_double
#define CONV_GRAD_INPUT conv_grad_input_double
#define CONV_GRAD_FILTERS conv_grad_filters_double
#define CONV_DIRECT conv_direct_double
#define CONV_FFT conv_fft_double
#define IM2COL_RUN im2col_run_double
#define IM2COL_CHUNK im2col_chunk_double
#define TO_ROWS to_rows_double
#define FROM_ROWS from_rows_double
#define WINO_FILTERS wino_filters_double
#define WINO_COMBINE wino_combine_double
#define WINO_INPUT wino_input_double
#define WINO_OUTPUT wino_output_double
#define WINOGRAD winograd_double
#define VEC vec_double
#define SLIDE_ROW slide_row_double
#define CONV_SLIDING conv_sliding_double
#define WINO_GRAD_TILES wino_grad_tiles_double
#define WINOGRAD_FILTERS winograd_filters_double
#define MAX_POOL max_pool_double
#define MAX_POOL_GRAD max_pool_grad_double
#define AVG_POOL avg_pool_double
#define AVG_POOL_GRAD avg_pool_grad_double
#include "conv_real.h"

/* -- shapes ----------------------------------------------------------------------------------- */

static int64_t out_size(int64_t in, int64_t pad, int64_t dil, int64_t k, int64_t stride)
{
  if (in == SL_UNKNOWN) return SL_UNKNOWN;
  int64_t span = in + 2 * pad - dil * (k - 1) - 1;
  return span < 0 ? -2 : span / stride + 1;   /* -2: the window does not fit */
}

static int check_float4(const char *op, const char *what, const sl_type *t)
{
  char buf[128];
  if (t->ndim == 4 && sl_dtype_kind(t->dtype) == 'f') return 0;
  sl_type_text(t, buf, sizeof buf);
  return sl_fail("%s: the %s must be a 4-d float tensor (N, C, H, W), got %s", op, what, buf);
}

/* Fills geometry from the static or concrete shapes of x and w (w NULL for
** pooling, which takes its window from the params). */
static int geometry(const char *op, const sl_params *p, const sl_type *x, const sl_type *w,
                    conv_geo *g)
{
  char a[128], b[128];
  if (check_float4(op, "input", x)) return -1;
  g->N = x->shape[0]; g->C = x->shape[1]; g->H = x->shape[2]; g->W = x->shape[3];
  if (w) {
    if (w->ndim != 4 || w->dtype != x->dtype) {
      sl_type_text(w, a, sizeof a);
      return sl_fail("%s: the filters must be a 4-d %s tensor (K, C/groups, kh, kw), got %s", op,
                     sl_dtype_name(x->dtype), a);
    }
    g->K = w->shape[0]; g->kh = w->shape[2]; g->kw = w->shape[3];
    g->sh = p->v[0]; g->sw = p->v[1]; g->ph = p->v[2]; g->pw = p->v[3];
    g->dh = p->v[4]; g->dw = p->v[5]; g->G = p->v[6];
    if (g->G < 1) return sl_fail("%s: groups must be at least 1", op);
    if ((g->C != SL_UNKNOWN && g->C % g->G) || (g->K != SL_UNKNOWN && g->K % g->G))
      return sl_fail("%s: %lld input and %lld output channels do not split into %lld groups", op,
                     (long long)g->C, (long long)g->K, (long long)g->G);
    if (g->C != SL_UNKNOWN && w->shape[1] != SL_UNKNOWN && w->shape[1] * g->G != g->C) {
      sl_type_text(x, a, sizeof a);
      sl_type_text(w, b, sizeof b);
      return sl_fail("%s: input %s has %lld channels but filters %s take %lld (x %lld groups)", op, a,
                     (long long)g->C, b, (long long)w->shape[1], (long long)g->G);
    }
  } else {
    g->K = g->C; g->kh = p->v[0]; g->kw = p->v[1]; g->G = 1;
    g->sh = p->v[2]; g->sw = p->v[3]; g->ph = p->v[4]; g->pw = p->v[5]; g->dh = g->dw = 1;
    if (g->ph * 2 > g->kh || g->pw * 2 > g->kw)
      return sl_fail("%s: padding (%lld, %lld) must be at most half the window (%lld, %lld)", op,
                     (long long)g->ph, (long long)g->pw, (long long)g->kh, (long long)g->kw);
  }
  if (g->sh < 1 || g->sw < 1 || g->dh < 1 || g->dw < 1 || g->ph < 0 || g->pw < 0)
    return sl_fail("%s: strides and dilations must be at least 1 and padding at least 0", op);
  if (g->kh == SL_UNKNOWN || g->kw == SL_UNKNOWN) { g->OH = g->OW = SL_UNKNOWN; return 0; }
  if (g->kh < 1 || g->kw < 1) return sl_fail("%s: the window must be at least 1x1", op);
  g->OH = out_size(g->H, g->ph, g->dh, g->kh, g->sh);
  g->OW = out_size(g->W, g->pw, g->dw, g->kw, g->sw);
  if (g->OH == -2 || g->OW == -2) {
    sl_type_text(x, a, sizeof a);
    return sl_fail("%s: a %lldx%lld window (dilation %lld, %lld) with padding (%lld, %lld) does not fit "
                   "in input %s", op, (long long)g->kh, (long long)g->kw, (long long)g->dh,
                   (long long)g->dw, (long long)g->ph, (long long)g->pw, a);
  }
  return 0;
}

static void set_type(sl_type *out, sl_dtype dt, int64_t a, int64_t b, int64_t c, int64_t d)
{
  out->dtype = dt;
  out->ndim = 4;
  out->shape[0] = a; out->shape[1] = b; out->shape[2] = c; out->shape[3] = d;
}

static int conv_params_ok(const sl_node *n)
{
  if (n->params.n != 8) return sl_fail("%s: expected 8 parameters", n->op->name);
  if (n->params.v[7] < ALGO_AUTO || n->params.v[7] >= ALGO_COUNT)
    return sl_fail("%s: unknown algorithm %lld", n->op->name, (long long)n->params.v[7]);
  return 0;
}

static int conv_infer(sl_node *n, sl_type *out)
{
  conv_geo g = { 0 };
  if (conv_params_ok(n) || geometry(n->op->name, &n->params, &n->inputs[0]->type, &n->inputs[1]->type, &g))
    return -1;
  set_type(out, n->inputs[0]->type.dtype, g.N, g.K, g.OH, g.OW);
  return 0;
}

static int grad_input_infer(sl_node *n, sl_type *out)   /* (dy, w, x) */
{
  conv_geo g = { 0 };
  if (conv_params_ok(n) ||
      geometry(n->op->name, &n->params, &n->inputs[2]->type, &n->inputs[1]->type, &g)) return -1;
  *out = n->inputs[2]->type;
  return 0;
}

static int grad_filters_infer(sl_node *n, sl_type *out)   /* (x, dy, w) */
{
  conv_geo g = { 0 };
  if (conv_params_ok(n) ||
      geometry(n->op->name, &n->params, &n->inputs[0]->type, &n->inputs[2]->type, &g)) return -1;
  *out = n->inputs[2]->type;
  return 0;
}

static int pool_infer(sl_node *n, sl_type *out)
{
  conv_geo g = { 0 };
  if (n->params.n != 6) return sl_fail("%s: expected 6 parameters", n->op->name);
  if (geometry(n->op->name, &n->params, &n->inputs[0]->type, NULL, &g)) return -1;
  set_type(out, n->inputs[0]->type.dtype, g.N, g.C, g.OH, g.OW);
  return 0;
}

static int pool_grad_infer(sl_node *n, sl_type *out)   /* (x, dy) */
{
  conv_geo g = { 0 };
  if (n->params.n != 6) return sl_fail("%s: expected 6 parameters", n->op->name);
  if (geometry(n->op->name, &n->params, &n->inputs[0]->type, NULL, &g)) return -1;
  *out = n->inputs[0]->type;
  return 0;
}

/* -- choosing the algorithm ------------------------------------------------------------- */

static int fft_fits(const conv_geo *g)
{
  return g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1 && g->G == 1;
}

/* What choose_and_run computes: the convolution, or one of its gradients. */
enum { FOR_OUTPUT, FOR_INPUT_GRAD, FOR_FILTER_GRAD };

/* The Winograd rule of algorithm a for these filters, or NULL where none
** fits; the input gradient is a Winograd correlation padded by r - 1 - p,
** so p is at most r - 1 there. */
static const wino_rule *winograd_rule(const conv_geo *g, int a, int grad)
{
  const wino_rule *t = NULL;
  if (!fft_fits(g) || g->kh != g->kw) return NULL;
  if (a == ALGO_WINOGRAD) t = g->kh == 3 ? &wino_2x2_3x3 : g->kh == 5 ? &wino_2x2_5x5 : NULL;
  if (a == ALGO_WINOGRAD4X4) t = g->kh == 3 ? &wino_4x4_3x3 : NULL;
  if (t && grad == FOR_INPUT_GRAD && (g->ph > t->r - 1 || g->pw > t->r - 1)) return NULL;
  return t;
}

static int is_winograd(int a) { return a == ALGO_WINOGRAD || a == ALGO_WINOGRAD4X4; }

/* The sliding window: the convolution, or its input gradient as one (padded
** by k - 1 - p, so p at most k - 1 there). */
static int sliding_fits(const conv_geo *g, int grad)
{
  return fft_fits(g) && grad != FOR_FILTER_GRAD && (grad == FOR_OUTPUT || (g->ph < g->kh && g->pw < g->kw));
}

/* Algorithm a for a convolution (in is x, w the filters), its input
** gradient (in is dy, w the filters) or its filter gradient (in is x, w is dy). */
static int run_algo(const conv_geo *g, int grad, int a, int f32, const void *in, const void *w, void *out)
{
  sl_perform_variant = algo_names[a];
  if (is_winograd(a)) {
    const wino_rule *t = winograd_rule(g, a, grad);
    int64_t e = t->r - 1;
    wino_geo wg = grad == FOR_INPUT_GRAD ? (wino_geo){ g->N, g->K, g->OH, g->OW, g->C, g->H, g->W, e - g->ph, e - g->pw, 1, t }
                       : (wino_geo){ g->N, g->C, g->H, g->W, g->K, g->OH, g->OW, g->ph, g->pw, 0, t };
    if (grad == FOR_FILTER_GRAD)
      return f32 ? winograd_filters_float(&wg, in, w, out) : winograd_filters_double(&wg, in, w, out);
    return f32 ? winograd_float(&wg, in, w, out) : winograd_double(&wg, in, w, out);
  }
  if (a == ALGO_SLIDING && grad == FOR_INPUT_GRAD) {
    conv_geo t = { g->N, g->K, g->OH, g->OW, g->C, g->kh, g->kw, g->H, g->W, 1, 1, g->kh - 1 - g->ph, g->kw - 1 - g->pw, 1, 1, 1 };
    return f32 ? conv_sliding_float(&t, in, w, out, 1) : conv_sliding_double(&t, in, w, out, 1);
  }
  if (a == ALGO_SLIDING) return f32 ? conv_sliding_float(g, in, w, out, 0) : conv_sliding_double(g, in, w, out, 0);
  if (grad == FOR_FILTER_GRAD)
    return f32 ? conv_grad_filters_float(g, in, w, out) : conv_grad_filters_double(g, in, w, out);
  if (grad) return f32 ? conv_grad_input_float(g, in, w, out) : conv_grad_input_double(g, in, w, out);
  if (a == ALGO_FFT) return f32 ? conv_fft_float(g, in, w, out) : conv_fft_double(g, in, w, out);
  if (a == ALGO_DIRECT) return f32 ? conv_direct_float(g, in, w, out) : conv_direct_double(g, in, w, out);
  return f32 ? conv_im2col_float(g, in, w, out) : conv_im2col_double(g, in, w, out);
}

/* The algorithm the params ask for, or under 'auto' the fastest candidate
** for this shape: each one timed on these operands, the choice kept
** by conv_tune.c and run again unless it ran last, so that this call's
** result rounds as the later calls' will. The gradients have no FFT or
** direct path of their own, nor the input gradient Winograd's beyond
** padding r - 1: im2col stands in. */
static int choose_and_run(const sl_node *n, const conv_geo *g, int grad, int f32, const void *in,
                          const void *w, void *out)
{
  const char *op = n->op->name;
  int want = (int)n->params.v[7], debug = sl_env_int(SL_ENV_DEBUG) >= 1;
  if (grad && (want == ALGO_FFT || want == ALGO_DIRECT || (is_winograd(want) && !winograd_rule(g, want, grad)) ||
               (want == ALGO_SLIDING && !sliding_fits(g, grad))))
    want = ALGO_IM2COL;
  if (want == ALGO_FFT && !fft_fits(g))
    return sl_fail("%s: the FFT algorithm needs stride 1, dilation 1 and one group", op);
  if (want == ALGO_SLIDING && !sliding_fits(g, grad))
    return sl_fail("%s: the sliding-window algorithm needs stride 1, dilation 1 and one group", op);
  if (is_winograd(want) && !winograd_rule(g, want, grad))
    return sl_fail("%s: the Winograd algorithm '%s' needs %s filters, stride 1, dilation 1 and one group", op,
                   algo_names[want], want == ALGO_WINOGRAD ? "3x3 or 5x5" : "3x3");
  if (want != ALGO_AUTO) return run_algo(g, grad, want, f32, in, w, out);
  int cand[5], nc = 0;
  cand[nc++] = ALGO_IM2COL;
  if (winograd_rule(g, ALGO_WINOGRAD, grad)) cand[nc++] = ALGO_WINOGRAD;
  if (winograd_rule(g, ALGO_WINOGRAD4X4, grad)) cand[nc++] = ALGO_WINOGRAD4X4;
  if (grad == FOR_OUTPUT && fft_fits(g) && g->kh * g->kw >= 25) cand[nc++] = ALGO_FFT;
  if (sliding_fits(g, grad)) cand[nc++] = ALGO_SLIDING;
  if (nc == 1) return run_algo(g, grad, ALGO_IM2COL, f32, in, w, out);

  /* the key names the candidates, so that a new one is measured against a kept choice */
  char key[256], known[32];
  int at = snprintf(key, sizeof key, "%s %s %d threads N%lld C%lld %lldx%lld K%lld %lldx%lld stride %lld,%lld "
                    "pad %lld,%lld groups %lld of", op, f32 ? "float32" : "float64", conv_threads(), (long long)g->N,
                    (long long)g->C, (long long)g->H, (long long)g->W, (long long)g->K, (long long)g->kh,
                    (long long)g->kw, (long long)g->sh, (long long)g->sw, (long long)g->ph, (long long)g->pw,
                    (long long)g->G);
  for (int i = 0; i < nc && at > 0 && at < (int)sizeof key; i++)
    at += snprintf(key + at, sizeof key - (size_t)at, " %s", algo_names[cand[i]]);
  int found = sl_conv_tune_find(key, known, sizeof known);
  for (int i = 0; found && i < nc; i++)
    if (strcmp(known, algo_names[cand[i]]) == 0) {
      if (debug && found == 2) fprintf(stderr, "symlua: %s: %s (kept in the cache)\n", key, known);
      return run_algo(g, grad, cand[i], f32, in, w, out);
    }
  /* the best of three rounds, taken in turn so that a burst of load on a
  ** shared machine does not decide alone (with two, a loaded machine picked
  ** a candidate 1.3 times slower than the best); a candidate that fails
  ** (memory) is passed over */
  double secs[5] = { INFINITY, INFINITY, INFINITY, INFINITY, INFINITY };
  int pick = -1;
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < nc; i++) {
      if (round && secs[i] == INFINITY) continue;
      double t0 = sl_clock();
      if (run_algo(g, grad, cand[i], f32, in, w, out)) continue;
      double dt = sl_clock() - t0;
      if (dt < secs[i]) secs[i] = dt;
    }
  for (int i = 0; i < nc; i++)
    if (secs[i] < INFINITY && (pick < 0 || secs[i] < secs[pick])) pick = i;
  if (pick < 0) return -1;
  if (pick != nc - 1 && run_algo(g, grad, cand[pick], f32, in, w, out)) return -1;
  sl_conv_tune_keep(key, algo_names[cand[pick]]);
  if (debug) {
    char times[160];
    at = 0;
    for (int i = 0; i < nc; i++)
      at += snprintf(times + at, sizeof times - (size_t)at, "%s%s %.3f ms", i ? ", " : "",
                     algo_names[cand[i]], secs[i] * 1e3);
    fprintf(stderr, "symlua: %s: %s (measured: %s)\n", key, algo_names[cand[pick]], times);
  }
  return 0;
}

/* -- running ---------------------------------------------------------------------------------- */

/* Concrete geometry; every operand as a contiguous tensor (a copy when needed). */
static int concrete(const sl_node *n, const sl_tensor *x, const sl_tensor *w, conv_geo *g)
{
  sl_type tx, tw;
  sl_type_of_tensor(x, &tx);
  if (w) sl_type_of_tensor(w, &tw);
  return geometry(n->op->name, &n->params, &tx, w ? &tw : NULL, g);
}

static sl_tensor *contiguous(sl_tensor *t)
{
  if (sl_tensor_is_contiguous(t)) { sl_tensor_retain(t); return t; }
  return sl_tensor_clone(t);
}

static int same_shape(const char *op, const char *what, const sl_tensor *t, const int64_t *want)
{
  for (int d = 0; d < 4; d++)
    if (t->ndim != 4 || t->shape[d] != want[d])
      return sl_fail("%s: the %s has the wrong shape for this convolution", op, what);
  return 0;
}

typedef enum { RUN_CONV, RUN_GRAD_INPUT, RUN_GRAD_FILTERS, RUN_MAX, RUN_AVG, RUN_MAX_GRAD, RUN_AVG_GRAD } run_kind;

static int run(const sl_node *n, sl_tensor **in, sl_tensor **out, run_kind kind)
{
  conv_geo g = { 0 };
  sl_tensor *x = NULL, *w = NULL, *dy = NULL;
  int rc = -1;
  /* which input is the image, the filters and the incoming gradient */
  sl_tensor *img = kind == RUN_GRAD_INPUT ? in[2] : in[0];
  sl_tensor *filt = kind == RUN_CONV || kind == RUN_GRAD_INPUT ? in[1] : kind == RUN_GRAD_FILTERS ? in[2] : NULL;
  if (concrete(n, img, filt, &g)) return -1;
  int64_t yshape[4] = { g.N, g.K, g.OH, g.OW };
  int f32 = img->dtype == SL_FLOAT32;
  x = contiguous(img);
  w = filt ? contiguous(filt) : NULL;
  sl_tensor *gin = kind == RUN_GRAD_INPUT ? in[0] : kind == RUN_GRAD_FILTERS || kind == RUN_MAX_GRAD ||
                   kind == RUN_AVG_GRAD ? in[1] : NULL;
  if (gin) {
    if (gin->dtype != img->dtype || same_shape(n->op->name, "incoming gradient", gin, yshape)) goto done;
    dy = contiguous(gin);
  }
  if (!x || (filt && !w) || (gin && !dy)) goto done;
  if (kind == RUN_CONV || kind == RUN_MAX || kind == RUN_AVG) out[0] = sl_tensor_empty(img->dtype, 4, yshape);
  else if (kind == RUN_GRAD_FILTERS) out[0] = sl_tensor_empty(img->dtype, 4, filt->shape);
  else out[0] = sl_tensor_empty(img->dtype, 4, img->shape);
  if (!out[0]) goto done;
  void *X = x ? sl_tensor_ptr(x) : NULL, *Wp = w ? sl_tensor_ptr(w) : NULL;
  void *DY = dy ? sl_tensor_ptr(dy) : NULL, *Y = sl_tensor_ptr(out[0]);
  if (sl_tensor_numel(out[0]) == 0) { rc = 0; goto done; }
  switch (kind) {
  case RUN_CONV: rc = choose_and_run(n, &g, FOR_OUTPUT, f32, X, Wp, Y); break;
  case RUN_GRAD_INPUT: rc = choose_and_run(n, &g, FOR_INPUT_GRAD, f32, DY, Wp, Y); break;
  case RUN_GRAD_FILTERS: rc = choose_and_run(n, &g, FOR_FILTER_GRAD, f32, X, DY, Y); break;
  case RUN_MAX: if (f32) max_pool_float(&g, X, Y); else max_pool_double(&g, X, Y); rc = 0; break;
  case RUN_AVG: if (f32) avg_pool_float(&g, X, Y); else avg_pool_double(&g, X, Y); rc = 0; break;
  case RUN_MAX_GRAD: if (f32) max_pool_grad_float(&g, X, DY, Y); else max_pool_grad_double(&g, X, DY, Y); rc = 0; break;
  case RUN_AVG_GRAD: if (f32) avg_pool_grad_float(&g, DY, Y); else avg_pool_grad_double(&g, DY, Y); rc = 0; break;
  }
done:
  sl_tensor_release(x);
  sl_tensor_release(w);
  sl_tensor_release(dy);
  return rc;
}

static int conv_perform(const sl_node *n, sl_tensor **in, sl_tensor **out) { return run(n, in, out, RUN_CONV); }
static int grad_input_perform(const sl_node *n, sl_tensor **in, sl_tensor **out) { return run(n, in, out, RUN_GRAD_INPUT); }
static int grad_filters_perform(const sl_node *n, sl_tensor **in, sl_tensor **out) { return run(n, in, out, RUN_GRAD_FILTERS); }
static int max_pool_perform(const sl_node *n, sl_tensor **in, sl_tensor **out) { return run(n, in, out, RUN_MAX); }
static int avg_pool_perform(const sl_node *n, sl_tensor **in, sl_tensor **out) { return run(n, in, out, RUN_AVG); }
static int max_pool_grad_perform(const sl_node *n, sl_tensor **in, sl_tensor **out) { return run(n, in, out, RUN_MAX_GRAD); }
static int avg_pool_grad_perform(const sl_node *n, sl_tensor **in, sl_tensor **out) { return run(n, in, out, RUN_AVG_GRAD); }

const sl_op sl_op_conv2d = { .name = "conv2d", .nin = 2, .nout = 1, .infer = conv_infer, .perform = conv_perform, .flags = SL_OP_EXACT_GRAD, .size = SL_SIZE_WINDOW };
const sl_op sl_op_conv2d_grad_input = { .name = "conv2d_grad_input", .nin = 3, .nout = 1, .infer = grad_input_infer, .perform = grad_input_perform, .flags = SL_OP_EXACT_GRAD, .size = SL_SIZE_OF_LAST };
const sl_op sl_op_conv2d_grad_filters = { .name = "conv2d_grad_filters", .nin = 3, .nout = 1, .infer = grad_filters_infer, .perform = grad_filters_perform, .flags = SL_OP_EXACT_GRAD, .size = SL_SIZE_OF_LAST };
const sl_op sl_op_max_pool2d = { .name = "max_pool2d", .nin = 1, .nout = 1, .infer = pool_infer, .perform = max_pool_perform, .flags = SL_OP_EXACT_GRAD, .size = SL_SIZE_WINDOW };
const sl_op sl_op_avg_pool2d = { .name = "avg_pool2d", .nin = 1, .nout = 1, .infer = pool_infer, .perform = avg_pool_perform, .flags = SL_OP_EXACT_GRAD, .size = SL_SIZE_WINDOW };
const sl_op sl_op_max_pool2d_grad = { .name = "max_pool2d_grad", .nin = 2, .nout = 1, .infer = pool_grad_infer, .perform = max_pool_grad_perform, .size = SL_SIZE_OF_FIRST };
const sl_op sl_op_avg_pool2d_grad = { .name = "avg_pool2d_grad", .nin = 2, .nout = 1, .infer = pool_grad_infer, .perform = avg_pool_grad_perform, .flags = SL_OP_EXACT_GRAD, .size = SL_SIZE_OF_FIRST };
