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
#include "internal.h"

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
  sl_perform_variant = NULL;
  /* nodes the inplace pass marked write into a dying input; not under the NaN guard,
  ** whose report shows the inputs and whose failed calls must change nothing */
  int failed = f->nan_guard ? sl_node_perform(n, in, out) : sl_node_perform_inplace(n, in, out);
  if (failed) return sl_node_fail(n, 0, in);
  r->nodes_run++;
  if (prof) {
    sl_profile_node *e = &prof->node[at];
    e->seconds += sl_clock() - t0;
    e->calls++;
    snprintf(e->variant, sizeof e->variant, "%s", sl_perform_variant ? sl_perform_variant : "");
  }
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
  if (r->pooling && sl_refs(&t->refcount) == 1 && sl_refs(&s->refcount) == 1 && !s->release) {
    if (r->npool == r->cap_pool) {
      int c = r->cap_pool ? 2 * r->cap_pool : 8;
      sl_storage **np = realloc(r->pool, (size_t)c * sizeof *np);
      if (np) { r->pool = np; r->cap_pool = c; }
    }
    if (r->npool < r->cap_pool) { sl_ref_inc(&s->refcount); r->pool[r->npool++] = s; }
  }
  sl_tensor_release(t);
}

/* The bytes a view can reach: [*lo, *hi) */
static void reach(const sl_tensor *t, const char **lo, const char **hi)
{
  const char *p = sl_tensor_ptr(t);
  int64_t below = 0, above = 0, es = (int64_t)sl_dtype_size(t->dtype);
  for (int d = 0; d < t->ndim; d++) {
    if (t->shape[d] == 0) { *lo = *hi = p; return; }
    int64_t span = (t->shape[d] - 1) * t->strides[d];
    if (span < 0) below += span; else above += span;
  }
  *lo = p + below * es;
  *hi = p + (above + 1) * es;
}

/* The host's buffer for output slot `slot`, when the kernel can write there:
** contiguous, of the result's dtype and shape, and reaching no memory that
** a value of the call can (an input read after the write would see it; a
** scan writes a step's new row next to the rows the step reads). */
static sl_tensor *host_target(const sl_run *r, int slot, sl_dtype dt, int nd, const int64_t *shape)
{
  const sl_function *f = r->f;
  for (int q = 0; q < f->nout; q++) {
    sl_tensor *t = r->into[q];
    if (!t || f->result_slot[q] != slot) continue;
    if (t->dtype != dt || t->ndim != nd || memcmp(t->shape, shape, (size_t)nd * sizeof *shape) ||
        !sl_tensor_is_contiguous(t)) return NULL;
    const char *lo = sl_tensor_ptr(t), *hi = lo + sl_tensor_numel(t) * (int64_t)sl_dtype_size(dt);
    for (int s = 0; s < f->nslots; s++) {
      const char *vlo, *vhi;
      if (!r->val[s]) continue;
      reach(r->val[s], &vlo, &vhi);
      if (vlo < hi && lo < vhi) return NULL;
    }
    sl_tensor_retain(t);
    return t;
  }
  return NULL;
}

sl_tensor *sl_run_alloc(sl_run *r, int slot, sl_dtype dt, int nd, const int64_t *shape)
{
  sl_tensor *host = r->into ? host_target(r, slot, dt, nd, shape) : NULL;
  if (host) return host;
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

/* A host buffer for result r: the result's dtype and shape exactly. */
static int check_into(const sl_function *f, int r, const sl_tensor *res, const sl_tensor *dst)
{
  if (dst->dtype == res->dtype && dst->ndim == res->ndim &&
      !memcmp(dst->shape, res->shape, (size_t)res->ndim * sizeof *res->shape)) return 0;
  char want[128], got[128], label[64];
  sl_type a, b;
  sl_type_of_tensor(res, &a);
  sl_type_of_tensor(dst, &b);
  sl_type_text(&a, want, sizeof want);
  sl_type_text(&b, got, sizeof got);
  sl_var_label(f->outputs[r], label, sizeof label);
  return sl_fail("output %d ('%s') is %s but the result is %s (wrong %s%s)", r + 1, label, got, want,
                 dst->dtype != res->dtype ? "dtype" : dst->ndim != res->ndim ? "rank" : "shape",
                 dst->dtype == res->dtype && sl_tensor_numel(dst) < sl_tensor_numel(res) ? ": too small" : "");
}

/* Results and updates: a result that is an input, constant, shared value or
** another result is a copy, so writing to it cannot change the caller's data
** or the graph; a result with a host buffer (into) is there already or is
** copied into it (on failure, what the buffer holds is unspecified). The
** updates take effect together after every step has run and every result is
** in place, so a failing call changes no shared variable. */
static int finish(sl_function *f, sl_tensor **val, sl_tensor **results, sl_tensor *const *into)
{
  for (int r = 0; into && r < f->nout; r++)
    if (into[r] && check_into(f, r, val[f->result_slot[r]], into[r])) return -1;
  for (int r = 0; r < f->nout; r++) {
    sl_tensor *t = val[f->result_slot[r]];
    if (into && into[r]) {
      results[r] = NULL;   /* a kernel may have written it there already (host_target) */
      if (t != into[r] && sl_tensor_copy(into[r], t)) { while (r--) sl_tensor_release(results[r]); return -1; }
      continue;
    }
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

/* -- calls from several threads --------------------------------------------------
** What a call changes is its own: the slot values (r.val, on the stack or
** allocated per call), the pool of dead buffers, each kernel's run shapes
** (vm.c keeps them per call). What it shares is read-only during calls (the
** plan, the graph, constants, whose reference counts are atomic), except:
** - the backend's ready(): it compiles at the first call and switches tiers
**   later, rebinding the kernels; it runs under f->lock, and only while no
**   call is running the bound code (in_flight), so no call ever sees its
**   code change under it; once it says the code stays (2), it is not asked;
** - shared variables: see sl_shared_lock in function.h;
** - the profile: a profiled function's calls run one at a time, under f->lock.
*/
/* recursive: a call may run another function inside it (a sub-function) */
static pthread_mutex_t shared_lock;
static pthread_once_t shared_once = PTHREAD_ONCE_INIT;
static void shared_init(void)
{
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&shared_lock, &a);
  pthread_mutexattr_destroy(&a);
}
void sl_shared_lock(void) { pthread_once(&shared_once, shared_init); pthread_mutex_lock(&shared_lock); }
void sl_shared_unlock(void) { pthread_mutex_unlock(&shared_lock); }

/* The backend that runs this call and its state; *counted when the call must
** leave in_flight when done. f->lock is held when serial. -1 on error. */
static int pick_backend(sl_function *f, int serial, const sl_backend **bp, void **state, int *counted)
{
  const sl_backend *b = f->backend;
  *state = f->backend_state;
  *counted = 0;
  if (b != &sl_backend_reference && (f->nan_guard || !*state)) b = &sl_backend_reference;
  if (b != &sl_backend_reference && b->ready && !(__atomic_load_n(&f->settled, __ATOMIC_ACQUIRE) && !serial)) {
    if (!serial) pthread_mutex_lock(&f->lock);
    int ready = __atomic_load_n(&f->in_flight, __ATOMIC_ACQUIRE) > 0 ? f->ready_last : b->ready(*state);
    if (ready > 0) { __atomic_add_fetch(&f->in_flight, 1, __ATOMIC_ACQ_REL); *counted = 1; }
    f->ready_last = ready;
    if (ready == 2) __atomic_store_n(&f->settled, 1, __ATOMIC_RELEASE);
    if (!serial) pthread_mutex_unlock(&f->lock);
    if (ready < 0) return -1;
    if (!ready) b = &sl_backend_reference;
  }
  if (b == &sl_backend_reference) *state = NULL;
  *bp = b;
  return 0;
}

int sl_function_run(sl_function *f, sl_tensor **args, sl_tensor **results)
{
  return sl_function_run_into(f, args, results, NULL);
}

/* The backend of the innermost call on this thread (backend.h). */
static _Thread_local const sl_backend *calling;

const sl_backend *sl_calling_backend(void) { return calling; }

static int run_into(sl_function *f, sl_tensor **args, sl_tensor **results, sl_tensor *const *into);

int sl_function_run_into(sl_function *f, sl_tensor **args, sl_tensor **results, sl_tensor *const *into)
{
  const sl_backend *outer = calling;
  calling = f->requested ? f->requested : f->backend;
  int rc = run_into(f, args, results, into);
  calling = outer;
  return rc;
}

static int run_into(sl_function *f, sl_tensor **args, sl_tensor **results, sl_tensor *const *into)
{
  for (int i = 0; i < f->nin; i++) if (sl_function_check_input(f, i, args[i])) return -1;
  sl_profile *prof = f->profile;
  int serial = prof != NULL, counted = 0, rc = 0;
  if (serial) pthread_mutex_lock(&f->lock);
  const sl_backend *b;
  void *state;
  if (pick_backend(f, serial, &b, &state, &counted)) { if (serial) pthread_mutex_unlock(&f->lock); return -1; }
  sl_tensor *small[64], **val = f->nslots <= 64 ? small : calloc((size_t)f->nslots, sizeof *val);
  if (!val) { rc = sl_fail("out of memory"); goto done; }
  sl_run r = { .f = f, .plan = f->plan, .val = val, .pooling = b->pools, .into = into };
  int locked = 0;
  for (int s = 0; s < f->nslots; s++) {
    sl_var *v = f->slot_var[s];
    if (v->kind == SL_VAR_SHARED && !locked) { sl_shared_lock(); locked = 1; }
    sl_tensor *t = s < f->nin ? args[s] : v->kind == SL_VAR_CONSTANT || v->kind == SL_VAR_SHARED ? v->value : NULL;
    if (t) sl_tensor_retain(t);
    r.val[s] = t;
  }
  if (locked && f->nupd == 0) { sl_shared_unlock(); locked = 0; }
  int debug = f->debug >= 2, timed = prof || debug;
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
  if (!rc) rc = finish(f, r.val, results, into);
  if (locked) sl_shared_unlock();
  if (prof && !rc) { prof->calls++; prof->seconds += sl_clock() - t_call; }
  for (int s = 0; s < f->nslots; s++) sl_tensor_release(r.val[s]);
  for (int i = 0; i < r.npool; i++) sl_storage_release(r.pool[i]);
  free(r.pool);
  if (val != small) free(val);
done:
  if (counted) __atomic_sub_fetch(&f->in_flight, 1, __ATOMIC_ACQ_REL);
  if (serial) pthread_mutex_unlock(&f->lock);
  return rc;
}
