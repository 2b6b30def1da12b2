/*
** cuda.c — core.cuda, the Lua face of core/backend/cuda (lua/symlua/cuda.lua
** builds sl.cuda on it): whether a device is there, its properties, and the
** generated CUDA source of a compiled function and its NVRTC compile.
*/
#include <stdlib.h>
#include <string.h>

#include "cuda_host.h"
#include "cuda_kernels.h"
#include "cuda_lib.h"
#include "cuda_nvrtc.h"
#include "lua_symlua.h"

static int l_available(lua_State *L) { lua_pushboolean(L, sl_cuda_device_count() > 0); return 1; }

/* why() -> the reason there is no device (the driver's message), or nil */
static int l_why(lua_State *L)
{
  if (!sl_cuda_driver_open()) lua_pushstring(L, sl_errmsg());
  else if (sl_cuda_device_count() == 0) lua_pushstring(L, "cuda: the NVIDIA driver sees no device");
  else lua_pushnil(L);
  return 1;
}

/* devices() -> a list of { name, major, minor, multiprocessors, max_threads_per_block, total_memory } */
static int l_devices(lua_State *L)
{
  int n = sl_cuda_device_count();
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    sl_cuda_props p;
    if (sl_cuda_device_props(i, &p)) sl_lua_fail(L);
    lua_createtable(L, 0, 6);
    lua_pushstring(L, p.name); lua_setfield(L, -2, "name");
    lua_pushinteger(L, p.major); lua_setfield(L, -2, "major");
    lua_pushinteger(L, p.minor); lua_setfield(L, -2, "minor");
    lua_pushinteger(L, p.multiprocessors); lua_setfield(L, -2, "multiprocessors");
    lua_pushinteger(L, p.max_threads_per_block); lua_setfield(L, -2, "max_threads_per_block");
    lua_pushnumber(L, (lua_Number)p.total_memory); lua_setfield(L, -2, "total_memory");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* nvrtc_version() -> major * 1000 + minor * 10, or nil and the reason */
static int l_nvrtc_version(lua_State *L)
{
  int v = sl_nvrtc_version();
  if (!v) { lua_pushnil(L); lua_pushstring(L, sl_errmsg()); return 2; }
  lua_pushinteger(L, v);
  return 1;
}

/* source(f) -> the CUDA source of compiled function f's fused plan */
static int l_source(lua_State *L)
{
  sl_function **box = luaL_checkudata(L, 1, SL_FUNC_MT);
  if (!*box) sl_lua_error(L, "this compiled function has been freed");
  sl_plan *p = sl_lower(*box, 1);
  if (!p) sl_lua_fail(L);
  char *src = sl_codegen_cuda(*box, p);
  sl_plan_free(p);
  if (!src) sl_lua_fail(L);
  lua_pushstring(L, src);
  free(src);
  return 1;
}

/* Source compiled by NVRTC for arch, and whether the disk cache had it. */
static int compile_for(lua_State *L, const char *arch)
{
  int hit = 0;
  size_t n = 0;
  char *out = sl_nvrtc_compile(luaL_checkstring(L, 1), arch, &n, &hit);
  if (!out) sl_lua_fail(L);
  lua_pushlstring(L, out, n && out[n - 1] == 0 && strncmp(arch, "compute_", 8) == 0 ? n - 1 : n);
  free(out);
  lua_pushboolean(L, hit);
  return 2;
}

/* ptx(source, arch) -> PTX text (arch default compute_90), whether cached */
static int l_ptx(lua_State *L) { return compile_for(L, luaL_optstring(L, 2, "compute_90")); }

/* cubin(source, arch) -> the cubin's bytes (arch default sm_90), whether cached */
static int l_cubin(lua_State *L) { return compile_for(L, luaL_optstring(L, 2, "sm_90")); }

/* draw_source() -> the CUDA source of the kernel of random draws */
static int l_draw_source(lua_State *L)
{
  char *src = sl_codegen_cuda_draw();
  if (!src) sl_lua_fail(L);
  lua_pushstring(L, src);
  free(src);
  return 1;
}

/* host_draw(t, normal, seed, offset) -> t, filled by the CUDA draw kernel
** under host emulation (seed and offset: integers below 2^53) */
static int l_host_draw(lua_State *L)
{
  sl_tensor *t = sl_lua_check_tensor(L, 1);
  int normal = lua_toboolean(L, 2);
  int64_t seed = sl_lua_check_int(L, 3, "seed"), offset = sl_lua_check_int(L, 4, "offset");
  if (seed < 0 || offset < 0) sl_lua_error(L, "cuda.host_draw: seed and offset must not be negative");
  if (sl_cuda_host_draw(t, normal, (uint64_t)seed, (uint64_t)offset)) sl_lua_fail(L);
  lua_settop(L, 1);
  return 1;
}

static const luaL_Reg cuda_functions[] = {
  { "available", l_available }, { "why", l_why }, { "devices", l_devices },
  { "nvrtc_version", l_nvrtc_version }, { "source", l_source }, { "ptx", l_ptx },
  { "cubin", l_cubin }, { "host_draw", l_host_draw },
  { "draw_source", l_draw_source },
  { NULL, NULL }
};

void sl_lua_open_cuda(lua_State *L)
{
  lua_newtable(L);
  luaL_register(L, NULL, cuda_functions);
  lua_setfield(L, -2, "cuda");
}
