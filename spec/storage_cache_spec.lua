-- The cache of freed tensor buffers (core/tensor/storage.c): repeated calls reuse
-- buffers instead of asking the system for fresh pages, results stay right
-- and never share a buffer while alive, cached bytes are not counted as live,
-- and the setting buffer_cache bounds the cache.
local sl = require 'symlua'
local core = sl.core

local MiB = 2 ^ 20

local check = require 'spec.support.check'
local err = check.err

describe('storage cache', function()
  local saved
  before_each(function() saved = sl.config.buffer_cache end)
  after_each(function() sl.config.buffer_cache = saved end)

  it('serves repeated calls from freed buffers, with the right values', function()
    local x = sl.vector('x')
    local f = sl.compile({ x }, x * 2 + 1)
    local n = 1000000
    local a = sl.arange(n):cast('float64')   -- 0, 1, ..., n - 1
    collectgarbage()
    local before = core.storage_cache_info()
    for i = 1, 20 do
      local y = f(a)
      -- element k (1-based) is 2 (k - 1) + 1; spot-check both ends and the middle
      assert.are.equal(1, y[1])
      assert.are.equal(2 * (n - 1) + 1, y[n])
      assert.are.equal(2 * 499999 + 1, y[500000])
      if i % 5 == 0 then collectgarbage() end
    end
    local after = core.storage_cache_info()
    -- 20 calls of at least one 8 MB buffer each; all but the first few are reuses
    assert.is_true(after.hits - before.hits >= 15,
      string.format('%d hits, %d misses', after.hits - before.hits, after.misses - before.misses))
  end)

  -- The collector's threshold followed the live size only when it ran the
  -- collection itself: after a script dropped a large working set, small
  -- calls piled up garbage to twice the old size, each result fresh memory.
  it('reuses buffers for small calls after a large working set is collected', function()
    local x = sl.vector('x')
    local f = sl.compile({ x }, x * 2 + 1)
    -- the collector runs at least every `floor` bytes (lua/tensor.c: 8 MiB, or four
    -- times Lua's heap, which the spec runner makes large)
    local floor = math.max(8 * MiB, 4 * collectgarbage('count') * 1024)
    do
      local big = {}
      for i = 1, math.ceil(3 * floor / (32 * MiB)) do big[i] = f(sl.zeros(4 * MiB, 'float64')) end
    end
    collectgarbage()
    local a = sl.zeros(16384, 'float64')   -- 128 KiB results
    local calls = math.ceil(3 * floor / (128 * 1024))
    local before = core.storage_cache_info()
    for _ = 1, calls do assert.are.equal(1, f(a)[16384]) end
    local after = core.storage_cache_info()
    assert.is_true(after.hits - before.hits >= calls / 2,
      string.format('%d calls: %d hits, %d misses', calls, after.hits - before.hits, after.misses - before.misses))
  end)

  it('never gives one buffer to two live tensors', function()
    local x = sl.vector('x')
    local f = sl.compile({ x }, x + 1)
    local kept = {}
    for i = 1, 12 do
      kept[i] = f(sl.full({ 100000 }, i, 'float64'))
      if i % 3 == 0 then collectgarbage() end   -- garbage from other tests refills the cache
    end
    for i = 1, 12 do
      assert.are.equal(i + 1, kept[i][1])
      assert.are.equal(i + 1, kept[i][100000])
      assert.are.equal(100000 * (i + 1), kept[i]:sum():item())
    end
  end)

  it('does not count cached bytes as live', function()
    collectgarbage()
    core.storage_cache_trim()
    local base = core.mem_bytes()
    local t = sl.zeros(3 * MiB / 8, 'float64')   -- 3 MiB
    assert.are.equal(base + 3 * MiB, core.mem_bytes())
    t = nil
    collectgarbage()
    assert.are.equal(base, core.mem_bytes())
    -- cached with its class's size (4 MiB: large buffers come in whole 2 MiB pages)
    assert.is_true(core.storage_cache_info().bytes >= 3 * MiB)
    -- the same size again is the same buffer back, and zeros really are zeros
    local hits = core.storage_cache_info().hits
    t = sl.full({ 3 * MiB / 8 }, 7, 'float64')
    t = sl.zeros(3 * MiB / 8, 'float64')
    assert.is_true(core.storage_cache_info().hits >= hits + 1)
    assert.are.equal(0, t:sum():item())
    assert.are.equal(0, sl.abs(t):max():item())
  end)

  it('is emptied by storage_cache_trim and bounded by buffer_cache', function()
    collectgarbage()
    core.storage_cache_trim()
    assert.are.same({ 0, 0 }, { core.storage_cache_info().bytes, core.storage_cache_info().buffers })
    sl.config.buffer_cache = 4 * MiB
    local ts = {}
    for i = 1, 8 do ts[i] = sl.ones(MiB / 8, 'float64') end   -- eight 1 MiB buffers
    ts = nil
    collectgarbage()
    local info = core.storage_cache_info()
    assert.is_true(info.bytes <= 4 * MiB, string.format('%d bytes cached', info.bytes))
    assert.is_true(info.buffers >= 4, string.format('%d buffers cached', info.buffers))
    sl.config.buffer_cache = 0
    local small = sl.ones(10)
    small = nil
    collectgarbage()
    sl.ones(1)   -- a miss gives back what is over the new bound
    collectgarbage()
    assert.are.equal(0, core.storage_cache_info().bytes)
  end)

  it('rejects a bad buffer_cache setting', function()
    assert.matches('must not be negative', err(function() sl.config.buffer_cache = -1 end))
    assert.matches('must be a number', err(function() sl.config.buffer_cache = 'big' end))
  end)
end)
