/*
** dist.c — the collective op of data-parallel training: allreduce, each
** rank's value replaced by the reduction over all ranks (core/dist).
**
** Params: v[0] the reduction (sl_dist_op). Impure, so never merged or
** folded: every rank must run the same collectives in the same order.
** Shapes are not compared across ranks here (that costs a message per
** call); sl.dist.data_parallel compares the parameters' once. The inplace
** pass lets it reduce an input that dies with it in that input's buffer.
*/
#include "dist.h"
#include "rows.h"

static int allreduce_infer(sl_node *n, sl_type *out)
{
  const sl_params *p = &n->params;
  if (p->n < 1 || p->v[0] < 0 || p->v[0] >= SL_DIST_NOPS) return sl_fail("allreduce: no reduction given");
  out[0] = n->inputs[0]->type;
  return sl_dist_check_op(out[0].dtype, (sl_dist_op)p->v[0]);
}

/* out[0] on entry: the input's own tensor, handed over by the run when the
** inplace pass found that it dies here (opt/inplace.c): reduced where it is,
** saving a copy of the bucket per step. */
static int allreduce_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  if (!out[0] && !(out[0] = sl_tensor_clone(in[0]))) return -1;
  return sl_dist_allreduce(out[0], (sl_dist_op)n->params.v[0], 0);
}

const sl_op sl_op_allreduce = { .name = "allreduce", .nin = 1, .nout = 1, .infer = allreduce_infer, .perform = allreduce_perform,
    .flags = SL_OP_IMPURE | SL_OP_COMPLEX | SL_OP_EXACT_GRAD };
