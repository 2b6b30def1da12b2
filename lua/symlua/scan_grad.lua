-- The gradient of scan: backpropagation through time as another scan, which
-- runs over the same steps from the last to the first.
--
-- Forward step t (0-based) of state k, whose oldest tap is m steps back,
-- reads rows t+m-j (tap -j) of the state's buffer and writes row t+m. The
-- backward loop carries, per state, a window W of m rows: the gradient that
-- the steps after t sent to rows t+1 .. t+m. At step t the cotangent of the
-- row it wrote is the outer gradient of that row plus W's last row; the step's
-- vector-Jacobian product (sl.grad of the traced step with known_grads) gives
-- the gradients of its taps, rows t .. t+m-1, which shift into the next
-- window. Gradients of the non-sequences are carried as sums; those of the
-- sequences are the backward loop's stacked outputs; those of the initial
-- rows are their outer gradients plus the window left after step 0.
--
-- truncate_gradient = T runs the backward loop over the last T steps only:
-- earlier sequence rows get zeros, and the initial rows only their outer
-- gradient unless every step was within T.
return function(sl)
  local core = sl.core
  local fail = core.fail

  local differentiable = { float32 = true, float64 = true, complex64 = true, complex128 = true }
  local function is_float(v) return differentiable[v:dtype()] == true end

  local function has_tap(mask, j) return mask % (2 ^ j) >= 2 ^ (j - 1) end

  -- the last T rows of x (all of them when there are fewer)
  local function tail(x, T) if T then return x[{ { -T, -1 } }] end return x end

  -- Weight gradients as one product after the loop. A non-sequence W used
  -- only as dot(r, W), r a row that the backward loop reads as a sequence
  -- (a row of a forward sequence or a tap), gets sum over steps of r_t^T d_t
  -- (d_t the gradient of that product at step t). Rather than a matrix
  -- product per step added to a running sum, the backward loop returns each
  -- d_t stacked, and W's gradient is one product of the stacked rows
  -- (steps * batch, k)^T (steps * batch, n) after the loop. Per
  -- non-sequence: the list of its uses { product = the forward step's dot,
  -- row = the index of r among the step's inputs }, or nil when a use does
  -- not fit.
  local function row_products(step_ins, step_outs, nrows, nnon)
    local row_of, non_of = {}, {}
    for q = 1, nrows do row_of[step_ins[q]:id()] = q end
    for i = 1, nnon do non_of[step_ins[#step_ins - nnon + i]:id()] = i end
    local uses, unfit, seen, stack = {}, {}, {}, {}
    for _, o in ipairs(step_outs) do
      stack[#stack + 1] = o
      if non_of[o:id()] then unfit[non_of[o:id()]] = true end   -- returned as it is
    end
    while #stack > 0 do
      local v = table.remove(stack)
      local node = v:owner()
      if node and not seen[v:id()] then
        seen[v:id()] = true
        local ins = node:inputs()
        for pos, x in ipairs(ins) do
          local i = non_of[x:id()]
          if i then
            local r = ins[1]
            if node:op() == 'dot' and pos == 2 and row_of[r:id()] and r:dim() == 2 and x:dim() == 2
               and (x:dtype() == 'float32' or x:dtype() == 'float64') and r:dtype() == x:dtype() then
              uses[i] = uses[i] or {}
              uses[i][#uses[i] + 1] = { product = v, row = row_of[r:id()] }
            else
              unfit[i] = true
            end
          end
          stack[#stack + 1] = x
        end
      end
    end
    local products = {}
    for i = 1, nnon do if uses[i] and not unfit[i] then products[i] = uses[i] end end
    return products
  end

  sl.gradients.scan = function(node, inputs, outputs, gouts)
    local p = node:params()
    local nseq, nstate, nnon, nsteps = p.v[1], p.v[2], p.v[3], p.v[4]
    local flags = p.v[5 + nstate]
    if flags % 2 == 1 then
      fail('grad: scan_until has no gradient: how many steps run depends on the values')
    end
    -- states that kept only their last rows: the gradient of the loop that
    -- keeps them all, recomputed (the forward pass again, as checkpointing does)
    local finals = math.floor(flags / 2)
    if finals > 0 then
      local v = {}
      for i, w in ipairs(p.v) do v[i] = w end
      v[5 + nstate] = flags % 2
      local full = { sl.core.apply('scan', { v = v, x = p.x, sub = p.sub }, unpack(inputs)) }
      local g = {}
      for k = 1, #outputs do
        g[k] = gouts[k]
        if k <= nstate and math.floor(finals / 2 ^ (k - 1)) % 2 == 1 then
          local m = outputs[k]:static_shape()[1]
          g[k] = sl.concatenate({ sl.zeros_like(full[k][{ { 1, -m - 1 } }]), gouts[k] }, 1)
        end
      end
      return sl.gradients.scan(full[1]:owner(), inputs, full, g)
    end
    local T = p.x > 0 and p.x or nil
    local sub = p.sub
    local step_ins, step_outs = sub:inputs(), sub:outputs()
    local seqs, inits, nons = {}, {}, {}
    for i = 1, nseq do seqs[i] = inputs[i] end
    for k = 1, nstate do inits[k] = inputs[nseq + k] end
    for i = 1, nnon do nons[i] = inputs[nseq + nstate + i] end
    local masks, ms = {}, {}
    for k = 1, nstate do
      masks[k] = p.v[4 + k]
      local m = 0
      for j = 1, 30 do if has_tap(masks[k], j) then m = j end end
      ms[k] = m
    end
    local ny = #outputs - nstate

    -- backward sequences: rows of the sequences, the taps each step read,
    -- and the outer gradients of the rows each step wrote
    local bseqs = {}
    for i = 1, nseq do
      local s = seqs[i]
      if nsteps >= 0 then s = s[{ { 1, nsteps } }] end
      bseqs[#bseqs + 1] = tail(s, T)
    end
    local ntaps = {}
    for k = 1, nstate do
      ntaps[k] = 0
      for j = ms[k], 1, -1 do
        if has_tap(masks[k], j) then
          ntaps[k] = ntaps[k] + 1
          bseqs[#bseqs + 1] = tail(outputs[k][{ { ms[k] - j + 1, -1 - j } }], T)
        end
      end
    end
    local nrows = #bseqs   -- the forward step's inputs 1 .. nrows are rows of bseqs 1 .. nrows
    for k = 1, nstate do bseqs[#bseqs + 1] = tail(gouts[k][{ { ms[k] + 1, -1 } }], T) end
    for y = 1, ny do bseqs[#bseqs + 1] = tail(gouts[nstate + y], T) end

    local float_non = {}
    for i = 1, nnon do float_non[i] = is_float(nons[i]) end
    local products = row_products(step_ins, step_outs, nrows, nnon)
    local info = {}
    for k = 1, nstate do info[#info + 1] = { initial = sl.zeros_like(inits[k]), keep = 'last' } end
    for i = 1, nnon do
      if float_non[i] and not products[i] then info[#info + 1] = { initial = sl.zeros_like(nons[i]), keep = 'last' } end
    end
    for i = 1, nseq do if is_float(seqs[i]) then info[#info + 1] = false end end
    for i = 1, nnon do for _ in ipairs(products[i] or {}) do info[#info + 1] = false end end

    local function back_step(...)
      local a = { ... }
      local at = 0
      local function take() at = at + 1; return a[at] end
      local rows, taps, gw, gy, win, acc, non = {}, {}, {}, {}, {}, {}, {}
      for i = 1, nseq do rows[i] = take() end
      for k = 1, nstate do taps[k] = {}; for t = 1, ntaps[k] do taps[k][t] = take() end end
      for k = 1, nstate do gw[k] = take() end
      for y = 1, ny do gy[y] = take() end
      for k = 1, nstate do win[k] = take() end
      for i = 1, nnon do if float_non[i] and not products[i] then acc[i] = take() end end
      for i = 1, nnon do non[i] = take() end

      -- the forward step again, on this step's values
      local givens, fwd_ins, n = {}, {}, 0
      local function bind(v)
        n = n + 1
        givens[step_ins[n]] = v
        fwd_ins[n] = v
      end
      for i = 1, nseq do bind(rows[i]) end
      for k = 1, nstate do for t = 1, ntaps[k] do bind(taps[k][t]) end end
      for i = 1, nnon do bind(non[i]) end
      -- with the products whose gradients replace a weight's (row_products)
      local traced = {}
      for _, o in ipairs(step_outs) do traced[#traced + 1] = o end
      for i = 1, nnon do for _, u in ipairs(products[i] or {}) do traced[#traced + 1] = u.product end end
      local outs = sl.clone(traced, givens)

      local known = {}
      for k = 1, nstate do
        local g = gw[k] + win[k][ms[k]]
        if is_float(outs[k]) then known[outs[k]] = g end
      end
      for y = 1, ny do if is_float(outs[nstate + y]) then known[outs[nstate + y]] = gy[y] end end
      local wrt, slot = {}, {}
      for i, v in ipairs(fwd_ins) do
        if is_float(v) then wrt[#wrt + 1] = v; slot[i] = #wrt end
      end
      for q = #step_outs + 1, #outs do wrt[#wrt + 1] = outs[q] end
      local g = (#wrt > 0 and next(known)) and sl.grad(nil, wrt, { known_grads = known, disconnected = 'ignore' }) or {}
      local function grad_of(i, like) return slot[i] and g[slot[i]] or sl.zeros_like(like) end

      local results = {}
      local base = nseq
      for k = 1, nstate do
        -- the gradient of each tap's row, oldest first: rows t .. t+m-1
        local G, t = {}, 0
        for j = ms[k], 1, -1 do
          if has_tap(masks[k], j) then t = t + 1; G[j] = grad_of(base + t, taps[k][t]) end
        end
        base = base + ntaps[k]
        local new = {}
        for i = 0, ms[k] - 1 do
          local row = G[ms[k] - i]
          if i > 0 then row = row and win[k][i] + row or win[k][i] end
          new[i + 1] = row or sl.zeros_like(win[k][1])
        end
        results[#results + 1] = sl.stack(new, 1)
      end
      for i = 1, nnon do
        if float_non[i] and not products[i] then results[#results + 1] = acc[i] + grad_of(base + i, non[i]) end
      end
      for i = 1, nseq do if is_float(seqs[i]) then results[#results + 1] = grad_of(i, rows[i]) end end
      for q = #step_outs + 1, #outs do
        results[#results + 1] = #wrt > 0 and next(known) and g[#wrt - #outs + q] or sl.zeros_like(outs[q])
      end
      return unpack(results)
    end

    local outs = sl.scan(back_step, { sequences = bseqs, outputs_info = info, non_sequences = nons, reverse = true })
    if #info == 1 then outs = { outs } end

    -- the carries after step 0: the backward loop's final values
    local grads = {}
    local at = 0
    for k = 1, nstate do
      at = at + 1
      local w = outs[at]
      if T then   -- the window reached the initial rows only when every step was within T
        w = w * sl.le(outputs[k]:shape()[1], ms[k] + T):cast(w:dtype())
      end
      grads[nseq + k] = gouts[k][{ { 1, ms[k] } }] + w
    end
    for i = 1, nnon do
      if float_non[i] and not products[i] then at = at + 1; grads[nseq + nstate + i] = outs[at] end
    end
    for i = 1, nseq do
      if is_float(seqs[i]) then
        at = at + 1
        local g = outs[at]
        local s = seqs[i]
        if T then
          local head = (nsteps >= 0 and s[{ { 1, nsteps } }] or s)[{ { 1, -T - 1 } }]
          g = sl.concatenate({ sl.zeros_like(head), g }, 1)
        end
        if nsteps >= 0 and s:static_shape()[1] ~= nsteps then
          g = sl.concatenate({ g, sl.zeros_like(s[{ { nsteps + 1, -1 } }]) }, 1)
        end
        grads[i] = g
      end
    end
    for i = 1, nnon do
      for _, u in ipairs(products[i] or {}) do   -- sum over steps and batch of r^T d, one product
        at = at + 1
        local r, d = bseqs[u.row], outs[at]
        local rd = r:reshape(-1, r:shape(3)):dimshuffle(2, 1):dot(d:reshape(-1, d:shape(3)))
        grads[nseq + nstate + i] = grads[nseq + nstate + i] and grads[nseq + nstate + i] + rd or rd
      end
    end
    return grads
  end
end
