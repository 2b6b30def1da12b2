-- NumPy as an oracle for the specs: tensors go to /usr/bin/python3 as .npy
-- files, a NumPy expression runs over them, and the results come back.
local sl = require 'symlua'

local M = { python = '/usr/bin/python3' }

-- M.has_module(name): whether the oracle's python imports that module
-- (asked once per name).
local has = {}
function M.has_module(name)
  if has[name] == nil then
    has[name] = os.execute(M.python .. ' -c "import ' .. name .. '" >/dev/null 2>&1') == 0
  end
  return has[name]
end

function M.available() return M.has_module('numpy') end

local tmpdir = require('spec.support.files').tmpdir

-- M.eval(code, inputs): inputs maps names to tensors; code is a Python
-- expression over np and those names, giving an array or a tuple of arrays.
-- Returns the results as tensors.
function M.eval(code, inputs)
  return M.exec('r = (' .. code .. ')', inputs, code)
end

-- M.exec(statements, inputs): Python statements over np and the inputs that
-- set r (an array or a tuple of arrays); what is the code named in errors.
function M.exec(statements, inputs, what)
  assert(M.available(), 'numpy is not available')
  local dir = tmpdir()
  local names = {}
  for name, t in pairs(inputs or {}) do
    sl.save(dir .. '/' .. name .. '.npy', t)
    names[#names + 1] = name
  end
  local script = dir .. '/run.py'
  local f = assert(io.open(script, 'w'))
  f:write('import numpy as np, sys\n')
  f:write('d = sys.argv[1]\n')
  for _, name in ipairs(names) do
    f:write(string.format("%s = np.load(d + '/%s.npy')\n", name, name))
  end
  f:write(statements, '\n')
  f:write('r = r if isinstance(r, tuple) else (r,)\n')
  f:write("for i, a in enumerate(r): np.save(d + '/out%d.npy' % (i + 1), np.asarray(a))\n")
  f:write("open(d + '/count', 'w').write(str(len(r)))\n")
  f:close()
  local ok = os.execute(M.python .. ' ' .. script .. ' ' .. dir .. ' 2>' .. dir .. '/err') == 0
  local results = {}
  if ok then
    local c = io.open(dir .. '/count'):read('*n')
    for i = 1, c do results[i] = sl.load(dir .. '/out' .. i .. '.npy') end
  else
    local e = io.open(dir .. '/err'):read('*a')
    os.execute('rm -rf ' .. dir)
    error('numpy failed on ' .. (what or statements) .. ':\n' .. e, 2)
  end
  os.execute('rm -rf ' .. dir)
  return unpack(results)
end

-- Largest absolute difference between two tensors of one shape (as float64).
function M.max_abs_diff(a, b)
  local x, y = a:cast('float64'):contiguous(), b:cast('float64'):contiguous()
  assert(#x:shape() == #y:shape(), 'ranks differ')
  local n = x:numel()
  local p, q = x:data(), y:data()
  local worst = 0
  for i = 0, n - 1 do
    local u, v = p[i], q[i]
    if u ~= v and not (u ~= u and v ~= v) then
      local d = math.abs(u - v)
      if d ~= d then d = math.huge end
      if d > worst then worst = d end
    end
  end
  return worst
end

-- assert that tensor `got` equals `want` in shape and dtype and, per
-- element, within atol + rtol * |want| (NaNs must match NaNs).
function M.assert_close(got, want, rtol, atol, what)
  what = what or ''
  assert(table.concat(got:shape(), 'x') == table.concat(want:shape(), 'x'),
    what .. ' shape ' .. table.concat(got:shape(), 'x') .. ' ~= ' .. table.concat(want:shape(), 'x'))
  assert(got:dtype() == want:dtype(), what .. ' dtype ' .. got:dtype() .. ' ~= ' .. want:dtype())
  rtol = rtol or 1e-12
  atol = atol or 0
  local x, y = got:cast('float64'):contiguous(), want:cast('float64'):contiguous()
  local p, q = x:data(), y:data()
  for i = 0, x:numel() - 1 do
    local u, v = p[i], q[i]
    local ok = (u == v) or (u ~= u and v ~= v) or math.abs(u - v) <= atol + rtol * math.abs(v)
    assert(ok, string.format('%s element %d: got %.17g, want %.17g', what, i + 1, u, v))
  end
end

return M
