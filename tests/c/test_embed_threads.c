/*
** test_embed_threads.c — one compiled function called from two host threads
** at once, each on its own buffers, from the very first call (which builds
** the code) on; and a function with an update, whose calls must come one
** after another: every call sees the sum of the updates before it, so the
** values the two threads get back are each step of the count exactly once.
** Run under valgrind by make check and under ThreadSanitizer (make tsan).
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symlua_host.h"

#define CALLS 300   /* per thread */
#define N 10

static const char *script =
  "local sl = require 'symlua'\n"
  "local x = sl.vector('x')\n"
  "control = sl.compile({x}, x * 3 - 1)\n"
  "energy = sl.compile({x}, (x * x):sum())\n"
  "count = sl.shared(sl.zeros(" "10" "), 'count')\n"
  "tally = sl.compile({x}, count:sum(), { updates = { [count] = count + x } })\n";

static sl_function *control, *energy, *tally;
static double seen[2][CALLS];   /* what each tally call returned */

typedef struct { int id, bad; } worker;

static void *work(void *arg)
{
  worker *w = arg;
  double in[N], out[N], ones[N], e = 0, t = 0;
  sl_tensor *x = sl_tensor_wrap(in, SL_FLOAT64, 1, (int64_t[]){ N }, NULL, NULL, NULL);
  sl_tensor *y = sl_tensor_wrap(out, SL_FLOAT64, 1, (int64_t[]){ N }, NULL, NULL, NULL);
  sl_tensor *u = sl_tensor_wrap(ones, SL_FLOAT64, 1, (int64_t[]){ N }, NULL, NULL, NULL);
  sl_tensor *et = sl_tensor_wrap(&e, SL_FLOAT64, 0, NULL, NULL, NULL, NULL);
  sl_tensor *tt = sl_tensor_wrap(&t, SL_FLOAT64, 0, NULL, NULL, NULL, NULL);
  for (int i = 0; i < N; i++) ones[i] = 1;
  for (int k = 0; k < CALLS; k++) {
    double want_e = 0;
    for (int i = 0; i < N; i++) { in[i] = w->id * 1000 + k + i; want_e += in[i] * in[i]; }
    sl_tensor *outs[1] = { y };
    if (sl_function_call(control, &x, outs)) { printf("# %s\n", sl_errmsg()); w->bad++; break; }
    for (int i = 0; i < N; i++) w->bad += out[i] != 3 * in[i] - 1;
    outs[0] = et;
    if (sl_function_call(energy, &x, outs)) { printf("# %s\n", sl_errmsg()); w->bad++; break; }
    w->bad += e != want_e;
    outs[0] = tt;
    if (sl_function_call(tally, &u, outs)) { printf("# %s\n", sl_errmsg()); w->bad++; break; }
    seen[w->id][k] = t;
  }
  sl_tensor_release(x); sl_tensor_release(y); sl_tensor_release(u);
  sl_tensor_release(et); sl_tensor_release(tt);
  return NULL;
}

static int by_value(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(void)
{
  int failures = 0;
  sl_state *S = sl_state_open("lua");
  if (!S || sl_state_dostring(S, script) || sl_state_get_function(S, "control", &control) ||
      sl_state_get_function(S, "energy", &energy) || sl_state_get_function(S, "tally", &tally)) {
    printf("not ok 1 - setting up: %s\n", sl_errmsg());
    return 1;
  }
  pthread_t th[2];
  worker w[2] = { { 0, 0 }, { 1, 0 } };
  for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, work, &w[i]);
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  int ok = w[0].bad == 0 && w[1].bad == 0;
  printf("%s 1 - two threads get every result right (%d and %d wrong)\n", ok ? "ok" : "not ok", w[0].bad, w[1].bad);
  failures += !ok;

  /* each tally call saw the previous calls' updates: 0, 10, 20, ... once each */
  double all[2 * CALLS];
  memcpy(all, seen, sizeof all);
  qsort(all, 2 * CALLS, sizeof *all, by_value);
  ok = 1;
  for (int k = 0; k < 2 * CALLS; k++) ok &= all[k] == (double)N * k;
  printf("%s 2 - updates of a shared variable from two threads are serialized\n", ok ? "ok" : "not ok");
  failures += !ok;
  sl_tensor *count = NULL;
  ok = sl_state_dostring(S, "count_now = count:get_value()") == SL_OK &&
       sl_state_get_tensor(S, "count_now", &count) == SL_OK &&
       sl_tensor_get(count, (int64_t[]){ 0 }) == 2 * CALLS && sl_tensor_get(count, (int64_t[]){ 9 }) == 2 * CALLS;
  printf("%s 3 - the shared variable holds every update (%g)\n", ok ? "ok" : "not ok",
         count ? sl_tensor_get(count, (int64_t[]){ 0 }) : -1);
  failures += !ok;
  sl_tensor_release(count);
  /* the optimizing compiles started by the first calls end before the test does */
  ok = sl_state_dostring(S,
    "for _, f in ipairs({ control, energy, tally }) do\n"
    "  local t0 = os.time()\n"
    "  while f:info().tier == 'tcc' and os.time() - t0 < 120 do\n"
    "    os.execute('sleep 0.05'); f(require('symlua').zeros(10))\n"
    "  end\n"
    "end") == SL_OK;
  printf("%s 4 - the functions reach their optimized code\n", ok ? "ok" : "not ok");
  failures += !ok;
  sl_function_release(control); sl_function_release(energy); sl_function_release(tally);
  sl_state_close(S);
  printf("1..4\n");
  return failures != 0;
}
