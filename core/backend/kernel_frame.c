/*
** kernel_frame.c — one call's layout of a fused kernel step (kernel_frame.h),
** shared by the generating backends so that their variants see the same
** collapsed loops: shapes by broadcasting, stores, strides, merged axes.
*/
#include <string.h>

#include "kernel_frame.h"

/* The input tensor a kernel's store may be written into (the inplace pass
** marked the node), or NULL: the rule of graph.h — a run value held only by
** the run (and by its shared variable), contiguous, of the result's dtype and
** of the loop's shape. Every operand of a kernel is read at an element before
** that element is stored, so writing over an input read at the same index is safe. */
static sl_tensor *inplace_target(const sl_run *r, const sl_kernel *k, int j, int nd,
                                 const int64_t *loop)
{
  const sl_function *f = r->f;
  const sl_node *n = f->order[k->node[j]];
  if (!n->destroy || k->reduce) return NULL;
  int i = n->destroy - 1, src = k->src[j][i];
  if (src >= 0 || k->load[-src - 1].pasted) return NULL;
  const sl_var *v = n->inputs[i];
  sl_tensor *t = r->val[k->load[-src - 1].slot];
  int held = v->kind == SL_VAR_RESULT ? 1 : v->kind == SL_VAR_SHARED && v->value == t ? 2 : 0;
  if (!held || sl_refs(&t->refcount) != held || sl_refs(&t->storage->refcount) != 1 || t->storage->release ||
      t->dtype != n->outputs[0].type.dtype || t->ndim != nd ||
      memcmp(t->shape, loop, (size_t)nd * sizeof *loop) || !sl_tensor_is_contiguous(t)) return NULL;
  return t;
}

/* Merge axis runs that every operand walks as one: stride[i] == stride[j] * size[j]. */
static int collapse(int nd, int64_t *shape, int nops, int64_t (*st)[SL_MAXDIM])
{
  int m = 0;
  for (int d = 0; d < nd; d++) {
    int merge = m > 0;
    for (int k = 0; k < nops && merge; k++) merge = st[k][m - 1] == st[k][d] * shape[d];
    if (merge) {
      shape[m - 1] *= shape[d];
      for (int k = 0; k < nops; k++) st[k][m - 1] = st[k][d];
      continue;
    }
    shape[m] = shape[d];
    for (int k = 0; k < nops; k++) st[k][m] = st[k][d];
    m++;
  }
  return m;
}

/* Strides of t as seen from a loop of shape (nd, shape): broadcast axes walk with stride 0. */
static void frame_strides(const sl_tensor *t, int nd, const int64_t *shape, int64_t *st)
{
  int lead = nd - t->ndim;
  for (int d = 0; d < nd; d++) {
    int od = d - lead;
    st[d] = od < 0 || (t->shape[od] == 1 && shape[d] != 1) ? 0 : t->strides[od];
  }
}

/* Reduced axes of a reduction node, as a mask over its input's axes. */
static void reduced_axes(const sl_node *r, int *mask)
{
  memset(mask, 0, SL_MAXDIM * sizeof *mask);
  for (int i = 1; i < r->params.n; i++) mask[r->params.v[i]] = 1;
}

int sl_kernel_unit_axis(const sl_kernel *k, const sl_kargs *a, int d, int column_zero)
{
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (ld->pasted || ld->how == SL_LOAD_SCALAR) continue;
    int64_t want = ld->how == SL_LOAD_COLUMN && column_zero ? 0 : 1;
    if (a->st[ld->op][d] != want) return 0;
  }
  for (int s = 0; s < k->nstore; s++) if (a->st[k->nops - k->nstore + s][d] != 1) return 0;
  return 1;
}

int sl_kernel_frame(sl_run *r, sl_step *step, sl_kargs *a, int *rank, int64_t (*shape)[SL_MAXDIM])
{
  sl_function *f = r->f;
  sl_kernel *k = step->k;
  int nm = k->reduce ? k->nnodes - 1 : k->nnodes;
  /* members' shapes, by broadcasting; trouble goes to the reference path */
  for (int j = 0; j < nm; j++) {
    const sl_node *n = f->order[k->node[j]];
    int nd = 0;
    int64_t *sh = shape[j];
    for (int i = 0; i < n->nin; i++) {
      int src = k->src[j][i], ind;
      const int64_t *ish;
      if (src >= 0) { ind = rank[src]; ish = shape[src]; }
      else { const sl_tensor *t = r->val[k->load[-src - 1].slot]; ind = t->ndim; ish = t->shape; }
      if (i == 0) { nd = ind; memcpy(sh, ish, (size_t)ind * sizeof *sh); }
      else if (sl_broadcast_shapes(nd, sh, ind, ish, &nd, sh)) return sl_run_step_nodes(r, step) ? -1 : 1;
    }
    rank[j] = nd;
  }
  int nd;
  const int64_t *loop;
  if (k->reduce) {
    int src = k->src[k->nnodes - 1][0];
    if (src >= 0) { nd = rank[src]; loop = shape[src]; }
    else { const sl_tensor *t = r->val[k->load[-src - 1].slot]; nd = t->ndim; loop = t->shape; }
    if (nd != f->order[k->node[k->nnodes - 1]]->inputs[0]->type.ndim) return sl_run_step_nodes(r, step) ? -1 : 1;
  } else {
    int j0 = k->store_node[0];
    nd = rank[j0];
    loop = shape[j0];
    for (int s = 1; s < k->nstore; s++) {
      int j = k->store_node[s];
      if (rank[j] != nd || memcmp(shape[j], loop, (size_t)nd * sizeof *loop))
        return sl_run_step_nodes(r, step) ? -1 : 1;
    }
  }
  int64_t numel = 1;
  for (int d = 0; d < nd; d++) numel *= loop[d];
  if (k->reduce && numel == 0) return sl_run_step_nodes(r, step) ? -1 : 1;

  a->n = numel;
  int64_t full[SL_KMAXOPS][SL_MAXDIM];
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (ld->pasted) continue;
    const sl_tensor *t = r->val[ld->slot];
    a->ptr[ld->op] = sl_tensor_ptr(t);
    frame_strides(t, nd, loop, full[ld->op]);
  }
  /* stores */
  for (int s = 0; s < k->nstore; s++) {
    int j = k->store_node[s], at = k->node[j], op = k->nops - k->nstore + s;
    const sl_node *n = f->order[at];
    int sl = f->out_slot[at][0];
    sl_tensor *t;
    if (k->reduce) {
      int mask[SL_MAXDIM], ond = 0, keepdims = (int)n->params.v[0];
      int64_t osh[SL_MAXDIM];
      reduced_axes(n, mask);
      for (int d = 0; d < nd; d++) if (!mask[d] || keepdims) osh[ond++] = mask[d] ? 1 : loop[d];
      t = sl_run_alloc(r, sl, n->outputs[0].type.dtype, ond, osh);
      if (!t) return -1;
      for (int d = 0, od = 0; d < nd; d++) {
        full[op][d] = mask[d] ? 0 : t->strides[od];
        if (!mask[d] || keepdims) od++;
      }
    } else {
      if ((t = inplace_target(r, k, j, nd, loop))) sl_tensor_retain(t);   /* held by both slots */
      else if (!(t = sl_run_alloc(r, sl, n->outputs[0].type.dtype, nd, loop))) return -1;
      memcpy(full[op], t->strides, (size_t)nd * sizeof(int64_t));
    }
    sl_tensor_release(r->val[sl]);
    r->val[sl] = t;
    a->ptr[op] = sl_tensor_ptr(t);
  }
  if (numel == 0) return 1;
  if (k->reduce) {
    int mask[SL_MAXDIM];
    int64_t ks[SL_MAXDIM], rs[SL_MAXDIM];
    int nk = 0, nr = 0;
    reduced_axes(k->reduce, mask);
    a->rcount = 1;
    for (int d = 0; d < nd; d++) {
      if (mask[d]) a->rcount *= (double)loop[d];
      if (loop[d] == 1) continue;
      if (mask[d]) { for (int o = 0; o < k->nops; o++) a->rst[o][nr] = full[o][d]; rs[nr++] = loop[d]; }
      else { for (int o = 0; o < k->nops; o++) a->st[o][nk] = full[o][d]; ks[nk++] = loop[d]; }
    }
    a->nd = collapse(nk, ks, k->nops, a->st);
    a->nr = collapse(nr, rs, k->nops, a->rst);
    memcpy(a->shape, ks, sizeof ks);
    memcpy(a->rshape, rs, sizeof rs);
    return 0;
  }
  int64_t sh[SL_MAXDIM];
  int m = 0;
  for (int d = 0; d < nd; d++) {
    if (loop[d] == 1) continue;
    for (int o = 0; o < k->nops; o++) a->st[o][m] = full[o][d];
    sh[m++] = loop[d];
  }
  a->nd = collapse(m, sh, k->nops, a->st);
  memcpy(a->shape, sh, sizeof sh);
  if (a->nd == 0) {
    a->nd = 1;
    a->shape[0] = 1;
    for (int o = 0; o < k->nops; o++) a->st[o][0] = 1;   /* one element: the flat loop reads [0] */
  }
  a->nr = 0;
  return 0;
}
