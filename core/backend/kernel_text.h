/*
** kernel_text.h — the text every generating backend prints alike: C types
** of dtypes, conversions, exact literals, reduction accumulators, and the
** body macro of a fused kernel (its arithmetic from the op rows' cexpr).
** The backends differ only in the loops (their variants) around the body.
*/
#ifndef SL_KERNEL_TEXT_H
#define SL_KERNEL_TEXT_H

#include <stdio.h>

#include "lower.h"

/* The storage C type of each dtype ("float", "uint16_t" for float16, ...). */
extern const char *const sl_kt_ctype[SL_NDTYPES];

/* The C type arithmetic happens in, and the one a value has in a body. */
const char *sl_kt_compute_ctype(sl_dtype dt);
const char *sl_kt_value_ctype(sl_dtype dt);

/* Text converting expression x to a value of dtype dt; the same in dt's storage. */
void sl_kt_conv(FILE *o, sl_dtype dt, const char *x);
void sl_kt_store(FILE *o, sl_dtype dt, const char *x);

/* A one-element constant as an exact C literal of its dtype. */
void sl_kt_literal(FILE *o, const sl_tensor *t);

/* Reductions. A float reduction (float data, or mean) accumulates in
** double, or with narrow in float when the data is float32 or 16-bit;
** integer sums and products in uint64_t (they wrap), max and min in int64_t. */
int sl_kt_reduce_float(const sl_node *r);
const char *sl_kt_acc_ctype(const sl_node *r, int narrow);
const char *sl_kt_acc_identity(const sl_node *r);

/* The kernel's pasted constants, each `qual TYPE sl_k<K>_c<L> = literal;`. */
void sl_kt_constants(FILE *o, const sl_function *f, const sl_kernel *k, const char *qual);

/* The macro sl_k<K>_body(V.., W.. or R): loads V, stores W, or the
** reduction's accumulator-typed value R (acc is its C type). */
void sl_kt_body(FILE *o, const sl_function *f, const sl_kernel *k, const char *acc);

/* Typed pointers p<L> to the loads and q<S> to the stores, from a->ptr[];
** a load read once (a scalar, and a column when columns_once) also into
** h<L>. ptr_qual qualifies the pointers themselves ("const " or ""). */
void sl_kt_operand_pointers(FILE *o, const sl_function *f, const sl_kernel *k, int columns_once,
                            const char *ptr_qual);

/* The macros sl_k<K>_comb(A, V) and sl_k<K>_fin(A) of a reduction kernel;
** fin reads the count of reduced elements as a->rcount. */
void sl_kt_reduce_macros(FILE *o, const sl_kernel *k);

/* Every kernel of p, each after a comment line, printed by `print`: those
** whose text (`text`, the kernel alone) is the same but for their name share
** one copy (k->code is the first one's id); past max_distinct distinct ones
** (0: no limit), k->code is -1 and nothing is printed. 0, or -1 out of memory. */
typedef void (*sl_kt_print_fn)(FILE *o, const sl_function *f, const sl_kernel *k);
int sl_kt_kernels(FILE *o, const sl_function *f, sl_plan *p, int max_distinct, sl_kt_print_fn print);

#endif
