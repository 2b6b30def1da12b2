-- Run twice by spec/dist_spec.lua under mpirun, in directory DIR.
-- PHASE=first: train 2 epochs data-parallel with Adam, checkpointing the
-- parameters and Adam's state after epoch 1 (rank 0 writes) and the final
-- parameters after epoch 2. PHASE=resume: a new job from other starting
-- values loads the checkpoint, trains epoch 2, and must end with exactly
-- the first job's final parameters on every rank.
local sl = require 'symlua'
local dist = sl.dist.init()
local rank, size = dist.rank(), dist.size()
local dir, phase = assert(os.getenv('DIR'), 'DIR'), assert(os.getenv('PHASE'), 'PHASE')

sl.manual_seed(7)
local X = sl.randn(8 * size * 3, 5)
local Y = (sl.rand(8 * size * 3) * 3):cast('int32') + 1
sl.manual_seed((phase == 'first' and 100 or 200) + rank)   -- each job and rank its own start

local params = { sl.shared(sl.randn(5, 8), 'W1'), sl.shared(sl.randn(8), 'b1'),
                 sl.shared(sl.randn(8, 3), 'W2'), sl.shared(sl.randn(3), 'b2') }
local x, y = sl.matrix('x'), sl.ivector('y')
local h = sl.nn.relu(x:dot(params[1]) + params[2])
local loss = sl.nn.crossentropy_with_logits(h:dot(params[3]) + params[4], y):mean()
local updates = sl.optim.adam(params, loss, { lr = 0.05, dist = true })
local train = sl.compile({ x, y }, loss, { updates = updates })

-- the checkpoint: the parameters and the optimizer's state (every updated variable)
local state = {}
for v in pairs(updates) do state[#state + 1] = v end
table.sort(state, function(a, b) return a:name() < b:name() end)

local function epoch(e)
  for _, xb, yb in sl.data.batches({ X, Y }, 8, { shuffle = true, seed = 3, epoch = e, rank = rank, size = size }) do
    train(xb, yb)
  end
end

if phase == 'first' then
  epoch(1)
  dist.save_params(dir .. '/epoch1', state)
  epoch(2)
  dist.save_params(dir .. '/final', params)
  print(string.format('rank %d of %d: saved', rank, size))
else
  dist.load_params(dir .. '/epoch1', state)
  epoch(2)
  local final = {}
  for i, p in ipairs(params) do final[i] = sl.shared(p:get_value():clone() * 0, p:name()) end
  sl.load_params(dir .. '/final', final)
  local worst = 0
  for i, p in ipairs(params) do
    worst = math.max(worst, sl.abs(p:get_value() - final[i]:get_value()):max():item())
  end
  assert(worst == 0, string.format('rank %d: the resumed run differs by %g', rank, worst))
  print(string.format('rank %d of %d: resumed exactly', rank, size))
end
