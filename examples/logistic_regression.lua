-- logistic_regression.lua — binary logistic regression by minibatch SGD.
--
-- The data are two Gaussian blobs in 20 dimensions: class 1 around +m, class
-- 0 around -m, with unit variance in every direction and |m| = 2.5. The best
-- possible classifier, the plane through the origin normal to m, is right
-- with probability Φ(|m|) ≈ 0.994; the run must reach 0.95 on held-out rows.
--
-- The model is p = sigmoid(x·w + b). The loss is the mean binary
-- cross-entropy written with softplus, which never takes the log of a
-- probability that rounded to 0 or 1:
--
--   -y·log p - (1 - y)·log(1 - p) = y·softplus(-z) + (1 - y)·softplus(z),   z = x·w + b
--
-- sl.grad gives the gradients; one compiled function takes a minibatch index,
-- reads its rows from the training set held in shared variables (givens), and
-- updates w and b. A second compiled function predicts labels.
--
-- Run: bin/symlua examples/logistic_regression.lua [epochs]
local sl = require 'symlua'

local EPOCHS = tonumber(arg and arg[1]) or 10
local SEED = 7
local D = 20               -- features
local N_TRAIN, N_TEST = 8000, 2000
local SEPARATION = 2.5     -- |m|: the Bayes accuracy is Φ(2.5) ≈ 0.9938
local BATCH, RATE, L2 = 100, 0.5, 1e-4
local REQUIRED = 0.95      -- the test accuracy the run must reach

sl.manual_seed(SEED)

-- -- synthetic data ------------------------------------------------------------------
-- The class centres ±m: a random direction scaled to length SEPARATION.
local m = sl.randn(D)
m = m * (SEPARATION / math.sqrt((m * m):sum():item()))

-- n rows: labels 0 or 1 with equal odds (float64, for the loss), and rows
-- drawn around +m or -m.
local function blobs(n)
  local y = sl.lt(sl.rand(n), 0.5):cast('float64')
  local sign = (y * 2 - 1):reshape(n, 1)
  local x = sl.randn(n, D) + sign * m:reshape(1, D)
  return x, y
end
local X_train, Y_train = blobs(N_TRAIN)
local X_test, Y_test = blobs(N_TEST)

-- -- the model ---------------------------------------------------------------------------
local w = sl.shared(sl.zeros(D), 'w')
local b = sl.shared(0, 'b')
local x, y = sl.matrix('x'), sl.vector('y')

local z = x:dot(w) + b
local xent = (y * sl.softplus(-z) + (1 - y) * sl.softplus(z)):mean()
local loss = xent + L2 * (w * w):sum()
local correct = sl.eq(sl.gt(z, 0):cast('float64'), y):cast('float64'):sum()
local gw, gb = unpack(sl.grad(loss, { w, b }))

-- The training set lives in the core; minibatch i (0-based) is rows
-- i·BATCH + 1 .. (i + 1)·BATCH.
local Xs, Ys = sl.shared(X_train, 'X_train'), sl.shared(Y_train, 'Y_train')
local i = sl.lscalar('i')
local rows = { { i * BATCH + 1, (i + 1) * BATCH } }
local train = sl.compile({ i }, { xent, correct }, {
  updates = { [w] = w - RATE * gw, [b] = b - RATE * gb },
  givens = { [x] = Xs[rows], [y] = Ys[rows] },
})
local predict = sl.compile({ x }, sl.gt(z, 0))   -- a bool label per row

-- Wall-clock seconds (os.clock counts CPU time, which threads inflate).
local now = os.clock
do
  local ok, ffi = pcall(require, 'ffi')
  if ok then
    pcall(ffi.cdef, 'struct sl_example_timespec { long tv_sec, tv_nsec; };'
                    .. 'int clock_gettime(int clk, struct sl_example_timespec *ts);')
    local ts = ffi.new('struct sl_example_timespec')
    local CLOCK_MONOTONIC = 1
    now = function()
      ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
      return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
    end
  end
end

local function accuracy(X, Y)
  return sl.eq(predict(X):cast('float64'), Y):cast('float64'):mean():item()
end

-- -- training ----------------------------------------------------------------------------
local batches = math.floor(N_TRAIN / BATCH)
print(string.format('%d training and %d test rows, %d features, minibatches of %d, learning rate %g\n',
                    N_TRAIN, N_TEST, D, BATCH, RATE))
print(string.format('%5s  %10s  %9s  %12s  %9s', 'epoch', 'loss', 'accuracy', 'examples/s', 'elapsed'))
local start = now()
for epoch = 1, EPOCHS do
  local t0 = now()
  local total, right = 0, 0
  for k = 0, batches - 1 do
    local l, c = train(k)   -- loss and correct count before this step
    total = total + l:item()
    right = right + c:item()
  end
  local dt = math.max(now() - t0, 1e-9)
  print(string.format('%5d  %10.6f  %9.4f  %12.0f  %8.2fs', epoch, total / batches,
                      right / (batches * BATCH), batches * BATCH / dt, now() - start))
end

-- -- results -----------------------------------------------------------------------------
local train_acc, test_acc = accuracy(X_train, Y_train), accuracy(X_test, Y_test)
-- The learned normal should point along m.
local wv = w:get_value()
local cosine = (wv * m):sum():item() / math.sqrt((wv * wv):sum():item() * (m * m):sum():item())
print(string.format('\ntrain accuracy %.4f, test accuracy %.4f on %d held-out rows', train_acc, test_acc, N_TEST))
print(string.format('cosine between the learned w and the true direction m: %.4f', cosine))
if test_acc > REQUIRED then
  print(string.format('learned: test accuracy %.4f is above %.2f', test_acc, REQUIRED))
else
  print(string.format('did not learn: test accuracy %.4f is not above %.2f', test_acc, REQUIRED))
  os.exit(1, true)   -- closes the Lua state, so the tensors it holds are freed
end
