/*
** cuda.c — the cuda backend. Its kernels are generated (cuda_codegen.c) and
** compiled by NVRTC (nvrtc.c); device memory, transfers and launches are
** not built yet, so asking for it fails with a message that says which
** part is missing: the driver on a machine without one, else the launch path.
*/
#include <stdio.h>

#include "backend.h"
#include "cuda_lib.h"
#include "internal.h"

static int available(void) { return sl_cuda_device_count() > 0; }

static int prepare(sl_function *f, sl_plan *plan, void **state)
{
  (void)f; (void)plan;
  *state = NULL;
  if (!sl_cuda_driver_open()) return -1;   /* its message names the missing library */
  if (sl_cuda_device_count() == 0) return sl_fail("cuda: the NVIDIA driver sees no device");
  return sl_fail("cuda: running on the device (memory, transfers, launches) is not built yet: "
                 "its kernels compile (sl.cuda.source, sl.cuda.ptx) and run under host emulation "
                 "(mode 'cuda_host')");
}

static int run(void *state, sl_run *r, sl_step *step)
{
  (void)state;
  return sl_run_step_nodes(r, step);
}

static void describe(const void *state, const sl_function *f, FILE *o)
{
  (void)state; (void)f;
  fprintf(o, "cuda backend: not prepared\n");
}

static void free_state(void *state) { (void)state; }

const sl_backend sl_backend_cuda = {
  .name = "cuda",
  .device = "cuda",
  .fuses = 1,
  .available = available,
  .prepare = prepare,
  .run = run,
  .describe = describe,
  .free = free_state,
};
