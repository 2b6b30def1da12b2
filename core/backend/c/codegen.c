/*
** codegen.c — the C source of a fusion plan: every kernel, each in
** the variants of kernel_abi.h, in one translation unit.
**
** A kernel's arithmetic is printed once, as a macro sl_k<K>_body whose
** arguments are the text that reads each load and the lvalues that take each
** store (kernel_text.c prints it, as for every backend); the variants differ
** only in their loops and in those texts. A variant is an entry that runs
** one out-of-line range function (elements, rows, tiles or blocks [lo, hi))
** on the calling thread, or on OpenMP threads from omp_threshold up.
** Reductions accumulate in double for float
** data and mean (float32 data sums in float64) and in 64-bit integers
** otherwise; a full reduction adds blocks of 2048 elements, each summed
** with `omp simd` lanes, so rounding error grows with the number of blocks,
** not elements.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc.h"
#include "kernel_abi.h"
#include "kernel_text.h"

#define SL_STR(...) #__VA_ARGS__
#define SL_XSTR(...) SL_STR(__VA_ARGS__)

/* What every source has after the kernel headers: the kernel ABI and helpers. */
static const char abi_text[] =
  "#include <stdlib.h>\n"
  "typedef struct sl_kargs { " SL_XSTR(SL_KARGS_FIELDS) " } sl_kargs;\n"
  "#ifdef _OPENMP\n"
  "int omp_get_max_threads(void);\n"
  "int omp_get_thread_num(void);\n"
  "int omp_get_num_threads(void);\n"
  "#else\n"
  "static inline int omp_get_max_threads(void) { return 1; }\n"
  "static inline int omp_get_thread_num(void) { return 0; }\n"
  "static inline int omp_get_num_threads(void) { return 1; }\n"
  "#endif\n"
  "static inline int sl_nthreads(const sl_kargs *a)\n"
  "{\n"
  "  int n = a->threads > 0 ? a->threads : omp_get_max_threads();\n"
  "  return n < 1 ? 1 : n > 256 ? 256 : n;\n"
  "}\n"
  "/* odometer over nd axes: advances idx and the operands' offsets; 0 at the end */\n"
  "static inline int sl_k_next(int nd, const int64_t *shape, int64_t *idx, int nops, int64_t *off,\n"
  "                            const int64_t (*st)[" SL_XSTR(SL_MAXDIM) "])\n"
  "{\n"
  "  for (int d = nd - 1; d >= 0; d--) {\n"
  "    for (int k = 0; k < nops; k++) off[k] += st[k][d];\n"
  "    if (++idx[d] < shape[d]) return 1;\n"
  "    for (int k = 0; k < nops; k++) off[k] -= st[k][d] * shape[d];\n"
  "    idx[d] = 0;\n"
  "  }\n"
  "  return 0;\n"
  "}\n"
  "/* idx and the operands' offsets at position `at` of an nd-axis odometer */\n"
  "static inline void sl_k_seek(int nd, const int64_t *shape, int64_t at, int64_t *idx, int nops, int64_t *off,\n"
  "                             const int64_t (*st)[" SL_XSTR(SL_MAXDIM) "])\n"
  "{\n"
  "  for (int k = 0; k < nops; k++) off[k] = 0;\n"
  "  for (int d = nd - 1; d >= 0; d--) {\n"
  "    idx[d] = at % shape[d];\n"
  "    at /= shape[d];\n"
  "    for (int k = 0; k < nops; k++) off[k] += idx[d] * st[k][d];\n"
  "  }\n"
  "}\n";

/* The C backend prints types, conversions and bodies as every backend does
** (kernel_text.c); it accumulates float reductions in double. */
static const char *const *const ctype_of = sl_kt_ctype;

typedef sl_fused_reduce reduce_kind;   /* from the op's row (graph.h) */

static reduce_kind reduce_kind_of(const sl_node *r) { return r->op->fuse; }

static const char *acc_ctype(const sl_node *r) { return sl_kt_acc_ctype(r, 0); }

static const char *acc_identity(const sl_node *r) { return sl_kt_acc_identity(r); }

/* the clause that lets `omp simd` reassociate the accumulation, if any */
static const char *simd_clause(const sl_node *r, const char *acc)
{
  static char buf[64];
  reduce_kind rk = reduce_kind_of(r);
  if (rk == SL_FUSE_MAX || rk == SL_FUSE_MIN) return NULL;
  snprintf(buf, sizeof buf, "reduction(%s:%s)", rk == SL_FUSE_PROD ? "*" : "+", acc);
  return buf;
}

/* -- variants ------------------------------------------------------------------------ */

typedef enum { AT_FLAT, AT_ROW, AT_STRIDED } access;

/* The arguments of one body call: how each load and store is read. */
static void print_call(FILE *o, const sl_kernel *k, access how, const char *idx, const char *rlv)
{
  fprintf(o, "sl_k%d_body(", k->code);
  int first = 1;
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (ld->pasted) continue;
    fprintf(o, "%s", first ? "" : ", ");
    first = 0;
    if (ld->how == SL_LOAD_SCALAR || (how == AT_FLAT && ld->how == SL_LOAD_COLUMN)) fprintf(o, "h%d", l);
    else if (how == AT_ROW && ld->how == SL_LOAD_COLUMN) fprintf(o, "g%d", l);
    else if (how == AT_FLAT) fprintf(o, "p%d[%s]", l, idx);
    else if (how == AT_ROW) fprintf(o, "r%d[%s]", l, idx);
    else fprintf(o, "r%d[%s * s%d]", l, idx, l);
  }
  if (k->reduce) fprintf(o, "%s%s", first ? "" : ", ", rlv);
  for (int s = 0; s < k->nstore && !k->reduce; s++) {
    fprintf(o, "%s", first ? "" : ", ");
    first = 0;
    if (how == AT_FLAT) fprintf(o, "q%d[%s]", s, idx);
    else if (how == AT_ROW) fprintf(o, "w%d[%s]", s, idx);
    else fprintf(o, "w%d[%s * u%d]", s, idx, s);
  }
  fprintf(o, ");");
}

/* Typed pointers to the operands, and the loads read once per call. */
static void print_prologue_body(FILE *o, const sl_function *f, const sl_kernel *k, int v)
{
  sl_kt_operand_pointers(o, f, k, v == SL_V_CONTIG, "");
}

/* Rows [lo, hi) of a loop whose outer axes 0..`outer`-1 are walked by an
** odometer, sought once at lo: a division per axis per row costs more than
** a short row's arithmetic. The last outer axis is walked in runs, with
** row pointers r<l> (loads) and w<s> (stores) kept in registers; the
** odometer only turns when a run ends. Column loads (unless `strided`) are
** read once per row as g<l>. The caller prints the row's work between
** print_walk_open and print_walk_close. */
static void print_walk_open(FILE *o, const sl_kernel *k, const char *outer, int strided)
{
  fprintf(o, "  const int jd = %s - 1;\n", outer);
  fprintf(o, "  int64_t idx[%d], off[%d];\n", SL_MAXDIM, k->nops);
  fprintf(o, "  sl_k_seek(jd + 1, a->shape, lo, idx, %d, off, a->st);\n", k->nops);
  fprintf(o, "  const int64_t nj = jd >= 0 ? a->shape[jd] : 1;\n");
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (ld->pasted || ld->how == SL_LOAD_SCALAR) continue;
    fprintf(o, "  const int64_t y%d = jd >= 0 ? a->st[%d][jd] : 0;\n", l, ld->op);
  }
  for (int s = 0; s < k->nstore; s++)
    fprintf(o, "  const int64_t z%d = jd >= 0 ? a->st[%d][jd] : 0;\n", s, k->nops - k->nstore + s);
  fprintf(o, "  for (int64_t row = lo; row < hi;) {\n");
  fprintf(o, "    const int64_t j0 = jd >= 0 ? idx[jd] : 0, m = nj - j0 < hi - row ? nj - j0 : hi - row;\n");
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (ld->pasted || ld->how == SL_LOAD_SCALAR) continue;
    fprintf(o, "    const %s *r%d = p%d + off[%d];\n", ctype_of[ld->dtype], l, l, ld->op);
  }
  for (int s = 0; s < k->nstore; s++)
    fprintf(o, "    __typeof__(q%d) w%d = q%d + off[%d];\n", s, s, s, k->nops - k->nstore + s);
  fprintf(o, "    for (int64_t j = 0; j < m; j++");
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (!ld->pasted && ld->how != SL_LOAD_SCALAR) fprintf(o, ", r%d += y%d", l, l);
  }
  for (int s = 0; s < k->nstore; s++) fprintf(o, ", w%d += z%d", s, s);
  fprintf(o, ") {\n");
  for (int l = 0; l < k->nload && !strided; l++) {
    const sl_kload *ld = &k->load[l];
    if (!ld->pasted && ld->how == SL_LOAD_COLUMN) fprintf(o, "      const %s g%d = r%d[0];\n", ctype_of[ld->dtype], l, l);
  }
}

static void print_walk_close(FILE *o, const sl_kernel *k)
{
  fprintf(o, "    }\n    row += m;\n");
  fprintf(o, "    if (row < hi) {   /* the run ended its axis: back to its start, and the next outer index */\n");
  fprintf(o, "      for (int k = 0; k < %d; k++) off[k] -= j0 * a->st[k][jd];\n", k->nops);
  fprintf(o, "      idx[jd] = 0;\n");
  fprintf(o, "      sl_k_next(jd, a->shape, idx, %d, off, a->st);\n    }\n  }\n", k->nops);
}

/* off[] of every operand at outer row `row` of a loop over axes 0..nd-2 of (shape, st). */
static void print_row_offsets(FILE *o, const sl_kernel *k, const char *ind, const char *shape, const char *st)
{
  fprintf(o, "%sint64_t off[%d];\n", ind, k->nops);
  fprintf(o, "%sif (nd == 2) { for (int k = 0; k < %d; k++) off[k] = row * a->%s[k][0]; }\n", ind, k->nops, st);
  fprintf(o, "%selse {\n", ind);
  fprintf(o, "%s  int64_t rem = row;\n", ind);
  fprintf(o, "%s  for (int k = 0; k < %d; k++) off[k] = 0;\n", ind, k->nops);
  fprintf(o, "%s  for (int d = nd - 2; d >= 0; d--) {\n", ind);
  fprintf(o, "%s    const int64_t i = rem %% a->%s[d];\n", ind, shape);
  fprintf(o, "%s    rem /= a->%s[d];\n", ind, shape);
  fprintf(o, "%s    for (int k = 0; k < %d; k++) off[k] += i * a->%s[k][d];\n", ind, k->nops, st);
  fprintf(o, "%s  }\n%s}\n", ind, ind);
}

static void print_strides(FILE *o, const sl_kernel *k, const char *dim)
{
  for (int l = 0; l < k->nload; l++)
    if (!k->load[l].pasted && k->load[l].how != SL_LOAD_SCALAR)
      fprintf(o, "  const int64_t s%d = a->st[%d][%s];\n", l, k->load[l].op, dim);
  for (int s = 0; s < k->nstore; s++)
    fprintf(o, "  const int64_t u%d = a->st[%d][%s];\n", s, k->nops - k->nstore + s, dim);
}

/* The entry of a variant whose work is `count` items (elements, rows, tiles)
** done by range(a, lo, hi<extra>): whole on the calling thread unless
** `parallel` holds, else split between threads in chunks that are multiples
** of `align` (a power of two). Below it no OpenMP region is entered at all:
** even one that an if clause keeps on one thread costs about a microsecond,
** more than a small kernel's work. */
static void print_split(FILE *o, const char *range, const char *extra, const char *count,
                        const char *parallel, int align)
{
  fprintf(o, "  const int64_t count = %s;\n", count);
  fprintf(o, "  if (!(%s)) %s(a, 0, count%s);\n", parallel, range, extra);
  fprintf(o, "  else {\n#pragma omp parallel num_threads(sl_nthreads(a))\n    {\n");
  fprintf(o, "      const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();\n");
  fprintf(o, "      const int64_t chunk = ((count + nt - 1) / nt + %d) & ~(int64_t)%d, lo = t * chunk;\n",
          align - 1, align - 1);
  fprintf(o, "      const int64_t hi = lo + chunk < count ? lo + chunk : count;\n");
  fprintf(o, "      if (lo < hi) %s(a, lo, hi%s);\n    }\n  }\n", range, extra);
}

/* The contiguous loop, kept out of line so that its body is compiled once. */
static void print_flat(FILE *o, const sl_function *f, const sl_kernel *k)
{
  fprintf(o, "static __attribute__((noinline)) void sl_k%d_flat(const sl_kargs *a, int64_t lo, int64_t hi)\n{\n", k->code);
  print_prologue_body(o, f, k, SL_V_CONTIG);
  fprintf(o, "#pragma omp simd\n  for (int64_t i = lo; i < hi; i++) ");
  print_call(o, k, AT_FLAT, "i", NULL);
  fprintf(o, "\n}\n\n");
}

/* Tiles [lo, hi) of the tiled variant: tiles (ot, jt, it) of the last two
** axes, outer axes ot. A load that is not unit-stride along the last axis is
** first copied into buf, read along its own unit axis; then every operand is
** a unit-stride row of the tile and the loop is the inner-contiguous one. */
static void print_tiles(FILE *o, const sl_function *f, const sl_kernel *k)
{
  fprintf(o, "static __attribute__((noinline)) void sl_k%d_tiles(const sl_kargs *a, int64_t lo, int64_t hi)\n{\n",
          k->code);
  print_prologue_body(o, f, k, SL_V_TILED);
  fprintf(o, "  const int nd = a->nd;\n");
  fprintf(o, "  const int64_t ni = a->shape[nd - 1], nj = a->shape[nd - 2];\n");
  fprintf(o, "  const int64_t ti = (ni + %d) / %d, tj = (nj + %d) / %d;\n", SL_TILE - 1, SL_TILE, SL_TILE - 1, SL_TILE);
  fprintf(o, "  for (int64_t tile = lo; tile < hi; tile++) {\n");
  fprintf(o, "    const int64_t it = tile %% ti, jt = tile / ti %% tj, ot = tile / ti / tj;\n");
  fprintf(o, "    const int64_t i0 = it * %d, mi = ni - i0 < %d ? ni - i0 : %d;\n", SL_TILE, SL_TILE, SL_TILE);
  fprintf(o, "    const int64_t j0 = jt * %d, mj = nj - j0 < %d ? nj - j0 : %d, row = ot * nj + j0;\n",
          SL_TILE, SL_TILE, SL_TILE);
  print_row_offsets(o, k, "    ", "shape", "st");
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (ld->pasted || ld->how != SL_LOAD_FULL) continue;
    const char *t = ctype_of[ld->dtype];
    fprintf(o, "    const int64_t s%d = a->st[%d][nd - 1], y%d = a->st[%d][nd - 2];\n", l, ld->op, l, ld->op);
    fprintf(o, "    %s buf%d[%d];\n", t, l, SL_TILE * SL_TILE);
    fprintf(o, "    if (s%d != 1)\n      for (int64_t i = 0; i < mi; i++) {\n", l);
    fprintf(o, "        const %s *src = p%d + off[%d] + (i0 + i) * s%d;\n", t, l, ld->op, l);
    fprintf(o, "        for (int64_t j = 0; j < mj; j++) buf%d[j * %d + i] = src[j * y%d];\n      }\n",
            l, SL_TILE, l);
  }
  fprintf(o, "    for (int64_t j = 0; j < mj; j++) {\n");
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (ld->pasted || ld->how == SL_LOAD_SCALAR) continue;
    const char *t = ctype_of[ld->dtype];
    if (ld->how == SL_LOAD_FULL)
      fprintf(o, "      const %s *r%d = s%d != 1 ? buf%d + j * %d : p%d + off[%d] + j * y%d + i0;\n",
              t, l, l, l, SL_TILE, l, ld->op, l);
    else   /* a column: one value per row of the tile */
      fprintf(o, "      const %s g%d = p%d[off[%d] + j * a->st[%d][nd - 2]];\n", t, l, l, ld->op, ld->op);
  }
  for (int st = 0; st < k->nstore; st++) {
    int op = k->nops - k->nstore + st;
    fprintf(o, "      __typeof__(q%d) w%d = q%d + off[%d] + j * a->st[%d][nd - 2] + i0;\n", st, st, st, op, op);
  }
  fprintf(o, "#pragma omp simd\n      for (int64_t i = 0; i < mi; i++) ");
  print_call(o, k, AT_ROW, "i", NULL);
  fprintf(o, "\n    }\n  }\n}\n\n");
}

/* Rows [lo, hi) of the row variants (v: inner-contiguous or strided). */
static void print_row_range(FILE *o, const sl_function *f, const sl_kernel *k, int v)
{
  int strided = v == SL_V_STRIDED;
  fprintf(o, "static __attribute__((noinline)) void sl_k%d_v%d_rows(const sl_kargs *a, int64_t lo, int64_t hi)\n{\n",
          k->code, v);
  print_prologue_body(o, f, k, v);
  fprintf(o, "  const int nd = a->nd;\n  const int64_t ni = a->shape[nd - 1];\n");
  if (strided) print_strides(o, k, "nd - 1");
  print_walk_open(o, k, "nd - 1", strided);
  if (!strided) fprintf(o, "#pragma omp simd\n");
  fprintf(o, "      for (int64_t i = 0; i < ni; i++) ");
  print_call(o, k, strided ? AT_STRIDED : AT_ROW, "i", NULL);
  fprintf(o, "\n");
  print_walk_close(o, k);
  fprintf(o, "}\n\n");
}

static void print_elemwise_variant(FILE *o, const sl_kernel *k, int v)
{
  char range[64];
  fprintf(o, "void sl_k%d_v%d(const sl_kargs *a)\n{\n", k->code, v);
  if (v == SL_V_CONTIG) {
    /* one flat loop, threads' chunks a multiple of 64 elements */
    snprintf(range, sizeof range, "sl_k%d_flat", k->code);
    print_split(o, range, "", "a->n", "a->n >= a->omp_threshold", 64);
  } else if (v == SL_V_TILED) {
    snprintf(range, sizeof range, "sl_k%d_tiles", k->code);
    fprintf(o, "  const int64_t ni = a->shape[a->nd - 1], nj = a->shape[a->nd - 2];\n");
    fprintf(o, "  const int64_t ntiles = a->n / ni / nj * ((nj + %d) / %d) * ((ni + %d) / %d);\n",
            SL_TILE - 1, SL_TILE, SL_TILE - 1, SL_TILE);
    print_split(o, range, "", "ntiles", "a->n >= a->omp_threshold && count > 1", 1);
  } else {
    snprintf(range, sizeof range, "sl_k%d_v%d_rows", k->code, v);
    print_split(o, range, "", "a->n / a->shape[a->nd - 1]", "a->n >= a->omp_threshold && count > 1", 1);
  }
  fprintf(o, "}\n\n");
}

/* Columns a column-sum work item keeps accumulators for. */
#define SL_COLS 4096
/* Rows a column-sum pass adds into the accumulators. */
#define SL_COLS_ROWS 4

static void print_simd(FILE *o, const sl_node *r, const char *acc)
{
  const char *c = simd_clause(r, acc);
  if (c) fprintf(o, "#pragma omp simd %s\n", c);
}

/* The reduction's range functions: blocks [lo, hi) of the flat sum, folded
** into one value; kept rows [lo, hi) of the row sums; work items [lo, hi)
** of the column sums. */
static void print_reduce_ranges(FILE *o, const sl_function *f, const sl_kernel *k)
{
  const sl_node *r = k->reduce;
  const char *acc = acc_ctype(r), *id = acc_identity(r);
  int K = k->code, out = k->nops - 1;
  /* blocks of 2048 summed in lanes, folded in order */
  fprintf(o, "static __attribute__((noinline)) %s sl_k%d_blocks(const sl_kargs *a, int64_t lo, int64_t hi)\n{\n",
          acc, K);
  print_prologue_body(o, f, k, SL_V_RFLAT);
  fprintf(o, "  const int64_t n = a->n;\n  %s mine = %s;\n", acc, id);
  fprintf(o, "  for (int64_t b = lo; b < hi; b++) {\n");
  fprintf(o, "    const int64_t i0 = b * 2048, i1 = i0 + 2048 < n ? i0 + 2048 : n;\n");
  fprintf(o, "    %s acc = %s;\n", acc, id);
  print_simd(o, r, "acc");
  fprintf(o, "    for (int64_t i = i0; i < i1; i++) { %s v; ", acc);
  print_call(o, k, AT_FLAT, "i", "v");
  fprintf(o, " sl_k%d_comb(acc, v); }\n    sl_k%d_comb(mine, acc);\n  }\n  (void)q0;\n  return mine;\n}\n\n", K, K);

  /* kept rows, the reduced axis unit-stride */
  fprintf(o, "static __attribute__((noinline)) void sl_k%d_rows(const sl_kargs *a, int64_t lo, int64_t hi)\n{\n", K);
  print_prologue_body(o, f, k, SL_V_RROWS);
  fprintf(o, "  const int64_t nr = a->rshape[0];\n");
  print_walk_open(o, k, "a->nd", 1);
  fprintf(o, "      %s acc = %s;\n", acc, id);
  print_simd(o, r, "acc");
  fprintf(o, "      for (int64_t i = 0; i < nr; i++) { %s v; ", acc);
  print_call(o, k, AT_ROW, "i", "v");
  fprintf(o, " sl_k%d_comb(acc, v); }\n      w0[0] = sl_k%d_fin(acc);\n", K, K);
  print_walk_close(o, k);
  fprintf(o, "}\n\n");

  /* Column sums: work item w is (column chunk w / nb, block of rows w % nb
  ** of rb rows); the rows of a block are walked in order, a vector of
  ** accumulators over the chunk's columns. With several blocks a column's
  ** block sums go to part[] for the caller to combine in block order. */
  fprintf(o, "static __attribute__((noinline)) void sl_k%d_cols(const sl_kargs *a, int64_t lo, int64_t hi, "
             "int64_t nb, int64_t rb, %s *part)\n{\n", K, acc);
  print_prologue_body(o, f, k, SL_V_RCOLS);
  fprintf(o, "  const int64_t nk = a->shape[0], nr = a->rshape[0], qs = a->st[%d][0];\n", out);
  fprintf(o, "  for (int64_t w = lo; w < hi; w++) {\n");
  fprintf(o, "    const int64_t c = w / nb, b = w %% nb;\n");
  fprintf(o, "    const int64_t j0 = c * %d, m = nk - j0 < %d ? nk - j0 : %d;\n", SL_COLS, SL_COLS, SL_COLS);
  fprintf(o, "    const int64_t i1 = b * rb + rb < nr ? b * rb + rb : nr;\n");
  fprintf(o, "    %s acc[%d];\n    for (int64_t j = 0; j < m; j++) acc[j] = %s;\n", acc, SL_COLS, id);
  /* SL_COLS_ROWS rows a pass: each accumulator still adds its rows one by
  ** one, in order (the same roundings), but is loaded and stored once */
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (!ld->pasted && ld->how != SL_LOAD_SCALAR) fprintf(o, "    const int64_t y%d = a->rst[%d][0];\n", l, ld->op);
  }
  fprintf(o, "    int64_t i0 = b * rb;\n");
  for (int pass = 0; pass < 2; pass++) {
    int rows = pass == 0 ? SL_COLS_ROWS : 1;
    if (pass == 0) fprintf(o, "    for (; i0 + %d <= i1; i0 += %d) {\n", rows, rows);
    else fprintf(o, "    for (; i0 < i1; i0++) {\n");
    for (int l = 0; l < k->nload; l++) {
      const sl_kload *ld = &k->load[l];
      if (ld->pasted || ld->how == SL_LOAD_SCALAR) continue;
      fprintf(o, "      const %s *e%d = p%d + i0 * y%d + j0;\n", ctype_of[ld->dtype], l, l, l);
    }
    fprintf(o, "#pragma omp simd\n      for (int64_t i = 0; i < m; i++) {\n        %s v;\n", acc);
    for (int u = 0; u < rows; u++) {
      fprintf(o, "        {");
      for (int l = 0; l < k->nload; l++) {
        const sl_kload *ld = &k->load[l];
        if (ld->pasted || ld->how == SL_LOAD_SCALAR) continue;
        fprintf(o, " const %s *r%d = e%d + %d * y%d;", ctype_of[ld->dtype], l, l, u, l);
      }
      fprintf(o, " ");
      print_call(o, k, AT_ROW, "i", "v");
      fprintf(o, " sl_k%d_comb(acc[i], v); }\n", K);
    }
    fprintf(o, "      }\n    }\n");
  }
  fprintf(o, "    if (part) for (int64_t j = 0; j < m; j++) part[b * nk + j0 + j] = acc[j];\n");
  fprintf(o, "    else for (int64_t j = 0; j < m; j++) q0[(j0 + j) * qs] = sl_k%d_fin(acc[j]);\n  }\n}\n\n", K);
}

static void print_reduce_variant(FILE *o, const sl_function *f, const sl_kernel *k, int v)
{
  const sl_node *r = k->reduce;
  const char *acc = acc_ctype(r), *id = acc_identity(r);
  int K = k->code, out = k->nops - 1;
  char range[64];
  fprintf(o, "void sl_k%d_v%d(const sl_kargs *a)\n{\n", K, v);
  if (v == SL_V_RFLAT) {
    /* each thread folds its blocks; the threads' values are folded in order */
    fprintf(o, "  %s *q = (%s *)a->ptr[%d];\n", ctype_of[r->outputs[0].type.dtype], ctype_of[r->outputs[0].type.dtype], out);
    fprintf(o, "  const int64_t nb = (a->n + 2047) / 2048;\n");
    fprintf(o, "  %s total = %s;\n", acc, id);
    fprintf(o, "  if (!(a->n >= a->omp_threshold)) { sl_k%d_comb(total, sl_k%d_blocks(a, 0, nb)); q[0] = sl_k%d_fin(total); return; }\n",
            K, K, K);
    fprintf(o, "  %s part[256];\n  int nt = 1;\n", acc);
    fprintf(o, "#pragma omp parallel num_threads(sl_nthreads(a))\n  {\n");
    fprintf(o, "    const int64_t t = omp_get_thread_num(), n = omp_get_num_threads();\n");
    fprintf(o, "    const int64_t chunk = (nb + n - 1) / n, lo = t * chunk, hi = lo + chunk < nb ? lo + chunk : nb;\n");
    fprintf(o, "    part[t] = lo < hi ? sl_k%d_blocks(a, lo, hi) : %s;\n", K, id);
    fprintf(o, "    if (t == 0) nt = (int)n;\n  }\n");
    fprintf(o, "  for (int t = 0; t < nt; t++) sl_k%d_comb(total, part[t]);\n", K);
    fprintf(o, "  q[0] = sl_k%d_fin(total);\n}\n\n", K);
    return;
  }
  if (v == SL_V_RROWS) {
    snprintf(range, sizeof range, "sl_k%d_rows", K);
    print_split(o, range, "", "a->n / a->rshape[0]", "a->n >= a->omp_threshold && count > 1", 1);
    fprintf(o, "}\n\n");
    return;
  }
  if (v == SL_V_RCOLS) {
    /* With fewer column chunks than threads the rows are split too, each
    ** block's sums kept in part[] and combined in block order, so the
    ** result does not depend on which thread ran what. */
    fprintf(o, "  %s *q = (%s *)a->ptr[%d];\n", ctype_of[r->outputs[0].type.dtype], ctype_of[r->outputs[0].type.dtype], out);
    fprintf(o, "  const int64_t nk = a->shape[0], nr = a->rshape[0], qs = a->st[%d][0];\n", out);
    fprintf(o, "  const int64_t nc = (nk + %d) / %d;\n", SL_COLS - 1, SL_COLS);
    fprintf(o, "  const int nt = a->n >= a->omp_threshold ? sl_nthreads(a) : 1;\n");
    fprintf(o, "  int64_t nb = nc >= nt ? 1 : (nt + nc - 1) / nc;\n");
    fprintf(o, "  if (nb > nr) nb = nr;\n");
    fprintf(o, "  %s *part = NULL;\n", acc);
    fprintf(o, "  if (nb > 1 && !(part = (%s *)malloc(sizeof(%s) * (size_t)(nb * nk)))) nb = 1;\n", acc, acc);
    fprintf(o, "  const int64_t rb = (nr + nb - 1) / nb;\n");
    snprintf(range, sizeof range, "sl_k%d_cols", K);
    print_split(o, range, ", nb, rb, part", "nc * nb", "nt > 1 && count > 1", 1);
    fprintf(o, "  if (part) {\n");
    fprintf(o, "    for (int64_t j = 0; j < nk; j++) {\n");
    fprintf(o, "      %s t = part[j];\n", acc);
    fprintf(o, "      for (int64_t b = 1; b < nb; b++) sl_k%d_comb(t, part[b * nk + j]);\n", K);
    fprintf(o, "      q[j * qs] = sl_k%d_fin(t);\n    }\n    free(part);\n  }\n}\n\n", K);
    return;
  }
  print_prologue_body(o, f, k, v);
  fprintf(o, "  __typeof__(q0) q = q0;\n");
  /* general: kept axes outside, reduced axes inside, both by odometer */
  fprintf(o, "  int64_t kidx[%d] = { 0 }, koff[%d] = { 0 }, no = 1, nr = 1;\n", SL_MAXDIM, SL_KMAXOPS);
  fprintf(o, "  for (int d = 0; d < a->nd; d++) no *= a->shape[d];\n");
  fprintf(o, "  for (int d = 0; d < a->nr; d++) nr *= a->rshape[d];\n");
  fprintf(o, "  for (int64_t o = 0; o < no; o++) {\n");
  fprintf(o, "    int64_t ridx[%d] = { 0 }, roff[%d] = { 0 };\n", SL_MAXDIM, SL_KMAXOPS);
  fprintf(o, "    %s acc = %s;\n", acc, id);
  fprintf(o, "    for (int64_t i = 0; i < nr; i++) {\n      %s v; ", acc);
  /* offsets: kept + reduced */
  fprintf(o, "sl_k%d_body(", K);
  int first = 1;
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (ld->pasted) continue;
    fprintf(o, "%s", first ? "" : ", ");
    first = 0;
    if (ld->how == SL_LOAD_SCALAR) fprintf(o, "h%d", l);
    else fprintf(o, "p%d[koff[%d] + roff[%d]]", l, ld->op, ld->op);
  }
  fprintf(o, "%sv); sl_k%d_comb(acc, v);\n", first ? "" : ", ", K);
  fprintf(o, "      sl_k_next(a->nr, a->rshape, ridx, %d, roff, a->rst);\n    }\n", k->nops);
  fprintf(o, "    q[koff[%d]] = sl_k%d_fin(acc);\n", out, K);
  fprintf(o, "    sl_k_next(a->nd, a->shape, kidx, %d, koff, a->st);\n  }\n}\n\n", k->nops);
}

static void print_kernel(FILE *o, const sl_function *f, const sl_kernel *k)
{
  sl_kt_constants(o, f, k, "static const");
  sl_kt_body(o, f, k, k->reduce ? acc_ctype(k->reduce) : NULL);
  if (k->reduce) {
    sl_kt_reduce_macros(o, k);
    fprintf(o, "\n");
    print_reduce_ranges(o, f, k);
    for (int v = SL_V_RFLAT; v <= SL_V_RGENERAL; v++) print_reduce_variant(o, f, k, v);
  } else {
    fprintf(o, "\n");
    print_flat(o, f, k);
    print_row_range(o, f, k, SL_V_INNER);
    print_row_range(o, f, k, SL_V_STRIDED);
    print_tiles(o, f, k);
    for (int v = SL_V_CONTIG; v <= SL_V_TILED; v++) print_elemwise_variant(o, k, v);
  }
}

/* A kernel's text with the name k->code gives it; NULL when out of memory. */
/* Kernels whose text is the same but for their name share one compiled
** copy (graphs repeat patterns: a gradient, a loop in a script); past
** SL_MAX_KERNELS distinct ones, the rest run on the reference path, which
** keeps the compile of a huge graph bounded. */
#define SL_MAX_KERNELS 64

char *sl_codegen_c(const sl_function *f, sl_plan *p)
{
  char *text = NULL;
  size_t len = 0;
  FILE *o = open_memstream(&text, &len);
  if (!o) { sl_fail("out of memory"); return NULL; }
  /* the vectorizable math of kernels/vmath.h instead of libm calls */
  fprintf(o, "#define SL_VECTOR_MATH 1\n%s\n%s\n", sl_cc_prelude(), abi_text);
  int rc = sl_kt_kernels(o, f, p, SL_MAX_KERNELS, print_kernel);
  if (fclose(o) != 0 || rc) { free(text); sl_fail("out of memory"); return NULL; }
  return text;
}
