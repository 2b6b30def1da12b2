/*
** fft.c — discrete Fourier transforms along one axis, through FFTW3:
** fft and ifft (complex to complex), rfft (real to the n/2 + 1 non-negative
** frequencies) and irfft (back to n real values). NumPy's conventions: fft
** is unnormalized, the inverses divide by n.
**
** Params: v[0] the axis (0-based) and v[1] a second one for the 2-d forms
** (-1 for none); the last of them is the one rfft halves. v[2], irfft only:
** the output length n along that axis (the input must have n/2 + 1 entries
** there), or -1 with a second input whose size along the axis is n (read
** for its shape only: the gradient of rfft needs n where it is known only
** at run time).
**
** Plans are made once per (transform, precision, shape, axes) and kept:
** FFTW's guru interface takes the transformed axes as its dimensions and
** every other axis as a loop, all with their strides in the C-ordered
** arrays, so one plan does the whole tensor. Planning is FFTW_ESTIMATE, or FFTW_MEASURE when
** sl.config.fft_plan is "measure"; measured plans are saved as FFTW wisdom
** in the cache directory, so a machine measures each shape once.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "cache.h"
#include "config.h"
#include "rows.h"

enum { FFT_C2C_FWD, FFT_C2C_INV, FFT_R2C, FFT_C2R };

static int transform_of(const sl_op *op)
{
  static const sl_op *const kinds[] = { &sl_op_fft, &sl_op_ifft, &sl_op_rfft, &sl_op_irfft };
  for (int k = 0; k < 4; k++) if (op == kinds[k]) return k;
  return -1;
}

/* -- plans ------------------------------------------------------------------------- */

/* A transform: its kind and precision, the full shape on the real (or,
** for fft/ifft, the only) side, and the axes. */
typedef struct {
  int kind, f32, ndim, rank;
  int64_t shape[SL_MAXDIM];
  int axes[2];
} fft_desc;

typedef struct plan_entry {
  fft_desc d;
  void *plan;
  struct plan_entry *next;
} plan_entry;

static plan_entry *plans;

static int last_axis(const fft_desc *d) { return d->axes[d->rank - 1]; }

/* The shapes of the input and output arrays (in may be NULL). */
static void array_shapes(const fft_desc *d, int64_t *in, int64_t *out)
{
  int a = last_axis(d);
  memcpy(out, d->shape, (size_t)d->ndim * sizeof *out);
  if (d->kind == FFT_R2C) out[a] = d->shape[a] / 2 + 1;
  if (!in) return;
  memcpy(in, d->shape, (size_t)d->ndim * sizeof *in);
  if (d->kind == FFT_C2R) in[a] = d->shape[a] / 2 + 1;
}

/* FFTW wisdom: read once from the cache directory; written after a measured plan. */
static void wisdom_path(char *path, size_t n, int f32)
{
  char dir[4096];
  path[0] = 0;
  if (sl_cache_dir(sl_cfg.cache_dir, dir, sizeof dir) == 0)
    snprintf(path, n, "%s/fftw%s.wisdom", dir, f32 ? "f" : "");
}

static void *make_plan(const fft_desc *d)
{
  int measure = sl_cfg.fft_plan && strcmp(sl_cfg.fft_plan, "measure") == 0;
  unsigned flags = (measure ? FFTW_MEASURE : FFTW_ESTIMATE) | FFTW_UNALIGNED;
  int64_t ins[SL_MAXDIM], outs[SL_MAXDIM], is[SL_MAXDIM], os[SL_MAXDIM], nin = 1, nout = 1;
  array_shapes(d, ins, outs);
  sl_contiguous_strides(d->ndim, ins, is);
  sl_contiguous_strides(d->ndim, outs, os);
  fftw_iodim dims[2], loops[SL_MAXDIM];
  int nloops = 0;
  for (int k = 0; k < d->rank; k++) {
    int a = d->axes[k];
    dims[k] = (fftw_iodim){ (int)d->shape[a], (int)is[a], (int)os[a] };
  }
  for (int a = 0; a < d->ndim; a++) {
    nin *= ins[a];
    nout *= outs[a];
    if (a != d->axes[0] && (d->rank < 2 || a != d->axes[1]))
      loops[nloops++] = (fftw_iodim){ (int)ins[a], (int)is[a], (int)os[a] };
  }
  size_t real = d->f32 ? sizeof(float) : sizeof(double);
  size_t in_bytes = (size_t)(nin + 1) * real * (d->kind == FFT_R2C ? 1 : 2);
  size_t out_bytes = (size_t)(nout + 1) * real * (d->kind == FFT_C2R ? 1 : 2);
  static int wisdom_read[2];
  char path[4200];
  if (measure && !wisdom_read[d->f32]) {
    wisdom_read[d->f32] = 1;
    wisdom_path(path, sizeof path, d->f32);
    if (path[0]) { if (d->f32) fftwf_import_wisdom_from_filename(path); else fftw_import_wisdom_from_filename(path); }
  }
  /* scratch arrays: measuring overwrites what it plans on */
  void *a = fftw_malloc(in_bytes), *b = fftw_malloc(out_bytes), *plan = NULL;
  int sign = d->kind == FFT_C2C_FWD ? FFTW_FORWARD : FFTW_BACKWARD;
  if (a && b) {
    if (d->f32) {   /* fftwf_iodim is the same three ints */
      const fftwf_iodim *fd = (const fftwf_iodim *)dims, *fl = (const fftwf_iodim *)loops;
      if (d->kind == FFT_R2C) plan = fftwf_plan_guru_dft_r2c(d->rank, fd, nloops, fl, a, b, flags);
      else if (d->kind == FFT_C2R) plan = fftwf_plan_guru_dft_c2r(d->rank, fd, nloops, fl, a, b, flags);
      else plan = fftwf_plan_guru_dft(d->rank, fd, nloops, fl, a, b, sign, flags);
    } else {
      if (d->kind == FFT_R2C) plan = fftw_plan_guru_dft_r2c(d->rank, dims, nloops, loops, a, b, flags);
      else if (d->kind == FFT_C2R) plan = fftw_plan_guru_dft_c2r(d->rank, dims, nloops, loops, a, b, flags);
      else plan = fftw_plan_guru_dft(d->rank, dims, nloops, loops, a, b, sign, flags);
    }
  }
  fftw_free(a);
  fftw_free(b);
  if (plan && measure) {
    wisdom_path(path, sizeof path, d->f32);
    if (path[0]) { if (d->f32) fftwf_export_wisdom_to_filename(path); else fftw_export_wisdom_to_filename(path); }
  }
  return plan;
}

static int same_desc(const fft_desc *a, const fft_desc *b)
{
  return a->kind == b->kind && a->f32 == b->f32 && a->ndim == b->ndim && a->rank == b->rank &&
         a->axes[0] == b->axes[0] && (a->rank < 2 || a->axes[1] == b->axes[1]) &&
         memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof *a->shape) == 0;
}

static pthread_mutex_t planner = PTHREAD_MUTEX_INITIALIZER;
void sl_fftw_plan_lock(void) { pthread_mutex_lock(&planner); }
void sl_fftw_plan_unlock(void) { pthread_mutex_unlock(&planner); }

static void *plan_locked(const fft_desc *d);

static void *plan_for(const fft_desc *d)
{
  sl_fftw_plan_lock();
  void *p = plan_locked(d);
  sl_fftw_plan_unlock();
  return p;
}

static void *plan_locked(const fft_desc *d)
{
  for (plan_entry *e = plans; e; e = e->next) if (same_desc(&e->d, d)) return e->plan;
  plan_entry *e = calloc(1, sizeof *e);
  if (!e) { sl_fail("out of memory"); return NULL; }
  e->d = *d;
  e->plan = make_plan(d);
  if (!e->plan) { free(e); sl_fail("fft: FFTW could not plan this transform"); return NULL; }
  e->next = plans;
  plans = e;
  return e->plan;
}

/* -- types ------------------------------------------------------------------------------ */

static int check_axes(const sl_node *n, int ndim, int *axes, int *rank)
{
  const char *name = n->op->name;
  if (ndim == 0) return sl_fail("%s: the input is 0-d; it needs an axis to transform", name);
  axes[0] = (int)n->params.v[0];
  axes[1] = (int)n->params.v[1];
  *rank = axes[1] >= 0 ? 2 : 1;
  for (int k = 0; k < *rank; k++)
    if (axes[k] < 0 || axes[k] >= ndim)
      return sl_fail("%s: axis %d is out of range for %d dimensions", name, axes[k] + 1, ndim);
  if (*rank == 2 && axes[0] == axes[1]) return sl_fail("%s: the two axes are the same", name);
  return 0;
}

static int fft_infer(sl_node *n, sl_type *out)
{
  int kind = transform_of(n->op), axes[2], rank;
  const char *name = n->op->name;
  const sl_type *x = &n->inputs[0]->type;
  if (n->nin < 1 || n->nin > 2 || (n->nin == 2 && kind != FFT_C2R))
    return sl_fail("%s: takes one input", name);
  if (check_axes(n, x->ndim, axes, &rank)) return -1;
  int want_complex = kind != FFT_R2C;
  if (want_complex ? sl_dtype_kind(x->dtype) != 'c' : sl_dtype_kind(x->dtype) != 'f')
    return sl_fail("%s: expected a %s input, got %s", name, want_complex ? "complex" : "float",
                   sl_dtype_name(x->dtype));
  *out = *x;
  for (int k = 0; k < rank; k++)
    if (x->shape[axes[k]] == 0) return sl_fail("%s: axis %d to transform is empty", name, axes[k] + 1);
  int a = axes[rank - 1];
  int64_t len = x->shape[a];
  if (kind == FFT_R2C) {
    out->dtype = x->dtype == SL_FLOAT32 ? SL_COMPLEX64 : SL_COMPLEX128;
    if (len != SL_UNKNOWN) out->shape[a] = len / 2 + 1;
  } else if (kind == FFT_C2R) {
    int64_t m = n->params.v[2];
    out->dtype = x->dtype == SL_COMPLEX64 ? SL_FLOAT32 : SL_FLOAT64;
    if (n->nin == 2) {
      const sl_type *like = &n->inputs[1]->type;
      if (like->ndim != x->ndim) return sl_fail("irfft: the length input must have the input's rank");
      out->shape[a] = like->shape[a];
      return 0;
    }
    if (m < 1) return sl_fail("irfft: the output length must be at least 1, got %lld", (long long)m);
    if (len != SL_UNKNOWN && len != m / 2 + 1)
      return sl_fail("irfft: an output of length %lld needs %lld frequencies along axis %d, got %lld",
                     (long long)m, (long long)(m / 2 + 1), a + 1, (long long)len);
    out->shape[a] = m;
  }
  return 0;
}

/* -- running ------------------------------------------------------------------------------ */

static int fft_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  fft_desc d = { .kind = transform_of(n->op) };
  const sl_tensor *x = in[0];
  if (check_axes(n, x->ndim, d.axes, &d.rank)) return -1;
  int a = last_axis(&d);
  d.ndim = x->ndim;
  memcpy(d.shape, x->shape, (size_t)x->ndim * sizeof *d.shape);
  if (d.kind == FFT_C2R) {
    int64_t m = n->nin == 2 ? in[1]->shape[a] : n->params.v[2];
    if (x->shape[a] != m / 2 + 1)
      return sl_fail("irfft: an output of length %lld needs %lld frequencies, got %lld",
                     (long long)m, (long long)(m / 2 + 1), (long long)x->shape[a]);
    d.shape[a] = m;
  }
  sl_dtype odt = n->outputs[0].type.dtype;
  d.f32 = odt == SL_FLOAT32 || odt == SL_COMPLEX64;
  int64_t outs[SL_MAXDIM], count = 1;
  array_shapes(&d, NULL, outs);
  for (int k = 0; k < d.rank; k++) {
    if (d.shape[d.axes[k]] == 0) return sl_fail("%s: axis %d to transform is empty", n->op->name, d.axes[k] + 1);
    count *= d.shape[d.axes[k]];
  }
  out[0] = sl_tensor_empty(odt, x->ndim, outs);
  if (!out[0]) return -1;
  if (sl_tensor_numel(out[0]) == 0) return 0;
  /* contiguous input; c2r overwrites its input, so it gets a private copy */
  sl_tensor *src = d.kind == FFT_C2R ? sl_tensor_clone(x) : sl_tensor_contiguous(in[0]);
  void *plan = src ? plan_for(&d) : NULL;
  if (!plan) { sl_tensor_release(src); return -1; }
  void *pa = sl_tensor_ptr(src), *pb = sl_tensor_ptr(out[0]);
  if (d.f32) {
    if (d.kind == FFT_R2C) fftwf_execute_dft_r2c(plan, pa, pb);
    else if (d.kind == FFT_C2R) fftwf_execute_dft_c2r(plan, pa, pb);
    else fftwf_execute_dft(plan, pa, pb);
  } else {
    if (d.kind == FFT_R2C) fftw_execute_dft_r2c(plan, pa, pb);
    else if (d.kind == FFT_C2R) fftw_execute_dft_c2r(plan, pa, pb);
    else fftw_execute_dft(plan, pa, pb);
  }
  sl_tensor_release(src);
  if (d.kind == FFT_C2C_INV || d.kind == FFT_C2R) {   /* the inverses divide by the count */
    int64_t m = sl_tensor_numel(out[0]) * (d.kind == FFT_C2R ? 1 : 2);
    double s = 1.0 / (double)count;
    if (d.f32) { float *p = pb; for (int64_t i = 0; i < m; i++) p[i] *= (float)s; }
    else { double *p = pb; for (int64_t i = 0; i < m; i++) p[i] *= s; }
  }
  return 0;
}

#define FFT_OP(nm, nargs) const sl_op sl_op_##nm = { .name = #nm, .nin = nargs, .nout = 1, .infer = fft_infer, \
  .perform = fft_perform, .flags = SL_OP_COMPLEX | SL_OP_EXACT_GRAD, .size = SL_SIZE_FFT };
FFT_OP(fft, 1)
FFT_OP(ifft, 1)
FFT_OP(rfft, 1)
FFT_OP(irfft, -1)   /* the output length may come as a second input */
