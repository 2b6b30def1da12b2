/*
** symlua.c — the symlua interpreter: LuaJIT with symlua preloaded.
*/
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_symlua_core(lua_State *L);

/* Put symlua's Lua files ahead on package.path: found relative to the binary,
** in the checkout (bin/../lua) or an installation (bin/../share/lua/5.1). */
static void set_path(lua_State *L)
{
  char exe[PATH_MAX], dir[PATH_MAX + 64];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash) return;
  *slash = '\0';
  static const char *const roots[] = { "/../lua", "/../share/lua/5.1" };
  for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
    snprintf(dir, sizeof dir, "%s%s/symlua/init.lua", exe, roots[i]);
    if (access(dir, R_OK) != 0) continue;
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s%s/?.lua;%s%s/?/init.lua;%s", exe, roots[i], exe, roots[i],
                    lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
    return;
  }
}

static int traceback(lua_State *L)
{
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int main(int argc, char **argv)
{
  lua_State *L = luaL_newstate();
  if (!L) { fprintf(stderr, "symlua: cannot create a Lua state\n"); return 1; }
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, luaopen_symlua_core);
  lua_setfield(L, -2, "symlua.core");
  lua_pop(L, 2);
  set_path(L);
  if (argc < 2) { fprintf(stderr, "usage: symlua script.lua [args]\n"); return 1; }
  lua_createtable(L, argc, 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  lua_setglobal(L, "arg");
  lua_pushcfunction(L, traceback);
  int status = luaL_loadfile(L, argv[1]);
  if (status == 0) {
    for (int i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
    status = lua_pcall(L, argc - 2, 0, 1);
  }
  if (status) fprintf(stderr, "symlua: %s\n", lua_tostring(L, -1));
  lua_close(L);
  return status ? 1 : 0;
}
