-- Tiered compilation (core/backend/c/tier.c): libtcc's code for the first calls, the
-- optimizing compiler's from the first call after its background compile is
-- done; sl.config.compile = 'tiered' | 'sync' | 'tcc' and $SYMLUA_COMPILE.
local sl = require 'symlua'
local core = require 'symlua.core'
local files = require 'spec.support.files'

local plain_find, shell, mktemp_dir = files.plain_find, files.shell, files.mktemp_dir

-- Runs body in a fresh symlua process under env; returns stdout and stderr.
local function child(env, body)
  local script = files.write(os.tmpname(), "local sl = require 'symlua'\n" .. body .. '\n')
  local errpath = os.tmpname()
  -- SYMLUA_MODE=c: these are the C backend's tiers, whatever mode the run has
  local out = shell(("env SYMLUA_MODE=c %s '%s' '%s' 2>'%s'"):format(env, files.symlua, script, errpath))
  local err = files.read(errpath)
  os.remove(script)
  os.remove(errpath)
  return out, err
end

-- A graph of its own each time (a fresh constant), so no earlier run has its module cached.
local serial = 0
local function graph()
  serial = serial + 1
  local k = os.time() % 100000 + serial / 1024
  local a, b = sl.vector('a'), sl.vector('b')
  return { a, b }, { sl.sin(a) * b + k * a, sl.sum(a * b) }
end

local function max_abs_diff(x, y) return (x - y):abs():max():item() end

-- Calls f until the optimized code has taken over; the results of the last call.
local function until_optimized(f, ...)
  for _ = 1, 6000 do
    local r = { f(...) }
    if f:info().tier == 'cc' then return r end
    os.execute('sleep 0.01')
  end
  error('the optimized code never took over: ' .. f:info().plan)
end

local function with_compile(mode, body)
  local old = sl.config.compile
  sl.config.compile = mode
  local ok, e = pcall(body)
  sl.config.compile = old
  assert(ok, e)
end

describe('tiered compilation', function()
  local tcc = core.has_tcc
  -- these specs are about the C backend's tiers, whatever SYMLUA_MODE says
  local run_mode
  setup(function() run_mode = sl.config.mode; sl.config.mode = 'c' end)
  teardown(function() sl.config.mode = run_mode end)

  it('runs tcc code from the first call, then the optimized code, with the same values', function()
    if not tcc then return pending('libtcc is not linked into this binary') end
    with_compile('tiered', function()
      local ins, outs = graph()
      local f = sl.compile(ins, outs, { profile = true })
      local want = sl.compile(ins, outs, { mode = 'reference' })
      local x, y = sl.randn(5000), sl.randn(5000)
      local e0, s0 = f(x, y)
      assert.are.equal('tcc', f:info().tier)
      assert.is_true(plain_find(f:info().plan, 'tcc code, the optimizing compile running'), f:info().plan)
      local we, ws = want(x, y)
      assert.is_true(max_abs_diff(e0, we) <= 1e-12)
      assert.is_true(math.abs(s0:item() - ws:item()) <= 1e-9 * (1 + math.abs(ws:item())))
      local r = until_optimized(f, x, y)
      -- elementwise: equal; reductions: the documented tolerance (docs/backend_c.md)
      assert.are.equal(0, max_abs_diff(r[1], e0))
      assert.is_true(math.abs(r[2]:item() - s0:item()) <= 5000 * 2^-52 * (x * y):abs():sum():item())
      assert.is_true(plain_find(f:info().plan, 'optimized code from call'), f:info().plan)
      local text = f:profile({ print = false }).text
      assert.is_true(plain_find(text, 'code: optimized code from call'), text)
    end)
  end)

  it('loads the optimized module at the first call when the disk cache has it', function()
    with_compile('sync', function()
      local ins, outs = graph()
      local x = sl.randn(10)
      local f = sl.compile(ins, outs)
      f(x, x)
      assert.are.equal('cc', f:info().tier)
      sl.config.compile = 'tiered'
      local hits = sl.cache_info().hits
      local g = sl.compile(ins, outs)
      g(x, x)
      assert.are.equal('cc', g:info().tier)
      assert.are.equal(hits + 1, sl.cache_info().hits)
      assert.is_true(plain_find(g:info().plan, 'optimized code, from the disk cache'), g:info().plan)
    end)
  end)

  it("compiles once for two functions of one module, and 'tcc' never calls the compiler", function()
    if not tcc then return pending('libtcc is not linked into this binary') end
    with_compile('tcc', function()
      local ins, outs = graph()
      local misses, entries = sl.cache_info().misses, sl.cache_info().entries
      local f = sl.compile(ins, outs)
      for _ = 1, 20 do f(sl.ones(3), sl.ones(3)) end
      assert.are.equal('tcc', f:info().tier)
      assert.are.same({ misses, entries }, { sl.cache_info().misses, sl.cache_info().entries })
      sl.config.compile = 'tiered'
      local g, h = sl.compile(ins, outs), sl.compile(ins, outs)
      g(sl.ones(3), sl.ones(3))
      h(sl.ones(3), sl.ones(3))
      assert.are.same({ 'tcc', 'tcc' }, { g:info().tier, h:info().tier })
      until_optimized(g, sl.ones(3), sl.ones(3))
      until_optimized(h, sl.ones(3), sl.ones(3))
      assert.are.equal(misses + 1, sl.cache_info().misses)   -- one compile, shared
      assert.are.equal(entries + 1, sl.cache_info().entries)
    end)
  end)

  it('reports a failed optimizing compile once, with the kept source, and stays on tcc code', function()
    if not tcc then return pending('libtcc is not linked into this binary') end
    local dir = mktemp_dir()
    local out, err = child("SYMLUA_COMPILE=tiered SYMLUA_CACHE_DIR='" .. dir .. "'", [[
      sl.config.cflags = '-O2 -fno-such-flag-at-all'
      local a = sl.vector('a')
      local f = sl.compile({ a }, a * 3 + 1)
      local r
      for i = 1, 300 do r = f(sl.tensor({ 1, 2 }, 'float64')); os.execute('sleep 0.01') end
      print(f:info().tier, r[1], r[2])
      print(f:info().plan:match('^[^\n]*'))]])
    shell("rm -rf '" .. dir .. "'")
    assert.is_true(plain_find(out, 'tcc\t4\t7'), out .. err)
    assert.is_true(plain_find(out, 'the optimizing compile failed'), out)
    local _, n = err:gsub('optimizing compile of the function compiled at', '')
    assert.are.equal(1, n, err)
    assert.is_true(plain_find(err, 'source kept at') and plain_find(err, 'fno-such-flag'), err)
  end)

  it('takes the mode from $SYMLUA_COMPILE, and sl.config.compile names its choices', function()
    local out = child('SYMLUA_COMPILE=sync', [[
      local a = sl.vector('a')
      local f = sl.compile({ a }, a * 2)
      f(sl.ones(2))
      print(sl.config.compile, f:info().tier)]])
    assert.are.equal('sync\tcc\n', out)
    local ok, e = pcall(function() sl.config.compile = 'fast' end)
    assert.is_false(ok)
    assert.is_true(plain_find(tostring(e), 'tiered|sync|tcc'), tostring(e))
    local _, err = child('SYMLUA_COMPILE=fast', 'print(sl.config.compile)')
    assert.is_true(plain_find(err, "SYMLUA_COMPILE=fast: config.compile must be one of tiered|sync|tcc, not 'fast'"), err)
  end)

  it('leaves no half-written entry when the process exits during a background compile', function()
    if not tcc then return pending('libtcc is not linked into this binary') end
    local dir = mktemp_dir()
    local body = [[
      local a = sl.vector('a')
      local f = sl.compile({ a }, sl.exp(a) * 5 + 0.125)
      print(('%.17g'):format(f(sl.ones(2))[1]), f:info().tier)]]
    local out = child("SYMLUA_COMPILE=tiered SYMLUA_CACHE_DIR='" .. dir .. "'", body)
    assert.are.equal(('%.17g'):format(math.exp(1) * 5 + 0.125), ('%.17g'):format(tonumber(out:match('^(%S+)'))))
    assert.is_true(plain_find(out, 'tcc'), out)
    -- whatever is there is whole: the next run either hits a valid entry or compiles anew
    local out2, err2 = child("SYMLUA_COMPILE=sync SYMLUA_CACHE_DIR='" .. dir .. "'", body ..
      "\nprint(sl.cache_info().corrupt)")
    shell("rm -rf '" .. dir .. "'")
    assert.is_true(plain_find(out2, 'cc\n0\n'), out2 .. err2)
    assert.is_false(plain_find(err2, 'corrupt'), err2)
  end)

  it('reads a cache directory it cannot write to, and puts new entries elsewhere', function()
    local dir = mktemp_dir()
    local env = "SYMLUA_COMPILE=sync SYMLUA_CACHE_DIR='" .. dir .. "'"
    local body = [[
      local a = sl.vector('a')
      local f = sl.compile({ a }, a * 7 + 0.5)
      print(f(sl.ones(1))[1], f:info().tier, sl.cache_info().hits, sl.cache_info().misses)]]
    assert.are.equal('7.5\tcc\t0\t1\n', (child(env, body)))
    -- read-only: the immutable flag stops root too, chmod others
    local locked = os.execute("chattr +i '" .. dir .. "' 2>/dev/null && ! touch '" .. dir .. "/.probe' 2>/dev/null") == 0 or
      os.execute("chattr -i '" .. dir .. "' 2>/dev/null; chmod a-w '" .. dir .. "' && ! touch '" .. dir .. "/.probe' 2>/dev/null") == 0
    if not locked then
      shell("rm -rf '" .. dir .. "'")
      return pending('cannot make a directory read-only here')
    end
    local out, err = child(env, body .. [[
      local b = sl.vector('b')
      local g = sl.compile({ b }, b * 9 + 0.5)
      print(g(sl.ones(1))[1], sl.cache_info().misses)]])
    shell("chattr -i '" .. dir .. "' 2>/dev/null; chmod u+w '" .. dir .. "'; rm -rf '" .. dir .. "'")
    assert.are.equal('7.5\tcc\t1\t0\n9.5\t1\n', out, err)
    assert.is_true(plain_find(err, 'is not writable'), err)
  end)
end)
