-- logreg.lua — multinomial logistic regression on Fashion-MNIST.
--
-- p(class | x) = softmax(x W + b) over 784 pixels and 10 classes, trained by
-- minibatch SGD with momentum on the mean cross-entropy. The loss is written
-- the naive way, categorical_crossentropy(softmax(z), y); the optimizer
-- turns it into one stable fused op, and x W + b into one gemm (see
-- sl.debugprint(train) with SYMLUA_DEBUGPRINT=1).
--
-- Run: bin/symlua examples/logreg.lua [epochs]   (default 20; about 0.84 on the test set)
local sl = require 'symlua'
local here = (arg and arg[0] or ''):match('^(.*/)') or './'
local fm = dofile(here .. 'fashion_mnist.lua')

local EPOCHS = tonumber(arg and arg[1]) or 20
local BATCH, RATE = 100, 0.01
sl.manual_seed(1)

local X, Y, Xt, Yt = fm.load()

local W = sl.shared(sl.zeros(784, 10), 'W')
local b = sl.shared(sl.zeros(10), 'b')
local x, y = sl.matrix('x'), sl.lvector('y')
local z = x:dot(W) + b
local loss = sl.nn.categorical_crossentropy(sl.nn.softmax(z), y):mean()
local right = sl.eq(z:argmax(2), y):cast('int64'):sum()

local train = sl.compile({ x, y }, { loss, right },
                         { updates = sl.optim.momentum({ W, b }, loss, { lr = RATE, momentum = 0.9 }) })
local predict = sl.compile({ x }, z:argmax(2))
if os.getenv('SYMLUA_DEBUGPRINT') then sl.debugprint(train) end

local acc = fm.train(train, predict, X, Y, Xt, Yt, { epochs = EPOCHS, batch = BATCH, seed = 1 })
if acc < 0.80 then
  print(('test accuracy %.4f is below 0.80: training failed'):format(acc))
  os.exit(1, true)
end
