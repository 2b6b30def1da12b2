-- Shape helpers (lua/symlua/shape_helpers.lua) against NumPy: values,
-- dtypes and shapes, 0-d and empty inputs, eagerly and compiled on
-- variables of unknown sizes; gradients by verify_grad; bad input by its
-- error at the caller's line.
local sl = require 'symlua'
local np = require 'spec.support.numpy'
local oracle = require 'spec.support.oracle_cases'

sl.manual_seed(23)
local M = sl.randn(3, 4)
local B = sl.randn(2, 3, 4)
local SQ = sl.arange(16):reshape(4, 4)
local V = sl.tensor({ 1.5, -2, 3 })

local CASES = {
  { what = 'flip all axes', fn = sl.flip, args = { M }, expr = 'np.flip(a)' },
  { what = 'flip axis 2', fn = function(a) return sl.flip(a, 2) end, args = { B }, expr = 'np.flip(a, 1)' },
  { what = 'flip axes {1, -1}', fn = function(a) return sl.flip(a, { 1, -1 }) end, args = { B }, expr = 'np.flip(a, (0, 2))' },
  { what = 'flip empty', fn = sl.flip, args = { sl.zeros(0, 2) }, expr = 'np.flip(a)' },
  { what = 'flip 0-d', fn = sl.flip, args = { sl.tensor(4.0) }, expr = 'np.flip(a)' },
  { what = 'roll along an axis', fn = function(a) return sl.roll(a, 1, 2) end, args = { M }, expr = 'np.roll(a, 1, 1)' },
  { what = 'roll by more than the size, backwards', fn = function(a) return sl.roll(a, -7, 1) end, args = { M },
    expr = 'np.roll(a, -7, 0)' },
  { what = 'roll flattened', fn = function(a) return sl.roll(a, 5) end, args = { B }, expr = 'np.roll(a, 5)' },
  { what = 'roll int64', fn = function(a) return sl.roll(a, 2, 1) end, args = { SQ }, expr = 'np.roll(a, 2, 0)' },
  { what = 'roll empty', fn = function(a) return sl.roll(a, 3, 1) end, args = { sl.zeros(0, 2) }, expr = 'np.roll(a, 3, 0)' },
  { what = 'diagonal', fn = sl.diagonal, args = { M }, expr = 'np.diagonal(a).copy()' },
  { what = 'diagonal above', fn = function(a) return sl.diagonal(a, 2) end, args = { M }, expr = 'np.diagonal(a, 2).copy()' },
  { what = 'diagonal below', fn = function(a) return sl.diagonal(a, -1) end, args = { M }, expr = 'np.diagonal(a, -1).copy()' },
  { what = 'diagonal past the matrix', fn = function(a) return sl.diagonal(a, 5) end, args = { M }, expr = 'np.diagonal(a, 5).copy()' },
  { what = 'diagonal of a batch, axes 2 and 3', fn = function(a) return sl.diagonal(a, 0, 2, 3) end, args = { B },
    expr = 'np.diagonal(a, 0, 1, 2).copy()' },
  { what = 'diagonal over axes 3 and 1', fn = function(a) return sl.diagonal(a, 1, 3, 1) end, args = { B },
    expr = 'np.diagonal(a, 1, 2, 0).copy()' },
  { what = 'trace', fn = sl.trace, args = { SQ }, expr = 'np.asarray(np.trace(a))' },
  { what = 'trace offset, float', fn = function(a) return sl.trace(a, -1) end, args = { M }, expr = 'np.asarray(np.trace(a, -1))' },
  { what = 'trace of a batch', fn = function(a) return sl.trace(a, 0, 2, 3) end, args = { B }, expr = 'np.trace(a, 0, 1, 2)' },
  { what = 'trace of an empty matrix', fn = sl.trace, args = { sl.zeros(0, 3) }, expr = 'np.asarray(np.trace(a))' },
  { what = 'diag of a vector', fn = sl.diag, args = { V }, expr = 'np.diag(a)' },
  { what = 'diag of a vector, above', fn = function(a) return sl.diag(a, 2) end, args = { V }, expr = 'np.diag(a, 2)' },
  { what = 'diag of a vector, below', fn = function(a) return sl.diag(a, -1) end, args = { V }, expr = 'np.diag(a, -1)' },
  { what = 'diag of a matrix', fn = function(a) return sl.diag(a, 1) end, args = { M }, expr = 'np.diag(a, 1).copy()' },
  { what = 'diag of an empty vector', fn = function(a) return sl.diag(a, 1) end, args = { sl.zeros(0) }, expr = 'np.diag(a, 1)' },
  { what = 'tril', fn = sl.tril, args = { M }, expr = 'np.tril(a)' },
  { what = 'tril above, int64', fn = function(a) return sl.tril(a, 1) end, args = { SQ }, expr = 'np.tril(a, 1)' },
  { what = 'triu below, batched', fn = function(a) return sl.triu(a, -1) end, args = { B }, expr = 'np.triu(a, -1)' },
  { what = 'triu of an empty matrix', fn = sl.triu, args = { sl.zeros(0, 3) }, expr = 'np.triu(a)' },
  { what = 'pad constant', fn = function(a) return sl.pad(a, { { 1, 2 }, { 0, 3 } }) end, args = { M },
    expr = 'np.pad(a, ((1, 2), (0, 3)))' },
  { what = 'pad constant value, int64', fn = function(a) return sl.pad(a, 1, 'constant', 7) end, args = { SQ },
    expr = "np.pad(a, 1, 'constant', constant_values=7)" },
  { what = 'pad reflect', fn = function(a) return sl.pad(a, { 2, 1 }, 'reflect') end, args = { M },
    expr = "np.pad(a, (2, 1), 'reflect')" },
  { what = 'pad edge', fn = function(a) return sl.pad(a, { { 0, 0 }, { 2, 0 }, { 1, 3 } }, 'edge') end, args = { B },
    expr = "np.pad(a, ((0, 0), (2, 0), (1, 3)), 'edge')" },
  { what = 'pad an empty axis with constants', fn = function(a) return sl.pad(a, 1) end, args = { sl.zeros(0, 2) },
    expr = 'np.pad(a, 1)' },
  { what = 'pad 0-d', fn = function(a) return sl.pad(a, 2) end, args = { sl.tensor(3.0) }, expr = 'np.pad(a, 2)' },
  { what = 'one_hot', fn = function(a) return sl.one_hot(a, 4) end, args = { sl.tensor({ { 1, 4 }, { 2, 2 } }) },
    expr = 'np.eye(4)[a - 1]' },
  { what = 'one_hot float32 of int32', fn = function(a) return sl.one_hot(a, 3, 'float32') end,
    args = { sl.tensor({ 3, 1 }, 'int32') }, expr = 'np.eye(3, dtype=np.float32)[a - 1]' },
  { what = 'one_hot of a 0-d label', fn = function(a) return sl.one_hot(a, 3) end, args = { sl.tensor(2) },
    expr = 'np.eye(3)[a - 1]' },
  { what = 'one_hot of no labels', fn = function(a) return sl.one_hot(a, 3) end, args = { sl.zeros(0, 'int64') },
    expr = 'np.eye(3)[a - 1]' },
  { what = 'meshgrid xy', fn = function(a, b) return { sl.meshgrid(a, b) } end,
    args = { sl.tensor({ 1, 2, 3 }), sl.tensor({ 4.5, 5.5 }) }, expr = 'tuple(np.meshgrid(a, b))' },
  { what = 'meshgrid ij of three', fn = function(a, b, c) return { sl.meshgrid(a, b, c, { indexing = 'ij' }) } end,
    args = { sl.tensor({ 1, 2 }), sl.tensor({ 3, 4, 5 }), sl.tensor({ 6.0 }) },
    expr = "tuple(np.meshgrid(a, b, c, indexing='ij'))" },
  { what = 'meshgrid with an empty axis', fn = function(a, b) return { sl.meshgrid(a, b) } end,
    args = { sl.zeros(0), sl.tensor({ 1.0, 2.0 }) }, expr = 'tuple(np.meshgrid(a, b))' },
}

describe('shape helpers against NumPy', function()
  local ready = false
  for _, c in ipairs(CASES) do
    it(c.what, function()
      if not np.available() then pending('numpy not installed') return end
      if not ready then ready = true; oracle.prepare(CASES) end
      oracle.check(c)
    end)
  end
end)

describe('shape helpers on tensors and variables', function()
  it('are methods of both', function()
    local t = sl.tensor({ { 1.0, 2.0 }, { 3.0, 4.0 } })
    assert.are.equal(5, t:trace():item())
    assert.are.same({ { 4, 3 }, { 2, 1 } }, t:flip():totable())
    local x = sl.matrix('x')
    assert.are.same({ { 1, 0 }, { 3, 4 } }, sl.compile({ x }, x:tril())(t):totable())
  end)
  it('keep static shapes where the input has them', function()
    local x = sl.tensor_type('float64', { 3, 5 })('x')
    assert.are.same({ 3 }, sl.diagonal(x):static_shape())
    assert.are.same({ 7, 9 }, sl.pad(x, { 1, 3 }):static_shape())
    assert.are.same({ 3, 5 }, sl.roll(x, 2, 2):static_shape())
  end)
end)

describe('gradients of shape helpers', function()
  local function N(...) return sl.randn(...) end
  local checks = {
    { 'flip', function(x) return sl.flip(x, 1) end, { 3, 4 } },
    { 'roll', function(x) return sl.roll(x, 2, 2) end, { 3, 4 } },
    { 'roll flattened', function(x) return sl.roll(x, -1) end, { 2, 3 } },
    { 'diagonal', function(x) return sl.diagonal(x, 1) end, { 3, 4 } },
    { 'diagonal of a batch', function(x) return sl.diagonal(x, 0, 3, 2) end, { 2, 3, 3 } },
    { 'trace', function(x) return sl.trace(x) end, { 3, 3 } },
    { 'diag of a vector', function(x) return sl.diag(x, -1) end, { 3 } },
    { 'tril', function(x) return sl.tril(x, -1) end, { 3, 4 } },
    { 'triu', function(x) return sl.triu(x) end, { 2, 3, 3 } },
    { 'pad constant', function(x) return sl.pad(x, { { 1, 0 }, { 2, 1 } }) end, { 2, 3 } },
    { 'pad reflect', function(x) return sl.pad(x, 2, 'reflect') end, { 3, 4 } },
    { 'pad edge', function(x) return sl.pad(x, { 1, 2 }, 'edge') end, { 3, 2 } },
    { 'meshgrid', function(x, y) local a, b = sl.meshgrid(x, y); return a * b end, { 3 }, { 2 } },
  }
  for _, c in ipairs(checks) do
    it(c[1], function()
      sl.manual_seed(7)
      local points = { N(unpack(c[3])) }
      if c[4] then points[2] = N(unpack(c[4])) end
      sl.verify_grad(c[2], points)
    end)
  end
end)

describe('shape helper errors', function()
  local cases = {
    { function() return sl.flip(sl.zeros(2), 2) end, 'flip: axis 2 is out of range for a 1-d input' },
    { function() return sl.flip(sl.zeros(2, 2), { 1, 1 }) end, 'flip: axis 1 appears twice' },
    { function() return sl.roll(sl.zeros(2), 1.5) end, 'roll: the shift must be an integer, got 1.5' },
    { function() return sl.diagonal(sl.zeros(3)) end, 'diagonal: needs at least 2 axes, got a 1-d input' },
    { function() return sl.trace(sl.zeros(2, 2), 0, 1, -2) end, 'trace: axis1 and axis2 name the same axis (1)' },
    { function() return sl.diag(sl.zeros(2, 2, 2)) end, 'diag: takes a 1-d or a 2-d input, got 3-d' },
    { function() return sl.tril(sl.zeros(3)) end, 'tril: needs at least 2 axes, got a 1-d input' },
    { function() return sl.pad(sl.zeros(3), 1, 'wrap') end, "pad: mode must be 'constant', 'reflect' or 'edge', got wrap" },
    { function() return sl.pad(sl.zeros(3), 3, 'reflect') end, 'pad: reflect widths (3, 3) on axis 1 of size 3 must be smaller' },
    { function() return sl.pad(sl.zeros(0), 1, 'edge') end, 'pad: mode edge cannot pad the empty axis 1' },
    { function() return sl.pad(sl.zeros(2, 2), { { 1, 1 } }) end, 'pad: 1 widths for a 2-d input' },
    { function() return sl.pad(sl.zeros(2), -1) end, 'pad: widths must be >= 0, got -1' },
    { function() return sl.pad(sl.zeros(2), 1, 'edge', 3) end, "pad: a fill value is for mode 'constant' only" },
    { function() return sl.one_hot(sl.tensor({ 1, 5 }), 4) end, 'one_hot: label 5 is outside 1..4' },
    { function() return sl.one_hot(sl.tensor({ 0, 1 }), 4) end, 'one_hot: label 0 is outside 1..4' },
    { function() return sl.one_hot(sl.zeros(2), 4) end, 'one_hot: labels must be integers, got float64' },
    { function() return sl.meshgrid(sl.zeros(2), { indexing = 'xz' }) end, "meshgrid: indexing must be 'xy' or 'ij', got xz" },
  }
  for _, c in ipairs(cases) do
    it(c[2], function()
      local ok, msg = pcall(c[1])
      assert(not ok, 'expected an error')
      msg = tostring(msg)
      assert(msg:find(c[2], 1, true), 'got: ' .. msg)
      assert(msg:find('shape_helpers_spec.lua', 1, true), "the error names the caller's line: " .. msg)
    end)
  end
end)
