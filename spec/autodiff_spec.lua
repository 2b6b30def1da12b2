-- Lop, Rop, jacobian and hessian: values by hand (linear maps, diagonal
-- Jacobians and Hessians), agreement with central differences of the
-- compiled function on nonlinear graphs, and their errors.
local sl = require 'symlua'

local function T(t, dtype) return sl.tensor(t, dtype or 'float64') end
local function has(s, part) return s:find(part, 1, true) ~= nil end

local function errmsg(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, 'expected an error')
  return tostring(err)
end

-- A float64 input with a static shape.
local function static(name, shape, dtype) return sl.tensor_type(dtype or 'float64', shape)(name) end

local function flat(t)
  if type(t) == 'number' then return { t } end
  t = t:contiguous()
  local p, out = t:data(), {}
  for k = 0, t:numel() - 1 do out[k + 1] = tonumber(p[k]) end
  return out
end

local function assert_close(got, want, tol)
  tol = tol or 1e-10
  if sl.is_tensor(want) then
    assert.are.same(want:shape(), got:shape())
  end
  local g, w = flat(got), type(want) == 'table' and want or flat(want)
  assert.are.equal(#w, #g, 'number of elements')
  for k = 1, #w do
    assert(math.abs(g[k] - w[k]) <= tol * (1 + math.abs(w[k])),
           string.format('element %d: got %.17g, want %.17g', k, g[k], w[k]))
  end
end

-- Central differences of fn (tensor -> tensor) at x: the Jacobian as a
-- table of rows, one per output element, each over x's elements.
local function numeric_jacobian(fn, x, eps)
  eps = eps or 1e-6
  x = x:contiguous():clone()
  local p, cols = x:data(), {}
  for k = 0, x:numel() - 1 do
    local orig = p[k]
    p[k] = orig + eps
    local up = flat(fn(x))
    p[k] = orig - eps
    local down = flat(fn(x))
    p[k] = orig
    local col = {}
    for i = 1, #up do col[i] = (up[i] - down[i]) / (2 * eps) end
    cols[k + 1] = col
  end
  local rows = {}
  for i = 1, #cols[1] do
    rows[i] = {}
    for k = 1, #cols do rows[i][k] = cols[k][i] end
  end
  return rows
end

-- J (rows) times a vector, and a vector times J, as flat tables.
local function jv(J, v)
  local out = {}
  for i, row in ipairs(J) do
    local s = 0
    for k, a in ipairs(row) do s = s + a * v[k] end
    out[i] = s
  end
  return out
end
local function uj(u, J)
  local out = {}
  for k = 1, #J[1] do
    local s = 0
    for i, row in ipairs(J) do s = s + u[i] * row[k] end
    out[k] = s
  end
  return out
end
local function rows_flat(J)
  local out = {}
  for _, row in ipairs(J) do for _, a in ipairs(row) do out[#out + 1] = a end end
  return out
end

describe('sl.Lop', function()
  it('of A . x is A^T . u (by hand)', function()
    local A, x, u = sl.matrix('A'), sl.vector('x'), sl.vector('u')
    local f = sl.compile({ A, x, u }, sl.Lop(A:dot(x), x, u))
    local At = T({ { 1, 2 }, { 3, 4 }, { 5, 6 } })
    assert_close(f(At, T({ 0.5, -1 }), T({ 1, 0, 2 })), T({ 11, 14 }))
  end)

  it('takes tensors and numbers as eval points', function()
    local A, x = sl.matrix('A'), sl.vector('x')
    local At = T({ { 1, 2 }, { 3, 4 }, { 5, 6 } })
    local g1 = sl.compile({ A, x }, sl.Lop(A:dot(x), x, T({ 1, 0, 2 })))
    assert_close(g1(At, T({ 0, 0 })), T({ 11, 14 }))
    local g2 = sl.compile({ A, x }, sl.Lop(A:dot(x), x, 1))   -- u = ones
    assert_close(g2(At, T({ 0, 0 })), T({ 9, 12 }))
    local g3 = sl.compile({ A, x }, sl.Lop(A:dot(x), x, T({ 1, 0, 2 }, 'int64')))
    assert_close(g3(At, T({ 0, 0 })), T({ 11, 14 }))
  end)

  it('returns a list for a list of wrt and sums over a list of f', function()
    local x, y = sl.vector('x'), sl.vector('y')
    local u1, u2 = sl.vector('u1'), sl.vector('u2')
    local g = sl.Lop({ x * y, x + 2 * y }, { x, y }, { u1, u2 })
    assert.are.equal(2, #g)
    local f = sl.compile({ x, y, u1, u2 }, g)
    local gx, gy = f(T({ 1, 2 }), T({ 3, 4 }), T({ 1, 10 }), T({ 100, 1000 }))
    assert_close(gx, T({ 1 * 3 + 100, 10 * 4 + 1000 }))    -- u1*y + u2
    assert_close(gy, T({ 1 * 1 + 200, 10 * 2 + 2000 }))    -- u1*x + 2*u2
  end)

  it('agrees with central differences: u^T J for a nonlinear f', function()
    sl.manual_seed(11)
    local W = sl.randn(4, 3)
    local x, u = sl.vector('x'), sl.vector('u')
    local out = sl.tanh(sl.dot(W, x)) * sl.exp(x[1])
    local f = sl.compile({ x }, out)
    local lop = sl.compile({ x, u }, sl.Lop(out, x, u))
    local x0, u0 = sl.randn(3), sl.randn(4)
    local J = numeric_jacobian(f, x0)
    assert_close(lop(x0, u0), uj(flat(u0), J), 1e-6)
  end)

  it('works in float32', function()
    local A, x, u = sl.fmatrix('A'), sl.fvector('x'), sl.fvector('u')
    local g = sl.Lop(A:dot(x), x, u)
    assert.are.equal('float32', g:dtype())
    local f = sl.compile({ A, x, u }, g)
    assert_close(f(T({ { 1, 2 }, { 3, 4 }, { 5, 6 } }, 'float32'), T({ 0, 0 }, 'float32'),
                   T({ 1, 0, 2 }, 'float32')), { 11, 14 }, 1e-6)
  end)

  it('honours consider_constant', function()
    local x = sl.vector('x')
    local y = x * x
    local f = sl.compile({ x }, sl.Lop(y * x, x, 1, { consider_constant = { y } }))
    assert_close(f(T({ 2, 3 })), T({ 4, 9 }))   -- only the outer factor x counts
  end)
end)

describe('sl.Rop', function()
  it('of A . x is A . v (by hand), with no input for the dummy variable', function()
    local A, x, v = sl.matrix('A'), sl.vector('x'), sl.vector('v')
    local f = sl.compile({ A, x, v }, sl.Rop(A:dot(x), x, v))
    local At = T({ { 1, 2 }, { 3, 4 }, { 5, 6 } })
    assert_close(f(At, T({ 1, 1 }), T({ 1, -1 })), T({ -1, -1, -1 }))
    -- the result does not depend on x (a linear map)
    assert_close(f(At, T({ 7, -3 }), T({ 1, -1 })), T({ -1, -1, -1 }))
  end)

  it('agrees with central differences: J v for a nonlinear f', function()
    sl.manual_seed(12)
    local W = sl.randn(5, 3)
    local x, v = sl.vector('x'), sl.vector('v')
    local out = sl.softplus(sl.dot(W, x)) * sl.sin(x):sum() + sl.sigmoid(sl.dot(W, x * x))
    local f = sl.compile({ x }, out)
    local rop = sl.compile({ x, v }, sl.Rop(out, x, v))
    local x0, v0 = sl.randn(3), sl.randn(3)
    assert_close(rop(x0, v0), jv(numeric_jacobian(f, x0), flat(v0)), 1e-6)
  end)

  it('with respect to a matrix, and to several vars (the directional derivatives add)', function()
    sl.manual_seed(13)
    local X = sl.randn(4, 3)
    local W, b = sl.matrix('W'), sl.vector('b')
    local V, vb = sl.matrix('V'), sl.vector('vb')
    local out = sl.tanh(sl.dot(sl.tensor(X), W) + b)
    local W0, b0, V0, vb0 = sl.randn(3, 2), sl.randn(2), sl.randn(3, 2), sl.randn(2)
    local rop = sl.compile({ W, b, V, vb }, sl.Rop(out, { W, b }, { V, vb }))
    local JW = numeric_jacobian(function(w) return sl.compile({ W, b }, out)(w, b0) end, W0)
    local Jb = numeric_jacobian(function(bb) return sl.compile({ W, b }, out)(W0, bb) end, b0)
    local want = jv(JW, flat(V0))
    local wb = jv(Jb, flat(vb0))
    for i = 1, #want do want[i] = want[i] + wb[i] end
    local got = rop(W0, b0, V0, vb0)
    assert.are.same({ 4, 2 }, got:shape())
    assert_close(got, want, 1e-6)
  end)

  it('returns a list for a list of f; an f that ignores wrt gets zeros with disconnected = ignore', function()
    local x, y, v = sl.vector('x'), sl.vector('y'), sl.vector('v')
    local r = sl.Rop({ x * x, y * 2 }, x, v, { disconnected = 'ignore' })
    assert.are.equal(2, #r)
    local f = sl.compile({ x, y, v }, r)
    local a, b = f(T({ 1, 2, 3 }), T({ 5, 5 }), T({ 1, 1, 2 }))
    assert_close(a, T({ 2, 4, 12 }))
    assert_close(b, T({ 0, 0 }))
  end)

  it('is the transpose of Lop: u . Rop(v) == Lop(u) . v', function()
    sl.manual_seed(14)
    local x, u, v = sl.vector('x'), sl.vector('u'), sl.vector('v')
    local out = sl.exp(sl.dot(sl.tensor(sl.randn(3, 4)), x)) / (1 + x:sum() ^ 2)
    local f = sl.compile({ x, u, v }, { sl.dot(u, sl.Rop(out, x, v)), sl.dot(sl.Lop(out, x, u), v) })
    local a, b = f(sl.randn(4) * 0.3, sl.randn(3), sl.randn(4))
    assert_close(a, b:item(), 1e-12)
  end)
end)

describe('sl.jacobian', function()
  it('of x^2 is diag(2x)', function()
    local x = static('x', { 3 })
    local J = sl.jacobian(x ^ 2, x)
    assert.are.same({ 3, 3 }, J:static_shape())
    assert_close(sl.compile({ x }, J)(T({ 1, -2, 3 })), T({ { 2, 0, 0 }, { 0, -4, 0 }, { 0, 0, 6 } }))
  end)

  it('of A . x is A, whatever x is', function()
    local A = T({ { 1, 2 }, { 3, 4 }, { 5, 6 } })
    local x = sl.vector('x')     -- x's size may be unknown; y's is known through A
    local J = sl.jacobian(sl.dot(sl.tensor(A), x), x)
    assert_close(sl.compile({ x }, J)(T({ 9, -9 })), A)
  end)

  it('of a scalar is the gradient', function()
    local x = sl.matrix('x')
    local J = sl.jacobian((x * x):sum(), x)
    assert_close(sl.compile({ x }, J)(T({ { 1, 2 } })), T({ { 2, 4 } }))
  end)

  it('of a matrix with respect to a matrix has shape y.shape ++ x.shape', function()
    sl.manual_seed(15)
    local X = static('X', { 2, 3 })
    local y = sl.dot(X:transpose(), X)     -- (3, 3)
    local J = sl.jacobian(y, X)
    assert.are.same({ 3, 3, 2, 3 }, J:static_shape())
    local f = sl.compile({ X }, y)
    local X0 = sl.randn(2, 3)
    local got = sl.compile({ X }, J)(X0)
    assert.are.same({ 3, 3, 2, 3 }, got:shape())
    assert_close(got, rows_flat(numeric_jacobian(f, X0)), 1e-6)
  end)

  it('agrees with central differences, and returns a list for a list of x', function()
    sl.manual_seed(16)
    local x, w = static('x', { 4 }), sl.vector('w')
    local y = sl.sigmoid(x * w) * sl.log1p(x * x)
    local Jx, Jw = unpack(sl.jacobian(y, { x, w }))
    local f = sl.compile({ x, w }, { Jx, Jw })
    local x0, w0 = sl.randn(4), sl.randn(4)
    local gx, gw = f(x0, w0)
    local fy = sl.compile({ x, w }, y)
    assert_close(gx, rows_flat(numeric_jacobian(function(t) return fy(t, w0) end, x0)), 1e-6)
    assert_close(gw, rows_flat(numeric_jacobian(function(t) return fy(x0, t) end, w0)), 1e-6)
  end)

  it('of a 0-length y is empty', function()
    local x = static('x', { 0 })
    local J = sl.jacobian(x * 2, x)
    assert.are.same({ 0, 0 }, sl.compile({ x }, J)(sl.zeros(0)):shape())
  end)

  it('stacks many rows in chunks', function()
    local x = static('x', { 1200 })
    local J = sl.jacobian(x * 3, x)
    local got = sl.compile({ x }, J)(sl.zeros(1200))
    assert.are.same({ 1200, 1200 }, got:shape())
    assert.are.equal(3 * 1200, got:sum():item())
    assert.are.equal(3, got[1100][1100])
  end)
end)

describe('sl.hessian', function()
  it('of sum(x^3) is diag(6x)', function()
    local x = static('x', { 3 })
    local H = sl.hessian((x ^ 3):sum(), x)
    assert_close(sl.compile({ x }, H)(T({ 1, -2, 0.5 })), T({ { 6, 0, 0 }, { 0, -12, 0 }, { 0, 0, 3 } }))
  end)

  it('of a quadratic form x^T A x is A + A^T', function()
    local A = T({ { 1, 2, 0 }, { -1, 3, 4 }, { 5, 0, 2 } })
    local x = static('x', { 3 })
    local H = sl.hessian(sl.dot(x, sl.dot(sl.tensor(A), x)), x)
    assert_close(sl.compile({ x }, H)(T({ 0.3, -1, 2 })), A + A:transpose())
  end)

  it('with respect to a matrix has shape x.shape ++ x.shape', function()
    local M = static('M', { 2, 2 })
    local H = sl.hessian((M ^ 3):sum() + M[1][1] * M[2][2], M)
    local got = sl.compile({ M }, H)(T({ { 1, 2 }, { 3, 4 } }))
    assert_close(got, T({ { { { 6, 0 }, { 0, 1 } }, { { 0, 12 }, { 0, 0 } } },
                          { { { 0, 0 }, { 18, 0 } }, { { 1, 0 }, { 0, 24 } } } }))
  end)

  it('agrees with central differences of the gradient; a list of x gives diagonal blocks', function()
    sl.manual_seed(17)
    local a, b = static('a', { 3 }), static('b', { 2 })
    local cost = sl.log(1 + sl.exp(a):sum() * (b * b):sum()) + (a ^ 4):sum()
    local Ha, Hb = unpack(sl.hessian(cost, { a, b }))
    local a0, b0 = sl.randn(3) * 0.5, sl.randn(2)
    local ha, hb = sl.compile({ a, b }, { Ha, Hb })(a0, b0)
    local ga = sl.compile({ a, b }, sl.grad(cost, a))
    local gb = sl.compile({ a, b }, sl.grad(cost, b))
    assert_close(ha, rows_flat(numeric_jacobian(function(t) return ga(t, b0) end, a0)), 1e-6)
    assert_close(hb, rows_flat(numeric_jacobian(function(t) return gb(a0, t) end, b0)), 1e-6)
  end)

  it('of a linear cost is zeros; of a 0-d x is the second derivative', function()
    local x = static('x', { 2 })
    assert_close(sl.compile({ x }, sl.hessian((x * 3):sum(), x))(T({ 1, 2 })), T({ { 0, 0 }, { 0, 0 } }))
    local s = sl.scalar('s')
    assert_close(sl.compile({ s }, sl.hessian(s ^ 3, s))(T(2)), { 12 })
  end)

  it('works in float32', function()
    local x = static('x', { 2 }, 'float32')
    local H = sl.hessian((x ^ 3):sum(), x)
    assert.are.equal('float32', H:dtype())
    assert_close(sl.compile({ x }, H)(T({ 1, 2 }, 'float32')), { 6, 0, 0, 12 }, 1e-6)
  end)
end)

describe('autodiff errors', function()
  local A, x, u, v = sl.matrix('A'), sl.vector('x'), sl.vector('u'), sl.vector('v')

  it('name the op and the disconnected variable', function()
    local e = errmsg(sl.Lop, A:dot(x), v, u)
    assert.is_true(has(e, 'Lop: f does not depend on v (wrt 1)'), e)
    assert.is_true(has(e, "disconnected = 'ignore'"), e)
    assert.is_true(has(e, 'autodiff_spec.lua'), e)   -- the caller's line
    e = errmsg(sl.Rop, A:dot(x), v, u)
    assert.is_true(has(e, 'Rop: f (dot#'), e)
    assert.is_true(has(e, 'does not depend on v'), e)
    e = errmsg(sl.jacobian, sl.dot(T({ { 1, 2 } }), x), v)
    assert.is_true(has(e, 'jacobian: y does not depend on v (wrt 1)'), e)
    e = errmsg(sl.hessian, (x * x):sum(), static('z', { 2 }))
    assert.is_true(has(e, 'hessian: the cost does not depend on z (wrt 1)'), e)
  end)

  it("give zeros with disconnected = 'ignore'", function()
    local z = static('z', { 2 })
    local out = sl.compile({ x, z }, {
      sl.Lop(x * 2, z, T({ 1, 1, 1 }), { disconnected = 'ignore' }),
      sl.jacobian(sl.dot(T({ { 1, 2 } }), x), z, { disconnected = 'ignore' }),
      sl.hessian((x * x):sum(), z, { disconnected = 'ignore' }),
    })
    local a, b, c = out(T({ 1, 2 }), T({ 0, 0 }))
    assert_close(a, T({ 0, 0 }))
    assert_close(b, T({ { 0, 0 } }))
    assert_close(c, T({ { 0, 0 }, { 0, 0 } }))
  end)

  it('reject bad disconnected modes and options', function()
    assert.is_true(has(errmsg(sl.Lop, x * 2, x, u, { disconnected = 'maybe' }),
                       "Lop: disconnected must be 'raise', 'warn' or 'ignore', got maybe"))
    assert.is_true(has(errmsg(sl.Rop, x * 2, x, v, 5), 'Rop: options must be a table, got number'))
  end)

  it('need static shapes for jacobian and hessian', function()
    local e = errmsg(sl.jacobian, x ^ 2, x)
    assert.is_true(has(e, 'jacobian: the shape of y must be known when the graph is built, got (?,)'), e)
    assert.is_true(has(e, "sl.tensor_type('float64', {3})"), e)
    e = errmsg(sl.hessian, (x ^ 2):sum(), x)
    assert.is_true(has(e, 'hessian: the shape of x must be known when the graph is built, got (?,)'), e)
  end)

  it('check the eval points: count, shape and kind', function()
    assert.is_true(has(errmsg(sl.Lop, A:dot(x), x), 'Lop: 0 eval point(s) given for 1 output(s) in f'))
    assert.is_true(has(errmsg(sl.Lop, { x * 2, x * 3 }, x, { u }),
                       'Lop: 1 eval point(s) given for 2 output(s) in f'))
    assert.is_true(has(errmsg(sl.Rop, A:dot(x), { x, u }, { v }),
                       'Rop: 1 eval point(s) given for 2 variable(s) in wrt'))
    local s = static('s', { 3 })
    local e = errmsg(sl.Lop, s * 2, s, T({ 1, 2 }))
    assert.is_true(has(e, 'Lop: eval point 1 has shape (2,) but f (mul#'), e)
    e = errmsg(sl.Rop, s * 2, s, sl.matrix('m'))
    assert.is_true(has(e, 'Rop: eval point 1 has shape (?, ?) but wrt (s) has shape (3,)'), e)
    e = errmsg(sl.Lop, x * 2, x, 'one')
    assert.is_true(has(e, 'Lop: eval point 1 must be a variable, tensor or number, got string'), e)
  end)

  it('reject non-float and non-symbolic arguments', function()
    local i = sl.ivector('i')
    assert.is_true(has(errmsg(sl.Lop, x * 2, i, u), 'Lop: wrt 1 (i) is int32; only float variables'))
    assert.is_true(has(errmsg(sl.Rop, i * 2, x, v), 'Rop: f 1 (mul#'))
    assert.is_true(has(errmsg(sl.jacobian, T({ 1, 2 }), x), 'jacobian: y 1 is a tensor, not a symbolic variable'))
    assert.is_true(has(errmsg(sl.jacobian, x * 2, { x, 3 }), 'jacobian: x entry 2 is a number'))
    assert.is_true(has(errmsg(sl.hessian, static('y', { 2 }) * 2, static('y2', { 2 })),
                       'hessian: the cost must be a scalar (0-d), got 1-d'))
    assert.is_true(has(errmsg(sl.jacobian, x * 2, {}), 'jacobian: x is an empty list'))
  end)
end)
