/*
** idx.c — tensors from IDX files (the format of MNIST and Fashion-MNIST),
** plain or gzipped.
**
** A file is: two zero bytes, a type code, the number of dimensions, each
** size as a big-endian 32-bit integer, then the values, big-endian. A gzip
** file (magic 1f 8b) is inflated by zlib as it is read, straight into the
** tensor's storage: exactly the bytes the header declares are taken, then
** the stream must end there, its CRC and length intact. Data past the
** declared values is an error, counted (up to EXCESS_COUNTED) but never held
** in memory, so a small file that inflates to gigabytes costs no more than
** its declared tensor.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "internal.h"

/* The types of the format, and the dtype each becomes (symlua has no int8
** or int16: those widen to int32). */
static const struct idx_type {
  unsigned char code;
  const char *name;
  int width;         /* bytes per value in the file */
  sl_dtype dtype;
} idx_types[] = {
  { 0x08, "uint8", 1, SL_UINT8 },     { 0x09, "int8", 1, SL_INT32 },
  { 0x0B, "int16", 2, SL_INT32 },     { 0x0C, "int32", 4, SL_INT32 },
  { 0x0D, "float32", 4, SL_FLOAT32 }, { 0x0E, "float64", 8, SL_FLOAT64 },
};

#define EXCESS_COUNTED ((int64_t)1 << 30)
/* Deflate never inflates a byte to more than 1032 (258-byte matches in
** 2-bit codes), so a file's size bounds its data before anything is read. */
#define DEFLATE_MAX_RATIO 1032

/* -- the byte stream: the file's bytes, or what they inflate to ------------------ */

typedef struct {
  FILE *f;
  int64_t size;              /* of the file: what the data can at most be */
  const char *name;
  int gzip;
  int ended;                 /* gzip: the last member's trailer has been checked */
  size_t peeked;             /* plain: bytes read to tell gzip apart, not yet taken */
  z_stream z;
  unsigned char in[1 << 16];
} source;

static int src_fail(const source *s, const char *fmt, const char *why)
{
  char clip[SL_CLIP_CAP];
  return sl_fail(fmt, sl_clip(s->name, clip), why);
}

/* Up to n bytes into p; the count, or -1 + sl_fail on a read error or
** corrupt gzip data. Fewer than n only at the end of the data. */
static int64_t src_read(source *s, unsigned char *p, int64_t n)
{
  if (!s->gzip) {
    size_t first = s->peeked < (size_t)n ? s->peeked : (size_t)n;
    memcpy(p, s->in, first);
    memmove(s->in, s->in + first, s->peeked - first);
    s->peeked -= first;
    size_t got = first + fread(p + first, 1, (size_t)n - first, s->f);
    if (got < (size_t)n && ferror(s->f))
      return src_fail(s, "data.idx: cannot read '%s' (%s)", strerror(errno));
    return (int64_t)got;
  }
  int64_t done = 0;
  while (done < n && !s->ended) {
    if (s->z.avail_in == 0) {
      s->z.avail_in = (uInt)fread(s->in, 1, sizeof s->in, s->f);
      s->z.next_in = s->in;
      if (s->z.avail_in == 0) {
        if (ferror(s->f)) return src_fail(s, "data.idx: cannot read '%s' (%s)", strerror(errno));
        return src_fail(s, "data.idx: '%s' is truncated: %s", "the gzip stream ends early");
      }
    }
    int64_t want = n - done;
    s->z.next_out = p + done;
    s->z.avail_out = want > (1 << 30) ? 1u << 30 : (uInt)want;
    uInt before = s->z.avail_out;
    int r = inflate(&s->z, Z_NO_FLUSH);
    done += before - s->z.avail_out;
    if (r == Z_STREAM_END) {
      /* another gzip member may follow, as gzip -dc reads them */
      if (s->z.avail_in == 0) {
        int c = fgetc(s->f);
        if (c == EOF) { s->ended = 1; break; }
        ungetc(c, s->f);
      }
      inflateReset(&s->z);
    } else if (r != Z_OK && r != Z_BUF_ERROR) {
      return src_fail(s, "data.idx: '%s' is corrupt gzip data (%s)",
                      r == Z_MEM_ERROR ? "out of memory" : s->z.msg ? s->z.msg : "inflate failed");
    }
  }
  return done;
}

/* -- decoding ------------------------------------------------------------------ */

/* Big-endian values of width w at raw become n values of dtype in place:
** from the last one down, since a value never moves to a lower address. */
static void decode(void *data, int64_t n, const struct idx_type *ty)
{
  const unsigned char *raw = data;
  for (int64_t i = n - 1; i >= 0 && ty->width > 1; i--) {
    uint64_t u = 0;
    for (int k = 0; k < ty->width; k++) u = u << 8 | raw[i * ty->width + k];
    switch (ty->code) {
    case 0x0B: ((int32_t *)data)[i] = (int16_t)(uint16_t)u; break;
    case 0x0C: ((int32_t *)data)[i] = (int32_t)(uint32_t)u; break;
    case 0x0D: { uint32_t b = (uint32_t)u; memcpy((float *)data + i, &b, 4); break; }
    case 0x0E: memcpy((double *)data + i, &u, 8); break;
    }
  }
  if (ty->code == 0x09)
    for (int64_t i = n - 1; i >= 0; i--) ((int32_t *)data)[i] = (int8_t)raw[i];
}

/* -- reading ----------------------------------------------------------------------- */

static sl_tensor *read_values(source *s)
{
  unsigned char head[4], dims[4 * 255];
  int64_t got = src_read(s, head, 4);
  if (got < 0) return NULL;
  if (got < 4 || head[0] || head[1]) {
    src_fail(s, "data.idx: '%s' is not an IDX file (%s)",
             got == 0 ? "it is empty" : "bad magic number");
    return NULL;
  }
  const struct idx_type *ty = NULL;
  for (size_t i = 0; i < sizeof idx_types / sizeof *idx_types; i++)
    if (idx_types[i].code == head[2]) ty = &idx_types[i];
  char clip[SL_CLIP_CAP];
  if (!ty) {
    sl_fail("data.idx: '%s' has an unknown value type 0x%02x", sl_clip(s->name, clip), head[2]);
    return NULL;
  }
  int ndim = head[3];
  if (ndim > SL_MAXDIM) {
    sl_fail("data.idx: '%s' has %d dimensions; a tensor has at most %d",
            sl_clip(s->name, clip), ndim, SL_MAXDIM);
    return NULL;
  }
  if ((got = src_read(s, dims, 4 * ndim)) < 0) return NULL;
  if (got < 4 * ndim) {
    src_fail(s, "data.idx: '%s' is truncated: %s", "the file ends inside its header");
    return NULL;
  }
  int64_t shape[SL_MAXDIM], n;
  for (int d = 0; d < ndim; d++)
    shape[d] = (int64_t)dims[4 * d] << 24 | dims[4 * d + 1] << 16 | dims[4 * d + 2] << 8 | dims[4 * d + 3];
  if (sl_check_shape(ndim, shape, &n)) {
    src_fail(s, "data.idx: '%s' declares a shape symlua cannot hold: %s", sl_errmsg());
    return NULL;
  }
  /* a corrupt header must not allocate more than the file can hold */
  int64_t want = n * ty->width, head_bytes = 4 + 4 * (int64_t)ndim;
  if (!s->gzip && want > s->size - head_bytes) {
    sl_fail("data.idx: '%s' is truncated: %lld values of %d bytes expected, %lld bytes found",
            sl_clip(s->name, clip), (long long)n, ty->width, (long long)(s->size - head_bytes));
    return NULL;
  }
  if (s->gzip && want / DEFLATE_MAX_RATIO > s->size) {
    sl_fail("data.idx: '%s' is truncated: %lld values of %d bytes expected, more than its %lld "
            "bytes of gzip can hold", sl_clip(s->name, clip), (long long)n, ty->width,
            (long long)s->size);
    return NULL;
  }
  sl_tensor *t = sl_tensor_empty(ty->dtype, ndim, shape);
  if (!t) return NULL;
  if ((got = src_read(s, sl_tensor_ptr(t), want)) < want) {
    if (got >= 0)
      sl_fail("data.idx: '%s' is truncated: %lld values of %d bytes expected, %lld bytes found",
              sl_clip(s->name, clip), (long long)n, ty->width, (long long)got);
    sl_tensor_release(t);
    return NULL;
  }
  /* the data must end here: count what follows, in a small buffer */
  int64_t excess = 0, k;
  unsigned char scratch[1 << 14];
  while (excess <= EXCESS_COUNTED && (k = src_read(s, scratch, sizeof scratch)) > 0) excess += k;
  if (k < 0 || excess) {
    if (excess)
      sl_fail("data.idx: '%s' holds %s%lld bytes more than the %lld values its header declares",
              sl_clip(s->name, clip), excess > EXCESS_COUNTED ? "over " : "",
              (long long)(excess > EXCESS_COUNTED ? EXCESS_COUNTED : excess), (long long)n);
    sl_tensor_release(t);
    return NULL;
  }
  decode(sl_tensor_ptr(t), n, ty);
  return t;
}

sl_tensor *sl_idx_read(FILE *f, int64_t size, const char *name)
{
  source *s = calloc(1, sizeof *s);
  if (!s) { sl_fail("out of memory"); return NULL; }
  s->f = f;
  s->size = size;
  s->name = name;
  size_t got = fread(s->in, 1, 2, f);
  s->gzip = got == 2 && s->in[0] == 0x1f && s->in[1] == 0x8b;
  if (s->gzip) {
    s->z.next_in = s->in;
    s->z.avail_in = 2;
  } else {
    s->peeked = got;
  }
  sl_tensor *t = NULL;
  if (s->gzip && inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) sl_fail("out of memory");
  else t = read_values(s);
  if (s->gzip) inflateEnd(&s->z);
  free(s);
  return t;
}

sl_tensor *sl_idx_load(const char *path)
{
  if (!path) { sl_fail("sl_idx_load: NULL path"); return NULL; }
  int64_t size;
  FILE *f = sl_open_regular(path, &size);
  if (!f) {
    char clip[SL_CLIP_CAP];
    sl_fail("data.idx: cannot open '%s' (%s)", sl_clip(path, clip), sl_errmsg());
    return NULL;
  }
  sl_tensor *t = sl_idx_read(f, size, path);
  fclose(f);
  return t;
}
