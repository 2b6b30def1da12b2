-- Run by spec/dist_spec.lua under mpirun: rank 1's parameter W has another
-- shape; data-parallel training must refuse it, naming W.
local sl = require 'symlua'
local dist = sl.dist.init()
local W = sl.shared(sl.zeros(3, dist.rank() == 1 and 5 or 4), 'W')
sl.dist.data_parallel({ W * 2 }, { params = { W } })
print('rank ' .. dist.rank() .. ' accepted the parameters')
