-- Eager tensor operations on their fast paths: contiguous casts, fills,
-- transposes made contiguous in tiles, elementwise ops that read and write
-- operands in place, and random draws split between threads. Each is checked
-- against hand results, NumPy, or a separate implementation, at sizes that
-- cross vector widths and batch boundaries, with empty and 1-element tensors.
local sl = require 'symlua'
local core = sl.core
local numpy = require 'spec.support.numpy'

local ALL = { 'bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'bfloat16',
              'float32', 'float64', 'complex64', 'complex128' }

-- 0, 1, ..., n - 1 as float64
local function iota(n) return sl.arange(n):cast('float64') end

local function assert_all(t, f, what)
  local flat = t:contiguous():view(t:numel())
  for i = 1, t:numel() do
    local want = f(i)
    if flat[i] ~= want then
      error(('%s: element %d is %s, expected %s'):format(what, i, tostring(flat[i]), tostring(want)))
    end
  end
end

describe('eager casts and clones', function()
  it('convert contiguous runs of every length to every real dtype', function()
    -- values every dtype holds exactly: 0..6 repeating (bool: whether nonzero)
    for _, n in ipairs({ 0, 1, 2, 3, 7, 16, 1003 }) do
      local src = sl.arange(n) % 7
      for _, from in ipairs(ALL) do
        local a = src:cast(from)
        local real = from:match('^complex') and a:real() or a
        for _, to in ipairs(ALL) do
          if not to:match('^complex') then
            local c = real:cast(to)
            assert.are.equal(to, c:dtype())
            assert.are.same({ n }, c:shape())
            local function v(i)
              local x = (i - 1) % 7
              if from == 'bool' then x = x ~= 0 and 1 or 0 end
              if to == 'bool' then return x ~= 0 end
              return x
            end
            assert_all(c, v, from .. '->' .. to)
          end
        end
      end
    end
  end)

  it('round and truncate like NumPy in contiguous float casts', function()
    local a = sl.tensor({ -2.75, -1.5, -0.25, 0, 0.5, 1.999, 123456789.123 })
    assert.are.same({ -2, -1, 0, 0, 0, 1, 123456789 }, a:cast('int32'):totable())
    if not numpy.available() then return pending('NumPy is not installed') end
    local b = sl.tensor({ 0.1, -1 / 3, 3.4e38, 1e-46, 16777217, -0.0 })
    local f = b:cast('float32')
    assert.are.same(numpy.eval('a.astype(np.float32)', { a = b }):totable(), f:totable())
    assert.are.same(numpy.eval('a.astype(np.float64)', { a = f }):totable(), f:cast('float64'):totable())
  end)

  it('clone copies every dtype, empty and 1-element tensors included', function()
    for _, dt in ipairs(ALL) do
      for _, n in ipairs({ 0, 1, 1003 }) do
        local a = (sl.arange(n) % 5):cast(dt)
        local c = a:clone()
        assert.are.equal(dt, c:dtype())
        local function real(t) return dt:match('^complex') and t:real() or t end
        assert.are.same(real(a):totable(), real(c):totable())
        c:fill(0)   -- a copy, not a view
        assert.are.same(real((sl.arange(n) % 5):cast(dt)):totable(), real(a):totable())
      end
    end
  end)
end)

describe('eager fill', function()
  it('stores one value in every element, every dtype and odd lengths', function()
    for _, dt in ipairs(ALL) do
      for _, n in ipairs({ 0, 1, 3, 17, 1003 }) do
        local t = sl.zeros(n, dt)
        t:fill(3)
        if dt:match('^complex') then t = t:real() end
        assert_all(t, function() return dt == 'bool' and true or 3 end, 'fill ' .. dt)
      end
    end
    local f = sl.zeros(5, 'float64'):fill(-1.25)
    assert.are.same({ -1.25, -1.25, -1.25, -1.25, -1.25 }, f:totable())
  end)

  it('fills a transposed view and leaves the rest alone', function()
    local m = sl.zeros(4, 6)
    m[{ {}, { 2, 3 } }]:transpose():fill(7)
    assert_all(m, function(i) local col = (i - 1) % 6 + 1; return (col == 2 or col == 3) and 7 or 0 end,
      'fill of columns')
  end)
end)

describe('eager transpose to contiguous', function()
  it('copies in tiles for every element size, odd shapes and sliced sources', function()
    for _, dt in ipairs({ 'uint8', 'float16', 'int32', 'float64', 'complex128' }) do
      for _, shape in ipairs({ { 37, 45 }, { 1, 5 }, { 5, 1 }, { 2, 2 }, { 0, 3 }, { 64, 33 } }) do
        local r, c = shape[1], shape[2]
        local m = (iota(r * c) % 200):view(r, c):cast(dt)
        local t = m:transpose():contiguous()
        assert.is_true(t:is_contiguous())
        assert.are.same({ c, r }, t:shape())
        local src = (iota(r * c) % 200):view(r, c):totable()
        assert_all(dt == 'complex128' and t:real() or t, function(i)
          local row, col = math.floor((i - 1) / r) + 1, (i - 1) % r + 1   -- t[row][col] = m[col][row]
          return src[col][row]
        end, 'transpose ' .. dt)
      end
    end
  end)

  it('reads a transposed slice whose row stride exceeds its rows', function()
    local big = iota(50 * 70):view(50, 70)
    local m = big[{ { 3, 42 }, { 5, 34 } }]            -- 40 x 30, row stride 70
    local t = m:transpose():contiguous()               -- 30 x 40
    assert_all(t, function(i)
      local row, col = math.floor((i - 1) / 40), (i - 1) % 40   -- 0-based t[row][col] = m[col][row]
      return (col + 2) * 70 + (row + 4)
    end, 'sliced transpose')
  end)
end)

describe('eager elementwise ops on two tensors', function()
  it('add, sub, mul, div float64 at lengths across chunk boundaries', function()
    for _, n in ipairs({ 0, 1, 255, 256, 257, 1003 }) do
      local a, b = iota(n), iota(n) * 2 + 1
      assert_all(a + b, function(i) return 3 * (i - 1) + 1 end, 'add')
      assert_all(b - a, function(i) return i end, 'sub')
      assert_all(a * b, function(i) return (i - 1) * (2 * i - 1) end, 'mul')
      assert_all(a / b, function(i) return (i - 1) / (2 * i - 1) end, 'div')
    end
  end)

  it('mix operands read in place with converted, strided and broadcast ones', function()
    local m = iota(12):view(3, 4)
    local t = m:transpose()                             -- strided, float64
    local f = sl.tensor({ { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 }, { 10, 11, 12 } }, 'float32')
    local r = t + f                                     -- float64 + float32: float64
    assert.are.equal('float64', r:dtype())
    assert.are.same({ { 1, 6, 11 }, { 5, 10, 15 }, { 9, 14, 19 }, { 13, 18, 23 } }, r:totable())
    local row = sl.tensor({ 100, 200, 300 })            -- int64, broadcast over rows
    assert.are.same({ { 100, 204, 308 }, { 101, 205, 309 }, { 102, 206, 310 }, { 103, 207, 311 } },
      (t + row):totable())
    local i32 = sl.tensor({ 2147483647, -2147483648, 5 }, 'int32')
    assert.are.same({ -2147483648, 2147483647, 6 }, (i32 + sl.tensor({ 1, -1, 1 }, 'int32')):totable())
    local big = sl.tensor({ 4611686018427387904 }, 'int64')   -- 2^62: times 2 wraps to -2^63
    assert.are.equal(-9223372036854775808, tonumber((big * sl.tensor({ 2 }, 'int64'))[1]))
  end)

  it('build no graph: no var is made, and types and errors are those of a node', function()
    local a, b = sl.tensor({ 1, 2, 3 }, 'int32'), sl.tensor({ 0.5, 1.5, 2.5 }, 'float32')
    local x = sl.vector('x')
    local c, d, e = a + 2.0, b * 2, sl.where(sl.gt(a, 1), a, -a)
    local h = sl.tensor({ 1, 2 }, 'float16') / 4
    local y = sl.vector('y')
    assert.are.equal(x:id() + 1, y:id())   -- nothing between them took an id
    assert.are.equal('int32', c:dtype())   -- weak Lua numbers keep the tensor's dtype
    assert.are.same({ 3, 4, 5 }, c:totable())
    assert.are.equal('float32', d:dtype())
    assert.are.same({ 1, 3, 5 }, d:totable())
    assert.are.same({ -1, 2, 3 }, e:totable())
    assert.are.equal('float16', h:dtype())
    assert.are.same({ 0.25, 0.5 }, h:cast('float64'):totable())
    -- the same messages as building the node on a variable of the same type
    local function message(f)
      local ok, err = pcall(f)
      assert.is_false(ok)
      return (tostring(err):gsub('^.-:%d+: ', ''))
    end
    local two = sl.tensor({ 1, 2 }, 'int32')
    local want = message(function() return sl.tensor_type('int32', { 3 })('p') + two end)
    assert.are.equal(want, message(function() return a + two end))
    assert.truthy(want:find('add: shapes do not broadcast', 1, true), want)
    local z = sl.complex(sl.tensor({ 1.5 }), sl.tensor({ 2.5 }))
    want = message(function() return sl.floor(sl.tensor_type('complex128', { 1 })('q')) end)
    assert.are.equal(want, message(function() return sl.floor(z) end))
    assert.truthy(want:find('floor does not take complex input', 1, true), want)
    assert.are.equal(message(function() return sl.add(x) end), message(function() return sl.add(a) end))
  end)

  it('agree with NumPy for every real dtype and a 1003-element run', function()
    if not numpy.available() then return pending('NumPy is not installed') end
    for _, dt in ipairs({ 'uint8', 'int32', 'int64', 'float32', 'float64' }) do
      local a = (sl.rand(1003) * 100):cast(dt)
      local b = (sl.rand(1003) * 100 + 1):cast(dt)
      local want = { numpy.eval('(a + b, a - b, a * b, np.maximum(a, b), a < b)', { a = a, b = b }) }
      local got = { a + b, a - b, a * b, sl.maximum(a, b), sl.lt(a, b) }
      for k = 1, #got do
        assert.are.equal(want[k]:dtype(), got[k]:dtype())
        assert.are.same(want[k]:totable(), got[k]:totable())
      end
    end
    local x = sl.randn(1003)
    local want = numpy.eval('np.exp(x)', { x = x })
    assert.is_true(((sl.exp(x) - want):abs() / want):max():item() < 1e-15)
  end)
end)

describe('random draws split between threads', function()
  local saved
  before_each(function() saved = sl.config.threads end)
  after_each(function() sl.config.threads = saved end)

  local function draw(threads, f)
    sl.config.threads = threads
    sl.manual_seed(99)
    return f()
  end

  it('give the same values for a seed on 1, 2 and 3 threads', function()
    local n = 2 * 16384 * 3 + 7   -- past every grain, odd: the last block's half
    for _, f in ipairs({
      function() return sl.randn(n) end,
      function() return sl.randn(n, 'float32') end,
      function() return sl.rand(n) end,
      function() return sl.rand(n, 'float32') end,
      function() return sl.randint(-5, 1000, { n }, 'int32') end,
    }) do
      local one = draw(1, f)
      for _, th in ipairs({ 2, 3 }) do
        assert.is_true(sl.eq(one, draw(th, f)):all():item(), th .. ' threads differ')
      end
    end
    -- and the stream goes on from the same offset
    local a = draw(1, function() sl.randn(n); return sl.rand(3) end)
    local b = draw(3, function() sl.randn(n); return sl.rand(3) end)
    assert.are.same(a:totable(), b:totable())
  end)

  it('are Box-Muller on the Philox uniforms, across batch and thread boundaries', function()
    -- the uniforms come from sl.rand over the same blocks (random_spec checks
    -- those against a separate Philox); value 2j and 2j + 1 read block j
    local n = 2 * 2048 * 4
    local u = draw(1, function() return sl.rand(2 * n) end)   -- blocks 0 .. n - 1, two per pair
    local z = draw(2, function() return sl.randn(2 * n) end)
    -- every pair: the angle's four quadrants and their edges come from 2 pi v
    -- reduced by hand (philox.c), checked against libm's cos and sin here
    local up, zp, quadrants = u:data(), z:data(), { 0, 0, 0, 0 }
    for j = 0, n - 1 do
      local u1, u2 = up[2 * j], up[2 * j + 1]
      local r, th = math.sqrt(-2 * math.log(1 - u1)), 2 * math.pi * u2
      if math.abs(zp[2 * j] - r * math.cos(th)) > 1e-14 * math.max(1, r) then error('cos half ' .. j) end
      if math.abs(zp[2 * j + 1] - r * math.sin(th)) > 1e-14 * math.max(1, r) then error('sin half ' .. j) end
      local q = math.floor(4 * u2 + 0.5) % 4 + 1
      quadrants[q] = quadrants[q] + 1
    end
    for q = 1, 4 do assert.is_true(quadrants[q] > n / 5, 'quadrant ' .. q) end
    -- float32 normals are the float64 ones rounded once
    local z32 = draw(3, function() return sl.randn(2 * n, 'float32') end)
    assert.is_true(sl.eq(z32, z:cast('float32')):all():item())
  end)

  it('randn is normal: moments, and the mass within 1, 2 and 3 sigma', function()
    local n = 400000
    local p = draw(2, function() return sl.randn(n) end):data()
    local s, s2, s3, within = 0, 0, 0, { 0, 0, 0 }
    for i = 0, n - 1 do
      local v = p[i]
      s, s2, s3 = s + v, s2 + v * v, s3 + v * v * v
      local a = math.abs(v)
      for k = 1, 3 do if a < k then within[k] = within[k] + 1 end end
    end
    assert.is_true(math.abs(s / n) < 5 / math.sqrt(n))
    assert.is_true(math.abs(s2 / n - 1) < 0.01)
    assert.is_true(math.abs(s3 / n) < 0.03)   -- no skew
    local want = { 0.682689, 0.954500, 0.997300 }
    for k = 1, 3 do
      local sd = math.sqrt(want[k] * (1 - want[k]) / n)
      assert.is_true(math.abs(within[k] / n - want[k]) < 5 * sd,
        ('%.5f within %d sigma, expected %.5f'):format(within[k] / n, k, want[k]))
    end
  end)

  it('empty and 1-element draws use no more blocks than they need', function()
    sl.manual_seed(4)
    assert.are.same({ 0 }, sl.randn(0):shape())
    local x, y = sl.rand(1), sl.rand(1)   -- block 0's first half, then block 1's
    sl.manual_seed(4)
    local z = sl.rand(4)                  -- blocks 0 and 1, both halves
    assert.are.same({ 1 }, x:shape())
    assert.are.equal(z[1], x[1])
    assert.are.equal(z[3], y[1])
  end)
end)

describe('eager results in a loop', function()
  it('come from reused buffers at steady state: a loop of clones takes no fresh ones', function()
    local a = iota(1000000)   -- 8 MB
    for _ = 1, 40 do local _ = a:clone() end   -- warm: the collector has run and the cache holds buffers
    local before = core.storage_cache_info()
    for i = 1, 40 do
      local c = a:clone()
      assert.are.equal(i % 1000, c[i % 1000 + 1])
    end
    local after = core.storage_cache_info()
    assert.are.equal(0, after.misses - before.misses,
      ('%d hits, %d misses'):format(after.hits - before.hits, after.misses - before.misses))
  end)
end)
