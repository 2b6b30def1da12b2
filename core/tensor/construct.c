/*
** construct.c — tensors made from a rule: full, arange, linspace, eye.
*/
#include <math.h>

#include "internal.h"

sl_tensor *sl_tensor_full(sl_dtype dt, int ndim, const int64_t *shape, double v)
{
  sl_tensor *t = sl_tensor_empty(dt, ndim, shape);
  if (t && sl_tensor_fill(t, v)) { sl_tensor_release(t); return NULL; }
  return t;
}

/* Fill a fresh 1-d tensor with first + i * step, computed in double. */
static sl_tensor *ramp(int64_t n, double first, double step, sl_dtype dt)
{
  sl_tensor *t = sl_tensor_empty(dt, 1, &n);
  if (!t) return NULL;
  sl_castfn store = sl_cast_fn(dt, SL_FLOAT64);
  size_t sz = sl_dtype_size(dt);
  char *p = sl_tensor_ptr(t);
  for (int64_t i = 0; i < n; i++) {
    double v = first + (double)i * step;
    store(p + i * (int64_t)sz, 1, &v, 1, 1);
  }
  return t;
}

sl_tensor *sl_tensor_arange(double start, double stop, double step, sl_dtype dt)
{
  if (step == 0 || !isfinite(start) || !isfinite(stop) || !isfinite(step)) {
    sl_fail("arange: start, stop and step must be finite and step non-zero");
    return NULL;
  }
  double len = ceil((stop - start) / step);
  if (len > 1e15) {   /* beyond 2^53 the steps of a double no longer count exactly */
    sl_fail("arange: %.0f elements is too many (at most 10^15)", len);
    return NULL;
  }
  return ramp(len > 0 ? (int64_t)len : 0, start, step, dt);
}

sl_tensor *sl_tensor_linspace(double start, double stop, int64_t n, sl_dtype dt)
{
  if (n < 0) { sl_fail("linspace: the count %lld is negative", (long long)n); return NULL; }
  sl_tensor *t = ramp(n, start, n > 1 ? (stop - start) / (double)(n - 1) : 0, dt);
  if (t && n > 1) sl_tensor_set(t, (int64_t[]){ n - 1 }, stop);  /* exact endpoint */
  return t;
}

sl_tensor *sl_tensor_eye(int64_t n, int64_t m, sl_dtype dt)
{
  int64_t shape[2] = { n, m };
  sl_tensor *t = sl_tensor_zeros(dt, 2, shape);
  if (!t) return NULL;
  for (int64_t i = 0; i < n && i < m; i++) sl_tensor_set(t, (int64_t[]){ i, i }, 1);
  return t;
}
