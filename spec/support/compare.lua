-- Comparing one compiled function's results on two backends (spec/cuda_spec.lua):
-- arguments of every dtype and layout, bit-for-bit and bounded comparisons.
local sl = require 'symlua'
local ffi = require 'ffi'
local M = {}

local SIZE = { bool = 1, uint8 = 1, int8 = 1, int16 = 2, int32 = 4, int64 = 8, float16 = 2, bfloat16 = 2,
  float32 = 4, float64 = 8 }

-- Values of a dtype with a mix of signs, zeros and (for floats) fractions.
function M.values(dtype, ...)
  local t = sl.randn(...) * 3
  if dtype == 'bool' then return sl.gt(t, 0) end
  if dtype == 'uint8' then return sl.abs(t):cast('uint8') end
  if dtype == 'int8' or dtype == 'int16' or dtype == 'int32' or dtype == 'int64' then return sl.round(t):cast(dtype) end
  return t:cast(dtype)
end

-- A non-contiguous view with the same values as t (2-d: transposed twice
-- through a copy; any rank: a stepped slice of a larger tensor).
function M.transposed(t)
  if #t:shape() ~= 2 then return t end
  return t:transpose(1, 2):contiguous():transpose(1, 2)
end

function M.stepped(t)
  local sh = t:shape()
  if #sh == 0 then return t end
  local big = sh[1] * 2
  local shape = { big }
  for i = 2, #sh do shape[i] = sh[i] end
  local v = sl.zeros(unpack(shape)):cast(t:dtype()):slice(1, 1, big, 2)
  if sh[1] > 0 then v:copy(t) end
  return v
end

local function same_layout(got, want, what)
  assert(table.concat(got:shape(), 'x') == table.concat(want:shape(), 'x'),
    what .. ': shape ' .. table.concat(got:shape(), 'x') .. ' ~= ' .. table.concat(want:shape(), 'x'))
  assert(got:dtype() == want:dtype(), what .. ': dtype ' .. got:dtype() .. ' ~= ' .. want:dtype())
end

-- Every element the same bits (any NaN matches any NaN). Returns true, or
-- false and the first element that differs when soft.
function M.same_bits(got, want, what, soft)
  same_layout(got, want, what)
  local n, size = want:numel(), SIZE[want:dtype()]
  if n == 0 then return true end
  local g, w = got:contiguous(), want:contiguous()
  local p, q = ffi.cast('const uint8_t *', g:data()), ffi.cast('const uint8_t *', w:data())
  local gf, wf = g:cast('float64'):contiguous(), w:cast('float64'):contiguous()
  local pf, qf = gf:data(), wf:data()
  for i = 0, n - 1 do
    if ffi.C.memcmp(p + i * size, q + i * size, size) ~= 0 and not (pf[i] ~= pf[i] and qf[i] ~= qf[i]) then
      if soft then return false, i end
      error(string.format('%s: element %d: %.17g, want %.17g (bits differ)', what, i + 1, pf[i], qf[i]), 2)
    end
  end
  return true
end
pcall(ffi.cdef, 'int memcmp(const void *a, const void *b, size_t n);')

-- Every element within bound(i, want) of the wanted one (NaN matching NaN).
function M.within(got, want, what, bound)
  same_layout(got, want, what)
  local x, y = got:cast('float64'):contiguous(), want:cast('float64'):contiguous()
  local p, q = x:data(), y:data()
  for i = 0, x:numel() - 1 do
    local u, v = p[i], q[i]
    local b = bound(i)
    assert(u == v or (u ~= u and v ~= v) or math.abs(u - v) <= b,
      string.format('%s: element %d: %.17g, want %.17g (bound %.3g)', what, i + 1, u, v, b))
  end
end

-- Within rtol of the largest magnitude in want (which absorbs cancellation).
function M.close(got, want, what, rtol)
  local y = want:cast('float64'):contiguous()
  local q, scale = y:data(), 0
  for i = 0, y:numel() - 1 do
    local v = math.abs(q[i])
    if v == v and v ~= math.huge and v > scale then scale = v end
  end
  M.within(got, want, what, function(i) return rtol * math.max(math.abs(q[i]), scale) end)
end

-- Calls f and g on args: the same error from both, or results compared by
-- check(got, want, what, i) for output i.
function M.compare(f, g, args, what, check)
  local rf = { pcall(f, unpack(args)) }
  local rg = { pcall(g, unpack(args)) }
  local function body(e) return (tostring(e):gsub('^[^:]*:%d+: ', '')) end
  if not rg[1] then
    assert(not rf[1], what .. ': the oracle failed (' .. tostring(rg[2]) .. ') but this did not')
    assert(body(rg[2]) == body(rf[2]), what .. ': error ' .. body(rf[2]) .. ', want ' .. body(rg[2]))
    return
  end
  assert(rf[1], what .. ': ' .. tostring(rf[2]))
  assert(#rg == #rf, what .. ': ' .. (#rf - 1) .. ' results, want ' .. (#rg - 1))
  for i = 2, #rg do check(rf[i], rg[i], what .. ' output ' .. (i - 1), i - 1) end
end

return M
