-- Reductions: sum, prod, mean, var, std, max, min, argmax, argmin, all,
-- any — against NumPy over every axis choice and dtype, eager on tensors
-- (contiguous and not) and compiled on variables, by hand, and errors.
local sl = require 'symlua'
local np = require 'spec.support.numpy'

local OPS = { 'sum', 'prod', 'mean', 'var', 'std', 'max', 'min', 'argmax', 'argmin', 'all', 'any' }
-- float64nan: float64 data with some NaNs
local DTYPES = { 'float64', 'float32', 'int32', 'int64', 'uint8', 'bool', 'float64nan' }

local function shape(t) return table.concat(t:shape(), 'x') end

-- Values: normal floats (both signs), small integers (products stay exact
-- in int64), a mix of true and false.
local function make(dims, dtype)
  if dtype == 'bool' then return (sl.rand(dims) * 2):floor():cast('bool') end
  if dtype == 'uint8' then return sl.randint(0, 6, dims, 'uint8') end
  if dtype == 'int32' or dtype == 'int64' then return sl.randint(-3, 4, dims, dtype) end
  local t = sl.randn(dims):cast(dtype == 'float32' and 'float32' or 'float64')
  if dtype == 'float64nan' and t:numel() > 2 then
    local flat = t:view(-1)
    flat[2] = 0 / 0
    flat[t:numel()] = 0 / 0
  end
  return t
end

-- The same values in a non-contiguous layout: transposed for 2+ axes,
-- stepped for one.
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

-- Axis choices as Lua arguments and as NumPy's: { axes, keepdims, ddof }.
local function np_axis(axes, nd)
  if axes == nil then return 'None' end
  local function z(a) return a < 0 and tostring(nd + a) or tostring(a - 1) end
  if type(axes) == 'number' then return z(axes) end
  local t = {}
  for i, a in ipairs(axes) do t[i] = z(a) end
  return '(' .. table.concat(t, ', ') .. (#t == 1 and ',)' or ')')
end

local CHOICES = {
  [3] = { { nil }, { 1 }, { 2 }, { 3 }, { -1 }, { -3 }, { { 1, 3 } }, { { 3, 2 } }, { { 1, 2, 3 } },
          { 2, true }, { nil, true }, { { 1, 3 }, true }, { -2, false, 1 }, { { 2, 3 }, true, 1 } },
  [1] = { { nil }, { 1 }, { -1, true }, { nil, false, 1 } },
  [0] = { { nil }, { nil, true } },
  [2] = { { nil }, { 1 }, { 2 }, { { 1, 2 } }, { 2, true } },   -- the empty (0, 3) input
}
local SHAPES = { { 2, 3, 4 }, { 5 }, {}, { 0, 3 } }

local is_index = { argmax = true, argmin = true }
local needs_nonempty = { max = true, min = true, argmax = true, argmin = true }

local function want_dtype(op, dtype)
  local float = dtype:sub(1, 5) == 'float'
  local real = dtype == 'float64nan' and 'float64' or dtype
  if op == 'sum' or op == 'prod' then return float and real or 'int64' end
  if op == 'mean' or op == 'var' or op == 'std' then return float and real or 'float64' end
  if op == 'max' or op == 'min' then return real end
  if is_index[op] then return 'int64' end
  return 'bool'
end

-- The NumPy expression for op over x with a choice; floats are reduced in
-- float64 and rounded back, so float32 results meet float64 accuracy.
local function np_code(op, dtype, nd, ch)
  local axes, keep, ddof = ch[1], ch[2], ch[3]
  local ax = np_axis(axes, nd)
  local args = 'axis=' .. ax .. (keep and ', keepdims=True' or '')
  local x = dtype == 'float32' and 'x.astype(np.float64)' or 'x'
  local e
  if op == 'sum' or op == 'prod' then
    e = string.format('np.%s(%s, %s%s)', op, x, args,
      (dtype ~= 'float32' and dtype:sub(1, 5) ~= 'float') and ', dtype=np.int64' or '')
  elseif op == 'var' or op == 'std' then
    e = string.format('np.%s(%s, %s, ddof=%d)', op, x, args, ddof or 0)
  elseif is_index[op] then
    -- NumPy's argmax takes no keepdims before 1.22; expand by hand
    e = string.format('(np.%s(x, axis=%s) + 1)', op, ax)
    if keep then
      e = ax == 'None' and string.format('%s.reshape((1,) * x.ndim)', e)
        or string.format('np.expand_dims(%s, %s)', e, ax)
    end
    e = e .. '.astype(np.int64)'
  else
    e = string.format('np.%s(%s, %s)', op == 'max' and 'amax' or op == 'min' and 'amin' or op, x, args)
  end
  if want_dtype(op, dtype) == 'float32' then e = '(' .. e .. ').astype(np.float32)' end
  return 'np.asarray(' .. e .. ')'
end

-- Every case: op, dtype, input shape, choice, the input and (with NumPy) the want.
local function build_cases()
  local cases = {}
  for _, op in ipairs(OPS) do
    for _, dtype in ipairs(DTYPES) do
      for si, dims in ipairs(SHAPES) do
        local nd = #dims
        for _, ch in ipairs(CHOICES[nd]) do
          local ok = true
          if ch[3] and not (op == 'var' or op == 'std') then ok = false end
          if is_index[op] and type(ch[1]) == 'table' and #ch[1] > 1 and #ch[1] < nd then ok = false end
          if is_index[op] and type(ch[1]) == 'table' and #ch[1] > 1 then ok = false end
          -- an empty row is an error for these (checked below); an empty result is not
          if needs_nonempty[op] and si == 4 and not (ch[1] == 2) then ok = false end
          if ok then
            cases[#cases + 1] = { op = op, dtype = dtype, dims = dims, ch = ch,
                                  x = make(dims, dtype) }
          end
        end
      end
    end
  end
  return cases
end

local function what(c)
  local a = c.ch[1]
  local at = type(a) == 'table' and '{' .. table.concat(a, ',') .. '}' or tostring(a)
  return string.format('%s %s (%s) axes=%s keepdims=%s ddof=%s', c.op, c.dtype, shape(c.x),
    at, tostring(c.ch[2]), tostring(c.ch[3]))
end

local function tolerance(c)
  if c.dtype == 'float32' then return 2e-7, 0 end
  if c.op == 'var' or c.op == 'std' or c.op == 'mean' then return 1e-12, 1e-15 end
  return 1e-13, 1e-14
end

local function call(f, c)
  local axes, keep, ddof = c.ch[1], c.ch[2], c.ch[3]
  if ddof ~= nil then return f(axes, keep, ddof) end
  if keep ~= nil then return f(axes, keep) end
  return f(axes)
end

describe('reductions against NumPy, eager and compiled, every dtype and axis choice', function()
  local cases

  setup(function()
    cases = build_cases()
    if not np.available() then return end
    local inputs, codes = {}, {}
    for i, c in ipairs(cases) do
      inputs['x' .. i] = c.x
      codes[i] = string.format('(lambda x: %s)(x%d)', np_code(c.op, c.dtype, #c.dims, c.ch), i)
    end
    local res = { np.eval('(' .. table.concat(codes, ',\n') .. ',)', inputs) }
    for i, c in ipairs(cases) do c.want = res[i] end
  end)

  for _, op in ipairs(OPS) do
    it(op, function()
      local n = 0
      for _, c in ipairs(cases) do
        if c.op == op then
          n = n + 1
          local w = what(c)
          local rtol, atol = tolerance(c)
          local x = c.x
          local got = call(function(...) return x[op](x, ...) end, c)
          assert.are.equal(want_dtype(op, c.dtype), got:dtype(), w .. ' dtype')
          assert.is_true(got:is_contiguous(), w .. ' contiguous')
          -- the sl.NAME function, a non-contiguous input and compiled graphs agree
          local nc = noncontig(x)
          np.assert_close(call(function(...) return sl[op](nc, ...) end, c), got, 0, 0, w .. ' (non-contiguous)')
          local dims, q = x:shape(), {}
          for j = 1, #dims do q[j] = dims[j] == 1 and 1 or -1 end
          local xu = sl.tensor_type(x:dtype(), q)('x')
          local xk = sl.tensor_type(x:dtype(), dims)('k')
          local yk = call(function(...) return xk[op](xk, ...) end, c)
          assert.are.same(got:shape(), yk:static_shape(), w .. ' static shape')
          local fu = sl.compile({ xu }, call(function(...) return sl[op](xu, ...) end, c))
          local fk = sl.compile({ xk }, yk)
          -- compiled code sums in its own order (docs/backend_c.md): within tolerance
          np.assert_close(fu(nc), got, rtol, atol, w .. ' (compiled)')
          np.assert_close(fk(x), got, rtol, atol, w .. ' (compiled, static sizes)')
          if c.want then np.assert_close(got, c.want, rtol, atol, w .. ' vs numpy') end
        end
      end
      assert.is_true(n > 0)
      if not np.available() then pending('numpy is not available: checked without an oracle') end
    end)
  end
end)

describe('reductions by hand', function()
  local m = sl.tensor({ { 1, 5, 3 }, { 4, 2, 6 } }, 'float64')

  it('sum, prod, mean over all, one and several axes', function()
    assert.are.equal(21, m:sum():item())
    assert.are.equal(0, m:sum():dim())
    assert.are.same({ 5, 7, 9 }, m:sum(1):totable())
    assert.are.same({ 9, 12 }, m:sum(2):totable())
    assert.are.same({ { 9 }, { 12 } }, m:sum(-1, true):totable())
    assert.are.same({ { 21 } }, m:sum({ 1, 2 }, true):totable())
    assert.are.same({ 4, 10, 18 }, sl.prod(m, 1):totable())
    assert.are.same({ 3, 4 }, m:mean(2):totable())
    assert.are.equal(3.5, sl.mean(m):item())
  end)

  it('var and std with ddof, positional or by name', function()
    local v = sl.tensor({ 2, 4, 4, 4, 5, 5, 7, 9 })
    assert.are.equal(4, v:var():item())
    assert.are.equal(2, v:std():item())
    assert.are.equal(32 / 7, v:var(nil, false, 1):item())
    assert.are.equal(32 / 7, v:var({ ddof = 1 }):item())
    assert.are.same({ 32 / 7 }, v:var({ axis = 1, keepdims = true, ddof = 1 }):totable())
    assert.are.same({ 4.5, 4.5, 4.5 }, m:var(1, false, 1):totable())
    assert.is_true(sl.tensor({ 1, 2 }):var(nil, false, 2):item() == math.huge)
  end)

  it('max, min, argmax and argmin give 1-based positions', function()
    assert.are.equal(6, m:max():item())
    assert.are.same({ 4, 5, 6 }, m:max(1):totable())
    assert.are.same({ 1, 2 }, m:min(2):totable())
    assert.are.equal(6, m:argmax():item())        -- flattened, C order
    assert.are.equal(1, m:argmin():item())
    assert.are.same({ 2, 1, 2 }, m:argmax(1):totable())
    assert.are.same({ 2, 3 }, m:argmax(2):totable())
    assert.are.same({ { 2 }, { 3 } }, m:argmax(2, true):totable())
    assert.are.equal('int64', m:argmax(2):dtype())
    assert.are.equal(2, sl.tensor({ 1, 3, 3 }):argmax():item())   -- the first of equals
    assert.are.equal(1, sl.tensor(7):argmax():item())              -- 0-d
  end)

  it('propagates NaN in max and min; argmax finds the first NaN', function()
    local nan = 0 / 0
    local v = sl.tensor({ 1, nan, 3, nan })
    local r = v:max():item()
    assert.is_true(r ~= r)
    r = v:min():item()
    assert.is_true(r ~= r)
    assert.are.equal(2, v:argmax():item())
    assert.are.equal(2, v:argmin():item())
    local rows = sl.tensor({ { 1, nan }, { 3, 2 } }):max(2):totable()
    assert.is_true(rows[1] ~= rows[1])
    assert.are.equal(3, rows[2])
    assert.is_true(sl.tensor({ nan, 0 }):any():item())   -- NaN is true
  end)

  it('all and any', function()
    local b = sl.tensor({ { true, false }, { true, true } }, 'bool')
    assert.are.same({ false, true }, b:all(2):totable())
    assert.are.same({ true, false }, b:all(1):totable())
    assert.are.equal(true, b:any():item())
    assert.are.equal(false, b:all():item())
    assert.are.equal('bool', sl.tensor({ 0, 2 }):all():dtype())
    assert.are.equal(false, sl.tensor({ 0, 2 }):all():item())
  end)

  it('types results like NumPy', function()
    local cases = {
      { 'bool', 'sum', 'int64' }, { 'uint8', 'sum', 'int64' }, { 'int32', 'prod', 'int64' },
      { 'float32', 'sum', 'float32' }, { 'int32', 'mean', 'float64' }, { 'bool', 'std', 'float64' },
      { 'float32', 'var', 'float32' }, { 'bool', 'max', 'bool' }, { 'uint8', 'min', 'uint8' },
      { 'float32', 'argmin', 'int64' }, { 'float64', 'any', 'bool' },
    }
    for _, c in ipairs(cases) do
      local t = sl.ones(2, 3, c[1])
      assert.are.equal(c[3], t[c[2]](t, 2):dtype(), c[2] .. ' of ' .. c[1])
      assert.are.equal(c[3], sl.matrix('x', c[1])[c[2]](sl.matrix('x', c[1])):dtype(), c[2] .. ' of ' .. c[1] .. ' (var)')
    end
    local old = sl.config.floatX
    sl.config.floatX = 'float32'
    local ok, d = pcall(function() return sl.ones(3, 'int32'):mean():dtype() end)
    sl.config.floatX = old
    assert.is_true(ok, d)
    assert.are.equal('float32', d)
  end)

  it('wraps integer sums and products around like NumPy', function()
    local big = sl.tensor({ 2 ^ 62, 2 ^ 62 }, 'int64')
    assert.are.equal(-2 ^ 63, big:sum():item())
    assert.are.equal(0, sl.full({ 64 }, 2, 'int64'):prod():item())
    assert.are.equal(255 * 4, sl.full({ 4 }, 255, 'uint8'):sum():item())   -- widened, no uint8 wrap
  end)

  it('sums float32 data accurately (pairwise in double)', function()
    -- 1 followed by many small values: a float32 running sum would lose them all
    local n = 100001
    local t = sl.full({ n }, 1e-8, 'float32')
    t[1] = 1
    local s = t:sum()
    assert.are.equal('float32', s:dtype())
    local want = sl.tensor(1 + (n - 1) * sl.tensor(1e-8, 'float32'):item(), 'float32'):item()
    assert.are.equal(want, s:item())
    -- variance of values far from zero: one-pass formulas cancel catastrophically
    local v = sl.tensor({ 1e8 + 1, 1e8 + 2, 1e8 + 3 }, 'float64')
    assert.are.equal(2 / 3, v:var():item())
  end)

  it('handles empty inputs: sum 0, prod 1, mean nan, all true, any false', function()
    local e = sl.zeros(0)
    assert.are.equal(0, e:sum():item())
    assert.are.equal(1, e:prod():item())
    local mn = e:mean():item()
    assert.is_true(mn ~= mn)
    assert.are.equal(true, e:all():item())
    assert.are.equal(false, e:any():item())
    assert.are.same({ 0, 0, 0 }, sl.zeros(0, 3):sum(1):totable())
    assert.are.same({ 0 }, sl.zeros(0, 3):max(2):shape())   -- empty result, no empty row
  end)

  it('works on 0-d inputs', function()
    local s = sl.tensor(2.5)
    assert.are.equal(2.5, s:sum():item())
    assert.are.equal(0, s:var():item())
    assert.are.equal(0, s:sum(nil, true):dim())
  end)

  it('compiles, with static shapes through', function()
    local x = sl.tensor_type('float64', { 2, -1, 4 })('x')
    assert.are.same({ -1 }, x:sum({ 1, 3 }):static_shape())
    assert.are.same({ 1, -1, 1 }, x:max({ 1, -1 }, true):static_shape())
    assert.are.same({ 2, 4 }, x:argmax(2):static_shape())
    assert.are.same({}, x:mean():static_shape())
    local f = sl.compile({ x }, { x:sum(2), x:argmax(), x:std(3, true, 1) })
    local t = sl.arange(24, 'float64'):reshape(2, 3, 4)
    local a, b, c = f(t)
    assert.are.same({ { 12, 15, 18, 21 }, { 48, 51, 54, 57 } }, a:totable())
    assert.are.equal(24, b:item())
    assert.are.same({ 2, 3, 1 }, c:shape())
    np.assert_close(c, sl.full({ 2, 3, 1 }, math.sqrt(5 / 3)), 1e-15)
  end)

  it('tensor arguments as nested tables', function()
    assert.are.equal(10, sl.sum({ 1, 2, 3, 4 }):item())
  end)
end)

describe('reduction errors', function()
  local m = sl.ones(2, 3)
  local function err(f, ...)
    local ok, e = pcall(f, ...)
    assert.is_false(ok)
    return tostring(e)
  end

  it('reports axes out of range as written', function()
    assert.matches('sum: axis 3 is out of range for a 2%-d input', err(function() return m:sum(3) end))
    assert.matches('mean: axis %-3 is out of range', err(function() return m:mean({ 1, -3 }) end))
    assert.matches('max: axis 0 is out of range', err(function() return sl.max(m, 0) end))
    assert.matches('sum: axis 1 is out of range for a 0%-d input', err(function() return sl.tensor(1):sum(1) end))
    assert.matches('axis 3 is out of range', err(function() return sl.matrix('x'):sum(3) end))
  end)

  it('reports repeated axes', function()
    assert.matches('sum: axis %-1 repeats axis 2', err(function() return m:sum({ 2, -1 }) end))
    assert.matches('prod: axis 1 repeats axis 1', err(function() return sl.matrix('x'):prod({ 1, 1 }) end))
  end)

  it('rejects argmax and argmin over several axes', function()
    assert.matches('argmax: takes one axis or none', err(function() return m:argmax({ 1, 2 }) end))
    assert.matches('argmin: takes one axis or none',
      err(function() return sl.tensor3('x'):argmin({ 1, 3 }) end))
  end)

  it('rejects max, min, argmax and argmin of an empty axis', function()
    for _, op in ipairs({ 'max', 'min', 'argmax', 'argmin' }) do
      assert.matches(op .. ': cannot reduce an empty axis', err(function() return sl.zeros(0)[op](sl.zeros(0)) end))
      assert.matches(op .. ': cannot reduce an empty axis',
        err(function() return sl.zeros(0, 3)[op](sl.zeros(0, 3), 1) end))
    end
    -- known statically: at build time
    local x = sl.tensor_type('float64', { 0, 3 })('x')
    assert.matches('max: cannot reduce an empty axis', err(function() return x:max() end))
    -- known only at run time
    local v = sl.vector('v')
    local f = sl.compile({ v }, v:max())
    assert.matches('max: cannot reduce an empty axis', err(f, sl.zeros(0)))
  end)

  it('checks argument types', function()
    assert.matches('axis must be a number', err(function() return m:sum('x') end))
    assert.matches('an axis must be an integer', err(function() return m:sum(1.5) end))
    assert.matches('keepdims must be a boolean', err(function() return m:sum(1, 1) end))
    assert.matches('ddof must be a number', err(function() return m:var(1, false, 'a') end))
    assert.matches('sum: unknown option ddof', err(function() return m:sum({ ddof = 1 }) end))
    assert.matches('sum: takes %(x, axes, keepdims%)', err(function() return m:sum(1, false, 1) end))
  end)

  it('checks params given to the core directly', function()
    local core = sl.core
    assert.matches('sum: axis 5 is out of range', err(core.apply, 'sum', { v = { 0, 4 } }, m))
    assert.matches('sum: params must be', err(core.apply, 'sum', { v = {} }, m))
    assert.matches('argmax: reduces over one axis or all', err(core.apply, 'argmax', { v = { 0 } }, m))
  end)
end)
