-- sl.nn.conv2d, pooling and batch normalization (NCHW), and the gradient
-- rules of the convolution and pooling ops (core/ops/conv.c).
return function(sl)
  local core = sl.core
  local apply = core.apply
  sl.nn = sl.nn or {}

  local ALGOS = { auto = 0, im2col = 1, fft = 2, direct = 3, winograd = 4, winograd4x4 = 5, sliding = 6 }   -- core/ops/conv.c

  -- a number or a pair {h, w} -> h, w
  local function pair(op, what, v, default)
    if v == nil then v = default end
    if type(v) == 'number' then v = { v, v } end
    if type(v) ~= 'table' or #v ~= 2 or type(v[1]) ~= 'number' or type(v[2]) ~= 'number'
       or v[1] % 1 ~= 0 or v[2] % 1 ~= 0 then
      core.fail('%s: %s must be an integer or a pair of integers, got %s', op, what, tostring(v))
    end
    return v[1], v[2]
  end

  local function conv_params(opts, kh, kw)
    opts = opts or {}
    local sh, sw = pair('conv2d', 'stride', opts.stride, 1)
    local dh, dw = pair('conv2d', 'dilation', opts.dilation, 1)
    local ph, pw
    if opts.padding == 'same' then
      if sh ~= 1 or sw ~= 1 then core.fail("conv2d: padding 'same' needs stride 1") end
      if not kh or kh == -1 or kw == -1 then core.fail("conv2d: padding 'same' needs the filter size known") end
      local eh, ew = dh * (kh - 1), dw * (kw - 1)
      if eh % 2 == 1 or ew % 2 == 1 then core.fail("conv2d: padding 'same' needs an odd filter size") end
      ph, pw = eh / 2, ew / 2
    else
      ph, pw = pair('conv2d', 'padding', opts.padding, 0)
    end
    local algo = ALGOS[opts.algo or 'auto']
    if not algo then
      core.fail("conv2d: algo must be 'auto', 'im2col', 'winograd', 'winograd4x4', 'sliding', 'fft' or 'direct', not %s", tostring(opts.algo))
    end
    return { v = { sh, sw, ph, pw, dh, dw, opts.groups or 1, algo } }
  end

  local function filter_size(w)
    if sl.is_var(w) and w:kind() == 'shared' then w = w:get_value(true) end   -- sizes free to change
    if sl.is_var(w) then
      local s = w:static_shape()
      return s[3], s[4]
    end
    if sl.is_tensor(w) and w:dim() == 4 then return w:size(3), w:size(4) end
  end

  -- sl.nn.conv2d(input, filters, {stride, padding (number, pair or 'same'),
  -- dilation, groups, algo}): cross-correlation, as in every deep-learning
  -- library; input (N, C, H, W), filters (K, C/groups, kh, kw). algo 'auto'
  -- times the algorithms that fit once per shape and keeps the fastest.
  function sl.nn.conv2d(x, w, opts)
    local kh, kw = filter_size(w)
    return apply('conv2d', conv_params(opts, kh, kw), x, w)
  end

  local function pool_params(op, kernel, opts)
    opts = opts or {}
    local kh, kw = pair(op, 'the window', kernel)
    local sh, sw = pair(op, 'stride', opts.stride, { kh, kw })
    local ph, pw = pair(op, 'padding', opts.padding, 0)
    return { v = { kh, kw, sh, sw, ph, pw } }
  end

  -- sl.nn.max_pool2d(x, window, {stride = window, padding = 0}) and
  -- avg_pool2d (padding counts in the average, as in PyTorch's default)
  function sl.nn.max_pool2d(x, kernel, opts) return apply('max_pool2d', pool_params('max_pool2d', kernel, opts), x) end
  function sl.nn.avg_pool2d(x, kernel, opts) return apply('avg_pool2d', pool_params('avg_pool2d', kernel, opts), x) end

  -- sl.nn.batch_norm(x, gamma, beta, opts): normalizes each channel (axis 2)
  -- over the batch and the spatial axes. opts.training (default true) uses
  -- the batch's statistics and returns, besides y, the updates of
  -- opts.running_mean / opts.running_var (shared variables) by
  -- opts.momentum (default 0.1); opts.training = false uses the running
  -- statistics. eps defaults to 1e-5. Works for (N, C) and (N, C, H, W).
  function sl.nn.batch_norm(x, gamma, beta, opts)
    opts = opts or {}
    local nd = #x:static_shape()
    if nd ~= 2 and nd ~= 4 then core.fail('batch_norm: expected a 2-d or 4-d input, got %d-d', nd) end
    local axes = nd == 2 and { 1 } or { 1, 3, 4 }
    local function per_channel(v)   -- (C) -> broadcastable against x
      return nd == 2 and v:dimshuffle('x', 1) or v:dimshuffle('x', 1, 'x', 'x')
    end
    local eps, momentum = opts.eps or 1e-5, opts.momentum or 0.1
    local rm, rv = opts.running_mean, opts.running_var
    local mean, var, updates
    if opts.training == false then
      if not (rm and rv) then core.fail('batch_norm: inference needs running_mean and running_var') end
      mean, var = rm, rv
    else
      mean = x:mean(axes)
      local centered = x - per_channel(mean)
      var = (centered * centered):mean(axes)
      updates = {}
      if rm then updates[rm] = rm * (1 - momentum) + mean * momentum end
      if rv then
        -- the running variance is the unbiased estimate, as PyTorch keeps it
        local n = 1
        for _, a in ipairs(axes) do n = n * (sl.is_var(x) and x:shape(a) or x:size(a)) end
        local scale = n / (n - 1)
        if sl.is_var(scale) then scale = scale:cast(x:dtype()) end
        local unbiased = var * scale
        updates[rv] = rv * (1 - momentum) + unbiased * momentum
      end
    end
    local y = (x - per_channel(mean)) / sl.sqrt(per_channel(var) + eps)
    if gamma then y = y * per_channel(gamma) end
    if beta then y = y + per_channel(beta) end
    return y, updates
  end

  -- -- gradients -------------------------------------------------------------------------------
  local rules = sl.gradients
  rules.conv2d = function(node, ins, _, g)
    local x, w, p = ins[1], ins[2], node:params()
    return { apply('conv2d_grad_input', p, g[1], w, x), apply('conv2d_grad_filters', p, x, g[1], w) }
  end
  -- grad_input(dy, w) is linear in dy and in w: its adjoints are a
  -- convolution and a filter gradient (and so on for grad_filters)
  rules.conv2d_grad_input = function(node, ins, _, g)
    local dy, w, p = ins[1], ins[2], node:params()
    return { apply('conv2d', p, g[1], w), apply('conv2d_grad_filters', p, g[1], dy, w) }
  end
  rules.conv2d_grad_filters = function(node, ins, _, g)
    local x, dy, p = ins[1], ins[2], node:params()
    return { apply('conv2d_grad_input', p, dy, g[1], x), apply('conv2d', p, x, g[1]) }
  end
  rules.max_pool2d = function(node, ins, _, g)
    return { apply('max_pool2d_grad', node:params(), ins[1], g[1]) }
  end
  rules.avg_pool2d = function(node, ins, _, g)
    return { apply('avg_pool2d_grad', node:params(), ins[1], g[1]) }
  end
  rules.avg_pool2d_grad = function(node, _, _, g)
    return { nil, apply('avg_pool2d', node:params(), g[1]) }
  end
  rules.max_pool2d_grad = function()
    core.fail('grad: second derivatives through max_pool2d are not available')
  end
end
