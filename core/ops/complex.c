/*
** complex.c — taking complex values apart and putting them together:
** real, imag, conj, cabs (the magnitude), angle, and complex(re, im).
**
** real/imag/cabs/angle map complex64 to float32 and complex128 to float64;
** conj keeps the dtype; complex(re, im) takes two floats of one dtype and
** one shape. The Lua layer (lua/symlua/fft.lua) gives real inputs their
** obvious meaning (real(x) = x, imag(x) = 0, ...) without these ops.
*/
#include <complex.h>
#include <math.h>
#include <string.h>

#include "rows.h"

enum { PART_REAL, PART_IMAG, PART_CONJ, PART_ABS, PART_ANGLE };

static sl_dtype real_of(sl_dtype dt) { return dt == SL_COMPLEX64 ? SL_FLOAT32 : SL_FLOAT64; }
static sl_dtype complex_of(sl_dtype dt) { return dt == SL_FLOAT32 ? SL_COMPLEX64 : SL_COMPLEX128; }

static int part_kind(const sl_op *op)
{
  static const sl_op *const parts[] = { &sl_op_real, &sl_op_imag, &sl_op_conj, &sl_op_cabs, &sl_op_angle };
  for (int k = 0; k < 5; k++) if (op == parts[k]) return k;
  return -1;
}

static int part_infer(sl_node *n, sl_type *out)
{
  const sl_type *x = &n->inputs[0]->type;
  if (sl_dtype_kind(x->dtype) != 'c')
    return sl_fail("%s: expected a complex input, got %s", n->op->name, sl_dtype_name(x->dtype));
  *out = *x;
  if (part_kind(n->op) != PART_CONJ) out->dtype = real_of(x->dtype);
  return 0;
}

static int part_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int kind = part_kind(n->op);
  sl_tensor *x = sl_tensor_cast(in[0], SL_COMPLEX128);   /* contiguous, in double */
  sl_tensor *y = x ? sl_tensor_empty(kind == PART_CONJ ? SL_COMPLEX128 : SL_FLOAT64, x->ndim, x->shape) : NULL;
  if (!y) { sl_tensor_release(x); return -1; }
  const double _Complex *src = sl_tensor_ptr(x);
  int64_t m = sl_tensor_numel(x);
  if (kind == PART_CONJ) {
    double _Complex *dst = sl_tensor_ptr(y);
    for (int64_t i = 0; i < m; i++) dst[i] = conj(src[i]);
  } else {
    double *dst = sl_tensor_ptr(y);
    for (int64_t i = 0; i < m; i++)
      dst[i] = kind == PART_REAL ? creal(src[i]) : kind == PART_IMAG ? cimag(src[i]) :
               kind == PART_ABS ? cabs(src[i]) : carg(src[i]);
  }
  sl_tensor_release(x);
  out[0] = sl_tensor_cast(y, n->outputs[0].type.dtype);
  sl_tensor_release(y);
  return out[0] ? 0 : -1;
}

static int complex_infer(sl_node *n, sl_type *out)
{
  const sl_type *re = &n->inputs[0]->type, *im = &n->inputs[1]->type;
  char a[128], b[128];
  if (sl_dtype_kind(re->dtype) != 'f' || re->dtype != im->dtype || re->ndim != im->ndim) {
    sl_type_text(re, a, sizeof a);
    sl_type_text(im, b, sizeof b);
    return sl_fail("complex: real and imaginary parts must be floats of one dtype and rank, got %s and %s", a, b);
  }
  *out = *re;
  for (int d = 0; d < re->ndim; d++) {
    int64_t s = re->shape[d], t = im->shape[d];
    if (s != SL_UNKNOWN && t != SL_UNKNOWN && s != t) {
      sl_type_text(re, a, sizeof a);
      sl_type_text(im, b, sizeof b);
      return sl_fail("complex: parts of shapes %s and %s differ", a, b);
    }
    if (s == SL_UNKNOWN) out->shape[d] = t;
  }
  out->dtype = complex_of(re->dtype);
  return 0;
}

static int complex_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  if (in[0]->ndim != in[1]->ndim || memcmp(in[0]->shape, in[1]->shape, (size_t)in[0]->ndim * sizeof(int64_t)))
    return sl_fail("complex: the real and imaginary parts differ in shape");
  sl_tensor *re = sl_tensor_cast(in[0], SL_FLOAT64), *im = sl_tensor_cast(in[1], SL_FLOAT64);
  sl_tensor *z = re && im ? sl_tensor_empty(SL_COMPLEX128, re->ndim, re->shape) : NULL;
  if (z) {
    const double *a = sl_tensor_ptr(re), *b = sl_tensor_ptr(im);
    double _Complex *dst = sl_tensor_ptr(z);
    for (int64_t i = 0, m = sl_tensor_numel(z); i < m; i++) dst[i] = a[i] + b[i] * I;
    out[0] = sl_tensor_cast(z, n->outputs[0].type.dtype);
  }
  sl_tensor_release(re);
  sl_tensor_release(im);
  sl_tensor_release(z);
  return out[0] ? 0 : -1;
}

#define PART(nm) const sl_op sl_op_##nm = { .name = #nm, .nin = 1, .nout = 1, .infer = part_infer, \
  .perform = part_perform, .flags = SL_OP_COMPLEX | SL_OP_EXACT_GRAD, .size = SL_SIZE_OF_FIRST };
PART(real)
PART(imag)
PART(conj)
PART(cabs)
PART(angle)
const sl_op sl_op_complex = { .name = "complex", .nin = 2, .nout = 1, .infer = complex_infer, .perform = complex_perform,
    .flags = SL_OP_EXACT_GRAD, .size = SL_SIZE_OF_FIRST };
