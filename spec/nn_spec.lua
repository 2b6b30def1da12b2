-- sl.nn: softmax, log_softmax, logsumexp, the cross-entropies, activations
-- and mse; values against NumPy and hand values, gradients against central
-- differences, stability at large inputs, and errors.
local sl = require 'symlua'
local np = require 'spec.support.numpy'

local function f64(t) return sl.tensor(t, 'float64') end
local function i64(t) return sl.tensor(t, 'int64') end

local check = require 'spec.support.check'
local err = check.err

local function need_numpy()
  if not np.available() then pending('numpy is not available') return false end
  return true
end

-- NumPy's stable forms, by hand (no SciPy)
local NP_LSE = '(lambda x, a: (lambda m: m + np.log(np.exp(x - m).sum(a, keepdims=True)))'
  .. '(x.max(a, keepdims=True)))'
local NP_LOG_SOFTMAX = '(lambda x, a: x - ' .. NP_LSE .. '(x, a))'

local function finite(t)
  local c = t:cast('float64'):contiguous()
  local p = c:data()
  for i = 0, c:numel() - 1 do
    if p[i] ~= p[i] or p[i] == math.huge or p[i] == -math.huge then return false end
  end
  return true
end

describe('softmax, log_softmax and logsumexp', function()
  sl.manual_seed(11)
  local x = sl.randn(4, 5) * 3
  local x3 = sl.randn(2, 3, 4)

  it('match NumPy along the last axis, the first axis, and a middle axis of a 3-d input', function()
    if not need_numpy() then return end
    local cases = {
      { sl.nn.softmax(x), 'np.exp(' .. NP_LOG_SOFTMAX .. '(x, 1))' },
      { sl.nn.softmax(x, 1), 'np.exp(' .. NP_LOG_SOFTMAX .. '(x, 0))' },
      { sl.nn.log_softmax(x), NP_LOG_SOFTMAX .. '(x, 1)' },
      { sl.nn.log_softmax(x3, 2), NP_LOG_SOFTMAX .. '(x3, 1)' },
      { sl.nn.softmax(x3, -2), 'np.exp(' .. NP_LOG_SOFTMAX .. '(x3, 1))' },
      { sl.logsumexp(x), 'np.log(np.exp(x).sum())' },
      { sl.logsumexp(x, 2), 'np.log(np.exp(x).sum(1))' },
      { sl.logsumexp(x3, { 1, 3 }, true), 'np.log(np.exp(x3).sum((0, 2), keepdims=True))' },
    }
    local codes = {}
    for i, c in ipairs(cases) do codes[i] = c[2] end
    local want = { np.eval(table.concat(codes, ', '), { x = x, x3 = x3 }) }
    for i, c in ipairs(cases) do
      np.assert_close(c[1], want[i], 1e-12, 1e-14, 'case ' .. i)
    end
  end)

  it('work on symbols, as methods, and in float32 with float64 sums', function()
    local v = sl.matrix('v')
    local f = sl.compile({ v }, { v:softmax(), v:log_softmax(1), v:logsumexp(2, true) })
    local a, b, c = f(x)
    np.assert_close(a, sl.nn.softmax(x), 1e-15, 1e-15)
    np.assert_close(b, sl.nn.log_softmax(x, 1), 1e-15, 1e-15)
    np.assert_close(c, sl.logsumexp(x, 2, true), 1e-15, 1e-15)
    local x32 = x:cast('float32')
    local s32 = sl.nn.softmax(x32)
    assert.are.equal('float32', s32:dtype())
    np.assert_close(s32, sl.nn.softmax(x):cast('float32'), 1e-6, 1e-7)
    -- every row sums to 1
    np.assert_close(sl.nn.softmax(x):sum(2), f64({ 1, 1, 1, 1 }), 1e-15, 1e-15)
  end)

  it('stay finite and right at large inputs', function()
    local s = sl.nn.softmax(f64({ 1000, 0 }))
    assert.are.same({ 1, 0 }, s:totable())
    assert.are.same({ 0, -1000 }, sl.nn.log_softmax(f64({ 1000, 0 })):totable())
    assert.are.equal(1000 + math.log(2), sl.logsumexp(f64({ 1000, 1000 })):item())
    assert.are.equal(-1000 + math.log(2), sl.logsumexp(f64({ -1000, -1000 })):item())
    np.assert_close(sl.logsumexp(f64({ -1e308, 0 })), f64(0), 0, 0)
    local big32 = sl.nn.softmax(sl.tensor({ 100, 0 }, 'float32'))
    assert.is_true(finite(big32))
  end)

  it('give -inf for a row of -inf, +inf for a row with +inf, and NaN for NaN', function()
    local ninf, inf = -math.huge, math.huge
    local l = sl.logsumexp(f64({ { ninf, ninf }, { 0, inf }, { 0, 0 / 0 } }), 2)
    local t = l:totable()
    assert.are.equal(ninf, t[1])
    assert.are.equal(inf, t[2])
    assert.is_true(t[3] ~= t[3])
    -- a single -inf entry is simply probability 0
    assert.are.same({ 0, 1 }, sl.nn.softmax(f64({ ninf, 3 })):totable())
    assert.are.same({ ninf, 0 }, sl.nn.log_softmax(f64({ ninf, 3 })):totable())
  end)

  it('have gradients that match central differences', function()
    sl.verify_grad(function(v) return sl.nn.softmax(v) end, { sl.randn(3, 4) })
    sl.verify_grad(function(v) return sl.nn.softmax(v, 1) end, { sl.randn(3, 4) })
    sl.verify_grad(function(v) return sl.nn.log_softmax(v) end, { sl.randn(3, 4) })
    sl.verify_grad(function(v) return sl.nn.log_softmax(v, 2) end, { sl.randn(2, 3, 4) })
    sl.verify_grad(function(v) return sl.logsumexp(v) end, { sl.randn(3, 4) })
    sl.verify_grad(function(v) return sl.logsumexp(v, 1, true) end, { sl.randn(3, 4) })
    sl.verify_grad(function(v) return sl.logsumexp(v, { 1, 3 }) end, { sl.randn(2, 3, 4) })
  end)

  it("have a softmax gradient op that is differentiable itself (second derivatives)", function()
    -- softmax_grad(gz, z) is what softmax's gradient builds; check it in both inputs
    sl.verify_grad(function(gz, z) return sl.core.apply('softmax_grad', { v = { 1 } }, gz, z) end,
                   { sl.randn(3, 4), sl.rand(3, 4) })
    sl.verify_grad(function(v)
      local s = sl.nn.softmax(v)
      return sl.grad((s * s * sl.tensor({ 1, 2, 3, 4 }, 'float64')):sum(), v)
    end, { sl.randn(2, 4) })
  end)

  it('reject bad axes and 0-d inputs', function()
    local v = sl.matrix('v')
    assert.matches('softmax: axis 3 is out of range for a 2%-d input', err(sl.nn.softmax, v, 3))
    assert.matches('log_softmax: axis 0 is out of range', err(sl.nn.log_softmax, v, 0))
    assert.matches('softmax: needs at least one axis', err(sl.nn.softmax, sl.scalar('s')))
    assert.matches('logsumexp: axis %-1 repeats', err(sl.logsumexp, v, { 2, -1 }))
    assert.matches('logsumexp: keepdims must be a boolean', err(sl.logsumexp, v, 1, 1))
  end)
end)

describe('cross-entropy', function()
  sl.manual_seed(12)
  local x = sl.randn(5, 4) * 2
  local y = i64({ 1, 4, 2, 2, 3 })
  local t = sl.nn.softmax(sl.randn(5, 4))   -- probability targets

  it('from logits matches NumPy for labels and for probability targets', function()
    if not need_numpy() then return end
    -- the last one along the first axis: labels per column
    local a, b, c = np.eval('-' .. NP_LOG_SOFTMAX .. '(x, 1)[np.arange(5), y - 1], '
      .. '-(t * ' .. NP_LOG_SOFTMAX .. '(x, 1)).sum(1), '
      .. '-' .. NP_LOG_SOFTMAX .. '(x, 0)[[4, 0, 2, 1], np.arange(4)]', { x = x, y = y, t = t })
    np.assert_close(sl.nn.crossentropy_with_logits(x, y), a, 1e-12, 1e-14)
    np.assert_close(sl.nn.crossentropy_with_logits(x, t), b, 1e-12, 1e-14)
    np.assert_close(sl.nn.crossentropy_with_logits(x, i64({ 5, 1, 3, 2 }), 1), c, 1e-12, 1e-14)
  end)

  it('from probabilities equals the one from logits on moderate inputs', function()
    local p = sl.nn.softmax(x)
    np.assert_close(sl.nn.categorical_crossentropy(p, y), sl.nn.crossentropy_with_logits(x, y), 1e-12, 1e-14)
    np.assert_close(sl.nn.categorical_crossentropy(p, t), sl.nn.crossentropy_with_logits(x, t), 1e-12, 1e-14)
    local onehot = f64({ { 1, 0, 0, 0 }, { 0, 0, 0, 1 }, { 0, 1, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 } })
    np.assert_close(sl.nn.crossentropy(p, onehot), sl.nn.crossentropy_with_logits(x, y), 1e-12, 1e-14)
  end)

  it('from logits is finite, with a finite gradient, for saturated logits', function()
    local big = f64({ { 1000, 0, -1000 }, { -1000, 1000, 0 } })
    local labels = i64({ 2, 2 })
    local l = sl.nn.crossentropy_with_logits(big, labels)
    assert.are.same({ 1000, 0 }, l:totable())
    local v, yv = sl.matrix('v'), sl.lvector('yv')
    local g = sl.grad(sl.nn.crossentropy_with_logits(v, yv):sum(), v)
    local gv = sl.compile({ v, yv }, g)(big, labels)
    -- softmax(x) - onehot(y)
    assert.are.same({ { 1, -1, 0 }, { 0, 0, 0 } }, gv:totable())
    local tv = sl.matrix('tv')
    local gt = sl.grad(sl.nn.crossentropy_with_logits(v, tv):sum(), v)
    local gd = sl.compile({ v, tv }, gt)(big, f64({ { 0, 1, 0 }, { 0, 1, 0 } }))
    assert.are.same({ { 1, -1, 0 }, { 0, 0, 0 } }, gd:totable())
  end)

  it('has gradients that match central differences (logits and targets)', function()
    local yv = i64({ 3, 1, 2 })
    sl.verify_grad(function(v) return sl.nn.crossentropy_with_logits(v, yv) end, { sl.randn(3, 4) })
    sl.verify_grad(function(v) return sl.nn.crossentropy_with_logits(v, i64({ 2, 1, 3, 1 }), 1) end,
                   { sl.randn(3, 4) })
    sl.verify_grad(function(v, tt) return sl.nn.crossentropy_with_logits(v, tt) end,
                   { sl.randn(3, 4), sl.rand(3, 4) })
    sl.verify_grad(function(v) return sl.nn.categorical_crossentropy(sl.nn.softmax(v), yv) end,
                   { sl.randn(3, 4) })
  end)

  it('broadcasts targets over the logits, never the logits over the targets', function()
    local v, tv = sl.matrix('v'), sl.matrix('tv')
    local f = sl.compile({ v, tv }, sl.nn.crossentropy_with_logits(v, tv))
    local row = f64({ { 0, 1, 0, 0 } })
    np.assert_close(f(x, row), sl.nn.crossentropy_with_logits(x, i64({ 2, 2, 2, 2, 2 })), 1e-12, 1e-14)
    assert.matches('targets of shape %(5, 4%) do not fit logits of shape %(1, 4%)',
                   err(f, x[{ { 1, 1 } }], sl.zeros(5, 4)))
  end)

  it('takes labels in int32 and float32 logits', function()
    local l32 = sl.nn.crossentropy_with_logits(x:cast('float32'), y:cast('int32'))
    assert.are.equal('float32', l32:dtype())
    np.assert_close(l32, sl.nn.crossentropy_with_logits(x, y):cast('float32'), 1e-6, 1e-6)
  end)

  it('rejects labels out of range, float labels, and targets of the wrong shape', function()
    assert.matches('label 5 is out of range: classes are 1..4',
                   err(sl.nn.crossentropy_with_logits, x, i64({ 1, 2, 3, 4, 5 })))
    assert.matches('label 0 is out of range', err(sl.nn.crossentropy_with_logits, x, i64({ 0, 1, 1, 1, 1 })))
    assert.matches('labels must be integers', err(sl.nn.crossentropy_with_logits, x, f64({ 1, 2, 3, 4, 1 })))
    assert.matches('targets must have the 2 axes', err(sl.nn.categorical_crossentropy, x, f64(1)))
    assert.matches('labels int64 %(3,%) do not match logits float64 %(5, 4%)',
                   err(sl.nn.crossentropy_with_logits, x, i64({ 1, 2, 3 })))
    assert.matches('targets float64 %(5, 3%) do not fit logits float64 %(5, 4%)',
                   err(sl.nn.crossentropy_with_logits, x, sl.zeros(5, 3)))
    assert.matches('logits must be float', err(sl.nn.crossentropy_with_logits, i64({ { 1, 2 } }), i64({ 1 })))
  end)
end)

describe('activations and other losses', function()
  sl.manual_seed(13)
  local x = sl.randn(3, 4) * 2

  it('match NumPy', function()
    if not need_numpy() then return end
    local p, t = sl.rand(3, 4) * 0.98 + 0.01, sl.rand(3, 4)
    local cases = {
      { sl.nn.relu(x), 'np.maximum(x, 0)' },
      { sl.nn.leaky_relu(x), 'np.where(x > 0, x, 0.01 * x)' },
      { sl.nn.leaky_relu(x, 0.2), 'np.where(x > 0, x, 0.2 * x)' },
      { sl.nn.elu(x), 'np.where(x > 0, x, np.expm1(np.minimum(x, 0)))' },
      { sl.nn.elu(x, 0.5), 'np.where(x > 0, x, 0.5 * np.expm1(np.minimum(x, 0)))' },
      { sl.nn.gelu(x), 'x * 0.5 * (1 + np.vectorize(__import__("math").erf)(x / np.sqrt(2)))' },
      { sl.nn.gelu(x, 'tanh'), '0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))' },
      { sl.nn.binary_crossentropy(p, t), '-(t * np.log(p) + (1 - t) * np.log(1 - p))' },
      { sl.nn.binary_crossentropy_with_logits(x, t),
        '-(t * np.log(1 / (1 + np.exp(-x))) + (1 - t) * np.log(1 - 1 / (1 + np.exp(-x))))' },
      { sl.nn.mse(x, t), '((x - t) ** 2).mean()' },
    }
    local codes = {}
    for i, c in ipairs(cases) do codes[i] = c[2] end
    local want = { np.eval(table.concat(codes, ', '), { x = x, p = p, t = t }) }
    for i, c in ipairs(cases) do
      np.assert_close(c[1], want[i], 1e-12, 1e-14, 'case ' .. i)
    end
  end)

  it('have gradients that match central differences', function()
    -- points away from the kinks at 0
    local away = f64({ { -1.5, -0.3, 0.4, 2 }, { 0.7, -2.2, 1.1, -0.6 } })
    local t = sl.rand(2, 4)
    for _, f in ipairs({ sl.nn.relu, sl.nn.leaky_relu, sl.nn.elu, sl.nn.gelu,
                         function(v) return sl.nn.gelu(v, 'tanh') end,
                         function(v) return sl.nn.binary_crossentropy_with_logits(v, t) end,
                         function(v) return sl.nn.binary_crossentropy(sl.sigmoid(v), t) end,
                         function(v) return sl.nn.mse(v, t) end }) do
      sl.verify_grad(f, { away })
    end
  end)

  it('stay finite where the naive forms overflow', function()
    local big = f64({ -1000, 1000 })
    assert.are.same({ -1, 1000 }, sl.nn.elu(big):totable())
    local v, tv = sl.vector('v'), sl.vector('tv')
    local l = sl.nn.binary_crossentropy_with_logits(v, tv)
    local f = sl.compile({ v, tv }, { l, sl.grad(l:sum(), v) })
    local lv, gv = f(big, f64({ 1, 0 }))
    assert.are.same({ 1000, 1000 }, lv:totable())
    assert.are.same({ -1, 1 }, gv:totable())
    local ge = sl.compile({ v }, sl.grad(sl.nn.elu(v):sum(), v))(big)
    assert.are.same({ 0, 1 }, ge:totable())
  end)

  it('reject a bad gelu approximation', function()
    assert.matches("gelu: approximate must be 'tanh' or 'none'", err(sl.nn.gelu, x, 'fast'))
  end)
end)
