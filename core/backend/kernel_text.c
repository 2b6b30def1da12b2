/*
** kernel_text.c — the text every generating backend prints alike (see
** kernel_text.h). Each node computes as its reference kernel does: inputs
** converted to the compute type (float, double, or int64_t for every
** integer dtype, so that integers wrap as in the reference), the op's cexpr
** pasted, the result converted to the node's dtype.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_text.h"

const char *const sl_kt_ctype[SL_NDTYPES] = {
#define SL_CTYPE_NAME(E, name, ctype, descr, kind) #ctype,
  SL_DTYPES(SL_CTYPE_NAME)
#undef SL_CTYPE_NAME
};


/* The C type arithmetic happens in: as the reference kernels' domains, but
** float16 and bfloat16 compute in float (kernels/half.h). */
const char *sl_kt_compute_ctype(sl_dtype dt)
{
  return dt == SL_FLOAT32 || sl_dtype_is_half(dt) ? "float" : dt == SL_FLOAT64 ? "double" : "int64_t";
}

/* The C type a value of dt has in a kernel's body: its storage type, but a
** float holding a float16 or bfloat16 value. */
const char *sl_kt_value_ctype(sl_dtype dt) { return sl_dtype_is_half(dt) ? "float" : sl_kt_ctype[dt]; }

/* Text converting expression x to a value of dtype dt, as sl_cast_fn does. */
void sl_kt_conv(FILE *o, sl_dtype dt, const char *x)
{
  if (dt == SL_BOOL) fprintf(o, "((uint8_t)((%s) != 0))", x);
  else if (sl_dtype_is_half(dt)) fprintf(o, "%s((double)(%s))", dt == SL_FLOAT16 ? "sl_f16_round" : "sl_bf16_round", x);
  else fprintf(o, "((%s)(%s))", sl_kt_ctype[dt], x);
}

/* The same, in dt's storage: the 16 bits of a float16 or bfloat16. */
void sl_kt_store(FILE *o, sl_dtype dt, const char *x)
{
  if (sl_dtype_is_half(dt)) fprintf(o, "%s((double)(%s))", dt == SL_FLOAT16 ? "sl_d2h" : "sl_d2bf", x);
  else sl_kt_conv(o, dt, x);
}

/* Text reading a value of dtype dt from its storage text v. */
static void print_load(FILE *o, sl_dtype dt, int l)
{
  if (sl_dtype_is_half(dt)) fprintf(o, "%s(V%d)", dt == SL_FLOAT16 ? "sl_h2f" : "sl_bf2f", l);
  else fprintf(o, "(V%d)", l);
}

/* A one-element constant as an exact C literal of its dtype. */
void sl_kt_literal(FILE *o, const sl_tensor *t)
{
  const void *p = sl_tensor_ptr(t);
  double x;
  switch (t->dtype) {
  case SL_FLOAT32: x = *(const float *)p; break;
  case SL_FLOAT64: x = *(const double *)p; break;
  case SL_FLOAT16: x = sl_f16_to_double(*(const uint16_t *)p); break;
  case SL_BFLOAT16: x = sl_bf16_to_double(*(const uint16_t *)p); break;
  case SL_INT64: {
    int64_t v = *(const int64_t *)p;
    if (v == INT64_MIN) fprintf(o, "(-9223372036854775807LL - 1)");
    else fprintf(o, "%lldLL", (long long)v);
    return;
  }
  case SL_INT32: fprintf(o, "%d", (int)*(const int32_t *)p); return;
  case SL_INT16: fprintf(o, "%d", (int)*(const int16_t *)p); return;
  case SL_INT8: fprintf(o, "%d", (int)*(const int8_t *)p); return;
  default: fprintf(o, "%u", (unsigned)*(const uint8_t *)p); return;
  }
  if (isnan(x)) fprintf(o, "NAN");
  else if (isinf(x)) fprintf(o, x > 0 ? "INFINITY" : "-INFINITY");
  else fprintf(o, "%a", x);
}

/* -- reductions: accumulator type, combining, result ----------------------------- */

typedef sl_fused_reduce reduce_kind;   /* from the op's row (graph.h) */

static reduce_kind reduce_kind_of(const sl_node *r) { return r->op->fuse; }

int sl_kt_reduce_float(const sl_node *r)
{
  return reduce_kind_of(r) == SL_FUSE_MEAN || sl_dtype_kind(r->inputs[0]->type.dtype) == 'f';
}

const char *sl_kt_acc_ctype(const sl_node *r, int narrow)
{
  reduce_kind rk = reduce_kind_of(r);
  if (sl_kt_reduce_float(r))
    return narrow && (r->inputs[0]->type.dtype == SL_FLOAT32 || sl_dtype_is_half(r->inputs[0]->type.dtype)) ? "float" : "double";
  return rk == SL_FUSE_SUM || rk == SL_FUSE_PROD ? "uint64_t" : "int64_t";
}

const char *sl_kt_acc_identity(const sl_node *r)
{
  int f = sl_kt_reduce_float(r);
  switch (reduce_kind_of(r)) {
  case SL_FUSE_PROD: return "1";
  case SL_FUSE_MAX: return f ? "-INFINITY" : "INT64_MIN";
  case SL_FUSE_MIN: return f ? "INFINITY" : "INT64_MAX";
  default: return "0";
  }
}


/* -- the body macro ---------------------------------------------------------------- */

/* The text of a member's input: a node's value, a load, a pasted constant. */
static void source_text(const sl_kernel *k, int src, char *out, size_t n)
{
  if (src >= 0) snprintf(out, n, "t%d", src);
  else if (k->load[-src - 1].pasted) snprintf(out, n, "sl_k%d_c%d", k->code, -src - 1);
  else snprintf(out, n, "x%d", -src - 1);
}

static sl_dtype source_dtype(const sl_function *f, const sl_kernel *k, int src)
{
  if (src >= 0) return f->order[k->node[src]]->outputs[0].type.dtype;
  return k->load[-src - 1].dtype;
}

void sl_kt_body(FILE *o, const sl_function *f, const sl_kernel *k, const char *acc)
{
  char *text = NULL;
  size_t len = 0;
  FILE *b = open_memstream(&text, &len);
  if (!b) return;
  int nm = k->reduce ? k->nnodes - 1 : k->nnodes;   /* elementwise members */
  fprintf(o, "#define sl_k%d_body(", k->code);
  int first = 1;
  for (int l = 0; l < k->nload; l++)
    if (!k->load[l].pasted) { fprintf(o, "%sV%d", first ? "" : ", ", l); first = 0; }
  if (k->reduce) fprintf(o, "%sR", first ? "" : ", ");
  else for (int s = 0; s < k->nstore; s++) { fprintf(o, "%sW%d", first ? "" : ", ", s); first = 0; }
  fprintf(o, ") do {");
  for (int l = 0; l < k->nload; l++)
    if (!k->load[l].pasted) {
      fprintf(b, "\n  const %s x%d = ", sl_kt_value_ctype(k->load[l].dtype), l);
      print_load(b, k->load[l].dtype, l);
      fprintf(b, ";");
    }
  for (int j = 0; j < nm; j++) {
    const sl_node *n = f->order[k->node[j]];
    sl_dtype ct = sl_elemwise_compute_dtype(n), ot = n->outputs[0].type.dtype;
    const char *cc = sl_kt_compute_ctype(ct);
    static const char names[] = "abc";
    fprintf(b, "\n  %s t%d;", sl_kt_value_ctype(ot), j);
    fprintf(b, "\n  { const %s ", cc);
    for (int i = 0; i < n->nin; i++) {
      int src = k->src[j][i];
      sl_dtype dt = source_dtype(f, k, src);
      char in[32];
      source_text(k, src, in, sizeof in);
      fprintf(b, "%s%c = (%s)(", i ? ", " : "", names[i], cc);
      /* a weak constant is first rounded to the compute dtype, as in the reference */
      if (n->inputs[i]->weak && dt != ct) sl_kt_conv(b, ct, in);
      else fprintf(b, "%s", in);
      fprintf(b, ")");
    }
    fprintf(b, "; t%d = ", j);
    char expr[512];
    snprintf(expr, sizeof expr, "%s", n->op->cexpr);
    sl_kt_conv(b, ot, expr);
    fprintf(b, "; }");
  }
  if (k->reduce) {
    int src = k->src[k->nnodes - 1][0];
    fprintf(b, "\n  (R) = (%s)(", acc);
    if (!strcmp(acc, "uint64_t")) fprintf(b, "(int64_t)");
    else if (!strcmp(acc, "int64_t")) fprintf(b, "(int64_t)");
    char in[32];
    source_text(k, src, in, sizeof in);
    fprintf(b, "%s);", in);
  } else {
    for (int s = 0; s < k->nstore; s++) {
      char text[16];
      snprintf(text, sizeof text, "t%d", k->store_node[s]);
      fprintf(b, "\n  (W%d) = ", s);
      sl_kt_store(b, f->order[k->node[k->store_node[s]]]->outputs[0].type.dtype, text);
      fprintf(b, ";");
    }
  }
  fclose(b);
  for (char *line = text; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    fprintf(o, "%s \\\n", line);
    if (!nl) break;
    line = nl + 1;
  }
  fprintf(o, "} while (0)\n");
  free(text);
}

void sl_kt_constants(FILE *o, const sl_function *f, const sl_kernel *k, const char *qual)
{
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (!ld->pasted) continue;
    fprintf(o, "%s %s sl_k%d_c%d = ", qual, sl_kt_value_ctype(ld->dtype), k->code, l);
    sl_kt_literal(o, f->slot_var[ld->slot]->value);
    fprintf(o, ";\n");
  }
}

void sl_kt_reduce_macros(FILE *o, const sl_kernel *k)
{
  const sl_node *r = k->reduce;
  reduce_kind rk = reduce_kind_of(r);
  int fl = sl_kt_reduce_float(r);
  switch (rk) {
  case SL_FUSE_PROD: fprintf(o, "#define sl_k%d_comb(A, V) ((A) *= (V))\n", k->code); break;
  case SL_FUSE_MAX:
    if (fl) fprintf(o, "#define sl_k%d_comb(A, V) ((A) = ((V) > (A) || (V) != (V)) ? (V) : (A))\n", k->code);
    else fprintf(o, "#define sl_k%d_comb(A, V) ((A) = (V) > (A) ? (V) : (A))\n", k->code);
    break;
  case SL_FUSE_MIN:
    if (fl) fprintf(o, "#define sl_k%d_comb(A, V) ((A) = ((V) < (A) || (V) != (V)) ? (V) : (A))\n", k->code);
    else fprintf(o, "#define sl_k%d_comb(A, V) ((A) = (V) < (A) ? (V) : (A))\n", k->code);
    break;
  default: fprintf(o, "#define sl_k%d_comb(A, V) ((A) += (V))\n", k->code);
  }
  fprintf(o, "#define sl_k%d_fin(A) ", k->code);
  /* sl_kt_store casts to the result's dtype: an integer sum's uint64_t
  ** accumulator wraps into int64_t there, as the reference's does */
  const char *x = rk == SL_FUSE_MEAN ? "(double)(A) / a->rcount" : "(A)";
  sl_kt_store(o, r->outputs[0].type.dtype, x);
  fprintf(o, "\n");
}

void sl_kt_operand_pointers(FILE *o, const sl_function *f, const sl_kernel *k, int columns_once,
                            const char *ptr_qual)
{
  for (int l = 0; l < k->nload; l++) {
    const sl_kload *ld = &k->load[l];
    if (ld->pasted) continue;
    const char *t = sl_kt_ctype[ld->dtype];
    fprintf(o, "  const %s *%sp%d = (const %s *)a->ptr[%d];\n", t, ptr_qual, l, t, ld->op);
    if (ld->how == SL_LOAD_SCALAR || (columns_once && ld->how == SL_LOAD_COLUMN))
      fprintf(o, "  const %s h%d = p%d[0];\n", t, l, l);
  }
  for (int s = 0; s < k->nstore; s++) {
    const sl_node *n = f->order[k->node[k->store_node[s]]];
    const char *t = sl_kt_ctype[n->outputs[0].type.dtype];
    fprintf(o, "  %s *%sq%d = (%s *)a->ptr[%d];\n", t, ptr_qual, s, t, k->nops - k->nstore + s);
  }
}

static char *text_of(const sl_function *f, const sl_kernel *k, sl_kt_print_fn print)
{
  char *text = NULL;
  size_t len = 0;
  FILE *o = open_memstream(&text, &len);
  if (!o) return NULL;
  print(o, f, k);
  if (fclose(o) != 0) { free(text); return NULL; }
  return text;
}

int sl_kt_kernels(FILE *o, const sl_function *f, sl_plan *p, int max_distinct, sl_kt_print_fn print)
{
  char **canon = calloc((size_t)p->nkernels + 1, sizeof *canon);
  int ok = canon != NULL, distinct = 0;
  for (int i = 0; i < p->nkernels && ok; i++) {
    sl_kernel *k = p->kernels[i];
    k->code = 0;
    if (!(canon[i] = text_of(f, k, print))) { ok = 0; break; }
    int same = -1;
    for (int j = 0; j < i && same < 0; j++)
      if (p->kernels[j]->code >= 0 && canon[j] && !strcmp(canon[j], canon[i])) same = p->kernels[j]->code;
    if (same >= 0) { k->code = same; free(canon[i]); canon[i] = NULL; continue; }
    if (max_distinct && distinct == max_distinct) { k->code = -1; free(canon[i]); canon[i] = NULL; continue; }
    distinct++;
    k->code = k->id;
    char label[128];
    const sl_node *last = f->order[k->node[k->nnodes - 1]];
    fprintf(o, "/* kernel %d: %d node%s ending in %s (%s) */\n", k->id, k->nnodes,
            k->nnodes == 1 ? "" : "s", last->op->name, sl_var_label(&last->outputs[0], label, sizeof label));
    print(o, f, k);
  }
  if (canon) for (int i = 0; i < p->nkernels; i++) free(canon[i]);
  free(canon);
  return ok ? 0 : -1;
}
