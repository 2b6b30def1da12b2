-- Recurrent layers on sl.scan: sl.nn.rnn, sl.nn.lstm and sl.nn.gru, with
-- PyTorch's gate equations and gate order, over time-major input x of shape
-- (steps, batch, features). The input's product with W is one matrix product
-- over every step before the loop; each step multiplies only the state by U.
--
--   local p = sl.nn.lstm_params(28, 128, 'lstm')   -- { W, U, b } shared variables
--   local h, c = sl.nn.lstm(x, p)                   -- (steps, batch, 128) each
--
-- Options (last argument): h0 (and c0 for the LSTM), the initial states
-- (batch, units), zeros by default; the rest goes to sl.scan (reverse,
-- truncate_gradient).
return function(sl)
  local nn = sl.nn
  local fail = sl.core.fail
  local GATES = { rnn = 1, lstm = 4, gru = 3 }

  -- params: W (features, g*units), U (units, g*units), b (g*units), Glorot
  -- uniform; the LSTM's forget gate starts with bias 1 (Jozefowicz et al.)
  local function params(kind)
    return function(n_in, units, name, opts)
      opts = opts or {}
      name = name or kind
      local g = GATES[kind]
      local dtype = opts.dtype or sl.config.floatX
      local b = sl.zeros(g * units, dtype)
      if kind == 'lstm' then b[{ { units + 1, 2 * units } }] = 1 end
      return {
        W = sl.shared(sl.init.glorot_uniform({ n_in, g * units }, { dtype = dtype }), name .. '.W'),
        U = sl.shared(sl.init.glorot_uniform({ units, g * units }, { dtype = dtype }), name .. '.U'),
        b = sl.shared(b, name .. '.b'),
      }
    end
  end
  nn.rnn_params, nn.lstm_params, nn.gru_params = params('rnn'), params('lstm'), params('gru')

  -- x (steps, batch, features) times W plus b, for every step at once
  local function input_part(kind, x, p)
    if sl.is_tensor(x) then x = sl.core.constant(x) end
    if not sl.is_var(x) or x:dim() ~= 3 then
      fail('nn.%s: x must be (steps, batch, features), got %s', kind, sl.is_var(x) and (x:dim() .. '-d') or type(x))
    end
    if type(p) ~= 'table' or not p.W or not p.U or not p.b then
      fail('nn.%s: expected its parameters { W, U, b } (sl.nn.%s_params)', kind, kind)
    end
    local units = p.U:kind() == 'shared' and p.U:get_value():size(1) or p.U:static_shape()[1]
    if units < 0 then fail('nn.%s: U needs a static number of rows (the units)', kind) end
    local steps, batch = x:shape(1), x:shape(2)
    local xw = x:reshape(-1, x:shape(3)):dot(p.W) + p.b
    return xw:reshape(steps, batch, GATES[kind] * units), units, batch
  end

  local function initial(v, x, batch, units)
    if v ~= nil then return v end
    return sl.alloc(sl.tensor(0, x:dtype()), batch, units)
  end

  local function scan_opts(opts, seq, info, U)
    return { sequences = seq, outputs_info = info, non_sequences = { U }, reverse = opts.reverse,
             truncate_gradient = opts.truncate_gradient }
  end

  local function gate(z, k, units) return z[{ {}, { (k - 1) * units + 1, k * units } }] end

  -- h_t = tanh(x_t W + h_{t-1} U + b)
  function nn.rnn(x, p, opts)
    opts = opts or {}
    local xw, units, batch = input_part('rnn', x, p)
    local h = sl.scan(function(z, h, U) return sl.tanh(z + h:dot(U)) end,
      scan_opts(opts, xw, { initial(opts.h0, xw, batch, units) }, p.U))
    return h
  end

  -- gates i, f, g, o: c_t = f c_{t-1} + i g, h_t = o tanh(c_t)
  function nn.lstm(x, p, opts)
    opts = opts or {}
    local xw, units, batch = input_part('lstm', x, p)
    local outs = sl.scan(function(z, h, c, U)
      local a = z + h:dot(U)
      local i, f = sl.sigmoid(gate(a, 1, units)), sl.sigmoid(gate(a, 2, units))
      local g, o = sl.tanh(gate(a, 3, units)), sl.sigmoid(gate(a, 4, units))
      local c2 = f * c + i * g
      return o * sl.tanh(c2), c2
    end, scan_opts(opts, xw, { initial(opts.h0, xw, batch, units), initial(opts.c0, xw, batch, units) }, p.U))
    return outs[1], outs[2]
  end

  -- gates r, z, n: n = tanh(x W_n + b_n + r (h U_n)), h_t = (1 - z) n + z h_{t-1}
  function nn.gru(x, p, opts)
    opts = opts or {}
    local xw, units, batch = input_part('gru', x, p)
    local h = sl.scan(function(zx, h, U)
      local zh = h:dot(U)
      local r = sl.sigmoid(gate(zx, 1, units) + gate(zh, 1, units))
      local z = sl.sigmoid(gate(zx, 2, units) + gate(zh, 2, units))
      local n = sl.tanh(gate(zx, 3, units) + r * gate(zh, 3, units))
      return (1 - z) * n + z * h
    end, scan_opts(opts, xw, { initial(opts.h0, xw, batch, units) }, p.U))
    return h
  end
end
