/*
** backend.c — the registry of backends, and moving a function onto one.
** Adding a backend is its folder under core/backend/ and one line here.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

const sl_backend *const sl_backends[] = {
  &sl_backend_reference,
  &sl_backend_c,
  &sl_backend_cuda,
  &sl_backend_cuda_host,
  NULL
};

const sl_backend *sl_backend_find(const char *name)
{
  for (int i = 0; sl_backends[i]; i++)
    if (strcmp(sl_backends[i]->name, name) == 0) return sl_backends[i];
  return NULL;
}

int sl_function_use_backend(sl_function *f, const sl_backend *b)
{
  if (f->backend == b && (f->plan || !b->fuses)) return 0;
  sl_plan *plan = sl_lower(f, b->fuses);
  void *state = NULL;
  if (!plan) return -1;
  if (b->prepare && b->prepare(f, plan, &state)) { sl_plan_free(plan); return -1; }
  if (f->backend && f->backend_state) f->backend->free(f->backend_state);
  sl_plan_free(f->plan);
  f->plan = plan;
  f->backend = state || !b->prepare ? b : &sl_backend_reference;
  f->requested = b;
  f->backend_state = state;
  f->settled = f->ready_last = 0;   /* the new code is built at its first call */
  return 0;
}

char *sl_function_plan_text(const sl_function *f)
{
  char *text = NULL;
  size_t len = 0;
  FILE *o = open_memstream(&text, &len);
  if (!o) { sl_fail("out of memory"); return NULL; }
  f->backend->describe(f->backend_state, f, o);
  if (fclose(o) != 0) { free(text); sl_fail("out of memory"); return NULL; }
  return text;
}
