/*
** reduce.c — reductions over axes: sum, prod, mean, var, std, max, min,
** argmax, argmin, all, any; their typing rules and the reference kernel.
**
** Params: v[0] is keepdims (0 or 1), v[1..n-1] the reduced axes, 0-based,
** sorted and unique (the Lua layer converts and checks the user's axes);
** x is ddof for var and std. A full reduction lists every axis.
**
** Kernel: a view with the reduced axes moved last is converted to the
** compute domain (double for float math, int64 otherwise) as one C-order
** block, so each output element reduces one contiguous row. Float sums are
** pairwise in double (error grows like log n, so float32 data sums as well
** as NumPy's float64 does); mean is that sum over n, var is two-pass (the
** mean, then the pairwise sum of squared deviations). Integer sums and
** products wrap around like NumPy's int64.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rows.h"

/* How an op types its result from its input dtype. */
typedef enum {
  RD_ACCUM,    /* sum, prod: integers and bool widen to int64, floats stay */
  RD_FLOAT,    /* mean, var, std: integers and bool become the default float */
  RD_SAME,     /* max, min */
  RD_INDEX,    /* argmax, argmin: int64 positions, 1-based */
  RD_BOOL      /* all, any */
} rd_rule;

/* One row reduction in each domain; the result is in the same domain. */
typedef double (*rd_rowf)(const double *x, int64_t n, double ddof);
typedef int64_t (*rd_rowi)(const int64_t *x, int64_t n);

typedef struct {
  rd_rule rule;
  int nonempty;       /* an empty row has no answer (NumPy raises) */
  int float_math;     /* computes in double whatever the input dtype */
  rd_rowf f;
  rd_rowi i;
} rd_info;

/* -- row kernels --------------------------------------------------------------- */

/* Pairwise sum of x[k], or of (x[k] - m)^2 when sq is set. */
static double psum(const double *x, int64_t n, int sq, double m)
{
  if (n <= 16) {
    double s = 0;
    for (int64_t k = 0; k < n; k++) s += sq ? (x[k] - m) * (x[k] - m) : x[k];
    return s;
  }
  int64_t h = n / 2;
  return psum(x, h, sq, m) + psum(x + h, n - h, sq, m);
}

static double sum_f(const double *x, int64_t n, double d) { (void)d; return psum(x, n, 0, 0); }
static double mean_f(const double *x, int64_t n, double d) { (void)d; return psum(x, n, 0, 0) / (double)n; }

static double var_f(const double *x, int64_t n, double ddof)
{
  double m = psum(x, n, 0, 0) / (double)n;
  double dof = (double)n - ddof;
  return psum(x, n, 1, m) / (dof > 0 ? dof : 0);   /* NumPy: inf or nan past n */
}

static double std_f(const double *x, int64_t n, double ddof) { return sqrt(var_f(x, n, ddof)); }

static double prod_f(const double *x, int64_t n, double d)
{
  (void)d;
  double p = 1;
  for (int64_t k = 0; k < n; k++) p *= x[k];
  return p;
}

/* max and min return the first NaN, like NumPy */
static double max_f(const double *x, int64_t n, double d)
{
  (void)d;
  double r = x[0];
  for (int64_t k = 0; k < n && r == r; k++) if (x[k] > r || x[k] != x[k]) r = x[k];
  return r;
}

static double min_f(const double *x, int64_t n, double d)
{
  (void)d;
  double r = x[0];
  for (int64_t k = 0; k < n && r == r; k++) if (x[k] < r || x[k] != x[k]) r = x[k];
  return r;
}

/* positions are 1-based; the first NaN wins, else the first extreme */
static double argmax_f(const double *x, int64_t n, double d)
{
  (void)d;
  int64_t best = 0;
  for (int64_t k = 0; k < n; k++) {
    if (x[k] != x[k]) return (double)(k + 1);
    if (x[k] > x[best]) best = k;
  }
  return (double)(best + 1);
}

static double argmin_f(const double *x, int64_t n, double d)
{
  (void)d;
  int64_t best = 0;
  for (int64_t k = 0; k < n; k++) {
    if (x[k] != x[k]) return (double)(k + 1);
    if (x[k] < x[best]) best = k;
  }
  return (double)(best + 1);
}

/* NaN counts as true, as in NumPy */
static double all_f(const double *x, int64_t n, double d)
{
  (void)d;
  for (int64_t k = 0; k < n; k++) if (x[k] == 0) return 0;
  return 1;
}

static double any_f(const double *x, int64_t n, double d)
{
  (void)d;
  for (int64_t k = 0; k < n; k++) if (x[k] != 0) return 1;
  return 0;
}

/* integer sums and products wrap around (unsigned arithmetic is defined) */
static int64_t sum_i(const int64_t *x, int64_t n)
{
  uint64_t s = 0;
  for (int64_t k = 0; k < n; k++) s += (uint64_t)x[k];
  return (int64_t)s;
}

static int64_t prod_i(const int64_t *x, int64_t n)
{
  uint64_t p = 1;
  for (int64_t k = 0; k < n; k++) p *= (uint64_t)x[k];
  return (int64_t)p;
}

static int64_t max_i(const int64_t *x, int64_t n)
{
  int64_t r = x[0];
  for (int64_t k = 1; k < n; k++) if (x[k] > r) r = x[k];
  return r;
}

static int64_t min_i(const int64_t *x, int64_t n)
{
  int64_t r = x[0];
  for (int64_t k = 1; k < n; k++) if (x[k] < r) r = x[k];
  return r;
}

static int64_t argmax_i(const int64_t *x, int64_t n)
{
  int64_t best = 0;
  for (int64_t k = 1; k < n; k++) if (x[k] > x[best]) best = k;
  return best + 1;
}

static int64_t argmin_i(const int64_t *x, int64_t n)
{
  int64_t best = 0;
  for (int64_t k = 1; k < n; k++) if (x[k] < x[best]) best = k;
  return best + 1;
}

static int64_t all_i(const int64_t *x, int64_t n)
{
  for (int64_t k = 0; k < n; k++) if (x[k] == 0) return 0;
  return 1;
}

static int64_t any_i(const int64_t *x, int64_t n)
{
  for (int64_t k = 0; k < n; k++) if (x[k] != 0) return 1;
  return 0;
}

#include "reduce_rows.h"

#define RD_INFO(nm, rule, nonempty, float_math, f, i, fused) { rule, nonempty, float_math, f, i },
static const rd_info infos[] = { SL_REDUCE_OPS(RD_INFO) };

#define RD_ADDRESS(nm, ...) &sl_op_##nm,
static const sl_op *const rows[] = { SL_REDUCE_OPS(RD_ADDRESS) };

/* an op's entry in infos is its position in rows */
static const rd_info *info_of(const sl_op *op)
{
  int k = 0;
  while (rows[k] != op) k++;
  return &infos[k];
}

/* -- typing ----------------------------------------------------------------------- */

static sl_dtype result_dtype(const rd_info *r, sl_dtype in)
{
  int is_float = sl_dtype_kind(in) == 'f';
  switch (r->rule) {
  case RD_ACCUM: return is_float ? in : SL_INT64;
  case RD_FLOAT: return is_float ? in : sl_float_default;
  case RD_SAME: return in;
  case RD_INDEX: return SL_INT64;
  default: return SL_BOOL;
  }
}

/* Reads the params: which axes of an nd-axis input are reduced. */
static int read_axes(const sl_node *n, int nd, int reduced[SL_MAXDIM], int *naxes)
{
  const char *name = n->op->name;
  const sl_params *p = &n->params;
  if (p->n < 1 || (p->v[0] != 0 && p->v[0] != 1))
    return sl_fail("%s: params must be { keepdims (0 or 1), axes... }", name);
  *naxes = p->n - 1;
  memset(reduced, 0, SL_MAXDIM * sizeof *reduced);
  for (int k = 1; k < p->n; k++) {
    int64_t a = p->v[k];
    if (a < 0 || a >= nd)
      return sl_fail("%s: axis %lld is out of range for a %d-d input", name, (long long)a + 1, nd);
    if (reduced[a]) return sl_fail("%s: axis %lld is repeated", name, (long long)a + 1);
    if (k > 1 && a < p->v[k - 1]) return sl_fail("%s: axes must be sorted", name);
    reduced[a] = 1;
  }
  /* NumPy's argmax takes one axis, or none (the flattened input) */
  if (info_of(n->op)->rule == RD_INDEX && *naxes != 1 && *naxes != nd)
    return sl_fail("%s: reduces over one axis or all of them, not %d of %d", name, *naxes, nd);
  return 0;
}

/* Output sizes from input sizes: reduced axes dropped, or 1 with keepdims. */
static int out_shape(int nd, const int64_t *in, const int *reduced, int keep, int64_t *out)
{
  int k = 0;
  for (int i = 0; i < nd; i++) {
    if (!reduced[i]) out[k++] = in[i];
    else if (keep) out[k++] = 1;
  }
  return k;
}

static int rd_infer(sl_node *n, sl_type *out)
{
  const rd_info *r = info_of(n->op);
  const sl_type *in = &n->inputs[0]->type;
  int reduced[SL_MAXDIM], naxes;
  if (read_axes(n, in->ndim, reduced, &naxes)) return -1;
  out->dtype = result_dtype(r, in->dtype);
  out->ndim = out_shape(in->ndim, in->shape, reduced, (int)n->params.v[0], out->shape);
  /* an empty reduced axis with a known non-empty result: fail now */
  if (r->nonempty) {
    int empty = 0, outer = 1;
    for (int i = 0; i < in->ndim; i++) {
      if (reduced[i] && in->shape[i] == 0) empty = 1;
      if (!reduced[i] && in->shape[i] <= 0) outer = 0;
    }
    if (empty && outer) {
      char a[128];
      sl_type_text(in, a, sizeof a);
      return sl_fail("%s: cannot reduce an empty axis (input %s); it has no identity", n->op->name, a);
    }
  }
  return 0;
}

/* -- reference kernel ---------------------------------------------------------------- */

static int rd_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  const rd_info *r = info_of(n->op);
  sl_tensor *x = in[0];
  int nd = x->ndim, reduced[SL_MAXDIM], naxes;
  if (read_axes(n, nd, reduced, &naxes)) return -1;

  /* kept axes first, in order, then the reduced ones */
  int perm[SL_MAXDIM], k = 0;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < nd; i++) if (!reduced[i]) { perm[k++] = i; outer *= x->shape[i]; }
  for (int i = 0; i < nd; i++) if (reduced[i]) { perm[k++] = i; inner *= x->shape[i]; }
  if (r->nonempty && inner == 0 && outer > 0) {
    char a[128];
    sl_shape_text(a, sizeof a, nd, x->shape);
    return sl_fail("%s: cannot reduce an empty axis (input shape %s); it has no identity",
                   n->op->name, a);
  }

  int as_float = r->float_math || sl_dtype_kind(x->dtype) == 'f';
  sl_dtype domain = as_float ? SL_FLOAT64 : SL_INT64;
  int64_t shape[SL_MAXDIM];
  int ond = out_shape(nd, x->shape, reduced, (int)n->params.v[0], shape);

  sl_tensor *moved = sl_tensor_permute(x, perm);
  sl_tensor *rows = moved ? sl_tensor_cast(moved, domain) : NULL;
  sl_tensor *res = rows ? sl_tensor_empty(domain, ond, shape) : NULL;
  int rc = -1;
  if (res) {
    double ddof = n->params.x;
    if (as_float) {
      const double *src = sl_tensor_ptr(rows);
      double *dst = sl_tensor_ptr(res);
      for (int64_t o = 0; o < outer; o++) dst[o] = r->f(src + o * inner, inner, ddof);
    } else {
      const int64_t *src = sl_tensor_ptr(rows);
      int64_t *dst = sl_tensor_ptr(res);
      for (int64_t o = 0; o < outer; o++) dst[o] = r->i(src + o * inner, inner);
    }
    sl_dtype want = n->outputs[0].type.dtype;
    if (want == domain) { out[0] = res; res = NULL; }
    else out[0] = sl_tensor_cast(res, want);
    rc = out[0] ? 0 : -1;
  }
  sl_tensor_release(res);
  sl_tensor_release(rows);
  sl_tensor_release(moved);
  return rc;
}

/* -- the table ----------------------------------------------------------------------- */

#define RD_OP(nm, rule, nonempty, float_math, f, i, fused) \
  const sl_op sl_op_##nm = { .name = #nm, .nin = 1, .nout = 1, .infer = rd_infer, .perform = rd_perform, .fuse = SL_FUSE_##fused, \
    .size = SL_SIZE_REDUCE };
SL_REDUCE_OPS(RD_OP)
