/*
** ops.c — the op registry: every op family's table, found by name.
*/
#include <string.h>

#include "graph.h"

static const struct { const sl_op *ops; const int *n; } families[] = {
  { sl_elemwise_ops, &sl_elemwise_nops },
  { sl_blas_ops, &sl_blas_nops },
  { sl_shape_ops, &sl_shape_nops },
  { sl_index_ops, &sl_index_nops },
  { sl_grad_ops, &sl_grad_nops },
  { sl_reduce_ops, &sl_reduce_nops },
  { sl_nn_ops, &sl_nn_nops },
  { sl_random_ops, &sl_random_nops },
  { sl_conv_ops, &sl_conv_nops },
  { sl_complex_ops, &sl_complex_nops },
  { sl_fft_ops, &sl_fft_nops },
  { sl_dist_ops, &sl_dist_nops },
  { sl_scan_ops, &sl_scan_nops },
};
#define NFAMILIES ((int)(sizeof families / sizeof *families))

int sl_op_count(void)
{
  int n = 0;
  for (int f = 0; f < NFAMILIES; f++) n += *families[f].n;
  return n;
}

const sl_op *sl_op_at(int i)
{
  for (int f = 0; f < NFAMILIES; f++) {
    if (i < *families[f].n) return &families[f].ops[i];
    i -= *families[f].n;
  }
  return NULL;
}

const sl_op *sl_op_find(const char *name)
{
  for (int i = 0, n = sl_op_count(); i < n; i++)
    if (strcmp(sl_op_at(i)->name, name) == 0) return sl_op_at(i);
  sl_fail("unknown op '%s'", name);
  return NULL;
}
