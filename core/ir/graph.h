/*
** graph.h — the symbolic graph IR: types, variables, nodes and the op table.
**
** A Var is a value in a graph: an input, a constant, a shared variable, or
** output k of a Node. A Node applies an Op to input Vars. Output Vars live
** inside their Node and share its reference count, so holding any output
** keeps the whole node (and, through its inputs, the graph above it) alive.
*/
#ifndef SL_GRAPH_H
#define SL_GRAPH_H

#include "internal.h"

/* Static type: dtype and, per axis, a known size or SL_UNKNOWN. */
#define SL_UNKNOWN (-1)
typedef struct sl_type {
  sl_dtype dtype;
  int ndim;
  int64_t shape[SL_MAXDIM];
} sl_type;

typedef enum { SL_VAR_INPUT, SL_VAR_CONSTANT, SL_VAR_SHARED, SL_VAR_RESULT } sl_var_kind;

typedef struct sl_node sl_node;
typedef struct sl_op sl_op;

typedef struct sl_var {
  int refcount;          /* unused for results: they count on their node */
  int64_t id;            /* unique and increasing: creation order */
  sl_var_kind kind;
  sl_type type;
  char *name;            /* NULL when unnamed */
  char *where;           /* "file:line" of the user code that built it, or NULL */
  sl_node *owner;        /* results only */
  int index;             /* which output of owner */
  sl_tensor *value;      /* constants: the value; shared: the current value */
  int weak;              /* a constant from a Lua number: takes its partner's dtype */
} sl_var;

/* A function inside an op's parameters (the body of a loop): its own inputs
** and outputs, reference-counted; the nodes that hold it share it. The op
** that runs it keeps its compiled form in impl (freed by impl_free with it). */
typedef struct sl_subfn {
  int refcount;
  int nin, nout;
  struct sl_var **inputs, **outputs;   /* retained */
  void *impl;
  void (*impl_free)(void *impl);
} sl_subfn;

/* Parameters an op needs besides its inputs (axes, a dtype, a pattern, a
** sub-function...). Copied by assignment; a node holds a reference to sub. */
#define SL_MAXPARAMS (2 * SL_MAXDIM + 4)
typedef struct sl_params {
  int n;
  int64_t v[SL_MAXPARAMS];
  sl_dtype dtype;
  double x;
  sl_subfn *sub;         /* NULL unless the op runs a function */
} sl_params;

struct sl_node {
  int refcount;
  const sl_op *op;
  sl_params params;
  int nin, nout;
  sl_var **inputs;       /* retained */
  sl_var *outputs;       /* nout vars, owned by the node */
  /* Set by the inplace pass: 1 + the input whose buffer output 0 may be
  ** written into; 0 for none. The pass proves that no node reads that input
  ** afterwards; a backend still computes out of place unless, at run time,
  ** the input is contiguous with output 0's dtype and shape and nothing
  ** outside the run holds its tensor or storage. */
  int destroy;
};

/* How an elementwise op types its result; see ops/elemwise.c. */
typedef enum {
  SL_TR_NONE,            /* not elementwise */
  SL_TR_PROMOTE,         /* compute and return the promoted input dtype */
  SL_TR_FLOAT,           /* compute in a float dtype: ints become float64 */
  SL_TR_COMPARE,         /* compute in the promoted dtype, return bool */
  SL_TR_LOGIC,           /* test != 0 in the promoted dtype, return bool */
  SL_TR_PREDICATE,       /* float tests such as isnan: return bool */
  SL_TR_WHERE,           /* (cond, a, b): promote a and b */
  SL_TR_CAST             /* return params.dtype */
} sl_type_rule;

/* A reduction a fused kernel can end in, and how its accumulator combines. */
typedef enum { SL_FUSE_NONE, SL_FUSE_SUM, SL_FUSE_PROD, SL_FUSE_MEAN, SL_FUSE_MAX, SL_FUSE_MIN } sl_fused_reduce;

/* How the sizes of an op's output follow from its inputs' sizes, for uses
** that need only a shape (core/opt/shape_infer.c has one rule per kind):
** NONE (unknown until it runs), WINDOW (convolution and pooling), OF_FIRST
** and OF_LAST (an input's sizes), and one kind per op with a rule of its own. */
typedef enum {
  SL_SIZE_NONE,
  SL_SIZE_WINDOW,
  SL_SIZE_OF_LAST,
  SL_SIZE_OF_FIRST,
  SL_SIZE_FFT,
  SL_SIZE_LINALG,
  SL_SIZE_REDUCE,
  SL_SIZE_DOT,
  SL_SIZE_OUTER,
  SL_SIZE_DIMSHUFFLE,
  SL_SIZE_RESHAPE,
  SL_SIZE_FLATTEN,
  SL_SIZE_CONCATENATE,
  SL_SIZE_STACK,
  SL_SIZE_NARROW,
  SL_SIZE_REPEAT,
  SL_SIZE_TILE,
  SL_SIZE_SUBTENSOR,
  SL_SIZE_TAKE,
  SL_SIZE_GATHER,
  SL_SIZE_ALLOC,
  SL_SIZE_ARANGE,
  SL_SIZE_SUM_TO,
  SL_SIZE_COUNT
} sl_size_rule;

typedef int (*sl_infer_fn)(sl_node *n, sl_type *out);     /* output types; -1 + sl_fail */
typedef int (*sl_perform_fn)(const sl_node *n, sl_tensor **in, sl_tensor **out);

/* The most outputs of one node. */
#define SL_MAX_OUTPUTS 32

struct sl_op {
  const char *name;
  int nin;               /* -1: any number */
  int nout;              /* -1: one per output of params.sub */
  sl_infer_fn infer;
  sl_perform_fn perform; /* reference kernel: allocates out[] */
  /* ops that only rearrange one input (dimshuffle, narrow, reshape): the
  ** result as a view of in[0], sharing its storage (reshape: of a contiguous
  ** in[0]; a copy of any other), or NULL with a message. perform copies that
  ** view; a backend whose steps may alias (the C backend feeding its
  ** kernels) may call this instead. NULL for every other op. */
  sl_tensor *(*view)(const struct sl_node *n, sl_tensor *const *in);
  /* elementwise ops only */
  sl_type_rule rule;
  /* the expression over runs of n operand values (operands it does not
  ** take are not read): in double for float dtypes, in int64 for the rest */
  void (*run_f)(double *out, const double *a, const double *b, const double *c, int64_t n);
  void (*run_i)(int64_t *out, const int64_t *a, const int64_t *b, const int64_t *c, int64_t n);
  double _Complex (*fn_c)(double _Complex, double _Complex);   /* complex128, or NULL: refused */
  const char *cexpr;     /* the same expression for the code generators */
  /* reductions only: how a backend fuses it into a kernel (SL_FUSE_NONE: it does not) */
  sl_fused_reduce fuse;
  sl_size_rule size;     /* non-elementwise ops: their symbolic size rule */
  int flags;             /* SL_OP_* below */
};

/* Op flags: an impure op (random draws) is never merged or folded; only
** ops flagged SL_OP_COMPLEX (those computing with complex values and those
** that only move elements) and the elementwise ops with an fn_c take
** complex inputs; an op flagged SL_OP_EXACT_GRAD broadcasts nothing, so its
** gradient rules (grad.lua) give each input's gradient in its exact shape;
** an op flagged SL_OP_MOVES only moves or copies elements, so it takes every
** dtype, float16 and bfloat16 included. */
enum { SL_OP_IMPURE = 1, SL_OP_COMPLEX = 2, SL_OP_EXACT_GRAD = 4, SL_OP_MOVES = 8 };

/* -- types ------------------------------------------------------------------ */
void sl_type_of_tensor(const sl_tensor *t, sl_type *ty);
int  sl_type_accepts(const sl_type *ty, const sl_tensor *t);   /* 1 when t fits */
void sl_type_text(const sl_type *ty, char *buf, size_t n);     /* "float64 (?, 3)" */
int  sl_type_broadcast(int n, const sl_type *const *in, sl_type *out);
sl_dtype sl_promote_inputs(const struct sl_node *n, int first);   /* NumPy's rules, weak-aware */

/* -- vars and nodes ----------------------------------------------------------- */
sl_var *sl_var_input(const sl_type *ty, const char *name);
sl_var *sl_var_constant(sl_tensor *value, int weak);          /* retains value */
sl_var *sl_var_shared(sl_tensor *value, const char *name);    /* retains value */
void sl_var_retain(sl_var *v);
void sl_var_release(sl_var *v);
int  sl_var_set_name(sl_var *v, const char *name);
int  sl_var_set_where(sl_var *v, const char *where);
const char *sl_var_label(const sl_var *v, char *buf, size_t n);   /* name or "<op>#id" */

/* Apply op to inputs: infers types (reporting shape conflicts now) and
** returns a new node, retained once, or NULL. */
sl_node *sl_node_apply(const sl_op *op, const sl_params *params, int nin, sl_var **inputs);
void sl_node_retain(sl_node *n);
void sl_node_release(sl_node *n);

/* -- parameters (params.c) ------------------------------------------------------
** Equal parameters make equal nodes (the merge rewrite): sub-functions are
** equal when they are one, or compute the same thing from their inputs. */
sl_subfn *sl_subfn_new(int nin, struct sl_var **inputs, int nout, struct sl_var **outputs);
void sl_subfn_retain(sl_subfn *f);
void sl_subfn_release(sl_subfn *f);
int  sl_params_equal(const sl_params *a, const sl_params *b);
uint64_t sl_params_hash(const sl_params *p);

/* -- the op table --------------------------------------------------------------- */
const sl_op *sl_op_find(const char *name);
int sl_op_count(void);
const sl_op *sl_op_at(int i);

/* Run one node's reference kernel on concrete tensors (used for eager
** evaluation and by the reference backend). out[] receives new tensors. */
int sl_node_perform(const sl_node *n, sl_tensor **in, sl_tensor **out);
/* The same for a backend whose in[] are its own values, each held once:
** when n->destroy is set and the input is safe to write now, the kernel
** gets that input's tensor in out[0] on entry and writes the result there
** when it has the result's shape (opt/inplace.c). */
int sl_node_perform_inplace(const sl_node *n, sl_tensor **in, sl_tensor **out);
/* Which way a kernel that chooses among several took ("winograd"), set by
** it for the call in progress on this thread; profiles show it after the op. */
extern _Thread_local const char *sl_perform_variant;

/* The dtype elementwise node n computes in (the generators print it too). */
sl_dtype sl_elemwise_compute_dtype(const sl_node *n);

#endif
