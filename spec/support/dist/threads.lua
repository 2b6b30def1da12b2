-- Run by spec/dist_spec.lua under mpirun: the threads each rank's kernels
-- and BLAS calls take. Prints "rank R of N: T threads, C of O cores, L
-- local": sl.config.threads, the cores this rank may run on, those online,
-- and the ranks on this machine.
local sl = require 'symlua'
local dist = sl.dist.init()
local function number_from(cmd)
  local p = assert(io.popen(cmd))
  local n = tonumber(p:read('*l'))
  p:close()
  return n
end
print(('rank %d of %d: %d threads, %d of %d cores, %s local'):format(dist.rank(), dist.size(), sl.config.threads,
  number_from('nproc'), number_from('getconf _NPROCESSORS_ONLN'), os.getenv('OMPI_COMM_WORLD_LOCAL_SIZE')))
