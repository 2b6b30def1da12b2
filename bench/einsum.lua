-- einsum: sl.einsum in compiled functions against NumPy's einsum with
-- optimize=True, on the same shapes in the same run (both on OpenBLAS; NumPy
-- gets its own subprocess). The target is numpy / symlua >= 1.0 for the
-- batched contraction. Times are the best of 9 calls after a warm-up; each
-- call makes a fresh output, on both sides. Functions compile synchronously,
-- so no background compile shares the cores with the timed calls.
-- Run: bin/symlua bench/einsum.lua
local sl = require 'symlua'
sl.config.compile = 'sync'

local here = (arg and arg[0] or ''):match('^(.*/)') or './'
local now = dofile(here .. 'support/clock.lua')
local python = dofile(here .. 'support/python.lua')

local best = dofile(here .. 'support/best.lua')(now)

-- Each case: a name, the subscripts, the operands' shapes and the dtype.
local cases = {
  { 'batched matmul', 'bij,bjk->bik', { { 64, 128, 128 }, { 64, 128, 128 } }, 'float64' },
  { 'batched matmul', 'bij,bjk->bik', { { 64, 128, 128 }, { 64, 128, 128 } }, 'float32' },
  { 'attention scores', 'bhqd,bhkd->bhqk', { { 8, 8, 128, 64 }, { 8, 8, 128, 64 } }, 'float32' },
  { 'two contracted axes', 'abc,cbd->ad', { { 256, 64, 32 }, { 32, 64, 256 } }, 'float64' },
  { 'matrix product', 'ij,jk->ik', { { 512, 512 }, { 512, 512 } }, 'float64' },
}

local function shape_text(s) return '(' .. table.concat(s, ', ') .. (#s == 1 and ',)' or ')') end

-- NumPy's times, one subprocess for every case
local function numpy_times()
  local lines = {}
  for _, c in ipairs(cases) do
    lines[#lines + 1] = ("a = np.random.randn(*%s).astype('%s'); b = np.random.randn(*%s).astype('%s')"):format(
      shape_text(c[3][1]), c[4], shape_text(c[3][2]), c[4])
    lines[#lines + 1] = ("r.append(best(lambda: np.einsum('%s', a, b, optimize=True)))"):format(c[2])
  end
  return python.numpy_times(lines, #cases)
end

local np = numpy_times()
print('| case | subscripts | shapes | dtype | symlua | NumPy optimize=True | numpy / symlua |')
print('|---|---|---|---|---:|---:|---:|')
for i, c in ipairs(cases) do
  sl.manual_seed(i)
  local xs, vars = {}, {}
  for k, s in ipairs(c[3]) do
    xs[k] = sl.randn(s, c[4])
    local unknown = {}
    for d = 1, #s do unknown[d] = -1 end
    vars[k] = sl.tensor_type(c[4], unknown)('x' .. k)
  end
  local f = sl.compile(vars, sl.einsum(c[2], unpack(vars)))
  local t_sl = best(function() f(unpack(xs)) end)
  local t_np = np and np[i]
  local function ms(t) return t and ('%.3f ms'):format(t * 1e3) or 'n/a' end
  print(('| %s | %s | %s x %s | %s | %s | %s | %s |'):format(c[1], c[2], shape_text(c[3][1]), shape_text(c[3][2]),
    c[4], ms(t_sl), ms(t_np), t_np and ('%.2f'):format(t_np / t_sl) or 'n/a'))
end
