-- Runs a timing script in Debian's Python (NumPy, PyTorch) and reads back the
-- numbers it prints on its first line. Returns them as a list when there are
-- want of them (any count when want is nil), or nil when Python, the module
-- or the script failed: benches then print n/a for that column.
--
--   local py = dofile(here .. 'support/python.lua')
--   local t = py.numbers(script_text, 4, '8 100')   -- extra command-line arguments
local M = {}

M.python = '/usr/bin/python3'   -- the python3 first on PATH may lack Debian's packages

function M.numbers(script, want, args)
  local path = os.tmpname()
  local f = assert(io.open(path, 'w'))
  f:write(script, '\n')
  f:close()
  local p = io.popen(('%s %s %s 2>/dev/null'):format(M.python, path, args or ''))
  local line = p and p:read('*l')
  if p then p:close() end
  os.remove(path)
  local t = {}
  for v in (line or ''):gmatch('%S+') do t[#t + 1] = tonumber(v) end
  if #t == 0 or (want and #t ~= want) then return nil end
  return t
end

return M
