/*
** lower.h — the fusion plan of a compiled function, which every backend is
** prepared from: steps in run order, each one node or one fused kernel
** (elementwise nodes, possibly ending in a reduction), with the slots each
** step reads for the last time. Nothing here belongs to one backend.
*/
#ifndef SL_LOWER_H
#define SL_LOWER_H

#include "function.h"

/* The most operands (loads and stores) of one fused kernel. */
#define SL_KMAXOPS 24

/* How a load is read: through its pointer at every element, once per call
** (the static type says every axis has size 1), or once per innermost row
** (the type says its last axis has size 1: a column broadcast). A pasted
** load is a one-element constant printed into the source as a literal. */
enum { SL_LOAD_FULL, SL_LOAD_SCALAR, SL_LOAD_COLUMN };

typedef struct sl_kload {
  int slot;               /* the function slot it reads */
  sl_dtype dtype;
  int how;                /* SL_LOAD_* */
  int pasted;             /* a literal in the source: no operand */
  int op;                 /* its operand index, -1 when pasted */
} sl_kload;

typedef struct sl_kernel {
  int id;
  int code;               /* set by a generating backend: the kernel whose code it runs
                             (identical kernels share one), or -1: it runs node by node */
  int nnodes;
  int *node;              /* indices into f->order, in run order (the reduction last) */
  int **src;              /* per node, per input: >= 0 a node of the kernel, else -(load + 1) */
  int nload;
  sl_kload load[SL_KMAXOPS];
  int nops;               /* operands: non-pasted loads, then stores */
  int nstore;
  int store_node[SL_KMAXOPS];   /* index into node[] */
  const sl_node *reduce;  /* the reduction the kernel ends in, or NULL */
  int ndim;               /* the loop's static rank */
} sl_kernel;

typedef struct sl_step {
  int node;               /* index into f->order for a one-node step, else -1 */
  sl_kernel *k;           /* the fused kernel of the step, or NULL */
  int last;               /* the node whose profile entry takes the step's time */
  int nfree;
  int *free_slot;         /* slots read for the last time by this step */
  char ran[48];           /* what the backend ran the last time ("strided 3-d"), or "" */
} sl_step;

typedef struct sl_plan {
  int nsteps;
  sl_step *steps;
  int nkernels;
  sl_kernel **kernels;
  char *keep;             /* per slot: an input, constant, shared value or result, never freed in a call */
} sl_plan;

/* The plan of f: with fuse, elementwise nodes grouped into kernels (and
** reductions fused into them); without, one step per node. */
sl_plan *sl_lower(sl_function *f, int fuse);
void sl_plan_free(sl_plan *p);

#endif
