/*
** tap.h — the lines every C test prints, in the Test Anything Protocol:
** "ok N - name", or "not ok N - name" followed by the failed condition, its
** line and the library's last error message. tap_done() prints the plan and
** gives main's exit status.
*/
#ifndef SL_TEST_TAP_H
#define SL_TEST_TAP_H

#include <stdio.h>

#include "symlua.h"

static int tap_count, tap_failures;

static void tap_report(int ok, const char *name, const char *cond, int line)
{
  tap_count++;
  if (ok) {
    printf("ok %d - %s\n", tap_count, name);
    return;
  }
  tap_failures++;
  const char *msg = sl_errmsg();
  printf("not ok %d - %s\n#   line %d: %s\n", tap_count, name, line, cond);
  if (msg && *msg) printf("#   last error: %s\n", msg);
}

#define CHECK(cond, name) tap_report(!!(cond), (name), #cond, __LINE__)

static int tap_done(void)
{
  printf("1..%d\n", tap_count);
  if (tap_failures) printf("# %d of %d failed\n", tap_failures, tap_count);
  return tap_failures != 0;
}

#endif
