/*
** ops.c — the op registry: every op's row (rows.h), found by name.
*/
#include <string.h>

#include "rows.h"

#define SL_OP_ADDRESS(nm, ...) &sl_op_##nm,
static const sl_op *const all[] = { SL_ALL_OPS(SL_OP_ADDRESS) };

int sl_op_count(void) { return (int)(sizeof all / sizeof *all); }

const sl_op *sl_op_at(int i) { return i >= 0 && i < sl_op_count() ? all[i] : NULL; }

const sl_op *sl_op_find(const char *name)
{
  for (int i = 0; i < sl_op_count(); i++)
    if (strcmp(all[i]->name, name) == 0) return all[i];
  sl_fail("unknown op '%s'", name);
  return NULL;
}
