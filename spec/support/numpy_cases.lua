-- Many NumPy oracle values in one python call (each call costs a python
-- start): each case is an expression over its own named tensors, which
-- travel under distinct names; each case's results come back as a list.
local np = require 'spec.support.numpy'

local M = {}

-- M.run(cases): cases[i] = { expr = 'np.cumsum(x, 1)', inputs = { x = t } };
-- an expression may give a tuple. Sets cases[i].want to the list of results.
function M.run(cases)
  local inputs, parts = {}, {}
  for i, c in ipairs(cases) do
    local names, keys = {}, {}
    for name, t in pairs(c.inputs or {}) do
      names[#names + 1] = name
      keys[#keys + 1] = string.format('c%d_%s', i, name)
      inputs[keys[#keys]] = t
    end
    parts[i] = string.format('(lambda r: r if isinstance(r, tuple) else (r,))((lambda %s: (%s))(%s))',
                             table.concat(names, ', '), c.expr, table.concat(keys, ', '))
  end
  local code = '(lambda rs: (np.array([len(r) for r in rs], dtype=np.int64),) + sum(rs, ()))(['
    .. table.concat(parts, ', ') .. '])'
  local all = { np.eval(code, inputs) }
  local counts, at = all[1]:totable(), 2
  for i, c in ipairs(cases) do
    c.want = {}
    for k = 1, counts[i] do c.want[k] = all[at]; at = at + 1 end
  end
  return cases
end

return M
