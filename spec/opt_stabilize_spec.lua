-- The stabilize pass: every rewrite fires by name on its pattern, gives what
-- the graph as written gives on moderate inputs, stays finite and right
-- where the written form overflows or cancels, and stops when excluded.
local sl = require 'symlua'
local np = require 'spec.support.numpy'

local function f64(t) return sl.tensor(t, 'float64') end
local function i64(t) return sl.tensor(t, 'int64') end

local function ops_of(f)
  local set = {}
  for _, node in ipairs(f:info().order) do set[node:op()] = (set[node:op()] or 0) + 1 end
  return set
end

local function fired(f, name) return f:info().rewrites[name] or 0 end

-- Compile out from inputs three ways: default, unoptimized, and with the
-- rewrite excluded. Asserts that it fired only in the first, that the
-- results agree on args, and returns the default function.
local function check(name, inputs, out, args, tol)
  local f = sl.compile(inputs, out)
  assert(fired(f, name) >= 1, name .. ' did not fire; fired: ' .. table.concat((function()
    local t = {}
    for k in pairs(f:info().rewrites) do t[#t + 1] = k end
    return t
  end)(), ' '))
  local plain = sl.compile(inputs, out, { optimizer = 'none' })
  local without = sl.compile(inputs, out, { exclude = { name } })
  assert.are.equal(0, fired(without, name))
  local got, want = { f(unpack(args)) }, { plain(unpack(args)) }
  for i = 1, #want do
    np.assert_close(got[i], want[i], tol or 1e-12, tol or 1e-14, name .. ' output ' .. i)
  end
  return f
end

local function not_fired(name, inputs, out)
  assert.are.equal(0, fired(sl.compile(inputs, out), name))
end

sl.manual_seed(21)
local xv = sl.randn(3, 4)
local x = sl.matrix('x')

describe('stabilize: log and exp forms', function()
  it('log(1 + exp(x)) -> softplus(x), in every spelling; finite at 1000', function()
    for _, build in ipairs({ function() return sl.log(1 + sl.exp(x)) end,
                             function() return sl.log(sl.exp(x) + 1) end,
                             function() return sl.log1p(sl.exp(x)) end }) do
      local f = check('softplus_from_log_one_plus_exp', { x }, build(), { xv })
      assert.is_not_nil(ops_of(f).softplus)
      assert.is_nil(ops_of(f).exp)
      assert.are.same({ { 1000, 0 } }, f(f64({ { 1000, -1000 } })):totable())
    end
  end)

  it('log(1 + x) -> log1p(x), for x + 1 and constants of other dtypes and ranks', function()
    local small = f64({ { 1e-20, -1e-17 } })
    local f = check('log1p_from_log_one_plus', { x }, sl.log(1 + x), { xv:abs() })
    assert.are.same({ { 1e-20, -1e-17 } }, f(small):totable())
    check('log1p_from_log_one_plus', { x }, sl.log(x + 1), { xv:abs() })
    check('log1p_from_log_one_plus', { x }, sl.log(x + f64({ { 1 } })), { xv:abs() })
    -- a float64 constant makes a float32 x's sum float64: log1p then sees x in float64
    local x32 = sl.matrix('x32', 'float32')
    local f32 = check('log1p_from_log_one_plus', { x32 }, sl.log(x32 + f64(1)), { xv:abs():cast('float32') })
    assert.are.equal('float64', f32(xv:cast('float32')):dtype())
    -- not for other constants, nor for a constant that would widen x
    not_fired('log1p_from_log_one_plus', { x }, sl.log(x + 2))
    local v = sl.vector('v')
    not_fired('log1p_from_log_one_plus', { v }, sl.log(v + f64({ { 1 }, { 1 } })))
  end)

  it('exp(x) - 1 -> expm1(x), written with sub or with an added -1', function()
    for _, out in ipairs({ sl.exp(x) - 1, sl.exp(x) + (-1), -1 + sl.exp(x) }) do
      local f = check('expm1_from_exp_minus_one', { x }, out, { xv })
      assert.are.same({ { 1e-20 } }, f(f64({ { 1e-20 } })):totable())
    end
    not_fired('expm1_from_exp_minus_one', { x }, sl.exp(x) - 2)
    not_fired('expm1_from_exp_minus_one', { x }, 1 - sl.exp(x))
  end)

  it('log(sigmoid(x)) -> -softplus(-x); log(sigmoid(-1000)) = -1000', function()
    local f = check('log_sigmoid_to_softplus', { x }, sl.log(sl.sigmoid(x)), { xv })
    assert.is_nil(ops_of(f).log)
    assert.are.same({ { -1000, 0 } }, f(f64({ { -1000, 1000 } })):totable())
    -- a uint8 input is negated as a float, not modulo 256
    local u = sl.tensor_type('uint8', { -1 })('u')
    check('log_sigmoid_to_softplus', { u }, sl.log(sl.sigmoid(u)), { sl.tensor({ 0, 3, 200 }, 'uint8') }, 1e-6)
    check('one_minus_sigmoid', { u }, (1 - sl.sigmoid(u)) * 2, { sl.tensor({ 0, 3, 200 }, 'uint8') }, 1e-6)
  end)

  it('log(1 - sigmoid(x)) -> -softplus(x), also as log1p(-sigmoid(x))', function()
    for _, out in ipairs({ sl.log(1 - sl.sigmoid(x)), sl.log1p(-sl.sigmoid(x)) }) do
      local f = check('log_one_minus_sigmoid', { x }, out, { xv })
      assert.are.same({ { -1000, 0 } }, f(f64({ { 1000, -1000 } })):totable())
    end
  end)

  it('1 - sigmoid(x) -> sigmoid(-x), precise where sigmoid(x) rounds to 1', function()
    local f = check('one_minus_sigmoid', { x }, (1 - sl.sigmoid(x)) * 2, { xv })
    local got = f(f64({ { 40 } })):item()
    assert.is_true(math.abs(got - 2 * math.exp(-40)) < 1e-15 * got)
    -- only logs read it: log_one_minus_sigmoid takes the whole pattern
    not_fired('one_minus_sigmoid', { x }, sl.log(1 - sl.sigmoid(x)))
  end)

  it('1 - tanh(x)^2 -> 1/cosh(x)^2, in the forms sl.grad and users write', function()
    local t = sl.tanh(x)
    for _, out in ipairs({ 1 - t * t, 1 - sl.sqr(t), 1 - t ^ 2, sl.grad(t:sum(), x) }) do
      local f = check('tanh_grad_sech2', { x }, out, { xv })
      local got = f(f64({ { 20 } })):item()
      local want = 4 * math.exp(-40)   -- sech(20)^2 to 1e-17 relative
      assert.is_true(math.abs(got - want) < 1e-12 * want, 'sech^2(20) = ' .. got)
    end
  end)
end)

describe('stabilize: softmax forms', function()
  local y = sl.lvector('y')
  local yv = i64({ 2, 4, 1 })
  local big = f64({ { 1000, 0, -1000, 5 }, { 0, 0, 0, 0 }, { -1000, 1000, 999, 0 } })

  it('log(softmax(x)) -> log_softmax(x); {1000, 0} gives {0, -1000}', function()
    local f = check('log_softmax_from_log_softmax', { x }, sl.log(sl.nn.softmax(x)), { xv })
    assert.is_nil(ops_of(f).softmax)
    assert.are.same({ { 0, -1000 } }, f(f64({ { 1000, 0 } })):totable())
    check('log_softmax_from_log_softmax', { x }, sl.log(sl.nn.softmax(x, 1)), { xv })
  end)

  it('log(sum(exp(x))) -> logsumexp(x), over all axes or some, kept or not', function()
    local f = check('logsumexp_from_log_sum_exp', { x }, sl.log(sl.exp(x):sum()), { xv })
    assert.are.equal(1000 + math.log(2), f(f64({ { 1000, 1000 } })):item())
    local g = check('logsumexp_from_log_sum_exp', { x }, sl.log(sl.exp(x):sum(2, true)), { xv })
    assert.are.same({ { 1000 + math.log(2) }, { -1000 + math.log(2) } },
                    g(f64({ { 1000, 1000 }, { -1000, -1000 } })):totable())
  end)

  it('makes the gradient of log(sum(exp(x))) g * exp(x - logsumexp(x)): finite at 1000', function()
    local cases = { { sl.log(sl.exp(x):sum(2)), { { 0.5, 0.5 }, { 0.5, 0.5 } } },
                    { sl.log(sl.exp(x):sum(2, true)), { { 0.5, 0.5 }, { 0.5, 0.5 } } },
                    { sl.log(sl.exp(x):sum()), { { 0.5, 0.5 }, { 0, 0 } } } }
    for _, c in ipairs(cases) do
      local f = check('logsumexp_grad', { x }, sl.grad(c[1]:sum(), x), { xv })
      np.assert_close(f(f64({ { 1000, 1000 }, { -1000, -1000 } })), f64(c[2]), 1e-12, 0)
    end
  end)

  it('fuses the cross-entropy of a softmax with labels into softmax_crossentropy', function()
    local loss = sl.nn.categorical_crossentropy(sl.nn.softmax(x), y)
    local f = check('crossentropy_from_picked_log_softmax', { x, y }, loss, { xv, yv })
    local ops = ops_of(f)
    assert.are.equal(1, ops.softmax_crossentropy)
    assert.is_nil(ops.gather)
    assert.is_nil(ops.neg)
    np.assert_close(f(xv, yv), sl.nn.crossentropy_with_logits(xv, yv), 1e-12, 1e-14)
    np.assert_close(f(big, yv), f64({ 1000, math.log(4), 2000 + math.log(1 + math.exp(-1)) }), 1e-15, 0)
    -- with the class axis first, and with the picked axis kept (no dimshuffle after the gather)
    local xt = sl.nn.softmax(x, 1)
    check('crossentropy_from_picked_log_softmax', { x, y },
          sl.nn.categorical_crossentropy(xt, y, 1), { xv, i64({ 1, 3, 2, 3 }) })
    local kept = -sl.gather(sl.log(sl.nn.softmax(x)), 2, y:dimshuffle(1, 'x'))
    local k = check('crossentropy_from_picked_log_softmax', { x, y }, kept, { xv, yv })
    assert.are.same({ 3, 1 }, k(xv, yv):shape())
  end)

  it('fuses -sum(t * log(softmax(x)), axis) with targets, the axis kept or not', function()
    local t = sl.matrix('t')
    local tv = sl.nn.softmax(sl.randn(3, 4))
    local f = check('crossentropy_from_targets_log_softmax', { x, t },
                    sl.nn.categorical_crossentropy(sl.nn.softmax(x), t), { xv, tv })
    assert.are.equal(1, ops_of(f).softmax_crossentropy)
    local onehot = f64({ { 0, 1, 0, 0 }, { 0, 0, 0, 1 }, { 1, 0, 0, 0 } })
    np.assert_close(f(big, onehot), sl.nn.crossentropy_with_logits(big, yv), 1e-15, 0)
    local kept = -(sl.log(sl.nn.softmax(x)) * t):sum(2, true)
    check('crossentropy_from_targets_log_softmax', { x, t }, kept, { xv, tv })
    -- summed over every axis: the cross-entropies summed
    local total = -(t * sl.log(sl.nn.softmax(x))):sum()
    local ft = check('crossentropy_from_targets_log_softmax', { x, t }, total, { xv, tv })
    assert.are.equal(1, ops_of(ft).softmax_crossentropy)
    assert.is_nil(ops_of(ft).neg)
    -- a sum over another axis is not a cross-entropy
    not_fired('crossentropy_from_targets_log_softmax', { x, t }, (sl.log(sl.nn.softmax(x)) * t):sum(1))
  end)

  it('leaves no negations around the fused op: -mean(-l) is mean(l)', function()
    local loss = sl.nn.categorical_crossentropy(sl.nn.softmax(x), y):mean()
    local f = check('crossentropy_double_negation', { x, y }, loss, { xv, yv })
    local ops = ops_of(f)
    assert.is_nil(ops.neg)
    assert.are.equal(1, ops.softmax_crossentropy)
    -- the spelling with the mean inside the minus
    local picked = sl.gather(sl.log(sl.nn.softmax(x)), 2, y:dimshuffle(1, 'x')):dimshuffle(1)
    local g = check('crossentropy_double_negation', { x, y }, -sl.mean(picked), { xv, yv })
    assert.is_nil(ops_of(g).neg)
    assert.are.equal(1, ops_of(g).softmax_crossentropy)
    -- the picked axis kept, then averaged: -mean(dimshuffle(-l))
    local kept = sl.gather(sl.log(sl.nn.softmax(x)), 2, y:dimshuffle(1, 'x'))
    local h = check('crossentropy_double_negation', { x, y }, -sl.mean(kept), { xv, yv })
    assert.is_nil(ops_of(h).neg)
  end)

  it("makes the gradient of log(softmax(x)) free of division: finite for saturated logits", function()
    local loss = sl.nn.categorical_crossentropy(sl.nn.softmax(x), y):mean()
    local gx = sl.grad(loss, x)
    local f = check('softmax_grad_of_log', { x, y }, gx, { xv, yv })
    assert.is_nil(ops_of(f).softmax_grad)
    local got = f(big, yv)
    -- (softmax(x) - onehot(y)) / 3
    local p = sl.nn.softmax(big)
    local want = (p - f64({ { 0, 1, 0, 0 }, { 0, 0, 0, 1 }, { 1, 0, 0, 0 } })) / 3
    np.assert_close(got, want, 1e-12, 1e-15)
    -- the unoptimized graph divides 0 by 0 there
    local plain = sl.compile({ x, y }, gx, { optimizer = 'none' })(big, yv)
    assert.is_true(plain:isnan():any():item())
    -- targets as well
    local t = sl.matrix('t')
    local gt = sl.grad(sl.nn.categorical_crossentropy(sl.nn.softmax(x), t):sum(), x)
    local ft = check('softmax_grad_of_log', { x, t }, gt, { xv, sl.nn.softmax(sl.randn(3, 4)) })
    local onehot = f64({ { 0, 1, 0, 0 }, { 0, 0, 0, 1 }, { 1, 0, 0, 0 } })
    np.assert_close(ft(big, onehot), want * 3, 1e-12, 1e-15)
  end)

  it('splits a softmax gradient that also has a term without the division', function()
    -- softmax's output feeds the log of the loss and a penalty on itself
    local p = sl.nn.softmax(x)
    local cost = sl.nn.categorical_crossentropy(p, y):sum() + 0.5 * (p * p):sum()
    local f = check('softmax_grad_of_log', { x, y }, sl.grad(cost, x), { xv, yv })
    local r = f(big, yv)
    assert.is_false(sl.logical_or(sl.isnan(r), sl.isinf(r)):any():item())
  end)

  it('cancels (g / z) * z for a positive z: the gradient of log(sigmoid(x)) at -1000 is 1', function()
    local v = sl.vector('v')
    local g = sl.grad(sl.log(sl.sigmoid(v)):sum(), v)
    local f = check('cancel_positive_division', { v }, g, { f64({ -2, 0.5, 3 }) })
    assert.are.same({ 1, 0 }, f(f64({ -1000, 1000 })):totable())
    -- not for a z that may be 0 or negative
    not_fired('cancel_positive_division', { v }, v / sl.sin(v) * sl.sin(v))
  end)
end)

describe('stabilize: losses as sl.nn writes them', function()
  it('binary cross-entropy of a sigmoid is finite at saturated logits, with its gradient', function()
    local z, t = sl.vector('z'), sl.vector('t')
    local loss = sl.nn.binary_crossentropy(sl.sigmoid(z), t)
    local f = sl.compile({ z, t }, { loss, sl.grad(loss:sum(), z) })
    local l, g = f(f64({ 1000, -1000, 0 }), f64({ 0, 1, 1 }))
    assert.are.same({ 1000, 1000, math.log(2) }, l:totable())
    assert.are.same({ 1, -1, -0.5 }, g:totable())
  end)
end)
