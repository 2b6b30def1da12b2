-- sl.init (Glorot, He) and saving / loading sets of shared variables.
local sl = require 'symlua'

local check = require 'spec.support.check'
local err = check.err

local function stats(t)
  local n = 1
  for _, s in ipairs(t:size()) do n = n * s end
  local mean = t:sum():item() / n
  local var = ((t - mean) * (t - mean)):sum():item() / n
  return mean, var, t:max():item(), t:min():item()
end

describe('sl.init', function()
  it('draws Glorot and He values with the variance their fans give', function()
    sl.manual_seed(3)
    local cases = {
      { 'glorot_uniform', { 300, 200 }, 2 / 500, math.sqrt(6 / 500) },
      { 'glorot_normal', { 300, 200 }, 2 / 500 },
      { 'he_uniform', { 400, 100 }, 2 / 400, math.sqrt(6 / 400) },
      { 'he_normal', { 400, 100 }, 2 / 400 },
      { 'he_normal', { 32, 16, 3, 3 }, 2 / (16 * 9) },          -- conv filters: fan_in = C kh kw
      { 'glorot_uniform', { 32, 16, 3, 3 }, 2 / (16 * 9 + 32 * 9), math.sqrt(6 / (16 * 9 + 32 * 9)) },
    }
    for _, c in ipairs(cases) do
      local t = sl.init[c[1]](c[2])
      assert.are.same(c[2], t:size())
      local mean, var, hi, lo = stats(t)
      assert.is_true(math.abs(mean) < 0.05 * math.sqrt(c[3]) * 10, c[1] .. ' mean ' .. mean)
      assert.is_true(math.abs(var / c[3] - 1) < 0.05, c[1] .. ' variance ratio ' .. var / c[3])
      if c[4] then assert.is_true(hi <= c[4] and lo >= -c[4]) end
    end
    assert.are.equal('float32', sl.init.he_normal({ 4, 4 }, { dtype = 'float32' }):dtype())
    assert.matches('init.he_normal: expected a shape', err(sl.init.he_normal, 4))
  end)
end)

describe('save_params / load_params', function()
  local dir = os.tmpname()
  os.remove(dir)

  it('round-trips a set of shared variables through a directory of .npy files', function()
    local W = sl.shared(sl.randn(3, 4), 'W')
    local b = sl.shared(sl.tensor({ 1, 2, 3, 4 }, 'float32'), 'b')
    assert.are.equal(2, sl.save_params(dir, { W, b }))
    local W0, b0 = W:get_value(), b:get_value()
    W:set_value(sl.zeros(3, 4))
    b:set_value(sl.zeros(4, 'float32'))
    assert.are.equal(2, sl.load_params(dir, { W, b }))
    assert.are.same(W0:totable(), W:get_value():totable())
    assert.are.same(b0:totable(), b:get_value():totable())
    -- the files are plain .npy: sl.load reads them
    assert.are.same(b0:totable(), sl.load(dir .. '/b.npy'):totable())
  end)

  it('changes nothing when a file is missing or does not fit', function()
    local W = sl.shared(sl.ones(3, 4), 'W')
    local c = sl.shared(sl.ones(2), 'c')
    assert.matches('load_params: .*c%.npy', err(sl.load_params, dir, { W, c }))
    assert.are.same(1, W:get_value()[{ 1, 1 }])
    local b = sl.shared(sl.zeros(4), 'b')   -- float64, but b.npy holds float32
    assert.matches("b.npy holds float32 with 1 dimensions, but 'b' is float64 with 1",
                   err(sl.load_params, dir, { W, b }))
    assert.are.same(1, W:get_value()[{ 1, 1 }])
  end)

  it('needs unique file-safe names', function()
    local a, b = sl.shared(sl.zeros(2)), sl.shared(sl.zeros(2), 'x/y')
    assert.matches('shared variable 1 needs a name', err(sl.save_params, dir, { a }))
    assert.matches("got 'x/y'", err(sl.save_params, dir, { b }))
    local c, d = sl.shared(sl.zeros(2), 'w'), sl.shared(sl.zeros(2), 'w')
    assert.matches("two shared variables are named 'w'", err(sl.save_params, dir, { c, d }))
  end)

  it('refuses a directory path with a NUL byte, creating nothing', function()
    local W = sl.shared(sl.ones(2), 'W')
    local cut = dir .. '-nul'
    assert.matches('save_params: the path has a NUL byte at byte ' .. (#cut + 1),
                   err(sl.save_params, cut .. '\0rest', { W }))
    assert.is_nil(io.open(cut, 'r'))
    assert.matches('load_params: the path has a NUL byte', err(sl.load_params, dir .. '\0rest', { W }))
  end)
end)
