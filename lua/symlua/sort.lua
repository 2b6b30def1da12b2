-- Cumulative and sorting ops in Lua, over core/ops/sort.c: cumsum, cumprod,
-- sort, argsort, topk and searchsorted on variables and tensors alike; and
-- nonzero, unique and bincount on tensors only, since the size of their
-- result depends on the values (a graph's shapes are known before it runs).
--
--   sl.cumsum(x [, axis])       over the flattened x when no axis is given (NumPy)
--   sl.sort(x [, axis [, descending]])       axis -1 by default, as in NumPy
--   sl.argsort(x [, axis [, descending]])    int64 positions, 1-based
--   sl.topk(x, k [, axis [, largest]])       values, indices (largest first, as torch.topk)
--   sl.searchsorted(a, v [, side])           1-based insertion points: NumPy's + 1
--
-- Sorting is stable (equal elements keep their order, descending too); NaN
-- comes after every number, first when descending. sort is a gather at
-- argsort's positions, so its gradient (and topk's) sends g back to where
-- each value came from. Index values are 1-based, as everywhere in symlua:
-- nonzero returns 1-based positions, and bincount's values are bins 1, 2, ...
return function(sl)
  local core = sl.core
  local apply = core.apply
  local fail = core.fail

  local value = core.value

  local method = core.method

  local function axis0(op, a, nd)
    if type(a) ~= 'number' or a % 1 ~= 0 then fail('%s: the axis must be an integer, got %s', op, tostring(a)) end
    local k = a < 0 and nd + a or a - 1
    if a == 0 or k < 0 or k >= nd then fail('%s: axis %d is out of range for a %d-d input', op, a, nd) end
    return k
  end

  local function flag(op, what, b)
    if b ~= nil and type(b) ~= 'boolean' then fail('%s: %s must be a boolean, got %s', op, what, tostring(b)) end
    return b and 1 or 0
  end

  local function no_complex(op, x)
    local dt = x:dtype()
    if dt == 'complex64' or dt == 'complex128' then fail('%s: complex input (%s) has no order', op, dt) end
  end

  -- -- cumulative sums and products --------------------------------------------------
  local function cumulative(op)
    return function(x, axis)
      x = value(x)
      no_complex(op, x)
      if axis == nil then
        x = sl.reshape(x, -1)
        axis = 1
      end
      return apply(op, { v = { axis0(op, axis, x:dim()), 0 } }, x)
    end
  end
  method('cumsum', cumulative('cumsum'))
  method('cumprod', cumulative('cumprod'))

  -- -- sorting ------------------------------------------------------------------------
  local function argsort(x, axis, descending)
    x = value(x)
    no_complex('argsort', x)
    local a = axis0('argsort', axis or -1, x:dim())
    return apply('argsort', { v = { a, flag('argsort', 'descending', descending) } }, x)
  end
  method('argsort', argsort)

  method('sort', function(x, axis, descending)
    x = value(x)
    no_complex('sort', x)
    local a = axis0('sort', axis or -1, x:dim())
    local order = apply('argsort', { v = { a, flag('sort', 'descending', descending) } }, x)
    return sl.gather(x, a + 1, order)
  end)

  -- topk(x, k, axis, largest): the k largest (smallest when largest is false)
  -- along the axis, in order, and their 1-based positions.
  method('topk', function(x, k, axis, largest)
    x = value(x)
    no_complex('topk', x)
    local a = axis0('topk', axis or -1, x:dim())
    if type(k) ~= 'number' or k % 1 ~= 0 or k < 0 then
      fail('topk: k must be a non-negative integer, got %s', tostring(k))
    end
    local n = sl.is_var(x) and x:static_shape()[a + 1] or x:shape()[a + 1]
    if n >= 0 and k > n then fail('topk: k = %d is more than the %d elements of axis %d', k, n, a + 1) end
    local desc = largest == nil and 1 or flag('topk', 'largest', largest)
    local order = apply('argsort', { v = { a, desc } }, x)
    local idx = sl.narrow(order, a + 1, 1, k)
    return sl.gather(x, a + 1, idx), idx
  end)

  local SIDES = { left = 0, right = 1 }
  method('searchsorted', function(a, v, side)
    a, v = value(a), value(v)
    no_complex('searchsorted', a)
    no_complex('searchsorted', v)
    if side ~= nil and SIDES[side] == nil then
      fail("searchsorted: side must be 'left' or 'right', got %s", tostring(side))
    end
    if a:dim() ~= 1 then fail('searchsorted: the sorted sequence must be 1-d, got %d-d', a:dim()) end
    return apply('searchsorted', { v = { SIDES[side or 'left'] } }, a, v)
  end)

  -- -- eager only: results sized by the values ------------------------------------------
  local function eager(op, x)
    if sl.is_var(x) then
      fail('%s works on tensors only: the size of its result depends on the values, which a '
        .. 'graph does not know before it runs (got a variable; call it on a tensor)', op)
    end
    return value(x)
  end

  local function int64_vector(list, n)
    local t = sl.zeros(n, 'int64')
    local p = t:data()
    for i = 1, n do p[i - 1] = list[i] end
    return t
  end

  -- nonzero(x): for each axis, the 1-based positions of the nonzero elements
  -- along it, in C order (NumPy's nonzero + 1), as a list of int64 vectors.
  method('nonzero', function(x)
    x = eager('nonzero', x)
    local nd = x:dim()
    if nd == 0 then fail('nonzero: a 0-d input has no positions; reshape it to 1-d first') end
    local mask = sl.ne(x, 0):cast('uint8'):contiguous()
    local p, shape = mask:data(), x:shape()
    local pos, count = {}, 0
    for d = 1, nd do pos[d] = {} end
    local idx = {}
    for d = 1, nd do idx[d] = 1 end
    for k = 0, mask:numel() - 1 do
      if p[k] ~= 0 then
        count = count + 1
        for d = 1, nd do pos[d][count] = idx[d] end
      end
      for d = nd, 1, -1 do   -- the next position in C order
        idx[d] = idx[d] + 1
        if idx[d] <= shape[d] then break end
        idx[d] = 1
      end
    end
    local res = {}
    for d = 1, nd do res[d] = int64_vector(pos[d], count) end
    return res
  end)

  -- unique(x, opts): the sorted distinct values of the flattened x (NaNs
  -- count as one, as in NumPy); opts.return_inverse adds the 1-based position
  -- in the result of each element of x, opts.return_counts how often each
  -- value occurs: unique(x) or values, inverse, counts in that order.
  method('unique', function(x, opts)
    x = eager('unique', x)
    no_complex('unique', x)
    opts = opts or {}
    for k in pairs(opts) do
      if k ~= 'return_inverse' and k ~= 'return_counts' then fail('unique: unknown option %s', tostring(k)) end
    end
    local flat = sl.reshape(x, -1):contiguous()
    local n = flat:numel()
    local order = sl.argsort(flat)
    local sorted = sl.take(flat, order):contiguous()
    local sp, op = sorted:data(), order:data()
    local firsts, counts, inverse = {}, {}, sl.zeros(n, 'int64')
    local ip = inverse:data()
    for k = 0, n - 1 do
      local v = sp[k]
      local same = k > 0 and (v == sp[k - 1] or (v ~= v and sp[k - 1] ~= sp[k - 1]))
      if not same then firsts[#firsts + 1] = k + 1; counts[#counts + 1] = 0 end
      counts[#counts] = counts[#counts] + 1
      ip[op[k] - 1] = #firsts
    end
    local values = sl.take(sorted, int64_vector(firsts, #firsts))
    local res = { values }
    if opts.return_inverse then res[#res + 1] = sl.reshape(inverse, x:shape()) end
    if opts.return_counts then res[#res + 1] = int64_vector(counts, #counts) end
    return unpack(res)
  end)

  -- bincount(x [, weights [, minlength]]): how often each bin 1, 2, ...
  -- occurs in the 1-d integer x (index values are 1-based: np.bincount(x - 1)),
  -- or the sum of the weights that fall in it; max(x) bins, at least minlength.
  method('bincount', function(x, weights, minlength)
    x = eager('bincount', x)
    if weights ~= nil then weights = eager('bincount', weights) end
    local kind = x:dtype()
    if kind ~= 'uint8' and kind ~= 'int32' and kind ~= 'int64' then
      fail('bincount: the bins must be integers, got %s', kind)
    end
    if x:dim() ~= 1 then fail('bincount: the bins must be 1-d, got %d-d', x:dim()) end
    if weights ~= nil and (weights:dim() ~= 1 or weights:shape()[1] ~= x:shape()[1]) then
      fail('bincount: weights of shape (%s) for %d bins; they must match', table.concat(weights:shape(), ', '),
           x:shape()[1])
    end
    minlength = minlength or 0
    if type(minlength) ~= 'number' or minlength % 1 ~= 0 or minlength < 0 then
      fail('bincount: minlength must be a non-negative integer, got %s', tostring(minlength))
    end
    local xs = x:cast('int64'):contiguous()
    local p, n, top = xs:data(), xs:numel(), minlength
    for k = 0, n - 1 do
      local b = tonumber(p[k])
      if b < 1 then fail('bincount: bin %d at position %d; bins are 1-based (>= 1)', b, k + 1) end
      if b > top then top = b end
    end
    local res = sl.zeros(top, weights and 'float64' or 'int64')
    local r = res:data()
    local w = weights and weights:cast(res:dtype()):contiguous()
    local wp = w and w:data()
    for k = 0, n - 1 do
      local b = tonumber(p[k]) - 1
      r[b] = r[b] + (wp and wp[k] or 1)
    end
    return res
  end)
end
