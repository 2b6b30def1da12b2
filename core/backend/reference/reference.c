/*
** reference.c — the reference backend: every node through its op's
** reference kernel (the row of its op table), one step per node. It needs no
** compiler, is the oracle the other backends are tested against, and runs
** any backend's plan when that backend cannot (code still compiling, the NaN
** guard on).
*/
#include "backend.h"

static int available(void) { return 1; }

static int run(void *state, sl_run *r, sl_step *step)
{
  (void)state;
  return sl_run_step_nodes(r, step);
}

static void describe(const void *state, const sl_function *f, FILE *o)
{
  (void)state;
  fprintf(o, "reference backend: %d nodes\n", f->nnodes);
}

static void free_state(void *state) { (void)state; }

const sl_backend sl_backend_reference = {
  .name = "reference",
  .fuses = 0,
  .pools = 0,
  .available = available,
  .prepare = NULL,
  .ready = NULL,
  .run = run,
  .describe = describe,
  .free = free_state,
};
