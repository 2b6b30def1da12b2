-- Run by spec/dist_spec.lua under mpirun: every collective on every dtype
-- against values computed here by hand from each rank's known inputs.
-- Prints "rank R: N checks passed"; any failure raises, which ends the job.
local sl = require 'symlua'
local dist = sl.dist.init()
local rank, size = dist.rank(), dist.size()
local checks = 0

local function flat(t)
  local out = {}
  local function walk(v) if type(v) == 'table' then for _, x in ipairs(v) do walk(x) end else out[#out + 1] = v end end
  walk(t:totable())
  return out
end

local function check(what, got, want, tol)
  assert(#got == #want, string.format('%s: %d values, want %d', what, #got, #want))
  for i = 1, #want do
    local g, w = got[i], want[i]
    if type(g) == 'boolean' then g = g and 1 or 0 end
    if type(w) == 'boolean' then w = w and 1 or 0 end
    assert(math.abs(g - w) <= (tol or 0) * math.max(1, math.abs(w)),
      string.format('rank %d: %s: value %d is %s, want %s', rank, what, i, tostring(g), tostring(w)))
  end
  checks = checks + 1
end

-- rank r's value i (0-based), real and imaginary parts; bools are 0/1
local N = 6
local function value(dtype, r, i)
  if dtype == 'bool' then return (i % (r + 2) == 0) and 1 or 0, 0 end
  return ((r + 1) * (i + 1)) % 7 + 1 - (dtype:find('int') and 0 or 0.5), dtype:find('complex') and (r - i) or 0
end
local function tensor_of(dtype, r)
  local re, im = {}, {}
  for i = 0, N - 1 do re[i + 1], im[i + 1] = value(dtype, r, i) end
  if dtype:find('complex') then
    local part = dtype == 'complex64' and 'float32' or 'float64'
    return sl.complex(sl.tensor(re, part), sl.tensor(im, part)):reshape(2, 3)
  end
  return sl.tensor(re, 'float64'):cast(dtype):reshape(2, 3)
end
local function parts(t)
  if t:dtype():find('complex') then return flat(sl.real(t)), flat(sl.imag(t)) end
  return flat(t), nil
end
local wrap = { uint8 = 256 }

-- the reduction of every rank's value i, by hand
local function reduce(dtype, op, i)
  local re, im = value(dtype, 0, i)
  for r = 1, size - 1 do
    local a, b = value(dtype, r, i)
    if op == 'sum' or op == 'mean' then re, im = re + a, im + b
    elseif op == 'prod' then re, im = re * a - im * b, re * b + im * a
    elseif op == 'max' then re = math.max(re, a)
    else re = math.min(re, a) end
  end
  if op == 'mean' then re, im = re / size, im / size end
  if wrap[dtype] then re = re % wrap[dtype] end
  return re, im
end

local ops_of = {
  bool = { 'max', 'min', 'prod' }, uint8 = { 'sum', 'max', 'min', 'prod' },
  float16 = {}, bfloat16 = {},   -- stored, never reduced: broadcast and allgather only
  int8 = { 'sum', 'max', 'min' },   -- a product of 3 ranks' values would wrap
  int16 = { 'sum', 'max', 'min', 'prod' },
  int32 = { 'sum', 'max', 'min', 'prod' }, int64 = { 'sum', 'max', 'min', 'prod' },
  float32 = { 'sum', 'mean', 'max', 'min', 'prod' }, float64 = { 'sum', 'mean', 'max', 'min', 'prod' },
  complex64 = { 'sum', 'mean', 'prod' }, complex128 = { 'sum', 'mean', 'prod' },
}

for _, dtype in ipairs(sl.dtypes) do
  local tol = (dtype == 'float32' or dtype == 'complex64') and 1e-6 or 1e-12
  assert(ops_of[dtype], 'no reductions listed for ' .. dtype)
  for _, op in ipairs(ops_of[dtype]) do
    local t = tensor_of(dtype, rank)
    local same = dist.allreduce(t, op)
    assert(rawequal(same, t), 'allreduce returns its tensor')
    local want_re, want_im = {}, {}
    for i = 0, N - 1 do want_re[i + 1], want_im[i + 1] = reduce(dtype, op, i) end
    local re, im = parts(t)
    check(dtype .. ' allreduce ' .. op, re, want_re, tol)
    if im then check(dtype .. ' allreduce ' .. op .. ' (imaginary)', im, want_im, tol) end
  end

  -- broadcast from the last rank
  local root = size - 1
  local t = dist.broadcast(tensor_of(dtype, rank), root)
  local want_re, want_im = {}, {}
  for i = 0, N - 1 do want_re[i + 1], want_im[i + 1] = value(dtype, root, i) end
  local re, im = parts(t)
  check(dtype .. ' broadcast', re, want_re, tol)
  if im then check(dtype .. ' broadcast (imaginary)', im, want_im, tol) end

  -- allgather: rank r's 2 x 3 block at rows 2r + 1, 2r + 2
  local g = dist.allgather(tensor_of(dtype, rank))
  assert(g:size(1) == 2 * size and g:size(2) == 3, 'allgather shape')
  want_re, want_im = {}, {}
  for r = 0, size - 1 do
    for i = 0, N - 1 do want_re[#want_re + 1], want_im[#want_im + 1] = value(dtype, r, i) end
  end
  re, im = parts(g)
  check(dtype .. ' allgather', re, want_re, tol)
  if im then check(dtype .. ' allgather (imaginary)', im, want_im, tol) end
end

-- a non-contiguous view is reduced through a copy and written back in place
local base = sl.tensor({ { 1, 2, 3 }, { 4, 5, 6 } }, 'float64') * (rank + 1)
local view = base:transpose(1, 2)
dist.allreduce(view, 'sum')
local k = size * (size + 1) / 2
check('allreduce of a transposed view', flat(base), { k, 2 * k, 3 * k, 4 * k, 5 * k, 6 * k })

-- opts.check = false: the same sums, without comparing shapes across ranks first
for _, dtype in ipairs({ 'int32', 'float64' }) do
  local t = tensor_of(dtype, rank)
  assert(rawequal(dist.allreduce(t, 'sum', { check = false }), t), 'allreduce returns its tensor')
  local want = {}
  for i = 0, N - 1 do want[i + 1] = reduce(dtype, 'sum', i) end
  check(dtype .. ' allreduce sum unchecked', flat(t), want, 1e-12)
end

-- the graph op, on each backend: (rank + 1) * x summed over the ranks
for _, mode in ipairs({ 'reference', 'c' }) do
  for _, dtype in ipairs({ 'float32', 'int32' }) do
    local x = sl.vector('x', dtype)
    local f = sl.compile({ x }, dist.allreduce(x * (rank + 1), 'sum'), { mode = mode })
    check(mode .. ' ' .. dtype .. ' allreduce op', flat(f(sl.tensor({ 1, 2, 3 }, dtype))), { k, 2 * k, 3 * k })
  end
  local x = sl.vector('x')
  local f = sl.compile({ x }, dist.allreduce(x * (rank + 1), 'mean'), { mode = mode })
  local m = k / size
  check(mode .. ' allreduce mean op', flat(f(sl.tensor({ 1, 2 }, 'float64'))), { m, 2 * m }, 1e-12)
end

-- the gradient of a sum over the ranks: every rank's cost counts, so rank
-- r's x gets (r + 1) from each of the size costs
local x = sl.shared(sl.tensor({ 1, 2 }, 'float64'), 'x')
local cost = (dist.allreduce(x * (rank + 1), 'sum')):sum()
local gx = sl.grad(cost, { x })[1]
check('gradient of allreduce sum', flat(sl.compile({}, gx)()), { (rank + 1) * size, (rank + 1) * size })

dist.barrier()
print(string.format('rank %d of %d: %d checks passed', rank, size, checks))
