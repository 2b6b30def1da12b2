-- Training steps the benches compile: each builder returns the compiled
-- function and its arguments (made from a fixed seed).
local sl = require 'symlua'
local M = {}

-- One fused elementwise kernel over 1000 doubles.
function M.one_kernel()
  local a, b = sl.vector('a'), sl.vector('b')
  local f = sl.compile({ a, b }, sl.sin(a) * b + 0.5 * a)
  sl.manual_seed(1)
  return f, { sl.randn(1000), sl.randn(1000) }
end

-- The logistic-regression training step of examples/logistic_regression.lua,
-- on 8000 random rows of 20 features, batches of 100.
function M.logistic()
  local D, N, BATCH, RATE, L2 = 20, 8000, 100, 0.5, 1e-4
  sl.manual_seed(7)
  local w = sl.shared(sl.zeros(D), 'w')
  local b = sl.shared(0, 'b')
  local x, y = sl.matrix('x'), sl.vector('y')
  local z = x:dot(w) + b
  local xent = (y * sl.softplus(-z) + (1 - y) * sl.softplus(z)):mean()
  local loss = xent + L2 * (w * w):sum()
  local correct = sl.eq(sl.gt(z, 0):cast('float64'), y):cast('float64'):sum()
  local gw, gb = unpack(sl.grad(loss, { w, b }))
  local Xs = sl.shared(sl.randn(N, D), 'X_train')
  local Ys = sl.shared(sl.lt(sl.rand(N), 0.5):cast('float64'), 'Y_train')
  local i = sl.lscalar('i')
  local rows = { { i * BATCH + 1, (i + 1) * BATCH } }
  local train = sl.compile({ i }, { xent, correct }, {
    updates = { [w] = w - RATE * gw, [b] = b - RATE * gb },
    givens = { [x] = Xs[rows], [y] = Ys[rows] },
  })
  return train, { 0 }
end

-- The MLP training step of examples/mlp.lua (784-256-128-100-10, ReLU, Adam,
-- float32) on one random batch of opts.batch rows (default 128); opts.dist:
-- data-parallel over sl.dist's ranks (gradients averaged in the step).
function M.mlp(opts)
  opts = opts or {}
  local batch = opts.batch or 128
  local SIZES = { 784, 256, 128, 100, 10 }
  local old = sl.config.floatX
  sl.config.floatX = 'float32'
  sl.manual_seed(1)
  local params = {}
  local x, y = sl.fmatrix('x'), sl.lvector('y')
  local h = x
  for i = 1, #SIZES - 1 do
    local W = sl.shared(sl.init.he_normal({ SIZES[i], SIZES[i + 1] }), 'W' .. i)
    local b = sl.shared(sl.zeros(SIZES[i + 1]), 'b' .. i)
    params[#params + 1], params[#params + 2] = W, b
    h = h:dot(W) + b
    if i < #SIZES - 1 then h = sl.nn.relu(h) end
  end
  local loss = sl.nn.categorical_crossentropy(sl.nn.softmax(h), y):mean()
  local right = sl.eq(h:argmax(2), y):cast('int64'):sum()
  local train = sl.compile({ x, y }, { loss, right }, { updates = sl.optim.adam(params, loss, { lr = 1e-3, dist = opts.dist }) })
  local xs = sl.rand(batch, 784):cast('float32')
  local ys = (sl.rand(batch) * 10):floor():cast('int64') + 1
  sl.config.floatX = old
  return train, { xs, ys }
end

return M
