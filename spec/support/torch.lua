-- PyTorch as a gradient oracle for the specs: tensors go to /usr/bin/python3
-- through spec/support/numpy.lua, torch.autograd differentiates a cost
-- written in Python over them, and the gradients come back.
local np = require 'spec.support.numpy'

local M = {}

function M.available() return np.has_module('torch') end

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

-- M.compare(build, cost, points, consts): the gradients of
-- sum(build(X1, X2, ...) * P) with respect to each point, from sl.grad over
-- build and from torch.autograd over cost (a Python expression of t, X1,
-- X2, ... and the tensors named in consts), P a fixed random projection of
-- build's value. Returns two lists of tensors, sl's and torch's.
function M.compare(build, cost, points, consts)
  local sl = require 'symlua'
  local vars, names, inputs = {}, {}, {}
  for name, c in pairs(consts or {}) do inputs[name] = c end
  for i, p in ipairs(points) do
    local shape = {}
    for d = 1, p:dim() do shape[d] = -1 end
    vars[i] = sl.tensor_type(p:dtype(), shape)('X' .. i)
    names[i] = 'X' .. i
    inputs[names[i]] = p
  end
  local out = build(unpack(vars))
  sl.manual_seed(77)
  local P = sl.randn(sl.compile(vars, out)(unpack(points)):shape(), out:dtype())
  local got = { sl.compile(vars, sl.grad(sl.sum(out * P), vars))(unpack(points)) }
  inputs.P = P
  local want = { M.grad('((' .. cost .. ') * P).sum()', inputs, names) }
  return got, want
end

return M
