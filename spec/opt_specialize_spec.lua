-- The specialize pass (core/opt/specialize.c) and the BLAS ops it makes
-- (gemm, gemv, ger in core/ops/blas.c): every rewrite fires by name on its
-- pattern, gives what the unoptimized graph gives, leaves alone what it must
-- not touch, and stops when excluded; the ops agree with NumPy, transposed
-- and float32 operands included, and their gradients with finite differences.
local sl = require 'symlua'
local np = require 'spec.support.numpy'

local apply = sl.core.apply

local function ops_of(f)
  local set = {}
  for _, node in ipairs(f:info().order) do set[node:op()] = (set[node:op()] or 0) + 1 end
  return set
end

local function fired(f, name) return f:info().rewrites[name] or 0 end

local function names(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  return table.concat(out, ' ')
end

-- Compiles out from inputs by default, unoptimized and with the rewrite
-- excluded; asserts it fired only in the first and the results agree.
local function check(name, inputs, out, args, tol)
  local f = sl.compile(inputs, out)
  assert(fired(f, name) >= 1, name .. ' did not fire; fired: ' .. names(f:info().rewrites))
  -- the oracles run on the reference backend: no C to compile for them
  local plain = sl.compile(inputs, out, { optimizer = 'none', mode = 'reference' })
  local without = sl.compile(inputs, out, { exclude = { name }, mode = 'reference' })
  assert.are.equal(0, fired(without, name))
  local got, want = { f(unpack(args)) }, { plain(unpack(args)) }
  assert.are.equal(#want, #got)
  for i = 1, #want do
    assert.are.equal(want[i]:dtype(), got[i]:dtype())
    np.assert_close(got[i], want[i], tol or 1e-12, tol or 1e-12, name .. ' output ' .. i)
  end
  return f, got
end

local function not_fired(name, inputs, out)
  local f = sl.compile(inputs, out)
  assert.are.equal(0, fired(f, name))
  return f
end

sl.manual_seed(7)
local x = sl.matrix('x')
local xv = sl.randn(3, 4)
local pos = sl.rand(3, 4) + 0.5

describe('specialize: powers and squares', function()
  it('x^2 -> sqr(x), for floats, float32 and integers', function()
    local f = check('sqr_from_pow_two', { x }, x ^ 2, { xv })
    assert.is_nil(ops_of(f).pow)
    assert.are.equal(1, ops_of(f).sqr)
    local xf = sl.fmatrix('xf')
    check('sqr_from_pow_two', { xf }, xf ^ 2, { xv:cast('float32') }, 1e-6)
    local xi = sl.ivector('xi')
    local _, got = check('sqr_from_pow_two', { xi }, xi ^ 2, { sl.tensor({ -3, 0, 7 }, 'int32') })
    assert.are.same({ 9, 0, 49 }, got[1]:totable())
    assert.are.equal('int32', got[1]:dtype())
  end)

  it('x^0.5 -> sqrt(x); an int32 x gives the float64 that pow gives', function()
    local f = check('sqrt_from_pow_half', { x }, x ^ 0.5, { pos })
    assert.is_nil(ops_of(f).pow)
    local xi = sl.ivector('xi')
    local _, got = check('sqrt_from_pow_half', { xi }, xi ^ 0.5, { sl.tensor({ 4, 9, 2 }, 'int32') })
    assert.are.equal('float64', got[1]:dtype())
    np.assert_close(got[1], sl.tensor({ 2, 3, math.sqrt(2) }), 1e-15, 0)
  end)

  it('x^-1 -> reciprocal(x) for float results, not for integer powers', function()
    local f = check('reciprocal_from_pow_minus_one', { x }, x ^ -1, { pos })
    assert.is_nil(ops_of(f).pow)
    local xi = sl.ivector('xi')
    not_fired('reciprocal_from_pow_minus_one', { xi }, xi ^ -1)
  end)

  it('leaves other exponents and exponents that broadcast x alone', function()
    not_fired('sqr_from_pow_two', { x }, x ^ 3)
    local v = sl.vector('v')
    -- a (1, 1) exponent of 2 would turn the vector into a matrix: no rewrite
    local f = not_fired('sqr_from_pow_two', { v }, v ^ sl.tensor({ { 2 } }, 'float64'))
    assert.are.equal(1, ops_of(f).pow)
  end)

  it('x*x -> sqr(x), and x*y stays a mul', function()
    local f = check('sqr_from_mul_self', { x }, x * x, { xv })
    assert.is_nil(ops_of(f).mul)
    local y = sl.matrix('y')
    not_fired('sqr_from_mul_self', { x, y }, x * y)
  end)
end)

describe('specialize: mean as a sum', function()
  it('divides by n from static sizes, exactly the mean for float64', function()
    local xs = sl.tensor_type('float64', { 3, 4 })('xs')
    local f = check('mean_as_sum_over_count', { xs }, xs:mean(2), { xv }, 1e-15)
    assert.is_nil(ops_of(f).mean)
    assert.is_nil(ops_of(f).shape_i)
    check('mean_as_sum_over_count', { xs }, xs:mean(), { xv }, 1e-15)
    -- the reference backend sums as the mean kernel does: the same bits
    local r = sl.compile({ xs }, xs:mean(2), { mode = 'reference' })
    assert.are.equal(1, fired(r, 'mean_as_sum_over_count'))
    np.assert_close(r(xv), xv:mean(2), 0, 0)
  end)

  it('counts with shape_i when the sizes are unknown, keepdims too', function()
    local f, got = check('mean_as_sum_over_count', { x }, x:mean(1, true), { xv }, 1e-14)
    assert.is_nil(ops_of(f).mean)
    np.assert_close(got[1], np.eval('x.mean(axis=0, keepdims=True)', { x = xv }), 1e-14, 1e-14)
    local _, g2 = check('mean_as_sum_over_count', { x }, x:mean({ 1, 2 }), { sl.randn(5, 7) }, 1e-14)
    assert.are.equal(0, g2[1]:dim())
  end)

  it('casts integers to the float mean, and an empty mean is NaN', function()
    local xi = sl.imatrix('xi')
    local _, got = check('mean_as_sum_over_count', { xi }, xi:mean(2),
                         { sl.tensor({ { 1, 2 }, { 3, 6 } }, 'int32') })
    assert.are.same({ 1.5, 4.5 }, got[1]:totable())
    local f = sl.compile({ x }, x:mean(2))
    local r = f(sl.zeros(2, 0))
    assert.is_true(r:totable()[1] ~= r:totable()[1])
  end)

  it('keeps a float32 mean float32', function()
    local xf = sl.fmatrix('xf')
    local _, got = check('mean_as_sum_over_count', { xf }, xf:mean(1), { xv:cast('float32') }, 1e-6)
    assert.are.equal('float32', got[1]:dtype())
  end)
end)

describe('specialize: gemm', function()
  local A, B, C = sl.matrix('A'), sl.matrix('B'), sl.matrix('C')
  local Av, Bv, Cv = sl.randn(3, 5), sl.randn(5, 4), sl.randn(3, 4)

  it('dot(A, B) + C and C + dot(A, B) -> gemm, equal to NumPy', function()
    for _, out in ipairs({ A:dot(B) + C, C + A:dot(B) }) do
      local f, got = check('gemm_from_dot_add', { A, B, C }, out, { Av, Bv, Cv })
      assert.are.same({ gemm = 1 }, ops_of(f))
      np.assert_close(got[1], np.eval('A @ B + C', { A = Av, B = Bv, C = Cv }), 1e-12, 1e-12)
    end
  end)

  it('scaled forms: 2*dot(A, B) + 3*C, C - dot(A, B)*0.1, dot(A, B) - C, -dot(A, B) + C', function()
    for _, case in ipairs({ { 2 * A:dot(B) + 3 * C, '2 * (A @ B) + 3 * C' },
                            { C - A:dot(B) * 0.1, 'C - (A @ B) * 0.1' },
                            { A:dot(B) - C, 'A @ B - C' },
                            { -A:dot(B) + C, '-(A @ B) + C' } }) do
      local f, got = check('gemm_from_dot_add', { A, B, C }, case[1], { Av, Bv, Cv })
      assert.are.equal(1, ops_of(f).gemm)
      assert.is_nil(ops_of(f).dot)
      np.assert_close(got[1], np.eval(case[2], { A = Av, B = Bv, C = Cv }), 1e-12, 1e-12, case[2])
    end
  end)

  it('an SGD step with a symbolic learning rate: W - lr * dot(X.T, G)', function()
    local X, G, lr = sl.matrix('X'), sl.matrix('G'), sl.scalar('lr')
    local W = sl.matrix('W')
    local Xv, Gv, Wv = sl.randn(6, 3), sl.randn(6, 4), sl.randn(3, 4)
    local out = W - lr * X:dimshuffle(2, 1):dot(G)
    local f, got = check('gemm_from_dot_add', { W, X, G, lr }, out, { Wv, Xv, Gv, sl.tensor(0.05) })
    assert.are.equal(1, ops_of(f).gemm)
    np.assert_close(got[1], np.eval('W - 0.05 * X.T @ G', { W = Wv, X = Xv, G = Gv }), 1e-12, 1e-12)
  end)

  it('a bias row broadcast over the product: dot(X, W) + b', function()
    local X, W, b = sl.matrix('X'), sl.matrix('W'), sl.vector('b')
    local Xv, Wv, bv = sl.randn(4, 3), sl.randn(3, 2), sl.randn(2)
    local _, got = check('gemm_from_dot_add', { X, W, b }, X:dot(W) + b, { Xv, Wv, bv })
    np.assert_close(got[1], np.eval('X @ W + b', { X = Xv, W = Wv, b = bv }), 1e-12, 1e-12)
  end)

  it('a product of one row broadcast against a larger C at run time', function()
    local _, got = check('gemm_from_dot_add', { A, B, C }, A:dot(B) + C, { sl.randn(1, 5), Bv, Cv })
    assert.are.same({ 3, 4 }, got[1]:shape())
  end)

  it('float32, and transposed views passed as arguments', function()
    local Af, Bf, Cf = sl.fmatrix('Af'), sl.fmatrix('Bf'), sl.fmatrix('Cf')
    local a, b, c = Av:cast('float32'), Bv:cast('float32'), Cv:cast('float32')
    local f, got = check('gemm_from_dot_add', { Af, Bf, Cf }, Cf - 0.5 * Af:dot(Bf), { a, b, c }, 1e-5)
    assert.are.equal('float32', got[1]:dtype())
    np.assert_close(got[1], np.eval('C - 0.5 * A @ B', { A = a, B = b, C = c }), 1e-5, 1e-5)
    -- A and B stored transposed: BLAS reads them in place
    local at, bt = a:transpose(1, 2):clone():transpose(1, 2), b:transpose(1, 2):clone():transpose(1, 2)
    assert.is_false(at:is_contiguous())
    np.assert_close(f(at, bt, c), np.eval('C - 0.5 * A @ B', { A = a, B = b, C = c }), 1e-5, 1e-5)
    local g = sl.compile({ A, B, C }, A:dot(B) + C)
    local av, bv = Av:transpose(1, 2):clone():transpose(1, 2), Bv:transpose(1, 2):clone():transpose(1, 2)
    np.assert_close(g(av, bv, Cv:transpose(1, 2):clone():transpose(1, 2)),
                    np.eval('A @ B + C', { A = Av, B = Bv, C = Cv }), 1e-12, 1e-12)
  end)

  it('leaves integers, shared products and batched dots alone', function()
    local Ai, Bi, Ci = sl.lmatrix('Ai'), sl.lmatrix('Bi'), sl.lmatrix('Ci')
    not_fired('gemm_from_dot_add', { Ai, Bi, Ci }, Ai:dot(Bi) + Ci)
    local d = A:dot(B)
    local f = sl.compile({ A, B, C }, { d + C, d })   -- the product is an output too
    assert.are.equal(0, fired(f, 'gemm_from_dot_add'))
    local T = sl.tensor3('T')
    not_fired('gemm_from_dot_add', { T, B, C }, T:dot(B) + C)
  end)
end)

describe('specialize: gemv and ger', function()
  local A, C = sl.matrix('A'), sl.matrix('C')
  local v, w, y = sl.vector('v'), sl.vector('w'), sl.vector('y')
  local Av, vv, yv, wv = sl.randn(3, 5), sl.randn(5), sl.randn(3), sl.randn(3)

  it('dot(A, v) + y and y - 2 * dot(A, v) -> gemv', function()
    local f, got = check('gemv_from_dot_add', { A, v, y }, A:dot(v) + y, { Av, vv, yv })
    assert.are.same({ gemv = 1 }, ops_of(f))
    np.assert_close(got[1], np.eval('A @ v + y', { A = Av, v = vv, y = yv }), 1e-12, 1e-12)
    _, got = check('gemv_from_dot_add', { A, v, y }, y - 2 * A:dot(v), { Av, vv, yv })
    np.assert_close(got[1], np.eval('y - 2 * A @ v', { A = Av, v = vv, y = yv }), 1e-12, 1e-12)
  end)

  it('dot(w, A) + y -> gemv of A transposed', function()
    local yy = sl.vector('yy')
    local yyv = sl.randn(5)
    local _, got = check('gemv_from_dot_add', { A, w, yy }, w:dot(A) + yy, { Av, wv, yyv })
    np.assert_close(got[1], np.eval('w @ A + y', { A = Av, w = wv, y = yyv }), 1e-12, 1e-12)
  end)

  it('float32 gemv', function()
    local Af, vf, yf = sl.fmatrix('Af'), sl.fvector('vf'), sl.fvector('yf')
    local a, b, c = Av:cast('float32'), vv:cast('float32'), yv:cast('float32')
    local _, got = check('gemv_from_dot_add', { Af, vf, yf }, yf + 0.25 * Af:dot(vf), { a, b, c }, 1e-5)
    assert.are.equal('float32', got[1]:dtype())
    np.assert_close(got[1], np.eval('y + 0.25 * A @ v', { A = a, v = b, y = c }), 1e-5, 1e-5)
  end)

  it('C + outer(w, v) and C - 0.5 * outer(w, v) -> ger, float32 too', function()
    local Cv = sl.randn(3, 5)
    local f, got = check('ger_from_outer_add', { C, w, v }, C + sl.outer(w, v), { Cv, wv, vv })
    assert.are.same({ ger = 1 }, ops_of(f))
    np.assert_close(got[1], np.eval('C + np.outer(w, v)', { C = Cv, w = wv, v = vv }), 1e-12, 1e-12)
    _, got = check('ger_from_outer_add', { C, w, v }, C - 0.5 * sl.outer(w, v), { Cv, wv, vv })
    np.assert_close(got[1], np.eval('C - 0.5 * np.outer(w, v)', { C = Cv, w = wv, v = vv }), 1e-12, 1e-12)
    local Cf, wf, vf = sl.fmatrix('Cf'), sl.fvector('wf'), sl.fvector('vf')
    local c32, w32, v32 = Cv:cast('float32'), wv:cast('float32'), vv:cast('float32')
    _, got = check('ger_from_outer_add', { Cf, wf, vf }, Cf + sl.outer(wf, vf), { c32, w32, v32 }, 1e-5)
    np.assert_close(got[1], np.eval('C + np.outer(w, v)', { C = c32, w = w32, v = v32 }), 1e-5, 1e-5)
  end)

  it('outer(w, v) - C is not a ger (ger adds A unscaled)', function()
    not_fired('ger_from_outer_add', { C, w, v }, sl.outer(w, v) - C)
  end)
end)

describe('gemm, gemv and ger as ops', function()
  local T = function(t) return sl.tensor(t, 'float64') end

  it('compute alpha A·B + beta C directly, with scales as 0-d values', function()
    local Av, Bv, Cv = sl.randn(2, 3), sl.randn(3, 4), sl.randn(2, 4)
    np.assert_close(apply('gemm', nil, Cv, T(2), Av, Bv, T(-0.5)),
                    np.eval('2 * A @ B - 0.5 * C', { A = Av, B = Bv, C = Cv }), 1e-12, 1e-12)
    np.assert_close(apply('gemv', nil, T({ 1, 2 }), T(1), T({ { 1, 2, 3 }, { 4, 5, 6 } }), T({ 1, 1, 1 }), T(-1)),
                    T({ 5, 13 }), 0, 0)
    np.assert_close(apply('ger', nil, T({ { 10, 20 }, { 30, 40 } }), T(2), T({ 1, 2 }), T({ 3, 4 })),
                    T({ { 16, 28 }, { 42, 56 } }), 0, 0)
  end)

  it('refuse integers, wrong ranks and non-scalar scales with a clear error', function()
    local I = sl.tensor({ { 1, 2 }, { 3, 4 } }, 'int64')
    assert.has_error(function() apply('gemm', nil, I, T(1), I, I, T(1)) end,
                     'gemm: takes float32 or float64 operands, not int64')
    local M = T({ { 1, 2 }, { 3, 4 } })
    assert.has_error(function() apply('gemv', nil, T({ 1, 2 }), T(1), M, M, T(1)) end)
    local ok, err = pcall(apply, 'gemm', nil, M, T({ 1, 2 }), M, M, T(1))
    assert.is_false(ok)
    assert.matches('operand 2 %(a scale%) must be 0%-d', err)
    ok, err = pcall(apply, 'gemm', nil, M, T(1), M, T({ { 1, 2, 3 } }), T(1))
    assert.is_false(ok)
    assert.matches('gemm: shapes', err)
  end)

  it('have gradients that match finite differences', function()
    local N = sl.randn
    sl.verify_grad(function(c, al, a, b, be) return apply('gemm', nil, c, al, a, b, be) end,
                   { N(3, 4), N(), N(3, 5), N(5, 4), N() })
    sl.verify_grad(function(c, al, a, b, be) return apply('gemm', nil, c, al, a, b, be) end,
                   { N(4), N(), N(3, 5), N(5, 4), N() })
    sl.verify_grad(function(c, al, a, b, be) return apply('gemv', nil, c, al, a, b, be) end,
                   { N(3), N(), N(3, 5), N(5), N() })
    sl.verify_grad(function(c, al, a, b) return apply('ger', nil, c, al, a, b) end,
                   { N(3, 4), N(), N(3), N(4) })
  end)

  it('a specialized training graph matches the unoptimized one over its gradient', function()
    local X, yv = sl.matrix('X'), sl.vector('y')
    local W = sl.shared(sl.randn(3, 2), 'W')
    local b = sl.shared(sl.zeros(2), 'b')
    local loss = sl.sum((X:dot(W) + b) ^ 2) + sl.sum(yv)
    local gW, gb = unpack(sl.grad(loss, { W, b }))
    local Xv = sl.randn(5, 3)
    local f = sl.compile({ X, yv }, { loss, gW, gb })
    local plain = sl.compile({ X, yv }, { loss, gW, gb }, { optimizer = 'none' })
    local yy = sl.randn(2)
    local got, want = { f(Xv, yy) }, { plain(Xv, yy) }
    for i = 1, 3 do np.assert_close(got[i], want[i], 1e-12, 1e-12) end
  end)
end)
