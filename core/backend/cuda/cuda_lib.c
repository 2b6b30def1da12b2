/*
** cuda_lib.c — opening libcuda and libnvrtc at run time (cuda_lib.h):
** versioned names first, as the driver and the toolkit install them, then
** the unversioned ones (a development link), then the toolkit's own lib64.
** Each library is tried once per process; its failure message is kept.
*/
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cuda_lib.h"
#include "internal.h"

static const char *const driver_names[] = { "libcuda.so.1", "libcuda.so", NULL };
static const char *const nvrtc_names[] = {
  "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so",
  "/usr/local/cuda/lib64/libnvrtc.so.13", "/usr/local/cuda/lib64/libnvrtc.so.12",
  "/usr/local/cuda/lib64/libnvrtc.so", NULL
};

/* dlopen the first of names that opens and resolve every symbol into fns
** (an array of function pointers in the order of syms): 0, or -1 with why in err. */
static int open_lib(const char *const *names, const char *const *syms, void **fns, int n,
                    const char *missing, char *err, size_t nerr)
{
  void *h = NULL;
  for (int i = 0; names[i] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!h) { snprintf(err, nerr, "%s", missing); return -1; }
  for (int i = 0; i < n; i++)
    if (!(fns[i] = dlsym(h, syms[i]))) {
      snprintf(err, nerr, "cuda: %s lacks %s (too old a version)", names[0], syms[i]);
      dlclose(h);
      return -1;
    }
  return 0;
}

#define SL_CUDA_FN_NAME(ret, name, args) #name,

static sl_cuda_driver driver;
static sl_nvrtc nvrtc;
static int driver_state, nvrtc_state;   /* 0 not tried, 1 open, -1 failed */
static char driver_err[256], nvrtc_err[256];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

const sl_cuda_driver *sl_cuda_driver_open(void)
{
  static const char *const syms[] = { SL_CUDA_DRIVER_FNS(SL_CUDA_FN_NAME) };
  pthread_mutex_lock(&lock);
  if (driver_state == 0) {
    driver_state = open_lib(driver_names, syms, (void **)&driver, (int)(sizeof syms / sizeof *syms),
                            "cuda: libcuda.so.1 not found: no NVIDIA driver on this machine",
                            driver_err, sizeof driver_err) ? -1 : 1;
    CUresult rc;
    if (driver_state == 1 && (rc = driver.cuInit(0)) != 0) {
      const char *s = NULL;
      driver.cuGetErrorString(rc, &s);
      snprintf(driver_err, sizeof driver_err, "cuda: cuInit failed: %s (error %d)", s ? s : "unknown", rc);
      driver_state = -1;
    }
  }
  int st = driver_state;
  pthread_mutex_unlock(&lock);
  if (st < 0) { sl_fail("%s", driver_err); return NULL; }
  return &driver;
}

const sl_nvrtc *sl_nvrtc_open(void)
{
  static const char *const syms[] = { SL_NVRTC_FNS(SL_CUDA_FN_NAME) };
  pthread_mutex_lock(&lock);
  if (nvrtc_state == 0)
    nvrtc_state = open_lib(nvrtc_names, syms, (void **)&nvrtc, (int)(sizeof syms / sizeof *syms),
                           "cuda: libnvrtc.so.13 not found: no CUDA toolkit (NVRTC) on this machine",
                           nvrtc_err, sizeof nvrtc_err) ? -1 : 1;
  int st = nvrtc_state;
  pthread_mutex_unlock(&lock);
  if (st < 0) { sl_fail("%s", nvrtc_err); return NULL; }
  return &nvrtc;
}

int sl_cuda_device_count(void)
{
  const sl_cuda_driver *d = sl_cuda_driver_open();
  int n = 0;
  if (!d || d->cuDeviceGetCount(&n) != 0) n = 0;
  return n;
}

int sl_cuda_device_props(int i, sl_cuda_props *p)
{
  const sl_cuda_driver *d = sl_cuda_driver_open();
  if (!d) return -1;
  CUdevice dev;
  memset(p, 0, sizeof *p);
  if (i < 0 || i >= sl_cuda_device_count() || d->cuDeviceGet(&dev, i) != 0)
    return sl_fail("cuda: no device %d (the driver sees %d)", i, sl_cuda_device_count());
  if (d->cuDeviceGetName(p->name, (int)sizeof p->name, dev) != 0 ||
      d->cuDeviceGetAttribute(&p->major, SL_CU_CC_MAJOR, dev) != 0 ||
      d->cuDeviceGetAttribute(&p->minor, SL_CU_CC_MINOR, dev) != 0 ||
      d->cuDeviceGetAttribute(&p->multiprocessors, SL_CU_MULTIPROCESSOR_COUNT, dev) != 0 ||
      d->cuDeviceGetAttribute(&p->max_threads_per_block, SL_CU_MAX_THREADS_PER_BLOCK, dev) != 0 ||
      d->cuDeviceTotalMem_v2(&p->total_memory, dev) != 0)
    return sl_fail("cuda: the properties of device %d cannot be read", i);
  return 0;
}
