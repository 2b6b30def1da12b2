-- sl.optim: gradient-descent methods as update rules. Each takes the
-- parameters (shared variables), their gradients (or the loss, whose
-- gradients it then takes) and options, and returns an updates table for
-- sl.compile; the state a method keeps (velocities, moment estimates, a step
-- count) lives in shared variables of its own.
return function(sl)
  local core = sl.core
  sl.optim = sl.optim or {}

  -- params and grads checked; a loss in place of grads is differentiated.
  -- opts.dist: data-parallel over sl.dist's ranks: the parameters take rank
  -- 0's values now and the gradients are averaged over the ranks each step.
  local function prepare(name, params, grads, opts)
    if type(params) ~= 'table' or #params == 0 then
      core.fail('optim.%s: expected a list of shared variables to train', name)
    end
    for i, p in ipairs(params) do
      if not sl.is_var(p) or p:kind() ~= 'shared' then
        core.fail('optim.%s: parameter %d is not a shared variable', name, i)
      end
    end
    if sl.is_var(grads) then grads = sl.grad(grads, params) end
    if type(grads) ~= 'table' or #grads ~= #params then
      core.fail('optim.%s: expected %d gradients (or the loss), got %s', name, #params,
                type(grads) == 'table' and tostring(#grads) or type(grads))
    end
    if opts.dist then
      grads = sl.dist.data_parallel(grads, { params = params, bucket_bytes = opts.bucket_bytes })
    end
    return grads
  end

  local function option(name, opts, key, default)
    local v = opts[key]
    if v == nil then return default end
    if type(v) ~= 'number' and not sl.is_var(v) then
      core.fail('optim.%s: %s must be a number or a symbolic scalar, not %s', name, key, type(v))
    end
    return v
  end

  -- a shared zero tensor shaped like parameter p's current value
  local function state_like(p, what)
    local value = p:get_value(true)
    return sl.shared(sl.zeros(value:size(), value:dtype()), (p:name() or 'param') .. '.' .. what)
  end

  -- p + delta in p's dtype (a symbolic learning rate may be float64)
  local function step(p, delta)
    local new = p + delta
    if new:dtype() ~= p:dtype() then new = new:cast(p:dtype()) end
    return new
  end

  -- sgd: p <- p - lr * g
  function sl.optim.sgd(params, grads, opts)
    opts = opts or {}
    grads = prepare('sgd', params, grads, opts)
    local lr = option('sgd', opts, 'lr', 0.01)
    local updates = {}
    for i, p in ipairs(params) do updates[p] = step(p, -lr * grads[i]) end
    return updates
  end

  -- momentum: v <- mu v - lr g; p <- p + v. With nesterov = true the step
  -- looks ahead: p <- p + mu v_new - lr g.
  function sl.optim.momentum(params, grads, opts)
    opts = opts or {}
    grads = prepare('momentum', params, grads, opts)
    local lr = option('momentum', opts, 'lr', 0.01)
    local mu = option('momentum', opts, 'momentum', 0.9)
    local updates = {}
    for i, p in ipairs(params) do
      local v = state_like(p, 'velocity')
      local v_new = step(v, (mu - 1) * v - lr * grads[i])
      updates[v] = v_new
      updates[p] = opts.nesterov and step(p, mu * v_new - lr * grads[i]) or step(p, v_new)
    end
    return updates
  end

  function sl.optim.nesterov(params, grads, opts)
    opts = opts or {}
    local o = { nesterov = true }
    for k, v in pairs(opts) do o[k] = v end
    return sl.optim.momentum(params, grads, o)
  end

  -- rmsprop: a <- rho a + (1 - rho) g^2; p <- p - lr g / (sqrt(a) + eps)
  function sl.optim.rmsprop(params, grads, opts)
    opts = opts or {}
    grads = prepare('rmsprop', params, grads, opts)
    local lr = option('rmsprop', opts, 'lr', 0.001)
    local rho = option('rmsprop', opts, 'rho', 0.9)
    local eps = option('rmsprop', opts, 'eps', 1e-8)
    local updates = {}
    for i, p in ipairs(params) do
      local g = grads[i]
      local a = state_like(p, 'mean_square')
      local a_new = step(a, (1 - rho) * (g * g - a))
      updates[a] = a_new
      updates[p] = step(p, -lr * g / (sl.sqrt(a_new) + eps))
    end
    return updates
  end

  -- adam (Kingma & Ba): moment estimates m, v with bias correction through
  -- the step count t: p <- p - lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)
  function sl.optim.adam(params, grads, opts)
    opts = opts or {}
    grads = prepare('adam', params, grads, opts)
    local lr = option('adam', opts, 'lr', 0.001)
    local b1 = option('adam', opts, 'beta1', 0.9)
    local b2 = option('adam', opts, 'beta2', 0.999)
    local eps = option('adam', opts, 'eps', 1e-8)
    local t = sl.shared(sl.tensor(0, 'float64'), 'adam.t')
    local t_new = t + 1
    local updates = { [t] = t_new }
    local scale = lr * sl.sqrt(1 - b2 ^ t_new) / (1 - b1 ^ t_new)
    for i, p in ipairs(params) do
      local g = grads[i]
      local m, v = state_like(p, 'm'), state_like(p, 'v')
      local m_new = step(m, (1 - b1) * (g - m))
      local v_new = step(v, (1 - b2) * (g * g - v))
      updates[m], updates[v] = m_new, v_new
      updates[p] = step(p, -(scale:cast(p:dtype())) * m_new / (sl.sqrt(v_new) + eps))
    end
    return updates
  end
end
