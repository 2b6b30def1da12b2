-- sl.scan's speed and memory: LSTM training examples/s against PyTorch's
-- nn.LSTM on the CPU (28 steps of 28 inputs, 128 units, batch 128, a linear
-- softmax layer on the last state, Adam; float32, same thread count, measured
-- in the same run); the time of a 28-step recurrent loop as a scan against
-- the same loop unrolled in the graph; the time to compile the LSTM training
-- function and run it once (a fresh compile cache but for the machine's
-- calibrated thresholds; the optimizing compiler, and tiered); and
-- the peak resident memory of a 1000-step gradient (a fresh process each).
-- Run: bin/symlua bench/scan.lua [steps]   (default 10 training steps per side)
local sl = require 'symlua'
local here = (arg and arg[0] or ''):match('^(.*/)') or './'
local now = dofile(here .. 'support/clock.lua')
local python = dofile(here .. 'support/python.lua')
local ffi = require 'ffi'

local SYMLUA = here .. '../bin/symlua'
local training = dofile(here .. 'support/training.lua')(now)
local THREADS = training.threads
sl.config.floatX = 'float32'
sl.config.threads = THREADS

local per_call = training.per_call

local function lstm_train()
  local x, y = sl.fmatrix('x'), sl.lvector('y')
  local p = sl.nn.lstm_params(28, 128, 'lstm')
  local V, c = sl.shared(sl.init.glorot_uniform({ 128, 10 }), 'V'), sl.shared(sl.zeros(10), 'c')
  local h = sl.nn.lstm(x:reshape(-1, 28, 28):dimshuffle(2, 1, 3), p)
  local logits = h[-1]:dot(V) + c
  local loss = sl.nn.categorical_crossentropy(sl.nn.softmax(logits), y):mean()
  return sl.compile({ x, y }, loss, { updates = sl.optim.adam({ p.W, p.U, p.b, V, c }, loss) })
end

-- child modes: compile time, and peak memory of a 1000-step gradient
if arg and arg[1] == '--compile' then
  local t0 = now()
  local train = lstm_train()
  train(sl.rand(128, 784, 'float32'), sl.randint(1, 11, { 128 }))
  print(now() - t0)
  os.exit(0)
end
if arg and arg[1] == '--memory' then
  pcall(ffi.cdef, 'struct bench_rusage { long t[4]; long maxrss; long rest[13]; }; int getrusage(int who, struct bench_rusage *u);')
  local function maxrss() local u = ffi.new('struct bench_rusage'); ffi.C.getrusage(0, u); return tonumber(u.maxrss) * 1024 end
  sl.config.floatX = 'float64'
  local k = tonumber(arg[2])
  local x, W = sl.tensor3('x'), sl.shared(sl.randn(256, 256) * 0.05, 'W')
  local h = sl.scan(function(xt, hp) return sl.tanh(hp:dot(W) + xt) end,
    { sequences = x, outputs_info = { sl.alloc(0.0, x:shape(2), 256) }, checkpoint = k })
  if not k then h = h[-1] end
  local f = sl.compile({ x }, sl.grad(h:sum(), W))
  local xv = sl.randn(1000, 32, 256)
  f(sl.randn(k or 2, 32, 256))
  local before = maxrss()
  f(xv)
  print(maxrss() - before, maxrss())
  os.exit(0)
end

local STEPS = tonumber(arg and arg[1]) or 10

-- -- LSTM training --------------------------------------------------------------------------
local train = lstm_train()
local xs, ys = sl.rand(128, 784, 'float32'), sl.randint(1, 11, { 128 })
local t_lstm = per_call(function() train(xs, ys) end, STEPS)

local TORCH = [[
import sys, time, torch, torch.nn as nn
torch.set_num_threads(int(sys.argv[1])); steps = int(sys.argv[2])
class M(nn.Module):
    def __init__(self):
        super().__init__(); self.lstm = nn.LSTM(28, 128); self.out = nn.Linear(128, 10)
    def forward(self, x):
        h, _ = self.lstm(x.view(-1, 28, 28).transpose(0, 1)); return self.out(h[-1])
m = M(); opt = torch.optim.Adam(m.parameters(), lr=1e-3)
x = torch.rand(128, 784); y = torch.randint(0, 10, (128,))
def step():
    opt.zero_grad(); loss = nn.functional.cross_entropy(m(x), y); loss.backward(); opt.step()
step(); best = 1e9
for _ in range(3):
    t0 = time.perf_counter()
    for _ in range(steps): step()
    best = min(best, (time.perf_counter() - t0) / steps)
print('%.6g' % best)
]]
local function torch_time()
  local t = python.numbers(TORCH, 1, THREADS .. ' ' .. STEPS)
  return t and t[1]
end
local t_torch = torch_time()

-- -- scan against the unrolled loop ------------------------------------------------------------
local function rnn_fn(unrolled, units, batch)
  local x, W = sl.ftensor3('x'), sl.shared(sl.randn(units, units, 'float32') * 0.1, 'W')
  local h
  if unrolled then
    h = sl.alloc(sl.tensor(0, 'float32'), x:shape(2), units)
    for t = 1, 28 do h = sl.tanh(h:dot(W) + x[t]) end
  else
    h = sl.scan(function(xt, hp) return sl.tanh(hp:dot(W) + xt) end,
      { sequences = x, outputs_info = { sl.alloc(sl.tensor(0, 'float32'), x:shape(2), units) } })[-1]
  end
  local f = sl.compile({ x }, h)
  local xv = sl.randn(28, batch, units, 'float32')
  return per_call(function() f(xv) end, 50)
end

-- -- child processes -------------------------------------------------------------------------------
local function child(args, env)
  local p = io.popen(('%s %s %s %s 2>/dev/null'):format(env or '', SYMLUA, arg[0], args))
  local line = p and p:read('*l')
  if p then p:close() end
  local t = {}
  for v in (line or ''):gmatch('%S+') do t[#t + 1] = tonumber(v) end
  return t
end
-- Fresh compile caches that hold this machine's calibrated thresholds (when
-- it has them): the rows measure compiling, not the one-time calibration.
local tmp = io.popen('mktemp -d'):read('*l')
os.execute(('mkdir -p %s-t'):format(tmp))
local tuned = sl.tuning()
if tuned.state == 'calibrated' then os.execute(("cp '%s' %s/ && cp '%s' %s-t/"):format(tuned.file, tmp, tuned.file, tmp)) end
local compile = child('--compile', ('SYMLUA_CACHE_DIR=%s SYMLUA_COMPILE=sync'):format(tmp))[1]
local compile_tiered = child('--compile', ('SYMLUA_CACHE_DIR=%s-t SYMLUA_COMPILE=tiered'):format(tmp))[1]
os.execute(('rm -rf %s %s-t'):format(tmp, tmp))
local mem = child('--memory')
local mem_k = child('--memory 40')

print(('%d threads; PyTorch %s'):format(THREADS, t_torch and 'measured in the same run' or 'not available (python3-torch)'))
print()
print('| case | symlua | other | ratio |')
print('|---|---:|---:|---:|')
print(('| LSTM training, batch 128, 28 steps, 128 units | %.0f examples/s | PyTorch nn.LSTM %s | %s |'):format(128 / t_lstm,
  t_torch and ('%.0f examples/s'):format(128 / t_torch) or 'n/a', t_torch and ('%.2fx'):format(t_torch / t_lstm) or 'n/a'))
for _, c in ipairs({ { 16, 8 }, { 128, 32 } }) do
  local s, u = rnn_fn(false, c[1], c[2]), rnn_fn(true, c[1], c[2])
  print(('| 28-step tanh RNN forward, %d units, batch %d: scan vs unrolled | %.1f us | %.1f us | %.2fx |'):format(
    c[1], c[2], s * 1e6, u * 1e6, s / u))
end
print(('| compile + first call of the LSTM training function, fresh cache | %s | tcc first: %s | |'):format(
  compile and ('%.2f s'):format(compile) or 'n/a', compile_tiered and ('%.2f s'):format(compile_tiered) or 'n/a'))
print(('| peak memory growth of a 1000-step gradient (256 units, batch 32, float64; input 66 MB) | %s | checkpoint = 40: %s | %s |'):format(
  mem[1] and ('%.0f MB'):format(mem[1] / 1e6) or 'n/a', mem_k[1] and ('%.0f MB'):format(mem_k[1] / 1e6) or 'n/a',
  mem[1] and mem_k[1] and ('%.2fx'):format(mem_k[1] / mem[1]) or 'n/a'))
