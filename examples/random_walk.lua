-- random_walk.lua — 10000 one-dimensional random walks of 1000 Gaussian steps,
-- checked against theory: after n steps of N(0, 1) a walk's position has mean 0
-- and variance n, and 68.3% of walks lie within one standard deviation.
--
-- Run: bin/symlua examples/random_walk.lua [walks] [steps]
--
-- The steps come from symlua's counter-based generator (the same numbers on
-- every machine for one seed); the arithmetic runs in LuaJIT loops over the
-- tensors' memory through t:data(), an FFI pointer indexed from 0.
local sl = require 'symlua'

local WALKS = tonumber(arg and arg[1]) or 10000
local STEPS = tonumber(arg and arg[2]) or 1000
local SEED = 2026

local function step(fmt, ...) io.write(string.format(fmt, ...), '\n') io.flush() end
local clock = os.clock

-- 1. Draw every step at once: row w holds the steps of walk w.
local t0 = clock()
sl.manual_seed(SEED)
local pos = sl.randn(WALKS, STEPS)
step('[1/5] drew %d x %d steps from N(0, 1), seed %d (%.2f s, %.0f MB)',
     WALKS, STEPS, SEED, clock() - t0, pos:numel() * 8 / 1e6)

-- 2. Running sums along each row turn steps into positions, in place.
t0 = clock()
do
  local p = pos:data()
  for w = 0, WALKS - 1 do
    local row, x = w * STEPS, 0.0
    for s = 0, STEPS - 1 do
      x = x + p[row + s]
      p[row + s] = x
    end
  end
end
step('[2/5] summed the steps into positions (%.2f s)', clock() - t0)

-- Mean, variance (n - 1 in the denominator) and the fraction within +-sd of
-- column s (1-based) of pos: the positions of every walk after s steps.
local function column_stats(s)
  local col = pos[{ {}, s }]            -- a strided view: no copy
  local stride = col:stride()[1]     -- elements between consecutive walks
  local p = col:data()
  local sum, sumsq, within, sd = 0.0, 0.0, 0, math.sqrt(s)
  for w = 0, WALKS - 1 do
    local x = p[w * stride]
    sum, sumsq = sum + x, sumsq + x * x
    if math.abs(x) <= sd then within = within + 1 end
  end
  local mean = sum / WALKS
  local var = (sumsq - WALKS * mean * mean) / (WALKS - 1)
  return mean, var, within / WALKS
end

-- 3. Compare with theory at a few times. The sample variance of n normal
-- values has a standard error of var * sqrt(2 / (n - 1)); the sample mean, sqrt(var / n).
step('[3/5] statistics over %d walks (theory: mean 0, variance = steps, 68.3%% within one sd):',
     WALKS)
step('  %6s  %9s  %9s  %9s  %10s  %s', 'steps', 'mean', 'variance', 'theory', 'within sd', 'check')
local all_ok = true
local times = {}
for _, s in ipairs({ 1, 10, 100, STEPS }) do
  if s <= STEPS and s ~= times[#times] then times[#times + 1] = s end
end
for _, s in ipairs(times) do
  local mean, var, within = column_stats(s)
  local se_var = s * math.sqrt(2 / (WALKS - 1))
  local se_mean = math.sqrt(s / WALKS)
  local ok = math.abs(var - s) < 5 * se_var and math.abs(mean) < 5 * se_mean
  all_ok = all_ok and ok
  step('  %6d  %9.3f  %9.2f  %9d  %9.1f%%  %s', s, mean, var, s, 100 * within,
       ok and string.format('ok: |variance - theory| < 5 s.e. = %.2f', 5 * se_var) or 'FAIL')
end

-- 4. Show a few walks: the first 4 walks at their first 6 steps (ranges are
-- inclusive, like everything 1-based in symlua).
step('[4/5] positions of walks 1-4 over steps 1-6:')
print(pos[{ { 1, 4 }, { 1, 6 } }])

-- 5. Save the final positions to a .npy file, load them back, compare.
local final = pos[{ {}, STEPS }]:contiguous()
local base = os.tmpname()                -- creates an empty file we own
local path = base .. '.npy'
sl.save(path, final)
local back = sl.load(path)
local same = back:numel() == WALKS and back:dtype() == 'float64'
do
  local a, b = final:data(), back:data()
  for i = 0, WALKS - 1 do
    if a[i] ~= b[i] then same = false break end
  end
end
local f = io.open(path, 'rb')
local size = f:seek('end')
f:close()
step('[5/5] saved the final positions to %s (%d bytes) and loaded them back: %s',
     path, size, same and 'identical' or 'DIFFERENT')

-- NumPy, where Debian's python3 has it, reads the same file and agrees on the variance.
local py = io.popen(string.format(
  "/usr/bin/python3 -c 'import numpy; a = numpy.load(\"%s\"); print(a.shape[0], \"%%.6f\" %% a.var(ddof=1))' 2>/dev/null",
  path))
local np_out = py and py:read('*l')
if py then py:close() end
if np_out then
  local _, var = column_stats(STEPS)
  local n, np_var = np_out:match('^(%d+) (%S+)$')
  local agree = tonumber(n) == WALKS and math.abs(tonumber(np_var) - var) < 1e-6 * var
  step('      NumPy reads %s values, variance %s: %s', n, np_var, agree and 'agrees' or 'DIFFERS')
  same = same and agree
end
os.remove(path)
os.remove(base)

if all_ok and same then
  step('random walk: all checks passed')
else
  step('random walk: some checks FAILED')
  os.exit(1, true)
end
