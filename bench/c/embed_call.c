/*
** bench/c/embed_call.c — the cost of one call of a compiled function on 10
** float64 elements (f(x) = x * 2 + 1): from Lua (f(x), a fresh result each
** call), from C with sl_function_call into the host's output buffer, and
** from C on two threads at once, each on its own buffers. Best of ROUNDS.
** Built and run by bench/embed.lua (make build/bench/embed_call).
*/
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "symlua_host.h"

#define N 10
#define CALLS 200000
#define ROUNDS 7

static sl_function *f;

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* seconds per call, over CALLS calls on this thread's own buffers */
static double calls(void)
{
  double in[N], out[N];
  for (int i = 0; i < N; i++) in[i] = i;
  sl_tensor *x = sl_tensor_wrap(in, SL_FLOAT64, 1, (int64_t[]){ N }, NULL, NULL, NULL);
  sl_tensor *y = sl_tensor_wrap(out, SL_FLOAT64, 1, (int64_t[]){ N }, NULL, NULL, NULL);
  sl_tensor *outs[1] = { y };
  double t0 = now();
  for (int k = 0; k < CALLS; k++)
    if (sl_function_call(f, &x, outs)) { fprintf(stderr, "%s\n", sl_errmsg()); break; }
  double dt = (now() - t0) / CALLS;
  if (out[N - 1] != 2 * (N - 1) + 1) fprintf(stderr, "wrong result %g\n", out[N - 1]);
  sl_tensor_release(x);
  sl_tensor_release(y);
  return dt;
}

static void *thread_calls(void *arg) { *(double *)arg = calls(); return NULL; }

int main(int argc, char **argv)
{
  sl_state *S = sl_state_open(argc > 1 ? argv[1] : "lua");
  sl_tensor *lua_t = NULL;
  if (!S || sl_state_dostring(S,
        "local sl = require 'symlua'\n"
        "local now = dofile('bench/support/clock.lua')\n"
        "local x = sl.vector('x')\n"
        "f = sl.compile({x}, x * 2 + 1)\n"
        "local v = sl.arange(10):cast('float64')\n"
        "f(v)\n"
        "local best = math.huge\n"
        "for _ = 1, 7 do\n"
        "  local t0 = now()\n"
        "  for _ = 1, 200000 do f(v) end\n"
        "  best = math.min(best, (now() - t0) / 200000)\n"
        "end\n"
        "lua_seconds = sl.tensor(best)\n") ||
      sl_state_get_function(S, "f", &f) || sl_state_get_tensor(S, "lua_seconds", &lua_t)) {
    fprintf(stderr, "embed_call: %s\n", sl_errmsg());
    return 1;
  }
  double lua_s = sl_tensor_get(lua_t, NULL), one = 1e9, two = 1e9;
  sl_tensor_release(lua_t);
  calls();   /* warm */
  for (int r = 0; r < ROUNDS; r++) { double t = calls(); if (t < one) one = t; }
  for (int r = 0; r < ROUNDS; r++) {
    pthread_t th[2];
    double dt[2];
    double t0 = now();
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, thread_calls, &dt[i]);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    double wall = (now() - t0) / CALLS;   /* each thread made CALLS calls */
    if (wall < two) two = wall;
  }
  printf("one call of f(x) = x * 2 + 1 on %d float64 elements (best of %d rounds of %d calls)\n", N, ROUNDS, CALLS);
  printf("  %-44s %8.3f us\n", "Lua: f(x), a new result tensor", lua_s * 1e6);
  printf("  %-44s %8.3f us\n", "C: sl_function_call into the host's buffer", one * 1e6);
  printf("  %-44s %8.3f us per call per thread, %.2f M calls/s in all\n",
         "C: two threads calling at once", two * 1e6, 2 / two * 1e-6);
  sl_function_release(f);
  sl_state_close(S);
  return 0;
}
