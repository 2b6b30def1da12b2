-- kernels/vmath.h against libm: builds bench/vmath.c the way generated code
-- is built (-O3 -march=native -fopenmp -fno-math-errno) and runs it on one
-- thread; it prints a table of ns per element for each function, the libm
-- loop's, and a loop moving the same bytes (the memory bound), with ratios.
-- Then the same functions as compiled symlua functions on one thread: ns per
-- element of the code libtcc builds (the first tier, which calls the copies
-- of vmath.h built into symlua) and of the optimizing compiler's code.
-- Run: bin/symlua bench/vmath.lua [elements]   (default 10,000,000)
local n = tonumber(arg and arg[1]) or 10000000
local cc = os.getenv('CC') or 'cc'

local p = io.popen('mktemp -d')
local dir = p:read('*l')
p:close()

local build = string.format('%s -std=gnu11 -O3 -march=native -fopenmp -fno-math-errno -o %s/vmath bench/vmath.c -lm 2>&1',
  cc, dir)
local out = io.popen(build)
local log = out:read('*a')
local built = out:close()
if not built then
  os.execute('rm -rf ' .. dir)
  io.stderr:write('bench/vmath.c did not build:\n' .. log)
  os.exit(1)
end
local ok = os.execute(string.format('OMP_NUM_THREADS=1 %s/vmath %d', dir, n))
os.execute('rm -rf ' .. dir)
if ok ~= 0 and ok ~= true then os.exit(1) end

-- -- through compiled functions: both tiers of the C backend -------------------------------
local sl = require 'symlua'
local core = require 'symlua.core'
if not core.has_tcc then print('\n(no libtcc in this binary: the tier table is skipped)') return end
local here = (arg and arg[0] or ''):match('^(.*/)') or './'
local best = dofile(here .. 'support/best.lua')(dofile(here .. 'support/clock.lua'))
sl.config.threads = 1
sl.config.mode = 'c'
local m = math.min(n, 1000000)
local function ns(name, dtype, tier)
  sl.config.compile = tier
  local x = sl.vector('x', dtype)
  local f = sl.compile({ x }, sl[name](x))
  local xv = sl.randn(m, dtype) * 4
  return best(function() f(xv) end, 5) / m * 1e9
end
print()
print(('compiled functions, %d elements, one thread: ns per element'):format(m))
print()
print('| function | tcc code | optimized code | ratio |')
print('|---|---:|---:|---:|')
for _, name in ipairs({ 'exp', 'tanh', 'sigmoid', 'log' }) do
  for _, dtype in ipairs({ 'float32', 'float64' }) do
    local t, c = ns(name, dtype, 'tcc'), ns(name, dtype, 'sync')
    print(('| %s %s | %.1f | %.1f | %.1fx |'):format(name, dtype, t, c, t / c))
  end
end
