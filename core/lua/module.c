/*
** module.c — the Lua module symlua.core: constructors, files, random
** numbers, and error locations that point at the user's script.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "tune.h"
#include "lua_symlua.h"

/* -- errors ------------------------------------------------------------------ */

static char package_dir[1024];   /* symlua's Lua files; frames there are skipped */

int sl_lua_where(lua_State *L, char *buf, size_t n)
{
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); level++) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.currentline <= 0) continue;   /* C functions, or no line info */
    const char *src = ar.source[0] == '@' ? ar.source + 1 : NULL;
    if (src && package_dir[0] && strncmp(src, package_dir, strlen(package_dir)) == 0)
      continue;
    snprintf(buf, n, "%s:%d", ar.short_src, ar.currentline);
    return 1;
  }
  return 0;
}

/* The message on top of the stack, prefixed with the user's line. */
static SL_NORETURN void raise_at_user_line(lua_State *L)
{
  char where[512];
  if (sl_lua_where(L, where, sizeof where)) {
    lua_pushfstring(L, "%s: ", where);
    lua_insert(L, -2);
    lua_concat(L, 2);
  }
  lua_error(L);
  abort();   /* lua_error does not return */
}

void sl_lua_error(lua_State *L, const char *fmt, ...)
{
  char msg[SL_ERRMSG_CAP];
  va_list ap;
  va_start(ap, fmt);
  sl_vformat(msg, sizeof msg, fmt, ap);
  va_end(ap);
  lua_pushstring(L, msg);
  raise_at_user_line(L);
}

void sl_lua_fail(lua_State *L)
{
  lua_pushstring(L, sl_errmsg());
  raise_at_user_line(L);
}

const char *sl_lua_check_path(lua_State *L, int idx, const char *what)
{
  size_t n;
  const char *s = luaL_checklstring(L, idx, &n);
  const char *nul = memchr(s, '\0', n);
  if (nul)
    sl_lua_error(L, "%s: the path has a NUL byte at byte %d of %d, where the system would cut it",
                 what, (int)(nul - s) + 1, (int)n);
  return s;
}

static int l_set_package_dir(lua_State *L)
{
  snprintf(package_dir, sizeof package_dir, "%s", luaL_checkstring(L, 1));
  return 0;
}

/* -- constructors -------------------------------------------------------------
** Each takes (dtype, shape table, ...); argument sugar lives in symlua/init.lua.
*/
static int shape_arg(lua_State *L, int idx, int64_t *shape)
{
  luaL_checktype(L, idx, LUA_TTABLE);
  return sl_lua_read_shape(L, idx, shape);
}

static int l_zeros(lua_State *L)
{
  int64_t shape[SL_MAXDIM];
  sl_dtype dt = sl_lua_check_dtype(L, 1);
  int n = shape_arg(L, 2, shape);
  sl_lua_push_tensor(L, sl_tensor_zeros(dt, n, shape));
  return 1;
}

static int l_full(lua_State *L)
{
  int64_t shape[SL_MAXDIM];
  sl_dtype dt = sl_lua_check_dtype(L, 1);
  int n = shape_arg(L, 2, shape);
  double v = lua_isboolean(L, 3) ? lua_toboolean(L, 3) : luaL_checknumber(L, 3);
  sl_lua_push_tensor(L, sl_tensor_full(dt, n, shape, v));
  return 1;
}

static int l_rand(lua_State *L)
{
  int64_t shape[SL_MAXDIM];
  sl_dtype dt = sl_lua_check_dtype(L, 1);
  int n = shape_arg(L, 2, shape);
  sl_lua_push_tensor(L, sl_tensor_rand(dt, n, shape));
  return 1;
}

static int l_randn(lua_State *L)
{
  int64_t shape[SL_MAXDIM];
  sl_dtype dt = sl_lua_check_dtype(L, 1);
  int n = shape_arg(L, 2, shape);
  sl_lua_push_tensor(L, sl_tensor_randn(dt, n, shape));
  return 1;
}

static int l_randint(lua_State *L)   /* (dtype, shape, low, high) */
{
  int64_t shape[SL_MAXDIM];
  sl_dtype dt = sl_lua_check_dtype(L, 1);
  int n = shape_arg(L, 2, shape);
  int64_t low = sl_lua_check_int(L, 3, "randint: low");
  int64_t high = sl_lua_check_int(L, 4, "randint: high");
  sl_lua_push_tensor(L, sl_tensor_randint(low, high, dt, n, shape));
  return 1;
}

static int l_arange(lua_State *L)   /* (dtype, start, stop, step) */
{
  sl_dtype dt = sl_lua_check_dtype(L, 1);
  sl_lua_push_tensor(L, sl_tensor_arange(luaL_checknumber(L, 2), luaL_checknumber(L, 3),
                                         luaL_checknumber(L, 4), dt));
  return 1;
}

static int l_linspace(lua_State *L)   /* (dtype, start, stop, n) */
{
  sl_dtype dt = sl_lua_check_dtype(L, 1);
  sl_lua_push_tensor(L, sl_tensor_linspace(luaL_checknumber(L, 2), luaL_checknumber(L, 3),
                                           sl_lua_check_int(L, 4, "linspace: count"), dt));
  return 1;
}

static int l_eye(lua_State *L)   /* (dtype, n, m) */
{
  sl_dtype dt = sl_lua_check_dtype(L, 1);
  int64_t n = sl_lua_check_int(L, 2, "eye: rows"), m = sl_lua_check_int(L, 3, "eye: columns");
  if (n < 0 || m < 0) sl_lua_error(L, "eye: sizes must not be negative");
  sl_lua_push_tensor(L, sl_tensor_eye(n, m, dt));
  return 1;
}

static int l_manual_seed(lua_State *L)
{
  int64_t s = sl_lua_check_int(L, 1, "seed");
  sl_manual_seed((uint64_t)s);
  return 0;
}

/* -- files --------------------------------------------------------------------- */

static int l_load(lua_State *L)
{
  sl_lua_push_tensor(L, sl_npy_load(sl_lua_check_path(L, 1, "load")));
  return 1;
}

static int l_idx_load(lua_State *L)
{
  sl_lua_push_tensor(L, sl_idx_load(sl_lua_check_path(L, 1, "data.idx")));
  return 1;
}

static int l_save(lua_State *L)
{
  const char *path = sl_lua_check_path(L, 1, "save");
  if (sl_npy_save(path, sl_lua_check_tensor(L, 2))) sl_lua_fail(L);
  return 0;
}

/* -- misc ------------------------------------------------------------------------ */

static int l_is_tensor(lua_State *L)
{
  lua_pushboolean(L, sl_lua_to_tensor(L, 1) != NULL);
  return 1;
}

static int l_mem_bytes(lua_State *L)
{
  lua_pushnumber(L, (lua_Number)sl_mem_bytes());
  return 1;
}

/* storage_cache_info() -> {bytes, buffers, hits, misses} of the freed-buffer cache */
static int l_storage_cache_info(lua_State *L)
{
  sl_storage_cache_stats st;
  sl_storage_cache_info(&st);
  lua_createtable(L, 0, 4);
  lua_pushnumber(L, (lua_Number)st.bytes);
  lua_setfield(L, -2, "bytes");
  lua_pushnumber(L, (lua_Number)st.buffers);
  lua_setfield(L, -2, "buffers");
  lua_pushnumber(L, (lua_Number)st.hits);
  lua_setfield(L, -2, "hits");
  lua_pushnumber(L, (lua_Number)st.misses);
  lua_setfield(L, -2, "misses");
  return 1;
}

static int l_storage_cache_trim(lua_State *L)
{
  (void)L;
  sl_storage_cache_trim();
  return 0;
}

/* -- settings (sl.config) ------------------------------------------------------------ */

static const sl_config_key *check_config_key(lua_State *L, int idx)
{
  const char *name = luaL_checkstring(L, idx);
  const sl_config_key *k = sl_config_find(name);
  if (!k) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (const sl_config_key *e = sl_config_keys; e->name; e++) {
      luaL_addstring(&b, e == sl_config_keys ? "" : ", ");
      luaL_addstring(&b, e->name);
    }
    luaL_pushresult(&b);
    char clip[SL_CLIP_CAP];
    sl_lua_error(L, "config: unknown setting '%s' (settings: %s)", sl_clip(name, clip),
                 lua_tostring(L, -1));
  }
  return k;
}

static int l_config_get(lua_State *L)
{
  const sl_config_key *k = check_config_key(L, 1);
  if (sl_tune_is_key(k->name)) sl_tune_load();   /* a calibrated value, when there is one */
  switch (k->kind) {
  case SL_CFG_STRING: lua_pushstring(L, *(const char **)k->value); break;
  case SL_CFG_INT: lua_pushnumber(L, (lua_Number)*(int64_t *)k->value); break;
  case SL_CFG_BOOL: lua_pushboolean(L, *(int *)k->value); break;
  case SL_CFG_FLOAT_DTYPE: lua_pushstring(L, sl_dtype_name(*(sl_dtype *)k->value)); break;
  }
  return 1;
}

/* config_set(name, value): nil restores a string setting's default */
static int l_config_set(lua_State *L)
{
  const sl_config_key *k = check_config_key(L, 1);
  switch (k->kind) {
  case SL_CFG_STRING:
    if (!lua_isnil(L, 2) && lua_type(L, 2) != LUA_TSTRING)
      sl_lua_error(L, "config.%s must be a string, not %s", k->name, luaL_typename(L, 2));
    if (sl_config_set_string(k, lua_isnil(L, 2) ? NULL : sl_lua_check_path(L, 2, k->name)))
      sl_lua_fail(L);
    break;
  case SL_CFG_INT: {
    if (lua_type(L, 2) != LUA_TNUMBER)
      sl_lua_error(L, "config.%s must be a number, not %s", k->name, luaL_typename(L, 2));
    int64_t v = sl_lua_check_int(L, 2, k->name);
    if (v < 0) sl_lua_error(L, "config.%s must not be negative", k->name);
    *(int64_t *)k->value = v;
    break;
  }
  case SL_CFG_BOOL:
    if (lua_type(L, 2) != LUA_TBOOLEAN)
      sl_lua_error(L, "config.%s must be true or false, not %s", k->name, luaL_typename(L, 2));
    *(int *)k->value = lua_toboolean(L, 2);
    break;
  case SL_CFG_FLOAT_DTYPE: {
    sl_dtype dt = sl_lua_check_dtype(L, 2);
    if (sl_dtype_kind(dt) != 'f')
      sl_lua_error(L, "config.%s must be float32 or float64, not %s", k->name, sl_dtype_name(dt));
    *(sl_dtype *)k->value = dt;
    break;
  }
  }
  sl_config_set_origin(k, SL_CFG_FROM_USER);
  return 0;
}

/* tuning() -> the thresholds in force: { name = value, ..., sources = { name =
** 'default'|'calibrated'|'user' }, file = path or nil, state = ... } */
static int l_tuning(lua_State *L)
{
  sl_tune_info info;
  sl_tune_get(&info);
  lua_createtable(L, 0, SL_TUNE_NKEYS + 3);
  lua_createtable(L, 0, SL_TUNE_NKEYS);
  for (int k = 0; k < SL_TUNE_NKEYS; k++) {
    lua_pushnumber(L, (lua_Number)info.value[k]);
    lua_setfield(L, -3, info.name[k]);
    lua_pushstring(L, info.source[k]);
    lua_setfield(L, -2, info.name[k]);
  }
  lua_setfield(L, -2, "sources");
  if (info.file[0]) { lua_pushstring(L, info.file); lua_setfield(L, -2, "file"); }
  lua_pushstring(L, info.state);
  lua_setfield(L, -2, "state");
  return 1;
}

/* tune(): calibrate now, write the file, and use its values; returns tuning() */
static int l_tune(lua_State *L)
{
  if (sl_tune_run()) sl_lua_fail(L);
  return l_tuning(L);
}

static const luaL_Reg core_functions[] = {
  { "tensor", sl_lua_from_table }, { "zeros", l_zeros }, { "full", l_full },
  { "rand", l_rand }, { "randn", l_randn }, { "randint", l_randint },
  { "arange", l_arange }, { "linspace", l_linspace }, { "eye", l_eye },
  { "manual_seed", l_manual_seed }, { "load", l_load }, { "save", l_save },
  { "idx_load", l_idx_load },
  { "is_tensor", l_is_tensor }, { "mem_bytes", l_mem_bytes },
  { "storage_cache_info", l_storage_cache_info }, { "storage_cache_trim", l_storage_cache_trim },
  { "set_package_dir", l_set_package_dir },
  { "config_get", l_config_get }, { "config_set", l_config_set },
  { "tune", l_tune }, { "tuning", l_tuning },
  { NULL, NULL }
};

int luaopen_symlua_core(lua_State *L)
{
  if (sl_config_from_env()) sl_lua_fail(L);
  lua_newtable(L);
  luaL_register(L, NULL, core_functions);
  sl_lua_open_tensor(L);
  lua_setfield(L, -2, "tensor_methods");
  luaL_getmetatable(L, SL_TENSOR_MT);
  lua_setfield(L, -2, "tensor_mt");
  sl_lua_open_graph(L);
  sl_lua_open_cc(L);
  sl_lua_open_dist(L);
  sl_lua_open_cuda(L);
  lua_pushliteral(L, SYMLUA_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
