/*
** function.h — compiled functions over the graph IR (function.c builds them,
** executor.c calls them), with their debugging aids: per-node profiles and
** the NaN/Inf guard.
*/
#ifndef SL_FUNCTION_H
#define SL_FUNCTION_H

#include <pthread.h>

#include "graph.h"
#include "rewrite.h"
#include "symlua_host.h"   /* sl_function_retain, sl_function_release */

/* Time spent in one node of a profiled function. The strings are copies, so a
** profile can outlive its function (profiles printed at exit do). */
typedef struct sl_profile_node {
  const char *op;                      /* the op's name: static */
  char *label, *where;                 /* the output var's label; "file:line" or NULL */
  double seconds;
  int64_t calls;
  char variant[48];                    /* the kernel variant last taken (C backend), "fused", or
                                          what a choosing kernel ran (sl_perform_variant); a
                                          copy, as profiles printed at exit outlive the code */
} sl_profile_node;

typedef struct sl_profile {
  char *where;                         /* where the function was compiled, or NULL */
  int64_t calls;
  double seconds;                      /* whole calls, updates included */
  int nnodes;
  sl_profile_node *node;               /* in the function's run order */
  char code[256];                      /* C backend: which compiled code ran (tier.c) */
  int at_exit;                         /* listed for the report printed at exit */
  int orphan;                          /* its function is gone: the exit report frees it */
  struct sl_profile *next_at_exit;
} sl_profile;

typedef struct sl_function {
  int nin, nout, nupd;
  sl_var **inputs, **outputs;          /* retained */
  sl_var **upd_shared, **upd_expr;     /* retained; update i sets upd_shared[i] */
  int nnodes;
  sl_node **order;                     /* topological, retained */
  int nslots;
  sl_var **slot_var;                   /* each var the run touches has a slot */
  int **in_slot, **out_slot;           /* per node: slots of its inputs and outputs */
  int *readers;                        /* per slot: how many node inputs read it */
  int *result_slot;                    /* outputs, then updates */
  char *where;                         /* "file:line" of the compile call, or NULL */
  sl_profile *profile;                 /* NULL unless profiling */
  int nan_guard;                       /* check float node outputs for NaN/Inf */
  int debug;                           /* SYMLUA_DEBUG when it was made */
  sl_opt_log opt_log;                  /* what the optimizer did */
  /* how it runs (backend.h): the backend, its state (NULL on the reference
  ** backend), the plan it was prepared from, and the executor's per-call slots */
  const struct sl_backend *backend;
  const struct sl_backend *requested;  /* the backend asked for (backend may be the reference one
                                          when it had nothing to do); a scan's body runs on it */
  void *backend_state;
  struct sl_plan *plan;
  /* calls from several threads (executor.c): a call keeps its slot values to
  ** itself; lock serializes the backend's ready() (its first compile and tier
  ** switches, taken only while no call is in flight) and profiled calls */
  int refcount;                        /* sl_function_retain/release (embed/function.c) */
  unsigned magic;                      /* SL_FUNCTION_LIVE until released */
  pthread_mutex_t lock;
  int in_flight;                       /* calls running the bound code since ready() */
  int ready_last;                      /* what ready() said last */
  int settled;                         /* ready() said its code stays: no need to ask */
} sl_function;

#define SL_FUNCTION_LIVE 0x5f4e4331u

sl_function *sl_function_new(int nin, sl_var **inputs, int nout, sl_var **outputs,
                             int nupd, sl_var **upd_shared, sl_var **upd_expr);
/* The same, optimized as opt says (NULL: the default, fast_run). */
sl_function *sl_function_new_opt(int nin, sl_var **inputs, int nout, sl_var **outputs,
                                 int nupd, sl_var **upd_shared, sl_var **upd_expr,
                                 const sl_opt_config *opt);
/* Frees what f holds; f itself stays, with its magic cleared (embed/function.c
** keeps released headers a while to report calls through them). */
void sl_function_clear(sl_function *f);
void sl_function_free(sl_function *f);   /* clear, then free f */

/* SYMLUA_PROFILE and SYMLUA_NAN_GUARD (set and not "0") switch the aids on
** for every function when it is made; these override per function. A
** profile made while SYMLUA_PROFILE is set is printed to stderr at exit. */
int  sl_function_set_where(sl_function *f, const char *where);
int  sl_function_set_profile(sl_function *f, int on);
void sl_function_set_nan_guard(sl_function *f, int on);
void sl_profile_reset(sl_profile *p);

/* The profile as text: calls and time, then nodes and op classes sorted by
** time (time, %, calls, op, node, where). A malloc'd string, or NULL. */
char *sl_profile_text(const sl_profile *p);

/* 0 when args[i] fits input i, else -1 with a message naming the input. */
int sl_function_check_input(const sl_function *f, int i, const sl_tensor *t);

/* Run on args (nin tensors) on f's backend (executor.c); results gets nout
** new tensors. Updates are applied to the shared variables before returning.
** Safe to call from several threads at once (see executor.c). */
int sl_function_run(sl_function *f, sl_tensor **args, sl_tensor **results);
/* The same, with into (NULL, or nout entries): a non-NULL into[r] receives
** result r (same dtype and shape, else an error before any update is
** applied) and results[r] is left NULL. */
int sl_function_run_into(sl_function *f, sl_tensor **args, sl_tensor **results,
                         sl_tensor *const *into);

/* Shared variables' values are read and replaced under one process-wide
** lock: a call of a function with updates holds it from reading them to
** installing the new values, so such calls run one after another, each
** seeing the previous one's updates; other calls hold it while they take
** their references. Lua's set_value and get_value take it too. */
void sl_shared_lock(void);
void sl_shared_unlock(void);

/* Its plan as text: the backend, then a line per step; malloc'd, or NULL. */
char *sl_function_plan_text(const sl_function *f);

/* Adds to the current message which node failed, where it was built and
** what it was given; returns -1. */
int sl_node_fail(const sl_node *n, int k, sl_tensor **in);

#endif
