-- sl.dist. In this process (no MPI launcher) it is one rank and every
-- collective is the identity; the collectives across ranks, data-parallel
-- training and failures run spec/support/dist/*.lua under mpirun with 2
-- and 3 ranks on localhost (skipped, saying why, where mpirun is absent).
local sl = require 'symlua'
local files = require 'spec.support.files'

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function allreduces(vars)
  local count, seen = 0, {}
  local function walk(v)
    local node = v:owner()
    if not node or seen[node:outputs()[1]:id()] then return end
    seen[node:outputs()[1]:id()] = true
    if node:op() == 'allreduce' then count = count + 1 end
    for _, input in ipairs(node:inputs()) do walk(input) end
  end
  for _, v in ipairs(vars) do walk(v) end
  return count
end

describe('sl.dist in one process', function()
  it('is rank 0 of 1 with no MPI opened', function()
    sl.dist.init()
    assert.are.equal(0, sl.dist.rank())
    assert.are.equal(1, sl.dist.size())
    assert.is_nil(sl.dist.library())
    sl.dist.barrier()
  end)

  it('leaves tensors as they are and returns them', function()
    local t = sl.tensor({ 1.5, -2, 3 })
    for _, op in ipairs({ 'sum', 'mean', 'max', 'min', 'prod' }) do
      assert.are.equal(t, sl.dist.allreduce(t, op))
      assert.are.same({ 1.5, -2, 3 }, t:totable())
    end
    assert.are.same({ 1.5, -2, 3 }, sl.dist.broadcast(t, 0):totable())
    local g = sl.dist.allgather(sl.tensor({ { 1, 2 } }, 'int32'))
    assert.are.same({ { 1, 2 } }, g:totable())
    assert.are.same({ 7 }, sl.dist.allgather(sl.tensor(7)):totable())
  end)

  it('refuses reductions a dtype does not have, naming both', function()
    local function err(f) local ok, e = pcall(f) assert.is_false(ok) return tostring(e) end
    assert.matches('unknown reduction \'avg\'', err(function() sl.dist.allreduce(sl.ones(2), 'avg') end))
    assert.matches('sum of bool', err(function() sl.dist.allreduce(sl.tensor({ true }), 'sum') end))
    assert.matches('mean of int32', err(function() sl.dist.allreduce(sl.ones(2, 'int32'), 'mean') end))
    assert.matches('max of complex', err(function()
      sl.dist.allreduce(sl.complex(sl.ones(2), sl.ones(2)), 'max') end))
    assert.matches('root 1 is not a rank %(0..0%)', err(function() sl.dist.broadcast(sl.ones(2), 1) end))
    -- in a graph the error comes when the node is built, at the user's line
    assert.matches('dist_spec.lua:%d+: .*mean of int64', err(function()
      sl.dist.allreduce(sl.lvector('v'), 'mean') end))
  end)

  it('data_parallel buckets gradients by dtype and size, one allreduce each', function()
    local a, b, c = sl.vector('a'), sl.matrix('b'), sl.fvector('c')
    local a3, b23 = sl.shared(sl.zeros(3), 'a3'), sl.shared(sl.zeros(2, 3), 'b23')
    local c4 = sl.shared(sl.zeros(4, 'float32'), 'c4')
    local grads, params = { a3 * 2, b23 * 3, c4 * 1 }, { a3, b23, c4 }
    -- float64 and float32; the parameters give the sizes
    assert.are.equal(2, allreduces(sl.dist.data_parallel(grads, { params = params })))
    assert.are.equal(3, allreduces(sl.dist.data_parallel(grads, { params = params, bucket_bytes = 48 })))
    -- the split pieces have their gradients' shapes and values (size 1: the mean is g)
    local out = sl.dist.data_parallel(grads, { params = params })
    assert.are.same({ 2, 3 }, out[2]:static_shape())
    local f = sl.compile({}, out)
    local r1, r2, r3 = f()
    assert.are.same({ 0, 0, 0 }, r1:totable())
    assert.are.same({ { 0, 0, 0 }, { 0, 0, 0 } }, r2:totable())
    assert.are.equal('float32', r3:dtype())
    -- a gradient of a size known only at run time is reduced on its own
    assert.are.equal(3, allreduces(sl.dist.data_parallel({ a * 2, b * 2, c * 2 })))
    assert.are.equal(3, allreduces(sl.dist.data_parallel(grads)))
  end)

  it('the allreduce of a bucket reduces it in its own buffer (inplace_allreduce), never an input', function()
    local W, b = sl.shared(sl.ones(3, 2), 'W'), sl.shared(sl.ones(2), 'b')
    local x = sl.matrix('x')
    local loss = (x:dot(W) + b):sum()
    local grads = sl.dist.data_parallel(sl.grad(loss, { W, b }), { params = { W, b } })
    local f = sl.compile({ x }, grads)
    local gW, gb = f(sl.tensor({ { 1, 2, 3 } }))
    assert.are.same({ { 1, 1 }, { 2, 2 }, { 3, 3 } }, gW:totable())
    assert.are.same({ 1, 1 }, gb:totable())
    assert.are.equal(1, f:info().rewrites.inplace_allreduce)
    -- a function input is the caller's: reduced through a copy
    local v = sl.vector('v')
    local g = sl.compile({ v }, sl.dist.allreduce(v, 'sum'))
    local arg = sl.tensor({ 1.5, 2 })
    assert.are.same({ 1.5, 2 }, g(arg):totable())
    assert.is_nil(g:info().rewrites.inplace_allreduce)
    assert.are.same({ 1.5, 2 }, arg:totable())
  end)

  it('data.batches shards every epoch; the shards together are one process\'s batches', function()
    local rows = sl.arange(1, 12):reshape(11, 1)   -- row i holds i
    for _, opts in ipairs({ { shuffle = false }, { shuffle = true, seed = 5 } }) do
      local whole = {}
      for b, x in sl.data.batches(rows, 6, opts) do whole[b] = x:reshape(-1):totable() end
      local joined = {}
      for r = 0, 2 do
        local o = { shuffle = opts.shuffle, seed = opts.seed, rank = r, size = 3 }
        for b, x in sl.data.batches(rows, 2, o) do
          joined[b] = joined[b] or {}
          for _, v in ipairs(x:reshape(-1):totable()) do table.insert(joined[b], v) end
          assert.is_true(x:size(1) == 2 or b == 2, 'full batches have batch_size rows per rank')
        end
      end
      assert.are.same(whole, joined)
    end
    local ok, e = pcall(sl.data.batches, rows, 2, { rank = 3, size = 3 })
    assert.is_false(ok)
    assert.matches('rank must be an integer in 0..2, got 3', e)
  end)
end)

-- -- across ranks -------------------------------------------------------------------------
local function which(cmd)
  local p = io.popen('command -v ' .. cmd .. ' 2>/dev/null')
  local path = p:read('*l')
  p:close()
  return path
end
local mpirun = which('mpirun')

-- mpirun -np n symlua script: its output (stdout and stderr) and exit code;
-- bounded by `timeout` so a hang fails the spec instead of stopping it
local function launch(n, script, env)
  local cmd = table.concat({
    'cd', quote(files.root), '&&', env or '',
    'OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader',
    -- Open MPI itself leaks at exit; symlua's own leaks are the single-process specs' to find
    'ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0',
    'timeout 120', quote(mpirun), '-np', n, '--oversubscribe',
    quote(files.symlua), quote('spec/support/dist/' .. script), '2>&1; echo "exit:$?"' }, ' ')
  local p = assert(io.popen(cmd, 'r'))
  local out = p:read('*a')
  p:close()
  return out:gsub('exit:%d+\n$', ''), tonumber(out:match('exit:(%d+)\n$'))
end

local function count(s, pattern)
  local n = 0
  for _ in s:gmatch(pattern) do n = n + 1 end
  return n
end

describe('sl.dist across ranks (mpirun)', function()
  if not mpirun then
    it('needs mpirun', function() pending('mpirun is not installed (apt-get install openmpi-bin)') end)
    return
  end

  for _, n in ipairs({ 1, 2, 3 }) do
    it(n .. ' rank' .. (n > 1 and 's' or '') .. ': every collective on every dtype matches the hand-computed values', function()
      local out, code = launch(n, 'collectives.lua')
      assert.are.equal(0, code, out)
      assert.are.equal(n, count(out, 'rank %d of ' .. n .. ': 82 checks passed'), out)
    end)
  end

  for _, n in ipairs({ 2, 3 }) do
    it(n .. ' ranks: a data-parallel step equals one process\'s step on the joined batch', function()
      local out, code = launch(n, 'train.lua')
      assert.are.equal(0, code, out)
      assert.are.equal(n, count(out, 'rank %d of ' .. n .. ': parameters match'), out)
    end)
  end

  it('a checkpoint written by rank 0 and loaded by all continues with the same numbers', function()
    local p = assert(io.popen('mktemp -d'))
    local dir = p:read('*l')
    p:close()
    local out, code = launch(2, 'checkpoint.lua', 'PHASE=first DIR=' .. quote(dir))
    assert.are.equal(0, code, out)
    assert.are.equal(2, count(out, 'rank %d of 2: saved'), out)
    -- rank 0 wrote the parameters and Adam's state (t, m and v of each)
    local names = {}
    for name in io.popen('ls ' .. quote(dir .. '/epoch1')):lines() do names[#names + 1] = name end
    assert.are.equal(13, #names, table.concat(names, ' '))
    out, code = launch(2, 'checkpoint.lua', 'PHASE=resume DIR=' .. quote(dir))
    os.execute('rm -rf ' .. quote(dir))
    assert.are.equal(0, code, out)
    assert.are.equal(2, count(out, 'rank %d of 2: resumed exactly'), out)
  end)

  it('a rank that raises ends the job, named, while the others wait for it', function()
    local out, code = launch(3, 'fail.lua')
    assert.are_not.equal(0, code, out)
    assert.are_not.equal(124, code, 'the job hung:\n' .. out)
    assert.matches('fail.lua:5: rank 2 gives up', out)
    assert.matches('symlua: rank 2 of 3 failed %(exit status 1%); ending the job', out)
    assert.is_nil(out:find('finished the allreduce', 1, true), out)
  end)

  it('a rank that exits with a failing status ends the job, named', function()
    local out, code = launch(3, 'die.lua', 'DIE=exit')
    assert.are.equal(3, code, out)
    assert.matches('symlua: rank 2 of 3 failed %(exit status 3%); ending the job', out)
    assert.is_nil(out:find('finished the allreduce', 1, true), out)
  end)

  it('a rank that is killed ends the job, named', function()
    local out, code = launch(2, 'die.lua', 'DIE=kill')
    assert.are_not.equal(0, code, out)
    assert.are_not.equal(124, code, 'the job hung:\n' .. out)
    assert.matches('process rank 1 with PID %d+ on node %S+ exited on signal 9', out)
    assert.is_nil(out:find('finished the allreduce', 1, true), out)
  end)

  -- each rank left at all cores made the step twenty times slower: every
  -- rank's OpenMP threads spun for the cores the other ranks held
  -- and ranks that took every core spun while they waited, holding the core
  -- a preempted partner waited for (a step under load took three times as long)
  local unset = 'env -u OMP_NUM_THREADS -u OPENBLAS_NUM_THREADS -u OMPI_MCA_mpi_yield_when_idle '
    .. 'OMPI_MCA_hwloc_base_binding_policy=none'
  local line = 'rank (%d+) of %d+: (%d+) threads, (%d+) of (%d+) cores, (%d+) local, yield (%w+)'
  for _, n in ipairs({ 2, 3 }) do
    it(n .. ' unbound ranks on one machine share its cores: cores / ranks threads each, yielding when they take all', function()
      local out, code = launch(n, 'threads.lua', unset)
      assert.are.equal(0, code, out)
      local seen = 0
      for r, threads, mine, online, loc, yield in out:gmatch(line) do
        threads, mine, online = tonumber(threads), tonumber(mine), tonumber(online)
        assert.are.equal(n, tonumber(loc))
        -- a rank held to fewer cores than are online (taskset) is left to OpenMP, which counts those
        local want = mine < online and 0 or math.max(1, math.floor(online / n))
        assert.are.equal(want, threads, 'rank ' .. r .. ':\n' .. out)
        assert.are.equal(n >= online and '1' or 'nil', yield, 'rank ' .. r .. ':\n' .. out)
        seen = seen + 1
      end
      assert.are.equal(n, seen, out)
    end)
  end

  it('a thread count and a wait the user chose are left alone', function()
    local out, code = launch(2, 'threads.lua', unset .. ' OMP_NUM_THREADS=2 OMPI_MCA_mpi_yield_when_idle=0')
    assert.are.equal(0, code, out)
    assert.are.equal(2, count(out, 'rank %d of 2: 0 threads, [^\n]*, yield 0\n'), out)
  end)

  it('an allreduce of a tensor whose shape differs on one rank is an error on every rank', function()
    local out, code = launch(3, 'mismatch_allreduce.lua')
    assert.are.equal(0, code, out)
    assert.are.equal(3, count(out, 'rank %d refused: [^\n]*dist.allreduce: rank 1 has float64 %(5%) but rank 0 has float64 %(4%)'), out)
    assert.are.equal(3, count(out, 'rank %d then reduced 6'), out)
  end)

  it('a parameter whose shape differs on one rank is an error naming it', function()
    local out, code = launch(2, 'mismatch.lua')
    assert.are_not.equal(0, code, out)
    assert.matches("parameter 'W' is float64 %(3, 5%) on rank 1 but float64 %(3, 4%) on rank 0", out)
    assert.is_nil(out:find('accepted the parameters', 1, true), out)
  end)
end)
