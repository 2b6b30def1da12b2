-- Gradients: sl.verify_grad (central differences) for every differentiable
-- op, float64 and float32, gradients through broadcasting, hand-computed
-- values, second derivatives, sl.grad's options and its errors.
local sl = require 'symlua'

local function errmsg(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, 'expected an error')
  return tostring(err)
end

-- float64 values (sl.tensor makes integers int64)
local function T(t) return sl.tensor(t, 'float64') end

local function has(s, part) return s:find(part, 1, true) ~= nil end

-- Random points: normal, or uniform in [lo, hi).
local function N(...) return sl.randn(...) end
local function U(lo, hi, ...) return sl.rand(...) * (hi - lo) + lo end

-- verify_grad on each case { name, build, points [, opts] }, one `it` each.
local function check_all(cases, dtype)
  for _, c in ipairs(cases) do
    it(c[1], function()
      sl.manual_seed(7)
      local pts = c[3]()
      if dtype then
        for i, p in ipairs(pts) do pts[i] = p:cast(dtype) end
      end
      local worst = sl.verify_grad(c[2], pts, c[4])
      assert.is_true(worst <= 1)
    end)
  end
end

local function totable(t) return t:totable() end

local function assert_close(got, want, tol)
  tol = tol or 1e-12
  local function walk(g, w, path)
    if type(w) == 'table' then
      assert.are.equal(#w, #g, 'length at ' .. path)
      for i = 1, #w do walk(g[i], w[i], path .. '[' .. i .. ']') end
    else
      assert(math.abs(g - w) <= tol * (1 + math.abs(w)),
             string.format('%s: got %.17g, want %.17g', path, g, w))
    end
  end
  walk(type(got) == 'number' and got or (sl.is_tensor(got) and totable(got) or got),
       sl.is_tensor(want) and totable(want) or want, 'value')
end

-- The gradient of cost wrt each var in wrt, computed at the values given.
local function grad_at(inputs, cost, wrt, values, opts)
  local g = sl.grad(cost, wrt, opts)
  local f = sl.compile(inputs, g)
  if sl.is_var(wrt) then return f(unpack(values)) end
  return { f(unpack(values)) }
end

describe('gradient rules', function()
  it('exist for every op the core knows', function()
    local missing = {}
    for _, op in ipairs(sl.core.ops()) do
      if not sl.gradients[op.name] then missing[#missing + 1] = op.name end
    end
    assert.are.same({}, missing)
  end)
end)

describe('verify_grad on elementwise ops (float64)', function()
  local function un(op, lo, hi)
    return { op, function(x) return sl[op](x) end,
             function() return { lo and U(lo, hi, 3, 4) or N(3, 4) } end }
  end
  local function bin(op, a, b)
    return { op, function(x, y) return sl[op](x, y) end,
             function() return { a and U(a[1], a[2], 3, 4) or N(3, 4), b and U(b[1], b[2], 3, 4) or N(3, 4) } end }
  end
  -- floor, ceil, round, sign, int_div and mod are checked at points that are
  -- not integers (or whose quotients are not), away from their jumps.
  local off_integers = function() return { T({ { 0.3, 1.7, -2.4 }, { -0.6, 2.2, 3.9 } }) } end
  check_all({
    un('neg'), un('abs', 0.2, 2), { 'abs of negatives', sl.abs, function() return { U(-2, -0.2, 5) } end },
    { 'sign', sl.sign, off_integers }, un('sqr'), un('reciprocal', 0.5, 2),
    { 'reciprocal of negatives', sl.reciprocal, function() return { U(-2, -0.5, 4) } end },
    un('exp'), un('exp2'), un('expm1'), un('log', 0.2, 3), un('log2', 0.2, 3), un('log10', 0.2, 3),
    un('log1p', -0.5, 3), un('sqrt', 0.2, 3), un('sin'), un('cos'), un('tan', -1.2, 1.2),
    un('asin', -0.9, 0.9), un('acos', -0.9, 0.9), un('atan'), un('sinh'), un('cosh'), un('tanh'),
    un('sigmoid'), un('softplus'), un('erf'), un('erfc'),
    un('asinh'), un('acosh', 1.2, 3), un('atanh', -0.9, 0.9), un('cbrt', 0.2, 3),
    { 'cbrt of negatives', sl.cbrt, function() return { U(-3, -0.2, 4) } end },
    un('deg2rad'), un('rad2deg'),
    bin('hypot'), bin('logaddexp'),
    { 'logaddexp far apart', sl.logaddexp, function() return { T({ 800, -3, 0 }), T({ 1, 700, -1e3 }) } end },
    { 'floor', sl.floor, off_integers }, { 'ceil', sl.ceil, off_integers },
    { 'round', sl.round, off_integers },
    bin('add'), bin('sub'), bin('mul'), bin('true_div', nil, { 0.5, 2 }),
    { 'true_div by negatives', sl.true_div, function() return { N(3), U(-2, -0.5, 3) } end },
    { 'int_div', sl.int_div, function() return { off_integers()[1], sl.full({ 2, 3 }, 1.0) } end },
    { 'mod', sl.mod, function() return { T({ 4.3, -2.6, 7.1 }), T({ 2.0, 1.5, -3.0 }) } end },
    bin('pow', { 0.3, 2 }, { -2, 2 }),
    { 'pow by a constant', function(x) return x ^ 3 end, function() return { N(4) } end },
    { 'pow of a constant base', function(y) return 2 ^ y end, function() return { N(4) } end },
    bin('maximum'), bin('minimum'), bin('atan2'),
    { 'atan2 in every quadrant', sl.atan2, function()
      return { T({ 1, 1, -1, -1 }), T({ 1, -1, 1, -1 }) } end },
    { 'clip with values inside and outside', function(x, lo, hi) return sl.clip(x, lo, hi) end,
      function() return { T({ -3, -0.5, 0.2, 0.9, 2.5 }), T({ -1, -1, -1, -1, -1 }),
                          T({ 1, 1, 1, 1, 1 }) } end },
    { 'clip with constant bounds', function(x) return sl.clip(x, -0.5, 0.5) end,
      function() return { T({ -3, -0.2, 0.3, 2.5 }) } end },
    { 'where', function(a, b) return sl.where(T({ true, false, true }), a, b) end,
      function() return { N(3), N(3) } end },
    { 'where with a symbolic condition', function(a, b) return sl.where(sl.gt(a, b), a * 2, b * b) end,
      function() return { N(6), N(6) } end },
    { 'cast float64 -> float32 -> float64', function(x) return x:cast('float32'):cast('float64') * 3 end,
      function() return { N(4) } end, { rtol = 1e-3, atol = 1e-3, eps = 1e-4 } },
    { 'a composite expression', function(x, y) return sl.tanh(x * y + sl.exp(-x)) / (1 + y * y) end,
      function() return { N(2, 3), N(2, 3) } end },
  })
end)

describe('verify_grad on dot and outer', function()
  local function dot(name, sa, sb)
    return { 'dot ' .. name, sl.dot, function() return { N(sa), N(sb) } end }
  end
  check_all({
    dot('vector . vector', { 4 }, { 4 }),
    dot('matrix . vector', { 3, 4 }, { 4 }),
    dot('vector . matrix', { 4 }, { 4, 2 }),
    dot('matrix . matrix', { 3, 4 }, { 4, 2 }),
    dot('batched 3-d', { 2, 3, 4 }, { 2, 4, 5 }),
    dot('batch of one broadcast', { 1, 3, 4 }, { 3, 4, 2 }),
    dot('3-d . 2-d broadcasts the matrix', { 3, 2, 4 }, { 4, 5 }),
    dot('2-d . 3-d broadcasts the matrix', { 2, 4 }, { 3, 4, 5 }),
    dot('3-d . vector', { 2, 3, 4 }, { 4 }),
    dot('vector . 3-d', { 4 }, { 2, 4, 5 }),
    dot('scalar . matrix', {}, { 2, 3 }),
    { 'dot of a transposed operand', function(a, b) return sl.dot(a:transpose(), b) end,
      function() return { N(4, 3), N(4, 2) } end },
    { 'outer', sl.outer, function() return { N(3), N(4) } end },
  })
end)

describe('verify_grad on shape ops', function()
  check_all({
    { 'reshape', function(x) return x:reshape(4, 3) end, function() return { N(2, 6) } end },
    { 'reshape to symbolic sizes', function(x) return x:reshape(x:shape(2), x:shape(1)) end,
      function() return { N(2, 3) } end },
    { 'flatten to a vector', function(x) return sl.flatten(x) end, function() return { N(2, 3, 4) } end },
    { 'flatten to 2-d', function(x) return sl.flatten(x, 2) end, function() return { N(2, 3, 4) } end },
    { 'dimshuffle permuting', function(x) return x:dimshuffle(3, 1, 2) end, function() return { N(2, 3, 4) } end },
    { "dimshuffle adding 'x' axes", function(x) return x:dimshuffle('x', 2, 'x', 1) end,
      function() return { N(2, 3) } end },
    { 'dimshuffle dropping a size-1 axis', function(x) return x:dimshuffle(3, 'x', 1) end,
      function() return { N(2, 1, 4) } end },
    { "dimshuffle whose 'x' axis comes back with an unknown size",
      function(x) return sl.reshape(x:dimshuffle('x', 1), x:shape(1)) * 2 end, function() return { N(5) } end },
    { 'transpose', function(x) return sl.transpose(x) end, function() return { N(2, 3, 4) } end },
    { 'concatenate on axis 1', function(a, b, c) return sl.concatenate({ a, b, c }) end,
      function() return { N(2, 3), N(1, 3), N(4, 3) } end },
    { 'concatenate on the last axis', function(a, b) return sl.concatenate({ a, b }, -1) end,
      function() return { N(2, 3, 2), N(2, 3, 4) } end },
    { 'concatenate of one input twice', function(a) return sl.concatenate({ a, a * 2 }, 2) end,
      function() return { N(2, 3) } end },
    { 'concatenate, static sizes', function(a, b) return sl.concatenate({ a, b }, 2) end,
      function() return { N(2, 3), N(2, 4) } end, { static_shapes = true } },
    { 'stack on axis 1', function(a, b) return sl.stack({ a, b }) end, function() return { N(2, 3), N(2, 3) } end },
    { 'stack on the new last axis', function(a, b, c) return sl.stack({ a, b, c }, 3) end,
      function() return { N(2, 3), N(2, 3), N(2, 3) } end },
    { 'narrow', function(x) return x:narrow(2, 2, 2) end, function() return { N(3, 5) } end },
    { 'narrow to nothing', function(x) return sl.sum(x:narrow(1, 2, 0)) + sl.sum(x) end,
      function() return { N(3, 2) } end },
    { 'split', function(x)
        local a, b, c = sl.split(x, { 1, 2, 2 }, 2)
        return a * 2 + sl.sum(b * c, 2, true)
      end, function() return { N(3, 5) } end },
    { 'repeat on an axis', function(x) return sl['repeat'](x, 3, 2) end, function() return { N(2, 3) } end },
    { 'repeat on the first axis', function(x) return x:repeat_(2, 1) end, function() return { N(2, 3, 2) } end },
    { 'repeat flattened', function(x) return sl['repeat'](x, 2) end, function() return { N(2, 3) } end },
    { 'repeat, static sizes', function(x) return sl['repeat'](x, 2, -1) end, function() return { N(2, 3) } end,
      { static_shapes = true } },
    { 'tile with as many reps as axes', function(x) return sl.tile(x, { 2, 3 }) end, function() return { N(2, 3) } end },
    { 'tile with fewer reps', function(x) return sl.tile(x, 2) end, function() return { N(2, 3, 2) } end },
    { 'tile with more reps (new leading axes)', function(x) return sl.tile(x, { 2, 1, 3 }) end,
      function() return { N(2, 3) } end },
    { 'tile, static sizes', function(x) return sl.tile(x, { 3, 1, 2 }) end, function() return { N(3) } end,
      { static_shapes = true } },
  })
end)

describe('verify_grad on indexing ops', function()
  local ind = sl.tensor({ { 1, 3 }, { 3, 3 } }, 'int64')
  check_all({
    { 'subtensor with a range', function(x) return x[{ { 2, 3 } }] end, function() return { N(4, 3) } end },
    { 'subtensor with steps', function(x) return x[{ { 1, -1, 2 }, { 1, 4, 3 } }] end,
      function() return { N(5, 4) } end },
    { 'subtensor with a negative step', function(x) return x[{ {}, { 4, 1, -2 } }] end,
      function() return { N(3, 4) } end },
    { 'subtensor selecting', function(x) return x[{ 2, -1 }] end, function() return { N(3, 4) } end },
    { 'subtensor selecting a row', function(x) return x[-2] end, function() return { N(3, 4) } end },
    { 'subtensor with symbolic bounds', function(x) return x[{ { 2, x:shape(1) } }] end,
      function() return { N(4, 2) } end },
    { 'subtensor used twice', function(x) return x[{ { 1, 2 } }] * x[{ { 2, 3 } }] end,
      function() return { N(3, 2) } end },
    { 'set_subtensor', function(x, y) return sl.set_subtensor(x[{ { 2, 3 } }], y) end,
      function() return { N(4, 3), N(2, 3) } end },
    { 'set_subtensor with a broadcast value', function(x, y) return sl.set_subtensor(x[{ { 2, 3 } }], y) end,
      function() return { N(4, 3), N(3) } end },
    { 'set_subtensor with steps', function(x, y) return sl.set_subtensor(x[{ {}, { 1, -1, 2 } }], y) end,
      function() return { N(2, 5), N(2, 3) } end },
    { 'inc_subtensor', function(x, y) return sl.inc_subtensor(x[{ { 2, 3 }, 1 }], y) end,
      function() return { N(4, 3), N(2) } end },
    { 'inc_subtensor with a scalar', function(x, y) return sl.inc_subtensor(x[{ { 1, -1, 2 } }], y) end,
      function() return { N(5), N(1) } end },
    { 'take with repeated indices', function(x) return sl.take(x, { 1, 3, 1, 1 }, 2) end,
      function() return { N(2, 3) } end },
    { 'take from the flattened input', function(x) return sl.take(x, { { 1, 6 }, { 6, 2 } }) end,
      function() return { N(2, 3) } end },
    { 'take with negative indices', function(x) return x:take({ -1, 1, -1 }, 1) end, function() return { N(3, 2) } end },
    { 'set_take', function(x, y) return sl.set_take(x, { 3, 1 }, y, 1) end, function() return { N(4, 3), N(2, 3) } end },
    { 'inc_take with repeated indices', function(x, y) return sl.inc_take(x, { 3, 1, 3 }, y, 1) end,
      function() return { N(4, 3), N(3) } end },
    { 'gather on axis 2', function(x) return sl.gather(x, 2, sl.tensor({ { 1, 1, 4 }, { 2, 3, 3 } }, 'int64')) end,
      function() return { N(3, 4) } end },
    { 'gather on axis 1', function(x) return sl.gather(x, 1, ind) end, function() return { N(3, 4) } end },
    { 'gather on 3-d, static sizes', function(x)
        return sl.gather(x, 3, sl.tensor({ { { 2, 1 } }, { { 1, 1 } } }, 'int32'))
      end, function() return { N(2, 2, 3) } end, { static_shapes = true } },
    { 'alloc', function(v) return sl.alloc(v, 3, 2) end, function() return { N(2) } end },
    { 'alloc of a scalar', function(v) return sl.alloc(v, 2, 3) end, function() return { N({}) } end },
    { 'zeros_like and ones_like add nothing', function(x) return x * 2 + sl.ones_like(x) + sl.zeros_like(x) end,
      function() return { N(2, 3) } end },
  })
end)

describe('verify_grad on reductions', function()
  local cases = {}
  local choices = { { 'over all axes', {} }, { 'over axis 2', { 2 } }, { 'over axis -1', { -1 } },
                    { 'over axes 1 and 3', { { 1, 3 } } }, { 'with keepdims', { 2, true } },
                    { 'over several axes with keepdims', { { 1, 3 }, true } },
                    { 'over all axes with keepdims', { nil, true } } }
  for _, op in ipairs({ 'sum', 'prod', 'mean', 'var', 'std', 'max', 'min' }) do
    for _, ch in ipairs(choices) do
      local args = ch[2]
      cases[#cases + 1] = { op .. ' ' .. ch[1], function(x) return sl[op](x, args[1], args[2]) end,
        function()
          if op == 'prod' then return { U(0.5, 1.5, 3, 2, 4) * sl.sign(N(3, 2, 4)) } end
          return { N(3, 2, 4) }
        end }
    end
  end
  for _, ddof in ipairs({ 1, 2 }) do
    cases[#cases + 1] = { 'var with ddof ' .. ddof, function(x) return sl.var(x, 2, false, ddof) end,
                          function() return { N(3, 4) } end }
    cases[#cases + 1] = { 'std with ddof ' .. ddof, function(x) return sl.std(x, { axis = { 1, 2 }, ddof = ddof }) end,
                          function() return { N(3, 4) } end }
  end
  cases[#cases + 1] = { 'sum of a vector', function(x) return sl.sum(x) end, function() return { N(5) } end }
  cases[#cases + 1] = { 'mean, static sizes', function(x) return sl.mean(x, 1) end, function() return { N(3, 2) } end,
                        { static_shapes = true } }
  cases[#cases + 1] = { 'sum of a 0-d value', function(x) return sl.sum(x * x) end, function() return { N({}) } end }
  cases[#cases + 1] = { 'max of a size-1 axis', function(x) return sl.max(x, 2) end, function() return { N(3, 1) } end }
  check_all(cases)
end)

describe('verify_grad at non-contiguous points', function()
  check_all({
    { 'dot of transposed and stepped views', sl.dot,
      function() return { N(4, 3):transpose(1, 2), N(4, 4):slice(2, 1, 4, 2) } end },
    { 'a reduction and indexing of a transposed view', function(x) return sl.max(x[{ { 1, 2 } }], 2) * sl.sum(x) end,
      function() return { N(4, 3):transpose(1, 2) } end },
  })
end)

describe('verify_grad in float32', function()
  check_all({
    { 'tanh of a product', function(x, y) return sl.tanh(x * y) end, function() return { N(3), N(3) } end },
    { 'log', sl.log, function() return { U(0.5, 2, 4) } end },
    { 'dot', sl.dot, function() return { N(2, 3), N(3, 2) } end },
    { 'subtensor and concatenate', function(x) return sl.concatenate({ x[{ { 2, 3 } }], x }) end,
      function() return { N(3, 2) } end },
    { 'mean and var', function(x) return sl.mean(x, 1) + sl.var(x, 1) end, function() return { N(3, 2) } end },
    { 'row + matrix', function(a, b) return a + b end, function() return { N(1, 3), N(2, 3) } end },
  }, 'float32')
end)

describe('gradients through broadcasting', function()
  check_all({
    { 'row + matrix', function(r, m) return r + m end, function() return { N(1, 4), N(3, 4) } end },
    { 'vector + matrix', function(v, m) return v * m end, function() return { N(4), N(3, 4) } end },
    { 'scalar * matrix', function(s, m) return s * m end, function() return { N({}), N(3, 4) } end },
    { 'col vs row', function(c, r) return c * r - c / (r * r + 1) end, function() return { N(3, 1), N(1, 4) } end },
    { 'a size-1 axis in the middle', function(a, b) return a * b end, function() return { N(2, 1, 3), N(2, 4, 3) } end },
  })

  it('sums back to the shape of each input', function()
    local r, m = sl.row('r'), sl.matrix('m')
    local s = sl.scalar('s')
    local gr, gm, gs = unpack(grad_at({ r, m, s }, sl.sum(s * (r + m)), { r, m, s },
      { T({ { 1, 2 } }), T({ { 1, 1 }, { 2, 2 }, { 3, 3 } }), T(2) }))
    assert.are.same({ 1, 2 }, gr:shape())
    assert_close(gr, { { 6, 6 } })
    assert_close(gm, { { 2, 2 }, { 2, 2 }, { 2, 2 } })
    assert.are.same({}, gs:shape())
    assert_close(gs:item(), 3 * 3 + 12)   -- sum(r + m) = 3 * (1 + 2) + 12
  end)

  it('keeps the dtype of each input when the cost mixes float32 and float64', function()
    local a, b = sl.fvector('a'), sl.dvector('b')
    local ga, gb = unpack(sl.grad(sl.sum(a * b), { a, b }))
    assert.are.equal('float32', ga:dtype())
    assert.are.equal('float64', gb:dtype())
  end)
end)

describe('gradient values by hand', function()
  it('d/dx sum(x^2) = 2x', function()
    local x = sl.vector('x')
    assert_close(grad_at({ x }, sl.sum(x ^ 2), x, { T({ 1, -2, 3 }) }), { 2, -4, 6 })
  end)

  it('d/dx sum(x * y) = y and d/dy = x', function()
    local x, y = sl.vector('x'), sl.vector('y')
    local gx, gy = unpack(grad_at({ x, y }, sl.sum(x * y), { x, y }, { T({ 1, 2 }), T({ 3, 4 }) }))
    assert_close(gx, { 3, 4 })
    assert_close(gy, { 1, 2 })
  end)

  it('d/dx sum(A . x) = the column sums of A', function()
    local A, x = sl.matrix('A'), sl.vector('x')
    local g = grad_at({ A, x }, sl.sum(sl.dot(A, x)), x, { T({ { 1, 2 }, { 3, 4 } }), T({ 5, 6 }) })
    assert_close(g, { 4, 6 })
  end)

  it('the mean spreads 1/n', function()
    local x = sl.matrix('x')
    assert_close(grad_at({ x }, sl.mean(x), x, { sl.ones(2, 2) }), { { 0.25, 0.25 }, { 0.25, 0.25 } })
  end)

  it('max shares the gradient among ties', function()
    local x = sl.vector('x')
    assert_close(grad_at({ x }, sl.max(x), x, { T({ 1, 3, 2, 3 }) }), { 0, 0.5, 0, 0.5 })
    assert_close(grad_at({ x }, sl.min(x), x, { T({ 1, 3, 2, 3 }) }), { 1, 0, 0, 0 })
  end)

  it('take accumulates repeated indices', function()
    local x = sl.vector('x')
    assert_close(grad_at({ x }, sl.sum(sl.take(x, { 2, 2, 3, 2 })), x, { sl.zeros(3) }), { 0, 3, 1 })
  end)

  it('gather accumulates where indices repeat', function()
    local x = sl.matrix('x')
    local g = grad_at({ x }, sl.sum(sl.gather(x, 2, sl.tensor({ { 1, 1 }, { 3, 2 } }, 'int64'))), x, { sl.zeros(2, 3) })
    assert_close(g, { { 2, 0, 0 }, { 0, 1, 1 } })
  end)

  it('gather with symbolic indices of unknown shape', function()
    local x, i = sl.matrix('x'), sl.lmatrix('i')
    local g = grad_at({ x, i }, sl.sum(sl.gather(x, 1, i) * T({ { 1, 2 } })), x,
      { sl.zeros(3, 2), sl.tensor({ { 3, 1 }, { 3, 1 } }, 'int64') })
    assert_close(g, { { 0, 4 }, { 0, 0 }, { 2, 0 } })
  end)

  it('set_subtensor blocks the overwritten region', function()
    local x, y = sl.vector('x'), sl.scalar('y')
    local gx, gy = unpack(grad_at({ x, y }, sl.sum(sl.set_subtensor(x[{ { 2, 3 } }], y) * T({ 1, 2, 3, 4 })),
      { x, y }, { sl.zeros(4), T(0) }))
    assert_close(gx, { 1, 0, 0, 4 })
    assert_close(gy:item(), 5)
  end)

  it('repeat and tile sum over the copies', function()
    local x = sl.vector('x')
    local w = T({ 1, 2, 3, 4, 5, 6 })
    assert_close(grad_at({ x }, sl.sum(sl['repeat'](x, 3) * w), x, { sl.zeros(2) }), { 6, 15 })
    assert_close(grad_at({ x }, sl.sum(sl.tile(x, 3) * w), x, { sl.zeros(2) }), { 9, 12 })
  end)

  it('prod is prod / x', function()
    local x = sl.vector('x')
    assert_close(grad_at({ x }, sl.prod(x), x, { T({ 2, 3, 4 }) }), { 12, 8, 6 })
  end)

  it('var and std with ddof', function()
    local x = sl.vector('x')
    -- var = sum((x - m)^2) / (n - 1): d/dx = 2 (x - m) / (n - 1); m = 2
    assert_close(grad_at({ x }, sl.var(x, nil, false, 1), x, { T({ 1, 2, 3 }) }), { -1, 0, 1 })
    -- std = 1 there, so d std = d var / 2
    assert_close(grad_at({ x }, sl.std(x, nil, false, 1), x, { T({ 1, 2, 3 }) }), { -0.5, 0, 0.5 })
  end)

  it("dimshuffle drops an 'x' axis whose size the gradient does not know statically", function()
    local x, gy = sl.vector('x'), sl.matrix('gy')
    local y = x:dimshuffle('x', 1)
    local g = sl.grad(nil, x, { known_grads = { [y] = gy } })
    assert_close(sl.compile({ x, gy }, g)(sl.zeros(3), T({ { 1, 2, 3 } })), { 1, 2, 3 })
  end)

  it('the second derivative of sum(x^3) is 6x', function()
    local x = sl.vector('x')
    local g = sl.grad(sl.sum(x ^ 3), x)
    local h = sl.grad(sl.sum(g), x)
    assert_close(sl.compile({ x }, h)(T({ 1, -2, 0.5 })), { 6, -12, 3 }, 1e-10)
  end)
end)

describe('second derivatives', function()
  local function second(name, inner, pts)
    return { name, function(...)
      local args = { ... }
      return sl.grad(inner(...), args[1])
    end, pts }
  end
  check_all({
    second('of sum(sin(x)^2)', function(x) return sl.sum(sl.sin(x) ^ 2) end, function() return { N(4) } end),
    second('of a dot', function(x, A) return sl.sum(sl.dot(A, x) ^ 2) end,
           function() return { N(3), N(2, 3) } end),
    second('of tanh, exp and log', function(x) return sl.sum(sl.tanh(x) * sl.exp(x) + sl.log(x * x + 1)) end,
           function() return { N(2, 3) } end),
    second('of a division and a power', function(x, y) return sl.sum(x / (y * y + 1) + x ^ 3) end,
           function() return { N(3), N(3) } end),
    second('of sigmoid and softplus', function(x) return sl.sum(sl.sigmoid(x) * sl.softplus(x)) end,
           function() return { N(4) } end),
    second('through subtensor, concatenate and take', function(x)
      return sl.sum(sl.concatenate({ x[{ { 2, 3 } }], sl.take(x, { 1, 1 }) }) ^ 3)
    end, function() return { N(3) } end),
    second('through dimshuffle, tile and repeat', function(x)
      return sl.sum(sl.tile(x:dimshuffle(2, 1), 2) ^ 2 * sl['repeat'](x, 2, 1):sum())
    end, function() return { N(2, 3) } end),
    second('of var, std, mean and prod', function(x)
      return sl.var(x) * sl.std(x, 1, false, 1):sum() + sl.mean(x * x) * sl.prod(x)
    end, function() return { U(0.5, 2, 2, 3) } end),
    second('of a softmax-like expression', function(x)
      local e = sl.exp(x - sl.max(x, 2, true))
      return sl.sum(sl.log(sl.sum(e, 2)))
    end, function() return { N(2, 3) } end),
    second('through gather and broadcasting', function(x, b)
      return sl.sum(sl.gather(x + b, 2, sl.tensor({ { 2, 1 }, { 3, 3 } }, 'int64')) ^ 2)
    end, function() return { N(2, 3), N(1, 3) } end),
  })
end)

describe('sl.grad options', function()
  it("disconnected = 'raise' (the default) names the variable", function()
    local x, y = sl.vector('x'), sl.vector('unused_y')
    local e = errmsg(sl.grad, sl.sum(x), { x, y })
    assert.is_true(has(e, 'does not depend on unused_y'), e)
    assert.is_true(has(e, "disconnected = 'ignore'"), e)
    e = errmsg(sl.grad, sl.sum(x), y, { disconnected = 'raise' })
    assert.is_true(has(e, 'unused_y'), e)
  end)

  it("disconnected = 'warn' writes a warning and returns zeros", function()
    local x, y = sl.vector('x'), sl.vector('unused_y')
    local written = {}
    local stderr = io.stderr
    io.stderr = { write = function(_, ...) for _, s in ipairs({ ... }) do written[#written + 1] = s end end }
    local ok, g = pcall(sl.grad, sl.sum(x), y, { disconnected = 'warn' })
    io.stderr = stderr
    assert.is_true(ok, tostring(g))
    assert.is_true(has(table.concat(written), 'does not depend on unused_y'))
    assert_close(sl.compile({ x, y }, g)(sl.ones(2), sl.ones(3)), { 0, 0, 0 })
  end)

  it("disconnected = 'ignore' returns zeros of the variable's shape and dtype", function()
    local x, y = sl.vector('x'), sl.fmatrix('y')
    local g = sl.grad(sl.sum(x), y, { disconnected = 'ignore' })
    assert.are.equal('float32', g:dtype())
    assert_close(sl.compile({ y }, g)(sl.ones(2, 2, 'float32')), { { 0, 0 }, { 0, 0 } })
  end)

  it('rejects an unknown disconnected mode', function()
    local x, y = sl.vector('x'), sl.vector('y')
    assert.is_true(has(errmsg(sl.grad, sl.sum(x), y, { disconnected = 'maybe' }), "'raise', 'warn' or 'ignore'"))
  end)

  it('integer ops in the only path leave the variable disconnected (argmax)', function()
    local x = sl.matrix('x')
    local cost = sl.sum(sl.argmax(x, 2):cast('float64'))
    local e = errmsg(sl.grad, cost, x)
    assert.is_true(has(e, 'does not depend on x'), e)
    assert_close(sl.compile({ x }, sl.grad(cost, x, { disconnected = 'ignore' }))(sl.ones(1, 2)), { { 0, 0 } })
  end)

  it('known_grads starts from given output gradients', function()
    local x = sl.vector('x')
    local y = x * 3
    local g = sl.grad(nil, x, { known_grads = { [y] = T({ 1, 2 }) } })
    assert_close(sl.compile({ x }, g)(sl.zeros(2)), { 3, 6 })
    -- and adds to a cost's gradient
    local g2 = sl.grad(sl.sum(x), x, { known_grads = { [y] = T({ 1, 1 }) } })
    assert_close(sl.compile({ x }, g2)(sl.zeros(2)), { 4, 4 })
    -- a symbolic known gradient
    local gy = sl.vector('gy')
    local g3 = sl.grad(nil, x, { known_grads = { [y] = gy } })
    assert_close(sl.compile({ x, gy }, g3)(sl.zeros(2), T({ 5, 7 })), { 15, 21 })
  end)

  it('consider_constant stops the gradient at the given variables', function()
    local x = sl.vector('x')
    local c = x * 3
    local cost = sl.sum(x * c)   -- 3 x^2: gradient 6x, or 3x with c constant
    local full = sl.compile({ x }, sl.grad(cost, x))(T({ 1, 2 }))
    local stopped = sl.compile({ x }, sl.grad(cost, x, { consider_constant = { c } }))(T({ 1, 2 }))
    assert_close(full, { 6, 12 })
    assert_close(stopped, { 3, 6 })
  end)

  it('returns one gradient for one variable and a list for a list', function()
    local x = sl.vector('x')
    assert.is_true(sl.is_var(sl.grad(sl.sum(x), x)))
    local l = sl.grad(sl.sum(x), { x })
    assert.are.equal(1, #l)
  end)
end)

describe('sl.grad errors', function()
  it('needs a scalar cost', function()
    local x = sl.vector('x')
    local e = errmsg(sl.grad, x * 2, x)
    assert.is_true(has(e, 'the cost must be a scalar (0-d), got 1-d'), e)
  end)

  it('needs a float cost', function()
    local x = sl.vector('x')
    local e = errmsg(sl.grad, sl.sum(sl.gt(x, 0)), x)
    assert.is_true(has(e, 'the cost is int64; it must be a float'), e)
  end)

  it('differentiates only float variables', function()
    local x, i = sl.vector('x'), sl.ivector('i')
    local e = errmsg(sl.grad, sl.sum(x * i), i)
    assert.is_true(has(e, 'i is int32; only float variables have gradients'), e)
  end)

  it('needs symbolic arguments', function()
    local x = sl.vector('x')
    assert.is_true(has(errmsg(sl.grad, sl.ones(2), x), 'the cost must be a symbolic variable'))
    assert.is_true(has(errmsg(sl.grad, sl.sum(x), { x, 3 }), 'wrt 2 is not a symbolic variable'))
    assert.is_true(has(errmsg(sl.grad, sl.sum(x), 'x'), 'wrt must be a variable or a list'))
    assert.is_true(has(errmsg(sl.grad, nil, x), 'give a cost or known_grads'))
  end)

  it('names an op that has no gradient rule', function()
    local rule = sl.gradients.sin
    sl.gradients.sin = nil
    local x = sl.vector('x')
    local ok, e = pcall(sl.grad, sl.sum(sl.sin(x)), x)
    sl.gradients.sin = rule
    assert.is_false(ok)
    assert.is_true(has(tostring(e), "op 'sin'"), tostring(e))
    assert.is_true(has(tostring(e), 'has no gradient'), tostring(e))
  end)
end)

describe('sl.verify_grad', function()
  it('catches a wrong gradient rule and names the element', function()
    local rule = sl.gradients.sin
    sl.gradients.sin = function(_, ins, _, g) return { g[1] * sl.cos(ins[1]) * 1.01 } end
    local ok, e = pcall(sl.verify_grad, sl.sin, { T({ 0.1, 0.2, 0.3 }) })
    sl.gradients.sin = rule
    assert.is_false(ok)
    assert.is_true(has(tostring(e), 'gradients differ at input 1 element'), tostring(e))
  end)

  it('needs a symbolic result and float points', function()
    assert.is_true(has(errmsg(sl.verify_grad, function() return 3 end, { sl.ones(2) }), 'must return a symbolic'))
    assert.is_true(has(errmsg(sl.verify_grad, function(x) return x:cast('float64') end, { sl.tensor({ 1, 2 }, 'int64') }),
                       'not a float'))
  end)
end)

describe('sum_to', function()
  it('sums float32 gradients in double, and passes one that was not broadcast through', function()
    local g, like = sl.fmatrix('g'), sl.fvector('like')
    local f = sl.compile({ g, like }, sl.core.apply('sum_to', nil, g, like))
    -- 2^20 rows of 0.1f: a float32 running sum drifts by about 1% (hand-computed
    -- in double: 104857.6015625, which rounds to float32 104857.6015625)
    local gv = sl.ones(1048576, 2, 'float32') * 0.1
    local got = f(gv, sl.zeros(2, 'float32'))
    assert.are.same({ 2 }, got:shape())
    for i = 1, 2 do assert.near(104857.6015625, got[i], 1e-3) end
    -- like the same shape as g, known only at run time: g itself, a copy
    local m = sl.fmatrix('m')
    local h = sl.compile({ g, m }, sl.core.apply('sum_to', nil, g, m))
    local v = sl.tensor({ { 1.5, -2 }, { 3, 4.25 } }, 'float32')
    local out = h(v, v)
    assert.are.same({ { 1.5, -2 }, { 3, 4.25 } }, out:totable())
    out[1][1] = 7
    assert.are.same(1.5, v[1][1])
  end)
end)
