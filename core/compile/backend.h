/*
** backend.h — the seam between the executor and the backends. A backend is a
** table of functions, registered by name in backend.c; the executor
** (executor.c) runs every function's steps, results, updates, profile and
** NaN guard, and asks the backend only to run a step.
*/
#ifndef SL_BACKEND_H
#define SL_BACKEND_H

#include <stdio.h>

#include "lower.h"

/* The executor's state during one call, shared with the backend that runs it. */
typedef struct sl_run {
  sl_function *f;
  sl_plan *plan;
  sl_tensor **val;          /* per slot: its value in this call, or NULL */
  int pooling;              /* dead intermediates' buffers are kept for reuse in this call */
  int npool, cap_pool;
  sl_storage **pool;
  int nodes_run;            /* nodes run one by one in the current step (they time themselves) */
  sl_tensor *const *into;   /* NULL, or per output: the host's buffer for it, or NULL */
} sl_run;

typedef struct sl_backend {
  const char *name;
  const char *device;       /* where it runs: "cuda", or NULL for the host's CPU */
  int fuses;                /* prepared from a plan with fused kernels (else one step per node) */
  int pools;                /* its kernels allocate from the call's pool (sl_run_alloc) */
  /* 1 when it can run on this machine */
  int (*available)(void);
  /* Its state for f and plan (both outlive it) in *state: 0, or -1 with a
  ** message; a NULL state means it has nothing to do and f runs on the
  ** reference backend. */
  int (*prepare)(sl_function *f, sl_plan *plan, void **state);
  /* At the start of a call (may be NULL), under the function's lock and only
  ** while no other call runs its code: 1 to run on it, 2 the same and its
  ** code stays (not asked again), 0 to run this call on the reference
  ** backend (code still compiling), -1 on error. */
  int (*ready)(void *state);
  /* Run one step of the plan: its results into r->val. 0, or -1 with a message. */
  int (*run)(void *state, sl_run *r, sl_step *step);
  /* Its plan as text, a line per step (state NULL: the plan as the reference backend runs it). */
  void (*describe)(const void *state, const sl_function *f, FILE *out);
  /* Which compiled code it runs now ("tcc", "cc"), "none"; may be NULL (none). */
  const char *(*tier)(const void *state);
  void (*free)(void *state);
} sl_backend;

/* The registry (backend.c), NULL-terminated, in the order sl.backends() lists them. */
extern const sl_backend *const sl_backends[];
const sl_backend *sl_backend_find(const char *name);
extern const sl_backend sl_backend_reference, sl_backend_c, sl_backend_cuda, sl_backend_cuda_host;

/* The backend of the innermost compiled function being called on this
** thread, or NULL outside calls: an op that runs a sub-function (scan) runs
** it on the backend its caller was compiled for. */
const sl_backend *sl_calling_backend(void);

/* Runs f on backend b from now on (prepared from a fresh plan); -1 + message. */
int sl_function_use_backend(sl_function *f, const sl_backend *b);

/* -- what backends may use of the executor (executor.c) -------------------------- */

/* Run node f->order[at] by its op's reference kernel: profiled, checked
** against its static type and by the NaN guard; 0 or -1 with a message. */
int sl_run_node(sl_run *r, int at);
/* Run a step's nodes one by one; values a kernel does not store are dropped after. */
int sl_run_step_nodes(sl_run *r, const sl_step *st);
/* A contiguous tensor for the result in slot s: the host's output buffer when
** s is an output with one that fits, else from the pool when a buffer fits. */
sl_tensor *sl_run_alloc(sl_run *r, int s, sl_dtype dt, int nd, const int64_t *shape);

#endif
