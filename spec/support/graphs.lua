-- Graph builders of the backend comparisons (spec/codegen_spec.lua,
-- spec/cuda_spec.lua): the elementwise op lists and random graphs.
local sl = require 'symlua'
local M = {}

M.UNARY = { 'neg', 'abs', 'sign', 'sqr', 'reciprocal', 'exp', 'exp2', 'expm1', 'log', 'log2',
  'log10', 'log1p', 'sqrt', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh',
  'sigmoid', 'softplus', 'erf', 'erfc', 'floor', 'ceil', 'round', 'logical_not', 'isnan', 'isinf',
  'asinh', 'acosh', 'atanh', 'cbrt', 'deg2rad', 'rad2deg' }
M.BINARY = { 'add', 'sub', 'mul', 'true_div', 'int_div', 'mod', 'pow', 'maximum', 'minimum',
  'atan2', 'hypot', 'logaddexp', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logical_and', 'logical_or', 'logical_xor' }

-- Outputs op(args) for each op that accepts these inputs when the graph is built.
function M.outputs_of(ops, ...)
  local outs, names = {}, {}
  for _, op in ipairs(ops) do
    local ok, v = pcall(sl[op], ...)
    if ok then outs[#outs + 1] = v; names[#names + 1] = op end
  end
  return outs, names
end

-- run-time shape of an input of static shape st in a (r, c) problem
function M.runtime_shape(st, r, c)
  if #st == 0 then return {} end
  if #st == 1 then return { c } end
  return { st[1] == 1 and 1 or r, st[2] == 1 and 1 or c }
end

-- A small deterministic generator of random elementwise graphs (with
-- reductions), independent of math.random.
function M.generator(seed)
  local state = seed
  local function rnd(n)
    state = (state * 1103515245 + 12345) % 2147483648
    return math.floor(state / 65536) % n + 1
  end
  local function pick(t) return t[rnd(#t)] end

  local SMOOTH = { 'neg', 'abs', 'sqr', 'exp', 'tanh', 'sigmoid', 'sin', 'cos', 'softplus', 'atan' }
  local ARITH = { 'add', 'sub', 'mul', 'maximum', 'minimum' }
  local INT_OPS = { 'add', 'sub', 'mul', 'int_div', 'mod', 'maximum', 'minimum' }
  local SHAPES = { { -1, -1 }, { 1, -1 }, { -1, 1 }, { -1 }, {} }

  local function graph(dtype)
    local float = dtype == 'float32' or dtype == 'float64'
    local nin = rnd(3)
    local ins, shapes = {}, {}
    for i = 1, nin do
      shapes[i] = i == 1 and { -1, -1 } or pick(SHAPES)
      ins[i] = sl.tensor_type(dtype, shapes[i])('in' .. i)
    end
    local pool = {}
    for i = 1, nin do pool[i] = ins[i] end
    -- leaves may go through discontinuous ops; inner nodes only smooth ones
    if float and rnd(3) == 1 then pool[#pool + 1] = sl.floor(pick(ins)) end
    if rnd(4) == 1 then pool[#pool + 1] = sl.where(sl.gt(pick(ins), 0), pick(ins), pick(ins)) end
    local nodes = rnd(6) + 1
    for _ = 1, nodes do
      local v
      local x = pool[#pool - rnd(math.min(#pool, 3)) + 1]
      if float and rnd(3) == 1 then
        v = sl[pick(SMOOTH)](x)
      elseif float and rnd(6) == 1 then
        v = sl[rnd(2) == 1 and 'sqrt' or 'log1p'](sl.abs(x))
      elseif rnd(5) == 1 then
        v = x * (rnd(2) == 1 and 0.5 or 3)          -- a weak Lua number
      else
        local op = float and pick(ARITH) or pick(INT_OPS)
        v = sl[op](x, pick(pool))
      end
      pool[#pool + 1] = v
    end
    local outs = { pool[#pool] }
    if rnd(3) == 1 then outs[#outs + 1] = pool[#pool - 1] end
    if rnd(3) == 1 then
      local red = pick({ 'sum', 'max', 'min', 'mean' })
      local last = pool[#pool]
      local nd = #last:static_shape()
      if nd == 0 then outs[#outs + 1] = sl[red](last)
      else outs[#outs + 1] = sl[red](last, rnd(nd)) end
    end
    if rnd(4) == 1 then outs[#outs + 1] = sl.sum(pool[#pool] * pool[#pool - 1]) end
    return ins, shapes, outs
  end
  return { rnd = rnd, pick = pick, graph = graph }
end

return M
