-- Symbolic graphs in Lua: symbols, shared variables, the elementwise op
-- functions and operators (on variables and on tensors alike), and compile.
return function(sl)
  local core = sl.core
  local apply = core.apply
  local var_methods = core.var_mt.__index
  local tensor_methods = core.tensor_methods

  sl.is_var = core.is_var

  -- -- symbols ---------------------------------------------------------------
  -- sl.tensor_type(dtype, static_shape): a type; calling it with a name makes
  -- an input. Each axis is a known size or -1 (unknown); size 1 broadcasts.
  function sl.tensor_type(dtype, static_shape)
    local ty = { dtype = dtype or sl.config.floatX, shape = static_shape or {} }
    return setmetatable(ty, { __call = function(self, name)
      return core.input(self.dtype, self.shape, name)
    end })
  end

  local ranks = { scalar = {}, vector = { -1 }, matrix = { -1, -1 },
                  tensor3 = { -1, -1, -1 }, tensor4 = { -1, -1, -1, -1 },
                  row = { 1, -1 }, col = { -1, 1 } }
  local prefixes = { f = 'float32', d = 'float64', i = 'int32', l = 'int64',
                     b = 'bool', u = 'uint8' }
  for kind, shape in pairs(ranks) do
    sl[kind] = function(name, dtype) return core.input(dtype or sl.config.floatX, shape, name) end
    for p, dtype in pairs(prefixes) do
      sl[p .. kind] = function(name) return core.input(dtype, shape, name) end
    end
  end

  -- v:type(): { dtype = ..., shape = { size or -1 per axis } }
  function var_methods.type(v) return { dtype = v:dtype(), shape = v:static_shape() } end

  -- sl.shared(value, name): value a tensor, number or nested table (copied).
  -- A Lua number makes a floatX scalar: parameters are what shared variables
  -- hold, and Lua cannot tell 0.0 from 0 (pass sl.tensor(n, 'int64') for ints).
  function sl.shared(value, name)
    if type(value) == 'number' then value = sl.tensor(value, sl.config.floatX)
    elseif not sl.is_tensor(value) then value = sl.tensor(value) end
    return core.shared(value, name)
  end

  -- -- elementwise ops -----------------------------------------------------------
  -- the core's elementwise ops of one and two inputs, each a function and a
  -- method by its name (cast, clip and where take more, below)
  local unary, binary = {}, {}
  for _, op in ipairs(core.ops()) do
    if op.elemwise and op.nin == 1 and op.name ~= 'cast' then unary[#unary + 1] = op.name end
    if op.elemwise and op.nin == 2 then binary[#binary + 1] = op.name end
  end

  local function method(name, f)
    sl[name] = sl[name] or f
    var_methods[name] = f
    if tensor_methods[name] == nil then tensor_methods[name] = f end
  end
  for _, op in ipairs(unary) do method(op, function(x) return apply(op, nil, x) end) end
  for _, op in ipairs(binary) do method(op, function(a, b) return apply(op, nil, a, b) end) end
  method('clip', function(x, lo, hi) return apply('clip', nil, x, lo, hi) end)
  sl.where = function(c, a, b) return apply('where', nil, c, a, b) end
  sl.div = sl.true_div
  var_methods.cast = function(x, dtype) return apply('cast', { dtype = dtype }, x) end
  sl.cast = function(x, dtype)
    if sl.is_tensor(x) then return x:cast(dtype) end
    return apply('cast', { dtype = dtype }, x)
  end

  local operators = {
    __add = sl.add, __sub = sl.sub, __mul = sl.mul, __div = sl.true_div,
    __mod = sl.mod, __pow = sl.pow, __unm = sl.neg,
  }
  for k, f in pairs(operators) do
    core.var_mt[k] = f
    core.tensor_mt[k] = f
  end

  -- -- compile -----------------------------------------------------------------------
  local function list(x)
    if x == nil then return {} end
    if type(x) == 'table' and not sl.is_var(x) then return x end
    return { x }
  end

  -- 'float64 (?, 3)', as the core prints a type
  local function type_text(v)
    local sizes = {}
    for i, n in ipairs(v:static_shape()) do sizes[i] = n < 0 and '?' or tostring(n) end
    return ('%s (%s%s)'):format(v:dtype(), table.concat(sizes, ', '), #sizes == 1 and ',' or '')
  end

  -- Rebuild the graph of each var with `givens` substituted (var -> expression).
  -- A replacement keeps the dtype and rank of what it replaces (as in Theano):
  -- the graph's types, and the kernels specialized on them, were built for those.
  local function substitute(vars, givens)
    local memo = {}   -- keyed by var id: each userdata is a fresh box for a var
    for k, v in pairs(givens) do
      if not sl.is_var(k) then error('compile: givens keys must be variables', 3) end
      v = sl.is_var(v) and v or core.constant(sl.tensor(v, k:dtype()))
      if v:dtype() ~= k:dtype() or v:dim() ~= k:dim() then
        local dtype_differs = v:dtype() ~= k:dtype()
        core.fail("compile: givens: %s replaces %s %s but has another %s; a replacement needs the "
          .. 'same dtype and rank%s', type_text(v), k:name() and "'" .. k:name() .. "'" or 'a variable',
          type_text(k), dtype_differs and 'dtype' or 'rank',
          dtype_differs and (" (cast it with :cast('%s'))"):format(k:dtype()) or '')
      end
      memo[k:id()] = v
    end
    local function rebuild(v)
      local done = memo[v:id()]
      if done ~= nil then return done end
      local node = v:owner()
      local out = v
      if node then
        local ins, changed = {}, false
        for i, x in ipairs(node:inputs()) do
          ins[i] = rebuild(x)
          if ins[i] ~= x then changed = true end
        end
        if changed then out = select(v:output_index(), apply(node:op(), node:params(), unpack(ins))) end
      end
      memo[v:id()] = out
      return out
    end
    local res = {}
    for i, v in ipairs(vars) do res[i] = rebuild(v) end
    return res
  end

  -- sl.clone(outputs, replace): the graphs of a list of vars rebuilt with each
  -- var in replace (var -> expression of its dtype and rank) substituted
  function sl.clone(outputs, replace) return substitute(list(outputs), replace or {}) end

  -- sl.compile(inputs, outputs, opts): opts.updates {shared = expr},
  -- opts.givens {var = expr}, opts.mode (a backend: 'c', the default, or 'reference';
  -- sl.backends() lists them; SYMLUA_MODE sets the default), opts.device ('cpu',
  -- or 'cuda' for the cuda backend; sl.config.device / SYMLUA_DEVICE sets the
  -- default, which opts.mode overrides), opts.profile and
  -- opts.nan_guard (see docs/debugging.md), opts.optimizer ('fast_run',
  -- the default, 'fast_compile' or 'none') with opts.include / opts.exclude
  -- (lists of rewrite or pass names; sl.rewrites() lists them)
  function sl.compile(inputs, outputs, opts)
    opts = opts or {}
    if opts.mode ~= nil and type(opts.mode) ~= 'string' then
      error("compile: opts.mode must be a backend's name, not a " .. type(opts.mode), 2)
    end
    if opts.device ~= nil and type(opts.device) ~= 'string' then
      error("compile: opts.device must be 'cpu' or 'cuda', not a " .. type(opts.device), 2)
    end
    local ins, outs = list(inputs), list(outputs)
    local shared, updates = {}, {}
    -- Updates in the order of their variables' ids, not of pairs() (which
    -- follows addresses), so that a script compiles the same function in
    -- every run and finds it in the compile cache.
    local keys = {}
    for k in pairs(opts.updates or {}) do
      if not sl.is_var(k) then error('compile: updates keys must be shared variables', 2) end
      keys[#keys + 1] = k
    end
    table.sort(keys, function(a, b) return a:id() < b:id() end)
    for _, k in ipairs(keys) do
      local v = opts.updates[k]
      shared[#shared + 1] = k
      updates[#updates + 1] = sl.is_var(v) and v or core.constant(sl.tensor(v, k:dtype()))
    end
    for i, o in ipairs(outs) do
      if not sl.is_var(o) then outs[i] = core.constant(sl.tensor(o)) end
    end
    if opts.givens then
      outs = substitute(outs, opts.givens)
      updates = substitute(updates, opts.givens)
    end
    -- draws from random streams advance their state on every call
    if sl.default_updates then sl.default_updates(outs, shared, updates) end
    return core.compile(ins, outs, shared, updates, opts)   -- optimizer, profile, nan_guard
  end

  -- sl.rewrites(): every rewrite of the optimizer, in the order the passes
  -- run them: { {name=, pass=, doc=, ops=}, ... }
  sl.rewrites = core.rewrites
  -- sl.backends(): { {name = 'reference', available = true}, ... }, the backends
  -- a function can run on (opts.mode), in the core's registry
  sl.backends = core.backends
end
