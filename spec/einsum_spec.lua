-- einsum and tensordot (lua/symlua/einsum.lua) against NumPy: subscripts
-- explicit and implicit, '...', repeated labels, broadcasting, several
-- operands, dtypes, 0-d and empty operands, eagerly and compiled on
-- variables of unknown sizes; the lowering to matrix products; gradients by
-- verify_grad; bad subscripts by their errors.
local sl = require 'symlua'
local np = require 'spec.support.numpy'
local oracle = require 'spec.support.oracle_cases'
local check = require 'spec.support.check'

sl.manual_seed(31)
local function N(...) return sl.randn(...) end

local function E(spec, ...)
  return { what = 'einsum ' .. spec, fn = function(...) return sl.einsum(spec, ...) end, args = { ... },
           expr = string.format("np.einsum('%s', %s)", spec, ({ 'a', 'a, b', 'a, b, c' })[select('#', ...)]),
           rtol = 1e-10, atol = 1e-12 }
end

local CASES = {
  E('bij,bjk->bik', N(3, 2, 4), N(3, 4, 5)),
  E('ij,jk', N(2, 3), N(3, 4)),
  E('ij,jk->ki', N(2, 3), N(3, 4)),
  E('ij,kj->ik', N(2, 3), N(4, 3)),
  E('abc,cbd->ad', N(2, 3, 4), N(4, 3, 5)),
  E('bhqd,bhkd->bhqk', N(2, 3, 4, 5), N(2, 3, 6, 5)),
  E('ij,jk,kl->il', N(2, 3), N(3, 4), N(4, 2)),
  E('i,i', N(5), N(5)),
  E('i,i->i', N(5), N(5)),
  E('i,j->ij', N(3), N(4)),
  E('ij->', N(3, 4)),
  E('ij->ji', N(3, 4)),
  E('ij->j', N(3, 4)),
  E('ii->i', N(4, 4)),
  E('ii', N(4, 4)),
  E('iij->j', N(2, 2, 3)),
  E('ijk->kji', N(2, 3, 4)),
  E('...ij,...jk->...ik', N(2, 3, 4, 5), N(2, 3, 5, 2)),
  E('...ij,jk->...ik', N(2, 3, 4, 5), N(5, 6)),
  E('...ii->...i', N(2, 3, 3)),
  E('i...->...', N(3, 2, 4)),
  E('...i,...i->...', N(3, 1, 4), N(5, 4)),
  E('ij,ij->ij', N(3, 1), N(3, 4)),
  E('ij,jk', sl.randint(-3, 4, { 2, 3 }), sl.randint(-3, 4, { 3, 4 })),
  (function()
    local c = E('bij,bjk->bik', N(2, 3, 4):cast('float32'), N(2, 4, 2):cast('float32'))
    c.rtol, c.atol = 1e-5, 1e-6
    return c
  end)(),
  E(',->', sl.tensor(2.5), sl.tensor(-3.0)),
  E('i,->i', N(3), sl.tensor(3.0)),
  E('ij,jk', sl.zeros(0, 3), N(3, 2)),
  E('ij,jk', N(2, 0), sl.zeros(0, 3)),
  { what = 'tensordot default axes', fn = sl.tensordot, args = { N(2, 3, 4), N(3, 4, 5) },
    expr = 'np.tensordot(a, b)', rtol = 1e-10, atol = 1e-12 },
  { what = 'tensordot 1 axis', fn = function(a, b) return sl.tensordot(a, b, 1) end, args = { N(2, 3), N(3, 4, 2) },
    expr = 'np.tensordot(a, b, 1)', rtol = 1e-10, atol = 1e-12 },
  { what = 'tensordot 0 axes (outer)', fn = function(a, b) return sl.tensordot(a, b, 0) end, args = { N(2), N(3) },
    expr = 'np.tensordot(a, b, 0)', rtol = 1e-10, atol = 1e-12 },
  { what = 'tensordot given axes', fn = function(a, b) return sl.tensordot(a, b, { { 1, 3 }, { 2, -3 } }) end,
    args = { N(2, 3, 4), N(4, 2, 5) }, expr = 'np.tensordot(a, b, ((0, 2), (1, 0)))', rtol = 1e-10, atol = 1e-12 },
}

describe('einsum and tensordot against NumPy', function()
  local ready = false
  for _, c in ipairs(CASES) do
    it(c.what .. ' ' .. table.concat((function()
      local s = {}
      for i, a in ipairs(c.args) do s[i] = a:dtype() .. '(' .. table.concat(a:shape(), 'x') .. ')' end
      return s
    end)(), ' '), function()
      if not np.available() then pending('numpy not installed') return end
      if not ready then ready = true; oracle.prepare(CASES) end
      oracle.check(c)
    end)
  end
end)

describe('einsum lowering', function()
  local function count(f, names)
    local n = 0
    for _, name in ipairs(names) do n = n + check.count_ops(f, name) end
    return n
  end
  it('makes a batched contraction one matrix product', function()
    local a, b = sl.tensor3('a'), sl.tensor3('b')
    local f = sl.compile({ a, b }, sl.einsum('bij,bjk->bik', a, b))
    assert.are.equal(1, count(f, { 'dot', 'gemm' }))
  end)
  it('makes several contracted axes one matrix product', function()
    local a, b = sl.tensor3('a'), sl.tensor3('b')
    local f = sl.compile({ a, b }, sl.einsum('abc,cbd->ad', a, b))
    assert.are.equal(1, count(f, { 'dot', 'gemm' }))
  end)
  it('makes an outer product a broadcast multiply, with no matrix product', function()
    local a, b = sl.vector('a'), sl.vector('b')
    local f = sl.compile({ a, b }, sl.einsum('i,j->ij', a, b))
    assert.are.equal(0, count(f, { 'dot', 'gemm', 'outer' }))
  end)
end)

describe('einsum gradients', function()
  local checks = {
    { 'bij,bjk->bik', { 2, 3, 4 }, { 2, 4, 2 } },
    { 'abc,cbd->ad', { 2, 3, 4 }, { 4, 3, 2 } },
    { 'ii->i', { 3, 3 } },
    { '...ij,jk->...ik', { 2, 2, 3 }, { 3, 2 } },
    { 'i,j->ij', { 3 }, { 2 } },
    { 'ij->', { 2, 3 } },
  }
  for _, c in ipairs(checks) do
    it(c[1], function()
      sl.manual_seed(9)
      local points = { N(unpack(c[2])) }
      if c[3] then points[2] = N(unpack(c[3])) end
      sl.verify_grad(function(...) return sl.einsum(c[1], ...) end, points)
    end)
  end
  it('tensordot', function()
    sl.manual_seed(10)
    sl.verify_grad(function(a, b) return sl.tensordot(a, b, { { 1, 3 }, { 2, 1 } }) end, { N(2, 3, 4), N(4, 2, 3) })
  end)
end)

describe('einsum and tensordot gradients against torch.autograd', function()
  local torch = require 'spec.support.torch'
  sl.manual_seed(11)
  local cases = {
    { 'bij,bjk->bik', { N(2, 3, 4), N(2, 4, 2) } },
    { 'abc,cbd->ad', { N(2, 3, 4), N(4, 3, 2) } },
    { 'ii->i', { N(3, 3) } },
    { '...ij,jk->...ik', { N(2, 2, 3), N(3, 2) } },
    { 'i,j->ij', { N(3), N(2) } },
    { 'ij,ij->i', { N(3, 4), N(3, 4) } },
    { 'ij->', { N(2, 3) } },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      if not torch.available() then pending('python3-torch is not installed') return end
      local args = {}
      for i = 1, #c[2] do args[i] = 'X' .. i end
      local got, want = torch.compare(function(...) return sl.einsum(c[1], ...) end,
        string.format("t.einsum('%s', %s)", c[1], table.concat(args, ', ')), c[2])
      for i = 1, #c[2] do np.assert_close(got[i], want[i], 1e-12, 1e-12, c[1] .. ' operand ' .. i) end
    end)
  end
  it('tensordot over two axis pairs', function()
    if not torch.available() then pending('python3-torch is not installed') return end
    local got, want = torch.compare(function(a, b) return sl.tensordot(a, b, { { 1, 3 }, { 2, 1 } }) end,
      't.tensordot(X1, X2, dims=([0, 2], [1, 0]))', { N(2, 3, 4), N(4, 2, 3) })
    np.assert_close(got[1], want[1], 1e-12, 1e-12, 'a')
    np.assert_close(got[2], want[2], 1e-12, 1e-12, 'b')
  end)
  it('tensordot over the last axes (an integer count)', function()
    if not torch.available() then pending('python3-torch is not installed') return end
    local got, want = torch.compare(function(a, b) return sl.tensordot(a, b, 2) end,
      't.tensordot(X1, X2, dims=2)', { N(2, 3, 4), N(3, 4, 5) })
    np.assert_close(got[1], want[1], 1e-12, 1e-12, 'a')
    np.assert_close(got[2], want[2], 1e-12, 1e-12, 'b')
  end)
end)

describe('einsum errors', function()
  local a, b = sl.zeros(2, 3), sl.zeros(3, 4)
  local cases = {
    { function() return sl.einsum('ij,jk->ik', a) end, "einsum: the subscripts 'ij,jk->ik' name 2 operands but 1 is given" },
    { function() return sl.einsum('ijk,jk', a, b) end, "einsum: operand 1 has 2 axes but its subscripts 'ijk' name 3" },
    { function() return sl.einsum('i#,jk', a, b) end, "einsum: bad character '#' in the subscripts of operand 1" },
    { function() return sl.einsum('ij,jk->iz', a, b) end, "einsum: output label 'z' appears in no operand" },
    { function() return sl.einsum('ij,jk->ii', a, b) end, "einsum: 'i' appears twice in the output" },
    { function() return sl.einsum('ij,ik', a, b) end, "einsum: label 'i' has size 2 in one operand and 3 in another" },
    { function() return sl.einsum('ii', a) end, "einsum: label 'i' is repeated on axes of sizes 2 and 3" },
    { function() return sl.einsum('......i', a) end, 'einsum: operand 1 has two ellipses' },
    { function() return sl.einsum(3, a) end, 'einsum: the subscripts must be a string, got number' },
    { function() return sl.einsum('ij') end, 'einsum: no operands' },
    { function() return sl.tensordot(a, b, 3) end, 'tensordot: axes = 3 for operands of 2 and 2 axes' },
    { function() return sl.tensordot(a, a, 1) end, 'tensordot: axis 2 of a (size 3) and axis 1 of b (size 2) differ' },
    { function() return sl.tensordot(a, b, { { 1 }, { 1, 2 } }) end, 'tensordot: 1 axes of a paired with 2 axes of b' },
    { function() return sl.tensordot(a, b, { { 5 }, { 1 } }) end, 'tensordot: axis 5 of a is out of range for 2 axes' },
  }
  for _, c in ipairs(cases) do
    it(c[2], function()
      local ok, msg = pcall(c[1])
      assert(not ok, 'expected an error')
      msg = tostring(msg)
      assert(msg:find(c[2], 1, true), 'got: ' .. msg)
      assert(msg:find('einsum_spec.lua', 1, true), "the error names the caller's line: " .. msg)
    end)
  end
end)
