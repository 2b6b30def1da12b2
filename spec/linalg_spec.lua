-- dot and outer: hand-computed values, NumPy as the oracle over every shape
-- case, dtype and memory layout, eager and compiled, and the errors.
local sl = require 'symlua'
local np = require 'spec.support.numpy'

local function shape_of(t) return table.concat(t:shape(), 'x') end

-- A var of t's dtype and rank: sizes unknown, or t's sizes when known is set.
local function var_like(t, name, known)
  local shape = {}
  for i, s in ipairs(t:shape()) do shape[i] = known and s or -1 end
  return sl.tensor_type(t:dtype(), shape)(name)
end

-- |got - want| <= tol * mag elementwise, where mag is |a|·|b| (the size of
-- the terms summed, so cancellation does not make the test too strict).
local function assert_near(got, want, mag, tol, what)
  assert.are.equal(shape_of(want), shape_of(got), what .. ': shape')
  assert.are.equal(want:dtype(), got:dtype(), what .. ': dtype')
  local g = got:cast('float64'):contiguous()
  local w = want:cast('float64'):contiguous()
  local m = mag:cast('float64'):contiguous()
  local pg, pw, pm = g:data(), w:data(), m:data()
  for i = 0, g:numel() - 1 do
    local ok = pg[i] == pw[i] or math.abs(pg[i] - pw[i]) <= tol * pm[i] + 1e-300
    assert(ok, string.format('%s: element %d: got %.17g, want %.17g', what, i + 1, pg[i], pw[i]))
  end
end

local TOL = { float32 = 1e-5, float64 = 1e-12 }

-- Random values of a dtype: small integers for integer dtypes, so that
-- exact results are expected there.
local function data(dtype, ...)
  local shape = { ... }
  if dtype == 'float32' or dtype == 'float64' then return sl.randn(shape, dtype) end
  if dtype == 'bool' then return sl.randint(0, 2, shape, 'int64'):cast('bool') end
  if dtype == 'uint8' then return sl.randint(0, 40, shape, 'uint8') end
  return sl.randint(-9, 10, shape, dtype)
end

-- Runs every case {what, a, b [, op]} against NumPy in one python call, then
-- checks sl.op eagerly, the method form, and compiled functions with unknown
-- and with known static shapes.
local function check_cases(cases)
  local inputs, codes = {}, {}
  for i, c in ipairs(cases) do
    local a, b = 'a' .. i, 'b' .. i
    inputs[a], inputs[b] = c[2], c[3]
    local fn = c[4] == 'outer' and 'np.outer'
            or (c[2]:dim() > 2 or c[3]:dim() > 2) and 'np.matmul' or 'np.dot'
    codes[#codes + 1] = string.format('%s(%s, %s)', fn, a, b)
    codes[#codes + 1] = string.format('%s(np.abs(%s.astype(np.float64)), np.abs(%s.astype(np.float64)))',
                                      fn, a, b)
  end
  local res = { np.eval('(' .. table.concat(codes, ', ') .. ',)', inputs) }
  for i, c in ipairs(cases) do
    local what, a, b, op = c[1], c[2], c[3], c[4] or 'dot'
    local want, mag = res[2 * i - 1], res[2 * i]
    local tol = TOL[want:dtype()] or 0
    assert_near(sl[op](a, b), want, mag, tol, what .. ' (eager)')
    assert_near(a[op](a, b), want, mag, tol, what .. ' (method)')
    for _, known in ipairs({ false, true }) do
      local x, y = var_like(a, 'a', known), var_like(b, 'b', known)
      local z = sl[op](x, y)
      if known then assert.are.same(want:shape(), z:static_shape(), what .. ': static shape') end
      assert.are.equal(want:dtype(), z:dtype(), what .. ': static dtype')
      assert_near(sl.compile({ x, y }, z)(a, b), want, mag, tol,
                  what .. (known and ' (compiled, known shapes)' or ' (compiled)'))
    end
  end
end

describe('dot', function()
  it('computes hand-checked products for every rank combination', function()
    local a = sl.tensor({ { 1, 2, 3 }, { 4, 5, 6 } })
    local b = sl.tensor({ { 1, 0 }, { 0, 1 }, { 1, 1 } })
    assert.are.same({ { 4, 5 }, { 10, 11 } }, sl.dot(a, b):totable())
    assert.are.same({ { 4, 5 }, { 10, 11 } }, a:cast('float32'):dot(b:cast('float32')):totable())
    assert.are.same({ { 4, 5 }, { 10, 11 } }, a:cast('float64'):dot(b:cast('float64')):totable())
    local v = sl.tensor({ 1, 2, 3 }, 'float64')
    local r = sl.dot(v, v)
    assert.are.equal(0, r:dim())
    assert.are.equal(14, r:item())
    assert.are.same({ 14, 32 }, sl.dot(a:cast('float64'), v):totable())
    assert.are.same({ 9, 12, 15 }, sl.dot(sl.tensor({ 1, 2 }, 'float64'), a:cast('float64')):totable())
    local t = sl.tensor({ { { 1, 0 }, { 0, 1 } }, { { 2, 0 }, { 0, 2 } } }, 'float64')
    assert.are.same({ { { 1, 2 }, { 3, 4 } }, { { 2, 4 }, { 6, 8 } } },
                    t:dot(sl.tensor({ { 1, 2 }, { 3, 4 } }, 'float64')):totable())
    assert.are.same({ { 1, 2 }, { 2, 4 } }, t:dot(sl.tensor({ 1, 2 }, 'float64')):totable())
  end)

  it('treats a scalar operand as a multiplication, like NumPy', function()
    local a = sl.tensor({ 1.5, 2 }, 'float32')
    assert.are.same({ 3, 4 }, sl.dot(a, 2):totable())
    assert.are.equal('float32', sl.dot(2, a):dtype())
    assert.are.same({ 3, 4 }, a:dot(sl.tensor(2.0, 'float32')):totable())
    local x = sl.fvector('x')
    assert.are.equal('mul', sl.dot(x, 0.5):owner():op())
  end)

  it('sums nothing to zeros and keeps empty shapes', function()
    local z = sl.dot(sl.zeros(2, 0), sl.zeros(0, 3))
    assert.are.same({ { 0, 0, 0 }, { 0, 0, 0 } }, z:totable())
    assert.are.equal(0, sl.dot(sl.zeros(0), sl.zeros(0)):item())
    assert.are.equal('0x3', shape_of(sl.dot(sl.zeros(0, 4), sl.ones(4, 3))))
    assert.are.same({ { 0, 0 } }, sl.dot(sl.zeros(1, 0, 'int32'), sl.zeros(0, 2, 'int32')):totable())
  end)

  it('matches NumPy over every shape case, in float32 and float64', function()
    if not np.available() then pending('numpy not installed') return end
    sl.manual_seed(11)
    local cases = {}
    for _, dt in ipairs({ 'float32', 'float64' }) do
      local function add(what, a, b) cases[#cases + 1] = { dt .. ' ' .. what, a, b } end
      add('vector . vector', data(dt, 7), data(dt, 7))
      add('length-1 vectors', data(dt, 1), data(dt, 1))
      add('matrix . vector', data(dt, 3, 4), data(dt, 4))
      add('vector . matrix', data(dt, 4), data(dt, 4, 5))
      add('matrix . matrix', data(dt, 3, 4), data(dt, 4, 5))
      add('larger matrices', data(dt, 33, 17), data(dt, 17, 29))
      add('row . column', data(dt, 1, 6), data(dt, 6, 1))
      add('column . row', data(dt, 5, 1), data(dt, 1, 6))
      add('one-row matrix . matrix', data(dt, 1, 4), data(dt, 4, 3))
      add('matrix . one-column matrix', data(dt, 3, 4), data(dt, 4, 1))
      add('batched 3-d', data(dt, 2, 3, 4), data(dt, 2, 4, 5))
      add('batch of one broadcast', data(dt, 1, 3, 4), data(dt, 3, 4, 5))
      add('3-d . 2-d broadcasts the matrix', data(dt, 3, 2, 4), data(dt, 4, 5))
      add('2-d . 3-d broadcasts the matrix', data(dt, 2, 4), data(dt, 3, 4, 5))
      add('3-d . vector', data(dt, 2, 3, 4), data(dt, 4))
      add('vector . 3-d', data(dt, 4), data(dt, 2, 4, 5))
      add('3-d with one-row matrices', data(dt, 3, 1, 4), data(dt, 3, 4, 2))
    end
    check_cases(cases)
  end)

  it('reads transposed, strided, reversed and broadcast views (BLAS or a copy)', function()
    if not np.available() then pending('numpy not installed') return end
    sl.manual_seed(12)
    local cases = {}
    for _, dt in ipairs({ 'float32', 'float64', 'int64' }) do
      local function add(what, a, b) cases[#cases + 1] = { dt .. ' ' .. what, a, b } end
      local At = data(dt, 4, 3):transpose(1, 2)            -- (3, 4), column-major
      local Bt = data(dt, 5, 4):transpose(1, 2)            -- (4, 5), column-major
      add('transposed . matrix', At, data(dt, 4, 5))
      add('matrix . transposed', data(dt, 3, 4), Bt)
      add('transposed . transposed', At, Bt)
      add('transposed . vector', At, data(dt, 4))
      add('vector . transposed', data(dt, 4), Bt)
      add('stepped columns', data(dt, 3, 8)[{ {}, { 1, -1, 2 } }], data(dt, 4, 5))
      add('narrowed (leading dimension > columns)', data(dt, 3, 9):narrow(2, 3, 4),
          data(dt, 6, 5):narrow(1, 2, 4))
      add('stepped vectors', data(dt, 14)[{ { 1, -1, 2 } }], data(dt, 21)[{ { 1, -1, 3 } }])
      add('reversed rows', data(dt, 3, 4)[{ { -1, 1, -1 } }], data(dt, 4, 2))
      add('reversed vector', data(dt, 3, 4), data(dt, 4)[{ { -1, 1, -1 } }])
      add('broadcast rows', data(dt, 1, 4):expand(3, 4), data(dt, 4, 2))
      add('broadcast vector', data(dt, 3, 4), data(dt, 1):expand(4))
      add('batched transposed', data(dt, 2, 4, 3):transpose(2, 3), data(dt, 2, 4, 5):transpose(1, 1))
      add('batch axis not outermost in memory', data(dt, 3, 2, 4):transpose(1, 2), data(dt, 2, 4, 5))
      add('batched, both transposed', data(dt, 2, 4, 3):transpose(2, 3), data(dt, 2, 5, 4):transpose(2, 3))
    end
    check_cases(cases)
  end)

  it('promotes dtypes like NumPy and computes integer products exactly', function()
    if not np.available() then pending('numpy not installed') return end
    sl.manual_seed(13)
    local pairs_ = {
      { 'int32', 'int32' }, { 'int64', 'int64' }, { 'uint8', 'uint8' }, { 'bool', 'bool' },
      { 'int32', 'int64' }, { 'uint8', 'int32' }, { 'bool', 'int32' }, { 'int32', 'float32' },
      { 'int64', 'float64' }, { 'float32', 'float64' }, { 'uint8', 'float32' }, { 'bool', 'float64' },
    }
    local cases = {}
    for _, p in ipairs(pairs_) do
      local what = p[1] .. ' . ' .. p[2]
      cases[#cases + 1] = { what .. ' matrices', data(p[1], 3, 5), data(p[2], 5, 4) }
      cases[#cases + 1] = { what .. ' vectors', data(p[1], 6), data(p[2], 6) }
      cases[#cases + 1] = { what .. ' batched', data(p[1], 2, 3, 5), data(p[2], 5) }
    end
    -- products that overflow wrap around as in NumPy
    cases[#cases + 1] = { 'uint8 wraps', sl.full({ 2, 3 }, 200, 'uint8'), sl.full({ 3, 2 }, 3, 'uint8') }
    cases[#cases + 1] = { 'int32 wraps', sl.full({ 4 }, 2e9, 'int32'), sl.full({ 4 }, 3, 'int32') }
    check_cases(cases)
  end)

  it('types its result statically', function()
    local x, v = sl.matrix('x'), sl.vector('v')
    assert.are.same({ -1 }, x:dot(v):static_shape())
    assert.are.same({}, v:dot(v):static_shape())
    assert.are.same({ -1, -1 }, x:dot(x):static_shape())
    local a = sl.tensor_type('float32', { 3, 4 })('a')
    local b = sl.tensor_type('float32', { 4, -1 })('b')
    assert.are.same({ 3, -1 }, a:dot(b):static_shape())
    assert.are.equal('float32', a:dot(b):dtype())
    local t = sl.tensor_type('float64', { 1, 3, 4 })('t')
    local u = sl.tensor_type('float64', { 6, 4, 2 })('u')
    assert.are.same({ 6, 3, 2 }, t:dot(u):static_shape())
    assert.are.same({ -1, -1, 3 }, sl.tensor3('w'):dot(sl.tensor_type('float64', { 4, 3 })('m')):static_shape())
    assert.are.equal('float64', sl.imatrix('i'):dot(sl.fmatrix('f')):dtype())
    assert.are.equal('int32', sl.umatrix('u8'):dot(sl.imatrix('i')):dtype())
    assert.are.equal('bool', sl.bmatrix('b1'):dot(sl.bmatrix('b2')):dtype())
    assert.are.equal('dot', x:dot(x):owner():op())
  end)

  it('works with constants inside graphs', function()
    local w = sl.tensor({ { 1, 2 }, { 3, 4 } }, 'float64')
    local x = sl.matrix('x')
    local f = sl.compile({ x }, x:dot(w) + sl.dot(w, x))
    assert.are.same({ { 2, 4 }, { 6, 8 } }, f(sl.eye(2)):totable())
    local s = sl.shared(sl.tensor({ 1, 1 }, 'float64'), 's')
    assert.are.same({ 3, 7 }, sl.compile({}, sl.dot(w, s))():totable())
  end)
end)

describe('dot errors', function()
  local function err(f, ...)
    local ok, e = pcall(f, ...)
    assert.is_false(ok, 'expected an error')
    return tostring(e)
  end

  it('reports unaligned static shapes when the graph is built', function()
    local a = sl.tensor_type('float64', { 3, 4 })('a')
    local b = sl.tensor_type('float64', { 5, 2 })('b')
    local e = err(sl.dot, a, b)
    assert.matches('dot: shapes (3, 4) and (5, 2) are not aligned: 4 (dim 2) != 5 (dim 1)', e, 1, true)
    e = err(sl.dot, sl.tensor_type('float64', { -1, 3 })('p'), sl.tensor_type('float64', { 4, -1 })('q'))
    assert.matches('dot: shapes (?, 3) and (4, ?) are not aligned: 3 (dim 2) != 4 (dim 1)', e, 1, true)
    -- an unknown size may match anything until the call
    assert.are.same({ -1 }, sl.dot(sl.tensor_type('float64', { 3 })('v'), sl.matrix('m')):static_shape())
  end)

  it('names both shapes for tensors', function()
    local e = err(sl.dot, sl.zeros(3, 4), sl.zeros(5, 2))
    assert.matches('dot: shapes (3, 4) and (5, 2) are not aligned: 4 (dim 2) != 5 (dim 1)', e, 1, true)
    e = err(sl.dot, sl.zeros(3), sl.zeros(4))
    assert.matches('dot: shapes (3,) and (4,) are not aligned: 3 (dim 1) != 4 (dim 1)', e, 1, true)
    e = err(sl.dot, sl.zeros(2, 3, 4), sl.zeros(2, 5, 6))
    assert.matches('dot: shapes (2, 3, 4) and (2, 5, 6) are not aligned: 4 (dim 3) != 5 (dim 2)', e, 1, true)
    e = err(sl.dot, sl.zeros(2, 3, 4), sl.zeros(3, 4, 6))
    assert.matches('dot: batch sizes of shapes (2, 3, 4) and (3, 4, 6) differ: 2 != 3', e, 1, true)
  end)

  it('checks sizes that were unknown when the function is called', function()
    local a, b = sl.matrix('a'), sl.matrix('b')
    local g = sl.compile({ a, b }, a:dot(b))
    local e = err(g, sl.zeros(3, 4), sl.zeros(5, 2))
    assert.matches('dot: shapes (3, 4) and (5, 2) are not aligned', e, 1, true)
  end)

  it('rejects ranks it does not take', function()
    local e = err(sl.dot, sl.zeros(2, 2, 2, 2), sl.zeros(2, 2))
    assert.matches('dot: operand 1 has 4 dimensions; dot takes 1 to 3', e, 1, true)
    e = err(sl.core.apply, 'dot', nil, sl.zeros(2), sl.tensor(1.0))
    assert.matches('dot: operand 2 is 0-d', e, 1, true)
    e = err(sl.dot, sl.matrix('m'), sl.tensor4('t'))
    assert.matches('dot: operand 2 has 4 dimensions', e, 1, true)
  end)
end)

describe('outer', function()
  it('multiplies every pair, flattening both operands', function()
    local r = sl.outer(sl.tensor({ 1, 2 }), sl.tensor({ 3, 4, 5 }))
    assert.are.same({ { 3, 4, 5 }, { 6, 8, 10 } }, r:totable())
    assert.are.equal('int64', r:dtype())
    assert.are.equal('2x4', shape_of(sl.outer(sl.ones(2), sl.ones(2, 2))))
    local x, y = sl.vector('x'), sl.tensor_type('float64', { 3 })('y')
    assert.are.same({ -1, 3 }, sl.outer(x, y):static_shape())
    assert.are.same({ { 0, 0, 0 }, { 1, 2, 3 } },
                    sl.compile({ x, y }, x:outer(y))(sl.tensor({ 0, 1 }, 'float64'), sl.tensor({ 1, 2, 3 }, 'float64')):totable())
  end)

  it('matches NumPy', function()
    if not np.available() then pending('numpy not installed') return end
    sl.manual_seed(14)
    check_cases({
      { 'float64 vectors', data('float64', 5), data('float64', 4), 'outer' },
      { 'float32 matrices flatten', data('float32', 2, 3), data('float32', 3, 2):transpose(1, 2), 'outer' },
      { 'int32 . float32', data('int32', 3), data('float32', 4), 'outer' },
      { 'uint8', data('uint8', 3), data('uint8', 2), 'outer' },
      { 'stepped', data('float64', 9)[{ { 1, -1, 4 } }], data('float64', 2), 'outer' },
    })
  end)
end)
