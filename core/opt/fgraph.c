/*
** fgraph.c — a graph under rewrite: a private copy of the nodes between the
** inputs and the outputs, the clients of every var, and replacing vars.
**
** Invariants: every node in the graph is retained once by it and marked
** live in `live`; each input slot of a live node is listed once among the
** clients of the var it reads; graph outputs are clients with node NULL. A
** node none of whose outputs has a client is dropped at once, and so are
** the nodes that only it read.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fgraph.h"

/* -- clients -------------------------------------------------------------------- */

static sl_clients *clients_of(sl_fgraph *g, const sl_var *v, int create)
{
  int i = sl_ptrmap_get(&g->client_index, v);
  if (i >= 0) return &g->clients[i];
  if (!create) return NULL;
  if (g->nclients == g->clients_cap) {
    int cap = g->clients_cap ? 2 * g->clients_cap : 256;
    sl_clients *c = realloc(g->clients, (size_t)cap * sizeof *c);
    if (!c) { sl_fail("out of memory"); return NULL; }
    g->clients = c;
    g->clients_cap = cap;
  }
  if (sl_ptrmap_put(&g->client_index, v, g->nclients)) return NULL;
  sl_clients *c = &g->clients[g->nclients++];
  memset(c, 0, sizeof *c);
  return c;
}

static int client_add(sl_fgraph *g, const sl_var *v, sl_node *node, int index)
{
  sl_clients *c = clients_of(g, v, 1);
  if (!c) return -1;
  if (c->n == c->cap) {
    int cap = c->cap ? 2 * c->cap : 4;
    sl_client *e = realloc(c->e, (size_t)cap * sizeof *e);
    if (!e) return sl_fail("out of memory");
    c->e = e;
    c->cap = cap;
  }
  c->e[c->n++] = (sl_client){ node, index };
  return 0;
}

static void client_remove(sl_fgraph *g, const sl_var *v, sl_node *node, int index)
{
  sl_clients *c = clients_of(g, v, 0);
  if (!c) return;
  for (int k = 0; k < c->n; k++)
    if (c->e[k].node == node && c->e[k].index == index) { c->e[k] = c->e[--c->n]; return; }
}

int sl_rw_clients(const sl_fgraph *g, const sl_var *v, const sl_client **out)
{
  int i = sl_ptrmap_get(&g->client_index, v);
  *out = i >= 0 ? g->clients[i].e : NULL;
  return i >= 0 ? g->clients[i].n : 0;
}

int sl_rw_nclients(const sl_fgraph *g, const sl_var *v)
{
  const sl_client *c;
  return sl_rw_clients(g, v, &c);
}


int sl_rw_is_input(const sl_fgraph *g, const sl_var *v)
{
  for (int i = 0; i < g->nin; i++) if (g->inputs[i] == v) return 1;
  return 0;
}

/* -- nodes in and out ------------------------------------------------------------ */

int sl_fgraph_alive(const sl_fgraph *g, const sl_node *n)
{
  return sl_ptrmap_get(&g->live, n) > 0;
}

/* Add v's node and the nodes above it that are not in the graph yet. */
static int import(sl_fgraph *g, sl_var *v)
{
  sl_node *n = v->owner;
  if (!n || sl_fgraph_alive(g, n)) return 0;
  for (int i = 0; i < n->nin; i++) if (import(g, n->inputs[i])) return -1;
  if (sl_ptrmap_put(&g->live, n, 1)) return -1;
  sl_node_retain(n);
  g->nnodes++;
  for (int i = 0; i < n->nin; i++) if (client_add(g, n->inputs[i], n, i)) return -1;
  for (int k = 0; k < n->nout; k++) if (!clients_of(g, &n->outputs[k], 1)) return -1;
  return 0;
}

static int unused(const sl_fgraph *g, const sl_node *n)
{
  for (int k = 0; k < n->nout; k++) if (sl_rw_nclients(g, &n->outputs[k]) > 0) return 0;
  return 1;
}

/* Drop n when nothing reads it, then whatever only it read. */
static void prune(sl_fgraph *g, sl_node *n)
{
  sl_node *stack[64], **st = stack;
  int depth = 0, cap = 64;
  if (!n) return;
  st[depth++] = n;
  while (depth > 0) {
    n = st[--depth];
    if (!sl_fgraph_alive(g, n) || !unused(g, n)) continue;
    sl_ptrmap_put(&g->live, n, 0);   /* the key exists: cannot fail */
    g->nnodes--;
    for (int i = 0; i < n->nin; i++) {
      sl_var *in = n->inputs[i];
      client_remove(g, in, n, i);
      if (!in->owner) continue;
      if (depth == cap) {   /* on failure the rest stays, unused but harmless */
        sl_node **bigger = malloc((size_t)cap * 2 * sizeof *bigger);
        if (!bigger) continue;
        memcpy(bigger, st, (size_t)depth * sizeof *st);
        if (st != stack) free(st);
        st = bigger;
        cap *= 2;
      }
      st[depth++] = in->owner;
    }
    sl_node_release(n);
  }
  if (st != stack) free(st);
}

/* -- replacing -------------------------------------------------------------------- */

/* new may stand for old when dtype and rank agree and no axis that old knows
** to be 1 (broadcastable) could be larger in new. */
static int fits(const sl_var *old, const sl_var *nv)
{
  if (old->type.dtype != nv->type.dtype || old->type.ndim != nv->type.ndim) return 0;
  for (int d = 0; d < old->type.ndim; d++) {
    int64_t a = old->type.shape[d], b = nv->type.shape[d];
    if (a != SL_UNKNOWN && b != SL_UNKNOWN && a != b) return 0;
    if (a == 1 && b != 1) return 0;
  }
  return 1;
}

int sl_rw_replace(sl_fgraph *g, sl_var *old, sl_var *nv)
{
  if (old == nv) return 0;
  if (!fits(old, nv)) {
    char a[128], b[128];
    sl_type_text(&old->type, a, sizeof a);
    sl_type_text(&nv->type, b, sizeof b);
    return sl_fail("optimizer: rewrite %s would replace a %s value by a %s one",
                   g->rewrite ? g->rewrite->name : "?", a, b);
  }
  if (import(g, nv)) return -1;
  if (g->trace) {
    char a[128], b[128];
    fprintf(stderr, "rewrite %s: %s -> %s (%s)\n", g->rewrite ? g->rewrite->name : "?",
            sl_var_label(old, a, sizeof a), sl_var_label(nv, b, sizeof b),
            old->where ? old->where : "?");
  }
  if (!nv->where && old->where && sl_var_set_where(nv, old->where)) return -1;
  sl_var_retain(old);   /* its last client may hold the last reference */
  sl_clients *c = clients_of(g, old, 0);
  while (c && c->n > 0) {
    sl_client e = c->e[--c->n];
    if (client_add(g, nv, e.node, e.index)) { sl_var_release(old); return -1; }
    c = clients_of(g, old, 0);   /* client_add may have moved the array */
    sl_var_retain(nv);
    if (e.node) { sl_var_release(e.node->inputs[e.index]); e.node->inputs[e.index] = nv; }
    else { sl_var_release(g->outputs[e.index]); g->outputs[e.index] = nv; }
  }
  g->changed++;
  prune(g, old->owner);
  sl_var_release(old);
  return 0;
}

/* -- building ---------------------------------------------------------------------- */

static int keep(sl_fgraph *g, void *p, int is_node)
{
  if (g->nscratch == g->scratch_cap) {
    int cap = g->scratch_cap ? 2 * g->scratch_cap : 32;
    sl_scratch *s = realloc(g->scratch, (size_t)cap * sizeof *s);
    if (!s) return sl_fail("out of memory");
    g->scratch = s;
    g->scratch_cap = cap;
  }
  g->scratch[g->nscratch++] = (sl_scratch){ p, is_node };
  return 0;
}

void sl_fgraph_release_scratch(sl_fgraph *g)
{
  for (int i = 0; i < g->nscratch; i++) {
    if (g->scratch[i].is_node) sl_node_release(g->scratch[i].p);
    else sl_var_release(g->scratch[i].p);
  }
  g->nscratch = 0;
}

sl_node *sl_rw_apply_node(sl_fgraph *g, const sl_op *op, const sl_params *p, int nin, sl_var **in)
{
  for (int i = 0; i < nin; i++) if (!in[i]) return NULL;   /* a failed inner build */
  sl_node *n = sl_node_apply(op, p, nin, in);
  if (!n) return NULL;
  if (keep(g, n, 1)) { sl_node_release(n); return NULL; }
  const char *where = g->site && g->site->nout ? g->site->outputs[0].where : NULL;
  for (int k = 0; k < n->nout; k++)
    if (where && sl_var_set_where(&n->outputs[k], where)) return NULL;
  return n;
}

sl_var *sl_rw_applyv(sl_fgraph *g, const sl_op *op, const sl_params *p, int nin, sl_var **in)
{
  sl_node *n = sl_rw_apply_node(g, op, p, nin, in);
  return n ? &n->outputs[0] : NULL;
}

sl_var *sl_rw_apply(sl_fgraph *g, const sl_op *op, const sl_params *p, int nin, ...)
{
  sl_var *in[16];
  va_list ap;
  if (nin > 16) { sl_fail("optimizer: too many inputs"); return NULL; }
  va_start(ap, nin);
  for (int i = 0; i < nin; i++) in[i] = va_arg(ap, sl_var *);
  va_end(ap);
  return sl_rw_applyv(g, op, p, nin, in);
}

sl_var *sl_rw_constant_tensor(sl_fgraph *g, sl_tensor *t)
{
  if (!t) return NULL;
  sl_var *v = sl_var_constant(t, 0);
  if (v && keep(g, v, 0)) { sl_var_release(v); return NULL; }
  return v;
}

sl_var *sl_rw_constant(sl_fgraph *g, double x, sl_dtype dt, const sl_type *ty)
{
  int64_t ones[SL_MAXDIM];
  int nd = ty ? ty->ndim : 0;
  for (int d = 0; d < nd; d++) ones[d] = 1;
  sl_tensor *t = sl_tensor_full(dt, nd, ones, x);
  sl_var *v = sl_rw_constant_tensor(g, t);
  sl_tensor_release(t);
  return v;
}

sl_var *sl_rw_cast(sl_fgraph *g, sl_var *v, sl_dtype dt)
{
  if (!v || v->type.dtype == dt) return v;
  sl_params p = { .dtype = dt };
  return sl_rw_apply(g, &sl_op_cast, &p, 1, v);
}

/* -- matching ---------------------------------------------------------------------- */

sl_node *sl_rw_owner(const sl_var *v, const sl_op *op)
{
  return v && v->owner && v->owner->op == op ? v->owner : NULL;
}

int sl_rw_constant_value(const sl_var *v, double *x)
{
  if (!v || v->kind != SL_VAR_CONSTANT) return 0;
  const sl_tensor *t = v->value;
  int64_t n = sl_tensor_numel(t);
  if (n == 0 || n > 4096) return 0;
  int64_t idx[SL_MAXDIM] = { 0 };
  double first = sl_tensor_get(t, idx);
  for (int64_t k = 1; k < n; k++) {
    for (int d = t->ndim - 1; d >= 0; d--) {   /* next index in C order */
      if (++idx[d] < t->shape[d]) break;
      idx[d] = 0;
    }
    double y = sl_tensor_get(t, idx);
    if (!(y == first || (y != y && first != first))) return 0;
  }
  *x = first;
  return 1;
}

int sl_rw_is_constant(const sl_var *v, double x)
{
  double y;
  return sl_rw_constant_value(v, &y) && y == x;
}

/* -- making and freeing ------------------------------------------------------------ */

/* A leaf the graph reads: an input must be one of the function's. */
static int check_leaf(const sl_fgraph *g, const sl_var *v)
{
  char buf[64];
  if (v->kind != SL_VAR_INPUT || sl_rw_is_input(g, v)) return 0;
  return sl_fail("compile: the outputs depend on input '%s', which is not in the list of inputs",
                 sl_var_label(v, buf, sizeof buf));
}

/* Copy the nodes between inputs and vars (depth first, explicit stack); the
** graph's outputs are the copies of vars. */
sl_fgraph *sl_fgraph_new(int nin, sl_var **inputs, int n, sl_var **vars)
{
  sl_fgraph *g = calloc(1, sizeof *g);
  sl_ptrmap copy = { 0 };             /* original var -> index in mapped */
  sl_var **mapped = NULL;
  int nmapped = 0, mapped_cap = 0;
  typedef struct { sl_node *n; int next; } frame;
  frame *stack = NULL;
  int depth = 0, cap = 0;
  if (!g) { sl_fail("out of memory"); return NULL; }
  g->nin = nin;
  g->inputs = inputs;
  g->nout = n;
  g->outputs = calloc((size_t)n + 1, sizeof *g->outputs);
  if (!g->outputs) goto oom;

#define MAP(v, to) do { \
    if (nmapped == mapped_cap) { \
      mapped_cap = mapped_cap ? 2 * mapped_cap : 256; \
      sl_var **m_ = realloc(mapped, (size_t)mapped_cap * sizeof *m_); \
      if (!m_) goto oom; \
      mapped = m_; \
    } \
    if (sl_ptrmap_put(&copy, (v), nmapped)) goto fail; \
    mapped[nmapped++] = (to); \
  } while (0)

  for (int r = 0; r < n; r++) {
    sl_var *root = vars[r];
    if (sl_ptrmap_get(&copy, root) < 0 && !root->owner) {
      if (check_leaf(g, root)) goto fail;
      MAP(root, root);
    }
    if (root->owner && sl_ptrmap_get(&copy, &root->owner->outputs[0]) < 0) {
      if (depth == cap) {
        cap = cap ? 2 * cap : 64;
        frame *s = realloc(stack, (size_t)cap * sizeof *s);
        if (!s) goto oom;
        stack = s;
      }
      stack[depth++] = (frame){ root->owner, 0 };
    }
    while (depth > 0) {
      frame *top = &stack[depth - 1];
      if (top->next < top->n->nin) {
        sl_var *in = top->n->inputs[top->next++];
        if (sl_ptrmap_get(&copy, in) >= 0) continue;
        if (!in->owner) {
          if (check_leaf(g, in)) goto fail;
          MAP(in, in);
          continue;
        }
        if (depth == cap) {
          cap = cap ? 2 * cap : 64;
          frame *s = realloc(stack, (size_t)cap * sizeof *s);
          if (!s) goto oom;
          stack = s;
        }
        stack[depth++] = (frame){ in->owner, 0 };
        continue;
      }
      sl_node *orig = top->n;
      depth--;
      if (sl_ptrmap_get(&copy, &orig->outputs[0]) >= 0) continue;   /* reached twice */
      sl_var *in[64], **ins = orig->nin <= 64 ? in : malloc((size_t)orig->nin * sizeof *ins);
      if (!ins) goto oom;
      for (int i = 0; i < orig->nin; i++) ins[i] = mapped[sl_ptrmap_get(&copy, orig->inputs[i])];
      sl_node *c = sl_node_apply(orig->op, &orig->params, orig->nin, ins);
      if (ins != in) free(ins);
      if (!c) goto fail;
      /* the new node is the graph's: its reference becomes the graph's */
      if (sl_ptrmap_put(&g->live, c, 1)) { sl_node_release(c); goto fail; }
      g->nnodes++;
      for (int i = 0; i < c->nin; i++) if (client_add(g, c->inputs[i], c, i)) goto fail;
      for (int k = 0; k < c->nout; k++) {
        const sl_var *o = &orig->outputs[k];
        c->outputs[k].id = o->id;   /* labels in messages and profiles stay the user's */
        if ((o->name && sl_var_set_name(&c->outputs[k], o->name)) ||
            (o->where && sl_var_set_where(&c->outputs[k], o->where))) goto fail;
        MAP(o, &c->outputs[k]);
      }
    }
    g->outputs[r] = mapped[sl_ptrmap_get(&copy, root)];
    sl_var_retain(g->outputs[r]);
  }
#undef MAP
  for (int r = 0; r < n; r++) if (client_add(g, g->outputs[r], NULL, r)) goto fail;
  free(stack);
  free(mapped);
  sl_ptrmap_free(&copy);
  return g;

oom:
  sl_fail("out of memory");
fail:
  free(stack);
  free(mapped);
  sl_ptrmap_free(&copy);
  sl_fgraph_free(g);
  return NULL;
}

void sl_fgraph_free(sl_fgraph *g)
{
  if (!g) return;
  sl_fgraph_release_scratch(g);
  if (g->free_shapes) g->free_shapes(g->shapes);
  for (size_t i = 0; i < g->live.cap; i++)
    if (g->live.keys[i] && g->live.vals[i] > 0) sl_node_release((sl_node *)g->live.keys[i]);
  for (int r = 0; r < g->nout; r++) sl_var_release(g->outputs[r]);
  for (int i = 0; i < g->nclients; i++) free(g->clients[i].e);
  free(g->clients);
  free(g->outputs);
  free(g->scratch);
  sl_ptrmap_free(&g->live);
  sl_ptrmap_free(&g->client_index);
  free(g);
}

/* Live nodes in topological order (each after its inputs), retained: the
** caller releases them. */
int sl_fgraph_toposort(sl_fgraph *g, sl_node ***out)
{
  sl_ptrmap seen = { 0 };
  sl_node **order = malloc(((size_t)g->nnodes + 1) * sizeof *order);
  typedef struct { sl_node *n; int next; } frame;
  frame *stack = NULL;
  int norder = 0, depth = 0, cap = 0;
  if (!order) return sl_fail("out of memory");
  for (int r = 0; r < g->nout; r++) {
    sl_node *root = g->outputs[r]->owner;
    if (!root || sl_ptrmap_get(&seen, root) >= 0) continue;
    if (sl_ptrmap_put(&seen, root, 1)) goto fail;
    depth = 0;
#define PUSH(node) do { \
      if (depth == cap) { \
        cap = cap ? 2 * cap : 64; \
        frame *s_ = realloc(stack, (size_t)cap * sizeof *s_); \
        if (!s_) { sl_fail("out of memory"); goto fail; } \
        stack = s_; \
      } \
      stack[depth++] = (frame){ (node), 0 }; \
    } while (0)
    PUSH(root);
    while (depth > 0) {
      frame *top = &stack[depth - 1];
      if (top->next < top->n->nin) {
        sl_node *in = top->n->inputs[top->next++]->owner;
        if (in && sl_ptrmap_get(&seen, in) < 0) {
          if (sl_ptrmap_put(&seen, in, 1)) goto fail;
          PUSH(in);
        }
        continue;
      }
      sl_node_retain(top->n);
      order[norder++] = top->n;
      depth--;
    }
#undef PUSH
  }
  free(stack);
  sl_ptrmap_free(&seen);
  *out = order;
  return norder;
fail:
  for (int k = 0; k < norder; k++) sl_node_release(order[k]);
  free(order);
  free(stack);
  sl_ptrmap_free(&seen);
  return -1;
}
