-- Indexing and allocation ops: x[...] on variables with constant and symbolic
-- bounds, set/inc_subtensor, take/gather (1-based values), symbolic arange,
-- alloc and the *_like functions, and x:shape() on symbols.
local sl = require 'symlua'
local np = require 'spec.support.numpy'

local function shape(t) return table.concat(t:shape(), 'x') end

local function errmsg(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, 'expected an error')
  return tostring(err)
end

-- Inputs for the oracle cases: float64 (3, 4), and views that are not contiguous.
local function base(dtype)
  return sl.arange(12):view(3, 4):cast(dtype or 'float64')
end

-- Each case: a key for x[...] and the same index in NumPy's 0-based syntax.
local cases2 = {
  { { 2, { 1, 3 } }, '1, 0:3' },
  { { {}, { 1, -1, 2 } }, ':, 0::2' },
  { { { -1, 1, -1 } }, '::-1' },
  { { { 2 } }, '1:2' },
  { { -1 }, '-1' },
  { { {}, { -2, -1 } }, ':, -2:' },
  { { { 3, 2 } }, '2:2' },
  { { { 1, 10 } }, '0:10' },
  { { {}, { 4, 2, -1 } }, ':, 3:0:-1' },
  { { { nil, nil, 2 }, -2 }, '::2, -2' },
  { { 3, 4 }, '2, 3' },
}

-- The key with every number replaced by an int64 scalar input.
local function symbolic_key(key)
  local inputs, values = {}, {}
  local function sym(v)
    if type(v) ~= 'number' then return v end
    local s = sl.lscalar('b' .. (#inputs + 1))
    inputs[#inputs + 1] = s
    values[#values + 1] = v
    return s
  end
  local out = {}
  for i = 1, #key do
    local e = key[i]
    if type(e) == 'table' then out[i] = { sym(e[1]), sym(e[2]), sym(e[3]) } else out[i] = sym(e) end
  end
  return out, inputs, values
end

describe('subtensor', function()
  it('indexes variables with hand-computed results', function()
    local x = sl.matrix('x')
    local f = sl.compile({ x }, { x[{ 2, { 1, 3 } }], x[2], x[{ {}, -1 }], x[{ { -1, 1, -1 }, 1 }] })
    local a, b, c, d = f(base())
    assert.are.same({ 4, 5, 6 }, a:totable())
    assert.are.same({ 4, 5, 6, 7 }, b:totable())
    assert.are.same({ 3, 7, 11 }, c:totable())
    assert.are.same({ 8, 4, 0 }, d:totable())
    assert.are.equal(0, x[{ 1, 2 }]:dim())
  end)

  it('keeps method lookup on variables', function()
    local x = sl.matrix('x')
    assert.are.equal('float64', x:dtype())
    assert.is_function(x.exp)
    assert.is_table(sl.core.var_mt.__index)   -- still the methods table for extenders
  end)

  it('infers static shapes from constant bounds', function()
    local x = sl.tensor_type('float64', { 5, -1 })('x')
    assert.are.same({ 3, -1 }, x[{ { 1, 3 } }]:static_shape())
    assert.are.same({ 3 }, x[{ { 1, -1, 2 }, 2 }]:static_shape())
    assert.are.same({ 5, -1 }, x[{ {} }]:static_shape())
    assert.are.same({ 1, -1 }, x[{ { -1 } }]:static_shape())
    assert.are.same({ 0, -1 }, x[{ { 4, 2 } }]:static_shape())
    assert.are.same({ 5 }, x[{ {}, 2 }]:static_shape())
    assert.are.same({ -1, -1 }, x[{ { sl.lscalar('i'), 3 } }]:static_shape())
  end)

  it('takes symbolic bounds', function()
    local x, i, j = sl.matrix('x'), sl.lscalar('i'), sl.iscalar('j')
    local f = sl.compile({ x, i, j }, { x[i], x[{ {}, { i, j } }], x[{ { -1, 1, -i } }] })
    local r1, r2, r3 = f(base(), 2, 3)
    assert.are.same({ 4, 5, 6, 7 }, r1:totable())
    assert.are.same({ { 1, 2 }, { 5, 6 }, { 9, 10 } }, r2:totable())
    assert.are.same({ { 8, 9, 10, 11 }, { 0, 1, 2, 3 } }, r3:totable())
    local r = select(2, f(base(), -1, 10))
    assert.are.same({ { 3 }, { 7 }, { 11 } }, r:totable())
  end)

  it('matches NumPy, eagerly and compiled, with constant and symbolic bounds', function()
    if not np.available() then pending('numpy not installed') return end
    for _, dtype in ipairs({ 'float64', 'float32', 'int32', 'int64', 'uint8', 'bool' }) do
      local inputs = { base(dtype), base(dtype):transpose(1, 2):contiguous():transpose(1, 2),
                       sl.arange(24):view(3, 8):cast(dtype)[{ {}, { 1, -1, 2 } }] }
      for k, a in ipairs(inputs) do
        local code = {}
        for n, c in ipairs(cases2) do code[n] = 'np.array(a[' .. c[2] .. '])' end
        local wants = { np.eval(table.concat(code, ', ') .. ',', { a = a }) }
        for n, c in ipairs(cases2) do
          local key, idx, want = c[1], c[2], wants[n]
          local what = dtype .. ' input ' .. k .. ' [' .. idx .. ']'
          np.assert_close(sl.subtensor(a, key), want, 0, 0, what .. ' eager')
          local x = sl.matrix('x', dtype)
          np.assert_close(sl.compile({ x }, x[key])(a), want, 0, 0, what .. ' constant')
          local skey, ins, vals = symbolic_key(key)
          table.insert(ins, 1, x)
          local got = sl.compile(ins, x[skey])(a, unpack(vals))
          np.assert_close(got, want, 0, 0, what .. ' symbolic')
        end
      end
    end
  end)

  it('indexes 3-d variables against NumPy', function()
    if not np.available() then pending('numpy not installed') return end
    local a = sl.randn(4, 3, 5)
    local x = sl.tensor3('x')
    for _, c in ipairs({ { { {}, 2, { 1, -1, 2 } }, ':, 1, ::2' }, { { -2 }, '-2' },
                         { { { 2, 3 }, { -1, 1, -2 } }, '1:3, ::-2' } }) do
      local want = np.eval('a[' .. c[2] .. ']', { a = a })
      np.assert_close(sl.compile({ x }, x[c[1]])(a), want, 0, 0, c[2])
    end
  end)

  it('reports bad indices at build time and at run time', function()
    local x = sl.tensor_type('float64', { 3, -1 })('x')
    assert.matches('subtensor: index 4 is out of range for axis 1 of size 3', errmsg(function() return x[4] end))
    assert.matches('subtensor: index 0 is out of range', errmsg(function() return x[0] end))
    assert.matches('too many indices %(3%) for a 2%-d variable', errmsg(function() return x[{ 1, 1, 1 }] end))
    assert.matches('step must not be 0', errmsg(function() return x[{ { 1, 2, 0 } }] end))
    assert.matches('must be an integer', errmsg(function() return x[1.5] end))
    assert.matches('integer scalar', errmsg(function() return x[sl.scalar('f')] end))
    assert.matches('index_spec.lua', errmsg(function() return x[4] end))
    local i = sl.lscalar('i')
    local f = sl.compile({ x, i }, x[{ {}, i }])
    assert.are.same({ 2, 6, 10 }, f(base(), 3):totable())
    assert.matches('subtensor: index 5 is out of range for axis 2 of size 4', errmsg(f, base(), 5))
    assert.matches('immutable', errmsg(function() x[1] = 2 end))
  end)
end)

describe('set_subtensor and inc_subtensor', function()
  it('return new variables with the region replaced or incremented', function()
    local x, y = sl.matrix('x'), sl.vector('y')
    local s = sl.set_subtensor(x[{ {}, 2 }], y)
    local n = sl.inc_subtensor(x[{ { 1, 2 }, { 3, 4 } }], 10)
    local f = sl.compile({ x, y }, { s, n, x })
    local a = base()
    local r1, r2, r3 = f(a, sl.tensor({ -1, -2, -3 }, 'float64'))
    assert.are.same({ { 0, -1, 2, 3 }, { 4, -2, 6, 7 }, { 8, -3, 10, 11 } }, r1:totable())
    assert.are.same({ { 0, 1, 12, 13 }, { 4, 5, 16, 17 }, { 8, 9, 10, 11 } }, r2:totable())
    assert.are.same(base():totable(), r3:totable())   -- x itself is unchanged
    assert.are.same(base():totable(), a:totable())
  end)

  it('take symbolic bounds and the (x, key, y) form on tensors', function()
    local x, i = sl.matrix('x'), sl.lscalar('i')
    local f = sl.compile({ x, i }, sl.inc_subtensor(x[{ i, { i, -1 } }], 100))
    assert.are.same({ { 0, 1, 2, 3 }, { 4, 105, 106, 107 }, { 8, 9, 10, 11 } }, f(base(), 2):totable())
    local t = sl.set_subtensor(base('int32'), { -1, { 1, -1, 3 } }, 0)
    assert.are.same({ { 0, 1, 2, 3 }, { 4, 5, 6, 7 }, { 0, 9, 10, 0 } }, t:totable())
    assert.are.equal('int32', t:dtype())
  end)

  it('match NumPy for several dtypes and broadcast values', function()
    if not np.available() then pending('numpy not installed') return end
    for _, dtype in ipairs({ 'float64', 'float32', 'int32', 'int64' }) do
      local a = base(dtype):transpose(1, 2):contiguous():transpose(1, 2)
      for _, c in ipairs({ { { 2, { 1, 3 } }, '1, 0:3', sl.tensor({ 7, 8, 9 }, dtype) },
                           { { {}, { 1, -1, 2 } }, ':, 0::2', sl.tensor({ { 1 }, { 2 }, { 3 } }, dtype) },
                           { { { -1, 1, -1 } }, '::-1', sl.tensor({ 1, 2, 3, 4 }, dtype) } }) do
        local x, y = sl.matrix('x', dtype), sl.tensor_type(dtype, c[3]:dim() == 1 and { -1 } or { -1, -1 })('y')
        for _, op in ipairs({ 'set', 'inc' }) do
          local code = op == 'set' and '(lambda b: (b.__setitem__(np.s_[' .. c[2] .. '], y), b)[1])(a.copy())'
                                    or '(lambda b: (np.add.at(b, np.s_[' .. c[2] .. '], y), b)[1])(a.copy())'
          local want = np.eval(code, { a = a, y = c[3] })
          local fn = op == 'set' and sl.set_subtensor or sl.inc_subtensor
          np.assert_close(sl.compile({ x, y }, fn(x[c[1]], y))(a, c[3]), want, 0, 0, op .. ' ' .. c[2])
          np.assert_close(fn(a, c[1], c[3]), want, 0, 0, op .. ' ' .. c[2] .. ' eager')
        end
      end
    end
  end)

  it('reject what is not an indexing result, and values that do not fit', function()
    local x = sl.matrix('x')
    assert.matches('set_subtensor: expected the result of indexing a variable',
                   errmsg(sl.set_subtensor, x, 1))
    assert.matches('got the result of exp', errmsg(sl.inc_subtensor, x:exp(), 1))
    local xs = sl.tensor_type('float64', { 3, 4 })('xs')
    assert.matches('set_subtensor: a value of type float64 %(5,%) does not broadcast to the region\'s type float64 %(3, 2%)',
                   errmsg(sl.set_subtensor, xs[{ {}, { 1, 2 } }], sl.tensor_type('float64', { 5 })('y')))
    local y = sl.vector('y')
    local f = sl.compile({ x, y }, sl.set_subtensor(x[{ {}, 1 }], y))
    assert.matches('does not broadcast', errmsg(f, base(), sl.tensor({ 1, 2 }, 'float64')))
  end)
end)

describe('take and gather', function()
  it('read 1-based index values, negative from the end', function()
    local a = base()
    assert.are.same({ { 2, 0, 3 }, { 6, 4, 7 }, { 10, 8, 11 } }, sl.take(a, { 3, 1, -1 }, 2):totable())
    assert.are.same({ { 8, 9, 10, 11 }, { 0, 1, 2, 3 } }, a:take({ 3, 1 }, 1):totable())
    assert.are.same({ { 11, 0 } }, sl.take(a, { { 12, 1 } }):totable())   -- flattened
    assert.are.same({ { 0, 0 }, { 7, 6 }, { 9, 9 } },
                    sl.gather(a, 2, sl.tensor({ { 1, 1 }, { 4, 3 }, { 2, 2 } })):totable())
    local x, i = sl.matrix('x'), sl.lvector('i')
    local f = sl.compile({ x, i }, { x:take(i, -1), x:gather(1, sl.tensor({ { 3, 1, 2, 1 } })) })
    local r1, r2 = f(a, sl.tensor({ 4, 4, 1 }))
    assert.are.same({ { 3, 3, 0 }, { 7, 7, 4 }, { 11, 11, 8 } }, r1:totable())
    assert.are.same({ { 8, 1, 6, 3 } }, r2:totable())
  end)

  it('match NumPy for several shapes, dtypes and index dtypes', function()
    if not np.available() then pending('numpy not installed') return end
    for _, dtype in ipairs({ 'float64', 'float32', 'int32', 'uint8' }) do
      local a = sl.arange(60):view(3, 4, 5):cast(dtype):transpose(1, 3)   -- (5, 4, 3), strided
      for _, idt in ipairs({ 'int64', 'int32' }) do
        local ind = sl.tensor({ { 1, -1 }, { 2, 2 }, { 3, 1 } }, idt)
        local x, i = sl.tensor3('x', dtype), sl.tensor_type(idt, { -1, -1 })('i')
        for axis = 1, 3 do
          local want = np.eval('np.take(a, np.where(i > 0, i - 1, i), axis=' .. (axis - 1) .. ')', { a = a, i = ind })
          np.assert_close(sl.take(a, ind, axis), want, 0, 0, 'take eager')
          np.assert_close(sl.compile({ x, i }, x:take(i, axis))(a, ind), want, 0, 0, 'take')
        end
        local gi = sl.tensor({ { { 1, 3 } }, { { 2, 2 } } }, idt)   -- (2, 1, 2)
        for axis = 1, 3 do
          local want
          local ga = sl.gather(a, axis, gi)
          -- gather reads x itself, not a cut: the cut a[:2, :1, :2] equals it where
          -- the indices look, except along axis, where x is wider
          if axis == 1 then want = np.eval('np.take_along_axis(a[:, :1, :2], i - 1, axis=0)', { a = a, i = gi })
          elseif axis == 2 then want = np.eval('np.take_along_axis(a[:2, :, :2], i - 1, axis=1)', { a = a, i = gi })
          else want = np.eval('np.take_along_axis(a[:2, :1, :], i - 1, axis=2)', { a = a, i = gi }) end
          np.assert_close(ga, want, 0, 0, 'gather eager axis ' .. axis)
          np.assert_close(sl.compile({ x }, x:gather(axis, gi))(a), want, 0, 0, 'gather axis ' .. axis)
        end
      end
    end
  end)

  it('inc_subtensor on a take result accumulates repeated indices like np.add.at', function()
    local x, i = sl.vector('x'), sl.lvector('i')
    local f = sl.compile({ x, i }, { sl.inc_subtensor(x:take(i), 1), sl.set_subtensor(x:take(i), -1) })
    local r1, r2 = f(sl.zeros(5), sl.tensor({ 1, 1, 3, -1, 1 }))
    assert.are.same({ 3, 0, 1, 0, 1 }, r1:totable())
    assert.are.same({ -1, 0, -1, 0, -1 }, r2:totable())
    assert.are.same({ 2, 0, 1, 0, 0 }, sl.inc_take(sl.zeros(5), { 1, 1, 3 }, 1):totable())
    if not np.available() then return end
    local a = sl.randn(4, 3)
    local ind, y = sl.tensor({ 2, 2, 3, 2 }), sl.randn(4, 4)
    local m = sl.matrix('m')
    local want = np.eval('(lambda b: (np.add.at(b, (slice(None), i - 1), y), b)[1])(a.copy())',
                         { a = a, i = ind, y = y })
    local got = sl.compile({ m }, sl.inc_subtensor(m:take(ind, 2), y))(a)
    np.assert_close(got, want, 1e-12, 1e-12, 'inc_take axis 2')
  end)

  it('report bad indices and axes', function()
    local a = base()
    assert.matches('take: index 5 is out of range for axis 2 of size 4', errmsg(sl.take, a, { 5 }, 2))
    assert.matches('take: index 0 is out of range', errmsg(sl.take, a, { 0 }, 1))
    assert.matches('take: axis 3 is out of range for a 2%-d variable', errmsg(sl.take, a, { 1 }, 3))
    assert.matches('take: indices must be integers, got float64', errmsg(sl.take, a, sl.tensor({ 1.0, 2.5 }), 1))
    assert.matches('gather: axis 0 is out of range', errmsg(sl.gather, a, 0, sl.tensor({ { 1 } })))
    assert.matches('gather: indices .* must have as many axes as x', errmsg(sl.gather, a, 1, sl.tensor({ 1 })))
    assert.matches('gather: index 4 is out of range for axis 1 of size 3',
                   errmsg(sl.gather, a, 1, sl.tensor({ { 4 } })))
    local x, i = sl.matrix('x'), sl.lvector('i')
    local f = sl.compile({ x, i }, x:take(i, 1))
    assert.matches('take: index %-4 is out of range for axis 1 of size 3', errmsg(f, a, sl.tensor({ 1, -4 })))
  end)
end)

describe('shape', function()
  it('is symbolic on variables and a table on tensors', function()
    local x = sl.tensor3('x')
    local s, s2 = x:shape(), x:shape(-1)
    assert.are.equal('int64', s:dtype())
    assert.are.same({ 3 }, s:static_shape())
    assert.are.equal(0, s2:dim())
    local f = sl.compile({ x }, { s, s2, x:shape(1) * x:shape(2) })
    local r1, r2, r3 = f(sl.zeros(2, 3, 4))
    assert.are.same({ 2, 3, 4 }, r1:totable())
    assert.are.equal(4, r2:item())
    assert.are.equal(6, r3:item())
    assert.are.same({ 2, 3 }, sl.zeros(2, 3):shape())
    assert.are.equal(3, sl.shape(sl.zeros(2, 3), -1))
    assert.matches('shape: axis 4 is out of range for a 3%-d variable', errmsg(function() return x:shape(4) end))
  end)

  it('feeds symbolic bounds and sizes', function()
    local x = sl.matrix('x')
    local f = sl.compile({ x }, { x[{ { 2, x:shape(1) } }], sl.arange(x:shape(2)) })
    local r1, r2 = f(base())
    assert.are.same({ { 4, 5, 6, 7 }, { 8, 9, 10, 11 } }, r1:totable())
    assert.are.same({ 0, 1, 2, 3 }, r2:totable())
  end)
end)

describe('arange, alloc and the *_like functions', function()
  it('arange is symbolic when a bound is, with NumPy semantics', function()
    local n, s = sl.lscalar('n'), sl.scalar('s')
    local f = sl.compile({ n, s }, { sl.arange(n), sl.arange(1, n, 2), sl.arange(n, 0, -1), sl.arange(0, s, 0.5) })
    local a, b, c, d = f(5, 2)
    assert.are.same({ 0, 1, 2, 3, 4 }, a:totable())
    assert.are.equal('int64', a:dtype())
    assert.are.same({ 1, 3 }, b:totable())
    assert.are.same({ 5, 4, 3, 2, 1 }, c:totable())
    assert.are.same({ 0, 0.5, 1, 1.5 }, d:totable())
    assert.are.equal('float64', d:dtype())
    assert.are.equal('float32', sl.arange(sl.fscalar('f')):dtype())
    assert.are.equal('int32', sl.arange(n, 'int32'):dtype())
    assert.are.same({ 2, 4, 6, 8 }, sl.arange(2, 10, 2):totable())   -- numbers stay eager
    assert.matches('arange: step must not be 0', errmsg(sl.compile({ n }, sl.arange(0, 5, n)), 0))
    if np.available() then
      local got = sl.compile({ s }, sl.arange(-1, s, 0.3))(2.05)
      np.assert_close(got, np.eval('np.arange(-1, 2.05, 0.3)'), 1e-12, 1e-12, 'arange')
    end
  end)

  it('alloc fills a shape of numbers and symbolic sizes', function()
    local n = sl.lscalar('n')
    local v = sl.alloc(1.5, n, 3)
    assert.are.same({ -1, 3 }, v:static_shape())
    local f = sl.compile({ n }, { v, sl.alloc(sl.tensor({ 1, 2, 3 }, 'int32'), n, 3) })
    local a, b = f(2)
    assert.are.same({ { 1.5, 1.5, 1.5 }, { 1.5, 1.5, 1.5 } }, a:totable())
    assert.are.same({ { 1, 2, 3 }, { 1, 2, 3 } }, b:totable())
    assert.are.equal('int32', b:dtype())
    assert.are.same({ { 7, 7 } }, sl.alloc(sl.tensor(7, 'int64'), 1, 2):totable())   -- eager
    assert.matches('alloc: negative size %-1', errmsg(f, -1))
    assert.matches('does not broadcast', errmsg(sl.alloc, sl.tensor({ 1, 2 }), 2, 3))
    local x = sl.matrix('x')
    local g = sl.compile({ x }, sl.alloc(0, x:shape()))
    assert.are.equal('3x4', shape(g(base())))
  end)

  it('zeros_like, ones_like and full_like follow a variable\'s shape', function()
    local x = sl.matrix('x', 'float32')
    local v = sl.scalar('v')
    local f = sl.compile({ x, v }, { sl.zeros_like(x), sl.ones_like(x, 'int32'), sl.full_like(x, 2.5),
                                     sl.full_like(x, v) })
    local a, b, c, d = f(base('float32'), 3)
    assert.are.equal('float32', a:dtype())
    assert.are.same({ 3, 4 }, a:shape())
    assert.are.same({ 0, 0, 0, 0 }, a[2]:totable())
    assert.are.equal('int32', b:dtype())
    assert.are.same({ 1, 1, 1, 1 }, b[1]:totable())
    assert.are.same({ 2.5, 2.5, 2.5 }, c[{ {}, 1 }]:totable())
    assert.are.equal('float32', d:dtype())
    assert.are.same({ 3, 3, 3, 3 }, d[3]:totable())
    -- static sizes become constants: no shape node is needed
    local s = sl.tensor_type('float64', { 2, 5 })('s')
    assert.are.same({ 2, 5 }, sl.zeros_like(s):static_shape())
    assert.are.same({ 2, 5 }, s[{ { 1, s:shape(1) } }]:static_shape())   -- through shape_i
    assert.are.same({ { 0, 0 } }, sl.zeros_like(sl.ones(1, 2)):totable())   -- tensors stay eager
  end)
end)
