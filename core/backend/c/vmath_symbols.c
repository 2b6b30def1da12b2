/*
** vmath_symbols.c — the functions of kernels/vmath.h built by the system
** compiler into symlua, for the code libtcc builds (the C backend's first
** tier, which declares them extern: see SL_VMATH_EXTERN in vmath.h).
**
** libtcc's own build of vmath.h runs about 25 times slower per element, so
** a first call full of exp and tanh crawled. These copies come from the same
** text and give the same bits as the optimizing compiler's inlined ones: the
** Makefile builds this file with -ffp-contract=off, as generated code is, and
** vmath.h rounds each a * b + c of its own once through fma on every target.
** On x86-64 each function exists twice, with the FMA instruction and without
** (libm's fma, exact as well); the table picks the one the CPU runs.
*/
#include <stddef.h>

#include "../kernels/vmath.h"
#include "vmath_symbols.h"

#define SL_VM_PLAIN(T, name) static T name##_plain(T x) { return name(x); }
SL_VMATH_FUNCS(SL_VM_PLAIN)
#undef SL_VM_PLAIN

#define SL_VM_ROW(T, name) { #name, (const void *)name##_plain },
static const sl_vmath_symbol plain[] = { SL_VMATH_FUNCS(SL_VM_ROW) { NULL, NULL } };
#undef SL_VM_ROW

#if defined(__x86_64__) && defined(__GNUC__)
#define SL_VM_FMA(T, name) __attribute__((target("fma"))) static T name##_fma(T x) { return name(x); }
SL_VMATH_FUNCS(SL_VM_FMA)
#undef SL_VM_FMA

#define SL_VM_ROW(T, name) { #name, (const void *)name##_fma },
static const sl_vmath_symbol with_fma[] = { SL_VMATH_FUNCS(SL_VM_ROW) { NULL, NULL } };
#undef SL_VM_ROW

static int has_fma(void) { return __builtin_cpu_supports("fma"); }
#else
static const sl_vmath_symbol *const with_fma = NULL;
static int has_fma(void) { return 0; }
#endif

const sl_vmath_symbol *sl_vmath_symbols(void) { return has_fma() ? with_fma : plain; }

void sl_vmath_symbol_tables(const sl_vmath_symbol **without, const sl_vmath_symbol **with)
{
  *without = plain;
  *with = has_fma() ? with_fma : NULL;
}
