-- Differentiation built on sl.grad: vector-Jacobian products (sl.Lop),
-- Jacobian-vector products (sl.Rop), full Jacobians and Hessians.
--
--   sl.Lop(f, wrt, u)       u^T . df/dwrt: sl.grad with u as the known gradient
--                           of f; f and u a var or a list of them (u shaped
--                           like f), wrt a var or a list; result shaped like wrt
--   sl.Rop(f, wrt, v)       df/dwrt . v: v shaped like wrt; result shaped like f
--   sl.jacobian(y, x)       shape y.shape ++ x.shape; x a var or a list
--   sl.hessian(cost, x)     shape x.shape ++ x.shape for a scalar cost
--
-- Each takes an options table last: disconnected ('raise' by default, 'warn'
-- or 'ignore': then zeros) and consider_constant, as sl.grad does.
--
-- Rop uses two reverse passes, since there is no forward mode: with a dummy
-- u shaped like f, g(u) = Lop(f, wrt, u) is linear in u, so Lop(g, u, v) is
-- the Jacobian-vector product and no longer depends on u's value. u is made
-- as zeros shaped like f (an alloc computed from f's shape), so compiled
-- functions need no extra input for it.
--
-- jacobian differentiates each element of y on its own and stacks the rows:
-- exact and simple, and the graph grows with y's size, so y's shape must be
-- static (known when the graph is built). A runtime loop over elements would
-- need a scan op the core does not have; a y of unknown size is an error that
-- says how to give the inputs static shapes (sl.tensor_type). hessian is the
-- jacobian of the gradient, so x's shape must be static for the same reason.
return function(sl)
  local core = sl.core
  local fail = core.fail   -- errors name the caller's line

  local MODES = { raise = true, warn = true, ignore = true }
  local MAX_INPUTS = 32   -- the most inputs a node takes (core: 4 * SL_MAX_OPERANDS)

  local function is_float(v) return v:dtype() == 'float32' or v:dtype() == 'float64' end

  local function label(v)
    return v:name() or ((v:owner() and v:owner():op() or v:kind()) .. '#' .. v:id())
  end

  local function shape_text(s)
    local parts = {}
    for i, n in ipairs(s) do parts[i] = n < 0 and '?' or tostring(n) end
    return '(' .. table.concat(parts, ', ') .. (#s == 1 and ',)' or ')')
  end

  -- x as a list, and whether it was a single value (a var, tensor or number).
  local function as_list(x)
    if type(x) == 'table' and not sl.is_var(x) and not sl.is_tensor(x) then return x, false end
    return { x }, true
  end

  local function check_opts(op, opts)
    opts = opts or {}
    if type(opts) ~= 'table' then fail('%s: options must be a table, got %s', op, type(opts)) end
    local mode = opts.disconnected or 'raise'
    if not MODES[mode] then fail("%s: disconnected must be 'raise', 'warn' or 'ignore', got %s", op, tostring(mode)) end
    return opts, mode
  end

  local function check_vars(op, what, list, float)
    for i, v in ipairs(list) do
      if not sl.is_var(v) then
        fail('%s: %s %d is a %s, not a symbolic variable', op, what, i, sl.is_tensor(v) and 'tensor' or type(v))
      end
      if float and not is_float(v) then
        fail('%s: %s %d (%s) is %s; only float variables can be differentiated', op, what, i, label(v), v:dtype())
      end
    end
  end

  -- Whether y's graph reaches w without passing through a constant-considered var.
  local function depends_on(y, w, stop)
    local target, seen, stack = w:id(), {}, { y }
    while #stack > 0 do
      local v = table.remove(stack)
      local id = v:id()
      if id == target then return true end
      if not seen[id] and not stop[id] then
        seen[id] = true
        local node = v:owner()
        if node then
          for _, x in ipairs(node:inputs()) do stack[#stack + 1] = x end
        end
      end
    end
    return false
  end

  local function stop_set(opts)
    local stop = {}
    for _, v in ipairs(opts.consider_constant or {}) do stop[v:id()] = true end
    return stop
  end

  -- Report a wrt var that nothing depends on (an error unless the mode asks
  -- for zeros, which the callers then put in its place).
  local function disconnected(op, mode, msg)
    if mode == 'raise' then
      fail("%s: %s; pass disconnected = 'ignore' or 'warn' to get zeros", op, msg)
    elseif mode == 'warn' then
      io.stderr:write('warning: ', op, ': ', msg, '\n')
    end
  end

  -- An eval point for var v: a var or tensor of v's dimensions and (where
  -- both are known) sizes, cast to v's dtype; a number fills v's shape.
  local function point(op, what, i, p, v)
    if type(p) == 'number' then return sl.full_like(v, p) end
    if not (sl.is_var(p) or sl.is_tensor(p)) then
      fail('%s: eval point %d must be a variable, tensor or number, got %s', op, i, type(p))
    end
    local vs = v:static_shape()
    local ps = sl.is_var(p) and p:static_shape() or p:shape()
    local ok = #ps == #vs
    for d = 1, #vs do ok = ok and (vs[d] < 0 or ps[d] == nil or ps[d] < 0 or ps[d] == vs[d]) end
    if not ok then
      fail('%s: eval point %d has shape %s but %s (%s) has shape %s', op, i, shape_text(ps), what,
           label(v), shape_text(vs))
    end
    if sl.is_tensor(p) then return core.constant(p:cast(v:dtype())) end
    if p:dtype() ~= v:dtype() then p = p:cast(v:dtype()) end
    return p
  end

  -- known_grads for sl.grad from parallel lists of vars and gradients; a var
  -- listed twice gets the sum (sl.grad keys gradients by var id).
  local function known(vars, grads)
    local by_id, out = {}, {}
    for i, v in ipairs(vars) do
      local prev = by_id[v:id()]
      if prev then
        out[prev] = out[prev] + grads[i]
      else
        by_id[v:id()] = v
        out[v] = grads[i]
      end
    end
    return out
  end

  -- The sizes of x: static where known, else symbolic x:shape(d).
  local function sizes(x)
    local s, st = {}, x:static_shape()
    for d = 1, #st do s[d] = st[d] >= 0 and st[d] or x:shape(d) end
    return s
  end

  local function concat(a, b)
    local r = {}
    for _, x in ipairs(a) do r[#r + 1] = x end
    for _, x in ipairs(b) do r[#r + 1] = x end
    return r
  end

  local function zeros(dtype, shape)
    return sl.alloc(sl.tensor(0, dtype), shape)
  end

  -- -- Lop ----------------------------------------------------------------------------
  function sl.Lop(f, wrt, eval_points, opts)
    local mode
    opts, mode = check_opts('Lop', opts)
    local fs, single_f = as_list(f)
    local ws, single_w = as_list(wrt)
    local us = as_list(eval_points)
    if #fs == 0 then fail('Lop: f is an empty list') end
    if #ws == 0 then fail('Lop: wrt is an empty list') end
    check_vars('Lop', single_f and 'f' or 'f entry', fs, true)
    check_vars('Lop', single_w and 'wrt' or 'wrt entry', ws, true)
    if eval_points == nil or #us ~= #fs then
      fail('Lop: %d eval point(s) given for %d output(s) in f; give one shaped like each',
           eval_points == nil and 0 or #us, #fs)
    end
    for i = 1, #fs do us[i] = point('Lop', single_f and 'f' or ('f entry ' .. i), i, us[i], fs[i]) end
    local stop = stop_set(opts)
    for i, w in ipairs(ws) do
      local connected = false
      for _, y in ipairs(fs) do connected = connected or depends_on(y, w, stop) end
      if not connected then
        disconnected('Lop', mode, string.format('f does not depend on %s (wrt %d)', label(w), i))
      end
    end
    local g = sl.grad(nil, ws, { known_grads = known(fs, us), disconnected = 'ignore',
                                 consider_constant = opts.consider_constant })
    if single_w then return g[1] end
    return g
  end

  -- -- Rop ----------------------------------------------------------------------------
  function sl.Rop(f, wrt, eval_points, opts)
    local mode
    opts, mode = check_opts('Rop', opts)
    local fs, single_f = as_list(f)
    local ws, single_w = as_list(wrt)
    local vs = as_list(eval_points)
    if #fs == 0 then fail('Rop: f is an empty list') end
    if #ws == 0 then fail('Rop: wrt is an empty list') end
    check_vars('Rop', single_f and 'f' or 'f entry', fs, true)
    check_vars('Rop', single_w and 'wrt' or 'wrt entry', ws, true)
    if eval_points == nil or #vs ~= #ws then
      fail('Rop: %d eval point(s) given for %d variable(s) in wrt; give one shaped like each',
           eval_points == nil and 0 or #vs, #ws)
    end
    for i = 1, #ws do vs[i] = point('Rop', single_w and 'wrt' or ('wrt entry ' .. i), i, vs[i], ws[i]) end
    local stop = stop_set(opts)
    local any = false
    for k, y in ipairs(fs) do
      local connected = false
      for _, w in ipairs(ws) do connected = connected or depends_on(y, w, stop) end
      if not connected then
        local what = single_f and 'f' or ('f entry ' .. k)
        local names = {}
        for i, w in ipairs(ws) do names[i] = label(w) end
        disconnected('Rop', mode, string.format('%s (%s) does not depend on %s', what, label(y),
                                                table.concat(names, ', ')))
      end
      any = any or connected
    end

    local us = {}
    for k, y in ipairs(fs) do us[k] = sl.zeros_like(y) end
    local result
    if any then
      local gs = sl.grad(nil, ws, { known_grads = known(fs, us), disconnected = 'ignore',
                                    consider_constant = opts.consider_constant })
      result = sl.grad(nil, us, { known_grads = known(gs, vs), disconnected = 'ignore' })
    else
      result = us
    end
    if single_f then return result[1] end
    return result
  end

  -- -- jacobian -----------------------------------------------------------------------
  -- Rows (each shaped like x) stacked along a new first axis.
  local function stack_rows(rows)
    local function groups(list, join)
      local out = {}
      for first = 1, #list, MAX_INPUTS do
        out[#out + 1] = join({ unpack(list, first, math.min(first + MAX_INPUTS - 1, #list)) }, 1)
      end
      return out
    end
    local parts = groups(rows, sl.stack)   -- a tree of joins: nodes take few inputs
    while #parts > 1 do parts = groups(parts, sl.concatenate) end
    return parts[1]
  end

  local function jacobian(op, y, xs, opts, mode)
    local ys = y:static_shape()
    local n = 1
    for _, s in ipairs(ys) do
      if s < 0 then
        fail('%s: the shape of %s must be known when the graph is built, got %s: give the inputs '
             .. "static shapes, e.g. sl.tensor_type('%s', {3})('x') instead of sl.vector('x')",
             op, op == 'hessian' and 'the gradient' or 'y', shape_text(ys), y:dtype())
      end
      n = n * s
    end
    local stop = stop_set(opts)
    local connected, wanted = {}, {}
    for i, x in ipairs(xs) do
      connected[i] = depends_on(y, x, stop)
      if connected[i] then wanted[#wanted + 1] = x
      else disconnected(op, mode, string.format('%s does not depend on %s (wrt %d)',
                                                 op == 'hessian' and 'the cost' or 'y', label(x), i)) end
    end
    local gopts = { disconnected = 'ignore', consider_constant = opts.consider_constant }
    local rows = {}   -- rows[k][j]: d y_k / d wanted[j]
    if #wanted > 0 then
      if #ys == 0 then
        rows[1] = sl.grad(y, wanted, gopts)
      else
        local flat = #ys == 1 and y or sl.reshape(y, -1)
        for k = 1, n do rows[k] = sl.grad(flat[k], wanted, gopts) end
      end
    end
    local out, j = {}, 0
    for i, x in ipairs(xs) do
      local shape = concat(ys, sizes(x))
      if not connected[i] or n == 0 then
        out[i] = zeros(x:dtype(), shape)
      elseif #ys == 0 then
        j = j + 1
        out[i] = rows[1][j]
      else
        j = j + 1
        local col = {}
        for k = 1, n do col[k] = rows[k][j] end
        local J = stack_rows(col)
        if #ys > 1 then J = sl.reshape(J, shape) end
        out[i] = J
      end
    end
    return out
  end

  function sl.jacobian(y, x, opts)
    local mode
    opts, mode = check_opts('jacobian', opts)
    local xs, single = as_list(x)
    if #xs == 0 then fail('jacobian: x is an empty list') end
    check_vars('jacobian', 'y', { y }, true)
    check_vars('jacobian', single and 'x' or 'x entry', xs, true)
    local J = jacobian('jacobian', y, xs, opts, mode)
    if single then return J[1] end
    return J
  end

  -- -- hessian ------------------------------------------------------------------------
  -- One block per var in x: the second derivatives within it (as Theano's
  -- hessian, the mixed blocks between two vars are not returned).
  function sl.hessian(cost, x, opts)
    local mode
    opts, mode = check_opts('hessian', opts)
    local xs, single = as_list(x)
    if #xs == 0 then fail('hessian: x is an empty list') end
    check_vars('hessian', 'cost', { cost }, true)
    check_vars('hessian', single and 'x' or 'x entry', xs, true)
    if cost:dim() ~= 0 then
      fail('hessian: the cost must be a scalar (0-d), got %d-d %s; take its sum or mean',
           cost:dim(), label(cost))
    end
    local stop = stop_set(opts)
    local out = {}
    for i, w in ipairs(xs) do
      local ws = w:static_shape()
      for _, s in ipairs(ws) do
        if s < 0 then
          fail("hessian: the shape of %s must be known when the graph is built, got %s: give it a "
               .. "static shape, e.g. sl.tensor_type('%s', {3})('x') instead of sl.vector('x')",
               label(w), shape_text(ws), w:dtype())
        end
      end
      if not depends_on(cost, w, stop) then
        disconnected('hessian', mode, string.format('the cost does not depend on %s (wrt %d)', label(w), i))
        out[i] = zeros(w:dtype(), concat(ws, ws))
      else
        local g = sl.grad(cost, w, { disconnected = 'ignore', consider_constant = opts.consider_constant })
        -- the gradient has w's shape; say so statically where inference lost it
        local gs, same = g:static_shape(), true
        for d = 1, #ws do same = same and gs[d] == ws[d] end
        if not same then g = sl.reshape(g, ws) end
        -- the gradient may no longer depend on w (a linear cost): zeros then
        out[i] = jacobian('hessian', g, { w }, opts, 'ignore')[1]
      end
    end
    if single then return out[1] end
    return out
  end
end
