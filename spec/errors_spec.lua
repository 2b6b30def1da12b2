-- Bad input gets a clear Lua error that names the problem and points at the
-- caller's line; nothing crashes and the tensors involved stay intact.
local sl = require 'symlua'

local function fails_with(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, 'expected an error matching ' .. pattern)
  assert.is_truthy(tostring(err):find(pattern, 1, true),
    'error "' .. tostring(err) .. '" does not mention "' .. pattern .. '"')
  return err
end

describe('errors', function()
  it('name the caller\'s file and line', function()
    local ok, err = pcall(function() return sl.zeros(2, 'flaot32') end)
    assert.is_false(ok)
    assert.is_truthy(err:find('errors_spec.lua:%d+: unknown dtype \'flaot32\''))
  end)

  it('unknown dtypes list the valid ones', function()
    fails_with("expected one of bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64",
      sl.tensor, { 1 }, 'complex')
    fails_with("unknown dtype 'half'", function() return sl.ones(2):cast('half') end)
    fails_with('dtype must be a string', function() return sl.ones(2):cast(3) end)
  end)

  it('out-of-range indices', function()
    local t = sl.tensor({ { 1, 2 }, { 3, 4 } })
    fails_with('index 3 is out of range for dimension 1 of size 2', function() return t[3] end)
    fails_with('index -3 is out of range for dimension 1 of size 2', function() return t[-3] end)
    fails_with('index 0 is out of range', function() return t[0] end)
    fails_with('index 5 is out of range for dimension 2 of size 2', function() return t[{ 1, 5 }] end)
    fails_with('too many indices (3) for a 2-d tensor', function() return t[{ 1, 1, 1 }] end)
    fails_with('an index must be an integer, got 1.5', function() return t[1.5] end)
    fails_with('invalid index of type boolean', function() return t[true] end)
    fails_with('cannot index a 0-d tensor', function() return sl.tensor(1)[1] end)
    fails_with('index 9 is out of range', function() t[9] = 1 end)
    fails_with('a range step must not be 0', function() return t[{ { 1, 2, 0 } }] end)
    fails_with('axis 3 is out of range for a 2-d tensor', function() return t:size(3) end)
    assert.are.same({ { 1, 2 }, { 3, 4 } }, t:totable())
  end)

  it('incompatible shapes', function()
    local t = sl.zeros(2, 3)
    fails_with('cannot be copied into shape (2, 3)', function() t:copy(sl.zeros(4)) end)
    fails_with('cannot be copied into shape (3,)', function() t[1] = sl.zeros(2) end)
    fails_with('cannot reshape 6 elements into a shape of 4', function() return t:view(2, 2) end)
    fails_with('cannot infer the -1 size', function() return t:reshape(-1, 4) end)
    fails_with('only one size may be -1', function() return t:reshape(-1, -1) end)
    fails_with('do not allow the new shape without a copy',
      function() return t:transpose():view(6) end)
    fails_with('cannot broadcast to (2, 4)', function() return sl.zeros(3):expand(2, 4) end)
    fails_with('dimension 1 has size 2, not 1', function() return t:squeeze(1) end)
    fails_with('not a permutation', function() return t:permute(1, 1) end)
    fails_with('permute: 1 axes given for a 2-d tensor', function() return t:permute(1) end)
    fails_with('size -1 of dimension 2 is negative', sl.zeros, 2, -1)
    fails_with('at most 16 dimensions', sl.zeros, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
  end)

  it('wrong argument types', function()
    fails_with('expected a tensor, got table', function() return sl.core.tensor_methods.numel({}) end)
    fails_with('a size must be an integer, got string', function() return sl.zeros({ 'a' }) end)
    fails_with('expected a number or boolean, got string', function() sl.zeros(2):fill('x') end)
    fails_with("cannot set field 'foo' of a tensor", function() sl.zeros(2).foo = 1 end)
    fails_with('a 0-d tensor has no length', function() return #sl.tensor(1) end)
    fails_with('item: the tensor has 2 elements, not 1', function() return sl.zeros(2):item() end)
  end)

  it('bad nested tables', function()
    fails_with('ragged nested table: [2] has 1 elements, expected 2', sl.tensor, { { 1, 2 }, { 3 } })
    fails_with('element [2][1] is string', sl.tensor, { { 1 }, { 'x' } })
    fails_with('element [2] is number where a table of 1 was expected', sl.tensor, { { 1 }, 2 })
    fails_with('mixes booleans and numbers', sl.tensor, { true, 1 })
  end)

  it('bad constructor arguments', function()
    fails_with('high (1) must be greater than low (1)', sl.randint, 1, 1, { 2 })
    fails_with('randint: dtype must be an integer type, not float32', sl.randint, 0, 2, { 2 }, 'float32')
    fails_with('rand: dtype must be float32 or float64, not int32', sl.rand, 2, 'int32')
    fails_with('arange: start, stop and step must be finite and step non-zero', sl.arange, 0, 1, 0)
    fails_with('linspace: the count -1 is negative', sl.linspace, 0, 1, -1)
    fails_with('eye: sizes must not be negative', sl.eye, -1)
  end)

  it('keep their reason when they echo a long value: the value is clipped, not the end', function()
    local name = string.rep('k', 5000)
    local err = fails_with('(settings: floatX, ', function() return sl.config[name] end)
    assert.is_truthy(err:find("unknown setting 'kkkk", 1, true), err)
    assert.is_truthy(err:find("kkkk \226\128\166 kkkk", 1, true), err)   -- the name's ends around an ellipsis
    assert.is_truthy(#err < 1024, #err)
    fails_with('cache_dir: the path has a NUL byte at byte 2 of 3', function() sl.config.cache_dir = 'a\0b' end)
  end)
end)

-- Every integral Lua number below 2^63 is an exact integer: a size or index
-- past 2^53 is refused for its real reason (memory, the axis), not for not
-- being an integer.
describe('large sizes and indices', function()
  local TOO_MANY = 'has more than the 2^60 - 1 elements a tensor can hold'
  it('name the limit on elements for sizes', function()
    fails_with('shape (4611686018427387904,) ' .. TOO_MANY, sl.zeros, 2 ^ 62)
    fails_with('shape (4611686018427387904,) ' .. TOO_MANY, sl.ones, 2 ^ 62)
    fails_with('shape (2147483648, 2147483648, 4) ' .. TOO_MANY, sl.rand, 2 ^ 31, 2 ^ 31, 4)
    fails_with('shape (2147483648, 2147483648) ' .. TOO_MANY, sl.eye, 2 ^ 31)
    fails_with('shape (4611686018427387904,) ' .. TOO_MANY, sl.linspace, 0, 1, 2 ^ 62)
    fails_with('reshape: shape (8589934592, 8589934592) ' .. TOO_MANY,
               function() return sl.zeros(2, 3):view(2 ^ 33, 2 ^ 33) end)
    fails_with('arange: 4611686018427387904 elements is too many (at most 10^15)', sl.arange, 2 ^ 62)
    fails_with('a size must be an integer from -2^62 to 2^62, got 18446744073709551616',
               sl.zeros, 2 ^ 64)
    fails_with('randint: the range [-4611686018427387904, 4611686018427387904) is wider than 2^63 - 1',
               sl.randint, -2 ^ 62, 2 ^ 62, 3)
    fails_with('a size must be an integer, got 1.5', sl.zeros, 1.5)
    fails_with('a size must be an integer, got inf', sl.zeros, math.huge)
  end)

  it('name the axis for indices', function()
    local t = sl.zeros(3)
    fails_with('index 1152921504606846976 is out of range for dimension 1 of size 3',
               function() return t[2 ^ 60] end)
    fails_with('index -1152921504606846976 is out of range for dimension 1 of size 3',
               function() t[-2 ^ 60] = 1 end)
    fails_with('index 1152921504606846976 is out of range for dimension 1 of size 2',
               function() return sl.zeros(2, 3):select(1, 2 ^ 60) end)
    fails_with('axis 1099511627776 is out of range for a 2-d tensor',
               function() return sl.zeros(2, 3):size(2 ^ 40) end)
    fails_with('narrow: 1152921504606846976 elements from 1 exceed dimension 1 of size 2',
               function() return sl.zeros(2, 3):narrow(1, 1, 2 ^ 60) end)
  end)

  it('refuse symbolic shapes too large to exist, where the graph is built', function()
    local x = sl.vector('x')
    fails_with('reshape: shape (2147483648, 2147483648, 4) ' .. TOO_MANY,
               function() return x:reshape({ 2 ^ 31, 2 ^ 31, 4 }) end)
    fails_with('a static shape ' .. TOO_MANY,
               function() return sl.tensor_type('float64', { 2 ^ 31, 2 ^ 31, 4 })('a') end)
    fails_with('tile: 4611686018427387904 repetitions make more than the 2^60 - 1 elements',
               function() return sl.tile(sl.tensor_type('float64', { 3 })('v'), 2 ^ 62) end)
    fails_with('repeat: 4611686018427387904 repeats make more than the 2^60 - 1 elements',
               function() return sl['repeat'](sl.tensor_type('float64', { 3 })('w'), 2 ^ 62, 1) end)
    fails_with('tile: the result float64 (1099511627776, 1099511627776) ' .. TOO_MANY,
               function() return sl.tile(sl.tensor_type('float64', { 1, 1 })('w'), { 2 ^ 40, 2 ^ 40 }) end)
  end)
end)
