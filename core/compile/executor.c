/*
** executor.c — calling a compiled function, on whichever backend it runs: the
** one place that checks the arguments, fills the slots, runs the plan's
** steps, profiles them, applies the NaN guard, frees each slot after its last
** reader, returns the results and applies the updates.
**
** The backend runs a step (backend.h); a node it runs one by one goes through
** sl_run_node here, which times it and checks its result. Updates take effect
** together after every step, so each one sees the old values. Under the NaN
** guard a function runs on the reference backend, whose nodes write no input
** in place: the guard reports every node's inputs as they were.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "clock.h"
#include "config.h"

/* -- debugging aids: the NaN/Inf guard ----------------------------------------------- */

typedef struct {
  sl_castfn cast;
  size_t esize;
  int64_t n, nan, posinf, neginf;
  double min, max;          /* over the finite values */
} value_stats;

static void stats_run(char **p, const int64_t *stride, int64_t n, void *ctx)
{
  value_stats *st = ctx;
  double buf[256];
  for (int64_t i = 0; i < n; i += 256) {
    int64_t m = n - i < 256 ? n - i : 256;
    st->cast(buf, 1, p[0] + i * stride[0] * (int64_t)st->esize, stride[0], m);
    for (int64_t j = 0; j < m; j++) {
      double x = buf[j];
      if (isnan(x)) st->nan++;
      else if (isinf(x)) { if (x > 0) st->posinf++; else st->neginf++; }
      else {
        if (x < st->min) st->min = x;
        if (x > st->max) st->max = x;
      }
    }
  }
  st->n += n;
}

static void stats_of(const sl_tensor *t, value_stats *st)
{
  memset(st, 0, sizeof *st);
  st->cast = sl_cast_fn(SL_FLOAT64, t->dtype);
  st->esize = sl_dtype_size(t->dtype);
  st->min = INFINITY;
  st->max = -INFINITY;
  char *base[1] = { sl_tensor_ptr(t) };
  const int64_t *strides[1] = { t->strides };
  sl_foreach(1, t->ndim, t->shape, base, strides, &st->esize, stats_run, st);
}

/* "min -1, max 2, no NaN/Inf" or "min 0, max 1, 2 NaN, 1 -Inf" */
static void stats_text(char *buf, size_t n, const value_stats *st)
{
  size_t k = 0;
  if (st->n == 0) { snprintf(buf, n, "empty"); return; }
  if (st->min <= st->max) k = (size_t)snprintf(buf, n, "min %.6g, max %.6g", st->min, st->max);
  else k = (size_t)snprintf(buf, n, "no finite values");
  if (k >= n) return;
  if (!st->nan && !st->posinf && !st->neginf) { snprintf(buf + k, n - k, ", no NaN/Inf"); return; }
  if (st->nan && k < n) k += (size_t)snprintf(buf + k, n - k, ", %lld NaN", (long long)st->nan);
  if (st->posinf && k < n) k += (size_t)snprintf(buf + k, n - k, ", %lld +Inf", (long long)st->posinf);
  if (st->neginf && k < n) snprintf(buf + k, n - k, ", %lld -Inf", (long long)st->neginf);
}

/* 0 when every float output of node n is finite; else a message naming the
** node, where it was built, and the ranges of its inputs. */
static int nan_check(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  for (int k = 0; k < n->nout; k++) {
    if (sl_dtype_kind(out[k]->dtype) != 'f') continue;
    value_stats st;
    stats_of(out[k], &st);
    if (!st.nan && !st.posinf && !st.neginf) continue;
    const sl_var *v = &n->outputs[k];
    char msg[1024], label[128], ty[128], range[160];
    size_t len;
    sl_var_label(v, label, sizeof label);
    stats_text(range, sizeof range, &st);
    len = (size_t)snprintf(msg, sizeof msg, "nan_guard: %s (%s) built at %s produced %s%s%s: %s",
                           n->op->name, label, v->where ? v->where : "?",
                           st.nan ? "NaN" : "", st.nan && (st.posinf || st.neginf) ? " and " : "",
                           st.posinf || st.neginf ? "Inf" : "", range);
    for (int i = 0; i < n->nin && len < sizeof msg; i++) {
      sl_type t;
      value_stats is;
      sl_type_of_tensor(in[i], &t);
      sl_type_text(&t, ty, sizeof ty);
      stats_of(in[i], &is);
      stats_text(range, sizeof range, &is);
      len += (size_t)snprintf(msg + len, sizeof msg - len, "\n  input %d: %s %s: %s", i + 1,
                              sl_var_label(n->inputs[i], label, sizeof label), ty, range);
    }
    return sl_fail("%s", msg);
  }
  return 0;
}

/* -- calling ---------------------------------------------------------------------- */

/* Adds to the current message which node failed, where the script built it
** and what it was given: "... (node dot#7 built at fit.lua:12; inputs
** float64 (2, 3), float64 (4, 2))". */
int sl_node_fail(const sl_node *n, int k, sl_tensor **in)
{
  char msg[1024], label[128], ty[128];
  const sl_var *v = &n->outputs[k];
  size_t len = (size_t)snprintf(msg, sizeof msg, "%s (node %s built at %s", sl_errmsg(),
                                sl_var_label(v, label, sizeof label), v->where ? v->where : "?");
  for (int i = 0; i < n->nin && len < sizeof msg; i++) {
    sl_type t;
    sl_type_of_tensor(in[i], &t);
    sl_type_text(&t, ty, sizeof ty);
    len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%s", i ? ", " : "; inputs ", ty);
  }
  if (len < sizeof msg) snprintf(msg + len, sizeof msg - len, ")");
  return sl_fail("%s", msg);
}

int sl_function_check_input(const sl_function *f, int i, const sl_tensor *t)
{
  const sl_var *v = f->inputs[i];
  if (sl_type_accepts(&v->type, t)) return 0;
  char want[128], got[128], label[64];
  sl_type ty;
  sl_type_of_tensor(t, &ty);
  sl_type_text(&v->type, want, sizeof want);
  sl_type_text(&ty, got, sizeof got);
  sl_var_label(v, label, sizeof label);
  if (t->dtype != v->type.dtype)
    return sl_fail("input %d ('%s'): expected %s, got %s (wrong dtype: convert it with "
                   ":cast('%s'))", i + 1, label, want, got, sl_dtype_name(v->type.dtype));
  return sl_fail("input %d ('%s'): expected %s, got %s (wrong %s)", i + 1, label, want, got,
                 t->ndim != v->type.ndim ? "rank" : "shape");
}

/* -- running nodes and steps --------------------------------------------------- */

int sl_run_node(sl_run *r, int at)
{
  sl_function *f = r->f;
  sl_node *n = f->order[at];
  sl_tensor *in[SL_MAX_OPERANDS * 4], *out[SL_MAX_OUTPUTS];
  sl_profile *prof = f->profile;
  if (n->nin > (int)(sizeof in / sizeof *in)) return sl_fail("%s: too many inputs", n->op->name);
  for (int i = 0; i < n->nin; i++) in[i] = r->val[f->in_slot[at][i]];
  double t0 = prof ? sl_clock() : 0;
  /* nodes the inplace pass marked write into a dying input; not under the NaN guard,
  ** whose report shows the inputs and whose failed calls must change nothing */
  int failed = f->nan_guard ? sl_node_perform(n, in, out) : sl_node_perform_inplace(n, in, out);
  if (failed) return sl_node_fail(n, 0, in);
  r->nodes_run++;
  if (prof) { prof->node[at].seconds += sl_clock() - t0; prof->node[at].calls++; prof->node[at].variant[0] = 0; }
  if (f->nan_guard && nan_check(n, in, out)) {
    for (int j = 0; j < n->nout; j++) sl_tensor_release(out[j]);
    return -1;
  }
  for (int i = 0; i < n->nout; i++) {
    if (!sl_type_accepts(&n->outputs[i].type, out[i])) {
      char want[128], got[128];
      sl_type ty;
      sl_type_of_tensor(out[i], &ty);
      sl_type_text(&n->outputs[i].type, want, sizeof want);
      sl_type_text(&ty, got, sizeof got);
      sl_fail("%s: produced %s where the graph expects %s", n->op->name, got, want);
      for (int j = i; j < n->nout; j++) sl_tensor_release(out[j]);
      return sl_node_fail(n, i, in);
    }
    int s = f->out_slot[at][i];
    sl_tensor_release(r->val[s]);
    r->val[s] = out[i];
  }
  return 0;
}

int sl_run_step_nodes(sl_run *r, const sl_step *st)
{
  if (!st->k) return sl_run_node(r, st->node);
  const sl_kernel *k = st->k;
  int rc = 0;
  for (int j = 0; j < k->nnodes && !rc; j++) rc = sl_run_node(r, k->node[j]);
  for (int j = 0; j < k->nnodes; j++) {
    int stored = 0;
    for (int s = 0; s < k->nstore; s++) stored |= k->store_node[s] == j;
    int s = r->f->out_slot[k->node[j]][0];
    if (!stored || rc) { sl_tensor_release(r->val[s]); r->val[s] = NULL; }
  }
  return rc;
}

/* -- buffers -------------------------------------------------------------------- */

/* Drops a dead intermediate; its buffer is pooled when nothing else holds it. */
static void recycle(sl_run *r, sl_tensor *t)
{
  if (!t) return;
  sl_storage *s = t->storage;
  if (r->pooling && t->refcount == 1 && s->refcount == 1 && !s->release) {
    if (r->npool == r->cap_pool) {
      int c = r->cap_pool ? 2 * r->cap_pool : 8;
      sl_storage **np = realloc(r->pool, (size_t)c * sizeof *np);
      if (np) { r->pool = np; r->cap_pool = c; }
    }
    if (r->npool < r->cap_pool) { s->refcount++; r->pool[r->npool++] = s; }
  }
  sl_tensor_release(t);
}

sl_tensor *sl_run_alloc(sl_run *r, int slot, sl_dtype dt, int nd, const int64_t *shape)
{
  if (!r->plan->keep[slot]) {
    size_t need = sl_dtype_size(dt);
    for (int d = 0; d < nd; d++) need *= (size_t)shape[d];
    for (int i = r->npool - 1; i >= 0 && need > 0; i--) {
      sl_storage *s = r->pool[i];
      if (s->nbytes < need || s->nbytes > 2 * need) continue;
      r->pool[i] = r->pool[--r->npool];
      sl_tensor *t = sl_tensor_over(s, dt, 0, nd, shape, NULL);
      sl_storage_release(s);
      return t;
    }
  }
  return sl_tensor_empty(dt, nd, shape);
}

/* -- calling ---------------------------------------------------------------------- */

/* Time of a step that ran as one kernel goes to its last node; the others are fused into it. */
static void profile_kernel_step(sl_profile *prof, const sl_step *st, double dt)
{
  sl_profile_node *e = &prof->node[st->last];
  e->seconds += dt;
  e->calls++;
  snprintf(e->variant, sizeof e->variant, "%s", st->ran);
  for (int j = 0; st->k && j < st->k->nnodes - 1; j++) {
    prof->node[st->k->node[j]].calls++;
    snprintf(prof->node[st->k->node[j]].variant, sizeof e->variant, "fused");
  }
}

/* SYMLUA_DEBUG >= 2: a kernel step's time and the bytes it moved per second */
static void debug_kernel_step(const sl_run *r, int i, const sl_step *st, double dt)
{
  double bytes = 0;
  for (int l = 0; l < st->k->nload; l++) {
    const sl_tensor *t = r->val[st->k->load[l].slot];
    bytes += (double)sl_tensor_numel(t) * (double)sl_dtype_size(t->dtype);
  }
  for (int s = 0; s < st->k->nstore; s++) {
    const sl_tensor *t = r->val[r->f->out_slot[st->k->node[st->k->store_node[s]]][0]];
    bytes += (double)sl_tensor_numel(t) * (double)sl_dtype_size(t->dtype);
  }
  fprintf(stderr, "symlua: step %d kernel %d %s: %.3f us, %.2f GB/s\n", i + 1, st->k->id,
          st->ran[0] ? st->ran : "reference", dt * 1e6, bytes / dt * 1e-9);
}

/* Results and updates: a result that is an input, constant, shared value or
** another result is a copy, so writing to it cannot change the caller's data
** or the graph; updates take effect together after every step has run. */
static int finish(sl_function *f, sl_tensor **val, sl_tensor **results)
{
  for (int r = 0; r < f->nout; r++) {
    sl_tensor *t = val[f->result_slot[r]];
    int alone = f->outputs[r]->kind == SL_VAR_RESULT;   /* merged outputs are copies too */
    for (int q = 0; q < r; q++) alone &= f->outputs[q] != f->outputs[r];
    if (alone) sl_tensor_retain(t);
    else if (!(t = sl_tensor_clone(t))) { while (r--) sl_tensor_release(results[r]); return -1; }
    results[r] = t;
  }
  if (f->nupd == 0) return 0;
  sl_tensor *fresh[64], **fr = f->nupd <= 64 ? fresh : calloc((size_t)f->nupd, sizeof *fr);
  int rc = 0, u = 0;
  if (!fr) rc = sl_fail("out of memory");
  for (; u < f->nupd && !rc; u++) {
    /* the new value must belong to the shared variable alone */
    sl_var *e = f->upd_expr[u];
    int alone = e->kind == SL_VAR_RESULT;
    for (int r = 0; r < f->nout; r++) alone &= f->outputs[r] != e;
    for (int w = 0; w < u; w++) alone &= f->upd_expr[w] != e;
    fr[u] = val[f->result_slot[f->nout + u]];
    if (alone) sl_tensor_retain(fr[u]);
    else if (!(fr[u] = sl_tensor_clone(fr[u]))) rc = -1;
  }
  if (rc) {
    for (int w = 0; w < u; w++) sl_tensor_release(fr[w]);
    for (int r = 0; r < f->nout; r++) sl_tensor_release(results[r]);
  } else {
    for (int w = 0; w < f->nupd; w++) {
      sl_tensor_release(f->upd_shared[w]->value);
      f->upd_shared[w]->value = fr[w];
    }
  }
  if (fr && fr != fresh) free(fr);
  return rc;
}

static _Thread_local const sl_backend *calling;

const sl_backend *sl_calling_backend(void) { return calling; }

static int call(sl_function *f, sl_tensor **args, sl_tensor **results);

int sl_function_call(sl_function *f, sl_tensor **args, sl_tensor **results)
{
  const sl_backend *outer = calling;
  calling = f->requested ? f->requested : f->backend;
  int rc = call(f, args, results);
  calling = outer;
  return rc;
}

static int call(sl_function *f, sl_tensor **args, sl_tensor **results)
{
  const sl_backend *b = f->backend;
  void *state = f->backend_state;
  if (b != &sl_backend_reference && (f->nan_guard || !state)) b = &sl_backend_reference;
  if (b != &sl_backend_reference && b->ready) {
    int ready = b->ready(state);   /* a compiling backend compiles at the first call */
    if (ready < 0) return -1;
    if (!ready) b = &sl_backend_reference;
  }
  if (b == &sl_backend_reference) state = NULL;
  for (int i = 0; i < f->nin; i++) if (sl_function_check_input(f, i, args[i])) return -1;
  sl_run r = { .f = f, .plan = f->plan, .val = f->run_val, .pooling = b->pools };
  for (int s = 0; s < f->nslots; s++) {
    sl_var *v = f->slot_var[s];
    sl_tensor *t = s < f->nin ? args[s] : v->kind == SL_VAR_CONSTANT || v->kind == SL_VAR_SHARED ? v->value : NULL;
    if (t) sl_tensor_retain(t);
    r.val[s] = t;
  }
  sl_profile *prof = f->profile;
  int debug = f->debug >= 2, timed = prof || debug, rc = 0;
  double t_call = timed ? sl_clock() : 0;
  for (int i = 0; i < r.plan->nsteps && !rc; i++) {
    sl_step *st = &r.plan->steps[i];
    double t0 = timed ? sl_clock() : 0;
    r.nodes_run = 0;
    rc = b->run(state, &r, st);
    if (timed && !rc && r.nodes_run == 0) {
      double dt = sl_clock() - t0;
      if (prof) profile_kernel_step(prof, st, dt);
      if (debug && st->k) debug_kernel_step(&r, i, st, dt);
    }
    for (int j = 0; j < st->nfree; j++) {
      int s = st->free_slot[j];
      recycle(&r, r.val[s]);
      r.val[s] = NULL;
    }
  }
  if (!rc) rc = finish(f, r.val, results);
  if (prof && !rc) { prof->calls++; prof->seconds += sl_clock() - t_call; }
  for (int s = 0; s < f->nslots; s++) { sl_tensor_release(r.val[s]); r.val[s] = NULL; }
  for (int i = 0; i < r.npool; i++) sl_storage_release(r.pool[i]);
  free(r.pool);
  return rc;
}
