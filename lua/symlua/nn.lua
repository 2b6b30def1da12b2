-- Neural-network functions: softmax and log_softmax along an axis, logsumexp,
-- activations and losses. Ops of core/ops/nn.c where a fused kernel matters
-- (softmax, log_softmax, logsumexp, cross-entropy from logits); the rest are
-- compositions of elementwise ops and reductions.
--
--   sl.nn.softmax(x [, axis])             axis: 1-based, negative from the end; -1 by default
--   sl.nn.log_softmax(x [, axis])
--   sl.logsumexp(x [, axes [, keepdims]]) axes: nil for all, a number or a list
--   sl.nn.categorical_crossentropy(p, y [, axis])   p: probabilities (softmax output)
--   sl.nn.crossentropy_with_logits(x, y [, axis])   x: logits, the fused stable op
--   sl.nn.binary_crossentropy(p, t), sl.nn.binary_crossentropy_with_logits(z, t)
--   sl.nn.mse(a, b)   the mean of (a - b)^2 over every element
--   sl.nn.relu, leaky_relu(x [, alpha=0.01]), elu(x [, alpha=1]), gelu(x [, 'tanh'])
--
-- y is either integer labels 1..K with the axis left out (shape (N) for
-- p of shape (N, K)), or targets with p's shape (one-hot rows or
-- probabilities). Cross-entropies return one value per row (per element for
-- the binary ones): take :mean() or :sum() for a cost.
--
-- categorical_crossentropy(p, y) is written naively, -log(p) picked at the
-- labels (gather) or -sum(y * log(p), axis); when p is sl.nn.softmax(x) the
-- optimizer's stabilize pass turns it into crossentropy_with_logits(x, y),
-- whose forward and gradient stay finite however large the logits
-- (core/opt/stabilize.c).
return function(sl)
  local core = sl.core
  local apply = core.apply
  local var_methods = core.var_methods or core.var_mt.__index
  local fail = core.fail

  local nn = {}
  sl.nn = nn

  local value = core.value

  local function is_int_number(a) return type(a) == 'number' and a % 1 == 0 end

  -- A 1-based axis (negative from the end) as a 0-based one.
  local function axis0(op, a, nd)
    if a == nil then a = -1 end
    if not is_int_number(a) then fail('%s: an axis must be an integer, got %s', op, tostring(a)) end
    local z = a < 0 and a + nd or a - 1
    if a == 0 or z < 0 or z >= nd then
      fail('%s: axis %d is out of range for a %d-d input', op, a, nd)
    end
    return z
  end

  local function is_float(x) local d = x:dtype() return d == 'float32' or d == 'float64' end
  local function is_int(x) local d = x:dtype() return d == 'int32' or d == 'int64' or d == 'uint8' end

  -- x with a size-1 axis inserted at the 0-based a, or that axis dropped
  local function insert_axis(x, a)
    local v = {}
    for i = 0, x:dim() do v[i + 1] = i < a and i or (i == a and -1 or i - 1) end
    return apply('dimshuffle', { v = v }, x)
  end
  local function drop_axis(x, a)
    local v = {}
    for i = 0, x:dim() - 1 do if i ~= a then v[#v + 1] = i end end
    return apply('dimshuffle', { v = v }, x)
  end

  -- -- softmax, log_softmax, logsumexp ------------------------------------------------------
  local function along_axis(op)
    return function(x, axis)
      x = value(x)
      if x:dim() == 0 then fail('%s: needs at least one axis, got a 0-d input', op) end
      return apply(op, { v = { axis0(op, axis, x:dim()) } }, x)
    end
  end
  nn.softmax = along_axis('softmax')
  nn.log_softmax = along_axis('log_softmax')

  -- logsumexp(x [, axes [, keepdims]]): log(sum(exp(x))) shifted by the maximum.
  function sl.logsumexp(x, axes, keepdims)
    x = value(x)
    if keepdims ~= nil and type(keepdims) ~= 'boolean' then
      fail('logsumexp: keepdims must be a boolean, got %s', tostring(keepdims))
    end
    local nd, list = x:dim(), {}
    if axes == nil then
      for i = 1, nd do list[i] = i end
    elseif type(axes) == 'number' then
      list = { axes }
    elseif type(axes) == 'table' and not sl.is_var(axes) and not sl.is_tensor(axes) then
      list = axes
    else
      fail('logsumexp: the axis must be a number, a list of numbers or nil, got %s', type(axes))
    end
    local zero, seen = {}, {}
    for i, a in ipairs(list) do
      local k = axis0('logsumexp', a, nd)
      if seen[k] then fail('logsumexp: axis %d repeats', a) end
      seen[k] = true
      zero[i] = k
    end
    table.sort(zero)
    table.insert(zero, 1, keepdims and 1 or 0)
    return apply('logsumexp', { v = zero }, x)
  end
  nn.logsumexp = sl.logsumexp

  var_methods.softmax = nn.softmax
  var_methods.log_softmax = nn.log_softmax
  var_methods.logsumexp = sl.logsumexp
  local tensor_methods = core.tensor_methods
  for _, name in ipairs({ 'softmax', 'log_softmax', 'logsumexp' }) do
    if tensor_methods[name] == nil then tensor_methods[name] = var_methods[name] end
  end

  -- -- cross-entropies ---------------------------------------------------------------------------
  -- Whether y holds labels (one axis fewer than p) or targets (p's axes).
  local function label_kind(op, p, y)
    if y:dim() == p:dim() - 1 then
      if not is_int(y) then
        fail('%s: labels must be integers (classes 1..K), got %s; give targets with the '
             .. 'shape of the predictions for probabilities', op, y:dtype())
      end
      return 'labels'
    end
    if y:dim() ~= p:dim() then
      fail('%s: targets must have the %d axes of the predictions (or %d for integer labels), got %d',
           op, p:dim(), p:dim() - 1, y:dim())
    end
    return 'targets'
  end

  -- -sum(y * log(p)) over the axis, or -log(p) at each row's label.
  function nn.categorical_crossentropy(p, y, axis)
    p, y = value(p), value(y)
    if p:dim() == 0 then fail('categorical_crossentropy: the predictions need a class axis') end
    local a = axis0('categorical_crossentropy', axis, p:dim())
    if label_kind('categorical_crossentropy', p, y) == 'labels' then
      local picked = apply('gather', { v = { a } }, sl.log(p), insert_axis(y, a))
      return -drop_axis(picked, a)
    end
    return -apply('sum', { v = { 0, a } }, y * sl.log(p))
  end
  nn.crossentropy = nn.categorical_crossentropy

  -- The same from logits x, as one stable op: logsumexp(x) - x[label].
  function nn.crossentropy_with_logits(x, y, axis)
    x, y = value(x), value(y)
    if x:dim() == 0 then fail('crossentropy_with_logits: the logits need a class axis') end
    if not is_float(x) then fail('crossentropy_with_logits: the logits must be float, got %s', x:dtype()) end
    local a = axis0('crossentropy_with_logits', axis, x:dim())
    label_kind('crossentropy_with_logits', x, y)
    return apply('softmax_crossentropy', { v = { a } }, x, y)
  end

  -- Elementwise -t log p - (1 - t) log(1 - p), for p in (0, 1); with p =
  -- sigmoid(z) the optimizer rewrites both logs into softplus forms.
  function nn.binary_crossentropy(p, t)
    return -(t * sl.log(p) + (1 - t) * sl.log(1 - p))
  end

  -- The same from logits z, stable for any z: t softplus(-z) + (1 - t) softplus(z).
  function nn.binary_crossentropy_with_logits(z, t)
    z = value(z)
    return t * sl.softplus(-z) + (1 - t) * sl.softplus(z)
  end

  -- Mean squared error over every element.
  function nn.mse(a, b)
    local d = value(a) - b
    return sl.mean(d * d)
  end

  -- -- activations ---------------------------------------------------------------------------------
  function nn.relu(x) return sl.maximum(value(x), 0) end

  function nn.leaky_relu(x, alpha)
    x = value(x)
    return sl.where(sl.gt(x, 0), x, (alpha or 0.01) * x)
  end

  -- alpha * (exp(x) - 1) below 0; expm1 only sees x <= 0, so a large x
  -- never makes an inf whose zero gradient would turn into NaN
  function nn.elu(x, alpha)
    x = value(x)
    return sl.where(sl.gt(x, 0), x, (alpha or 1) * sl.expm1(sl.minimum(x, 0)))
  end

  -- x * Phi(x) with the normal CDF Phi; approximate = 'tanh' for the tanh form.
  local SQRT_HALF, SQRT_2_OVER_PI = math.sqrt(0.5), math.sqrt(2 / math.pi)
  function nn.gelu(x, approximate)
    x = value(x)
    if approximate == 'tanh' then
      return 0.5 * x * (1 + sl.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))
    elseif approximate ~= nil and approximate ~= 'none' then
      fail("gelu: approximate must be 'tanh' or 'none', got %s", tostring(approximate))
    end
    return 0.5 * x * (1 + sl.erf(x * SQRT_HALF))
  end
end
