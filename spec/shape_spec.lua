-- Shape ops: reshape, flatten, dimshuffle, transpose, concatenate, stack,
-- split, repeat, tile — values against NumPy and by hand, eager on tensors
-- and compiled on variables, static shapes, and errors.
local sl = require 'symlua'
local np = require 'spec.support.numpy'

local DTYPES = { 'bool', 'uint8', 'int32', 'int64', 'float32', 'float64' }

local function shape(t) return table.concat(t:shape(), 'x') end

-- Values of the given shape and dtype: fractions for floats, small
-- integers otherwise, a mix of true and false for bool.
local function make(dims, dtype)
  local t = sl.rand(dims) * 100
  if dtype == 'bool' then t = (sl.rand(dims) * 2):floor()
  elseif dtype ~= 'float32' and dtype ~= 'float64' then t = t:floor() end
  return t:cast(dtype)
end

-- The same values in a non-contiguous layout: a transposed view for 2+
-- axes, a stepped view for one.
local function noncontig(t)
  local nd = t:dim()
  if nd == 0 or t:numel() == 0 then return t end
  if nd == 1 then
    local n = t:shape()[1]
    local v = sl.zeros(2 * n, t:dtype()):slice(1, 1, 2 * n, 2)
    v:copy(t)
    return v
  end
  local rev = {}
  for i = 1, nd do rev[i] = nd + 1 - i end
  return t:permute(rev):contiguous():permute(rev)
end

local function same(got, want, what)
  np.assert_close(got, want, 0, 0, what)
end

-- A case: f(...) on vars or tensors, the same NumPy lambda, input shapes;
-- c.input_dtypes fixes each input's dtype (else each runs in every dtype).
-- Inputs for every case are made up front and NumPy computes all the
-- expected results in one call (a python start per case would dominate).
local function prepare(cases)
  local inputs, calls = {}, {}
  for ci, c in ipairs(cases) do
    c.inputs = {}
    for di, dtype in ipairs(c.dtypes or DTYPES) do
      local row, names = {}, {}
      for i, dims in ipairs(c.shapes) do
        local name = string.format('c%d_%d_%d', ci, di, i)
        row[i] = make(dims, c.input_dtypes and c.input_dtypes[i] or dtype)
        inputs[name] = row[i]
        names[i] = name
      end
      c.inputs[di] = row
      calls[#calls + 1] = '(' .. c.np .. ')(' .. table.concat(names, ', ') .. ')'
    end
  end
  if not np.available() then return end
  -- the first result counts each call's outputs; the outputs follow in order
  local code = '(lambda rs: tuple([np.array([len(r) for r in rs])] + [a for r in rs for a in r]))(' ..
    '[r if isinstance(r, (list, tuple)) else (r,) for r in [' .. table.concat(calls, ',\n') .. ']])'
  local res = { np.eval(code, inputs) }
  local counts, k, call = res[1]:totable(), 1, 0
  for _, c in ipairs(cases) do
    c.wants = {}
    for di = 1, #c.inputs do
      call = call + 1
      local w = {}
      for o = 1, counts[call] do w[o] = res[k + o] end
      k = k + counts[call]
      c.wants[di] = w
    end
  end
end

local function same(got, want, what)
  np.assert_close(got, want, 0, 0, what)
end

local function check_case(c)
  local nin = #c.shapes
  for di, dtype in ipairs(c.dtypes or DTYPES) do
    local ts = c.inputs[di]
    local nc = {}
    for i = 1, nin do nc[i] = noncontig(ts[i]) end
    local eager = { c.f(unpack(ts)) }
    local eager_nc = { c.f(unpack(nc)) }
    -- symbolic: unknown sizes (but for broadcastable 1s), and every size known
    local unknown, known = {}, {}
    for i = 1, nin do
      local dims, q = ts[i]:shape(), {}
      for j = 1, #dims do q[j] = dims[j] == 1 and 1 or -1 end
      unknown[i] = sl.tensor_type(ts[i]:dtype(), q)('x' .. i)
      known[i] = sl.tensor_type(ts[i]:dtype(), dims)('k' .. i)
    end
    local outs_known = { c.f(unpack(known)) }
    local f_unknown = sl.compile(unknown, { c.f(unpack(unknown)) })
    local f_known = sl.compile(known, outs_known)
    local sym = { f_unknown(unpack(nc)) }
    local sym_known = { f_known(unpack(ts)) }
    if c.wants then
      assert.are.equal(#c.wants[di], #eager, c.name .. ': number of outputs')
    end
    for o = 1, #eager do
      local what = string.format('%s %s output %d', c.name, dtype, o)
      same(eager_nc[o], eager[o], what .. ' (non-contiguous)')
      same(sym[o], eager[o], what .. ' (compiled)')
      same(sym_known[o], eager[o], what .. ' (compiled, static sizes)')
      assert.are.same(eager[o]:shape(), outs_known[o]:static_shape(), what .. ' static shape')
      assert.is_true(eager[o]:is_contiguous())
      if c.wants then same(eager[o], c.wants[di][o], what .. ' vs numpy') end
    end
  end
  if not c.wants then pending('numpy is not available: checked without an oracle') end
end

local cases = {
  { name = 'reshape to (4, -1)', shapes = { { 2, 3, 4 } }, np = 'lambda x: x.reshape(4, -1)',
    f = function(x) return sl.reshape(x, { 4, -1 }) end },
  { name = 'reshape as arguments', shapes = { { 6 } }, np = 'lambda x: x.reshape(2, 3)',
    f = function(x) return sl.reshape(x, 2, 3) end },
  { name = 'reshape to a vector', shapes = { { 2, 3, 4 } }, np = 'lambda x: x.reshape(-1)',
    f = function(x) return sl.reshape(x, -1) end },
  { name = 'reshape a scalar', shapes = { {} }, np = 'lambda x: x.reshape(1, 1)',
    f = function(x) return sl.reshape(x, { 1, 1 }) end },
  { name = 'reshape to a scalar', shapes = { { 1, 1 } }, np = 'lambda x: x.reshape(())',
    f = function(x) return sl.reshape(x, {}) end },
  { name = 'reshape an empty array', shapes = { { 0, 3 } }, np = 'lambda x: x.reshape(3, 0, 2)',
    f = function(x) return sl.reshape(x, { 3, 0, 2 }) end },
  { name = 'reshape method', shapes = { { 4, 3 } }, np = 'lambda x: x.reshape(2, 2, 3)',
    f = function(x) return sl.is_var(x) and x:reshape(2, 2, 3) or sl.reshape(x, 2, 2, 3) end },
  { name = 'flatten', shapes = { { 2, 3, 4 } }, np = 'lambda x: x.reshape(-1)',
    f = function(x) return sl.flatten(x) end },
  { name = 'flatten(2)', shapes = { { 2, 3, 4 } }, np = 'lambda x: x.reshape(2, -1)',
    f = function(x) return x:flatten(2) end },
  { name = 'flatten(3)', shapes = { { 2, 3, 4 } }, np = 'lambda x: x',
    f = function(x) return x:flatten(3) end },
  { name = 'flatten a scalar', shapes = { {} }, np = 'lambda x: x.reshape(1)',
    f = function(x) return x:flatten() end },
  { name = 'dimshuffle (2, x, 1)', shapes = { { 2, 3 } }, np = 'lambda x: x.T[:, None, :]',
    f = function(x) return x:dimshuffle(2, 'x', 1) end },
  { name = 'dimshuffle (x, 1)', shapes = { { 3 } }, np = 'lambda x: x[None, :]',
    f = function(x) return x:dimshuffle('x', 1) end },
  { name = 'dimshuffle drops a size-1 axis', shapes = { { 2, 1, 3 } },
    np = 'lambda x: x[:, 0, :].T', f = function(x) return sl.dimshuffle(x, { 3, 1 }) end },
  { name = 'dimshuffle with negative axes', shapes = { { 2, 3, 4 } },
    np = 'lambda x: x.transpose(2, 0, 1)', f = function(x) return x:dimshuffle(-1, 1, 2) end },
  { name = 'transpose', shapes = { { 2, 3, 4 } }, np = 'lambda x: x.T',
    f = function(x) return sl.transpose(x) end },
  { name = 'transpose(perm)', shapes = { { 2, 3, 4 } }, np = 'lambda x: x.transpose(1, 2, 0)',
    f = function(x) return sl.transpose(x, 2, 3, 1) end },
  { name = 'transpose({perm})', shapes = { { 2, 3 } }, np = 'lambda x: x',
    f = function(x) return sl.transpose(x, { 1, 2 }) end },
  { name = 'concatenate axis 1', shapes = { { 2, 3 }, { 4, 3 } },
    np = 'lambda x, y: np.concatenate([x, y], 0)', f = function(x, y) return sl.concatenate({ x, y }) end },
  { name = 'concatenate axis -1', shapes = { { 2, 3 }, { 2, 1 }, { 2, 2 } },
    np = 'lambda x, y, z: np.concatenate([x, y, z], -1)',
    f = function(x, y, z) return sl.concatenate({ x, y, z }, -1) end },
  { name = 'concatenate with an empty part', shapes = { { 0, 2, 2 }, { 3, 2, 2 } },
    np = 'lambda x, y: np.concatenate([x, y], 0)', f = function(x, y) return sl.concatenate({ x, y }, 1) end },
  { name = 'concatenate one input', shapes = { { 3 } }, np = 'lambda x: np.concatenate([x])',
    f = function(x) return sl.concatenate({ x }) end },
  { name = 'stack axis 1', shapes = { { 2, 3 }, { 2, 3 } }, np = 'lambda x, y: np.stack([x, y])',
    f = function(x, y) return sl.stack({ x, y }) end },
  { name = 'stack axis 2', shapes = { { 2, 3 }, { 2, 3 }, { 2, 3 } },
    np = 'lambda x, y, z: np.stack([x, y, z], 1)', f = function(x, y, z) return sl.stack({ x, y, z }, 2) end },
  { name = 'stack axis -1', shapes = { { 2, 3 }, { 2, 3 } }, np = 'lambda x, y: np.stack([x, y], -1)',
    f = function(x, y) return sl.stack({ x, y }, -1) end },
  { name = 'stack scalars', shapes = { {}, {} }, np = 'lambda x, y: np.stack([x, y])',
    f = function(x, y) return sl.stack({ x, y }) end },
  { name = 'split', shapes = { { 2, 6 } }, np = 'lambda x: np.split(x, [1, 3], axis=1)',
    f = function(x) return sl.split(x, { 1, 2, 3 }, 2) end },
  { name = 'split into equal parts', shapes = { { 6, 2 } }, np = 'lambda x: np.split(x, 3)',
    f = function(x) return sl.split(x, { 2, 2, 2 }) end },
  { name = 'split method, empty part', shapes = { { 4 } }, np = 'lambda x: np.split(x, [0, 4])',
    f = function(x) return x:split({ 0, 4, 0 }) end },
  { name = 'repeat along an axis', shapes = { { 2, 3 } }, np = 'lambda x: np.repeat(x, 2, axis=0)',
    f = function(x) return sl['repeat'](x, 2, 1) end },
  { name = 'repeat along the last axis', shapes = { { 2, 3, 2 } },
    np = 'lambda x: np.repeat(x, 3, axis=-1)', f = function(x) return x:repeat_(3, -1) end },
  { name = 'repeat flattened', shapes = { { 2, 3 } }, np = 'lambda x: np.repeat(x, 2)',
    f = function(x) return sl.repeat_(x, 2) end },
  { name = 'repeat 0 times', shapes = { { 2, 3 } }, np = 'lambda x: np.repeat(x, 0, axis=1)',
    f = function(x) return sl.repeat_(x, 0, 2) end },
  { name = 'tile by a number', shapes = { { 2, 3 } }, np = 'lambda x: np.tile(x, 2)',
    f = function(x) return sl.tile(x, 2) end },
  { name = 'tile with more reps than axes', shapes = { { 2, 3 } }, np = 'lambda x: np.tile(x, (2, 1, 2))',
    f = function(x) return sl.tile(x, { 2, 1, 2 }) end },
  { name = 'tile with fewer reps than axes', shapes = { { 2, 3, 2 } }, np = 'lambda x: np.tile(x, (3, 1))',
    f = function(x) return x:tile({ 3, 1 }) end },
  { name = 'tile a vector into a matrix', shapes = { { 3 } }, np = 'lambda x: np.tile(x, (2, 2))',
    f = function(x) return sl.tile(x, { 2, 2 }) end },
  { name = 'tile by ones and zero', shapes = { { 2, 3 } }, np = 'lambda x: np.tile(x, (1, 1))',
    f = function(x) return sl.tile(x, { 1, 1 }) end },
  { name = 'tile zero times', shapes = { { 2, 3 } }, np = 'lambda x: np.tile(x, (2, 0))',
    f = function(x) return sl.tile(x, { 2, 0 }) end },
}

-- dtype promotion across joined inputs
for _, p in ipairs({ { 'int32', 'float32' }, { 'uint8', 'int32' }, { 'bool', 'int64' },
                     { 'float32', 'float64' }, { 'bool', 'uint8' }, { 'uint8', 'float32' } }) do
  cases[#cases + 1] = { name = 'concatenate promotes ' .. p[1] .. ' and ' .. p[2],
    shapes = { { 2, 2 }, { 1, 2 } }, dtypes = { 'mixed' }, input_dtypes = p,
    np = 'lambda x, y: np.concatenate([x, y])', f = function(x, y) return sl.concatenate({ x, y }) end }
  cases[#cases + 1] = { name = 'stack promotes ' .. p[1] .. ' and ' .. p[2],
    shapes = { { 3 }, { 3 } }, dtypes = { 'mixed' }, input_dtypes = p,
    np = 'lambda x, y: np.stack([x, y], 1)', f = function(x, y) return sl.stack({ x, y }, 2) end }
end

describe('shape ops against NumPy, eager and compiled, every dtype', function()
  setup(function() prepare(cases) end)
  for _, c in ipairs(cases) do
    it(c.name, function() check_case(c) end)
  end
end)

describe('shape ops by hand', function()
  local m = sl.tensor({ { 1, 2, 3 }, { 4, 5, 6 } })

  it('reshape, flatten, dimshuffle, transpose', function()
    assert.are.same({ { 1, 2 }, { 3, 4 }, { 5, 6 } }, sl.reshape(m, { 3, -1 }):totable())
    assert.are.same({ 1, 2, 3, 4, 5, 6 }, sl.flatten(m):totable())
    assert.are.same({ { { 1, 2, 3 } }, { { 4, 5, 6 } } }, m:dimshuffle(1, 'x', 2):totable())
    assert.are.same({ { 1, 4 }, { 2, 5 }, { 3, 6 } }, sl.transpose(m):totable())
    assert.are.same({ { 1, 4 }, { 2, 5 }, { 3, 6 } }, sl.dimshuffle(m, 2, 1):totable())
    assert.are.equal('int64', sl.transpose(m):dtype())
  end)

  it('concatenate, stack, split', function()
    assert.are.same({ { 1, 2, 3 }, { 4, 5, 6 }, { 1, 2, 3 }, { 4, 5, 6 } }, sl.concatenate({ m, m }):totable())
    assert.are.same({ { 1, 2, 3, 7 }, { 4, 5, 6, 8 } },
      sl.concatenate({ m, sl.tensor({ { 7 }, { 8 } }) }, 2):totable())
    assert.are.same({ { { 1, 1 }, { 2, 2 }, { 3, 3 } }, { { 4, 4 }, { 5, 5 }, { 6, 6 } } },
      sl.stack({ m, m }, 3):totable())
    assert.are.same({ 1, 2.5 }, sl.stack({ 1, 2.5 }):totable())
    local a, b = sl.split(m, { 1, 2 }, 2)
    assert.are.same({ { 1 }, { 4 } }, a:totable())
    assert.are.same({ { 2, 3 }, { 5, 6 } }, b:totable())
    local p, q, r = sl.split(sl.arange(6), 3)
    assert.are.same({ { 0, 1 }, { 2, 3 }, { 4, 5 } }, { p:totable(), q:totable(), r:totable() })
  end)

  it('repeat and tile', function()
    assert.are.same({ { 1, 1, 2, 2, 3, 3 }, { 4, 4, 5, 5, 6, 6 } }, m:repeat_(2, 2):totable())
    assert.are.same({ 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6 }, sl['repeat'](m, 2):totable())
    assert.are.same({ { 1, 2, 3, 1, 2, 3 }, { 4, 5, 6, 4, 5, 6 } }, sl.tile(m, 2):totable())
    assert.are.same({ { 1, 2, 1, 2 }, { 1, 2, 1, 2 } }, sl.tile(sl.tensor({ 1, 2 }), { 2, 2 }):totable())
  end)

  it('compiled graphs give fresh contiguous results', function()
    local x = sl.matrix('x')
    local f = sl.compile({ x }, { x:transpose(), x:reshape(-1), x:dimshuffle(2, 1) })
    local t = sl.tensor({ { 1, 2 }, { 3, 4 } }, 'float64')
    local a, b, c = f(t)
    assert.are.same({ { 1, 3 }, { 2, 4 } }, a:totable())
    assert.are.same({ 1, 2, 3, 4 }, b:totable())
    assert.are.same({ { 1, 3 }, { 2, 4 } }, c:totable())
    a[1][1] = 100   -- writing a result leaves the input alone
    assert.are.equal(1, t[1][1])
  end)

  it('a reshape inside a function reads contiguous values as a view, anything else through a copy', function()
    local x, W = sl.matrix('x'), sl.shared(sl.tensor({ { 1, 2, 3 }, { 4, 5, 6 } }), 'W')
    local y = x * 2
    local outs = {
      (y:reshape(-1) + 1):reshape(3, 2),      -- a computed value, reshaped and back, written in place
      y:transpose():reshape(-1) * 1,          -- a transposed value: copied in C order
      x:reshape(3, 2) - 1,                    -- the caller's input
      W:reshape(3, 2) * 10,                   -- a shared variable, updated below
      y:sum(),                                -- y read after its reshapes
    }
    local ref = sl.compile({ x }, outs, { mode = 'reference', updates = { [W] = W + 1 } })
    local c = sl.compile({ x }, outs, { mode = 'c', updates = { [W] = W + 1 } })
    local t = sl.tensor({ { 1, 2, 3 }, { 4, 5, 6 } }, 'float64')
    local want = { ref(t) }
    W:set_value(sl.tensor({ { 1, 2, 3 }, { 4, 5, 6 } }))
    local got = { c(t) }
    assert.are.same({ { 3, 5 }, { 7, 9 }, { 11, 13 } }, want[1]:totable())
    assert.are.same({ 2, 8, 4, 10, 6, 12 }, want[2]:totable())
    assert.are.same({ { 10, 20 }, { 30, 40 }, { 50, 60 } }, want[4]:totable())
    for i = 1, #outs do assert.are.same(want[i]:totable(), got[i]:totable()) end
    assert.are.same({ { 1, 2, 3 }, { 4, 5, 6 } }, t:totable())   -- the input is intact
    assert.are.same({ { 2, 3, 4 }, { 5, 6, 7 } }, W:get_value():totable())
  end)

  it('tensor methods keep their view semantics', function()
    local t = sl.tensor({ { 1, 2, 3 }, { 4, 5, 6 } })
    local v = t:reshape(3, 2)
    v[1][1] = 9
    assert.are.equal(9, t[1][1])           -- a view
    local c = sl.reshape(t, 3, 2)
    c[1][1] = 7
    assert.are.equal(9, t[1][1])           -- a copy
    assert.are.same({ { 9, 4 }, { 2, 5 }, { 3, 6 } }, t:transpose(1, 2):totable())
  end)

  it('var:transpose(a, b) swaps two axes like tensor:transpose; permute permutes', function()
    local x = sl.tensor3('x')
    local t = sl.arange(24):reshape(2, 3, 4):cast('float64')
    local f = sl.compile({ x }, { x:transpose(1, 3), x:permute(3, 1, 2), x:transpose({ 2, 3, 1 }), x:transpose() })
    local a, b, c, d = f(t)
    same(a, t:transpose(1, 3):contiguous())
    same(b, t:permute(3, 1, 2):contiguous())
    same(c, t:permute(2, 3, 1):contiguous())
    same(d, t:permute(3, 2, 1):contiguous())
  end)
end)

describe('reshape with symbolic sizes', function()
  local t = sl.arange(12):reshape(3, 4):cast('float64')

  it('takes integer scalar variables among the sizes', function()
    local x, n = sl.matrix('x'), sl.lscalar('n')
    local y = sl.reshape(x, { n, -1 })
    assert.are.same({ -1, -1 }, y:static_shape())
    local f = sl.compile({ x, n }, y)
    assert.are.equal('2x6', shape(f(t, 2)))
    assert.are.equal('6x2', shape(f(t, 6)))
    same(f(t, 4), t:reshape(4, 3):contiguous())
    local m = sl.iscalar('m')
    local z = x:reshape(2, m, 3)
    assert.are.same({ 2, -1, 3 }, z:static_shape())
    assert.are.equal('2x2x3', shape(sl.compile({ x, m }, z)(t, 2)))
  end)

  it('takes an integer vector variable as the whole shape', function()
    local x, s = sl.matrix('x'), sl.tensor_type('int64', { 3 })('s')
    local y = sl.reshape(x, s)
    assert.are.same({ -1, -1, -1 }, y:static_shape())
    local f = sl.compile({ x, s }, y)
    assert.are.equal('2x3x2', shape(f(t, { 2, 3, 2 })))
    assert.are.equal('2x2x3', shape(f(t, { 2, -1, 3 })))
  end)

  it("takes sizes from another variable's symbolic shape", function()
    local ok, s = pcall(function() return sl.tensor3('q'):shape() end)
    if not (ok and sl.is_var(s)) then pending('no symbolic x:shape() on variables') return end
    local x = sl.tensor3('x')
    local f = sl.compile({ x }, { sl.reshape(x, { x:shape()[1], -1 }), sl.reshape(sl.flatten(x), x:shape()) })
    local v = sl.arange(24):reshape(2, 3, 4):cast('float64')
    local a, b = f(v)
    same(a, v:reshape(2, 12):contiguous())
    same(b, v)
  end)

  it('reads constant sizes at build time', function()
    local x = sl.tensor_type('float64', { 3, 4 })('x')
    assert.are.same({ 6, 2 }, sl.reshape(x, { sl.tensor(6), -1 }):static_shape())
    assert.are.same({ 2, 2, 3 }, sl.reshape(x, sl.tensor({ 2, 2, 3 })):static_shape())
  end)

  it('works eagerly with tensor sizes', function()
    assert.are.same({ 2, 6 }, sl.reshape(t, { sl.tensor(2), -1 }):shape())
  end)

  it('reports bad symbolic sizes', function()
    local x, n = sl.matrix('x'), sl.lscalar('n')
    local f = sl.compile({ x, n }, sl.reshape(x, { n, -1 }))
    local ok, err = pcall(f, t, 5)
    assert.is_false(ok)
    assert.matches('reshape: cannot reshape float64 %(3, 4%) %(12 elements%) into shape %(5, %-1%)', err)
    ok, err = pcall(f, t, -1)
    assert.matches('only one size may be %-1', err)
    ok, err = pcall(sl.reshape, x, { sl.scalar('f'), -1 })
    assert.matches('reshape: shape input 1 must be an integer scalar or vector, got float64', err)
    ok, err = pcall(sl.reshape, x, sl.lvector('v'))
    assert.matches('static length', err)
  end)
end)

describe('static shapes', function()
  local T = function(dims, dtype) return sl.tensor_type(dtype or 'float64', dims)() end

  it('reshape infers -1 from known sizes', function()
    assert.are.same({ 3, 2 }, T({ 2, 3 }):reshape(3, -1):static_shape())
    assert.are.same({ -1 }, T({ -1, 3 }):reshape(-1):static_shape())
    assert.are.same({ 4, -1 }, T({ -1, 3 }):reshape(4, -1):static_shape())
    assert.are.same({ 0, 5 }, T({ 0, 3 }):reshape(0, 5):static_shape())
  end)

  it('flatten, dimshuffle and transpose', function()
    assert.are.same({ -1, 12 }, T({ -1, 3, 4 }):flatten(2):static_shape())
    assert.are.same({ 2, -1 }, T({ 2, -1, 4 }):flatten(2):static_shape())
    assert.are.same({ -1 }, T({ 2, -1 }):flatten():static_shape())
    assert.are.same({ 1, 3, -1 }, T({ -1, 3 }):dimshuffle('x', 2, 1):static_shape())
    assert.are.same({ 3, -1 }, T({ -1, 1, 3 }):dimshuffle(3, 1):static_shape())
    assert.are.same({ 4, -1, 2 }, sl.transpose(T({ 2, -1, 4 })):static_shape())
  end)

  it('concatenate and stack merge known sizes', function()
    assert.are.same({ 5, 4 }, sl.concatenate({ T({ 2, -1 }), T({ 3, 4 }) }):static_shape())
    assert.are.same({ -1, 4 }, sl.concatenate({ T({ -1, 4 }), T({ 3, 4 }) }):static_shape())
    assert.are.same({ 2, 2, 3 }, sl.stack({ T({ -1, 3 }), T({ 2, -1 }) }):static_shape())
    assert.are.same({ 2, 3, 2 }, sl.stack({ T({ -1, 3 }), T({ 2, -1 }) }, 3):static_shape())
  end)

  it('split, repeat and tile', function()
    local a, b = sl.split(T({ -1, 6 }), { 2, 4 }, 2)
    assert.are.same({ -1, 2 }, a:static_shape())
    assert.are.same({ -1, 4 }, b:static_shape())
    assert.are.same({ -1, 6 }, T({ -1, 3 }):repeat_(2, 2):static_shape())
    assert.are.same({ -1 }, T({ -1, 3 }):repeat_(2):static_shape())
    assert.are.same({ 4, -1 }, sl.tile(T({ 2, -1 }), { 2, 3 }):static_shape())
    assert.are.same({ 2, 2, 6 }, sl.tile(T({ 2, 3 }), { 2, 1, 2 }):static_shape())
  end)

  it('dtypes: joins promote, weak Lua numbers keep the variable dtype', function()
    assert.are.equal('float64', sl.concatenate({ T({ 2 }, 'int32'), T({ 2 }, 'float32') }):dtype())
    assert.are.equal('int32', sl.concatenate({ T({ 2 }, 'uint8'), T({ 2 }, 'int32') }):dtype())
    assert.are.equal('float32', sl.stack({ sl.fscalar('a'), 1.5 }):dtype())
    assert.are.equal('int32', sl.stack({ sl.iscalar('i'), 2 }):dtype())
    assert.are.equal('float64', sl.stack({ sl.iscalar('i'), 2.5 }):dtype())
    assert.are.equal('uint8', sl.reshape(T({ 4 }, 'uint8'), 2, 2):dtype())
  end)
end)

describe('shape op errors', function()
  local T = function(dims, dtype) return sl.tensor_type(dtype or 'float64', dims)() end
  local function fails(pattern, f, ...)
    local ok, err = pcall(f, ...)
    assert.is_false(ok, 'expected an error matching ' .. pattern)
    assert.matches(pattern, tostring(err))
  end

  it('reshape', function()
    fails('reshape: cannot reshape float64 %(2, 3%) %(6 elements%) into shape %(4,%) %(4 elements%)',
      sl.reshape, T({ 2, 3 }), 4)
    fails('reshape: cannot reshape int64 %(2, 3%) %(6 elements%) into shape %(4, %-1%)', sl.reshape, sl.zeros(2, 3, 'int64'), 4, -1)
    fails('only one size may be %-1', sl.reshape, T({ 2, 3 }), -1, -1)
    fails('sizes must be >= 0', sl.reshape, T({ 2, 3 }), -3, 2)
    fails('reshape: size 1 must be an integer', sl.reshape, T({ 2, 3 }), 1.5, 4)
    fails('ambiguous', sl.reshape, T({ 0, 3 }), 0, -1)
    -- unknown sizes: checked when the function runs
    local x = sl.matrix('x')
    local f = sl.compile({ x }, x:reshape(4, -1))
    fails('reshape: cannot reshape float64 %(2, 3%) %(6 elements%)', f, sl.zeros(2, 3))
    assert.are.equal('4x3', shape(f(sl.zeros(3, 4))))
  end)

  it('flatten', function()
    fails('flatten: ndim must be between 1 and 2 for a 2%-d input, got 3', sl.flatten, T({ 2, 3 }), 3)
    fails('flatten: ndim must be between 1 and 2', sl.flatten, T({ 2, 3 }), 0)
  end)

  it('dimshuffle and transpose', function()
    fails("dimshuffle: pattern entry 2 must be an axis or 'x', got y", sl.dimshuffle, T({ 2, 3 }), 1, 'y')
    fails('dimshuffle: axis 3 is out of range for a 2%-d input', sl.dimshuffle, T({ 2, 3 }), 3, 1)
    fails('dimshuffle: pattern %(1, 1%) names axis 1 twice', sl.dimshuffle, T({ 2, 1 }), 1, 1)
    fails('dimshuffle: pattern %(1%) drops axis 2 of float64 %(2, 3%), whose size is not 1',
      sl.dimshuffle, T({ 2, 3 }), 1)
    fails('dimshuffle: pattern %(2%) drops axis 1 of float64 %(%?, 3%), whose size is not known to be 1',
      sl.dimshuffle, T({ -1, 3 }), 2)
    fails('dimshuffle: .*drops axis 2', sl.dimshuffle, sl.zeros(2, 3), 1)
    fails('transpose: 2 axes given for a 3%-d input', sl.transpose, T({ 2, 3, 4 }), 2, 1)
    fails('transpose: axis 2 appears twice', sl.transpose, T({ 2, 3 }), 2, 2)
    fails('transpose: axis 3 is out of range for a 2%-d input', function() return T({ 2, 3 }):transpose(1, 3) end)
  end)

  it('concatenate and stack', function()
    fails('concatenate: input 2 is float64 %(3, 4%) but input 1 is float64 %(2, 3%): they differ in dimension 2 %(only dimension 1',
      sl.concatenate, { T({ 2, 3 }), T({ 3, 4 }) })
    fails('concatenate: input 2 is float64 %(2, 3, 1%) but input 1 is float64 %(2, 3%): the ranks differ',
      sl.concatenate, { T({ 2, 3 }), T({ 2, 3, 1 }) })
    fails('concatenate: axis 3 is out of range for a 2%-d input', sl.concatenate, { T({ 2, 3 }), T({ 2, 3 }) }, 3)
    fails('concatenate: axis %-3 is out of range', sl.concatenate, { T({ 2, 3 }) }, -3)
    fails('concatenate: the list of inputs is empty', sl.concatenate, {})
    fails('concatenate: 0%-d inputs cannot be concatenated', sl.concatenate, { sl.scalar('s') })
    fails('concatenate: input 2 is int64 %(2, 2%) but input 1 is int64 %(2, 3%)',
      sl.concatenate, { sl.zeros(2, 3, 'int64'), sl.zeros(2, 2, 'int64') })
    fails('stack: input 2 is float64 %(2, 4%) but input 1 is float64 %(2, 3%): stacked inputs must have one shape',
      sl.stack, { T({ 2, 3 }), T({ 2, 4 }) })
    fails('stack: axis 4 is out of range for a 3%-d input', sl.stack, { T({ 2, 3 }) }, 4)
    -- unknown sizes: checked when the function runs
    local x, y = sl.matrix('x'), sl.matrix('y')
    local f = sl.compile({ x, y }, sl.concatenate({ x, y }, 2))
    fails('concatenate: input 2 is float64 %(3, 2%) but input 1 is float64 %(2, 2%): they may differ only',
      f, sl.zeros(2, 2), sl.zeros(3, 2))
    local g = sl.compile({ x, y }, sl.stack({ x, y }))
    fails('stack: input 2 is float64 %(2, 3%) but input 1 is float64 %(2, 2%)', g, sl.zeros(2, 2), sl.zeros(2, 3))
  end)

  it('split', function()
    fails('split: sizes {2, 3} add up to 5 but axis 2 has size 6', sl.split, T({ 2, 6 }), { 2, 3 }, 2)
    fails('split: axis 3 is out of range', sl.split, T({ 2, 6 }), { 2 }, 3)
    fails('split: size 2 is negative', sl.split, T({ 2, 6 }), { 7, -1 }, 2)
    fails('split: axis 1 of size 5 does not split into 2 equal parts', sl.split, sl.zeros(5), 2)
    fails('need a known size', sl.split, sl.vector('v'), 2)
    local x = sl.matrix('x')
    local f = sl.compile({ x }, { sl.split(x, { 1, 2 }, 2) })
    fails('split: the parts add up to 3 but dimension 2 has size 4', f, sl.zeros(2, 4))
  end)

  it('repeat and tile', function()
    fails('repeat: repeats must be >= 0, got %-1', sl.repeat_, T({ 2 }), -1, 1)
    fails('repeat: repeats must be an integer', sl.repeat_, T({ 2 }), 1.5, 1)
    fails('repeat: axis 2 is out of range for a 1%-d input', sl.repeat_, T({ 2 }), 2, 2)
    fails('tile: repetition 2 is negative', sl.tile, T({ 2 }), { 1, -2 })
    fails('tile: reps must be a number or a list', sl.tile, T({ 2 }), 'x')
  end)

  it('errors point at the caller', function()
    local ok, err = pcall(function() local r = sl.concatenate({ T({ 2, 3 }) }, 5); return r end)
    assert.is_false(ok)
    assert.matches('shape_spec.lua:%d+: concatenate: axis 5', err)
    ok, err = pcall(function() local r = sl.reshape(T({ 2, 3 }), 5); return r end)
    assert.matches('shape_spec.lua:%d+: reshape: cannot reshape', err)
    ok, err = pcall(function() local r = T({ 2, 3 }):dimshuffle(1, 'y'); return r end)
    assert.matches("shape_spec.lua:%d+: dimshuffle: pattern entry 2", err)
  end)
end)
