/*
** cc.c — the Lua side of compiling and caching: sl.cache_info(),
** sl.cache_clear(), and small hooks through which specs drive cc.c.
*/
#include <limits.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "cc.h"
#include "lua_symlua.h"

static void set_number(lua_State *L, const char *k, int64_t v)
{
  lua_pushnumber(L, (lua_Number)v);
  lua_setfield(L, -2, k);
}

/* cache_info() -> {dir, entries, bytes, hits, misses, corrupt}: the files
** in the cache directory, and this process's lookups. */
static int l_cache_info(lua_State *L)
{
  char dir[PATH_MAX];
  sl_cache_stats st;
  if (sl_cache_info(dir, sizeof dir, &st) != 0) sl_lua_fail(L);
  lua_createtable(L, 0, 6);
  lua_pushstring(L, dir);
  lua_setfield(L, -2, "dir");
  set_number(L, "entries", st.entries);
  set_number(L, "bytes", st.bytes);
  set_number(L, "hits", st.hits);
  set_number(L, "misses", st.misses);
  set_number(L, "corrupt", st.corrupt);
  return 1;
}

/* cache_clear() -> number of files removed */
static int l_cache_clear(lua_State *L)
{
  int64_t n = sl_cache_clear();
  if (n < 0) sl_lua_fail(L);
  lua_pushnumber(L, (lua_Number)n);
  return 1;
}

static int l_cc_available(lua_State *L)
{
  lua_pushboolean(L, sl_cc_available());
  return 1;
}

static int l_cc_prelude(lua_State *L)
{
  lua_pushstring(L, sl_cc_prelude());
  return 1;
}

/* cc_call(source, symbol, x [, how]) -> symbol(x), symbol being a
** double (double) function of the compiled source; how is 'cc' (default),
** 'tcc' or 'async' (a background compile, polled until done). */
static int l_cc_call(lua_State *L)
{
  const char *src = luaL_checkstring(L, 1), *name = luaL_checkstring(L, 2);
  double x = luaL_checknumber(L, 3);
  const char *how = luaL_optstring(L, 4, "cc");
  sl_module *m = NULL;
  if (strcmp(how, "cc") == 0) m = sl_module_compile(src);
  else if (strcmp(how, "tcc") == 0) m = sl_module_compile_tcc(src);
  else if (strcmp(how, "async") == 0) {
    sl_compile_job *j = sl_compile_start(src);
    if (!j) sl_lua_fail(L);
    struct timespec pause = { 0, 1000000 };
    while (!(m = sl_compile_poll(j)) && !sl_compile_failed(j)) nanosleep(&pause, NULL);
    if (!m) sl_compile_poll(j);   /* its message into sl_errmsg */
    sl_compile_job_free(j);
  } else sl_lua_error(L, "cc_call: how must be 'cc', 'tcc' or 'async', not '%s'", how);
  if (!m) sl_lua_fail(L);
  double (*fn)(double) = (double (*)(double))sl_module_sym(m, name);
  if (!fn) {
    sl_module_release(m);
    sl_lua_error(L, "cc_call: no symbol '%s' in the compiled module", name);
  }
  double y = fn(x);
  sl_module_release(m);
  lua_pushnumber(L, y);
  return 1;
}

static const luaL_Reg cc_functions[] = {
  { "cache_info", l_cache_info }, { "cache_clear", l_cache_clear },
  { "cc_available", l_cc_available }, { "cc_prelude", l_cc_prelude },
  { "cc_call", l_cc_call },
  { NULL, NULL }
};

void sl_lua_open_cc(lua_State *L)
{
  luaL_register(L, NULL, cc_functions);
  lua_pushboolean(L, sl_cc_tcc_available());
  lua_setfield(L, -2, "has_tcc");
}
