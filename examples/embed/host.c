/*
** examples/embed/host.c — a C program that owns its arrays and uses symlua as
** its scripting layer: it hands demonstrations to controller.lua (tensors
** over its own arrays), lets the script fit a linear policy, takes the
** compiled policy out, and runs two plants, one per thread, each calling the
** policy on its own state buffer at every step. Every action is checked
** against the fitted weights, computed here in plain C.
**
**   cc host.c $(pkg-config --cflags --libs symlua) -o host
**   ./host "$(pkg-config --variable=luadir symlua)" controller.lua
*/
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <symlua_host.h>

#define NS 4        /* state size */
#define NA 2        /* action size */
#define NDEMO 64
#define STEPS 500   /* per plant */

static const double A_true[NS][NA] = { { 0.5, -1 }, { 2, 0.25 }, { -0.75, 1.5 }, { 1, 0 } };
static const double c_true[NA] = { 0.1, -0.2 };

static sl_function *policy;
static double W[NS][NA], b[NA];   /* the fitted weights, read back from the script */

typedef struct { int id; double worst; int failed; } plant;

/* One plant: its state evolves under the policy's actions. */
static void *run_plant(void *arg)
{
  plant *p = arg;
  double state[NS], act[NA];
  for (int i = 0; i < NS; i++) state[i] = 0.1 * (i + 1) * (p->id ? -1 : 1);
  sl_tensor *s = sl_tensor_wrap(state, SL_FLOAT64, 2, (int64_t[]){ 1, NS }, NULL, NULL, NULL);
  sl_tensor *a = sl_tensor_wrap(act, SL_FLOAT64, 2, (int64_t[]){ 1, NA }, NULL, NULL, NULL);
  for (int step = 0; step < STEPS && !p->failed; step++) {
    sl_tensor *out[1] = { a };
    if (sl_function_call(policy, &s, out) != SL_OK) {
      fprintf(stderr, "plant %d: %s\n", p->id, sl_errmsg());
      p->failed = 1;
      break;
    }
    for (int j = 0; j < NA; j++) {
      double want = b[j];
      for (int i = 0; i < NS; i++) want += state[i] * W[i][j];
      if (fabs(act[j] - want) > p->worst) p->worst = fabs(act[j] - want);
    }
    /* the plant: a damped rotation, pushed by the actions */
    double next[NS];
    for (int i = 0; i < NS; i++) next[i] = 0.9 * state[(i + 1) % NS] + 0.05 * act[i % NA];
    for (int i = 0; i < NS; i++) state[i] = next[i];
  }
  sl_tensor_release(s);
  sl_tensor_release(a);
  return NULL;
}

static double uniform(unsigned *seed)
{
  *seed = *seed * 1103515245u + 12345u;
  return (double)(*seed >> 8) / (double)(1u << 24) * 2 - 1;
}

int main(int argc, char **argv)
{
  const char *lua_dir = argc > 1 && argv[1][0] ? argv[1] : NULL;
  const char *script = argc > 2 ? argv[2] : "controller.lua";
  sl_state *S = sl_state_open(lua_dir);
  if (!S) { fprintf(stderr, "host: %s\n", sl_errmsg()); return 1; }

  /* demonstrations: states and the actions of a known linear controller */
  static double states[NDEMO][NS], actions[NDEMO][NA];
  unsigned seed = 7;
  for (int k = 0; k < NDEMO; k++) {
    for (int i = 0; i < NS; i++) states[k][i] = uniform(&seed);
    for (int j = 0; j < NA; j++) {
      actions[k][j] = c_true[j];
      for (int i = 0; i < NS; i++) actions[k][j] += states[k][i] * A_true[i][j];
    }
  }
  sl_tensor *ds = sl_tensor_wrap(states, SL_FLOAT64, 2, (int64_t[]){ NDEMO, NS }, NULL, NULL, NULL);
  sl_tensor *da = sl_tensor_wrap(actions, SL_FLOAT64, 2, (int64_t[]){ NDEMO, NA }, NULL, NULL, NULL);
  sl_tensor *w = NULL, *bias = NULL, *loss = NULL;
  int rc = sl_state_set_tensor(S, "demo_states", ds) || sl_state_set_tensor(S, "demo_actions", da) ||
           sl_state_dofile(S, script) || sl_state_get_function(S, "policy", &policy) ||
           sl_state_get_tensor(S, "weights", &w) || sl_state_get_tensor(S, "bias", &bias) ||
           sl_state_get_tensor(S, "fit_loss", &loss);
  sl_tensor_release(ds);
  sl_tensor_release(da);
  if (rc) { fprintf(stderr, "host: %s\n", sl_state_errmsg(S)); sl_state_close(S); return 1; }
  double werr = 0;
  for (int i = 0; i < NS; i++)
    for (int j = 0; j < NA; j++) {
      W[i][j] = sl_tensor_get(w, (int64_t[]){ i, j });
      werr = fmax(werr, fabs(W[i][j] - A_true[i][j]));
    }
  for (int j = 0; j < NA; j++) { b[j] = sl_tensor_get(bias, (int64_t[]){ j }); werr = fmax(werr, fabs(b[j] - c_true[j])); }
  printf("fitted: loss %.3g, largest weight error %.3g\n", sl_tensor_get(loss, NULL), werr);
  sl_tensor_release(w);
  sl_tensor_release(bias);
  sl_tensor_release(loss);
  sl_state_close(S);   /* the policy lives on: the host holds a reference */

  pthread_t th[2];
  plant p[2] = { { 0, 0, 0 }, { 1, 0, 0 } };
  for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, run_plant, &p[i]);
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  sl_function_release(policy);
  int ok = !p[0].failed && !p[1].failed && p[0].worst < 1e-12 && p[1].worst < 1e-12 && werr < 1e-3;
  printf("plants: %d steps each on 2 threads, largest action error %.3g and %.3g: %s\n",
         STEPS, p[0].worst, p[1].worst, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
