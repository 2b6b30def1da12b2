/*
** function.c — compiled functions: the graph between inputs and outputs in
** topological order, a slot per var, and the profile that the executor fills.
**
** Compiling collects every node the outputs and updates need, in an order
** where each node follows its inputs, and gives every var a slot. A new
** function runs on the reference backend; sl_function_use_backend (backend.c)
** moves it to another. Calling is executor.c's.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "config.h"
#include "ptrmap.h"

/* -- growing arrays ------------------------------------------------------------- */

static int grow(void **arr, int *cap, int need, size_t esz)
{
  if (need <= *cap) return 0;
  int c = *cap ? *cap * 2 : 16;
  while (c < need) c *= 2;
  void *p = realloc(*arr, (size_t)c * esz);
  if (!p) return sl_fail("out of memory");
  *arr = p;
  *cap = c;
  return 0;
}

/* -- debugging aids: profiles ---------------------------------------------------- */

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static void profile_free(sl_profile *p)
{
  if (!p) return;
  for (int k = 0; k < p->nnodes; k++) { free(p->node[k].label); free(p->node[k].where); }
  free(p->node);
  free(p->where);
  free(p);
}

/* Profiles made under SYMLUA_PROFILE, printed by an atexit handler: it runs
** both when bin/symlua returns from main (after lua_close has freed every
** function, whose profiles stay listed as orphans) and on os.exit, which
** skips lua_close (the functions are still alive then). */
static sl_profile *exit_list, **exit_tail = &exit_list;   /* in creation order */

static void print_exit_profiles(void)
{
  sl_profile *p = exit_list;
  exit_list = NULL;
  exit_tail = &exit_list;
  fflush(stdout);
  while (p) {
    sl_profile *next = p->next_at_exit;
    char *text = p->calls > 0 ? sl_profile_text(p) : NULL;
    if (text) { fprintf(stderr, "\n%s", text); free(text); }
    p->at_exit = 0;
    if (p->orphan) profile_free(p);
    p = next;
  }
  fflush(stderr);
}

int sl_function_set_profile(sl_function *f, int on)
{
  static int registered;
  if (!on) {
    sl_profile *p = f->profile;
    f->profile = NULL;
    if (p && p->at_exit) p->orphan = 1;
    else profile_free(p);
    return 0;
  }
  if (f->profile) return 0;
  sl_profile *p = calloc(1, sizeof *p);
  if (!p) return sl_fail("out of memory");
  p->node = calloc((size_t)f->nnodes + 1, sizeof *p->node);
  p->where = dup_or_null(f->where);
  if (!p->node || (f->where && !p->where)) { profile_free(p); return sl_fail("out of memory"); }
  for (int k = 0; k < f->nnodes; k++) {
    const sl_var *out = &f->order[k]->outputs[0];
    char label[128];
    sl_profile_node *e = &p->node[p->nnodes++];
    e->op = f->order[k]->op->name;
    e->label = strdup(sl_var_label(out, label, sizeof label));
    e->where = dup_or_null(out->where);
    if (!e->label || (out->where && !e->where)) { profile_free(p); return sl_fail("out of memory"); }
  }
  if (sl_env_on(SL_ENV_PROFILE)) {
    if (!registered && atexit(print_exit_profiles) == 0) registered = 1;
    if (registered) { p->at_exit = 1; *exit_tail = p; exit_tail = &p->next_at_exit; }
  }
  f->profile = p;
  return 0;
}

void sl_profile_reset(sl_profile *p)
{
  p->calls = 0;
  p->seconds = 0;
  for (int k = 0; k < p->nnodes; k++) { p->node[k].calls = 0; p->node[k].seconds = 0; }
}

int sl_function_set_where(sl_function *f, const char *where)
{
  char *w = dup_or_null(where), *pw = NULL;
  if ((where && !w) || (f->profile && where && !(pw = strdup(where)))) {
    free(w);
    return sl_fail("out of memory");
  }
  free(f->where);
  f->where = w;
  if (f->profile) { free(f->profile->where); f->profile->where = pw; }
  return 0;
}

void sl_function_set_nan_guard(sl_function *f, int on) { f->nan_guard = on != 0; }

static void time_text(char *buf, size_t n, double s)
{
  if (s >= 1) snprintf(buf, n, "%.3f s", s);
  else if (s >= 1e-3) snprintf(buf, n, "%.3f ms", s * 1e3);
  else snprintf(buf, n, "%.3f us", s * 1e6);
}

/* qsort has no context argument: the profile being sorted is passed here */
static const double *sort_seconds;

static int by_time(const void *a, const void *b)
{
  double x = sort_seconds[*(const int *)a], y = sort_seconds[*(const int *)b];
  return x < y ? 1 : x > y ? -1 : *(const int *)a - *(const int *)b;
}

static void sort_by_time(int *idx, int n, const double *seconds)
{
  for (int i = 0; i < n; i++) idx[i] = i;
  sort_seconds = seconds;
  qsort(idx, (size_t)n, sizeof *idx, by_time);
}

char *sl_profile_text(const sl_profile *p)
{
  char *text = NULL, t[32];
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  int n = p->nnodes, nops = 0;
  int *idx = calloc((size_t)n + 1, sizeof *idx), *opidx = calloc((size_t)n + 1, sizeof *opidx);
  double *sec = calloc((size_t)n + 1, sizeof *sec), *opsec = calloc((size_t)n + 1, sizeof *opsec);
  const char **opname = calloc((size_t)n + 1, sizeof *opname);
  int *opnodes = calloc((size_t)n + 1, sizeof *opnodes);
  if (!out || !idx || !opidx || !sec || !opsec || !opname || !opnodes) {
    if (out) fclose(out);
    free(text); text = NULL;
    sl_fail("out of memory");
    goto done;
  }
  /* op classes: nodes of the same op added up */
  for (int k = 0; k < n; k++) {
    int c = 0;
    sec[k] = p->node[k].seconds;
    while (c < nops && strcmp(opname[c], p->node[k].op) != 0) c++;
    if (c == nops) opname[nops++] = p->node[k].op;
    opsec[c] += p->node[k].seconds;
    opnodes[c]++;
  }
  int wop = 2, wlabel = 4;
  for (int k = 0; k < n; k++) {
    const char *v = p->node[k].variant;
    int a = (int)strlen(p->node[k].op) + (*v ? (int)strlen(v) + 3 : 0), b = (int)strlen(p->node[k].label);
    if (a > wop) wop = a;
    if (b > wlabel) wlabel = b;
  }
  double total = p->seconds > 0 ? p->seconds : 1;
  time_text(t, sizeof t, p->seconds);
  fprintf(out, "Profile of the function compiled at %s: %lld call%s, %s", p->where ? p->where : "?",
          (long long)p->calls, p->calls == 1 ? "" : "s", t);
  if (p->calls > 1) { time_text(t, sizeof t, p->seconds / (double)p->calls); fprintf(out, ", %s per call", t); }
  if (*p->code) fprintf(out, "\n  code: %s", p->code);
  fprintf(out, "\n  %12s %6s %7s  %-*s  %-*s  %s\n", "time", "%", "calls", wop, "op", wlabel, "node", "where");
  sort_by_time(idx, n, sec);
  for (int i = 0; i < n; i++) {
    const sl_profile_node *e = &p->node[idx[i]];
    char op[160];
    time_text(t, sizeof t, e->seconds);
    /* the C backend's kernel variant, after the op: "add [contiguous]" */
    if (*e->variant) snprintf(op, sizeof op, "%s [%s]", e->op, e->variant);
    else snprintf(op, sizeof op, "%s", e->op);
    fprintf(out, "  %12s %5.1f%% %7lld  %-*s  %-*s  %s\n", t, 100 * e->seconds / total,
            (long long)e->calls, wop, op, wlabel, e->label, e->where ? e->where : "?");
  }
  fprintf(out, "  by op:\n  %12s %6s %7s  %s\n", "time", "%", "nodes", "op");
  sort_by_time(opidx, nops, opsec);
  for (int i = 0; i < nops; i++) {
    int c = opidx[i];
    time_text(t, sizeof t, opsec[c]);
    fprintf(out, "  %12s %5.1f%% %7d  %s\n", t, 100 * opsec[c] / total, opnodes[c], opname[c]);
  }
  if (fclose(out) != 0) { free(text); text = NULL; sl_fail("out of memory"); }
done:
  free(idx); free(opidx); free(sec); free(opsec); free(opname); free(opnodes);
  return text;
}

/* -- compiling -------------------------------------------------------------------- */

typedef struct {
  sl_function *f;
  sl_ptrmap slot_of;      /* var -> slot */
  sl_ptrmap seen_node;    /* node -> 1 */
  int slot_cap, node_cap;
} builder;

static int add_slot(builder *b, sl_var *v)
{
  int s = sl_ptrmap_get(&b->slot_of, v);
  if (s >= 0) return s;
  sl_function *f = b->f;
  if (grow((void **)&f->slot_var, &b->slot_cap, f->nslots + 1, sizeof *f->slot_var)) return -1;
  s = f->nslots++;
  f->slot_var[s] = v;
  return sl_ptrmap_put(&b->slot_of, v, s) ? -1 : s;
}

/* Depth-first post-order with an explicit stack: graphs can be deep. */
static int visit(builder *b, sl_var *root)
{
  sl_function *f = b->f;
  typedef struct { sl_node *n; int next; } frame;
  frame *stack = NULL;
  int depth = 0, cap = 0, rc = 0;
  if (add_slot(b, root) < 0) return -1;
  if (!root->owner || sl_ptrmap_get(&b->seen_node, root->owner) >= 0) return 0;
  if (grow((void **)&stack, &cap, 1, sizeof *stack)) return -1;
  stack[depth++] = (frame){ root->owner, 0 };
  sl_ptrmap_put(&b->seen_node, root->owner, 1);
  while (depth > 0 && !rc) {
    frame *top = &stack[depth - 1];
    if (top->next < top->n->nin) {
      sl_var *in = top->n->inputs[top->next++];
      if (add_slot(b, in) < 0) { rc = -1; break; }
      if (in->owner && sl_ptrmap_get(&b->seen_node, in->owner) < 0) {
        if (sl_ptrmap_put(&b->seen_node, in->owner, 1) ||
            grow((void **)&stack, &cap, depth + 1, sizeof *stack)) { rc = -1; break; }
        stack[depth++] = (frame){ in->owner, 0 };
      }
      continue;
    }
    sl_node *n = top->n;
    depth--;
    for (int k = 0; k < n->nout; k++)
      if (add_slot(b, &n->outputs[k]) < 0) { rc = -1; break; }
    if (rc || grow((void **)&f->order, &b->node_cap, f->nnodes + 1, sizeof *f->order)) { rc = -1; break; }
    f->order[f->nnodes++] = n;
    sl_node_retain(n);
  }
  free(stack);
  return rc;
}

static int check_update(const sl_var *shared, const sl_var *expr)
{
  char a[128], b[128];
  if (shared->kind != SL_VAR_SHARED) return sl_fail("updates: only shared variables can be updated");
  if (shared->type.dtype != expr->type.dtype || shared->type.ndim != expr->type.ndim) {
    sl_type_text(&shared->type, a, sizeof a);
    sl_type_text(&expr->type, b, sizeof b);
    if (shared->type.dtype != expr->type.dtype)
      return sl_fail("updates: the update of shared variable '%s' is %s but the variable is %s; "
                     "cast it with :cast('%s')", shared->name ? shared->name : "?", b, a,
                     sl_dtype_name(shared->type.dtype));
    return sl_fail("updates: the update of shared variable '%s' is %s but the variable is %s",
                   shared->name ? shared->name : "?", b, a);
  }
  return 0;
}

sl_function *sl_function_new(int nin, sl_var **inputs, int nout, sl_var **outputs,
                             int nupd, sl_var **upd_shared, sl_var **upd_expr)
{
  return sl_function_new_opt(nin, inputs, nout, outputs, nupd, upd_shared, upd_expr, NULL);
}

/* Outputs and update expressions are optimized together, as one graph. */
static int optimize(sl_function *f, const sl_opt_config *opt)
{
  int n = f->nout + f->nupd;
  sl_var **vars = malloc(((size_t)n + 1) * sizeof *vars);
  if (!vars) return sl_fail("out of memory");
  memcpy(vars, f->outputs, (size_t)f->nout * sizeof *vars);
  memcpy(vars + f->nout, f->upd_expr, (size_t)f->nupd * sizeof *vars);
  sl_opt_config cfg;
  if (opt) cfg = *opt;
  else sl_opt_config_default(&cfg);
  cfg.nupdates = f->nupd;   /* the inplace pass may write an update into its variable */
  cfg.updated = f->upd_shared;
  int rc = sl_optimize(f->nin, f->inputs, n, vars, &cfg, &f->opt_log);
  memcpy(f->outputs, vars, (size_t)f->nout * sizeof *vars);
  memcpy(f->upd_expr, vars + f->nout, (size_t)f->nupd * sizeof *vars);
  free(vars);
  return rc;
}

sl_function *sl_function_new_opt(int nin, sl_var **inputs, int nout, sl_var **outputs,
                                 int nupd, sl_var **upd_shared, sl_var **upd_expr,
                                 const sl_opt_config *opt)
{
  sl_function *f = calloc(1, sizeof *f);
  builder b = { .f = f };
  if (!f) { sl_fail("out of memory"); return NULL; }
  f->refcount = 1;
  f->magic = SL_FUNCTION_LIVE;
  pthread_mutex_init(&f->lock, NULL);
  f->nin = nin; f->nout = nout; f->nupd = nupd;
  f->inputs = calloc((size_t)nin + 1, sizeof *f->inputs);
  f->outputs = calloc((size_t)nout + 1, sizeof *f->outputs);
  f->upd_shared = calloc((size_t)nupd + 1, sizeof *f->upd_shared);
  f->upd_expr = calloc((size_t)nupd + 1, sizeof *f->upd_expr);
  if (!f->inputs || !f->outputs || !f->upd_shared || !f->upd_expr) goto fail_oom;
  for (int i = 0; i < nin; i++) {
    if (inputs[i]->kind != SL_VAR_INPUT) {
      char buf[64];
      sl_fail("compile: input %d (%s) is not a symbolic input: it is %s", i + 1,
              sl_var_label(inputs[i], buf, sizeof buf),
              inputs[i]->kind == SL_VAR_SHARED ? "a shared variable" :
              inputs[i]->kind == SL_VAR_CONSTANT ? "a constant" : "computed from other variables");
      goto fail;
    }
    for (int j = 0; j < i; j++)
      if (inputs[j] == inputs[i]) { sl_fail("compile: input %d is given twice", i + 1); goto fail; }
    f->inputs[i] = inputs[i]; sl_var_retain(inputs[i]);
    if (add_slot(&b, inputs[i]) < 0) goto fail;
  }
  for (int i = 0; i < nout; i++) { f->outputs[i] = outputs[i]; sl_var_retain(outputs[i]); }
  for (int i = 0; i < nupd; i++) {
    if (check_update(upd_shared[i], upd_expr[i])) goto fail;
    for (int j = 0; j < i; j++)
      if (upd_shared[j] == upd_shared[i]) { sl_fail("updates: a shared variable is updated twice"); goto fail; }
    f->upd_shared[i] = upd_shared[i]; sl_var_retain(upd_shared[i]);
    f->upd_expr[i] = upd_expr[i]; sl_var_retain(upd_expr[i]);
  }
  if (optimize(f, opt)) goto fail;
  for (int i = 0; i < nout; i++) if (visit(&b, f->outputs[i])) goto fail;
  for (int i = 0; i < nupd; i++) if (visit(&b, f->upd_expr[i])) goto fail;

  /* every input a result needs must be among the function's inputs */
  for (int s = 0; s < f->nslots; s++) {
    sl_var *v = f->slot_var[s];
    int given = 0;
    for (int i = 0; i < nin; i++) given |= inputs[i] == v;
    if (v->kind == SL_VAR_INPUT && !given) {
      char buf[64];
      sl_fail("compile: the outputs depend on input '%s', which is not in the list of inputs",
              sl_var_label(v, buf, sizeof buf));
      goto fail;
    }
  }

  /* slot bookkeeping for the run: node inputs/outputs as slots, readers per slot */
  f->in_slot = calloc((size_t)f->nnodes + 1, sizeof *f->in_slot);
  f->out_slot = calloc((size_t)f->nnodes + 1, sizeof *f->out_slot);
  f->readers = calloc((size_t)f->nslots + 1, sizeof *f->readers);
  if (!f->in_slot || !f->out_slot || !f->readers) goto fail_oom;
  for (int k = 0; k < f->nnodes; k++) {
    sl_node *n = f->order[k];
    f->in_slot[k] = malloc(((size_t)n->nin + 1) * sizeof(int));
    f->out_slot[k] = malloc(((size_t)n->nout + 1) * sizeof(int));
    if (!f->in_slot[k] || !f->out_slot[k]) goto fail_oom;
    for (int i = 0; i < n->nin; i++) {
      f->in_slot[k][i] = sl_ptrmap_get(&b.slot_of, n->inputs[i]);
      f->readers[f->in_slot[k][i]]++;
    }
    for (int i = 0; i < n->nout; i++) f->out_slot[k][i] = sl_ptrmap_get(&b.slot_of, &n->outputs[i]);
  }
  f->result_slot = calloc((size_t)(nout + nupd) + 1, sizeof *f->result_slot);
  if (!f->result_slot) goto fail_oom;
  for (int i = 0; i < nout; i++) f->result_slot[i] = sl_ptrmap_get(&b.slot_of, f->outputs[i]);
  for (int i = 0; i < nupd; i++) f->result_slot[nout + i] = sl_ptrmap_get(&b.slot_of, f->upd_expr[i]);
  f->nan_guard = sl_env_on(SL_ENV_NAN_GUARD);
  f->debug = sl_env_int(SL_ENV_DEBUG);
  if (sl_env_on(SL_ENV_PROFILE) && sl_function_set_profile(f, 1)) goto fail;
  if (sl_function_use_backend(f, &sl_backend_reference)) goto fail;
  sl_ptrmap_free(&b.slot_of);
  sl_ptrmap_free(&b.seen_node);
  return f;

fail_oom:
  sl_fail("out of memory");
fail:
  sl_ptrmap_free(&b.slot_of);
  sl_ptrmap_free(&b.seen_node);
  sl_function_free(f);
  return NULL;
}

void sl_function_clear(sl_function *f)
{
  if (!f || f->magic != SL_FUNCTION_LIVE) return;
  f->magic = 0;
  for (int i = 0; i < f->nin; i++) sl_var_release(f->inputs[i]);
  for (int i = 0; i < f->nout; i++) sl_var_release(f->outputs[i]);
  for (int i = 0; i < f->nupd; i++) { sl_var_release(f->upd_shared[i]); sl_var_release(f->upd_expr[i]); }
  for (int k = 0; k < f->nnodes; k++) {
    sl_node_release(f->order[k]);
    if (f->in_slot) free(f->in_slot[k]);
    if (f->out_slot) free(f->out_slot[k]);
  }
  free(f->inputs); free(f->outputs); free(f->upd_shared); free(f->upd_expr);
  free(f->order); free(f->slot_var); free(f->in_slot); free(f->out_slot);
  free(f->readers); free(f->result_slot);
  sl_function_set_profile(f, 0);
  sl_opt_log_free(&f->opt_log);
  if (f->backend && f->backend_state) f->backend->free(f->backend_state);
  sl_plan_free(f->plan);
  free(f->where);
  pthread_mutex_destroy(&f->lock);
}

void sl_function_free(sl_function *f)
{
  sl_function_clear(f);
  free(f);
}

