/*
** iter.c — visiting several same-shaped strided operands in C order, in runs
** along the innermost axis after merging axes that are contiguous in all.
*/
#include "internal.h"

void sl_foreach(int nops, int ndim, const int64_t *shape, char **base,
                const int64_t *const *strides, const size_t *esize,
                sl_runfn fn, void *ctx)
{
  int64_t sh[SL_MAXDIM], st[SL_MAX_OPERANDS][SL_MAXDIM], idx[SL_MAXDIM] = { 0 };
  int64_t inner[SL_MAX_OPERANDS];
  char *p[SL_MAX_OPERANDS];
  int n = 0;
  for (int d = 0; d < ndim; d++) {
    if (shape[d] == 0) return;
    if (shape[d] == 1) continue;
    int merge = n > 0;
    for (int k = 0; k < nops && merge; k++)
      merge = st[k][n - 1] == strides[k][d] * shape[d];
    if (merge) {   /* one longer axis with the inner axis's strides */
      sh[n - 1] *= shape[d];
      for (int k = 0; k < nops; k++) st[k][n - 1] = strides[k][d];
      continue;
    }
    sh[n] = shape[d];
    for (int k = 0; k < nops; k++) st[k][n] = strides[k][d];
    n++;
  }
  for (int k = 0; k < nops; k++) {
    p[k] = base[k];
    inner[k] = n ? st[k][n - 1] : 0;
  }
  if (n == 0) { fn(p, inner, 1, ctx); return; }
  for (;;) {
    fn(p, inner, sh[n - 1], ctx);
    int d = n - 2;
    for (; d >= 0; d--) {   /* odometer over the outer axes */
      for (int k = 0; k < nops; k++) p[k] += st[k][d] * (int64_t)esize[k];
      if (++idx[d] < sh[d]) break;
      for (int k = 0; k < nops; k++) p[k] -= st[k][d] * sh[d] * (int64_t)esize[k];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}
