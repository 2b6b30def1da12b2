/*
** function.h — compiled functions over the graph IR (see function.c).
*/
#ifndef SL_FUNCTION_H
#define SL_FUNCTION_H

#include "graph.h"

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
} sl_function;

sl_function *sl_function_new(int nin, sl_var **inputs, int nout, sl_var **outputs,
                             int nupd, sl_var **upd_shared, sl_var **upd_expr);
void sl_function_free(sl_function *f);

/* 0 when args[i] fits input i, else -1 with a message naming the input. */
int sl_function_check_input(const sl_function *f, int i, const sl_tensor *t);

/* Run on args (nin tensors); results gets nout new tensors. Updates are
** applied to the shared variables before returning. */
int sl_function_call(sl_function *f, sl_tensor **args, sl_tensor **results);

#endif
