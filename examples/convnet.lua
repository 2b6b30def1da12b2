-- convnet.lua — the classic TensorFlow-tutorial convolutional network on
-- Fashion-MNIST: two 5x5 convolution + ReLU + 2x2 max-pool layers (32 and
-- 64 filters), a dense layer of 1024 ReLU units with dropout, and a softmax
-- output; Adam on the mean cross-entropy, in float32.
--
-- Run: bin/symlua examples/convnet.lua [epochs]   (default 8; about 0.92 on the test set)
local sl = require 'symlua'
local here = (arg and arg[0] or ''):match('^(.*/)') or './'
local fm = dofile(here .. 'fashion_mnist.lua')

local EPOCHS = tonumber(arg and arg[1]) or 8
local BATCH, RATE, DROPOUT = 100, 1e-3, 0.5
sl.config.floatX = 'float32'
sl.manual_seed(1)

local X, Y, Xt, Yt = fm.load(true)   -- (n, 1, 28, 28)

local params = {}
local function param(name, value)
  local p = sl.shared(value, name)
  params[#params + 1] = p
  return p
end
local c1 = param('conv1', sl.init.he_normal({ 32, 1, 5, 5 }))
local b1 = param('conv1_bias', sl.zeros(32))
local c2 = param('conv2', sl.init.he_normal({ 64, 32, 5, 5 }))
local b2 = param('conv2_bias', sl.zeros(64))
local W3 = param('dense', sl.init.he_normal({ 7 * 7 * 64, 1024 }))
local b3 = param('dense_bias', sl.zeros(1024))
local W4 = param('out', sl.init.glorot_uniform({ 1024, 10 }))
local b4 = param('out_bias', sl.zeros(10))

local stream = sl.random.stream(1)
local function network(x, training)
  local function conv_layer(h, c, b)
    h = sl.nn.conv2d(h, c, { padding = 'same' }) + b:dimshuffle('x', 1, 'x', 'x')
    return sl.nn.max_pool2d(sl.nn.relu(h), 2)
  end
  local h = conv_layer(conv_layer(x, c1, b1), c2, b2)
  h = sl.nn.relu(h:reshape(-1, 7 * 7 * 64):dot(W3) + b3)
  if training then h = stream:dropout(h, DROPOUT) end
  return h:dot(W4) + b4
end

local x, y = sl.ftensor4('x'), sl.lvector('y')
local z = network(x, true)
local loss = sl.nn.categorical_crossentropy(sl.nn.softmax(z), y):mean()
local right = sl.eq(z:argmax(2), y):cast('int64'):sum()
local train = sl.compile({ x, y }, { loss, right }, { updates = sl.optim.adam(params, loss, { lr = RATE }) })
local predict = sl.compile({ x }, network(x, false):argmax(2))

local acc = fm.train(train, predict, X, Y, Xt, Yt, { epochs = EPOCHS, batch = BATCH, seed = 1 })
if acc < 0.88 then
  print(('test accuracy %.4f is below 0.88: training failed'):format(acc))
  os.exit(1, true)
end
