/*
** tier.h — which compiled code a C-backend function runs: libtcc's for the
** first calls, the optimizing compiler's once it is ready (see tier.c).
*/
#ifndef SL_TIER_H
#define SL_TIER_H

#include <stddef.h>

struct sl_function;
struct sl_program;

/* The code a function's kernels are bound to. */
typedef enum { SL_TIER_NONE, SL_TIER_TCC, SL_TIER_CC } sl_tier;

/* Called before each call, never during one: at the first call, builds the
** code (a cache hit loads the optimized module; a miss compiles with libtcc
** and queues the optimizing compile, or compiles synchronously, as
** sl.config.compile says); at later calls, switches to the optimized module
** when its background compile has finished. 1: the kernels are bound; 2:
** bound, and no switch is coming (the executor stops asking); 0:
** run on the reference path; -1 + sl_fail: the compile failed (first call). */
int sl_tier_ready(struct sl_program *p);

sl_tier sl_tier_of(const struct sl_program *p);
const char *sl_tier_name(sl_tier t);   /* "none", "tcc", "cc" */

/* One line that says which code runs and how it got there, e.g. "tcc code,
** the optimizing compile running (sl.config.compile = 'tiered')". */
void sl_tier_text(const struct sl_program *p, char *out, size_t n);

void sl_tier_free(struct sl_program *p);

#endif
