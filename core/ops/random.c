/*
** random.c — random draws as graph nodes: uniform [0, 1) and standard
** normal values from an explicit Philox state.
**
** A draw reads its state (an int64 vector: key, block offset) as an input
** and returns the sample and the advanced state, so the op is a pure
** function: a stream keeps the state in a shared variable that each call
** updates (lua/symlua/random.lua). The values are those sl.rand / sl.randn
** give for the same key and offset (core/tensor/philox.c).
**
** Params: v[0..n) the sample's sizes, -1 for one read from the next scalar
** input (after the state); dtype the sample's dtype; x 0 uniform, 1 normal.
*/
#include "rows.h"

static int check_state(const sl_var *s)
{
  if (s->type.dtype != SL_INT64 || s->type.ndim != 1 ||
      (s->type.shape[0] != SL_UNKNOWN && s->type.shape[0] != 2))
    return sl_fail("random: the state must be an int64 vector of 2 (key, offset)");
  return 0;
}

static int random_infer(sl_node *n, sl_type *out)
{
  const sl_params *p = &n->params;
  if (n->nin < 1 || check_state(n->inputs[0])) return n->nin < 1 ? sl_fail("random: no state") : -1;
  if (sl_dtype_kind(p->dtype) != 'f')
    return sl_fail("random: dtype must be float32 or float64, not %s", sl_dtype_name(p->dtype));
  if (p->n > SL_MAXDIM) return sl_fail("random: at most %d axes", SL_MAXDIM);
  out[0].dtype = p->dtype;
  out[0].ndim = p->n;
  int in = 1;
  for (int i = 0; i < p->n; i++) {
    if (p->v[i] >= 0) { out[0].shape[i] = p->v[i]; continue; }
    if (p->v[i] != -1) return sl_fail("random: invalid size %lld", (long long)p->v[i]);
    if (in >= n->nin) return sl_fail("random: fewer size inputs than the shape uses");
    const sl_var *s = n->inputs[in++];
    if (s->type.ndim != 0 || sl_dtype_kind(s->type.dtype) == 'f' || s->type.dtype == SL_BOOL)
      return sl_fail("random: size %d must be an integer scalar", i + 1);
    out[0].shape[i] = SL_UNKNOWN;
  }
  if (in != n->nin) return sl_fail("random: %d size inputs given but the shape uses %d", n->nin - 1, in - 1);
  out[1].dtype = SL_INT64;
  out[1].ndim = 1;
  out[1].shape[0] = 2;
  return 0;
}

static int64_t scalar_int(const sl_tensor *t)
{
  int64_t v;
  sl_cast_fn(SL_INT64, t->dtype)(&v, 1, sl_tensor_ptr(t), 1, 1);
  return v;
}

static int random_perform(const sl_node *n, sl_tensor **in, sl_tensor **out)
{
  int64_t shape[SL_MAXDIM], two = 2, state[2];
  if (sl_tensor_numel(in[0]) != 2) return sl_fail("random: the state must hold 2 values");
  sl_cast_fn(SL_INT64, SL_INT64)(state, 1, sl_tensor_ptr(in[0]), in[0]->strides[0], 2);
  for (int i = 0, k = 1; i < n->params.n; i++) {
    shape[i] = n->params.v[i] >= 0 ? n->params.v[i] : scalar_int(in[k++]);
    if (shape[i] < 0) return sl_fail("random: negative size %lld for axis %d", (long long)shape[i], i + 1);
  }
  out[0] = sl_tensor_empty(n->params.dtype, n->params.n, shape);
  out[1] = sl_tensor_empty(SL_INT64, 1, &two);
  if (!out[0] || !out[1]) return -1;
  uint64_t used = sl_random_fill(out[0], n->params.x != 0, (uint64_t)state[0], (uint64_t)state[1]);
  int64_t *next = sl_tensor_ptr(out[1]);
  next[0] = state[0];
  next[1] = state[1] + (int64_t)used;
  return 0;
}

const sl_op sl_op_random = { .name = "random", .nin = -1, .nout = 2, .infer = random_infer, .perform = random_perform };
