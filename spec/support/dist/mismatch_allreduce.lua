-- Run by spec/dist_spec.lua under mpirun: rank 1's tensor has another shape;
-- every rank's allreduce refuses it, naming both, and the job goes on.
local sl = require 'symlua'
local dist = sl.dist.init()
local rank = dist.rank()
local ok, err = pcall(dist.allreduce, sl.ones(rank == 1 and 5 or 4), 'sum')
assert(not ok, 'the mismatched allreduce was accepted')
print(('rank %d refused: %s'):format(rank, err))
local t = dist.allreduce(sl.ones(2) * (rank + 1), 'sum')
print(('rank %d then reduced %g'):format(rank, t:totable()[1]))
