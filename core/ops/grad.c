/*
** grad.c — ops that gradients need and users rarely write: sum_to, which
** sums a gradient back to the shape of the input that was broadcast.
*/
#include <stdio.h>
#include <string.h>

#include "rows.h"

/* sum_to(g, like): g summed over the axes where like was broadcast (leading
** axes it lacks, and axes where its size is 1), giving like's shape at run
** time and g's dtype. The static type is like's, so a static 1 stays 1. */
static int sum_to_infer(sl_node *n, sl_type *out)
{
  const sl_type *g = &n->inputs[0]->type, *like = &n->inputs[1]->type;
  if (like->ndim > g->ndim) {
    char a[128], b[128];
    sl_type_text(g, a, sizeof a);
    sl_type_text(like, b, sizeof b);
    return sl_fail("sum_to: %s has fewer axes than %s", a, b);
  }
  *out = *like;
  out->dtype = g->dtype;
  return 0;
}

/* SUM_FLOAT32 reads float32 into double sums without a double copy of g */
typedef enum { SUM_INT, SUM_FLOAT, SUM_FLOAT32, SUM_COMPLEX } sum_kind;
typedef struct { sum_kind kind; } sum_ctx;

/* acc[i] += g[i] one element at a time: acc has stride 0 on summed axes */
static void sum_run(char **p, const int64_t *stride, int64_t n, void *vctx)
{
  sum_ctx *c = vctx;
  for (int64_t i = 0; i < n; i++) {
    if (c->kind == SUM_COMPLEX)
      ((double _Complex *)p[0])[i * stride[0]] += ((const double _Complex *)p[1])[i * stride[1]];
    else if (c->kind == SUM_FLOAT) ((double *)p[0])[i * stride[0]] += ((const double *)p[1])[i * stride[1]];
    else if (c->kind == SUM_FLOAT32) ((double *)p[0])[i * stride[0]] += ((const float *)p[1])[i * stride[1]];
    else ((int64_t *)p[0])[i * stride[0]] = (int64_t)((uint64_t)((int64_t *)p[0])[i * stride[0]] +
                                                      (uint64_t)((const int64_t *)p[1])[i * stride[1]]);
  }
}

static int sum_to_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  (void)n;
  sl_tensor *g = in[0], *like = in[1];
  int lead = g->ndim - like->ndim;
  for (int i = 0; i < like->ndim; i++)
    if (like->shape[i] != 1 && like->shape[i] != g->shape[lead + i]) {
      char a[128], b[128];
      sl_shape_text(a, sizeof a, g->ndim, g->shape);
      sl_shape_text(b, sizeof b, like->ndim, like->shape);
      return sl_fail("sum_to: shape %s does not come from broadcasting %s", a, b);
    }
  /* nothing was broadcast (a shape only the run shows): g as it is */
  int same = lead == 0;
  for (int i = 0; same && i < like->ndim; i++) same = like->shape[i] == g->shape[i];
  if (same) return (out[0] = sl_tensor_clone(g)) ? 0 : -1;
  char kind = sl_dtype_kind(g->dtype);
  sum_ctx c = { kind == 'c' ? SUM_COMPLEX : g->dtype == SL_FLOAT32 ? SUM_FLOAT32 : kind == 'f' ? SUM_FLOAT : SUM_INT };
  sl_dtype dom = c.kind == SUM_COMPLEX ? SL_COMPLEX128 : kind == 'f' ? SL_FLOAT64 : SL_INT64;
  sl_tensor *acc = sl_tensor_zeros(dom, like->ndim, like->shape);
  sl_tensor *g64 = c.kind == SUM_FLOAT32 ? (sl_tensor_retain(g), g) : sl_tensor_cast(g, dom);
  sl_tensor *wide = acc ? sl_tensor_expand(acc, g->ndim, g->shape) : NULL;
  int rc = -1;
  if (acc && g64 && wide) {
    char *base[2] = { sl_tensor_ptr(wide), sl_tensor_ptr(g64) };
    const int64_t *strides[2] = { wide->strides, g64->strides };
    size_t esize[2] = { sl_dtype_size(dom), sl_dtype_size(g64->dtype) };
    sl_foreach(2, g->ndim, g->shape, base, strides, esize, sum_run, &c);
    out[0] = sl_tensor_cast(acc, g->dtype);
    rc = out[0] ? 0 : -1;
  }
  sl_tensor_release(wide);
  sl_tensor_release(g64);
  sl_tensor_release(acc);
  return rc;
}

const sl_op sl_op_sum_to = { .name = "sum_to", .nin = 2, .nout = 1, .infer = sum_to_infer, .perform = sum_to_perform,
    .flags = SL_OP_COMPLEX, .size = SL_SIZE_SUM_TO };
