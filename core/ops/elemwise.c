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

#include "graph.h"
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

/* One row per op: name, arity, typing rule, the scalar expression (the
** reference kernels' and the generated code's), the complex function or NULL. */
#define SL_ELEMWISE_OPS(_) \
  _(add,        2, SL_TR_PROMOTE,   sl_add(a, b), c_add) \
  _(sub,        2, SL_TR_PROMOTE,   sl_sub(a, b), c_sub) \
  _(mul,        2, SL_TR_PROMOTE,   sl_mul(a, b), c_mul) \
  _(true_div,   2, SL_TR_FLOAT,     a / b, c_div) \
  _(int_div,    2, SL_TR_PROMOTE,   sl_floordiv(a, b), NULL) \
  _(mod,        2, SL_TR_PROMOTE,   sl_mod(a, b), NULL) \
  _(pow,        2, SL_TR_PROMOTE,   sl_pow(a, b), NULL) \
  _(maximum,    2, SL_TR_PROMOTE,   sl_max(a, b), NULL) \
  _(minimum,    2, SL_TR_PROMOTE,   sl_min(a, b), NULL) \
  _(atan2,      2, SL_TR_FLOAT,     atan2(a, b), NULL) \
  _(neg,        1, SL_TR_PROMOTE,   sl_neg(a), c_neg) \
  _(abs,        1, SL_TR_PROMOTE,   sl_abs(a), NULL) \
  _(sign,       1, SL_TR_PROMOTE,   sl_sign(a), NULL) \
  _(sqr,        1, SL_TR_PROMOTE,   sl_mul(a, a), NULL) \
  _(reciprocal, 1, SL_TR_FLOAT,     1 / a, NULL) \
  _(exp,        1, SL_TR_FLOAT,     sl_exp(a), NULL) \
  _(exp2,       1, SL_TR_FLOAT,     sl_exp2(a), NULL) \
  _(expm1,      1, SL_TR_FLOAT,     sl_expm1(a), NULL) \
  _(log,        1, SL_TR_FLOAT,     sl_log(a), NULL) \
  _(log2,       1, SL_TR_FLOAT,     sl_log2(a), NULL) \
  _(log10,      1, SL_TR_FLOAT,     sl_log10(a), NULL) \
  _(log1p,      1, SL_TR_FLOAT,     sl_log1p(a), NULL) \
  _(sqrt,       1, SL_TR_FLOAT,     sqrt(a), NULL) \
  _(sin,        1, SL_TR_FLOAT,     sin(a), NULL) \
  _(cos,        1, SL_TR_FLOAT,     cos(a), NULL) \
  _(tan,        1, SL_TR_FLOAT,     tan(a), NULL) \
  _(asin,       1, SL_TR_FLOAT,     asin(a), NULL) \
  _(acos,       1, SL_TR_FLOAT,     acos(a), NULL) \
  _(atan,       1, SL_TR_FLOAT,     atan(a), NULL) \
  _(sinh,       1, SL_TR_FLOAT,     sinh(a), NULL) \
  _(cosh,       1, SL_TR_FLOAT,     sl_cosh(a), NULL) \
  _(tanh,       1, SL_TR_FLOAT,     sl_tanh(a), NULL) \
  _(sigmoid,    1, SL_TR_FLOAT,     sl_sigmoid(a), NULL) \
  _(softplus,   1, SL_TR_FLOAT,     sl_softplus(a), NULL) \
  _(erf,        1, SL_TR_FLOAT,     erf(a), NULL) \
  _(erfc,       1, SL_TR_FLOAT,     erfc(a), NULL) \
  _(floor,      1, SL_TR_FLOAT,     floor(a), NULL) \
  _(ceil,       1, SL_TR_FLOAT,     ceil(a), NULL) \
  _(round,      1, SL_TR_FLOAT,     nearbyint(a), NULL) \
  _(clip,       3, SL_TR_PROMOTE,   sl_clip(a, b, c), NULL) \
  _(where,      3, SL_TR_WHERE,     a != 0 ? b : c, NULL) \
  _(eq,         2, SL_TR_COMPARE,   a == b, c_eq) \
  _(ne,         2, SL_TR_COMPARE,   a != b, c_ne) \
  _(lt,         2, SL_TR_COMPARE,   a < b, NULL) \
  _(le,         2, SL_TR_COMPARE,   a <= b, NULL) \
  _(gt,         2, SL_TR_COMPARE,   a > b, NULL) \
  _(ge,         2, SL_TR_COMPARE,   a >= b, NULL) \
  _(logical_and, 2, SL_TR_LOGIC,    (a != 0) & (b != 0), NULL) \
  _(logical_or,  2, SL_TR_LOGIC,    (a != 0) | (b != 0), NULL) \
  _(logical_xor, 2, SL_TR_LOGIC,    (a != 0) ^ (b != 0), NULL) \
  _(logical_not, 1, SL_TR_LOGIC,    a == 0, NULL) \
  _(isnan,      1, SL_TR_PREDICATE, sl_isnan(a), NULL) \
  _(isinf,      1, SL_TR_PREDICATE, sl_isinf(a), NULL) \
  _(cast,       1, SL_TR_CAST,      a, c_same)

sl_dtype sl_float_default = SL_FLOAT64;

/* -- typing -------------------------------------------------------------------
** Inputs promote by sl_promote_inputs (graph.c), which handles weak constants.
*/

static sl_dtype float_of(sl_dtype dt)
{
  if (sl_dtype_kind(dt) == 'f' || sl_dtype_kind(dt) == 'c') return dt;
  return dt == SL_BOOL || dt == SL_UINT8 ? SL_FLOAT32 : sl_float_default;
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
** Runs of the broadcast operands are converted in chunks to the compute
** domain (double for float dtypes, int64 otherwise), computed, and stored.
*/
#define CHUNK 256

typedef struct {
  const sl_op *op;
  int nin, as_float, as_complex;
  size_t esize[4];          /* operand 0 is the output */
  sl_castfn load[3], store;
} ew_ctx;

static void ew_run(char **p, const int64_t *stride, int64_t n, void *vctx)
{
  ew_ctx *c = vctx;
  union { double f[CHUNK]; int64_t i[CHUNK]; cplx c[CHUNK]; } in[3], out;
  for (int k = c->nin; k < 3; k++) memset(&in[k], 0, sizeof in[k]);   /* unused operands */
  for (int64_t done = 0; done < n; done += CHUNK) {
    int64_t m = n - done < CHUNK ? n - done : CHUNK;
    for (int k = 1; k <= c->nin; k++)
      c->load[k - 1](&in[k - 1], 1, p[k] + done * stride[k] * (int64_t)c->esize[k], stride[k], m);
    if (c->as_complex) {
      cplx (*f)(cplx, cplx) = c->op->fn_c;
      for (int64_t j = 0; j < m; j++) out.c[j] = f(in[0].c[j], in[1].c[j]);
    } else if (c->as_float) {
      double (*f)(double, double, double) = c->op->fn_f;
      for (int64_t j = 0; j < m; j++) out.f[j] = f(in[0].f[j], in[1].f[j], in[2].f[j]);
    } else {
      int64_t (*f)(int64_t, int64_t, int64_t) = c->op->fn_i;
      for (int64_t j = 0; j < m; j++) out.i[j] = f(in[0].i[j], in[1].i[j], in[2].i[j]);
    }
    c->store(p[0] + done * stride[0] * (int64_t)c->esize[0], stride[0], &out, 1, m);
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
    views[k] = sl_tensor_expand(src, nd, shape);
    if (cast_first) sl_tensor_release(src);
    if (!views[k]) { rc = -1; break; }
    c.load[k] = sl_cast_fn(domain, views[k]->dtype);
    c.esize[k + 1] = sl_dtype_size(views[k]->dtype);
  }
  if (!rc) {
    c.store = sl_cast_fn(out[0]->dtype, domain);
    c.esize[0] = sl_dtype_size(out[0]->dtype);
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

#define EW_FUNCS(name, arity, rule, expr, cfn) \
  static double ew_f_##name(double a, double b, double c) \
  { (void)a; (void)b; (void)c; return (double)(expr); } \
  static int64_t ew_i_##name(int64_t a, int64_t b, int64_t c) \
  { (void)a; (void)b; (void)c; return (int64_t)(expr); }
SL_ELEMWISE_OPS(EW_FUNCS)

#define EW_ROW(nm, arity, typing, expr, cfn) \
  { .name = #nm, .nin = arity, .nout = 1, .infer = ew_infer, .perform = ew_perform, \
    .rule = typing, .fn_f = ew_f_##nm, .fn_i = ew_i_##nm, .fn_c = cfn, .cexpr = #expr },
const sl_op sl_elemwise_ops[] = { SL_ELEMWISE_OPS(EW_ROW) };
const int sl_elemwise_nops = sizeof sl_elemwise_ops / sizeof *sl_elemwise_ops;
