-- Shape ops in Lua: reshape, flatten, dimshuffle, transpose, concatenate,
-- stack, split, narrow, repeat and tile, on variables and tensors alike.
--
-- Every sl.NAME function takes a variable (building a node) or a tensor
-- (computing at once through the same op, into a new tensor). Axes are
-- 1-based, negative counting from the end; they become 0-based here.
--
-- Tensors keep their own C methods where they have one (reshape, view,
-- transpose, permute, narrow): those return views. The sl.NAME functions and
-- the methods added here return new tensors.
--
-- Names: `repeat` is a Lua keyword, so NumPy's repeat is sl['repeat'] (alias
-- sl.repeat_) and the method x:repeat_(n, axis). x:transpose(a, b) swaps two
-- axes as tensor:transpose does; sl.transpose(x, perm) takes a permutation
-- as NumPy does; both reverse the axes when given none.
return function(sl)
  local core = sl.core
  local apply = core.apply
  -- index.lua turns var_mt.__index into a function and keeps the table here
  local var_methods = core.var_methods or core.var_mt.__index
  local tensor_methods = core.tensor_methods

  local RS_DYN = -2   -- reshape: an entry taken from a shape input (op_shape.c)

  local fail = core.fail   -- errors name the caller's line, as the core's do

  local function is_symbolic(x) return sl.is_var(x) or sl.is_tensor(x) end

  -- x as a var or tensor: nested tables become tensors; Lua numbers and
  -- booleans stay as they are (apply makes them weakly typed constants).
  local function value(x)
    if is_symbolic(x) or type(x) == 'number' or type(x) == 'boolean' then return x end
    return sl.tensor(x)
  end

  local function dim(x)
    if is_symbolic(x) then return x:dim() end
    return 0
  end

  -- The static shape: per axis a size or -1 (unknown); tensors know all.
  local function static_shape(x)
    if sl.is_var(x) then return x:static_shape() end
    return x:shape()
  end

  local function int(op, what, v)
    if type(v) ~= 'number' or v % 1 ~= 0 then
      fail('%s: %s must be an integer, got %s', op, what, tostring(v))
    end
    return v
  end

  -- 1-based axis a (negative from the end) of an nd-axis value, 0-based.
  local function axis0(op, a, nd)
    int(op, 'an axis', a)
    local k = a < 0 and nd + a or a - 1
    if a == 0 or k < 0 or k >= nd then
      fail('%s: axis %d is out of range for a %d-d input', op, a, nd)
    end
    return k
  end

  -- (...) or ({...}) as a list
  local function list_args(...)
    local first = ...
    if select('#', ...) == 1 and type(first) == 'table' and not is_symbolic(first) then
      return first
    end
    return { ... }
  end

  local function method(name, f, on_tensors)
    sl[name] = sl[name] or f
    var_methods[name] = f
    if on_tensors ~= false and tensor_methods[name] == nil then tensor_methods[name] = f end
  end

  -- -- reshape ---------------------------------------------------------------
  -- sl.reshape(x, shape): shape is a table or the sizes as arguments; one
  -- size may be -1. A size may also be symbolic: an integer scalar (a var or
  -- a 0-d tensor), and the whole shape may be an integer vector variable of
  -- static length.
  local function reshape(x, ...)
    x = value(x)
    local shape = ...
    if not (select('#', ...) == 1 and sl.is_var(shape)) then shape = list_args(...) end
    local v, extra = {}, {}
    local function dynamic(s)
      local dims = static_shape(s)
      if #dims > 1 then fail('reshape: a symbolic shape must be a scalar or a vector, got %d-d', #dims) end
      local len = #dims == 0 and 1 or dims[1]
      if len < 0 then
        fail('reshape: a symbolic shape vector needs a static length (the number of dimensions)')
      end
      for _ = 1, len do v[#v + 1] = RS_DYN end
      extra[#extra + 1] = s
    end
    if sl.is_var(shape) then
      dynamic(shape)
    else
      for i, s in ipairs(shape) do
        if is_symbolic(s) then dynamic(s)
        else
          v[#v + 1] = int('reshape', 'size ' .. i, s)
          if s < -1 then fail('reshape: size %d is %d; sizes must be >= 0, or -1 for one inferred size', i, s) end
        end
      end
    end
    return apply('reshape', { v = v }, x, unpack(extra))
  end
  sl.reshape = reshape
  var_methods.reshape = reshape

  -- sl.flatten(x, ndim): Theano's flatten: keeps the first ndim-1 axes and
  -- flattens the rest into the last one (ndim = 1: a vector).
  method('flatten', function(x, ndim)
    return apply('flatten', { v = { int('flatten', 'ndim', ndim or 1) } }, value(x))
  end)

  -- -- dimshuffle and transpose ------------------------------------------------
  -- x:dimshuffle(pattern): each entry an input axis (1-based) or 'x', a new
  -- broadcastable axis of size 1; input axes left out must have size 1.
  method('dimshuffle', function(x, ...)
    x = value(x)
    local nd = x:dim()
    local v = {}
    for i, p in ipairs(list_args(...)) do
      if p == 'x' then v[i] = -1
      elseif type(p) == 'number' then v[i] = axis0('dimshuffle', p, nd)
      else fail("dimshuffle: pattern entry %d must be an axis or 'x', got %s", i, tostring(p)) end
    end
    return apply('dimshuffle', { v = v }, x)
  end)

  local function reversed(nd)
    local v = {}
    for i = 1, nd do v[i] = nd - i end
    return v
  end

  -- A permutation of all nd axes, 0-based.
  local function permutation(op, nd, perm)
    if #perm ~= nd then fail('%s: %d axes given for a %d-d input', op, #perm, nd) end
    local v, seen = {}, {}
    for i, a in ipairs(perm) do
      v[i] = axis0(op, a, nd)
      if seen[v[i]] then fail('%s: axis %d appears twice in the permutation', op, a) end
      seen[v[i]] = true
    end
    return v
  end

  -- sl.transpose(x [, perm]): reverses the axes, or permutes them as NumPy.
  function sl.transpose(x, ...)
    x = value(x)
    local nd = x:dim()
    if select('#', ...) == 0 then return apply('dimshuffle', { v = reversed(nd) }, x) end
    return apply('dimshuffle', { v = permutation('transpose', nd, list_args(...)) }, x)
  end

  -- x:transpose() reverses the axes, x:transpose(a, b) swaps two, and
  -- x:transpose({perm}) permutes; x:permute(perm) too (as on tensors).
  function var_methods.transpose(x, a, b)
    local nd = x:dim()
    if a == nil then return apply('dimshuffle', { v = reversed(nd) }, x) end
    if type(a) == 'table' then return sl.transpose(x, a) end
    local v = {}
    for i = 1, nd do v[i] = i - 1 end
    local i, j = axis0('transpose', a, nd), axis0('transpose', b, nd)
    v[i + 1], v[j + 1] = j, i
    return apply('dimshuffle', { v = v }, x)
  end
  function var_methods.permute(x, ...)
    return apply('dimshuffle', { v = permutation('permute', x:dim(), list_args(...)) }, x)
  end

  -- -- joining ------------------------------------------------------------------
  local function join_args(op, xs)
    if type(xs) ~= 'table' or is_symbolic(xs) then
      fail('%s: expected a list of variables or tensors, got %s', op, type(xs))
    end
    if #xs == 0 then fail('%s: the list of inputs is empty', op) end
    local ins = {}
    for i, x in ipairs(xs) do ins[i] = value(x) end
    return ins
  end

  -- sl.concatenate({a, b, ...}, axis): joins along an existing axis (default
  -- 1); dtypes promote as in NumPy.
  function sl.concatenate(xs, axis)
    local ins = join_args('concatenate', xs)
    local nd = dim(ins[1])
    if nd == 0 then fail('concatenate: 0-d inputs cannot be concatenated (use sl.stack)') end
    return apply('concatenate', { v = { axis0('concatenate', axis or 1, nd) } }, unpack(ins))
  end

  -- sl.stack({a, b, ...}, axis): joins along a new axis (default 1), which
  -- may be any of the ndim + 1 positions of the result.
  function sl.stack(xs, axis)
    local ins = join_args('stack', xs)
    return apply('stack', { v = { axis0('stack', axis or 1, dim(ins[1]) + 1) } }, unpack(ins))
  end

  -- -- narrow and split ------------------------------------------------------------
  local function narrow(x, dim, first, length, whole)
    x = value(x)
    local nd = x:dim()
    local d = axis0('narrow', dim, nd)
    int('narrow', 'the first index', first)
    int('narrow', 'the length', length)
    if first < 1 then fail('narrow: the first index must be >= 1, got %d', first) end
    return apply('narrow', { v = { d, first - 1, length, whole or -1 } }, x)
  end
  -- x:narrow(dim, first, length): elements first .. first+length-1 of an axis
  -- (tensors keep their view method of the same meaning)
  method('narrow', function(x, dim, first, length) return narrow(x, dim, first, length) end)

  -- sl.split(x, sizes, axis): consecutive parts of the given sizes along the
  -- axis (default 1), returned as several values; the sizes must add up to
  -- the axis' size. sizes may be a count n of equal parts instead (the
  -- axis' size must then be known and divisible by n).
  method('split', function(x, sizes, axis)
    x = value(x)
    local nd = x:dim()
    local d = axis0('split', axis or 1, nd)
    local size = static_shape(x)[d + 1]
    if type(sizes) == 'number' then
      local n = int('split', 'the number of parts', sizes)
      if n < 1 then fail('split: the number of parts must be >= 1, got %d', n) end
      if size < 0 then fail('split: %d equal parts need a known size of axis %d (give the sizes instead)', n, d + 1) end
      if size % n ~= 0 then fail('split: axis %d of size %d does not split into %d equal parts', d + 1, size, n) end
      sizes = {}
      for i = 1, n do sizes[i] = size / n end
    end
    if type(sizes) ~= 'table' or #sizes == 0 then fail('split: sizes must be a non-empty list of sizes') end
    local total = 0
    for i, s in ipairs(sizes) do
      int('split', 'size ' .. i, s)
      if s < 0 then fail('split: size %d is negative (%d)', i, s) end
      total = total + s
    end
    if size >= 0 and total ~= size then
      fail('split: sizes {%s} add up to %d but axis %d has size %d', table.concat(sizes, ', '),
           total, d + 1, size)
    end
    local parts, at = {}, 1
    for i, s in ipairs(sizes) do
      parts[i] = apply('narrow', { v = { d, at - 1, s, total } }, x)
      at = at + s
    end
    return unpack(parts)
  end)

  -- -- repeat and tile ------------------------------------------------------------
  -- sl['repeat'](x, repeats, axis): NumPy's repeat: each element `repeats`
  -- times in a row along the axis; without an axis, over the flattened x.
  local function repeat_(x, repeats, axis)
    x = value(x)
    int('repeat', 'repeats', repeats)
    if repeats < 0 then fail('repeat: repeats must be >= 0, got %d', repeats) end
    if axis == nil then
      x = apply('flatten', { v = { 1 } }, x)
      axis = 1
    end
    return apply('repeat', { v = { repeats, axis0('repeat', axis, x:dim()) } }, x)
  end
  sl['repeat'] = repeat_
  method('repeat_', repeat_)
  var_methods['repeat'] = repeat_

  -- sl.tile(x, reps): NumPy's tile; reps a number or a list aligned with the
  -- last axes (the shorter of reps and x's shape is padded with 1s in front).
  method('tile', function(x, reps)
    x = value(x)
    if type(reps) == 'number' then reps = { reps } end
    if type(reps) ~= 'table' then fail('tile: reps must be a number or a list, got %s', type(reps)) end
    for i, r in ipairs(reps) do
      int('tile', 'repetition ' .. i, r)
      if r < 0 then fail('tile: repetition %d is negative (%d)', i, r) end
    end
    return apply('tile', { v = reps }, x)
  end)
end
