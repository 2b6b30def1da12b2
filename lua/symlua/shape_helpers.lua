-- Shape helpers built from existing ops, on variables and tensors alike:
-- diag, diagonal, trace, tril, triu, pad, roll, flip, one_hot, meshgrid.
-- Each is a composition of strided indexing, take, where, alloc and
-- concatenate, so gradients come from those ops' rules and sizes may be
-- symbolic. Axes are 1-based, negative from the end; offsets k count as in
-- NumPy (k > 0 above the main diagonal).
--
--   sl.diag(v [, k])          1-d: a square matrix with v on diagonal k; 2-d: diagonal k
--   sl.diagonal(x [, k [, axis1 [, axis2]]])   NumPy's: the other axes first, the diagonal last
--   sl.trace(x [, k [, axis1 [, axis2]]])      the diagonal's sum
--   sl.tril(x [, k]), sl.triu(x [, k])         zero above / below diagonal k of the last two axes
--   sl.pad(x, widths [, mode [, value]])       mode 'constant' (value, default 0), 'reflect', 'edge'
--   sl.roll(x, shift [, axis])                 over the flattened x when no axis is given
--   sl.flip(x [, axes])                        every axis when none is given
--   sl.one_hot(labels, k [, dtype])            labels 1..k; dtype floatX by default
--   sl.meshgrid(x1, x2, ... [, {indexing = 'xy' | 'ij'}])
return function(sl)
  local core = sl.core
  local apply = core.apply
  local fail = core.fail

  local value = core.value

  local method = core.method

  local function int(op, what, v)
    if type(v) ~= 'number' or v % 1 ~= 0 then fail('%s: %s must be an integer, got %s', op, what, tostring(v)) end
    return v
  end

  local function axis0(op, a, nd)
    int(op, 'an axis', a)
    local k = a < 0 and nd + a or a - 1
    if a == 0 or k < 0 or k >= nd then fail('%s: axis %d is out of range for a %d-d input', op, a, nd) end
    return k
  end

  -- The size of axis i (1-based): a number when known, else symbolic.
  local function size(x, i)
    if sl.is_tensor(x) then return x:shape()[i] end
    local s = x:static_shape()[i]
    if s >= 0 then return s end
    return x:shape(i)
  end
  local function sizes(x)
    local s = {}
    for i = 1, x:dim() do s[i] = size(x, i) end
    return s
  end
  local function known(n) return type(n) == 'number' end
  local function smin(a, b)
    if known(a) and known(b) then return math.min(a, b) end
    return sl.minimum(a, b)
  end
  local function smax(a, b)
    if known(a) and known(b) then return math.max(a, b) end
    return sl.maximum(a, b)
  end

  -- A key with `entry` at axis a (0-based) of an nd-axis value, full elsewhere.
  local function key_at(nd, a, entry)
    local key = {}
    for i = 1, nd do key[i] = {} end
    key[a + 1] = entry
    return key
  end

  -- -- flip and roll ------------------------------------------------------------------
  method('flip', function(x, axes)
    x = value(x)
    local nd = x:dim()
    if type(axes) == 'number' then axes = { axes } end
    if axes == nil then
      axes = {}
      for i = 1, nd do axes[i] = i end
    end
    if type(axes) ~= 'table' then fail('flip: axes must be a number, a list or nil, got %s', type(axes)) end
    if nd == 0 then return sl.subtensor(x, {}) end
    local key = {}
    for i = 1, nd do key[i] = {} end
    for _, a in ipairs(axes) do
      local k = axis0('flip', a, nd)
      if key[k + 1][1] then fail('flip: axis %d appears twice', a) end
      key[k + 1] = { -1, 1, -1 }
    end
    return sl.subtensor(x, key)
  end)

  -- roll: element i goes to i + shift (mod n), a take at (i - shift) mod n.
  method('roll', function(x, shift, axis)
    x = value(x)
    int('roll', 'the shift', shift)
    if axis == nil then
      return sl.reshape(sl.roll(sl.reshape(x, -1), shift, 1), sizes(x))
    end
    local a = axis0('roll', axis, x:dim())
    local n = size(x, a + 1)
    local from = sl.mod(sl.arange(0, n, 'int64') - shift, n) + 1
    return sl.take(x, from, a + 1)
  end)

  -- -- diagonals ----------------------------------------------------------------------
  -- The (n, m) matrices of x's axes a1, a2 (0-based), moved last and
  -- flattened to n * m, and the diagonal k of each as a strided range.
  local function diagonal(op, x, k, axis1, axis2)
    x = value(x)
    k = int(op, 'the offset', k or 0)
    local nd = x:dim()
    if nd < 2 then fail('%s: needs at least 2 axes, got a %d-d input', op, nd) end
    local a1, a2 = axis0(op, axis1 or 1, nd), axis0(op, axis2 or 2, nd)
    if a1 == a2 then fail('%s: axis1 and axis2 name the same axis (%d)', op, a1 + 1) end
    local pat, shape = {}, {}
    for i = 0, nd - 1 do
      if i ~= a1 and i ~= a2 then pat[#pat + 1] = i + 1; shape[#shape + 1] = size(x, i + 1) end
    end
    pat[#pat + 1], pat[#pat + 2] = a1 + 1, a2 + 1
    local n, m = size(x, a1 + 1), size(x, a2 + 1)
    local len = smax(k >= 0 and smin(n, m - k) or smin(n + k, m), 0)
    shape[#shape + 1] = n * m
    local flat = sl.reshape(sl.dimshuffle(x, pat), shape)
    local first = k >= 0 and k or -k * m
    local last = first + (len - 1) * (m + 1)
    return sl.subtensor(flat, key_at(#shape, #shape - 1, { first + 1, last + 1, m + 1 }))
  end
  method('diagonal', function(x, k, axis1, axis2) return diagonal('diagonal', x, k, axis1, axis2) end)

  method('trace', function(x, k, axis1, axis2)
    return sl.sum(diagonal('trace', x, k, axis1, axis2), -1)
  end)

  method('diag', function(v, k)
    v = value(v)
    k = int('diag', 'the offset', k or 0)
    if v:dim() == 2 then return diagonal('diag', v, k) end
    if v:dim() ~= 1 then fail('diag: takes a 1-d or a 2-d input, got %d-d', v:dim()) end
    local n = size(v, 1)
    local m = n + math.abs(k)
    local z = sl.is_var(v) and sl.alloc(sl.tensor(0, v:dtype()), m * m) or sl.zeros(m * m, v:dtype())
    local first = k >= 0 and k or -k * m
    local last = first + (n - 1) * (m + 1)
    return sl.reshape(sl.set_subtensor(z, { { first + 1, last + 1, m + 1 } }, v), m, m)
  end)

  -- tril and triu: where(mask, x, 0) with the mask from row - column.
  local function triangle(op, keep)
    return function(x, k)
      x = value(x)
      k = int(op, 'the offset', k or 0)
      local nd = x:dim()
      if nd < 2 then fail('%s: needs at least 2 axes, got a %d-d input', op, nd) end
      local rows = sl.dimshuffle(sl.arange(0, size(x, nd - 1), 'int64'), 1, 'x')
      local cols = sl.dimshuffle(sl.arange(0, size(x, nd), 'int64'), 'x', 1)
      return sl.where(keep(cols - rows, k), x, sl.tensor(0, x:dtype()))
    end
  end
  method('tril', triangle('tril', function(d, k) return sl.le(d, k) end))
  method('triu', triangle('triu', function(d, k) return sl.ge(d, k) end))

  -- -- pad ---------------------------------------------------------------------------------
  -- widths: n (every side of every axis), {before, after} (every axis), or
  -- one {before, after} per axis, as NumPy's pad_width.
  local function pad_widths(nd, w)
    local function pair(p, i)
      if type(p) == 'number' then p = { p, p } end
      if type(p) ~= 'table' or #p ~= 2 then fail('pad: width %d must be a number or {before, after}', i) end
      for j = 1, 2 do
        int('pad', 'a width', p[j])
        if p[j] < 0 then fail('pad: widths must be >= 0, got %d', p[j]) end
      end
      return p
    end
    if type(w) == 'number' or (type(w) == 'table' and type(w[1]) == 'number') then
      local p, res = pair(w, 1), {}
      for i = 1, nd do res[i] = p end
      return res
    end
    if type(w) ~= 'table' or #w ~= nd then
      fail('pad: %s widths for a %d-d input; give one {before, after} per axis', type(w) == 'table' and #w or type(w), nd)
    end
    local res = {}
    for i = 1, nd do res[i] = pair(w[i], i) end
    return res
  end

  local MODES = { constant = true, reflect = true, edge = true }
  method('pad', function(x, widths, mode, fill)
    x = value(x)
    mode = mode or 'constant'
    if not MODES[mode] then fail("pad: mode must be 'constant', 'reflect' or 'edge', got %s", tostring(mode)) end
    if fill ~= nil and mode ~= 'constant' then fail("pad: a fill value is for mode 'constant' only") end
    local nd = x:dim()
    local w = pad_widths(nd, widths)
    if mode == 'constant' then
      local shape, key = {}, {}
      for i = 1, nd do
        local n = size(x, i)
        shape[i] = n + w[i][1] + w[i][2]
        key[i] = { w[i][1] + 1, w[i][1] + n }
      end
      if nd == 0 then return x end
      local z = sl.is_var(x) and sl.alloc(sl.tensor(fill or 0, x:dtype()), shape) or sl.full(shape, fill or 0, x:dtype())
      return sl.set_subtensor(z, key, x)
    end
    for a = 0, nd - 1 do
      local before, after = w[a + 1][1], w[a + 1][2]
      if before > 0 or after > 0 then
        local n = size(x, a + 1)
        if known(n) and n == 0 then fail('pad: mode %s cannot pad the empty axis %d', mode, a + 1) end
        if mode == 'reflect' and known(n) and (before >= n or after >= n) then
          fail('pad: reflect widths (%d, %d) on axis %d of size %d must be smaller than the size', before, after, a + 1, n)
        end
        local parts = {}
        if before > 0 then
          parts[1] = mode == 'edge' and sl['repeat'](sl.subtensor(x, key_at(nd, a, { 1, 1 })), before, a + 1)
            or sl.subtensor(x, key_at(nd, a, { before + 1, 2, -1 }))
        end
        parts[#parts + 1] = x
        if after > 0 then
          parts[#parts + 1] = mode == 'edge' and sl['repeat'](sl.subtensor(x, key_at(nd, a, { -1, -1 })), after, a + 1)
            or sl.subtensor(x, key_at(nd, a, { -2, -after - 1, -1 }))
        end
        x = sl.concatenate(parts, a + 1)
      end
    end
    return x
  end)

  -- -- one_hot and meshgrid ------------------------------------------------------------------
  local INTS = { uint8 = true, int32 = true, int64 = true }
  method('one_hot', function(labels, k, dtype)
    labels = value(labels)
    if not INTS[labels:dtype()] then fail('one_hot: labels must be integers, got %s', labels:dtype()) end
    int('one_hot', 'the number of classes', k)
    if k < 1 then fail('one_hot: the number of classes must be >= 1, got %d', k) end
    if sl.is_tensor(labels) and labels:numel() > 0 then
      local lo, hi = sl.min(labels):item(), sl.max(labels):item()
      if lo < 1 or hi > k then fail('one_hot: label %d is outside 1..%d', lo < 1 and lo or hi, k) end
    end
    local pat = {}
    for i = 1, labels:dim() do pat[i] = i end
    pat[#pat + 1] = 'x'
    return sl.eq(sl.dimshuffle(labels, pat), sl.arange(1, k + 1, 'int64')):cast(dtype or sl.config.floatX)
  end)

  -- meshgrid(x1, ..., xn [, opts]): n arrays of the grid's shape; 'xy'
  -- indexing (the default, NumPy's) swaps the first two axes of the grid.
  function sl.meshgrid(...)
    local xs = { ... }
    local opts = {}
    if type(xs[#xs]) == 'table' and not sl.is_var(xs[#xs]) and not sl.is_tensor(xs[#xs]) then
      opts = table.remove(xs)
    end
    for k in pairs(opts) do if k ~= 'indexing' then fail('meshgrid: unknown option %s', tostring(k)) end end
    local indexing = opts.indexing or 'xy'
    if indexing ~= 'xy' and indexing ~= 'ij' then fail("meshgrid: indexing must be 'xy' or 'ij', got %s", tostring(indexing)) end
    local n = #xs
    local shape, pos = {}, {}
    for i = 1, n do
      xs[i] = sl.reshape(value(xs[i]), -1)
      pos[i] = i
    end
    if indexing == 'xy' and n >= 2 then pos[1], pos[2] = 2, 1 end
    for i = 1, n do shape[pos[i]] = size(xs[i], 1) end
    local res = {}
    for i = 1, n do
      local pat = {}
      for j = 1, n do pat[j] = j == pos[i] and 1 or 'x' end
      res[i] = sl.alloc(sl.dimshuffle(xs[i], pat), shape)
    end
    return unpack(res)
  end
end
