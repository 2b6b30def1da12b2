/*
** cuda_host.c — the cuda_host backend: the CUDA backend's generated kernels
** run on the CPU under host emulation (kernels/cuda/host.h), so that their
** loops, index arithmetic, variants and reductions are checked against the
** reference backend on machines without a GPU.
**
** The function's CUDA source is compiled as C++ with -DSL_CUDA_HOST into a
** shared object (through the disk cache of the C backend) when the
** function is prepared. A kernel step is laid out as on every generating
** backend (kernel_frame.c), turned into the kernels' argument block,
** variant and launch shape as the device path does (cuda_launch.c), and
** launched through the module's sl_k<K>_<variant>_host. Emulation keeps
** its state in statics of each module (one launch at a time), so launches
** are serialized. Steps with no kernel run on the reference path.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend.h"
#include "cc.h"
#include "cuda_host.h"
#include "cuda_kernels.h"
#include "internal.h"
#include "kernel_frame.h"

/* The C++ compiler and its flags: no contraction of a*b+c and IEEE results
** kept, as the C backend's defaults and NVRTC's -fmad=false. */
#define HOST_CXX "c++"
#define HOST_FLAGS "-x c++ -std=c++20 -O1 -fno-math-errno -fno-trapping-math -ffp-contract=off -DSL_CUDA_HOST"
/* Blocks per launch at most: few, so that grid-stride loops take several rounds. */
#define HOST_MAX_GRID 3

typedef int (*host_launcher)(unsigned grid, unsigned block, const void *args);

typedef struct host_state {
  const sl_plan *plan;
  sl_module *module;
  host_launcher (*fn)[SL_CV_COUNT];   /* per kernel id */
} host_state;

static pthread_mutex_t launch_lock = PTHREAD_MUTEX_INITIALIZER;

static int available(void) { return sl_cc_runs(HOST_CXX); }

static void free_state(void *state)
{
  host_state *h = state;
  if (!h) return;
  if (h->module) sl_module_release(h->module);
  free(h->fn);
  free(h);
}

static int bind(host_state *h, const sl_kernel *k)
{
  if (k->code < 0) return 0;
  for (int v = 0; v < SL_CV_COUNT; v++) {
    if ((v == SL_CV_REDUCE) != (k->reduce != NULL)) continue;
    char name[64];
    snprintf(name, sizeof name, "sl_k%d_%s_host", k->code, sl_cuda_variant_suffix[v]);
    if (!(h->fn[k->id][v] = (host_launcher)sl_module_sym(h->module, name)))
      return sl_fail("cuda_host: the compiled kernels lack %s", name);
  }
  return 0;
}

static int prepare(sl_function *f, sl_plan *plan, void **state)
{
  *state = NULL;
  if (!available())
    return sl_fail("cuda_host: host emulation needs a C++ compiler and '" HOST_CXX "' does not run");
  if (plan->nkernels == 0) return 0;   /* nothing generated: the reference path */
  host_state *h = calloc(1, sizeof *h);
  char *source = NULL;
  if (!h || !(h->fn = calloc((size_t)plan->nkernels, sizeof *h->fn))) { free_state(h); return sl_fail("out of memory"); }
  h->plan = plan;
  if (!(source = sl_codegen_cuda(f, plan)) || !(h->module = sl_module_compile_using(source, HOST_CXX, HOST_FLAGS))) {
    free(source);
    free_state(h);
    return -1;
  }
  free(source);
  for (int i = 0; i < plan->nkernels; i++)
    if (bind(h, plan->kernels[i])) { free_state(h); return -1; }
  *state = h;
  return 0;
}

static int run_kernel(host_state *h, sl_run *r, sl_step *step, int *rank, int64_t (*shape)[SL_MAXDIM])
{
  const sl_kernel *k = step->k;
  sl_kargs frame;
  int rc = sl_kernel_frame(r, step, &frame, rank, shape);
  if (rc) return rc < 0 ? -1 : 0;
  sl_cuargs a;
  sl_cuda_launch l;
  sl_cuda_launch_of(k, &frame, HOST_MAX_GRID, &a, &l);
  pthread_mutex_lock(&launch_lock);
  if (l.variant == SL_CV_STRIDED) snprintf(step->ran, sizeof step->ran, "strided %d-d", a.nd);
  else snprintf(step->ran, sizeof step->ran, "%s", sl_cuda_variant_names[l.variant]);
  rc = h->fn[k->id][l.variant](l.grid, l.block, &a);
  pthread_mutex_unlock(&launch_lock);
  return rc ? sl_fail("cuda_host: out of memory for the emulated threads' stacks") : 0;
}

static int run(void *state, sl_run *r, sl_step *step)
{
  sl_kernel *k = step->k;
  if (!k || k->code < 0) return sl_run_step_nodes(r, step);
  int *rank = malloc((size_t)k->nnodes * sizeof *rank);
  int64_t (*shape)[SL_MAXDIM] = malloc((size_t)k->nnodes * sizeof *shape);
  int rc = rank && shape ? run_kernel(state, r, step, rank, shape) : sl_fail("out of memory");
  free(rank);
  free(shape);
  return rc;
}

static void describe(const void *state, const sl_function *f, FILE *o)
{
  const host_state *h = state;
  const sl_plan *pl = h->plan;
  char label[128];
  fprintf(o, "cuda_host backend (CUDA kernels under host emulation): %d steps, %d kernels\n", pl->nsteps,
          pl->nkernels);
  for (int i = 0; i < pl->nsteps; i++) {
    const sl_step *s = &pl->steps[i];
    if (s->node >= 0) {
      const sl_node *n = f->order[s->node];
      fprintf(o, "  step %d: %s (%s)\n", i + 1, n->op->name, sl_var_label(&n->outputs[0], label, sizeof label));
      continue;
    }
    fprintf(o, "  step %d: kernel %d [", i + 1, s->k->id);
    for (int j = 0; j < s->k->nnodes; j++) fprintf(o, "%s%s", j ? " " : "", f->order[s->k->node[j]]->op->name);
    fprintf(o, "], variant %s\n", s->ran[0] ? s->ran : "not run yet");
  }
}

/* -- random draws ----------------------------------------------------------------- */

static sl_module *draw_module;   /* compiled once per process, under launch_lock */

int sl_cuda_host_draw(sl_tensor *t, int normal, uint64_t seed, uint64_t offset)
{
  if (t->dtype != SL_FLOAT32 && t->dtype != SL_FLOAT64)
    return sl_fail("cuda_host: a draw fills float32 or float64, not %s", sl_dtype_name(t->dtype));
  if (!sl_tensor_is_contiguous(t)) return sl_fail("cuda_host: a draw fills a contiguous tensor");
  if (!available()) return sl_fail("cuda_host: host emulation needs a C++ compiler and '" HOST_CXX "' does not run");
  sl_cudraw a = { sl_tensor_ptr(t), sl_tensor_numel(t), seed, offset, normal, t->dtype == SL_FLOAT32 };
  sl_cuda_launch l;
  sl_cuda_draw_launch(a.n, HOST_MAX_GRID, &l);
  pthread_mutex_lock(&launch_lock);
  if (!draw_module) {
    char *source = sl_codegen_cuda_draw();
    draw_module = source ? sl_module_compile_using(source, HOST_CXX, HOST_FLAGS) : NULL;
    free(source);
  }
  host_launcher fn = draw_module ? (host_launcher)sl_module_sym(draw_module, "sl_draw_host") : NULL;
  int rc = !draw_module ? -1 : !fn ? sl_fail("cuda_host: the compiled draw kernel lacks sl_draw_host")
         : fn(l.grid, l.block, &a) ? sl_fail("cuda_host: out of memory for the emulated threads' stacks") : 0;
  pthread_mutex_unlock(&launch_lock);
  return rc;
}

const sl_backend sl_backend_cuda_host = {
  .name = "cuda_host",
  .fuses = 1,
  .pools = 1,
  .available = available,
  .prepare = prepare,
  .run = run,
  .describe = describe,
  .free = free_state,
};
