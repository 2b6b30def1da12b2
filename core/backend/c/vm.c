/*
** vm.c — the C backend: a fusion plan's kernels generated as C (codegen.c),
** compiled through cc.c, and each kernel step run through the cheapest
** variant that fits the arguments. The executor runs everything else.
**
** A kernel step computes each member's shape from its inputs' (NumPy
** broadcasting), allocates its stores, maps every operand's strides onto
** the loop shape, drops size-1 axes and merges axes that are contiguous in
** every operand, and then picks the first variant whose test passes (see
** pick_*). Anything unusual — a broadcasting error, stores of different
** shapes, an empty reduction — runs the kernel's nodes on the reference
** path instead, so errors read exactly as the reference backend's.
** Intermediates come from the executor's pool of dead buffers (sl_run_alloc).
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cc.h"
#include "config.h"
#include "kernel_abi.h"
#include "kernel_frame.h"
#include "program.h"
#include "tune.h"

const char *const sl_variant_names[SL_V_COUNT] = {
#define SL_VARIANT_NAME(e, text) text,
  SL_VARIANTS(SL_VARIANT_NAME)
#undef SL_VARIANT_NAME
};


/* -- setting up ------------------------------------------------------------------ */

static void describe(const void *state, const sl_function *f, FILE *o)
{
  const sl_program *p = state;
  const sl_plan *pl = p->plan;
  char label[128];
  char tier[256];
  sl_tier_text(p, tier, sizeof tier);
  fprintf(o, "C backend: %d steps, %d kernels; %s\n", pl->nsteps, pl->nkernels, tier);
  for (int i = 0; i < pl->nsteps; i++) {
    const sl_step *s = &pl->steps[i];
    if (s->node >= 0) {
      const sl_node *n = f->order[s->node];
      fprintf(o, "  step %d: %s (%s)\n", i + 1, n->op->name, sl_var_label(&n->outputs[0], label, sizeof label));
      continue;
    }
    const sl_kernel *k = s->k;
    fprintf(o, "  step %d: kernel %d [", i + 1, k->id);
    for (int j = 0; j < k->nnodes; j++) fprintf(o, "%s%s", j ? " " : "", f->order[k->node[j]]->op->name);
    fprintf(o, "] %d load%s, %d store%s%s, threads from %s, variant %s\n", k->nload, k->nload == 1 ? "" : "s",
            k->nstore, k->nstore == 1 ? "" : "s", k->reduce ? " (fused reduction)" : "",
            p->compute_bound[k->id] ? "omp_threshold_compute" : "omp_threshold",
            p->variant[i] >= 0 ? s->ran : "not run yet");
  }
}

static void free_state(void *state)
{
  sl_program *p = state;
  if (!p) return;
  free(p->fn); free(p->compute_bound); free(p->variant); free(p->rank);
  free(p->source);
  sl_tier_free(p);
  free(p);
}

static int available(void) { return sl_cc_available(); }

static const char *tier(const void *state) { return sl_tier_name(sl_tier_of(state)); }

/* With no compiler f stays on the reference backend (a warning, once),
** unless sl.config.require_compiler makes that an error. */
static int prepare(sl_function *f, sl_plan *plan, void **state)
{
  static int warned;
  *state = NULL;
  if (!sl_cc_available()) {
    if (sl_cfg.require_compiler)
      return sl_fail("compile: mode 'c' needs a working C compiler and none runs (set sl.config.cc, "
                     "or sl.config.require_compiler = false to fall back to the reference backend)");
    if (!warned) {
      fprintf(stderr, "symlua: warning: no working C compiler; compiled functions run on the "
                      "reference backend\n");
      warned = 1;
    }
    return 0;
  }
  if (plan->nkernels == 0) return 0;   /* nothing to generate */
  sl_tune_load();
  sl_program *p = calloc(1, sizeof *p);
  if (!p) return sl_fail("out of memory");
  p->f = f;
  p->plan = plan;
  p->fn = calloc((size_t)plan->nkernels, sizeof *p->fn);
  p->variant = malloc(((size_t)plan->nsteps + 1) * sizeof *p->variant);
  p->rank = malloc(((size_t)plan->nsteps + 1) * sizeof *p->rank);
  p->compute_bound = malloc((size_t)plan->nkernels);
  if (!p->fn || !p->variant || !p->rank || !p->compute_bound) { free_state(p); return sl_fail("out of memory"); }
  for (int i = 0; i < plan->nkernels; i++)
    p->compute_bound[plan->kernels[i]->id] = (unsigned char)sl_tune_compute_bound(f, plan->kernels[i]);
  for (int i = 0; i < plan->nsteps; i++) p->variant[i] = p->rank[i] = -1;
  p->debug = f->debug;
  if (!(p->source = sl_codegen_c(f, plan))) { free_state(p); return -1; }
  if (p->debug >= 4) fprintf(stderr, "symlua: generated source for %s:\n%s\n", f->where ? f->where : "?", p->source);
  /* compiled at the first call (tier.c): a function that is never called costs no compiler run */
  if (p->debug >= 1) {
    fprintf(stderr, "symlua: function compiled at %s\n", f->where ? f->where : "?");
    describe(p, f, stderr);
  }
  *state = p;
  return 0;
}

/* 1 when calls can run the generated code (tier.c builds it at the first
** call and switches tiers between calls); 0: the reference backend; -1: error. */
static int ready(void *state) { return sl_tier_ready(state); }

/* -- kernels ------------------------------------------------------------------------------ */

static int64_t abs64(int64_t x) { return x < 0 ? -x : x; }

/* Tiles pay when the stores run along the last axis while some load runs
** faster along the one before (a transpose), both axes span half a tile,
** and the loop is large enough that the strided reads miss the cache
** (sl.config.tile_threshold_f32/_f64 by the full loads' largest element size);
** columns must be columns of the last axis (one value per row). */
static int tiles_fit(const sl_kernel *k, const sl_kargs *a)
{
  int nd = a->nd, across = 0;
  size_t wide = 0;
  if (nd < 2 || a->shape[nd - 1] < SL_TILE / 2 || a->shape[nd - 2] < SL_TILE / 2) return 0;
  for (int l = 0; l < k->nload; l++)
    if (!k->load[l].pasted && k->load[l].how == SL_LOAD_FULL && sl_dtype_size(k->load[l].dtype) > wide)
      wide = sl_dtype_size(k->load[l].dtype);
  if (a->n < (wide > 4 ? sl_cfg.tile_threshold_f64 : sl_cfg.tile_threshold_f32)) return 0;
  for (int s = 0; s < k->nstore; s++) if (a->st[k->nops - k->nstore + s][nd - 1] != 1) return 0;
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (ld->pasted || ld->how == SL_LOAD_SCALAR) continue;
    if (ld->how == SL_LOAD_COLUMN) { if (a->st[ld->op][nd - 1] != 0) return 0; continue; }
    int64_t inner = abs64(a->st[ld->op][nd - 1]), outer = abs64(a->st[ld->op][nd - 2]);
    if (inner > 1 && outer < inner) across = 1;
  }
  return across;
}

static int pick_elemwise(const sl_kernel *k, const sl_kargs *a)
{
  int nd = a->nd;
  if (nd == 1 && sl_kernel_unit_axis(k, a, 0, 1)) return SL_V_CONTIG;
  if (nd >= 2 && sl_kernel_unit_axis(k, a, nd - 1, 1)) return SL_V_INNER;
  if (tiles_fit(k, a)) return SL_V_TILED;
  return SL_V_STRIDED;
}

static int loads_unit(const sl_kernel *k, const int64_t (*st)[SL_MAXDIM], int d)
{
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (!ld->pasted && ld->how != SL_LOAD_SCALAR && st[ld->op][d] != 1) return 0;
  }
  return 1;
}

static int pick_reduce(const sl_kernel *k, const sl_kargs *a)
{
  if (a->nd == 0 && (a->nr == 0 || loads_unit(k, a->rst, 0))) return SL_V_RFLAT;
  if (a->nd >= 1 && a->nr == 1 && loads_unit(k, a->rst, 0)) return SL_V_RROWS;
  if (a->nd == 1 && a->nr == 1 && loads_unit(k, a->st, 0)) return SL_V_RCOLS;
  return SL_V_RGENERAL;
}

/* The variant a step took last, for describe() and the profile: written when
** it changes, which calls on several threads may find at once. */
static pthread_mutex_t ran_lock = PTHREAD_MUTEX_INITIALIZER;

static void note_variant(sl_program *p, const sl_kernel *k, sl_step *step, int at_step,
                         int v, int rank, int64_t numel)
{
  if (__atomic_load_n(&p->variant[at_step], __ATOMIC_RELAXED) == v &&
      __atomic_load_n(&p->rank[at_step], __ATOMIC_RELAXED) == rank) return;
  pthread_mutex_lock(&ran_lock);
  __atomic_store_n(&p->variant[at_step], v, __ATOMIC_RELAXED);
  __atomic_store_n(&p->rank[at_step], rank, __ATOMIC_RELAXED);
  if (v == SL_V_INNER || v == SL_V_STRIDED || v == SL_V_TILED)
    snprintf(step->ran, sizeof step->ran, "%s %d-d", sl_variant_names[v], rank);
  else snprintf(step->ran, sizeof step->ran, "%s", sl_variant_names[v]);
  if (p->debug >= 1) {
    char label[128];
    const sl_node *last = p->f->order[k->node[k->nnodes - 1]];
    fprintf(stderr, "symlua: kernel %d (%s, %lld elements): %s\n", k->id,
            sl_var_label(&last->outputs[0], label, sizeof label), (long long)numel, step->ran);
  }
  pthread_mutex_unlock(&ran_lock);
}

/* rank and shape: this call's shape of each member of the kernel (the run's
** own, so that calls on several threads do not share them). */
static int run_kernel(sl_program *p, sl_run *r, sl_step *step, int *rank, int64_t (*shape)[SL_MAXDIM])
{
  sl_kernel *k = step->k;
  sl_kargs a;
  int rc = sl_kernel_frame(r, step, &a, rank, shape);
  if (rc) return rc < 0 ? -1 : 0;
  a.threads = sl_cfg.threads;
  a.omp_threshold = p->compute_bound[k->id] ? sl_cfg.omp_threshold_compute : sl_cfg.omp_threshold;
  sl_tune_need(a.n);
  int v = k->reduce ? pick_reduce(k, &a) : pick_elemwise(k, &a);
  note_variant(p, k, step, (int)(step - p->plan->steps), v, k->reduce ? a.nd + a.nr : a.nd, a.n);
  p->fn[k->id][v](&a);
  return 0;
}

/* A node of a view op (dimshuffle, narrow, subtensor, reshape) whose value
** is no result or update of the function runs as a view of its input, not a
** copy: the kernels that read it walk its strides (a transpose in tiles).
** Results stay fresh tensors; aliasing is safe inside the call because
** everything that writes into an existing buffer (the inplace paths, the
** pool) first checks that its storage has no other holder. Returns 1 when n
** is not such a node. */
#define VIEW_INPUTS 16

static int run_view(sl_run *r, int at)
{
  const sl_function *f = r->f;
  const sl_node *n = f->order[at];
  if (!n->op->view || n->nin < 1 || n->nin > VIEW_INPUTS || n->nout != 1 || f->nan_guard || f->profile) return 1;
  int s = f->out_slot[at][0];
  for (int i = 0; i < f->nout + f->nupd; i++) if (f->result_slot[i] == s) return 1;
  sl_tensor *in[VIEW_INPUTS];
  for (int i = 0; i < n->nin; i++) in[i] = r->val[f->in_slot[at][i]];
  sl_tensor *t = n->op->view(n, in);
  if (!t) return sl_node_fail(n, 0, in);
  sl_tensor_release(r->val[s]);
  r->val[s] = t;
  return 0;
}

#define SCRATCH_NODES 32

static int run(void *state, sl_run *r, sl_step *step)
{
  sl_kernel *k = step->k;
  if (!k && step->node >= 0) {
    int rc = run_view(r, step->node);
    if (rc <= 0) return rc;
  }
  if (!k || k->code < 0) return sl_run_step_nodes(r, step);
  int rank_here[SCRATCH_NODES];
  int64_t shape_here[SCRATCH_NODES][SL_MAXDIM];
  if (k->nnodes <= SCRATCH_NODES) return run_kernel(state, r, step, rank_here, shape_here);
  int *rank = malloc((size_t)k->nnodes * sizeof *rank);
  int64_t (*shape)[SL_MAXDIM] = malloc((size_t)k->nnodes * sizeof *shape);
  int rc = rank && shape ? run_kernel(state, r, step, rank, shape) : sl_fail("out of memory");
  free(rank);
  free(shape);
  return rc;
}

const sl_backend sl_backend_c = {
  .name = "c",
  .fuses = 1,
  .pools = 1,
  .available = available,
  .prepare = prepare,
  .ready = ready,
  .run = run,
  .describe = describe,
  .tier = tier,
  .free = free_state,
};
