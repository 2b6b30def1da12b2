/*
** reduce_rows.h — the reductions' table: one row per op. reduce.c expands
** it into the op rows; rows.h into the declarations other files name them by.
*/
#ifndef SL_REDUCE_ROWS_H
#define SL_REDUCE_ROWS_H

/* One row per op: name, typing rule, whether an empty row is an error,
** whether it computes in double for every input dtype, row kernels, and how
** a fused kernel may end in it (graph.h: SL_FUSE_*). */
#define SL_REDUCE_OPS(_) \
  _(sum,    RD_ACCUM, 0, 0, sum_f,    sum_i, SUM) \
  _(prod,   RD_ACCUM, 0, 0, prod_f,   prod_i, PROD) \
  _(mean,   RD_FLOAT, 0, 1, mean_f,   NULL, MEAN) \
  _(var,    RD_FLOAT, 0, 1, var_f,    NULL, NONE) \
  _(std,    RD_FLOAT, 0, 1, std_f,    NULL, NONE) \
  _(max,    RD_SAME,  1, 0, max_f,    max_i, MAX) \
  _(min,    RD_SAME,  1, 0, min_f,    min_i, MIN) \
  _(argmax, RD_INDEX, 1, 0, argmax_f, argmax_i, NONE) \
  _(argmin, RD_INDEX, 1, 0, argmin_f, argmin_i, NONE) \
  _(all,    RD_BOOL,  0, 0, all_f,    all_i, NONE) \
  _(any,    RD_BOOL,  0, 0, any_f,    any_i, NONE)

#endif
