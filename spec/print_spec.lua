-- Printing: tostring(t) lays tensors out like NumPy's repr, checked against
-- hand-written strings and against NumPy itself where it is installed.
local sl = require 'symlua'

local PY = '/usr/bin/python3'
local nan, inf = 0 / 0, 1 / 0

describe('tostring of a tensor', function()
  it('shows small tensors with shape and dtype', function()
    assert.are.equal('tensor([1, 2, 3], shape=(3,), dtype=int64)', tostring(sl.tensor({ 1, 2, 3 })))
    assert.are.equal('tensor([[ 1.5,  2. ],\n' ..
                     '        [ 3. , -4. ]], shape=(2, 2), dtype=float64)',
                     tostring(sl.tensor({ { 1.5, 2 }, { 3, -4 } })))
    assert.are.equal('tensor(3.5, shape=(), dtype=float64)', tostring(sl.tensor(3.5)))
    assert.are.equal('tensor(True, shape=(), dtype=bool)', tostring(sl.tensor(true)))
    assert.are.equal('tensor([ True, False], shape=(2,), dtype=bool)', tostring(sl.tensor({ true, false })))
  end)

  it('shows empty tensors as [] with their shape', function()
    assert.are.equal('tensor([], shape=(0,), dtype=float32)', tostring(sl.zeros(0, 'float32')))
    assert.are.equal('tensor([], shape=(2, 0), dtype=float64)', tostring(sl.zeros(2, 0)))
  end)

  it('aligns decimal points and keeps the fewest digits', function()
    assert.are.equal('tensor([1.  , 2.25], shape=(2,), dtype=float64)', tostring(sl.tensor({ 1, 2.25 }, 'float64')))
    assert.are.equal('tensor([0.1], shape=(1,), dtype=float32)', tostring(sl.tensor({ 0.1 }, 'float32')))
    assert.are.equal('tensor([-0.,  1.], shape=(2,), dtype=float64)', tostring(sl.tensor({ -0.0, 1 }, 'float64')))
    assert.are.equal('tensor([0.33333333, 1.        ], shape=(2,), dtype=float64)',
                     tostring(sl.tensor({ 1 / 3, 1 })))
  end)

  it('switches to scientific notation by NumPy\'s rule', function()
    assert.are.equal('tensor([1.e-05, 1.e+00], shape=(2,), dtype=float64)', tostring(sl.tensor({ 1e-5, 1 })))
    assert.are.equal('tensor([1.5e+09, 2.0e+00], shape=(2,), dtype=float64)', tostring(sl.tensor({ 1.5e9, 2 }, 'float64')))
    assert.are.equal('tensor([   1., 1000.], shape=(2,), dtype=float64)', tostring(sl.tensor({ 1, 1000 }, 'float64')))
    assert.are.equal('tensor([1.e+00, 1.e+04], shape=(2,), dtype=float64)', tostring(sl.tensor({ 1, 10000 }, 'float64')))
  end)

  it('prints nan and inf in the column', function()
    assert.are.equal('tensor([ nan,  inf, -inf, 1.25], shape=(4,), dtype=float64)',
                     tostring(sl.tensor({ nan, inf, -inf, 1.25 })))
  end)

  it('summarizes past 1000 elements and wraps long rows', function()
    assert.are.equal('tensor([   0,    1,    2, ..., 1997, 1998, 1999],\n' ..
                     '       shape=(2000,), dtype=int64)', tostring(sl.arange(2000)))
    assert.are.equal('tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15,\n' ..
                     '        16, 17, 18, 19, 20, 21, 22, 23, 24], shape=(25,), dtype=int64)',
                     tostring(sl.arange(25)))
  end)

  it('parts the blocks of a 3-d tensor by blank lines', function()
    assert.are.equal('tensor([[[0, 1],\n' ..
                     '         [2, 3]],\n' ..
                     '\n' ..
                     '        [[4, 5],\n' ..
                     '         [6, 7]]], shape=(2, 2, 2), dtype=int64)',
                     tostring(sl.arange(8):reshape(2, 2, 2)))
  end)

  it('prints the logical values of views', function()
    assert.are.equal('tensor([[0, 2],\n' ..
                     '        [1, 3]], shape=(2, 2), dtype=int64)', tostring(sl.arange(4):reshape(2, 2):transpose()))
    assert.are.equal('tensor([0, 3, 6], shape=(3,), dtype=int64)', tostring(sl.arange(9)[{ { 1, 9, 3 } }]))
    assert.are.equal('tensor([[1, 2],\n' ..
                     '        [1, 2]], shape=(2, 2), dtype=int64)', tostring(sl.tensor({ 1, 2 }):expand(2, 2)))
  end)
end)

-- Each case: a symlua tensor and the NumPy expression for the same array.
local cases = {
  { 'ints', function() return sl.tensor({ 1, 2, 3 }) end, 'np.array([1, 2, 3])' },
  { 'negative ints', function() return sl.tensor({ { -1, 20 }, { 300, -4000 } }) end,
    'np.array([[-1, 20], [300, -4000]])' },
  { 'int32', function() return sl.tensor({ 5, -7, 123 }, 'int32') end, 'np.array([5, -7, 123], np.int32)' },
  { 'uint8', function() return sl.tensor({ 0, 255, 7 }, 'uint8') end, 'np.array([0, 255, 7], np.uint8)' },
  { 'mixed floats', function() return sl.tensor({ 1.5, 2.25, -3.125, 0.1 }) end,
    'np.array([1.5, 2.25, -3.125, 0.1])' },
  { 'integral floats', function() return sl.tensor({ 1, 2, -30 }, 'float64') end, 'np.array([1., 2., -30.])' },
  { 'precision cut', function() return sl.tensor({ 1 / 3, 2 / 3, 0.001953125, 1.000000001 }) end,
    'np.array([1/3, 2/3, 0.001953125, 1.000000001])' },
  { 'small (scientific)', function() return sl.tensor({ 1e-5, 1, 2.5 }) end, 'np.array([1e-5, 1, 2.5])' },
  { 'large (scientific)', function() return sl.tensor({ 1e9, -1, 0 }, 'float64') end, 'np.array([1e9, -1., 0.])' },
  { 'wide ratio', function() return sl.tensor({ 1.5, 2000.25 }) end, 'np.array([1.5, 2000.25])' },
  { 'huge exponent', function() return sl.tensor({ 1e100, 1.5, nan, -inf }) end,
    'np.array([1e100, 1.5, np.nan, -np.inf])' },
  { 'nan and inf', function() return sl.tensor({ nan, inf, -inf, 0.5 }) end,
    'np.array([np.nan, np.inf, -np.inf, 0.5])' },
  { 'only nan', function() return sl.tensor({ nan, nan }) end, 'np.array([np.nan, np.nan])' },
  { 'negative zero', function() return sl.tensor({ -0.0, 2.5 }) end, 'np.array([-0.0, 2.5])' },
  { 'float32', function() return sl.tensor({ 0.1, 0.2, 1 / 3 }, 'float32') end,
    'np.array([0.1, 0.2, 1/3], np.float32)' },
  { 'float32 scientific', function() return sl.tensor({ 0.1, 1.23456789e-5 }, 'float32') end,
    'np.array([0.1, 1.23456789e-5], np.float32)' },
  { 'float32 large', function() return sl.tensor({ 99999992, 33554436, 12345.678 }, 'float32') end,
    'np.array([99999992, 33554436, 12345.678], np.float32)' },
  { 'bools', function() return sl.tensor({ true, false, true }) end, 'np.array([True, False, True])' },
  { 'all true', function() return sl.tensor({ { true }, { true } }) end, 'np.array([[True], [True]])' },
  { '0-d float', function() return sl.tensor(3.5) end, 'np.array(3.5)' },
  { '0-d int', function() return sl.tensor(-7) end, 'np.array(-7)' },
  { '0-d large', function() return sl.tensor(1e10, 'float64') end, 'np.array(1e10)' },
  { '0-d bool', function() return sl.tensor(false) end, 'np.array(False)' },
  { 'empty', function() return sl.zeros(0, 'float32') end, 'np.zeros(0, np.float32)' },
  { 'empty 2-d', function() return sl.zeros(2, 0) end, 'np.zeros((2, 0))' },
  { '2-d', function() return sl.arange(6):reshape(2, 3) end, 'np.arange(6).reshape(2, 3)' },
  { '3-d', function() return (sl.arange(24, 'float64') / 7):reshape(2, 3, 4) end,
    '(np.arange(24.) / 7).reshape(2, 3, 4)' },
  { '4-d', function() return sl.arange(48):reshape(2, 2, 3, 4) end, 'np.arange(48).reshape(2, 2, 3, 4)' },
  { '2000 ints', function() return sl.arange(2000) end, 'np.arange(2000)' },
  { '2000 floats', function() return sl.arange(2000, 'float64') / 3 end, 'np.arange(2000.) / 3' },
  { '50x50', function() return sl.arange(2500):reshape(50, 50) end, 'np.arange(2500).reshape(50, 50)' },
  { '50x50 floats', function() return (sl.arange(2500, 'float64') / 1000):reshape(50, 50) end,
    '(np.arange(2500.) / 1000).reshape(50, 50)' },
  { 'summarized 3-d', function() return sl.arange(3000):reshape(10, 10, 30) end,
    'np.arange(3000).reshape(10, 10, 30)' },
  { 'summarized 4-d', function() return sl.arange(4096, 'float32'):reshape(8, 8, 8, 8) end,
    'np.arange(4096, dtype=np.float32).reshape(8, 8, 8, 8)' },
  { 'wide row', function() return sl.arange(30, 'float64') / 7 end, 'np.arange(30.) / 7' },
  { 'wide int row', function() return sl.arange(100) * 1000 end, 'np.arange(100) * 1000' },
  { 'wide 2-d', function() return (sl.arange(60, 'float64') / 7):reshape(2, 30) end,
    '(np.arange(60.) / 7).reshape(2, 30)' },
  { 'wide 3-d', function() return (sl.arange(80, 'float64') / 3):reshape(2, 2, 20) end,
    '(np.arange(80.) / 3).reshape(2, 2, 20)' },
  { 'transposed', function() return sl.arange(12):reshape(3, 4):transpose() end,
    'np.arange(12).reshape(3, 4).T' },
  { 'stepped', function() return sl.arange(20)[{ { 1, 20, 3 } }] end, 'np.arange(20)[0:20:3]' },
  { 'stepped backwards', function() return (sl.arange(30, 'float64') / 4)[{ { 30, 1, -4 } }] end,
    '(np.arange(30.) / 4)[29::-4]' },
  { 'broadcast', function() return sl.tensor({ 1.5, -2, 3 }):expand(2, 3) end,
    'np.broadcast_to(np.array([1.5, -2, 3]), (2, 3))' },
  { 'float32 cast', function() return (sl.arange(10, 'float64') / 3):cast('float32') end,
    '(np.arange(10.) / 3).astype(np.float32)' },
}

-- NumPy's array2string with the prefix and suffix that our repr uses; the
-- tail is then put where NumPy's repr puts its dtype.
local function numpy_outputs()
  local lines = { 'import numpy as np', 'cases = []' }
  for _, c in ipairs(cases) do lines[#lines + 1] = 'cases.append(' .. c[3] .. ')' end
  lines[#lines + 1] = [[
for a in cases:
    body = np.array2string(a, separator=', ', prefix='tensor(', suffix=',')
    print(body + '\x1f' + repr(a.shape) + '\x1f' + str(a.dtype) + '\x1e')
]]
  local path = os.tmpname()
  local f = assert(io.open(path, 'w'))
  f:write(table.concat(lines, '\n'))
  f:close()
  local p = assert(io.popen(PY .. ' ' .. path))
  local out = p:read('*a')
  p:close()
  os.remove(path)
  local res = {}
  for rec in out:gmatch('(.-)\x1e\n') do
    local body, shape, dtype = rec:match('^(.*)\x1f(.*)\x1f(.*)$')
    res[#res + 1] = { body = body, shape = shape, dtype = dtype }
  end
  return res
end

local function expected(r)
  local head = 'tensor(' .. r.body .. ','
  local tail = 'shape=' .. r.shape .. ', dtype=' .. r.dtype .. ')'
  local last = head:match('([^\n]*)$')
  local sep = #last + 1 + #tail > 75 and '\n' .. string.rep(' ', #'tensor(') or ' '
  return head .. sep .. tail
end

describe('tostring matches NumPy', function()
  local have_numpy = os.execute(PY .. ' -c "import numpy" >/dev/null 2>&1')
  have_numpy = have_numpy == 0 or have_numpy == true
  if not have_numpy then
    pending('numpy not installed')
    return
  end
  local ref = numpy_outputs()

  it('gets one NumPy answer per case', function()
    assert.are.equal(#cases, #ref)
  end)

  for i, c in ipairs(cases) do
    it(c[1], function()
      assert.are.equal(expected(ref[i]), tostring(c[2]()))
    end)
  end
end)
