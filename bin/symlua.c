/*
** symlua.c — the symlua interpreter: LuaJIT with symlua preloaded; options, scripts, Ctrl-C.
**
** Command line as luajit's: `symlua [options] [script [args]]`, with the arg table
** and `...` set the same way. With no script it runs the REPL (repl.c) when stdin
** is a terminal, and stdin as a script otherwise.
*/
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <luajit.h>
#include <lualib.h>

#include "symlua.h"
#include "dist.h"
#include "interp.h"

int luaopen_symlua_core(lua_State *L);

/* -- Ctrl-C ---------------------------------------------------------------
** As in lua.c: the SIGINT handler only sets a count hook, and the hook raises
** the error at the next instruction the interpreter runs. LuaJIT's compiled
** traces never look at hooks, so a loop that stays inside one trace does not
** see the first Ctrl-C; the second says so and the third ends the process,
** which is all a signal handler can safely do there. The REPL sidesteps this
** for code typed at the prompt by running it with the JIT off (see repl.c).
*/

static pthread_t lua_thread;             /* the thread that runs Lua: main's */
static lua_State *volatile running;      /* the state running a docall, or NULL */
static volatile sig_atomic_t interrupts; /* Ctrl-C presses the hook has not seen */
static volatile sig_atomic_t interrupted; /* any Ctrl-C during the current docall */

static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  interrupts = 0;
  /* A C hook adds no frame of its own, so level 0 is the interrupted function. */
  luaL_where(L, 0);
  lua_pushfstring(L, "%sinterrupted!", lua_tostring(L, -1));
  lua_error(L);
}

static void on_sigint(int sig)
{
  static const char stuck[] =
    "\n" SL_PROGNAME ": the running code does not check for interrupts "
    "(a JIT-compiled loop or a C function); press Ctrl-C again to quit\n";
  lua_State *L = running;
  if (sl_interp_forward_signal(sig) || !L) return;
  interrupted = 1;
  if (interrupts == 0) {
    interrupts = 1;
    lua_sethook(L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
  } else if (interrupts == 1) {
    interrupts = 2;
    if (write(STDERR_FILENO, stuck, sizeof stuck - 1) < 0) { /* nothing to do */ }
  } else {
    signal(sig, SIG_DFL);
    raise(sig);
  }
}

int sl_interp_forward_signal(int sig)
{
  if (pthread_equal(pthread_self(), lua_thread)) return 0;
  pthread_kill(lua_thread, sig);  /* async-signal-safe; waits if that thread blocks it */
  return 1;
}

/* Frames of a traceback that tell a user nothing: C code known only by its
** address (the interpreter's own calls) and error() raising the error. */
static int is_noise(const char *line, size_t len)
{
  static const char *const noise[] = { "\t[C]: at 0x", "\t[C]: in function 'error'\n" };
  for (size_t k = 0; k < sizeof noise / sizeof *noise; k++) {
    size_t n = strlen(noise[k]);
    if (len >= n && memcmp(line, noise[k], n) == 0) return 1;
  }
  return 0;
}

/* Message handler: the error message plus a traceback of the script's frames. */
static int traceback(lua_State *L)
{
  const char *msg = lua_tostring(L, 1);
  if (!msg) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_isstring(L, -1)) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  size_t len;
  const char *s = lua_tolstring(L, -1, &len), *end = s + len;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  while (s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    size_t n = nl ? (size_t)(nl - s) + 1 : (size_t)(end - s);
    if (!is_noise(s, n)) luaL_addlstring(&b, s, n);
    s += n;
  }
  luaL_pushresult(&b);
  const char *r = lua_tolstring(L, -1, &len);   /* dropping the last frame leaves a newline */
  if (len && r[len - 1] == '\n') lua_pushlstring(L, r, len - 1);
  return 1;
}

int sl_interp_docall(lua_State *L, int narg, int nres)
{
  int base = lua_gettop(L) - narg;  /* the function's index */
  struct sigaction sa, old;
  int status;
  lua_pushcfunction(L, traceback);
  lua_insert(L, base);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sa.sa_flags = SA_RESTART;  /* a script's reads and writes go on; the hook stops it */
  sigemptyset(&sa.sa_mask);
  interrupts = interrupted = 0;
  running = L;
  sigaction(SIGINT, &sa, &old);
  status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &old, NULL);
  running = NULL;
  /* A Ctrl-C that came as the call returned must not stop the next one. */
  if (lua_gethook(L) == interrupt_hook) lua_sethook(L, NULL, 0, 0);
  interrupts = 0;
  /* The terminal echoed "^C" where the output was; start the message below it. */
  if (interrupted && isatty(STDERR_FILENO)) fputc('\n', stderr);
  lua_remove(L, base);
  return status;
}

int sl_interp_report(lua_State *L, int status)
{
  if (status && !lua_isnil(L, -1)) {
    const char *msg = lua_tostring(L, -1);
    if (!msg) msg = "(error object is not a string)";
    fflush(stdout);
    fprintf(stderr, "%s: %s\n", SL_PROGNAME, msg);
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}

void sl_interp_print_version(void)
{
  printf(SL_PROGNAME " " SYMLUA_VERSION " -- " LUAJIT_VERSION " -- " LUAJIT_COPYRIGHT ". "
         LUAJIT_URL "\n");
  fflush(stdout);
}

static void print_usage(FILE *f)
{
  fputs("usage: " SL_PROGNAME " [options]... [script [args]...]\n"
        "Available options are:\n"
        "  -e chunk  Execute string 'chunk'.\n"
        "  -l name   Require library 'name' and store it in the global 'name'.\n"
        "  -j cmd    Perform LuaJIT control command (-joff, -jflush, -jv, ...).\n"
        "  -O[opt]   Control LuaJIT optimizations (-O3, -Ohotloop=10, ...).\n"
        "  -i        Enter the REPL after executing 'script'.\n"
        "  -v        Show version information.\n"
        "  -E        Ignore environment variables (LUA_INIT, LUA_PATH, LUA_CPATH).\n"
        "  --tune    Measure the thresholds of the C backend's kernel choices on this\n"
        "            machine and keep them in the cache directory (see docs/backend_c.md).\n"
        "  --help    Show this help and exit.\n"
        "  --        Stop handling options.\n"
        "  -         Execute stdin and stop handling options.\n"
        "With no script, " SL_PROGNAME " starts the REPL (with 'sl' predefined) when stdin is\n"
        "a terminal, and runs stdin as a script otherwise.\n", f);
  fflush(f);
}

/* -- Setting up the state ------------------------------------------------ */

/* Put symlua's Lua files ahead on package.path: found relative to the binary,
** in the checkout (bin/../lua) or an installation (bin/../share/lua/5.1). */
static void set_path(lua_State *L)
{
  char exe[PATH_MAX], probe[PATH_MAX + 64];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash) return;
  *slash = '\0';
  static const char *const roots[] = { "/../lua", "/../share/lua/5.1" };
  for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
    snprintf(probe, sizeof probe, "%s%s/symlua/init.lua", exe, roots[i]);
    if (access(probe, R_OK) != 0) continue;
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s%s/?.lua;%s%s/?/init.lua;%s", exe, roots[i], exe, roots[i],
                    lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
    return;
  }
}

static void open_libs(lua_State *L, int noenv)
{
  if (noenv) {  /* the package library reads this before it looks at LUA_PATH */
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  lua_gc(L, LUA_GCSTOP, 0);  /* no collections while the libraries are half made */
  luaL_openlibs(L);
  lua_gc(L, LUA_GCRESTART, -1);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, luaopen_symlua_core);
  lua_setfield(L, -2, "symlua.core");
  lua_pop(L, 2);
  set_path(L);
  lua_getglobal(L, "tostring");
  lua_setfield(L, LUA_REGISTRYINDEX, SL_TOSTRING_KEY);
}

/* arg[0] is the script, arg[1..] its arguments, arg[-1..] the interpreter and
** the options; with no script every entry is negative and arg[0] is nil. */
static void create_arg_table(lua_State *L, char **argv, int argc, int script)
{
  lua_createtable(L, argc - script, script);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

/* -- Options -------------------------------------------------------------- */

enum {
  OPT_INTERACTIVE = 1, OPT_VERSION = 2, OPT_EXEC = 4, OPT_NOENV = 8, OPT_HELP = 16, OPT_TUNE = 32
};

/* Returns the index of the script in argv (argc when there is none), or -1
** after a bad option. Options take effect later, in order, in run_options. */
static int collect_args(char **argv, int argc, int *flags)
{
  int i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-') return i;
    switch (a[1]) {
    case '\0':
      return i;  /* "-": the script is stdin */
    case '-':
      if (a[2] == '\0') return i + 1;
      if (strcmp(a, "--help") == 0) { *flags |= OPT_HELP; return i + 1; }
      if (strcmp(a, "--tune") == 0) { *flags |= OPT_TUNE; break; }
      return -1;
    case 'i':
      if (a[2]) return -1;
      *flags |= OPT_INTERACTIVE;
      break;
    case 'v':
      if (a[2]) return -1;
      *flags |= OPT_VERSION;
      break;
    case 'E':
      if (a[2]) return -1;
      *flags |= OPT_NOENV;
      break;
    case 'e':
      *flags |= OPT_EXEC;
      /* fall through */
    case 'l':  /* these take an argument, glued on or the next word */
    case 'j':
      if (a[2] == '\0' && ++i >= argc) return -1;
      break;
    case 'O':
      break;  /* takes its argument glued on, if any */
    default:
      return -1;
    }
  }
  return i;
}

static int dostring(lua_State *L, const char *s, const char *name)
{
  int status = luaL_loadbuffer(L, s, strlen(s), name);
  if (status == 0) status = sl_interp_docall(L, 0, 0);
  return sl_interp_report(L, status);
}

/* -l name: name = require(name), as luajit does. */
static int dolibrary(lua_State *L, const char *name)
{
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  int status = sl_interp_docall(L, 1, 1);
  if (status == 0) lua_setglobal(L, name);
  return sl_interp_report(L, status);
}

/* Pushes the comma-separated words of opts; returns how many. */
static int push_words(lua_State *L, const char *opts)
{
  int n = 0;
  while (opts && *opts) {
    const char *comma = strchr(opts, ',');
    size_t len = comma ? (size_t)(comma - opts) : strlen(opts);
    luaL_checkstack(L, 1, "too many options");
    lua_pushlstring(L, opts, len);
    n++;
    opts = comma ? comma + 1 : NULL;
  }
  return n;
}

/* -j cmd[=arg,...]: jit.cmd(args) (on, off, flush) or require('jit.cmd').start(args). */
static int jit_command(lua_State *L, const char *cmd)
{
  const char *eq = strchr(cmd, '=');
  size_t len = eq ? (size_t)(eq - cmd) : strlen(cmd);
  int status;
  lua_getglobal(L, "jit");
  lua_pushlstring(L, cmd, len);
  lua_gettable(L, -2);
  lua_remove(L, -2);
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "jit.");
    lua_pushlstring(L, cmd, len);
    lua_concat(L, 2);
    status = sl_interp_docall(L, 1, 1);
    if (status) return sl_interp_report(L, status);
    lua_getfield(L, -1, "start");
    lua_remove(L, -2);
    if (!lua_isfunction(L, -1)) {
      lua_pop(L, 1);
      lua_pushfstring(L, "unknown LuaJIT control command '%s'", cmd);
      return sl_interp_report(L, 1);
    }
  }
  status = sl_interp_docall(L, push_words(L, eq ? eq + 1 : NULL), 0);
  return sl_interp_report(L, status);
}

/* -O[opt,...]: jit.opt.start(opts). */
static int jit_optimize(lua_State *L, const char *opts)
{
  lua_getglobal(L, "jit");
  lua_getfield(L, -1, "opt");
  lua_remove(L, -2);
  lua_getfield(L, -1, "start");
  lua_remove(L, -2);
  int status = sl_interp_docall(L, push_words(L, opts), 0);
  return sl_interp_report(L, status);
}

/* Runs -e, -l, -j and -O in the order given. */
static int run_options(lua_State *L, char **argv, int script)
{
  for (int i = 1; i < script; i++) {
    const char *a = argv[i];
    int opt = a[1], status = 0;
    const char *val = a + 2;
    if (opt == '-') break;
    if ((opt == 'e' || opt == 'l' || opt == 'j') && *val == '\0') val = argv[++i];
    switch (opt) {
    case 'e': status = dostring(L, val, "=(command line)"); break;
    case 'l': status = dolibrary(L, val); break;
    case 'j': status = jit_command(L, val); break;
    case 'O': status = jit_optimize(L, val); break;
    default: break;
    }
    if (status) return status;
  }
  return 0;
}

/* LUA_INIT: a chunk, or @file for a file to run, before anything else. */
static int handle_luainit(lua_State *L)
{
  const char *init = getenv("LUA_INIT");
  if (!init) return 0;
  if (init[0] == '@') {
    int status = luaL_loadfile(L, init + 1);
    if (status == 0) status = sl_interp_docall(L, 0, 0);
    return sl_interp_report(L, status);
  }
  return dostring(L, init, "=LUA_INIT");
}

/* The script (NULL for stdin) gets the words after it as `...`. */
static int run_script(lua_State *L, const char *fname, char **args, int nargs)
{
  int status = luaL_loadfile(L, fname);
  if (status == 0) {
    luaL_checkstack(L, nargs, "too many arguments to script");
    for (int i = 0; i < nargs; i++) lua_pushstring(L, args[i]);
    status = sl_interp_docall(L, nargs, 0);
  }
  return sl_interp_report(L, status);
}

/* --tune: calibrate, then show what was measured and where it was kept. */
static const char tune_chunk[] =
  "local sl = require 'symlua'\n"
  "local t = sl.tune()\n"
  "print('thresholds kept in ' .. t.file)\n"
  "local names = {}\n"
  "for name in pairs(t.sources) do names[#names + 1] = name end\n"
  "table.sort(names)\n"
  "for _, name in ipairs(names) do\n"
  "  print(string.format('  %-22s %10d  (%s)', name, t[name], t.sources[name]))\n"
  "end\n";

struct smain {
  int argc;
  char **argv;
  int status;
};

static int pmain(lua_State *L)
{
  struct smain *s = lua_touserdata(L, 1);
  int argc = s->argc, flags = 0;
  char **argv = s->argv;
  int script = collect_args(argv, argc, &flags);
  if (script < 0) {
    print_usage(stderr);
    s->status = 1;
    return 0;
  }
  if (flags & OPT_HELP) {
    print_usage(stdout);
    return 0;
  }
  open_libs(L, flags & OPT_NOENV);
  create_arg_table(L, argv, argc, script);
  if (!(flags & OPT_NOENV) && handle_luainit(L)) goto failed;
  if (flags & OPT_VERSION) sl_interp_print_version();
  if (run_options(L, argv, script)) goto failed;
  if ((flags & OPT_TUNE) && dostring(L, tune_chunk, "=--tune")) goto failed;
  if (script < argc) {
    const char *fname = argv[script];
    /* "-" is stdin, except right after "--", where it names a file. */
    if (strcmp(fname, "-") == 0 && strcmp(argv[script - 1], "--") != 0) fname = NULL;
    if (run_script(L, fname, argv + script + 1, argc - script - 1)) goto failed;
  }
  if (flags & OPT_INTERACTIVE) {
    sl_repl(L);
  } else if (script == argc && !(flags & (OPT_EXEC | OPT_VERSION | OPT_TUNE))) {
    if (isatty(STDIN_FILENO)) sl_repl(L);
    else if (run_script(L, NULL, NULL, 0)) goto failed;
  }
  return 0;
failed:
  s->status = 1;
  return 0;
}

int main(int argc, char **argv)
{
  static char *noargs[] = { SL_PROGNAME, NULL };
  struct smain s = { argc, argv, 0 };
  lua_thread = pthread_self();
  if (argc < 1 || !argv[0]) { s.argc = 1; s.argv = noargs; }
  lua_State *L = luaL_newstate();
  if (!L) {
    fprintf(stderr, "%s: cannot create a Lua state: not enough memory\n", SL_PROGNAME);
    return EXIT_FAILURE;
  }
  int status = sl_interp_report(L, lua_cpcall(L, pmain, &s));
  /* one rank's error ends the whole job: the others would wait for it forever */
  if (status || s.status) sl_dist_abort(1);
  lua_close(L);  /* runs every __gc, so C-side memory is released too */
  return (status || s.status) ? EXIT_FAILURE : EXIT_SUCCESS;
}
