/*
** elemwise_rows.h — the elementwise ops' table: one row per op (name, arity,
** typing rule, scalar expression, complex function or NULL). elemwise.c
** expands it into the op rows and their reference functions; rows.h into
** the declarations every other file names the ops by.
*/
#ifndef SL_ELEMWISE_ROWS_H
#define SL_ELEMWISE_ROWS_H

/* One row per op: name, arity, typing rule, the scalar expression (the
** reference kernels' and the generated code's), the complex function or NULL. */
#define SL_ELEMWISE_OPS(_) \
  _(add,        2, SL_TR_PROMOTE,   sl_add(a, b), c_add) \
  _(sub,        2, SL_TR_PROMOTE,   sl_sub(a, b), c_sub) \
  _(mul,        2, SL_TR_PROMOTE,   sl_mul(a, b), c_mul) \
  _(true_div,   2, SL_TR_FLOAT,     a / b, c_div) \
  _(int_div,    2, SL_TR_PROMOTE,   sl_floordiv(a, b), NULL) \
  _(mod,        2, SL_TR_PROMOTE,   sl_mod(a, b), NULL) \
  _(pow,        2, SL_TR_PROMOTE,   sl_pow(a, b), NULL) \
  _(maximum,    2, SL_TR_PROMOTE,   sl_max(a, b), NULL) \
  _(minimum,    2, SL_TR_PROMOTE,   sl_min(a, b), NULL) \
  _(atan2,      2, SL_TR_FLOAT,     atan2(a, b), NULL) \
  _(hypot,      2, SL_TR_FLOAT,     hypot(a, b), NULL) \
  _(logaddexp,  2, SL_TR_FLOAT,     sl_logaddexp(a, b), NULL) \
  _(neg,        1, SL_TR_PROMOTE,   sl_neg(a), c_neg) \
  _(abs,        1, SL_TR_PROMOTE,   sl_abs(a), NULL) \
  _(sign,       1, SL_TR_PROMOTE,   sl_sign(a), NULL) \
  _(sqr,        1, SL_TR_PROMOTE,   sl_mul(a, a), NULL) \
  _(reciprocal, 1, SL_TR_FLOAT,     1 / a, NULL) \
  _(exp,        1, SL_TR_FLOAT,     sl_exp(a), NULL) \
  _(exp2,       1, SL_TR_FLOAT,     sl_exp2(a), NULL) \
  _(expm1,      1, SL_TR_FLOAT,     sl_expm1(a), NULL) \
  _(log,        1, SL_TR_FLOAT,     sl_log(a), NULL) \
  _(log2,       1, SL_TR_FLOAT,     sl_log2(a), NULL) \
  _(log10,      1, SL_TR_FLOAT,     sl_log10(a), NULL) \
  _(log1p,      1, SL_TR_FLOAT,     sl_log1p(a), NULL) \
  _(sqrt,       1, SL_TR_FLOAT,     sqrt(a), NULL) \
  _(sin,        1, SL_TR_FLOAT,     sin(a), NULL) \
  _(cos,        1, SL_TR_FLOAT,     cos(a), NULL) \
  _(tan,        1, SL_TR_FLOAT,     tan(a), NULL) \
  _(asin,       1, SL_TR_FLOAT,     asin(a), NULL) \
  _(acos,       1, SL_TR_FLOAT,     acos(a), NULL) \
  _(atan,       1, SL_TR_FLOAT,     atan(a), NULL) \
  _(asinh,      1, SL_TR_FLOAT,     asinh(a), NULL) \
  _(acosh,      1, SL_TR_FLOAT,     acosh(a), NULL) \
  _(atanh,      1, SL_TR_FLOAT,     atanh(a), NULL) \
  _(cbrt,       1, SL_TR_FLOAT,     cbrt(a), NULL) \
  _(deg2rad,    1, SL_TR_FLOAT,     a * 0.017453292519943295, NULL) \
  _(rad2deg,    1, SL_TR_FLOAT,     a * 57.29577951308232, NULL) \
  _(sinh,       1, SL_TR_FLOAT,     sinh(a), NULL) \
  _(cosh,       1, SL_TR_FLOAT,     sl_cosh(a), NULL) \
  _(tanh,       1, SL_TR_FLOAT,     sl_tanh(a), NULL) \
  _(sigmoid,    1, SL_TR_FLOAT,     sl_sigmoid(a), NULL) \
  _(softplus,   1, SL_TR_FLOAT,     sl_softplus(a), NULL) \
  _(erf,        1, SL_TR_FLOAT,     erf(a), NULL) \
  _(erfc,       1, SL_TR_FLOAT,     erfc(a), NULL) \
  _(floor,      1, SL_TR_FLOAT,     floor(a), NULL) \
  _(ceil,       1, SL_TR_FLOAT,     ceil(a), NULL) \
  _(round,      1, SL_TR_FLOAT,     nearbyint(a), NULL) \
  _(clip,       3, SL_TR_PROMOTE,   sl_clip(a, b, c), NULL) \
  _(where,      3, SL_TR_WHERE,     a != 0 ? b : c, NULL) \
  _(eq,         2, SL_TR_COMPARE,   a == b, c_eq) \
  _(ne,         2, SL_TR_COMPARE,   a != b, c_ne) \
  _(lt,         2, SL_TR_COMPARE,   a < b, NULL) \
  _(le,         2, SL_TR_COMPARE,   a <= b, NULL) \
  _(gt,         2, SL_TR_COMPARE,   a > b, NULL) \
  _(ge,         2, SL_TR_COMPARE,   a >= b, NULL) \
  _(logical_and, 2, SL_TR_LOGIC,    (a != 0) & (b != 0), NULL) \
  _(logical_or,  2, SL_TR_LOGIC,    (a != 0) | (b != 0), NULL) \
  _(logical_xor, 2, SL_TR_LOGIC,    (a != 0) ^ (b != 0), NULL) \
  _(logical_not, 1, SL_TR_LOGIC,    a == 0, NULL) \
  _(isnan,      1, SL_TR_PREDICATE, sl_isnan(a), NULL) \
  _(isinf,      1, SL_TR_PREDICATE, sl_isinf(a), NULL) \
  _(cast,       1, SL_TR_CAST,      a, c_same)

#endif
