-- sl.optim: each method's updates against the same recurrence written out
-- by hand, its state kept between calls, and errors.
local sl = require 'symlua'

local check = require 'spec.support.check'
local err = check.err

-- Minimizes (w - 3)^2 summed over w = {1, -2}: the gradient is 2 (w - 3).
local function run(method, opts, steps)
  local w = sl.shared(sl.tensor({ 1, -2 }, 'float64'), 'w')
  local loss = ((w - 3) ^ 2):sum()
  local f = sl.compile({}, loss, { updates = sl.optim[method]({ w }, loss, opts) })
  local path = {}
  for k = 1, steps do f(); path[k] = w:get_value():totable() end
  return path
end

-- The same methods in plain Lua, one coordinate at a time.
local by_hand = {
  sgd = function(w, s, o) return w - o.lr * 2 * (w - 3) end,
  momentum = function(w, s, o)
    local g = 2 * (w - 3)
    s.v = (o.momentum or 0.9) * (s.v or 0) - o.lr * g
    return w + s.v
  end,
  nesterov = function(w, s, o)
    local g = 2 * (w - 3)
    s.v = 0.9 * (s.v or 0) - o.lr * g
    return w + 0.9 * s.v - o.lr * g
  end,
  rmsprop = function(w, s, o)
    local g = 2 * (w - 3)
    s.a = 0.9 * (s.a or 0) + 0.1 * g * g
    return w - o.lr * g / (math.sqrt(s.a) + 1e-8)
  end,
  adam = function(w, s, o)
    local g = 2 * (w - 3)
    s.t = (s.t or 0) + 1
    s.m = 0.9 * (s.m or 0) + 0.1 * g
    s.v = 0.999 * (s.v or 0) + 0.001 * g * g
    local lr_t = o.lr * math.sqrt(1 - 0.999 ^ s.t) / (1 - 0.9 ^ s.t)
    return w - lr_t * s.m / (math.sqrt(s.v) + 1e-8)
  end,
}

describe('sl.optim', function()
  for _, method in ipairs({ 'sgd', 'momentum', 'nesterov', 'rmsprop', 'adam' }) do
    it(method .. ' follows its recurrence step by step and converges', function()
      local opts = { lr = 0.05 }
      local got = run(method, opts, 5)
      local w, state = { 1, -2 }, { {}, {} }
      for k = 1, 5 do
        for i = 1, 2 do
          w[i] = by_hand[method](w[i], state[i], opts)
          assert.is_true(math.abs(got[k][i] - w[i]) < 1e-12,
                         ('step %d, w[%d]: %.15g vs %.15g'):format(k, i, got[k][i], w[i]))
        end
      end
      local final = run(method, { lr = 0.1 }, 400)[400]
      assert.is_true(math.abs(final[1] - 3) < 1e-3 and math.abs(final[2] - 3) < 1e-3)
    end)
  end

  it('takes gradients as a list, and a symbolic learning rate', function()
    local w = sl.shared(sl.tensor({ 1, 2 }, 'float32'), 'w')
    local lr = sl.scalar('lr')
    local loss = (w * w):sum()
    local f = sl.compile({ lr }, {}, { updates = sl.optim.sgd({ w }, sl.grad(loss, { w }), { lr = lr }) })
    f(0.25)
    assert.are.equal('float32', w:get_value():dtype())
    assert.are.same({ 0.5, 1 }, w:get_value():totable())
  end)

  it('names bad arguments', function()
    local w = sl.shared(sl.zeros(2), 'w')
    local x = sl.vector('x')
    assert.matches('optim.adam: expected a list of shared variables', err(sl.optim.adam, w, x))
    assert.matches('optim.sgd: parameter 1 is not a shared variable', err(sl.optim.sgd, { x }, { x }))
    assert.matches('optim.sgd: expected 1 gradients %(or the loss%), got 2',
                   err(sl.optim.sgd, { w }, { x, x }))
    assert.matches('optim.rmsprop: lr must be a number or a symbolic scalar, not string',
                   err(sl.optim.rmsprop, { w }, { w }, { lr = 'fast' }))
  end)
end)
