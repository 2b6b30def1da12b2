/*
** dist.h — collectives across the ranks of an MPI job (sl.dist), with MPI
** opened at run time: a process not started by an MPI launcher, or a
** machine without MPI, is one rank and every collective is the identity.
*/
#ifndef SL_DIST_H
#define SL_DIST_H

#include "internal.h"

/* The reductions of allreduce, in the order of their names. */
#define SL_DIST_REDUCTIONS(_) _(SUM, "sum") _(MEAN, "mean") _(MAX, "max") _(MIN, "min") _(PROD, "prod")
typedef enum {
#define SL_DIST_OP_ENUM(e, name) SL_DIST_##e,
  SL_DIST_REDUCTIONS(SL_DIST_OP_ENUM)
#undef SL_DIST_OP_ENUM
  SL_DIST_NOPS
} sl_dist_op;

const char *sl_dist_op_name(sl_dist_op op);
int sl_dist_op_from_name(const char *name, sl_dist_op *op);   /* 0, or -1 + sl_fail */

/* Whether op is defined on dtype dt; 0, or -1 + sl_fail. */
int sl_dist_check_op(sl_dtype dt, sl_dist_op op);

int  sl_dist_init(void);        /* idempotent; 0, or -1 + sl_fail */
int  sl_dist_rank(void);        /* 0 before init */
int  sl_dist_size(void);        /* 1 before init and without MPI */
const char *sl_dist_library(void);   /* the MPI library in use, or NULL */
int  sl_dist_barrier(void);

/* In place on t's elements; a non-contiguous t is reduced through a copy.
** check_shapes: first compare t's dtype and shape across ranks (one small
** allgather), so a mismatch is an error instead of undefined behaviour. */
int  sl_dist_allreduce(sl_tensor *t, sl_dist_op op, int check_shapes);
int  sl_dist_broadcast(sl_tensor *t, int root);
/* The ranks' t joined along axis 0 in rank order:
** shape (size * n0, n1, ...); a scalar gives a vector of size values. */
sl_tensor *sl_dist_allgather(const sl_tensor *t);
/* Rank r's dtype and shape, for every r, as (size, 2 + SL_MAXDIM) int64:
** dtype, ndim, sizes. */
int  sl_dist_gather_types(const sl_tensor *t, int64_t *out);

/* End the whole job now (after an error on this rank, or an exit with a
** failing status), naming this rank; returns when it is the only rank. */
void sl_dist_abort(int code);
int  sl_dist_finalize(void);

#endif
