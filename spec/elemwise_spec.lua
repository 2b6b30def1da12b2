-- Elementwise ops (core/ops/elemwise.c): every op in the table against NumPy
-- over several shapes, broadcasting, non-contiguous views and each dtype,
-- eagerly on tensors, through operators, and compiled; then the typing
-- rules (weak Lua numbers, promotion), hand-computed values and errors.
--
-- Where symlua differs from NumPy on purpose, the oracle below encodes the
-- difference (and says so), instead of skipping the case:
--  * float results of bool and uint8 inputs are float32 (NumPy: float16 for
--    functions such as exp, float64 for true_divide);
--  * round, floor and ceil of integers, and reciprocal, return floats
--    (NumPy keeps the integer dtype for round and reciprocal);
--  * bool operands that NumPy rejects (sub, neg, sign) or widens to int8
--    (int_div, mod, pow) are not compared; see the hand-computed cases.
-- NumPy 1.x's value-based casting of 0-d arrays is not followed: a 0-d
-- tensor is an ordinary operand, as in NumPy 2 (a Lua number is the weak one).
local sl = require 'symlua'
local np = require 'spec.support.numpy'

-- -- the oracle ------------------------------------------------------------------
local ORACLE = [[
import math
np.seterr(all='ignore')
B, U8, I8, I16 = np.dtype(bool), np.dtype(np.uint8), np.dtype(np.int8), np.dtype(np.int16)

def promote(*xs):
    return np.result_type(*[x.dtype for x in xs])

def floaty(t):
    if t.kind == 'f': return t
    return np.dtype(np.float32) if t in (B, U8, I8, I16) else np.dtype(np.float64)

def P(f):   # compute and return the promoted dtype
    return lambda *xs: (lambda t: np.asarray(f(*[x.astype(t) for x in xs])).astype(t))(promote(*xs))

def F(f):   # compute in symlua's float dtype for the inputs
    return lambda *xs: (lambda t: np.asarray(f(*[x.astype(t) for x in xs])).astype(t))(floaty(promote(*xs)))

def C(f):   # compare in the promoted dtype, return bool
    return lambda *xs: (lambda t: f(*[x.astype(t) for x in xs]))(promote(*xs))

erf, erfc = np.vectorize(math.erf, otypes=[float]), np.vectorize(math.erfc, otypes=[float])

ORACLE = {
  'add': P(np.add), 'sub': P(np.subtract), 'mul': P(np.multiply),
  'true_div': F(np.true_divide), 'int_div': P(np.floor_divide), 'mod': P(np.mod),
  'pow': P(np.power), 'maximum': P(np.maximum), 'minimum': P(np.minimum),
  'atan2': F(np.arctan2), 'hypot': F(np.hypot), 'logaddexp': F(np.logaddexp),
  'neg': P(np.negative), 'abs': P(np.abs), 'sign': P(np.sign), 'sqr': P(np.square),
  'reciprocal': F(lambda x: 1 / x), 'exp': F(np.exp), 'exp2': F(np.exp2),
  'expm1': F(np.expm1), 'log': F(np.log), 'log2': F(np.log2), 'log10': F(np.log10),
  'log1p': F(np.log1p), 'sqrt': F(np.sqrt), 'sin': F(np.sin), 'cos': F(np.cos),
  'tan': F(np.tan), 'asin': F(np.arcsin), 'acos': F(np.arccos), 'atan': F(np.arctan),
  'sinh': F(np.sinh), 'cosh': F(np.cosh), 'tanh': F(np.tanh),
  'asinh': F(np.arcsinh), 'acosh': F(np.arccosh), 'atanh': F(np.arctanh), 'cbrt': F(np.cbrt),
  'deg2rad': F(np.deg2rad), 'rad2deg': F(np.rad2deg),
  'sigmoid': F(lambda x: 1 / (1 + np.exp(-x.astype(np.float64)))),
  'softplus': F(lambda x: np.logaddexp(0, x.astype(np.float64))),
  'erf': F(lambda x: erf(x.astype(np.float64))), 'erfc': F(lambda x: erfc(x.astype(np.float64))),
  'floor': F(np.floor), 'ceil': F(np.ceil), 'round': F(np.round),
  'clip': P(np.clip),
  'where': lambda c, a, b: (lambda t: np.where(c, a.astype(t), b.astype(t)))(promote(a, b)),
  'eq': C(np.equal), 'ne': C(np.not_equal), 'lt': C(np.less), 'le': C(np.less_equal),
  'gt': C(np.greater), 'ge': C(np.greater_equal),
  'logical_and': np.logical_and, 'logical_or': np.logical_or,
  'logical_xor': np.logical_xor, 'logical_not': np.logical_not,
  'isnan': np.isnan, 'isinf': np.isinf,
}

def A(dt, at, shape):   # an argument, from the packed array of its dtype
    return globals()['p_' + dt][at:at + int(np.prod(shape))].reshape(shape)

CODES = ['bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float32', 'float64']
def pack(rs):           # the results, packed: meta rows and a flat array per dtype
    flats, used, meta = {c: [] for c in CODES}, {c: 0 for c in CODES}, []
    for r in rs:
        c = r.dtype.name
        meta.append([CODES.index(c), used[c], r.ndim] + list(r.shape) + [0] * (8 - r.ndim))
        flats[c].append(r.ravel())
        used[c] += r.size
    return (np.array(meta, dtype=np.int64),) + tuple(
        np.concatenate(flats[c]) if flats[c] else np.zeros(0, c) for c in CODES)

def run(op, *xs):
    if op.startswith('cast:'): return xs[0].astype(op[5:])
    return np.asarray(ORACLE[op](*xs))
]]

local oracle_path = os.tmpname()
do
  local f = assert(io.open(oracle_path, 'w'))
  f:write(ORACLE)
  f:close()
end

-- Evaluates {op, args...} cases in one python call; returns the results.
-- Thousands of small .npy files are slow to pass, so the arguments travel
-- packed in one flat array per dtype, and the results come back the same way.
local CODES = { 'bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float32', 'float64' }

local function numpy_all(cases)
  local parts, used, calls = {}, {}, {}
  for i, c in ipairs(cases) do
    local specs = {}
    for j, a in ipairs(c.args) do
      local dt = a:dtype()
      parts[dt] = parts[dt] or {}
      used[dt] = used[dt] or 0
      table.insert(parts[dt], { at = used[dt], t = a })
      local shape = table.concat(a:shape(), ', ') .. (a:dim() == 1 and ',' or '')
      specs[j] = string.format("A('%s', %d, (%s))", dt, used[dt], shape)
      used[dt] = used[dt] + a:numel()
    end
    calls[i] = string.format("run('%s', %s)", c.op, table.concat(specs, ', '))
  end
  local inputs = {}
  for dt, list in pairs(parts) do
    local flat = sl.zeros(used[dt], dt)
    for _, p in ipairs(list) do
      local n = p.t:numel()
      if n > 0 then flat:narrow(1, p.at + 1, n):view(p.t:shape()):copy(p.t) end
    end
    inputs['p_' .. dt] = flat
  end
  local code = string.format("(lambda _: pack([%s]))(exec(open('%s').read(), globals()))",
                             table.concat(calls, ', '), oracle_path)
  local res = { np.eval(code, inputs) }
  local meta, out = res[1]:totable(), {}
  for i, m in ipairs(meta) do
    local dt, at, nd = CODES[m[1] + 1], m[2], m[3]
    local shape, n = {}, 1
    for k = 1, nd do shape[k] = m[3 + k]; n = n * m[3 + k] end
    out[i] = n == 0 and sl.zeros(shape, dt) or res[m[1] + 2]:narrow(1, at + 1, n):view(shape)
  end
  return out
end

-- -- comparing ---------------------------------------------------------------------
local function shape_of(t) return table.concat(t:shape(), 'x') end
local RTOL = { float32 = 2e-6, float64 = 1e-13 }
local ATOL = { float32 = 1e-6, float64 = 1e-300 }

local function assert_match(got, want, what)
  assert(sl.is_tensor(got), what .. ': not a tensor')
  assert(shape_of(got) == shape_of(want), string.format('%s: shape %s, want %s', what,
         shape_of(got), shape_of(want)))
  assert(got:dtype() == want:dtype(), string.format('%s: dtype %s, want %s', what, got:dtype(),
         want:dtype()))
  local rtol, atol = RTOL[want:dtype()] or 0, ATOL[want:dtype()] or 0
  local g, w = got:cast('float64'):contiguous(), want:cast('float64'):contiguous()
  local pg, pw = g:data(), w:data()
  for i = 0, g:numel() - 1 do
    local u, v = pg[i], pw[i]
    local ok = u == v or (u ~= u and v ~= v) or math.abs(u - v) <= atol + rtol * math.abs(v)
    if not ok then
      error(string.format('%s: element %d: got %.17g, want %.17g', what, i + 1, u, v), 2)
    end
  end
end

-- -- data ----------------------------------------------------------------------------
local DTYPES = { 'bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float32', 'float64' }

-- random values of a dtype, of the given shape; kind 'exp' keeps integer
-- exponents small and non-negative (NumPy rejects negative integer powers)
local function data(dtype, shape, kind)
  if dtype == 'bool' then return sl.randint(0, 2, shape, 'int64'):cast('bool') end
  if dtype == 'uint8' then
    return kind == 'exp' and sl.randint(0, 4, shape, 'uint8') or sl.randint(0, 256, shape, 'uint8')
  end
  if dtype == 'int8' or dtype == 'int16' or dtype == 'int32' or dtype == 'int64' then
    return kind == 'exp' and sl.randint(0, 6, shape, dtype) or sl.randint(-20, 21, shape, dtype)
  end
  if kind == 'exp' then return sl.randn(shape, dtype) * 2 end
  return sl.randn(shape, dtype) * 3
end

-- values where the ops' edge cases lie, per dtype
local SPECIAL = {
  float = { 0 / 0, 1 / 0, -1 / 0, 0, -0.0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3, -7, 1e-30, 100, -100 },
  int32 = { 0, 1, -1, 2, 7, -7, 2147483647, -2147483648 },
  int64 = { 0, 1, -1, 2, 7, -7, 2147483647, -2147483648, 1e15, -1e15 },
  uint8 = { 0, 1, 2, 7, 127, 128, 255 },
  int8 = { 0, 1, -1, 2, 7, -7, 127, -128 },
  int16 = { 0, 1, -1, 2, 7, -7, 127, -128, 32767, -32768 },
  bool = { true, false },
}
local function special(dtype)
  return sl.tensor(SPECIAL[dtype] or SPECIAL.float, dtype)
end

-- Operand layouts: name and a function giving the arguments' tensors.
local function binary_layouts(dtype, kind)
  local function d(...) return data(dtype, { ... }) end
  local function e(...) return data(dtype, { ... }, kind) end
  return {
    { 'same shape', function() return d(3, 4), e(3, 4) end },
    { 'row broadcast', function() return d(3, 4), e(1, 4) end },
    { 'vector broadcast', function() return d(2, 3, 4), e(4) end },
    { 'column x row', function() return d(3, 1), e(1, 4) end },
    { '0-d operand', function() return d(3, 4), data(dtype, {}, kind) end },
    { '0-d first', function() return data(dtype, {}), e(2, 3) end },
    { 'transposed and stepped views', function()
        return d(4, 3):transpose(1, 2), data(dtype, { 3, 8 }, kind)[{ {}, { 1, -1, 2 } }]
      end },
    { 'reversed and broadcast views', function()
        return d(5, 3)[{ { -1, 1, -1 } }], e(1, 3):expand(5, 3)
      end },
    { 'empty', function() return d(0, 4), e(1, 4) end },
  }
end

local function unary_layouts(dtype)
  local function d(...) return data(dtype, { ... }) end
  return {
    { 'matrix', function() return d(3, 4) end },
    { '0-d', function() return data(dtype, {}) end },
    { 'transposed 3-d', function() return d(2, 4, 3):transpose(2, 3) end },
    { 'stepped', function() return d(3, 9)[{ { 1, -1, 2 }, { 2, -1, 3 } }] end },
    { 'empty', function() return d(0, 3) end },
    { 'special values', function() return special(dtype) end },
  }
end

-- A var of t's dtype and rank; sizes unknown, or t's sizes when known.
local function var_like(t, name, known)
  local shape = {}
  for i, s in ipairs(t:shape()) do shape[i] = known and s or -1 end
  return sl.tensor_type(t:dtype(), shape)(name)
end

local OPERATORS = {
  add = function(a, b) return a + b end, sub = function(a, b) return a - b end,
  mul = function(a, b) return a * b end, true_div = function(a, b) return a / b end,
  mod = function(a, b) return a % b end, pow = function(a, b) return a ^ b end,
  neg = function(a) return -a end,
}

local function apply(op, ...)
  if op:sub(1, 5) == 'cast:' then return sl.core.apply('cast', { dtype = op:sub(6) }, ...) end
  return sl[op](...)
end

-- Checks each case eagerly, as a method, through its operator and compiled
-- with unknown and with known static shapes; NumPy gives the expected value.
local function check(cases)
  local want = {}
  for i, c in ipairs(cases) do want[i] = c.want end
  for i, c in ipairs(cases) do
    local op, args, what = c.op, c.args, c.what
    assert_match(apply(op, unpack(args)), want[i], what .. ' (eager)')
    if OPERATORS[op] and sl.is_tensor(args[1]) then
      assert_match(OPERATORS[op](unpack(args)), want[i], what .. ' (operator)')
    end
    for _, known in ipairs({ false, true }) do
      local vars = {}
      for j, a in ipairs(args) do vars[j] = var_like(a, 'x' .. j, known) end
      local z = apply(op, unpack(vars))
      if known then
        assert.are.same(want[i]:shape(), z:static_shape(), what .. ': static shape')
      end
      assert.are.equal(want[i]:dtype(), z:dtype(), what .. ': static dtype')
      local f = sl.compile(vars, z)
      local how = known and ' (compiled, known shapes)' or ' (compiled)'
      assert_match(f(unpack(args)), want[i], what .. how)
      if OPERATORS[op] then
        assert_match(sl.compile(vars, OPERATORS[op](unpack(vars)))(unpack(args)), want[i],
                     what .. ' (operator' .. how .. ')')
      end
    end
  end
end

local function add_case(cases, op, what, ...)
  cases[#cases + 1] = { op = op, what = op .. ' ' .. what, args = { ... } }
end

-- -- the table's ops against NumPy ------------------------------------------------------
local BINARY = {
  add = DTYPES, mul = DTYPES, maximum = DTYPES, minimum = DTYPES,
  true_div = DTYPES, atan2 = DTYPES, hypot = DTYPES, logaddexp = DTYPES,
  eq = DTYPES, ne = DTYPES, lt = DTYPES, le = DTYPES, gt = DTYPES, ge = DTYPES,
  logical_and = DTYPES, logical_or = DTYPES, logical_xor = DTYPES,
  sub = { 'uint8', 'int32', 'int64', 'float32', 'float64' },
  int_div = { 'uint8', 'int32', 'int64', 'float32', 'float64' },
  mod = { 'uint8', 'int32', 'int64', 'float32', 'float64' },
  pow = { 'uint8', 'int32', 'int64', 'float32', 'float64' },
}
local UNARY_ALL = { 'abs', 'sqr', 'reciprocal', 'exp', 'exp2', 'expm1', 'log', 'log2', 'log10',
  'log1p', 'sqrt', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'sigmoid',
  'softplus', 'erf', 'erfc', 'floor', 'ceil', 'round', 'logical_not', 'isnan', 'isinf',
  'asinh', 'acosh', 'atanh', 'cbrt', 'deg2rad', 'rad2deg' }
local UNARY_NO_BOOL = { 'neg', 'sign' }

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end

-- Every case of every group, built once with fixed seeds and sent to NumPy
-- in one python call (each call costs a python start).
local GROUPS, ORDER = {}, {}
local function group(name, seed, build)
  ORDER[#ORDER + 1] = name
  GROUPS[name] = { seed = seed, build = build }
end

for _, op in ipairs(sorted_keys(BINARY)) do
  group(op .. ': every dtype and layout', 100, function(cases)
    for _, dt in ipairs(BINARY[op]) do
      for _, l in ipairs(binary_layouts(dt, op == 'pow' and 'exp' or nil)) do
        add_case(cases, op, dt .. ' ' .. l[1], l[2]())
      end
      -- every pair of edge values: (n, 1) against (1, n)
      if op ~= 'pow' or dt == 'float32' or dt == 'float64' then
        local s = special(dt)
        local n = s:numel()
        add_case(cases, op, dt .. ' edge values', s:view(n, 1), s:view(1, n))
      end
    end
  end)
end

for _, op in ipairs(UNARY_ALL) do
  group(op .. ': every dtype and layout', 200, function(cases)
    for _, dt in ipairs(DTYPES) do
      for _, l in ipairs(unary_layouts(dt)) do add_case(cases, op, dt .. ' ' .. l[1], l[2]()) end
    end
  end)
end

for _, op in ipairs(UNARY_NO_BOOL) do
  group(op .. ': every dtype but bool, and layouts', 300, function(cases)
    for _, dt in ipairs(DTYPES) do
      if dt ~= 'bool' then
        for _, l in ipairs(unary_layouts(dt)) do add_case(cases, op, dt .. ' ' .. l[1], l[2]()) end
      end
    end
  end)
end

group('clip: tensor and 0-d bounds, broadcasting, every dtype', 400, function(cases)
  for _, dt in ipairs(DTYPES) do
    add_case(cases, 'clip', dt .. ' tensor bounds', data(dt, { 3, 4 }), data(dt, { 1, 4 }), data(dt, { 3, 1 }))
    add_case(cases, 'clip', dt .. ' 0-d bounds', data(dt, { 5 }), sl.tensor(0, dt), sl.tensor(1, dt))
    add_case(cases, 'clip', dt .. ' transposed', data(dt, { 4, 3 }):transpose(1, 2), data(dt, {}), data(dt, { 4 }))
  end
  add_case(cases, 'clip', 'edge values', special('float64'), sl.tensor(-1.0), sl.tensor(2.0))
  add_case(cases, 'clip', 'int32 and float32 bounds', data('int32', { 6 }), data('float32', {}), data('float32', {}))
end)

group('where: conditions of any dtype, promotion, broadcasting', 500, function(cases)
  for _, dt in ipairs(DTYPES) do
    add_case(cases, 'where', dt .. ' values', data('bool', { 3, 4 }), data(dt, { 3, 4 }), data(dt, { 1, 4 }))
    add_case(cases, 'where', dt .. ' condition', data(dt, { 3, 4 }), data('float64', { 3, 1 }), data('int32', {}))
    add_case(cases, 'where', dt .. ' views', data('bool', { 4, 3 }):transpose(1, 2),
             data(dt, { 3, 8 })[{ {}, { 1, -1, 2 } }], data(dt, { 4 }))
  end
  add_case(cases, 'where', 'NaN condition', special('float64'), special('float64'), sl.tensor(7, 'int64'))
  add_case(cases, 'where', 'uint8 and int32', data('bool', { 5 }), data('uint8', { 5 }), data('int32', { 5 }))
end)

group('cast: every pair of dtypes, in-range values', 600, function(cases)
  for _, from in ipairs(DTYPES) do
    for _, to in ipairs(DTYPES) do
      -- float to integer is defined (truncation) only in range: stay there
      local float = from == 'float32' or from == 'float64'
      local x = float and sl.rand({ 3, 4 }, from) * (to == 'int8' and 127 or 200) or sl.abs(data(from, { 3, 4 }))
      add_case(cases, 'cast:' .. to, from .. ' to ' .. to, x)
      add_case(cases, 'cast:' .. to, from .. ' to ' .. to .. ' transposed',
               sl.abs(data(from, { 4, 2 })):transpose(1, 2))
    end
  end
end)

group('promotion of every pair of dtypes', 700, function(cases)
  for _, a in ipairs(DTYPES) do
    for _, b in ipairs(DTYPES) do
      for _, op in ipairs({ 'add', 'mul', 'maximum', 'true_div', 'lt', 'logical_and' }) do
        add_case(cases, op, a .. ' with ' .. b, data(a, { 2, 3 }), data(b, { 3 }))
      end
      if a ~= 'bool' and b ~= 'bool' then
        for _, op in ipairs({ 'sub', 'int_div', 'mod' }) do
          add_case(cases, op, a .. ' with ' .. b, data(a, { 2, 3 }), data(b, { 3 }))
        end
      end
    end
  end
end)

local built
local function cases_of(name)
  if not built then
    local by_group, all = {}, {}
    for _, g in ipairs(ORDER) do
      sl.manual_seed(GROUPS[g].seed)
      local cases = {}
      GROUPS[g].build(cases)
      by_group[g] = cases
      for _, c in ipairs(cases) do all[#all + 1] = c end
    end
    local want = numpy_all(all)
    for i, c in ipairs(all) do c.want = want[i] end
    built = by_group
  end
  return built[name]
end

describe('elementwise ops against NumPy', function()
  it('covers every op in the table', function()
    local covered = { clip = true, where = true, cast = true }
    for k in pairs(BINARY) do covered[k] = true end
    for _, k in ipairs(UNARY_ALL) do covered[k] = true end
    for _, k in ipairs(UNARY_NO_BOOL) do covered[k] = true end
    for _, op in ipairs(sl.core.ops()) do
      if op.elemwise then assert(covered[op.name], 'no NumPy check for ' .. op.name) end
    end
  end)

  for _, name in ipairs(ORDER) do
    it(name, function()
      if not np.available() then pending('numpy not installed') return end
      check(cases_of(name))
    end)
  end

  it('clip with Lua numbers as bounds keeps the dtype', function()
    local x = sl.tensor({ -3, 0.25, 9 }, 'float32')
    local r = sl.clip(x, 0, 1)
    assert.are.equal('float32', r:dtype())
    assert.are.same({ 0, 0.25, 1 }, r:totable())
    assert.are.same({ 0, 2, 5 }, sl.clip(sl.tensor({ -3, 2, 9 }, 'int32'), 0, 5):totable())
    assert.are.equal('int32', sl.tensor({ 1 }, 'int32'):clip(0, 5):dtype())
  end)
end)

-- -- typing rules and hand-computed values -----------------------------------------------
describe('elementwise typing', function()
  it('lets Lua numbers take the tensor dtype (weak constants)', function()
    local f32 = sl.tensor({ 1, 2 }, 'float32')
    local i32 = sl.tensor({ 1, 2, 3 }, 'int32')
    assert.are.equal('float32', (f32 * 0.5):dtype())
    assert.are.equal('float32', (0.5 * f32):dtype())
    assert.are.equal('float32', (f32 + 1):dtype())
    assert.are.equal('float32', (f32 ^ 2):dtype())
    assert.are.equal('float32', sl.maximum(f32, 1e10):dtype())
    assert.are.equal('float64', (i32 * 0.5):dtype())
    assert.are.same({ 0.5, 1, 1.5 }, (i32 * 0.5):totable())
    assert.are.equal('int32', (i32 + 1):dtype())
    assert.are.same({ 2, 3, 4 }, (i32 + 1):totable())
    assert.are.equal('int32', (i32 % 2):dtype())
    assert.are.equal('float64', (i32 / 2):dtype())
    assert.are.same({ 0.5, 1, 1.5 }, (i32 / 2):totable())
    assert.are.equal('uint8', (sl.tensor({ 1 }, 'uint8') + 1):dtype())
    assert.are.equal('int64', (sl.tensor({ true }) + 1):dtype())
    assert.are.equal('float64', (sl.tensor({ true }) * 0.5):dtype())
    assert.are.equal('bool', sl.eq(i32, 2.5):dtype())
    assert.are.same({ false, true, false }, sl.eq(i32, 2):totable())
    -- a float32 graph stays float32
    local x = sl.fvector('x')
    assert.are.equal('float32', (x * 0.5 + 1):dtype())
    assert.are.equal('float32', (-x):dtype())
    assert.are.equal('float64', (sl.ivector('i') * 0.5):dtype())
    assert.are.equal('int32', (sl.ivector('i') + 1):dtype())
    -- the weak value is rounded to the tensor's dtype first, as NumPy would
    assert.are.equal('float32', (f32 * 0.1):dtype())
    local r = (sl.tensor({ 1 }, 'float32') * 0.1):cast('float64'):item()
    assert.are.equal(sl.tensor({ 0.1 }, 'float32'):cast('float64'):item(), r)
  end)

  it('promotes tensors by NumPy rules', function()
    local function dt(a, b) return (sl.ones(1, a) + sl.ones(1, b)):dtype() end
    assert.are.equal('float64', dt('int32', 'float32'))
    assert.are.equal('int32', dt('uint8', 'int32'))
    assert.are.equal('bool', dt('bool', 'bool'))
    assert.are.equal('uint8', dt('bool', 'uint8'))
    assert.are.equal('float64', dt('int64', 'float32'))
    assert.are.equal('float32', dt('uint8', 'float32'))
    assert.are.equal('int64', dt('int32', 'int64'))
    assert.are.equal('float64', dt('float32', 'float64'))
    -- a 0-d tensor is an ordinary operand (NumPy 2), unlike a Lua number
    assert.are.equal('int64', (sl.ones(2, 'int32') + sl.tensor(1, 'int64')):dtype())
    assert.are.equal('float64', (sl.ones(2, 'float32') * sl.tensor(0.5)):dtype())
  end)

  it('adds bools as logical or and multiplies them as logical and', function()
    local a, b = sl.tensor({ true, true, false, false }), sl.tensor({ true, false, true, false })
    assert.are.same({ true, true, true, false }, (a + b):totable())
    assert.are.same({ true, false, false, false }, (a * b):totable())
    assert.are.equal('bool', (a + b):dtype())
    -- NumPy rejects bool subtraction; here it is logical xor
    assert.are.same({ false, true, true, false }, (a - b):totable())
  end)

  it('divides integers by zero to 0, as NumPy does, without crashing', function()
    for _, dt in ipairs({ 'uint8', 'int32', 'int64' }) do
      local a = sl.tensor({ 5, 0, 7 }, dt)
      assert.are.same({ 0, 0, 0 }, a:int_div(0):totable())
      assert.are.same({ 0, 0, 0 }, (a % 0):totable())
      assert.are.same({ 0, 0, 0 }, sl.int_div(a, sl.zeros(3, dt)):totable())
      local x, y = sl.tensor_type(dt, { -1 })('x'), sl.tensor_type(dt, { -1 })('y')
      local f = sl.compile({ x, y }, { x:int_div(y), x % y })
      local q, m = f(a, sl.zeros(3, dt))
      assert.are.same({ 0, 0, 0 }, q:totable())
      assert.are.same({ 0, 0, 0 }, m:totable())
    end
    local a = sl.tensor({ -7, 7, -7, 7 }, 'int32')
    local b = sl.tensor({ 2, -2, -2, 2 }, 'int32')
    assert.are.same({ -4, -4, 3, 3 }, a:int_div(b):totable())
    assert.are.same({ 1, -1, -1, 1 }, (a % b):totable())
    assert.are.same({ -2147483648 }, sl.tensor({ -2147483648 }, 'int32'):int_div(-1):totable())
    -- floats: Python's floor division, consistent with mod
    local x = sl.tensor({ 1, -1, 1, 7.5 }, 'float64')
    local y = sl.tensor({ 0.1, 0.1, 0, -2 }, 'float64')
    assert.are.same({ 9, -10, 1 / 0, -4 }, x:int_div(y):totable())
  end)

  it('computes hand-checked values', function()
    local x = sl.tensor({ -2.5, -0.5, 0.5, 1.5, 2.5 })
    assert.are.same({ -2, -0, 0, 2, 2 }, sl.round(x):totable())
    assert.are.same({ -3, -1, 0, 1, 2 }, sl.floor(x):totable())
    assert.are.same({ 2.5, 0.5, 0.5, 1.5, 2.5 }, sl.abs(x):totable())
    assert.are.same({ -1, -1, 1, 1, 1 }, sl.sign(x):totable())
    assert.are.same({ 0.5, 0.5 }, sl.sigmoid(sl.tensor({ 0, 0 }, 'float64')):totable())
    assert.are.equal(math.log(2), sl.softplus(sl.tensor(0.0)):item())
    assert.are.same({ 8, 1 }, (sl.tensor({ 2, 3 }, 'int32') ^ sl.tensor({ 3, 0 }, 'int32')):totable())
    assert.are.same({ 1, 0, 1 }, sl.maximum(sl.tensor({ 1, -1, 0 }, 'int32'), sl.tensor({ 0, 0, 1 }, 'int32')):totable())
    assert.are.same({ true, false }, sl.isnan(sl.tensor({ 0 / 0, 1 })):totable())
    assert.are.same({ false, true, true }, sl.isinf(sl.tensor({ 0, 1 / 0, -1 / 0 })):totable())
    assert.are.same({ 10, 20 }, sl.where(sl.tensor({ true, false }), 10, 20 * sl.ones(2, 'int32')):totable())
    assert.are.same({ 255, 0 }, (sl.tensor({ 0, 1 }, 'uint8') - 1):totable())
    assert.are.same({ 4 }, sl.tensor({ 4.7 }):cast('int32'):totable())
    local v = sl.vector('v')
    local f = sl.compile({ v }, { -v, v ^ 2, v / 4, v % 3 })
    local a, b, c, d = f(sl.tensor({ 1, -5 }, 'float64'))
    assert.are.same({ -1, 5 }, a:totable())
    assert.are.same({ 1, 25 }, b:totable())
    assert.are.same({ 0.25, -1.25 }, c:totable())
    assert.are.same({ 1, 1 }, d:totable())
  end)
end)

describe('elementwise errors', function()
  it('reports shapes that cannot broadcast when the graph is built', function()
    local a = sl.tensor_type('float64', { 3, 4 })('a')
    local b = sl.tensor_type('float64', { 5 })('b')
    local ok, e = pcall(sl.add, a, b)
    assert.is_false(ok)
    assert.matches('add: shapes do not broadcast: float64 (3, 4) and float64 (5,) differ in dimension 2 (4 vs 5)',
                   e, 1, true)
    ok, e = pcall(function() return a * b end)
    assert.matches('mul: shapes do not broadcast', e, 1, true)
    ok, e = pcall(sl.where, sl.bvector('c'), a, sl.tensor_type('float64', { 2, 1 })('d'))
    assert.matches('where: shapes do not broadcast', e, 1, true)
  end)

  it('names the op and the shapes for tensors and at call time', function()
    local ok, e = pcall(function() return sl.zeros(3, 4) - sl.zeros(5) end)
    assert.is_false(ok)
    assert.matches('sub: shapes do not broadcast: float64 (3, 4) and float64 (5,)', e, 1, true)
    local a, b = sl.matrix('a'), sl.vector('b')
    local f = sl.compile({ a, b }, sl.atan2(a, b))
    ok, e = pcall(f, sl.zeros(3, 4), sl.zeros(5))
    assert.is_false(ok)
    assert.matches('atan2: shapes (3, 4) and (5,) cannot broadcast (dimension 2: 4 vs 5)', e, 1, true)
  end)

  it('checks arity and dtypes', function()
    local ok, e = pcall(sl.core.apply, 'add', nil, sl.zeros(2))
    assert.matches('add takes 2 inputs, got 1', e, 1, true)
    ok, e = pcall(sl.core.apply, 'clip', nil, sl.zeros(2), 1)
    assert.matches('clip takes 3 inputs, got 2', e, 1, true)
    ok, e = pcall(sl.cast, sl.vector('v'), 'float8')
    assert.is_false(ok)
    assert.matches("unknown dtype 'float8'", e, 1, true)
    ok, e = pcall(sl.add, sl.vector('v'), 'text')
    assert.is_false(ok)
  end)
end)
