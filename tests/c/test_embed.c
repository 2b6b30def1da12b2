/*
** test_embed.c — the host API as a C program uses it (symlua_host.h only):
** a state, scripts and their errors, the host's buffers in Lua and through
** compiled functions without a copy, and every kind of bad host input
** answered by a status and a message that names it.
*/
#include <stdio.h>
#include <string.h>

#include "symlua_host.h"

#include "tap.h"

/* status s, and a message that contains each of the texts */
static int says(sl_status got, sl_status want, const char *a, const char *b)
{
  const char *m = sl_errmsg();
  int ok = got == want && strstr(m, a) && (!b || strstr(m, b));
  if (!ok) printf("# status %d (%s), message: %s\n", (int)got, sl_status_text(got), m);
  return ok;
}

static const char *script =
  "local sl = require 'symlua'\n"
  "sl.config.compile = 'sync'   -- no compile left running in the background at exit\n"
  "local x = sl.vector('x')\n"
  "affine = sl.compile({x}, x * 2 + 1)\n"
  "model = {}\n"
  "local v = sl.tensor_type('float64', {4})('v')\n"
  "model.scale = sl.compile({v}, v * 3)\n"
  "made = sl.arange(1, 4)\n";

int main(void)
{
  sl_state *S = sl_state_open("lua");
  CHECK(S != NULL, "a state opens with symlua's Lua files from lua/");
  if (!S) return 1;
  CHECK(sl_state_open("/nonexistent") == NULL && strstr(sl_errmsg(), "module 'symlua' not found"),
        "a wrong Lua directory is reported when the state opens");

  /* scripts and their errors */
  CHECK(sl_state_dostring(S, script) == SL_OK, "a script compiles functions");
  sl_status s = sl_state_dostring(S, "local y = = 1");
  CHECK(s == SL_SCRIPT && strstr(sl_state_errmsg(S), "(host string):1:"), "a syntax error is SL_SCRIPT with its line");
  s = sl_state_dostring(S, "local function inner() error('boom') end\ninner()");
  CHECK(s == SL_SCRIPT && strstr(sl_state_errmsg(S), "boom") && strstr(sl_state_errmsg(S), "stack traceback"),
        "a runtime error is SL_SCRIPT with a traceback");
  CHECK(strcmp(sl_errmsg(), sl_state_errmsg(S)) == 0, "sl_errmsg says the same");
  s = sl_state_dofile(S, "/nonexistent/script.lua");
  CHECK(s == SL_SCRIPT && strstr(sl_state_errmsg(S), "/nonexistent/script.lua"), "a missing file names the path");
  CHECK(sl_state_dostring(S, "x = 1") == SL_OK && sl_state_errmsg(S)[0] == 0, "success clears the state's message");

  /* the host's buffer in Lua, not copied */
  double host[3] = { 1, 2, 3 };
  sl_tensor *h = sl_tensor_wrap(host, SL_FLOAT64, 1, (int64_t[]){ 3 }, NULL, NULL, NULL);
  CHECK(sl_state_set_tensor(S, "buf", h) == SL_OK &&
        sl_state_dostring(S, "buf[2] = 42; total = require('symlua').tensor(buf:sum())") == SL_OK &&
        host[1] == 42, "Lua writes into the host's buffer (buf[2] is host[1])");
  sl_tensor *total = NULL;
  CHECK(sl_state_get_tensor(S, "total", &total) == SL_OK && sl_tensor_get(total, NULL) == 46,
        "a tensor comes back by name");
  sl_tensor_release(total);
  sl_tensor *made = NULL;
  CHECK(sl_state_get_tensor(S, "made", &made) == SL_OK && sl_tensor_numel(made) == 3 &&
        sl_tensor_get(made, (int64_t[]){ 2 }) == 3, "a tensor the script made comes back");
  sl_tensor_release(made);
  CHECK(sl_state_set_tensor(S, "model.input", h) == SL_OK &&
        sl_state_dostring(S, "assert(model.input[1] == 1)") == SL_OK, "names may be fields of tables");
  CHECK(says(sl_state_get_tensor(S, "affine", &made), SL_ARG, "'affine' is userdata, not a tensor", NULL),
        "get_tensor on a function says what is there");
  CHECK(says(sl_state_set_tensor(S, "nope.x", h), SL_ARG, "'nope' in 'nope.x' is nil, not a table", NULL),
        "a path through a missing table is named");
  CHECK(says(sl_state_set_tensor(S, "b", NULL), SL_ARG, "sl_state_set_tensor: the tensor is NULL", NULL),
        "a NULL tensor is refused");
  sl_tensor_release(h);

  /* compiled functions on host buffers */
  sl_function *f = NULL;
  CHECK(sl_state_get_function(S, "affine", &f) == SL_OK && sl_function_nin(f) == 1 && sl_function_nout(f) == 1,
        "a compiled function comes out by name");
  double in[10], out[10];
  for (int i = 0; i < 10; i++) { in[i] = i - 3.5; out[i] = -1; }
  sl_tensor *x = sl_tensor_wrap(in, SL_FLOAT64, 1, (int64_t[]){ 10 }, NULL, NULL, NULL);
  sl_tensor *y = sl_tensor_wrap(out, SL_FLOAT64, 1, (int64_t[]){ 10 }, NULL, NULL, NULL);
  sl_tensor *outs[1] = { y };
  int right = sl_function_call(f, &x, outs) == SL_OK && outs[0] == y;
  for (int i = 0; i < 10; i++) right &= out[i] == 2 * (i - 3.5) + 1 && in[i] == i - 3.5;
  CHECK(right, "results land in the host's output buffer; the input is unchanged");
  sl_tensor *fresh[1] = { NULL };
  CHECK(sl_function_call(f, &x, fresh) == SL_OK && fresh[0] && fresh[0] != y &&
        sl_tensor_get(fresh[0], (int64_t[]){ 9 }) == 12, "a NULL output entry receives a new tensor");
  sl_tensor_release(fresh[0]);
  /* a strided view of a host buffer: every other element */
  sl_tensor *odd = sl_tensor_slice(x, 0, 1, 10, 2);
  sl_tensor *five = sl_tensor_empty(SL_FLOAT64, 1, (int64_t[]){ 5 });
  outs[0] = five;
  CHECK(sl_function_call(f, &odd, outs) == SL_OK && sl_tensor_get(five, (int64_t[]){ 4 }) == 2 * 5.5 + 1,
        "a strided view of a host buffer is read in place");

  /* bad host input */
  outs[0] = y;
  CHECK(says(sl_function_call(NULL, &x, outs), SL_ARG, "the function is NULL", NULL), "a NULL function");
  CHECK(says(sl_function_call(f, NULL, outs), SL_ARG, "inputs is NULL, but the function takes 1 input", NULL),
        "a NULL input array");
  CHECK(says(sl_function_call(f, &x, NULL), SL_ARG, "outputs is NULL, but the function has 1 output", NULL),
        "a NULL output array");
  sl_tensor *none = sl_tensor_wrap(NULL, SL_FLOAT64, 1, (int64_t[]){ 10 }, NULL, NULL, NULL);
  CHECK(none == NULL && strstr(sl_errmsg(), "NULL data"), "wrapping a NULL buffer fails");
  CHECK(says(sl_function_call(f, &none, outs), SL_ARG, "input 1 ('x') is NULL", NULL), "a NULL input tensor");
  float fin[10] = { 0 };
  sl_tensor *xf = sl_tensor_wrap(fin, SL_FLOAT32, 1, (int64_t[]){ 10 }, NULL, NULL, NULL);
  CHECK(says(sl_function_call(f, &xf, outs), SL_ARG, "input 1 ('x') is float32 but the function takes float64",
             "sl_tensor_cast"), "a wrong input dtype names the cast");
  sl_tensor *m = sl_tensor_wrap(in, SL_FLOAT64, 2, (int64_t[]){ 2, 5 }, NULL, NULL, NULL);
  CHECK(says(sl_function_call(f, &m, outs), SL_ARG, "input 1 ('x'): expected float64 (?,), got float64 (2, 5)",
             "wrong rank"), "a wrong input rank");
  outs[0] = five;
  CHECK(says(sl_function_call(f, &x, outs), SL_ARG, "output 1", "is float64 (5,) but the result is float64 (10,) (wrong shape: too small)"),
        "an output too small for the result (known only after the run)");
  outs[0] = xf;
  CHECK(says(sl_function_call(f, &x, outs), SL_ARG, "output 1 ('", "is float32 (10,) but the result is float64 (?,) (wrong dtype)"),
        "an output of the wrong dtype");
  sl_function *scale = NULL;
  CHECK(sl_state_get_function(S, "model.scale", &scale) == SL_OK, "a function in a table");
  outs[0] = five;
  sl_tensor *four = sl_tensor_slice(x, 0, 0, 4, 1);
  CHECK(says(sl_function_call(scale, &four, outs), SL_ARG, "is float64 (5,) but the result is float64 (4,) (wrong shape)",
             NULL), "a wrong output shape is refused before the run when the static shape tells");
  CHECK(says(sl_function_call(scale, &x, outs), SL_ARG, "expected float64 (4,), got float64 (10,)", "wrong shape"),
        "a wrong input shape");
  sl_function *wrong = f;
  CHECK(says(sl_state_get_function(S, "made", &wrong), SL_ARG, "'made' is userdata, not a compiled function", NULL) &&
        says(sl_state_get_function(S, "missing", &wrong), SL_ARG, "'missing' is nil, not a compiled function", NULL) &&
        wrong == NULL, "get_function names what is there instead, and gives NULL");
  CHECK(says(sl_state_get_function(S, NULL, &wrong), SL_ARG, "the name is NULL", NULL), "a NULL name");

  /* a released function: the host's reference and then Lua's */
  sl_function *g = NULL;
  CHECK(sl_state_get_function(S, "affine", &g) == SL_OK && g == f, "the same function twice");
  sl_function_release(g);
  CHECK(sl_function_call(f, &x, outs) != SL_RELEASED, "still alive while a reference is left");
  sl_function_release(f);   /* Lua's is left */
  CHECK(sl_state_dostring(S, "affine = nil; collectgarbage(); collectgarbage()") == SL_OK,
        "the script drops its function");
  outs[0] = y;
  CHECK(says(sl_function_call(f, &x, outs), SL_RELEASED, "the function was released", NULL),
        "a call through a released function is SL_RELEASED, not a crash");

  /* functions outlive their state */
  sl_function *keep = NULL;
  sl_state_get_function(S, "model.scale", &keep);
  sl_state_close(S);
  outs[0] = NULL;
  CHECK(sl_function_call(keep, &four, outs) == SL_OK && sl_tensor_get(outs[0], (int64_t[]){ 3 }) == 3 * -0.5,
        "a function runs after its state is closed");
  sl_tensor_release(outs[0]);
  sl_function_release(keep);
  sl_function_release(scale);

  sl_tensor_release(x); sl_tensor_release(y); sl_tensor_release(odd); sl_tensor_release(five);
  sl_tensor_release(xf); sl_tensor_release(m); sl_tensor_release(four);
  return tap_done();
}
