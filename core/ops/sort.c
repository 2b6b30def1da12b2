/*
** sort.c — ops along one axis: cumsum, cumprod, argsort, and searchsorted.
**
** Params:
**   cumsum, cumprod  v[0] axis (0-based), v[1] reverse (1: from the end of the axis)
**   argsort          v[0] axis, v[1] descending (0 or 1)
**   searchsorted     v[0] side (0 'left', 1 'right'); inputs (sorted 1-d a, values v)
**
** Each kernel moves the axis last and converts the input to the compute
** domain (double for floats, int64 otherwise) as one C-order block, so each
** row is contiguous. cumsum and cumprod type like sum and prod (integers and
** bool widen to int64) and run in order, as NumPy's do. argsort is a stable
** merge sort returning int64 positions, 1-based like every index value;
** NaN sorts after every number (first when descending), as in NumPy and
** torch.topk. searchsorted returns 1-based insertion points (NumPy's + 1):
** the position in a before which v would go, so 1 .. #a + 1.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"


static int check_axis(const sl_node *n, int nd)
{
  if (n->params.n < 2) return sl_fail("%s: expected an axis and a flag", n->op->name);
  if (n->params.v[0] < 0 || n->params.v[0] >= nd)
    return sl_fail("%s: axis %lld is out of range for a %d-d input", n->op->name,
                   (long long)n->params.v[0] + 1, nd);
  return 0;
}

static sl_dtype domain_of(sl_dtype dt) { return sl_dtype_kind(dt) == 'f' ? SL_FLOAT64 : SL_INT64; }

static int axis_infer(sl_node *n, sl_type *out)
{
  const sl_type *x = &n->inputs[0]->type;
  if (check_axis(n, x->ndim)) return -1;
  *out = *x;
  if (n->op == &sl_op_argsort) out->dtype = SL_INT64;
  else if (sl_dtype_kind(x->dtype) != 'f') out->dtype = SL_INT64;
  return 0;
}

/* x with `axis` moved last, in the compute domain, contiguous; *rows and
** *len say how it splits into rows. */
static sl_tensor *rows_of(sl_tensor *x, int axis, sl_dtype domain, int64_t *rows, int64_t *len)
{
  int nd = x->ndim, perm[SL_MAXDIM], k = 0;
  for (int i = 0; i < nd; i++) if (i != axis) perm[k++] = i;
  perm[k] = axis;
  sl_tensor *moved = sl_tensor_permute(x, perm);
  sl_tensor *r = moved ? sl_tensor_cast(moved, domain) : NULL;
  sl_tensor_release(moved);
  *len = x->shape[axis];
  *rows = *len ? sl_tensor_numel(x) / *len : 0;
  return r;
}

/* A tensor of x's shape and dtype dt holding work (rows along axis), moved back. */
static int unrows(sl_tensor *work, const sl_tensor *x, int axis, sl_dtype dt, sl_tensor **out)
{
  *out = sl_tensor_empty(dt, x->ndim, x->shape);
  if (!*out) return -1;
  int nd = x->ndim, perm[SL_MAXDIM], k = 0;
  for (int i = 0; i < nd; i++) if (i != axis) perm[k++] = i;
  perm[k] = axis;
  sl_tensor *view = sl_tensor_permute(*out, perm);
  int rc = view ? sl_tensor_copy(view, work) : -1;
  sl_tensor_release(view);
  if (rc) { sl_tensor_release(*out); *out = NULL; }
  return rc;
}

/* -- cumsum, cumprod ---------------------------------------------------------------- */

static void scan_f(double *x, int64_t n, int64_t step, int prod)
{
  for (int64_t k = 1; k < n; k++) x[k * step] = prod ? x[k * step] * x[(k - 1) * step] : x[k * step] + x[(k - 1) * step];
}

/* integers wrap around, as NumPy's int64 does */
static void scan_i(int64_t *x, int64_t n, int64_t step, int prod)
{
  for (int64_t k = 1; k < n; k++) {
    uint64_t a = (uint64_t)x[k * step], b = (uint64_t)x[(k - 1) * step];
    x[k * step] = (int64_t)(prod ? a * b : a + b);
  }
}

static int cum_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  if (check_axis(n, in[0]->ndim)) return -1;
  int axis = (int)n->params.v[0], reverse = n->params.v[1] != 0;
  int prod = n->op == &sl_op_cumprod;
  sl_dtype domain = domain_of(in[0]->dtype);
  int64_t rows, len;
  sl_tensor *w = rows_of(in[0], axis, domain, &rows, &len);
  if (!w) return -1;
  /* a reversed scan runs from the last element of each row backwards */
  int64_t start = reverse ? len - 1 : 0, step = reverse ? -1 : 1;
  for (int64_t r = 0; r < rows && len > 0; r++) {
    if (domain == SL_FLOAT64) scan_f((double *)sl_tensor_ptr(w) + r * len + start, len, step, prod);
    else scan_i((int64_t *)sl_tensor_ptr(w) + r * len + start, len, step, prod);
  }
  int rc = unrows(w, in[0], axis, n->outputs[0].type.dtype, out);
  sl_tensor_release(w);
  return rc;
}

/* -- argsort ---------------------------------------------------------------------------- */

/* The order: NaN after every number, equal NaNs equal. */
static int less_f(double a, double b) { return a < b || (b != b && a == a); }

typedef struct { const void *key; int is_float, desc; } order;

/* whether element j goes before element i (strictly): keeps the sort stable */
static int before(const order *o, int64_t j, int64_t i)
{
  if (o->is_float) {
    const double *k = o->key;
    return o->desc ? less_f(k[i], k[j]) : less_f(k[j], k[i]);
  }
  const int64_t *k = o->key;
  return o->desc ? k[j] > k[i] : k[j] < k[i];
}

/* bottom-up merge sort of idx[0..n) by the keys, through tmp */
static void merge_sort(const order *o, int64_t *idx, int64_t *tmp, int64_t n)
{
  for (int64_t w = 1; w < n; w *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * w) {
      int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      int64_t a = lo, b = mid, t = lo;
      while (a < mid && b < hi) tmp[t++] = before(o, idx[b], idx[a]) ? idx[b++] : idx[a++];
      while (a < mid) tmp[t++] = idx[a++];
      while (b < hi) tmp[t++] = idx[b++];
    }
    memcpy(idx, tmp, (size_t)n * sizeof *idx);
  }
}

static int argsort_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  if (check_axis(n, in[0]->ndim)) return -1;
  int axis = (int)n->params.v[0];
  sl_dtype domain = domain_of(in[0]->dtype);
  int64_t rows, len;
  sl_tensor *w = rows_of(in[0], axis, domain, &rows, &len);
  sl_tensor *pos = w ? sl_tensor_empty(SL_INT64, w->ndim, w->shape) : NULL;
  int64_t *tmp = pos ? malloc((size_t)(len ? len : 1) * sizeof *tmp) : NULL;
  int rc = -1;
  if (tmp) {
    size_t es = sl_dtype_size(domain);
    for (int64_t r = 0; r < rows; r++) {
      int64_t *idx = (int64_t *)sl_tensor_ptr(pos) + r * len;
      order o = { (const char *)sl_tensor_ptr(w) + (size_t)(r * len) * es, domain == SL_FLOAT64,
                  n->params.v[1] != 0 };
      for (int64_t k = 0; k < len; k++) idx[k] = k;
      merge_sort(&o, idx, tmp, len);
      for (int64_t k = 0; k < len; k++) idx[k] += 1;
    }
    rc = unrows(pos, in[0], axis, SL_INT64, out);
  } else if (pos) {
    sl_fail("argsort: out of memory");
  }
  free(tmp);
  sl_tensor_release(pos);
  sl_tensor_release(w);
  return rc;
}

/* -- searchsorted ---------------------------------------------------------------------- */

static int ss_infer(sl_node *n, sl_type *out)
{
  const sl_type *a = &n->inputs[0]->type, *v = &n->inputs[1]->type;
  if (a->ndim != 1) return sl_fail("searchsorted: the sorted sequence must be 1-d, got %d-d", a->ndim);
  if (n->params.n < 1 || (n->params.v[0] != 0 && n->params.v[0] != 1))
    return sl_fail("searchsorted: side must be 0 ('left') or 1 ('right')");
  *out = *v;
  out->dtype = SL_INT64;
  return 0;
}

static int ss_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int right = n->params.v[0] != 0;
  int as_float = sl_dtype_kind(in[0]->dtype) == 'f' || sl_dtype_kind(in[1]->dtype) == 'f';
  sl_dtype domain = as_float ? SL_FLOAT64 : SL_INT64;
  sl_tensor *a = sl_tensor_cast(in[0], domain), *v = a ? sl_tensor_cast(in[1], domain) : NULL;
  *out = v ? sl_tensor_empty(SL_INT64, in[1]->ndim, in[1]->shape) : NULL;
  if (*out) {
    int64_t na = a->shape[0], nv = sl_tensor_numel(v), *res = sl_tensor_ptr(*out);
    for (int64_t k = 0; k < nv; k++) {
      int64_t lo = 0, hi = na;   /* the first position whose element is not before v (left) */
      while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int go_right;
        if (as_float) {
          double e = ((double *)sl_tensor_ptr(a))[mid], x = ((double *)sl_tensor_ptr(v))[k];
          go_right = right ? !less_f(x, e) : less_f(e, x);
        } else {
          int64_t e = ((int64_t *)sl_tensor_ptr(a))[mid], x = ((int64_t *)sl_tensor_ptr(v))[k];
          go_right = right ? !(x < e) : e < x;
        }
        if (go_right) lo = mid + 1; else hi = mid;
      }
      res[k] = lo + 1;
    }
  }
  sl_tensor_release(a);
  sl_tensor_release(v);
  return *out ? 0 : -1;
}

/* -- the table --------------------------------------------------------------------------- */

const sl_op sl_op_cumsum = { .name = "cumsum", .nin = 1, .nout = 1, .infer = axis_infer, .perform = cum_perform,
  .size = SL_SIZE_OF_FIRST, .flags = SL_OP_EXACT_GRAD };
const sl_op sl_op_cumprod = { .name = "cumprod", .nin = 1, .nout = 1, .infer = axis_infer, .perform = cum_perform,
  .size = SL_SIZE_OF_FIRST, .flags = SL_OP_EXACT_GRAD };
const sl_op sl_op_argsort = { .name = "argsort", .nin = 1, .nout = 1, .infer = axis_infer, .perform = argsort_perform,
  .size = SL_SIZE_OF_FIRST };
const sl_op sl_op_searchsorted = { .name = "searchsorted", .nin = 2, .nout = 1, .infer = ss_infer,
  .perform = ss_perform, .size = SL_SIZE_OF_LAST };
