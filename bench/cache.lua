-- Compile latency of generated code: a cold compile with the system
-- compiler, a compile in memory with libtcc, and loads from the disk cache
-- (in the same process, and as the first compile of a fresh process, which
-- also asks the compiler for its version once). Medians, in a scratch cache
-- directory; ratios are against the cold compile measured in the same run.
-- Run: bin/symlua bench/cache.lua [repeats]   (default 7)
local sl = require 'symlua'
local core = require 'symlua.core'
local ffi = require 'ffi'
local now = dofile(((arg and arg[0] or ''):match('^(.*/)') or './') .. 'support/clock.lua')

local REPEATS = tonumber(arg and arg[1]) or 7

local function median(t)
  table.sort(t)
  return t[math.floor((#t + 1) / 2)]
end

-- A small module such as the code generator writes: one fused kernel over
-- contiguous float64 operands, parallel above a threshold, vector math.
local function module_source(tag)
  return '#define SL_VECTOR_MATH 1\n' .. core.cc_prelude() .. ([[
#include <stdint.h>
void kernel_%d(int64_t n, double *restrict out, const double *restrict a,
               const double *restrict b, const double *restrict c, const double *restrict d)
{
  #pragma omp parallel for simd if (n > 32768) schedule(static)
  for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i] + c[i] * sl_exp(d[i]);
}
double f(double x) { return sl_mod(x, 3.0) + %d; }
]]):format(tag, tag)
end

local dir = io.popen('mktemp -d'):read('*l')
sl.config.cache_dir = dir
local nonce = math.floor(now() * 1000) % 1000000   -- fresh sources on every run

local function time_compile(src, how)
  local t = now()
  core.cc_call(src, 'f', 1, how)
  return now() - t
end

local cold, tcc, hit = {}, {}, {}
for i = 1, REPEATS do cold[i] = time_compile(module_source(nonce * 100 + i), 'cc') end
local src = module_source(nonce * 100)
time_compile(src, 'cc')
for i = 1, REPEATS * 5 do hit[i] = time_compile(src, 'cc') end
if core.has_tcc then
  for i = 1, REPEATS * 5 do tcc[i] = time_compile(src, 'tcc') end
end

-- The first compile of a fresh process, served from the cache.
local script = os.tmpname()
local f = assert(io.open(script, 'w'))
f:write(([[
local core = require 'symlua.core'
local ffi = require 'ffi'
ffi.cdef 'typedef struct { long s, ns; } ts_t; int clock_gettime(int, ts_t *);'
local ts = ffi.new('ts_t')
ffi.C.clock_gettime(1, ts)
local t0 = tonumber(ts.s) + tonumber(ts.ns) * 1e-9
core.cc_call(%q, 'f', 1)
ffi.C.clock_gettime(1, ts)
local info = require('symlua').cache_info()
io.write(tonumber(ts.s) + tonumber(ts.ns) * 1e-9 - t0, ' ', info.hits)
]]):format(src))
f:close()
local fresh, all_hits = {}, true
pcall(ffi.cdef, 'long readlink(const char *path, char *buf, size_t size);')
local buf = ffi.new('char[4096]')
local n = ffi.C.readlink('/proc/self/exe', buf, 4096)
local exe = n > 0 and ffi.string(buf, n) or 'bin/symlua'   -- this symlua binary
for i = 1, REPEATS do
  local p = io.popen(("SYMLUA_CACHE_DIR='%s' '%s' '%s'"):format(dir, exe, script))
  local t, hits = p:read('*a'):match('^(%S+) (%S+)$')
  p:close()
  fresh[i] = tonumber(t)
  all_hits = all_hits and hits == '1'
end
os.remove(script)
sl.cache_clear()
os.execute("rm -rf '" .. dir .. "'")

local base = median(cold)
print(('Compile latency of a one-kernel module (%d bytes of C with the prelude), median of %d'):format(#src, REPEATS))
print('')
print('| step | ms | vs cold cc compile |')
print('|---|---:|---:|')
local function row(name, t)
  if t then print(('| %s | %.3f | %.4f |'):format(name, t * 1e3, t / base)) end
end
row('cold compile, ' .. (os.getenv('CC') or 'cc') .. ' (default flags)', base)
row('in memory, libtcc', core.has_tcc and median(tcc) or nil)
row('cache hit, same process', median(hit))
row('cache hit, first compile of a fresh process' .. (all_hits and '' or ' (NOT ALL HITS)'), median(fresh))
print('')
print('Target: a cache hit loads in <= 5 ms.')
