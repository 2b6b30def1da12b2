/*
** op_fft.c — discrete Fourier transforms along one axis, through FFTW3:
** fft and ifft (complex to complex), rfft (real to the n/2 + 1 non-negative
** frequencies) and irfft (back to n real values). NumPy's conventions: fft
** is unnormalized, the inverses divide by n.
**
** Params: v[0] the axis (0-based); v[1] for irfft the output length n
** (the input must have n/2 + 1 entries along the axis), or -1 with a second
** input whose size along the axis is n (read for its shape only: the
** gradient of rfft needs n where it is known only at run time).
**
** Plans are made once per (transform, precision, outer, n, inner) and kept:
** a transform along axis k of a C-ordered array is `outer` x `inner`
** transforms of length n with stride inner, FFTW's guru interface with two
** loop dimensions. Planning is FFTW_ESTIMATE, or FFTW_MEASURE when
** sl.config.fft_plan is "measure"; measured plans are saved as FFTW wisdom
** in the cache directory, so a machine measures each shape once.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "cache.h"
#include "config.h"
#include "graph.h"

enum { FFT_C2C_FWD, FFT_C2C_INV, FFT_R2C, FFT_C2R };

static int transform_of(const sl_op *op)
{
  static const char *const names[] = { "fft", "ifft", "rfft", "irfft" };
  for (int k = 0; k < 4; k++) if (strcmp(op->name, names[k]) == 0) return k;
  return -1;
}

/* -- plans ------------------------------------------------------------------------- */

typedef struct plan_entry {
  int kind, f32;
  int64_t outer, n, inner;
  void *plan;
  struct plan_entry *next;
} plan_entry;

static plan_entry *plans;

/* FFTW wisdom: read once from the cache directory; written after a measured plan. */
static void wisdom_path(char *path, size_t n, int f32)
{
  char dir[4096];
  path[0] = 0;
  if (sl_cache_dir(sl_cfg.cache_dir, dir, sizeof dir) == 0)
    snprintf(path, n, "%s/fftw%s.wisdom", dir, f32 ? "f" : "");
}

static void *make_plan(int kind, int f32, int64_t outer, int64_t n, int64_t inner)
{
  int measure = sl_cfg.fft_plan && strcmp(sl_cfg.fft_plan, "measure") == 0;
  unsigned flags = (measure ? FFTW_MEASURE : FFTW_ESTIMATE) | FFTW_UNALIGNED;
  int64_t m = kind == FFT_R2C || kind == FFT_C2R ? n / 2 + 1 : n;   /* complex length */
  int64_t in_len = kind == FFT_C2R ? m : n, out_len = kind == FFT_R2C ? m : n;
  fftw_iodim dim = { (int)n, (int)inner, (int)inner };
  fftw_iodim loops[2] = { { (int)outer, (int)(in_len * inner), (int)(out_len * inner) },
                          { (int)inner, 1, 1 } };
  size_t cbytes = (size_t)(outer * m * inner + 1) * 2 * (f32 ? sizeof(float) : sizeof(double));
  size_t rbytes = (size_t)(outer * n * inner + 1) * (f32 ? sizeof(float) : sizeof(double));
  static int wisdom_read[2];
  char path[4200];
  if (measure && !wisdom_read[f32]) {
    wisdom_read[f32] = 1;
    wisdom_path(path, sizeof path, f32);
    if (path[0]) { if (f32) fftwf_import_wisdom_from_filename(path); else fftw_import_wisdom_from_filename(path); }
  }
  /* scratch arrays: measuring overwrites what it plans on */
  void *a = fftw_malloc(cbytes > rbytes ? cbytes : rbytes), *b = fftw_malloc(cbytes > rbytes ? cbytes : rbytes);
  void *plan = NULL;
  if (a && b) {
    if (f32) {
      const fftwf_iodim *d = (const fftwf_iodim *)&dim, *l = (const fftwf_iodim *)loops;
      if (kind == FFT_R2C) plan = fftwf_plan_guru_dft_r2c(1, d, 2, l, a, b, flags);
      else if (kind == FFT_C2R) plan = fftwf_plan_guru_dft_c2r(1, d, 2, l, a, b, flags);
      else plan = fftwf_plan_guru_dft(1, d, 2, l, a, b, kind == FFT_C2C_FWD ? FFTW_FORWARD : FFTW_BACKWARD, flags);
    } else {
      if (kind == FFT_R2C) plan = fftw_plan_guru_dft_r2c(1, &dim, 2, loops, a, b, flags);
      else if (kind == FFT_C2R) plan = fftw_plan_guru_dft_c2r(1, &dim, 2, loops, a, b, flags);
      else plan = fftw_plan_guru_dft(1, &dim, 2, loops, a, b, kind == FFT_C2C_FWD ? FFTW_FORWARD : FFTW_BACKWARD, flags);
    }
  }
  fftw_free(a);
  fftw_free(b);
  if (plan && measure) {
    wisdom_path(path, sizeof path, f32);
    if (path[0]) { if (f32) fftwf_export_wisdom_to_filename(path); else fftw_export_wisdom_to_filename(path); }
  }
  return plan;
}

static void *plan_for(int kind, int f32, int64_t outer, int64_t n, int64_t inner)
{
  for (plan_entry *e = plans; e; e = e->next)
    if (e->kind == kind && e->f32 == f32 && e->outer == outer && e->n == n && e->inner == inner) return e->plan;
  plan_entry *e = calloc(1, sizeof *e);
  if (!e) { sl_fail("out of memory"); return NULL; }
  *e = (plan_entry){ kind, f32, outer, n, inner, make_plan(kind, f32, outer, n, inner), plans };
  if (!e->plan) { free(e); sl_fail("fft: FFTW could not plan a transform of length %lld", (long long)n); return NULL; }
  plans = e;
  return e->plan;
}

/* -- types ------------------------------------------------------------------------------ */

static int fft_infer(sl_node *n, sl_type *out)
{
  if (n->nin < 1 || n->nin > 2 || (n->nin == 2 && transform_of(n->op) != FFT_C2R))
    return sl_fail("%s: takes one input", n->op->name);
  int kind = transform_of(n->op);
  const sl_type *x = &n->inputs[0]->type;
  const char *name = n->op->name;
  int64_t axis = n->params.v[0];
  if (x->ndim == 0) return sl_fail("%s: the input is 0-d; it needs an axis to transform", name);
  if (axis < 0 || axis >= x->ndim) return sl_fail("%s: axis %lld is out of range for %d dimensions", name, (long long)axis + 1, x->ndim);
  int want_complex = kind != FFT_R2C;
  if (want_complex ? sl_dtype_kind(x->dtype) != 'c' : sl_dtype_kind(x->dtype) != 'f')
    return sl_fail("%s: expected a %s input, got %s", name, want_complex ? "complex" : "float",
                   sl_dtype_name(x->dtype));
  *out = *x;
  int64_t len = x->shape[axis];
  if (kind == FFT_R2C) {
    out->dtype = x->dtype == SL_FLOAT32 ? SL_COMPLEX64 : SL_COMPLEX128;
    if (len != SL_UNKNOWN) out->shape[axis] = len / 2 + 1;
  } else if (kind == FFT_C2R) {
    int64_t m = n->params.v[1];
    out->dtype = x->dtype == SL_COMPLEX64 ? SL_FLOAT32 : SL_FLOAT64;
    if (n->nin == 2) {
      const sl_type *like = &n->inputs[1]->type;
      if (like->ndim != x->ndim) return sl_fail("irfft: the length input must have the input's rank");
      out->shape[axis] = like->shape[axis];
      return 0;
    }
    if (m < 1) return sl_fail("irfft: the output length must be at least 1, got %lld", (long long)m);
    if (len != SL_UNKNOWN && len != m / 2 + 1)
      return sl_fail("irfft: an output of length %lld needs %lld frequencies along axis %lld, got %lld",
                     (long long)m, (long long)(m / 2 + 1), (long long)axis + 1, (long long)len);
    out->shape[axis] = m;
  }
  if (len == 0) return sl_fail("%s: the axis to transform is empty", name);
  return 0;
}

/* -- running ------------------------------------------------------------------------------ */

static int fft_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int kind = transform_of(n->op);
  int axis = (int)n->params.v[0];
  const sl_tensor *x = in[0];
  int64_t len = x->shape[axis], outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= x->shape[d];
  for (int d = axis + 1; d < x->ndim; d++) inner *= x->shape[d];
  int64_t nlog = kind != FFT_C2R ? len : n->nin == 2 ? in[1]->shape[axis] : n->params.v[1];
  if (len == 0) return sl_fail("%s: the axis to transform is empty", n->op->name);
  if (kind == FFT_C2R && len != nlog / 2 + 1)
    return sl_fail("irfft: an output of length %lld needs %lld frequencies, got %lld",
                   (long long)nlog, (long long)(nlog / 2 + 1), (long long)len);
  int64_t shape[SL_MAXDIM];
  memcpy(shape, x->shape, (size_t)x->ndim * sizeof *shape);
  shape[axis] = kind == FFT_R2C ? len / 2 + 1 : nlog;
  sl_dtype odt = n->outputs[0].type.dtype;
  int f32 = odt == SL_FLOAT32 || odt == SL_COMPLEX64;
  /* contiguous input; c2r overwrites its input, so it gets a private copy */
  sl_tensor *src = kind == FFT_C2R ? sl_tensor_clone(x) : sl_tensor_contiguous(in[0]);
  if (!src) return -1;
  out[0] = sl_tensor_empty(odt, x->ndim, shape);
  if (!out[0]) { sl_tensor_release(src); return -1; }
  if (sl_tensor_numel(out[0]) == 0) { sl_tensor_release(src); return 0; }
  void *plan = plan_for(kind, f32, outer, nlog, inner);
  if (!plan) { sl_tensor_release(src); return -1; }
  void *a = sl_tensor_ptr(src), *b = sl_tensor_ptr(out[0]);
  if (f32) {
    if (kind == FFT_R2C) fftwf_execute_dft_r2c(plan, a, b);
    else if (kind == FFT_C2R) fftwf_execute_dft_c2r(plan, a, b);
    else fftwf_execute_dft(plan, a, b);
  } else {
    if (kind == FFT_R2C) fftw_execute_dft_r2c(plan, a, b);
    else if (kind == FFT_C2R) fftw_execute_dft_c2r(plan, a, b);
    else fftw_execute_dft(plan, a, b);
  }
  sl_tensor_release(src);
  if (kind == FFT_C2C_INV || kind == FFT_C2R) {   /* the inverses divide by n */
    int64_t m = sl_tensor_numel(out[0]) * (kind == FFT_C2R ? 1 : 2);
    double s = 1.0 / (double)nlog;
    if (f32) { float *p = b; for (int64_t i = 0; i < m; i++) p[i] *= (float)s; }
    else { double *p = b; for (int64_t i = 0; i < m; i++) p[i] *= s; }
  }
  return 0;
}

#define FFT_OP(nm) { .name = nm, .nin = nm[0] == 'i' && nm[1] == 'r' ? -1 : 1, .nout = 1, .infer = fft_infer, .perform = fft_perform, \
                     .flags = SL_OP_COMPLEX }
const sl_op sl_fft_ops[] = { FFT_OP("fft"), FFT_OP("ifft"), FFT_OP("rfft"), FFT_OP("irfft") };
const int sl_fft_nops = sizeof sl_fft_ops / sizeof *sl_fft_ops;
