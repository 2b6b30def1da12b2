/*
** lapack.c — dense linear algebra through the LAPACK that OpenBLAS ships:
** cholesky, solve, solve_triangular, inv, slogdet, qr, svd, svdvals, eigh,
** eigvalsh, eig and lstsq. The composite ops (det, cho_solve, pinv, norm,
** matrix_power) are built from these in lua/symlua/linalg.lua.
**
** Every op but lstsq works on stacks of matrices: the last two axes are
** the matrix, the leading ones a batch (broadcast between the two operands
** of solve and solve_triangular), like numpy.linalg. Values are computed in
** float64, float32 ones being rounded back on return: one LAPACK precision
** keeps one code path, at float32's cost of a cast. Complex matrices
** (complex64, complex128) go through LAPACK's z routines in complex128 the
** same way; their real results (singular values, Hermitian eigenvalues,
** log|det|, residuals) are real.
**
** LAPACK is column-major and symlua row-major. A C-order buffer read as a
** Fortran matrix is the transpose, which the ops use instead of copying
** where it costs nothing: cholesky, eigh and slogdet of a symmetric or
** transposed matrix, inv(A^T) = inv(A)^T, and the SVD of A^T = V S U^T gives
** U and V^T in row-major order directly. The rest transpose into a work
** buffer. A Hermitian matrix read column-major is its conjugate: its
** Cholesky factor U (conj(A) = U^H U) read row-major is A's L (A = L L^H),
** and its eigenvectors come back conjugated.
**
** Failures are errors naming the op, the matrix of the batch and LAPACK's
** reason (a singular or non-positive-definite matrix, no convergence);
** inputs holding NaN or infinity are refused before LAPACK sees them, so no
** op returns a silent NaN. slogdet of a singular matrix is (0, -inf), as
** NumPy's is.
**
** Params: solve_triangular v[0] lower, v[1] 1 transposed (2 conjugate
** transposed), v[2] unit diagonal;
** qr v[0] 1 for the complete Q; svd v[0] 1 for full U and V; eigh and
** eigvalsh v[0] 1 to read the upper triangle; lstsq x the rcond (< 0: eps
** times the larger size, NumPy's default).
*/
#include <complex.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "rows.h"

/* -- the LAPACK routines used (Fortran interface: every argument by address,
** a hidden length after the arguments for each character argument) ------------- */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t);
void dgetrf_(const int *m, const int *n, double *a, const int *lda, int *ipiv, int *info);
void dgetrs_(const char *tr, const int *n, const int *nrhs, const double *a, const int *lda,
             const int *ipiv, double *b, const int *ldb, int *info, size_t);
void dgetri_(const int *n, double *a, const int *lda, const int *ipiv, double *work,
             const int *lwork, int *info);
void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work,
             const int *lwork, int *info);
void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda,
             const double *tau, double *work, const int *lwork, int *info);
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,
             double *u, const int *ldu, double *vt, const int *ldvt, double *work,
             const int *lwork, int *iwork, int *info, size_t);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork,
             int *info, size_t, size_t);
void dgeev_(const char *jobvl, const char *jobvr, const int *n, double *a, const int *lda,
            double *wr, double *wi, double *vl, const int *ldvl, double *vr, const int *ldvr,
            double *work, const int *lwork, int *info, size_t, size_t);
void dgelsd_(const int *m, const int *n, const int *nrhs, double *a, const int *lda, double *b,
             const int *ldb, double *s, const double *rcond, int *rank, double *work,
             const int *lwork, int *iwork, int *info);

/* and their complex*16 twins (a complex array is zdouble, a real one double) */
typedef double _Complex zdouble;
void zpotrf_(const char *uplo, const int *n, zdouble *a, const int *lda, int *info, size_t);
void zgetrf_(const int *m, const int *n, zdouble *a, const int *lda, int *ipiv, int *info);
void zgetrs_(const char *tr, const int *n, const int *nrhs, const zdouble *a, const int *lda,
             const int *ipiv, zdouble *b, const int *ldb, int *info, size_t);
void zgetri_(const int *n, zdouble *a, const int *lda, const int *ipiv, zdouble *work,
             const int *lwork, int *info);
void zgeqrf_(const int *m, const int *n, zdouble *a, const int *lda, zdouble *tau, zdouble *work,
             const int *lwork, int *info);
void zungqr_(const int *m, const int *n, const int *k, zdouble *a, const int *lda,
             const zdouble *tau, zdouble *work, const int *lwork, int *info);
void zgesdd_(const char *jobz, const int *m, const int *n, zdouble *a, const int *lda, double *s,
             zdouble *u, const int *ldu, zdouble *vt, const int *ldvt, zdouble *work,
             const int *lwork, double *rwork, int *iwork, int *info, size_t);
void zheevd_(const char *jobz, const char *uplo, const int *n, zdouble *a, const int *lda,
             double *w, zdouble *work, const int *lwork, double *rwork, const int *lrwork,
             int *iwork, const int *liwork, int *info, size_t, size_t);
void zgeev_(const char *jobvl, const char *jobvr, const int *n, zdouble *a, const int *lda,
            zdouble *w, zdouble *vl, const int *ldvl, zdouble *vr, const int *ldvr,
            zdouble *work, const int *lwork, double *rwork, int *info, size_t, size_t);
void zgelsd_(const int *m, const int *n, const int *nrhs, zdouble *a, const int *lda, zdouble *b,
             const int *ldb, double *s, const double *rcond, int *rank, zdouble *work,
             const int *lwork, double *rwork, int *iwork, int *info);

/* -- types ----------------------------------------------------------------------- */

/* Input k of n must be a float or complex stack of matrices (rank >= 2;
** exactly 2 when flat), square when asked. */
static int check_matrix(const sl_node *n, int k, int square, int flat)
{
  const char *op = n->op->name;
  const sl_type *t = &n->inputs[k]->type;
  char kind = sl_dtype_kind(t->dtype);
  if (kind != 'f' && kind != 'c')
    return sl_fail("%s: expected a float or complex matrix, got %s", op, sl_dtype_name(t->dtype));
  if (t->ndim < 2 || (flat && t->ndim != 2))
    return sl_fail("%s: expected a matrix (%s dimensions), got %d-d", op, flat ? "2" : "at least 2",
                   t->ndim);
  int64_t r = t->shape[t->ndim - 2], c = t->shape[t->ndim - 1];
  if (square && r != SL_UNKNOWN && c != SL_UNKNOWN && r != c)
    return sl_fail("%s: expected square matrices, got %lld x %lld", op, (long long)r, (long long)c);
  return 0;
}

/* the dtype of a complex dtype's parts (of |z|); a real dtype is its own */
static sl_dtype real_of(sl_dtype dt)
{
  return dt == SL_COMPLEX64 ? SL_FLOAT32 : dt == SL_COMPLEX128 ? SL_FLOAT64 : dt;
}

static int64_t min_size(int64_t a, int64_t b)
{
  if (a == SL_UNKNOWN || b == SL_UNKNOWN) return a == 0 || b == 0 ? 0 : SL_UNKNOWN;
  return a < b ? a : b;
}

/* The batch axes of the two operands of solve/solve_triangular, broadcast
** (unknown sizes allowed); out gets them, *nb their count. */
static int batch_broadcast(const sl_node *n, const int64_t *const sh[2], const int nd[2],
                           int *nb, int64_t *out)
{
  int na = nd[0] - 2, nbb = nd[1] - 2;
  *nb = na > nbb ? na : nbb;
  for (int i = *nb - 1, ia = na - 1, ib = nbb - 1; i >= 0; i--, ia--, ib--) {
    int64_t x = ia >= 0 ? sh[0][ia] : 1, y = ib >= 0 ? sh[1][ib] : 1;
    if (x == 1) out[i] = y;
    else if (y == 1 || x == y || y == SL_UNKNOWN) out[i] = x;
    else if (x == SL_UNKNOWN) out[i] = y;
    else
      return sl_fail("%s: batch axes do not broadcast: %lld vs %lld (axis %d of the batch)",
                     n->op->name, (long long)x, (long long)y, i + 1);
  }
  return 0;
}

/* A (..., n, n), B (..., n, k): the result is B's matrix over the broadcast batch. */
static int solve_infer(sl_node *n, sl_type *out)
{
  if (check_matrix(n, 0, 1, 0) || check_matrix(n, 1, 0, 0)) return -1;
  const sl_type *a = &n->inputs[0]->type, *b = &n->inputs[1]->type;
  int64_t ra = a->shape[a->ndim - 1], rb = b->shape[b->ndim - 2];
  if (ra != SL_UNKNOWN && rb != SL_UNKNOWN && ra != rb)
    return sl_fail("%s: a %lld x %lld matrix cannot solve for a right-hand side of %lld rows", n->op->name,
                   (long long)ra, (long long)ra, (long long)rb);
  const int64_t *sh[2] = { a->shape, b->shape };
  int nd[2] = { a->ndim, b->ndim }, nb;
  if (batch_broadcast(n, sh, nd, &nb, out->shape)) return -1;
  out->ndim = nb + 2;
  out->shape[nb] = ra != SL_UNKNOWN ? ra : rb;
  out->shape[nb + 1] = b->shape[b->ndim - 1];
  out->dtype = sl_dtype_promote(a->dtype, b->dtype);
  return 0;
}

/* One output of the input's type (cholesky, inv). */
static int square_infer(sl_node *n, sl_type *out)
{
  if (check_matrix(n, 0, 1, 0)) return -1;
  *out = n->inputs[0]->type;
  return 0;
}

/* The batch's type with the matrix axes replaced by sizes (0, 1 or 2 of them). */
static void batch_type(const sl_type *x, sl_dtype dt, int k, int64_t s0, int64_t s1, sl_type *out)
{
  *out = *x;
  out->dtype = dt;
  out->ndim = x->ndim - 2 + k;
  if (k > 0) out->shape[x->ndim - 2] = s0;
  if (k > 1) out->shape[x->ndim - 1] = s1;
}

static int slogdet_infer(sl_node *n, sl_type *out)
{
  if (check_matrix(n, 0, 1, 0)) return -1;
  const sl_type *x = &n->inputs[0]->type;
  batch_type(x, x->dtype, 0, 0, 0, &out[0]);   /* a complex sign is a unit of the input's dtype */
  batch_type(x, real_of(x->dtype), 0, 0, 0, &out[1]);
  return 0;
}

static int qr_infer(sl_node *n, sl_type *out)
{
  if (check_matrix(n, 0, 0, 0)) return -1;
  const sl_type *x = &n->inputs[0]->type;
  int64_t m = x->shape[x->ndim - 2], c = x->shape[x->ndim - 1], k = min_size(m, c);
  int complete = n->params.v[0] != 0;
  batch_type(x, x->dtype, 2, m, complete ? m : k, &out[0]);
  batch_type(x, x->dtype, 2, complete ? m : k, c, &out[1]);
  return 0;
}

static int svd_infer(sl_node *n, sl_type *out)
{
  if (check_matrix(n, 0, 0, 0)) return -1;
  const sl_type *x = &n->inputs[0]->type;
  int64_t m = x->shape[x->ndim - 2], c = x->shape[x->ndim - 1], k = min_size(m, c);
  int full = n->params.v[0] != 0;
  if (n->op->nout == 1) { batch_type(x, real_of(x->dtype), 1, k, 0, &out[0]); return 0; }
  batch_type(x, x->dtype, 2, m, full ? m : k, &out[0]);
  batch_type(x, real_of(x->dtype), 1, k, 0, &out[1]);
  batch_type(x, x->dtype, 2, full ? c : k, c, &out[2]);
  return 0;
}

static int eigh_infer(sl_node *n, sl_type *out)
{
  if (check_matrix(n, 0, 1, 0)) return -1;
  const sl_type *x = &n->inputs[0]->type;
  int64_t m = x->shape[x->ndim - 1];
  batch_type(x, real_of(x->dtype), 1, m, 0, &out[0]);
  if (n->op->nout == 2) out[1] = *x;
  return 0;
}

static int eig_infer(sl_node *n, sl_type *out)
{
  if (check_matrix(n, 0, 1, 0)) return -1;
  const sl_type *x = &n->inputs[0]->type;
  sl_dtype c = x->dtype == SL_FLOAT32 || x->dtype == SL_COMPLEX64 ? SL_COMPLEX64 : SL_COMPLEX128;
  batch_type(x, c, 1, x->shape[x->ndim - 1], 0, &out[0]);
  out[1] = *x;
  out[1].dtype = c;
  return 0;
}

/* lstsq(A (m, n), B (m, k)): x (n, k), residuals (k or 0,), rank, s (min(m, n),) */
static int lstsq_infer(sl_node *n, sl_type *out)
{
  if (check_matrix(n, 0, 0, 1) || check_matrix(n, 1, 0, 1)) return -1;
  const sl_type *a = &n->inputs[0]->type, *b = &n->inputs[1]->type;
  if (a->shape[0] != SL_UNKNOWN && b->shape[0] != SL_UNKNOWN && a->shape[0] != b->shape[0])
    return sl_fail("lstsq: a matrix of %lld rows and a right-hand side of %lld rows", (long long)a->shape[0],
                   (long long)b->shape[0]);
  sl_dtype dt = sl_dtype_promote(a->dtype, b->dtype);
  out[0] = (sl_type){ .dtype = dt, .ndim = 2, .shape = { a->shape[1], b->shape[1] } };
  out[1] = (sl_type){ .dtype = real_of(dt), .ndim = 1, .shape = { SL_UNKNOWN } };   /* empty unless full rank */
  out[2] = (sl_type){ .dtype = SL_INT64, .ndim = 0 };
  out[3] = (sl_type){ .dtype = real_of(dt), .ndim = 1, .shape = { min_size(a->shape[0], a->shape[1]) } };
  return 0;
}

/* -- helpers for the kernels --------------------------------------------------------- */

/* A float64 (cx: complex128) C-order copy of t (LAPACK overwrites what it is given). */
static sl_tensor *work_copy(const sl_tensor *t, int cx) { return sl_tensor_cast(t, cx ? SL_COMPLEX128 : SL_FLOAT64); }
static int is_complex(const sl_tensor *t) { return sl_dtype_kind(t->dtype) == 'c'; }
/* element i of a work tensor, as the doubles it starts at */
static double *at(const sl_tensor *t, int64_t i) { return (double *)sl_tensor_ptr(t) + (is_complex(t) ? 2 * i : i); }

/* An output of float64 values (batch shape + k sizes), to be finished by finish(). */
static sl_tensor *batch_out(const sl_tensor *x, sl_dtype dt, int k, int64_t s0, int64_t s1)
{
  int64_t shape[SL_MAXDIM];
  memcpy(shape, x->shape, (size_t)(x->ndim - 2) * sizeof *shape);
  shape[x->ndim - 2] = s0;
  shape[x->ndim - 1] = s1;
  return sl_tensor_zeros(dt, x->ndim - 2 + k, shape);
}

/* Round the float64 results to the node's output dtypes (float32 inputs). */
static int finish(const sl_node *n, sl_tensor **out)
{
  for (int k = 0; k < n->nout; k++) {
    sl_dtype dt = n->outputs[k].type.dtype;
    if (!out[k] || out[k]->dtype == dt) continue;
    sl_tensor *c = sl_tensor_cast(out[k], dt);
    sl_tensor_release(out[k]);
    out[k] = c;
    if (!c) return -1;
  }
  return 0;
}

static void release_all(sl_tensor **out, int n)
{
  for (int k = 0; k < n; k++) { sl_tensor_release(out[k]); out[k] = NULL; }
}

static int64_t batch_count(const sl_tensor *x)
{
  int64_t b = 1;
  for (int i = 0; i < x->ndim - 2; i++) b *= x->shape[i];
  return b;
}

/* Sizes LAPACK takes as int. */
static int check_int(const char *op, int64_t v)
{
  if (v > INT_MAX) return sl_fail("%s: a size of %lld is too large for LAPACK (at most %d)", op, (long long)v, INT_MAX);
  return 0;
}

static int check_finite(const char *op, const sl_tensor *w)
{
  const double *p = sl_tensor_ptr(w);
  int parts = is_complex(w) ? 2 : 1;
  for (int64_t i = 0, n = sl_tensor_numel(w) * parts; i < n; i++)
    if (!isfinite(p[i])) return sl_fail("%s: the input holds NaN or infinity (element %lld)", op, (long long)(i / parts) + 1);
  return 0;
}

/* " (matrix 3 of the batch)", or "" for a single matrix */
static const char *which(char *buf, size_t n, int64_t batch, int64_t b)
{
  buf[0] = 0;
  if (batch > 1) snprintf(buf, n, " (matrix %lld of the batch)", (long long)b + 1);
  return buf;
}

/* dst (cols x rows) = src (rows x cols)^T, both dense, of real (cx 0) or
** complex (cx 1) values */
static void transpose(double *dst, const double *src, int64_t rows, int64_t cols, int cx)
{
  if (cx) {
    zdouble *d = (zdouble *)dst;
    const zdouble *s = (const zdouble *)src;
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < cols; j++) d[j * rows + i] = s[i * cols + j];
    return;
  }
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) dst[j * rows + i] = src[i * cols + j];
}

/* LAPACK's optimal workspace from a query's answer, in elements of doubles
** or (cx) complex values */
static double *workspace(double query, int *lwork, int cx)
{
  *lwork = query > 1 ? (int)query : 1;
  return malloc((size_t)*lwork * (cx ? 2 : 1) * sizeof(double));
}

/* n doubles or complex values, for a work buffer (never of size 0) */
static double *work_buffer(int64_t n, int cx) { return malloc((size_t)(n + 1) * (cx ? 2 : 1) * sizeof(double)); }

/* a LAPACK routine's name for the messages: "dgetrf" or "zgetrf" */
static const char *routine(int cx, const char *name, char *buf)
{
  buf[0] = cx ? 'z' : 'd';
  strcpy(buf + 1, name);
  return buf;
}

static int no_memory(const char *op) { return sl_fail("%s: out of memory for LAPACK's workspace", op); }

/* 1 in element i of a real or complex work buffer (identities of empty factors) */
static void set_one(double *p, int64_t i, int cx)
{
  if (cx) ((zdouble *)p)[i] = 1;
  else p[i] = 1;
}

/* -- cholesky: A = L L^T (L L^H). The row-major buffer is A read as column-major
** (conj(A) when A is Hermitian); potrf's upper factor U (A = U^T U, conj(A) =
** U^H U) read back row-major is L. ------------------------------------------------ */
static int cholesky_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  char buf[64], rn[16];
  int cx = is_complex(in[0]);
  sl_tensor *a = work_copy(in[0], cx);
  if (!a) return -1;
  int64_t batch = batch_count(a), nn = a->shape[a->ndim - 1];
  if (check_int(n->op->name, nn) || check_finite(n->op->name, a)) { sl_tensor_release(a); return -1; }
  int ni = (int)nn, lda = ni > 1 ? ni : 1, info = 0;
  for (int64_t b = 0; b < batch && nn > 0; b++) {
    double *p = at(a, b * nn * nn);
    if (cx) zpotrf_("U", &ni, (zdouble *)p, &lda, &info, 1);
    else dpotrf_("U", &ni, p, &lda, &info, 1);
    if (info > 0) {
      sl_tensor_release(a);
      return sl_fail("cholesky: the matrix is not positive definite%s (LAPACK %s: the leading minor of "
                     "order %d is not positive)", which(buf, sizeof buf, batch, b), routine(cx, "potrf", rn), info);
    }
    for (int64_t i = 0; i < nn; i++)
      for (int64_t j = i + 1; j < nn; j++) {
        if (cx) ((zdouble *)p)[i * nn + j] = 0;
        else p[i * nn + j] = 0;
      }
  }
  out[0] = a;
  return finish(n, out);
}

/* -- LU: solve, inv, slogdet. getrf factors the buffer, which is A^T. ---------------- */

static int lu_failed(const char *op, int cx, int64_t batch, int64_t b, int info)
{
  char buf[64], rn[16];
  return sl_fail("%s: the matrix is singular%s (LAPACK %s: pivot %d is exactly zero)", op,
                 which(buf, sizeof buf, batch, b), routine(cx, "getrf", rn), info);
}

static int lu_factor(int cx, int n, double *a, int *ipiv)
{
  int ld = n > 1 ? n : 1, info = 0;
  if (cx) zgetrf_(&n, &n, (zdouble *)a, &ld, ipiv, &info);
  else dgetrf_(&n, &n, a, &ld, ipiv, &info);
  return info;
}

/* Both operands expanded over the broadcast batch, as float64 (cx: complex128)
** C-order copies. */
static int broadcast_pair(const sl_node *n, sl_tensor **in, sl_tensor **a, sl_tensor **bm, int cx)
{
  const int64_t *sh[2] = { in[0]->shape, in[1]->shape };
  int nd[2] = { in[0]->ndim, in[1]->ndim }, nb;
  int64_t shape[SL_MAXDIM];
  *a = *bm = NULL;
  if (batch_broadcast(n, sh, nd, &nb, shape)) return -1;
  sl_tensor *ops[2] = { in[0], in[1] }, **dst[2] = { a, bm };
  for (int k = 0; k < 2; k++) {
    shape[nb] = ops[k]->shape[ops[k]->ndim - 2];
    shape[nb + 1] = ops[k]->shape[ops[k]->ndim - 1];
    sl_tensor *e = sl_tensor_expand(ops[k], nb + 2, shape);
    *dst[k] = e ? work_copy(e, cx) : NULL;
    sl_tensor_release(e);
    if (!*dst[k]) { sl_tensor_release(*a); *a = NULL; return -1; }
  }
  return 0;
}

/* whether the node computes in complex (its first result is complex) */
static int complex_node(const sl_node *n) { return sl_dtype_kind(n->outputs[0].type.dtype) == 'c'; }

static int solve_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int cx = complex_node(n);
  sl_tensor *a, *bm;
  if (broadcast_pair(n, in, &a, &bm, cx)) return -1;
  int64_t batch = batch_count(a), nn = a->shape[a->ndim - 1], k = bm->shape[bm->ndim - 1];
  int rc = -1;
  double *col = NULL;
  int *ipiv = NULL;
  if (nn != bm->shape[bm->ndim - 2]) {
    sl_fail("solve: a %lld x %lld matrix cannot solve for a right-hand side of %lld rows", (long long)nn,
            (long long)nn, (long long)bm->shape[bm->ndim - 2]);
    goto done;
  }
  if (check_int(n->op->name, nn) || check_int(n->op->name, k) || check_finite(n->op->name, a) || check_finite(n->op->name, bm))
    goto done;
  col = work_buffer(nn * k, cx);
  ipiv = malloc((size_t)(nn + 1) * sizeof *ipiv);
  if (!col || !ipiv) { no_memory(n->op->name); goto done; }
  int ni = (int)nn, ki = (int)k, ld = ni > 1 ? ni : 1, info = 0;
  for (int64_t b = 0; b < batch && nn > 0 && k > 0; b++) {
    double *pa = at(a, b * nn * nn), *pb = at(bm, b * nn * k);
    if ((info = lu_factor(cx, ni, pa, ipiv)) > 0) { lu_failed(n->op->name, cx, batch, b, info); goto done; }
    transpose(col, pb, nn, k, cx);
    /* (A^T)^T X = B: "T" transposes without conjugating */
    if (cx) zgetrs_("T", &ni, &ki, (zdouble *)pa, &ld, ipiv, (zdouble *)col, &ld, &info, 1);
    else dgetrs_("T", &ni, &ki, pa, &ld, ipiv, col, &ld, &info, 1);
    transpose(pb, col, k, nn, cx);
  }
  out[0] = bm;
  bm = NULL;
  rc = finish(n, out);
done:
  free(col);
  free(ipiv);
  sl_tensor_release(a);
  sl_tensor_release(bm);
  return rc;
}

static int inv_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int cx = is_complex(in[0]);
  sl_tensor *a = work_copy(in[0], cx);
  if (!a) return -1;
  int64_t batch = batch_count(a), nn = a->shape[a->ndim - 1];
  int rc = -1, lwork = 0;
  int *ipiv = NULL;
  double *work = NULL;
  if (check_int(n->op->name, nn) || check_finite(n->op->name, a)) goto done;
  int ni = (int)nn, ld = ni > 1 ? ni : 1, info = 0, query = -1;
  double q[2] = { 0, 0 };
  if (cx) zgetri_(&ni, NULL, &ld, NULL, (zdouble *)q, &query, &info);
  else dgetri_(&ni, NULL, &ld, NULL, q, &query, &info);
  ipiv = malloc((size_t)(nn + 1) * sizeof *ipiv);
  work = workspace(q[0], &lwork, cx);
  if (!ipiv || !work) { no_memory(n->op->name); goto done; }
  for (int64_t b = 0; b < batch && nn > 0; b++) {
    double *pa = at(a, b * nn * nn);
    if ((info = lu_factor(cx, ni, pa, ipiv)) > 0) { lu_failed(n->op->name, cx, batch, b, info); goto done; }
    /* inv(A^T) = inv(A)^T */
    if (cx) zgetri_(&ni, (zdouble *)pa, &ld, ipiv, (zdouble *)work, &lwork, &info);
    else dgetri_(&ni, pa, &ld, ipiv, work, &lwork, &info);
  }
  out[0] = a;
  a = NULL;
  rc = finish(n, out);
done:
  free(ipiv);
  free(work);
  sl_tensor_release(a);
  return rc;
}

/* det(A^T) = det(A): the product of U's diagonal, its sign flipped per row
** swap; a complex sign is the product of the diagonal's phases u / |u| */
static int slogdet_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int cx = is_complex(in[0]);
  sl_tensor *a = work_copy(in[0], cx);
  if (!a) return -1;
  int64_t batch = batch_count(a), nn = a->shape[a->ndim - 1];
  int *ipiv = NULL;
  if (check_int(n->op->name, nn) || check_finite(n->op->name, a) ||
      !(out[0] = batch_out(a, cx ? SL_COMPLEX128 : SL_FLOAT64, 0, 0, 0)) ||
      !(out[1] = batch_out(a, SL_FLOAT64, 0, 0, 0)) || !(ipiv = malloc((size_t)(nn + 1) * sizeof *ipiv))) {
    if (!ipiv && out[1]) no_memory(n->op->name);
    sl_tensor_release(a);
    release_all(out, 2);
    return -1;
  }
  double *logdet = sl_tensor_ptr(out[1]);
  for (int64_t b = 0; b < batch; b++) {
    double *pa = at(a, b * nn * nn), l = 0;
    zdouble s = 1;
    if (nn > 0 && lu_factor(cx, (int)nn, pa, ipiv) > 0) { s = 0; l = -INFINITY; }
    else
      for (int64_t i = 0; i < nn; i++) {
        if (ipiv[i] != i + 1) s = -s;
        if (cx) {
          zdouble u = ((zdouble *)pa)[i * nn + i];
          double r = cabs(u);
          s *= u / r;
          l += log(r);
        } else {
          double u = pa[i * nn + i];
          if (u < 0) s = -s;
          l += log(fabs(u));
        }
      }
    if (cx) ((zdouble *)sl_tensor_ptr(out[0]))[b] = s;
    else ((double *)sl_tensor_ptr(out[0]))[b] = creal(s);
    logdet[b] = l;
  }
  free(ipiv);
  sl_tensor_release(a);
  return finish(n, out);
}

/* -- triangular solves: BLAS's row-major trsm, no transposes ---------------------- */
static int solve_triangular_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  char buf[64];
  int cx = complex_node(n);
  sl_tensor *a, *bm;
  if (broadcast_pair(n, in, &a, &bm, cx)) return -1;
  int64_t batch = batch_count(a), nn = a->shape[a->ndim - 1], k = bm->shape[bm->ndim - 1];
  int lower = n->params.v[0] != 0, trans = (int)n->params.v[1], unit = n->params.v[2] != 0;
  enum CBLAS_TRANSPOSE op = trans == 2 && cx ? CblasConjTrans : trans ? CblasTrans : CblasNoTrans;
  int rc = -1;
  if (nn != bm->shape[bm->ndim - 2]) {
    sl_fail("solve_triangular: a %lld x %lld matrix cannot solve for a right-hand side of %lld rows",
            (long long)nn, (long long)nn, (long long)bm->shape[bm->ndim - 2]);
    goto done;
  }
  if (check_int(n->op->name, nn) || check_int(n->op->name, k) ||
      check_finite(n->op->name, a) || check_finite(n->op->name, bm))
    goto done;
  for (int64_t b = 0; b < batch && nn > 0 && k > 0; b++) {
    double *pa = at(a, b * nn * nn), *pb = at(bm, b * nn * k);
    for (int64_t i = 0; i < nn && !unit; i++)
      if (cx ? ((zdouble *)pa)[i * nn + i] == 0 : pa[i * nn + i] == 0) {
        sl_fail("solve_triangular: the matrix is singular%s (diagonal entry %lld is zero)",
                which(buf, sizeof buf, batch, b), (long long)i + 1);
        goto done;
      }
    if (cx) {
      const zdouble one = 1;
      cblas_ztrsm(CblasRowMajor, CblasLeft, lower ? CblasLower : CblasUpper, op, unit ? CblasUnit : CblasNonUnit,
                  (int)nn, (int)k, &one, pa, (int)nn, pb, (int)k);
    } else
      cblas_dtrsm(CblasRowMajor, CblasLeft, lower ? CblasLower : CblasUpper, op, unit ? CblasUnit : CblasNonUnit,
                  (int)nn, (int)k, 1.0, pa, (int)nn, pb, (int)k);
  }
  out[0] = bm;
  bm = NULL;
  rc = finish(n, out);
done:
  sl_tensor_release(a);
  sl_tensor_release(bm);
  return rc;
}

/* -- qr: Householder QR of the transposed copy, Q formed by orgqr (ungqr) --------- */
static int qr_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  sl_tensor *x = in[0];
  int cx = is_complex(x);
  sl_dtype dt = cx ? SL_COMPLEX128 : SL_FLOAT64;
  int64_t batch = batch_count(x), m = x->shape[x->ndim - 2], c = x->shape[x->ndim - 1];
  int64_t k = m < c ? m : c, qc = n->params.v[0] ? m : k;
  sl_tensor *a = work_copy(x, cx);
  double *col = NULL, *q = NULL, *tau = NULL, *work = NULL;
  int rc = -1, lwork = 0;
  if (!a || check_int(n->op->name, m) || check_int(n->op->name, c) || check_finite(n->op->name, a)) goto done;
  if (!(out[0] = batch_out(x, dt, 2, m, qc)) || !(out[1] = batch_out(x, dt, 2, qc, c))) goto done;
  int mi = (int)m, ci = (int)c, ki = (int)k, qi = (int)qc, ld = mi > 1 ? mi : 1, info = 0, query = -1;
  double q1[2] = { 0, 0 }, q2[2] = { 0, 0 };
  if (k > 0 && cx) {
    zgeqrf_(&mi, &ci, NULL, &ld, NULL, (zdouble *)q1, &query, &info);
    zungqr_(&mi, &qi, &ki, NULL, &ld, NULL, (zdouble *)q2, &query, &info);
  } else if (k > 0) {
    dgeqrf_(&mi, &ci, NULL, &ld, NULL, q1, &query, &info);
    dorgqr_(&mi, &qi, &ki, NULL, &ld, NULL, q2, &query, &info);
  }
  col = work_buffer(m * c, cx);
  q = work_buffer(m * qc, cx);
  tau = work_buffer(k, cx);
  work = workspace(q1[0] > q2[0] ? q1[0] : q2[0], &lwork, cx);
  if (!col || !q || !tau || !work) { no_memory(n->op->name); goto done; }
  for (int64_t b = 0; b < batch; b++) {
    double *pq = at(out[0], b * m * qc), *pr = at(out[1], b * qc * c);
    if (k == 0) {   /* no reflections: Q is the identity's first columns */
      for (int64_t i = 0; i < m && i < qc; i++) set_one(pq, i * qc + i, cx);
      continue;
    }
    transpose(col, at(a, b * m * c), m, c, cx);
    if (cx) zgeqrf_(&mi, &ci, (zdouble *)col, &ld, (zdouble *)tau, (zdouble *)work, &lwork, &info);
    else dgeqrf_(&mi, &ci, col, &ld, tau, work, &lwork, &info);
    for (int64_t i = 0; i < k; i++)
      for (int64_t j = i; j < c; j++) {
        if (cx) ((zdouble *)pr)[i * c + j] = ((zdouble *)col)[j * m + i];
        else pr[i * c + j] = col[j * m + i];
      }
    memcpy(q, col, (size_t)(m * k) * (cx ? 2 : 1) * sizeof *q);
    if (cx) zungqr_(&mi, &qi, &ki, (zdouble *)q, &ld, (zdouble *)tau, (zdouble *)work, &lwork, &info);
    else dorgqr_(&mi, &qi, &ki, q, &ld, tau, work, &lwork, &info);
    transpose(pq, q, qc, m, cx);
  }
  rc = finish(n, out);
done:
  if (rc) release_all(out, 2);
  sl_tensor_release(a);
  free(col);
  free(q);
  free(tau);
  free(work);
  return rc;
}

/* -- svd: gesdd of A^T (the buffer as it is) = V S U^T (conj(V) S U^T when
** complex): its U read row-major is A's V^T (V^H), its V^T read row-major is
** A's U. svdvals computes S alone. ----------------------------------------------- */
static int svd_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  char buf[64], rn[16];
  sl_tensor *x = in[0];
  int cx = is_complex(x), values = n->op->nout == 1, full = !values && n->params.v[0] != 0;
  int64_t batch = batch_count(x), m = x->shape[x->ndim - 2], c = x->shape[x->ndim - 1], k = m < c ? m : c;
  int64_t uc = full ? m : k, vr = full ? c : k, mx = m > c ? m : c;
  sl_tensor *a = work_copy(x, cx), *u = NULL, *s = NULL, *vh = NULL;
  double *work = NULL, *rwork = NULL;
  int *iwork = NULL;
  int rc = -1, lwork = 0;
  if (!a || check_int(n->op->name, m) || check_int(n->op->name, c) || check_finite(n->op->name, a)) goto done;
  if (!(s = batch_out(x, SL_FLOAT64, 1, k, 0))) goto done;
  sl_dtype dt = cx ? SL_COMPLEX128 : SL_FLOAT64;
  if (!values && (!(u = batch_out(x, dt, 2, m, uc)) || !(vh = batch_out(x, dt, 2, vr, c)))) goto done;
  /* the Fortran view: M = A^T, c x m */
  const char *jobz = values ? "N" : full ? "A" : "S";
  int fm = (int)c, fn = (int)m, lda = fm > 1 ? fm : 1, ldu = lda, ldvt = (int)(full ? m : k), info = 0, query = -1;
  if (ldvt < 1) ldvt = 1;
  double q[2] = { 0, 0 }, dummy[2] = { 0, 0 };
  int64_t lr = values ? 7 * k : 5 * k * k + 5 * k;   /* zgesdd's real workspace */
  if (!values && 2 * mx * k + 2 * k * k + k > lr) lr = 2 * mx * k + 2 * k * k + k;
  iwork = malloc((size_t)(8 * k + 1) * sizeof *iwork);
  rwork = cx ? malloc((size_t)(lr + 1) * sizeof *rwork) : NULL;
  if (!iwork || (cx && !rwork)) { no_memory(n->op->name); goto done; }
  if (k > 0 && cx)
    zgesdd_(jobz, &fm, &fn, NULL, &lda, NULL, NULL, &ldu, NULL, &ldvt, (zdouble *)q, &query, rwork, iwork, &info, 1);
  else if (k > 0)
    dgesdd_(jobz, &fm, &fn, NULL, &lda, NULL, NULL, &ldu, NULL, &ldvt, q, &query, iwork, &info, 1);
  work = workspace(q[0], &lwork, cx);
  if (!work) { no_memory(n->op->name); goto done; }
  for (int64_t b = 0; b < batch; b++) {
    double *pu = values ? dummy : at(u, b * m * uc), *pv = values ? dummy : at(vh, b * vr * c);
    if (k == 0) {   /* empty: full U and V are identities */
      for (int64_t i = 0; !values && i < uc; i++) set_one(pu, i * uc + i, cx);
      for (int64_t i = 0; !values && i < vr; i++) set_one(pv, i * c + i, cx);
      continue;
    }
    if (cx)
      zgesdd_(jobz, &fm, &fn, (zdouble *)at(a, b * m * c), &lda, at(s, b * k), (zdouble *)pv, &ldu, (zdouble *)pu,
              &ldvt, (zdouble *)work, &lwork, rwork, iwork, &info, 1);
    else
      dgesdd_(jobz, &fm, &fn, at(a, b * m * c), &lda, at(s, b * k), pv, &ldu, pu, &ldvt, work, &lwork, iwork, &info, 1);
    if (info > 0) {
      sl_fail("%s: did not converge%s (LAPACK %s: the bidiagonal updates failed)", n->op->name,
              which(buf, sizeof buf, batch, b), routine(cx, "gesdd", rn));
      goto done;
    }
  }
  if (values) { out[0] = s; s = NULL; }
  else { out[0] = u; out[1] = s; out[2] = vh; u = s = vh = NULL; }
  rc = finish(n, out);
done:
  if (rc) release_all(out, n->op->nout);
  sl_tensor_release(a);
  sl_tensor_release(u);
  sl_tensor_release(s);
  sl_tensor_release(vh);
  free(work);
  free(rwork);
  free(iwork);
  return rc;
}

/* -- eigh: syevd (heevd) of the symmetric buffer (its lower triangle row-major
** is the upper one column-major); eigenvectors come back as columns,
** column-major, and conjugated for a Hermitian matrix (the buffer read
** column-major is conj(A)). ------------------------------------------------------- */
static int eigh_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  char buf[64], rn[16];
  const char *op = n->op->name;
  int vectors = n->op->nout == 2, cx = is_complex(in[0]);
  sl_tensor *a = work_copy(in[0], cx), *w = NULL;
  int64_t batch = a ? batch_count(a) : 0, nn = a ? a->shape[a->ndim - 1] : 0;
  double *work = NULL, *rwork = NULL, *col = NULL;
  int *iwork = NULL;
  int rc = -1, lwork = 0, liwork = 0, lrwork = 0;
  if (!a || check_int(op, nn) || check_finite(op, a) || !(w = batch_out(a, SL_FLOAT64, 1, nn, 0))) goto done;
  const char *jobz = vectors ? "V" : "N", *uplo = n->params.v[0] ? "L" : "U";
  int ni = (int)nn, ld = ni > 1 ? ni : 1, info = 0, query = -1, iq = 0;
  double q[2] = { 0, 0 }, rq = 0;
  if (nn > 0 && cx) zheevd_(jobz, uplo, &ni, NULL, &ld, NULL, (zdouble *)q, &query, &rq, &query, &iq, &query, &info, 1, 1);
  else if (nn > 0) dsyevd_(jobz, uplo, &ni, NULL, &ld, NULL, q, &query, &iq, &query, &info, 1, 1);
  work = workspace(q[0], &lwork, cx);
  liwork = iq > 1 ? iq : 1;
  lrwork = rq > 1 ? (int)rq : 1;
  iwork = malloc((size_t)liwork * sizeof *iwork);
  rwork = malloc((size_t)lrwork * sizeof *rwork);
  col = work_buffer(nn * nn, cx);
  if (!work || !iwork || !rwork || !col) { no_memory(op); goto done; }
  for (int64_t b = 0; b < batch && nn > 0; b++) {
    double *pa = at(a, b * nn * nn);
    if (cx)
      zheevd_(jobz, uplo, &ni, (zdouble *)pa, &ld, at(w, b * nn), (zdouble *)work, &lwork, rwork, &lrwork, iwork,
              &liwork, &info, 1, 1);
    else dsyevd_(jobz, uplo, &ni, pa, &ld, at(w, b * nn), work, &lwork, iwork, &liwork, &info, 1, 1);
    if (info > 0) {
      sl_fail("%s: did not converge%s (LAPACK %s: %d off-diagonal elements did not reach zero)", op,
              which(buf, sizeof buf, batch, b), routine(cx, cx ? "heevd" : "syevd", rn), info);
      goto done;
    }
    if (!vectors) continue;
    memcpy(col, pa, (size_t)(nn * nn) * (cx ? 2 : 1) * sizeof *col);
    transpose(pa, col, nn, nn, cx);
    for (int64_t i = 0; cx && i < nn * nn; i++) ((zdouble *)pa)[i] = conj(((zdouble *)pa)[i]);
  }
  if (vectors) { out[0] = w; out[1] = a; a = w = NULL; }
  else { out[0] = w; w = NULL; }
  rc = finish(n, out);
done:
  if (rc) release_all(out, n->op->nout);
  sl_tensor_release(a);
  sl_tensor_release(w);
  free(work);
  free(rwork);
  free(iwork);
  free(col);
  return rc;
}

/* -- eig: geev of the transposed copy. dgeev stores a complex pair j, j+1's
** eigenvector as columns re, im; zgeev gives complex columns. Results are
** always complex. ----------------------------------------------------------------- */
static int eig_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  char buf[64], rn[16];
  sl_tensor *x = in[0];
  int cx = is_complex(x);
  sl_tensor *a = work_copy(x, cx);
  int64_t batch = a ? batch_count(a) : 0, nn = a ? a->shape[a->ndim - 1] : 0;
  double *col = NULL, *vr = NULL, *wr = NULL, *wi = NULL, *work = NULL, dummy[2] = { 0, 0 };
  int rc = -1, lwork = 0;
  if (!a || check_int(n->op->name, nn) || check_finite(n->op->name, a)) goto done;
  if (!(out[0] = batch_out(x, SL_COMPLEX128, 1, nn, 0)) || !(out[1] = batch_out(x, SL_COMPLEX128, 2, nn, nn))) goto done;
  int ni = (int)nn, ld = ni > 1 ? ni : 1, one = 1, info = 0, query = -1;
  double q[2] = { 0, 0 };
  wi = work_buffer(2 * nn, 0);   /* dgeev's imaginary parts, zgeev's real workspace (its query writes it) */
  if (!wi) { no_memory(n->op->name); goto done; }
  if (nn > 0 && cx)
    zgeev_("N", "V", &ni, NULL, &ld, NULL, NULL, &one, NULL, &ld, (zdouble *)q, &query, wi, &info, 1, 1);
  else if (nn > 0) dgeev_("N", "V", &ni, NULL, &ld, NULL, NULL, NULL, &one, NULL, &ld, q, &query, &info, 1, 1);
  work = workspace(q[0], &lwork, cx);
  col = work_buffer(nn * nn, cx);
  vr = work_buffer(nn * nn, cx);
  wr = work_buffer(nn, cx);
  if (!work || !col || !vr || !wr) { no_memory(n->op->name); goto done; }
  for (int64_t b = 0; b < batch && nn > 0; b++) {
    double *pw = at(out[0], b * nn), *pv = at(out[1], b * nn * nn);
    transpose(col, at(a, b * nn * nn), nn, nn, cx);
    if (cx)
      zgeev_("N", "V", &ni, (zdouble *)col, &ld, (zdouble *)wr, (zdouble *)dummy, &one, (zdouble *)vr, &ld,
             (zdouble *)work, &lwork, wi, &info, 1, 1);
    else dgeev_("N", "V", &ni, col, &ld, wr, wi, dummy, &one, vr, &ld, work, &lwork, &info, 1, 1);
    if (info > 0) {
      sl_fail("eig: did not converge%s (LAPACK %s: the QR algorithm failed; %d eigenvalues were found)",
              which(buf, sizeof buf, batch, b), routine(cx, "geev", rn), ni - info);
      goto done;
    }
    if (cx) {
      memcpy(pw, wr, (size_t)nn * sizeof(zdouble));
      transpose(pv, vr, nn, nn, 1);
      continue;
    }
    for (int64_t j = 0; j < nn; j++) {
      pw[2 * j] = wr[j];
      pw[2 * j + 1] = wi[j];
      int pair = wi[j] != 0 && j + 1 < nn;
      for (int64_t r = 0; r < nn; r++) {
        double re = vr[j * nn + r], im = pair ? vr[(j + 1) * nn + r] : 0;
        pv[2 * (r * nn + j)] = re;
        pv[2 * (r * nn + j) + 1] = im;
        if (pair) { pv[2 * (r * nn + j + 1)] = re; pv[2 * (r * nn + j + 1) + 1] = -im; }
      }
      if (pair) { pw[2 * (j + 1)] = wr[j + 1]; pw[2 * (j + 1) + 1] = wi[j + 1]; j++; }
    }
  }
  rc = finish(n, out);
done:
  if (rc) release_all(out, 2);
  sl_tensor_release(a);
  free(col);
  free(vr);
  free(wr);
  free(wi);
  free(work);
  return rc;
}

/* -- lstsq: gelsd (SVD-based, minimum norm); 2-d operands like NumPy's ------------ */
static int lstsq_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  char rn[16];
  int cx = complex_node(n);
  int64_t m = in[0]->shape[0], c = in[0]->shape[1], k = in[1]->shape[1], mn = m < c ? m : c;
  int64_t ldb = m > c ? m : c, kk = k > 0 ? k : 1;   /* with no right-hand side, one zero column */
  sl_tensor *a = work_copy(in[0], cx), *bm = a ? work_copy(in[1], cx) : NULL;
  double *ca = NULL, *cb = NULL, *work = NULL, *rwork = NULL;
  int *iwork = NULL;
  int rc = -1, lwork = 0, rank = 0;
  if (!bm) goto done;
  if (in[1]->shape[0] != m) {
    sl_fail("lstsq: a matrix of %lld rows and a right-hand side of %lld rows", (long long)m,
            (long long)in[1]->shape[0]);
    goto done;
  }
  if (check_int(n->op->name, ldb) || check_int(n->op->name, kk) || check_finite(n->op->name, a) || check_finite(n->op->name, bm))
    goto done;
  double rcond = n->params.x < 0 ? DBL_EPSILON * (double)ldb : n->params.x;
  int mi = (int)m, ci = (int)c, ki = (int)kk, lda = mi > 1 ? mi : 1, ldbi = ldb > 1 ? (int)ldb : 1;
  int info = 0, query = -1, iq = 0;
  double q[2] = { 0, 0 }, rq = 0;
  if (!(out[0] = sl_tensor_zeros(cx ? SL_COMPLEX128 : SL_FLOAT64, 2, (int64_t[]){ c, k })) ||
      !(out[3] = sl_tensor_zeros(SL_FLOAT64, 1, &mn)))
    goto done;
  ca = work_buffer(m * c, cx);
  cb = calloc((size_t)(ldb * kk + 1) * (cx ? 2 : 1), sizeof *cb);
  if (!ca || !cb) { no_memory(n->op->name); goto done; }
  if (mn > 0) {
    if (cx) zgelsd_(&mi, &ci, &ki, NULL, &lda, NULL, &ldbi, NULL, &rcond, &rank, (zdouble *)q, &query, &rq, &iq, &info);
    else dgelsd_(&mi, &ci, &ki, NULL, &lda, NULL, &ldbi, NULL, &rcond, &rank, q, &query, &iq, &info);
    work = workspace(q[0], &lwork, cx);
    iwork = malloc((size_t)(iq > 1 ? iq : 1) * sizeof *iwork);
    rwork = malloc((size_t)(rq > 1 ? rq : 1) * sizeof *rwork);
    if (!work || !iwork || !rwork) { no_memory(n->op->name); goto done; }
    transpose(ca, sl_tensor_ptr(a), m, c, cx);
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < k; j++) {
        if (cx) ((zdouble *)cb)[j * ldb + i] = ((zdouble *)sl_tensor_ptr(bm))[i * k + j];
        else cb[j * ldb + i] = ((double *)sl_tensor_ptr(bm))[i * k + j];
      }
    if (cx)
      zgelsd_(&mi, &ci, &ki, (zdouble *)ca, &lda, (zdouble *)cb, &ldbi, sl_tensor_ptr(out[3]), &rcond, &rank,
              (zdouble *)work, &lwork, rwork, iwork, &info);
    else
      dgelsd_(&mi, &ci, &ki, ca, &lda, cb, &ldbi, sl_tensor_ptr(out[3]), &rcond, &rank, work, &lwork, iwork, &info);
    if (info > 0) { sl_fail("lstsq: did not converge (LAPACK %s: the SVD failed)", routine(cx, "gelsd", rn)); goto done; }
    for (int64_t i = 0; i < c; i++)
      for (int64_t j = 0; j < k; j++) {
        if (cx) ((zdouble *)sl_tensor_ptr(out[0]))[i * k + j] = ((zdouble *)cb)[j * ldb + i];
        else ((double *)sl_tensor_ptr(out[0]))[i * k + j] = cb[j * ldb + i];
      }
  }
  /* residuals: squared norms of the rows past n, when A has full column rank and m > n */
  int64_t nres = rank == c && m > c ? k : 0;
  if (!(out[1] = sl_tensor_zeros(SL_FLOAT64, 1, &nres))) goto done;
  for (int64_t j = 0; j < nres; j++) {
    double r = 0;
    for (int64_t i = c; i < m; i++) {
      double *e = cx ? cb + 2 * (j * ldb + i) : cb + j * ldb + i;
      r += e[0] * e[0] + (cx ? e[1] * e[1] : 0);
    }
    ((double *)sl_tensor_ptr(out[1]))[j] = r;
  }
  if (!(out[2] = sl_tensor_full(SL_INT64, 0, NULL, rank))) goto done;
  rc = finish(n, out);
done:
  if (rc) release_all(out, 4);
  sl_tensor_release(a);
  sl_tensor_release(bm);
  free(ca);
  free(cb);
  free(work);
  free(rwork);
  free(iwork);
  return rc;
}

/* -- the table ----------------------------------------------------------------------- */

/* solve and solve_triangular broadcast their batches; the others give
** exact-shaped gradients. Every op takes complex matrices. */
#define LAPACK_OP(nm, ni, no, inf, perf, fl) \
  const sl_op sl_op_##nm = { .name = #nm, .nin = ni, .nout = no, .infer = inf, .perform = perf, \
                             .flags = (fl) | SL_OP_COMPLEX, .size = SL_SIZE_LINALG };
LAPACK_OP(cholesky, 1, 1, square_infer, cholesky_perform, SL_OP_EXACT_GRAD)
LAPACK_OP(solve, 2, 1, solve_infer, solve_perform, 0)
LAPACK_OP(solve_triangular, 2, 1, solve_infer, solve_triangular_perform, 0)
LAPACK_OP(inv, 1, 1, square_infer, inv_perform, SL_OP_EXACT_GRAD)
LAPACK_OP(slogdet, 1, 2, slogdet_infer, slogdet_perform, SL_OP_EXACT_GRAD)
LAPACK_OP(qr, 1, 2, qr_infer, qr_perform, SL_OP_EXACT_GRAD)
LAPACK_OP(svd, 1, 3, svd_infer, svd_perform, SL_OP_EXACT_GRAD)
LAPACK_OP(svdvals, 1, 1, svd_infer, svd_perform, SL_OP_EXACT_GRAD)
LAPACK_OP(eigh, 1, 2, eigh_infer, eigh_perform, SL_OP_EXACT_GRAD)
LAPACK_OP(eigvalsh, 1, 1, eigh_infer, eigh_perform, SL_OP_EXACT_GRAD)
LAPACK_OP(eig, 1, 2, eig_infer, eig_perform, SL_OP_EXACT_GRAD)
LAPACK_OP(lstsq, 2, 4, lstsq_infer, lstsq_perform, SL_OP_EXACT_GRAD)
