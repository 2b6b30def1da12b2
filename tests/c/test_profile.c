/*
** test_profile.c — the debugging aids of compiled functions from C: profiles
** (counts, text, reset, the at-exit report), the NaN guard and the messages
** of nodes that fail at call time, with everything freed.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/compile/function.h"

#include "tap.h"

static sl_var *apply(const char *op, int nin, sl_var **in, const char *where)
{
  sl_node *n = sl_node_apply(sl_op_find(op), NULL, nin, in);
  if (!n) return NULL;
  sl_var_set_where(&n->outputs[0], where);
  return &n->outputs[0];   /* the node's single reference now belongs to the caller */
}

int main(void)
{
  int64_t base = sl_mem_bytes();
  unsetenv("SYMLUA_NAN_GUARD");
  setenv("SYMLUA_PROFILE", "1", 1);   /* one function goes to the at-exit report */

  /* y = log(x) * x */
  sl_type vec = { SL_FLOAT64, 1, { SL_UNKNOWN } };
  sl_var *x = sl_var_input(&vec, "x");
  sl_var *lg = apply("log", 1, &x, "model.lua:3");
  sl_var *y = apply("mul", 2, (sl_var *[]){ lg, x }, "model.lua:4");
  sl_function *f = sl_function_new(1, &x, 1, &y, 0, NULL, NULL);
  CHECK(f && f->profile && f->profile->at_exit, "SYMLUA_PROFILE profiles every function");
  CHECK(f && !f->nan_guard, "the NaN guard is off by default");
  CHECK(sl_function_set_where(f, "model.lua:5") == 0, "records where it was compiled");

  int64_t three = 3;
  double good[3] = { 1, 2, 3 }, bad[3] = { 1, -1, 0 };
  sl_tensor *a = sl_tensor_wrap(good, SL_FLOAT64, 1, &three, NULL, NULL, NULL);
  sl_tensor *b = sl_tensor_wrap(bad, SL_FLOAT64, 1, &three, NULL, NULL, NULL);
  sl_tensor *out = NULL;
  for (int i = 0; i < 3; i++) { sl_function_run(f, &a, &out); sl_tensor_release(out); }
  CHECK(f->profile->calls == 3 && f->profile->nnodes == 2 && f->profile->node[0].calls == 3,
        "counts calls per function and per node");
  CHECK(f->profile->seconds >= f->profile->node[0].seconds + f->profile->node[1].seconds,
        "node times add up to at most the call time");
  char *text = sl_profile_text(f->profile);
  CHECK(text && strstr(text, "compiled at model.lua:5: 3 calls") && strstr(text, "log#") &&
        strstr(text, "model.lua:3") && strstr(text, "by op:"), "the text names calls, nodes and lines");
  free(text);
  sl_profile_reset(f->profile);
  CHECK(f->profile->calls == 0 && f->profile->node[1].seconds == 0, "reset clears the counts");

  CHECK(sl_function_run(f, &b, &out) == 0, "NaN passes when the guard is off");
  sl_tensor_release(out);
  sl_function_set_nan_guard(f, 1);
  CHECK(sl_function_run(f, &a, &out) == 0, "no false alarm on finite values");
  sl_tensor_release(out);
  CHECK(sl_function_run(f, &b, &out) == -1 && strstr(sl_errmsg(), "nan_guard: log (log#") &&
        strstr(sl_errmsg(), "built at model.lua:3 produced NaN and Inf") &&
        strstr(sl_errmsg(), "input 1: x float64 (3,): min -1, max 1, no NaN/Inf"),
        "the guard names the node, its line and its inputs' ranges");

  /* a second function, profiled on request only: freed with its function */
  unsetenv("SYMLUA_PROFILE");
  sl_type m = { SL_FLOAT64, 2, { SL_UNKNOWN, SL_UNKNOWN } };
  sl_var *p = sl_var_input(&m, "p"), *q = sl_var_input(&m, "q");
  sl_var *d = apply("dot", 2, (sl_var *[]){ p, q }, "model.lua:9");
  sl_function *g = sl_function_new(2, (sl_var *[]){ p, q }, 1, &d, 0, NULL, NULL);
  CHECK(g && !g->profile && sl_function_set_profile(g, 1) == 0 && g->profile && !g->profile->at_exit,
        "profiles on request");
  int64_t s23[2] = { 2, 3 }, s42[2] = { 4, 2 };
  sl_tensor *m23 = sl_tensor_zeros(SL_FLOAT64, 2, s23), *m42 = sl_tensor_zeros(SL_FLOAT64, 2, s42);
  CHECK(sl_function_run(g, (sl_tensor *[]){ m23, m42 }, &out) == -1 &&
        strstr(sl_errmsg(), "dot: ") &&
        strstr(sl_errmsg(), "(node dot#") &&
        strstr(sl_errmsg(), "built at model.lua:9; inputs float64 (2, 3), float64 (4, 2))"),
        "a failing node names itself, its line and its inputs' types");
  CHECK(g->profile->calls == 0, "a failed call is not counted");
  sl_function_free(g);
  sl_tensor_release(m23);
  sl_tensor_release(m42);
  sl_var_release(d);
  sl_var_release(p);
  sl_var_release(q);

  sl_tensor_release(a);
  sl_tensor_release(b);
  sl_function_free(f);   /* its profile stays listed for the report at exit */
  sl_var_release(y);
  sl_var_release(lg);
  sl_var_release(x);
  CHECK(sl_mem_bytes() == base, "all tensor memory is released");
  printf("# the report of the first function follows, printed at exit (stderr)\n");
  return tap_done();
}
