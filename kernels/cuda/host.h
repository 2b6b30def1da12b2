/*
** host.h — host emulation of the CUDA that generated kernels use, so that
** they compile as C++ on the CPU (SL_CUDA_HOST) and their index arithmetic
** and variants run against the reference backend on machines without a GPU.
**
** A launch runs the blocks one after another; the threads of a block are
** fibers on one OS thread (a register switch on x86-64, ucontext elsewhere). __syncthreads() switches back to the
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
static char *sl_emu_stacks;
static int sl_emu_cur;
static unsigned char sl_emu_done[SL_EMU_MAXTHREADS];
static void (*sl_emu_kernel)(const void *);
static const void *sl_emu_args;

#if defined(__x86_64__)
/* A switch between fibers saves what the ABI makes the callee keep (rbx,
** rbp, r12-r15) on the running stack, stores the stack pointer, loads the
** other's and returns into it: no signal mask to save, unlike swapcontext
** (a system call per switch). */
static void *sl_emu_sched_sp, *sl_emu_sp[SL_EMU_MAXTHREADS];
extern "C" void sl_emu_switch(void **save, void *load);
__asm__(".text\n.p2align 4\n.hidden sl_emu_switch\n.globl sl_emu_switch\n.type sl_emu_switch, @function\n"
        "sl_emu_switch:\n"
        "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
        "  movq %rsp, (%rdi)\n  movq %rsi, %rsp\n"
        "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
        "  ret\n.size sl_emu_switch, .-sl_emu_switch\n");
static void sl_emu_thread(void);
/* A fresh fiber's stack: six zero registers, then sl_emu_thread as the return
** address, entered as a call would enter it (rsp + 8 a multiple of 16). */
static void sl_emu_start(int t)
{
  uintptr_t top = ((uintptr_t)(sl_emu_stacks + (size_t)(t + 1) * SL_EMU_STACK)) & ~(uintptr_t)15;
  void **sp = (void **)top;
  *--sp = NULL;                       /* sl_emu_thread's own return address: never used */
  *--sp = (void *)sl_emu_thread;
  for (int i = 0; i < 6; i++) *--sp = NULL;
  sl_emu_sp[t] = sp;
}
static void sl_emu_to_thread(int t) { sl_emu_switch(&sl_emu_sched_sp, sl_emu_sp[t]); }
static void sl_emu_to_sched(void) { sl_emu_switch(&sl_emu_sp[sl_emu_cur], sl_emu_sched_sp); }
#else
static ucontext_t sl_emu_sched, sl_emu_ctx[SL_EMU_MAXTHREADS];
static void sl_emu_thread(void);
static void sl_emu_start(int t)
{
  getcontext(&sl_emu_ctx[t]);
  sl_emu_ctx[t].uc_stack.ss_sp = sl_emu_stacks + (size_t)t * SL_EMU_STACK;
  sl_emu_ctx[t].uc_stack.ss_size = SL_EMU_STACK;
  sl_emu_ctx[t].uc_link = &sl_emu_sched;
  makecontext(&sl_emu_ctx[t], sl_emu_thread, 0);
}
static void sl_emu_to_thread(int t) { swapcontext(&sl_emu_sched, &sl_emu_ctx[t]); }
static void sl_emu_to_sched(void) { swapcontext(&sl_emu_ctx[sl_emu_cur], &sl_emu_sched); }
#endif

static void __syncthreads(void) { sl_emu_to_sched(); }

/* A thread runs the kernel, is marked done and goes back to the scheduler for good. */
static void sl_emu_thread(void)
{
  sl_emu_kernel(sl_emu_args);
  sl_emu_done[sl_emu_cur] = 1;
  sl_emu_to_sched();
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

/* The threads' stacks go with the module (dlclose runs this). */
__attribute__((destructor)) static void sl_emu_free_stacks(void)
{
  free(sl_emu_stacks);
  sl_emu_stacks = NULL;
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
      sl_emu_start((int)t);
      sl_emu_done[t] = 0;
    }
    for (unsigned live = block; live > 0;) {   /* rounds: every thread to its next barrier */
      live = 0;
      for (unsigned t = 0; t < block; t++) {
        if (sl_emu_done[t]) continue;
        sl_emu_cur = (int)t;
        sl_emu_tid.x = t; sl_emu_tid.y = sl_emu_tid.z = 0;
        sl_emu_to_thread((int)t);
        live += !sl_emu_done[t];
      }
    }
  }
  return 0;
}

#endif
