-- Eager tensor operations against NumPy, measured in the same run: copies,
-- casts, fills, random draws and arithmetic on two tensors, at several sizes.
-- Prints one table: time per call for symlua and NumPy and the ratio
-- symlua / NumPy (lower is better; below 1 symlua is faster).
--
-- Each time is the best of 7 batches, a batch being enough calls of the op
-- (about 10^6 elements in all) that the clock's resolution does not matter;
-- results are fresh tensors each call, as NumPy's are fresh arrays.
--
-- Run: bin/symlua bench/tensors.lua [sizes]   e.g. 1e3,1e6 (default 1e3,1e5,1e7)
local sl = require 'symlua'
local here = ((arg and arg[0] or ''):match('^(.*/)') or './')
local now = dofile(here .. 'support/clock.lua')
local py = dofile(here .. 'support/python.lua')

local SIZES = { 1000, 100000, 10000000 }
if arg and arg[1] then
  SIZES = {}
  for s in arg[1]:gmatch('[^,]+') do SIZES[#SIZES + 1] = math.floor(assert(tonumber(s), 'bad size ' .. s)) end
end

-- Each case: its name, symlua's call (given the size's tensors), NumPy's
-- expression (a, b: float64 vectors of n; m: a side x side float64 matrix),
-- and the bytes one call moves (reads plus writes), for GB/s.
local cases = {
  { 'clone (contiguous copy)', function(t) return t.a:clone() end, 'a.copy()', 16 },
  { 'transpose to contiguous', function(t) return t.m:transpose():contiguous() end,
    'np.ascontiguousarray(m.T)', 16 },
  { 'fill', function(t) t.a:fill(1.5) end, 'a.fill(1.5)', 8 },
  { 'cast float64 -> float32', function(t) return t.a:cast('float32') end, 'a.astype(np.float32)', 12 },
  { 'randn', function(t) return sl.randn(t.n) end, 'rng.standard_normal(n)', 8 },
  { 'rand', function(t) return sl.rand(t.n) end, 'rng.random(n)', 8 },
  { 'a + b (two tensors, eager)', function(t) return t.a + t.b end, 'a + b', 24 },
}

local function batch_size(n) return math.max(1, math.floor(1e6 / n)) end

-- seconds per call: the best of 7 batches of k calls, after a warm-up of at
-- least 16 calls, so that the collector has run and freed results are reused
-- (steady state, as in a loop; NumPy frees each result at once)
local function per_call(f, t, k)
  for _ = 1, math.max(k, 16) do f(t) end
  local best = math.huge
  for _ = 1, 7 do
    local t0 = now()
    for _ = 1, k do f(t) end
    best = math.min(best, now() - t0)
  end
  return best / k
end

local mine = {}
for si, n in ipairs(SIZES) do
  local side = math.max(1, math.floor(math.sqrt(n)))
  local t = { n = n, a = sl.randn(n), b = sl.randn(n), m = sl.randn(side, side) }
  mine[si] = {}
  for ci, c in ipairs(cases) do mine[si][ci] = per_call(c[2], t, batch_size(n)) end
  t = nil
  collectgarbage()
end

-- NumPy in the same run, on arrays of the same sizes
local body = { 'rng = np.random.default_rng(0)' }
for _, n in ipairs(SIZES) do
  local side = math.max(1, math.floor(math.sqrt(n)))
  body[#body + 1] = ('n, side, k = %d, %d, %d'):format(n, side, batch_size(n))
  body[#body + 1] = 'a = rng.standard_normal(n); b = rng.standard_normal(n); m = rng.standard_normal((side, side))'
  for _, c in ipairs(cases) do
    body[#body + 1] = 'def f():'
    body[#body + 1] = '    for _ in range(k): ' .. c[3]
    body[#body + 1] = 'r.append(best(f, 7) / k)'
  end
end
local numpy = py.numpy_times(body, #SIZES * #cases)

print(('best of 7 batches; the transpose is of a sqrt(n) x sqrt(n) matrix; float64 unless named; load %s')
  :format((io.open('/proc/loadavg') or { read = function() return '?' end }):read('*l') or '?'))
print(('%-30s %10s %12s %12s %8s %8s'):format('case', 'elements', 'symlua us', 'numpy us', 'ratio', 'GB/s'))
for si, n in ipairs(SIZES) do
  local side = math.max(1, math.floor(math.sqrt(n)))
  for ci, c in ipairs(cases) do
    local elems = ci == 2 and side * side or n
    local s = mine[si][ci]
    local np = numpy and numpy[(si - 1) * #cases + ci]
    print(('%-30s %10d %12.2f %12s %8s %8.1f'):format(c[1], elems, s * 1e6,
      np and ('%.2f'):format(np * 1e6) or 'n/a', np and ('%.2f'):format(s / np) or 'n/a',
      c[4] * elems / s / 1e9))
  end
end
if not numpy then print('(NumPy not available: install python3-numpy for the reference column)') end
