/*
** blas.c — matrix products: dot and outer, through OpenBLAS for float
** dtypes and a plain loop for integer and bool dtypes; gemm, gemv and ger,
** the products added to an operand that the specialize pass makes.
**
** dot follows NumPy: vector·vector gives a 0-d result, matrix·vector and
** vector·matrix drop the vector's axis, matrix·matrix is the matrix
** product. With a 3-d operand it follows np.matmul: (b, n, k)·(b, k, m)
** multiplies b pairs, and a batch of 1 or a 2-d operand is broadcast over
** the other's batch. outer(a, b) flattens both, like np.outer.
**
** Both ops reduce to one routine over batches of matrices: every operand is
** viewed as (batch, rows, cols) with strides, a vector being a matrix with
** one row or one column. BLAS reads a matrix that is row-major or
** transposed (unit stride along one axis, a leading dimension along the
** other) where it lies; any other layout is copied to C order first.
**
*/
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <cblas.h>

#include "rows.h"

/* "(3, ?)": a static or concrete shape, unknown sizes as '?' */
static void shape_text(char *buf, size_t n, int nd, const int64_t *shape)
{
  size_t k = (size_t)snprintf(buf, n, "(");
  for (int i = 0; i < nd && k < n; i++) {
    if (shape[i] == SL_UNKNOWN) k += (size_t)snprintf(buf + k, n - k, i ? ", ?" : "?");
    else k += (size_t)snprintf(buf + k, n - k, i ? ", %lld" : "%lld", (long long)shape[i]);
  }
  if (k < n) snprintf(buf + k, n - k, nd == 1 ? ",)" : ")");
}

/* -- shapes -----------------------------------------------------------------
** Shared by type inference (sizes may be SL_UNKNOWN) and the kernel (all
** known), so a mismatch reads the same at build time and at run time.
*/
static int check_rank(const char *op, int which, int nd)
{
  if (nd == 0)
    return sl_fail("%s: operand %d is 0-d (a scalar); multiply by it with * instead", op, which);
  if (nd > 3)
    return sl_fail("%s: operand %d has %d dimensions; %s takes 1 to 3", op, which, nd, op);
  return 0;
}

static int dot_shape(const char *op, int na, const int64_t *a, int nb, const int64_t *b,
                     int *nout, int64_t *out)
{
  char sa[160], sb[160];
  if (check_rank(op, 1, na) || check_rank(op, 2, nb)) return -1;
  int kb = nb == 1 ? 0 : nb - 2;   /* b's contracted axis */
  int64_t ka = a[na - 1], kk = b[kb];
  if (ka != SL_UNKNOWN && kk != SL_UNKNOWN && ka != kk) {
    shape_text(sa, sizeof sa, na, a);
    shape_text(sb, sizeof sb, nb, b);
    return sl_fail("%s: shapes %s and %s are not aligned: %lld (dim %d) != %lld (dim %d)",
                   op, sa, sb, (long long)ka, na, (long long)kk, kb + 1);
  }
  int n = 0;
  if (na == 3 || nb == 3) {
    int64_t ba = na == 3 ? a[0] : 1, bb = nb == 3 ? b[0] : 1, batch;
    if (ba == 1) batch = bb;
    else if (bb == 1) batch = ba;
    else if (ba == SL_UNKNOWN) batch = bb;
    else if (bb == SL_UNKNOWN || ba == bb) batch = ba;
    else {
      shape_text(sa, sizeof sa, na, a);
      shape_text(sb, sizeof sb, nb, b);
      return sl_fail("%s: batch sizes of shapes %s and %s differ: %lld != %lld (dim 1)",
                     op, sa, sb, (long long)ba, (long long)bb);
    }
    out[n++] = batch;
  }
  if (na >= 2) out[n++] = a[na - 2];
  if (nb >= 2) out[n++] = b[nb - 1];
  *nout = n;
  return 0;
}

static int64_t numel_static(int nd, const int64_t *shape)
{
  int64_t n = 1;
  for (int i = 0; i < nd; i++) {
    if (shape[i] == SL_UNKNOWN) return SL_UNKNOWN;
    n *= shape[i];
  }
  return n;
}

static int dot_infer(sl_node *n, sl_type *out)
{
  const sl_type *a = &n->inputs[0]->type, *b = &n->inputs[1]->type;
  out->dtype = sl_dtype_promote(a->dtype, b->dtype);
  return dot_shape(sl_op_dot.name, a->ndim, a->shape, b->ndim, b->shape, &out->ndim, out->shape);
}

static int outer_infer(sl_node *n, sl_type *out)
{
  const sl_type *a = &n->inputs[0]->type, *b = &n->inputs[1]->type;
  out->dtype = sl_dtype_promote(a->dtype, b->dtype);
  out->ndim = 2;
  out->shape[0] = numel_static(a->ndim, a->shape);
  out->shape[1] = numel_static(b->ndim, b->shape);
  return 0;
}

/* -- batched matrix product ------------------------------------------------------ */

/* A (batch, rows, cols) view of t's storage. */
static sl_tensor *view3(sl_tensor *t, int64_t batch, int64_t rows, int64_t cols,
                        int64_t sb, int64_t sr, int64_t sc)
{
  int64_t shape[3] = { batch, rows, cols }, strides[3] = { sb, sr, sc };
  return sl_tensor_over(t->storage, t->dtype, t->offset, 3, shape, strides);
}

/* How BLAS can read matrix (rows, cols) of a 3-d view: row-major (NoTrans)
** or column-major (Trans) with leading dimension *ld; 0 when it cannot.
** Strides of axes of size 1 never matter, so they are not looked at. */
static int blas_layout(const sl_tensor *t, CBLAS_TRANSPOSE *tr, int64_t *ld)
{
  int64_t r = t->shape[1], c = t->shape[2], sr = t->strides[1], sc = t->strides[2];
  if ((c <= 1 || sc == 1) && (r <= 1 || (sr >= c && sr <= INT_MAX))) {
    *tr = CblasNoTrans;
    *ld = r > 1 ? sr : (c > 1 ? c : 1);
    return 1;
  }
  if ((r <= 1 || sr == 1) && (c <= 1 || (sc >= r && sc <= INT_MAX))) {
    *tr = CblasTrans;
    *ld = c > 1 ? sc : (r > 1 ? r : 1);
    return 1;
  }
  return 0;
}

/* Stride of a 3-d view along axis ax, as BLAS takes it for a vector. */
static int vec_inc(const sl_tensor *t, int ax) { return t->shape[ax] > 1 ? (int)t->strides[ax] : 1; }

/* c = alpha a·b + beta c; c is C order. With beta 0, c is not read. */
static void gemm_blas(sl_tensor *a, sl_tensor *b, sl_tensor *c, int64_t batch, double alpha, double beta)
{
  float fa = (float)alpha, fb = (float)beta;
  int f32 = c->dtype == SL_FLOAT32;
  size_t es = sl_dtype_size(c->dtype);
  int n = (int)a->shape[1], k = (int)a->shape[2], m = (int)b->shape[2];
  CBLAS_TRANSPOSE ta, tb;
  int64_t lda, ldb;
  blas_layout(a, &ta, &lda);
  blas_layout(b, &tb, &ldb);
  for (int64_t i = 0; i < batch; i++) {
    const char *pa = (const char *)sl_tensor_ptr(a) + (size_t)(i * a->strides[0]) * es;
    const char *pb = (const char *)sl_tensor_ptr(b) + (size_t)(i * b->strides[0]) * es;
    char *pc = (char *)sl_tensor_ptr(c) + (size_t)(i * c->strides[0]) * es;
    if (n == 1 && m == 1) {            /* row · column */
      int ia = vec_inc(a, 2), ib = vec_inc(b, 1);
      if (f32) {
        float d = fa * cblas_sdot(k, (const float *)pa, ia, (const float *)pb, ib);
        *(float *)pc = beta == 0 ? d : d + fb * *(float *)pc;
      } else {
        double d = alpha * cblas_ddot(k, (const double *)pa, ia, (const double *)pb, ib);
        *(double *)pc = beta == 0 ? d : d + beta * *(double *)pc;
      }
    } else if (m == 1) {               /* matrix · column: y = A x */
      int ib = vec_inc(b, 1);
      if (f32) cblas_sgemv(CblasRowMajor, ta, ta == CblasNoTrans ? n : k, ta == CblasNoTrans ? k : n,
                           fa, (const float *)pa, (int)lda, (const float *)pb, ib, fb, (float *)pc, 1);
      else cblas_dgemv(CblasRowMajor, ta, ta == CblasNoTrans ? n : k, ta == CblasNoTrans ? k : n,
                       alpha, (const double *)pa, (int)lda, (const double *)pb, ib, beta, (double *)pc, 1);
    } else if (n == 1) {               /* row · matrix: y = B^T x */
      int ia = vec_inc(a, 2);
      CBLAS_TRANSPOSE t = tb == CblasNoTrans ? CblasTrans : CblasNoTrans;
      int rows = tb == CblasNoTrans ? k : m, cols = tb == CblasNoTrans ? m : k;
      if (f32) cblas_sgemv(CblasRowMajor, t, rows, cols, fa, (const float *)pb, (int)ldb,
                           (const float *)pa, ia, fb, (float *)pc, 1);
      else cblas_dgemv(CblasRowMajor, t, rows, cols, alpha, (const double *)pb, (int)ldb,
                       (const double *)pa, ia, beta, (double *)pc, 1);
    } else if (k == 1 && beta == 1) {  /* column · row added to c: a rank-1 update */
      int ia = vec_inc(a, 1), ib = vec_inc(b, 2);
      if (f32) cblas_sger(CblasRowMajor, n, m, fa, (const float *)pa, ia, (const float *)pb, ib, (float *)pc, m);
      else cblas_dger(CblasRowMajor, n, m, alpha, (const double *)pa, ia, (const double *)pb, ib, (double *)pc, m);
    } else if (f32) {
      cblas_sgemm(CblasRowMajor, ta, tb, n, m, k, fa, (const float *)pa, (int)lda,
                  (const float *)pb, (int)ldb, fb, (float *)pc, m);
    } else {
      cblas_dgemm(CblasRowMajor, ta, tb, n, m, k, alpha, (const double *)pa, (int)lda,
                  (const double *)pb, (int)ldb, beta, (double *)pc, m);
    }
  }
}

/* The loop for integer and bool dtypes: c = a·b in int64 over any strides,
** wrapping on overflow as NumPy's integer products do. c is contiguous. */
static void gemm_loop(const sl_tensor *a, const sl_tensor *b, sl_tensor *c, int64_t batch)
{
  int64_t n = a->shape[1], k = a->shape[2], m = b->shape[2];
  const int64_t *sa = a->strides, *sb = b->strides;
  const int64_t *pa = sl_tensor_ptr(a), *pb = sl_tensor_ptr(b);
  for (int64_t i = 0; i < batch; i++) {
    for (int64_t r = 0; r < n; r++) {
      uint64_t *pc = (uint64_t *)sl_tensor_ptr(c) + (i * n + r) * m;
      for (int64_t j = 0; j < m; j++) pc[j] = 0;
      for (int64_t p = 0; p < k; p++) {
        uint64_t x = (uint64_t)pa[i * sa[0] + r * sa[1] + p * sa[2]];
        const int64_t *row = pb + i * sb[0] + p * sb[1];
        for (int64_t j = 0; j < m; j++) pc[j] += x * (uint64_t)row[j * sb[2]];
      }
    }
  }
}

/* t *= s, for a C-order float tensor (the result of a product). */
static int scale(sl_tensor *t, double s)
{
  int64_t n = sl_tensor_numel(t);
  if (t->dtype == SL_FLOAT32) {
    float *p = sl_tensor_ptr(t), f = (float)s;
    for (int64_t i = 0; i < n; i++) p[i] *= f;
  } else {
    double *p = sl_tensor_ptr(t);
    for (int64_t i = 0; i < n; i++) p[i] *= s;
  }
  return 0;
}

/* out3 = alpha a3 · b3 + beta out3, where a3 is (batch or 1, n, k), b3
** (batch or 1, k, m) and out3 a C-order (batch, n, m) view of the result.
** Integer dtypes take alpha 1 and beta 0 only. Consumes a3 and b3. */
static int matmul3(const char *op, sl_tensor *a3, sl_tensor *b3, sl_tensor *out3,
                   double alpha, double beta)
{
  sl_dtype dt = out3->dtype;
  int blas = sl_dtype_kind(dt) == 'f';
  sl_dtype ct = blas ? dt : SL_INT64;
  int64_t batch = out3->shape[0], n = out3->shape[1], m = out3->shape[2], k = a3->shape[2];
  sl_tensor *ops[2] = { a3, b3 }, *tmp = NULL;
  int rc = 0;
  if (batch == 0 || n == 0 || m == 0) goto done;
  if (k == 0) { rc = beta == 0 ? sl_tensor_fill(out3, 0) : scale(out3, beta); goto done; }
  if (blas && (n > INT_MAX || m > INT_MAX || k > INT_MAX)) {
    rc = sl_fail("%s: a matrix of %lld x %lld by %lld is too large for BLAS", op,
                 (long long)n, (long long)k, (long long)m);
    goto done;
  }
  for (int i = 0; i < 2; i++) {
    CBLAS_TRANSPOSE tr;
    int64_t ld;
    sl_tensor *t = ops[i];
    /* a broadcast batch reads the same matrix each time */
    if (t->shape[0] == 1) t->strides[0] = 0;
    if (t->dtype == ct && (!blas || blas_layout(t, &tr, &ld))) continue;
    sl_tensor *c = sl_tensor_cast(t, ct);   /* C order, the compute dtype */
    if (!c) { rc = -1; goto done; }
    if (c->shape[0] == 1) c->strides[0] = 0;
    sl_tensor_release(t);
    ops[i] = c;
  }
  if (blas) gemm_blas(ops[0], ops[1], out3, batch, alpha, beta);
  else if (dt == SL_INT64) gemm_loop(ops[0], ops[1], out3, batch);
  else {
    tmp = sl_tensor_empty(ct, 3, out3->shape);
    if (!tmp) { rc = -1; goto done; }
    gemm_loop(ops[0], ops[1], tmp, batch);
    rc = sl_tensor_copy(out3, tmp);   /* to the result dtype; to bool tests != 0 */
  }
done:
  sl_tensor_release(ops[0]);
  sl_tensor_release(ops[1]);
  sl_tensor_release(tmp);
  return rc;
}

/* -- perform -------------------------------------------------------------------- */

/* An operand of rank nd as (batch, rows, cols); a vector becomes one row
** (as_row) or one column. */
static sl_tensor *as3(sl_tensor *t, int as_row)
{
  const int64_t *s = t->shape, *st = t->strides;
  switch (t->ndim) {
  case 1: return as_row ? view3(t, 1, 1, s[0], 0, 0, st[0]) : view3(t, 1, s[0], 1, 0, st[0], 0);
  case 2: return view3(t, 1, s[0], s[1], 0, st[0], st[1]);
  default: return view3(t, s[0], s[1], s[2], st[0], st[1], st[2]);
  }
}

static int run_product(const sl_node *n, sl_tensor *a3, sl_tensor *b3, int nd, const int64_t *shape,
                       sl_tensor **out)
{
  if (!a3 || !b3) { sl_tensor_release(a3); sl_tensor_release(b3); return -1; }
  int64_t batch = a3->shape[0] > b3->shape[0] ? a3->shape[0] : b3->shape[0];
  out[0] = sl_tensor_empty(n->outputs[0].type.dtype, nd, shape);
  if (!out[0]) { sl_tensor_release(a3); sl_tensor_release(b3); return -1; }
  int64_t rows = a3->shape[1], cols = b3->shape[2];
  sl_tensor *o3 = view3(out[0], batch, rows, cols, rows * cols, cols, 1);
  if (!o3) { sl_tensor_release(a3); sl_tensor_release(b3); return -1; }
  int rc = matmul3(n->op->name, a3, b3, o3, 1, 0);
  sl_tensor_release(o3);
  return rc;
}

static int dot_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int nd;
  int64_t shape[SL_MAXDIM];
  if (dot_shape(sl_op_dot.name, in[0]->ndim, in[0]->shape, in[1]->ndim, in[1]->shape, &nd, shape)) return -1;
  return run_product(n, as3(in[0], 1), as3(in[1], 0), nd, shape, out);
}

static int outer_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  /* flattened: a as one column, b as one row */
  sl_tensor *a = sl_tensor_contiguous(in[0]), *b = a ? sl_tensor_contiguous(in[1]) : NULL;
  int64_t shape[2] = { a ? sl_tensor_numel(a) : 0, b ? sl_tensor_numel(b) : 0 };
  sl_tensor *a3 = a && b ? view3(a, 1, shape[0], 1, 0, 1, 0) : NULL;
  sl_tensor *b3 = a && b ? view3(b, 1, 1, shape[1], 0, 0, 1) : NULL;
  sl_tensor_release(a);
  sl_tensor_release(b);
  return run_product(n, a3, b3, 2, shape, out);
}

/* -- products added to an operand: gemm, gemv, ger ---------------------------------
** gemm(C, alpha, A, B, beta) = alpha A·B + beta C      A, B matrices
** gemv(y, alpha, A, x, beta) = alpha A·x + beta y      A a matrix, x a vector
** ger(A, alpha, x, y)        = A + alpha outer(x, y)   x, y vectors
** The specialize pass builds them from a dot or an outer and an add. alpha
** and beta are 0-d inputs, so a symbolic learning rate stays symbolic.
** Operand 0 broadcasts against the product as it did in the add; float
** dtypes only, the product's dtype being the result's. When the inplace
** pass marked operand 0 destroyed and the run hands its tensor over in
** out[0], BLAS accumulates into it.
*/

/* The result type: the product's dtype, operand 0 broadcast with the
** product's shape. Operands 3 and 4 make the product; their ranks are ra, rb. */
static int acc_infer(sl_node *n, int ra, int rb, sl_type *out)
{
  const char *op = n->op->name;
  const sl_var *c = n->inputs[0], *a = n->inputs[2], *b = n->inputs[3];
  char ta[128];
  if (a->type.ndim != ra || b->type.ndim != rb)
    return sl_fail("%s: operands 3 and 4 must be %d-d and %d-d, not %d-d and %d-d", op, ra, rb,
                   a->type.ndim, b->type.ndim);
  for (int i = 1; i < n->nin; i += 3)
    if (n->inputs[i]->type.ndim != 0)
      return sl_fail("%s: operand %d (a scale) must be 0-d, not %d-d", op, i + 1, n->inputs[i]->type.ndim);
  sl_type prod = { .dtype = sl_dtype_promote(a->type.dtype, b->type.dtype) };
  if (sl_dtype_kind(prod.dtype) != 'f')
    return sl_fail("%s: takes float32 or float64 operands, not %s", op, sl_dtype_name(prod.dtype));
  if (!c->weak && sl_dtype_promote(prod.dtype, c->type.dtype) != prod.dtype)
    return sl_fail("%s: operand 1 is %s, wider than the %s product", op,
                   sl_dtype_name(c->type.dtype), sl_dtype_name(prod.dtype));
  if (rb == 2 || ra == 2) {
    if (dot_shape(op, ra, a->type.shape, rb, b->type.shape, &prod.ndim, prod.shape)) return -1;
  } else {
    prod.ndim = 2;
    prod.shape[0] = a->type.shape[0];
    prod.shape[1] = b->type.shape[0];
  }
  if (c->type.ndim > prod.ndim) {
    sl_type_text(&c->type, ta, sizeof ta);
    return sl_fail("%s: operand 1 (%s) has more axes than the product", op, ta);
  }
  const sl_type *both[2] = { &c->type, &prod };
  if (sl_type_broadcast(2, both, out)) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", sl_errmsg());
    return sl_fail("%s: %s", op, msg);
  }
  out->dtype = prod.dtype;
  return 0;
}

static int gemm_infer(sl_node *n, sl_type *out) { return acc_infer(n, 2, 2, out); }
static int gemv_infer(sl_node *n, sl_type *out) { return acc_infer(n, 2, 1, out); }
static int ger_infer(sl_node *n, sl_type *out) { return acc_infer(n, 1, 1, out); }

static double scalar_of(const sl_tensor *t)
{
  int64_t idx[SL_MAXDIM] = { 0 };
  return sl_tensor_get(t, idx);
}

/* out = p + beta c over broadcast views, computed in double. */
typedef struct { double beta; sl_castfn load_p, load_c, store; size_t esize[3]; } axpy_ctx;

static void axpy_run(char **p, const int64_t *stride, int64_t n, void *vctx)
{
  axpy_ctx *c = vctx;
  double x[256], y[256];
  for (int64_t done = 0; done < n; done += 256) {
    int64_t m = n - done < 256 ? n - done : 256;
    c->load_p(x, 1, p[1] + done * stride[1] * (int64_t)c->esize[1], stride[1], m);
    c->load_c(y, 1, p[2] + done * stride[2] * (int64_t)c->esize[2], stride[2], m);
    for (int64_t j = 0; j < m; j++) x[j] += c->beta * y[j];
    c->store(p[0] + done * stride[0] * (int64_t)c->esize[0], stride[0], x, 1, m);
  }
}

/* out[0] = alpha a3·b3 + beta c, the product of shape (pnd, pshape).
** Consumes a3 and b3, and the tensor in out[0] (the destroyed operand 0
** handed over by the run, or NULL). */
static int product_add(const sl_node *n, sl_tensor *c, sl_tensor *a3, sl_tensor *b3, int pnd,
                       const int64_t *pshape, double alpha, double beta, sl_tensor **out)
{
  const char *op = n->op->name;
  sl_dtype dt = n->outputs[0].type.dtype;
  sl_tensor *dest = out[0], *tmp = NULL, *views[2] = { NULL, NULL };
  int nd, rc = -1;
  int64_t shape[SL_MAXDIM];
  out[0] = NULL;
  if (!a3 || !b3) goto done;
  if (sl_broadcast_shapes(c->ndim, c->shape, pnd, pshape, &nd, shape)) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", sl_errmsg());
    sl_fail("%s: %s", op, msg);
    goto done;
  }
  int same = nd == pnd && memcmp(shape, pshape, (size_t)nd * sizeof *shape) == 0;
  int64_t rows = a3->shape[1], cols = b3->shape[2];
  if (dest && !(same && dest == c && dest->dtype == dt && sl_tensor_is_contiguous(dest))) {
    sl_tensor_release(dest);
    dest = NULL;
  }
  if (same) {
    /* the product has the result's shape: BLAS accumulates into c's values */
    if (!dest && (!(dest = sl_tensor_empty(dt, pnd, pshape)) || (beta != 0 && sl_tensor_copy(dest, c))))
      goto done;
    sl_tensor *o3 = view3(dest, 1, rows, cols, rows * cols, cols, 1);
    if (!o3) goto done;
    rc = matmul3(op, a3, b3, o3, alpha, beta);
    a3 = b3 = NULL;
    sl_tensor_release(o3);
  } else {
    /* the product broadcasts against c: compute it, then add c */
    sl_tensor *o3 = NULL;
    if (!(tmp = sl_tensor_empty(dt, pnd, pshape)) || !(o3 = view3(tmp, 1, rows, cols, rows * cols, cols, 1)))
      goto done;
    rc = matmul3(op, a3, b3, o3, alpha, 0);
    a3 = b3 = NULL;
    sl_tensor_release(o3);
    if (rc || !(dest = sl_tensor_empty(dt, nd, shape)) || !(views[0] = sl_tensor_expand(tmp, nd, shape)) ||
        !(views[1] = sl_tensor_expand(c, nd, shape))) { rc = -1; goto done; }
    axpy_ctx ctx = { .beta = beta, .load_p = sl_cast_fn(SL_FLOAT64, dt),
                     .load_c = sl_cast_fn(SL_FLOAT64, c->dtype), .store = sl_cast_fn(dt, SL_FLOAT64),
                     .esize = { sl_dtype_size(dt), sl_dtype_size(dt), sl_dtype_size(c->dtype) } };
    char *base[3] = { sl_tensor_ptr(dest), sl_tensor_ptr(views[0]), sl_tensor_ptr(views[1]) };
    const int64_t *strides[3] = { dest->strides, views[0]->strides, views[1]->strides };
    sl_foreach(3, nd, shape, base, strides, ctx.esize, axpy_run, &ctx);
  }
done:
  sl_tensor_release(a3);
  sl_tensor_release(b3);
  sl_tensor_release(tmp);
  sl_tensor_release(views[0]);
  sl_tensor_release(views[1]);
  if (rc) sl_tensor_release(dest);
  else out[0] = dest;
  return rc;
}

static int gemm_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int nd;
  int64_t shape[SL_MAXDIM];
  if (dot_shape(sl_op_gemm.name, 2, in[2]->shape, 2, in[3]->shape, &nd, shape)) {
    sl_tensor_release(out[0]);
    out[0] = NULL;
    return -1;
  }
  return product_add(n, in[0], as3(in[2], 1), as3(in[3], 0), nd, shape, scalar_of(in[1]),
                     scalar_of(in[4]), out);
}

static int gemv_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int nd;
  int64_t shape[SL_MAXDIM];
  if (dot_shape(sl_op_gemv.name, 2, in[2]->shape, 1, in[3]->shape, &nd, shape)) {
    sl_tensor_release(out[0]);
    out[0] = NULL;
    return -1;
  }
  return product_add(n, in[0], as3(in[2], 1), as3(in[3], 0), nd, shape, scalar_of(in[1]),
                     scalar_of(in[4]), out);
}

static int ger_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int64_t shape[2] = { in[2]->shape[0], in[3]->shape[0] };
  return product_add(n, in[0], as3(in[2], 0), as3(in[3], 1), 2, shape, scalar_of(in[1]), 1, out);
}

/* -- the table ------------------------------------------------------------------- */

const sl_op sl_op_dot = { .name = "dot",   .nin = 2, .nout = 1, .infer = dot_infer,   .perform = dot_perform, .size = SL_SIZE_DOT };
const sl_op sl_op_outer = { .name = "outer", .nin = 2, .nout = 1, .infer = outer_infer, .perform = outer_perform, .size = SL_SIZE_OUTER };
const sl_op sl_op_gemm = { .name = "gemm",  .nin = 5, .nout = 1, .infer = gemm_infer,  .perform = gemm_perform };
const sl_op sl_op_gemv = { .name = "gemv",  .nin = 5, .nout = 1, .infer = gemv_infer,  .perform = gemv_perform };
const sl_op sl_op_ger = { .name = "ger",   .nin = 4, .nout = 1, .infer = ger_infer,   .perform = ger_perform };
