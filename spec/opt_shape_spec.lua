-- Symbolic shape inference: x:shape() of an intermediate is computed from
-- the input sizes without computing x (the compiled function has no node of
-- x's op), for every op with a size rule, checked against the real shape of
-- the value for several input shapes, size-1 broadcasting included; and
-- sum_to nodes that sum nothing are removed from gradients.
local sl = require 'symlua'

local check = require 'spec.support.check'
local count_ops = check.count_ops

local function t(shape, dtype) return sl.randn(unpack(shape)):cast(dtype or 'float64') end

-- The shape of expr, and of every axis, as computed by the optimized
-- function, against the shape of the value computed without the optimizer,
-- for each case (a list of input tensors). The optimized function must not
-- contain the op that made expr (but for `allowed` nodes that the sizes use).
local function check_shape(inputs, expr, cases, op, allowed)
  local outs = { expr:shape() }
  for d = 1, expr:dim() do outs[#outs + 1] = expr:shape(d) end
  local f = sl.compile(inputs, outs)
  local value = sl.compile(inputs, expr, { optimizer = 'none' })
  assert.are.equal(allowed or 0, count_ops(f, op), op .. ' is not computed')
  for i, args in ipairs(cases) do
    local want = value(unpack(args)):shape()
    local got = { f(unpack(args)) }
    assert.are.same(want, got[1]:totable(), 'case ' .. i .. ': shape()')
    for d = 1, #want do
      assert.are.equal(want[d], got[d + 1]:item(), 'case ' .. i .. ': shape(' .. d .. ')')
    end
  end
  return f
end

describe('shape_i_lift: the size of an op\'s result from its inputs\' sizes', function()
  it('elementwise: NumPy broadcasting, sizes of 1 at run time included', function()
    local x, y = sl.matrix('x'), sl.matrix('y')
    local f = check_shape({ x, y }, sl.exp(x) + y, {
      { t { 3, 1 }, t { 1, 4 } }, { t { 3, 4 }, t { 3, 4 } }, { t { 1, 1 }, t { 2, 5 } },
      { t { 2, 5 }, t { 1, 1 } }, { t { 0, 1 }, t { 1, 3 } }, { t { 1, 3 }, t { 0, 3 } },
    }, 'add')
    assert.is_true(f:info().rewrites.shape_i_lift >= 2)
    assert.are.equal(0, count_ops(f, 'exp'))
    -- different ranks align at the last axis
    local v = sl.vector('v')
    check_shape({ v, y }, v * y, { { t { 4 }, t { 3, 4 } }, { t { 1 }, t { 3, 4 } }, { t { 4 }, t { 3, 1 } } }, 'mul')
    -- three operands
    local c = sl.matrix('c')
    check_shape({ c, x, y }, sl.clip(c, x, y), {
      { t { 2, 1 }, t { 1, 3 }, t { 1, 1 } }, { t { 1, 1 }, t { 1, 1 }, t { 4, 2 } },
    }, 'clip')
  end)

  it('elementwise: a size known > 1 decides, a known 1 drops out', function()
    local x = sl.tensor_type('float64', { -1, 3 })('x')
    local r = sl.tensor_type('float64', { 1, -1 })('r')
    local y = sl.matrix('y')
    local f = check_shape({ x, r, y }, x * r + y, {
      { t { 2, 3 }, t { 1, 3 }, t { 1, 1 } }, { t { 1, 3 }, t { 1, 1 }, t { 5, 3 } },
    }, 'add')
    -- axis 2 is 3 whatever y is; axis 1 never reads r
    assert.are.equal(0, count_ops(f, 'mul'))
    local g = sl.compile({ x, r, y }, (x * r + y):shape(2))
    assert.are.equal(0, count_ops(g, 'shape_i'))
    assert.are.equal(3, g(t { 2, 3 }, t { 1, 3 }, t { 1, 1 }):item())
  end)

  it('reductions: reduced axes dropped, or kept as 1', function()
    local x = sl.tensor3('x')
    local cases = { { t { 2, 3, 4 } }, { t { 1, 5, 1 } }, { t { 0, 2, 3 } } }
    check_shape({ x }, sl.sum(x, 2), cases, 'sum')
    check_shape({ x }, sl.max(x, { 1, 3 }, true), { { t { 2, 3, 4 } }, { t { 1, 5, 1 } } }, 'max')
    check_shape({ x }, sl.mean(x, -1), cases, 'mean')
    check_shape({ x }, sl.argmax(x, 2), { { t { 2, 3, 4 } } }, 'argmax')
  end)

  it('dot and outer', function()
    local a, b, v = sl.matrix('a'), sl.matrix('b'), sl.vector('v')
    check_shape({ a, b }, a:dot(b), { { t { 2, 3 }, t { 3, 4 } }, { t { 1, 1 }, t { 1, 5 } } }, 'dot')
    check_shape({ a, v }, a:dot(v), { { t { 2, 3 }, t { 3 } } }, 'dot')
    check_shape({ v, a }, v:dot(a), { { t { 3 }, t { 3, 2 } } }, 'dot')
    local p, q = sl.tensor3('p'), sl.tensor3('q')
    check_shape({ p, q }, p:dot(q), {
      { t { 2, 3, 4 }, t { 2, 4, 5 } }, { t { 1, 3, 4 }, t { 6, 4, 2 } }, { t { 6, 3, 4 }, t { 1, 4, 2 } },
    }, 'dot')
    check_shape({ p, a }, p:dot(a), { { t { 2, 3, 4 }, t { 4, 5 } } }, 'dot')
    check_shape({ a, p }, sl.outer(a, p), { { t { 2, 3 }, t { 1, 2, 2 } } }, 'outer')
  end)

  it('dimshuffle, reshape (-1 and symbolic sizes) and flatten', function()
    local x, y = sl.matrix('x'), sl.tensor3('y')
    check_shape({ x }, x:dimshuffle(2, 'x', 1), { { t { 2, 3 } }, { t { 1, 4 } } }, 'dimshuffle')
    check_shape({ x }, x:reshape(-1, 2), { { t { 3, 4 } }, { t { 1, 2 } } }, 'reshape')
    check_shape({ x, y }, y:reshape(x:shape(2), -1), { { t { 2, 3 }, t { 3, 2, 2 } } }, 'reshape')
    check_shape({ x, y }, y:reshape(x:shape()), { { t { 2, 6 }, t { 3, 2, 2 } } }, 'reshape')
    check_shape({ y }, y:flatten(2), { { t { 2, 3, 4 } }, { t { 1, 1, 5 } } }, 'flatten')
    check_shape({ y }, y:flatten(1), { { t { 2, 3, 4 } } }, 'flatten')
  end)

  it('concatenate, stack, narrow, repeat and tile', function()
    local x, y = sl.matrix('x'), sl.matrix('y')
    local cases = { { t { 2, 3 }, t { 2, 5 } }, { t { 1, 1 }, t { 1, 4 } } }
    check_shape({ x, y }, sl.concatenate({ x, y }, 2), cases, 'concatenate')
    -- the one stack left is shape()'s own, of the sizes
    check_shape({ x, y }, sl.stack({ x, x, y }, 2), { { t { 2, 3 }, t { 2, 3 } } }, 'stack', 1)
    check_shape({ x }, x:narrow(2, 2, 2), { { t { 2, 3 } }, { t { 5, 4 } } }, 'narrow')
    check_shape({ x }, sl['repeat'](x, 3, 2), { { t { 2, 3 } }, { t { 1, 1 } } }, 'repeat')
    check_shape({ x }, sl.tile(x, { 2, 1, 3 }), { { t { 2, 3 } }, { t { 1, 1 } } }, 'tile')
  end)

  it('subtensor: selected axes dropped, ranges clamped as the kernel does', function()
    local x = sl.matrix('x')
    local cases = { { t { 5, 4 } }, { t { 1, 1 } }, { t { 0, 3 } }, { t { 7, 2 } } }
    check_shape({ x }, x[{ { 2, -1 } }], cases, 'subtensor')
    check_shape({ x }, x[{ { 1, -1, 2 }, { 3 } }], cases, 'subtensor')
    check_shape({ x }, x[{ { -1, 1, -1 } }], cases, 'subtensor')
    check_shape({ x }, x[{ { -2, nil, -3 } }], cases, 'subtensor')
    check_shape({ x }, x[{ { 2, 10 }, 1 }], { { t { 5, 4 } }, { t { 1, 1 } } }, 'subtensor')
    -- symbolic bounds, in and out of range, negative from the end
    local i, j = sl.lscalar('i'), sl.lscalar('j')
    local f = sl.compile({ x, i, j }, x[{ { i, j } }]:shape(1))
    local value = sl.compile({ x, i, j }, x[{ { i, j } }], { optimizer = 'none' })
    assert.are.equal(0, count_ops(f, 'subtensor'))
    for _, b in ipairs({ { 1, 3 }, { 2, -1 }, { -3, -2 }, { 4, 2 }, { 1, 9 }, { -9, 2 }, { 6, 7 } }) do
      local X, I, J = t { 5, 2 }, sl.tensor(b[1], 'int64'), sl.tensor(b[2], 'int64')
      assert.are.equal(value(X, I, J):shape()[1], f(X, I, J):item(), b[1] .. ':' .. b[2])
    end
    -- a symbolic step keeps the value
    local s = sl.compile({ x, i }, x[{ { 1, -1, i } }]:shape(1))
    assert.are.equal(3, s(t { 5, 2 }, sl.tensor(2, 'int64')):item())
  end)

  it('take, gather, set_subtensor, alloc, arange, sum_to and cast', function()
    local x, ind = sl.matrix('x'), sl.lmatrix('ind')
    local I = sl.tensor({ { 1, 2, 1 } }, 'int64')
    check_shape({ x, ind }, sl.take(x, ind, 2), { { t { 4, 3 }, I } }, 'take')
    check_shape({ x, ind }, sl.take(x, ind), { { t { 4, 3 }, I } }, 'take')
    check_shape({ x, ind }, sl.gather(x, 2, ind), { { t { 4, 3 }, I } }, 'gather')
    local y = sl.matrix('y')
    check_shape({ x, y }, sl.set_subtensor(x[{ 1 }], y[{ 1 }]), { { t { 4, 3 }, t { 2, 3 } } }, 'set_subtensor')
    local n, m = sl.lscalar('n'), sl.iscalar('m')
    check_shape({ n, m }, sl.alloc(0, n, m, 2), { { sl.tensor(3, 'int64'), sl.tensor(4, 'int32') } }, 'alloc')
    check_shape({ n }, sl.arange(n), { { sl.tensor(5, 'int64') }, { sl.tensor(0, 'int64') }, { sl.tensor(-2, 'int64') } }, 'arange')
    local a, b = sl.dscalar('a'), sl.dscalar('b')
    check_shape({ a, b }, sl.arange(a, b, 0.5), { { sl.tensor(1, 'float64'), sl.tensor(3.2) }, { sl.tensor(3, 'float64'), sl.tensor(1, 'float64') } }, 'arange')
    check_shape({ a, b }, sl.arange(b, a, -0.75), { { sl.tensor(1, 'float64'), sl.tensor(3.2) } }, 'arange')
    local g = sl.tensor3('g')
    check_shape({ g, x }, sl.core.apply('sum_to', nil, g, x), { { t { 2, 3, 4 }, t { 1, 4 } } }, 'sum_to')
    check_shape({ x }, sl.exp(x):cast('int32'), { { t { 2, 3 } } }, 'exp')
  end)

  it('lifts through a chain of ops up to the inputs', function()
    local x, w = sl.matrix('x'), sl.matrix('w')
    local h = sl.tanh(x:dot(w) + 1):sum(2, true):dimshuffle(2, 1)
    local f = check_shape({ x, w }, h, { { t { 2, 3 }, t { 3, 4 } }, { t { 1, 2 }, t { 2, 1 } } }, 'dimshuffle')
    for _, op in ipairs({ 'dot', 'tanh', 'add', 'sum' }) do assert.are.equal(0, count_ops(f, op)) end
  end)

  it('shape-only uses do not compute the value: alloc(0, x:shape()), zeros_like', function()
    local x = sl.matrix('x')
    local e = sl.exp(x) * 2
    local f = sl.compile({ x }, { sl.alloc(0, e:shape()), sl.zeros_like(e) })
    assert.are.equal(0, count_ops(f, 'exp'))
    assert.are.equal(0, count_ops(f, 'mul'))
    local a, b = f(t { 2, 3 })
    assert.are.same({ 2, 3 }, a:shape())
    assert.are.same({ 2, 3 }, b:shape())
  end)

  it('stops where no rule applies, and exclude turns it off', function()
    local x = sl.matrix('x')
    local f = sl.compile({ x }, sl.exp(x):shape(1), { exclude = { 'shape_i_lift' } })
    assert.are.equal(1, count_ops(f, 'exp'))
    assert.is_nil(f:info().rewrites.shape_i_lift)
    assert.are.equal(2, f(t { 2, 3 }):item())
  end)
end)

describe('shape_i_constant and shape_to_stack', function()
  it('a statically known size is a constant', function()
    local x = sl.tensor_type('float64', { -1, 3 })('x')
    local f = sl.compile({ x }, { sl.exp(x):shape(2), x:shape(2) })
    assert.is_true(f:info().rewrites.shape_i_constant >= 1)
    assert.are.equal(0, count_ops(f, 'shape_i'))
    assert.are.equal(0, count_ops(f, 'exp'))
    local a, b = f(t { 4, 3 })
    assert.are.equal(3, a:item())
    assert.are.equal(3, b:item())
    local g = sl.compile({ x }, x:shape(2), { exclude = { 'shape_i_constant' } })
    assert.are.equal(1, count_ops(g, 'shape_i'))
    assert.are.equal(3, g(t { 4, 3 }):item())
  end)

  it('shape(x) becomes a stack of the sizes, a constant when all are known', function()
    local x = sl.matrix('x')
    local f = sl.compile({ x }, sl.exp(x):shape())
    assert.are.equal(1, f:info().rewrites.shape_to_stack)
    assert.are.equal(0, count_ops(f, 'shape'))
    assert.are.same({ 2, 5 }, f(t { 2, 5 }):totable())
    local k = sl.tensor_type('float64', { 2, 3 })('k')
    local g = sl.compile({ k }, sl.exp(k):shape())
    assert.are.equal(0, #g:info().order)
    assert.are.same({ 2, 3 }, g(t { 2, 3 }):totable())
    local s = sl.scalar('s')
    local h = sl.compile({ s }, sl.exp(s):shape())
    assert.are.same({ 0 }, h(sl.tensor(1, 'float64')):shape())
    local e = sl.compile({ x }, sl.exp(x):shape(), { exclude = { 'shape_to_stack' } })
    assert.are.equal(1, count_ops(e, 'shape'))
  end)
end)

describe('sum_to_useless', function()
  local function sum_tos(f) return count_ops(f, 'sum_to') end

  it('removes the sum_to nodes of a gradient that sum nothing, keeps the others', function()
    local x = sl.tensor_type('float64', { -1, 3 })('x')
    local b = sl.tensor_type('float64', { 3 })('b')
    local w = sl.tensor_type('float64', { -1, 3 })('w')
    local g = sl.grad(sl.sum((x + b) * w), { x, b, w })
    local f = sl.compile({ x, b, w }, g)
    local ref = sl.compile({ x, b, w }, g, { optimizer = 'none' })
    -- the seed's sum_to and the one of (x + b) * w's gradient are useless;
    -- x, w (either may be broadcast at run time) and b (a vector) keep theirs
    assert.are.equal(5, sum_tos(ref))
    assert.are.equal(3, sum_tos(f))
    assert.are.equal(2, f:info().rewrites.sum_to_useless)
    for _, shapes in ipairs({ { { 4, 3 }, { 4, 3 } }, { { 1, 3 }, { 5, 3 } }, { { 5, 3 }, { 1, 3 } } }) do
      local X, B, W = t(shapes[1]), t { 3 }, t(shapes[2])
      local got, want = { f(X, B, W) }, { ref(X, B, W) }
      for i = 1, 3 do assert.are.same(want[i]:totable(), got[i]:totable()) end
    end
    local e = sl.compile({ x, b, w }, g, { exclude = { 'sum_to_useless' } })
    assert.are.equal(5, sum_tos(e))
  end)

  it('leaves a layer\'s gradient with only the sum_to nodes it needs', function()
    local x, W, b = sl.matrix('x'), sl.matrix('W'), sl.vector('b')
    local h = sl.tanh(x:dot(W) + b)
    local g = sl.grad(sl.mean(h * h), { W, b })
    local f = sl.compile({ x, W, b }, g)
    local ref = sl.compile({ x, W, b }, g, { optimizer = 'none' })
    -- left: b's (a vector) and the one that sums the gradient back to
    -- x:dot(W), whose columns b may broadcast; W's goes, as the dot ties
    -- x's columns to W's rows
    assert.is_true(sum_tos(ref) > 2)
    assert.are.equal(2, sum_tos(f))
    for _, s in ipairs({ { { 4, 3 }, { 3, 2 }, { 2 } }, { { 4, 3 }, { 3, 1 }, { 5 } }, { { 2, 3 }, { 3, 4 }, { 1 } } }) do
      local X, Wv, B = t(s[1]), t(s[2]), t(s[3])
      local got, want = { f(X, Wv, B) }, { ref(X, Wv, B) }
      for i = 1, 2 do
        assert.are.same(want[i]:shape(), got[i]:shape())
        local d = (want[i] - got[i]):abs():max():item()
        assert.is_true(d < 1e-12, 'gradient ' .. i .. ' differs by ' .. d)
      end
    end
  end)

  it('a dot ties its inner sizes: x\'s columns are W\'s rows', function()
    local x = sl.matrix('x')
    local W = sl.tensor_type('float64', { -1, 2 })('W')
    local g = sl.grad(sl.sum(sl.tanh(x:dot(W))), W)
    local f = sl.compile({ x, W }, g)
    assert.are.equal(0, sum_tos(f))
    assert.is_true(f:info().rewrites.sum_to_useless >= 1)
    local ref = sl.compile({ x, W }, g, { optimizer = 'none' })
    assert.is_true(sum_tos(ref) >= 1)
    local X, Wv = t { 4, 3 }, t { 3, 2 }
    assert.is_true((f(X, Wv) - ref(X, Wv)):abs():max():item() < 1e-12)
  end)

  it('keeps a sum_to whose input may be broadcast', function()
    local x, y = sl.matrix('x'), sl.matrix('y')
    local f = sl.compile({ x, y }, sl.core.apply('sum_to', nil, x * y, x))
    assert.are.equal(1, sum_tos(f))
    assert.is_nil(f:info().rewrites.sum_to_useless)
    assert.are.same({ { 3, 3 } }, f(sl.ones(1, 2), sl.ones(3, 2)):totable())
  end)
end)
