/*
** test_tensor.c — the public tensor API in C: creation, views, copies,
** wrapped buffers, errors, the memory count, and Philox known answers.
**
** Every expected value is worked out by hand in the comments next to it.
** Prints "ok N - name" / "not ok N - name" lines; exits 1 on any failure.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symlua.h"
#include "internal.h"   /* sl_philox4x32_10 */
#include "tap.h"

void sl_philox4x32_10(const uint32_t in[4], const uint32_t key[2], uint32_t out[4]);


/* Shorthand for shapes: S(2, 3) is an int64_t array literal. */
#define S(...) ((int64_t[]){ __VA_ARGS__ })

static int shape_is(const sl_tensor *t, int ndim, const int64_t *shape)
{
  if (t == NULL || t->ndim != ndim) return 0;
  for (int i = 0; i < ndim; i++)
    if (t->shape[i] != shape[i]) return 0;
  return 1;
}

static int strides_are(const sl_tensor *t, const int64_t *strides)
{
  for (int i = 0; i < t->ndim; i++)
    if (t->strides[i] != strides[i]) return 0;
  return 1;
}

/* The elements of t in C order equal want[0..n). */
static int values_are(const sl_tensor *t, int64_t n, const double *want)
{
  if (t == NULL || sl_tensor_numel(t) != n) return 0;
  int64_t idx[SL_MAXDIM] = { 0 };
  for (int64_t k = 0; k < n; k++) {
    if (sl_tensor_get(t, idx) != want[k]) return 0;
    for (int d = t->ndim - 1; d >= 0; d--) {   /* next index, last axis fastest */
      if (++idx[d] < t->shape[d]) break;
      idx[d] = 0;
    }
  }
  return 1;
}
#define VALUES(t, ...) \
  values_are((t), (int64_t)(sizeof((double[]){ __VA_ARGS__ }) / sizeof(double)), \
             (double[]){ __VA_ARGS__ })

/* A failure returns NULL (or -1) and leaves a message. */
static int failed_with_message(const void *result)
{
  return result == NULL && sl_errmsg() != NULL && sl_errmsg()[0] != '\0';
}

static void test_dtypes(void)
{
  sl_dtype dt;
  CHECK(strcmp(sl_dtype_name(SL_FLOAT32), "float32") == 0 &&
        strcmp(sl_dtype_name(SL_BOOL), "bool") == 0,
        "dtype names");
  CHECK(sl_dtype_size(SL_BOOL) == 1 && sl_dtype_size(SL_INT32) == 4 &&
        sl_dtype_size(SL_INT64) == 8 && sl_dtype_size(SL_FLOAT64) == 8,
        "dtype sizes");
  CHECK(sl_dtype_from_name("int64", &dt) == 0 && dt == SL_INT64 &&
        sl_dtype_from_name("complex64", &dt) == 0 && dt == SL_COMPLEX64,
        "dtype from name");
  CHECK(sl_dtype_from_name("float8", &dt) == -1 &&
        sl_errmsg()[0] != '\0',
        "unknown dtype name fails");
  CHECK(sl_dtype_promote(SL_UINT8, SL_INT8) == SL_INT16, "promotion: uint8 + int8 is int16");
  CHECK(sl_dtype_promote(SL_INT16, SL_FLOAT16) == SL_FLOAT32,
        "promotion: int16 + float16 is float32");
  CHECK(sl_dtype_promote(SL_FLOAT16, SL_BFLOAT16) == SL_FLOAT32,
        "promotion: float16 + bfloat16 is float32");
  CHECK(sl_f16_to_double(sl_f16_from_double(0.1)) == 0.0999755859375 &&
        sl_f16_from_double(65520.0) == 0x7C00 && sl_bf16_from_double(1.0) == 0x3F80,
        "float16 round trip");
  CHECK(strcmp(sl_dtype_descr(SL_FLOAT64), "<f8") == 0, "npy descr");
  CHECK(sl_dtype_promote(SL_INT32, SL_FLOAT32) == SL_FLOAT64,
        "promotion: int32 + float32 is float64");
  CHECK(sl_dtype_promote(SL_UINT8, SL_INT32) == SL_INT32, "promotion: uint8 + int32 is int32");
  CHECK(sl_dtype_promote(SL_BOOL, SL_BOOL) == SL_BOOL, "promotion: bool + bool is bool");
}

static void test_creation(void)
{
  sl_tensor *z = sl_tensor_zeros(SL_FLOAT64, 2, S(2, 3));
  CHECK(shape_is(z, 2, S(2, 3)), "zeros: shape (2, 3)");
  CHECK(z && strides_are(z, S(3, 1)), "zeros: C-order strides (3, 1)");
  CHECK(z && sl_tensor_is_contiguous(z) &&
        sl_tensor_numel(z) == 6,
        "zeros: contiguous, 6 elements");
  CHECK(VALUES(z, 0, 0, 0, 0, 0, 0), "zeros: all 0");
  CHECK(z && ((uintptr_t)z->storage->data % 64) == 0, "storage is 64-byte aligned");
  sl_tensor_release(z);

  sl_tensor *f = sl_tensor_full(SL_INT32, 1, S(4), 7.9);   /* cast truncates toward 0 */
  CHECK(VALUES(f, 7, 7, 7, 7), "full int32 7.9 gives 7");
  sl_tensor_release(f);

  sl_tensor *s = sl_tensor_full(SL_FLOAT32, 0, NULL, 2.5);
  CHECK(s && s->ndim == 0 && sl_tensor_numel(s) == 1 &&
        sl_tensor_get(s, NULL) == 2.5,
        "0-d tensor holds one element");
  sl_tensor_release(s);

  sl_tensor *e = sl_tensor_empty(SL_FLOAT64, 2, S(0, 5));
  CHECK(shape_is(e, 2, S(0, 5)) && sl_tensor_numel(e) == 0, "empty (0, 5) has no elements");
  sl_tensor_release(e);

  sl_tensor *a = sl_tensor_arange(0, 5, 1, SL_INT64);   /* 0 1 2 3 4 */
  CHECK(shape_is(a, 1, S(5)) && VALUES(a, 0, 1, 2, 3, 4), "arange(0, 5)");
  sl_tensor_release(a);
  a = sl_tensor_arange(1, 2, 0.25, SL_FLOAT64);         /* half-open: 1 1.25 1.5 1.75 */
  CHECK(VALUES(a, 1, 1.25, 1.5, 1.75), "arange(1, 2, 0.25) stops before 2");
  sl_tensor_release(a);
  a = sl_tensor_arange(5, 0, -2, SL_INT32);             /* 5 3 1 */
  CHECK(VALUES(a, 5, 3, 1), "arange with a negative step");
  sl_tensor_release(a);

  sl_tensor *l = sl_tensor_linspace(0, 1, 5, SL_FLOAT64);  /* step 1/4, both ends */
  CHECK(VALUES(l, 0, 0.25, 0.5, 0.75, 1), "linspace(0, 1, 5)");
  sl_tensor_release(l);

  sl_tensor *i = sl_tensor_eye(2, 3, SL_UINT8);
  CHECK(shape_is(i, 2, S(2, 3)) && VALUES(i, 1, 0, 0, 0, 1, 0), "eye(2, 3)");
  sl_tensor_release(i);
}

/* A 2x3x4 tensor holding 0..23: element (i, j, k) is 12i + 4j + k. */
static sl_tensor *cube(void)
{
  sl_tensor *a = sl_tensor_arange(0, 24, 1, SL_FLOAT64);
  sl_tensor *c = sl_tensor_view(a, 3, S(2, 3, 4));
  sl_tensor_release(a);
  return c;
}

static void test_views(void)
{
  sl_tensor *c = cube();
  CHECK(shape_is(c, 3, S(2, 3, 4)) &&
        strides_are(c, S(12, 4, 1)),
        "view (2, 3, 4) of arange(24)");
  CHECK(c && sl_tensor_get(c, S(1, 2, 3)) == 23, "element (1, 2, 3) is 12 + 8 + 3 = 23");

  sl_tensor *v = sl_tensor_view(c, 2, S(-1, 6));   /* -1 resolves to 24 / 6 = 4 */
  CHECK(shape_is(v, 2, S(4, 6)) && v->storage == c->storage, "view with -1 infers 4");
  CHECK(v && sl_tensor_get(v, S(2, 0)) == 12, "view row 2 starts at 12");
  sl_tensor_release(v);

  sl_tensor *p = sl_tensor_permute(c, (int[]){ 2, 0, 1 });   /* (4, 2, 3), strides (1, 12, 4) */
  CHECK(shape_is(p, 3, S(4, 2, 3)) &&
        strides_are(p, S(1, 12, 4)),
        "permute (2, 0, 1): shape and strides");
  CHECK(p && sl_tensor_get(p, S(3, 1, 2)) == 23, "permute: p[3][1][2] = c[1][2][3] = 23");
  CHECK(p && !sl_tensor_is_contiguous(p), "permute is not contiguous");

  /* view needs compatible strides: the permuted tensor cannot be flattened */
  sl_tensor *bad = sl_tensor_view(p, 1, S(24));
  CHECK(failed_with_message(bad), "view of a permuted tensor fails");
  sl_tensor_release(bad);
  /* reshape copies instead, in p's C order: p[i][j][k] = c[j][k][i] = 12j + 4k + i,
  ** so the flat values run 0 4 8 12 16 20 1 5 ... */
  sl_tensor *r = sl_tensor_reshape(p, 1, S(24));
  CHECK(r && r->storage != c->storage &&
        sl_tensor_is_contiguous(r),
        "reshape of a permuted tensor copies");
  CHECK(r && sl_tensor_get(r, S(0)) == 0 && sl_tensor_get(r, S(1)) == 4 &&
        sl_tensor_get(r, S(3)) == 12 && sl_tensor_get(r, S(6)) == 1 &&
        sl_tensor_get(r, S(23)) == 23,
        "reshape keeps p's element order");
  sl_tensor_release(r);
  r = sl_tensor_reshape(c, 2, S(6, 4));
  CHECK(r && r->storage == c->storage, "reshape of a contiguous tensor is a view");
  sl_tensor_release(r);
  sl_tensor_release(p);

  sl_tensor *t = sl_tensor_transpose(c, 0, 2);   /* (4, 3, 2) */
  CHECK(shape_is(t, 3, S(4, 3, 2)) && strides_are(t, S(1, 4, 12)), "transpose(0, 2)");
  CHECK(t && sl_tensor_get(t, S(1, 2, 1)) == 21, "transpose: t[1][2][1] = c[1][2][1] = 21");
  sl_tensor_release(t);

  /* slice the last axis 1..4 step 2: k = 1, 3 */
  sl_tensor *s = sl_tensor_slice(c, 2, 1, 4, 2);
  CHECK(shape_is(s, 3, S(2, 3, 2)) &&
        strides_are(s, S(12, 4, 2)),
        "slice(dim 2, 1:4:2) has 2 elements");
  CHECK(s && sl_tensor_get(s, S(0, 0, 0)) == 1 &&
        sl_tensor_get(s, S(0, 0, 1)) == 3,
        "slice values of row (0, 0): 1 3");
  CHECK(s && sl_tensor_get(s, S(1, 2, 1)) == 23, "slice value (1, 2, 1) = 12 + 8 + 3");
  sl_tensor_release(s);
  s = sl_tensor_slice(c, 1, 2, -1, -1);   /* j = 2, 1, 0: reversed */
  CHECK(shape_is(s, 3, S(2, 3, 4)) &&
        sl_tensor_get(s, S(0, 0, 0)) == 8 && sl_tensor_get(s, S(0, 2, 0)) == 0,
        "slice with step -1 reverses");
  sl_tensor_release(s);
  s = sl_tensor_slice(c, 0, 1, 1, 1);
  CHECK(shape_is(s, 3, S(0, 3, 4)), "empty slice");
  sl_tensor_release(s);
  s = sl_tensor_slice(c, 0, 0, 3, 1);
  CHECK(failed_with_message(s), "slice past the end fails");
  s = sl_tensor_slice(c, 0, 0, 1, 0);
  CHECK(failed_with_message(s), "slice with step 0 fails");

  sl_tensor *row = sl_tensor_select(c, 1, 2);   /* (2, 4): c[:, 2, :] */
  CHECK(shape_is(row, 2, S(2, 4)), "select(dim 1, 2) drops the axis");
  CHECK(VALUES(row, 8, 9, 10, 11, 20, 21, 22, 23), "select values 8 9 10 11 20 21 22 23");
  sl_tensor_set(row, S(1, 0), -1);              /* writes through to c[1][2][0] */
  CHECK(sl_tensor_get(c, S(1, 2, 0)) == -1, "a view writes through to its base");
  sl_tensor_set(row, S(1, 0), 20);
  sl_tensor_release(row);
  row = sl_tensor_select(c, 0, 2);
  CHECK(failed_with_message(row), "select out of range fails");

  sl_tensor *col = sl_tensor_arange(1, 4, 1, SL_FLOAT64);   /* 1 2 3 */
  sl_tensor *u = sl_tensor_unsqueeze(col, 1);               /* (3, 1) */
  CHECK(shape_is(u, 2, S(3, 1)), "unsqueeze(1): (3,) -> (3, 1)");
  sl_tensor *x = sl_tensor_expand(u, 2, S(3, 4));            /* broadcast columns */
  CHECK(shape_is(x, 2, S(3, 4)) && x->strides[1] == 0, "expand (3, 1) -> (3, 4) with stride 0");
  CHECK(VALUES(x, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), "expand repeats each row value");
  sl_tensor *x3 = sl_tensor_expand(col, 3, S(2, 4, -1));    /* new leading axes, -1 keeps 3 */
  CHECK(shape_is(x3, 3, S(2, 4, 3)) &&
        strides_are(x3, S(0, 0, 1)),
        "expand adds leading axes");
  sl_tensor_release(x3);
  sl_tensor *xbad = sl_tensor_expand(col, 1, S(4));
  CHECK(failed_with_message(xbad), "expand (3,) to (4,) fails");
  sl_tensor *u0 = sl_tensor_unsqueeze(u, 0);                 /* (1, 3, 1) */
  CHECK(shape_is(u0, 3, S(1, 3, 1)), "unsqueeze(0)");
  sl_tensor *sq = sl_tensor_squeeze(u0, -1);
  CHECK(shape_is(sq, 1, S(3)) && VALUES(sq, 1, 2, 3), "squeeze(-1) drops every size-1 axis");
  sl_tensor_release(sq);
  sq = sl_tensor_squeeze(u0, 2);
  CHECK(shape_is(sq, 2, S(1, 3)), "squeeze(2)");
  sl_tensor_release(sq);
  sq = sl_tensor_squeeze(u0, 1);
  CHECK(failed_with_message(sq), "squeeze of a size-3 axis fails");
  sl_tensor *ubad = sl_tensor_unsqueeze(col, 3);
  CHECK(failed_with_message(ubad), "unsqueeze past the end fails");
  sl_tensor_release(u0);
  sl_tensor_release(x);
  sl_tensor_release(u);
  sl_tensor_release(col);

  sl_tensor *pbad = sl_tensor_permute(c, (int[]){ 0, 0, 1 });
  CHECK(failed_with_message(pbad), "permute with a repeated axis fails");
  sl_tensor *tbad = sl_tensor_transpose(c, 0, 3);
  CHECK(failed_with_message(tbad), "transpose of axis 3 of a 3-d tensor fails");
  sl_tensor *vbad = sl_tensor_view(c, 2, S(5, -1));
  CHECK(failed_with_message(vbad), "view of 24 elements as (5, -1) fails");
  vbad = sl_tensor_view(c, 2, S(-1, -1));
  CHECK(failed_with_message(vbad), "view with two -1 fails");
  sl_tensor_release(c);
}

static void test_copies(void)
{
  sl_tensor *c = cube();
  sl_tensor *t = sl_tensor_transpose(c, 0, 1);    /* (3, 2, 4), not contiguous */
  sl_tensor *k = sl_tensor_contiguous(t);
  CHECK(k && k != t && sl_tensor_is_contiguous(k) &&
        k->storage != c->storage,
        "contiguous copies a transposed tensor");
  CHECK(k && sl_tensor_get(k, S(2, 1, 3)) == 23 && sl_tensor_get(k, S(1, 0, 0)) == 4,
        "contiguous keeps the values: k[2][1][3] = c[1][2][3]");
  sl_tensor *same = sl_tensor_contiguous(c);
  CHECK(same == c && c->refcount == 2, "contiguous of a contiguous tensor is itself");
  sl_tensor_release(same);
  sl_tensor_release(k);

  sl_tensor *cl = sl_tensor_clone(t);
  CHECK(cl && cl->storage != c->storage &&
        sl_tensor_get(cl, S(2, 1, 3)) == 23,
        "clone has its own storage");
  sl_tensor_set(cl, S(0, 0, 0), 100);
  CHECK(sl_tensor_get(c, S(0, 0, 0)) == 0, "writing a clone leaves the original");
  sl_tensor_release(cl);
  sl_tensor_release(t);

  /* copy broadcasts (4,) over (3, 4) and casts float64 -> int32 (truncation) */
  sl_tensor *dst = sl_tensor_zeros(SL_INT32, 2, S(3, 4));
  sl_tensor *src = sl_tensor_arange(0.5, 4, 1, SL_FLOAT64);    /* 0.5 1.5 2.5 3.5 */
  CHECK(dst && src && sl_tensor_copy(dst, src) == 0, "copy (4,) float64 into (3, 4) int32");
  CHECK(VALUES(dst, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3), "copy broadcasts rows and truncates");
  sl_tensor *src3 = sl_tensor_arange(0, 3, 1, SL_FLOAT64);
  CHECK(sl_tensor_copy(dst, src3) == -1 && sl_errmsg()[0], "copy (3,) into (3, 4) fails");
  sl_tensor_release(src3);

  /* copy into a strided view: the second column of dst */
  sl_tensor *colv = sl_tensor_select(dst, 1, 1);               /* (3,), stride 4 */
  sl_tensor *vals = sl_tensor_arange(-3, 0, 1, SL_INT64);      /* -3 -2 -1 */
  CHECK(sl_tensor_copy(colv, vals) == 0 &&
        VALUES(dst, 0, -3, 2, 3, 0, -2, 2, 3, 0, -1, 2, 3),
        "copy into a strided view");
  sl_tensor_release(vals);
  sl_tensor_release(colv);

  /* copy between overlapping views of one buffer: shift [0 1 2 3 4] right by one */
  sl_tensor *a = sl_tensor_arange(0, 5, 1, SL_FLOAT64);
  sl_tensor *lo = sl_tensor_slice(a, 0, 0, 4, 1), *hi = sl_tensor_slice(a, 0, 1, 5, 1);
  CHECK(sl_tensor_copy(hi, lo) == 0 && VALUES(a, 0, 0, 1, 2, 3),
        "overlapping copy acts as if through a temporary");
  sl_tensor_release(lo);
  sl_tensor_release(hi);
  sl_tensor_release(a);

  CHECK(sl_tensor_fill(dst, 9) == 0 &&
        VALUES(dst, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9),
        "fill a contiguous tensor");
  sl_tensor *diag_src = sl_tensor_transpose(dst, 0, 1);        /* strided */
  sl_tensor *row1 = sl_tensor_select(diag_src, 0, 1);           /* dst[:, 1] */
  CHECK(sl_tensor_fill(row1, -4) == 0 &&
        VALUES(dst, 9, -4, 9, 9, 9, -4, 9, 9, 9, -4, 9, 9),
        "fill a strided view");
  sl_tensor_release(row1);
  sl_tensor_release(diag_src);

  sl_tensor *b = sl_tensor_cast(src, SL_BOOL);   /* nonzero -> 1 */
  sl_tensor *zero = sl_tensor_zeros(SL_FLOAT32, 1, S(1));
  sl_tensor *bz = sl_tensor_cast(zero, SL_BOOL);
  CHECK(b && b->dtype == SL_BOOL && VALUES(b, 1, 1, 1, 1) &&
        VALUES(bz, 0),
        "cast to bool tests != 0");
  sl_tensor *f32 = sl_tensor_cast(src, SL_FLOAT32);
  CHECK(f32 && f32->dtype == SL_FLOAT32 &&
        VALUES(f32, 0.5, 1.5, 2.5, 3.5),
        "cast float64 -> float32 keeps exact values");
  sl_tensor_release(f32);
  sl_tensor_release(bz);
  sl_tensor_release(zero);
  sl_tensor_release(b);
  sl_tensor_release(src);
  sl_tensor_release(dst);
  sl_tensor_release(c);

  int nout;
  int64_t out[SL_MAXDIM];
  CHECK(sl_broadcast_shapes(2, S(3, 1), 1, S(4), &nout, out) == 0 && nout == 2 &&
        out[0] == 3 && out[1] == 4,
        "broadcast (3, 1) with (4,) is (3, 4)");
  CHECK(sl_broadcast_shapes(2, S(2, 3), 1, S(4), &nout, out) == -1 && sl_errmsg()[0],
        "broadcast (2, 3) with (4,) fails");
}

/* -- a caller's buffer -------------------------------------------------------- */

static int releases;
static void *released_data, *released_ud;

static void on_release(void *data, void *ud)
{
  releases++;
  released_data = data;
  released_ud = ud;
}

static void test_wrap(void)
{
  double buf[6] = { 1, 2, 3, 4, 5, 6 };
  int marker;
  int64_t before = sl_mem_bytes();
  sl_tensor *w = sl_tensor_wrap(buf, SL_FLOAT64, 2, S(2, 3), NULL, on_release, &marker);
  CHECK(w && sl_tensor_ptr(w) == (void *)buf &&
        VALUES(w, 1, 2, 3, 4, 5, 6),
        "wrap a caller's buffer, no copy");
  CHECK(sl_mem_bytes() == before, "a wrapped buffer is not counted in sl_mem_bytes");
  CHECK(w->storage->device == SL_DEVICE_HOST && strcmp(w->storage->allocator->name, "wrapped") == 0,
        "a wrapped buffer is the host's, given back through its callback");
  sl_tensor *t = sl_tensor_transpose(w, 0, 1);
  sl_tensor *r = sl_tensor_select(t, 0, 2);   /* column 2: 3 6 */
  sl_tensor_set(r, S(1), 60);
  CHECK(buf[5] == 60 && VALUES(r, 3, 60), "views write into the caller's buffer");
  sl_tensor_release(w);
  sl_tensor_release(t);
  CHECK(releases == 0, "release is not called while views remain");
  sl_tensor_release(r);
  CHECK(releases == 1 && released_data == (void *)buf && released_ud == &marker,
        "release is called exactly once, with data and ud");

  /* wrap with explicit strides: every other element, as a (3,) vector */
  int32_t ibuf[6] = { 10, 11, 12, 13, 14, 15 };
  sl_tensor *s = sl_tensor_wrap(ibuf, SL_INT32, 1, S(3), S(2), NULL, NULL);
  CHECK(s && !sl_tensor_is_contiguous(s) && VALUES(s, 10, 12, 14), "wrap with strides (2,)");
  sl_tensor_release(s);
  CHECK(releases == 1 && ibuf[0] == 10, "no release callback: the caller keeps the buffer");

  sl_tensor *n = sl_tensor_wrap(NULL, SL_FLOAT64, 1, S(3), NULL, NULL, NULL);
  CHECK(failed_with_message(n), "wrap of NULL data fails");
}

static void test_errors(void)
{
  sl_tensor *t = sl_tensor_zeros(SL_FLOAT64, 1, S(-1));
  CHECK(failed_with_message(t), "negative size fails");
  CHECK(strstr(sl_errmsg(), "-1") != NULL, "the message names the size");
  t = sl_tensor_empty(SL_FLOAT64, SL_MAXDIM + 1,
                      S(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1));
  CHECK(failed_with_message(t), "too many dimensions fails");
  t = sl_tensor_empty((sl_dtype)99, 1, S(2));
  CHECK(failed_with_message(t), "invalid dtype fails");
  t = sl_tensor_arange(0, 1, 0, SL_FLOAT64);
  CHECK(failed_with_message(t), "arange with step 0 fails");
  t = sl_tensor_linspace(0, 1, -1, SL_FLOAT64);
  CHECK(failed_with_message(t), "linspace with a negative count fails");
  t = sl_tensor_rand(SL_INT32, 1, S(3));
  CHECK(failed_with_message(t), "rand of int32 fails");
  t = sl_tensor_randint(5, 5, SL_INT64, 1, S(3));
  CHECK(failed_with_message(t), "randint with an empty range fails");
  t = sl_npy_load("/nonexistent/symlua/test.npy");
  CHECK(failed_with_message(t), "loading a missing file fails");
  sl_tensor_release(NULL);
  CHECK(1, "releasing NULL is allowed");
}

/* -- random numbers --------------------------------------------------------- */

static void test_random(void)
{
  /* Random123's published known answers for Philox-4x32-10 (counter, key -> out). */
  static const uint32_t kat[3][10] = {
    { 0, 0, 0, 0, 0, 0,
      0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 },
    { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
      0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd },
    { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
      0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 },
  };
  for (int i = 0; i < 3; i++) {
    uint32_t out[4];
    char name[64];
    sl_philox4x32_10(kat[i], kat[i] + 4, out);
    snprintf(name, sizeof name, "Philox-4x32-10 known answer %d", i + 1);
    CHECK(memcmp(out, kat[i] + 6, sizeof out) == 0, name);
  }

  sl_manual_seed(42);
  sl_tensor *a = sl_tensor_rand(SL_FLOAT64, 1, S(1000));
  sl_manual_seed(42);
  sl_tensor *b = sl_tensor_rand(SL_FLOAT64, 2, S(10, 100));
  int same = a && b && memcmp(sl_tensor_ptr(a), sl_tensor_ptr(b), 1000 * sizeof(double)) == 0;
  CHECK(same, "one seed gives the same draw whatever the shape");
  double lo = 1, hi = 0, sum = 0;
  const double *p = a ? sl_tensor_ptr(a) : NULL;
  for (int i = 0; p && i < 1000; i++) {
    lo = fmin(lo, p[i]);
    hi = fmax(hi, p[i]);
    sum += p[i];
  }
  CHECK(p && lo >= 0 && hi < 1, "rand lies in [0, 1)");
  /* the mean of 1000 U(0,1) has sd 0.29/sqrt(1000) = 0.009: 0.5 +- 0.05 is > 5 sd */
  CHECK(fabs(sum / 1000 - 0.5) < 0.05, "rand's mean is near 1/2");
  sl_tensor *c = sl_tensor_rand(SL_FLOAT64, 1, S(1000));
  CHECK(c &&
        memcmp(sl_tensor_ptr(a), sl_tensor_ptr(c), 1000 * sizeof(double)) != 0,
        "the next draw continues the stream");
  sl_tensor_release(a);
  sl_tensor_release(b);
  sl_tensor_release(c);

  sl_manual_seed(7);
  sl_tensor *n = sl_tensor_randn(SL_FLOAT64, 1, S(20000));
  double s1 = 0, s2 = 0;
  const double *q = n ? sl_tensor_ptr(n) : NULL;
  for (int i = 0; q && i < 20000; i++) { s1 += q[i]; s2 += q[i] * q[i]; }
  double mean = s1 / 20000, var = s2 / 20000 - mean * mean;
  /* sd of the mean 1/sqrt(20000) = 0.007; of the variance sqrt(2/20000) = 0.01 */
  CHECK(q && fabs(mean) < 0.05, "randn's mean is near 0");
  CHECK(q && fabs(var - 1) < 0.07, "randn's variance is near 1");
  sl_tensor_release(n);

  sl_tensor *r = sl_tensor_randint(-2, 3, SL_INT64, 1, S(500));
  int in_range = r != NULL, seen[5] = { 0 };
  for (int i = 0; r && i < 500; i++) {
    int64_t v = ((const int64_t *)sl_tensor_ptr(r))[i];
    if (v < -2 || v >= 3) in_range = 0;
    else seen[v + 2] = 1;
  }
  CHECK(in_range && seen[0] && seen[1] && seen[2] && seen[3] && seen[4],
        "randint(-2, 3) lies in [-2, 3) and hits every value");
  sl_tensor_release(r);
}

static void test_format(void)
{
  sl_tensor *a = sl_tensor_arange(0, 4, 1, SL_INT64);
  char *s = sl_tensor_format(a);
  CHECK(s && strstr(s, "[0, 1, 2, 3]") != NULL, "format lists the values like NumPy");
  free(s);
  sl_tensor_release(a);
}

int main(void)
{
  int64_t start = sl_mem_bytes();
  test_dtypes();
  test_creation();
  test_views();
  test_copies();
  test_wrap();
  test_errors();
  test_random();
  test_format();
  CHECK(sl_mem_bytes() == start, "sl_mem_bytes is back to its start after every release");

  sl_tensor *t = sl_tensor_zeros(SL_FLOAT32, 2, S(10, 10));
  CHECK(sl_mem_bytes() == start + 400, "sl_mem_bytes counts a (10, 10) float32 as 400 bytes");
  sl_tensor *v = sl_tensor_transpose(t, 0, 1);
  sl_tensor_release(t);
  CHECK(sl_mem_bytes() == start + 400, "a view keeps the storage alive");
  sl_tensor_release(v);
  CHECK(sl_mem_bytes() == start, "the last release frees it");

  return tap_done();
}
