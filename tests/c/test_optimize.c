/*
** test_optimize.c — the optimizer from C: merge, constant folding, replacing
** vars in an fgraph, a failing rewrite, and that everything is freed.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../core/opt/fgraph.h"
#include "../../core/compile/function.h"

#include "tap.h"

static sl_var *apply(const char *op, int nin, sl_var **in)
{
  sl_node *n = sl_node_apply(sl_op_find(op), NULL, nin, in);
  return n ? &n->outputs[0] : NULL;   /* the caller owns the node's reference */
}

static int log_count(const sl_opt_log *log, const char *name)
{
  for (int i = 0; i < log->n; i++) if (strcmp(log->rewrite[i]->name, name) == 0) return log->count[i];
  return 0;
}

int main(void)
{
  int64_t base = sl_mem_bytes();
  sl_type vec = { SL_FLOAT64, 1, { SL_UNKNOWN } };
  sl_var *x = sl_var_input(&vec, "x");
  sl_tensor *two = sl_tensor_full(SL_FLOAT64, 0, NULL, 2.0);
  sl_var *c = sl_var_constant(two, 0);
  sl_tensor_release(two);

  /* y = exp(x) * (c + c) + exp(x): exp merges, c + c folds to 4 */
  sl_var *e1 = apply("exp", 1, &x), *e2 = apply("exp", 1, &x);
  sl_var *cc = apply("add", 2, (sl_var *[]){ c, c });
  sl_var *m = apply("mul", 2, (sl_var *[]){ e1, cc });
  sl_var *y = apply("add", 2, (sl_var *[]){ m, e2 });

  sl_var *vars[1] = { y };
  sl_var_retain(y);
  sl_opt_log log;
  CHECK(sl_optimize(1, &x, 1, vars, NULL, &log) == 0, "optimizes");
  CHECK(log_count(&log, "merge") == 1 && log_count(&log, "constant_folding") == 1,
        "merges the two exps and folds c + c");
  sl_node *top = vars[0]->owner;
  CHECK(top && top->inputs[1] == top->inputs[0]->owner->inputs[0], "the optimized graph reads one exp");
  CHECK(top->inputs[0]->owner->inputs[1]->kind == SL_VAR_CONSTANT &&
        sl_tensor_get(top->inputs[0]->owner->inputs[1]->value, NULL) == 4.0, "c + c became 4");
  CHECK(y->owner->inputs[1] == e2, "the user's graph is unchanged");
  sl_opt_log_free(&log);
  sl_var_release(vars[0]);

  /* a rewrite that replaces a var by one of another type fails, naming itself */
  sl_fgraph *g = sl_fgraph_new(1, &x, 1, &y);
  CHECK(g != NULL && g->nnodes == 5, "an fgraph copies the five nodes");
  sl_var *i = sl_rw_cast(g, g->outputs[0], SL_INT64);
  CHECK(sl_rw_replace(g, g->outputs[0], i) == -1 && strstr(sl_errmsg(), "float64 (?,) value by a int64"),
        "replacing by another dtype is refused");
  sl_var *z = sl_rw_apply(g, &sl_op_neg, NULL, 1, g->outputs[0]->owner->inputs[1]);
  CHECK(sl_rw_replace(g, g->outputs[0], z) == 0 && g->nnodes == 2,
        "replacing the output drops the nodes only it read");
  sl_fgraph_free(g);

  /* a function optimized with fast_compile computes the same values */
  sl_opt_config cfg;
  sl_opt_config_default(&cfg);
  cfg.level = SL_OPT_FAST_COMPILE;
  sl_function *f = sl_function_new_opt(1, &x, 1, &y, 0, NULL, NULL, &cfg);
  CHECK(f && f->nnodes == 3, "the compiled function has three nodes");
  int64_t three = 3;
  double data[3] = { 0, 1, 2 };
  sl_tensor *arg = sl_tensor_wrap(data, SL_FLOAT64, 1, &three, NULL, NULL, NULL), *out = NULL;
  CHECK(sl_function_run(f, &arg, &out) == 0 && sl_tensor_get(out, (int64_t[]){ 2 }) == 5 * exp(2.0),
        "computes exp(x) * 4 + exp(x)");
  sl_tensor_release(out);
  sl_tensor_release(arg);
  sl_function_free(f);

  sl_var_release(y);
  sl_var_release(m);
  sl_var_release(cc);
  sl_var_release(e2);
  sl_var_release(e1);
  sl_var_release(c);
  /* sub-functions in params: nodes whose bodies compute the same merge, others do not */
  {
    sl_var *a = sl_var_input(&vec, "a"), *b = sl_var_input(&vec, "b");
    sl_var *sa = apply("exp", 1, &a), *sb = apply("exp", 1, &b), *sc = apply("log", 1, &a);
    sl_subfn *fa = sl_subfn_new(1, &a, 1, &sa), *fb = sl_subfn_new(1, &b, 1, &sb),
             *fc = sl_subfn_new(1, &a, 1, &sc);
    sl_var_release(sa); sl_var_release(sb); sl_var_release(sc);   /* the sub-functions hold them */
    sl_params pa = { 0 }, pb = { 0 }, pc = { 0 };
    pa.sub = fa; pb.sub = fb; pc.sub = fc;
    CHECK(sl_params_equal(&pa, &pb) && sl_params_hash(&pa) == sl_params_hash(&pb),
          "sub-functions that compute the same are equal parameters, with one hash");
    CHECK(!sl_params_equal(&pa, &pc), "exp and log bodies are different parameters");
    sl_node *n1 = sl_node_apply(sl_op_find("neg"), &pa, 1, &x);
    sl_node *n2 = sl_node_apply(sl_op_find("neg"), &pb, 1, &x);
    sl_node *n3 = sl_node_apply(sl_op_find("neg"), &pc, 1, &x);
    sl_subfn_release(fa); sl_subfn_release(fb); sl_subfn_release(fc);   /* now held by the nodes */
    CHECK(n1 && n1->params.sub == fa && fa->refcount == 1, "a node holds its sub-function");
    sl_var *s12 = apply("add", 2, (sl_var *[]){ &n1->outputs[0], &n2->outputs[0] });
    sl_var *out = apply("add", 2, (sl_var *[]){ s12, &n3->outputs[0] });
    sl_node_release(n1); sl_node_release(n2); sl_node_release(n3); sl_var_release(s12);
    sl_var *ov[1] = { out };
    sl_var_retain(out);
    sl_opt_log l2;
    sl_opt_config cfg;
    sl_opt_config_default(&cfg);
    cfg.level = SL_OPT_FAST_COMPILE;
    CHECK(sl_optimize(1, &x, 1, ov, &cfg, &l2) == 0, "optimizes nodes with sub-functions");
    CHECK(log_count(&l2, "merge") == 1, "merges the two nodes with equal bodies, not the third");
    sl_opt_log_free(&l2);
    sl_var_release(ov[0]);
    sl_var_release(out);
    sl_var_release(a); sl_var_release(b);
  }

  sl_var_release(x);
  CHECK(sl_mem_bytes() == base, "frees all tensor memory");
  return tap_done();
}
