-- sl.dist: the ranks of an MPI job (core/dist), and data-parallel training
-- on them. Ranks are 0-based, as MPI and mpirun's messages number them.
-- Outside an MPI job the process is rank 0 of 1 and every call leaves its
-- tensor as it is.
--
--   sl.dist.init()                      joins the job (the other calls do it too)
--   sl.dist.rank(), size(), barrier()
--   sl.dist.allreduce(t, op, opts)      op: sum (default), mean, max, min, prod;
--                                       a tensor is reduced in place and returned,
--                                       a variable gives the graph op allreduce;
--                                       opts.check = false skips comparing the
--                                       tensor's dtype and shape across ranks
--                                       (a message per call: it doubles the
--                                       latency of a small allreduce)
--   sl.dist.broadcast(t, root)          rank root's values (default 0), in place
--   sl.dist.allgather(t)                every rank's t joined along axis 1 (rank order)
--   sl.dist.broadcast_params(params)    rank 0's values of shared variables
--   sl.dist.save_params(dir, params)    a checkpoint written by rank 0 only
--   sl.dist.load_params(dir, params)    read by rank 0, its values on every rank
--   sl.dist.data_parallel(grads, opts)  the gradients averaged over the ranks
return function(sl)
  local core = sl.core
  local cd = core.dist
  local fail = core.fail
  local dist = {}
  sl.dist = dist

  -- In a job, os.exit with a failing status ends every rank, as an error
  -- does (bin/symlua): exiting would otherwise wait in MPI_Finalize for
  -- ranks that wait in a collective for this one.
  local function exit_ends_job()
    local exit = os.exit
    os.exit = function(code, close)   -- luacheck: ignore 122
      if code ~= nil and code ~= true and code ~= 0 then cd.abort(type(code) == 'number' and code or 1) end
      return exit(code, close)
    end
  end

  local joined = false
  function dist.init()
    if not joined then
      cd.init()
      joined = true
      if cd.size() > 1 then exit_ends_job() end
    end
    return dist
  end
  local function join() if not joined then dist.init() end end

  function dist.rank() join() return cd.rank() end
  function dist.size() join() return cd.size() end
  function dist.library() join() return cd.library() end
  function dist.barrier() join() cd.barrier() end

  function dist.allreduce(t, op, opts)
    join()
    op = op or 'sum'
    if sl.is_var(t) then return core.apply('allreduce', { v = { cd.op_code(op) } }, t) end
    if not sl.is_tensor(t) then fail('dist.allreduce: expected a tensor or a variable, got %s', type(t)) end
    if opts ~= nil and type(opts) ~= 'table' then fail('dist.allreduce: opts must be a table, got %s', type(opts)) end
    return cd.allreduce(t, op, not opts or opts.check ~= false)
  end

  function dist.broadcast(t, root)
    join()
    if not sl.is_tensor(t) then fail('dist.broadcast: expected a tensor, got %s', type(t)) end
    return cd.broadcast(t, root or 0)
  end

  function dist.allgather(t)
    join()
    if not sl.is_tensor(t) then fail('dist.allgather: expected a tensor, got %s', type(t)) end
    return cd.allgather(t)
  end

  local function shape_text(ty)
    local s = {}
    for i = 1, #ty do s[i] = tostring(ty[i]) end
    return ty.dtype .. ' (' .. table.concat(s, ', ') .. ')'
  end

  -- Every rank's parameters take rank 0's values; a parameter whose dtype or
  -- shape differs on some rank is an error that names it.
  function dist.broadcast_params(params)
    join()
    for i, p in ipairs(params) do
      if not sl.is_var(p) or p:kind() ~= 'shared' then
        fail('dist.broadcast_params: parameter %d is not a shared variable', i)
      end
      local value = p:get_value(true)
      local types = cd.types(value)
      for r = 2, #types do
        if shape_text(types[r]) ~= shape_text(types[1]) then
          fail("dist: parameter '%s' is %s on rank %d but %s on rank 0", p:name() or ('#' .. i),
               shape_text(types[r]), r - 1, shape_text(types[1]))
        end
      end
      cd.broadcast(value, 0)
      p:set_value(value)
    end
  end

  -- Checkpoints: rank 0 writes (sl.save_params) and every rank waits until
  -- it has; rank 0 reads (sl.load_params) and its values go to every rank,
  -- so the directory need only be on rank 0's machine. Both are collective:
  -- every rank calls them.
  function dist.save_params(dir, params)
    join()
    local n = #params
    if cd.rank() == 0 then n = sl.save_params(dir, params) end
    cd.barrier()
    return n
  end

  function dist.load_params(dir, params)
    join()
    if cd.rank() == 0 then sl.load_params(dir, params) end
    dist.broadcast_params(params)
    return #params
  end

  local function numel(shape)
    local n = 1
    for _, s in ipairs(shape) do
      if s < 0 then return nil end
      n = n * s
    end
    return n
  end

  -- The gradients averaged over the ranks, inside the compiled step: those
  -- of one dtype are joined into buckets of about opts.bucket_bytes (default
  -- 25 MiB), each one allreduce of its concatenation, split back after.
  -- opts.params: these shared variables (grads[i] is params[i]'s gradient)
  -- take rank 0's values now, and give the sizes of gradients whose static
  -- shapes are unknown; without it such a gradient is reduced on its own.
  function dist.data_parallel(grads, opts)
    join()
    opts = opts or {}
    if type(grads) ~= 'table' then fail('dist.data_parallel: expected a list of gradients, got %s', type(grads)) end
    if opts.params then dist.broadcast_params(opts.params) end
    local limit = opts.bucket_bytes or 25 * 2 ^ 20
    local out, bucket, bytes = {}, {}, 0
    local function flush()
      if #bucket == 0 then return end
      if #bucket == 1 then
        local b = bucket[1]
        out[b.i] = dist.allreduce(b.g, 'mean')
      else
        local flat, sizes = {}, {}
        for k, b in ipairs(bucket) do flat[k], sizes[k] = b.g:reshape({ b.n }), b.n end
        local parts = { sl.split(dist.allreduce(sl.concatenate(flat, 1), 'mean'), sizes, 1) }
        for k, b in ipairs(bucket) do out[b.i] = parts[k]:reshape(b.shape) end
      end
      bucket, bytes = {}, 0
    end
    for i, g in ipairs(grads) do
      if not sl.is_var(g) then fail('dist.data_parallel: gradient %d is not a variable', i) end
      -- a shared variable's static shape is unknown (set_value may change
      -- it); its gradient has the shape of its current value
      local shape = g:static_shape()
      if not numel(shape) and opts.params and opts.params[i] then
        shape = opts.params[i]:get_value(true):size()
      end
      local n = numel(shape)
      if not n then   -- a size known only at run time: an allreduce of its own
        flush()
        out[i] = dist.allreduce(g, 'mean')
      else
        local size = n * core.dtype_size(g:dtype())
        if #bucket > 0 and (bucket[1].g:dtype() ~= g:dtype() or bytes + size > limit) then flush() end
        bucket[#bucket + 1] = { i = i, g = g, n = n, shape = shape }
        bytes = bytes + size
      end
    end
    flush()
    return out
  end
end
