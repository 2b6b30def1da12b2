-- PyTorch as a gradient oracle for the specs: tensors go to /usr/bin/python3
-- through spec/support/numpy.lua, torch.autograd differentiates a cost
-- written in Python over them, and the gradients come back.
local np = require 'spec.support.numpy'

local M = {}

local available
function M.available()
  if available == nil then
    available = os.execute(np.python .. ' -c "import torch" >/dev/null 2>&1') == 0
  end
  return available
end

-- M.grad(cost, inputs, wrt): inputs maps names to tensors (torch tensors of
-- those names in Python, with t the torch module); cost is a Python
-- expression over them giving a scalar; wrt lists the names to differentiate
-- against. Returns the gradients, in wrt's order, as tensors.
function M.grad(cost, inputs, wrt)
  assert(M.available(), 'torch is not available')
  local lines = { 'import torch as t' }
  for name in pairs(inputs) do lines[#lines + 1] = string.format('%s = t.from_numpy(%s)', name, name) end
  for _, name in ipairs(wrt) do lines[#lines + 1] = name .. '.requires_grad_()' end
  lines[#lines + 1] = string.format('r = tuple(g.detach().numpy() for g in t.autograd.grad(%s, [%s]))',
    cost, table.concat(wrt, ', '))
  return np.exec(table.concat(lines, '\n'), inputs, cost)
end

return M
