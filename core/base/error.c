/*
** error.c — the per-thread message behind sl_errmsg(), and the formatting
** that keeps a long message's reason: a message too long for its buffer
** loses its middle, never its end, and an echoed value (a path, a name) can
** be clipped to its first and last characters before it is formatted.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char errbuf[SL_ERRMSG_CAP];

static const char ELLIPSIS[] = " \xe2\x80\xa6 ";   /* " … " in UTF-8 */

/* Cut the middle of the n-byte text in buf (n >= cap) so that its start
** and end fit in cap bytes with an ellipsis between them. */
static void elide_middle(char *buf, size_t cap, const char *text, size_t n)
{
  size_t mark = sizeof ELLIPSIS - 1, keep = cap - 1 - mark;
  size_t head = keep / 2, tail = keep - head;
  memcpy(buf, text, head);
  memcpy(buf + head, ELLIPSIS, mark);
  memcpy(buf + head + mark, text + n - tail, tail);
  buf[cap - 1] = '\0';
}

void sl_vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
  /* formatted apart from buf first: an argument may point into buf */
  char full[1 << 14];
  int n = vsnprintf(full, sizeof full, fmt, ap);
  size_t len = n < 0 ? 0 : (size_t)n < sizeof full ? (size_t)n : sizeof full - 1;
  if (len < cap) memcpy(buf, full, len + 1);
  else elide_middle(buf, cap, full, len);
}

void sl_format(char *buf, size_t cap, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  sl_vformat(buf, cap, fmt, ap);
  va_end(ap);
}

const char *sl_clip(const char *s, char out[SL_CLIP_CAP])
{
  size_t n = strlen(s);
  if (n < SL_CLIP_CAP) return s;
  elide_middle(out, SL_CLIP_CAP, s, n);
  return out;
}

int sl_fail(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  sl_vformat(errbuf, sizeof errbuf, fmt, ap);
  va_end(ap);
  return -1;
}

const char *sl_errmsg(void) { return errbuf; }
