-- Contractions: sl.einsum (NumPy's subscripts, '...' included) and
-- sl.tensordot, on variables and tensors alike, lowered to existing ops so
-- that their gradients come from those ops' rules.
--
--   sl.einsum('bij,bjk->bik', a, b)    explicit output
--   sl.einsum('ij,jk', a, b)           implicit: the labels seen once, sorted
--   sl.einsum('...ij,...jk->...ik', a, b)
--   sl.tensordot(a, b [, axes])        axes = n (default 2) or {{a axes}, {b axes}}, 1-based
--
-- The lowering, per operand: a label repeated within it takes the diagonal;
-- a label no other operand and not the output needs is summed away. Then
-- the operands contract left to right, two at a time: the labels both share
-- and a later step needs are batch axes, those both share and nothing later
-- needs are contracted, the rest are kept; each pair becomes one matrix
-- product (batched when it has batch axes) of the operands permuted and
-- reshaped to (batch, rows, k) and (batch, k, cols), or a broadcast product
-- when nothing is contracted. Finally the result's axes are permuted into
-- the output's order. A size-1 axis meeting a larger one of the same label
-- broadcasts, as in NumPy; on a variable that takes a static size of 1 (a
-- broadcastable axis, as everywhere in symlua), since the lowering is fixed
-- when the graph is built.
return function(sl)
  local core = sl.core
  local var_methods = core.var_methods or core.var_mt.__index
  local tensor_methods = core.tensor_methods
  local fail = core.fail

  local value = core.value

  local function static_size(x, i)
    if sl.is_tensor(x) then return x:shape()[i] end
    return x:static_shape()[i]
  end
  local function size(x, i)
    local s = static_size(x, i)
    if s >= 0 then return s end
    return x:shape(i)
  end
  local function product(list)
    local p = 1
    for _, s in ipairs(list) do p = p * s end
    return p
  end

  local function index_of(list)
    local at = {}
    for i, l in ipairs(list) do at[l] = i end
    return at
  end

  -- -- parsing ------------------------------------------------------------------------------
  -- One operand's subscripts as a list of labels for its nd axes: letters
  -- stay letters, the ellipsis' axes are '.1' .. '.E' aligned at the right
  -- (E the most axes any operand's ellipsis covers).
  local function split_term(term, where)
    local letters, ell, i = {}, nil, 1
    while i <= #term do
      local c = term:sub(i, i)
      if term:sub(i, i + 2) == '...' then
        if ell then fail('einsum: %s has two ellipses', where) end
        ell = #letters + 1
        i = i + 3
      elseif c:match('%a') then
        letters[#letters + 1] = c
        i = i + 1
      else
        fail("einsum: bad character '%s' in the subscripts of %s", c, where)
      end
    end
    return letters, ell
  end

  local function expand(letters, ell, n_ell, E)
    if not ell then return letters end
    local labels = {}
    for i = 1, ell - 1 do labels[#labels + 1] = letters[i] end
    for j = E - n_ell + 1, E do labels[#labels + 1] = '.' .. j end
    for i = ell, #letters do labels[#labels + 1] = letters[i] end
    return labels
  end

  local function parse(subscripts, operands)
    if type(subscripts) ~= 'string' then fail('einsum: the subscripts must be a string, got %s', type(subscripts)) end
    local spec = subscripts:gsub('%s', '')
    local lhs, rhs = spec:match('^(.-)%->(.*)$')
    if not lhs then lhs = spec end
    local terms = {}
    for t in (lhs .. ','):gmatch('([^,]*),') do terms[#terms + 1] = t end
    if #terms ~= #operands then
      fail("einsum: the subscripts '%s' name %d operand%s but %d %s given", subscripts, #terms,
           #terms == 1 and '' or 's', #operands, #operands == 1 and 'is' or 'are')
    end
    local parsed, E = {}, 0
    for k, t in ipairs(terms) do
      local letters, ell = split_term(t, 'operand ' .. k)
      local nd = operands[k]:dim()
      local n_ell = nd - #letters
      if (ell and n_ell < 0) or (not ell and n_ell ~= 0) then
        fail("einsum: operand %d has %d axes but its subscripts '%s' name %d", k, nd, t, #letters)
      end
      parsed[k] = { letters = letters, ell = ell, n_ell = ell and n_ell or 0 }
      if ell and n_ell > E then E = n_ell end
    end
    local labels, count = {}, {}
    for k, p in ipairs(parsed) do
      labels[k] = expand(p.letters, p.ell, p.n_ell, E)
      for _, l in ipairs(labels[k]) do count[l] = (count[l] or 0) + 1 end
    end
    local out = {}
    if rhs then
      local letters, ell = split_term(rhs, 'the output')
      out = expand(letters, ell, E, E)
      local seen = {}
      for _, l in ipairs(letters) do
        if seen[l] then fail("einsum: '%s' appears twice in the output", l) end
        if not count[l] then fail("einsum: output label '%s' appears in no operand", l) end
        seen[l] = true
      end
    else   -- the ellipsis' axes, then the letters seen once, in order
      for j = 1, E do out[#out + 1] = '.' .. j end
      local once = {}
      for l, c in pairs(count) do if c == 1 and l:sub(1, 1) ~= '.' then once[#once + 1] = l end end
      table.sort(once)
      for _, l in ipairs(once) do out[#out + 1] = l end
    end
    return labels, out
  end

  -- -- lowering -------------------------------------------------------------------------------
  -- An operand with its labels; sizes checked across operands as they meet.
  local function sum_labels(t, drop)
    local axes, left = {}, {}
    for i, l in ipairs(t.labels) do
      if drop[l] then axes[#axes + 1] = i else left[#left + 1] = l end
    end
    if #axes == 0 then return t end
    return { x = sl.sum(t.x, axes), labels = left }
  end

  -- the diagonal of each label repeated within one operand
  local function take_diagonals(t)
    while true do
      local first, a, b = {}, nil, nil
      for i, l in ipairs(t.labels) do
        if first[l] then a, b = first[l], i break end
        first[l] = i
      end
      if not a then return t end
      local sa, sb = static_size(t.x, a), static_size(t.x, b)
      if sa >= 0 and sb >= 0 and sa ~= sb then
        fail("einsum: label '%s' is repeated on axes of sizes %d and %d", t.labels[a], sa, sb)
      end
      local labels = {}
      for i, l in ipairs(t.labels) do if i ~= a and i ~= b then labels[#labels + 1] = l end end
      labels[#labels + 1] = t.labels[a]
      t = { x = sl.diagonal(t.x, 0, a, b), labels = labels }
    end
  end

  -- t permuted to the labels in `order` (each one t's, or absent as 'x'),
  -- then reshaped so each group of `groups` is one axis (nil: no reshape).
  local function arrange(t, order, groups)
    local at, pat, identity = index_of(t.labels), {}, #order == #t.labels
    for i, l in ipairs(order) do
      pat[i] = at[l] or 'x'
      identity = identity and pat[i] == i
    end
    local x = identity and t.x or sl.dimshuffle(t.x, pat)
    if not groups then return x end
    local shape, reshape, k = {}, false, 0
    for g, n in ipairs(groups) do
      local part = {}
      for j = 1, n do part[j] = size(x, k + j) end
      shape[g] = product(part)
      reshape = reshape or n ~= 1
      k = k + n
    end
    return reshape and sl.reshape(x, shape) or x
  end

  -- A label of size 1 in one operand and larger in the other broadcasts:
  -- summing it away there is the same (one term).
  local function drop_broadcast(a, b)
    local ia, ib = index_of(a.labels), index_of(b.labels)
    local da, db = {}, {}
    for l, i in pairs(ia) do
      local j = ib[l]
      if j then
        local sa, sb = static_size(a.x, i), static_size(b.x, j)
        if sa == 1 and sb ~= 1 then da[l] = true
        elseif sb == 1 and sa ~= 1 then db[l] = true
        elseif sa >= 0 and sb >= 0 and sa ~= sb then
          fail("einsum: label '%s' has size %d in one operand and %d in another", l:gsub('^%.', '...'), sa, sb)
        end
      end
    end
    return sum_labels(a, da), sum_labels(b, db)
  end

  local function contract_pair(a, b, keep)
    a, b = drop_broadcast(a, b)
    local ia, ib = index_of(a.labels), index_of(b.labels)
    local batch, inner, arows, bcols = {}, {}, {}, {}
    for _, l in ipairs(a.labels) do
      if ib[l] then
        if keep[l] then batch[#batch + 1] = l else inner[#inner + 1] = l end
      else
        arows[#arows + 1] = l
      end
    end
    for _, l in ipairs(b.labels) do if not ia[l] then bcols[#bcols + 1] = l end end
    local labels = {}
    for _, list in ipairs({ batch, arows, bcols }) do
      for _, l in ipairs(list) do labels[#labels + 1] = l end
    end
    if #inner == 0 then   -- nothing summed: a broadcast product
      return { x = arrange(a, labels) * arrange(b, labels), labels = labels }
    end
    local function cat(...)
      local r = {}
      for _, list in ipairs({ ... }) do for _, l in ipairs(list) do r[#r + 1] = l end end
      return r
    end
    local nb = #batch > 0 and 1 or 0
    local ga = nb == 1 and { #batch, #arows, #inner } or { #arows, #inner }
    local gb = nb == 1 and { #batch, #inner, #bcols } or { #inner, #bcols }
    local xa = arrange(a, cat(batch, arows, inner), ga)
    local xb = arrange(b, cat(batch, inner, bcols), gb)
    local shape = {}
    for _, l in ipairs(cat(batch, arows)) do shape[#shape + 1] = size(a.x, ia[l]) end
    for _, l in ipairs(bcols) do shape[#shape + 1] = size(b.x, ib[l]) end
    local z = sl.dot(xa, xb)
    local grouped = nb + 2   -- z's axes: (batch), rows, cols
    if #shape ~= grouped or #batch > 1 or #arows ~= 1 or #bcols ~= 1 then z = sl.reshape(z, shape) end
    return { x = z, labels = labels }
  end

  -- the lowering of operands with labels to the output labels
  local function lower(xs, labels, out)
    local terms = {}
    for k, x in ipairs(xs) do terms[k] = take_diagonals({ x = x, labels = labels[k] }) end
    local function needed(from)   -- labels the output and the terms from `from` on use
      local need = {}
      for _, l in ipairs(out) do need[l] = true end
      for k = from, #terms do for _, l in ipairs(terms[k].labels) do need[l] = true end end
      return need
    end
    local function sum_unneeded(t, need)
      local drop = {}
      for _, l in ipairs(t.labels) do if not need[l] then drop[l] = true end end
      return sum_labels(t, drop)
    end
    local function with(need, t)
      for _, l in ipairs(t.labels) do need[l] = true end
      return need
    end
    local acc = sum_unneeded(terms[1], needed(2))
    for k = 2, #terms do
      local keep = needed(k + 1)
      local b = sum_unneeded(terms[k], with(needed(k + 1), acc))
      acc = contract_pair(sum_unneeded(acc, with(needed(k + 1), b)), b, keep)
    end
    acc = sum_unneeded(acc, needed(#terms + 1))
    return arrange(acc, out)
  end

  function sl.einsum(subscripts, ...)
    local xs = { ... }
    if #xs == 0 then fail('einsum: no operands') end
    for i, x in ipairs(xs) do
      xs[i] = value(x)
      local dt = xs[i]:dtype()
      if dt == 'complex64' or dt == 'complex128' then fail('einsum: operand %d is complex (%s)', i, dt) end
    end
    local labels, out = parse(subscripts, xs)
    return lower(xs, labels, out)
  end

  -- tensordot(a, b, axes): sums over a's axes axes[1] paired with b's
  -- axes[2]; n means a's last n with b's first n. The result's axes are
  -- a's others, then b's others.
  function sl.tensordot(a, b, axes)
    a, b = value(a), value(b)
    local na, nb = a:dim(), b:dim()
    if axes == nil then axes = 2 end
    local aa, bb = {}, {}
    if type(axes) == 'number' then
      if axes % 1 ~= 0 or axes < 0 or axes > na or axes > nb then
        fail('tensordot: axes = %s for operands of %d and %d axes', tostring(axes), na, nb)
      end
      for i = 1, axes do aa[i] = na - axes + i; bb[i] = i end
    elseif type(axes) == 'table' and type(axes[1]) == 'table' and type(axes[2]) == 'table' then
      if #axes[1] ~= #axes[2] then
        fail('tensordot: %d axes of a paired with %d axes of b', #axes[1], #axes[2])
      end
      local function axis(x, list, i, nd, name)
        local ax = list[i]
        if type(ax) ~= 'number' or ax % 1 ~= 0 or ax == 0 or ax > nd or ax < -nd then
          fail('tensordot: axis %s of %s is out of range for %d axes', tostring(ax), name, nd)
        end
        return ax < 0 and nd + ax + 1 or ax
      end
      for i = 1, #axes[1] do
        aa[i], bb[i] = axis(a, axes[1], i, na, 'a'), axis(b, axes[2], i, nb, 'b')
      end
    else
      fail('tensordot: axes must be a count or {{axes of a}, {axes of b}}')
    end
    local la, lb, out = {}, {}, {}
    for i = 1, na do la[i] = 'a' .. i end
    for i = 1, nb do lb[i] = 'b' .. i end
    for i, ax in ipairs(aa) do
      local sa, sb = static_size(a, ax), static_size(b, bb[i])
      if sa >= 0 and sb >= 0 and sa ~= sb then
        fail('tensordot: axis %d of a (size %d) and axis %d of b (size %d) differ', ax, sa, bb[i], sb)
      end
      if la[ax]:sub(1, 1) == 'c' or lb[bb[i]]:sub(1, 1) == 'c' then fail('tensordot: an axis is paired twice') end
      la[ax], lb[bb[i]] = 'c' .. i, 'c' .. i
    end
    for _, l in ipairs(la) do if l:sub(1, 1) == 'a' then out[#out + 1] = l end end
    for _, l in ipairs(lb) do if l:sub(1, 1) == 'b' then out[#out + 1] = l end end
    return lower({ a, b }, { la, lb }, out)
  end

  if tensor_methods.tensordot == nil then tensor_methods.tensordot = sl.tensordot end
  var_methods.tensordot = sl.tensordot
end
