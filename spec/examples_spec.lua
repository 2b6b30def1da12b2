-- The example scripts run as they would for a user (bin/symlua in a
-- subprocess): each must exit 0 and print the line that says its task
-- succeeded; a run too short to learn must exit non-zero and say so.
local files = require 'spec.support.files'
local root, symlua = files.root, files.symlua

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- run(script, args...) -> stdout, stderr, exit code; env_prefix, when set,
-- goes before the command ("SYMLUA_OPTIMIZER=none")
local env_prefix = ''
local function run(script, ...)
  local err = os.tmpname()
  local words = { 'cd', quote(root), '&&', env_prefix, quote(symlua), quote('examples/' .. script) }
  for _, a in ipairs({ ... }) do words[#words + 1] = quote(a) end
  local p = assert(io.popen(table.concat(words, ' ') .. ' 2>' .. quote(err) .. '; echo "exit:$?"', 'r'))
  local out = p:read('*a')
  p:close()
  local stderr = files.read(err) or ''
  os.remove(err)
  local code = tonumber(out:match('exit:(%d+)\n$'))
  return out:gsub('exit:%d+\n$', ''), stderr, code
end

local function has(s, part) return s:find(part, 1, true) ~= nil end

describe('examples', function()
  it('linear_regression.lua recovers the true parameters', function()
    local out, err, code = run('linear_regression.lua')
    assert.are.equal(0, code, out .. err)
    assert.is_true(has(out, 'converged: every parameter is within 0.02 of its true value'), out)
    -- the loss ends near the noise variance, 0.01
    local final = tonumber(out:match('final loss ([%d.]+)'))
    assert.is_true(final ~= nil and final < 0.011, out)
  end)

  it('gp_regression.lua fits the noise level and the function, and writes its plot', function()
    local svg = os.tmpname() .. '.svg'
    local out, err, code = run('gp_regression.lua', svg)
    assert.are.equal(0, code, err)
    local noise = tonumber(out:match('noise (%d+%.%d+) %(data'))
    local rmse = tonumber(out:match('test RMSE against the noise%-free function: (%d+%.%d+)'))
    assert.is_true(noise > 0.15 and noise < 0.27, out)   -- made with 0.2
    assert.is_true(rmse < 0.15, out)
    local f = assert(io.open(svg))
    assert.is_truthy(f:read('*a'):find('<polygon', 1, true))
    f:close()
    os.remove(svg)
  end)

  it('logistic_regression.lua reaches a high held-out accuracy', function()
    local out, err, code = run('logistic_regression.lua')
    assert.are.equal(0, code, out .. err)
    local epochs = 0
    for line in out:gmatch('[^\n]+') do
      if line:match('^%s+%d+%s+[%d.]+%s+[%d.]+%s+%d+%s+[%d.]+s$') then epochs = epochs + 1 end
    end
    assert.are.equal(10, epochs, 'one progress line per epoch:\n' .. out)
    local acc = tonumber(out:match('test accuracy ([%d.]+) on'))
    assert.is_true(acc ~= nil and acc > 0.95, out)
    assert.is_true(has(out, 'learned: test accuracy'), out)
  end)

  it('logistic_regression.lua exits non-zero when it has not learned', function()
    local out, err, code = run('logistic_regression.lua', '0')   -- no training at all
    assert.are.equal(1, code, out .. err)
    assert.is_true(has(out, 'did not learn: test accuracy'), out)
  end)

  it('make demo, the first command of the README, trains the MLP for 2 epochs', function()
    local p = assert(io.popen('cd ' .. quote(root) .. ' && make -n --no-print-directory demo DEPS= 2>&1'))
    local plan = p:read('*a')
    p:close()
    assert.is_true(has(plan, 'examples/mlp.lua 2'), plan)
    local readme = files.read(root .. '/README.md')
    assert.is_true(has(readme, 'make demo     # installs what is missing, builds, trains examples/mlp.lua'), readme)
  end)

  it('ode.lua integrates through scan, its gradient within 1e-7 of the analytic one', function()
    local out, err, code = run('ode.lua')
    assert.are.equal(0, code, out .. err)
    local dx, want = out:match('dx%(T%)/dk = (%S+)%s+analytic (%S+)')
    assert.is_true(dx ~= nil and math.abs(tonumber(dx) - tonumber(want)) < 1e-7, out)
    -- a coarse step misses by RK4's error, and the example says so
    local _, _, coarse = run('ode.lua', '2', '5', '20')
    assert.are.equal(1, coarse)
  end)

  it('random_walk.lua agrees with the theory', function()
    local out, err, code = run('random_walk.lua')
    assert.are.equal(0, code, out .. err)
    assert.is_true(has(out, 'random walk: all checks passed'), out)
  end)

  -- The optimizer must not change what a program computes: the examples'
  -- numbers with the graph as written and optimized agree within rounding.
  it('print the same numbers without the optimizer', function()
    local function numbers(text)
      local t = {}
      for v in text:gsub('%d+%.?%d*s\n', '\n'):gmatch('%-?%d+%.%d+') do t[#t + 1] = tonumber(v) end
      return t
    end
    for _, script in ipairs({ 'linear_regression.lua', 'logistic_regression.lua', 'fft_filter.lua' }) do
      local args = script == 'fft_filter.lua' and { '20', os.tmpname() .. '.svg' } or {}
      local fast = run(script, unpack(args))
      env_prefix = 'SYMLUA_OPTIMIZER=none'
      local plain = run(script, unpack(args))
      env_prefix = ''
      local a, b = numbers(fast), numbers(plain)
      assert.are.equal(#a, #b, script .. ': ' .. fast .. plain)
      assert.is_true(#a >= 3, script)
      for i = 1, #a do
        assert.is_true(math.abs(a[i] - b[i]) <= 1e-6 * math.max(1, math.abs(a[i])) + 1e-4,
                       ('%s: %g vs %g\n%s\n%s'):format(script, a[i], b[i], fast, plain))
      end
    end
  end)
end)
