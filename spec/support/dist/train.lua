-- Run by spec/dist_spec.lua under mpirun: a small MLP trained data-parallel
-- (each rank its shard of every batch, gradients averaged in the step, in
-- several buckets) must end with the parameters that one process gets by
-- training on the whole batches. Ranks start from different values:
-- rank 0's are broadcast. Prints "rank R: parameters match (max diff D)".
local sl = require 'symlua'
local dist = sl.dist.init()
local rank, size = dist.rank(), dist.size()
local per_rank, steps = 4, 3

-- the same data on every rank; parameters different on each
sl.manual_seed(7)
local X = sl.randn(per_rank * size * steps, 5)
local Y = (sl.rand(per_rank * size * steps) * 3):cast('int32') + 1
sl.manual_seed(100 + rank)
local init = { sl.randn(5, 8), sl.randn(8), sl.randn(8, 3), sl.randn(3) }

local function model(values)
  local params = {}
  for i, v in ipairs(values) do params[i] = sl.shared(v:clone(), 'p' .. i) end
  local x, y = sl.matrix('x'), sl.ivector('y')
  local h = sl.nn.relu(x:dot(params[1]) + params[2])
  local loss = sl.nn.crossentropy_with_logits(h:dot(params[3]) + params[4], y):mean()
  return params, x, y, loss
end

-- data-parallel: 400-byte buckets: (p1, p2) and (p3, p4), two allreduces of joined gradients
local params, x, y, loss = model(init)
local updates = sl.optim.sgd(params, loss, { lr = 0.5, dist = true, bucket_bytes = 400 })
local train = sl.compile({ x, y }, loss, { updates = updates })

-- one process, whole batches, from rank 0's start (now every rank's)
local start = {}
for i, p in ipairs(params) do start[i] = p:get_value() end
local ref_params, rx, ry, ref_loss = model(start)
local ref_train = sl.compile({ rx, ry }, ref_loss, { updates = sl.optim.sgd(ref_params, ref_loss, { lr = 0.5 }) })

local shards = 0
for _, xb, yb in sl.data.batches({ X, Y }, per_rank, { shuffle = true, seed = 3, rank = rank, size = size }) do
  assert(xb:size(1) == per_rank, 'a shard has batch_size rows')
  train(xb, yb)
  shards = shards + 1
end
for _, xb, yb in sl.data.batches({ X, Y }, per_rank * size, { shuffle = true, seed = 3 }) do ref_train(xb, yb) end
assert(shards == steps, string.format('%d steps, want %d', shards, steps))

local worst = 0
for i, p in ipairs(params) do
  local d = sl.abs(p:get_value() - ref_params[i]:get_value()):max():item()
  worst = math.max(worst, d)
  local moved = sl.abs(p:get_value() - start[i]):max():item()
  assert(moved > 1e-3, 'parameter ' .. i .. ' did not train')
end
assert(worst < 1e-12, string.format('rank %d: parameters differ from one process by %g', rank, worst))
print(string.format('rank %d of %d: parameters match (max diff %.1e)', rank, size, worst))
