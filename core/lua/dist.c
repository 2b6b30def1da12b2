/*
** dist.c — core.dist, the Lua face of core/dist: the job's rank and size
** and the collectives on tensors (lua/symlua/dist.lua builds sl.dist on it).
** Ranks and roots are 0-based here; dist.lua turns them 1-based.
*/
#include "dist.h"
#include "lua_symlua.h"

static int l_init(lua_State *L)
{
  if (sl_dist_init()) sl_lua_fail(L);
  return 0;
}

static int l_rank(lua_State *L) { lua_pushinteger(L, sl_dist_rank()); return 1; }
static int l_size(lua_State *L) { lua_pushinteger(L, sl_dist_size()); return 1; }

static int l_library(lua_State *L)
{
  const char *lib = sl_dist_library();
  if (lib) lua_pushstring(L, lib); else lua_pushnil(L);
  return 1;
}

static int l_barrier(lua_State *L)
{
  if (sl_dist_barrier()) sl_lua_fail(L);
  return 0;
}

static int l_op_code(lua_State *L)
{
  sl_dist_op op;
  if (sl_dist_op_from_name(luaL_checkstring(L, 1), &op)) sl_lua_fail(L);
  lua_pushinteger(L, op);
  return 1;
}

/* allreduce(t, op_name, check): in place; returns t. check (default true):
** compare dtype and shape across ranks first, one more message per call. */
static int l_allreduce(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  int check = lua_isnoneornil(L, 3) || lua_toboolean(L, 3);
  sl_dist_op op;
  if (sl_dist_op_from_name(luaL_optstring(L, 2, "sum"), &op) || sl_dist_allreduce(t, op, check)) sl_lua_fail(L);
  lua_settop(L, 1);
  return 1;
}

/* broadcast(t, root0): in place; returns t */
static int l_broadcast(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  if (sl_dist_broadcast(t, (int)sl_lua_check_int(L, 2, "root"))) sl_lua_fail(L);
  lua_settop(L, 1);
  return 1;
}

static int l_allgather(lua_State *L)
{
  sl_lua_push_tensor(L, sl_dist_allgather(sl_lua_check_tensor(L, 1)));
  return 1;
}

/* types(t): {rank0 = {dtype, sizes...}, ...} every rank's dtype name and shape */
static int l_types(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  int n = sl_dist_size();
  int64_t *all = lua_newuserdata(L, sizeof(int64_t) * (2 + SL_MAXDIM) * (size_t)n);
  if (sl_dist_gather_types(t, all)) sl_lua_fail(L);
  lua_createtable(L, n, 0);
  for (int r = 0; r < n; r++) {
    const int64_t *ty = all + r * (2 + SL_MAXDIM);
    lua_createtable(L, (int)ty[1], 1);
    lua_pushstring(L, sl_dtype_name((sl_dtype)ty[0]));
    lua_setfield(L, -2, "dtype");
    for (int d = 0; d < ty[1]; d++) {
      lua_pushinteger(L, (lua_Integer)ty[2 + d]);
      lua_rawseti(L, -2, d + 1);
    }
    lua_rawseti(L, -2, r + 1);
  }
  return 1;
}

static int l_abort(lua_State *L)
{
  sl_dist_abort((int)luaL_optinteger(L, 1, 1));
  return 0;
}

static const luaL_Reg dist_functions[] = {
  { "init", l_init }, { "rank", l_rank }, { "size", l_size }, { "library", l_library },
  { "barrier", l_barrier }, { "op_code", l_op_code }, { "allreduce", l_allreduce },
  { "broadcast", l_broadcast }, { "allgather", l_allgather }, { "types", l_types },
  { "abort", l_abort },
  { NULL, NULL }
};

void sl_lua_open_dist(lua_State *L)
{
  lua_newtable(L);
  luaL_register(L, NULL, dist_functions);
  lua_setfield(L, -2, "dist");
}
