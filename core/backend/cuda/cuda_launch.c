/*
** cuda_launch.c — the variant and launch shape of a CUDA kernel step
** (cuda_kernels.h), from the layout every generating backend computes
** (kernel_frame.c); the device and host emulation launch the same way.
*/
#include <string.h>

#include "cuda_kernels.h"
#include "kernel_frame.h"

static unsigned at_most(int64_t n, unsigned cap) { return n < (int64_t)cap ? (unsigned)n : cap; }

void sl_cuda_launch_of(const sl_kernel *k, const sl_kargs *frame, unsigned max_grid, sl_cuargs *a,
                       sl_cuda_launch *l)
{
  a->nd = frame->nd;
  a->nr = frame->nr;
  a->rcount = frame->rcount;
  memcpy(a->shape, frame->shape, sizeof a->shape);
  memcpy(a->rshape, frame->rshape, sizeof a->rshape);
  memcpy(a->ptr, frame->ptr, sizeof a->ptr);
  memcpy(a->st, frame->st, sizeof a->st);
  memcpy(a->rst, frame->rst, sizeof a->rst);
  if (k->reduce) {
    a->n = a->m = 1;
    for (int d = 0; d < a->nd; d++) a->n *= a->shape[d];
    for (int d = 0; d < a->nr; d++) a->m *= a->rshape[d];
    l->variant = SL_CV_REDUCE;
    l->grid = at_most(a->n, max_grid);
    l->block = at_most((a->m + 31) / 32 * 32, SL_CUDA_BLOCK);
    if (l->block < 32) l->block = 32;
    return;
  }
  a->n = frame->n;
  a->m = 0;
  l->variant = a->nd == 1 && sl_kernel_unit_axis(k, frame, 0, 1) ? SL_CV_CONTIG : SL_CV_STRIDED;
  l->grid = at_most((a->n + SL_CUDA_BLOCK - 1) / SL_CUDA_BLOCK, max_grid);
  l->block = SL_CUDA_BLOCK;
}

void sl_cuda_draw_launch(int64_t n, unsigned max_grid, sl_cuda_launch *l)
{
  int64_t blocks = (n + 1) / 2;
  l->variant = SL_CV_CONTIG;
  l->grid = at_most(blocks > 0 ? (blocks + SL_CUDA_BLOCK - 1) / SL_CUDA_BLOCK : 1, max_grid);
  l->block = SL_CUDA_BLOCK;
}
