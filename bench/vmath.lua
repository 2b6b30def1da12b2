-- kernels/vmath.h against libm: builds bench/vmath.c the way generated code
-- is built (-O3 -march=native -fopenmp -fno-math-errno) and runs it on one
-- thread; it prints a table of ns per element for each function, the libm
-- loop's, and a loop moving the same bytes (the memory bound), with ratios.
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
