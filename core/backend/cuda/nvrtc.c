/*
** nvrtc.c — a function's CUDA source compiled by NVRTC to PTX for one
** arch, through the disk cache (cache.h). The key hashes the source,
** NVRTC's version, the options and the arch, never the PTX (NVRTC's
** output is not deterministic); the entry is the PTX text, NUL-ended.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "config.h"
#include "cuda_lib.h"
#include "cuda_nvrtc.h"
#include "internal.h"

/* -fmad=false: no contraction of a*b+c, as the C backend's -ffp-contract=off. */
static const char *const options[] = { "-default-device", "-std=c++20", "-fmad=false" };
#define NOPTIONS ((int)(sizeof options / sizeof *options))

static sl_hash128 key_of(const char *source, const char *arch, int major, int minor)
{
  sl_hasher h;
  sl_hasher_init(&h, 0x6e767274630a5450ULL);
  sl_hasher_string(&h, source);
  sl_hasher_update(&h, &major, sizeof major);
  sl_hasher_update(&h, &minor, sizeof minor);
  for (int i = 0; i < NOPTIONS; i++) sl_hasher_string(&h, options[i]);
  sl_hasher_string(&h, arch);
  return sl_hasher_final(&h);
}

static char *read_entry(const char *path)
{
  if (!sl_cache_check(path)) return NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp) return NULL;
  fseek(fp, 0, SEEK_END);
  long n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  char *buf = n > 0 ? malloc((size_t)n + 1) : NULL;
  if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) { free(buf); buf = NULL; }
  fclose(fp);
  if (buf) buf[n] = 0;   /* the PTX ends at its own NUL, before the trailer */
  return buf;
}

static int write_entry(const char *path, const char *ptx)
{
  char tmp[4200];
  sl_cache_temp_path(path, ".ptx", tmp, sizeof tmp);
  FILE *fp = fopen(tmp, "wb");
  if (!fp) return sl_fail("cuda: cannot write %s", tmp);
  int ok = fwrite(ptx, 1, strlen(ptx) + 1, fp) == strlen(ptx) + 1;
  if (fclose(fp) != 0 || !ok) { remove(tmp); return sl_fail("cuda: cannot write %s", tmp); }
  return sl_cache_install(tmp, path);
}

char *sl_nvrtc_ptx(const char *source, const char *arch, int *hit)
{
  const sl_nvrtc *nv = sl_nvrtc_open();
  if (!nv) return NULL;
  int major = 0, minor = 0;
  nv->nvrtcVersion(&major, &minor);
  char dir[4096], path[4200];
  sl_hash128 key = key_of(source, arch, major, minor);
  if (hit) *hit = 0;
  if (sl_cache_dir(sl_cfg.cache_dir, dir, sizeof dir) != 0 || sl_cache_path(dir, key, ".ptx", path, sizeof path) != 0)
    return NULL;
  char *ptx = read_entry(path);
  if (ptx) { if (hit) *hit = 1; return ptx; }

  char archopt[64];
  snprintf(archopt, sizeof archopt, "-arch=%s", arch);
  const char *opts[NOPTIONS + 1];
  for (int i = 0; i < NOPTIONS; i++) opts[i] = options[i];
  opts[NOPTIONS] = archopt;
  nvrtcProgram prog;
  nvrtcResult rc = nv->nvrtcCreateProgram(&prog, source, "symlua.cu", 0, NULL, NULL);
  if (rc != 0) { sl_fail("cuda: nvrtcCreateProgram: %s", nv->nvrtcGetErrorString(rc)); return NULL; }
  rc = nv->nvrtcCompileProgram(prog, NOPTIONS + 1, opts);
  if (rc != 0) {
    size_t n = 0;
    nv->nvrtcGetProgramLogSize(prog, &n);
    char *log = malloc(n + 1);
    if (log) { log[0] = 0; nv->nvrtcGetProgramLog(prog, log); log[n] = 0; }
    sl_fail("cuda: NVRTC %d.%d could not compile the generated kernels for %s: %s", major, minor, arch,
            log ? log : nv->nvrtcGetErrorString(rc));
    free(log);
    nv->nvrtcDestroyProgram(&prog);
    return NULL;
  }
  size_t n = 0;
  nv->nvrtcGetPTXSize(prog, &n);
  ptx = malloc(n + 1);
  if (ptx) { nv->nvrtcGetPTX(prog, ptx); ptx[n] = 0; }
  nv->nvrtcDestroyProgram(&prog);
  if (!ptx) { sl_fail("out of memory"); return NULL; }
  if (write_entry(path, ptx) != 0) { free(ptx); return NULL; }
  return ptx;
}

int sl_nvrtc_version(void)
{
  const sl_nvrtc *nv = sl_nvrtc_open();
  int major = 0, minor = 0;
  if (!nv || nv->nvrtcVersion(&major, &minor) != 0) return 0;
  return major * 1000 + minor * 10;
}
