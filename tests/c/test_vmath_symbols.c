/*
** test_vmath_symbols.c — the copies of kernels/vmath.h built into symlua for
** libtcc's code (core/backend/c/vmath_symbols.c): every function of
** SL_VMATH_FUNCS is there once, and the copy with the FMA instruction gives
** the same bits as the one without (libm's fma), on special values, dense
** ranges and random bit patterns; NaNs count as equal whatever their payload.
**
** Prints "ok N - name" / "not ok N - name" lines; exits 1 on any failure.
*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../kernels/vmath.h"
#include "vmath_symbols.h"

static int ntests, nfailed;

static void check(int ok, const char *name, const char *detail)
{
  ntests++;
  if (ok) printf("ok %d - %s\n", ntests, name);
  else { nfailed++; printf("not ok %d - %s\n#   %s\n", ntests, name, detail); }
}

/* xorshift64: the random bit patterns */
static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static const double special[] = { 0.0, -0.0, 1, -1, 0.5, -0.5, 2, 10, 88.72, 88.73, -87.3, -103.9, -104,
  709.78, 709.79, -708.4, -745.1, -746, 1e-300, -1e-300, 5e-324, 1e-40, -1e-40, 1e-8, -1e-8, 0.55, -0.55,
  19, 20, 9, 36.7, -36.7, -0.9999999, -1.5, 1e300, -1e300, 1.0 / 0.0, -1.0 / 0.0 };
#define NSPECIAL (int)(sizeof special / sizeof special[0])
#define NRANGE 4000
#define NRANDOM 40000

static double input_d(int i)
{
  if (i < NSPECIAL) return special[i];
  if (i < NSPECIAL + NRANGE) return (i - NSPECIAL - NRANGE / 2) * 0.03;
  uint64_t u = next();
  double x;
  memcpy(&x, &u, sizeof x);
  return x;
}

static float input_f(int i)
{
  if (i < NSPECIAL + NRANGE) return (float)input_d(i);
  uint32_t u = (uint32_t)(next() >> 17);
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

static int same_d(double a, double b) { return (a != a && b != b) || memcmp(&a, &b, sizeof a) == 0; }
static int same_f(float a, float b) { return (a != a && b != b) || memcmp(&a, &b, sizeof a) == 0; }

int main(void)
{
  const sl_vmath_symbol *plain, *fma_table;
  sl_vmath_symbol_tables(&plain, &fma_table);
  int count = 0;
  for (const sl_vmath_symbol *v = plain; v->name; v++) count++;
#define SL_VM_COUNT(T, name) + 1
  check(count == 0 SL_VMATH_FUNCS(SL_VM_COUNT), "every vmath function has a copy", "count differs");
#undef SL_VM_COUNT
  if (!fma_table) {
    printf("# no FMA instruction here: only the copy without it exists\n");
  } else {
    for (int k = 0; plain[k].name; k++) {
      char detail[200] = "";
      int ok = strcmp(plain[k].name, fma_table[k].name) == 0;
      int isf = plain[k].name[strlen(plain[k].name) - 1] == 'f';
      for (int i = 0; ok && i < NSPECIAL + NRANGE + NRANDOM; i++) {
        if (isf) {
          float x = input_f(i), a = ((float (*)(float))plain[k].fn)(x), b = ((float (*)(float))fma_table[k].fn)(x);
          ok = same_f(a, b);
          if (!ok) snprintf(detail, sizeof detail, "%s(%a): %a without FMA, %a with", plain[k].name, x, a, b);
        } else {
          double x = input_d(i), a = ((double (*)(double))plain[k].fn)(x), b = ((double (*)(double))fma_table[k].fn)(x);
          ok = same_d(a, b);
          if (!ok) snprintf(detail, sizeof detail, "%s(%a): %a without FMA, %a with", plain[k].name, x, a, b);
        }
      }
      char name[96];
      snprintf(name, sizeof name, "%s: the same bits with and without the FMA instruction", plain[k].name);
      check(ok, name, detail);
    }
  }
  printf("1..%d\n", ntests);
  return nfailed ? 1 : 0;
}
