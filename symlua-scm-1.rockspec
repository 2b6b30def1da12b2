-- LuaRocks package of symlua's Lua module for a stock LuaJIT: the C core as
-- symlua/core.so plus the Lua files. `make` does the building; the interpreter
-- bin/symlua is not part of the rock (build it with `make`).
rockspec_format = "3.0"
package = "symlua"
version = "scm-1"

source = {
  url = "git+file://.",
}

description = {
  summary = "Lua-scripted array computation with a C core",
  detailed = [[
symlua builds symbolic expression graphs over n-dimensional arrays from Lua,
optimizes and compiles them, and runs them. Tensors are created, viewed,
printed and saved to NumPy's .npy format from Lua; their memory lives in C.
]],
  license = "MIT",
}

supported_platforms = { "linux" }

dependencies = {
  "lua >= 5.1, < 5.2",   -- LuaJIT reports itself as Lua 5.1
}

build = {
  type = "make",
  build_target = "module",
  build_variables = {
    CC = "$(CC)",
    CFLAGS = "$(CFLAGS)",
    LUA_INCDIR = "$(LUA_INCDIR)",
  },
  install_target = "install-module",
  install_variables = {
    PREFIX = "$(PREFIX)",
    LUADIR = "$(LUADIR)",
    LIBDIR = "$(LIBDIR)",
    BINDIR = "$(BINDIR)",
  },
}
