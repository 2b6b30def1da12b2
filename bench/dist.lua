-- Allreduce bandwidth: sl.dist.allreduce against MPI_Allreduce called
-- directly (through LuaJIT's FFI, no symlua code between) on the same
-- float64 buffers, in place, sum. Prints, per size, each one's algorithm
-- bandwidth (bytes per rank / seconds per call; best of 5 rounds) and the
-- ratio. Open MPI only, like sl.dist.
-- Run: mpirun -np 2 --oversubscribe bin/symlua bench/dist.lua
--      (as root add --allow-run-as-root; localhost: --mca btl self,vader)
local sl = require 'symlua'
local ffi = require 'ffi'
local now = dofile(((arg and arg[0] or ''):match('^(.*/)') or './') .. 'support/clock.lua')

local dist = sl.dist.init()
local rank, size = dist.rank(), dist.size()
if size < 2 then
  io.stderr:write('bench/dist.lua: run it under mpirun with 2 or more ranks\n')
  os.exit(1)
end

pcall(ffi.cdef, [[
  int MPI_Allreduce(const void *send, void *recv, int count, void *type, void *op, void *comm);
  int MPI_Barrier(void *comm);
  extern char ompi_mpi_double[], ompi_mpi_op_sum[], ompi_mpi_comm_world[];
]])
local mpi = ffi.load('libmpi.so.40', true)
local IN_PLACE = ffi.cast('void *', 1)

local function best_time(reps, fn)
  local best = math.huge
  for _ = 1, 5 do
    mpi.MPI_Barrier(mpi.ompi_mpi_comm_world)
    local t0 = now()
    for _ = 1, reps do fn() end
    mpi.MPI_Barrier(mpi.ompi_mpi_comm_world)
    best = math.min(best, (now() - t0) / reps)
  end
  return best
end

if rank == 0 then
  print(('%d ranks, float64 sum in place; GB/s = bytes per rank / time per call'):format(size))
  print(('%10s  %12s  %12s  %12s  %12s  %6s'):format('elements', 'bytes', 'sl.dist GB/s', 'MPI GB/s',
                                                     'sl.dist us', 'ratio'))
end
for _, n in ipairs({ 1024, 65536, 1048576, 8388608 }) do
  local t = sl.ones(n)
  local ptr = ffi.cast('void *', t:_ptr())
  local reps = math.max(3, math.floor(2 ^ 24 / n))
  local direct = best_time(reps, function()
    mpi.MPI_Allreduce(IN_PLACE, ptr, n, mpi.ompi_mpi_double, mpi.ompi_mpi_op_sum, mpi.ompi_mpi_comm_world)
  end)
  local ours = best_time(reps, function() dist.allreduce(t, 'sum') end)
  if rank == 0 then
    local bytes = n * 8
    print(('%10d  %12d  %12.2f  %12.2f  %12.1f  %6.2f'):format(n, bytes, bytes / ours / 1e9,
      bytes / direct / 1e9, ours * 1e6, direct / ours))
  end
end
