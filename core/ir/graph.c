/*
** graph.c — building the IR: static types, vars, nodes, and applying an op.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"

static int64_t next_id = 1;

/* -- types ------------------------------------------------------------------ */

void sl_type_of_tensor(const sl_tensor *t, sl_type *ty)
{
  ty->dtype = t->dtype;
  ty->ndim = t->ndim;
  memcpy(ty->shape, t->shape, (size_t)t->ndim * sizeof *t->shape);
}

int sl_type_accepts(const sl_type *ty, const sl_tensor *t)
{
  if (t->dtype != ty->dtype || t->ndim != ty->ndim) return 0;
  for (int i = 0; i < t->ndim; i++)
    if (ty->shape[i] != SL_UNKNOWN && ty->shape[i] != t->shape[i]) return 0;
  return 1;
}

void sl_type_text(const sl_type *ty, char *buf, size_t n)
{
  size_t k = (size_t)snprintf(buf, n, "%s (", sl_dtype_name(ty->dtype));
  for (int i = 0; i < ty->ndim && k < n; i++) {
    if (ty->shape[i] == SL_UNKNOWN) k += (size_t)snprintf(buf + k, n - k, i ? ", ?" : "?");
    else k += (size_t)snprintf(buf + k, n - k, i ? ", %lld" : "%lld", (long long)ty->shape[i]);
  }
  if (k < n) snprintf(buf + k, n - k, ty->ndim == 1 ? ",)" : ")");
}

/* NumPy broadcasting on static shapes: a known 1 stretches; an unknown size
** against a known size > 1 takes the known size (checked again at run time). */
int sl_type_broadcast(int n, const sl_type *const *in, sl_type *out)
{
  int nd = 0;
  for (int i = 0; i < n; i++) if (in[i]->ndim > nd) nd = in[i]->ndim;
  out->ndim = nd;
  for (int d = 0; d < nd; d++) {
    int64_t size = 1;
    for (int i = 0; i < n; i++) {
      int k = d - (nd - in[i]->ndim);
      if (k < 0) continue;
      int64_t s = in[i]->shape[k];
      if (s == 1) continue;
      if (size == 1) { size = s; continue; }
      if (s == SL_UNKNOWN) continue;
      if (size == SL_UNKNOWN) { size = s; continue; }
      if (s != size) {
        char a[128], b[128];
        sl_type_text(in[0], a, sizeof a);
        sl_type_text(in[i], b, sizeof b);
        return sl_fail("shapes do not broadcast: %s and %s differ in dimension %d "
                       "(%lld vs %lld)", a, b, d + 1, (long long)size, (long long)s);
      }
    }
    out->shape[d] = size;
  }
  return 0;
}

/* Result dtype of inputs first.. of n by NumPy's promotion. A weak input (a
** constant from a Lua number) only matters when its kind (bool < integer <
** float < complex) is above the strong inputs' kind: then the result takes
** the default dtype of its kind. A complex tensor times 0.5 stays complex. */
static int kind_rank(sl_dtype dt)
{
  char k = sl_dtype_kind(dt);
  return k == 'b' ? 0 : k == 'f' ? 2 : k == 'c' ? 3 : 1;
}

sl_dtype sl_promote_inputs(const sl_node *n, int first)
{
  int have_strong = 0, have_weak = 0, weak_rank = -1;
  sl_dtype strong = SL_BOOL, weak = SL_BOOL;
  for (int i = first; i < n->nin; i++) {
    const sl_var *v = n->inputs[i];
    if (v->weak) {
      weak = have_weak ? sl_dtype_promote(weak, v->type.dtype) : v->type.dtype;
      have_weak = 1;
      if (kind_rank(v->type.dtype) > weak_rank) weak_rank = kind_rank(v->type.dtype);
    } else {
      strong = have_strong ? sl_dtype_promote(strong, v->type.dtype) : v->type.dtype;
      have_strong = 1;
    }
  }
  if (!have_strong) return weak_rank == 2 ? sl_float_default : weak;
  if (weak_rank > kind_rank(strong))
    return weak_rank == 3 ? sl_dtype_promote(strong, weak) : weak_rank == 2 ? sl_float_default : SL_INT64;
  return strong;
}

/* -- vars ------------------------------------------------------------------------ */

static sl_var *var_new(sl_var_kind kind, const sl_type *ty, const char *name)
{
  sl_var *v = calloc(1, sizeof *v);
  if (!v) { sl_fail("out of memory"); return NULL; }
  v->refcount = 1;
  v->id = next_id++;
  v->kind = kind;
  v->type = *ty;
  if (name && sl_var_set_name(v, name)) { free(v); return NULL; }
  return v;
}

sl_var *sl_var_input(const sl_type *ty, const char *name)
{
  if (ty->ndim < 0 || ty->ndim > SL_MAXDIM || (unsigned)ty->dtype >= SL_NDTYPES) {
    sl_fail("invalid type for input '%s'", name ? name : "?");
    return NULL;
  }
  for (int i = 0; i < ty->ndim; i++)
    if (ty->shape[i] < SL_UNKNOWN) {
      sl_fail("invalid size %lld in the type of input '%s'", (long long)ty->shape[i],
              name ? name : "?");
      return NULL;
    }
  return var_new(SL_VAR_INPUT, ty, name);
}

static sl_var *var_holding(sl_var_kind kind, sl_tensor *value, const char *name)
{
  sl_type ty;
  sl_type_of_tensor(value, &ty);
  sl_var *v = var_new(kind, &ty, name);
  if (v) { v->value = value; sl_tensor_retain(value); }
  return v;
}

sl_var *sl_var_constant(sl_tensor *value, int weak)
{
  sl_var *v = var_holding(SL_VAR_CONSTANT, value, NULL);
  if (v) v->weak = weak;
  return v;
}

/* Shared variables keep a type with every size known but free to change on
** set_value: only dtype and rank are fixed. */
sl_var *sl_var_shared(sl_tensor *value, const char *name)
{
  sl_var *v = var_holding(SL_VAR_SHARED, value, name);
  if (v) for (int i = 0; i < v->type.ndim; i++) v->type.shape[i] = SL_UNKNOWN;
  return v;
}

void sl_var_retain(sl_var *v)
{
  if (v->owner) v->owner->refcount++;
  else v->refcount++;
}

static void var_free_fields(sl_var *v)
{
  free(v->name);
  free(v->where);
  sl_tensor_release(v->value);
}

void sl_var_release(sl_var *v)
{
  if (!v) return;
  if (v->owner) { sl_node_release(v->owner); return; }
  if (--v->refcount > 0) return;
  var_free_fields(v);
  free(v);
}

static int set_string(char **dst, const char *s)
{
  char *copy = s ? strdup(s) : NULL;
  if (s && !copy) return sl_fail("out of memory");
  free(*dst);
  *dst = copy;
  return 0;
}

int sl_var_set_name(sl_var *v, const char *name) { return set_string(&v->name, name); }
int sl_var_set_where(sl_var *v, const char *where) { return set_string(&v->where, where); }

const char *sl_var_label(const sl_var *v, char *buf, size_t n)
{
  if (v->name) snprintf(buf, n, "%s", v->name);
  else if (v->owner) snprintf(buf, n, "%s#%lld", v->owner->op->name, (long long)v->id);
  else if (v->kind == SL_VAR_CONSTANT) snprintf(buf, n, "constant#%lld", (long long)v->id);
  else snprintf(buf, n, "input#%lld", (long long)v->id);
  return buf;
}

/* -- nodes ------------------------------------------------------------------------ */

void sl_node_retain(sl_node *n) { n->refcount++; }

void sl_node_release(sl_node *n)
{
  if (!n || --n->refcount > 0) return;
  for (int i = 0; i < n->nin; i++) sl_var_release(n->inputs[i]);
  for (int i = 0; i < n->nout; i++) var_free_fields(&n->outputs[i]);
  sl_subfn_release(n->params.sub);
  free(n->inputs);
  free(n->outputs);
  free(n);
}

/* Complex inputs reach only the ops whose rows flag SL_OP_COMPLEX (those
** that compute with them and those that only move elements) and the
** elementwise ops (their infer checks which). */
static int refuses_complex(const sl_node *n)
{
  int i = 0;
  while (i < n->nin && sl_dtype_kind(n->inputs[i]->type.dtype) != 'c') i++;
  if (i == n->nin || (n->op->flags & SL_OP_COMPLEX) || n->op->rule != SL_TR_NONE) return 0;
  return sl_fail("%s does not take complex input (input %d is %s): take real(), imag() or "
                 "abs() first", n->op->name, i + 1, sl_dtype_name(n->inputs[i]->type.dtype));
}

/* float16 and bfloat16 compute in elementwise ops and reductions (in float
** or double, rounded once per result) and pass through ops that move
** elements; every other op takes them after a cast. */
static int refuses_half(const sl_node *n)
{
  const sl_op *op = n->op;
  if (op->rule != SL_TR_NONE || op->fuse != SL_FUSE_NONE || (op->flags & SL_OP_MOVES)) return 0;
  for (int i = 0; i < n->nin; i++)
    if (sl_dtype_is_half(n->inputs[i]->type.dtype))
      return sl_fail("%s does not take %s input (input %d): cast it to float32 first (x:cast('float32')); "
                     "float16 and bfloat16 compute in elementwise ops and reductions only",
                     op->name, sl_dtype_name(n->inputs[i]->type.dtype), i + 1);
  for (int k = 0; k < n->nout; k++)
    if (sl_dtype_is_half(n->outputs[k].type.dtype))
      return sl_fail("%s does not make %s values: compute in float32 and cast",
                     op->name, sl_dtype_name(n->outputs[k].type.dtype));
  return 0;
}

/* A result whose known sizes hold more elements than a tensor can is an
** error where the graph is built, not at the first call. */
static int too_large(const sl_op *op, int nout, const sl_type *types)
{
  for (int k = 0; k < nout; k++) {
    int64_t n = 1;
    for (int i = 0; i < types[k].ndim; i++) {
      if (types[k].shape[i] != SL_UNKNOWN && (n = sl_numel_mul(n, types[k].shape[i])) < 0) {
        char text[256];
        sl_type_text(&types[k], text, sizeof text);
        return sl_fail("%s: the result %s has more than the 2^60 - 1 elements a tensor can hold",
                       op->name, text);
      }
    }
  }
  return 0;
}

/* The checks and typing of a node whose inputs are in place: its outputs' types. */
static int node_types(const sl_node *n, sl_type *types)
{
  const sl_op *op = n->op;
  if (refuses_complex(n) || refuses_half(n)) return -1;
  if (n->nout > SL_MAX_OUTPUTS)
    return sl_fail("%s: %d outputs, more than the %d a node can have", op->name, n->nout, SL_MAX_OUTPUTS);
  return op->infer((sl_node *)n, types) || too_large(op, n->nout, types) ? -1 : 0;
}

sl_node *sl_node_apply(const sl_op *op, const sl_params *params, int nin, sl_var **inputs)
{
  if (op->nin >= 0 && nin != op->nin) {
    sl_fail("%s takes %d input%s, got %d", op->name, op->nin, op->nin == 1 ? "" : "s", nin);
    return NULL;
  }
  sl_node *n = calloc(1, sizeof *n);
  if (!n) { sl_fail("out of memory"); return NULL; }
  n->refcount = 1;
  n->op = op;
  if (params) n->params = *params;
  if (n->params.sub) sl_subfn_retain(n->params.sub);
  n->nin = nin;
  int nout = op->nout >= 0 ? op->nout : n->params.sub ? n->params.sub->nout : 0;
  n->nout = nout;
  n->inputs = calloc((size_t)(nin ? nin : 1), sizeof *n->inputs);
  n->outputs = calloc((size_t)(nout ? nout : 1), sizeof *n->outputs);
  if (!n->inputs || !n->outputs) {
    sl_subfn_release(n->params.sub);
    free(n->inputs); free(n->outputs); free(n);
    sl_fail("out of memory");
    return NULL;
  }
  for (int i = 0; i < nin; i++) { n->inputs[i] = inputs[i]; sl_var_retain(inputs[i]); }
  sl_type types[SL_MAX_OUTPUTS];
  if (node_types(n, types)) {
    n->nout = 0;
    sl_node_release(n);
    return NULL;
  }
  for (int k = 0; k < nout; k++) {
    sl_var *v = &n->outputs[k];
    v->id = next_id++;
    v->kind = SL_VAR_RESULT;
    v->type = types[k];
    v->owner = n;
    v->index = k;
  }
  return n;
}

/* An elementwise op on tensors, computed at once: the checks, typing and
** reference kernel of sl_node_apply + sl_node_perform, on a node and
** constants that live on the stack for the call (elementwise rows neither
** keep their node nor read a var's id, name or place). */
int sl_eval_elemwise(const sl_op *op, const sl_params *params, int nin, sl_tensor **vals,
                     const int *weak, sl_tensor **out)
{
  if (op->rule == SL_TR_NONE || op->nout != 1 || nin > SL_EVAL_MAX_IN || (params && params->sub))
    return sl_fail("%s: not an elementwise op of at most %d inputs", op->name, SL_EVAL_MAX_IN);
  if (op->nin >= 0 && nin != op->nin)
    return sl_fail("%s takes %d input%s, got %d", op->name, op->nin, op->nin == 1 ? "" : "s", nin);
  sl_var cin[SL_EVAL_MAX_IN], *in[SL_EVAL_MAX_IN], result;
  sl_node n = { .refcount = 1, .op = op, .nin = nin, .nout = 1, .inputs = in, .outputs = &result };
  if (params) n.params = *params;
  memset(&result, 0, sizeof result);
  for (int i = 0; i < nin; i++) {
    memset(&cin[i], 0, sizeof cin[i]);
    cin[i].refcount = 1;
    cin[i].kind = SL_VAR_CONSTANT;
    sl_type_of_tensor(vals[i], &cin[i].type);
    cin[i].value = vals[i];
    cin[i].weak = weak ? weak[i] : 0;
    in[i] = &cin[i];
  }
  if (node_types(&n, &result.type)) return -1;
  result.kind = SL_VAR_RESULT;
  result.owner = &n;
  return sl_node_perform(&n, vals, out);
}

_Thread_local const char *sl_perform_variant;

int sl_node_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  for (int k = 0; k < n->nout; k++) out[k] = NULL;
  if (n->op->perform(n, in, out) == 0) return 0;
  for (int k = 0; k < n->nout; k++) { sl_tensor_release(out[k]); out[k] = NULL; }
  return -1;
}
