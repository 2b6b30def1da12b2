/*
** scan.c — the loop op: runs its sub-function (params.sub, the step) once
** per step, in C, feeding each step's new states back to the next.
**
** Layout. params.v = { nseq, nstate, nnonseq, nsteps, mask_1 .. mask_nstate,
** flags }: nsteps is the trip count, or -1 for the sequences' common length
** (with SCAN_UNTIL, the most steps), or SCAN_STEPS_FROM_SEQ (-2) for the
** same where sequence 1 stands for a symbolic n_steps (scan.lua gives n
** zeros that the step does not read, and cuts the others to n rows, so a
** shorter one is named as too short for n_steps); mask_k says which earlier steps state
** k's step reads (bit j-1: tap -j). With SCAN_UNTIL the step's last output
** is a boolean scalar, and the loop stops after the first step that returns
** true: the outputs then hold the steps that ran. Flag SCAN_FINAL << k
** makes state k keep only its last m_k rows, in a ring of m_k + 1 rows, and
** return those: a loop whose every step's state is not needed (a fold, the
** sums of a gradient) runs in memory of one state. params.x is the
** gradient's truncation (grad.lua reads it; -1: none). Inputs are
** the sequences, then each state's initial rows (m_k of them, m_k its
** oldest tap), then the non-sequences. The step takes one row of each
** sequence, each state's taps oldest first, then the non-sequences; it
** returns each state's new row, then the outputs that are not fed back.
** Outputs: each state's whole buffer (its m_k initial rows, then one row per
** step: what the gradient reads back), then the stacked other outputs.
**
** The step is an ordinary compiled function, made once per backend (the
** backend of the function running the scan: sl_calling_backend) and kept in
** the sub-function; the buffers are allocated once per call, and each step
** writes its rows into them.
*/
#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "function.h"
#include "backend.h"

enum { SCAN_UNTIL = 1, SCAN_FINAL = 2 };
enum { SCAN_STEPS_FROM_SEQ = -2 };

typedef struct layout {
  int nseq, nstate, nnon, ny, flags;
  int64_t nsteps;
  int mask[SL_MAXPARAMS], m[SL_MAXPARAMS], ntaps[SL_MAXPARAMS], final[SL_MAXPARAMS];
  int ntap_total;
} layout;

static int popcount(unsigned x) { int c = 0; for (; x; x &= x - 1) c++; return c; }
static int top_bit(unsigned x) { int b = 0; for (; x; x >>= 1) b++; return b; }

static int read_layout(const sl_node *n, layout *L)
{
  const sl_params *p = &n->params;
  if (!p->sub || p->n < 4) return sl_fail("scan: the node has no step function");
  L->nseq = (int)p->v[0]; L->nstate = (int)p->v[1]; L->nnon = (int)p->v[2]; L->nsteps = p->v[3];
  if (L->nseq < 0 || L->nstate < 0 || L->nnon < 0 || p->n != 5 + L->nstate)
    return sl_fail("scan: malformed parameters");
  L->flags = (int)p->v[4 + L->nstate];
  for (int k = 0; k < L->nstate; k++) L->final[k] = (L->flags & (SCAN_FINAL << k)) != 0;
  L->ntap_total = 0;
  for (int k = 0; k < L->nstate; k++) {
    L->mask[k] = (int)p->v[4 + k];
    if (L->mask[k] <= 0 || L->mask[k] >= (1 << 30)) return sl_fail("scan: state %d has no taps", k + 1);
    L->m[k] = top_bit((unsigned)L->mask[k]);
    L->ntaps[k] = popcount((unsigned)L->mask[k]);
    L->ntap_total += L->ntaps[k];
  }
  L->ny = p->sub->nout - L->nstate;
  if (n->nin != L->nseq + L->nstate + L->nnon)
    return sl_fail("scan: %d inputs for %d sequences, %d states and %d non-sequences", n->nin,
                   L->nseq, L->nstate, L->nnon);
  if (p->sub->nin != L->nseq + L->ntap_total + L->nnon)
    return sl_fail("scan: the step takes %d inputs, the layout gives it %d", p->sub->nin,
                   L->nseq + L->ntap_total + L->nnon);
  if (L->ny < 0) return sl_fail("scan: the step returns %d values for %d states", p->sub->nout, L->nstate);
  if (L->nsteps < 0 && L->nseq == 0) return sl_fail("scan: no sequences and no n_steps: the trip count is unknown");
  if ((L->flags & SCAN_UNTIL) && L->ny < 1) return sl_fail("scan: until: the step returns no condition");
  return 0;
}

/* ty without its first axis */
static void row_type(const sl_type *ty, sl_type *row)
{
  *row = *ty;
  row->ndim = ty->ndim - 1;
  for (int d = 0; d < row->ndim; d++) row->shape[d] = ty->shape[d + 1];
}

/* a can take values of b's type: same dtype and rank, no known sizes that differ */
static int fits(const sl_type *want, const sl_type *got)
{
  if (want->dtype != got->dtype || want->ndim != got->ndim) return 0;
  for (int d = 0; d < want->ndim; d++)
    if (want->shape[d] != SL_UNKNOWN && got->shape[d] != SL_UNKNOWN && want->shape[d] != got->shape[d]) return 0;
  return 1;
}

static int type_mismatch(const char *what, int k, const sl_type *want, const sl_type *got)
{
  char a[128], b[128];
  sl_type_text(want, a, sizeof a);
  sl_type_text(got, b, sizeof b);
  return sl_fail("scan: %s %d is %s where the step expects %s", what, k + 1, b, a);
}

static int scan_infer(sl_node *n, sl_type *out)
{
  layout L;
  if (read_layout(n, &L)) return -1;
  const sl_subfn *f = n->params.sub;
  int64_t steps = L.nsteps;
  int at = 0;   /* the step's input being matched */
  for (int s = 0; s < L.nseq; s++) {
    const sl_type *t = &n->inputs[s]->type;
    if (t->ndim < 1) return sl_fail("scan: sequence %d is 0-d: a sequence needs an axis to step along", s + 1);
    sl_type row;
    row_type(t, &row);
    if (!fits(&f->inputs[at]->type, &row)) return type_mismatch("a row of sequence", s, &f->inputs[at]->type, &row);
    at++;
    if (L.nsteps < 0 && t->shape[0] != SL_UNKNOWN) {
      if (steps >= 0 && steps != t->shape[0])
        return sl_fail("scan: sequence %d has %lld steps, an earlier one %lld", s + 1,
                       (long long)t->shape[0], (long long)steps);
      steps = t->shape[0];
    }
    if (L.nsteps >= 0 && t->shape[0] != SL_UNKNOWN && t->shape[0] < L.nsteps)
      return sl_fail("scan: sequence %d has %lld steps, fewer than n_steps = %lld", s + 1,
                     (long long)t->shape[0], (long long)L.nsteps);
  }
  for (int k = 0; k < L.nstate; k++) {
    const sl_type *t = &n->inputs[L.nseq + k]->type;
    if (t->ndim < 1 || (t->shape[0] != SL_UNKNOWN && t->shape[0] != L.m[k]))
      return sl_fail("scan: state %d reads %d steps back, so its initial value needs %d rows", k + 1, L.m[k], L.m[k]);
    sl_type row;
    row_type(t, &row);
    for (int j = 0; j < L.ntaps[k]; j++, at++)
      if (!fits(&f->inputs[at]->type, &row)) return type_mismatch("the initial value of state", k, &f->inputs[at]->type, &row);
    const sl_type *o = &f->outputs[k]->type;
    if (!fits(&row, o)) {
      char a[128], b[128];
      sl_type_text(&row, a, sizeof a);
      sl_type_text(o, b, sizeof b);
      return sl_fail("scan: step 1 changes state %d from %s to %s: a state must keep its type", k + 1, a, b);
    }
    out[k] = row;
    out[k].ndim = row.ndim + 1;
    for (int d = row.ndim; d > 0; d--) out[k].shape[d] = row.shape[d - 1];
    out[k].shape[0] = L.final[k] ? L.m[k] : steps >= 0 ? steps + L.m[k] : SL_UNKNOWN;
  }
  for (int i = 0; i < L.nnon; i++, at++) {
    const sl_type *t = &n->inputs[L.nseq + L.nstate + i]->type;
    if (!fits(&f->inputs[at]->type, t)) return type_mismatch("non-sequence", i, &f->inputs[at]->type, t);
  }
  for (int y = 0; y < L.ny; y++) {
    const sl_type *o = &f->outputs[L.nstate + y]->type;
    if (o->ndim + 1 > SL_MAXDIM) return sl_fail("scan: output %d has too many axes to stack", L.nstate + y + 1);
    sl_type *t = &out[L.nstate + y];
    *t = *o;
    t->ndim = o->ndim + 1;
    for (int d = o->ndim; d > 0; d--) t->shape[d] = o->shape[d - 1];
    t->shape[0] = steps;
  }
  if (L.flags & SCAN_UNTIL) {
    const sl_type *c = &f->outputs[f->nout - 1]->type;
    if (c->dtype != SL_BOOL || c->ndim != 0) {
      char a[128];
      sl_type_text(c, a, sizeof a);
      return sl_fail("scan: until: the condition must be a boolean scalar, got %s", a);
    }
    for (int k = 0; k < f->nout; k++) if (k >= L.nstate || !L.final[k]) out[k].shape[0] = SL_UNKNOWN;
  }
  return 0;
}

/* -- the compiled step, one per backend ------------------------------------------ */

#define NBODIES 4
typedef struct bodies {
  const sl_backend *b[NBODIES];
  sl_function *f[NBODIES];
} bodies;

static void bodies_free(void *p)
{
  bodies *bs = p;
  for (int i = 0; i < NBODIES; i++) sl_function_free(bs->f[i]);
  free(bs);
}

static sl_function *body(sl_subfn *sub)
{
  const sl_backend *b = sl_calling_backend();
  if (!b) b = &sl_backend_reference;
  if (!sub->impl) {
    if (!(sub->impl = calloc(1, sizeof(bodies)))) { sl_fail("out of memory"); return NULL; }
    sub->impl_free = bodies_free;
  }
  bodies *bs = sub->impl;
  int i = 0;
  while (i < NBODIES && bs->b[i] && bs->b[i] != b) i++;
  if (i == NBODIES) { sl_fail("scan: too many backends"); return NULL; }
  if (bs->f[i]) return bs->f[i];
  sl_function *f = sl_function_new(sub->nin, sub->inputs, sub->nout, sub->outputs, 0, NULL, NULL);
  if (!f) return NULL;
  if (sl_function_set_where(f, sub->outputs[0] ? sub->outputs[0]->where : NULL) || sl_function_use_backend(f, b)) {
    sl_function_free(f);
    return NULL;
  }
  bs->b[i] = b;
  bs->f[i] = f;
  return f;
}

/* -- running ------------------------------------------------------------------------ */

/* A new tensor of (rows, row's shape) in dtype dt. */
static sl_tensor *stacked(sl_dtype dt, int64_t rows, int nd, const int64_t *shape)
{
  int64_t full[SL_MAXDIM];
  full[0] = rows;
  memcpy(full + 1, shape, (size_t)nd * sizeof *shape);
  return sl_tensor_empty(dt, nd + 1, full);
}

static int same_shape(const sl_tensor *a, int nd, const int64_t *shape)
{
  return a->ndim == nd && memcmp(a->shape, shape, (size_t)nd * sizeof *shape) == 0;
}

static int changed(const char *what, int k, int64_t step, int nd, const int64_t *want, const sl_tensor *got)
{
  char a[128], b[128];
  sl_shape_text(a, sizeof a, nd, want);
  sl_shape_text(b, sizeof b, got->ndim, got->shape);
  return sl_fail("scan: step %lld changes %s %d from shape %s to %s: it must keep its shape",
                 (long long)step, what, k + 1, a, b);
}

/* Row r of state k's buffer: all rows, or a ring of m + 1 for a final state. */
static int64_t state_row(const layout *L, int k, int64_t r) { return L->final[k] ? r % (L->m[k] + 1) : r; }

/* The last m rows of state k's ring after rows 0 .. last, oldest first. */
static sl_tensor *ring_tail(const layout *L, int k, sl_tensor *ring, int64_t last)
{
  int m = L->m[k];
  sl_tensor *out = stacked(ring->dtype, m, ring->ndim - 1, ring->shape + 1);
  for (int q = 0; out && q < m; q++) {
    sl_tensor *src = sl_tensor_select(ring, 0, state_row(L, k, last - m + 1 + q));
    sl_tensor *dst = sl_tensor_select(out, 0, q);
    int rc = src && dst ? sl_tensor_copy(dst, src) : -1;
    sl_tensor_release(src);
    sl_tensor_release(dst);
    if (rc) { sl_tensor_release(out); return NULL; }
  }
  return out;
}

/* row t of buffer buf written with value v */
static int put_row(sl_tensor *buf, int64_t t, const sl_tensor *v)
{
  sl_tensor *row = sl_tensor_select(buf, 0, t);
  int rc = row ? sl_tensor_copy(row, v) : -1;
  sl_tensor_release(row);
  return rc;
}

static int scan_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  layout L;
  if (read_layout(n, &L)) return -1;
  sl_function *f = body(n->params.sub);
  if (!f) return -1;
  int64_t steps = L.nsteps;
  for (int s = 0; s < L.nseq; s++) {
    int64_t len = in[s]->shape[0];
    if (L.nsteps >= 0 && len < L.nsteps)
      return sl_fail("scan: sequence %d has %lld steps, fewer than n_steps = %lld", s + 1, (long long)len,
                     (long long)L.nsteps);
    if (L.nsteps == SCAN_STEPS_FROM_SEQ && s > 0 && len != steps)   /* sequence s + 1 is the user's s */
      return sl_fail("scan: sequence %d has %lld steps, fewer than n_steps = %lld", s, (long long)len, (long long)steps);
    if (L.nsteps < 0 && steps >= 0 && len != steps)
      return sl_fail("scan: sequence %d has %lld steps, sequence 1 has %lld", s + 1, (long long)len, (long long)steps);
    if (L.nsteps < 0) steps = len;
  }
  int nout = L.nstate + L.ny, rc = 0;
  for (int k = 0; k < nout; k++) out[k] = NULL;
  for (int k = 0; k < L.nstate && !rc; k++) {
    const sl_tensor *init = in[L.nseq + k];
    if (init->shape[0] != L.m[k])
      return sl_fail("scan: state %d reads %d steps back, so its initial value needs %d rows, not %lld", k + 1,
                     L.m[k], L.m[k], (long long)init->shape[0]);
    out[k] = stacked(init->dtype, L.final[k] ? L.m[k] + 1 : steps + L.m[k], init->ndim - 1, init->shape + 1);
    sl_tensor *head = out[k] ? sl_tensor_slice(out[k], 0, 0, L.m[k], 1) : NULL;
    rc = head ? sl_tensor_copy(head, init) : -1;
    sl_tensor_release(head);
  }
  int nargs = f->nin;
  sl_tensor **args = calloc((size_t)nargs + 2 * ((size_t)nout + 1), sizeof *args);
  sl_tensor **res = args ? args + nargs : NULL, **into = res ? res + nout + 1 : NULL;
  if (!args) rc = sl_fail("out of memory");
  int64_t ran = 0;
  for (int t = 0; t < steps && !rc; t++) {
    int at = 0;
    for (int s = 0; s < L.nseq; s++) args[at++] = sl_tensor_select(in[s], 0, t);
    for (int k = 0; k < L.nstate; k++)
      for (int j = L.m[k]; j >= 1; j--)
        if (L.mask[k] & (1 << (j - 1))) args[at++] = sl_tensor_select(out[k], 0, state_row(&L, k, t + L.m[k] - j));
    for (int i = 0; i < L.nnon; i++) { args[at] = in[L.nseq + L.nstate + i]; sl_tensor_retain(args[at++]); }
    for (int i = 0; i < at; i++) if (!args[i]) rc = -1;
    /* the step writes its rows into the buffers (the stacked ones exist from step 2) */
    int direct = 0;
    for (int k = 0; k < nout && !rc; k++) {
      int cond = (L.flags & SCAN_UNTIL) && k == nout - 1;   /* read below: returned as a value */
      sl_tensor *buf = cond ? NULL : k < L.nstate ? out[k] : t > 0 ? out[k] : NULL;
      into[k] = buf ? sl_tensor_select(buf, 0, k < L.nstate ? state_row(&L, k, t + L.m[k]) : t) : NULL;
      direct |= into[k] != NULL;
    }
    if (!rc) rc = sl_function_run_into(f, args, res, direct ? into : NULL);
    /* a failed step runs again without the buffers, so that a result whose
    ** shape changed gets the error below, naming the step */
    if (rc && direct) rc = sl_function_run(f, args, res), direct = 0;
    for (int i = 0; i < at; i++) { sl_tensor_release(args[i]); args[i] = NULL; }
    if (rc) {   /* a failed run has released its results */
      for (int k = 0; k < nout; k++) { sl_tensor_release(into[k]); into[k] = res[k] = NULL; }
      break;
    }
    for (int k = 0; k < nout && !rc; k++) {
      if (direct && into[k]) continue;   /* written in place */
      sl_tensor *v = res[k];
      if (k < L.nstate) {
        if (!same_shape(v, out[k]->ndim - 1, out[k]->shape + 1))
          rc = changed("state", k, t + 1, out[k]->ndim - 1, out[k]->shape + 1, v);
        else rc = put_row(out[k], state_row(&L, k, t + L.m[k]), v);
      } else {
        if (t == 0 && !(out[k] = stacked(v->dtype, steps, v->ndim, v->shape))) rc = -1;
        else if (!same_shape(v, out[k]->ndim - 1, out[k]->shape + 1))
          rc = changed("output", k, t + 1, out[k]->ndim - 1, out[k]->shape + 1, v);
        else rc = put_row(out[k], t, v);
      }
    }
    int stop = !rc && (L.flags & SCAN_UNTIL) && *(const uint8_t *)sl_tensor_ptr(res[nout - 1]);
    for (int k = 0; k < nout; k++) {
      sl_tensor_release(res[k]);
      sl_tensor_release(into[k]);
      res[k] = into[k] = NULL;
    }
    ran = t + 1;
    if (stop) break;
  }
  free(args);
  /* stopped early: the outputs hold the steps that ran */
  for (int k = 0; k < L.nstate && !rc; k++) {
    if (!L.final[k]) continue;
    sl_tensor *tail = ring_tail(&L, k, out[k], ran + L.m[k] - 1);
    if (!tail) { rc = -1; break; }
    sl_tensor_release(out[k]);
    out[k] = tail;
  }
  for (int k = 0; k < nout && !rc && ran > 0 && ran < steps; k++) {
    if (k < L.nstate && L.final[k]) continue;
    int64_t keep = ran + (k < L.nstate ? L.m[k] : 0);
    sl_tensor *part = sl_tensor_slice(out[k], 0, 0, keep, 1);
    if (!part) { rc = -1; break; }
    sl_tensor_release(out[k]);
    out[k] = part;
  }
  /* no steps: the other outputs are empty, their unknown sizes taken as 0 */
  for (int y = L.nstate; y < nout && !rc && steps == 0; y++) {
    const sl_type *o = &n->outputs[y].type;
    int64_t shape[SL_MAXDIM];
    for (int d = 0; d < o->ndim; d++) shape[d] = o->shape[d] == SL_UNKNOWN ? 0 : o->shape[d];
    shape[0] = 0;
    if (!(out[y] = sl_tensor_empty(o->dtype, o->ndim, shape))) rc = -1;
  }
  return rc;
}

const sl_op sl_op_scan = { .name = "scan", .nin = -1, .nout = -1, .infer = scan_infer, .perform = scan_perform,
    .flags = SL_OP_COMPLEX | SL_OP_EXACT_GRAD };
