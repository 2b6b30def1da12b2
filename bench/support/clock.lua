-- The benches' wall clock: seconds from CLOCK_MONOTONIC (os.clock counts
-- CPU time, which threads inflate). Loaded with dofile next to a bench.
local ffi = require 'ffi'
pcall(ffi.cdef, [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk, bench_timespec *ts);
]])
local ts = ffi.new('bench_timespec')

return function()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end
