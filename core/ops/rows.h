/*
** rows.h — every op by name, as a C symbol: sl_op_<name> is the op's row.
** The optimizer, the backends and the binding match and build ops through
** these, so a misspelt op is a compile error, not a rewrite that never fires.
**
** Each family's list below names its ops in the order of its table; the
** rows themselves (typing, size rule, kernel, traits) are in core/ops/<family>.c.
** The elementwise ops and the reductions are listed by their own tables.
*/
#ifndef SL_ROWS_H
#define SL_ROWS_H

#include "graph.h"
#include "elemwise_rows.h"
#include "reduce_rows.h"

#define SL_BLAS_OPS(_) _(dot) _(outer) _(gemm) _(gemv) _(ger)
#define SL_SHAPE_OPS(_) _(reshape) _(flatten) _(dimshuffle) _(concatenate) _(stack) _(narrow) \
  _(repeat) _(tile)
#define SL_INDEX_OPS(_) _(subtensor) _(set_subtensor) _(inc_subtensor) _(take) _(set_take) \
  _(inc_take) _(gather) _(arange) _(alloc) _(shape) _(shape_i)
#define SL_GRAD_OPS(_) _(sum_to)
#define SL_NN_OPS(_) _(softmax) _(log_softmax) _(logsumexp) _(softmax_grad) _(softmax_crossentropy)
#define SL_RANDOM_OPS(_) _(random)
#define SL_CONV_OPS(_) _(conv2d) _(conv2d_grad_input) _(conv2d_grad_filters) _(max_pool2d) \
  _(avg_pool2d) _(max_pool2d_grad) _(avg_pool2d_grad)
#define SL_COMPLEX_OPS(_) _(real) _(imag) _(conj) _(cabs) _(angle) _(complex)
#define SL_FFT_OPS(_) _(fft) _(ifft) _(rfft) _(irfft)
#define SL_DIST_OPS(_) _(allreduce)
#define SL_SCAN_OPS(_) _(scan)
#define SL_SORT_OPS(_) _(cumsum) _(cumprod) _(argsort) _(searchsorted)
#define SL_LAPACK_OPS(_) _(cholesky) _(solve) _(solve_triangular) _(inv) _(slogdet) _(qr) _(svd) \
  _(svdvals) _(eigh) _(eigvalsh) _(eig) _(lstsq)

/* Every family, in the registry's order: core.ops() lists ops in this order. */
#define SL_ALL_OPS(_) SL_ELEMWISE_OPS(_) SL_BLAS_OPS(_) SL_SHAPE_OPS(_) SL_INDEX_OPS(_) \
  SL_GRAD_OPS(_) SL_REDUCE_OPS(_) SL_NN_OPS(_) SL_RANDOM_OPS(_) SL_CONV_OPS(_) \
  SL_COMPLEX_OPS(_) SL_FFT_OPS(_) SL_LAPACK_OPS(_) SL_DIST_OPS(_) SL_SORT_OPS(_) SL_SCAN_OPS(_)

#define SL_DECLARE_OP(nm, ...) extern const sl_op sl_op_##nm;
SL_ALL_OPS(SL_DECLARE_OP)
#undef SL_DECLARE_OP

#endif
