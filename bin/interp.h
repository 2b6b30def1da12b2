/* interp.h — what the interpreter's option handling (symlua.c) and its REPL (repl.c) share. */
#ifndef SYMLUA_INTERP_H
#define SYMLUA_INTERP_H

#include <lua.h>

#define SL_PROGNAME "symlua"

/* Registry key of the original tostring, kept so the REPL prints values the
** same way even after a script replaces the global. */
#define SL_TOSTRING_KEY "symlua.interp.tostring"

/* Calls the function below narg arguments on the stack with a traceback
** handler and Ctrl-C turned into an "interrupted!" error; like lua_pcall. */
int sl_interp_docall(lua_State *L, int narg, int nres);

/* Prints the error on top of the stack (if status is not 0) and pops it. */
int sl_interp_report(lua_State *L, int status);

/* In a signal handler: if this is not the thread that runs Lua, passes the
** signal on to it and returns 1. The process-wide SIGINT from the terminal
** may land on any thread that does not block it (BLAS pools, for one). */
int sl_interp_forward_signal(int sig);

/* One line naming symlua's and LuaJIT's versions. */
void sl_interp_print_version(void);

/* Runs the read-eval-print loop on the terminal until end of input. */
void sl_repl(lua_State *L);

#endif
