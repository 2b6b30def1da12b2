/*
** conv_real.h — convolution and pooling loops for one float type. ops/conv.c
** includes it twice, once per type, after defining REAL, the BLAS and FFTW
** routines for that type, and the name of every function defined here.
**
** Layouts are NCHW, contiguous. Geometry (conv_geo, ops/conv.c) gives sizes,
** strides, padding, dilation and groups; a group sees C/G input channels
** and K/G output channels.
*/

/* cols[(c*kh + i)*kw + j][oy*OW + ox] = x[c][oy*sh - ph + i*dh][ox*sw - pw + j*dw],
** 0 outside the image. */
static void IM2COL(const conv_geo *g, int64_t C, const REAL *x, REAL *cols)
{
  int64_t ohw = g->OH * g->OW;
  for (int64_t c = 0; c < C; c++)
    for (int64_t i = 0; i < g->kh; i++)
      for (int64_t j = 0; j < g->kw; j++) {
        REAL *row = cols + ((c * g->kh + i) * g->kw + j) * ohw;
        for (int64_t oy = 0; oy < g->OH; oy++) {
          int64_t y = oy * g->sh - g->ph + i * g->dh;
          REAL *dst = row + oy * g->OW;
          if (y < 0 || y >= g->H) { memset(dst, 0, (size_t)g->OW * sizeof *dst); continue; }
          const REAL *src = x + (c * g->H + y) * g->W;
          for (int64_t ox = 0; ox < g->OW; ox++) {
            int64_t xx = ox * g->sw - g->pw + j * g->dw;
            dst[ox] = xx >= 0 && xx < g->W ? src[xx] : 0;
          }
        }
      }
}

/* The adjoint of IM2COL: adds each column entry back to its pixel. */
static void COL2IM(const conv_geo *g, int64_t C, const REAL *cols, REAL *dx)
{
  int64_t ohw = g->OH * g->OW;
  for (int64_t c = 0; c < C; c++)
    for (int64_t i = 0; i < g->kh; i++)
      for (int64_t j = 0; j < g->kw; j++) {
        const REAL *row = cols + ((c * g->kh + i) * g->kw + j) * ohw;
        for (int64_t oy = 0; oy < g->OH; oy++) {
          int64_t y = oy * g->sh - g->ph + i * g->dh;
          if (y < 0 || y >= g->H) continue;
          REAL *dst = dx + (c * g->H + y) * g->W;
          for (int64_t ox = 0; ox < g->OW; ox++) {
            int64_t xx = ox * g->sw - g->pw + j * g->dw;
            if (xx >= 0 && xx < g->W) dst[xx] += row[oy * g->OW + ox];
          }
        }
      }
}

/* y[n, k] = W[k] · im2col(x[n]) per group: one gemm of (K/G) x (Cg kh kw) by
** (Cg kh kw) x (OH OW). */
static int CONV_IM2COL(const conv_geo *g, const REAL *x, const REAL *w, REAL *y)
{
  int64_t Cg = g->C / g->G, Kg = g->K / g->G, ck = Cg * g->kh * g->kw, ohw = g->OH * g->OW;
  REAL *cols = malloc((size_t)(ck * ohw + 1) * sizeof *cols);
  if (!cols) return sl_fail("out of memory");
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t q = 0; q < g->G; q++) {
      IM2COL(g, Cg, x + (n * g->C + q * Cg) * g->H * g->W, cols);
      GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Kg, (int)ohw, (int)ck, 1,
           w + q * Kg * ck, (int)ck, cols, (int)ohw, 0, y + (n * g->K + q * Kg) * ohw, (int)ohw);
    }
  free(cols);
  return 0;
}

/* dx[n] = col2im(W^T · dy[n]) per group. */
static int CONV_GRAD_INPUT(const conv_geo *g, const REAL *dy, const REAL *w, REAL *dx)
{
  int64_t Cg = g->C / g->G, Kg = g->K / g->G, ck = Cg * g->kh * g->kw, ohw = g->OH * g->OW;
  REAL *cols = malloc((size_t)(ck * ohw + 1) * sizeof *cols);
  if (!cols) return sl_fail("out of memory");
  memset(dx, 0, (size_t)(g->N * g->C * g->H * g->W) * sizeof *dx);
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t q = 0; q < g->G; q++) {
      GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ck, (int)ohw, (int)Kg, 1,
           w + q * Kg * ck, (int)ck, dy + (n * g->K + q * Kg) * ohw, (int)ohw, 0, cols, (int)ohw);
      COL2IM(g, Cg, cols, dx + (n * g->C + q * Cg) * g->H * g->W);
    }
  free(cols);
  return 0;
}

/* dW[group] = sum over n of dy[n] · im2col(x[n])^T. */
static int CONV_GRAD_FILTERS(const conv_geo *g, const REAL *x, const REAL *dy, REAL *dw)
{
  int64_t Cg = g->C / g->G, Kg = g->K / g->G, ck = Cg * g->kh * g->kw, ohw = g->OH * g->OW;
  REAL *cols = malloc((size_t)(ck * ohw + 1) * sizeof *cols);
  if (!cols) return sl_fail("out of memory");
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t q = 0; q < g->G; q++) {
      IM2COL(g, Cg, x + (n * g->C + q * Cg) * g->H * g->W, cols);
      GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Kg, (int)ck, (int)ohw, 1,
           dy + (n * g->K + q * Kg) * ohw, (int)ohw, cols, (int)ohw, n ? 1 : 0,
           dw + q * Kg * ck, (int)ck);
    }
  free(cols);
  return 0;
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
