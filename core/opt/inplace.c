/*
** inplace.c — the inplace pass: results written into the buffer of an
** input that dies with the node, and the run-time half that decides, per
** call, whether that buffer may really be written.
**
** The pass marks node.destroy (graph.h) on elementwise nodes, on gemm,
** gemv (operand 0, the added C or y) and ger (operand 0, A), and on
** allreduce (its operand, reduced where it lies), when the chosen input
**   - has output 0's dtype and rank, and is not broadcast by the node (no
**     axis statically 1 where the output's is not);
**   - is read by this node once, by no graph output, and by no other node
**     unless that node is an ancestor of this one: every run order puts the
**     other readers first, so nothing reads the input after it is written;
**   - is computed by a node (not a function input, which the caller still
**     holds, nor a constant), or is a shared variable whose update is this
**     node's output and nothing else: W <- W - lr*g then overwrites W's
**     buffer with the new value, which the update step at the end of the
**     call finds already in place. The forward pass and the gradient read
**     W as well, but they are ancestors of the update.
** Views are left to the run: no op's kernel returns a view of its input
** today, and the run-time test below refuses a buffer that any other
** tensor shares.
**
** At run time (sl_node_perform_inplace) the input's tensor is handed to the
** kernel as output 0 only when it is contiguous with output 0's dtype, its
** storage belongs to the core and to this tensor alone, and the tensor is
** held by nobody but the run (and, for a shared variable, the variable):
** a value the caller kept a reference to, or a view of, is never written.
** The kernel then writes into it when it also has the result's shape (the
** input may still be smaller, to be broadcast, where the static shapes did
** not tell), else it computes out of place.
**
** One consequence: a call that fails after a node wrote a shared
** variable's new value in place leaves that variable changed. Functions
** run with the NaN guard compute out of place, so their failures change
** nothing.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fgraph.h"

/* -- the pass -------------------------------------------------------------------------- */

/* The node families the pass's rewrites take, one rewrite each. */
typedef enum { FAMILY_ELEMWISE, FAMILY_BLAS, FAMILY_COLLECTIVE } family;

/* Which inputs of n may be destroyed: [first, last). */
static void candidates(const sl_node *n, family which, int *first, int *last)
{
  const sl_op *op = n->op;
  *first = *last = 0;
  switch (which) {
  case FAMILY_ELEMWISE: if (op->rule != SL_TR_NONE && n->nout == 1) *last = n->nin; break;
  case FAMILY_BLAS: if (op == &sl_op_gemm || op == &sl_op_gemv || op == &sl_op_ger) *last = 1; break;
  case FAMILY_COLLECTIVE: if (op == &sl_op_allreduce) *last = 1; break;
  }
}

/* out is the new value of shared variable w, and only that. */
static int is_update_of(const sl_fgraph *g, const sl_var *out, const sl_var *w)
{
  const sl_client *c;
  if (sl_rw_clients(g, out, &c) != 1 || c[0].node) return 0;
  int u = c[0].index - (g->nout - g->nupdates);
  return u >= 0 && u < g->nupdates && g->updated[u] == w;
}

/* The nodes an ancestor proof may look at before it gives up (and the
** input stays intact): the pass stays cheap on very large graphs, where a
** far reader, such as a weight's use in the forward pass of a deep net,
** is not proven. */
#define ANCESTOR_BUDGET 64

/* Every node in others[0..n-1] is an ancestor of node: 1, 0, or -1 on
** error. pos maps each node to its place in a topological order: a node
** placed before all of others cannot have any of them above it. */
static int all_ancestors(const sl_ptrmap *pos, const sl_node *node, sl_node **others, int nothers)
{
  sl_ptrmap seen = { 0 };
  const sl_node *stack[ANCESTOR_BUDGET];
  int depth = 0, visited = 0, found = 0, rc = 0, lowest = sl_ptrmap_get(pos, node);
  for (int k = 0; k < nothers; k++) {
    int p = sl_ptrmap_get(pos, others[k]);
    if (p < lowest) lowest = p;
  }
  stack[depth++] = node;
  while (depth > 0 && found < nothers) {
    const sl_node *m = stack[--depth];
    for (int i = 0; i < m->nin; i++) {
      const sl_node *up = m->inputs[i]->owner;
      if (!up || sl_ptrmap_get(pos, up) < lowest || sl_ptrmap_get(&seen, up) >= 0) continue;
      if (++visited > ANCESTOR_BUDGET) goto done;
      if (sl_ptrmap_put(&seen, up, 1)) { rc = -1; goto done; }
      for (int k = 0; k < nothers; k++) found += others[k] == up;
      stack[depth++] = up;   /* at most one push per visit: the budget bounds the stack */
    }
  }
  rc = found == nothers;
done:
  sl_ptrmap_free(&seen);
  return rc;
}

static int can_destroy(const sl_fgraph *g, const sl_ptrmap *pos, const sl_node *n, int i)
{
  const sl_var *v = n->inputs[i], *out = &n->outputs[0];
  const sl_client *c;
  if (v->type.dtype != out->type.dtype || v->type.ndim != out->type.ndim) return 0;
  for (int d = 0; d < v->type.ndim; d++) {
    int64_t a = v->type.shape[d], b = out->type.shape[d];
    if ((a == 1 && b != 1) || (a != SL_UNKNOWN && b != SL_UNKNOWN && a != b)) return 0;
  }
  if (v->kind != SL_VAR_RESULT && !(v->kind == SL_VAR_SHARED && is_update_of(g, out, v))) return 0;
  int nc = sl_rw_clients(g, v, &c), nothers = 0;
  sl_node *others[64];
  for (int k = 0; k < nc; k++) {
    if (!c[k].node || (c[k].node == n && c[k].index != i)) return 0;   /* an output, or read twice */
    if (c[k].node == n) continue;
    if (nothers == 64) return 0;
    others[nothers++] = c[k].node;
  }
  return nothers == 0 ? 1 : all_ancestors(pos, n, others, nothers);
}

static int mark(sl_fgraph *g, family which)
{
  sl_node **order;
  sl_ptrmap pos = { 0 };
  int norder = sl_fgraph_toposort(g, &order), marked = 0;
  if (norder < 0) return -1;
  for (int k = 0; k < norder && marked >= 0; k++) if (sl_ptrmap_put(&pos, order[k], k)) marked = -1;
  for (int k = 0; k < norder && marked >= 0; k++) {
    sl_node *n = order[k];
    int first, last;
    if (n->destroy) continue;
    candidates(n, which, &first, &last);
    for (int i = first; i < last && !n->destroy && marked >= 0; i++) {
      int ok = can_destroy(g, &pos, n, i);
      if (ok < 0) marked = -1;
      if (ok <= 0) continue;
      n->destroy = i + 1;
      marked++;
      if (g->trace) {
        char a[128], b[128];
        fprintf(stderr, "rewrite %s: %s writes into %s\n", g->rewrite->name,
                sl_var_label(&n->outputs[0], a, sizeof a), sl_var_label(n->inputs[i], b, sizeof b));
      }
    }
  }
  for (int k = 0; k < norder; k++) sl_node_release(order[k]);
  free(order);
  sl_ptrmap_free(&pos);
  return marked;
}

static int inplace_elemwise(sl_fgraph *g) { return mark(g, FAMILY_ELEMWISE); }
static int inplace_blas(sl_fgraph *g) { return mark(g, FAMILY_BLAS); }
static int inplace_allreduce(sl_fgraph *g) { return mark(g, FAMILY_COLLECTIVE); }

const sl_rewrite sl_rewrites_inplace[] = {
  { .name = "inplace_elemwise", .pass = "inplace", .global = inplace_elemwise,
    .doc = "an elementwise result is written into an input (or updated shared variable) that dies with it" },
  { .name = "inplace_blas", .pass = "inplace", .global = inplace_blas,
    .doc = "gemm, gemv and ger accumulate into the operand they add (C, y, A) when it dies with them" },
  { .name = "inplace_allreduce", .pass = "inplace", .global = inplace_allreduce,
    .doc = "an allreduce reduces its operand in that operand's buffer when it dies with it "
           "(data_parallel's concatenated bucket)" },
};
const int sl_rewrites_inplace_n = sizeof sl_rewrites_inplace / sizeof *sl_rewrites_inplace;

/* -- at run time ------------------------------------------------------------------------- */

/* The tensor node n may write output 0 into, or NULL. in[] are the run's
** values, each held once by the run. */
static sl_tensor *target(const sl_node *n, sl_tensor **in)
{
  int i = n->destroy - 1;
  const sl_var *v = n->inputs[i];
  sl_tensor *t = in[i];
  int held = v->kind == SL_VAR_RESULT ? 1 : v->kind == SL_VAR_SHARED && v->value == t ? 2 : 0;
  if (!held || sl_refs(&t->refcount) != held || sl_refs(&t->storage->refcount) != 1 || t->storage->release ||
      t->dtype != n->outputs[0].type.dtype || !sl_tensor_is_contiguous(t)) return NULL;
  return t;
}

int sl_node_perform_inplace(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  sl_tensor *t = n->destroy ? target(n, in) : NULL;
  if (!t) return sl_node_perform(n, in, out);
  for (int k = 1; k < n->nout; k++) out[k] = NULL;
  sl_tensor_retain(t);
  out[0] = t;   /* the kernel writes here, or releases it and allocates */
  if (n->op->perform(n, in, out) == 0) return 0;
  for (int k = 0; k < n->nout; k++) { sl_tensor_release(out[k]); out[k] = NULL; }
  return -1;
}
