/*
** test_idx.c — IDX files through the public C API (sl_idx_load): big-endian
** values decoded, and a message that keeps its reason when the path is long.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symlua.h"

#include "tap.h"

int main(void)
{
  char dir[] = "/tmp/symlua-test-idx-XXXXXX";
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
  char path[300];
  snprintf(path, sizeof path, "%s/a.idx", dir);

  /* int16 values (2, 2): -2, 300, 1, -32768 */
  const unsigned char file[] = { 0, 0, 0x0B, 2, 0, 0, 0, 2, 0, 0, 0, 2,
                                 0xFF, 0xFE, 0x01, 0x2C, 0x00, 0x01, 0x80, 0x00 };
  FILE *f = fopen(path, "wb");
  fwrite(file, 1, sizeof file, f);
  fclose(f);
  sl_tensor *t = sl_idx_load(path);
  CHECK(t && t->dtype == SL_INT32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 2,
        "int16 (2, 2) loads as int32 (2, 2)");
  const int32_t want[] = { -2, 300, 1, -32768 };
  CHECK(t && memcmp(sl_tensor_ptr(t), want, sizeof want) == 0, "big-endian int16 values decoded");
  sl_tensor_release(t);

  /* a 5000-byte path: the reason stays at the end, the path is clipped */
  char *name = malloc(5001);
  memset(name, 'a', 5000);
  name[5000] = '\0';
  t = sl_idx_load(name);
  const char *msg = sl_errmsg();
  size_t n = strlen(msg);
  CHECK(!t && n < 1024 && n > 20 && strcmp(msg + n - 20, "(File name too long)") == 0,
        "a long path's error ends in its reason");
  CHECK(strstr(msg, "aaaa \xe2\x80\xa6 aaaa") != NULL, "the path is clipped around an ellipsis");
  free(name);

  unlink(path);
  rmdir(dir);
  CHECK(sl_mem_bytes() == 0, "no tensor memory left");
  return tap_done();
}
