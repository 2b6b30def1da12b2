-- Random numbers: Philox-4x32-10 streams, checked bit for bit against a
-- separate implementation in plain Lua, and for their distributions.
local sl = require 'symlua'
local bit = require 'bit'

local U32 = 2 ^ 32
local function u32(x) return x % U32 end
local function xor(a, b) return u32(bit.bxor(a, b)) end

-- hi and lo words of a * b for 32-bit a, b, exact in doubles
local function mulhilo(a, b)
  local bh, bl = math.floor(b / 65536), b % 65536
  local p1, p2 = a * bl, a * bh
  local low = p1 + (p2 % 65536) * 65536
  return math.floor(p2 / 65536) + math.floor(low / U32), low % U32
end

local function philox(c, k)
  local c0, c1, c2, c3, k0, k1 = c[1], c[2], c[3], c[4], k[1], k[2]
  for _ = 1, 10 do
    local hi0, lo0 = mulhilo(0xD2511F53, c0)
    local hi1, lo1 = mulhilo(0xCD9E8D57, c2)
    c0, c1, c2, c3 = xor(xor(hi1, c1), k0), lo1, xor(xor(hi0, c3), k1), lo0
    k0, k1 = u32(k0 + 0x9E3779B9), u32(k1 + 0xBB67AE85)
  end
  return { c0, c1, c2, c3 }
end

-- value i (0-based) of a float64 rand draw starting at block `offset`
local function uniform(seed, offset, i)
  local block = offset + math.floor(i / 2)
  local w = philox({ block % U32, math.floor(block / U32), 0, 0 }, { seed % U32, 0 })
  local a, b = w[(i % 2) * 2 + 1], w[(i % 2) * 2 + 2]
  return (a * 2 ^ 21 + math.floor(b / 2 ^ 11)) * 2 ^ -53
end

describe('Philox-4x32-10', function()
  it('matches the published known-answer vectors', function()
    assert.are.same({ 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 },
      philox({ 0, 0, 0, 0 }, { 0, 0 }))
    assert.are.same({ 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 },
      philox({ 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344 }, { 0xa4093822, 0x299f31d0 }))
  end)

  it('sl.rand gives exactly the stream a separate implementation computes', function()
    sl.manual_seed(1234)
    local a = sl.rand(7)
    local b = sl.rand(5)   -- continues after the 4 blocks the first draw used
    for i = 0, 6 do assert.are.equal(uniform(1234, 0, i), a[i + 1]) end
    for i = 0, 4 do assert.are.equal(uniform(1234, 4, i), b[i + 1]) end
  end)
end)

describe('random tensors', function()
  it('repeat for a seed and differ across seeds', function()
    sl.manual_seed(7)
    local a, n1 = sl.rand(100), sl.randn(3, 3)
    sl.manual_seed(7)
    local b, n2 = sl.rand(100), sl.randn(3, 3)
    assert.are.same(a:totable(), b:totable())
    assert.are.same(n1:totable(), n2:totable())
    sl.manual_seed(8)
    assert.are_not.same(a:totable(), sl.rand(100):totable())
  end)

  it('float32 draws are float64 draws truncated to 24 bits', function()
    sl.manual_seed(3)
    local d = sl.rand(1000)
    sl.manual_seed(3)
    local f = sl.rand(1000, 'float32')
    assert.are.equal('float32', f:dtype())
    for i = 1, 1000 do
      local diff = d[i] - f[i]
      assert.is_true(diff >= 0 and diff < 2 ^ -24)
    end
  end)

  it('rand is uniform on [0, 1)', function()
    sl.manual_seed(11)
    local n = 100000
    local p = sl.rand(n):data()
    local s, s2, lo, hi = 0, 0, 1, 0
    for i = 0, n - 1 do
      local v = p[i]
      s, s2 = s + v, s2 + v * v
      lo, hi = math.min(lo, v), math.max(hi, v)
    end
    local mean, var = s / n, s2 / n - (s / n) ^ 2
    assert.is_true(math.abs(mean - 0.5) < 5 * math.sqrt(1 / 12 / n))
    assert.is_true(math.abs(var - 1 / 12) < 0.002)
    assert.is_true(lo >= 0 and lo < 1e-3 and hi < 1 and hi > 1 - 1e-3)
  end)

  it('randn has mean 0, variance 1 and normal tails', function()
    sl.manual_seed(12)
    local n = 200000
    local p = sl.randn(n):data()
    local s, s2, s4, beyond2 = 0, 0, 0, 0
    for i = 0, n - 1 do
      local v = p[i]
      s, s2, s4 = s + v, s2 + v * v, s4 + v ^ 4
      if math.abs(v) > 2 then beyond2 = beyond2 + 1 end
    end
    assert.is_true(math.abs(s / n) < 5 / math.sqrt(n))
    assert.is_true(math.abs(s2 / n - 1) < 0.02)
    assert.is_true(math.abs(s4 / n - 3) < 0.1)   -- kurtosis of a normal
    assert.is_true(math.abs(beyond2 / n - 0.0455) < 0.003)
  end)

  it('randint covers [low, high) evenly', function()
    sl.manual_seed(5)
    local t = sl.randint(-2, 3, { 50000 })
    assert.are.equal('int64', t:dtype())
    local counts = {}
    local p = t:data()
    for i = 0, 49999 do
      local v = tonumber(p[i])
      counts[v] = (counts[v] or 0) + 1
    end
    for v = -2, 2 do assert.is_true(math.abs(counts[v] - 10000) < 500) end
    assert.is_nil(counts[3])
    assert.are.equal('int32', sl.randint(0, 10, { 2, 2 }, 'int32'):dtype())
  end)
end)
