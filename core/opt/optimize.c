/*
** optimize.c — the optimizer's driver: the passes in order, the table of all
** rewrites, running a pass to a fixed point, and the two basic rewrites that
** every level runs: merge and constant folding.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "fgraph.h"

const sl_pass sl_passes[] = {
  { "merge", SL_OPT_FAST_COMPILE, "one node per distinct computation, one var per distinct constant" },
  { "constant_folding", SL_OPT_FAST_COMPILE, "nodes whose inputs are all constants become constants" },
  { "canonicalize", SL_OPT_FAST_COMPILE, "simpler, normal forms: identities, chains, shapes" },
  { "stabilize", SL_OPT_FAST_COMPILE, "numerically stable forms of unstable expressions" },
  { "specialize", SL_OPT_FAST_RUN, "faster ops for special cases: sqr, gemm, gemv, ger..." },
  { "inplace", SL_OPT_FAST_RUN, "results written into inputs that die with them" },
  { NULL, 0, NULL }
};

/* Rewrite families, in pass order; a family's file lists its rewrites. */
static const struct { const sl_rewrite *r; const int *n; } families[] = {
  { sl_rewrites_basic, &sl_rewrites_basic_n },
  { sl_rewrites_shape, &sl_rewrites_shape_n },
  { sl_rewrites_canonicalize, &sl_rewrites_canonicalize_n },
  { sl_rewrites_stabilize, &sl_rewrites_stabilize_n },
  { sl_rewrites_specialize, &sl_rewrites_specialize_n },
  { sl_rewrites_inplace, &sl_rewrites_inplace_n },
};

#define NFAMILIES ((int)(sizeof families / sizeof *families))

int sl_rewrite_count(void)
{
  int n = 0;
  for (int f = 0; f < NFAMILIES; f++) n += *families[f].n;
  return n;
}

const sl_rewrite *sl_rewrite_at(int i)
{
  for (int f = 0; f < NFAMILIES; f++) {
    if (i < *families[f].n) return &families[f].r[i];
    i -= *families[f].n;
  }
  return NULL;
}

static int pass_index(const char *name)
{
  for (int p = 0; sl_passes[p].name; p++) if (strcmp(sl_passes[p].name, name) == 0) return p;
  return -1;
}

/* fast_run, unless SYMLUA_OPTIMIZER names another level (to compare a whole
** program's results with and without optimization); SYMLUA_OPT_TRACE=1 traces. */
void sl_opt_config_default(sl_opt_config *cfg)
{
  static const char *const levels[] = { "none", "fast_compile", "fast_run" };
  const char *level = sl_env(SL_ENV_OPTIMIZER);
  memset(cfg, 0, sizeof *cfg);
  cfg->level = SL_OPT_FAST_RUN;
  for (int k = 0; level && k < 3; k++) if (strcmp(level, levels[k]) == 0) cfg->level = (sl_opt_level)k;
  cfg->trace = sl_env_on(SL_ENV_OPT_TRACE);
}

void sl_opt_log_free(sl_opt_log *log)
{
  if (!log) return;
  free(log->rewrite);
  free(log->count);
  memset(log, 0, sizeof *log);
}

/* -- which rewrites run ------------------------------------------------------------ */

/* 1 when the space-separated list names word. */
static int listed(const char *list, const char *word)
{
  size_t n = strlen(word);
  for (const char *s = list; s && *s;) {
    s += strspn(s, " ,");
    size_t len = strcspn(s, " ,");
    if (len == n && strncmp(s, word, n) == 0) return 1;
    s += len;
  }
  return 0;
}

static int check_names(const char *list, const char *what)
{
  for (const char *s = list; s && *s;) {
    s += strspn(s, " ,");
    size_t len = strcspn(s, " ,");
    if (!len) break;
    int known = 0;
    for (int p = 0; sl_passes[p].name && !known; p++)
      known = strlen(sl_passes[p].name) == len && strncmp(sl_passes[p].name, s, len) == 0;
    for (int i = 0; i < sl_rewrite_count() && !known; i++)
      known = strlen(sl_rewrite_at(i)->name) == len && strncmp(sl_rewrite_at(i)->name, s, len) == 0;
    if (!known)
      return sl_fail("compile: %s names '%.*s', which is neither a rewrite nor a pass "
                     "(sl.rewrites() lists them)", what, (int)len, s);
    s += len;
  }
  return 0;
}

static int enabled(const sl_rewrite *r, const sl_opt_config *cfg)
{
  const sl_pass *p = &sl_passes[pass_index(r->pass)];
  if (listed(cfg->exclude, r->name) || listed(cfg->exclude, p->name)) return 0;
  return (cfg->level != SL_OPT_NONE && p->level <= cfg->level) ||
         listed(cfg->include, r->name) || listed(cfg->include, p->name);
}

/* -- running a pass ----------------------------------------------------------------- */

typedef struct {
  sl_fgraph *g;
  const sl_opt_config *cfg;
  int *count;                 /* per rewrite index: times fired */
  const sl_rewrite *merge;    /* NULL when merging is off */
} run_state;

static int matches(const sl_rewrite *r, const sl_node *n)
{
  if (!r->ops) return 1;
  for (const sl_op *const *op = r->ops; *op; op++) if (*op == n->op) return 1;
  return 0;
}

static int run_global(run_state *st, const sl_rewrite *r, int ri)
{
  st->g->rewrite = r;
  st->g->site = NULL;
  int rc = r->global(st->g);
  sl_fgraph_release_scratch(st->g);
  if (rc > 0) st->count[ri] += rc;
  return rc;
}

/* One pass to a fixed point: sweeps over the nodes until nothing changes. */
static int run_pass(run_state *st, int pass)
{
  sl_fgraph *g = st->g;
  int nrw = sl_rewrite_count();
  const char *name = sl_passes[pass].name;
  for (int sweep = 0; sweep < 64; sweep++) {
    int changed = 0;
    if (st->merge) {
      int rc = run_global(st, st->merge, (int)(st->merge - sl_rewrite_at(0)));
      if (rc < 0) return -1;
      changed += rc;
    }
    for (int i = 0; i < nrw; i++) {
      const sl_rewrite *r = sl_rewrite_at(i);
      if (!r->global || r == st->merge || strcmp(r->pass, name) || !enabled(r, st->cfg)) continue;
      int rc = run_global(st, r, i);
      if (rc < 0) return -1;
      changed += rc;
    }
    sl_node **order;
    int norder = sl_fgraph_toposort(g, &order);
    if (norder < 0) return -1;
    int rc = 0;
    for (int k = 0; k < norder && rc >= 0; k++) {
      sl_node *n = order[k];
      for (int i = 0; i < nrw && sl_fgraph_alive(g, n); i++) {
        const sl_rewrite *r = sl_rewrite_at(i);
        if (!r->fn || strcmp(r->pass, name) || !matches(r, n) || !enabled(r, st->cfg)) continue;
        g->rewrite = r;
        g->site = n;
        int before = g->changed;
        rc = r->fn(g, n);
        sl_fgraph_release_scratch(g);
        if (rc < 0) break;
        if (rc > 0 && g->changed > before) { st->count[i]++; changed++; break; }
      }
    }
    for (int k = 0; k < norder; k++) sl_node_release(order[k]);
    free(order);
    if (rc < 0) return -1;
    if (!changed) return 0;
  }
  if (st->cfg->trace) fprintf(stderr, "rewrite: pass %s stopped after 64 sweeps\n", name);
  return 0;
}

int sl_optimize(int nin, sl_var **inputs, int n, sl_var **vars, const sl_opt_config *cfg,
                sl_opt_log *log)
{
  sl_opt_config defaults;
  if (!cfg) { sl_opt_config_default(&defaults); cfg = &defaults; }
  if (log) memset(log, 0, sizeof *log);
  if (check_names(cfg->include, "include") || check_names(cfg->exclude, "exclude"))
    return -1;
  int nrw = sl_rewrite_count(), rc = 0, any = 0;
  for (int i = 0; i < nrw && !any; i++) any = enabled(sl_rewrite_at(i), cfg);
  if (!any) return 0;   /* optimizer = 'none': the graph as it is */
  double t0 = sl_clock();
  sl_fgraph *g = sl_fgraph_new(nin, inputs, n, vars);
  if (!g) return -1;
  g->trace = cfg->trace;
  g->nupdates = cfg->nupdates <= n ? cfg->nupdates : 0;
  g->updated = cfg->updated;
  run_state st = { g, cfg, calloc((size_t)nrw + 1, sizeof(int)), NULL };
  if (!st.count) { sl_fgraph_free(g); return sl_fail("out of memory"); }
  for (int i = 0; i < nrw; i++)
    if (strcmp(sl_rewrite_at(i)->name, "merge") == 0 && enabled(sl_rewrite_at(i), cfg))
      st.merge = sl_rewrite_at(i);
  for (int p = 0; sl_passes[p].name && rc == 0; p++) {
    int any = 0;
    for (int i = 0; i < nrw && !any; i++)
      any = strcmp(sl_rewrite_at(i)->pass, sl_passes[p].name) == 0 && enabled(sl_rewrite_at(i), cfg);
    if (any) rc = run_pass(&st, p);
  }
  if (rc == 0) {
    for (int r = 0; r < n; r++) {
      sl_var_retain(g->outputs[r]);
      sl_var_release(vars[r]);
      vars[r] = g->outputs[r];
    }
    if (log) {
      log->rewrite = calloc((size_t)nrw + 1, sizeof *log->rewrite);
      log->count = calloc((size_t)nrw + 1, sizeof *log->count);
      if (!log->rewrite || !log->count) { sl_opt_log_free(log); rc = sl_fail("out of memory"); }
      for (int i = 0; i < nrw && rc == 0; i++)
        if (st.count[i]) { log->rewrite[log->n] = sl_rewrite_at(i); log->count[log->n++] = st.count[i]; }
      log->seconds = sl_clock() - t0;
    }
  }
  free(st.count);
  sl_fgraph_free(g);
  return rc;
}
