-- The specialize and inplace passes on the steps they are for: an SGD update
-- W <- W - lr * X.T·G (gemm accumulating into W) and a dense layer
-- X·W + b (gemm with a broadcast bias), each compiled with optimizer = 'none',
-- without the inplace pass, and with both passes, on both backends. Reports
-- the median time per call and its ratio to optimizer = 'none' on the same
-- backend, measured in the same run.
-- Run: bin/symlua bench/specialize.lua [n]   (default 512: W is n x n, X has n/2 rows)
local sl = require 'symlua'
local now = dofile(((arg and arg[0] or ''):match('^(.*/)') or './') .. 'support/clock.lua')

local N = tonumber(arg and arg[1]) or 512
local REPS = 41

local function median_call(f, args)
  for _ = 1, 3 do f(unpack(args)) end
  local t = {}
  for i = 1, REPS do
    collectgarbage()
    local t0 = now()
    f(unpack(args))
    t[i] = now() - t0
  end
  table.sort(t)
  return t[(REPS + 1) / 2]
end

local X, G, lr = sl.matrix('X'), sl.matrix('G'), sl.scalar('lr')
local Xv, Gv = sl.randn(N / 2, N), sl.randn(N / 2, N)
local cases = {
  { 'SGD step W - lr * X.T·G', function(opts)
      local W = sl.shared(sl.randn(N, N), 'W')
      opts.updates = { [W] = W - lr * X:dimshuffle(2, 1):dot(G) }
      return sl.compile({ X, G, lr }, {}, opts), { Xv, Gv, sl.tensor(0.01) }
    end },
  { 'dense layer X·W + b', function(opts)
      local W, b = sl.shared(sl.randn(N, N), 'W'), sl.shared(sl.randn(N), 'b')
      return sl.compile({ X }, X:dot(W) + b, opts), { Xv }
    end },
}
local variants = {
  { 'none', { optimizer = 'none' } },
  { 'specialize', { exclude = { 'inplace' } } },
  { 'specialize + inplace', {} },
}

print(('| case (n = %d) | backend | optimizer | ms per call | vs none |'):format(N))
print('|---|---|---|---|---|')
for _, case in ipairs(cases) do
  for _, mode in ipairs({ 'reference', 'c' }) do
    local base
    for _, v in ipairs(variants) do
      local opts = { mode = mode }
      for k, x in pairs(v[2]) do opts[k] = x end
      local f, args = case[2](opts)
      local t = median_call(f, args)
      base = base or t
      print(('| %s | %s | %s | %.3f | %.2f |'):format(case[1], mode, v[1], t * 1e3, t / base))
    end
  end
end
