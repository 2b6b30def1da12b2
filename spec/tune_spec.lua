-- The calibrated thresholds of the C backend (core/backend/c/tune.c): the
-- file `symlua --tune` writes and later processes read, corrupt files,
-- user settings over calibrated ones, and the kernel choices each threshold
-- makes, with the same results either side of it. No spec here reads a time:
-- the settings force each side.
local sl = require 'symlua'
local files = require 'spec.support.files'

local plain_find, shell = files.plain_find, files.shell

local NAMES = { 'omp_threshold', 'omp_threshold_compute', 'tile_threshold_f32', 'tile_threshold_f64' }
local DEFAULTS = { omp_threshold = 32768, omp_threshold_compute = 4096,
                   tile_threshold_f32 = 2097152, tile_threshold_f64 = 1048576 }

-- A script printing the thresholds in force: name, value and source a line
-- each, then the file in force.
local REPORT = [[
local sl = require 'symlua'
local t = sl.tuning()
for _, name in ipairs({ 'omp_threshold', 'omp_threshold_compute', 'tile_threshold_f32', 'tile_threshold_f64' }) do
  print(name, sl.config[name], t.sources[name])
end
print('file', t.file or 'none')
]]

local function report(env, prefix)
  local out, err = files.run_script(env, (prefix or '') .. REPORT)
  local t = { sources = {} }
  for name, value, source in out:gmatch('(%S+)\t(%S+)\t(%S+)\n') do
    t[name], t.sources[name] = tonumber(value), source
  end
  t.file = out:match('file\t(%S+)')
  return t, err
end

describe('calibrated thresholds', function()
  local dir, env, path, good
  setup(function()
    dir = files.mktemp_dir()
    env = "SYMLUA_CACHE_DIR='" .. dir .. "'"
    local out = shell(("env %s '%s' --tune"):format(env, files.symlua))
    path = out:match('thresholds kept in (%S+)')
    good = path and files.read(path)
  end)
  teardown(function() shell("rm -rf '" .. dir .. "'") end)

  it('are written by symlua --tune with the CPU and compiler they hold for', function()
    assert.is_truthy(path, 'symlua --tune names its file')
    assert.are.equal(dir, path:match('^(.*)/thresholds%-%x+%.txt$'))
    local lines = {}
    for line in good:gmatch('[^\n]*\n') do lines[#lines + 1] = line:sub(1, -2) end
    assert.are.equal('symlua thresholds 1', lines[1])
    local model = shell("grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//'"):gsub('\n$', '')
    assert.are.equal('cpu: ' .. (model ~= '' and model or 'unknown'), lines[2])
    assert.are.equal('cores: ' .. shell('getconf _NPROCESSORS_ONLN'):gsub('\n$', ''), lines[3])
    local cc = sl.config.cc or (os.getenv('CC') ~= '' and os.getenv('CC')) or 'cc'
    local version = shell(cc .. ' --version | head -1'):gsub('\n$', '')
    assert.is_true(plain_find(lines[4], ('compiler: %s | %s | '):format(cc, version)), lines[4])
    for i, name in ipairs(NAMES) do
      local n, v = lines[4 + i]:match('^(%S+) (%d+)$')
      assert.are.equal(name, n)
      assert.is_true(tonumber(v) >= 0)
    end
    assert.are.equal('end', lines[9])
    assert.are.equal(9, #lines)
  end)

  it('are read back by every later process, and SYMLUA_DEBUG says where each came from', function()
    local t, err = report('SYMLUA_DEBUG=1 ' .. env)
    assert.are.equal(path, t.file)
    for _, name in ipairs(NAMES) do
      local v = tonumber(good:match('\n' .. name .. ' (%d+)\n'))
      assert.are.equal(v, t[name], name)
      assert.are.equal('calibrated', t.sources[name], name)
      assert.is_true(plain_find(err, ('symlua: %s = %d (calibrated: %s)'):format(name, v, path)), err)
    end
  end)

  it('give way to the user: sl.config and the environment variables win', function()
    local t, err = report('SYMLUA_DEBUG=1 SYMLUA_OMP_THRESHOLD=777 ' .. env,
      'require("symlua").config.tile_threshold_f64 = 5\n')
    assert.are.equal(777, t.omp_threshold)
    assert.are.equal('user', t.sources.omp_threshold)
    assert.are.equal(5, t.tile_threshold_f64)
    assert.are.equal('user', t.sources.tile_threshold_f64)
    assert.are.equal(tonumber(good:match('\nomp_threshold_compute (%d+)\n')), t.omp_threshold_compute)
    assert.are.equal('calibrated', t.sources.omp_threshold_compute)
    assert.is_true(plain_find(err, 'symlua: omp_threshold = 777 (user)'), err)
    local _, bad = files.run_script('SYMLUA_OMP_THRESHOLD=lots ' .. env, REPORT)
    assert.is_true(plain_find(bad, 'SYMLUA_OMP_THRESHOLD=lots: config.omp_threshold must be a non-negative integer'), bad)
  end)

  it('in a damaged or mismatched file are ignored with a warning, and calibrated again', function()
    local cases = {
      { 'truncated', good:sub(1, 60) },
      { 'truncated', good:sub(1, #good - 4) },
      { 'not a thresholds file', 'garbage\0\1\2 omp_threshold 5\n' },
      { 'made for another CPU or compiler', (good:gsub('\ncores: %d+\n', '\ncores: 999\n')) },
      { 'a negative threshold', (good:gsub('\nomp_threshold %d+\n', '\nomp_threshold -5\n')) },
      { 'truncated or garbled values', (good:gsub('\nomp_threshold %d+\n', '\nomp_threshold 5x\n')) },
      { 'an unknown or repeated threshold', (good:gsub('\nomp_threshold ', '\nomp_thresholds ')) },
      { 'truncated (no end line) or extra text', good .. 'more\n' },
    }
    for _, case in ipairs(cases) do
      files.write(path, case[2])
      local t, err = report('SYMLUA_DEBUG=1 ' .. env)
      assert.is_true(plain_find(err, 'symlua: warning: ignored ' .. path .. ': ' .. case[1]), case[1] .. ': ' .. err)
      for _, name in ipairs(NAMES) do
        assert.are.equal(DEFAULTS[name], t[name], case[1] .. ' ' .. name)
        assert.are.equal('default', t.sources[name], case[1] .. ' ' .. name)
      end
      assert.are.equal('none', t.file)
      local _, quiet = report(env)
      assert.are.equal('', quiet, 'no warning without SYMLUA_DEBUG')
    end
    -- a kernel large enough to need the thresholds starts the calibration in
    -- the background, and a process that exits while it runs exits cleanly;
    -- sl.tune() waits for it, and later processes read the new file
    local body = [[
local sl = require 'symlua'
local x = sl.vector('x')
local f = sl.compile({ x }, sl.exp(x) + 1)
local y = f(sl.ones(100000))
print(y[1] == y[100000] and 'ran')
]]
    assert.are.equal('ran\n', (files.run_script('SYMLUA_COMPILE=sync ' .. env, body)))
    local out = files.run_script('SYMLUA_COMPILE=sync ' .. env, body .. 'print(sl.tune().state)\n')
    assert.are.equal('ran\ncalibrated\n', out)
    local t = report(env)
    assert.are.equal(path, t.file)
    for _, name in ipairs(NAMES) do assert.are.equal('calibrated', t.sources[name], name) end
  end)
end)

describe('the thresholds in force', function()
  local saved = {}
  before_each(function() for _, name in ipairs(NAMES) do saved[name] = sl.config[name] end end)
  after_each(function() for _, name in ipairs(NAMES) do sl.config[name] = saved[name] end end)

  it('choose tiles or strided loops for a + b^T by element size, with the same results', function()
    sl.manual_seed(3)
    for _, case in ipairs({ { 'float64', 'tile_threshold_f64', 'tile_threshold_f32' },
                            { 'int64', 'tile_threshold_f64', 'tile_threshold_f32' },
                            { 'float32', 'tile_threshold_f32', 'tile_threshold_f64' },
                            { 'int32', 'tile_threshold_f32', 'tile_threshold_f64' } }) do
      local dt, mine, other = case[1], case[2], case[3]
      local ty = sl.tensor_type(dt, { -1, -1 })
      local x, y = ty('x'), ty('y')
      local fc = sl.compile({ x, y }, x + y, { mode = 'c' })
      local fr = sl.compile({ x, y }, x + y, { mode = 'reference' })
      local a = (sl.randn(100, 70) * 100):cast(dt)
      local b = (sl.randn(70, 100) * 100):cast(dt):transpose(1, 2)
      -- 100 x 70 = 7000 elements; the other size's threshold is set to
      -- the opposite choice, so that only this size's can decide
      for _, side in ipairs({ { 7000, 1e12, 'tiled 2-d' }, { 7001, 0, 'strided 2-d' } }) do
        sl.config[mine], sl.config[other] = side[1], side[2]
        assert.are.same(fr(a, b):totable(), fc(a, b):totable(), dt .. ' ' .. side[3])
        assert.are.equal(side[3], fc:info().variants[1], dt .. ' at ' .. mine .. ' = ' .. side[1])
      end
    end
  end)

  it('give the same results with threads and without, either side of omp_threshold and omp_threshold_compute', function()
    sl.manual_seed(4)
    local x = sl.vector('x')
    local outs = { x * 3 - 1, sl.exp(x) + x, sl.sum(x * x), sl.max(sl.tanh(x)) }
    local fc = sl.compile({ x }, outs, { mode = 'c' })
    local fr = sl.compile({ x }, outs, { mode = 'reference' })
    -- the kernels with exp and tanh take threads from the compute threshold
    local function threshold_of(f, ops)
      local line = f:info().plan:match('%[' .. ops .. '%][^\n]*')
      return line and line:match('threads from (%S+),')
    end
    assert.are.equal('omp_threshold_compute', threshold_of(fc, 'mul sub exp add'))
    assert.are.equal('omp_threshold_compute', threshold_of(fc, 'tanh max'))
    assert.are.equal('omp_threshold', threshold_of(fc, 'sqr sum'))
    assert.are.equal('omp_threshold', threshold_of(sl.compile({ x }, x * 3 - 1, { mode = 'c' }), 'mul sub'))
    local v = sl.randn(5000)
    local ref, first = { fr(v) }, nil
    local r1, r2, vs = ref[1]:totable(), ref[2]:totable(), v:totable()
    for _, t in ipairs({ { 5000, 5000 }, { 5001, 5001 }, { 5000, 5001 }, { 5001, 5000 } }) do
      sl.config.omp_threshold, sl.config.omp_threshold_compute = t[1], t[2]
      local got = { fc(v) }
      local g1, g2 = got[1]:totable(), got[2]:totable()
      first = first or { g1, g2 }
      -- elementwise results are the same bits on any number of threads, and
      -- within the vector math's error of the reference's libm
      assert.are.same(first[1], g1)
      assert.are.same(first[2], g2)
      assert.are.same(r1, g1)
      for j = 1, #r2 do
        local scale = math.exp(vs[j]) + math.abs(vs[j])   -- exp's 2 ulp, then one rounding
        assert.is_true(math.abs(g2[j] - r2[j]) <= 6e-16 * scale, 'exp + x at ' .. j)
      end
      assert.is_true(math.abs(got[3]:item() - ref[3]:item()) <= 1e-12 * ref[3]:item())
      assert.are.equal(ref[4]:item(), got[4]:item())
    end
  end)
end)
