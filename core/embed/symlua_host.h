/*
** symlua_host.h — symlua inside a C program: a Lua state with symlua loaded,
** scripts run in it, the host's tensors moved in and out of it without a
** copy, and compiled functions called from C on the host's buffers, from any
** thread, with no Lua state on the call path.
**
** Every function here returns a status; none raises a Lua error into the
** host's frames. The message of a failure on a state is sl_state_errmsg(S)
** (also in sl_errmsg()); a failed sl_function_call leaves its message in
** sl_errmsg(), which is per thread. Tensors follow symlua.h's rules (0-based,
** strides in elements, retain/release); so do functions.
*/
#ifndef SYMLUA_HOST_H
#define SYMLUA_HOST_H

#include "symlua.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SL_STATUSES(_) \
  _(OK,       "ok") \
  _(ARG,      "bad argument") /* NULL, wrong dtype/shape/count, an output that does not fit */ \
  _(RELEASED, "released function") \
  _(SCRIPT,   "script error") /* a Lua error: its message and traceback */ \
  _(RUN,      "run error")    /* a node failed while running: which, and where it was built */ \
  _(NOMEM,    "out of memory")

typedef enum {
#define SL_STATUS_ENUM(e, text) SL_##e,
  SL_STATUSES(SL_STATUS_ENUM)
#undef SL_STATUS_ENUM
  SL_NSTATUS
} sl_status;

const char *sl_status_text(sl_status s);   /* "bad argument" */

/* -- states --------------------------------------------------------------------
** A state is a Lua state with the standard libraries and symlua: scripts
** call require 'symlua' as they would under bin/symlua. lua_dir is where
** symlua's Lua files are (`pkg-config --variable=luadir symlua`); NULL: the
** package path as LUA_PATH says. A state is used by one thread at a time
** (Lua's rule); functions taken from it are not tied to it. NULL on failure,
** with the reason in sl_errmsg(). */
typedef struct sl_state sl_state;
sl_state   *sl_state_open(const char *lua_dir);
void        sl_state_close(sl_state *S);           /* NULL is allowed */
const char *sl_state_errmsg(const sl_state *S);    /* the last failure on S, or "" */

sl_status sl_state_dofile(sl_state *S, const char *path);
sl_status sl_state_dostring(sl_state *S, const char *chunk);

/* name is a global, or a path of fields ("model.weights"). set makes it t
** itself (retained: Lua sees and writes the host's buffer); get gives a new
** reference to the tensor there. */
sl_status sl_state_set_tensor(sl_state *S, const char *name, sl_tensor *t);
sl_status sl_state_get_tensor(sl_state *S, const char *name, sl_tensor **out);

/* The lua_State inside, for hosts that use Lua's own API as well. */
struct lua_State *sl_state_lua(sl_state *S);

/* -- compiled functions -----------------------------------------------------------
** What sl.compile returns in a script, taken by name (a new reference). */
typedef struct sl_function sl_function;
sl_status sl_state_get_function(sl_state *S, const char *name, sl_function **out);

void sl_function_retain(sl_function *f);
void sl_function_release(sl_function *f);   /* NULL is allowed */
int  sl_function_nin(const sl_function *f);
int  sl_function_nout(const sl_function *f);

/* Run f on inputs (nin tensors, not copied: wrapped host buffers are read in
** place, never written). outputs has nout entries: a non-NULL entry is a
** tensor the result is written into, which must have the result's dtype and
** shape (checked before anything runs where the static shape tells, else
** after the run and before any shared variable is updated); a NULL entry
** receives a new tensor, which the caller releases.
**
** Threads: any number may call one function at once; each call has its own
** intermediate buffers. A function with updates of shared variables runs one
** call at a time, process-wide, so each call sees the updates of the one
** before; other calls read the values of shared variables as of their start.
** Change a function's settings (sl.config, f:configure) before sharing it. */
sl_status sl_function_call(sl_function *f, sl_tensor *const *inputs, sl_tensor **outputs);

#ifdef __cplusplus
}
#endif
#endif
