/*
** host.h — host emulation of the CUDA that generated kernels use, so that
** they compile as C++ on the CPU (SL_CUDA_HOST) and their index arithmetic
** and variants run against the reference backend on machines without a GPU.
**
** A launch runs the blocks one after another; the threads of a block are
** fibers (ucontext) on one OS thread. __syncthreads() switches back to the
** scheduler, which resumes every thread of the block in turn, so no thread
** passes a barrier before all have reached it. __shared__ variables are
** static: one copy for the block that runs. A warp shuffle is a store to a
** per-thread slot, a barrier, a read of the partner's slot and a barrier;
** it needs every thread of the block to take part (as the reductions do).
*/
#ifndef SL_CUDA_HOST_H
#define SL_CUDA_HOST_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

struct sl_emu_dim3 { unsigned x, y, z; };
static sl_emu_dim3 sl_emu_tid, sl_emu_bid, sl_emu_bdim, sl_emu_gdim;
#define threadIdx sl_emu_tid
#define blockIdx sl_emu_bid
#define blockDim sl_emu_bdim
#define gridDim sl_emu_gdim

enum { SL_EMU_STACK = 64 * 1024, SL_EMU_MAXTHREADS = 1024 };
static ucontext_t sl_emu_sched, sl_emu_ctx[SL_EMU_MAXTHREADS];
static char *sl_emu_stacks;
static int sl_emu_cur;
static unsigned char sl_emu_done[SL_EMU_MAXTHREADS];
static void (*sl_emu_kernel)(const void *);
static const void *sl_emu_args;

static void __syncthreads(void) { swapcontext(&sl_emu_ctx[sl_emu_cur], &sl_emu_sched); }

static void sl_emu_thread(void)
{
  sl_emu_kernel(sl_emu_args);
  sl_emu_done[sl_emu_cur] = 1;   /* uc_link returns to the scheduler */
}

/* __shfl_down_sync: the value of the thread delta lanes up in the warp, or
** the caller's own where that lane is past the warp's end. */
static uint64_t sl_emu_slot[SL_EMU_MAXTHREADS];
template <class T> static T __shfl_down_sync(unsigned mask, T v, int delta)
{
  (void)mask;
  int t = sl_emu_cur, lane = t % 32;
  memcpy(&sl_emu_slot[t], &v, sizeof v);
  __syncthreads();
  T r = v;
  if (lane + delta < 32 && t + delta < (int)sl_emu_bdim.x) memcpy(&r, &sl_emu_slot[t + delta], sizeof r);
  __syncthreads();
  return r;
}

/* Runs kernel(args) on grid x block threads; 0, or -1 when out of memory. */
static int sl_emu_launch(unsigned grid, unsigned block, void (*kernel)(const void *), const void *args)
{
  if (block > SL_EMU_MAXTHREADS) return -1;
  if (!sl_emu_stacks && !(sl_emu_stacks = (char *)malloc((size_t)SL_EMU_MAXTHREADS * SL_EMU_STACK))) return -1;
  sl_emu_kernel = kernel;
  sl_emu_args = args;
  sl_emu_gdim.x = grid; sl_emu_bdim.x = block;
  sl_emu_gdim.y = sl_emu_gdim.z = sl_emu_bdim.y = sl_emu_bdim.z = 1;
  for (unsigned b = 0; b < grid; b++) {
    sl_emu_bid.x = b; sl_emu_bid.y = sl_emu_bid.z = 0;
    for (unsigned t = 0; t < block; t++) {
      getcontext(&sl_emu_ctx[t]);
      sl_emu_ctx[t].uc_stack.ss_sp = sl_emu_stacks + (size_t)t * SL_EMU_STACK;
      sl_emu_ctx[t].uc_stack.ss_size = SL_EMU_STACK;
      sl_emu_ctx[t].uc_link = &sl_emu_sched;
      makecontext(&sl_emu_ctx[t], sl_emu_thread, 0);
      sl_emu_done[t] = 0;
    }
    for (unsigned live = block; live > 0;) {   /* rounds: every thread to its next barrier */
      live = 0;
      for (unsigned t = 0; t < block; t++) {
        if (sl_emu_done[t]) continue;
        sl_emu_cur = (int)t;
        sl_emu_tid.x = t; sl_emu_tid.y = sl_emu_tid.z = 0;
        swapcontext(&sl_emu_sched, &sl_emu_ctx[t]);
        live += !sl_emu_done[t];
      }
    }
  }
  return 0;
}

#endif
