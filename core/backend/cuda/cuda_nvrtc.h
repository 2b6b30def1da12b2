/*
** cuda_nvrtc.h — compiling a function's CUDA source with NVRTC (nvrtc.c).
*/
#ifndef SL_CUDA_NVRTC_H
#define SL_CUDA_NVRTC_H

/* Source compiled for arch: a cubin for a real arch ("sm_90"), PTX (NUL
** included in *size) for a virtual one ("compute_90"); from the disk cache
** when it has it (*hit 1) or compiled now (*hit 0). Malloc'd, with a NUL
** after its *size bytes; NULL + sl_fail with NVRTC's log, or naming the
** missing library. */
char *sl_nvrtc_compile(const char *source, const char *arch, size_t *size, int *hit);

/* NVRTC's version as major * 1000 + minor * 10, or 0 + sl_fail when it is absent. */
int sl_nvrtc_version(void);

#endif
