/*
** cuda_codegen.c — the CUDA C++ source of a fusion plan: every kernel in
** the variants of cuda_kernels.h, in one NVRTC program. The arithmetic is
** the body macro every backend prints (kernel_text.c, from the op rows'
** cexpr and the kernel headers, valid C++); only the loops are CUDA's. The
** vector math of kernels/vmath.h serves as on the CPU: the same values.
**
** Accumulation: float32 and 16-bit float data reduce in float (the C
** backend uses double), float64 data, integer means in double, integer
** sums and products in 64-bit integers that wrap. Each thread folds its
** strided share of a result's elements, then the block combines the
** threads' values through warp shuffles and one shared-memory stage, so a
** float32 sum of n elements rounds about n / 256 + 13 times in a row.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc.h"
#include "cuda_kernels.h"
#include "kernel_text.h"

#define SL_STR(...) #__VA_ARGS__
#define SL_XSTR(...) SL_STR(__VA_ARGS__)

const char *const sl_cuda_variant_suffix[SL_CV_COUNT] = {
#define SL_CUDA_VARIANT_SUFFIX(e, suffix, text) suffix,
  SL_CUDA_VARIANTS(SL_CUDA_VARIANT_SUFFIX)
#undef SL_CUDA_VARIANT_SUFFIX
};
const char *const sl_cuda_variant_names[SL_CV_COUNT] = {
#define SL_CUDA_VARIANT_NAME(e, suffix, text) text,
  SL_CUDA_VARIANTS(SL_CUDA_VARIANT_NAME)
#undef SL_CUDA_VARIANT_NAME
};

extern const char sl_cuda_device_head[], sl_cuda_host_head[], sl_cuda_cmath_head[], sl_cuda_random_head[];

static const char abi_text[] =
  "typedef struct sl_cuargs { " SL_XSTR(SL_CUARGS_FIELDS) " } sl_cuargs;\n"
  "typedef struct sl_cudraw { " SL_XSTR(SL_CUDRAW_FIELDS) " } sl_cudraw;\n"
  "static_assert(sizeof(sl_cuargs) <= " SL_XSTR(SL_CUDA_PARAM_LIMIT) ", \"kernel parameters past the limit\");\n"
  "#ifdef SL_CUDA_HOST\n"
  "#define SL_HOST_LAUNCHER(name, args) \\\n"
  "  static void name##_run(const void *a) { name(*(const args *)a); } \\\n"
  "  extern \"C\" int name##_host(unsigned grid, unsigned block, const void *a) \\\n"
  "  { return sl_emu_launch(grid, block, name##_run, a); }\n"
  "#else\n"
  "#define SL_HOST_LAUNCHER(name, args)\n"
  "#endif\n";

/* The kernel headers without their <...> includes (NVRTC has no C library;
** device.h or host.h gives what they need). */
static void print_prelude(FILE *o)
{
  for (const char *s = sl_cc_prelude(); *s;) {
    const char *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);
    const char *p = s;
    while (p < s + n && (*p == ' ' || *p == '\t')) p++;
    if (strncmp(p, "#include <", 10) != 0) fwrite(s, 1, n, o);
    s += n;
  }
}

/* Typed pointers to the operands; loads read once (scalars; columns too
** when contiguous, where a column has one element) into h<L>. */
static void print_prologue(FILE *o, const sl_function *f, const sl_kernel *k, int v)
{
  fprintf(o, "extern \"C\" __global__ void sl_k%d_%s(const sl_cuargs A)\n{\n  const sl_cuargs *const a = &A;\n",
          k->code, sl_cuda_variant_suffix[v]);
  sl_kt_operand_pointers(o, f, k, v == SL_CV_CONTIG, "const ");
}

/* The body call: loads at index idx (contiguous) or at their offsets. */
static void print_call(FILE *o, const sl_kernel *k, int contig, const char *rlv)
{
  fprintf(o, "sl_k%d_body(", k->code);
  int first = 1;
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (ld->pasted) continue;
    fprintf(o, "%s", first ? "" : ", ");
    first = 0;
    if (ld->how == SL_LOAD_SCALAR || (contig && ld->how == SL_LOAD_COLUMN)) fprintf(o, "h%d", l);
    else if (contig) fprintf(o, "p%d[i]", l);
    else fprintf(o, "p%d[off[%d]]", l, ld->op);
  }
  if (rlv) fprintf(o, "%s%s", first ? "" : ", ", rlv);
  else
    for (int s = 0; s < k->nstore; s++) {
      fprintf(o, "%s", first ? "" : ", ");
      first = 0;
      if (contig) fprintf(o, "q%d[i]", s);
      else fprintf(o, "q%d[off[%d]]", s, k->nops - k->nstore + s);
    }
  fprintf(o, ");");
}

/* off[] of every operand at index `var` of a loop over (nd, shape, st), added to base. */
static void print_offsets(FILE *o, const sl_kernel *k, const char *ind, const char *var,
                          const char *nd, const char *shape, const char *st, const char *base)
{
  fprintf(o, "%sint64_t off[%d];\n", ind, k->nops);
  fprintf(o, "%sfor (int k = 0; k < %d; k++) off[k] = %s;\n", ind, k->nops, base ? base : "0");
  fprintf(o, "%sfor (int64_t d = a->%s - 1, rem = %s; d >= 0; d--) {\n", ind, nd, var);
  fprintf(o, "%s  const int64_t j = rem %% a->%s[d];\n", ind, shape);
  fprintf(o, "%s  rem /= a->%s[d];\n", ind, shape);
  fprintf(o, "%s  for (int k = 0; k < %d; k++) off[k] += j * a->%s[k][d];\n%s}\n", ind, k->nops, st, ind);
}

static const char grid_stride[] =
  "  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < a->n; "
  "i += (int64_t)blockDim.x * gridDim.x) ";

static void print_elemwise(FILE *o, const sl_function *f, const sl_kernel *k, int v)
{
  print_prologue(o, f, k, v);
  if (v == SL_CV_CONTIG) {
    fprintf(o, "%s", grid_stride);
    print_call(o, k, 1, NULL);
    fprintf(o, "\n}\nSL_HOST_LAUNCHER(sl_k%d_contig, sl_cuargs)\n\n", k->code);
    return;
  }
  fprintf(o, "%s{\n", grid_stride);
  print_offsets(o, k, "    ", "i", "nd", "shape", "st", NULL);
  fprintf(o, "    ");
  print_call(o, k, 0, NULL);
  fprintf(o, "\n  }\n}\nSL_HOST_LAUNCHER(sl_k%d_strided, sl_cuargs)\n\n", k->code);
}

static void print_reduce(FILE *o, const sl_function *f, const sl_kernel *k)
{
  const char *acc = sl_kt_acc_ctype(k->reduce, 1), *id = sl_kt_acc_identity(k->reduce);
  int K = k->code, out = k->nops - 1;
  print_prologue(o, f, k, SL_CV_REDUCE);
  fprintf(o, "  __shared__ %s part[32];\n", acc);
  fprintf(o, "  for (int64_t r = blockIdx.x; r < a->n; r += gridDim.x) {\n");
  print_offsets(o, k, "    ", "r", "nd", "shape", "st", NULL);
  fprintf(o, "    %s acc = %s;\n", acc, id);
  fprintf(o, "    for (int64_t e = threadIdx.x; e < a->m; e += blockDim.x) {\n");
  fprintf(o, "      int64_t koff[%d];\n      for (int k = 0; k < %d; k++) koff[k] = off[k];\n", k->nops, k->nops);
  fprintf(o, "      {\n");
  print_offsets(o, k, "        ", "e", "nr", "rshape", "rst", "koff[k]");
  fprintf(o, "        %s v; ", acc);
  print_call(o, k, 0, "v");
  fprintf(o, " sl_k%d_comb(acc, v);\n      }\n    }\n", K);
  /* the warp's values into lane 0, the warps' into thread 0 */
  fprintf(o, "    for (int d = 16; d > 0; d >>= 1) { %s y = __shfl_down_sync(0xffffffffu, acc, d); "
             "sl_k%d_comb(acc, y); }\n", acc, K);
  fprintf(o, "    if (threadIdx.x %% 32 == 0) part[threadIdx.x / 32] = acc;\n    __syncthreads();\n");
  fprintf(o, "    if (threadIdx.x == 0) {\n");
  fprintf(o, "      for (unsigned w = 1; w < blockDim.x / 32; w++) sl_k%d_comb(acc, part[w]);\n", K);
  fprintf(o, "      q0[off[%d]] = sl_k%d_fin(acc);\n    }\n    __syncthreads();\n  }\n}\n", out, K);
  fprintf(o, "SL_HOST_LAUNCHER(sl_k%d_reduce, sl_cuargs)\n\n", K);
}

static void print_kernel(FILE *o, const sl_function *f, const sl_kernel *k)
{
  sl_kt_constants(o, f, k, "static const");
  sl_kt_body(o, f, k, k->reduce ? sl_kt_acc_ctype(k->reduce, 1) : NULL);
  if (k->reduce) {
    sl_kt_reduce_macros(o, k);
    fprintf(o, "\n");
    print_reduce(o, f, k);
  } else {
    fprintf(o, "\n");
    print_elemwise(o, f, k, SL_CV_CONTIG);
    print_elemwise(o, f, k, SL_CV_STRIDED);
  }
}

/* What every CUDA source starts with: the head of its compiler, the kernel
** headers, the argument blocks. */
static void print_head(FILE *o)
{
  fprintf(o, "#ifdef SL_CUDA_HOST\n%s#else\n%s#endif\n%s#define SL_VECTOR_MATH 1\n", sl_cuda_host_head,
          sl_cuda_device_head, sl_cuda_cmath_head);
  print_prelude(o);
  fprintf(o, "%s\n", abi_text);
}

char *sl_codegen_cuda(const sl_function *f, sl_plan *p)
{
  char *text = NULL;
  size_t len = 0;
  FILE *o = open_memstream(&text, &len);
  if (!o) { sl_fail("out of memory"); return NULL; }
  print_head(o);
  int rc = sl_kt_kernels(o, f, p, 0, print_kernel);
  if (fclose(o) != 0 || rc) { free(text); sl_fail("out of memory"); return NULL; }
  return text;
}

char *sl_codegen_cuda_draw(void)
{
  char *text = NULL;
  size_t len = 0;
  FILE *o = open_memstream(&text, &len);
  if (!o) { sl_fail("out of memory"); return NULL; }
  print_head(o);
  fprintf(o, "%s", sl_cuda_random_head);
  if (fclose(o) != 0) { free(text); sl_fail("out of memory"); return NULL; }
  return text;
}
