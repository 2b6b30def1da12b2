/*
** rewrite.h — the graph optimizer: a graph under rewrite (fgraph), local
** rewrites grouped into passes, and the helpers rewrites are written with.
**
** The scheme. Compiling copies the graph between the inputs and the outputs
** (function outputs, then update expressions) into an fgraph whose nodes
** belong to it alone, so rewrites may change them without touching the
** user's graph. An fgraph knows every var's clients (the nodes, or graph
** outputs, that read it). Passes run in a fixed order (merge, constant
** folding, canonicalize, stabilize, specialize, inplace); inside a pass every
** node is offered, in topological order, to the pass's rewrites that are
** keyed on its op, until a whole sweep changes nothing. A rewrite matches a
** pattern rooted at the node it is given, builds the replacement with
** sl_rw_apply and friends, and calls sl_rw_replace: clients of the old var
** now read the new one, and nodes nobody reads any more are dropped. Merge
** runs before every sweep, so rewrites see one node per distinct
** computation.
**
** A rewrite returns 1 when it replaced something, 0 when its pattern did not
** match, -1 on error (sl_fail). It never changes a node's inputs itself.
*/
#ifndef SL_REWRITE_H
#define SL_REWRITE_H

#include "rows.h"

typedef struct sl_fgraph sl_fgraph;
typedef int (*sl_rewrite_fn)(sl_fgraph *g, sl_node *n);

typedef struct sl_rewrite {
  const char *name;
  const char *pass;       /* one of the names in sl_passes */
  const sl_op *const *ops;   /* the ops it looks at, NULL-terminated (SL_OPS); NULL: all */
  sl_rewrite_fn fn;       /* local: offered one node at a time */
  int (*global)(sl_fgraph *g);   /* or global: once per sweep; >0 when it changed something */
  const char *doc;        /* one line */
} sl_rewrite;

/* Optimizer levels, and which passes each runs. */
typedef enum { SL_OPT_NONE, SL_OPT_FAST_COMPILE, SL_OPT_FAST_RUN } sl_opt_level;

/* The ops a rewrite is rooted at: .ops = SL_OPS(&sl_op_neg, &sl_op_sub). */
#define SL_OPS(...) ((const sl_op *const[]){ __VA_ARGS__, NULL })

typedef struct sl_opt_config {
  sl_opt_level level;
  const char *include;    /* space-separated rewrites or passes to run as well */
  const char *exclude;    /* ... or not to run */
  int trace;              /* print each rewrite as it fires (SYMLUA_OPT_TRACE=1) */
  int nupdates;           /* the last nupdates vars optimized are the new values */
  sl_var *const *updated; /* of these shared variables, in order (for the inplace pass) */
} sl_opt_config;

/* The passes in the order they run, NULL-terminated; the levels that run them. */
typedef struct sl_pass { const char *name; sl_opt_level level; const char *doc; } sl_pass;
extern const sl_pass sl_passes[];

/* All rewrites, in pass order. */
int sl_rewrite_count(void);
const sl_rewrite *sl_rewrite_at(int i);

/* What an optimization did: how often each rewrite fired. */
typedef struct sl_opt_log {
  int n;
  const sl_rewrite **rewrite;
  int *count;
  double seconds;
} sl_opt_log;
void sl_opt_log_free(sl_opt_log *log);

/* Optimize the graph computing vars[0..n-1] from inputs: vars[i] is replaced
** (released, new one retained) by the optimized graph's var. log may be
** NULL. 0, or -1 + sl_fail. */
int sl_optimize(int nin, sl_var **inputs, int n, sl_var **vars, const sl_opt_config *cfg,
                sl_opt_log *log);

/* The default configuration: fast_run, trace from SYMLUA_OPT_TRACE. */
void sl_opt_config_default(sl_opt_config *cfg);

/* -- writing rewrites ---------------------------------------------------------- */

/* Replace every use of old by new (same dtype and rank). */
int sl_rw_replace(sl_fgraph *g, sl_var *old, sl_var *new_var);

/* Apply an op to vars of g: output 0 (or NULL + sl_fail). Nodes and constants
** built during a rewrite belong to g; a rewrite never releases them. The new
** var takes the "where" of the node being rewritten. */
sl_var *sl_rw_apply(sl_fgraph *g, const sl_op *op, const sl_params *p, int nin, ...);
sl_var *sl_rw_applyv(sl_fgraph *g, const sl_op *op, const sl_params *p, int nin, sl_var **in);
sl_node *sl_rw_apply_node(sl_fgraph *g, const sl_op *op, const sl_params *p, int nin, sl_var **in);
/* A constant (0-d, or of type ty's rank with every size 1 when ty is given). */
sl_var *sl_rw_constant(sl_fgraph *g, double x, sl_dtype dt, const sl_type *ty);
sl_var *sl_rw_constant_tensor(sl_fgraph *g, sl_tensor *t);   /* retains t */
/* v as dtype dt (v itself when it already is). */
sl_var *sl_rw_cast(sl_fgraph *g, sl_var *v, sl_dtype dt);

/* Matching. */
sl_node *sl_rw_owner(const sl_var *v, const sl_op *op);          /* v's node when op made it */
int sl_rw_constant_value(const sl_var *v, double *x);            /* 1: a constant, all equal */
int sl_rw_is_constant(const sl_var *v, double x);                /* 1: a constant, all == x */
int sl_rw_nclients(const sl_fgraph *g, const sl_var *v);         /* graph outputs included */
/* The clients of v: node (NULL for a graph output) and input index. */
typedef struct sl_client { sl_node *node; int index; } sl_client;
int sl_rw_clients(const sl_fgraph *g, const sl_var *v, const sl_client **out);
/* The graph's inputs (the function's), and whether v is one. */
int sl_rw_is_input(const sl_fgraph *g, const sl_var *v);

/* The families of rewrites; optimize.c lists them in pass order. */
extern const sl_rewrite sl_rewrites_basic[];      /* merge, constant folding */
extern const int sl_rewrites_basic_n;
extern const sl_rewrite sl_rewrites_canonicalize[];   /* identities, chains, shapes, casts */
extern const int sl_rewrites_canonicalize_n;
extern const sl_rewrite sl_rewrites_stabilize[];   /* stable forms */
extern const int sl_rewrites_stabilize_n;
extern const sl_rewrite sl_rewrites_shape[];      /* symbolic shapes, useless sum_to */
extern const int sl_rewrites_shape_n;
extern const sl_rewrite sl_rewrites_specialize[];  /* sqr, sqrt, mean as sum, gemm, gemv, ger */
extern const int sl_rewrites_specialize_n;
extern const sl_rewrite sl_rewrites_inplace[];     /* results written into dying inputs */
extern const int sl_rewrites_inplace_n;

#endif
