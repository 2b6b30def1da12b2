/*
** conv_real.h — convolution and pooling loops for one float type. ops/conv.c
** includes it twice, once per type, after defining REAL, the BLAS and FFTW
** routines for that type, and the name of every function defined here.
**
** Layouts are NCHW, contiguous. Geometry (conv_geo, ops/conv.c) gives sizes,
** strides, padding, dilation and groups; a group sees C/G input channels
** and K/G output channels.
*/

/* The columns of images n0 .. n0+nb-1, group q, side by side: entry
** (c*kh + i)*kw + j of image b's pixel p = oy*OW + ox is at
** cols[((c*kh + i)*kw + j) * nb*OH*OW + b*OH*OW + p] and holds
** x[n0+b][q*Cg + c][oy*sh - ph + i*dh][ox*sw - pw + j*dw], 0 outside the image. */
static void IM2COL(const conv_geo *g, const REAL *x, int64_t n0, int64_t nb, int64_t q, REAL *cols)
{
  int64_t Cg = g->C / g->G, ohw = g->OH * g->OW, ld = nb * ohw;
  for (int64_t b = 0; b < nb; b++)
    for (int64_t c = 0; c < Cg; c++) {
      const REAL *img = x + ((n0 + b) * g->C + q * Cg + c) * g->H * g->W;
      for (int64_t i = 0; i < g->kh; i++)
        for (int64_t j = 0; j < g->kw; j++) {
          REAL *row = cols + ((c * g->kh + i) * g->kw + j) * ld + b * ohw;
          int64_t off = j * g->dw - g->pw, lo, hi;
          inside(g->OW, g->sw, off, g->W, &lo, &hi);
          for (int64_t oy = 0; oy < g->OH; oy++) {
            int64_t y = oy * g->sh - g->ph + i * g->dh;
            REAL *dst = row + oy * g->OW;
            if (y < 0 || y >= g->H) { memset(dst, 0, (size_t)g->OW * sizeof *dst); continue; }
            const REAL *src = img + y * g->W;
            for (int64_t ox = 0; ox < lo; ox++) dst[ox] = 0;
            if (g->sw == 1) memcpy(dst + lo, src + lo + off, (size_t)(hi - lo) * sizeof *dst);
            else for (int64_t ox = lo; ox < hi; ox++) dst[ox] = src[ox * g->sw + off];
            for (int64_t ox = hi; ox < g->OW; ox++) dst[ox] = 0;
          }
        }
    }
}

/* The adjoint of IM2COL: adds each column entry back to its pixel. */
static void COL2IM(const conv_geo *g, const REAL *cols, int64_t n0, int64_t nb, int64_t q, REAL *dx)
{
  int64_t Cg = g->C / g->G, ohw = g->OH * g->OW, ld = nb * ohw;
  for (int64_t b = 0; b < nb; b++)
    for (int64_t c = 0; c < Cg; c++) {
      REAL *img = dx + ((n0 + b) * g->C + q * Cg + c) * g->H * g->W;
      for (int64_t i = 0; i < g->kh; i++)
        for (int64_t j = 0; j < g->kw; j++) {
          const REAL *row = cols + ((c * g->kh + i) * g->kw + j) * ld + b * ohw;
          int64_t off = j * g->dw - g->pw, lo, hi;
          inside(g->OW, g->sw, off, g->W, &lo, &hi);
          for (int64_t oy = 0; oy < g->OH; oy++) {
            int64_t y = oy * g->sh - g->ph + i * g->dh;
            if (y < 0 || y >= g->H) continue;
            REAL *dst = img + y * g->W;
            const REAL *src = row + oy * g->OW;
            for (int64_t ox = lo; ox < hi; ox++) dst[ox * g->sw + off] += src[ox];
          }
        }
    }
}

/* Between the NCHW layout of a result with K channels, t[n0+b][q*Kg + k][p],
** and the gemm's, m[k][b*ohw + p] (to_rows gathers, from_rows scatters). */
static void TO_ROWS(const REAL *t, int64_t K, int64_t Kg, int64_t ohw, int64_t n0, int64_t nb, int64_t q, REAL *m)
{
  for (int64_t k = 0; k < Kg; k++)
    for (int64_t b = 0; b < nb; b++)
      memcpy(m + (k * nb + b) * ohw, t + ((n0 + b) * K + q * Kg + k) * ohw, (size_t)ohw * sizeof *m);
}

static void FROM_ROWS(const REAL *m, int64_t K, int64_t Kg, int64_t ohw, int64_t n0, int64_t nb, int64_t q, REAL *t)
{
  for (int64_t k = 0; k < Kg; k++)
    for (int64_t b = 0; b < nb; b++)
      memcpy(t + ((n0 + b) * K + q * Kg + k) * ohw, m + (k * nb + b) * ohw, (size_t)ohw * sizeof *m);
}

/* The three im2col ops share one loop: the batch in chunks of s.nb images,
** the chunks split between s.nt threads (each gemm on its own thread), or
** one chunk after another when there are too few (each gemm on all of them).
** Per thread: the columns of a chunk and the gemm's staging rows. Threads
** take chunks as they come free (a shared machine may stall one of them),
** so the filter gradient sums each chunk apart, some chunks at a time,
** and adds those sums in chunk order: the same rounding however the chunks
** fell to the threads. */

static void IM2COL_CHUNK(const conv_geo *g, im_kind kind, const REAL *a, const REAL *b, REAL *out,
                         int64_t n0, int64_t nb, REAL *cols, REAL *m, REAL *dw)
{
  int64_t Cg = g->C / g->G, Kg = g->K / g->G, ck = Cg * g->kh * g->kw, ohw = g->OH * g->OW, ld = nb * ohw;
  if (kind == IM_GRAD_INPUT) memset(out + n0 * g->C * g->H * g->W, 0, (size_t)(nb * g->C * g->H * g->W) * sizeof *out);
  for (int64_t q = 0; q < g->G; q++) {
    if (kind == IM_FORWARD) {   /* y = W cols */
      REAL *y = nb > 1 ? m : out + (n0 * g->K + q * Kg) * ohw;
      IM2COL(g, a, n0, nb, q, cols);
      GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Kg, (int)ld, (int)ck, 1, b + q * Kg * ck, (int)ck,
           cols, (int)ld, 0, y, (int)ld);
      if (nb > 1) FROM_ROWS(m, g->K, Kg, ohw, n0, nb, q, out);
      continue;
    }
    const REAL *dy = kind == IM_GRAD_INPUT ? a : b;
    if (nb > 1) TO_ROWS(dy, g->K, Kg, ohw, n0, nb, q, m);
    dy = nb > 1 ? m : dy + (n0 * g->K + q * Kg) * ohw;
    if (kind == IM_GRAD_INPUT) {   /* dx = col2im(W^T dy) */
      GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ck, (int)ld, (int)Kg, 1, b + q * Kg * ck, (int)ck,
           dy, (int)ld, 0, cols, (int)ld);
      COL2IM(g, cols, n0, nb, q, out);
    } else {   /* this chunk's dW = dy cols^T */
      IM2COL(g, a, n0, nb, q, cols);
      GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Kg, (int)ck, (int)ld, 1, dy, (int)ld,
           cols, (int)ld, 0, dw + q * Kg * ck, (int)ck);
    }
  }
}

static int IM2COL_RUN(const conv_geo *g, im_kind kind, const REAL *a, const REAL *b, REAL *out)
{
  int64_t ck = g->C / g->G * g->kh * g->kw, Kg = g->K / g->G, ohw = g->OH * g->OW, per = g->K * ck;
  conv_split s = split_batch(g->N, ohw, ck + Kg);
  int64_t slots = COLS_MAX / per > 4 * s.nt ? COLS_MAX / per : 4 * s.nt;   /* few rounds, bounded memory */
  if (slots > s.chunks) slots = s.chunks;
  REAL *sums = kind == IM_GRAD_FILTERS ? malloc((size_t)(slots * per) * sizeof *sums) : NULL;
  int failed = kind == IM_GRAD_FILTERS && !sums;
  if (failed) goto done;
#pragma omp parallel num_threads(s.nt)
  {
    REAL *cols = malloc((size_t)(ck * s.nb * ohw) * sizeof *cols);
    REAL *m = s.nb > 1 ? malloc((size_t)(Kg * s.nb * ohw) * sizeof *m) : NULL;
    for (int64_t c0 = 0; c0 < s.chunks; c0 += slots) {   /* every thread runs the same rounds */
      int64_t c1 = c0 + slots < s.chunks ? c0 + slots : s.chunks;
#pragma omp for schedule(dynamic)
      for (int64_t c = c0; c < c1; c++) {
        int64_t n0 = c * s.nb, nb = g->N - n0 < s.nb ? g->N - n0 : s.nb;
        if (!cols || (s.nb > 1 && !m)) {
#pragma omp atomic write
          failed = 1;
          continue;
        }
        IM2COL_CHUNK(g, kind, a, b, out, n0, nb, cols, m, sums ? sums + (c - c0) * per : NULL);
      }
      if (sums) {   /* after the loop's barrier: this round's sums, in chunk order */
#pragma omp for schedule(static)
        for (int64_t i = 0; i < per; i++) {
          REAL v = c0 ? out[i] : 0;
          for (int64_t c = c0; c < c1; c++) v += sums[(c - c0) * per + i];
          out[i] = v;
        }
      }
    }
    free(cols);
    free(m);
  }
done:
  free(sums);
  return failed ? sl_fail("out of memory") : 0;
}

/* y[n, k] = W[k] · im2col(x[n]) per group */
static int CONV_IM2COL(const conv_geo *g, const REAL *x, const REAL *w, REAL *y)
{
  return IM2COL_RUN(g, IM_FORWARD, x, w, y);
}

/* dx[n] = col2im(W^T · dy[n]) per group */
static int CONV_GRAD_INPUT(const conv_geo *g, const REAL *dy, const REAL *w, REAL *dx)
{
  return IM2COL_RUN(g, IM_GRAD_INPUT, dy, w, dx);
}

/* dW[group] = sum over n of dy[n] · im2col(x[n])^T */
static int CONV_GRAD_FILTERS(const conv_geo *g, const REAL *x, const REAL *dy, REAL *dw)
{
  return IM2COL_RUN(g, IM_GRAD_FILTERS, x, dy, dw);
}

/* -- Winograd F(m x m, r x r) ---------------------------------------------------------
** A stride-1 r x r correlation in tiles of m x m outputs (wino_rule, ops/conv.c):
** a tile's n x n input d (n = m + r - 1) becomes V = B^T d B, a filter f
** becomes U = G f G^T, and the tile's outputs are A^T M A, where M at each of
** the n^2 positions sums U V over the input channels: n^2 gemms of
** (Co x Ci) by (Ci x tiles), (m r / n)^2 times fewer multiplications than
** im2col's. Geometry in wino_geo (ops/conv.c). */

/* U[xi][o][i] for xi = a n + c: filter o, channel i, is w[o][i] or, flipped
** (the input gradient), w[i][o] turned by 180 degrees. */
static void WINO_FILTERS(const wino_geo *g, const REAL *w, REAL *U)
{
  const wino_rule *t = g->rule;
  int r = t->r, n = t->m + t->r - 1;
  for (int64_t o = 0; o < g->Co; o++)
    for (int64_t i = 0; i < g->Ci; i++) {
      double f[WINO_R][WINO_R], h[WINO_N][WINO_R];
      for (int a = 0; a < r; a++)
        for (int b = 0; b < r; b++)
          f[a][b] = g->flip ? w[((i * g->Co + o) * r + r - 1 - a) * r + r - 1 - b] : w[((o * g->Ci + i) * r + a) * r + b];
      for (int a = 0; a < n; a++)   /* G f */
        for (int b = 0; b < r; b++) {
          double v = 0;
          for (int k = 0; k < r; k++) v += t->G[a][k] * f[k][b];
          h[a][b] = v;
        }
      for (int a = 0; a < n; a++)   /* (G f) G^T */
        for (int c = 0; c < n; c++) {
          double v = 0;
          for (int k = 0; k < r; k++) v += h[a][k] * t->G[c][k];
          U[((a * n + c) * g->Co + o) * g->Ci + i] = (REAL)v;
        }
    }
}

/* dst[0 .. len) = sum over k < nk (at most WINO_N) of coef[k] src[k ld + ...]:
** one pass with every term in registers, the nonzero terms only (padded to
** 2, 4 or 6 with zeros); built for the vector units that the processor has. */
VECTOR_CLONES static void WINO_COMBINE(REAL *restrict dst, const double *coef, int nk, const REAL *src, int64_t ld,
                                       int64_t len)
{
  REAL c[WINO_N] = { 0 };
  const REAL *s[WINO_N];
  int used = 0;
  for (int k = 0; k < nk; k++)
    if (coef[k] != 0) { c[used] = (REAL)coef[k]; s[used++] = src + k * ld; }
  for (int k = used; k < WINO_N; k++) s[k] = src;
  const REAL *restrict s0 = s[0], *restrict s1 = s[1], *restrict s2 = s[2], *restrict s3 = s[3], *restrict s4 = s[4],
                       *restrict s5 = s[5];
  if (used <= 2)
    for (int64_t j = 0; j < len; j++) dst[j] = c[0] * s0[j] + c[1] * s1[j];
  else if (used <= 4)
    for (int64_t j = 0; j < len; j++) dst[j] = c[0] * s0[j] + c[1] * s1[j] + c[2] * s2[j] + c[3] * s3[j];
  else
    for (int64_t j = 0; j < len; j++)
      dst[j] = c[0] * s0[j] + c[1] * s1[j] + c[2] * s2[j] + c[3] * s3[j] + c[4] * s4[j] + c[5] * s5[j];
}

/* V[xi][i][b*tiles + tile] for images n0 .. n0+nb-1 of x (N, Ci, H, W), one
** image plane at a time, so that every loop runs over all of its tiles: the
** plane padded, the n x n inputs of its tiles gathered (D[k][l][tile]), then
** B^T over k and B over l. rows: wino_scratch(g) elements. */
static void WINO_INPUT(const wino_geo *g, const REAL *x, int64_t n0, int64_t nb, REAL *V, REAL *rows)
{
  const wino_rule *t = g->rule;
  int m = t->m, n = t->m + t->r - 1;
  int64_t TH = (g->OH + m - 1) / m, TW = (g->OW + m - 1) / m, tiles = TH * TW, T = nb * tiles, step = g->Ci * T;
  int64_t HP = m * TH + t->r - 1, WP = m * TW + t->r - 1;   /* the padded plane */
  int64_t h = g->H < HP - g->ph ? g->H : HP - g->ph, w = g->W < WP - g->pw ? g->W : WP - g->pw;   /* what of x it holds */
  REAL *P = rows, *D = P + HP * WP, *Tk = D + n * n * tiles;
  memset(P, 0, (size_t)(HP * WP) * sizeof *P);
  for (int64_t b = 0; b < nb; b++)
    for (int64_t i = 0; i < g->Ci; i++) {
      const REAL *img = x + ((n0 + b) * g->Ci + i) * g->H * g->W;
      for (int64_t y = 0; y < h; y++) memcpy(P + (y + g->ph) * WP + g->pw, img + y * g->W, (size_t)w * sizeof *P);
      for (int k = 0; k < n; k++)
        for (int l = 0; l < n; l++) {
          REAL *dk = D + (k * n + l) * tiles;
          for (int64_t ty = 0; ty < TH; ty++) {
            const REAL *src = P + (m * ty + k) * WP + l;
            for (int64_t tx = 0; tx < TW; tx++) dk[ty * TW + tx] = src[m * tx];
          }
        }
      for (int a = 0; a < n; a++)   /* (B^T d)[a][l] */
        for (int l = 0; l < n; l++) WINO_COMBINE(Tk + (a * n + l) * tiles, t->BT[a], n, D + l * tiles, n * tiles, tiles);
      for (int a = 0; a < n; a++)   /* (B^T d B)[a][c] */
        for (int c = 0; c < n; c++)
          WINO_COMBINE(V + (a * n + c) * step + i * T + b * tiles, t->BT[c], n, Tk + a * n * tiles, tiles, tiles);
    }
}

/* y[n0+b][o] = A^T M A per tile, one output plane at a time, clipped at
** the bottom and right edges. rows: wino_scratch(g) elements. */
static void WINO_OUTPUT(const wino_geo *g, const REAL *M, int64_t n0, int64_t nb, REAL *y, REAL *rows)
{
  const wino_rule *t = g->rule;
  int m = t->m, n = t->m + t->r - 1;
  int64_t TH = (g->OH + m - 1) / m, TW = (g->OW + m - 1) / m, tiles = TH * TW, T = nb * tiles, step = g->Co * T;
  REAL *S = rows, *Y = rows + m * n * tiles;   /* S[p][c] = (A^T M)[p][c], Y[p][q] = (A^T M A)[p][q], per tile */
  for (int64_t b = 0; b < nb; b++)
    for (int64_t o = 0; o < g->Co; o++) {
      const REAL *mt = M + o * T + b * tiles;
      for (int p = 0; p < m; p++)
        for (int c = 0; c < n; c++) WINO_COMBINE(S + (p * n + c) * tiles, t->AT[p], n, mt + c * step, n * step, tiles);
      for (int p = 0; p < m; p++)
        for (int q = 0; q < m; q++) WINO_COMBINE(Y + (p * m + q) * tiles, t->AT[q], n, S + p * n * tiles, tiles, tiles);
      REAL *out = y + ((n0 + b) * g->Co + o) * g->OH * g->OW;
      for (int64_t ty = 0; ty < TH; ty++)
        for (int p = 0; p < m && m * ty + p < g->OH; p++) {
          REAL *dst = out + (m * ty + p) * g->OW;
          for (int q = 0; q < m; q++) {
            const REAL *src = Y + (p * m + q) * tiles + ty * TW;
            for (int64_t tx = 0; tx < TW && m * tx + q < g->OW; tx++) dst[m * tx + q] = src[tx];
          }
        }
    }
}

static int WINOGRAD(const wino_geo *g, const REAL *x, const REAL *w, REAL *y)
{
  int m = g->rule->m, n = g->rule->m + g->rule->r - 1, nn = n * n;
  int64_t tiles = ((g->OH + m - 1) / m) * ((g->OW + m - 1) / m);
  conv_split s = split_fitting(g->N, (int64_t)sizeof(REAL) * nn * (g->Ci + g->Co) * tiles, WINO_BYTES);
  REAL *U = malloc((size_t)(nn * g->Co * g->Ci) * sizeof *U);
  int failed = !U;
  if (failed) goto done;
  WINO_FILTERS(g, w, U);
#pragma omp parallel num_threads(s.nt)
  {
    REAL *V = malloc((size_t)(nn * g->Ci * s.nb * tiles) * sizeof *V);
    REAL *M = malloc((size_t)(nn * g->Co * s.nb * tiles) * sizeof *M);
    REAL *rows = malloc((size_t)wino_scratch(g) * sizeof *rows);   /* WINO_INPUT and _OUTPUT scratch */
#pragma omp for schedule(dynamic)
    for (int64_t c = 0; c < s.chunks; c++) {
      int64_t n0 = c * s.nb, nb = g->N - n0 < s.nb ? g->N - n0 : s.nb, T = nb * tiles;
      if (!V || !M || !rows) {
#pragma omp atomic write
        failed = 1;
        continue;
      }
      WINO_INPUT(g, x, n0, nb, V, rows);
      for (int xi = 0; xi < nn; xi++)
        GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)g->Co, (int)T, (int)g->Ci, 1,
             U + xi * g->Co * g->Ci, (int)g->Ci, V + xi * g->Ci * T, (int)T, 0, M + xi * g->Co * T, (int)T);
      WINO_OUTPUT(g, M, n0, nb, y, rows);
    }
    free(rows);
    free(V);
    free(M);
  }
done:
  free(U);
  return failed ? sl_fail("out of memory") : 0;
}

/* The filter gradient of the correlation g describes (flip 0). Per tile it
** is the r x r correlation of the tile's n x n input d with its m x m
** output gradient e, Winograd F(r x r, m x m) on the same points: V =
** B^T d B as WINO_INPUT makes it, E = Ge e Ge^T, their products summed over
** the tiles by n^2 gemms of (Co x tiles) by (tiles x Ci), and A'^T (sum) A'. */

/* E[xi][o][b*tiles + tile] of dy (N, Co, OH, OW), zero past its edges. */
static void WINO_GRAD_TILES(const wino_geo *g, const REAL *dy, int64_t n0, int64_t nb, REAL *E, REAL *rows)
{
  const wino_rule *t = g->rule;
  int m = t->m, n = t->m + t->r - 1;
  int64_t TH = (g->OH + m - 1) / m, TW = (g->OW + m - 1) / m, tiles = TH * TW, T = nb * tiles, step = g->Co * T;
  int64_t WP = m * TW;
  REAL *P = rows, *D = P + m * TH * WP, *Tk = D + m * m * tiles;
  memset(P, 0, (size_t)(m * TH * WP) * sizeof *P);
  for (int64_t b = 0; b < nb; b++)
    for (int64_t o = 0; o < g->Co; o++) {
      const REAL *plane = dy + ((n0 + b) * g->Co + o) * g->OH * g->OW;
      for (int64_t y = 0; y < g->OH; y++) memcpy(P + y * WP, plane + y * g->OW, (size_t)g->OW * sizeof *P);
      for (int k = 0; k < m; k++)
        for (int l = 0; l < m; l++) {
          REAL *dk = D + (k * m + l) * tiles;
          for (int64_t ty = 0; ty < TH; ty++) {
            const REAL *src = P + (m * ty + k) * WP + l;
            for (int64_t tx = 0; tx < TW; tx++) dk[ty * TW + tx] = src[m * tx];
          }
        }
      for (int a = 0; a < n; a++)   /* (Ge e)[a][l] */
        for (int l = 0; l < m; l++) WINO_COMBINE(Tk + (a * m + l) * tiles, t->Ge[a], m, D + l * tiles, m * tiles, tiles);
      for (int a = 0; a < n; a++)   /* (Ge e Ge^T)[a][c] */
        for (int c = 0; c < n; c++)
          WINO_COMBINE(E + (a * n + c) * step + o * T + b * tiles, t->Ge[c], m, Tk + a * m * tiles, tiles, tiles);
    }
}

/* Each thread sums its own run of chunks (a static split, so the rounding
** depends on the thread count alone); the threads' sums are added in order. */
static int WINOGRAD_FILTERS(const wino_geo *g, const REAL *x, const REAL *dy, REAL *dw)
{
  const wino_rule *t = g->rule;
  int m = t->m, r = t->r, n = m + r - 1, nn = n * n;
  int64_t tiles = ((g->OH + m - 1) / m) * ((g->OW + m - 1) / m), per = nn * g->Co * g->Ci;
  conv_split s = split_fitting(g->N, (int64_t)sizeof(REAL) * nn * (g->Ci + g->Co) * tiles, WINO_BYTES);
  int64_t tail = (n * r + r * r) * g->Co * g->Ci;   /* the last transform's scratch, after the sums */
  REAL *sums = calloc((size_t)(s.nt * per + tail), sizeof *sums);
  int failed = !sums;
  if (failed) goto done;
#pragma omp parallel num_threads(s.nt)
  {
    REAL *V = malloc((size_t)(nn * g->Ci * s.nb * tiles) * sizeof *V);
    REAL *E = malloc((size_t)(nn * g->Co * s.nb * tiles) * sizeof *E);
    REAL *rows = malloc((size_t)wino_scratch(g) * sizeof *rows);
    REAL *mine = sums + omp_get_thread_num() * per;
#pragma omp for schedule(static)
    for (int64_t c = 0; c < s.chunks; c++) {
      int64_t n0 = c * s.nb, nb = g->N - n0 < s.nb ? g->N - n0 : s.nb, T = nb * tiles;
      if (!V || !E || !rows) {
#pragma omp atomic write
        failed = 1;
        continue;
      }
      WINO_INPUT(g, x, n0, nb, V, rows);
      WINO_GRAD_TILES(g, dy, n0, nb, E, rows);
      for (int xi = 0; xi < nn; xi++)
        GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)g->Co, (int)g->Ci, (int)T, 1, E + xi * g->Co * T, (int)T,
             V + xi * g->Ci * T, (int)T, 1, mine + xi * g->Co * g->Ci, (int)g->Ci);
    }
    free(rows);
    free(V);
    free(E);
  }
  if (failed) goto done;
  for (int th = 1; th < s.nt; th++)
    for (int64_t i = 0; i < per; i++) sums[i] += sums[th * per + i];
  /* dw[o][i] = ATe S ATe^T, every (o, i) at once: R[p][b] = (S ATe^T)[p][b], then ATe R */
  int64_t oi = g->Co * g->Ci;
  REAL *R = sums + s.nt * per, *Y = R + n * r * oi;
  for (int p = 0; p < n; p++)
    for (int b = 0; b < r; b++) WINO_COMBINE(R + (p * r + b) * oi, t->ATe[b], n, sums + p * n * oi, oi, oi);
  for (int a = 0; a < r; a++)
    for (int b = 0; b < r; b++) WINO_COMBINE(Y + (a * r + b) * oi, t->ATe[a], n, R + b * oi, r * oi, oi);
  for (int64_t k = 0; k < oi; k++)
    for (int ab = 0; ab < r * r; ab++) dw[k * r * r + ab] = Y[ab * oi + k];
done:
  free(sums);
  return failed ? sl_fail("out of memory") : 0;
}

/* -- sliding window ------------------------------------------------------------------
** Stride 1, dilation 1, one group, straight from the padded image: a row
** of LANES output columns for SLIDE_K filters at a time sums the C kh kw
** taps in vector registers, each tap one load of the padded input row and
** SLIDE_K broadcasts of the filters (kept tap by tap, SLIDE_K filters side
** by side). Made for the first layers, where C kh kw is too small a
** dimension for a gemm to run at speed. flip: the filters are (C, K, kh,
** kw) turned by 180 degrees, which makes it the input gradient. */

/* Output row oy of filters k0 .. k0+nk-1 (nk <= SLIDE_K); P holds C padded
** planes of HP x WP, wt the taps' SLIDE_K filters. */
VECTOR_CLONES static void SLIDE_ROW(const conv_geo *g, const REAL *P, int64_t HP, int64_t WP, const REAL *wt,
                                  int64_t oy, REAL *y, int nk)
{
  enum { L = 64 / sizeof(REAL) };
  for (int64_t ox0 = 0; ox0 < g->OW; ox0 += L) {
    VEC acc[SLIDE_K];
    for (int q = 0; q < SLIDE_K; q++) acc[q] = (VEC){ 0 };
    const REAL *tap = wt;
    for (int64_t c = 0; c < g->C; c++)
      for (int64_t i = 0; i < g->kh; i++) {
        const REAL *row = P + (c * HP + oy + i) * WP + ox0;
        for (int64_t j = 0; j < g->kw; j++, tap += SLIDE_K) {
          VEC v;
          memcpy(&v, row + j, sizeof v);
          for (int q = 0; q < SLIDE_K; q++) acc[q] += tap[q] * v;
        }
      }
    size_t len = (size_t)(g->OW - ox0 < L ? g->OW - ox0 : L) * sizeof(REAL);
    for (int q = 0; q < nk; q++) memcpy(y + q * g->OH * g->OW + oy * g->OW + ox0, &acc[q], len);
  }
}

static int CONV_SLIDING(const conv_geo *g, const REAL *x, const REAL *w, REAL *y, int flip)
{
  enum { L = 64 / sizeof(REAL) };
  int64_t taps = g->C * g->kh * g->kw, KB = (g->K + SLIDE_K - 1) / SLIDE_K;
  int64_t HP = g->OH + g->kh - 1, WP = (g->OW + L - 1) / L * L + g->kw - 1;   /* every load inside */
  int64_t h = g->H < HP - g->ph ? g->H : HP - g->ph, wd = g->W < WP - g->pw ? g->W : WP - g->pw;
  REAL *wt = calloc((size_t)(KB * taps * SLIDE_K), sizeof *wt);   /* wt[kb][tap][q] */
  int failed = !wt;
  if (failed) goto done;
  for (int64_t k = 0; k < g->K; k++)
    for (int64_t c = 0; c < g->C; c++)
      for (int64_t i = 0; i < g->kh; i++)
        for (int64_t j = 0; j < g->kw; j++) {
          int64_t t = (c * g->kh + i) * g->kw + j;
          REAL v = flip ? w[((c * g->K + k) * g->kh + g->kh - 1 - i) * g->kw + g->kw - 1 - j]
                        : w[((k * g->C + c) * g->kh + i) * g->kw + j];
          wt[((k / SLIDE_K) * taps + t) * SLIDE_K + k % SLIDE_K] = v;
        }
#pragma omp parallel num_threads(conv_threads())
  {
    REAL *P = calloc((size_t)(g->C * HP * WP), sizeof *P);
#pragma omp for schedule(dynamic)
    for (int64_t n = 0; n < g->N; n++) {
      if (!P) {
#pragma omp atomic write
        failed = 1;
        continue;
      }
      for (int64_t c = 0; c < g->C; c++)
        for (int64_t r = 0; r < h; r++)
          memcpy(P + (c * HP + r + g->ph) * WP + g->pw, x + ((n * g->C + c) * g->H + r) * g->W, (size_t)wd * sizeof *P);
      for (int64_t kb = 0; kb < KB; kb++) {
        int nk = g->K - kb * SLIDE_K < SLIDE_K ? (int)(g->K - kb * SLIDE_K) : SLIDE_K;
        for (int64_t oy = 0; oy < g->OH; oy++)
          SLIDE_ROW(g, P, HP, WP, wt + kb * taps * SLIDE_K, oy, y + (n * g->K + kb * SLIDE_K) * g->OH * g->OW, nk);
      }
    }
    free(P);
  }
done:
  free(wt);
  return failed ? sl_fail("out of memory") : 0;
}

/* The definition, summed in double: the oracle the others are tested against. */
static int CONV_DIRECT(const conv_geo *g, const REAL *x, const REAL *w, REAL *y)
{
  int64_t Cg = g->C / g->G, Kg = g->K / g->G;
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t k = 0; k < g->K; k++)
      for (int64_t oy = 0; oy < g->OH; oy++)
        for (int64_t ox = 0; ox < g->OW; ox++) {
          double s = 0;
          int64_t q = k / Kg;
          for (int64_t c = 0; c < Cg; c++)
            for (int64_t i = 0; i < g->kh; i++)
              for (int64_t j = 0; j < g->kw; j++) {
                int64_t yy = oy * g->sh - g->ph + i * g->dh, xx = ox * g->sw - g->pw + j * g->dw;
                if (yy < 0 || yy >= g->H || xx < 0 || xx >= g->W) continue;
                s += (double)x[((n * g->C + q * Cg + c) * g->H + yy) * g->W + xx] *
                     (double)w[((k * Cg + c) * g->kh + i) * g->kw + j];
              }
          y[((n * g->K + k) * g->OH + oy) * g->OW + ox] = (REAL)s;
        }
  return 0;
}

/* Stride 1, dilation 1, one group: y[n, k] = sum_c corr(xp[n, c], w[k, c]),
** the correlation taken as IFFT(X · conj(Wf)) on P x Q planes large enough
** (P >= padded height, Q >= padded width) that no wrap reaches the valid
** outputs. Spectra of the images and filters are computed once each. */
static int CONV_FFT(const conv_geo *g, const REAL *x, const REAL *w, REAL *y)
{
  int64_t P = fft_size(g->H + 2 * g->ph), Q = fft_size(g->W + 2 * g->pw), Qc = Q / 2 + 1;
  int64_t plane = P * Q, spec = P * Qc;
  FFT_PLAN fwd, inv;
  if (FFT_PLANS(P, Q, &fwd, &inv)) return -1;
  REAL *buf = FFT_MALLOC(sizeof(REAL) * (size_t)plane);
  REAL (*xs)[2] = FFT_MALLOC(sizeof(REAL[2]) * (size_t)(g->N * g->C * spec));
  REAL (*ws)[2] = FFT_MALLOC(sizeof(REAL[2]) * (size_t)(g->K * g->C * spec));
  REAL (*acc)[2] = FFT_MALLOC(sizeof(REAL[2]) * (size_t)spec);
  int rc = 0;
  if (!buf || !xs || !ws || !acc) { rc = sl_fail("out of memory"); goto done; }
  for (int64_t p = 0; p < g->N * g->C; p++) {   /* padded image planes */
    memset(buf, 0, sizeof(REAL) * (size_t)plane);
    for (int64_t r = 0; r < g->H; r++)
      memcpy(buf + (r + g->ph) * Q + g->pw, x + (p * g->H + r) * g->W, sizeof(REAL) * (size_t)g->W);
    FFT_R2C(fwd, buf, xs + p * spec);
  }
  for (int64_t p = 0; p < g->K * g->C; p++) {   /* filters at the origin */
    memset(buf, 0, sizeof(REAL) * (size_t)plane);
    for (int64_t r = 0; r < g->kh; r++)
      memcpy(buf + r * Q, w + (p * g->kh + r) * g->kw, sizeof(REAL) * (size_t)g->kw);
    FFT_R2C(fwd, buf, ws + p * spec);
  }
  REAL scale = (REAL)1 / (REAL)plane;
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t k = 0; k < g->K; k++) {
      memset(acc, 0, sizeof(REAL[2]) * (size_t)spec);
      for (int64_t c = 0; c < g->C; c++) {
        const REAL (*a)[2] = xs + (n * g->C + c) * spec, (*b)[2] = ws + (k * g->C + c) * spec;
        for (int64_t f = 0; f < spec; f++) {   /* a · conj(b) */
          acc[f][0] += a[f][0] * b[f][0] + a[f][1] * b[f][1];
          acc[f][1] += a[f][1] * b[f][0] - a[f][0] * b[f][1];
        }
      }
      FFT_C2R(inv, acc, buf);
      for (int64_t oy = 0; oy < g->OH; oy++)
        for (int64_t ox = 0; ox < g->OW; ox++)
          y[((n * g->K + k) * g->OH + oy) * g->OW + ox] = buf[oy * Q + ox] * scale;
    }
done:
  FFT_FREE(buf); FFT_FREE(xs); FFT_FREE(ws); FFT_FREE(acc);
  return rc;
}

/* -- pooling: windows of kh x kw every (sh, sw), padded by (ph, pw) ---------------- */

/* Max pooling; padding never wins (it counts as -inf). */
static void MAX_POOL(const conv_geo *g, const REAL *x, REAL *y)
{
  POOL_PLANES
  for (int64_t p = 0; p < g->N * g->C; p++)
    for (int64_t oy = 0; oy < g->OH; oy++)
      for (int64_t ox = 0; ox < g->OW; ox++) {
        REAL m = -INFINITY;
        for (int64_t i = 0; i < g->kh; i++) {
          int64_t yy = oy * g->sh - g->ph + i;
          if (yy < 0 || yy >= g->H) continue;
          for (int64_t j = 0; j < g->kw; j++) {
            int64_t xx = ox * g->sw - g->pw + j;
            if (xx < 0 || xx >= g->W) continue;
            REAL v = x[(p * g->H + yy) * g->W + xx];
            if (v > m || v != v) m = v;
          }
        }
        y[(p * g->OH + oy) * g->OW + ox] = m;
      }
}

/* The gradient goes to the first maximum of each window. */
static void MAX_POOL_GRAD(const conv_geo *g, const REAL *x, const REAL *dy, REAL *dx)
{
  memset(dx, 0, (size_t)(g->N * g->C * g->H * g->W) * sizeof *dx);
  POOL_PLANES
  for (int64_t p = 0; p < g->N * g->C; p++)
    for (int64_t oy = 0; oy < g->OH; oy++)
      for (int64_t ox = 0; ox < g->OW; ox++) {
        REAL m = -INFINITY;
        int64_t at = -1;
        for (int64_t i = 0; i < g->kh; i++) {
          int64_t yy = oy * g->sh - g->ph + i;
          if (yy < 0 || yy >= g->H) continue;
          for (int64_t j = 0; j < g->kw; j++) {
            int64_t xx = ox * g->sw - g->pw + j;
            if (xx < 0 || xx >= g->W) continue;
            int64_t k = (p * g->H + yy) * g->W + xx;
            if (at < 0 || x[k] > m || (x[k] != x[k] && m == m)) { m = x[k]; at = k; }
          }
        }
        if (at >= 0) dx[at] += dy[(p * g->OH + oy) * g->OW + ox];
      }
}

/* Average pooling over the window, padding included in the count (as in
** PyTorch's default), so every window divides by kh kw. */
static void AVG_POOL(const conv_geo *g, const REAL *x, REAL *y)
{
  REAL inv = (REAL)1 / (REAL)(g->kh * g->kw);
  POOL_PLANES
  for (int64_t p = 0; p < g->N * g->C; p++)
    for (int64_t oy = 0; oy < g->OH; oy++)
      for (int64_t ox = 0; ox < g->OW; ox++) {
        REAL s = 0;
        for (int64_t i = 0; i < g->kh; i++) {
          int64_t yy = oy * g->sh - g->ph + i;
          if (yy < 0 || yy >= g->H) continue;
          for (int64_t j = 0; j < g->kw; j++) {
            int64_t xx = ox * g->sw - g->pw + j;
            if (xx >= 0 && xx < g->W) s += x[(p * g->H + yy) * g->W + xx];
          }
        }
        y[(p * g->OH + oy) * g->OW + ox] = s * inv;
      }
}

static void AVG_POOL_GRAD(const conv_geo *g, const REAL *dy, REAL *dx)
{
  REAL inv = (REAL)1 / (REAL)(g->kh * g->kw);
  memset(dx, 0, (size_t)(g->N * g->C * g->H * g->W) * sizeof *dx);
  POOL_PLANES
  for (int64_t p = 0; p < g->N * g->C; p++)
    for (int64_t oy = 0; oy < g->OH; oy++)
      for (int64_t ox = 0; ox < g->OW; ox++) {
        REAL d = dy[(p * g->OH + oy) * g->OW + ox] * inv;
        for (int64_t i = 0; i < g->kh; i++) {
          int64_t yy = oy * g->sh - g->ph + i;
          if (yy < 0 || yy >= g->H) continue;
          for (int64_t j = 0; j < g->kw; j++) {
            int64_t xx = ox * g->sw - g->pw + j;
            if (xx >= 0 && xx < g->W) dx[(p * g->H + yy) * g->W + xx] += d;
          }
        }
      }
}
