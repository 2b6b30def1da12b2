-- linear_regression.lua — fit y = X·w + b by full-batch gradient descent.
--
-- The data are synthetic: rows of X drawn from N(0, 1), a known w and b, and
-- a little noise on y. The model is a compiled function that returns the
-- mean squared error and, through updates of the shared variables w and b,
-- takes one gradient step per call. sl.grad derives the gradients from the
-- loss graph:
--
--   loss = mean((X·w + b - y)^2)
--   dloss/dw = 2/n · errᵀ·X        dloss/db = 2 · mean(err),   err = X·w + b - y
--
-- Run: bin/symlua examples/linear_regression.lua
local sl = require 'symlua'

sl.manual_seed(2024)

-- -- synthetic data -----------------------------------------------------------------
local n, d = 2000, 5
local true_w = sl.tensor({ 1.5, -2.0, 0.5, 3.25, -0.75 }, 'float64')
local true_b = 0.6
local noise = 0.1

local X = sl.randn(n, d)
local Y = X:dot(true_w) + true_b + sl.randn(n) * noise   -- computed at once (tensors)

-- -- the model ---------------------------------------------------------------------------
local w = sl.shared(sl.zeros(d), 'w')
local b = sl.shared(sl.zeros({}), 'b')       -- a 0-d float64
local x, y = sl.matrix('x'), sl.vector('y')

local err = x:dot(w) + b - y
local loss = (err * err):mean()
local grad_w, grad_b = unpack(sl.grad(loss, { w, b }))

local rate = 0.1
local train = sl.compile({ x, y }, loss, {
  updates = { [w] = w - rate * grad_w, [b] = b - rate * grad_b },
})

-- -- training ----------------------------------------------------------------------------
local epochs = 60
print(string.format('fitting %d rows x %d features, learning rate %g\n', n, d, rate))
print(string.format('%6s  %14s  %14s', 'epoch', 'loss', '|w - w_true|'))
print(string.format('%6s  %14s  %14s', string.rep('-', 6), string.rep('-', 14), string.rep('-', 14)))

local function distance(a, c)
  local s = 0
  for i = 1, d do s = s + (a[i] - c[i]) ^ 2 end
  return math.sqrt(s)
end

local last_loss
for epoch = 1, epochs do
  last_loss = train(X, Y):item()   -- the loss before this epoch's step
  if epoch <= 5 or epoch % 5 == 0 then
    print(string.format('%6d  %14.8f  %14.8f', epoch, last_loss, distance(w:get_value(), true_w)))
  end
end

-- -- results -------------------------------------------------------------------------------
local learned_w, learned_b = w:get_value(), b:get_value():item()
local tolerance = 0.02    -- the noise alone moves the estimates by about noise / sqrt(n)
print(string.format('\n%-6s  %10s  %10s  %10s', 'param', 'true', 'learned', '|diff|'))
local worst = math.abs(learned_b - true_b)
for i = 1, d do
  local diff = math.abs(learned_w[i] - true_w[i])
  worst = math.max(worst, diff)
  print(string.format('%-6s  %10.5f  %10.5f  %10.2e', 'w[' .. i .. ']', true_w[i], learned_w[i], diff))
end
print(string.format('%-6s  %10.5f  %10.5f  %10.2e', 'b', true_b, learned_b, math.abs(learned_b - true_b)))

print(string.format('\nfinal loss %.6f (the noise variance is %.6f)', last_loss, noise * noise))
if worst <= tolerance then
  print(string.format('converged: every parameter is within %g of its true value (worst %.2e)',
                      tolerance, worst))
else
  print(string.format('did not converge: a parameter is %.2e from its true value (tolerance %g)',
                      worst, tolerance))
  os.exit(1, true)   -- closes the Lua state, so the tensors it holds are freed
end
