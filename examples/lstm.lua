-- lstm.lua — an LSTM classifier that reads each Fashion-MNIST image row by
-- row: 28 steps of 28 pixels into 128 units (sl.nn.lstm, a loop compiled
-- into C by sl.scan), softmax on the last hidden state, trained by Adam.
--
-- Run: bin/symlua examples/lstm.lua [epochs]   (default 6; about 0.87-0.88 on the test set)
local sl = require 'symlua'
local here = (arg and arg[0] or ''):match('^(.*/)') or './'
local fm = dofile(here .. 'fashion_mnist.lua')

local EPOCHS = tonumber(arg and arg[1]) or 6
local BATCH, RATE, UNITS = 128, 2e-3, 128
sl.config.floatX = 'float32'
sl.manual_seed(1)

local X, Y, Xt, Yt = fm.load()

local x, y = sl.fmatrix('x'), sl.lvector('y')
local rows = x:reshape(-1, 28, 28):dimshuffle(2, 1, 3)   -- (28 steps, batch, 28 pixels)
local p = sl.nn.lstm_params(28, UNITS, 'lstm')
local V = sl.shared(sl.init.glorot_uniform({ UNITS, 10 }), 'V')
local c = sl.shared(sl.zeros(10), 'c')
local h = sl.nn.lstm(rows, p)
local logits = h[-1]:dot(V) + c
local loss = sl.nn.categorical_crossentropy(sl.nn.softmax(logits), y):mean()
local right = sl.eq(logits:argmax(2), y):cast('int64'):sum()

local params = { p.W, p.U, p.b, V, c }
local t0 = fm.now()
local train = sl.compile({ x, y }, { loss, right }, { updates = sl.optim.adam(params, loss, { lr = RATE }) })
local predict = sl.compile({ x }, logits:argmax(2))
print(('compiled the training function in %.2f s'):format(fm.now() - t0))

local acc = fm.train(train, predict, X, Y, Xt, Yt, { epochs = EPOCHS, batch = BATCH, seed = 1 })
if acc < 0.87 then
  print(('test accuracy %.4f is below 0.87: training failed'):format(acc))
  os.exit(1, true)
end
