/*
** test_graph.c — the graph IR and reference backend from C: build, compile,
** call, update a shared variable, report errors, and free everything.
*/
#include <stdio.h>
#include <string.h>

#include "../../core/compile/function.h"

#include "tap.h"

static sl_var *apply(const char *op, int nin, sl_var **in)
{
  sl_node *n = sl_node_apply(sl_op_find(op), NULL, nin, in);
  if (!n) return NULL;
  return &n->outputs[0];   /* the node's single reference now belongs to the caller */
}

int main(void)
{
  int64_t base = sl_mem_bytes();
  sl_type vec = { SL_FLOAT64, 1, { SL_UNKNOWN } };
  sl_var *x = sl_var_input(&vec, "x");
  sl_tensor *two = sl_tensor_full(SL_FLOAT64, 0, NULL, 2.0);
  sl_var *c = sl_var_constant(two, 1);
  sl_tensor_release(two);

  /* y = x * 2 + x */
  sl_var *mul = apply("mul", 2, (sl_var *[]){ x, c });
  sl_var *y = apply("add", 2, (sl_var *[]){ mul, x });
  CHECK(y && y->type.dtype == SL_FLOAT64 && y->type.ndim == 1, "types are inferred");

  /* shared s; update s <- s + x */
  int64_t three = 3;
  sl_tensor *z = sl_tensor_zeros(SL_FLOAT64, 1, &three);
  sl_var *s = sl_var_shared(z, "s");
  sl_tensor_release(z);
  sl_var *upd = apply("add", 2, (sl_var *[]){ s, x });

  sl_function *f = sl_function_new(1, &x, 1, &y, 1, &s, &upd);
  CHECK(f != NULL, "compiles");

  double data[3] = { 1, 2, 3 };
  sl_tensor *arg = sl_tensor_wrap(data, SL_FLOAT64, 1, &three, NULL, NULL, NULL);
  sl_tensor *out = NULL;
  CHECK(sl_function_run(f, &arg, &out) == 0, "calls");
  CHECK(out && sl_tensor_get(out, (int64_t[]){ 2 }) == 9.0, "computes x * 2 + x");
  sl_tensor_release(out);
  CHECK(sl_function_run(f, &arg, &out) == 0, "calls again");
  sl_tensor_release(out);
  CHECK(sl_tensor_get(s->value, (int64_t[]){ 1 }) == 4.0, "updates the shared variable each call");

  int64_t two_by_two[2] = { 2, 2 };
  sl_tensor *bad = sl_tensor_zeros(SL_FLOAT64, 2, two_by_two);
  CHECK(sl_function_run(f, &bad, &out) == -1 && strstr(sl_errmsg(), "wrong rank"),
        "rejects an argument of the wrong rank");
  sl_tensor_release(bad);

  sl_type m34 = { SL_FLOAT64, 2, { 3, 4 } }, m54 = { SL_FLOAT64, 2, { 5, 4 } };
  sl_var *a = sl_var_input(&m34, "a"), *b = sl_var_input(&m54, "b");
  CHECK(apply("add", 2, (sl_var *[]){ a, b }) == NULL && strstr(sl_errmsg(), "add: shapes do not broadcast"),
        "a static shape conflict fails at build time");
  CHECK(sl_function_new(0, NULL, 1, &y, 0, NULL, NULL) == NULL &&
        strstr(sl_errmsg(), "depend on input 'x'"), "an input missing from the list is named");

  sl_var_release(a);
  sl_var_release(b);
  sl_tensor_release(arg);
  sl_function_free(f);
  sl_var_release(upd);
  sl_var_release(s);
  sl_var_release(y);
  sl_var_release(mul);
  sl_var_release(c);
  sl_var_release(x);
  CHECK(sl_mem_bytes() == base, "every tensor is freed");
  return tap_done();
}
