/*
** test_npy.c — .npy save and load through the public C API only: a round
** trip of a non-contiguous view, and clear errors for broken files.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symlua.h"

#include "tap.h"

/* The load fails and its message contains want. */
static void check_load_error(const char *path, const char *want, const char *what)
{
  sl_tensor *t = sl_npy_load(path);
  int ok = t == NULL && strstr(sl_errmsg(), want) != NULL;
  if (!ok) printf("# message: %s\n", t ? "(none: the load succeeded)" : sl_errmsg());
  sl_tensor_release(t);
  CHECK(ok, what);
}

static void write_file(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, n, f) != n) { perror(path); exit(2); }
  fclose(f);
}

int main(void)
{
  char dir[] = "/tmp/symlua_npy_XXXXXX";
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 2; }
  char path[256], bad[256];
  snprintf(path, sizeof path, "%s/a.npy", dir);
  snprintf(bad, sizeof bad, "%s/bad.npy", dir);

  /* a (3, 4) float32 matrix, saved through its (4, 3) transpose */
  int64_t shape[2] = { 3, 4 };
  sl_tensor *m = sl_tensor_empty(SL_FLOAT32, 2, shape);
  float *p = sl_tensor_ptr(m);
  for (int i = 0; i < 12; i++) p[i] = (float)i * 0.5f - 1.0f;
  sl_tensor *tr = sl_tensor_transpose(m, 0, 1);
  CHECK(sl_npy_save(path, tr) == 0, "save a transposed view");

  sl_tensor *u = sl_npy_load(path);
  CHECK(u != NULL, "load it back");
  if (u) {
    CHECK(u->dtype == SL_FLOAT32 && u->ndim == 2 && u->shape[0] == 4 && u->shape[1] == 3,
          "dtype float32 and shape (4, 3)");
    CHECK(sl_tensor_is_contiguous(u), "the loaded tensor is contiguous");
    int same = 1;
    for (int64_t i = 0; i < 4; i++)
      for (int64_t j = 0; j < 3; j++) {
        int64_t a[2] = { i, j }, b[2] = { j, i };
        if (sl_tensor_get(u, a) != sl_tensor_get(m, b)) same = 0;
      }
    CHECK(same, "values equal the transpose");
  }

  /* a corrupt file: the right magic, then a header cut short */
  static const char trunc[] = "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4'";
  write_file(bad, trunc, sizeof trunc - 1);
  check_load_error(bad, "header truncated", "a truncated header is reported");
  write_file(bad, "just text\n", 10);
  check_load_error(bad, "not a NumPy .npy file", "a text file is reported");

  /* a save into a directory that does not exist fails and says why */
  char missing[300];
  snprintf(missing, sizeof missing, "%s/no/such.npy", dir);
  int r = sl_npy_save(missing, m);
  CHECK(r == -1 && strstr(sl_errmsg(), "No such file or directory") != NULL,
        "a save into a missing directory fails with the OS reason");

  sl_tensor_release(u);
  sl_tensor_release(tr);
  sl_tensor_release(m);
  unlink(path);
  unlink(bad);
  rmdir(dir);
  CHECK(sl_mem_bytes() == 0, "no tensor memory left");
  return tap_done();
}
