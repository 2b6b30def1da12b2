-- sl.data: reading data sets into tensors (IDX files, as MNIST and
-- Fashion-MNIST ship them) and iterating over them in shuffled minibatches.
return function(sl)
  local core = sl.core
  local ffi = require 'ffi'
  local bit = require 'bit'
  sl.data = sl.data or {}

  -- -- IDX files ------------------------------------------------------------------------------
  -- sl.data.idx(path): the tensor in an IDX file, gzipped or not (read in C,
  -- core/idx.c: gzip through zlib, CRC and length checked).
  function sl.data.idx(path)
    if type(path) ~= 'string' then core.fail('data.idx: expected a file path, got %s', type(path)) end
    return core.idx_load(path)
  end

  -- -- minibatches --------------------------------------------------------------------------------
  -- A permutation of 1..n from a seed (Fisher-Yates over xorshift64*), so an
  -- epoch's order depends only on (seed, epoch) and not on sl.manual_seed.
  local function permutation(n, seed)
    local state = ffi.new('uint64_t[1]', 0x9E3779B97F4A7C15ULL + seed * 0xBF58476D1CE4E5B9ULL)
    if state[0] == 0 then state[0] = 1 end
    local function next_below(k)
      local x = state[0]
      x = bit.bxor(x, bit.rshift(x, 12))
      x = bit.bxor(x, bit.lshift(x, 25))
      x = bit.bxor(x, bit.rshift(x, 27))
      state[0] = x
      return tonumber((x * 0x2545F4914F6CDD1DULL) % k)
    end
    local p = sl.zeros(n, 'int64')
    local d = p:data()
    for i = 0, n - 1 do d[i] = i + 1 end
    for i = n - 1, 1, -1 do
      local j = next_below(i + 1)
      d[i], d[j] = d[j], d[i]
    end
    return p
  end
  sl.data.permutation = permutation

  -- sl.data.batches(tensors, batch_size, opts): an iterator over minibatches
  -- of rows (axis 1) of every tensor in the list, in the same order for all.
  -- opts.shuffle (default false) with opts.seed and opts.epoch (default 0)
  -- give the order; opts.drop_last drops a last, smaller batch. Each step
  -- yields the batch number and one tensor per input tensor.
  -- opts.rank and opts.size (0-based rank, as sl.dist gives them) shard every
  -- epoch: batch b of the whole job has batch_size * size rows, and rank r
  -- takes its r-th part (parts differ by at most a row in a last, smaller
  -- batch), so the ranks' batches together are one process's batches of
  -- batch_size * size rows.
  function sl.data.batches(tensors, batch_size, opts)
    opts = opts or {}
    if sl.is_tensor(tensors) then tensors = { tensors } end
    if type(tensors) ~= 'table' or #tensors == 0 then
      core.fail('data.batches: expected a tensor or a list of tensors')
    end
    if type(batch_size) ~= 'number' or batch_size < 1 or batch_size % 1 ~= 0 then
      core.fail('data.batches: the batch size must be a positive integer, got %s', tostring(batch_size))
    end
    local n = tensors[1]:size(1)
    for i, t in ipairs(tensors) do
      if not sl.is_tensor(t) then core.fail('data.batches: item %d is not a tensor', i) end
      if t:size(1) ~= n then
        core.fail("data.batches: tensor %d has %d rows but tensor 1 has %d", i, t:size(1), n)
      end
    end
    local size, rank = opts.size or 1, opts.rank or 0
    if type(size) ~= 'number' or size < 1 or size % 1 ~= 0 then
      core.fail('data.batches: size must be a positive integer (the number of ranks), got %s', tostring(size))
    end
    if type(rank) ~= 'number' or rank < 0 or rank >= size or rank % 1 ~= 0 then
      core.fail('data.batches: rank must be an integer in 0..%d, got %s', size - 1, tostring(rank))
    end
    local order = opts.shuffle and permutation(n, (opts.seed or 0) * 1000003 + (opts.epoch or 0)) or nil
    local whole = batch_size * size
    local count = opts.drop_last and math.floor(n / whole) or math.ceil(n / whole)
    local b = 0
    return function()
      if b >= count then return nil end
      b = b + 1
      local start = (b - 1) * whole
      local rows = math.min(whole, n - start)
      local first = start + math.floor(rank * rows / size) + 1
      local last = start + math.floor((rank + 1) * rows / size)
      local out = {}
      for i, t in ipairs(tensors) do
        if order then out[i] = t:take(order[{ { first, last } }], 1)
        else out[i] = t[{ { first, last } }] end
      end
      return b, unpack(out)
    end
  end
end
