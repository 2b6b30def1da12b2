-- The optimizer on large graphs: a deep unrolled MLP with its gradient
-- (about 10,000 nodes), compiled with each optimizer level. Reports graph
-- sizes, the optimizer's time, and the whole compile against a compile
-- with optimizer = 'none' (toposort and slots only), measured in the same run.
-- Run: bin/symlua bench/optimizer.lua [layers]   (default 700)
local sl = require 'symlua'
local now = dofile(((arg and arg[0] or ''):match('^(.*/)') or './') .. 'support/clock.lua')

local LAYERS = tonumber(arg and arg[1]) or 700

-- The model: h <- tanh(h W_i + b_i), a softplus loss, and every gradient.
local t0 = now()
local x, y = sl.matrix('x'), sl.vector('y')
local params, h = {}, x
for i = 1, LAYERS do
  local W = sl.shared(sl.randn(8, 8) * 0.3, 'W' .. i)
  local b = sl.shared(sl.zeros(8), 'b' .. i)
  params[#params + 1], params[#params + 2] = W, b
  h = sl.tanh(h:dot(W) + b)
end
local z = h:sum(2)
local loss = (y * sl.softplus(-z) + (1 - y) * sl.softplus(z)):mean()
local t_build = now() - t0
t0 = now()
local grads = sl.grad(loss, params)
local t_grad = now() - t0
local outputs = { loss }
for _, g in ipairs(grads) do outputs[#outputs + 1] = g end

local function compile(level)
  local t = now()
  local f = sl.compile({ x, y }, outputs, { optimizer = level })
  return f, now() - t
end

local none, t_none = compile('none')
for _ = 1, 2 do t_none = math.min(t_none, select(2, compile('none'))) end
local rows = {}
for _, level in ipairs({ 'fast_compile', 'fast_run' }) do
  local best, f = math.huge, nil
  for _ = 1, 3 do
    local g, t = compile(level)
    if t < best then best, f = t, g end
  end
  local info = f:info()
  local fired = 0
  for _, n in pairs(info.rewrites) do fired = fired + n end
  rows[#rows + 1] = { level, none:info().nodes, info.nodes, fired, info.optimizer_time, best }
end

print(('graph: %d layers, built in %.3f s, gradient in %.3f s; compile with optimizer = none: %.3f s')
  :format(LAYERS, t_build, t_grad, t_none))
print()
print('| optimizer | nodes before | nodes after | rewrites | optimizer time | compile time | compile / none |')
print('|---|---:|---:|---:|---:|---:|---:|')
for _, r in ipairs(rows) do
  print(('| %s | %d | %d | %d | %.3f s | %.3f s | %.1fx |'):format(r[1], r[2], r[3], r[4], r[5], r[6],
                                                                 r[6] / t_none))
end

-- the optimized function computes the same as the graph as written
local xs, ys = sl.randn(16, 8), sl.lt(sl.rand(16), 0.5):cast('float64')
local fast = sl.compile({ x, y }, outputs)
local a, b = { fast(xs, ys) }, { none(xs, ys) }
local worst = 0
for i = 1, #a do worst = math.max(worst, (a[i] - b[i]):abs():max():item()) end
print()
print(('largest difference between fast_run and none over %d outputs: %.3g'):format(#a, worst))
