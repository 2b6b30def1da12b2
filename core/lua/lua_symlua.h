/*
** lua_symlua.h — what the files of the Lua binding share.
*/
#ifndef SL_LUA_SYMLUA_H
#define SL_LUA_SYMLUA_H

#include <lauxlib.h>
#include <lua.h>

#include "internal.h"

/* A class of userdata has its metatable in the registry under its name
** and, for the hot paths (every tensor and var pushed or tested), under the
** address of that name as light userdata: no string is hashed there. The
** name must then be one object, not a literal repeated per file. */
extern const char sl_tensor_mt[];
#define SL_TENSOR_MT sl_tensor_mt
void sl_lua_new_metatable(lua_State *L, const char *name);   /* pushes it */
static inline void sl_lua_push_metatable(lua_State *L, const char *name)
{
  lua_pushlightuserdata(L, (void *)name);
  lua_rawget(L, LUA_REGISTRYINDEX);
}
#define SL_FUNC_MT   "symlua.function"   /* userdata: an sl_function * (one reference) */
#define SL_GC_MIN_BYTES ((int64_t)8 << 20)    /* collect no more often than every 8 MiB */

/* Raise a Lua error located at the first caller outside symlua's own Lua
** files; sl_lua_fail raises the core's sl_errmsg(). */
#define SL_NORETURN __attribute__((noreturn))
SL_NORETURN void sl_lua_error(lua_State *L, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
SL_NORETURN void sl_lua_fail(lua_State *L);

/* The string at idx, refused when it has a NUL byte (C would cut it there);
** what names the function in the message. */
const char *sl_lua_check_path(lua_State *L, int idx, const char *what);

/* "file:line" of the first caller outside symlua's Lua files; 0 if none. */
int sl_lua_where(lua_State *L, char *buf, size_t n);

void sl_lua_push_tensor(lua_State *L, sl_tensor *t);  /* takes t; NULL raises sl_errmsg() */
sl_tensor *sl_lua_to_tensor(lua_State *L, int idx);   /* NULL when not a tensor */
sl_tensor *sl_lua_check_tensor(lua_State *L, int idx);

int64_t  sl_lua_check_int(lua_State *L, int idx, const char *what);
int      sl_lua_check_axis(lua_State *L, int idx, int ndim);   /* 1-based in, 0-based out */
int      sl_lua_read_shape(lua_State *L, int idx, int64_t *shape);
sl_dtype sl_lua_check_dtype(lua_State *L, int idx);

void sl_lua_open_tensor(lua_State *L);   /* pushes the tensor methods table */
void sl_lua_open_graph(lua_State *L);    /* adds the graph API to the table on top */
void sl_lua_open_cc(lua_State *L);       /* adds cache_info, cache_clear, cc_* (lua/cc.c) */
void sl_lua_open_dist(lua_State *L);     /* adds the table dist (lua/dist.c) */
void sl_lua_open_cuda(lua_State *L);     /* adds the table cuda (lua/cuda.c) */
int  sl_lua_from_table(lua_State *L);

int luaopen_symlua_core(lua_State *L);

#endif
