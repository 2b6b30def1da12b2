-- sl.random streams: draws in compiled functions that change every call,
-- repeat for a seed, follow their distributions, and dropout built on them.
local sl = require 'symlua'

local check = require 'spec.support.check'
local err = check.err

describe('sl.random.stream', function()
  it('draws the values sl.rand and sl.randn give for the same key and offset', function()
    for _, normal in ipairs({ false, true }) do
      local state = sl.shared(sl.tensor({ 7, 0 }, 'int64'), 'state')
      local sample, next_state = sl.core.apply('random', { v = { 5 }, dtype = 'float64', x = normal and 1 or 0 }, state)
      local f = sl.compile({}, sample, { updates = { [state] = next_state } })
      sl.manual_seed(7)
      local draw = normal and sl.randn or sl.rand
      assert.are.same(draw(5):totable(), f():totable())
      assert.are.same(draw(5):totable(), f():totable())   -- the state moved on like the global one
      assert.are.same({ 7, 6 }, state:get_value():totable())
    end
  end)

  it('gives new values on every call and repeats them for a seed', function()
    local function two_calls(seed)
      local f = sl.compile({}, sl.random.stream(seed):uniform({ 4 }))
      return f():totable(), f():totable()
    end
    local a1, a2 = two_calls(3)
    local b1, b2 = two_calls(3)
    local c1 = two_calls(4)
    assert.are.same(a1, b1)
    assert.are.same(a2, b2)
    assert.are_not.same(a1, a2)
    assert.are_not.same(a1, c1)
  end)

  it('gives independent draws within one stream', function()
    local s = sl.random.stream(1)
    local f = sl.compile({}, { s:uniform({ 3 }), s:uniform({ 3 }) })
    local a, b = f()
    assert.are_not.same(a:totable(), b:totable())
  end)

  it('follows the distributions asked for', function()
    local s = sl.random.stream(11)
    local n = 50000
    local u = s:uniform({ n }, { low = -2, high = 6 })
    local z = s:normal({ n }, { mean = 1, std = 3, dtype = 'float32' })
    local b = s:binomial({ n }, { p = 0.25, dtype = 'int64' })
    local f = sl.compile({}, { u:min(), u:max(), u:mean(), z:mean(), z:std(), b:sum(), z })
    local umin, umax, umean, zmean, zstd, bsum, zs = f()
    assert.is_true(umin:item() >= -2 and umax:item() < 6)
    assert.is_true(math.abs(umean:item() - 2) < 0.05)
    assert.are.equal('float32', zs:dtype())
    assert.is_true(math.abs(zmean:item() - 1) < 0.07 and math.abs(zstd:item() - 3) < 0.05)
    assert.is_true(math.abs(bsum:item() / n - 0.25) < 0.01)
  end)

  it('takes sizes from symbolic shapes', function()
    local x = sl.matrix('x')
    local f = sl.compile({ x }, sl.random.stream(0):normal(x) + x * 0)
    assert.are.same({ 3, 5 }, f(sl.zeros(3, 5)):size())
    assert.are.same({ 2, 1 }, f(sl.zeros(2, 1)):size())
  end)

  it('makes dropout masks that differ per call, keep the expected value, and pass gradients', function()
    local x = sl.matrix('x')
    local s = sl.random.stream(5)
    local y = s:dropout(x, 0.25)
    local gx = sl.grad(y:sum(), { x })[1]
    local f = sl.compile({ x }, { y, gx })
    local ones = sl.ones(100, 100)
    local y1, g1 = f(ones)
    local y2 = f(ones)
    assert.are_not.same(y1:totable(), y2:totable())
    assert.is_true(math.abs(y1:mean():item() - 1) < 0.03)
    for _, v in ipairs(y1:reshape(10000):totable()) do
      assert.is_true(v == 0 or math.abs(v - 4 / 3) < 1e-12)
    end
    assert.are.same(y1:totable(), g1:totable())   -- d(sum(x * mask * s))/dx = mask * s, here = y
  end)

  it('names bad arguments', function()
    assert.matches('random.stream: the seed must be a non%-negative integer, got %-1',
                   err(sl.random.stream, -1))
    local s = sl.random.stream(0)
    assert.matches('random.uniform: size 2 is 1.5', err(function() return s:uniform({ 2, 1.5 }) end))
    assert.matches('dropout: the probability must be a number in %[0, 1%), got 1',
                   err(function() return s:dropout(sl.vector('x'), 1) end))
    assert.matches('random: dtype must be float32 or float64, not int32',
                   err(function() return s:normal({ 2 }, { dtype = 'int32' }) end))
  end)
end)
