/*
** nvrtc.c — a function's CUDA source compiled by NVRTC for one arch,
** through the disk cache (cache.h): a real arch ("sm_90") gives a cubin,
** the device's own machine code, loaded without a JIT; a virtual one
** ("compute_90") gives PTX, which the driver compiles for whatever device
** it finds. The key hashes the source (less its comments), NVRTC's
** version, the options and the arch, never the output (NVRTC's output is not deterministic); the
** entry is the output's bytes.
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
  sl_hasher_code(&h, source);
  sl_hasher_update(&h, &major, sizeof major);
  sl_hasher_update(&h, &minor, sizeof minor);
  for (int i = 0; i < NOPTIONS; i++) sl_hasher_string(&h, options[i]);
  sl_hasher_string(&h, arch);
  return sl_hasher_final(&h);
}

static int write_entry(const char *path, const char *ext, const char *data, size_t n)
{
  char tmp[4200];
  sl_cache_temp_path(path, ext, tmp, sizeof tmp);
  FILE *fp = fopen(tmp, "wb");
  if (!fp) return sl_fail("cuda: cannot write %s", tmp);
  int ok = fwrite(data, 1, n, fp) == n;
  if (fclose(fp) != 0 || !ok) { remove(tmp); return sl_fail("cuda: cannot write %s", tmp); }
  return sl_cache_install(tmp, path);
}

/* The compiled program's output: the cubin for a real arch, else the PTX
** with its NUL. Malloc'd with a NUL after it; its size in *n. */
static char *output_of(const sl_nvrtc *nv, nvrtcProgram prog, int cubin, size_t *n)
{
  *n = 0;
  nvrtcResult rc = cubin ? nv->nvrtcGetCUBINSize(prog, n) : nv->nvrtcGetPTXSize(prog, n);
  char *out = rc == 0 ? malloc(*n + 1) : NULL;
  if (!out) { sl_fail(rc ? "cuda: NVRTC gave no output: %s" : "out of memory", nv->nvrtcGetErrorString(rc)); return NULL; }
  rc = cubin ? nv->nvrtcGetCUBIN(prog, out) : nv->nvrtcGetPTX(prog, out);
  if (rc != 0) { free(out); sl_fail("cuda: NVRTC gave no output: %s", nv->nvrtcGetErrorString(rc)); return NULL; }
  out[*n] = 0;
  return out;
}

char *sl_nvrtc_compile(const char *source, const char *arch, size_t *size, int *hit)
{
  const sl_nvrtc *nv = sl_nvrtc_open();
  if (!nv) return NULL;
  int cubin = strncmp(arch, "sm_", 3) == 0;
  if (!cubin && strncmp(arch, "compute_", 8) != 0) {
    sl_fail("cuda: arch '%s' is neither a real one (sm_90, for a cubin) nor a virtual one (compute_90, for PTX)", arch);
    return NULL;
  }
  const char *ext = cubin ? ".cubin" : ".ptx";
  int major = 0, minor = 0;
  nv->nvrtcVersion(&major, &minor);
  char dir[4096], path[4200];
  sl_hash128 key = key_of(source, arch, major, minor);
  if (hit) *hit = 0;
  if (sl_cache_dir(sl_cfg.cache_dir, dir, sizeof dir) != 0 || sl_cache_path(dir, key, ext, path, sizeof path) != 0)
    return NULL;
  char *out = (char *)sl_cache_read(path, size);
  if (out) { if (hit) *hit = 1; return out; }

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
  out = output_of(nv, prog, cubin, size);
  nv->nvrtcDestroyProgram(&prog);
  if (!out) return NULL;
  if (!cubin) *size += 1;   /* the PTX's NUL is part of it */
  if (write_entry(path, ext, out, *size) != 0) { free(out); return NULL; }
  return out;
}

int sl_nvrtc_version(void)
{
  const sl_nvrtc *nv = sl_nvrtc_open();
  int major = 0, minor = 0;
  if (!nv || nv->nvrtcVersion(&major, &minor) != 0) return 0;
  return major * 1000 + minor * 10;
}
