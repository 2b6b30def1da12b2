/*
** kernel_frame.h — one call's layout of a fused kernel step, the same for
** every generating backend (kernel_frame.c): the loop's shape, the stores,
** every operand's strides on the collapsed loop. The C backend passes the
** block to its kernels as is; the CUDA backend copies it into sl_cuargs.
*/
#ifndef SL_KERNEL_FRAME_H
#define SL_KERNEL_FRAME_H

#include "backend.h"
#include "kernel_abi.h"

/* Lays out step's kernel for this call into a (all but threads and
** omp_threshold): each member's shape by NumPy broadcasting, the stores
** allocated (an input written over where the inplace pass allows it),
** operand strides mapped onto the loop shape, size-1 axes dropped and axes
** contiguous in every operand merged. a->n counts the loop's elements
** (the reduced ones too). rank and shape are scratch for each member.
** 0: laid out, run it; 1: done already (nothing to compute, or the step
** ran node by node on the reference path: a broadcasting error, stores of
** different shapes, an empty reduction, so errors read as the reference
** backend's); -1 + sl_fail. */
int sl_kernel_frame(sl_run *r, sl_step *step, sl_kargs *a, int *rank, int64_t (*shape)[SL_MAXDIM]);

/* 1 when every full operand of k (loads and stores) walks axis d of a with
** unit stride; with column_zero a column load must have stride 0 there
** (one value per row, read once). */
int sl_kernel_unit_axis(const sl_kernel *k, const sl_kargs *a, int d, int column_zero);

#endif
