/*
** vm.c — running a function on the C backend: its steps in order over the
** slots, each kernel through the cheapest variant that fits the arguments.
**
** A kernel step computes each member's shape from its inputs' (NumPy
** broadcasting), allocates its stores, maps every operand's strides onto
** the loop shape, drops size-1 axes and merges axes that are contiguous in
** every operand, and then picks the first variant whose test passes (see
** pick_*). Anything unusual — a broadcasting error, stores of different
** shapes, an empty reduction — runs the kernel's nodes on the reference
** path instead, so errors read exactly as the reference backend's.
**
** Buffers: a slot is dropped after the last step that reads it; a dead
** intermediate whose buffer nothing else holds goes to a pool that later
** intermediates of the same call draw from. Results are always fresh.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "lower.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int debug_level(void)
{
  const char *s = getenv("SYMLUA_DEBUG");
  return s ? atoi(s) : 0;
}

/* -- setting up ------------------------------------------------------------------ */

char *sl_program_text(const sl_function *f)
{
  const sl_program *p = f->program;
  char *text = NULL, label[128];
  size_t len = 0;
  FILE *o = open_memstream(&text, &len);
  if (!o) { sl_fail("out of memory"); return NULL; }
  if (!p) fprintf(o, "reference backend: %d nodes\n", f->nnodes);
  else {
    char tier[256];
    sl_tier_text(p, tier, sizeof tier);
    fprintf(o, "C backend: %d steps, %d kernels; %s\n", p->nsteps, p->nkernels, tier);
  }
  for (int i = 0; p && i < p->nsteps; i++) {
    const sl_step *s = &p->steps[i];
    if (s->node >= 0) {
      const sl_node *n = f->order[s->node];
      fprintf(o, "  step %d: %s (%s)\n", i + 1, n->op->name, sl_var_label(&n->outputs[0], label, sizeof label));
      continue;
    }
    const sl_kernel *k = s->k;
    fprintf(o, "  step %d: kernel %d [", i + 1, k->id);
    for (int j = 0; j < k->nnodes; j++) fprintf(o, "%s%s", j ? " " : "", f->order[k->node[j]]->op->name);
    fprintf(o, "] %d load%s, %d store%s%s, variant %s\n", k->nload, k->nload == 1 ? "" : "s",
            k->nstore, k->nstore == 1 ? "" : "s", k->reduce ? " (fused reduction)" : "",
            s->variant >= 0 ? s->variant_text : "not run yet");
  }
  if (fclose(o) != 0) { free(text); sl_fail("out of memory"); return NULL; }
  return text;
}

int sl_function_use_c(sl_function *f)
{
  static int warned;
  if (f->program) return 0;
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
  sl_program *p = sl_lower(f);
  if (!p) return -1;
  if (p->nkernels == 0) { sl_program_free(p); return 0; }   /* nothing to generate */
  p->debug = debug_level();
  if (!(p->source = sl_codegen_c(f, p))) { sl_program_free(p); return -1; }
  if (p->debug >= 4) fprintf(stderr, "symlua: generated source for %s:\n%s\n", f->where ? f->where : "?", p->source);
  /* compiled at the first call (tier.c): a function that is never called costs no compiler run */
  f->program = p;
  if (p->debug >= 1) {
    char *t = sl_program_text(f);
    if (t) { fprintf(stderr, "symlua: function compiled at %s\n%s", f->where ? f->where : "?", t); free(t); }
  }
  return 0;
}

/* 1 when calls can run the generated code (tier.c builds it at the first
** call and switches tiers between calls); 0: the reference path; -1: error. */
int sl_vm_ready(sl_function *f) { return f->program ? sl_tier_ready(f) : 0; }

/* -- buffers -------------------------------------------------------------------------- */

/* Drops a dead intermediate; its buffer is pooled when nothing else holds it. */
static void recycle(sl_program *p, sl_tensor *t)
{
  if (!t) return;
  sl_storage *s = t->storage;
  if (t->refcount == 1 && s->refcount == 1 && !s->release) {
    if (p->npool == p->cap_pool) {
      int c = p->cap_pool ? 2 * p->cap_pool : 8;
      sl_storage **np = realloc(p->pool, (size_t)c * sizeof *np);
      if (np) { p->pool = np; p->cap_pool = c; }
    }
    if (p->npool < p->cap_pool) { s->refcount++; p->pool[p->npool++] = s; }
  }
  sl_tensor_release(t);
}

/* A contiguous tensor for an intermediate: a pooled buffer of about the right size when one is free. */
static sl_tensor *alloc_out(sl_program *p, int keep, sl_dtype dt, int nd, const int64_t *shape)
{
  if (!keep) {
    size_t need = sl_dtype_size(dt);
    for (int d = 0; d < nd; d++) need *= (size_t)shape[d];
    for (int i = p->npool - 1; i >= 0 && need > 0; i--) {
      sl_storage *s = p->pool[i];
      if (s->nbytes < need || s->nbytes > 2 * need) continue;
      p->pool[i] = p->pool[--p->npool];
      sl_tensor *t = sl_tensor_over(s, dt, 0, nd, shape, NULL);
      sl_storage_release(s);
      return t;
    }
  }
  return sl_tensor_empty(dt, nd, shape);
}

/* The input tensor a kernel's store may be written into (the inplace pass
** marked the node), or NULL: the rule of graph.h — a run value held only by
** the run (and by its shared variable), contiguous, of the result's dtype and
** of the loop's shape. Every operand of a kernel is read at an element before
** that element is stored, so writing over an input read at the same index is safe. */
static sl_tensor *inplace_target(const sl_function *f, const sl_kernel *k, int j, int nd,
                                 const int64_t *loop)
{
  const sl_program *p = f->program;
  const sl_node *n = f->order[k->node[j]];
  if (!n->destroy || k->reduce) return NULL;
  int i = n->destroy - 1, src = k->src[j][i];
  if (src >= 0 || k->load[-src - 1].pasted) return NULL;
  const sl_var *v = n->inputs[i];
  sl_tensor *t = p->val[k->load[-src - 1].slot];
  int held = v->kind == SL_VAR_RESULT ? 1 : v->kind == SL_VAR_SHARED && v->value == t ? 2 : 0;
  if (!held || t->refcount != held || t->storage->refcount != 1 || t->storage->release ||
      t->dtype != n->outputs[0].type.dtype || t->ndim != nd ||
      memcmp(t->shape, loop, (size_t)nd * sizeof *loop) || !sl_tensor_is_contiguous(t)) return NULL;
  return t;
}

/* -- the reference path for one node ------------------------------------------------------ */

static int run_node(sl_function *f, int at)
{
  sl_program *p = f->program;
  sl_node *n = f->order[at];
  sl_tensor *in[SL_MAX_OPERANDS * 4], *out[8];
  if (n->nin > (int)(sizeof in / sizeof *in)) return sl_fail("%s: too many inputs", n->op->name);
  for (int i = 0; i < n->nin; i++) in[i] = p->val[f->in_slot[at][i]];
  /* a node the inplace pass marked may write into its dying input */
  if (sl_node_perform_inplace(n, in, out)) return sl_node_fail(n, 0, in);
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
    sl_tensor_release(p->val[s]);
    p->val[s] = out[i];
  }
  return 0;
}

/* A kernel's nodes one by one: values its members do not store are dropped after. */
static int run_kernel_reference(sl_function *f, const sl_kernel *k)
{
  sl_program *p = f->program;
  int rc = 0;
  for (int j = 0; j < k->nnodes && !rc; j++) rc = run_node(f, k->node[j]);
  for (int j = 0; j < k->nnodes; j++) {
    int stored = 0;
    for (int s = 0; s < k->nstore; s++) stored |= k->store_node[s] == j;
    int sl = f->out_slot[k->node[j]][0];
    if (!stored || rc) { sl_tensor_release(p->val[sl]); p->val[sl] = NULL; }
  }
  return rc;
}

/* -- kernels ------------------------------------------------------------------------------ */

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

static int inner_fits(const sl_kernel *k, const sl_kargs *a, int d, int column_zero)
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

static int pick_elemwise(const sl_kernel *k, const sl_kargs *a)
{
  int nd = a->nd;
  if (nd == 1 && inner_fits(k, a, 0, 1)) return SL_V_CONTIG;
  if (nd >= 2 && inner_fits(k, a, nd - 1, 1)) return SL_V_INNER;
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

/* Reduced axes of a reduction node, as a mask over its input's axes. */
static void reduced_axes(const sl_node *r, int *mask)
{
  memset(mask, 0, SL_MAXDIM * sizeof *mask);
  for (int i = 1; i < r->params.n; i++) mask[r->params.v[i]] = 1;
}

static int run_kernel(sl_function *f, sl_step *step)
{
  sl_program *p = f->program;
  sl_kernel *k = step->k;
  int nm = k->reduce ? k->nnodes - 1 : k->nnodes;
  if (k->code < 0) return run_kernel_reference(f, k);
  /* members' shapes, by broadcasting; trouble goes to the reference path */
  for (int j = 0; j < nm; j++) {
    const sl_node *n = f->order[k->node[j]];
    int nd = 0;
    int64_t *sh = k->shape[j];
    for (int i = 0; i < n->nin; i++) {
      int src = k->src[j][i], ind;
      const int64_t *ish;
      if (src >= 0) { ind = k->rank[src]; ish = k->shape[src]; }
      else { const sl_tensor *t = p->val[k->load[-src - 1].slot]; ind = t->ndim; ish = t->shape; }
      if (i == 0) { nd = ind; memcpy(sh, ish, (size_t)ind * sizeof *sh); }
      else if (sl_broadcast_shapes(nd, sh, ind, ish, &nd, sh)) return run_kernel_reference(f, k);
    }
    k->rank[j] = nd;
  }
  int nd;
  const int64_t *loop;
  if (k->reduce) {
    int src = k->src[k->nnodes - 1][0];
    if (src >= 0) { nd = k->rank[src]; loop = k->shape[src]; }
    else { const sl_tensor *t = p->val[k->load[-src - 1].slot]; nd = t->ndim; loop = t->shape; }
    if (nd != f->order[k->node[k->nnodes - 1]]->inputs[0]->type.ndim) return run_kernel_reference(f, k);
  } else {
    int j0 = k->store_node[0];
    nd = k->rank[j0];
    loop = k->shape[j0];
    for (int s = 1; s < k->nstore; s++) {
      int j = k->store_node[s];
      if (k->rank[j] != nd || memcmp(k->shape[j], loop, (size_t)nd * sizeof *loop))
        return run_kernel_reference(f, k);
    }
  }
  int64_t numel = 1;
  for (int d = 0; d < nd; d++) numel *= loop[d];
  if (k->reduce && numel == 0) return run_kernel_reference(f, k);

  sl_kargs a;
  a.n = numel;
  a.threads = sl_cfg.threads;
  a.omp_threshold = sl_cfg.omp_threshold;
  int64_t full[SL_KMAXOPS][SL_MAXDIM];
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (ld->pasted) continue;
    const sl_tensor *t = p->val[ld->slot];
    a.ptr[ld->op] = sl_tensor_ptr(t);
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
      t = alloc_out(p, p->keep[sl], n->outputs[0].type.dtype, ond, osh);
      if (!t) return -1;
      for (int d = 0, od = 0; d < nd; d++) {
        full[op][d] = mask[d] ? 0 : t->strides[od];
        if (!mask[d] || keepdims) od++;
      }
    } else {
      if ((t = inplace_target(f, k, j, nd, loop))) sl_tensor_retain(t);   /* held by both slots */
      else if (!(t = alloc_out(p, p->keep[sl], n->outputs[0].type.dtype, nd, loop))) return -1;
      memcpy(full[op], t->strides, (size_t)nd * sizeof(int64_t));
    }
    sl_tensor_release(p->val[sl]);
    p->val[sl] = t;
    a.ptr[op] = sl_tensor_ptr(t);
  }
  if (numel == 0) return 0;
  int v;
  if (k->reduce) {
    int mask[SL_MAXDIM];
    int64_t ks[SL_MAXDIM], rs[SL_MAXDIM];
    int nk = 0, nr = 0;
    reduced_axes(k->reduce, mask);
    a.rcount = 1;
    for (int d = 0; d < nd; d++) {
      if (mask[d]) a.rcount *= (double)loop[d];
      if (loop[d] == 1) continue;
      if (mask[d]) { for (int o = 0; o < k->nops; o++) a.rst[o][nr] = full[o][d]; rs[nr++] = loop[d]; }
      else { for (int o = 0; o < k->nops; o++) a.st[o][nk] = full[o][d]; ks[nk++] = loop[d]; }
    }
    a.nd = collapse(nk, ks, k->nops, a.st);
    a.nr = collapse(nr, rs, k->nops, a.rst);
    memcpy(a.shape, ks, sizeof ks);
    memcpy(a.rshape, rs, sizeof rs);
    v = pick_reduce(k, &a);
  } else {
    int64_t sh[SL_MAXDIM];
    int m = 0;
    for (int d = 0; d < nd; d++) {
      if (loop[d] == 1) continue;
      for (int o = 0; o < k->nops; o++) a.st[o][m] = full[o][d];
      sh[m++] = loop[d];
    }
    a.nd = collapse(m, sh, k->nops, a.st);
    memcpy(a.shape, sh, sizeof sh);
    if (a.nd == 0) {
      a.nd = 1;
      a.shape[0] = 1;
      for (int o = 0; o < k->nops; o++) a.st[o][0] = 1;   /* one element: the flat loop reads [0] */
    }
    a.nr = 0;
    v = pick_elemwise(k, &a);
  }
  int rank = k->reduce ? a.nd + a.nr : a.nd;
  if (v != step->variant || rank != step->rank) {
    step->variant = v;
    step->rank = rank;
    if (v == SL_V_INNER || v == SL_V_STRIDED)
      snprintf(step->variant_text, sizeof step->variant_text, "%s %d-d", sl_variant_names[v], rank);
    else snprintf(step->variant_text, sizeof step->variant_text, "%s", sl_variant_names[v]);
    if (p->debug >= 1) {
      char label[128];
      const sl_node *last = f->order[k->node[k->nnodes - 1]];
      fprintf(stderr, "symlua: kernel %d (%s, %lld elements): %s\n", k->id,
              sl_var_label(&last->outputs[0], label, sizeof label), (long long)numel, step->variant_text);
    }
  }
  k->fn[v](&a);
  return 0;
}

/* -- calling ---------------------------------------------------------------------------------- */

static int finish(sl_function *f, sl_tensor **results);

int sl_vm_call(sl_function *f, sl_tensor **args, sl_tensor **results)
{
  sl_program *p = f->program;
  int rc = 0;
  if (!p->bound) return -1;   /* its compile failed: sl_vm_ready left the message */
  for (int i = 0; i < f->nin; i++) if (sl_function_check_input(f, i, args[i])) return -1;
  for (int s = 0; s < f->nslots; s++) {
    sl_var *v = f->slot_var[s];
    sl_tensor *t = s < f->nin ? args[s] : v->kind == SL_VAR_CONSTANT || v->kind == SL_VAR_SHARED ? v->value : NULL;
    if (t) sl_tensor_retain(t);
    p->val[s] = t;
  }
  sl_profile *prof = f->profile;
  int timed = prof || p->debug >= 2;
  double t_call = timed ? now() : 0;
  for (int i = 0; i < p->nsteps && !rc; i++) {
    sl_step *st = &p->steps[i];
    double t0 = timed ? now() : 0;
    rc = st->node >= 0 ? run_node(f, st->node) : run_kernel(f, st);
    if (timed && !rc) {
      double dt = now() - t0;
      if (prof) {
        sl_profile_node *e = &prof->node[st->last];
        e->seconds += dt;
        e->calls++;
        snprintf(e->variant, sizeof e->variant, "%s",
                 st->node >= 0 ? "" : st->variant >= 0 ? st->variant_text : "reference");
        for (int j = 0; st->k && j < st->k->nnodes - 1; j++) {
          prof->node[st->k->node[j]].calls++;
          snprintf(prof->node[st->k->node[j]].variant, sizeof e->variant, "fused");
        }
      }
      if (p->debug >= 2 && st->k) {
        double bytes = 0;
        for (int l = 0; l < st->k->nload; l++) {
          const sl_tensor *t = p->val[st->k->load[l].slot];
          bytes += (double)sl_tensor_numel(t) * (double)sl_dtype_size(t->dtype);
        }
        for (int s = 0; s < st->k->nstore; s++) {
          const sl_tensor *t = p->val[f->out_slot[st->k->node[st->k->store_node[s]]][0]];
          bytes += (double)sl_tensor_numel(t) * (double)sl_dtype_size(t->dtype);
        }
        fprintf(stderr, "symlua: step %d kernel %d %s: %.3f us, %.2f GB/s\n", i + 1, st->k->id,
                st->variant >= 0 ? st->variant_text : "reference", dt * 1e6, bytes / dt * 1e-9);
      }
    }
    for (int j = 0; j < st->nfree; j++) {
      int s = st->free_slot[j];
      recycle(p, p->val[s]);
      p->val[s] = NULL;
    }
  }
  if (!rc) rc = finish(f, results);
  if (prof && !rc) { prof->calls++; prof->seconds += now() - t_call; }
  for (int s = 0; s < f->nslots; s++) { sl_tensor_release(p->val[s]); p->val[s] = NULL; }
  for (int i = 0; i < p->npool; i++) sl_storage_release(p->pool[i]);
  p->npool = 0;
  return rc;
}

/* Results and updates, as the reference backend returns and applies them:
** a result that is an input, constant, shared value or another result is a
** copy; updates take effect together after every step has run. */
static int finish(sl_function *f, sl_tensor **results)
{
  sl_program *p = f->program;
  for (int r = 0; r < f->nout; r++) {
    sl_tensor *t = p->val[f->result_slot[r]];
    int alone = f->outputs[r]->kind == SL_VAR_RESULT;
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
    sl_var *e = f->upd_expr[u];
    int alone = e->kind == SL_VAR_RESULT;
    for (int r = 0; r < f->nout; r++) alone &= f->outputs[r] != e;
    for (int w = 0; w < u; w++) alone &= f->upd_expr[w] != e;
    fr[u] = p->val[f->result_slot[f->nout + u]];
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
