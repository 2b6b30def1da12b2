/*
** test_cc.c — the cache's hash (streaming equals one-shot, no collisions on
** near-identical inputs, avalanche), and compiles through cc.h: the system
** compiler with the cache, libtcc, and background jobs, freed early or late.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "cc.h"
#include "config.h"
#include "internal.h"

#include "tap.h"

static int same(sl_hash128 a, sl_hash128 b) { return a.lo == b.lo && a.hi == b.hi; }

static int bits(uint64_t x) { return __builtin_popcountll(x); }

static void test_hash(void)
{
  unsigned char msg[200];
  for (int i = 0; i < 200; i++) msg[i] = (unsigned char)(i * 37 + 11);

  int ok = 1;   /* fed in pieces of every size, the hash is the one-shot one */
  for (size_t n = 0; n <= 200; n += 7)
    for (size_t piece = 1; piece <= 33; piece += 4) {
      sl_hasher h;
      sl_hasher_init(&h, 0);
      for (size_t at = 0; at < n; at += piece)
        sl_hasher_update(&h, msg + at, n - at < piece ? n - at : piece);
      ok &= same(sl_hasher_final(&h), sl_hash128_bytes(msg, n));
    }
  CHECK(ok, "streaming in pieces gives the one-shot hash");

  /* Runs of zeros differ only in length; a flipped bit anywhere must show. */
  enum { N = 65 + 64 * 8 };
  static sl_hash128 hs[N];
  unsigned char zeros[64] = { 0 };
  for (int n = 0; n <= 64; n++) hs[n] = sl_hash128_bytes(zeros, (size_t)n);
  double flipped = 0;
  sl_hash128 base = sl_hash128_bytes(msg, 64);
  for (int b = 0; b < 64 * 8; b++) {
    msg[b / 8] ^= (unsigned char)(1u << (b % 8));
    sl_hash128 h = sl_hash128_bytes(msg, 64);
    msg[b / 8] ^= (unsigned char)(1u << (b % 8));
    hs[65 + b] = h;
    flipped += bits(h.lo ^ base.lo) + bits(h.hi ^ base.hi);
  }
  int distinct = 1;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < i; j++) distinct &= !same(hs[i], hs[j]);
  CHECK(distinct, "no collisions among zero runs of each length and single-bit flips");
  flipped /= 64 * 8;
  printf("# a flipped input bit changes %.1f of 128 output bits on average\n", flipped);
  CHECK(flipped > 60 && flipped < 68, "one flipped bit changes about half the output bits");

  sl_hasher a, b;   /* strings are fed with their ends */
  sl_hasher_init(&a, 1);
  sl_hasher_string(&a, "ab");
  sl_hasher_string(&a, "c");
  sl_hasher_init(&b, 1);
  sl_hasher_string(&b, "a");
  sl_hasher_string(&b, "bc");
  CHECK(!same(sl_hasher_final(&a), sl_hasher_final(&b)), "(ab, c) and (a, bc) differ");
  sl_hasher_init(&b, 2);
  sl_hasher_string(&b, "ab");
  sl_hasher_string(&b, "c");
  CHECK(!same(sl_hasher_final(&a), sl_hasher_final(&b)), "the seed changes the hash");
}

static const char *body =
  "double f(double x) { return sl_floordiv(x, 0.5) + sl_mod((int64_t)x, (int64_t)-4); }\n";

static char *with_prelude(const char *text)
{
  const char *p = sl_cc_prelude();
  char *s = malloc(strlen(p) + strlen(text) + 1);
  if (!s) exit(2);
  strcpy(s, p);
  strcat(s, text);
  return s;
}

static int calls_f(sl_module *m, double x, double want)
{
  double (*f)(double) = (double (*)(double))sl_module_sym(m, "f");
  return f && f(x) == want;
}

static void test_compile(void)
{
  char *src = with_prelude(body);
  if (!sl_cc_available()) {
    printf("# no C compiler: skipping the compiles\n");
    free(src);
    return;
  }
  /* f(7.25) = floor(7.25 / 0.5) + 7 mod -4 = 14 + (-1) */
  sl_module *m = sl_module_compile(src);
  if (!m) printf("# %s\n", sl_errmsg());
  CHECK(m && calls_f(m, 7.25, 13), "cc: compiles, loads and runs");
  CHECK(m && sl_module_sym(m, "no_such_symbol") == NULL, "an absent symbol is NULL");
  sl_module *again = sl_module_compile(src);
  CHECK(again && calls_f(again, 7.25, 13), "cc: the same source again (a cache hit)");
  sl_module_release(again);
  sl_module_release(m);

  if (sl_cc_tcc_available()) {
    m = sl_module_compile_tcc(src);
    if (!m) printf("# %s\n", sl_errmsg());
    CHECK(m && calls_f(m, 7.25, 13), "libtcc: compiles and runs in memory");
    sl_module_release(m);
  }

  /* A job freed before it runs is dropped; two starts of one source share
  ** one compile; every poll once it is done loads a reference of its own. */
  sl_compile_job_free(sl_compile_start(src));
  sl_compile_job *j = sl_compile_start(src), *j2 = sl_compile_start(src);
  CHECK(j && j == j2, "two background compiles of one source are one job");
  struct timespec pause = { 0, 1000000 };
  while (!(m = sl_compile_poll(j)) && !sl_compile_failed(j)) nanosleep(&pause, NULL);
  sl_module *m2 = sl_compile_poll(j2);
  CHECK(m && m2 && calls_f(m, 7.25, 13) && calls_f(m2, 7.25, 13), "a finished background compile loads for each owner");
  sl_compile_job_free(j);
  sl_compile_job_free(j2);
  sl_module_release(m);
  sl_module_release(m2);

  j = sl_compile_start("double f(double x) { return x +; }");
  while (!sl_compile_poll(j) && !sl_compile_failed(j)) nanosleep(&pause, NULL);
  CHECK(sl_compile_poll(j) == NULL && strstr(sl_errmsg(), "C compile failed") != NULL,
        "a failed background compile leaves the compiler's message for the poller");
  sl_compile_job_free(j);
  free(src);
}

int main(void)
{
  char dir[] = "/tmp/symlua_cc_XXXXXX";
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
  sl_cfg.cache_dir = dir;
  test_hash();
  test_compile();
  sl_cfg.cache_dir = NULL;
  char cmd[64];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0, "the cache directory is removed");
  return tap_done();
}
