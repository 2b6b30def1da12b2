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

-- NumPy timings: body is a list of Python lines that append seconds to r,
-- calling best(f, k) (the least of k timed calls of f after one warm-up,
-- k = 9 by default). Returns want numbers, or nil.
local PREAMBLE = { 'import numpy as np, time', 'def best(f, k=9):', '    f(); t = 1e9',
  '    for _ in range(k):', '        s = time.perf_counter(); f(); t = min(t, time.perf_counter() - s)',
  '    return t', 'r = []' }

function M.numpy_times(body, want)
  local lines = {}
  for _, l in ipairs(PREAMBLE) do lines[#lines + 1] = l end
  for _, l in ipairs(body) do lines[#lines + 1] = l end
  lines[#lines + 1] = "print(' '.join('%.6g' % v for v in r))"
  return M.numbers(table.concat(lines, '\n'), want)
end

return M
