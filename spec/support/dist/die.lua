-- Run by spec/dist_spec.lua under mpirun: the last rank dies (DIE=exit:
-- os.exit(3); DIE=kill: SIGKILL) while the others wait in an allreduce it
-- never joins; the job must end, naming it, instead of waiting forever.
local sl = require 'symlua'
local dist = sl.dist.init()
if dist.rank() == dist.size() - 1 then
  if os.getenv('DIE') == 'exit' then os.exit(3) end
  os.execute('kill -9 $PPID')   -- the shell's parent: this rank
end
dist.allreduce(sl.ones(4), 'sum')
print('rank ' .. dist.rank() .. ' finished the allreduce')
