/*
** codegen.c — the C source of a fusion plan: every kernel, each in
** the variants of kernel_abi.h, in one translation unit.
**
** A kernel's arithmetic is printed once, as a macro sl_k<K>_body whose
** arguments are the text that reads each load and the lvalues that take each
** store (kernel_text.c prints it, as for every backend); the variants differ
** only in their loops and in those texts. Reductions accumulate in double for float
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

static void print_prologue_body(FILE *o, const sl_function *f, const sl_kernel *k, int v);

static void print_prologue(FILE *o, const sl_function *f, const sl_kernel *k, int v)
{
  fprintf(o, "void sl_k%d_v%d(const sl_kargs *a)\n{\n", k->code, v);
  if (v != SL_V_CONTIG || k->reduce) print_prologue_body(o, f, k, v);
}

/* Typed pointers to the operands, and the loads read once per call. */
static void print_prologue_body(FILE *o, const sl_function *f, const sl_kernel *k, int v)
{
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (ld->pasted) continue;
    const char *t = ctype_of[ld->dtype];
    fprintf(o, "  const %s *p%d = (const %s *)a->ptr[%d];\n", t, l, t, ld->op);
    if (ld->how == SL_LOAD_SCALAR || (v == SL_V_CONTIG && ld->how == SL_LOAD_COLUMN))
      fprintf(o, "  const %s h%d = p%d[0];\n", t, l, l);
  }
  for (int s = 0; s < k->nstore; s++) {
    const sl_node *n = f->order[k->node[k->store_node[s]]];
    const char *t = ctype_of[n->outputs[0].type.dtype];
    fprintf(o, "  %s *q%d = (%s *)a->ptr[%d];\n", t, s, t, k->nops - k->nstore + s);
  }
}

/* Row pointers at offsets off[], for the inner loop; column loads read once per row. */
static void print_rows(FILE *o, const sl_kernel *k, int strided, const char *ind)
{
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (ld->pasted || ld->how == SL_LOAD_SCALAR) continue;
    fprintf(o, "%sconst %s *r%d = p%d + off[%d];\n", ind, ctype_of[ld->dtype], l, l, ld->op);
    if (!strided && ld->how == SL_LOAD_COLUMN) fprintf(o, "%sconst %s g%d = r%d[0];\n", ind, ctype_of[ld->dtype], l, l);
  }
  for (int s = 0; s < k->nstore && !k->reduce; s++)
    fprintf(o, "%s__typeof__(q%d) w%d = q%d + off[%d];\n", ind, s, s, s, k->nops - k->nstore + s);
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

/* The contiguous loop, kept out of line so that its body is compiled once. */
static void print_flat(FILE *o, const sl_function *f, const sl_kernel *k)
{
  fprintf(o, "static __attribute__((noinline)) void sl_k%d_flat(const sl_kargs *a, int64_t lo, int64_t hi)\n{\n", k->code);
  print_prologue_body(o, f, k, SL_V_CONTIG);
  fprintf(o, "#pragma omp simd\n  for (int64_t i = lo; i < hi; i++) ");
  print_call(o, k, AT_FLAT, "i", NULL);
  fprintf(o, "\n}\n\n");
}

static void print_elemwise_variant(FILE *o, const sl_function *f, const sl_kernel *k, int v)
{
  print_prologue(o, f, k, v);
  if (v == SL_V_CONTIG) {
    /* one flat loop over [lo, hi), run whole or split between threads */
    fprintf(o, "  const int64_t n = a->n;\n  if (n < a->omp_threshold) { sl_k%d_flat(a, 0, n); return; }\n", k->code);
    fprintf(o, "#pragma omp parallel num_threads(sl_nthreads(a))\n  {\n");
    fprintf(o, "    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();\n");
    fprintf(o, "    const int64_t chunk = ((n + nt - 1) / nt + 63) & ~(int64_t)63, lo = t * chunk;\n");
    fprintf(o, "    const int64_t hi = lo + chunk < n ? lo + chunk : n;\n");
    fprintf(o, "    if (lo < hi) sl_k%d_flat(a, lo, hi);\n  }\n}\n\n", k->code);
    return;
  }
  if (v == SL_V_TILED) {
    /* tiles (ot, jt, it) of the last two axes, outer axes ot. A load that is
    ** not unit-stride along the last axis is first copied into buf, read
    ** along its own unit axis; then every operand is a unit-stride row of
    ** the tile and the loop is the inner-contiguous one. */
    fprintf(o, "  const int nd = a->nd;\n");
    fprintf(o, "  const int64_t ni = a->shape[nd - 1], nj = a->shape[nd - 2], outer = a->n / ni / nj;\n");
    fprintf(o, "  const int64_t ti = (ni + %d) / %d, tj = (nj + %d) / %d, ntiles = outer * tj * ti;\n",
            SL_TILE - 1, SL_TILE, SL_TILE - 1, SL_TILE);
    fprintf(o, "#pragma omp parallel for if(a->n >= a->omp_threshold && ntiles > 1) schedule(static) "
               "num_threads(sl_nthreads(a))\n");
    fprintf(o, "  for (int64_t tile = 0; tile < ntiles; tile++) {\n");
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
    return;
  }
  int strided = v == SL_V_STRIDED;
  fprintf(o, "  const int nd = a->nd;\n  const int64_t ni = a->shape[nd - 1], rows = a->n / ni;\n");
  if (strided) print_strides(o, k, "nd - 1");
  fprintf(o, "#pragma omp parallel for if(a->n >= a->omp_threshold && rows > 1) schedule(static) "
             "num_threads(sl_nthreads(a))\n");
  fprintf(o, "  for (int64_t row = 0; row < rows; row++) {\n");
  print_row_offsets(o, k, "    ", "shape", "st");
  print_rows(o, k, strided, "    ");
  if (!strided) fprintf(o, "#pragma omp simd\n");
  fprintf(o, "    for (int64_t i = 0; i < ni; i++) ");
  print_call(o, k, strided ? AT_STRIDED : AT_ROW, "i", NULL);
  fprintf(o, "\n  }\n}\n\n");
}

static void print_simd(FILE *o, const sl_node *r, const char *acc)
{
  const char *c = simd_clause(r, acc);
  if (c) fprintf(o, "#pragma omp simd %s\n", c);
}

static void print_reduce_variant(FILE *o, const sl_function *f, const sl_kernel *k, int v)
{
  const sl_node *r = k->reduce;
  const char *acc = acc_ctype(r), *id = acc_identity(r);
  int K = k->code, out = k->nops - 1;
  print_prologue(o, f, k, v);
  fprintf(o, "  __typeof__(q0) q = q0;\n");
  if (v == SL_V_RFLAT) {
    /* blocks of 2048 summed in lanes, block sums per thread, threads in order */
    fprintf(o, "  const int64_t n = a->n, nb = (n + 2047) / 2048;\n");
    fprintf(o, "  %s part[256], total = %s;\n  int nt = 1;\n", acc, id);
    fprintf(o, "#pragma omp parallel if(n >= a->omp_threshold) num_threads(sl_nthreads(a))\n  {\n");
    fprintf(o, "    %s mine = %s;\n", acc, id);
    fprintf(o, "#pragma omp for schedule(static)\n");
    fprintf(o, "    for (int64_t b = 0; b < nb; b++) {\n");
    fprintf(o, "      const int64_t lo = b * 2048, hi = lo + 2048 < n ? lo + 2048 : n;\n");
    fprintf(o, "      %s acc = %s;\n", acc, id);
    print_simd(o, r, "acc");
    fprintf(o, "      for (int64_t i = lo; i < hi; i++) { %s v; ", acc);
    print_call(o, k, AT_FLAT, "i", "v");
    fprintf(o, " sl_k%d_comb(acc, v); }\n      sl_k%d_comb(mine, acc);\n    }\n", K, K);
    fprintf(o, "    part[omp_get_thread_num()] = mine;\n");
    fprintf(o, "#pragma omp single\n    nt = omp_get_num_threads();\n  }\n");
    fprintf(o, "  for (int t = 0; t < nt; t++) sl_k%d_comb(total, part[t]);\n", K);
    fprintf(o, "  q[0] = sl_k%d_fin(total);\n}\n\n", K);
    return;
  }
  if (v == SL_V_RROWS) {
    fprintf(o, "  const int nd = a->nd + 1;\n");
    fprintf(o, "  const int64_t nk = a->n / a->rshape[0], nr = a->rshape[0];\n");
    fprintf(o, "#pragma omp parallel for if(a->n >= a->omp_threshold && nk > 1) schedule(static) "
               "num_threads(sl_nthreads(a))\n");
    fprintf(o, "  for (int64_t row = 0; row < nk; row++) {\n");
    print_row_offsets(o, k, "    ", "shape", "st");
    print_rows(o, k, 1, "    ");
    fprintf(o, "    %s acc = %s;\n", acc, id);
    print_simd(o, r, "acc");
    fprintf(o, "    for (int64_t i = 0; i < nr; i++) { %s v; ", acc);
    print_call(o, k, AT_ROW, "i", "v");
    fprintf(o, " sl_k%d_comb(acc, v); }\n    q[off[%d]] = sl_k%d_fin(acc);\n  }\n}\n\n", K, out, K);
    return;
  }
  if (v == SL_V_RCOLS) {
    /* Rows walked in order, a vector of accumulators over up to 4096 kept
    ** columns; work items are (column chunk, block of rows): with fewer
    ** chunks than threads the rows are split too, each block's sums kept in
    ** part[] and combined in block order, so the result does not depend on
    ** which thread ran what. */
    fprintf(o, "  const int64_t nk = a->shape[0], nr = a->rshape[0], qs = a->st[%d][0];\n", out);
    fprintf(o, "  const int64_t nc = (nk + 4095) / 4096;\n");
    fprintf(o, "  const int nt = a->n >= a->omp_threshold ? sl_nthreads(a) : 1;\n");
    fprintf(o, "  int64_t nb = nc >= nt ? 1 : (nt + nc - 1) / nc;\n");
    fprintf(o, "  if (nb > nr) nb = nr;\n");
    fprintf(o, "  %s *part = NULL;\n", acc);
    fprintf(o, "  if (nb > 1 && !(part = (%s *)malloc(sizeof(%s) * (size_t)(nb * nk)))) nb = 1;\n", acc, acc);
    fprintf(o, "  const int64_t rb = (nr + nb - 1) / nb;\n");
    fprintf(o, "#pragma omp parallel for if(nt > 1 && nc * nb > 1) schedule(static) num_threads(nt)\n");
    fprintf(o, "  for (int64_t w = 0; w < nc * nb; w++) {\n");
    fprintf(o, "    const int64_t c = w / nb, b = w %% nb;\n");
    fprintf(o, "    const int64_t lo = c * 4096, m = nk - lo < 4096 ? nk - lo : 4096;\n");
    fprintf(o, "    const int64_t i1 = b * rb + rb < nr ? b * rb + rb : nr;\n");
    fprintf(o, "    %s acc[4096];\n    for (int64_t j = 0; j < m; j++) acc[j] = %s;\n", acc, id);
    fprintf(o, "    for (int64_t i0 = b * rb; i0 < i1; i0++) {\n");
    for (int l = 0; l < k->nload; l++) {
      const sl_kload *ld = &k->load[l];
      if (ld->pasted || ld->how == SL_LOAD_SCALAR) continue;
      fprintf(o, "      const %s *r%d = p%d + i0 * a->rst[%d][0] + lo;\n",
              ctype_of[ld->dtype], l, l, ld->op);
    }
    fprintf(o, "#pragma omp simd\n      for (int64_t i = 0; i < m; i++) { %s v; ", acc);
    print_call(o, k, AT_ROW, "i", "v");
    fprintf(o, " sl_k%d_comb(acc[i], v); }\n    }\n", K);
    fprintf(o, "    if (part) for (int64_t j = 0; j < m; j++) part[b * nk + lo + j] = acc[j];\n");
    fprintf(o, "    else for (int64_t j = 0; j < m; j++) q[(lo + j) * qs] = sl_k%d_fin(acc[j]);\n  }\n", K);
    fprintf(o, "  if (part) {\n");
    fprintf(o, "    for (int64_t j = 0; j < nk; j++) {\n");
    fprintf(o, "      %s t = part[j];\n", acc);
    fprintf(o, "      for (int64_t b = 1; b < nb; b++) sl_k%d_comb(t, part[b * nk + j]);\n", K);
    fprintf(o, "      q[j * qs] = sl_k%d_fin(t);\n    }\n    free(part);\n  }\n}\n\n", K);
    return;
  }
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
    for (int v = SL_V_RFLAT; v <= SL_V_RGENERAL; v++) print_reduce_variant(o, f, k, v);
  } else {
    fprintf(o, "\n");
    print_flat(o, f, k);
    for (int v = SL_V_CONTIG; v <= SL_V_TILED; v++) print_elemwise_variant(o, f, k, v);
  }
}

/* A kernel's text with the name k->code gives it; NULL when out of memory. */
static char *kernel_text(const sl_function *f, const sl_kernel *k)
{
  char *text = NULL;
  size_t len = 0;
  FILE *o = open_memstream(&text, &len);
  if (!o) return NULL;
  print_kernel(o, f, k);
  if (fclose(o) != 0) { free(text); return NULL; }
  return text;
}

/* Kernels whose text is the same but for their name share one compiled
** copy (graphs repeat patterns: a gradient, a loop in a script); past
** SL_MAX_KERNELS distinct ones, the rest run on the reference path, which
** keeps the compile of a huge graph bounded. */
#define SL_MAX_KERNELS 64

char *sl_codegen_c(const sl_function *f, sl_plan *p)
{
  char *text = NULL, **canon = calloc((size_t)p->nkernels + 1, sizeof *canon);
  size_t len = 0;
  FILE *o = open_memstream(&text, &len);
  int ok = o && canon, distinct = 0;
  if (o) {
    /* the vectorizable math of kernels/vmath.h instead of libm calls */
    fprintf(o, "#define SL_VECTOR_MATH 1\n%s\n%s\n", sl_cc_prelude(), abi_text);
  }
  for (int i = 0; i < p->nkernels && ok; i++) {
    sl_kernel *k = p->kernels[i];
    k->code = 0;
    if (!(canon[i] = kernel_text(f, k))) { ok = 0; break; }
    int same = -1;
    for (int j = 0; j < i && same < 0; j++)
      if (p->kernels[j]->code >= 0 && canon[j] && !strcmp(canon[j], canon[i])) same = p->kernels[j]->code;
    if (same >= 0) { k->code = same; free(canon[i]); canon[i] = NULL; continue; }
    if (distinct == SL_MAX_KERNELS) { k->code = -1; free(canon[i]); canon[i] = NULL; continue; }
    distinct++;
    k->code = k->id;
    char label[128];
    const sl_node *last = f->order[k->node[k->nnodes - 1]];
    fprintf(o, "/* kernel %d: %d node%s ending in %s (%s) */\n", k->id, k->nnodes,
            k->nnodes == 1 ? "" : "s", last->op->name, sl_var_label(&last->outputs[0], label, sizeof label));
    print_kernel(o, f, k);
  }
  if (canon) for (int i = 0; i < p->nkernels; i++) free(canon[i]);
  free(canon);
  if (!o || fclose(o) != 0 || !ok) { free(text); sl_fail("out of memory"); return NULL; }
  return text;
}
