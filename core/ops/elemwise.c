/*
** elemwise.c — scalar elementwise ops: the table, their typing rules and
** the reference kernel that applies them with NumPy broadcasting.
**
** One row per op: name, arity, typing rule, expression in a, b, c. The
** expression is pasted into a double and an int64 reference function and
** kept as text for the code generators; kernels/scalar.h makes the helpers
** it calls work for every C type.
*/
#include <stdio.h>
#include <string.h>

#include "rows.h"
#include "../kernels/scalar.h"

/* -- complex values --------------------------------------------------------------
** Arithmetic and equality take complex operands; they compute in complex128.
** An op takes them when its row names a complex function (abs and friends
** are in complex.c).
*/
typedef double _Complex cplx;
static cplx c_add(cplx a, cplx b) { return a + b; }
static cplx c_sub(cplx a, cplx b) { return a - b; }
static cplx c_mul(cplx a, cplx b) { return a * b; }
static cplx c_div(cplx a, cplx b) { return a / b; }
static cplx c_neg(cplx a, cplx b) { (void)b; return -a; }
static cplx c_eq(cplx a, cplx b) { return a == b; }
static cplx c_ne(cplx a, cplx b) { return a != b; }
static cplx c_same(cplx a, cplx b) { (void)b; return a; }

#include "elemwise_rows.h"

sl_dtype sl_float_default = SL_FLOAT64;

/* -- typing -------------------------------------------------------------------
** Inputs promote by sl_promote_inputs (graph.c), which handles weak constants.
*/

static sl_dtype float_of(sl_dtype dt)
{
  if (sl_dtype_kind(dt) == 'f' || sl_dtype_kind(dt) == 'c') return dt;
  /* small integers fit float32 exactly (NumPy: float16 for 8-bit ones) */
  return dt == SL_BOOL || dt == SL_UINT8 || dt == SL_INT8 || dt == SL_INT16 ? SL_FLOAT32 : sl_float_default;
}

/* The dtype the op computes in (graph.h), and the one it returns. */
sl_dtype sl_elemwise_compute_dtype(const sl_node *n)
{
  switch (n->op->rule) {
  case SL_TR_FLOAT: return float_of(sl_promote_inputs(n, 0));
  case SL_TR_WHERE: return sl_promote_inputs(n, 1);
  case SL_TR_CAST: return n->inputs[0]->type.dtype;
  default: return sl_promote_inputs(n, 0);
  }
}

static sl_dtype result_dtype(const sl_node *n)
{
  switch (n->op->rule) {
  case SL_TR_COMPARE: case SL_TR_LOGIC: case SL_TR_PREDICATE: return SL_BOOL;
  case SL_TR_CAST: return n->params.dtype;
  default: return sl_elemwise_compute_dtype(n);
  }
}

/* -- typing and the reference kernel ------------------------------------------- */

static int ew_infer(sl_node *n, sl_type *out)
{
  const sl_type *in[3];
  for (int i = 0; i < n->nin; i++) in[i] = &n->inputs[i]->type;
  if (sl_type_broadcast(n->nin, in, out)) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", sl_errmsg());
    return sl_fail("%s: %s", n->op->name, msg);
  }
  if (n->op->rule == SL_TR_CAST && (unsigned)n->params.dtype >= SL_NDTYPES)
    return sl_fail("cast: invalid dtype");
  out->dtype = result_dtype(n);
  if (sl_dtype_kind(sl_elemwise_compute_dtype(n)) == 'c' && !n->op->fn_c)
    return sl_fail("%s does not take complex input: take real(), imag() or abs() first", n->op->name);
  return 0;
}

/* -- reference kernel -----------------------------------------------------------
** Runs of the broadcast operands are computed in chunks in the compute
** domain (double for float dtypes, int64 otherwise, complex128 for complex).
** An operand already in the domain's dtype and contiguous is read in place,
** and so is the output written, so float64 and int64 arithmetic runs as one
** vectorized loop; other dtypes are converted a chunk at a time.
*/
#define CHUNK 256

typedef struct {
  const sl_op *op;
  int nin, as_float, as_complex;
  size_t esize[4];          /* operand 0 is the output */
  int direct[4];            /* operand k holds the domain's dtype */
  sl_castfn load[3], store;
} ew_ctx;

static void ew_run(char **p, const int64_t *stride, int64_t n, void *vctx)
{
  ew_ctx *c = vctx;
  union { double f[CHUNK]; int64_t i[CHUNK]; cplx c[CHUNK]; } in[3], out;
  for (int64_t done = 0; done < n; done += CHUNK) {
    int64_t m = n - done < CHUNK ? n - done : CHUNK;
    void *src[3] = { &in[0], &in[1], &in[2] }, *dst = &out;
    for (int k = 1; k <= c->nin; k++) {
      char *at = p[k] + done * stride[k] * (int64_t)c->esize[k];
      if (c->direct[k] && stride[k] == 1) src[k - 1] = at;
      else c->load[k - 1](&in[k - 1], 1, at, stride[k], m);
    }
    for (int k = c->nin; k < 3; k++) src[k] = src[0];   /* unused operands: any m values */
    char *out_at = p[0] + done * stride[0] * (int64_t)c->esize[0];
    if (c->direct[0] && stride[0] == 1) dst = out_at;
    if (c->as_complex) {
      cplx (*f)(cplx, cplx) = c->op->fn_c;
      const cplx *x = src[0], *y = src[1];
      for (int64_t j = 0; j < m; j++) ((cplx *)dst)[j] = f(x[j], y[j]);
    } else if (c->as_float) {
      c->op->run_f(dst, src[0], src[1], src[2], m);
    } else {
      c->op->run_i(dst, src[0], src[1], src[2], m);
    }
    if (dst == &out) c->store(out_at, stride[0], &out, 1, m);
  }
}

static int ew_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int nd = 0;
  int64_t shape[SL_MAXDIM];
  for (int k = 0; k < n->nin; k++) {
    if (k == 0) { nd = in[0]->ndim; memcpy(shape, in[0]->shape, sizeof shape); continue; }
    if (sl_broadcast_shapes(nd, shape, in[k]->ndim, in[k]->shape, &nd, shape)) {
      char msg[512];
      snprintf(msg, sizeof msg, "%s", sl_errmsg());
      return sl_fail("%s: %s", n->op->name, msg);
    }
  }
  sl_dtype ct = sl_elemwise_compute_dtype(n);
  ew_ctx c = { .op = n->op, .nin = n->nin, .as_float = sl_dtype_kind(ct) == 'f',
               .as_complex = sl_dtype_kind(ct) == 'c' };
  sl_dtype domain = c.as_complex ? SL_COMPLEX128 : c.as_float ? SL_FLOAT64 : SL_INT64;
  /* a destroyed input handed over by the run (sl_node_perform_inplace):
  ** written in place when it has the result's shape, as each element is
  ** read before the same element is written */
  sl_tensor *dest = out[0];
  out[0] = NULL;
  if (dest && dest->ndim == nd && memcmp(dest->shape, shape, (size_t)nd * sizeof *shape) == 0) out[0] = dest;
  else sl_tensor_release(dest);
  if (!out[0] && !(out[0] = sl_tensor_empty(n->outputs[0].type.dtype, nd, shape))) return -1;
  sl_tensor *views[3] = { NULL, NULL, NULL };
  int rc = 0;
  for (int k = 0; k < n->nin && !rc; k++) {
    /* a weak constant is first rounded to the compute dtype, as NumPy would */
    sl_tensor *src = in[k];
    int cast_first = n->inputs[k]->weak && src->dtype != ct;
    if (cast_first && !(src = sl_tensor_cast(in[k], ct))) { rc = -1; break; }
    if (src->ndim == nd && memcmp(src->shape, shape, (size_t)nd * sizeof *shape) == 0) {
      views[k] = src;   /* of the result's shape already: no view needed */
      if (!cast_first) sl_tensor_retain(src);
    } else {
      views[k] = sl_tensor_expand(src, nd, shape);
      if (cast_first) sl_tensor_release(src);
      if (!views[k]) { rc = -1; break; }
    }
    c.load[k] = sl_cast_fn(domain, views[k]->dtype);
    c.esize[k + 1] = sl_dtype_size(views[k]->dtype);
    c.direct[k + 1] = views[k]->dtype == domain;
  }
  if (!rc) {
    c.store = sl_cast_fn(out[0]->dtype, domain);
    c.esize[0] = sl_dtype_size(out[0]->dtype);
    c.direct[0] = out[0]->dtype == domain;
    char *base[4] = { sl_tensor_ptr(out[0]) };
    const int64_t *strides[4] = { out[0]->strides };
    for (int k = 0; k < n->nin; k++) {
      base[k + 1] = sl_tensor_ptr(views[k]);
      strides[k + 1] = views[k]->strides;
    }
    sl_foreach(n->nin + 1, nd, shape, base, strides, c.esize, ew_run, &c);
  }
  for (int k = 0; k < n->nin; k++) sl_tensor_release(views[k]);
  return rc;
}

/* -- the table ---------------------------------------------------------------- */

/* The expression over a run, once per domain: plain loops over arrays,
** which the compiler vectorizes where the expression allows it (with an
** AVX2 clone: SL_LOOP_CLONES). */
#define EW_FUNCS(name, arity, rule, expr, cfn) \
  SL_LOOP_CLONES static void ew_f_##name(double *o, const double *x, const double *y, const double *z, int64_t n) \
  { \
    for (int64_t j = 0; j < n; j++) { \
      double a = x[j], b = y[j], c = z[j]; \
      (void)a; (void)b; (void)c; \
      o[j] = (double)(expr); \
    } \
  } \
  SL_LOOP_CLONES static void ew_i_##name(int64_t *o, const int64_t *x, const int64_t *y, const int64_t *z, int64_t n) \
  { \
    for (int64_t j = 0; j < n; j++) { \
      int64_t a = x[j], b = y[j], c = z[j]; \
      (void)a; (void)b; (void)c; \
      o[j] = (int64_t)(expr); \
    } \
  }
SL_ELEMWISE_OPS(EW_FUNCS)

#define EW_ROW(nm, arity, typing, expr, cfn) \
  const sl_op sl_op_##nm = { .name = #nm, .nin = arity, .nout = 1, .infer = ew_infer, .perform = ew_perform, \
    .rule = typing, .run_f = ew_f_##nm, .run_i = ew_i_##nm, .fn_c = cfn, .cexpr = #expr };
SL_ELEMWISE_OPS(EW_ROW)
