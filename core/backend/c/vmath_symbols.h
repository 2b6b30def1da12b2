/*
** vmath_symbols.h — kernels/vmath.h's functions as compiled into symlua, by
** name, for libtcc's modules to link against.
*/
#ifndef SL_VMATH_SYMBOLS_H
#define SL_VMATH_SYMBOLS_H

typedef struct sl_vmath_symbol { const char *name; const void *fn; } sl_vmath_symbol;

/* Every function of SL_VMATH_FUNCS in the version this CPU runs fastest,
** ending in { NULL, NULL }. */
const sl_vmath_symbol *sl_vmath_symbols(void);

/* Both tables, for tests: without the FMA instruction, and with it (NULL
** where the CPU or the build has none). */
void sl_vmath_symbol_tables(const sl_vmath_symbol **without, const sl_vmath_symbol **with);

#endif
