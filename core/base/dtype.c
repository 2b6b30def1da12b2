/*
** dtype.c — the dtype table: names, sizes, kinds and type promotion.
*/
#include <string.h>

#include "internal.h"

static const struct {
  const char *name, *descr;
  size_t size;
  char kind;
} dtypes[SL_NDTYPES] = {
#define DTYPE_ROW(E, name, ctype, descr, kind) { name, descr, sizeof(ctype), kind },
  SL_DTYPES(DTYPE_ROW)
#undef DTYPE_ROW
};

static int valid(sl_dtype dt) { return (unsigned)dt < SL_NDTYPES; }

const char *sl_dtype_name(sl_dtype dt) { return valid(dt) ? dtypes[dt].name : "?"; }
size_t sl_dtype_size(sl_dtype dt) { return valid(dt) ? dtypes[dt].size : 0; }
char sl_dtype_kind(sl_dtype dt) { return valid(dt) ? dtypes[dt].kind : '?'; }
const char *sl_dtype_descr(sl_dtype dt) { return valid(dt) ? dtypes[dt].descr : "?"; }

int sl_dtype_from_name(const char *name, sl_dtype *out)
{
  for (int i = 0; i < SL_NDTYPES; i++)
    if (strcmp(name, dtypes[i].name) == 0) { *out = (sl_dtype)i; return 0; }
  char list[256] = "";
  for (int i = 0; i < SL_NDTYPES; i++) {
    strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
    strncat(list, dtypes[i].name, sizeof list - strlen(list) - 1);
  }
  return sl_fail("unknown dtype '%s' (expected one of %s)", name, list);
}

/* NumPy's promotion on this set: the enum is ordered so that the larger of two
** dtypes of one kind holds both; uint8 with int8 needs int16, and with a
** wider signed int the order already gives it; an integer with a float gives
** float64 when the integer is wider than float32's 24-bit mantissa (as NumPy
** does), and complex64 with anything wider than float32 gives complex128. */
sl_dtype sl_dtype_promote(sl_dtype a, sl_dtype b)
{
  if (a == b) return a;
  if (a > b) { sl_dtype t = a; a = b; b = t; }
  if (a == SL_UINT8 && b == SL_INT8) return SL_INT16;
  /* float16 and bfloat16 hold 8-bit integers exactly, not int16; neither holds the other */
  if (b == SL_FLOAT16 || b == SL_BFLOAT16) {
    if (a == SL_INT32 || a == SL_INT64) return SL_FLOAT64;
    if (a == SL_INT16 || a == SL_FLOAT16) return SL_FLOAT32;
  }
  if (b == SL_FLOAT32 && (a == SL_INT32 || a == SL_INT64)) return SL_FLOAT64;
  if (b == SL_COMPLEX64 && (a == SL_INT32 || a == SL_INT64 || a == SL_FLOAT64)) return SL_COMPLEX128;
  return b;
}

/* NumPy's "safe" casting: to holds every value of from exactly when the
** promotion of the two is to (int64 -> float64 counts as safe, as in NumPy). */
int sl_dtype_can_cast(sl_dtype from, sl_dtype to)
{
  return valid(from) && valid(to) && sl_dtype_promote(from, to) == to;
}
