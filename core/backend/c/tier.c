/*
** tier.c — which compiled code a C-backend function runs (see tier.h).
**
** A cache hit loads the optimized module at once. On a miss, under
** sl.config.compile = 'tiered', libtcc compiles the function's source in
** memory (milliseconds) and the first call runs that code, while the
** optimizing compiler builds the same source in the background (cc.c's
** queue); the first call after that compile is done rebinds every kernel to
** the optimized module and releases the tcc one. The switch happens only
** here, before a call: a call runs one tier's code from start to end. A
** failed background compile is reported once, and the tcc code goes on.
** Without libtcc (the Lua module core.so cannot link it) 'tiered' and 'tcc'
** work as 'sync', and f:info() says so.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "internal.h"
#include "clock.h"
#include "program.h"

struct sl_tiers {
  sl_compile_mode mode;   /* in effect: sl.config.compile, or sync without libtcc */
  int no_tcc;             /* the setting asked for libtcc, which this build lacks */
  sl_tier tier;
  int from_cache;         /* the optimized module was in the disk cache */
  int failed;             /* the optimizing compile failed: the tcc code stays */
  sl_module *module;      /* what the kernels are bound to */
  sl_compile_job *job;    /* the optimizing compile in the background, or NULL */
  int64_t calls;          /* calls so far, and the one the optimized code took over at */
  int64_t switch_call;
  double t0, ready_after; /* the first call; seconds from it until the switch */
  double build_seconds;   /* what the first call spent getting its code */
};

static const char *const mode_names[] = { "tiered", "sync", "tcc" };
static const char *const tier_names[] = { "none", "tcc", "cc" };

const char *sl_tier_name(sl_tier t) { return tier_names[t]; }

sl_tier sl_tier_of(const sl_program *p) { return p->tiers ? p->tiers->tier : SL_TIER_NONE; }


/* Every kernel variant's entry point in m; 0, or -1 + sl_fail (then the
** kernels are partly bound: bind the previous module again). */
static int bind(sl_program *p, sl_module *m)
{
  for (int i = 0; i < p->plan->nkernels; i++) {
    sl_kernel *k = p->plan->kernels[i];
    int lo = k->reduce ? SL_V_RFLAT : SL_V_CONTIG, hi = k->reduce ? SL_V_RGENERAL : SL_V_TILED;
    for (int v = lo; v <= hi && k->code >= 0; v++) {
      char name[64];
      snprintf(name, sizeof name, "sl_k%d_v%d", k->code, v);
      *(void **)&p->fn[i][v] = sl_module_sym(m, name);
      if (!p->fn[i][v]) return sl_fail("compile: the generated module lacks %s", name);
    }
  }
  return 0;
}

void sl_tier_text(const sl_program *p, char *out, size_t n)
{
  const struct sl_tiers *t = p->tiers;
  if (!t) { snprintf(out, n, "not compiled yet (sl.config.compile = '%s')", mode_names[sl_config_compile()]); return; }
  const char *how = t->no_tcc ? " (libtcc is not part of this build: compiled as by 'sync')" : "";
  if (t->tier == SL_TIER_NONE)
    snprintf(out, n, "its compile failed: running on the reference backend%s", how);
  else if (t->tier == SL_TIER_TCC)
    snprintf(out, n, "tcc code%s (sl.config.compile = '%s')",
             t->job ? ", the optimizing compile running" : t->failed ? ", the optimizing compile failed" : "",
             mode_names[t->mode]);
  else if (t->switch_call)
    snprintf(out, n, "optimized code from call %lld, ready %.3f s after the first; tcc code before",
             (long long)t->switch_call, t->ready_after);
  else snprintf(out, n, "optimized code%s%s", t->from_cache ? ", from the disk cache" : "", how);
}

static void tell(const sl_function *f, const char *event)   /* SYMLUA_DEBUG >= 1 */
{
  char text[256];
  sl_tier_text(f->backend_state, text, sizeof text);
  fprintf(stderr, "symlua: %s of the function compiled at %s: %s\n", event, f->where ? f->where : "?", text);
}

/* The first call: build the code as the mode says. */
static int first(sl_program *p, struct sl_tiers *t)
{
  static int warned;
  sl_compile_mode want = sl_config_compile();
  t->mode = want != SL_COMPILE_SYNC && !sl_cc_tcc_available() ? SL_COMPILE_SYNC : want;
  t->no_tcc = t->mode != want;
  t->t0 = sl_clock();
  sl_module *m = NULL;
  if (t->mode != SL_COMPILE_TCC) {
    int hit = sl_module_lookup(p->source, &m);
    if (hit < 0) return -1;
    t->from_cache = hit;
  }
  if (!m && t->mode != SL_COMPILE_SYNC) {
    if ((m = sl_module_compile_tcc(p->source))) t->tier = SL_TIER_TCC;
    else if (!warned) {   /* a generator bug: say so, and go on with the optimizing compiler */
      fprintf(stderr, "symlua: warning: %s; compiling with the optimizing compiler instead\n", sl_errmsg());
      warned = 1;
    }
  }
  if (!m && !(m = sl_module_compile(p->source))) return -1;
  if (!t->tier) t->tier = SL_TIER_CC;
  if (bind(p, m)) { sl_module_release(m); t->tier = SL_TIER_NONE; return -1; }
  t->module = m;
  p->bound = 1;
  if (t->tier == SL_TIER_TCC && t->mode == SL_COMPILE_TIERED && !(t->job = sl_compile_start(p->source))) {
    fprintf(stderr, "symlua: warning: %s; staying on the tcc code\n", sl_errmsg());
    t->failed = 1;
  }
  return 0;
}

/* Between calls: take the optimized module once its compile is done. */
static void try_switch(sl_program *p, struct sl_tiers *t)
{
  const sl_function *f = p->f;
  sl_module *m = sl_compile_poll(t->job);
  if (!m && !sl_compile_failed(t->job)) return;   /* still compiling */
  if (m && bind(p, m) == 0) {
    sl_module_release(t->module);
    t->module = m;
    t->tier = SL_TIER_CC;
    t->switch_call = t->calls + 1;
    t->ready_after = sl_clock() - t->t0;
  } else {
    fprintf(stderr, "symlua: warning: the optimizing compile of the function compiled at %s "
            "failed; its tcc code goes on serving: %s\n", f->where ? f->where : "?", sl_errmsg());
    if (m) { bind(p, t->module); sl_module_release(m); }
    t->failed = 1;
  }
  sl_compile_job_free(t->job);
  t->job = NULL;
  if (p->debug >= 1 && !t->failed) tell(f, "switch");
}

int sl_tier_ready(sl_program *p)
{
  sl_function *f = p->f;
  struct sl_tiers *t = p->tiers;
  if (!t) {
    if (!(t = p->tiers = calloc(1, sizeof *t))) return sl_fail("out of memory");
    int rc = first(p, t);
    t->build_seconds = sl_clock() - t->t0;
    if (rc != 0) return -1;
    if (p->debug >= 1) {
      char event[64];
      snprintf(event, sizeof event, "code (ready in %.2f ms)", t->build_seconds * 1e3);
      tell(f, event);
    }
  } else if (t->job) try_switch(p, t);
  t->calls++;
  if (f->profile) sl_tier_text(p, f->profile->code, sizeof f->profile->code);
  return !p->bound ? 0 : t->job ? 1 : 2;   /* 2: no switch is coming */
}

void sl_tier_free(sl_program *p)
{
  struct sl_tiers *t = p->tiers;
  if (!t) return;
  sl_compile_job_free(t->job);
  sl_module_release(t->module);
  free(t);
  p->tiers = NULL;
}
