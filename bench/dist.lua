-- sl.dist on this machine: allreduce bandwidth of sl.dist.allreduce against
-- MPI_Allreduce called directly in C (bench/c/allreduce.c, built here with
-- mpicc) on the same float64 buffers, in place, sum; and examples/s of the
-- MLP training step (bench/support/steps.lua) on 1 rank and data-parallel
-- on 2, one thread per rank. Best of 5 rounds each.
--
-- Run: bin/symlua bench/dist.lua
-- It launches its own jobs (mpirun -np 1 and -np 2 on localhost, shared
-- memory only) and prints one table of what they measured.
local here = (arg and arg[0] or ''):match('^(.*/)') or './'
local ROUNDS = 5
local SIZES = { 1024, 65536, 1048576, 8388608 }   -- float64 elements

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function read_command(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read('*a')
  p:close()
  return out
end

-- -- in a job: measure, and rank 0 prints "result KEY VALUE" lines --------------------
local function worker(what, clib_path)
  local sl = require 'symlua'
  local now = dofile(here .. 'support/clock.lua')
  local dist = sl.dist.init()
  local rank, size = dist.rank(), dist.size()
  local function result(key, value) if rank == 0 then print(('result %s %.9g'):format(key, value)) end end

  if what == 'allreduce' then
    local ffi = require 'ffi'
    ffi.cdef('double bench_allreduce_seconds(double *buf, int n, int reps, int rounds);')
    local clib = ffi.load(clib_path)
    for _, n in ipairs(SIZES) do
      local t = sl.zeros(n)   -- zeros: repeated sums stay finite
      local reps = math.max(5, math.floor(2 ^ 24 / n))
      local ptr = ffi.cast('double *', t:_ptr())
      local unchecked = { check = false }
      local function round(opts)   -- one round of sl.dist.allreduce, barriers around it as in C
        dist.barrier()
        local t0 = now()
        for _ = 1, reps do dist.allreduce(t, 'sum', opts) end
        dist.barrier()
        return (now() - t0) / reps
      end
      -- a warm-up call of each (pages touched, connections made), then
      -- rounds taken in turn, so all see the same machine
      clib.bench_allreduce_seconds(ptr, n, 1, 1)
      dist.allreduce(t, 'sum')
      local direct, ours, bare = math.huge, math.huge, math.huge
      for _ = 1, ROUNDS do
        direct = math.min(direct, clib.bench_allreduce_seconds(ptr, n, reps, 1))
        ours = math.min(ours, round())
        bare = math.min(bare, round(unchecked))
      end
      result('mpi_' .. n, direct)
      result('ours_' .. n, ours)
      result('bare_' .. n, bare)
    end
  else   -- 'step': the MLP step on this job's ranks, ROWS rows each
    local rows = tonumber(clib_path)
    local steps = dofile(here .. 'support/steps.lua')
    local train, args = steps.mlp({ batch = rows, dist = size > 1 })
    for _ = 1, 3 do train(unpack(args)) end   -- warm: compiled, caches filled
    -- the optimized code, not libtcc's first tier (SYMLUA_COMPILE=sync below)
    local tier = train:info().tier
    if tier ~= 'cc' then error(('bench/dist.lua: the step runs %s code, not the optimized code'):format(tier)) end
    local reps, best = 20, math.huge
    for _ = 1, ROUNDS do
      dist.barrier()
      local t0 = now()
      for _ = 1, reps do train(unpack(args)) end
      dist.barrier()
      best = math.min(best, (now() - t0) / reps)
    end
    result('step', rows * size / best)
  end
end

if os.getenv('OMPI_COMM_WORLD_SIZE') then return worker(arg[1], arg[2]) end

-- -- the driver: build the C baseline, launch the jobs, print the table ------------------
local function which(cmd) return (read_command('command -v ' .. cmd .. ' 2>/dev/null'):gsub('%s+$', '')) end
local mpirun, mpicc = which('mpirun'), which('mpicc')
if mpirun == '' or mpicc == '' then
  print('bench/dist.lua: skipped: needs mpirun and mpicc (apt-get install openmpi-bin libopenmpi-dev)')
  return
end
local symlua = arg[-1] or 'bin/symlua'
local tmpdir = read_command('mktemp -d'):gsub('%s+$', '')
local so = tmpdir .. '/bench_allreduce.so'
if os.execute(('%s -O2 -fPIC -shared -o %s %s'):format(quote(mpicc), quote(so), quote(here .. 'c/allreduce.c'))) ~= 0 then
  error('bench/dist.lua: mpicc could not build bench/c/allreduce.c')
end

-- one thread per rank; shared memory between the ranks of this machine; the
-- optimizing compiler from the first call, so every row times optimized code
-- (tiered, a short job would time libtcc's code, ten times slower, while gcc
-- builds in the background)
local ENV = 'OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader '
  .. 'OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 SYMLUA_COMPILE=sync'
local function job(np, ...)
  local cmd = table.concat({ ENV, quote(mpirun), '-np', np, '--oversubscribe', '--bind-to none',
                             quote(symlua), quote(arg[0]), ... }, ' ')
  local out = read_command(cmd .. ' 2>&1')
  local got = {}
  for key, value in out:gmatch('result (%S+) (%S+)') do got[key] = tonumber(value) end
  if not next(got) then error('bench/dist.lua: the job printed no results:\n' .. out) end
  return got
end

local function loadavg()
  local f = io.open('/proc/loadavg')
  local s = f and f:read('*l') or '?'
  if f then f:close() end
  return s:match('^(%S+ %S+ %S+)') or s
end
local load_start = loadavg()
local ar = job(2, 'allreduce', quote(so))
local one = job(1, 'step', 128).step
local strong = job(2, 'step', 64).step
local weak = job(2, 'step', 128).step
os.execute('rm -rf ' .. quote(tmpdir))

print(('allreduce, 2 ranks on this machine, float64 sum in place, best of %d rounds'):format(ROUNDS))
print('GB/s = bytes per rank / seconds per call; ratio = sl.dist / MPI_Allreduce in C;')
print('unchecked: { check = false }, without the message per call that compares shapes across ranks')
print(('%10s  %8s  %8s  %12s  %10s  %6s  %12s  %6s'):format('elements', 'MiB', 'MPI GB/s', 'sl.dist GB/s',
                                                           'sl.dist us', 'ratio', 'unchecked us', 'ratio'))
for _, n in ipairs(SIZES) do
  local bytes, mpi, ours, bare = n * 8, ar['mpi_' .. n], ar['ours_' .. n], ar['bare_' .. n]
  print(('%10d  %8.3f  %8.2f  %12.2f  %10.1f  %6.2f  %12.1f  %6.2f'):format(n, bytes / 2 ^ 20, bytes / mpi / 1e9,
        bytes / ours / 1e9, ours * 1e6, mpi / ours, bare * 1e6, mpi / bare))
end
print()
print(('MLP step (784-256-128-100-10, Adam, float32), one thread per rank, best of %d rounds'):format(ROUNDS))
print(('%5s  %9s  %11s  %11s  %9s'):format('ranks', 'rows/rank', 'batch', 'examples/s', 'vs 1 rank'))
for _, row in ipairs({ { 1, 128, one }, { 2, 64, strong }, { 2, 128, weak } }) do
  print(('%5d  %9d  %11d  %11.0f  %8.2fx'):format(row[1], row[2], row[1] * row[2], row[3], row[3] / one))
end
print(('load average %s at the start, %s at the end (2 ranks need both cores of a 2-core machine)'):format(load_start, loadavg()))
