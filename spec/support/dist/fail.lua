-- Run by spec/dist_spec.lua under mpirun: the last rank raises while the
-- others wait in an allreduce it never joins; the job must end, naming it.
local sl = require 'symlua'
local dist = sl.dist.init()
if dist.rank() == dist.size() - 1 then error('rank ' .. dist.rank() .. ' gives up') end
dist.allreduce(sl.ones(4), 'sum')
print('rank ' .. dist.rank() .. ' finished the allreduce')
