/*
** state.c — a Lua state with symlua loaded, driven from C: scripts, tensors
** in and out by name, compiled functions taken out by name. Everything that
** can raise a Lua error runs under lua_cpcall, so an error becomes a status
** and the state's message; no longjmp ever crosses the host's frames.
*/
#include <stdlib.h>
#include <string.h>

#include <lualib.h>

#include "function.h"
#include "lua_symlua.h"
#include "symlua_host.h"

struct sl_state {
  lua_State *L;
  char msg[SL_ERRMSG_CAP];   /* the last failure on this state */
};

/* The state's message and sl_errmsg() both say it. */
static sl_status state_fail(sl_state *S, sl_status s, const char *text)
{
  sl_format(S->msg, sizeof S->msg, "%s", text ? text : "error object is not a string");
  sl_fail("%s", S->msg);
  return s;
}

/* Runs fn(L) with ud as its light userdata argument, protected. */
static sl_status protected(sl_state *S, lua_CFunction fn, void *ud, sl_status on_error)
{
  S->msg[0] = 0;
  int rc = lua_cpcall(S->L, fn, ud);
  if (rc == 0) return SL_OK;
  sl_status s = rc == LUA_ERRMEM ? SL_NOMEM : on_error;
  state_fail(S, s, lua_tostring(S->L, -1));
  lua_pop(S->L, 1);
  return s;
}

/* -- opening ---------------------------------------------------------------------- */

static int open_libs(lua_State *L)
{
  const char *lua_dir = lua_touserdata(L, 1);
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, luaopen_symlua_core);
  lua_setfield(L, -2, "symlua.core");
  lua_pop(L, 1);
  if (lua_dir) {
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", lua_dir, lua_dir, lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  /* a missing or unreadable installation is found now, not at the first script */
  lua_getglobal(L, "require");
  lua_pushliteral(L, "symlua");
  lua_call(L, 1, 0);
  return 0;
}

sl_state *sl_state_open(const char *lua_dir)
{
  sl_state *S = calloc(1, sizeof *S);
  if (!S || !(S->L = luaL_newstate())) { free(S); sl_fail("sl_state_open: out of memory"); return NULL; }
  if (protected(S, open_libs, (void *)lua_dir, SL_SCRIPT)) {
    char msg[SL_ERRMSG_CAP];
    sl_format(msg, sizeof msg, "sl_state_open: %s", S->msg);
    sl_state_close(S);
    sl_fail("%s", msg);
    return NULL;
  }
  return S;
}

void sl_state_close(sl_state *S)
{
  if (!S) return;
  lua_close(S->L);   /* runs every __gc: functions the host holds stay alive */
  free(S);
}

const char *sl_state_errmsg(const sl_state *S) { return S ? S->msg : "sl_state_errmsg: the state is NULL"; }

struct lua_State *sl_state_lua(sl_state *S) { return S ? S->L : NULL; }

/* -- scripts ------------------------------------------------------------------------ */

/* Message handler: the error and the script's traceback. */
static int traceback(lua_State *L)
{
  const char *msg = lua_tostring(L, 1);
  luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
  return 1;
}

static sl_status run_chunk(sl_state *S, int loaded)
{
  lua_State *L = S->L;
  if (loaded != 0) {
    sl_status s = state_fail(S, loaded == LUA_ERRMEM ? SL_NOMEM : SL_SCRIPT, lua_tostring(L, -1));
    lua_pop(L, 1);
    return s;
  }
  int base = lua_gettop(L);
  lua_pushcfunction(L, traceback);
  lua_insert(L, base);
  int rc = lua_pcall(L, 0, 0, base);
  lua_remove(L, base);
  if (rc == 0) { S->msg[0] = 0; return SL_OK; }
  sl_status s = state_fail(S, rc == LUA_ERRMEM ? SL_NOMEM : SL_SCRIPT, lua_tostring(L, -1));
  lua_pop(L, 1);
  return s;
}

sl_status sl_state_dofile(sl_state *S, const char *path)
{
  if (!S) return sl_fail("sl_state_dofile: the state is NULL"), SL_ARG;
  if (!path) return state_fail(S, SL_ARG, "sl_state_dofile: the path is NULL");
  return run_chunk(S, luaL_loadfile(S->L, path));
}

sl_status sl_state_dostring(sl_state *S, const char *chunk)
{
  if (!S) return sl_fail("sl_state_dostring: the state is NULL"), SL_ARG;
  if (!chunk) return state_fail(S, SL_ARG, "sl_state_dostring: the chunk is NULL");
  return run_chunk(S, luaL_loadbuffer(S->L, chunk, strlen(chunk), "=(host string)"));
}

/* -- names -------------------------------------------------------------------------- */

typedef struct {
  const char *op, *name;   /* for messages: "sl_state_get_tensor", "model.W" */
  int function;            /* get: a function is wanted, not a tensor */
  sl_tensor *t;            /* set: the tensor; get: the result */
  sl_function *f;
} by_name;

/* Pushes the table that holds the last field of a->name and that field's
** name; fields before it must be tables. */
static void push_holder(lua_State *L, const by_name *a)
{
  const char *p = a->name, *dot;
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  while ((dot = strchr(p, '.'))) {
    lua_pushlstring(L, p, (size_t)(dot - p));
    lua_gettable(L, -2);
    if (!lua_istable(L, -1)) {
      const char *type = luaL_typename(L, -1);
      lua_pushlstring(L, a->name, (size_t)(dot - a->name));
      luaL_error(L, "%s: '%s' in '%s' is %s, not a table", a->op, lua_tostring(L, -1), a->name, type);
    }
    lua_replace(L, -2);
    p = dot + 1;
  }
  lua_pushstring(L, p);
}

static int do_set_tensor(lua_State *L)
{
  by_name *a = lua_touserdata(L, 1);
  push_holder(L, a);
  sl_tensor_retain(a->t);
  sl_lua_push_tensor(L, a->t);
  lua_settable(L, -3);
  return 0;
}

static int do_get(lua_State *L)
{
  by_name *a = lua_touserdata(L, 1);
  push_holder(L, a);
  lua_gettable(L, -2);
  if (a->function) {
    sl_function **box = lua_touserdata(L, -1);
    int is_fn = box && lua_getmetatable(L, -1);
    if (is_fn) { luaL_getmetatable(L, SL_FUNC_MT); is_fn = lua_rawequal(L, -1, -2); lua_pop(L, 2); }
    if (!is_fn || !*box) luaL_error(L, "%s: '%s' is %s, not a compiled function (what sl.compile returns)",
                                    a->op, a->name, is_fn ? "a freed function" : luaL_typename(L, -1));
    a->f = *box;
    sl_function_retain(a->f);
    return 0;
  }
  if (!(a->t = sl_lua_to_tensor(L, -1)))
    luaL_error(L, "%s: '%s' is %s, not a tensor", a->op, a->name, luaL_typename(L, -1));
  sl_tensor_retain(a->t);
  return 0;
}

static sl_status check_name(sl_state *S, const char *op, const char *name, const void *p, const char *what)
{
  char msg[256];
  if (!S) return sl_fail("%s: the state is NULL", op), SL_ARG;
  if (!name || !*name) { snprintf(msg, sizeof msg, "%s: the name is %s", op, name ? "empty" : "NULL"); return state_fail(S, SL_ARG, msg); }
  if (!p) { snprintf(msg, sizeof msg, "%s: %s is NULL", op, what); return state_fail(S, SL_ARG, msg); }
  return SL_OK;
}

sl_status sl_state_set_tensor(sl_state *S, const char *name, sl_tensor *t)
{
  sl_status s = check_name(S, "sl_state_set_tensor", name, t, "the tensor");
  if (s) return s;
  by_name a = { "sl_state_set_tensor", name, 0, t, NULL };
  return protected(S, do_set_tensor, &a, SL_ARG);
}

sl_status sl_state_get_tensor(sl_state *S, const char *name, sl_tensor **out)
{
  sl_status s = check_name(S, "sl_state_get_tensor", name, out, "out");
  if (s) return s;
  by_name a = { "sl_state_get_tensor", name, 0, NULL, NULL };
  *out = NULL;
  if ((s = protected(S, do_get, &a, SL_ARG))) return s;
  *out = a.t;
  return SL_OK;
}

sl_status sl_state_get_function(sl_state *S, const char *name, sl_function **out)
{
  sl_status s = check_name(S, "sl_state_get_function", name, out, "out");
  if (s) return s;
  by_name a = { "sl_state_get_function", name, 1, NULL, NULL };
  *out = NULL;
  if ((s = protected(S, do_get, &a, SL_ARG))) return s;
  *out = a.f;
  return SL_OK;
}
