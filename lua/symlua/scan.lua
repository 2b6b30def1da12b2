-- Symbolic loops: sl.scan with Theano's argument order and taps, sl.scan_until
-- (a loop that stops on a condition), the helpers sl.map, sl.foldl and
-- sl.cumsum built on it, and scan's gradient: backpropagation through time
-- as another scan, running backwards over the steps.
--
-- The core's scan op (core/ops/scan.c) runs a step function held in its
-- parameters; this file traces the user's fn once on symbolic rows to build
-- that function, checks it, and arranges the op's inputs and outputs:
--   fn(rows of the sequences..., taps of the fed-back outputs..., non-sequences...)
-- reverse = true runs the sequences from last to first and returns the
-- stacked outputs in the sequences' order (row t belongs to sequence row t).
return function(sl)
  local core = sl.core
  local apply = core.apply
  local fail = core.fail

  local SCAN_UNTIL, SCAN_FINAL = 1, 2   -- core/ops/scan.c's flags

  local function type_text(v)
    local sizes = {}
    for i, n in ipairs(v:static_shape()) do sizes[i] = n < 0 and '?' or tostring(n) end
    return ('%s (%s%s)'):format(v:dtype(), table.concat(sizes, ', '), #sizes == 1 and ',' or '')
  end

  local function as_var(x, dtype)
    if sl.is_var(x) then return x end
    if type(x) == 'number' then return core.constant(sl.tensor(x, dtype or sl.config.floatX)) end
    if sl.is_tensor(x) then return core.constant(x) end
    return nil
  end

  local function list_of(x)
    if x == nil then return {}, 0 end
    if sl.is_var(x) or sl.is_tensor(x) or type(x) ~= 'table' then return { x }, 1 end
    return x, table.maxn(x)
  end

  -- A symbolic input shaped like v without its first axis (a row of it).
  local function row_input(v, name)
    local shape = v:static_shape()
    table.remove(shape, 1)
    return sl.tensor_type(v:dtype(), shape)(name)
  end

  local function flip(x) return x[{ { -1, 1, -1 } }] end

  -- The static type of a non-sequence inside the step: a shared variable's
  -- is its value's shape when the loop is built, so that the step's kernels
  -- and gradients know it (a later value of another shape is an error at the
  -- call that names the step's input).
  local function static_shape(v)
    if v:kind() == 'shared' then return v:get_value(true):shape() end
    return v:static_shape()
  end

  -- Loop-invariant code motion: the step's largest subexpressions of
  -- non-sequences and constants alone (a transposed weight in a gradient)
  -- are computed once before the loop and enter the step as non-sequences.
  -- Random draws stay inside: each step draws anew.
  local function hoist(outs, nons, non_inputs)
    local bound = {}
    for i, x in ipairs(non_inputs) do bound[x:id()] = i end
    local invariant, seen, order = {}, {}, {}
    local function visit(v)   -- iterative post-order over the step's graph
      local stack = { { v, false } }
      while #stack > 0 do
        local top = table.remove(stack)
        local x, expanded = top[1], top[2]
        local id = x:id()
        if not seen[id] then
          local node = x:owner()
          if not node then
            seen[id] = true
            invariant[id] = bound[id] ~= nil or x:kind() == 'constant'
          elseif expanded then
            seen[id] = true
            local inv = node:op() ~= 'random'
            for _, i in ipairs(node:inputs()) do inv = inv and invariant[i:id()] end
            invariant[id] = inv
            order[#order + 1] = x
          else
            stack[#stack + 1] = { x, true }
            for _, i in ipairs(node:inputs()) do stack[#stack + 1] = { i, false } end
          end
        end
      end
    end
    for _, o in ipairs(outs) do visit(o) end
    -- the frontier: invariant results read by a varying node, or returned
    local lift, lifted = {}, {}
    local function mark(x)
      if invariant[x:id()] and x:owner() and not lifted[x:id()] then lifted[x:id()] = true; lift[#lift + 1] = x end
    end
    for _, x in ipairs(order) do
      if not invariant[x:id()] then for _, i in ipairs(x:owner():inputs()) do mark(i) end end
    end
    for _, o in ipairs(outs) do mark(o) end
    if #lift == 0 then return outs end
    local to_outer = {}
    for i, x in ipairs(non_inputs) do to_outer[x] = nons[i] end
    local outer = sl.clone(lift, to_outer)
    local givens = {}
    for i, x in ipairs(lift) do
      local inp = sl.tensor_type(x:dtype(), x:static_shape())('hoisted' .. i)
      givens[x] = inp
      nons[#nons + 1] = outer[i]
      non_inputs[#non_inputs + 1] = inp
    end
    return sl.clone(outs, givens)
  end

  -- The leaf variables (inputs and shared variables) the outputs read that
  -- are not among bound (ids): what a step uses without listing it.
  local function free_vars(outs, bound)
    local found, seen, stack = {}, {}, {}
    for _, o in ipairs(outs) do stack[#stack + 1] = o end
    while #stack > 0 do
      local v = table.remove(stack)
      local id = v:id()
      if not seen[id] then
        seen[id] = true
        local node = v:owner()
        if node then
          for _, x in ipairs(node:inputs()) do stack[#stack + 1] = x end
        elseif (v:kind() == 'input' or v:kind() == 'shared') and not bound[id] then
          found[#found + 1] = v
        end
      end
    end
    table.sort(found, function(a, b) return a:id() < b:id() end)
    return found
  end

  -- taps of an outputs_info entry: sorted copy, largest lag m, bit mask
  local function read_taps(i, taps)
    if type(taps) ~= 'table' or #taps == 0 then fail('scan: outputs_info %d: taps must be a list like { -2, -1 }', i) end
    local mask, m, seen = 0, 0, {}
    for _, t in ipairs(taps) do
      if type(t) ~= 'number' or t % 1 ~= 0 or t >= 0 or t < -30 then
        fail('scan: outputs_info %d: a tap must be a negative integer down to -30 (-1: the previous step), got %s', i, tostring(t))
      end
      if seen[t] then fail('scan: outputs_info %d: tap %d is given twice', i, t) end
      seen[t] = true
      mask = mask + 2 ^ (-t - 1)
      m = math.max(m, -t)
    end
    return mask, m
  end

  local build, symbolic_steps
  local INTEGER = { int8 = true, int16 = true, int32 = true, int64 = true, uint8 = true }

  -- checkpoint = k: the steps in segments of k, a loop over segments whose
  -- step is a loop over one segment keeping only its final state. The outer
  -- loop stores the states every k steps; the gradient of each segment
  -- recomputes its k steps (scan_grad.lua), so memory is O(n/k + k) states.
  local function checkpointed(fn, opts)
    local k = opts.checkpoint
    if type(k) ~= 'number' or k % 1 ~= 0 or k < 1 then
      fail('scan: checkpoint must be a positive number of steps, got %s', tostring(k))
    end
    if opts.truncate_gradient and opts.truncate_gradient ~= -1 then fail('scan: checkpoint and truncate_gradient do not mix') end
    local info, ninfo = list_of(opts.outputs_info)
    if ninfo == 0 then fail('scan: checkpoint stores fed-back outputs; this loop has none (outputs_info)') end
    for i = 1, ninfo do
      local e = info[i]
      if e == nil or e == false then
        fail('scan: with checkpoint every output is fed back (outputs_info %d is empty): the steps are not all stored', i)
      end
      if type(e) == 'table' and not sl.is_var(e) and not sl.is_tensor(e) and
         (e.keep or (e.taps and not (#e.taps == 1 and e.taps[1] == -1))) then
        fail('scan: with checkpoint, outputs_info %d must be a plain initial value (taps { -1 })', i)
      end
    end
    local seq_list, nseq = list_of(opts.sequences)
    local n = opts.n_steps
    local segs = {}
    for i = 1, nseq do
      local s = as_var(seq_list[i])
      if not s or s:dim() < 1 then fail('scan: sequence %d must be a variable or tensor with an axis to step along', i) end
      n = n or (s:static_shape()[1] >= 0 and s:static_shape()[1] or nil)
      segs[i] = s
    end
    if nseq == 0 and not n then fail('scan: no sequences and no n_steps: give n_steps, the number of steps to run') end
    -- a length known only at run time must be a multiple of k there (reshape says so)
    if n and n % k ~= 0 then fail('scan: checkpoint = %d does not divide the %d steps', k, n) end
    for i, s in ipairs(segs) do
      if n and s:static_shape()[1] ~= n then s = s[{ { 1, n } }] end
      if opts.reverse then s = flip(s) end
      local shape = { -1, k }
      for d = 2, s:dim() do shape[d + 1] = s:shape(d) end
      segs[i] = s:reshape(unpack(shape))
    end
    local non_list, nnon = list_of(opts.non_sequences)
    local outer = build(function(...)
      local a = { ... }
      local rows, states, nons = {}, {}, {}
      for i = 1, nseq do rows[i] = a[i] end
      for i = 1, ninfo do states[i] = { initial = a[nseq + i], keep = 'last' } end
      for i = 1, nnon do nons[i] = a[nseq + ninfo + i] end
      local finals = build(fn, { sequences = rows, outputs_info = states, non_sequences = nons, n_steps = k }, false)
      return finals
    end, { sequences = segs, outputs_info = opts.outputs_info, non_sequences = non_list, n_steps = n and n / k }, false)
    if ninfo == 1 then return outer[-1], {} end
    local result = {}
    for i = 1, ninfo do result[i] = outer[i][-1] end
    return result, {}
  end

  -- A symbolic n_steps (an integer scalar variable) becomes the length of
  -- one more sequence, put first: n int8 zeros that fn never sees. The trip
  -- count is then the sequences' common length, known at run time; the
  -- user's sequences are cut to their first n rows, and one with fewer rows
  -- is an error at the call that names it (the loop knows that its sequence
  -- 1 stands for n_steps). Returns fn, opts, and whether this was done.
  function symbolic_steps(fn, opts)
    local n = type(opts) == 'table' and opts.n_steps
    if not sl.is_var(n) then return fn, opts, false end
    if n:dim() ~= 0 or not INTEGER[n:dtype()] then
      fail('scan: n_steps must be a non-negative integer or an integer scalar variable, got a %d-d %s variable',
           n:dim(), n:dtype())
    end
    local o = {}
    for k, v in pairs(opts) do o[k] = v end
    local list, nseq = list_of(opts.sequences)
    local seqs = { sl.alloc(sl.tensor(0, 'int8'), n) }
    for i = 1, nseq do
      local s = as_var(list[i])
      if not s then fail('scan: sequence %d is a %s, not a variable or tensor', i, type(list[i])) end
      if s:dim() < 1 then fail('scan: sequence %d is 0-d: a sequence needs an axis to step along', i) end
      seqs[i + 1] = s[{ { 1, n } }]
    end
    o.sequences, o.n_steps = seqs, nil
    return function(_, ...) return fn(...) end, o, true
  end

  -- The core of sl.scan and sl.scan_until; stop_on: fn's last result is the
  -- condition; steps_seq: sequence 1 stands for a symbolic n_steps.
  function build(fn, opts, stop_on, steps_seq)
    if type(fn) ~= 'function' then fail('scan: the first argument must be the step function, got %s', type(fn)) end
    opts = opts or {}
    if type(opts) ~= 'table' then fail('scan: options must be a table, got %s', type(opts)) end
    for k in pairs(opts) do
      local known = { sequences = 1, outputs_info = 1, non_sequences = 1, n_steps = 1, reverse = 1,
                      truncate_gradient = 1, checkpoint = 1, name = 1 }
      if not known[k] then fail("scan: unknown option '%s'", tostring(k)) end
    end
    local n_steps = opts.n_steps
    if n_steps ~= nil and (type(n_steps) ~= 'number' or n_steps % 1 ~= 0 or n_steps < 0) then
      fail('scan: n_steps must be a non-negative integer, got %s', tostring(n_steps))
    end
    local truncate = opts.truncate_gradient or -1
    if type(truncate) ~= 'number' or truncate % 1 ~= 0 or truncate < -1 or truncate == 0 then
      fail('scan: truncate_gradient must be -1 (none) or a positive number of steps, got %s', tostring(truncate))
    end

    -- sequences
    local seq_list, nseq = list_of(opts.sequences)
    local seqs = {}
    for i = 1, nseq do
      local s = as_var(seq_list[i])
      if not s then fail('scan: sequence %d is a %s, not a variable or tensor', i, type(seq_list[i])) end
      if s:dim() < 1 then fail('scan: sequence %d is 0-d: a sequence needs an axis to step along', i) end
      if n_steps and s:static_shape()[1] >= 0 and s:static_shape()[1] < n_steps then
        fail('scan: sequence %d has %d steps, fewer than n_steps = %d', i, s:static_shape()[1], n_steps)
      end
      if n_steps and s:static_shape()[1] ~= n_steps then s = s[{ { 1, n_steps } }] end
      seqs[i] = opts.reverse and flip(s) or s
    end
    if nseq == 0 and not n_steps then
      fail('scan: no sequences and no n_steps: give n_steps, the number of steps to run')
    end

    -- fed-back outputs
    local info, ninfo = list_of(opts.outputs_info)
    local states = {}   -- { at = position among fn's results, init =, mask =, m =, taps = }
    for i = 1, ninfo do
      local e = info[i]
      if e ~= nil and e ~= false then
        local init, taps, keep = e, { -1 }, 'all'
        if type(e) == 'table' and not sl.is_var(e) and not sl.is_tensor(e) then
          init, taps, keep = e.initial, e.taps or { -1 }, e.keep or 'all'
          if keep ~= 'all' and keep ~= 'last' then
            fail("scan: outputs_info %d: keep must be 'all' (every step) or 'last' (the final value), got %s", i, tostring(keep))
          end
        end
        local v = as_var(init)
        if not v then fail('scan: outputs_info %d: the initial value is a %s, not a variable, tensor or number', i, type(init)) end
        local mask, m = read_taps(i, taps)
        local core_init
        if m == 1 and #taps == 1 then
          local pattern = { 'x' }
          for a = 1, v:dim() do pattern[a + 1] = a end
          core_init = v:dimshuffle(pattern)
        else
          local lead = v:dim() >= 1 and v:static_shape()[1] or nil
          if v:dim() < 1 or (lead >= 0 and lead ~= m) then
            fail('scan: outputs_info %d: taps down to %d need an initial value of %d rows (one per step back), got %s',
                 i, -m, m, type_text(v))
          end
          core_init = v
        end
        states[#states + 1] = { at = i, init = core_init, mask = mask, m = m, taps = taps, last = keep == 'last' }
      end
    end

    -- trace fn on symbolic rows
    local seq_rows, bound = {}, {}
    for i, s in ipairs(seqs) do seq_rows[i] = row_input(s, 'seq' .. i); bound[seq_rows[i]:id()] = true end
    local tap_inputs = {}   -- per state: tap (negative) -> input
    local canonical = {}    -- step inputs for taps, oldest first per state
    for k, st in ipairs(states) do
      tap_inputs[k] = {}
      for j = st.m, 1, -1 do
        if st.mask % (2 ^ j) >= 2 ^ (j - 1) then
          local x = row_input(st.init, 'tap' .. k .. '_' .. j)
          tap_inputs[k][-j] = x
          canonical[#canonical + 1] = x
          bound[x:id()] = true
        end
      end
    end
    local non_list, nnon = list_of(opts.non_sequences)
    local nons, non_inputs, non_args = {}, {}, {}
    for i = 1, nnon do
      local x = non_list[i]
      if sl.is_var(x) then
        nons[#nons + 1] = x
        local inp = sl.tensor_type(x:dtype(), static_shape(x))('non' .. i)
        non_inputs[#non_inputs + 1] = inp
        bound[inp:id()] = true
        non_args[i] = inp
      else
        non_args[i] = x   -- numbers and tensors enter the step as constants
      end
    end
    local args = {}
    for _, r in ipairs(seq_rows) do args[#args + 1] = r end
    for k, st in ipairs(states) do
      for _, t in ipairs(st.taps) do args[#args + 1] = tap_inputs[k][t] end
    end
    for i = 1, nnon do args[#args + 1] = non_args[i] end

    local res = { fn(unpack(args, 1, #args)) }
    local nres = table.maxn(res)
    if nres == 1 and type(res[1]) == 'table' and not sl.is_var(res[1]) and not sl.is_tensor(res[1]) then
      res = res[1]; nres = table.maxn(res)
    end
    local cond
    if stop_on then
      if nres < 1 then fail('scan_until: fn must return its outputs and then the condition to stop') end
      cond = as_var(res[nres])
      if not cond or cond:dtype() ~= 'bool' or cond:dim() ~= 0 then
        fail('scan_until: the last value fn returns is the condition, a boolean scalar (e.g. sl.lt(err, 1e-8)); got %s',
             cond and type_text(cond) or type(res[nres]))
      end
      res[nres] = nil
      nres = nres - 1
    end
    if ninfo > 0 and nres ~= ninfo then
      fail('scan: fn returned %d value%s but outputs_info has %d entries (one per output; false for an output '
           .. 'that is not fed back)', nres, nres == 1 and '' or 's', ninfo)
    end
    if nres == 0 then fail('scan: fn returned nothing') end
    for i = 1, nres do
      local v = as_var(res[i])
      if not v then fail('scan: fn returned a %s as output %d, not a variable', type(res[i]), i) end
      res[i] = v
    end

    -- a state must keep its type: step 1 already shows a change
    local is_state = {}
    for k, st in ipairs(states) do
      is_state[st.at] = k
      local out, row = res[st.at], tap_inputs[k][st.taps[1]]
      local same = out:dtype() == row:dtype() and out:dim() == row:dim()
      local a, b = out:static_shape(), row:static_shape()
      for d = 1, #b do same = same and (a[d] == nil or a[d] < 0 or b[d] < 0 or a[d] == b[d]) end
      if not same then
        fail('scan: output %d of fn is %s (built at %s) but its initial value is %s: a fed-back output must keep '
             .. 'its type, and step 1 changes it%s', st.at, type_text(out), out:where() or '?', type_text(row),
             out:dtype() ~= row:dtype() and (" (cast the initial value with :cast('%s'))"):format(out:dtype()) or '')
      end
    end

    -- what fn read without listing it becomes a non-sequence
    local step_outs = {}
    for _, st in ipairs(states) do step_outs[#step_outs + 1] = res[st.at] end
    local ys = {}
    for i = 1, nres do if not is_state[i] then ys[#ys + 1] = i; step_outs[#step_outs + 1] = res[i] end end
    if cond then step_outs[#step_outs + 1] = cond end
    local captured = free_vars(step_outs, bound)
    if #captured > 0 then
      local givens = {}
      for _, v in ipairs(captured) do
        local inp = sl.tensor_type(v:dtype(), static_shape(v))(v:name())
        givens[v] = inp
        nons[#nons + 1] = v
        non_inputs[#non_inputs + 1] = inp
      end
      step_outs = sl.clone(step_outs, givens)
    end
    step_outs = hoist(step_outs, nons, non_inputs)

    local step_ins = {}
    for _, r in ipairs(seq_rows) do step_ins[#step_ins + 1] = r end
    for _, x in ipairs(canonical) do step_ins[#step_ins + 1] = x end
    for _, x in ipairs(non_inputs) do step_ins[#step_ins + 1] = x end
    local v = { #seqs, #states, #nons, n_steps or (steps_seq and -2 or -1) }
    for _, st in ipairs(states) do v[#v + 1] = st.mask end
    local flags = stop_on and SCAN_UNTIL or 0
    for k, st in ipairs(states) do if st.last then flags = flags + SCAN_FINAL * 2 ^ (k - 1) end end
    v[#v + 1] = flags
    local ins = {}
    for _, s in ipairs(seqs) do ins[#ins + 1] = s end
    for _, st in ipairs(states) do ins[#ins + 1] = st.init end
    for _, x in ipairs(nons) do ins[#ins + 1] = x end
    local sub = core.subfn(step_ins, step_outs)
    local outs = { apply('scan', { v = v, x = truncate, sub = sub }, unpack(ins)) }

    -- the user's order: a state's rows after its initial ones
    local result = {}
    for k, st in ipairs(states) do
      if st.last then result[st.at] = #st.taps == 1 and st.m == 1 and outs[k][1] or outs[k]
      else result[st.at] = outs[k][{ { st.m + 1, -1 } }] end
    end
    for j, i in ipairs(ys) do result[i] = outs[#states + j] end
    if opts.reverse then
      for i = 1, nres do if not (is_state[i] and states[is_state[i]].last) then result[i] = flip(result[i]) end end
    end
    if nres == 1 then return result[1], {} end
    return result, {}
  end

  -- sl.scan(fn, { sequences, outputs_info, non_sequences, n_steps, reverse,
  -- truncate_gradient, checkpoint }): the stacked outputs (a variable, or a
  -- list of them when fn returns several) and the updates (none: draws
  -- inside fn are not supported yet). An outputs_info entry { initial = v,
  -- keep = 'last' } returns only the output's final value. With checkpoint =
  -- k every output must be fed back, and each comes back as its final value:
  -- the states are stored every k steps only.
  function sl.scan(fn, opts)
    local steps_seq
    fn, opts, steps_seq = symbolic_steps(fn, opts)
    if type(opts) == 'table' and opts.checkpoint ~= nil then return checkpointed(fn, opts) end
    return build(fn, opts, false, steps_seq)
  end

  -- sl.scan_until(fn, opts): as sl.scan, with fn returning its outputs and
  -- then a boolean scalar; the loop stops after the first step where it is
  -- true (at most n_steps steps). It has no gradient: how many steps ran
  -- depends on the values, so the outputs' length is not a differentiable
  -- function of them (and the backward loop would need the trip count
  -- before it starts).
  function sl.scan_until(fn, opts)
    opts = opts or {}
    if opts.n_steps == nil and opts.sequences == nil then
      fail('scan_until: give n_steps, the most steps to run')
    end
    local steps_seq
    fn, opts, steps_seq = symbolic_steps(fn, opts)
    return build(fn, opts, true, steps_seq)
  end

  -- sl.map(fn, sequences, non_sequences): fn on each row (of each sequence)
  function sl.map(fn, sequences, non_sequences)
    return (build(fn, { sequences = sequences, non_sequences = non_sequences }, false))
  end

  -- sl.foldl(fn, sequences, init, non_sequences): fn(row..., acc, non...) -> acc;
  -- the last accumulator
  function sl.foldl(fn, sequences, init, non_sequences)
    return (build(fn, { sequences = sequences, outputs_info = { { initial = init, keep = 'last' } },
                        non_sequences = non_sequences }, false))
  end
  -- sl.foldr: the same from the last row to the first
  function sl.foldr(fn, sequences, init, non_sequences)
    return (build(fn, { sequences = sequences, outputs_info = { { initial = init, keep = 'last' } },
                        non_sequences = non_sequences, reverse = true }, false))
  end

  -- sl.cumsum_scan(x): running sums along the first axis, as a loop
  function sl.cumsum_scan(x)
    local v = as_var(x)
    return (build(function(row, acc) return acc + row end,
                  { sequences = v, outputs_info = { sl.zeros_like(v[1]) } }, false))
  end

  require('symlua.scan_grad')(sl)
  require('symlua.rnn')(sl)
end
