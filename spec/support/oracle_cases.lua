-- Runs op cases against NumPy, eagerly on tensors and compiled on variables
-- of unknown sizes (size 1 stays: broadcastable): case = { what, fn, args = {tensors}, expr (NumPy, over
-- a, b, c ... for the args), eager_only, rtol, atol }. fn returns one or more
-- results, compared with the expression's (one or a tuple) in shape, dtype
-- and value.
local sl = require 'symlua'
local np = require 'spec.support.numpy'
local batch = require 'spec.support.numpy_cases'

local M = {}
local NAMES = { 'a', 'b', 'c', 'd' }

-- sizes unknown but for size-1 axes, which are broadcastable (as in verify_grad)
local function var_like(t, name)
  local shape = {}
  for i, n in ipairs(t:shape()) do shape[i] = n == 1 and 1 or -1 end
  return sl.tensor_type(t:dtype(), shape)(name)
end

local function flatten(...)
  local out = {}
  for _, r in ipairs({ ... }) do
    if type(r) == 'table' and not sl.is_tensor(r) and not sl.is_var(r) then
      for _, x in ipairs(r) do out[#out + 1] = x end
    else
      out[#out + 1] = r
    end
  end
  return out
end

-- The NumPy values of every case, in one python call; fills case.want.
function M.prepare(cases)
  local list = {}
  for i, c in ipairs(cases) do
    local inputs = {}
    for k, t in ipairs(c.args) do inputs[NAMES[k]] = t end
    list[i] = { expr = c.expr, inputs = inputs }
  end
  batch.run(list)
  for i, c in ipairs(cases) do c.want = list[i].want end
end

function M.check(c)
  local function compare(got, how)
    assert(#c.want == #got, string.format('%s%s: %d results, want %d', c.what, how, #got, #c.want))
    for k, w in ipairs(c.want) do
      np.assert_close(got[k], w, c.rtol or 1e-12, c.atol or 1e-12, c.what .. how .. ' result ' .. k)
    end
  end
  compare(flatten(c.fn(unpack(c.args))), ' (eager)')
  if not c.eager_only then
    local vars = {}
    for k, t in ipairs(c.args) do vars[k] = var_like(t, NAMES[k]) end
    local outs = flatten(c.fn(unpack(vars)))
    local f = sl.compile(vars, outs)
    compare({ f(unpack(c.args)) }, ' (compiled)')
  end
end

return M
