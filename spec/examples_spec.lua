-- The example scripts run as they would for a user (bin/symlua in a
-- subprocess): each must exit 0 and print the line that says its task
-- succeeded; a run too short to learn must exit non-zero and say so.
local files = require 'spec.support.files'
local root, symlua = files.root, files.symlua

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- run(script, args...) -> stdout, stderr, exit code
local function run(script, ...)
  local err = os.tmpname()
  local words = { 'cd', quote(root), '&&', quote(symlua), quote('examples/' .. script) }
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

  it('random_walk.lua agrees with the theory', function()
    local out, err, code = run('random_walk.lua')
    assert.are.equal(0, code, out .. err)
    assert.is_true(has(out, 'random walk: all checks passed'), out)
  end)
end)
