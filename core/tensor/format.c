/* format.c — tensor to text, laid out the way NumPy's repr lays out arrays. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* NumPy's default print options. */
#define LINEWIDTH 75
#define THRESHOLD 1000   /* more elements than this: summarize */
#define EDGEITEMS 3      /* shown at each end of a summarized axis */
#define PRECISION 8      /* most digits after the point */
#define PREFIX "tensor("

/* -- growable output ------------------------------------------------------- */

typedef struct {
  char *p;
  size_t len, cap;
  int col;      /* length of the current line */
  int oom;
} strbuf;

static void put_n(strbuf *b, const char *s, size_t n)
{
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (b->len + n + 1 > cap) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { b->oom = 1; return; }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  b->col += (int)n;
}

static void put(strbuf *b, const char *s) { put_n(b, s, strlen(s)); }

static void spaces(strbuf *b, int n)
{
  for (; n > 0; n--) put_n(b, " ", 1);
}

/* A line break drops the trailing blanks of the line it ends. */
static void newline(strbuf *b)
{
  while (!b->oom && b->len > 0 && b->p[b->len - 1] == ' ') b->len--;
  put_n(b, "\n", 1);
  b->col = 0;
}

/* -- shortest decimal digits ----------------------------------------------
** NumPy prints the fewest significant digits that read back as the same
** value of the tensor's own dtype (so 0.1f is "0.1"). a >= 0 and finite.
** digits gets them without trailing zeros; *e is the power of ten of the
** first digit.
*/
static int parse_e(const char *s, char *digits, int *e)
{
  int n = 0;
  for (; *s && *s != 'e'; s++)
    if (*s >= '0' && *s <= '9') digits[n++] = *s;
  digits[n] = '\0';
  *e = (int)strtol(s + 1, NULL, 10);
  return n;
}

/* a rounded to the real dtype fdt the values have (float64 for doubles) */
static double in_dtype(double a, sl_dtype fdt)
{
  switch (fdt) {
  case SL_FLOAT32: return (float)a;
  case SL_FLOAT16: return sl_f16_to_double(sl_f16_from_double(a));
  case SL_BFLOAT16: return sl_bf16_to_double(sl_bf16_from_double(a));
  default: return a;
  }
}

static int shortest(double a, sl_dtype fdt, char *digits, int *e)
{
  char buf[48];
  for (int p = 0; p < 17; p++) {
    snprintf(buf, sizeof buf, "%.*e", p, a);
    double back = fdt == SL_FLOAT32 ? strtof(buf, NULL) : in_dtype(strtod(buf, NULL), fdt);
    if (back == in_dtype(a, fdt)) break;
  }
  int n = parse_e(buf, digits, e);
  while (n > 1 && digits[n - 1] == '0') digits[--n] = '\0';
  return n;
}

/* A finite float split for alignment: sign, digits before and after the
** point, and the exponent in scientific mode. */
typedef struct {
  int neg;
  char ip[48], fp[48];
  int exp;
} fparts;

static void trim_zeros(char *s)
{
  size_t n = strlen(s);
  while (n > 0 && s[n - 1] == '0') s[--n] = '\0';
}

/* Positional digits: the shortest ones, cut to PRECISION places (rounding
** the exact value) when they would need more; trailing zeros dropped, so
** 1.0 is "1.". Past the last integer a float holds exactly (2^24 for
** float32, 2^11 for float16, 2^8 for bfloat16), NumPy prints the exact
** integer rather than shortest digits. */
static void positional(double x, sl_dtype fdt, fparts *f)
{
  double a = fabs(x);
  char d[32];
  int e;
  f->neg = signbit(x) != 0;
  f->exp = 0;
  int mant = fdt == SL_FLOAT32 ? 24 : fdt == SL_FLOAT16 ? 11 : fdt == SL_BFLOAT16 ? 8 : 53;
  if (a >= ldexp(1, mant)) {
    snprintf(f->ip, sizeof f->ip, "%.0f", a);
    f->fp[0] = '\0';
    return;
  }
  int n = shortest(a, fdt, d, &e);
  if (n - 1 - e > PRECISION) {
    char buf[48];
    snprintf(buf, sizeof buf, "%.*f", PRECISION, a);
    char *dot = strchr(buf, '.');
    *dot = '\0';
    snprintf(f->ip, sizeof f->ip, "%s", buf);
    snprintf(f->fp, sizeof f->fp, "%s", dot + 1);
    trim_zeros(f->fp);
    return;
  }
  int k = 0, m = 0;
  if (e < 0) f->ip[k++] = '0';
  for (int i = 0; i <= e; i++) f->ip[k++] = i < n ? d[i] : '0';
  f->ip[k] = '\0';
  for (int i = e + 1; i < 0; i++) f->fp[m++] = '0';
  for (int i = e < 0 ? 0 : e + 1; i < n; i++) f->fp[m++] = d[i];
  f->fp[m] = '\0';
}

/* Scientific digits: the shortest, at most PRECISION after the point. With
** minfrac >= 0 exactly that many places of the exact value are shown, as
** NumPy does once it knows the widest mantissa. */
static void scientific(double x, sl_dtype fdt, int minfrac, fparts *f)
{
  double a = fabs(x);
  char d[48], buf[48];
  int n = shortest(a, fdt, d, &f->exp);
  f->neg = signbit(x) != 0;
  if (n - 1 > PRECISION) {
    snprintf(buf, sizeof buf, "%.*e", PRECISION, a);
    n = parse_e(buf, d, &f->exp);
    while (n > 1 && d[n - 1] == '0') d[--n] = '\0';
  }
  if (minfrac >= 0 && n - 1 != minfrac) {
    snprintf(buf, sizeof buf, "%.*e", minfrac, a);
    n = parse_e(buf, d, &f->exp);
  }
  f->ip[0] = d[0];
  f->ip[1] = '\0';
  snprintf(f->fp, sizeof f->fp, "%s", d + 1);
}

/* -- the printer ------------------------------------------------------------ */

typedef struct {
  const sl_tensor *t;
  char kind;            /* 'b', 'i' (also 'u'), 'f' or 'c' */
  sl_dtype fdt;          /* the values' real dtype: rounding for shortest digits */
  int summarize;
  /* integers: one width for all */
  int64_t imin, imax;
  /* floats */
  double maxabs, minabs;    /* over finite nonzero values */
  int nonzero, nonfinite, neginf;
  int sci;                  /* scientific notation */
  int pad_left, pad_right;  /* widths around the point */
  int prec, exp_size;       /* scientific: mantissa places, exponent digits */
  strbuf out;
} printer;

/* Values are read where they lie, so any view prints its logical values. */
static double get_float(const sl_tensor *t, int64_t off)
{
  const char *p = (const char *)t->storage->data;
  if (t->dtype == SL_FLOAT32) return ((const float *)p)[off];
  if (t->dtype == SL_FLOAT16) return sl_f16_to_double(((const uint16_t *)p)[off]);
  if (t->dtype == SL_BFLOAT16) return sl_bf16_to_double(((const uint16_t *)p)[off]);
  return ((const double *)p)[off];
}

static int64_t get_int(const sl_tensor *t, int64_t off)
{
  const char *p = (const char *)t->storage->data;
  switch (t->dtype) {
  case SL_BOOL: case SL_UINT8: return ((const uint8_t *)p)[off];
  case SL_INT8: return ((const int8_t *)p)[off];
  case SL_INT16: return ((const int16_t *)p)[off];
  case SL_INT32: return ((const int32_t *)p)[off];
  default: return ((const int64_t *)p)[off];
  }
}

/* A summarized axis longer than 2*EDGEITEMS shows its first and last
** EDGEITEMS entries; shown() maps a shown position to an index. */
static int64_t nshown(const printer *pr, int axis)
{
  int64_t n = pr->t->shape[axis];
  return pr->summarize && n > 2 * EDGEITEMS ? 2 * EDGEITEMS : n;
}

static int64_t shown(const printer *pr, int axis, int64_t j)
{
  int64_t n = pr->t->shape[axis];
  return pr->summarize && n > 2 * EDGEITEMS && j >= EDGEITEMS ? n - 2 * EDGEITEMS + j : j;
}

typedef void (*visitfn)(printer *pr, int64_t off);

static void visit(printer *pr, int axis, int64_t off, visitfn fn)
{
  if (axis == pr->t->ndim) { fn(pr, off); return; }
  for (int64_t j = 0, n = nshown(pr, axis); j < n; j++)
    visit(pr, axis + 1, off + shown(pr, axis, j) * pr->t->strides[axis], fn);
}

/* First pass: ranges. Integers take the width of the longest of min and
** max; floats choose scientific notation from their finite nonzero
** magnitudes. */
static void scan_range(printer *pr, int64_t off)
{
  if (pr->kind != 'f') {
    int64_t v = get_int(pr->t, off);
    if (v < pr->imin) pr->imin = v;
    if (v > pr->imax) pr->imax = v;
    return;
  }
  double v = get_float(pr->t, off);
  if (!isfinite(v)) {
    pr->nonfinite = 1;
    if (v < 0) pr->neginf = 1;
    return;
  }
  double a = fabs(v);
  if (a == 0) return;
  if (!pr->nonzero || a > pr->maxabs) pr->maxabs = a;
  if (!pr->nonzero || a < pr->minabs) pr->minabs = a;
  pr->nonzero = 1;
}

static int slen(const fparts *f) { return f->neg + (int)strlen(f->ip); }

/* Second pass, floats: the widest integer part and fraction set the
** column; in scientific mode also the longest mantissa and exponent. */
static void scan_width(printer *pr, int64_t off)
{
  double v = get_float(pr->t, off);
  fparts f;
  if (!isfinite(v)) return;
  if (pr->sci) scientific(v, pr->fdt, -1, &f); else positional(v, pr->fdt, &f);
  int fl = (int)strlen(f.fp);
  if (slen(&f) > pr->pad_left) pr->pad_left = slen(&f);
  if (fl > pr->pad_right) pr->pad_right = fl;
  if (pr->sci) {
    int ed = abs(f.exp) >= 100 ? 3 : 2;
    if (ed > pr->exp_size) pr->exp_size = ed;
  }
}

static int intlen(int64_t v)
{
  char buf[32];
  return snprintf(buf, sizeof buf, "%lld", (long long)v);
}

static void setup(printer *pr)
{
  const sl_tensor *t = pr->t;
  pr->kind = sl_dtype_kind(t->dtype) == 'u' ? 'i' : sl_dtype_kind(t->dtype);
  pr->fdt = t->dtype == SL_COMPLEX64 ? SL_FLOAT32 : t->dtype == SL_COMPLEX128 ? SL_FLOAT64 : t->dtype;
  if (pr->kind == 'c') return;   /* each element printed on its own: re+imj */
  pr->imin = INT64_MAX;
  pr->imax = INT64_MIN;
  visit(pr, 0, t->offset, scan_range);
  if (pr->kind == 'i') {
    int a = intlen(pr->imin), b = intlen(pr->imax);
    pr->pad_left = a > b ? a : b;
  }
  if (pr->kind != 'f') return;
  /* NumPy's rule: scientific when max >= 1e8, min < 1e-4 or max/min > 1e3;
  ** the ratio is computed in the tensor's own precision. */
  if (pr->nonzero) {
    double ratio = in_dtype(in_dtype(pr->maxabs, pr->fdt) / in_dtype(pr->minabs, pr->fdt), pr->fdt);
    pr->sci = pr->maxabs >= 1e8 || pr->minabs < 1e-4 || ratio > 1e3;
  }
  pr->exp_size = -1;
  visit(pr, 0, t->offset, scan_width);
  if (pr->sci) {
    pr->prec = pr->pad_right;
    pr->pad_right = pr->exp_size + 2 + pr->prec;
  }
  /* nan and inf are right-aligned in the same column and may widen it */
  if (pr->nonfinite) {
    int room = pr->pad_right + 1;
    int infl = 3 + pr->neginf;
    if (3 - room > pr->pad_left) pr->pad_left = 3 - room;
    if (infl - room > pr->pad_left) pr->pad_left = infl - room;
  }
}

/* One part of a complex value, shortest form: "1.5", "-2.", "1e-05", "nan". */
static void complex_part(double x, sl_dtype fdt, char *w, size_t n)
{
  fparts f;
  if (!isfinite(x)) { snprintf(w, n, "%s", isnan(x) ? "nan" : x < 0 ? "-inf" : "inf"); return; }
  double a = fabs(x);
  if (a != 0 && (a >= 1e8 || a < 1e-4)) {
    scientific(x, fdt, -1, &f);
    snprintf(w, n, "%s%.24s%s%.24se%c%02d", f.neg ? "-" : "", f.ip, *f.fp ? "." : "", f.fp,
             f.exp < 0 ? '-' : '+', abs(f.exp) % 1000);
  } else {
    positional(x, fdt, &f);
    snprintf(w, n, "%s%.24s.%.24s", f.neg ? "-" : "", f.ip, f.fp);
  }
}

/* One element, padded to the common width. */
static void format_elem(const printer *pr, int64_t off, char *w, size_t n)
{
  const sl_tensor *t = pr->t;
  if (pr->kind == 'c') {   /* NumPy's form: 1.+2.j, 0.5-1.j */
    const char *p = (const char *)t->storage->data;
    double re, im;
    if (t->dtype == SL_COMPLEX64) { re = ((const float *)p)[2 * off]; im = ((const float *)p)[2 * off + 1]; }
    else { re = ((const double *)p)[2 * off]; im = ((const double *)p)[2 * off + 1]; }
    char a[64], b[64];
    complex_part(re, pr->fdt, a, sizeof a);
    complex_part(im, pr->fdt, b, sizeof b);
    snprintf(w, n, "%s%s%sj", a, b[0] == '-' ? "" : "+", b);
    return;
  }
  if (pr->kind == 'b') {
    /* " True" lines up with "False", except in a 0-d tensor */
    snprintf(w, n, "%s", get_int(t, off) ? (t->ndim ? " True" : "True") : "False");
    return;
  }
  if (pr->kind == 'i') {
    snprintf(w, n, "%*lld", pr->pad_left, (long long)get_int(t, off));
    return;
  }
  double v = get_float(t, off);
  if (!isfinite(v)) {
    snprintf(w, n, "%*s", pr->pad_left + pr->pad_right + 1,
             isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
    return;
  }
  fparts f;
  if (pr->sci) {
    scientific(v, pr->fdt, pr->prec, &f);
    snprintf(w, n, "%*s%s%s.%se%c%0*d", pr->pad_left - slen(&f), "",
             f.neg ? "-" : "", f.ip, f.fp, f.exp < 0 ? '-' : '+', pr->exp_size, abs(f.exp));
  } else {
    positional(v, pr->fdt, &f);
    snprintf(w, n, "%*s%s%s.%-*s", pr->pad_left - slen(&f), "",
             f.neg ? "-" : "", f.ip, pr->pad_right, f.fp);
  }
}

/* -- layout -----------------------------------------------------------------
** NumPy's nesting: each level opens a bracket, so its contents start one
** column further right (hang) and have one column less room (width). The
** innermost axis runs elements along a line, wrapping before one would pass
** width - 1 (room for the "," or "]" after it). Outer axes put each
** sub-block on its own line, with (axes left - 1) newlines between, so 3-d
** blocks are parted by a blank line. A summarized axis shows "..." in
** place of its middle.
*/
static void add_word(strbuf *b, const char *w, int hang, int limit)
{
  /* wrapping cannot help when the line holds nothing yet */
  if (b->col + (int)strlen(w) > limit && b->col > hang) {
    newline(b);
    spaces(b, hang);
  }
  put(b, w);
}

/* Between sub-blocks: ",", then (axes left - 1) newlines, then the indent. */
static void block_break(strbuf *b, int hang, int left)
{
  put(b, ",");
  for (int k = 1; k < left; k++) newline(b);
  spaces(b, hang);
}

static void layout(printer *pr, int axis, int64_t off, int hang, int width)
{
  const sl_tensor *t = pr->t;
  char w[160];
  if (axis == t->ndim) {
    format_elem(pr, off, w, sizeof w);
    put(&pr->out, w);
    return;
  }
  int64_t n = nshown(pr, axis);
  int dots = n < t->shape[axis];
  int left = t->ndim - axis;
  put(&pr->out, "[");
  for (int64_t j = 0; j < n; j++) {
    int64_t o = off + shown(pr, axis, j) * t->strides[axis];
    if (left == 1) {
      if (dots && j == EDGEITEMS) {
        add_word(&pr->out, "...", hang, width - 1);
        put(&pr->out, ", ");
      }
      format_elem(pr, o, w, sizeof w);
      add_word(&pr->out, w, hang, width - 1);
      if (j + 1 < n) put(&pr->out, ", ");
    } else {
      if (j > 0) block_break(&pr->out, hang, left);
      if (dots && j == EDGEITEMS) {
        put(&pr->out, "...");
        block_break(&pr->out, hang, left);
      }
      layout(pr, axis + 1, o, hang + 1, width - 1);
    }
  }
  put(&pr->out, "]");
}

char *sl_tensor_format(const sl_tensor *t)
{
  printer pr;
  memset(&pr, 0, sizeof pr);
  pr.t = t;
  int64_t numel = sl_tensor_numel(t);
  put(&pr.out, PREFIX);
  if (numel == 0) {
    put(&pr.out, "[]");
  } else {
    pr.summarize = numel > THRESHOLD;
    setup(&pr);
    /* the body is laid out as if followed by ",": one column less */
    int hang = (int)strlen(PREFIX) + 1;
    layout(&pr, 0, t->offset, hang, LINEWIDTH - 1);
  }
  put(&pr.out, ",");
  /* shape and dtype go on a line of their own when they would pass the width */
  char shape[SL_MAXDIM * 24 + 8], tail[sizeof shape + 32];
  sl_shape_text(shape, sizeof shape, t->ndim, t->shape);
  snprintf(tail, sizeof tail, "shape=%s, dtype=%s)", shape, sl_dtype_name(t->dtype));
  if (pr.out.col + 1 + (int)strlen(tail) > LINEWIDTH) {
    newline(&pr.out);
    spaces(&pr.out, (int)strlen(PREFIX));
  } else {
    put(&pr.out, " ");
  }
  put(&pr.out, tail);
  if (pr.out.oom) {
    free(pr.out.p);
    sl_fail("tostring: out of memory formatting a tensor of %lld elements", (long long)numel);
    return NULL;
  }
  return pr.out.p;
}
