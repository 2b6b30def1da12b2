-- Tensor basics against NumPy, measured in the same run: copies, fills,
-- random draws, and an elementwise expression on the reference backend.
-- Prints a table of times and the ratio symlua / NumPy (lower is better).
-- Run: bin/symlua bench/tensors.lua [size]   (default 4,000,000 elements)
local sl = require 'symlua'
local now = dofile(((arg and arg[0] or ''):match('^(.*/)') or './') .. 'support/clock.lua')

local N = tonumber(arg and arg[1]) or 4000000
local side = math.floor(math.sqrt(N))

-- best of several runs, in seconds
local function best(f, reps)
  local t = math.huge
  for _ = 1, reps or 7 do
    local t0 = now()
    f()
    t = math.min(t, now() - t0)
  end
  return t
end

local a = sl.randn(N)
local m = sl.randn(side, side)
local x = sl.vector('x')
local expr = sl.compile({ x }, sl.exp(x) * 0.5 + x * x)

local cases = {
  { 'clone (contiguous copy)', function() return a:clone() end, 'a.copy()' },
  { 'transpose to contiguous', function() return m:transpose():contiguous() end,
    'np.ascontiguousarray(m.T)' },
  { 'fill', function() a:fill(1.5) end, 'a.fill(1.5)' },
  { 'cast float64 -> float32', function() return a:cast('float32') end, 'a.astype(np.float32)' },
  { 'randn', function() return sl.randn(N) end, 'rng.standard_normal(N)' },
  { 'exp(x)*0.5 + x*x (reference backend)', function() return expr(a) end, 'np.exp(a)*0.5 + a*a' },
}

local mine = {}
for i, c in ipairs(cases) do mine[i] = best(c[2]) end

-- NumPy in the same run, on arrays of the same sizes
local numpy = {}
local py = io.popen(string.format([[/usr/bin/python3 - <<'PY' 2>/dev/null
import numpy as np, time
N, side = %d, %d
rng = np.random.default_rng(0)
a = rng.standard_normal(N); m = rng.standard_normal((side, side))
def best(f, reps=7):
    t = 1e9
    for _ in range(reps):
        t0 = time.perf_counter(); f(); t = min(t, time.perf_counter() - t0)
    return t
for code in %s:
    print(best(eval('lambda: ' + code)))
PY]], N, side, (function()
  local q = {}
  for _, c in ipairs(cases) do q[#q + 1] = string.format('%q', c[3]) end
  return '[' .. table.concat(q, ', ') .. ']'
end)()))
for line in py:lines() do numpy[#numpy + 1] = tonumber(line) end
py:close()

print(string.format('%d elements (float64), %dx%d for the transpose; best of 7', N, side, side))
print(string.format('%-40s %12s %12s %8s %10s', 'case', 'symlua ms', 'numpy ms', 'ratio', 'GB/s'))
for i, c in ipairs(cases) do
  local gbs = (i == 5 or i == 6) and '' or string.format('%.1f', 16 * N / mine[i] / 1e9)
  if i == 3 then gbs = string.format('%.1f', 8 * N / mine[i] / 1e9) end
  if i == 4 then gbs = string.format('%.1f', 12 * N / mine[i] / 1e9) end
  local np = numpy[i]
  print(string.format('%-40s %12.2f %12s %8s %10s', c[1], mine[i] * 1e3,
    np and string.format('%.2f', np * 1e3) or 'n/a',
    np and string.format('%.2f', mine[i] / np) or 'n/a', gbs))
end
if #numpy == 0 then print('(NumPy not available: install python3-numpy for the reference column)') end
