-- Indexing and allocation: x[...] on variables (subtensor), set_subtensor and
-- inc_subtensor, take and gather (1-based index values), symbolic arange,
-- alloc and the *_like functions on variables, and x:shape() on symbols.
return function(sl)
  local core = sl.core
  local apply = core.apply
  local var_mt = core.var_mt
  local var_methods = var_mt.__index
  local tensor_methods = core.tensor_methods

  -- The methods table stays reachable after __index becomes a function below.
  core.var_methods = var_methods

  local fail = core.fail   -- errors name the caller's line, as the core's do

  local function is_int(v) return type(v) == 'number' and v % 1 == 0 end

  local function dims(x) return x:dim() end

  -- A 1-based axis (negative from the end) as a 0-based one.
  local function axis0(op, a, nd)
    if not is_int(a) then fail('%s: an axis must be an integer, got %s', op, tostring(a)) end
    local z = a < 0 and a + nd or a - 1
    if a == 0 or z < 0 or z >= nd then
      fail('%s: axis %d is out of range for a %d-d variable', op, a, nd)
    end
    return z
  end

  -- A bound or size: an integer number, a 0-d tensor or a symbolic scalar.
  local function scalar_arg(op, b, what)
    if sl.is_var(b) then return b end
    if sl.is_tensor(b) and b:dim() == 0 then b = b:item() end
    if not is_int(b) then
      fail('%s: %s must be an integer or a symbolic integer scalar, got %s', op, what,
           sl.is_tensor(b) and 'a tensor' or tostring(b))
    end
    return b
  end

  -- -- subtensor -------------------------------------------------------------------------
  -- The params layout is explained in core/ops/index.c: per indexed axis one
  -- word (bit 0 select; two bits each for first, last, step: 0 absent,
  -- 1 constant, 2 input) followed by its constants.
  local MAXPARAMS = 2 * 16 + 4

  local function encode(op, key, nd, consts_as_inputs)
    local entries
    if type(key) == 'table' and not sl.is_var(key) then entries = key else entries = { key } end
    local m = #entries
    if m > nd then fail('%s: too many indices (%d) for a %d-d variable', op, m, nd) end
    local words, inputs = { m }, {}
    local function add(word_at, slot, b)
      b = scalar_arg(op, b, 'an index')
      if sl.is_var(b) or consts_as_inputs then
        words[word_at] = words[word_at] + 2 * 2 ^ (1 + 2 * slot)
        inputs[#inputs + 1] = b
      else
        words[word_at] = words[word_at] + 2 ^ (1 + 2 * slot)
        words[#words + 1] = b
      end
    end
    for i = 1, m do
      local e = entries[i]
      words[#words + 1] = 0
      local at = #words
      if type(e) == 'table' and not sl.is_var(e) then
        for s = 1, 3 do
          if e[s] ~= nil then add(at, s - 1, e[s]) end
        end
        if e[3] ~= nil and e[3] == 0 then fail('%s: a range step must not be 0', op) end
      elseif e ~= nil then
        words[at] = 1
        add(at, 0, e)
      else
        fail('%s: index %d is nil', op, i)
      end
    end
    return words, inputs
  end

  local function index_args(op, x, key)
    local words, inputs = encode(op, key, dims(x), false)
    if #words > MAXPARAMS then words, inputs = encode(op, key, dims(x), true) end
    return words, inputs
  end

  -- sl.subtensor(x, key): x[key] as a new value; on tensors it copies (t[key]
  -- itself is a view).
  function sl.subtensor(x, key)
    local words, inputs = index_args('subtensor', x, key)
    return apply('subtensor', { v = words }, x, unpack(inputs))
  end

  -- Variables index like tensors; string keys are still method lookups.
  var_mt.__index = function(x, k)
    if type(k) == 'string' then return var_methods[k] end
    return sl.subtensor(x, k)
  end
  var_mt.__newindex = function()
    error('variables are immutable: use sl.set_subtensor(x[...], y) for a new one', 2)
  end
  -- Modules that add var methods read core.var_mt.__index as the methods
  -- table, whatever order they load in: core.var_mt becomes a view of the
  -- metatable that answers __index with that table and passes the rest on.
  core.var_mt = setmetatable({}, {
    __index = function(_, k) if k == '__index' then return var_methods end return var_mt[k] end,
    __newindex = var_mt,
  })

  -- -- set_subtensor, inc_subtensor ---------------------------------------------------------
  local function updater(op, take_op)
    return function(r, a, b)
      if b ~= nil then   -- (x, key, y): x with x[key] replaced, on tensors too
        local words, inputs = index_args(op, r, a)
        return apply(op, { v = words }, r, b, unpack(inputs))
      end
      local node = sl.is_var(r) and r:owner()
      local kind = node and node:op()
      if kind == 'subtensor' then
        local ins = node:inputs()
        return apply(op, node:params(), ins[1], a, unpack(ins, 2))
      elseif kind == 'take' then
        local ins = node:inputs()
        return apply(take_op, node:params(), ins[1], a, ins[2])
      end
      fail('%s: expected the result of indexing a variable (x[...] or sl.take), got %s', op,
           sl.is_var(r) and (kind and ('the result of ' .. kind) or ('a variable of kind ' .. r:kind()))
             or type(r) == 'userdata' and 'a tensor (use the form ' .. op .. '(x, key, y))' or type(r))
    end
  end
  sl.set_subtensor = updater('set_subtensor', 'set_take')
  sl.inc_subtensor = updater('inc_subtensor', 'inc_take')

  -- -- take, gather ----------------------------------------------------------------------------
  local function indices_arg(i)
    if type(i) == 'table' and not sl.is_var(i) then return sl.tensor(i, 'int64') end
    return i
  end

  local function take_axis(op, x, axis)
    if axis == nil then return -1 end
    return axis0(op, axis, dims(x))
  end

  -- take(x, indices [, axis]): NumPy's take with 1-based index values; without
  -- an axis, x is read flattened.
  local function take(x, indices, axis)
    return apply('take', { v = { take_axis('take', x, axis) } }, x, indices_arg(indices))
  end
  -- set_take / inc_take(x, indices, y [, axis]): x with the taken places set
  -- to (or incremented by) y; inc_take adds once per occurrence, like np.add.at.
  function sl.set_take(x, indices, y, axis)
    return apply('set_take', { v = { take_axis('set_take', x, axis) } }, x, y, indices_arg(indices))
  end
  function sl.inc_take(x, indices, y, axis)
    return apply('inc_take', { v = { take_axis('inc_take', x, axis) } }, x, y, indices_arg(indices))
  end

  -- gather(x, axis, indices): torch.gather with 1-based index values.
  local function gather(x, axis, indices)
    return apply('gather', { v = { axis0('gather', axis, dims(x)) } }, x, indices_arg(indices))
  end

  local method = core.method
  method('take', take)
  method('gather', gather)

  -- -- shape ------------------------------------------------------------------------------------
  -- x:shape() on a variable is a symbolic int64 vector, x:shape(d) an int64
  -- scalar; tensors keep returning a Lua table (and a number for t:shape(d)).
  function var_methods.shape(x, d)
    if d == nil then return apply('shape', nil, x) end
    return apply('shape_i', { v = { axis0('shape', d, dims(x)) } }, x)
  end
  function sl.shape(x, d)
    if sl.is_var(x) then return x:shape(d) end
    local s = x:shape()
    if d == nil then return s end
    return s[axis0('shape', d, #s) + 1]
  end

  -- -- arange -------------------------------------------------------------------------------------
  local eager_arange = sl.arange
  local DT = { bool = 1, uint8 = 1, int8 = 1, int16 = 1, int32 = 1, int64 = 1, float32 = 1, float64 = 1 }

  -- arange(stop), arange(start, stop [, step]) [, dtype]; symbolic when any
  -- bound is a variable. Integer bounds give int64, float variables their
  -- dtype, other floats floatX.
  function sl.arange(a, b, c, dtype)
    if not (sl.is_var(a) or sl.is_var(b) or sl.is_var(c)) then return eager_arange(a, b, c, dtype) end
    if DT[b] then dtype, b = b, nil elseif DT[c] then dtype, c = c, nil end
    local start, stop, step = 0, a, 1
    if b ~= nil then start, stop, step = a, b, c or 1 end
    if not dtype then
      local f32, f64, frac = false, false, false
      for _, v in ipairs({ start, stop, step }) do
        if sl.is_var(v) then
          if v:dtype() == 'float64' then f64 = true elseif v:dtype() == 'float32' then f32 = true end
        elseif type(v) == 'number' and v % 1 ~= 0 then
          frac = true
        end
      end
      dtype = f64 and 'float64' or f32 and 'float32' or frac and sl.config.floatX or 'int64'
    end
    return apply('arange', { dtype = dtype }, start, stop, step)
  end

  -- -- alloc and the *_like functions ------------------------------------------------------------
  -- The sizes of a shape argument: numbers, symbolic scalars, a table of
  -- them, or a symbolic int vector of known length such as x:shape().
  local function shape_list(op, ...)
    local n, first = select('#', ...), ...
    local list = { ... }
    if n == 1 and type(first) == 'table' and not sl.is_var(first) then list = first; n = #first end
    if n == 1 and sl.is_var(first) and first:dim() == 1 then
      local len = first:static_shape()[1]
      if len < 0 then fail('%s: a shape vector needs a known length', op) end
      local node = first:owner()
      list = {}
      for i = 1, len do
        list[i] = node and node:op() == 'shape' and node:inputs()[1]:shape(i) or first[i]
      end
      n = len
    end
    local v, inputs = {}, {}
    for i = 1, n do
      local s = scalar_arg(op, list[i], 'a size')
      if sl.is_var(s) then v[i] = -1; inputs[#inputs + 1] = s
      elseif s < 0 then fail('%s: negative size %d for axis %d', op, s, i)
      else v[i] = s end
    end
    return v, inputs
  end

  -- sl.alloc(value, shape...): value (broadcast) in a new array of that shape;
  -- a Lua number becomes a floatX value. Symbolic when any size or the value is.
  function sl.alloc(value, ...)
    if type(value) == 'number' then value = sl.tensor(value, sl.config.floatX)
    elseif type(value) == 'boolean' then value = sl.tensor(value, 'bool') end
    local v, inputs = shape_list('alloc', ...)
    return apply('alloc', { v = v }, value, unpack(inputs))
  end

  -- The shape of x as alloc sizes: shape_i nodes, which keep the result
  -- symbolic; alloc still sees the static sizes through them.
  local function sizes_of(x)
    local s = {}
    for i = 1, x:dim() do s[i] = x:shape(i) end
    return s
  end

  local function like(eager, fill)
    return function(x, a, b)
      if not sl.is_var(x) then return eager(x, a, b) end
      local v, dtype = fill, a
      if fill == nil then v, dtype = a, b end
      dtype = dtype or x:dtype()
      if sl.is_var(v) then
        if v:dtype() ~= dtype then v = v:cast(dtype) end
      else
        v = sl.tensor(v, dtype)
      end
      local sizes, inputs = shape_list('alloc', sizes_of(x))
      local r = apply('alloc', { v = sizes }, v, unpack(inputs))
      -- a 0-d x gives alloc no symbolic size, and it folds to a tensor
      return sl.is_var(r) and r or core.constant(r)
    end
  end
  sl.zeros_like = like(sl.zeros_like, 0)
  sl.ones_like = like(sl.ones_like, 1)
  sl.full_like = like(sl.full_like, nil)
end
