/*
** lower.h — the C backend of compiled functions: lowering into steps (fused
** elementwise kernels, fused reductions, reference nodes), the kernel ABI
** shared with generated code, and the run-time program that runs the steps.
*/
#ifndef SL_LOWER_H
#define SL_LOWER_H

#include "function.h"
#include "cc.h"
#include "tier.h"

/* -- the kernel ABI ----------------------------------------------------------
** Every generated kernel variant is `void f(const sl_kargs *a)`. Operands are
** the kernel's loads, then its stores; pointers are to first elements and
** strides count elements. Elementwise kernels loop over nd collapsed axes
** (shape, st). Reductions loop over nd kept axes (shape, st) and nr reduced
** axes (rshape, rst); their one store has stride 0 on reduced axes. The
** fields are one macro so that codegen_c.c prints the same struct.
*/
#define SL_KMAXOPS 24
#define SL_KARGS_FIELDS \
  int64_t n; int nd, nr; int threads; int64_t omp_threshold; double rcount; \
  int64_t shape[SL_MAXDIM], rshape[SL_MAXDIM]; \
  char *ptr[SL_KMAXOPS]; \
  int64_t st[SL_KMAXOPS][SL_MAXDIM], rst[SL_KMAXOPS][SL_MAXDIM];
typedef struct sl_kargs { SL_KARGS_FIELDS } sl_kargs;
typedef void (*sl_kfn)(const sl_kargs *a);

/* Kernel variants, cheapest first; elementwise ones, then reductions. The
** row variants walk the collapsed outer axes (any number) one row at a time,
** the innermost axis in a unit-stride loop or a strided one; the profile
** names them with the collapsed rank ("inner-contiguous 2-d"). */
#define SL_VARIANTS(_) \
  _(CONTIG,   "contiguous") \
  _(INNER,    "inner-contiguous") \
  _(STRIDED,  "strided") \
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
  int code;               /* the kernel whose generated code it runs (identical kernels share
                             one), or -1: too many kernels, it runs on the reference path */
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
  sl_kfn fn[SL_V_COUNT];
  /* run-time scratch: each node's shape in the current call */
  int *rank;
  int64_t (*shape)[SL_MAXDIM];
} sl_kernel;

typedef struct sl_step {
  int node;               /* index into f->order for a reference step, else -1 */
  sl_kernel *k;
  int last;               /* the node whose profile entry takes the step's time */
  int nfree;
  int *free_slot;         /* slots read for the last time by this step */
  int variant;            /* last variant taken, -1 before the first run */
  int rank;               /* and the collapsed rank it ran over */
  char variant_text[40];  /* "strided 3-d": what profiles show */
} sl_step;

typedef struct sl_program {
  int nsteps;
  sl_step *steps;
  int nkernels;
  sl_kernel **kernels;
  char *source;
  int bound;              /* kernels bound to compiled code (tier.c) */
  struct sl_tiers *tiers; /* the compiled modules and their state, from the first call */
  int debug;              /* SYMLUA_DEBUG level when lowered */
  /* per-call state, kept to spare the call path any allocation */
  sl_tensor **val;        /* per slot */
  char *keep;             /* per slot: a result or input, never recycled */
  int npool, cap_pool;
  sl_storage **pool;      /* dead intermediates' buffers, for reuse in this call */
} sl_program;

/* -- lowering and code generation (lower.c, codegen_c.c) ----------------------- */
sl_program *sl_lower(sl_function *f);
void sl_program_free(sl_program *p);
char *sl_codegen_c(const sl_function *f, const sl_program *p);   /* malloc'd source */
sl_dtype sl_elemwise_compute_dtype(const sl_node *n);

/* -- using it (vm.c) -------------------------------------------------------------
** sl_function_use_c lowers f and generates its source, compiled at the first
** call (tier.c, as sl.config.compile says). With no
** compiler it leaves f on the reference backend and warns once, unless
** sl.config.require_compiler makes that an error. */
int sl_function_use_c(sl_function *f);
int sl_vm_ready(sl_function *f);   /* 1: the generated code is loaded; 0: not (yet); -1: error */
int sl_vm_call(sl_function *f, sl_tensor **args, sl_tensor **results);
/* A line per step: the op(s), kernel and the variant last taken. */
char *sl_program_text(const sl_function *f);

#endif
