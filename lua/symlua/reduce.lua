-- Reductions in Lua: sum, prod, mean, var, std, max, min, argmax, argmin,
-- all and any, on variables (building a node) and tensors (computing at once).
--
--   sl.sum(x [, axes [, keepdims]])      also x:sum(axes, keepdims)
--   sl.var(x [, axes [, keepdims [, ddof]]])   and std: ddof defaults to 0
--   sl.var(x, { axis = axes, keepdims = bool, ddof = n })   the same by name
--
-- axes: nil reduces every axis (a 0-d result); a number reduces that axis; a
-- list {a, b, ...} reduces several. Axes are 1-based, negative from the end,
-- and may not repeat. keepdims keeps each reduced axis with size 1. An
-- options table may replace the arguments after x for every reduction.
--
-- Results follow NumPy: sum and prod of bool and integers are int64, of
-- floats the same float; mean, var and std of bool and integers are floatX;
-- max and min keep the dtype and propagate NaN; all and any are bool.
-- argmax and argmin return int64 1-based positions (the first NaN, else the
-- first extreme) along one axis, or into the flattened input when no axis
-- is given; several axes are an error, as in NumPy. An empty axis sums to 0,
-- multiplies to 1, averages to NaN, and is an error for max, min, argmax and
-- argmin. Float sums are pairwise in double; var is two-pass (op_reduce.c).
return function(sl)
  local core = sl.core
  local apply = core.apply
  local var_methods = core.var_methods or core.var_mt.__index
  local tensor_methods = core.tensor_methods

  local fail = core.fail   -- errors name the caller's line, as the core's do

  local OPTIONS = { axis = true, keepdims = true, ddof = true }

  -- An options table has only the keys above; a list of axes has none.
  local function is_options(t)
    if type(t) ~= 'table' or sl.is_var(t) or sl.is_tensor(t) then return false end
    local named = false
    for k in pairs(t) do
      if type(k) == 'string' then named = true end
    end
    return named
  end

  local function axis_text(a) return type(a) == 'number' and string.format('%d', a) or tostring(a) end

  -- The params for op over an nd-axis input: { v = { keepdims, axes... } }
  -- with 0-based sorted axes, and ddof in x.
  local function params(op, nd, axes, keepdims, ddof)
    if keepdims ~= nil and type(keepdims) ~= 'boolean' then
      fail('%s: keepdims must be a boolean, got %s', op, tostring(keepdims))
    end
    if ddof ~= nil and (type(ddof) ~= 'number' or ddof ~= ddof) then
      fail('%s: ddof must be a number, got %s', op, tostring(ddof))
    end
    local list
    if axes == nil then
      list = {}
      for i = 1, nd do list[i] = i end
    elseif type(axes) == 'number' then
      list = { axes }
    elseif type(axes) == 'table' and not sl.is_var(axes) and not sl.is_tensor(axes) then
      list = axes
    else
      fail('%s: the axis must be a number, a list of numbers or nil, got %s', op, type(axes))
    end
    if (op == 'argmax' or op == 'argmin') and #list ~= 1 and axes ~= nil then
      fail('%s: takes one axis or none (the flattened input), got %d axes', op, #list)
    end
    local seen, zero = {}, {}
    for i, a in ipairs(list) do
      if type(a) ~= 'number' or a % 1 ~= 0 then
        fail('%s: an axis must be an integer, got %s', op, tostring(a))
      end
      local k = a < 0 and nd + a or a - 1
      if a == 0 or k < 0 or k >= nd then
        fail('%s: axis %s is out of range for a %d-d input', op, axis_text(a), nd)
      end
      if seen[k] then
        fail('%s: axis %s repeats axis %s (both name axis %d of a %d-d input)', op, axis_text(a),
             axis_text(seen[k]), k + 1, nd)
      end
      seen[k] = a
      zero[i] = k
    end
    table.sort(zero)
    table.insert(zero, 1, keepdims and 1 or 0)
    return { v = zero, x = ddof or 0 }
  end

  local value = core.value

  local function reduction(op, with_ddof)
    return function(x, axes, keepdims, ddof)
      x = value(x)
      if is_options(axes) then
        if keepdims ~= nil or ddof ~= nil then
          fail('%s: give the options table alone, after the input', op)
        end
        for k in pairs(axes) do
          if not OPTIONS[k] or (k == 'ddof' and not with_ddof) then
            fail('%s: unknown option %s', op, tostring(k))
          end
        end
        axes, keepdims, ddof = axes.axis, axes.keepdims, axes.ddof
      elseif ddof ~= nil and not with_ddof then
        fail('%s: takes (x, axes, keepdims), got a fourth argument', op)
      end
      return apply(op, params(op, x:dim(), axes, keepdims, ddof), x)
    end
  end

  for _, op in ipairs({ 'sum', 'prod', 'mean', 'var', 'std', 'max', 'min',
                        'argmax', 'argmin', 'all', 'any' }) do
    local f = reduction(op, op == 'var' or op == 'std')
    sl[op] = f
    var_methods[op] = f
    if tensor_methods[op] == nil then tensor_methods[op] = f end
  end
end
