/*
** random.h — the CUDA kernel of random draws (uniform [0, 1) and standard
** normal, float32 or float64): each thread makes the values of its Philox
** blocks through kernels/philox.h, the CPU's own source, so a device fills
** a tensor with the numbers sl.rand / sl.randn give for the same key and
** offset. Blocks of the draw are walked grid-stride; an odd count's last
** block gives one value. Printed after the kernel headers and the
** argument blocks (sl_cudraw) by sl_codegen_cuda_draw.
*/
extern "C" __global__ void sl_draw(const sl_cudraw A)
{
  const sl_cudraw *const a = &A;
  const int64_t blocks = (a->n + 1) / 2;
  for (int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; j < blocks; j += (int64_t)blockDim.x * gridDim.x) {
    uint32_t w[4];
    double v[2];
    sl_philox_block(a->offset + (uint64_t)j, a->seed, w);
    if (a->normal) { sl_philox_pair p = sl_philox_normals(w[0], w[1], w[2], w[3]); v[0] = p.even; v[1] = p.odd; }
    else if (a->f32) { v[0] = sl_philox_u24(w[0]); v[1] = sl_philox_u24(w[2]); }
    else { v[0] = sl_philox_u53(w[0], w[1]); v[1] = sl_philox_u53(w[2], w[3]); }
    for (int h = 0; h < 2 && 2 * j + h < a->n; h++) {
      if (a->f32) ((float *)a->out)[2 * j + h] = (float)v[h];
      else ((double *)a->out)[2 * j + h] = v[h];
    }
  }
}
SL_HOST_LAUNCHER(sl_draw, sl_cudraw)
