/*
** npy.c — tensors to and from NumPy's .npy files (format versions 1.0-3.0).
**
** A file is: the magic "\x93NUMPY", a major and minor version byte, the
** header length (2 bytes little endian in 1.0, 4 bytes in 2.0 and 3.0), then
** the header: a Python dict literal with the keys 'descr', 'fortran_order'
** and 'shape', padded with spaces and ending in '\n'. The raw elements follow.
** We write 1.0 (2.0 only when the header would not fit) and read all three.
*/
#define _POSIX_C_SOURCE 200809L   /* fdopen, fileno, fsync under -std=c11 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static const char MAGIC[6] = "\x93NUMPY";
#define NPY_ALIGN 64              /* data starts at a multiple of this */
#define NPY_MAX_HEADER (1 << 20)  /* far above anything real; guards corrupt lengths */

static int host_is_big_endian(void)
{
  const uint16_t one = 1;
  return *(const uint8_t *)&one == 0;
}

/* Reverse each w-byte element of p in place. */
static void swap_bytes(char *p, size_t n, size_t w)
{
  for (size_t i = 0; i < n; i++, p += w)
    for (size_t a = 0, b = w - 1; a < b; a++, b--) {
      char c = p[a]; p[a] = p[b]; p[b] = c;
    }
}

/* -- saving ------------------------------------------------------------------ */

/* The header text for t: dict, space padding and '\n', sized so that the
** data starts on an NPY_ALIGN boundary. Returns its length. */
#define NPY_HEADER_CAP (SL_MAXDIM * 24 + 256)
/* Version 1.0 stores the header length in 2 bytes; 2.0 exists for headers
** past 65535 bytes, which only structured dtypes reach. Ours stay below: */
_Static_assert(NPY_HEADER_CAP <= 65535, "a header always fits format 1.0");

static size_t make_header(const sl_tensor *t, char *buf)
{
  char shape[SL_MAXDIM * 24 + 8];
  sl_shape_text(shape, sizeof shape, t->ndim, t->shape);
  size_t n = (size_t)snprintf(buf, NPY_HEADER_CAP,
                              "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                              sl_dtype_descr(t->dtype), shape);
  size_t pre = 10;   /* magic, version, 2-byte length */
  size_t hlen = (pre + n + 1 + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN - pre;
  memset(buf + n, ' ', hlen - 1 - n);
  buf[hlen - 1] = '\n';
  return hlen;
}

/* Write n bytes of elements of size w in little-endian order. */
static int write_data(FILE *f, const char *p, size_t n, size_t w)
{
  if (!host_is_big_endian() || w == 1) return fwrite(p, 1, n, f) == n ? 0 : -1;
  char chunk[1 << 16];
  size_t step = sizeof chunk / w * w;
  for (size_t done = 0; done < n; done += step) {
    size_t k = n - done < step ? n - done : step;
    memcpy(chunk, p + done, k);
    swap_bytes(chunk, k / w, w);
    if (fwrite(chunk, 1, k, f) != k) return -1;
  }
  return 0;
}

/* Create a fresh file next to path, so the final rename stays on one
** filesystem. O_EXCL keeps us from writing into someone else's file; mode
** 0666 lets the umask decide the permissions, as for any new file. */
static FILE *open_temp(const char *path, char *tmp, size_t cap)
{
  static unsigned counter;
  for (int tries = 0; tries < 100; tries++) {
    snprintf(tmp, cap, "%s.tmp%ld.%u", path, (long)getpid(), counter++);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd >= 0) {
      FILE *f = fdopen(fd, "wb");
      if (!f) { int e = errno; close(fd); unlink(tmp); errno = e; }
      return f;
    }
    if (errno != EEXIST) return NULL;
  }
  return NULL;
}

int sl_npy_save(const char *path, const sl_tensor *t)
{
  if (!path || !t) return sl_fail("sl_npy_save: NULL argument");
  if (!*sl_dtype_descr(t->dtype))
    return sl_fail("save: %s has no .npy dtype (NumPy has none); cast to float32 first",
                   sl_dtype_name(t->dtype));
  /* contiguous() only reads t; it takes a non-const pointer to retain it */
  sl_tensor *c = sl_tensor_contiguous((sl_tensor *)t);
  if (!c) return -1;

  char header[NPY_HEADER_CAP];
  size_t hlen = make_header(c, header);
  unsigned char pre[10];   /* magic, version 1.0, little-endian header length */
  memcpy(pre, MAGIC, 6);
  pre[6] = 1;
  pre[7] = 0;
  pre[8] = (unsigned char)hlen;
  pre[9] = (unsigned char)(hlen >> 8);

  size_t tmpcap = strlen(path) + 64;
  char *tmp = malloc(tmpcap);
  if (!tmp) { sl_tensor_release(c); return sl_fail("out of memory"); }
  FILE *f = open_temp(path, tmp, tmpcap);
  int err = 0;
  if (!f) {
    err = errno;
  } else {
    size_t nbytes = (size_t)sl_tensor_numel(c) * sl_dtype_size(c->dtype);
    errno = 0;   /* a short fwrite without errno still fails, as EIO */
    if (fwrite(pre, 1, sizeof pre, f) != sizeof pre || fwrite(header, 1, hlen, f) != hlen ||
        write_data(f, sl_tensor_ptr(c), nbytes, sl_dtype_size(c->dtype)) ||
        fflush(f) || fsync(fileno(f)))
      err = errno ? errno : EIO;
    /* fclose can report the failure of a delayed write (NFS, disk full) */
    if (fclose(f) && !err) err = errno ? errno : EIO;
    if (!err && rename(tmp, path)) err = errno;
    if (err) unlink(tmp);
  }
  free(tmp);
  sl_tensor_release(c);
  char clip[SL_CLIP_CAP];
  if (err) return sl_fail("cannot save '%s': %s", sl_clip(path, clip), strerror(err));
  return 0;
}

/* -- reading the header ---------------------------------------------------------- */

typedef struct {
  const char *path;
  const char *start, *p, *end;   /* the header text; p is the cursor */
} parser;

static int load_fail(const char *path, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 2, 3)))
#endif
  ;

static int load_fail(const char *path, const char *fmt, ...)
{
  char why[768], clip[SL_CLIP_CAP];
  va_list ap;
  va_start(ap, fmt);
  sl_vformat(why, sizeof why, fmt, ap);
  va_end(ap);
  return sl_fail("cannot load '%s': %s", sl_clip(path, clip), why);
}

/* A syntax error, with where it happened and the text found there. */
static int malformed(parser *ps, const char *expected)
{
  int n = 0;
  while (n < 24 && ps->p + n < ps->end && ps->p[n] != '\n') n++;
  if (n == 0)
    return load_fail(ps->path, "malformed .npy header: expected %s at offset %d, found the end "
                     "of the header", expected, (int)(ps->p - ps->start));
  return load_fail(ps->path, "malformed .npy header: expected %s at offset %d, found \"%.*s\"",
                   expected, (int)(ps->p - ps->start), n, ps->p);
}

static void skip_space(parser *ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static int accept(parser *ps, char c)
{
  skip_space(ps);
  if (ps->p < ps->end && *ps->p == c) { ps->p++; return 1; }
  return 0;
}

/* A Python string in single or double quotes; no escapes occur in these
** headers, and a NUL byte is refused (C would read '<f8\0x' as '<f8').
** Longer strings are cut to fit out, which only matters for messages. */
static int parse_string(parser *ps, char *out, size_t cap, const char *what)
{
  skip_space(ps);
  if (ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"')) return malformed(ps, what);
  char q = *ps->p++;
  const char *s = ps->p;
  while (ps->p < ps->end && *ps->p != q && *ps->p) ps->p++;
  if (ps->p < ps->end && !*ps->p)
    return load_fail(ps->path, "malformed .npy header: a NUL byte inside a string at offset %d",
                     (int)(ps->p - ps->start));
  if (ps->p >= ps->end) return malformed(ps, "a closing quote");
  size_t n = (size_t)(ps->p - s);
  if (n >= cap) n = cap - 1;
  memcpy(out, s, n);
  out[n] = 0;
  ps->p++;
  return 0;
}

static int parse_bool(parser *ps, int *out)
{
  skip_space(ps);
  size_t left = (size_t)(ps->end - ps->p);
  if (left >= 4 && !memcmp(ps->p, "True", 4)) { ps->p += 4; *out = 1; return 0; }
  if (left >= 5 && !memcmp(ps->p, "False", 5)) { ps->p += 5; *out = 0; return 0; }
  return malformed(ps, "True or False for 'fortran_order'");
}

/* A tuple of integers: (), (3,), (2, 3). Old Python 2 files write 3L. */
static int parse_shape(parser *ps, int *ndim, int64_t *shape)
{
  if (!accept(ps, '(')) return malformed(ps, "a tuple for 'shape'");
  int n = 0;
  for (;;) {
    if (accept(ps, ')')) break;
    skip_space(ps);
    int neg = ps->p < ps->end && *ps->p == '-';
    if (neg) ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
      return malformed(ps, "an integer in 'shape'");
    int64_t v = 0;
    for (; ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9'; ps->p++) {
      if (v > (INT64_MAX - (*ps->p - '0')) / 10)
        return load_fail(ps->path, "corrupt .npy header: a size in 'shape' overflows 64 bits");
      v = v * 10 + (*ps->p - '0');
    }
    if (ps->p < ps->end && (*ps->p == 'L' || *ps->p == 'l')) ps->p++;
    if (neg)
      return load_fail(ps->path, "corrupt .npy header: negative size -%lld in 'shape'",
                       (long long)v);
    if (n == SL_MAXDIM)
      return load_fail(ps->path, "the array has more than %d dimensions, the most symlua supports",
                       SL_MAXDIM);
    shape[n++] = v;
    if (accept(ps, ')')) break;
    if (!accept(ps, ',')) return malformed(ps, "',' or ')' in 'shape'");
  }
  *ndim = n;
  return 0;
}

typedef struct {
  char descr[64];
  int fortran;
  int ndim;
  int64_t shape[SL_MAXDIM];
} npy_header;

/* The dict: keys in any order, each exactly once, trailing comma allowed. */
static int parse_header(parser *ps, npy_header *h)
{
  enum { DESCR = 1, FORTRAN = 2, SHAPE = 4 };
  int seen = 0;
  if (!accept(ps, '{')) return malformed(ps, "'{'");
  for (;;) {
    if (accept(ps, '}')) break;
    char key[64];
    int bit;
    if (parse_string(ps, key, sizeof key, "a quoted key or '}'")) return -1;
    if (!strcmp(key, "descr")) bit = DESCR;
    else if (!strcmp(key, "fortran_order")) bit = FORTRAN;
    else if (!strcmp(key, "shape")) bit = SHAPE;
    else return load_fail(ps->path, "malformed .npy header: unexpected key '%s'", key);
    if (seen & bit) return load_fail(ps->path, "malformed .npy header: key '%s' repeated", key);
    seen |= bit;
    if (!accept(ps, ':')) return malformed(ps, "':' after a key");
    int r;
    if (bit == DESCR) {
      skip_space(ps);
      if (ps->p < ps->end && *ps->p == '[')
        return load_fail(ps->path, "unsupported dtype: structured arrays (a list 'descr') "
                         "are not supported");
      r = parse_string(ps, h->descr, sizeof h->descr, "a quoted string for 'descr'");
    } else if (bit == FORTRAN) {
      r = parse_bool(ps, &h->fortran);
    } else {
      r = parse_shape(ps, &h->ndim, h->shape);
    }
    if (r) return -1;
    if (accept(ps, '}')) break;
    if (!accept(ps, ',')) return malformed(ps, "',' or '}' after a value");
  }
  skip_space(ps);
  if (ps->p != ps->end) return malformed(ps, "only padding after '}'");
  if (seen != (DESCR | FORTRAN | SHAPE))
    return load_fail(ps->path, "malformed .npy header: missing key '%s'",
                     !(seen & DESCR) ? "descr" : !(seen & FORTRAN) ? "fortran_order" : "shape");
  return 0;
}

/* Map a descr such as '<f8' or '>i4' to a dtype and whether the bytes need
** swapping on this machine. Byte order: '<' little, '>' big, '=' native,
** '|' not applicable (1-byte types). */
static int parse_descr(const char *path, const char *descr, sl_dtype *dt, int *swap)
{
  char order = descr[0];
  const char *code = descr;
  if (order == '<' || order == '>' || order == '=' || order == '|') code++;
  else order = '=';
  for (int i = 0; i < SL_NDTYPES; i++) {
    if (!*sl_dtype_descr((sl_dtype)i) || strcmp(code, sl_dtype_descr((sl_dtype)i) + 1)) continue;
    *dt = (sl_dtype)i;
    int file_big = order == '>' || ((order == '=' || order == '|') && host_is_big_endian());
    *swap = sl_dtype_size(*dt) > 1 && file_big != host_is_big_endian();
    return 0;
  }
  char list[256];
  size_t k = 0;
  for (int i = 0; i < SL_NDTYPES && k < sizeof list; i++)
    if (*sl_dtype_descr((sl_dtype)i))
      k += (size_t)snprintf(list + k, sizeof list - k, "%s%s '%s'", i ? ", " : "",
                          sl_dtype_name((sl_dtype)i), sl_dtype_descr((sl_dtype)i));
  return load_fail(path, "unsupported dtype '%s' (supported: %s; '>' big-endian variants too)",
                   descr, list);
}

/* -- loading ----------------------------------------------------------------------- */

static uint32_t read_le(const unsigned char *p, int n)
{
  uint32_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* Everything after the file is open and its size known; f stays open. */
sl_tensor *sl_npy_read(FILE *f, int64_t fsize, const char *path)
{
  unsigned char pre[12];
  size_t got = fread(pre, 1, 8, f);
  if (got < 6 || memcmp(pre, MAGIC, 6)) {
    load_fail(path, "not a NumPy .npy file (it does not start with \"\\x93NUMPY\")");
    return NULL;
  }
  if (got < 8) { load_fail(path, "header truncated: the file ends inside the preamble"); return NULL; }
  int major = pre[6], minor = pre[7];
  if (minor != 0 || major < 1 || major > 3) {
    load_fail(path, "unsupported .npy format version %d.%d (symlua reads 1.0, 2.0 and 3.0)",
              major, minor);
    return NULL;
  }
  int lenbytes = major == 1 ? 2 : 4;
  if (fread(pre + 8, 1, (size_t)lenbytes, f) != (size_t)lenbytes) {
    load_fail(path, "header truncated: the file ends inside the preamble");
    return NULL;
  }
  int64_t npre = 8 + lenbytes;
  int64_t hlen = read_le(pre + 8, lenbytes);
  if (hlen > NPY_MAX_HEADER) {
    load_fail(path, "corrupt .npy header: its length %lld bytes is absurd (limit %d)",
              (long long)hlen, NPY_MAX_HEADER);
    return NULL;
  }
  if (hlen > fsize - npre) {
    load_fail(path, "header truncated: the header should be %lld bytes, the file has %lld after "
              "the preamble", (long long)hlen, (long long)(fsize - npre));
    return NULL;
  }

  /* hlen is bounded by the file size and NPY_MAX_HEADER: safe to allocate */
  char *text = malloc((size_t)hlen + 1);
  if (!text) { load_fail(path, "out of memory"); return NULL; }
  if (fread(text, 1, (size_t)hlen, f) != (size_t)hlen) {
    free(text);
    load_fail(path, "read error: %s", ferror(f) ? strerror(errno) : "unexpected end of file");
    return NULL;
  }
  npy_header h = { .fortran = 0 };
  parser ps = { path, text, text, text + hlen };
  int r = parse_header(&ps, &h);
  free(text);
  sl_dtype dt = SL_BOOL;
  int swap = 0;
  if (r || parse_descr(path, h.descr, &dt, &swap)) return NULL;

  /* Check the shape, then that the data is all there, before allocating. */
  size_t w = sl_dtype_size(dt);
  int64_t have = fsize - npre - hlen, numel;
  char shape_text[SL_MAXDIM * 24 + 8];
  sl_shape_text(shape_text, sizeof shape_text, h.ndim, h.shape);
  if (sl_check_shape(h.ndim, h.shape, &numel)) {
    load_fail(path, "corrupt .npy header: %s", sl_errmsg());
    return NULL;
  }
  int64_t need = numel * (int64_t)w;
  if (need > have) {
    load_fail(path, "data truncated: shape %s of %s needs %lld bytes, the file has %lld",
              shape_text, sl_dtype_name(dt), (long long)need, (long long)have);
    return NULL;
  }

  /* Fortran order is C order of the reversed shape; transpose after reading. */
  int64_t rshape[SL_MAXDIM];
  for (int i = 0; i < h.ndim; i++)
    rshape[i] = h.fortran ? h.shape[h.ndim - 1 - i] : h.shape[i];
  sl_tensor *t = sl_tensor_empty(dt, h.ndim, rshape);
  if (!t) return NULL;
  char *data = sl_tensor_ptr(t);
  if (fread(data, 1, (size_t)need, f) != (size_t)need) {
    load_fail(path, "read error: %s", ferror(f) ? strerror(errno) : "unexpected end of file");
    sl_tensor_release(t);
    return NULL;
  }
  if (swap) swap_bytes(data, (size_t)numel, w);
  if (dt == SL_BOOL)   /* any nonzero byte is true; symlua keeps bools as 0/1 */
    for (int64_t i = 0; i < numel; i++) data[i] = data[i] != 0;

  if (h.fortran && h.ndim > 1) {
    int perm[SL_MAXDIM];
    for (int i = 0; i < h.ndim; i++) perm[i] = h.ndim - 1 - i;
    sl_tensor *v = sl_tensor_permute(t, perm);
    sl_tensor_release(t);
    if (!v) return NULL;
    t = sl_tensor_contiguous(v);
    sl_tensor_release(v);
  }
  return t;
}

sl_tensor *sl_npy_load(const char *path)
{
  if (!path) { sl_fail("sl_npy_load: NULL path"); return NULL; }
  int64_t size;
  FILE *f = sl_open_regular(path, &size);   /* the size check needs a real size */
  if (!f) { load_fail(path, "%s", sl_errmsg()); return NULL; }
  sl_tensor *t = sl_npy_read(f, size, path);
  fclose(f);
  return t;
}
