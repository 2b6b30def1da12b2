/*
** tensor.c — tensors as Lua userdata: methods, indexing, metamethods.
** Converts between Lua's 1-based axes and indices and the core's 0-based ones.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lua_symlua.h"

/* -- boxing ----------------------------------------------------------------- */

const char sl_tensor_mt[] = "symlua.tensor";

void sl_lua_new_metatable(lua_State *L, const char *name)
{
  luaL_newmetatable(L, name);
  lua_pushlightuserdata(L, (void *)name);
  lua_pushvalue(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
}

static _Thread_local int64_t gc_threshold = SL_GC_MIN_BYTES;   /* per thread: a host may run states on several */

/* The collector cannot see tensor memory, so it is asked to run whenever the
** bytes the core holds pass a threshold; the threshold then follows the live
** size (twice it), so the cost stays proportional to allocation. Its floor
** is low (SL_GC_MIN_BYTES) because freed buffers are reused (storage.c): one
** that comes back after a few MiB of others is still in the processor's
** cache, one that comes back after 64 MiB is not. A full collection costs in
** proportion to Lua's own heap, so the floor is also four times that heap. */
static _Thread_local int collected;   /* a collection finished since the threshold was set */

/* The threshold from the live size just after a collection. */
static void follow_live(lua_State *L)
{
  int64_t live = sl_mem_bytes();
  int64_t heap = (int64_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024;
  int64_t floor = 4 * heap > SL_GC_MIN_BYTES ? 4 * heap : SL_GC_MIN_BYTES;
  gc_threshold = live * 2 > floor ? live * 2 : floor;
  sl_storage_cache_expect(gc_threshold);
  collected = 0;
}

/* Any collection, the script's own collectgarbage() or Lua's steps too,
** resets the threshold: after a large working set is dropped, small calls
** would otherwise pile up garbage to twice the old size before the next
** collection, every result a fresh, page-faulting buffer. A collection
** is seen by a sentinel that finalizes at the end of its cycle; the next
** tensor pushed makes its successor (not the finalizer: while a state
** closes, a stock luajit may already have unloaded this library). */
static int sentinel_gc(lua_State *L)
{
  (void)L;
  collected = 1;
  return 0;
}

static void new_sentinel(lua_State *L)
{
  lua_newuserdata(L, 1);
  if (luaL_newmetatable(L, "symlua.collection")) {
    lua_pushcfunction(L, sentinel_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_pop(L, 1);
}

static void account(lua_State *L)
{
  if (!collected) {
    if (sl_mem_bytes() <= gc_threshold) return;
    lua_gc(L, LUA_GCCOLLECT, 0);   /* finalizes the sentinel too */
  }
  follow_live(L);
  new_sentinel(L);
}

void sl_lua_push_tensor(lua_State *L, sl_tensor *t)
{
  if (!t) sl_lua_fail(L);
  sl_tensor **box = lua_newuserdata(L, sizeof *box);
  *box = t;
  sl_lua_push_metatable(L, SL_TENSOR_MT);
  lua_setmetatable(L, -2);
  account(L);
}

sl_tensor *sl_lua_to_tensor(lua_State *L, int idx)
{
  sl_tensor **box = lua_touserdata(L, idx);
  if (!box || !lua_getmetatable(L, idx)) return NULL;
  sl_lua_push_metatable(L, SL_TENSOR_MT);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? *box : NULL;
}

sl_tensor *sl_lua_check_tensor(lua_State *L, int idx)
{
  sl_tensor *t = sl_lua_to_tensor(L, idx);
  if (!t) sl_lua_error(L, "bad argument #%d: expected a tensor, got %s", idx,
                       luaL_typename(L, idx));
  return t;
}

/* -- argument helpers ---------------------------------------------------------- */

int64_t sl_lua_check_int(lua_State *L, int idx, const char *what)
{
  if (lua_type(L, idx) != LUA_TNUMBER)
    sl_lua_error(L, "%s must be an integer, got %s", what, luaL_typename(L, idx));
  double d = lua_tonumber(L, idx);
  if (d != floor(d) || isinf(d)) sl_lua_error(L, "%s must be an integer, got %.14g", what, d);
  /* every integral double is an exact int64 up to 2^62, with room for the
  ** sums of bounds and sizes; the caller checks its own limits (a size
  ** against what a tensor holds, an index against its axis) */
  if (fabs(d) > 4611686018427387904.0)
    sl_lua_error(L, "%s must be an integer from -2^62 to 2^62, got %.0f", what, d);
  return (int64_t)d;
}

/* A 1-based axis (negative counts from the end) to a 0-based one. */
int sl_lua_check_axis(lua_State *L, int idx, int ndim)
{
  int64_t a = sl_lua_check_int(L, idx, "axis");
  int64_t z = a < 0 ? a + ndim : a - 1;
  if (a == 0 || z < 0 || z >= ndim)
    sl_lua_error(L, "axis %lld is out of range for a %d-d tensor (1..%d or -%d..-1)",
                 (long long)a, ndim, ndim, ndim);
  return (int)z;
}

/* A shape given as a table or as numbers from idx up to the first non-number. */
int sl_lua_read_shape(lua_State *L, int idx, int64_t *shape)
{
  int n = 0;
  if (lua_istable(L, idx)) {
    int len = (int)lua_objlen(L, idx);
    if (len > SL_MAXDIM) sl_lua_error(L, "a tensor has at most %d dimensions", SL_MAXDIM);
    for (int i = 1; i <= len; i++) {
      lua_rawgeti(L, idx, i);
      shape[n++] = sl_lua_check_int(L, -1, "a size");
      lua_pop(L, 1);
    }
    return n;
  }
  for (int i = idx; i <= lua_gettop(L) && lua_type(L, i) == LUA_TNUMBER; i++) {
    if (n == SL_MAXDIM) sl_lua_error(L, "a tensor has at most %d dimensions", SL_MAXDIM);
    shape[n++] = sl_lua_check_int(L, i, "a size");
  }
  return n;
}

sl_dtype sl_lua_check_dtype(lua_State *L, int idx)
{
  sl_dtype dt;
  if (lua_type(L, idx) != LUA_TSTRING)
    sl_lua_error(L, "dtype must be a string such as 'float32', got %s", luaL_typename(L, idx));
  if (sl_dtype_from_name(lua_tostring(L, idx), &dt)) sl_lua_fail(L);
  return dt;
}

/* Push element value v of dtype dt as Lua sees it: booleans for bool. */
static void push_value(lua_State *L, sl_dtype dt, double v)
{
  if (sl_dtype_kind(dt) == 'c')
    sl_lua_error(L, "a %s value is not a Lua number: take the tensor's :real() and :imag()",
                 sl_dtype_name(dt));
  if (dt == SL_BOOL) lua_pushboolean(L, v != 0);
  else lua_pushnumber(L, v);
}

static double check_value(lua_State *L, int idx)
{
  if (lua_type(L, idx) == LUA_TBOOLEAN) return lua_toboolean(L, idx);
  if (lua_type(L, idx) != LUA_TNUMBER)
    sl_lua_error(L, "expected a number or boolean, got %s", luaL_typename(L, idx));
  return lua_tonumber(L, idx);
}

/* -- from nested tables -------------------------------------------------------- */

typedef struct { int ndim; int64_t shape[SL_MAXDIM]; int floats, bools, nums; } table_info;

static void scan_table(lua_State *L, int idx, int depth, table_info *ti, char *path, size_t plen)
{
  int t = lua_type(L, idx);
  if (depth == ti->ndim) {
    if (t == LUA_TBOOLEAN) { ti->bools++; return; }
    if (t != LUA_TNUMBER)
      sl_lua_error(L, "tensor: element %s is %s, expected a number or boolean",
                   plen ? path : "[]", lua_typename(L, t));
    double d = lua_tonumber(L, idx);
    ti->nums++;
    if (d != floor(d) || fabs(d) > 9007199254740992.0) ti->floats++;
    return;
  }
  if (t != LUA_TTABLE)
    sl_lua_error(L, "tensor: ragged nested table: element %s is %s where a table of %lld "
                 "was expected", plen ? path : "[]", lua_typename(L, t),
                 (long long)ti->shape[depth]);
  int64_t len = (int64_t)lua_objlen(L, idx);
  if (len != ti->shape[depth])
    sl_lua_error(L, "tensor: ragged nested table: %s has %lld elements, expected %lld",
                 plen ? path : "the table", (long long)len, (long long)ti->shape[depth]);
  for (int64_t i = 1; i <= len; i++) {
    lua_rawgeti(L, idx, (int)i);
    size_t n = plen + (size_t)snprintf(path + plen, 256 - plen < 2 ? 0 : 256 - plen, "[%lld]", (long long)i);
    scan_table(L, lua_gettop(L), depth + 1, ti, path, n < 240 ? n : 240);
    lua_pop(L, 1);
  }
}

static void fill_from_table(lua_State *L, int idx, sl_tensor *t, int depth, int64_t *pos)
{
  if (depth == t->ndim) {
    double v = lua_type(L, idx) == LUA_TBOOLEAN ? lua_toboolean(L, idx) : lua_tonumber(L, idx);
    sl_cast_fn(t->dtype, SL_FLOAT64)((char *)t->storage->data + *pos * (int64_t)sl_dtype_size(t->dtype), 1, &v, 1, 1);
    (*pos)++;
    return;
  }
  for (int64_t i = 1; i <= t->shape[depth]; i++) {
    lua_rawgeti(L, idx, (int)i);
    fill_from_table(L, lua_gettop(L), t, depth + 1, pos);
    lua_pop(L, 1);
  }
}

/* tensor(value [, dtype]): value a number, boolean or nested table. */
static int l_from_table(lua_State *L)
{
  table_info ti = { 0 };
  char path[256] = "";
  lua_settop(L, 2);
  lua_pushvalue(L, 1);   /* walk down the first elements for the shape */
  while (lua_istable(L, -1)) {
    if (ti.ndim == SL_MAXDIM) sl_lua_error(L, "tensor: more than %d levels of nesting", SL_MAXDIM);
    ti.shape[ti.ndim++] = (int64_t)lua_objlen(L, -1);
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);
  }
  lua_pop(L, 1);
  scan_table(L, 1, 0, &ti, path, 0);
  sl_dtype dt;
  if (!lua_isnil(L, 2)) dt = sl_lua_check_dtype(L, 2);
  else if (ti.bools && !ti.nums) dt = SL_BOOL;
  else if (ti.bools) sl_lua_error(L, "tensor: a table mixes booleans and numbers; give a dtype");
  else dt = ti.floats || !ti.nums ? SL_FLOAT64 : SL_INT64;
  sl_tensor *t = sl_tensor_empty(dt, ti.ndim, ti.shape);
  if (!t) sl_lua_fail(L);
  int64_t pos = 0;
  fill_from_table(L, 1, t, 0, &pos);
  sl_lua_push_tensor(L, t);
  return 1;
}

/* -- indexing ----------------------------------------------------------------- */

/* Box v (so an error later cannot leak it) and make it the current view. */
static sl_tensor *step_view(lua_State *L, sl_tensor *v)
{
  sl_lua_push_tensor(L, v);
  return v;
}

static int64_t index_of(lua_State *L, int idx, int64_t size, int dim)
{
  int64_t i = sl_lua_check_int(L, idx, "an index");
  int64_t z = i < 0 ? i + size : i - 1;
  if (i == 0 || z < 0 || z >= size)
    sl_lua_error(L, "index %lld is out of range for dimension %d of size %lld",
                 (long long)i, dim + 1, (long long)size);
  return z;
}

/* An inclusive 1-based range {first, last, step} clamped to the axis; {} is
** the whole axis and {i} the single index i, kept as an axis of size 1. */
static sl_tensor *range_view(lua_State *L, sl_tensor *t, int dim, int spec)
{
  int64_t size = t->shape[dim], v[3];
  int has[3];
  for (int k = 0; k < 3; k++) {
    lua_rawgeti(L, spec, k + 1);
    has[k] = !lua_isnil(L, -1);
    v[k] = has[k] ? sl_lua_check_int(L, -1, "a range bound") : 0;
    lua_pop(L, 1);
  }
  if (has[0] && !has[1] && !has[2]) { v[1] = v[0]; has[1] = 1; }   /* {i}: just i */
  int64_t step = has[2] ? v[2] : 1;
  if (step == 0) sl_lua_error(L, "a range step must not be 0");
  int64_t first = has[0] ? (v[0] < 0 ? v[0] + size : v[0] - 1) : (step > 0 ? 0 : size - 1);
  int64_t last = has[1] ? (v[1] < 0 ? v[1] + size : v[1] - 1) : (step > 0 ? size - 1 : 0);
  int64_t start, stop;
  if (step > 0) {
    start = first < 0 ? 0 : first > size ? size : first;
    stop = last + 1 < start ? start : last + 1 > size ? size : last + 1;
  } else {
    start = first < -1 ? -1 : first >= size ? size - 1 : first;
    stop = last - 1 > start ? start : last - 1 < -1 ? -1 : last - 1;
  }
  return sl_tensor_slice(t, dim, start, stop, step);
}

/* The view that key (at index k) selects from t. Every intermediate view is
** boxed on the Lua stack, so the result lives while this C frame does. */
static sl_tensor *index_view(lua_State *L, sl_tensor *t, int k)
{
  if (lua_type(L, k) == LUA_TNUMBER) {
    if (t->ndim == 0) sl_lua_error(L, "cannot index a 0-d tensor (use item())");
    return step_view(L, sl_tensor_select(t, 0, index_of(L, k, t->shape[0], 0)));
  }
  if (!lua_istable(L, k)) sl_lua_error(L, "invalid index of type %s", luaL_typename(L, k));
  int n = (int)lua_objlen(L, k), dim = 0;
  if (n > t->ndim)
    sl_lua_error(L, "too many indices (%d) for a %d-d tensor", n, t->ndim);
  t = step_view(L, sl_tensor_view(t, t->ndim, t->shape));   /* t[{}] is a new view too */
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, k, i);
    int e = lua_gettop(L);
    if (lua_type(L, e) == LUA_TNUMBER) {   /* entry i is axis i of the original */
      t = step_view(L, sl_tensor_select(t, dim, index_of(L, e, t->shape[dim], i - 1)));
    } else if (lua_istable(L, e)) {
      t = step_view(L, range_view(L, t, dim, e));
      dim++;
    } else {
      sl_lua_error(L, "index %d: expected a number or a range table, got %s", i,
                   luaL_typename(L, e));
    }
  }
  return t;
}

static int l_index(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));   /* the methods table */
    return 1;
  }
  if (lua_type(L, 2) == LUA_TNUMBER && t->ndim == 1) {   /* fast path: v[i] */
    int64_t i = index_of(L, 2, t->shape[0], 0);
    push_value(L, t->dtype, sl_tensor_get(t, &i));
    return 1;
  }
  sl_tensor *v = index_view(L, t, 2);   /* boxed at the top of the stack */
  if (v->ndim == 0) push_value(L, v->dtype, sl_tensor_get(v, NULL));
  return 1;
}

/* Copy a Lua value (number, boolean, tensor or nested table) into dst. */
static void assign(lua_State *L, sl_tensor *dst, int v)
{
  int r;
  sl_tensor *src = sl_lua_to_tensor(L, v);
  if (src) {
    r = sl_tensor_copy(dst, src);
  } else if (lua_istable(L, v)) {
    lua_pushcfunction(L, l_from_table);
    lua_pushvalue(L, v);
    lua_call(L, 1, 1);
    r = sl_tensor_copy(dst, sl_lua_to_tensor(L, -1));
    lua_pop(L, 1);
  } else {
    r = sl_tensor_fill(dst, check_value(L, v));
  }
  if (r) sl_lua_fail(L);
}

static int l_newindex(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  if (lua_type(L, 2) == LUA_TSTRING)
    sl_lua_error(L, "cannot set field '%s' of a tensor", lua_tostring(L, 2));
  if (lua_type(L, 2) == LUA_TNUMBER && t->ndim == 1 && !lua_istable(L, 3) &&
      !sl_lua_to_tensor(L, 3)) {   /* fast path: v[i] = x */
    int64_t i = index_of(L, 2, t->shape[0], 0);
    sl_tensor_set(t, &i, check_value(L, 3));
    return 0;
  }
  assign(L, index_view(L, t, 2), 3);
  return 0;
}

/* -- methods ----------------------------------------------------------------- */

static int l_gc(lua_State *L)
{
  sl_tensor **box = lua_touserdata(L, 1);
  sl_tensor_release(*box);
  *box = NULL;
  return 0;
}

static int l_len(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  if (t->ndim == 0) sl_lua_error(L, "a 0-d tensor has no length");
  lua_pushnumber(L, (lua_Number)t->shape[0]);
  return 1;
}

static int l_tostring(lua_State *L)
{
  char *s = sl_tensor_format(sl_lua_check_tensor(L, 1));
  if (!s) sl_lua_fail(L);
  lua_pushstring(L, s);
  free(s);
  return 1;
}

static void push_int_list(lua_State *L, int n, const int64_t *v)
{
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushnumber(L, (lua_Number)v[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

static int l_shape(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  push_int_list(L, t->ndim, t->shape);
  return 1;
}

static int l_stride(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  push_int_list(L, t->ndim, t->strides);
  return 1;
}

static int l_size(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  if (lua_isnoneornil(L, 2)) return l_shape(L);
  lua_pushnumber(L, (lua_Number)t->shape[sl_lua_check_axis(L, 2, t->ndim)]);
  return 1;
}

static int l_dim(lua_State *L)
{
  lua_pushinteger(L, sl_lua_check_tensor(L, 1)->ndim);
  return 1;
}

static int l_numel(lua_State *L)
{
  lua_pushnumber(L, (lua_Number)sl_tensor_numel(sl_lua_check_tensor(L, 1)));
  return 1;
}

static int l_dtype(lua_State *L)
{
  lua_pushstring(L, sl_dtype_name(sl_lua_check_tensor(L, 1)->dtype));
  return 1;
}

static int l_is_contiguous(lua_State *L)
{
  lua_pushboolean(L, sl_tensor_is_contiguous(sl_lua_check_tensor(L, 1)));
  return 1;
}

static int l_item(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  int64_t idx[SL_MAXDIM] = { 0 };
  if (sl_tensor_numel(t) != 1)
    sl_lua_error(L, "item: the tensor has %lld elements, not 1", (long long)sl_tensor_numel(t));
  push_value(L, t->dtype, sl_tensor_get(t, idx));
  return 1;
}

static void push_nested(lua_State *L, const sl_tensor *t, int d, int64_t *idx)
{
  if (d == t->ndim) { push_value(L, t->dtype, sl_tensor_get(t, idx)); return; }
  lua_createtable(L, (int)t->shape[d], 0);
  for (idx[d] = 0; idx[d] < t->shape[d]; idx[d]++) {
    push_nested(L, t, d + 1, idx);
    lua_rawseti(L, -2, (int)idx[d] + 1);
  }
}

static int l_totable(lua_State *L)
{
  int64_t idx[SL_MAXDIM];
  push_nested(L, sl_lua_check_tensor(L, 1), 0, idx);
  return 1;
}

static int l_view(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  int64_t shape[SL_MAXDIM];
  int n = sl_lua_read_shape(L, 2, shape);
  sl_lua_push_tensor(L, sl_tensor_view(t, n, shape));
  return 1;
}

static int l_reshape(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  int64_t shape[SL_MAXDIM];
  int n = sl_lua_read_shape(L, 2, shape);
  sl_lua_push_tensor(L, sl_tensor_reshape(t, n, shape));
  return 1;
}

static int l_permute(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  int64_t axes[SL_MAXDIM];
  int perm[SL_MAXDIM];
  int n = sl_lua_read_shape(L, 2, axes);
  if (n != t->ndim)
    sl_lua_error(L, "permute: %d axes given for a %d-d tensor", n, t->ndim);
  for (int i = 0; i < n; i++) {
    int64_t a = axes[i];
    perm[i] = a < 0 ? (int)(a + n) : (int)(a - 1);
    if (a == 0 || perm[i] < 0 || perm[i] >= n)
      sl_lua_error(L, "permute: axis %lld is out of range for a %d-d tensor", (long long)a, n);
  }
  sl_lua_push_tensor(L, sl_tensor_permute(t, perm));
  return 1;
}

static int l_transpose(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  if (lua_isnoneornil(L, 2)) {   /* no axes: reverse them all, as NumPy's .T */
    int perm[SL_MAXDIM];
    for (int i = 0; i < t->ndim; i++) perm[i] = t->ndim - 1 - i;
    sl_lua_push_tensor(L, sl_tensor_permute(t, perm));
    return 1;
  }
  int d0 = sl_lua_check_axis(L, 2, t->ndim), d1 = sl_lua_check_axis(L, 3, t->ndim);
  sl_lua_push_tensor(L, sl_tensor_transpose(t, d0, d1));
  return 1;
}

/* t:narrow(dim, first, length), 1-based, Torch7's name for a contiguous range */
static int l_narrow(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  int d = sl_lua_check_axis(L, 2, t->ndim);
  int64_t first = index_of(L, 3, t->shape[d] + 1, d);
  int64_t len = sl_lua_check_int(L, 4, "length");
  if (len < 0 || first + len > t->shape[d])
    sl_lua_error(L, "narrow: %lld elements from %lld exceed dimension %d of size %lld",
                 (long long)len, (long long)first + 1, d + 1, (long long)t->shape[d]);
  sl_lua_push_tensor(L, sl_tensor_slice(t, d, first, first + len, 1));
  return 1;
}

/* t:slice(dim, first, last [, step]): inclusive 1-based range, as t[{..}] */
static int l_slice(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  int d = sl_lua_check_axis(L, 2, t->ndim);
  lua_createtable(L, 3, 0);
  for (int k = 0; k < 3; k++) {
    lua_pushvalue(L, 3 + k);
    lua_rawseti(L, -2, k + 1);
  }
  sl_lua_push_tensor(L, range_view(L, t, d, lua_gettop(L)));
  return 1;
}

static int l_select(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  int d = sl_lua_check_axis(L, 2, t->ndim);
  sl_lua_push_tensor(L, sl_tensor_select(t, d, index_of(L, 3, t->shape[d], d)));
  return 1;
}

static int l_expand(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  int64_t shape[SL_MAXDIM];
  sl_tensor *other = sl_lua_to_tensor(L, 2);
  if (other) { sl_lua_push_tensor(L, sl_tensor_expand(t, other->ndim, other->shape)); return 1; }
  int n = sl_lua_read_shape(L, 2, shape);
  sl_lua_push_tensor(L, sl_tensor_expand(t, n, shape));
  return 1;
}

static int l_squeeze(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  int d = lua_isnoneornil(L, 2) ? -1 : sl_lua_check_axis(L, 2, t->ndim);
  sl_lua_push_tensor(L, sl_tensor_squeeze(t, d));
  return 1;
}

static int l_unsqueeze(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  int d = sl_lua_check_axis(L, 2, t->ndim + 1);
  sl_lua_push_tensor(L, sl_tensor_unsqueeze(t, d));
  return 1;
}

static int l_contiguous(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  if (sl_tensor_is_contiguous(t)) { lua_settop(L, 1); return 1; }
  sl_lua_push_tensor(L, sl_tensor_clone(t));
  return 1;
}

static int l_clone(lua_State *L)
{
  sl_lua_push_tensor(L, sl_tensor_clone(sl_lua_check_tensor(L, 1)));
  return 1;
}

static int l_cast(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  sl_lua_push_tensor(L, sl_tensor_cast(t, sl_lua_check_dtype(L, 2)));
  return 1;
}

static int l_fill(lua_State *L)
{
  if (sl_tensor_fill(sl_lua_check_tensor(L, 1), check_value(L, 2))) sl_lua_fail(L);
  lua_settop(L, 1);
  return 1;
}

static int l_copy(lua_State *L)
{
  assign(L, sl_lua_check_tensor(L, 1), 2);
  lua_settop(L, 1);
  return 1;
}

static int l_ptr(lua_State *L)
{
  lua_pushlightuserdata(L, sl_tensor_ptr(sl_lua_check_tensor(L, 1)));
  return 1;
}

static const luaL_Reg tensor_methods[] = {
  { "shape", l_shape }, { "size", l_size }, { "stride", l_stride }, { "dim", l_dim },
  { "numel", l_numel }, { "dtype", l_dtype }, { "is_contiguous", l_is_contiguous },
  { "item", l_item }, { "totable", l_totable },
  { "view", l_view }, { "reshape", l_reshape }, { "permute", l_permute },
  { "transpose", l_transpose }, { "narrow", l_narrow }, { "slice", l_slice },
  { "select", l_select }, { "expand", l_expand }, { "broadcast_to", l_expand },
  { "squeeze", l_squeeze }, { "unsqueeze", l_unsqueeze },
  { "contiguous", l_contiguous }, { "clone", l_clone }, { "cast", l_cast },
  { "fill", l_fill }, { "copy", l_copy }, { "_ptr", l_ptr },
  { NULL, NULL }
};

/* Pushes the methods table, which Lua code may extend. */
void sl_lua_open_tensor(lua_State *L)
{
  new_sentinel(L);
  sl_lua_new_metatable(L, SL_TENSOR_MT);
  lua_newtable(L);
  luaL_register(L, NULL, tensor_methods);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, l_index, 1);
  lua_setfield(L, -3, "__index");
  lua_pushcfunction(L, l_newindex);
  lua_setfield(L, -3, "__newindex");
  lua_pushcfunction(L, l_gc);
  lua_setfield(L, -3, "__gc");
  lua_pushcfunction(L, l_len);
  lua_setfield(L, -3, "__len");
  lua_pushcfunction(L, l_tostring);
  lua_setfield(L, -3, "__tostring");
  lua_pushliteral(L, "tensor");
  lua_setfield(L, -3, "__name");
  lua_remove(L, -2);
}

int sl_lua_from_table(lua_State *L) { return l_from_table(L); }
