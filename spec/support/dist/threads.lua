-- Run by spec/dist_spec.lua under mpirun: the threads each rank's kernels
-- and BLAS calls take, and how it waits. Prints "rank R of N: T threads, C
-- of O cores, L local, yield Y": sl.config.threads, the cores this rank may
-- run on, those online, the ranks on this machine, and Open MPI's
-- mpi_yield_when_idle as the rank's MPI_Init read it.
local sl = require 'symlua'
local dist = sl.dist.init()
local function number_from(cmd)
  local p = assert(io.popen(cmd))
  local n = tonumber(p:read('*l'))
  p:close()
  return n
end
print(('rank %d of %d: %d threads, %d of %d cores, %s local, yield %s'):format(dist.rank(), dist.size(),
  sl.config.threads, number_from('nproc'), number_from('getconf _NPROCESSORS_ONLN'),
  os.getenv('OMPI_COMM_WORLD_LOCAL_SIZE'), tostring(os.getenv('OMPI_MCA_mpi_yield_when_idle'))))
