-- Small helpers the specs share.
local M = {}

-- The message of the error f(...) raises; fails when it raises none.
function M.err(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, 'expected an error')
  return tostring(e)
end

-- How many nodes of op name a compiled function runs.
function M.count_ops(f, name)
  local n = 0
  for _, node in ipairs(f:info().order) do
    if node:op() == name then n = n + 1 end
  end
  return n
end

return M
