-- Cumulative and sorting ops (lua/symlua/sort.lua, core/ops/sort.c)
-- against NumPy: values, dtypes, shapes, 0-d and empty inputs, eagerly and
-- compiled; gradients by verify_grad; bad input by its error. Index values
-- are 1-based, so the oracle adds 1 to NumPy's.
local sl = require 'symlua'
local np = require 'spec.support.numpy'
local oracle = require 'spec.support.oracle_cases'

sl.manual_seed(17)
local M = sl.randn(3, 4)
local TIES = sl.tensor({ { 3, 1, 2, 1, 3 }, { 0 / 0, -1, 5, -1, 0 / 0 } })
local INTS = sl.randint(-5, 6, { 4, 6 }, 'int32')
local SORTED = sl.tensor({ 1, 2, 2, 3, 5, 8 })

local CASES = {
  { what = 'cumsum axis 1', fn = function(a) return sl.cumsum(a, 1) end, args = { M }, expr = 'np.cumsum(a, 0)' },
  { what = 'cumsum axis -1', fn = function(a) return sl.cumsum(a, -1) end, args = { M }, expr = 'np.cumsum(a, -1)' },
  { what = 'cumsum flattened', fn = function(a) return sl.cumsum(a) end, args = { M }, expr = 'np.cumsum(a)' },
  { what = 'cumsum int32 -> int64', fn = function(a) return sl.cumsum(a, 2) end, args = { INTS }, expr = 'np.cumsum(a, 1)' },
  { what = 'cumsum bool -> int64', fn = function(a) return sl.cumsum(a, 1) end,
    args = { sl.tensor({ { true, false }, { true, true } }) }, expr = 'np.cumsum(a, 0)' },
  { what = 'cumsum uint8 -> int64 (NumPy: uint64)', fn = function(a) return sl.cumsum(a) end,
    args = { sl.tensor({ 200, 100, 50 }, 'uint8') }, expr = 'np.cumsum(a).astype(np.int64)' },
  { what = 'cumsum float32', fn = function(a) return sl.cumsum(a, 2) end, args = { M:cast('float32') },
    expr = 'np.cumsum(a, 1)', rtol = 1e-6, atol = 1e-6 },
  { what = 'cumsum of a 0-d value', fn = function(a) return sl.cumsum(a) end, args = { sl.tensor(2.5) }, expr = 'np.cumsum(a)' },
  { what = 'cumsum empty axis', fn = function(a) return sl.cumsum(a, 1) end, args = { sl.zeros(0, 3) }, expr = 'np.cumsum(a, 0)' },
  { what = 'cumsum along an axis of an empty array', fn = function(a) return sl.cumsum(a, 2) end,
    args = { sl.zeros(0, 3) }, expr = 'np.cumsum(a, 1)' },
  { what = 'cumsum of a transposed view', fn = function(a) return sl.cumsum(a, 2) end,
    args = { M:transpose(1, 2) }, expr = 'np.cumsum(a, 1)' },
  { what = 'cumprod axis 2', fn = function(a) return sl.cumprod(a, 2) end, args = { M }, expr = 'np.cumprod(a, 1)' },
  { what = 'cumprod int32 -> int64', fn = function(a) return sl.cumprod(a, 1) end, args = { INTS }, expr = 'np.cumprod(a, 0)' },
  { what = 'cumprod with NaN', fn = function(a) return sl.cumprod(a, 2) end, args = { TIES }, expr = 'np.cumprod(a, 1)' },
  { what = 'argsort stable, NaN last', fn = function(a) return sl.argsort(a) end, args = { TIES },
    expr = "np.argsort(a, kind='stable') + 1" },
  { what = 'argsort axis 1', fn = function(a) return sl.argsort(a, 1) end, args = { INTS },
    expr = "np.argsort(a, axis=0, kind='stable') + 1" },
  { what = 'argsort descending stable', fn = function(a) return sl.argsort(a, 2, true) end, args = { INTS },
    expr = "np.argsort(-a.astype(np.int64), axis=1, kind='stable') + 1" },
  { what = 'argsort empty', fn = function(a) return sl.argsort(a) end, args = { sl.zeros(0) },
    expr = "np.argsort(a, kind='stable') + 1" },
  { what = 'sort float with NaN', fn = function(a) return sl.sort(a) end, args = { TIES }, expr = 'np.sort(a)' },
  { what = 'sort int32 axis 1', fn = function(a) return sl.sort(a, 1) end, args = { INTS }, expr = 'np.sort(a, 0)' },
  { what = 'sort descending', fn = function(a) return sl.sort(a, -1, true) end, args = { M }, expr = 'np.sort(a)[:, ::-1]' },
  { what = 'sort of an empty axis', fn = function(a) return sl.sort(a, 2) end, args = { sl.zeros(2, 0) }, expr = 'np.sort(a, 1)' },
  { what = 'sort of a 3-d array', fn = function(a) return sl.sort(a, 2) end, args = { sl.randn(2, 5, 3) }, expr = 'np.sort(a, 1)' },
  { what = 'topk largest, ties in order', fn = function(a) return sl.topk(a, 3) end, args = { INTS },
    expr = "(lambda i: (np.take_along_axis(a, i, 1), i + 1))(np.argsort(-a.astype(np.int64), 1, kind='stable')[:, :3])" },
  { what = 'topk smallest along axis 1', fn = function(a) return sl.topk(a, 2, 1, false) end, args = { M },
    expr = "(lambda i: (np.take_along_axis(a, i, 0), i + 1))(np.argsort(a, 0, kind='stable')[:2])" },
  { what = 'topk k = 0', fn = function(a) return sl.topk(a, 0) end, args = { M },
    expr = 'np.zeros((3, 0)), np.zeros((3, 0), np.int64)' },
  { what = 'searchsorted left', fn = function(a, b) return sl.searchsorted(a, b) end,
    args = { SORTED, sl.tensor({ { 0, 2, 2.5 }, { 8, 9, -1 } }) }, expr = 'np.searchsorted(a, b) + 1' },
  { what = 'searchsorted right', fn = function(a, b) return sl.searchsorted(a, b, 'right') end,
    args = { SORTED, sl.tensor({ 0, 2, 2.5, 8, 9 }) }, expr = "np.searchsorted(a, b, 'right') + 1" },
  { what = 'searchsorted int64 in float, NaN values', fn = function(a, b) return sl.searchsorted(a, b) end,
    args = { sl.tensor({ 1, 3, 5 }), sl.tensor({ 0 / 0, 3, 4.5 }) }, expr = 'np.searchsorted(a, b) + 1' },
  { what = 'searchsorted of a 0-d value', fn = function(a, b) return sl.searchsorted(a, b) end,
    args = { SORTED, sl.tensor(4) }, expr = 'np.asarray(np.searchsorted(a, b) + 1)' },
  { what = 'searchsorted in an empty sequence', fn = function(a, b) return sl.searchsorted(a, b) end,
    args = { sl.zeros(0), sl.tensor({ 1.0, 2.0 }) }, expr = 'np.searchsorted(a, b) + 1' },
  { what = 'nonzero', fn = function(a) return sl.nonzero(a) end, args = { INTS }, eager_only = true,
    expr = 'tuple(i + 1 for i in np.nonzero(a))' },
  { what = 'nonzero of NaN and empty', fn = function(a) return sl.nonzero(a) end, eager_only = true,
    args = { sl.tensor({ 0, 0 / 0, 0, 2 }) }, expr = 'tuple(i + 1 for i in np.nonzero(a))' },
  { what = 'nonzero of an empty matrix', fn = function(a) return sl.nonzero(a) end, eager_only = true,
    args = { sl.zeros(0, 3) }, expr = 'tuple(i + 1 for i in np.nonzero(a))' },
  { what = 'unique with inverse and counts', fn = function(a) return sl.unique(a, { return_inverse = true, return_counts = true }) end,
    args = { INTS }, eager_only = true,
    expr = '(lambda u, i, c: (u, (i + 1).reshape(a.shape), c))(*np.unique(a, return_inverse=True, return_counts=True))' },
  { what = 'unique floats, NaNs as one', fn = function(a) return sl.unique(a) end, args = { TIES }, eager_only = true,
    expr = 'np.unique(a)' },
  { what = 'unique of an empty array', fn = function(a) return sl.unique(a) end, args = { sl.zeros(0, 'int64') },
    eager_only = true, expr = 'np.unique(a)' },
  { what = 'bincount', fn = function(a) return sl.bincount(a) end, args = { sl.tensor({ 1, 3, 3, 7, 1 }) },
    eager_only = true, expr = 'np.bincount(a - 1)' },
  { what = 'bincount with weights and minlength', fn = function(a, b) return sl.bincount(a, b, 9) end,
    args = { sl.tensor({ 2, 3, 3 }, 'int32'), sl.tensor({ 0.5, 1, 2 }) }, eager_only = true,
    expr = 'np.bincount(a - 1, b, 9)' },
  { what = 'bincount of nothing', fn = function(a) return sl.bincount(a, nil, 2) end, args = { sl.zeros(0, 'int64') },
    eager_only = true, expr = 'np.bincount(a, minlength=2)' },
}

describe('cumulative and sorting ops against NumPy', function()
  local ready = false
  for _, c in ipairs(CASES) do
    it(c.what, function()
      if not np.available() then pending('numpy not installed') return end
      if not ready then ready = true; oracle.prepare(CASES) end
      oracle.check(c)
    end)
  end
end)

describe('sorting by hand', function()
  it('puts NaN first when descending, keeping ties in order', function()
    local x = sl.tensor({ 2, 0 / 0, 5, 2, 0 / 0 })
    assert.are.same({ 2, 5, 3, 1, 4 }, sl.argsort(x, 1, true):totable())
    local v, i = sl.topk(x, 2)
    assert.are.same({ 2, 5 }, i:totable())
    assert.is_true(v:totable()[1] ~= v:totable()[1])
  end)

  it('keeps int64 values past 2^53 apart', function()
    local big = sl.tensor({ 2 ^ 53 + 1, 2 ^ 53, 2 ^ 53 + 2 }, 'int64')
    big[{ 1 }] = sl.tensor(2 ^ 53, 'int64') + 1
    assert.are.same({ 2, 1, 3 }, sl.argsort(big):totable())
  end)

  it('takes Lua tables as input', function()
    assert.are.same({ 1, 3, 6 }, sl.cumsum({ 1, 2, 3 }):totable())
    assert.are.same({ 1, 2, 3 }, sl.sort({ 3, 1, 2 }):totable())
  end)

  it('works as methods on tensors and variables', function()
    local t = sl.tensor({ 3.0, 1.0, 2.0 })
    assert.are.same({ 1, 2, 3 }, t:sort():totable())
    local v = sl.vector('v')
    assert.are.same({ 2, 3, 1 }, sl.compile({ v }, v:argsort())(t):totable())
    assert.are.same({ 3, 4, 6 }, sl.compile({ v }, v:cumsum())(t):totable())
  end)
end)

describe('gradients of cumulative and sorting ops', function()
  local function N(...) return sl.randn(...) end
  it('cumsum along each axis and flattened', function()
    sl.manual_seed(3)
    sl.verify_grad(function(x) return sl.cumsum(x, 1) end, { N(3, 4) })
    sl.verify_grad(function(x) return sl.cumsum(x, 2) end, { N(3, 4) })
    sl.verify_grad(function(x) return sl.cumsum(x) end, { N(2, 3) })
  end)
  it('cumprod away from zeros', function()
    sl.manual_seed(4)
    sl.verify_grad(function(x) return sl.cumprod(x, 2) end, { sl.rand(3, 4) + 0.5 })
    sl.verify_grad(function(x) return sl.cumprod(x, 1) end, { -(sl.rand(4, 2) + 0.5) })
  end)
  it('sort and topk send g to where each value came from', function()
    sl.manual_seed(5)
    sl.verify_grad(function(x) return sl.sort(x) end, { N(3, 5) })
    sl.verify_grad(function(x) return sl.sort(x, 1, true) end, { N(4, 2) })
    sl.verify_grad(function(x) return (sl.topk(x, 2)) end, { N(3, 5) })
  end)
  it('a reversed cumsum is the gradient of cumsum (no sum_to needed)', function()
    local x = sl.matrix('x')
    local g = sl.grad(sl.sum(sl.cumsum(x, 2) * sl.tensor({ { 1, 2, 3 } })), x)
    local f = sl.compile({ x }, g)
    assert.are.same({ { 6, 5, 3 }, { 6, 5, 3 } }, f(sl.zeros(2, 3)):totable())
  end)
end)

describe('gradients of cumulative and sorting ops against torch.autograd', function()
  local torch = require 'spec.support.torch'
  sl.manual_seed(6)
  local cases = {
    { 'cumsum along axis 1', function(x) return sl.cumsum(x, 1) end, 't.cumsum(X1, 0)', { sl.randn(3, 4) } },
    { 'cumsum along the last axis of a stack', function(x) return sl.cumsum(x, -1) end, 't.cumsum(X1, -1)',
      { sl.randn(2, 3, 4) } },
    { 'cumsum flattened', function(x) return sl.cumsum(x) end, 't.cumsum(X1.flatten(), 0)', { sl.randn(2, 3) } },
    { 'cumprod', function(x) return sl.cumprod(x, 2) end, 't.cumprod(X1, 1)', { sl.rand(3, 4) + 0.5 } },
    { 'cumprod through negative values', function(x) return sl.cumprod(x, 1) end, 't.cumprod(X1, 0)',
      { -(sl.rand(4, 2) + 0.5) } },
    { 'sort', function(x) return sl.sort(x) end, 't.sort(X1, -1)[0]', { sl.randn(3, 5) } },
    { 'sort descending along axis 1', function(x) return sl.sort(x, 1, true) end,
      't.sort(X1, 0, descending=True)[0]', { sl.randn(4, 2) } },
    { 'topk', function(x) return (sl.topk(x, 2)) end, 't.topk(X1, 2, -1)[0]', { sl.randn(3, 5) } },
    { 'topk smallest along axis 1', function(x) return (sl.topk(x, 3, 1, false)) end,
      't.topk(X1, 3, 0, largest=False)[0]', { sl.randn(4, 3) } },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      if not torch.available() then pending('python3-torch is not installed') return end
      local got, want = torch.compare(c[2], c[3], c[4])
      np.assert_close(got[1], want[1], 1e-12, 1e-12, c[1])
    end)
  end
end)

describe('cumulative and sorting errors', function()
  local v = sl.vector('v')
  local cases = {
    { function() return sl.cumsum(sl.zeros(3), 2) end, 'cumsum: axis 2 is out of range for a 1-d input' },
    { function() return sl.sort(sl.tensor(1.0)) end, 'sort: axis -1 is out of range for a 0-d input' },
    { function() return sl.argsort(sl.zeros(2), 1, 'yes') end, 'argsort: descending must be a boolean' },
    { function() return sl.sort(sl.zeros(2, 'complex128')) end, 'sort: complex input (complex128) has no order' },
    { function() return sl.topk(sl.zeros(2, 3), 4) end, 'topk: k = 4 is more than the 3 elements of axis 2' },
    { function() return sl.topk(sl.zeros(3), -1) end, 'topk: k must be a non-negative integer' },
    { function() return sl.searchsorted(sl.zeros(2, 2), sl.zeros(2)) end, 'searchsorted: the sorted sequence must be 1-d, got 2-d' },
    { function() return sl.searchsorted(sl.zeros(2), sl.zeros(2), 'middle') end, "searchsorted: side must be 'left' or 'right'" },
    { function() return sl.nonzero(v) end, 'nonzero works on tensors only' },
    { function() return sl.unique(v) end, 'unique works on tensors only' },
    { function() return sl.bincount(sl.lvector('l')) end, 'bincount works on tensors only' },
    { function() return sl.nonzero(sl.tensor(3)) end, 'nonzero: a 0-d input has no positions' },
    { function() return sl.bincount(sl.tensor({ 1, 0 })) end, 'bincount: bin 0 at position 2; bins are 1-based' },
    { function() return sl.bincount(sl.tensor({ 1.5 })) end, 'bincount: the bins must be integers, got float64' },
    { function() return sl.bincount(sl.tensor({ 1, 2 }), sl.tensor({ 1.0 })) end, 'bincount: weights of shape (1) for 2 bins' },
    { function() return sl.unique(sl.zeros(2), { sorted = true }) end, 'unique: unknown option sorted' },
  }
  for _, c in ipairs(cases) do
    it(c[2], function()
      local ok, msg = pcall(c[1])
      assert(not ok, 'expected an error')
      msg = tostring(msg)
      assert(msg:find(c[2], 1, true), 'got: ' .. msg)
      assert(msg:find('sort_spec.lua', 1, true), 'the error names the caller\'s line: ' .. msg)
    end)
  end
end)
