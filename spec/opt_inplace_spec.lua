-- The inplace pass (core/opt/inplace.c): which nodes may write their result
-- into an input, and that running them never changes what the caller or a
-- later node sees. Every function runs on both backends; the reference
-- backend honors the marks, so there the update of a shared variable is
-- shown to land in the variable's own buffer.
local sl = require 'symlua'
local np = require 'spec.support.numpy'

local MODES = { 'reference', 'c' }

local function fired(f, name) return f:info().rewrites[name] or 0 end

-- node:destroy() of every node in f's run order, by op name (a list per op)
local function marks(f)
  local by_op = {}
  for _, node in ipairs(f:info().order) do
    by_op[node:op()] = by_op[node:op()] or {}
    table.insert(by_op[node:op()], node:destroy())
  end
  return by_op
end

-- the address of a tensor's first element, as text
local function address(t) return tostring(t:data()) end

sl.manual_seed(3)

describe('inplace: what is marked', function()
  it('exp(x) + 1 writes into exp\'s result, never into the input x', function()
    local x = sl.vector('x')
    local f = sl.compile({ x }, sl.exp(x) + 1)
    assert.are.equal(1, fired(f, 'inplace_elemwise'))
    local m = marks(f)
    assert.are.same({ 0 }, m.exp)   -- x is the caller's
    assert.are.same({ 1 }, m.add)
    local text = sl.debugprint(f, { print = false })
    assert.matches('add %[id %d+%] float64 %(%?,%) %(destroys input 1%)', text)
    assert.is_nil(text:find('exp %[id %d+%] float64 %(%?,%) %(destroys'))
  end)

  it('leaves a value that another node reads later alone', function()
    local x = sl.vector('x')
    local t = sl.exp(x)
    local f = sl.compile({ x }, { t + 1, t * 2 })
    local m = marks(f)
    assert.are.same({ 0 }, m.add)
    assert.are.same({ 0 }, m.mul)
    for _, mode in ipairs(MODES) do
      local g = sl.compile({ x }, { t + 1, t * 2 }, { mode = mode })
      local xv = sl.tensor({ 0, 1, 2 }, 'float64')
      local a, b = g(xv)
      np.assert_close(a, np.eval('np.exp(x) + 1', { x = xv }), 1e-15, 0, mode)
      np.assert_close(b, np.eval('np.exp(x) * 2', { x = xv }), 1e-15, 0, mode)
    end
  end)

  it('writes into a value whose other readers all run before (ancestors of the node)', function()
    local x = sl.vector('x')
    local t = sl.exp(x)
    local out = t - sl.sum(t)   -- the sum reads t, and the sub needs the sum first
    local f = sl.compile({ x }, out)
    assert.are.same({ 1 }, marks(f).sub)
    for _, mode in ipairs(MODES) do
      local g = sl.compile({ x }, out, { mode = mode })
      local xv = sl.tensor({ 0, 1, 2 }, 'float64')
      np.assert_close(g(xv), np.eval('np.exp(x) - np.exp(x).sum()', { x = xv }), 1e-14, 0, mode)
    end
  end)

  it('does not write into constants, outputs, or an input broadcast by the node', function()
    local x, r = sl.matrix('x'), sl.row('r')
    local e = sl.exp(r)   -- (1, ?): broadcast against x, so it cannot hold the result
    local f = sl.compile({ x, r }, e + x)
    assert.are.same({ 0 }, marks(f).add)
    local y = sl.exp(x)
    local g = sl.compile({ x }, { y, y + 1 })   -- y is an output: the caller gets it
    assert.are.same({ 0 }, marks(g).add)
  end)

  it('stops when excluded, and at optimizer levels without the pass', function()
    local x = sl.vector('x')
    for _, opts in ipairs({ { exclude = { 'inplace_elemwise' } }, { exclude = { 'inplace' } },
                            { optimizer = 'fast_compile' } }) do
      local f = sl.compile({ x }, sl.exp(x) + 1, opts)
      assert.are.equal(0, fired(f, 'inplace_elemwise'))
      assert.are.same({ 0 }, marks(f).add)
    end
  end)
end)

describe('inplace: running', function()
  it('never overwrites a tensor the caller passed', function()
    local x = sl.vector('x')
    for _, mode in ipairs(MODES) do
      for _, build in ipairs({ function() return sl.exp(x) + 1 end,
                               function() return x + 1 end,
                               function() return sl.sqrt(sl.abs(x)) * 3 - x end }) do
        local f = sl.compile({ x }, build(), { mode = mode })
        local xv = sl.tensor({ -1, 0.5, 2 }, 'float64')
        local before = xv:clone()
        local want = sl.compile({ x }, build(), { optimizer = 'none' })(before)
        for _ = 1, 3 do
          np.assert_close(f(xv), want, 1e-15, 0, mode)
          assert.are.same(before:totable(), xv:totable())
        end
      end
    end
  end)

  it('computes out of place when a value has another shape at run time', function()
    local a, b = sl.matrix('a'), sl.matrix('b')
    local f = sl.compile({ a, b }, sl.exp(a) + b, { mode = 'reference' })
    assert.are.same({ 1 }, marks(f).add)   -- statically both are (?, ?)
    local av, bv = sl.randn(1, 3), sl.randn(4, 3)
    np.assert_close(f(av, bv), np.eval('np.exp(a) + b', { a = av, b = bv }), 1e-14, 0)
  end)

  it('updates a shared variable in its own buffer, right over several calls', function()
    local x = sl.vector('x')
    for _, mode in ipairs(MODES) do
      local W = sl.shared(sl.tensor({ 1, 2, 3 }, 'float64'), 'W')
      local f = sl.compile({ x }, {}, { updates = { [W] = W - 0.5 * x }, mode = mode })
      assert.are.equal(1, fired(f, 'inplace_elemwise'))
      assert.are.same({ 1 }, marks(f).sub)
      assert.matches('%(destroys input 1%)', sl.debugprint(f, { print = false }))
      local xv = sl.tensor({ 2, 4, -2 }, 'float64')
      collectgarbage()
      local at = address(W:get_value(true))
      for k = 1, 4 do
        collectgarbage()   -- a borrowed value the collector has not freed yet holds the buffer
        f(xv)
        assert.are.same({ 1 - k, 2 - 2 * k, 3 + k }, W:get_value():totable())
      end
      if mode == 'reference' then assert.are.equal(at, address(W:get_value(true))) end
    end
  end)

  it('leaves a shared value alone that the caller holds, or that another node reads', function()
    local x = sl.vector('x')
    for _, mode in ipairs(MODES) do
      local W = sl.shared(sl.tensor({ 1, 2, 3 }, 'float64'), 'W')
      local f = sl.compile({ x }, {}, { updates = { [W] = W + x }, mode = mode })
      local held = W:get_value(true)   -- the caller keeps the old value
      f(sl.tensor({ 1, 1, 1 }, 'float64'))
      assert.are.same({ 1, 2, 3 }, held:totable())
      assert.are.same({ 2, 3, 4 }, W:get_value():totable())
      -- W read by an output as well: the update may not overwrite it
      local V = sl.shared(sl.tensor({ 1, 2, 3 }, 'float64'), 'V')
      local g = sl.compile({ x }, V * 2, { updates = { [V] = V + x }, mode = mode })
      assert.are.same({ 0 }, marks(g).add)
      for k = 1, 3 do
        assert.are.same({ 2 * k, 2 + 2 * k, 4 + 2 * k }, g(sl.tensor({ 1, 1, 1 }, 'float64')):totable())
      end
      -- an expression of W that is not W's own update does not write into W
      local U, Z = sl.shared(sl.tensor({ 1, 2 }, 'float64'), 'U'), sl.shared(sl.tensor({ 0, 0 }, 'float64'), 'Z')
      local h = sl.compile({}, {}, { updates = { [Z] = U + 1 }, mode = mode })
      assert.are.same({ 0 }, marks(h).add)
      h()
      assert.are.same({ 1, 2 }, U:get_value():totable())
      assert.are.same({ 2, 3 }, Z:get_value():totable())
    end
  end)

  it('an SGD step W <- W - lr * X.T·G is one gemm accumulating into W', function()
    local X, G, lr = sl.matrix('X'), sl.matrix('G'), sl.scalar('lr')
    for _, mode in ipairs(MODES) do
      local W0 = sl.randn(3, 2)
      local W = sl.shared(W0:clone(), 'W')
      local f = sl.compile({ X, G, lr }, {}, { updates = { [W] = W - lr * X:dimshuffle(2, 1):dot(G) }, mode = mode })
      assert.are.equal(1, fired(f, 'gemm_from_dot_add'))
      assert.are.equal(1, fired(f, 'inplace_blas'))
      assert.are.same({ 1 }, marks(f).gemm)
      local want = W0
      collectgarbage()
      local at = address(W:get_value(true))
      for _ = 1, 3 do
        local Xv, Gv = sl.randn(5, 3), sl.randn(5, 2)
        collectgarbage()
        f(Xv, Gv, sl.tensor(0.1))
        want = np.eval('W - 0.1 * X.T @ G', { W = want, X = Xv, G = Gv })
        np.assert_close(W:get_value(), want, 1e-12, 1e-12, mode)
      end
      if mode == 'reference' then assert.are.equal(at, address(W:get_value(true))) end
    end
  end)

  it('a training step whose forward pass reads W still updates W in place', function()
    local X, y = sl.matrix('X'), sl.vector('y')
    for _, mode in ipairs(MODES) do
      sl.manual_seed(11)
      local W0 = sl.randn(3, 2)
      local W = sl.shared(W0:clone(), 'W')
      local loss = sl.sum(sl.sqr(X:dot(W) - y:dimshuffle(1, 'x')))
      local gW = sl.grad(loss, W)
      local f = sl.compile({ X, y }, loss, { updates = { [W] = W - 0.01 * gW }, mode = mode })
      assert.are.same({ 1 }, marks(f).gemm)   -- the forward dot is an ancestor of the update
      local W2 = sl.shared(W0:clone(), 'W2')
      local loss2 = sl.sum(sl.sqr(X:dot(W2) - y:dimshuffle(1, 'x')))
      local plain = sl.compile({ X, y }, loss2, { updates = { [W2] = W2 - 0.01 * sl.grad(loss2, W2) },
                                                   optimizer = 'none' })
      collectgarbage()
      local at = address(W:get_value(true))
      for _ = 1, 3 do
        local Xv, yv = sl.randn(5, 3), sl.randn(5)
        collectgarbage()
        np.assert_close(f(Xv, yv), plain(Xv, yv), 1e-12, 1e-12, mode)
        np.assert_close(W:get_value(), W2:get_value(), 1e-12, 1e-12, mode)
      end
      if mode == 'reference' then assert.are.equal(at, address(W:get_value(true))) end
    end
  end)

  it('ger and gemv accumulate into a dying operand', function()
    local A, x, y = sl.matrix('A'), sl.vector('x'), sl.vector('y')
    for _, mode in ipairs(MODES) do
      local f = sl.compile({ A, x, y }, { sl.exp(A) + sl.outer(x, y), sl.exp(y) + A:dot(x) }, { mode = mode })
      assert.are.same({ 1 }, marks(f).ger)
      assert.are.same({ 1 }, marks(f).gemv)
      local Av, xv, yv = sl.randn(3, 3), sl.randn(3), sl.randn(3)
      local p, q = f(Av, xv, yv)
      np.assert_close(p, np.eval('np.exp(A) + np.outer(x, y)', { A = Av, x = xv, y = yv }), 1e-13, 1e-13)
      np.assert_close(q, np.eval('np.exp(y) + A @ x', { A = Av, x = xv, y = yv }), 1e-13, 1e-13)
    end
  end)

  it('under the NaN guard computes out of place and still gives the same values', function()
    local x = sl.vector('x')
    local W = sl.shared(sl.tensor({ 1, 2 }, 'float64'), 'W')
    local f = sl.compile({ x }, sl.exp(x) + 1, { nan_guard = true, updates = { [W] = W * 2 } })
    local xv = sl.tensor({ 0, 1 }, 'float64')
    np.assert_close(f(xv), np.eval('np.exp(x) + 1', { x = xv }), 1e-15, 0)
    assert.are.same({ 2, 4 }, W:get_value():totable())
  end)
end)
