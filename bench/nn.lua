-- Neural-network training speed against PyTorch on the CPU, measured in the
-- same run with the same models, batch sizes, float32 and thread count:
-- training steps per second of the Fashion-MNIST MLP (784-256-128-100-10,
-- Adam) and convnet (two 5x5 conv + pool layers, dense 1024, dropout), and
-- GFLOP/s of a 3x3 convolution (N32 C64 56x56 K64) and of the convnet's two
-- layers, forward and backward (algo 'auto': each shape's choice is timed
-- at its first call and kept in the cache directory).
-- Random inputs stand in for the data set, so it need not be installed.
-- Run: bin/symlua bench/nn.lua [steps]   (default 20 steps per model)
local sl = require 'symlua'
local here = (arg and arg[0] or ''):match('^(.*/)') or './'
local now = dofile(here .. 'support/clock.lua')
local python = dofile(here .. 'support/python.lua')

local STEPS = tonumber(arg and arg[1]) or 20
local training = dofile(here .. 'support/training.lua')(now)
local THREADS = training.threads
sl.config.floatX = 'float32'
sl.config.threads = THREADS

local per_call = training.per_call

-- -- symlua ----------------------------------------------------------------------------
local function mlp_step(batch)
  local sizes, params = { 784, 256, 128, 100, 10 }, {}
  local x, y = sl.fmatrix('x'), sl.lvector('y')
  local h = x
  for i = 1, #sizes - 1 do
    local W = sl.shared(sl.init.he_normal({ sizes[i], sizes[i + 1] }), 'W' .. i)
    local b = sl.shared(sl.zeros(sizes[i + 1]), 'b' .. i)
    params[#params + 1], params[#params + 2] = W, b
    h = h:dot(W) + b
    if i < #sizes - 1 then h = sl.nn.relu(h) end
  end
  local loss = sl.nn.categorical_crossentropy(sl.nn.softmax(h), y):mean()
  local train = sl.compile({ x, y }, loss, { updates = sl.optim.adam(params, loss) })
  local xs, ys = sl.rand(batch, 784, 'float32'), sl.randint(1, 11, { batch }, 'int64')
  return function() train(xs, ys) end
end

local function convnet_step(batch)
  local params = {}
  local function param(v) local p = sl.shared(v) params[#params + 1] = p return p end
  local c1, b1 = param(sl.init.he_normal({ 32, 1, 5, 5 })), param(sl.zeros(32))
  local c2, b2 = param(sl.init.he_normal({ 64, 32, 5, 5 })), param(sl.zeros(64))
  local W3, b3 = param(sl.init.he_normal({ 3136, 1024 })), param(sl.zeros(1024))
  local W4, b4 = param(sl.init.glorot_uniform({ 1024, 10 })), param(sl.zeros(10))
  local x, y = sl.ftensor4('x'), sl.lvector('y')
  local function layer(h, c, b)
    h = sl.nn.conv2d(h, c, { padding = 2 }) + b:dimshuffle('x', 1, 'x', 'x')
    return sl.nn.max_pool2d(sl.nn.relu(h), 2)
  end
  local h = layer(layer(x, c1, b1), c2, b2)
  h = sl.random.stream(1):dropout(sl.nn.relu(h:reshape(-1, 3136):dot(W3) + b3), 0.5)
  local loss = sl.nn.categorical_crossentropy(sl.nn.softmax(h:dot(W4) + b4), y):mean()
  local train = sl.compile({ x, y }, loss, { updates = sl.optim.adam(params, loss) })
  local xs, ys = sl.rand(batch, 1, 28, 28, 'float32'), sl.randint(1, 11, { batch }, 'int64')
  return function() train(xs, ys) end
end

-- convolutions forward, and backward to input and filters: a 3x3 layer
-- (padding 1), and the convnet's two 5x5 layers (padding 2)
local CONVS = {
  { name = '3x3 (N32 C64 56x56 K64)', N = 32, C = 64, H = 56, W = 56, K = 64, k = 3, pad = 1 },
  { name = '5x5 (N100 C32 14x14 K64)', N = 100, C = 32, H = 14, W = 14, K = 64, k = 5, pad = 2 },
  { name = '5x5 (N100 C1 28x28 K32)', N = 100, C = 1, H = 28, W = 28, K = 32, k = 5, pad = 2 },
}
local function conv_flop(c) return 2 * c.N * c.K * c.H * c.W * c.C * c.k * c.k end
local function conv_steps(c)
  -- static shapes: the gradient then needs no forward value for its shapes
  local X = sl.tensor_type('float32', { c.N, c.C, c.H, c.W })('X')
  local Wt = sl.tensor_type('float32', { c.K, c.C, c.k, c.k })('Wt')
  local y = sl.nn.conv2d(X, Wt, { padding = c.pad })
  local fwd = sl.compile({ X, Wt }, y)
  local G = sl.tensor_type('float32', { c.N, c.K, c.H, c.W })('G')
  local bwd = sl.compile({ X, Wt, G }, sl.grad((y * G):sum(), { X, Wt }))
  local xs = sl.rand(c.N, c.C, c.H, c.W, 'float32')
  local ws = sl.randn(c.K, c.C, c.k, c.k, 'float32')
  local gs = sl.randn(c.N, c.K, c.H, c.W, 'float32')
  return function() fwd(xs, ws) end, function() bwd(xs, ws, gs) end
end

-- -- PyTorch -------------------------------------------------------------------------------
local TORCH = [[
import sys, time, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1])); steps = int(sys.argv[2])
def per_call(f, n):
    f(); best = 1e9
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n): f()
        best = min(best, (time.perf_counter() - t) / n)
    return best
def trainer(model, x, y):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    def step():
        opt.zero_grad(); loss = F.cross_entropy(model(x), y); loss.backward(); opt.step()
    return step
mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                    nn.Linear(128, 100), nn.ReLU(), nn.Linear(100, 10))
cnn = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                    nn.Linear(3136, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, 10))
r = []
r.append(per_call(trainer(mlp, torch.rand(128, 784), torch.randint(0, 10, (128,))), steps))
r.append(per_call(trainer(cnn, torch.rand(100, 1, 28, 28), torch.randint(0, 10, (100,))), max(2, steps // 4)))
for N, C, H, K, k, pad in ((32, 64, 56, 64, 3, 1), (100, 32, 14, 64, 5, 2), (100, 1, 28, 32, 5, 2)):
    x = torch.rand(N, C, H, H, requires_grad=True); w = torch.randn(K, C, k, k, requires_grad=True)
    g = torch.randn(N, K, H, H)
    with torch.no_grad():
        r.append(per_call(lambda: F.conv2d(x, w, padding=pad), 3))
    def bwd():
        y = F.conv2d(x, w, padding=pad); gx, gw = torch.autograd.grad(y, (x, w), g)
    r.append(per_call(bwd, 3) - r[-1])
print(' '.join('%.6g' % v for v in r))
]]

local function torch_times()
  return python.numbers(TORCH, 2 + 2 * #CONVS, THREADS .. ' ' .. STEPS)
end

-- -- the table -----------------------------------------------------------------------------
local mlp = per_call(mlp_step(128), STEPS)
local cnn = per_call(convnet_step(100), math.max(2, math.floor(STEPS / 4)))
local conv_times = {}
for i, c in ipairs(CONVS) do
  local fwd, bwd = conv_steps(c)
  conv_times[i] = { per_call(fwd, 3), per_call(bwd, 3) }
end
local torch = torch_times()

print(('%d threads; PyTorch %s'):format(THREADS, torch and 'measured in the same run' or 'not available (python3-torch)'))
print()
print('| case | symlua | PyTorch | symlua / PyTorch |')
print('|---|---:|---:|---:|')
local function row(name, ours, theirs, unit, scale)
  local a, b = scale / ours, theirs and scale / theirs
  print(('| %s | %.1f %s | %s | %s |'):format(name, a, unit, b and ('%.1f %s'):format(b, unit) or 'n/a',
                                           b and ('%.2fx'):format(a / b) or 'n/a'))
end
row('MLP training, batch 128', mlp, torch and torch[1], 'examples/s', 128)
row('convnet training, batch 100', cnn, torch and torch[2], 'examples/s', 100)
for i, c in ipairs(CONVS) do
  local flop = conv_flop(c) / 1e9
  row('conv2d ' .. c.name .. ' forward', conv_times[i][1], torch and torch[1 + 2 * i], 'GFLOP/s', flop)
  row('conv2d ' .. c.name .. ' backward (input and filters)', conv_times[i][2], torch and torch[2 + 2 * i], 'GFLOP/s', 2 * flop)
end
