/*
** cuda_host.h — host emulation of the CUDA kernels beyond compiled
** functions (cuda_host.c; the cuda_host backend is in the registry).
*/
#ifndef SL_CUDA_HOST_H
#define SL_CUDA_HOST_H

#include <stdint.h>

#include "symlua.h"

/* Fills t (contiguous float32 or float64) by the CUDA kernel of random
** draws (kernels/cuda/random.h), launched as a device would launch it:
** uniform, or normal, values of Philox key seed from block offset. 0, or
** -1 + sl_fail (no C++ compiler, a tensor it cannot fill). */
int sl_cuda_host_draw(sl_tensor *t, int normal, uint64_t seed, uint64_t offset);

#endif
