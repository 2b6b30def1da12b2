/*
** cuda_kernels.h — what the CUDA backend shares with the kernels it
** generates: their argument block (passed by value), their variants and
** launch shape, and the generator (cuda_codegen.c).
*/
#ifndef SL_CUDA_KERNELS_H
#define SL_CUDA_KERNELS_H

#include "kernel_abi.h"
#include "lower.h"

/* Every variant is `extern "C" __global__ void sl_k<K>_<variant>(const
** sl_cuargs A)`. Operands are the kernel's loads, then its stores; strides
** count elements. Elementwise: n elements over nd collapsed axes (shape,
** st). Reductions: n results over nd kept axes (shape, st), m elements each
** over nr reduced axes (rshape, rst). 6.6 KB, within the 32764
** bytes of kernel parameters that sm_70 and later take (the generated
** source asserts it), so fusion never stops for it. */
#define SL_CUARGS_FIELDS \
  int64_t n, m; int nd, nr; double rcount; \
  int64_t shape[SL_MAXDIM], rshape[SL_MAXDIM]; \
  char *ptr[SL_KMAXOPS]; \
  int64_t st[SL_KMAXOPS][SL_MAXDIM], rst[SL_KMAXOPS][SL_MAXDIM];
typedef struct sl_cuargs { SL_CUARGS_FIELDS } sl_cuargs;
/* The argument block of the kernel of random draws (kernels/cuda/random.h):
** n values of float32 (f32) or float64 into out, uniform or normal, from
** Philox key seed at block offset. */
#define SL_CUDRAW_FIELDS char *out; int64_t n; uint64_t seed, offset; int normal, f32;
typedef struct sl_cudraw { SL_CUDRAW_FIELDS } sl_cudraw;
#define SL_CUDA_PARAM_LIMIT 32764

/* Variants: contiguous (every operand unit-stride on one axis, a flat
** grid-stride loop), strided (any collapsed rank with broadcasting: each
** element's offsets from its index), reduce (a block per result: threads
** stride over its reduced elements, then warp shuffles and one shared
** stage combine them). The symbol is sl_k<K>_<suffix>. */
#define SL_CUDA_VARIANTS(_) \
  _(CONTIG,  "contig",  "contiguous") \
  _(STRIDED, "strided", "strided") \
  _(REDUCE,  "reduce",  "reduce (a block per result)")
typedef enum {
#define SL_CUDA_VARIANT_ENUM(e, suffix, text) SL_CV_##e,
  SL_CUDA_VARIANTS(SL_CUDA_VARIANT_ENUM)
#undef SL_CUDA_VARIANT_ENUM
  SL_CV_COUNT
} sl_cuda_variant;
extern const char *const sl_cuda_variant_suffix[SL_CV_COUNT];
extern const char *const sl_cuda_variant_names[SL_CV_COUNT];

#define SL_CUDA_BLOCK 256       /* threads per block, every variant */
#define SL_CUDA_MAX_GRID 65535  /* blocks at most; grid-stride loops cover the rest */

/* How a laid-out step (kernel_frame.h) is launched, the same on a device
** and under host emulation: the argument block (n results of m elements
** for a reduction), the variant, and the launch shape. Elementwise: blocks
** of SL_CUDA_BLOCK threads, enough to cover n, at most max_grid of them.
** A reduction: a block per result, at most max_grid, of the fewest whole
** warps that cover m, at most SL_CUDA_BLOCK. A device passes
** SL_CUDA_MAX_GRID; host emulation passes fewer, so that the grid-stride
** loops take several rounds. */
typedef struct sl_cuda_launch {
  sl_cuda_variant variant;
  unsigned grid, block;
} sl_cuda_launch;
void sl_cuda_launch_of(const sl_kernel *k, const sl_kargs *frame, unsigned max_grid, sl_cuargs *a,
                       sl_cuda_launch *l);
/* A draw of n values: blocks of SL_CUDA_BLOCK threads, a thread per Philox
** block (two values), at most max_grid blocks. */
void sl_cuda_draw_launch(int64_t n, unsigned max_grid, sl_cuda_launch *l);

/* The CUDA C++ source of a planned function: every kernel in every
** variant, sets each kernel's code (identical kernels share one). With
** SL_CUDA_HOST defined it compiles as C++ for host emulation
** (kernels/cuda/host.h) and has a launcher sl_k<K>_<suffix>_host(grid,
** block, args) per variant. Malloc'd; NULL + sl_fail. */
char *sl_codegen_cuda(const sl_function *f, sl_plan *p);
/* The CUDA C++ source of the kernel of random draws, sl_draw (and
** sl_draw_host under SL_CUDA_HOST). Malloc'd; NULL + sl_fail. */
char *sl_codegen_cuda_draw(void);

#endif
