/*
** kernel_abi.h — what the C backend shares with the code it generates: the
** argument block of every kernel variant, and the variants themselves.
*/
#ifndef SL_KERNEL_ABI_H
#define SL_KERNEL_ABI_H

#include "lower.h"

/* -- the kernel ABI ----------------------------------------------------------
** Every generated kernel variant is `void f(const sl_kargs *a)`. Operands are
** the kernel's loads, then its stores; pointers are to first elements and
** strides count elements. Elementwise kernels loop over nd collapsed axes
** (shape, st). Reductions loop over nd kept axes (shape, st) and nr reduced
** axes (rshape, rst); their one store has stride 0 on reduced axes. The
** fields are one macro so that codegen.c prints the same struct.
*/
#define SL_KARGS_FIELDS \
  int64_t n; int nd, nr; int threads; int64_t omp_threshold; double rcount; \
  int64_t shape[SL_MAXDIM], rshape[SL_MAXDIM]; \
  char *ptr[SL_KMAXOPS]; \
  int64_t st[SL_KMAXOPS][SL_MAXDIM], rst[SL_KMAXOPS][SL_MAXDIM];
typedef struct sl_kargs { SL_KARGS_FIELDS } sl_kargs;
typedef void (*sl_kfn)(const sl_kargs *a);

/* Kernel variants, cheapest first; elementwise ones, then reductions. The
** row variants walk the collapsed outer axes (any number) one row at a time
** by an odometer, the innermost axis in a unit-stride loop or a strided one; the profile
** names them with the collapsed rank ("inner-contiguous 2-d"). The tiled
** variant walks the last two axes in SL_TILE x SL_TILE blocks, for operands
** whose unit-stride axis is not the output's (a transpose): such an operand's
** block is copied, along its own unit axis, into a buffer that stays in L1,
** and the block is then computed in unit-stride rows. */
#define SL_TILE 64
#define SL_VARIANTS(_) \
  _(CONTIG,   "contiguous") \
  _(INNER,    "inner-contiguous") \
  _(STRIDED,  "strided") \
  _(TILED,    "tiled") \
  _(RFLAT,    "reduce contiguous") \
  _(RROWS,    "reduce rows") \
  _(RCOLS,    "reduce columns") \
  _(RGENERAL, "reduce general")
typedef enum {
#define SL_VARIANT_ENUM(e, text) SL_V_##e,
  SL_VARIANTS(SL_VARIANT_ENUM)
#undef SL_VARIANT_ENUM
  SL_V_COUNT
} sl_variant;
extern const char *const sl_variant_names[SL_V_COUNT];

/* The C source of a planned function: every kernel, each in every variant,
** in one translation unit (codegen.c); sets each kernel's code. Malloc'd. */
char *sl_codegen_c(const sl_function *f, sl_plan *p);

#endif
