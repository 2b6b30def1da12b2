-- int8 and int16 (the elementwise table's checks against NumPy cover them
-- too, in elemwise_spec and codegen_spec): storage, .npy files NumPy reads,
-- casts at a compiled function's inputs by NumPy's "safe" rule, reductions.
local sl = require 'symlua'
local np = require 'spec.support.numpy'

describe('int8 and int16', function()
  it('store, print and index their values, wrapping like NumPy', function()
    local a = sl.tensor({ 100, 27, -128 }, 'int8')
    assert.are.equal('int8', a:dtype())
    assert.are.same({ -56, 54, 0 }, (a + a):totable())
    assert.are.equal(-128, a:data()[2])
    assert.are.same({ 300, 25536 }, sl.cast(sl.tensor({ 300, -40000 }), 'int16'):totable())
    assert.are.equal('tensor([ 100,   27, -128], shape=(3,), dtype=int8)', tostring(a))
  end)

  it('promote as NumPy does', function()
    local i8, u8, i16 = sl.zeros(2, 'int8'), sl.zeros(2, 'uint8'), sl.zeros(2, 'int16')
    assert.are.equal('int16', (i8 + u8):dtype())
    assert.are.equal('int16', (i8 + i16):dtype())
    assert.are.equal('float32', (i16 + sl.zeros(2, 'float32')):dtype())
    assert.are.equal('float32', sl.sqrt(i8):dtype())   -- NumPy: float16
    assert.are.equal('int64', sl.sum(i8):dtype())
  end)

  it('save to .npy files that NumPy reads, and load them back', function()
    if not np.available() then pending('numpy not installed') return end
    local a, b = sl.tensor({ { -128, 127 }, { 0, 5 } }, 'int8'), sl.tensor({ -32768, 32767 }, 'int16')
    local same, back_a, back_b = np.eval(
      'np.array([a.dtype == np.int8, b.dtype == np.int16]), a[::-1].copy(), b * np.int16(-1)', { a = a, b = b })
    assert.are.same({ true, true }, same:totable())
    assert.are.equal('int8', back_a:dtype())
    assert.are.same({ { 0, 5 }, { -128, 127 } }, back_a:totable())
    assert.are.equal('int16', back_b:dtype())
    assert.are.same({ -32768, -32767 }, back_b:totable())   -- -(-32768) wraps in int16
  end)

  it('are accepted at compiled inputs by the safe rule and refused otherwise', function()
    local x = sl.tensor_type('int16', { -1 })('x')
    local f = sl.compile({ x }, x * 2)
    assert.are.same({ -256, 254 }, f(sl.tensor({ -128, 127 }, 'int8')):totable())
    assert.are.same({ 2, 4 }, f(sl.tensor({ 1, 2 }, 'uint8')):totable())
    local ok, e = pcall(f, sl.tensor({ 1 }, 'int32'))
    assert.is_false(ok)
    assert(tostring(e):find('int16', 1, true), tostring(e))
  end)
end)
