/*
** program.h — the C backend's state for one function (vm.c runs it, tier.c
** compiles it and binds its kernels).
*/
#ifndef SL_PROGRAM_H
#define SL_PROGRAM_H

#include "cc.h"
#include "kernel_abi.h"
#include "tier.h"

typedef struct sl_program {
  sl_function *f;
  sl_plan *plan;
  sl_kfn (*fn)[SL_V_COUNT];   /* per kernel: its variants in the bound module */
  unsigned char *compute_bound;   /* per kernel: threads from omp_threshold_compute on (tune.c) */
  int *variant, *rank;    /* per step: the variant last taken and its collapsed rank, -1 before */
  char *source;
  int bound;              /* kernels bound to compiled code (tier.c) */
  struct sl_tiers *tiers; /* the compiled modules and their state, from the first call */
  int debug;              /* SYMLUA_DEBUG level when prepared */
} sl_program;

#endif
