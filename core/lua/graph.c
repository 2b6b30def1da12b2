/*
** graph.c — the graph IR in Lua: vars, nodes, applying ops (eagerly when
** every input is concrete) and compiled functions.
*/
#include <stdlib.h>
#include <string.h>

#include "lua_symlua.h"
#include "function.h"
#include "backend.h"
#include "config.h"

static const char var_mt[] = "symlua.var";
#define SL_VAR_MT  var_mt
#define SL_NODE_MT "symlua.node"
#define SL_SUBFN_MT "symlua.subfn"

/* -- boxing ----------------------------------------------------------------- */

static void push_var(lua_State *L, sl_var *v)   /* takes one reference */
{
  sl_var **box = lua_newuserdata(L, sizeof *box);
  *box = v;
  sl_lua_push_metatable(L, SL_VAR_MT);
  lua_setmetatable(L, -2);
}

static sl_var *to_var(lua_State *L, int idx)
{
  sl_var **box = lua_touserdata(L, idx);
  if (!box || !lua_getmetatable(L, idx)) return NULL;
  sl_lua_push_metatable(L, SL_VAR_MT);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? *box : NULL;
}

static sl_var *check_var(lua_State *L, int idx)
{
  sl_var *v = to_var(L, idx);
  if (!v) sl_lua_error(L, "bad argument #%d: expected a symbolic variable, got %s", idx,
                       luaL_typename(L, idx));
  return v;
}

static void push_node(lua_State *L, sl_node *n)   /* takes one reference */
{
  sl_node **box = lua_newuserdata(L, sizeof *box);
  *box = n;
  luaL_getmetatable(L, SL_NODE_MT);
  lua_setmetatable(L, -2);
}

static void push_subfn(lua_State *L, sl_subfn *f)   /* takes one reference */
{
  sl_subfn **box = lua_newuserdata(L, sizeof *box);
  *box = f;
  luaL_getmetatable(L, SL_SUBFN_MT);
  lua_setmetatable(L, -2);
}

static void set_where(lua_State *L, sl_var *v)
{
  char where[512];
  if (sl_lua_where(L, where, sizeof where)) sl_var_set_where(v, where);
}

/* -- making vars ---------------------------------------------------------------- */

/* input(dtype, static_shape, name): sizes -1 (or false) are unknown */
static int l_input(lua_State *L)
{
  sl_type ty;
  ty.dtype = sl_lua_check_dtype(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  ty.ndim = (int)lua_objlen(L, 2);
  if (ty.ndim > SL_MAXDIM) sl_lua_error(L, "a variable has at most %d dimensions", SL_MAXDIM);
  int64_t known = 1;   /* the product of the known sizes */
  for (int i = 0; i < ty.ndim; i++) {
    lua_rawgeti(L, 2, i + 1);
    ty.shape[i] = lua_toboolean(L, -1) ? sl_lua_check_int(L, -1, "a static size") : SL_UNKNOWN;
    if (ty.shape[i] < SL_UNKNOWN) sl_lua_error(L, "a static size must be >= 0 or -1 (unknown)");
    lua_pop(L, 1);
    if (ty.shape[i] != SL_UNKNOWN && (known = sl_numel_mul(known, ty.shape[i])) < 0)
      sl_lua_error(L, "a static shape has more than the 2^60 - 1 elements a tensor can hold");
  }
  sl_var *v = sl_var_input(&ty, luaL_optstring(L, 3, NULL));
  if (!v) sl_lua_fail(L);
  set_where(L, v);
  push_var(L, v);
  return 1;
}

static int l_shared(lua_State *L)
{
  sl_tensor *t = sl_tensor_clone(sl_lua_check_tensor(L, 1));   /* the core owns its copy */
  if (!t) sl_lua_fail(L);
  sl_var *v = sl_var_shared(t, luaL_optstring(L, 2, NULL));
  sl_tensor_release(t);
  if (!v) sl_lua_fail(L);
  set_where(L, v);
  push_var(L, v);
  return 1;
}

/* Arguments that become constants: nested tables are made tensors first, in
** place on the stack, so that as_var below cannot raise and leak. Returns
** 1 for a variable, else 0 and in *t the tensor, if it is one. */
static int normalize_arg(lua_State *L, int idx, sl_tensor **t)
{
  int ty = lua_type(L, idx);
  *t = NULL;
  if (ty == LUA_TNUMBER || ty == LUA_TBOOLEAN) return 0;
  if (ty == LUA_TUSERDATA && lua_getmetatable(L, idx)) {   /* a var's or a tensor's */
    sl_lua_push_metatable(L, SL_VAR_MT);
    int is_var = lua_rawequal(L, -1, -2);
    lua_pop(L, 1);
    sl_lua_push_metatable(L, SL_TENSOR_MT);
    int is_tensor = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (is_var) return 1;
    if (is_tensor && (*t = *(sl_tensor **)lua_touserdata(L, idx))) return 0;
  }
  if (ty != LUA_TTABLE)
    sl_lua_error(L, "expected a tensor, variable, number or table, got %s", luaL_typename(L, idx));
  lua_pushcfunction(L, sl_lua_from_table);
  lua_pushvalue(L, idx);
  lua_call(L, 1, 1);
  lua_replace(L, idx);
  *t = sl_lua_to_tensor(L, idx);
  return 0;
}

/* A Lua number or boolean as a 0-d tensor, and whether it is a weak constant. */
static sl_tensor *scalar_arg(lua_State *L, int idx, int *weak)
{
  int is_bool = lua_type(L, idx) == LUA_TBOOLEAN;
  double d = is_bool ? lua_toboolean(L, idx) : lua_tonumber(L, idx);
  sl_dtype dt = is_bool ? SL_BOOL
              : (d == (double)(int64_t)d && d > -9.2e18 && d < 9.2e18) ? SL_INT64 : SL_FLOAT64;
  *weak = 1;
  return sl_tensor_full(dt, 0, NULL, d);
}

/* A var for a normalized argument: the var itself, or a constant from a
** tensor or a Lua number/boolean (weak). Returns a new reference. */
static sl_var *as_var(lua_State *L, int idx, int *symbolic)
{
  sl_var *v = to_var(L, idx);
  if (v) { *symbolic = 1; sl_var_retain(v); return v; }
  sl_tensor *t = sl_lua_to_tensor(L, idx);
  if (t) return sl_var_constant(t, 0);   /* copied by l_apply if it joins a graph */
  int weak;
  if (!(t = scalar_arg(L, idx, &weak))) return NULL;
  v = sl_var_constant(t, weak);
  sl_tensor_release(t);
  return v;
}

/* An elementwise op whose inputs are all values: computed at once by
** sl_eval_elemwise, which builds no node, so the common eager case (a + b
** on two tensors) allocates nothing but its result. */
static int apply_values(lua_State *L, const sl_op *op, const sl_params *params, int nin, sl_tensor **given)
{
  sl_tensor *vals[SL_EVAL_MAX_IN], *out = NULL;
  int weak[SL_EVAL_MAX_IN], rc = 0, made = 0;
  for (; made < nin && !rc; made++) {
    weak[made] = 0;
    if ((vals[made] = given[made])) sl_tensor_retain(vals[made]);
    else if (!(vals[made] = scalar_arg(L, made + 3, &weak[made]))) rc = -1;
  }
  if (!rc) rc = sl_eval_elemwise(op, params, nin, vals, weak, &out);
  while (made--) sl_tensor_release(vals[made]);
  if (rc) sl_lua_fail(L);
  sl_lua_push_tensor(L, out);
  return 1;
}

/* constant(t): a constant variable holding a copy of t */
static int l_constant(lua_State *L)
{
  sl_tensor *t = sl_tensor_clone(sl_lua_check_tensor(L, 1));
  if (!t) sl_lua_fail(L);
  sl_var *v = sl_var_constant(t, 0);
  sl_tensor_release(t);
  if (!v) sl_lua_fail(L);
  set_where(L, v);
  push_var(L, v);
  return 1;
}

static void read_params(lua_State *L, int idx, sl_params *p)
{
  memset(p, 0, sizeof *p);
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_getfield(L, idx, "v");
  if (lua_istable(L, -1)) {
    p->n = (int)lua_objlen(L, -1);
    if (p->n > SL_MAXPARAMS) sl_lua_error(L, "too many op parameters");
    for (int i = 0; i < p->n; i++) {
      lua_rawgeti(L, -1, i + 1);
      p->v[i] = sl_lua_check_int(L, -1, "an op parameter");
      lua_pop(L, 1);
    }
  }
  lua_getfield(L, idx, "dtype");
  if (!lua_isnil(L, -1)) p->dtype = sl_lua_check_dtype(L, -1);
  lua_getfield(L, idx, "x");
  p->x = lua_tonumber(L, -1);
  lua_getfield(L, idx, "sub");   /* borrowed: the params table holds it */
  if (!lua_isnil(L, -1)) p->sub = *(sl_subfn **)luaL_checkudata(L, -1, SL_SUBFN_MT);
  lua_pop(L, 4);
}

/* apply(opname, params, inputs...): variables when any input is symbolic,
** else the tensors computed at once by the same op implementation. */
static int l_apply(lua_State *L)
{
  const sl_op *op = sl_op_find(luaL_checkstring(L, 1));
  if (!op) sl_lua_fail(L);
  sl_params params;
  read_params(L, 2, &params);
  int nin = lua_gettop(L) - 2, symbolic = 0;
  if (nin > SL_MAX_OPERANDS * 4) sl_lua_error(L, "%s: too many inputs", op->name);
  sl_var *in[SL_MAX_OPERANDS * 4];
  sl_tensor *given[SL_MAX_OPERANDS * 4];
  for (int i = 0; i < nin; i++) symbolic |= normalize_arg(L, i + 3, &given[i]);
  if (!symbolic && op->rule != SL_TR_NONE && op->nout == 1 && nin <= SL_EVAL_MAX_IN &&
      (op->nin < 0 || nin == op->nin) && !params.sub)
    return apply_values(L, op, &params, nin, given);
  for (int i = 0; i < nin; i++) {
    in[i] = as_var(L, i + 3, &symbolic);
    if (!in[i]) { while (i--) sl_var_release(in[i]); sl_lua_fail(L); }
  }
  sl_node *n = sl_node_apply(op, &params, nin, in);
  for (int i = 0; i < nin; i++) sl_var_release(in[i]);
  if (!n) sl_lua_fail(L);
  if (!symbolic) {
    sl_tensor *vals[SL_MAX_OPERANDS * 4], *out[SL_MAX_OUTPUTS];
    for (int i = 0; i < nin; i++) vals[i] = n->inputs[i]->value;
    int rc = sl_node_perform(n, vals, out);
    int nout = n->nout;
    sl_node_release(n);
    if (rc) sl_lua_fail(L);
    for (int k = 0; k < nout; k++) sl_lua_push_tensor(L, out[k]);
    return nout;
  }
  /* a tensor that joins a graph is copied, so later writes to it cannot
  ** change the graph (eager ops above never keep their inputs) */
  for (int i = 0; i < nin; i++) {
    sl_var *c = n->inputs[i];
    if (c->kind == SL_VAR_CONSTANT && !c->weak) {
      sl_tensor *copy = sl_tensor_clone(c->value);
      if (!copy) { sl_node_release(n); sl_lua_fail(L); }
      sl_tensor_release(c->value);
      c->value = copy;
    }
  }
  int nout = n->nout;
  for (int k = 0; k < nout; k++) {
    set_where(L, &n->outputs[k]);
    sl_node_retain(n);
    push_var(L, &n->outputs[k]);
  }
  sl_node_release(n);
  return nout;
}

/* -- var methods ---------------------------------------------------------------- */

static int l_var_gc(lua_State *L)
{
  sl_var **box = lua_touserdata(L, 1);
  sl_var_release(*box);
  *box = NULL;
  return 0;
}

static int l_var_tostring(lua_State *L)
{
  sl_var *v = check_var(L, 1);
  char label[128], ty[256];
  sl_type_text(&v->type, ty, sizeof ty);
  lua_pushfstring(L, "var %s: %s", sl_var_label(v, label, sizeof label), ty);
  return 1;
}

static int l_var_name(lua_State *L)
{
  sl_var *v = check_var(L, 1);
  if (!lua_isnoneornil(L, 2)) {   /* v:name('x') names it and returns v */
    if (sl_var_set_name(v, luaL_checkstring(L, 2))) sl_lua_fail(L);
    lua_settop(L, 1);
    return 1;
  }
  if (v->name) lua_pushstring(L, v->name); else lua_pushnil(L);
  return 1;
}

static int l_var_dtype(lua_State *L)
{
  lua_pushstring(L, sl_dtype_name(check_var(L, 1)->type.dtype));
  return 1;
}

static int l_var_dim(lua_State *L)
{
  lua_pushinteger(L, check_var(L, 1)->type.ndim);
  return 1;
}

/* The static shape: a table with a size or -1 (unknown) per axis. */
static int l_var_static_shape(lua_State *L)
{
  sl_var *v = check_var(L, 1);
  lua_createtable(L, v->type.ndim, 0);
  for (int i = 0; i < v->type.ndim; i++) {
    lua_pushnumber(L, (lua_Number)v->type.shape[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_var_kind(lua_State *L)
{
  static const char *const kinds[] = { "input", "constant", "shared", "result" };
  lua_pushstring(L, kinds[check_var(L, 1)->kind]);
  return 1;
}

static int l_var_id(lua_State *L)
{
  lua_pushnumber(L, (lua_Number)check_var(L, 1)->id);
  return 1;
}

static int l_var_where(lua_State *L)
{
  sl_var *v = check_var(L, 1);
  if (v->where) lua_pushstring(L, v->where); else lua_pushnil(L);
  return 1;
}

/* a constant made from a Lua number: it takes its partner's dtype */
static int l_var_is_weak(lua_State *L)
{
  lua_pushboolean(L, check_var(L, 1)->weak);
  return 1;
}

static int l_var_owner(lua_State *L)
{
  sl_var *v = check_var(L, 1);
  if (!v->owner) { lua_pushnil(L); return 1; }
  sl_node_retain(v->owner);
  push_node(L, v->owner);
  return 1;
}

static int l_var_index(lua_State *L)
{
  lua_pushinteger(L, check_var(L, 1)->index + 1);
  return 1;
}

/* constants and shared variables: a copy of the value (borrow = true: the
** core's own tensor, which must not be written to) */
static int l_var_get_value(lua_State *L)
{
  sl_var *v = check_var(L, 1);
  if (!v->value) sl_lua_error(L, "get_value: only constants and shared variables have a value");
  sl_shared_lock();   /* a host thread's call may be replacing it */
  sl_tensor *t = lua_toboolean(L, 2) ? v->value : sl_tensor_clone(v->value);
  if (t == v->value) sl_tensor_retain(t);
  sl_shared_unlock();
  sl_lua_push_tensor(L, t);
  return 1;
}

static int l_var_set_value(lua_State *L)
{
  sl_var *v = check_var(L, 1);
  sl_tensor *t = sl_lua_to_tensor(L, 2);
  if (v->kind != SL_VAR_SHARED) sl_lua_error(L, "set_value: only shared variables can be set");
  if (!t) sl_lua_error(L, "set_value: expected a tensor, got %s", luaL_typename(L, 2));
  if (t->dtype != v->type.dtype || t->ndim != v->type.ndim) {
    char want[128], got[128], label[64];
    sl_type ty;
    sl_type_of_tensor(t, &ty);
    sl_type_text(&v->type, want, sizeof want);
    sl_type_text(&ty, got, sizeof got);
    sl_lua_error(L, "set_value: shared variable '%s' is %s, got %s", sl_var_label(v, label, sizeof label),
                 want, got);
  }
  sl_tensor *c = sl_tensor_clone(t);
  if (!c) sl_lua_fail(L);
  sl_shared_lock();
  sl_tensor *old = v->value;
  v->value = c;
  sl_shared_unlock();
  sl_tensor_release(old);
  return 0;
}

static const luaL_Reg var_methods[] = {
  { "name", l_var_name }, { "dtype", l_var_dtype }, { "dim", l_var_dim },
  { "static_shape", l_var_static_shape }, { "kind", l_var_kind }, { "id", l_var_id },
  { "where", l_var_where }, { "owner", l_var_owner }, { "output_index", l_var_index },
  { "get_value", l_var_get_value }, { "set_value", l_var_set_value },
  { "is_weak", l_var_is_weak },
  { NULL, NULL }
};

/* -- nodes ---------------------------------------------------------------------- */

static sl_node *check_node(lua_State *L, int idx)
{
  return *(sl_node **)luaL_checkudata(L, idx, SL_NODE_MT);
}

static int l_node_gc(lua_State *L)
{
  sl_node **box = lua_touserdata(L, 1);
  sl_node_release(*box);
  *box = NULL;
  return 0;
}

static int l_node_op(lua_State *L)
{
  lua_pushstring(L, check_node(L, 1)->op->name);
  return 1;
}

static int l_node_inputs(lua_State *L)
{
  sl_node *n = check_node(L, 1);
  lua_createtable(L, n->nin, 0);
  for (int i = 0; i < n->nin; i++) {
    sl_var_retain(n->inputs[i]);
    push_var(L, n->inputs[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_node_outputs(lua_State *L)
{
  sl_node *n = check_node(L, 1);
  lua_createtable(L, n->nout, 0);
  for (int i = 0; i < n->nout; i++) {
    sl_node_retain(n);
    push_var(L, &n->outputs[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_node_params(lua_State *L)
{
  sl_node *n = check_node(L, 1);
  lua_createtable(L, 0, 3);
  lua_createtable(L, n->params.n, 0);
  for (int i = 0; i < n->params.n; i++) {
    lua_pushnumber(L, (lua_Number)n->params.v[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "v");
  lua_pushstring(L, sl_dtype_name(n->params.dtype));
  lua_setfield(L, -2, "dtype");
  lua_pushnumber(L, n->params.x);
  lua_setfield(L, -2, "x");
  if (n->params.sub) {
    sl_subfn_retain(n->params.sub);
    push_subfn(L, n->params.sub);
    lua_setfield(L, -2, "sub");
  }
  return 1;
}

/* -- sub-functions (a loop's body) ------------------------------------------------- */

static sl_var **read_var_list(lua_State *L, int idx, int *n, const char *what);


static const char *opt_string(lua_State *L, int opts, const char *key)
{
  if (lua_isnoneornil(L, opts)) return NULL;
  lua_getfield(L, opts, key);
  const char *s = lua_isnil(L, -1) ? NULL : lua_tostring(L, -1);
  lua_pop(L, 1);   /* the string stays anchored in opts */
  return s;
}

/* The backend of a compile: opts.mode names one (sl.backends() lists
** them); without it opts.device, or sl.config.device ($SYMLUA_DEVICE),
** 'cuda' is the cuda backend and 'cpu' that of sl.config.mode
** ($SYMLUA_MODE). A mode and a device that disagree are an error; so is a
** missing driver, said by the cuda backend itself, never a silent fallback. */
static const sl_backend *backend_of(lua_State *L, int opts)
{
  const char *mode = opt_string(L, opts, "mode"), *device = opt_string(L, opts, "device");
  if (device && strcmp(device, "cpu") != 0 && strcmp(device, "cuda") != 0)
    sl_lua_error(L, "compile: unknown device '%s' (available: 'cpu', 'cuda')", device);
  if (!mode) {
    const char *d = device ? device : sl_cfg.device ? sl_cfg.device : "cpu";
    mode = strcmp(d, "cuda") == 0 ? "cuda" : sl_cfg.mode ? sl_cfg.mode : "c";
  }
  const sl_backend *b = sl_backend_find(mode);
  if (!b) {
    char names[256];
    size_t n = 0;
    names[0] = 0;
    for (int i = 0; sl_backends[i] && n < sizeof names; i++)
      n += (size_t)snprintf(names + n, sizeof names - n, "%s'%s'", i ? ", " : "", sl_backends[i]->name);
    sl_lua_error(L, "compile: unknown mode '%s' (available: %s)", mode, names);
  }
  const char *runs_on = b->device ? b->device : "cpu";
  if (device && strcmp(device, runs_on) != 0)
    sl_lua_error(L, "compile: mode '%s' runs on device '%s', not '%s'", mode, runs_on, device);
  return b;
}

/* subfn(inputs, outputs): a function of the graph from inputs to outputs,
** for an op's params.sub; its inputs must be symbolic inputs */
static int l_subfn(lua_State *L)
{
  int nin, nout;
  sl_var **in = read_var_list(L, 1, &nin, "inputs");
  sl_var **out = read_var_list(L, 2, &nout, "outputs");
  for (int i = 0; i < nin; i++)
    if (in[i]->kind != SL_VAR_INPUT) sl_lua_error(L, "subfn: input %d is not a symbolic input", i + 1);
  sl_subfn *f = sl_subfn_new(nin, in, nout, out);
  if (!f) sl_lua_fail(L);
  push_subfn(L, f);
  return 1;
}

static sl_subfn *check_subfn(lua_State *L, int idx)
{
  return *(sl_subfn **)luaL_checkudata(L, idx, SL_SUBFN_MT);
}

static int subfn_vars(lua_State *L, int n, sl_var **v)
{
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    sl_var_retain(v[i]);
    push_var(L, v[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_subfn_inputs(lua_State *L) { sl_subfn *f = check_subfn(L, 1); return subfn_vars(L, f->nin, f->inputs); }
static int l_subfn_outputs(lua_State *L) { sl_subfn *f = check_subfn(L, 1); return subfn_vars(L, f->nout, f->outputs); }

static int l_subfn_gc(lua_State *L)
{
  sl_subfn **box = lua_touserdata(L, 1);
  sl_subfn_release(*box);
  *box = NULL;
  return 0;
}

static const luaL_Reg subfn_methods[] = {
  { "inputs", l_subfn_inputs }, { "outputs", l_subfn_outputs }, { NULL, NULL }
};

/* 1-based index of the input whose buffer the result is written into, or 0 */
static int l_node_destroy(lua_State *L)
{
  lua_pushinteger(L, check_node(L, 1)->destroy);
  return 1;
}

static int l_node_tostring(lua_State *L)
{
  lua_pushfstring(L, "node %s", check_node(L, 1)->op->name);
  return 1;
}

static const luaL_Reg node_methods[] = {
  { "op", l_node_op }, { "inputs", l_node_inputs }, { "outputs", l_node_outputs },
  { "params", l_node_params }, { "destroy", l_node_destroy },
  { NULL, NULL }
};

/* -- compiled functions ------------------------------------------------------------ */

static sl_function *check_function(lua_State *L, int idx)
{
  sl_function **box = luaL_checkudata(L, idx, SL_FUNC_MT);
  if (!*box) sl_lua_error(L, "this compiled function has been freed");
  return *box;
}

/* The vars of the list at idx, in an array that lives as long as the
** userdata it pushes. */
static sl_var **read_var_list(lua_State *L, int idx, int *n, const char *what)
{
  luaL_checktype(L, idx, LUA_TTABLE);
  *n = (int)lua_objlen(L, idx);
  sl_var **out = lua_newuserdata(L, ((size_t)*n + 1) * sizeof *out);
  for (int i = 0; i < *n; i++) {
    lua_rawgeti(L, idx, i + 1);
    out[i] = to_var(L, -1);
    if (!out[i]) sl_lua_error(L, "compile: %s %d is a %s, not a symbolic variable", what, i + 1,
                              luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  return out;
}

/* Reads opts.profile and opts.nan_guard (booleans; nil keeps the default
** that SYMLUA_PROFILE / SYMLUA_NAN_GUARD gave). */
static void configure_function(lua_State *L, sl_function *f, int idx)
{
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_getfield(L, idx, "profile");
  if (!lua_isnil(L, -1) && sl_function_set_profile(f, lua_toboolean(L, -1))) sl_lua_fail(L);
  lua_getfield(L, idx, "nan_guard");
  if (!lua_isnil(L, -1)) sl_function_set_nan_guard(f, lua_toboolean(L, -1));
  lua_pop(L, 2);
}

/* opts.include / opts.exclude: a list of names, or one string; left on the
** stack (they anchor the strings opt points to). */
static const char *name_list(lua_State *L, int idx, const char *field)
{
  lua_getfield(L, idx, field);
  if (lua_isnil(L, -1) || lua_type(L, -1) == LUA_TSTRING) return lua_tostring(L, -1);
  if (!lua_istable(L, -1))
    sl_lua_error(L, "compile: %s must be a list of rewrite or pass names, not %s", field,
                 luaL_typename(L, -1));
  /* names first checked, then joined: the buffer must own the stack top */
  int n = (int)lua_objlen(L, -1);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    if (lua_type(L, -1) != LUA_TSTRING)
      sl_lua_error(L, "compile: %s[%d] must be a name, not %s", field, i, luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  int list = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    luaL_addvalue(&b);
    luaL_addchar(&b, ' ');
  }
  luaL_pushresult(&b);
  lua_replace(L, -2);
  return lua_tostring(L, -1);
}

/* opts.optimizer ('fast_run', 'fast_compile' or 'none'), include, exclude;
** pushes two values (see name_list). */
static void read_optimizer_options(lua_State *L, int idx, sl_opt_config *opt)
{
  static const char *const levels[] = { "none", "fast_compile", "fast_run", NULL };
  sl_opt_config_default(opt);
  if (lua_isnoneornil(L, idx)) { lua_pushnil(L); lua_pushnil(L); return; }
  lua_getfield(L, idx, "optimizer");
  if (!lua_isnil(L, -1)) {
    const char *s = lua_tostring(L, -1);
    int k = 0;
    while (levels[k] && (!s || strcmp(levels[k], s) != 0)) k++;
    if (!levels[k] || lua_type(L, -1) != LUA_TSTRING)
      sl_lua_error(L, "compile: optimizer must be 'fast_run', 'fast_compile' or 'none', not %s",
                   s ? s : luaL_typename(L, -1));
    opt->level = (sl_opt_level)k;
  }
  lua_pop(L, 1);
  opt->include = name_list(L, idx, "include");
  opt->exclude = name_list(L, idx, "exclude");
}

/* compile(inputs, outputs, shared_list, update_list [, opts]) */
static int l_compile(lua_State *L)
{
  int nin, nout, nsh, nup;
  sl_var **in = read_var_list(L, 1, &nin, "inputs");
  sl_var **out = read_var_list(L, 2, &nout, "outputs");
  sl_var **sh = read_var_list(L, 3, &nsh, "updated variables");
  sl_var **up = read_var_list(L, 4, &nup, "updates");
  if (nsh != nup) sl_lua_error(L, "compile: %d updated variables but %d updates", nsh, nup);
  if (!lua_isnoneornil(L, 5)) luaL_checktype(L, 5, LUA_TTABLE);
  sl_opt_config opt;
  read_optimizer_options(L, 5, &opt);
  sl_function *f = sl_function_new_opt(nin, in, nout, out, nup, sh, up, &opt);
  lua_pop(L, 2);   /* the include and exclude strings */
  if (!f) sl_lua_fail(L);
  sl_function **box = lua_newuserdata(L, sizeof *box);
  *box = f;
  luaL_getmetatable(L, SL_FUNC_MT);
  lua_setmetatable(L, -2);   /* from here on __gc frees f */
  char where[512];
  if (sl_lua_where(L, where, sizeof where) && sl_function_set_where(f, where)) sl_lua_fail(L);
  configure_function(L, f, 5);
  if (sl_function_use_backend(f, backend_of(L, 5))) sl_lua_fail(L);
  return 1;
}

/* configure(f, opts): switch profiling and the NaN guard on or off */
static int l_function_configure(lua_State *L)
{
  configure_function(L, check_function(L, 1), 2);
  lua_settop(L, 1);
  return 1;
}

/* function_profile(f [, reset]): { calls, time, text, nodes = { {op, node,
** where, time, calls} in run order } }, or nil when f is not profiled */
static int l_function_profile(lua_State *L)
{
  sl_function *f = check_function(L, 1);
  sl_profile *p = f->profile;
  if (!p) { lua_pushnil(L); return 1; }
  char *text = sl_profile_text(p);
  if (!text) sl_lua_fail(L);
  lua_createtable(L, 0, 5);
  lua_pushstring(L, text);
  free(text);
  lua_setfield(L, -2, "text");
  lua_pushnumber(L, (lua_Number)p->calls);
  lua_setfield(L, -2, "calls");
  lua_pushnumber(L, p->seconds);
  lua_setfield(L, -2, "time");
  if (p->where) { lua_pushstring(L, p->where); lua_setfield(L, -2, "where"); }
  lua_createtable(L, p->nnodes, 0);
  for (int k = 0; k < p->nnodes; k++) {
    const sl_profile_node *e = &p->node[k];
    lua_createtable(L, 0, 5);
    lua_pushstring(L, e->op);
    lua_setfield(L, -2, "op");
    lua_pushstring(L, e->label);
    lua_setfield(L, -2, "node");
    if (e->where) { lua_pushstring(L, e->where); lua_setfield(L, -2, "where"); }
    lua_pushnumber(L, e->seconds);
    lua_setfield(L, -2, "time");
    lua_pushnumber(L, (lua_Number)e->calls);
    lua_setfield(L, -2, "calls");
    lua_rawseti(L, -2, k + 1);
  }
  lua_setfield(L, -2, "nodes");
  if (lua_toboolean(L, 2)) sl_profile_reset(p);
  return 1;
}

static int l_function_gc(lua_State *L)
{
  sl_function **box = lua_touserdata(L, 1);
  sl_function_release(*box);   /* a host may hold it too (sl_state_function) */
  *box = NULL;
  return 0;
}

/* Whether every value of t (fresh from a Lua value, so contiguous) comes back
** unchanged from dtype dt: integral Lua numbers into a narrower integer. */
static int exact_in(const sl_tensor *t, sl_dtype dt)
{
  sl_tensor *there = sl_tensor_cast(t, dt), *back = there ? sl_tensor_cast(there, t->dtype) : NULL;
  int same = back && memcmp(back->storage->data, t->storage->data,
                            (size_t)sl_tensor_numel(t) * sl_dtype_size(t->dtype)) == 0;
  sl_tensor_release(there);
  sl_tensor_release(back);
  return same;
}

/* The tensor that argument idx gives input i, left in the argument slot:
** - a tensor of the declared dtype, as it is (the common case: one compare);
** - a tensor whose dtype casts safely to it (NumPy's "safe" rule), cast;
** - a Lua number, boolean or nested table, read as sl.tensor would and cast
**   when that is safe or the value is exact in the declared dtype (Lua numbers
**   are weakly typed: 3 fits an int32, 0.1 a float32, 1.5 no integer);
** anything else as it is, for sl_function_check_input to name the cast. */
static sl_tensor *input_arg(lua_State *L, const sl_function *f, int i, int idx)
{
  sl_dtype want = f->inputs[i]->type.dtype;
  sl_tensor *t = sl_lua_to_tensor(L, idx);
  if (t && t->dtype == want) return t;
  const char *lua_kind = t ? NULL : lua_istable(L, idx) ? "table" : luaL_typename(L, idx);
  int lua_value = !t;
  if (lua_value) {
    if (lua_type(L, idx) != LUA_TNUMBER && lua_type(L, idx) != LUA_TBOOLEAN && !lua_istable(L, idx))
      sl_lua_error(L, "argument %d: expected a tensor, number or table, got %s", i + 1,
                   luaL_typename(L, idx));
    lua_pushcfunction(L, sl_lua_from_table);
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    lua_replace(L, idx);   /* anchored in the argument slot */
    t = sl_lua_to_tensor(L, idx);
    if (t->dtype == want) return t;
  }
  int exact = sl_dtype_can_cast(t->dtype, want);
  char kind = sl_dtype_kind(want);
  if (!exact && lua_value && t->dtype != SL_BOOL && want != SL_BOOL)
    exact = kind == 'f' || kind == 'c' || exact_in(t, want);
  if (!exact && lua_value) {
    char want_text[128], got_text[128], label[64];
    sl_type ty;
    sl_type_of_tensor(t, &ty);
    sl_type_text(&f->inputs[i]->type, want_text, sizeof want_text);
    sl_type_text(&ty, got_text, sizeof got_text);
    sl_lua_error(L, "input %d ('%s'): expected %s, got a Lua %s that %s cannot hold exactly "
                 "(read as %s)", i + 1, sl_var_label(f->inputs[i], label, sizeof label), want_text,
                 lua_kind, sl_dtype_name(want), got_text);
  }
  if (!exact) return t;
  sl_lua_push_tensor(L, sl_tensor_cast(t, want));
  lua_replace(L, idx);
  return sl_lua_to_tensor(L, idx);
}

#define CALL_SHORT 16

/* f(...): see input_arg for what each argument may be. */
static int l_function_call(lua_State *L)
{
  sl_function *f = check_function(L, 1);
  int nargs = lua_gettop(L) - 1;
  if (nargs != f->nin)
    sl_lua_error(L, "compiled function takes %d argument%s, got %d", f->nin,
                 f->nin == 1 ? "" : "s", nargs);
  /* the lists live on the C stack when short (every call of a small function
  ** would otherwise leave two objects for the collector), else in userdata,
  ** which a raised error cannot leak */
  sl_tensor *args_here[CALL_SHORT], *res_here[CALL_SHORT];
  sl_tensor **args = f->nin <= CALL_SHORT ? args_here : lua_newuserdata(L, (size_t)f->nin * sizeof *args);
  sl_tensor **res = f->nout <= CALL_SHORT ? res_here : lua_newuserdata(L, (size_t)f->nout * sizeof *res);
  for (int i = 0; i < f->nin; i++) args[i] = input_arg(L, f, i, i + 2);
  if (sl_function_run(f, args, res)) sl_lua_fail(L);
  for (int k = 0; k < f->nout; k++) sl_lua_push_tensor(L, res[k]);
  return f->nout;
}

static int l_function_info(lua_State *L)
{
  sl_function *f = check_function(L, 1);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, f->nnodes);
  lua_setfield(L, -2, "nodes");
  lua_createtable(L, f->nnodes, 0);
  for (int k = 0; k < f->nnodes; k++) {
    sl_node_retain(f->order[k]);
    push_node(L, f->order[k]);
    lua_rawseti(L, -2, k + 1);
  }
  lua_setfield(L, -2, "order");
  lua_createtable(L, f->nin, 0);
  for (int i = 0; i < f->nin; i++) {
    sl_var_retain(f->inputs[i]);
    push_var(L, f->inputs[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "inputs");
  lua_createtable(L, f->nout, 0);
  for (int i = 0; i < f->nout; i++) {
    sl_var_retain(f->outputs[i]);
    push_var(L, f->outputs[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "outputs");
  /* updates: { {shared, expression}, ... } in the order they were given */
  lua_createtable(L, f->nupd, 0);
  for (int i = 0; i < f->nupd; i++) {
    lua_createtable(L, 2, 0);
    sl_var_retain(f->upd_shared[i]);
    push_var(L, f->upd_shared[i]);
    lua_rawseti(L, -2, 1);
    sl_var_retain(f->upd_expr[i]);
    push_var(L, f->upd_expr[i]);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "updates");
  if (f->where) { lua_pushstring(L, f->where); lua_setfield(L, -2, "where"); }
  lua_pushboolean(L, f->profile != NULL);
  lua_setfield(L, -2, "profile");
  lua_pushboolean(L, f->nan_guard);
  lua_setfield(L, -2, "nan_guard");
  lua_createtable(L, 0, f->opt_log.n);
  for (int i = 0; i < f->opt_log.n; i++) {
    lua_pushinteger(L, f->opt_log.count[i]);
    lua_setfield(L, -2, f->opt_log.rewrite[i]->name);
  }
  lua_setfield(L, -2, "rewrites");
  lua_pushnumber(L, f->opt_log.seconds);
  lua_setfield(L, -2, "optimizer_time");
  /* the backend, its steps as text, and per kernel the variant its last call took */
  const sl_plan *prog = f->plan;
  lua_pushstring(L, f->backend->name);
  lua_setfield(L, -2, "backend");
  lua_pushstring(L, f->backend->tier ? f->backend->tier(f->backend_state) : "none");   /* 'tcc', 'cc' or 'none' */
  lua_setfield(L, -2, "tier");
  char *plan = sl_function_plan_text(f);
  if (!plan) sl_lua_fail(L);
  lua_pushstring(L, plan);
  free(plan);
  lua_setfield(L, -2, "plan");
  lua_createtable(L, f->backend_state ? prog->nkernels : 0, 0);
  for (int i = 0, k = 0; f->backend_state && i < prog->nsteps; i++) {
    if (!prog->steps[i].k) continue;
    lua_pushstring(L, prog->steps[i].ran[0] ? prog->steps[i].ran : "not run");
    lua_rawseti(L, -2, ++k);
  }
  lua_setfield(L, -2, "variants");
  return 1;
}

/* dtypes(): { 'bool', 'uint8', ... } in the core's order */
static int l_dtypes(lua_State *L)
{
  lua_createtable(L, SL_NDTYPES, 0);
  for (int i = 0; i < SL_NDTYPES; i++) {
    lua_pushstring(L, sl_dtype_name((sl_dtype)i));
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* dtype_size(name): bytes per element */
static int l_dtype_size(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)sl_dtype_size(sl_lua_check_dtype(L, 1)));
  return 1;
}

/* backends(): { {name = 'reference', available = true}, ... } in registry order */
static int l_backends(lua_State *L)
{
  int n = 0;
  while (sl_backends[n]) n++;
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, sl_backends[i]->name);
    lua_setfield(L, -2, "name");
    lua_pushboolean(L, sl_backends[i]->available());
    lua_setfield(L, -2, "available");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* The ops a rewrite looks at, as one space-separated string. */
static void push_rooted_at(lua_State *L, const sl_rewrite *r)
{
  if (!r->ops) { lua_pushstring(L, r->global ? "(whole graph)" : "(any op)"); return; }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (const sl_op *const *op = r->ops; *op; op++) {
    if (op != r->ops) luaL_addchar(&b, ' ');
    luaL_addstring(&b, (*op)->name);
  }
  luaL_pushresult(&b);
}

/* rewrites(): { {name, pass, doc, ops}, ... } in the order they run */
static int l_rewrites(lua_State *L)
{
  int n = sl_rewrite_count();
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    const sl_rewrite *r = sl_rewrite_at(i);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, r->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, r->pass);
    lua_setfield(L, -2, "pass");
    lua_pushstring(L, r->doc);
    lua_setfield(L, -2, "doc");
    push_rooted_at(L, r);
    lua_setfield(L, -2, "ops");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_is_var(lua_State *L)
{
  lua_pushboolean(L, to_var(L, 1) != NULL);
  return 1;
}

static int l_ops(lua_State *L)
{
  int n = sl_op_count();
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    const sl_op *op = sl_op_at(i);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, op->name);
    lua_setfield(L, -2, "name");
    lua_pushinteger(L, op->nin);
    lua_setfield(L, -2, "nin");
    lua_pushboolean(L, op->rule != SL_TR_NONE);
    lua_setfield(L, -2, "elemwise");
    lua_pushboolean(L, (op->flags & SL_OP_EXACT_GRAD) != 0);
    lua_setfield(L, -2, "exact_grad");
    if (op->cexpr) { lua_pushstring(L, op->cexpr); lua_setfield(L, -2, "cexpr"); }
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* f:info(), f:configure(opts); symlua/debug.lua adds f:profile() */
static const luaL_Reg function_methods[] = {
  { "info", l_function_info }, { "configure", l_function_configure },
  { NULL, NULL }
};

static const luaL_Reg graph_functions[] = {
  { "input", l_input }, { "shared", l_shared }, { "constant", l_constant }, { "apply", l_apply },
  { "compile", l_compile }, { "function_info", l_function_info },
  { "function_configure", l_function_configure }, { "function_profile", l_function_profile },
  { "is_var", l_is_var }, { "ops", l_ops }, { "rewrites", l_rewrites }, { "backends", l_backends }, { "dtypes", l_dtypes },
  { "dtype_size", l_dtype_size }, { "subfn", l_subfn },
  { NULL, NULL }
};

static void new_class(lua_State *L, const char *mt, const luaL_Reg *methods,
                      lua_CFunction gc, lua_CFunction tostring)
{
  sl_lua_new_metatable(L, mt);
  lua_newtable(L);
  if (methods) luaL_register(L, NULL, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  if (tostring) { lua_pushcfunction(L, tostring); lua_setfield(L, -2, "__tostring"); }
}

/* Adds the graph functions to the module table at the top of the stack. */
void sl_lua_open_graph(lua_State *L)
{
  luaL_register(L, NULL, graph_functions);
  new_class(L, SL_VAR_MT, var_methods, l_var_gc, l_var_tostring);
  lua_setfield(L, -2, "var_mt");
  new_class(L, SL_NODE_MT, node_methods, l_node_gc, l_node_tostring);
  lua_setfield(L, -2, "node_mt");
  new_class(L, SL_FUNC_MT, function_methods, l_function_gc, NULL);
  lua_pushcfunction(L, l_function_call);
  lua_setfield(L, -2, "__call");
  lua_setfield(L, -2, "function_mt");
  new_class(L, SL_SUBFN_MT, subfn_methods, l_subfn_gc, NULL);
  lua_pop(L, 1);
}
