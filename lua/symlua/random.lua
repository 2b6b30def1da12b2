-- sl.random: symbolic random streams. A draw is a node that reads a Philox
-- state (key, offset) from a shared variable and returns the sample and the
-- next state; sl.compile adds the update state <- next state for every draw
-- in the compiled graph, so each call draws new values, and a stream made
-- with the same seed repeats them.
return function(sl)
  local core = sl.core
  local apply = core.apply
  sl.random = sl.random or {}

  local defaults = {}   -- state var id -> { state, next state }

  -- nothing flows back through a draw: its inputs are a state and sizes
  sl.gradients.random = function() return {} end

  -- The state's key for draw k of a stream: a 64-bit mix of seed and k
  -- (splitmix64), kept below 2^53 so Lua numbers carry it exactly.
  local function draw_key(seed, k)
    local ffi = require 'ffi'
    local z = ffi.new('uint64_t', seed) * 0x9E3779B97F4A7C15ULL + ffi.new('uint64_t', k)
    z = (z ~= 0ULL) and z or 1ULL
    local bit = require 'bit'
    z = bit.bxor(z, bit.rshift(z, 30)) * 0xBF58476D1CE4E5B9ULL
    z = bit.bxor(z, bit.rshift(z, 27)) * 0x94D049BB133111EBULL
    z = bit.bxor(z, bit.rshift(z, 31))
    return tonumber(z % 0x20000000000000ULL)
  end

  -- sizes: a list of numbers and integer scalar vars, or a var whose shape
  -- to take (a vector var of sizes cannot be split without its length)
  local function shape_params(what, shape)
    if sl.is_var(shape) then
      local sizes = {}
      for d = 1, #shape:static_shape() do sizes[d] = shape:shape(d) end
      shape = sizes
    elseif sl.is_tensor(shape) then
      shape = shape:size()
    end
    if type(shape) == 'number' then shape = { shape } end
    if type(shape) ~= 'table' then core.fail('random.%s: expected a shape, got %s', what, type(shape)) end
    local v, ins = {}, {}
    for d, s in ipairs(shape) do
      if type(s) == 'number' then
        if s < 0 or s % 1 ~= 0 then core.fail('random.%s: size %d is %s', what, d, tostring(s)) end
        v[d] = s
      elseif sl.is_var(s) then
        v[d] = -1
        ins[#ins + 1] = s
      else
        core.fail('random.%s: size %d is a %s', what, d, type(s))
      end
    end
    return v, ins
  end

  local Stream = {}
  Stream.__index = Stream

  function Stream:_draw(what, normal, shape, dtype)
    self.count = self.count + 1
    local state = sl.shared(sl.tensor({ draw_key(self.seed, self.count), 0 }, 'int64'),
                           ('random_state.%d'):format(self.count))
    local v, ins = shape_params(what, shape)
    local sample, next_state = apply('random', { v = v, dtype = dtype or sl.config.floatX,
                                                 x = normal and 1 or 0 }, state, unpack(ins))
    defaults[state:id()] = { state, next_state }
    return sample
  end

  -- uniform in [low, high) (default [0, 1))
  function Stream:uniform(shape, opts)
    opts = opts or {}
    local u = self:_draw('uniform', false, shape, opts.dtype)
    local low, high = opts.low or 0, opts.high or 1
    if low == 0 and high == 1 then return u end
    return u * (high - low) + low
  end

  -- normal with mean and std (default 0 and 1)
  function Stream:normal(shape, opts)
    opts = opts or {}
    local z = self:_draw('normal', true, shape, opts.dtype)
    local mean, std = opts.mean or 0, opts.std or 1
    if mean == 0 and std == 1 then return z end
    return z * std + mean
  end

  -- 1 with probability p, else 0 (one trial), in dtype (default floatX)
  function Stream:binomial(shape, opts)
    opts = opts or {}
    local p = opts.p or 0.5
    local dtype = opts.dtype or sl.config.floatX
    local float = (dtype == 'float32' or dtype == 'float64') and dtype or sl.config.floatX
    local u = self:_draw('binomial', false, shape, float)
    return sl.lt(u, p):cast(dtype)
  end

  -- dropout: x with each value zeroed with probability p and the rest
  -- scaled by 1 / (1 - p), so the expected value is x
  function Stream:dropout(x, p)
    if type(p) ~= 'number' or p < 0 or p >= 1 then
      core.fail('dropout: the probability must be a number in [0, 1), got %s', tostring(p))
    end
    if p == 0 then return x end
    local keep = self:binomial(x, { p = 1 - p, dtype = x:dtype() })
    return x * keep * (1 / (1 - p))
  end

  -- sl.random.stream(seed): a stream of draws; seed defaults to 0
  function sl.random.stream(seed)
    seed = seed or 0
    if type(seed) ~= 'number' or seed < 0 or seed % 1 ~= 0 then
      core.fail('random.stream: the seed must be a non-negative integer, got %s', tostring(seed))
    end
    return setmetatable({ seed = seed, count = 0 }, Stream)
  end

  -- Called by sl.compile: for each state read by the graph of outs and
  -- updates that no update sets, add state <- next state.
  function sl.default_updates(outs, shared, updates)
    if next(defaults) == nil then return end
    local given, seen, stack = {}, {}, {}
    for _, s in ipairs(shared) do given[s:id()] = true end
    for _, v in ipairs(outs) do stack[#stack + 1] = v end
    for _, v in ipairs(updates) do stack[#stack + 1] = v end
    while #stack > 0 do
      local v = table.remove(stack)
      local id = v:id()
      if not seen[id] then
        seen[id] = true
        local d = defaults[id]
        if d and not given[id] then
          given[id] = true
          shared[#shared + 1], updates[#updates + 1] = d[1], d[2]
          stack[#stack + 1] = d[2]
        end
        local node = v:owner()
        if node then for _, x in ipairs(node:inputs()) do stack[#stack + 1] = x end end
      end
    end
  end
end
