/*
** error.c — the per-thread message behind sl_errmsg().
*/
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static _Thread_local char errbuf[1024];

int sl_fail(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errbuf, sizeof errbuf, fmt, ap);
  va_end(ap);
  return -1;
}

const char *sl_errmsg(void) { return errbuf; }
