-- Recurrent layers on scan (lua/symlua/rnn.lua): the LSTM and GRU against
-- NumPy loops with PyTorch's gate equations, on both backends, and the
-- gradients of each layer against finite differences.
local sl = require 'symlua'
local np = require 'spec.support.numpy'

local MODES = { 'reference', 'c' }
sl.manual_seed(5)

local LSTM_NP = [[
(lambda s, i, f, g, o: np.stack([h for h, c in __import__("itertools").accumulate(x @ W + b,
  lambda hc, z: (lambda a: (lambda c2: (s(o(a)) * np.tanh(c2), c2))(s(f(a)) * hc[1] + s(i(a)) * np.tanh(g(a))))(z + hc[0] @ U),
  initial=(np.zeros((3, 4)), np.zeros((3, 4))))][1:]))(lambda v: 1 / (1 + np.exp(-v)),
  lambda a: a[:, 0:4], lambda a: a[:, 4:8], lambda a: a[:, 8:12], lambda a: a[:, 12:16])
]]

local GRU_NP = [[
(lambda s: np.stack(list(__import__("itertools").accumulate(x @ W + b, lambda h, zx: (lambda zh:
  (lambda r, z: (1 - z) * np.tanh(zx[:, 8:12] + r * zh[:, 8:12]) + z * h)(s(zx[:, 0:4] + zh[:, 0:4]), s(zx[:, 4:8] + zh[:, 4:8])))(h @ U),
  initial=np.zeros((3, 4))))[1:]))(lambda v: 1 / (1 + np.exp(-v)))
]]

describe('nn.lstm and nn.gru', function()
  it('follow the NumPy loops, on both backends', function()
    local x = sl.tensor3('x')
    local xv = sl.randn(5, 3, 2)
    for kind, code in pairs({ lstm = LSTM_NP, gru = GRU_NP }) do
      local p = sl.nn[kind .. '_params'](2, 4, kind, { dtype = 'float64' })
      local h = sl.nn[kind](x, p)
      local want = np.eval(code:gsub('\n', ' '), { x = xv, W = p.W:get_value(), U = p.U:get_value(), b = p.b:get_value() })
      for _, mode in ipairs(MODES) do
        np.assert_close(sl.compile({ x }, h, { mode = mode })(xv), want, 1e-12, 1e-12, kind .. ' ' .. mode)
      end
    end
  end)

  it('have the gradients finite differences give', function()
    for _, kind in ipairs({ 'rnn', 'lstm', 'gru' }) do
      sl.verify_grad(function(x, W, U, b)
        local h = sl.nn[kind](x, { W = W, U = U, b = b }, { h0 = sl.zeros(2, 3) })
        return h
      end, { sl.randn(4, 2, 2), sl.randn(2, 3 * (kind == 'lstm' and 4 or kind == 'gru' and 3 or 1)) * 0.5,
             sl.randn(3, 3 * (kind == 'lstm' and 4 or kind == 'gru' and 3 or 1)) * 0.5,
             sl.randn(3 * (kind == 'lstm' and 4 or kind == 'gru' and 3 or 1)) }, { static_shapes = true })
    end
  end)
end)
