/*
** cuda_lib.h — the CUDA driver API (libcuda) and NVRTC, opened with dlopen
** on first use: nothing links them, so one build runs with or without a GPU
** and the CUDA toolkit. The few types and functions symlua calls are
** declared here, in one table per library.
*/
#ifndef SL_CUDA_LIB_H
#define SL_CUDA_LIB_H

#include <stddef.h>

typedef int CUresult;          /* 0: CUDA_SUCCESS */
typedef int CUdevice;
typedef int nvrtcResult;       /* 0: NVRTC_SUCCESS */
typedef struct _nvrtcProgram *nvrtcProgram;

enum {   /* CUdevice_attribute values used for the properties */
  SL_CU_MAX_THREADS_PER_BLOCK = 1, SL_CU_MULTIPROCESSOR_COUNT = 16,
  SL_CU_CC_MAJOR = 75, SL_CU_CC_MINOR = 76
};

#define SL_CUDA_DRIVER_FNS(_) \
  _(CUresult, cuInit, (unsigned flags)) \
  _(CUresult, cuDriverGetVersion, (int *v)) \
  _(CUresult, cuDeviceGetCount, (int *n)) \
  _(CUresult, cuDeviceGet, (CUdevice *d, int ordinal)) \
  _(CUresult, cuDeviceGetName, (char *name, int len, CUdevice d)) \
  _(CUresult, cuDeviceGetAttribute, (int *v, int attr, CUdevice d)) \
  _(CUresult, cuDeviceTotalMem_v2, (size_t *bytes, CUdevice d)) \
  _(CUresult, cuGetErrorString, (CUresult r, const char **s))

#define SL_NVRTC_FNS(_) \
  _(nvrtcResult, nvrtcVersion, (int *major, int *minor)) \
  _(const char *, nvrtcGetErrorString, (nvrtcResult r)) \
  _(nvrtcResult, nvrtcCreateProgram, (nvrtcProgram *p, const char *src, const char *name, int nh, \
                                      const char *const *headers, const char *const *names)) \
  _(nvrtcResult, nvrtcCompileProgram, (nvrtcProgram p, int nopt, const char *const *opts)) \
  _(nvrtcResult, nvrtcGetProgramLogSize, (nvrtcProgram p, size_t *n)) \
  _(nvrtcResult, nvrtcGetProgramLog, (nvrtcProgram p, char *log)) \
  _(nvrtcResult, nvrtcGetPTXSize, (nvrtcProgram p, size_t *n)) \
  _(nvrtcResult, nvrtcGetPTX, (nvrtcProgram p, char *ptx)) \
  _(nvrtcResult, nvrtcGetCUBINSize, (nvrtcProgram p, size_t *n)) \
  _(nvrtcResult, nvrtcGetCUBIN, (nvrtcProgram p, char *cubin)) \
  _(nvrtcResult, nvrtcDestroyProgram, (nvrtcProgram *p))

#define SL_CUDA_FN_FIELD(ret, name, args) ret (*name) args;
typedef struct sl_cuda_driver { SL_CUDA_DRIVER_FNS(SL_CUDA_FN_FIELD) } sl_cuda_driver;
typedef struct sl_nvrtc { SL_NVRTC_FNS(SL_CUDA_FN_FIELD) } sl_nvrtc;
#undef SL_CUDA_FN_FIELD

/* The driver, initialized, or NULL + sl_fail naming what is missing
** ("cuda: libcuda.so.1 not found: no NVIDIA driver on this machine"). */
const sl_cuda_driver *sl_cuda_driver_open(void);
/* NVRTC, or NULL + sl_fail naming the library. */
const sl_nvrtc *sl_nvrtc_open(void);

/* Devices the driver sees (0 without a driver). */
int sl_cuda_device_count(void);

typedef struct sl_cuda_props {
  char name[256];
  int major, minor, multiprocessors, max_threads_per_block;
  size_t total_memory;
} sl_cuda_props;
/* Properties of device i: 0, or -1 + sl_fail. */
int sl_cuda_device_props(int i, sl_cuda_props *p);

#endif
