-- float16 and bfloat16: storage dtypes (core/tensor/half.c). Casts round
-- once to nearest even, straight from double (bits checked against NumPy's
-- float16, and bfloat16 against the rounding written out in NumPy);
-- printing as NumPy prints float16; .npy for float16; compiled functions
-- compute in elementwise ops and reductions (in float or double, rounded once
-- per result, by the C backend as by the reference) and pass through ops
-- that move elements; dot and matmul compute in float32; every other op
-- refuses them by name.
local sl = require 'symlua'
local np = require 'spec.support.numpy'

local function bits(t)
  local c, out = t:contiguous(), {}
  local p = c:data()
  for i = 0, c:numel() - 1 do out[i + 1] = tonumber(p[i]) end
  return out
end

-- values at the edges: ties, the largest finite, overflow, subnormals
local EDGES = { 0, -0.0, 1, -1, 0.1, 1 / 3, 65504, 65519.99, 65520, 1e6, 2 ^ -24, 2 ^ -25, 3 * 2 ^ -25,
  2 ^ -14, 2 ^ -14 - 2 ^ -25, 1 + 2 ^ -11, 1 + 3 * 2 ^ -11, 2049, 2051, -7.5e-5, 1 / 0, -1 / 0 }

describe('float16', function()
  it('rounds float64 to the bits NumPy gives, ties to even, subnormals and overflow included', function()
    if not np.available() then pending('numpy not installed') return end
    sl.manual_seed(1)
    local x = sl.concatenate({ sl.tensor(EDGES), sl.randn(200) * 3, sl.randn(100) * 1e-5, sl.randn(100) * 3e4 })
    local want = np.eval('x.astype(np.float16).view(np.uint16).astype(np.int32)', { x = x })
    assert.are.same(want:totable(), bits(x:cast('float16')))
    -- from float32 too, and back to float64 exactly
    local x32 = x:cast('float32')
    local want32, back = np.eval('x.astype(np.float16).view(np.uint16).astype(np.int32), '
      .. 'x.astype(np.float16).astype(np.float64)', { x = x32 })
    assert.are.same(want32:totable(), bits(x32:cast('float16')))
    np.assert_close(x32:cast('float16'):cast('float64'), back, 0, 0, 'float16 -> float64')
  end)

  it('keeps NaN a NaN and the sign of zero', function()
    local h = sl.tensor({ 0 / 0, -0.0 }, 'float16')
    local v = h:cast('float64'):totable()
    assert.is_true(v[1] ~= v[1])
    assert.are.equal(-math.huge, 1 / v[2])
  end)

  it('prints as NumPy prints it', function()
    if not np.available() then pending('numpy not installed') return end
    local cases = { { 0.1, 65504, 1 / 0, 1e-8, 0 / 0 }, { 1, 2.5, 3 }, { 1e-3, 2049, 0.333 }, { -0.0, 7.1 } }
    for _, c in ipairs(cases) do
      local h = sl.tensor(c, 'float16')
      local text = tostring(h):match('^tensor%((.-),%s+shape=')
      local want = np.eval("np.frombuffer(np.array2string(x.astype(np.float16), separator=', ').encode(), np.uint8)",
                           { x = sl.tensor(c) })
      local p, s = want:data(), {}
      for i = 0, want:numel() - 1 do s[#s + 1] = string.char(p[i]) end
      assert.are.equal(table.concat(s), text)
    end
  end)

  it('saves to .npy files NumPy reads as float16', function()
    if not np.available() then pending('numpy not installed') return end
    local h = sl.tensor({ { 0.5, -2 }, { 65504, 1e-7 } }, 'float16')
    local same, back = np.eval('np.array(h.dtype == np.float16), h * np.float16(2)', { h = h })
    assert.is_true(same:item())
    assert.are.equal('float16', back:dtype())
    local tiny = sl.tensor(1e-7, 'float16'):cast('float64'):item()   -- a subnormal: 2^-24 steps
    assert.are.same({ { 1, -4 }, { math.huge, 2 * tiny } }, back:cast('float64'):totable())
  end)
end)

describe('bfloat16', function()
  it('rounds float64 to 8 significant bits, ties to even, as written out in NumPy', function()
    if not np.available() then pending('numpy not installed') return end
    sl.manual_seed(2)
    local x = sl.concatenate({ sl.tensor({ 1, 0.1, 1 / 3, 1 + 2 ^ -8, 1 + 3 * 2 ^ -8, 257, 259, 3e38, 1e-30 }),
                               sl.randn(300) * 100, sl.randn(100) * 1e-20 })
    local want = np.eval('(lambda m, e: np.ldexp(np.rint(m * 256.0), e - 8))(*np.frexp(x))', { x = x })
    np.assert_close(x:cast('bfloat16'):cast('float64'), want, 0, 0, 'bfloat16')
  end)

  it('overflows to infinity, keeps NaN, and is float32 with the low half cut', function()
    local b = sl.tensor({ 3.4e38, -1e39, 0 / 0, 1 }, 'bfloat16'):cast('float64'):totable()
    assert.are.equal(math.huge, b[1])   -- past the largest, 3.3895e38
    assert.are.equal(-math.huge, b[2])
    assert.is_true(b[3] ~= b[3])
    assert.are.same({ 0x3F80 }, bits(sl.tensor({ 1 }, 'bfloat16')))
  end)

  it('has no .npy dtype: saving it is an error that says so', function()
    local ok, e = pcall(sl.save, os.tmpname(), sl.zeros(2, 'bfloat16'))
    assert.is_false(ok)
    assert.is_truthy(tostring(e):find('bfloat16 has no .npy dtype', 1, true), tostring(e))
  end)
end)

describe('float16 and bfloat16 in compiled functions', function()
  for _, dt in ipairs({ 'float16', 'bfloat16' }) do
    it(dt .. ' goes in and out through casts, on each backend', function()
      for _, mode in ipairs({ 'c', 'reference' }) do
        local x = sl.tensor_type(dt, { -1 })('x')
        local f = sl.compile({ x }, (x:cast('float32') * 3):cast(dt), { mode = mode })
        local y = f(sl.tensor({ 1, 0.5, -2 }, dt))
        assert.are.equal(dt, y:dtype())
        assert.are.same({ 3, 1.5, -6 }, y:cast('float64'):totable())
        -- a uint8 argument casts safely; a float32 one would not
        assert.are.same({ 6, 9 }, f(sl.tensor({ 2, 3 }, 'uint8')):cast('float64'):totable())
        assert.is_false((pcall(f, sl.tensor({ 1 }, 'float32'))))
      end
    end)

    it(dt .. ' computes in elementwise ops and reductions, the C backend rounding as the reference', function()
      -- every edge value through ops that keep it, halve it into subnormals,
      -- double it into overflow, and casts from float64 in generated code
      local wide = sl.concatenate({ sl.tensor(EDGES), sl.tensor(EDGES) * 1.0009765625 })
      local x, w = sl.tensor_type(dt, { -1 })('x'), sl.dvector('w')
      local outs = { x * 1, x * 0.5, x * 2, x + x, -x, w:cast(dt), sl.sum(x * 0.25), sl.max(x), x:cast('float64') }
      local fc = sl.compile({ x, w }, outs, { mode = 'c' })
      local fr = sl.compile({ x, w }, outs, { mode = 'reference' })
      local h = wide:cast(dt)
      local rc, rr = { fc(h, wide) }, { fr(h, wide) }
      for i = 1, #outs do
        assert.are.equal(rr[i]:dtype(), rc[i]:dtype(), 'output ' .. i)
        if rc[i]:dtype() == dt then assert.are.same(bits(rr[i]), bits(rc[i]), 'output ' .. i)
        else assert.are.same(rr[i]:totable(), rc[i]:totable(), 'output ' .. i) end
      end
      assert.is_truthy(fc:info().plan:find('kernel', 1, true), fc:info().plan)
      -- a float16 with a float32 gives float32; a weak Lua number keeps the dtype
      assert.are.equal('float32', (x + sl.fvector('f')):dtype())
      assert.are.equal(dt, (x + 2.5):dtype())
      assert.are.equal(dt, sl.sum(x):dtype())
    end)

    it(dt .. ' passes through ops that move elements', function()
      local m = sl.tensor_type(dt, { -1, -1 })('m')
      local f = sl.compile({ m }, { m:transpose(), m:reshape(-1), m[{ 2 }], sl.concatenate({ m, m }, 1) })
      local v = sl.tensor({ { 1, 2, 3 }, { 4.5, -5, 0.25 } }, dt)
      local t, r, row, c = f(v)
      assert.are.same({ { 1, 4.5 }, { 2, -5 }, { 3, 0.25 } }, t:cast('float64'):totable())
      assert.are.same({ 1, 2, 3, 4.5, -5, 0.25 }, r:cast('float64'):totable())
      assert.are.same({ 4.5, -5, 0.25 }, row:cast('float64'):totable())
      assert.are.same({ 4, 3 }, c:shape())
      assert.are.equal(dt, c:dtype())
    end)

    it(dt .. ' is refused by other ops, by name', function()
      local h, v = sl.zeros(2, dt), sl.tensor_type(dt, { -1 })('v')
      for _, f in ipairs({ function() return sl.sort(h) end, function() return sl.cumsum(v) end,
                           function() return sl.outer(v, v) end }) do
        local ok, e = pcall(f)
        assert.is_false(ok)
        assert.is_truthy(tostring(e):find('does not take ' .. dt .. ' input', 1, true), tostring(e))
        assert.is_truthy(tostring(e):find("cast it to float32 first", 1, true), tostring(e))
      end
      local ok, e = pcall(sl.randn, 2, dt)
      assert.is_false(ok)
      assert.is_truthy(tostring(e):find('draw float32 and cast', 1, true), tostring(e))
    end)
  end

  it('dot and matmul multiply float16 and bfloat16 in float32, rounded once (as NumPy and PyTorch)', function()
    sl.manual_seed(12)
    local a64, b64 = sl.randn(2, 5, 7), sl.randn(7, 3)
    for _, dt in ipairs({ 'float16', 'bfloat16' }) do
      local a, b = a64:cast(dt), b64:cast(dt)
      -- the oracle: the float32 product of the same values, rounded to dt once
      local want = sl.matmul(a:cast('float32'), b:cast('float32')):cast(dt)
      local got = sl.matmul(a, b)
      assert.are.equal(dt, got:dtype())
      assert.are.same(bits(want), bits(got))
      local x, y = sl.tensor_type(dt, { -1, -1, -1 })('x'), sl.tensor_type(dt, { -1, -1 })('y')
      local f = sl.compile({ x, y }, { x:dot(y), x:dot(y:cast('float32')) })
      local h, wide = f(a, b)
      assert.are.same(bits(want), bits(h))
      assert.are.equal('float32', wide:dtype())
      np.assert_close(wide, sl.matmul(a:cast('float32'), b:cast('float32')), 1e-6, 1e-6, dt .. ' with float32')
      local v = a:select(1, 1):select(1, 1)
      assert.are.equal(dt, v:dot(v):dtype())
    end
    assert.are.equal('float32', sl.dot(a64:cast('float16'), b64:cast('bfloat16')):dtype())
    if not np.available() then pending('NumPy is not installed') return end
    local a, b = a64:cast('float16'), b64:cast('float16')
    np.assert_close(sl.matmul(a, b), np.eval('np.matmul(a, b)', { a = a, b = b }), 1e-3, 1e-3, 'float16 against NumPy')
  end)

  it('float16 arithmetic gives the bits NumPy gives', function()
    if not np.available() then return pending('NumPy is not installed') end
    local a = (sl.randn(4000) * 30):cast('float16')
    local b = (sl.randn(4000) * 3):cast('float16')
    local x, y = sl.tensor_type('float16', { -1 })('x'), sl.tensor_type('float16', { -1 })('y')
    local exact = { x + y, x - y, x * y, x / y, sl.sqrt(sl.abs(x)) }
    local want = { np.eval('(a + b, a - b, a * b, a / b, np.sqrt(np.abs(a)))', { a = a, b = b }) }
    for _, mode in ipairs({ 'c', 'reference' }) do
      local got = { sl.compile({ x, y }, exact, { mode = mode })(a, b) }
      for i = 1, #exact do assert.are.same(bits(want[i]), bits(got[i]), mode .. ' output ' .. i) end
      -- exp rounds a libm value: within one float16 step of NumPy's
      local e = sl.compile({ x }, sl.exp(x * 0.1), { mode = mode })(a)
      local ne = np.eval('np.exp(a * np.float16(0.1))', { a = a })
      np.assert_close(e:cast('float64'), ne:cast('float64'), 2 ^ -10, 0, mode .. ' exp')
    end
  end)
end)

describe('fill', function()
  -- complex128 filled only the first element's real part, from an 8-byte
  -- buffer that the 16-byte value overran; 2-byte dtypes wrote 8 bytes each
  it('writes the value into every element of every dtype', function()
    for _, dt in ipairs(sl.dtypes) do
      local t = sl.full({ 5 }, dt == 'bool' and 1 or 2, dt)
      local vals = (dt:match('^complex') and t:real() or t):cast('float64'):totable()
      assert.are.same({ 1, 1, 1, 1, 1 }, (sl.tensor(vals) / (dt == 'bool' and 1 or 2)):totable(), dt)
      if dt:match('^complex') then assert.are.same({ 0, 0, 0, 0, 0 }, t:imag():cast('float64'):totable(), dt) end
    end
  end)
end)
