/*
** host_function.c — compiled functions as C objects: references, and calls on
** the host's tensors with every argument checked first, so bad host input
** is a status and a message, never a crash.
**
** A function whose last reference goes is cleared at once, but its header
** is kept among the most recently released ones (a small quarantine, freed
** at exit), so that a call through a stale pointer says so instead of
** reading freed memory; beyond that window such a call is undefined, as for
** a released tensor.
*/
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "function.h"
#include "symlua_host.h"

const char *sl_status_text(sl_status s)
{
  static const char *const text[] = {
#define SL_STATUS_TEXT(e, t) t,
    SL_STATUSES(SL_STATUS_TEXT)
#undef SL_STATUS_TEXT
  };
  return (unsigned)s < SL_NSTATUS ? text[s] : "unknown status";
}

/* -- references ---------------------------------------------------------------- */

#define QUARANTINE 16
static pthread_mutex_t quarantine_lock = PTHREAD_MUTEX_INITIALIZER;
static sl_function *quarantine[QUARANTINE];
static int quarantine_next;
static pthread_once_t quarantine_once = PTHREAD_ONCE_INIT;

static void quarantine_free(void)
{
  pthread_mutex_lock(&quarantine_lock);
  for (int i = 0; i < QUARANTINE; i++) { free(quarantine[i]); quarantine[i] = NULL; }
  pthread_mutex_unlock(&quarantine_lock);
}

static void quarantine_register(void) { atexit(quarantine_free); }

void sl_function_retain(sl_function *f) { if (f) sl_ref_inc(&f->refcount); }

void sl_function_release(sl_function *f)
{
  if (!f || f->magic != SL_FUNCTION_LIVE || sl_ref_dec(&f->refcount) > 0) return;
  sl_function_clear(f);
  pthread_once(&quarantine_once, quarantine_register);
  pthread_mutex_lock(&quarantine_lock);
  sl_function *old = quarantine[quarantine_next];
  quarantine[quarantine_next] = f;
  quarantine_next = (quarantine_next + 1) % QUARANTINE;
  pthread_mutex_unlock(&quarantine_lock);
  free(old);
}

int sl_function_nin(const sl_function *f) { return f && f->magic == SL_FUNCTION_LIVE ? f->nin : -1; }
int sl_function_nout(const sl_function *f) { return f && f->magic == SL_FUNCTION_LIVE ? f->nout : -1; }

/* -- calls ------------------------------------------------------------------------ */

static sl_status fail(sl_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static sl_status fail(sl_status s, const char *fmt, ...)
{
  char msg[SL_ERRMSG_CAP];
  va_list ap;
  va_start(ap, fmt);
  sl_vformat(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sl_fail("%s", msg);
  return s;
}

/* A host tensor given as argument k of role what ("input", "output"): there, on the host. */
static sl_status check_tensor(const sl_tensor *t, const char *what, int k, const sl_var *v)
{
  if (t && (unsigned)t->dtype < SL_NDTYPES && t->ndim >= 0 && t->ndim <= SL_MAXDIM && t->storage &&
      (t->storage->data || sl_tensor_numel(t) == 0) && t->storage->device == SL_DEVICE_HOST) return SL_OK;
  char label[64];   /* only now: labels are formatted */
  sl_var_label(v, label, sizeof label);
  if (!t) return fail(SL_ARG, "sl_function_call: %s %d ('%s') is NULL", what, k + 1, label);
  if ((unsigned)t->dtype >= SL_NDTYPES || t->ndim < 0 || t->ndim > SL_MAXDIM || !t->storage)
    return fail(SL_ARG, "sl_function_call: %s %d ('%s') is not a tensor (a released one?)", what, k + 1, label);
  if (!t->storage->data && sl_tensor_numel(t) > 0)
    return fail(SL_ARG, "sl_function_call: %s %d ('%s') has a NULL buffer", what, k + 1, label);
  if (t->storage->device != SL_DEVICE_HOST)
    return fail(SL_ARG, "sl_function_call: %s %d ('%s') is not in host memory", what, k + 1, label);
  return SL_OK;
}

/* An output buffer against what its static type already says. */
static sl_status check_output(const sl_function *f, int r, const sl_tensor *t)
{
  const sl_type *ty = &f->outputs[r]->type;
  int fits = t->dtype == ty->dtype && t->ndim == ty->ndim;
  for (int d = 0; fits && d < ty->ndim; d++) fits = ty->shape[d] == SL_UNKNOWN || ty->shape[d] == t->shape[d];
  if (fits) return SL_OK;
  char want[128], got[128], label[64];
  sl_type gt;
  sl_type_of_tensor(t, &gt);
  sl_type_text(ty, want, sizeof want);
  sl_type_text(&gt, got, sizeof got);
  sl_var_label(f->outputs[r], label, sizeof label);
  int64_t need = 1;
  for (int d = 0; d < ty->ndim; d++) need *= ty->shape[d] == SL_UNKNOWN ? 1 : ty->shape[d];
  return fail(SL_ARG, "sl_function_call: output %d ('%s') is %s but the result is %s (wrong %s%s)",
              r + 1, label, got, want, t->dtype != ty->dtype ? "dtype" : t->ndim != ty->ndim ? "rank" : "shape",
              t->dtype == ty->dtype && sl_tensor_numel(t) < need ? ": too small" : "");
}

static sl_status check_input(const sl_function *f, int i, const sl_tensor *t)
{
  const sl_var *v = f->inputs[i];
  if (t->dtype != v->type.dtype) {
    char label[64];
    return fail(SL_ARG, "sl_function_call: input %d ('%s') is %s but the function takes %s "
                "(sl_tensor_cast converts it, with a copy)", i + 1, sl_var_label(v, label, sizeof label),
                sl_dtype_name(t->dtype), sl_dtype_name(v->type.dtype));
  }
  if (sl_function_check_input(f, i, t)) return fail(SL_ARG, "sl_function_call: %s", sl_errmsg());
  return SL_OK;
}

sl_status sl_function_call(sl_function *f, sl_tensor *const *inputs, sl_tensor **outputs)
{
  if (!f) return fail(SL_ARG, "sl_function_call: the function is NULL");
  if (f->magic != SL_FUNCTION_LIVE)
    return fail(SL_RELEASED, "sl_function_call: the function was released (its last reference went "
                "with sl_function_release)");
  if (f->nin > 0 && !inputs)
    return fail(SL_ARG, "sl_function_call: inputs is NULL, but the function takes %d input%s", f->nin,
                f->nin == 1 ? "" : "s");
  if (f->nout > 0 && !outputs)
    return fail(SL_ARG, "sl_function_call: outputs is NULL, but the function has %d output%s", f->nout,
                f->nout == 1 ? "" : "s");
  sl_status s;
  for (int i = 0; i < f->nin; i++)
    if ((s = check_tensor(inputs[i], "input", i, f->inputs[i])) || (s = check_input(f, i, inputs[i]))) return s;
  for (int r = 0; r < f->nout; r++)
    if (outputs[r] && ((s = check_tensor(outputs[r], "output", r, f->outputs[r])) ||
                       (s = check_output(f, r, outputs[r])))) return s;
  sl_tensor *small[16], **res = f->nout <= 16 ? small : malloc((size_t)f->nout * sizeof *res);
  if (!res) return fail(SL_NOMEM, "out of memory");
  int rc = sl_function_run_into(f, (sl_tensor **)inputs, res, outputs);
  if (!rc) for (int r = 0; r < f->nout; r++) if (!outputs[r]) outputs[r] = res[r];
  if (res != small) free(res);
  if (!rc) return SL_OK;
  /* the results' buffers are the one check left to the run (check_into) */
  /* the outputs' shapes: checked by the run once the results are known */
  if (!strncmp(sl_errmsg(), "output ", 7))
    return fail(SL_ARG, "sl_function_call: %s", sl_errmsg());
  return SL_RUN;
}
