-- fashion_mnist.lua — what the Fashion-MNIST examples share: loading the data
-- set, a wall clock, and a training loop that prints one line per epoch.
-- The examples load it with dofile, next to themselves.
local sl = require 'symlua'
local ffi = require 'ffi'

local M = {}

M.DIR = os.getenv('FASHION_MNIST_DIR') or '/usr/share/datasets/fashion-mnist'
M.CLASSES = { 'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt',
              'Sneaker', 'Bag', 'Ankle boot' }

pcall(ffi.cdef, [[
  struct fmnist_timespec { long tv_sec, tv_nsec; };
  int clock_gettime(int clk, struct fmnist_timespec *ts);
]])
local ts = ffi.new('struct fmnist_timespec')
-- wall-clock seconds (os.clock counts CPU time, which threads inflate)
function M.now()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

-- Images as floatX rows scaled to [0, 1] (shape (n, 784), or (n, 1, 28, 28)
-- with as_images), labels as int64 classes 1..10. Exits with a message
-- saying how to install the data set when it is missing.
function M.load(as_images)
  local f = io.open(M.DIR .. '/train-images-idx3-ubyte.gz', 'rb')
  if not f then
    io.stderr:write(('Fashion-MNIST is not installed (looked in %s).\n'):format(M.DIR),
                    'Install it with:  sudo apt-get install dataset-fashion-mnist\n',
                    '(or point FASHION_MNIST_DIR at a directory holding its four .gz files)\n')
    os.exit(2)
  end
  f:close()
  local function images(name)
    local raw = sl.data.idx(M.DIR .. '/' .. name)
    local n = raw:size(1)
    local x = raw:cast(sl.config.floatX) / 255
    return as_images and x:reshape(n, 1, 28, 28) or x:reshape(n, 784)
  end
  local function labels(name) return sl.data.idx(M.DIR .. '/' .. name):cast('int64') + 1 end
  return images('train-images-idx3-ubyte.gz'), labels('train-labels-idx1-ubyte.gz'),
         images('t10k-images-idx3-ubyte.gz'), labels('t10k-labels-idx1-ubyte.gz')
end

-- Accuracy of predict (a compiled function from a batch of inputs to
-- labels 1..10) over X, Y, in batches.
function M.accuracy(predict, X, Y, batch)
  local right = 0
  for _, x, y in sl.data.batches({ X, Y }, batch or 1000) do
    right = right + sl.eq(predict(x), y):cast('int64'):sum():item()
  end
  return right / Y:size(1)
end

-- Trains for opts.epochs over shuffled minibatches: train(x, y) returns the
-- batch's mean loss and its number of right answers. Prints one line per
-- epoch and returns the test accuracy. opts.dist: this is one of sl.dist's
-- ranks, taking its share of each batch of opts.batch rows; the epoch's
-- totals are summed over the ranks and rank 0 prints them.
function M.train(train, predict, X, Y, Xt, Yt, opts)
  local n = X:size(1)
  local rank, size = 0, 1
  if opts.dist then rank, size = sl.dist.rank(), sl.dist.size() end
  if opts.batch % size ~= 0 then error(('%d ranks do not divide batches of %d'):format(size, opts.batch)) end
  local say = rank == 0 and print or function() end
  say(('%d training and %d test images, minibatches of %d (%d per rank, %d rank%s), %d epochs')
      :format(n, Xt:size(1), opts.batch, opts.batch / size, size, size == 1 and '' or 's', opts.epochs))
  say(('%5s  %9s  %9s  %9s  %11s  %9s'):format('epoch', 'loss', 'train acc', 'test acc',
                                               'examples/s', 'elapsed'))
  local start, test_acc = M.now(), 0
  for epoch = 1, opts.epochs do
    local t0, loss, right, seen = M.now(), 0, 0, 0
    local order = { shuffle = true, seed = opts.seed, epoch = epoch, rank = rank, size = size }
    for _, x, y in sl.data.batches({ X, Y }, opts.batch / size, order) do
      local l, r = train(x, y)
      local m = x:size(1)
      loss, right, seen = loss + l:item() * m, right + r:item(), seen + m
    end
    if opts.dist then
      local totals = sl.dist.allreduce(sl.tensor({ loss, right, seen }, 'float64'), 'sum'):totable()
      loss, right, seen = totals[1], totals[2], totals[3]
    end
    local rate = seen / math.max(M.now() - t0, 1e-9)
    test_acc = M.accuracy(predict, Xt, Yt)
    say(('%5d  %9.4f  %9.4f  %9.4f  %11.0f  %8.1fs'):format(epoch, loss / seen, right / seen,
                                                           test_acc, rate, M.now() - start))
  end
  say(('\ntest accuracy after %d epochs: %.4f'):format(opts.epochs, test_acc))
  return test_acc
end

return M
