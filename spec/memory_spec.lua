-- Tensor memory lives in C; the core asks Lua's collector to run as it grows,
-- so loops that make temporaries stay bounded without collectgarbage() calls.
local sl = require 'symlua'

local function resident_bytes()
  local f = assert(io.open('/proc/self/statm'))
  local _, resident = f:read('*n', '*n')
  f:close()
  return resident * 4096
end

describe('memory', function()
  it('stays bounded over 10^5 temporary 1 MB tensors', function()
    collectgarbage()
    local before = resident_bytes()
    local peak = before
    for i = 1, 100000 do
      local t = sl.ones(131072)   -- 1 MiB of float64, written so it is resident
      if i % 500 == 0 then peak = math.max(peak, resident_bytes()) end
      assert(t:numel() == 131072)
    end
    -- Without the collector being told, this loop would hold ~100 GB.
    assert.is_true(peak - before < 512 * 2 ^ 20,
      string.format('resident memory grew by %.0f MiB', (peak - before) / 2 ^ 20))
    assert.is_true(sl.core.mem_bytes() < 512 * 2 ^ 20)
  end)

  it('counts the bytes tensors hold and gives them back', function()
    collectgarbage()
    local base = sl.core.mem_bytes()
    local t = sl.zeros(1000, 'float64')
    assert.are.equal(base + 8000, sl.core.mem_bytes())
    local v = t:view(10, 100)   -- a view shares the storage: no new bytes
    assert.are.equal(base + 8000, sl.core.mem_bytes())
    t, v = nil, nil
    collectgarbage()
    assert.are.equal(base, sl.core.mem_bytes())
  end)
end)
