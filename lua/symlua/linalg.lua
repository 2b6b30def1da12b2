-- Linear algebra in Lua: dot and outer (core/ops/blas.c), on variables and
-- tensors alike.
--
-- sl.dot(a, b) / a:dot(b) follows NumPy's dot for 1-d and 2-d operands
-- (vector·vector gives a 0-d result) and np.matmul for 3-d ones: stacks of
-- matrices multiply pairwise, a 2-d operand is broadcast over the stack.
-- With a scalar operand (a Lua number or a 0-d value) dot multiplies, as
-- NumPy's does. sl.outer(a, b) is np.outer: both flattened, (#a, #b).
return function(sl)
  local core = sl.core
  local apply = core.apply
  local var_methods = core.var_methods or core.var_mt.__index
  local tensor_methods = core.tensor_methods

  local function is_scalar(x)
    local t = type(x)
    if t == 'number' or t == 'boolean' then return true end
    return (sl.is_var(x) or sl.is_tensor(x)) and x:dim() == 0
  end

  local function method(name, f)
    sl[name] = f
    var_methods[name] = f
    if tensor_methods[name] == nil then tensor_methods[name] = f end
  end

  method('dot', function(a, b)
    if is_scalar(a) or is_scalar(b) then return sl.mul(a, b) end
    return apply('dot', nil, a, b)
  end)

  method('outer', function(a, b) return apply('outer', nil, a, b) end)
end
