-- Tensors: construction, queries, 1-based indexing, views and copies.
local sl = require 'symlua'

local function shape(t) return table.concat(t:shape(), 'x') end

describe('tensor construction', function()
  it('infers shape and dtype from nested tables', function()
    local t = sl.tensor({ { 1, 2, 3 }, { 4, 5, 6 } })
    assert.are.equal('2x3', shape(t))
    assert.are.equal('int64', t:dtype())
    assert.are.equal(2, t:dim())
    assert.are.equal(6, t:numel())
    assert.are.equal(2, #t)
    assert.are.same({ { 1, 2, 3 }, { 4, 5, 6 } }, t:totable())
    assert.are.equal('float64', sl.tensor({ 1, 2.5 }):dtype())
    assert.are.equal('bool', sl.tensor({ true, false }):dtype())
    assert.are.same({ true, false }, sl.tensor({ true, false }):totable())
  end)

  it('takes an explicit dtype and converts', function()
    local t = sl.tensor({ 1.7, -2.2, 0 }, 'int32')
    assert.are.equal('int32', t:dtype())
    assert.are.same({ 1, -2, 0 }, t:totable())
    assert.are.same({ true, false, true }, sl.tensor({ 3, 0, -1 }, 'bool'):totable())
    assert.are.same({ 255, 1 }, sl.tensor({ 255, 1 }, 'uint8'):totable())
  end)

  it('makes 0-d and empty tensors', function()
    local s = sl.tensor(3.5)
    assert.are.equal(0, s:dim())
    assert.are.equal(3.5, s:item())
    assert.are.equal('', shape(s))
    local e = sl.zeros(2, 0)
    assert.are.equal(0, e:numel())
    assert.are.equal('2x0', shape(e))
    assert.are.same({ {}, {} }, e:totable())
  end)

  it('zeros, ones, full, eye', function()
    assert.are.same({ { 0, 0 }, { 0, 0 } }, sl.zeros(2, 2):totable())
    assert.are.same({ 1, 1, 1 }, sl.ones(3, 'int32'):totable())
    assert.are.equal('int32', sl.ones({ 3 }, 'int32'):dtype())
    assert.are.equal(sl.config.floatX, sl.zeros(1):dtype())
    assert.are.same({ { 7, 7, 7 } }, sl.full({ 1, 3 }, 7):totable())
    assert.are.same({ { 1, 0, 0 }, { 0, 1, 0 } }, sl.eye(2, 3):totable())
    assert.are.same({ { 1, 0 }, { 0, 1 } }, sl.eye(2):totable())
  end)

  it('arange is half-open like NumPy', function()
    assert.are.same({ 0, 1, 2, 3, 4 }, sl.arange(5):totable())
    assert.are.equal('int64', sl.arange(5):dtype())
    assert.are.same({ 2, 4, 6, 8 }, sl.arange(2, 10, 2):totable())
    assert.are.same({ 5, 3, 1 }, sl.arange(5, 0, -2):totable())
    assert.are.same({ 0, 0.5, 1, 1.5 }, sl.arange(0, 2, 0.5):totable())
    assert.are.equal('float32', sl.arange(3, 'float32'):dtype())
    assert.are.equal(0, sl.arange(3, 3):numel())
  end)

  it('linspace includes both ends', function()
    assert.are.same({ 0, 0.25, 0.5, 0.75, 1 }, sl.linspace(0, 1, 5):totable())
    assert.are.same({ 2 }, sl.linspace(2, 3, 1):totable())
    assert.are.equal(50, sl.linspace(0, 1):numel())
  end)

  it('zeros_like and ones_like keep shape and dtype', function()
    local t = sl.tensor({ { 1, 2 } }, 'float32')
    local z = sl.zeros_like(t)
    assert.are.equal('1x2', shape(z))
    assert.are.equal('float32', z:dtype())
    assert.are.same({ { 1, 1 } }, sl.ones_like(t):totable())
  end)
end)

describe('tensor indexing (1-based)', function()
  local t
  before_each(function() t = sl.tensor({ { 1, 2, 3 }, { 4, 5, 6 } }) end)

  it('t[i] selects along the first axis, numbers at the last', function()
    assert.are.same({ 4, 5, 6 }, t[2]:totable())
    assert.are.equal(6, t[2][3])
    assert.are.same({ 4, 5, 6 }, t[-1]:totable())
    assert.are.equal(4, t[-1][1])
    assert.are.equal(3, sl.tensor({ 1, 2, 3 })[-1])
  end)

  it('t[{...}] takes numbers and inclusive ranges', function()
    assert.are.equal(6, t[{ 2, 3 }])
    assert.are.equal(5, t[{ -1, -2 }])
    assert.are.same({ { 2, 3 }, { 5, 6 } }, t[{ {}, { 2, 3 } }]:totable())
    assert.are.same({ 2, 5 }, t[{ {}, 2 }]:totable())
    assert.are.same({ 4, 5 }, t[{ 2, { 1, 2 } }]:totable())
    assert.are.same({ { 1, 2, 3 } }, t[{ { 1 } }]:totable())
    assert.are.same({ { 1, 3 }, { 4, 6 } }, t[{ {}, { 1, -1, 2 } }]:totable())
  end)

  it('ranges take steps, negative ones too', function()
    local v = sl.arange(10)
    assert.are.same({ 0, 3, 6, 9 }, v[{ { 1, 10, 3 } }]:totable())
    assert.are.same({ 9, 8, 7 }, v[{ { 10, 8, -1 } }]:totable())
    assert.are.same({ 9, 7, 5, 3, 1 }, v[{ { nil, nil, -2 } }]:totable())
    assert.are.equal(0, v[{ { 5, 4 } }]:numel())
  end)

  it('assigns through the same forms', function()
    t[{ 1, 2 }] = 20
    assert.are.equal(20, t[1][2])
    t[2] = 0
    assert.are.same({ 0, 0, 0 }, t[2]:totable())
    t[{ {}, 3 }] = sl.tensor({ 30, 60 })
    assert.are.same({ { 1, 20, 30 }, { 0, 0, 60 } }, t:totable())
    t[{ 2, { 1, 2 } }] = { 7, 8 }
    assert.are.same({ 7, 8, 60 }, t[2]:totable())
    local v = sl.zeros(3)
    v[2] = 5
    assert.are.same({ 0, 5, 0 }, v:totable())
    local b = sl.tensor({ true, true })
    b[2] = false
    assert.are.same({ true, false }, b:totable())
  end)

  it('assignment broadcasts a row over a block', function()
    local m = sl.zeros(3, 2)
    m[{ { 2, 3 } }] = sl.tensor({ 1, 2 })
    assert.are.same({ { 0, 0 }, { 1, 2 }, { 1, 2 } }, m:totable())
  end)

  it('writes through views into the original', function()
    local row = t[1]
    row[1] = 100
    assert.are.equal(100, t[1][1])
    local col = t[{ {}, 2 }]
    col:fill(-1)
    assert.are.same({ { 100, -1, 3 }, { 4, -1, 6 } }, t:totable())
  end)
end)

describe('tensor queries', function()
  it('shape, size, stride, dim, numel, dtype', function()
    local t = sl.zeros(2, 3, 4)
    assert.are.same({ 2, 3, 4 }, t:shape())
    assert.are.equal(3, t:size(2))
    assert.are.equal(4, t:size(-1))
    assert.are.same({ 12, 4, 1 }, t:stride())
    assert.are.equal(24, t:numel())
    assert.is_true(t:is_contiguous())
    assert.is_true(sl.is_tensor(t))
    assert.is_false(sl.is_tensor({}))
  end)

  it('item reads the one element of any shape', function()
    assert.are.equal(7, sl.tensor({ { 7 } }):item())
    assert.are.equal(true, sl.tensor(true):item())
  end)
end)

describe('views share storage', function()
  it('view and reshape', function()
    local t = sl.arange(6)
    local v = t:view(2, 3)
    assert.are.same({ { 0, 1, 2 }, { 3, 4, 5 } }, v:totable())
    v[{ 1, 1 }] = 9
    assert.are.equal(9, t[1])
    assert.are.same({ 3, 2 }, t:view(-1, 2):shape())
    assert.are.same({ 6 }, v:view({ 6 }):shape())
    local tt = v:transpose()
    assert.is_false(tt:is_contiguous())
    local r = tt:reshape(6)   -- needs a copy: values in transposed order
    assert.are.same({ 9, 3, 1, 4, 2, 5 }, r:totable())
    r[1] = -5
    assert.are.equal(9, t[1])
    -- reshape of a contiguous tensor is a view
    t:reshape(3, 2)[1][1] = 42
    assert.are.equal(42, t[1])
  end)

  it('view of a non-contiguous tensor when strides allow', function()
    local t = sl.arange(24):view(2, 3, 4):transpose(1, 2)   -- 3x2x4
    local v = t:view(3, 2, 2, 2)   -- splitting the last axis needs no copy
    assert.are.equal(t[{ 3, 2, 4 }], v[{ 3, 2, 2, 2 }])
  end)

  it('permute and transpose', function()
    local t = sl.arange(24):view(2, 3, 4)
    local p = t:permute(3, 1, 2)
    assert.are.same({ 4, 2, 3 }, p:shape())
    assert.are.equal(t[{ 2, 3, 4 }], p[{ 4, 2, 3 }])
    assert.are.equal(t[{ 1, 2, 3 }], p[{ 3, 1, 2 }])
    local m = sl.tensor({ { 1, 2 }, { 3, 4 }, { 5, 6 } })
    assert.are.same({ { 1, 3, 5 }, { 2, 4, 6 } }, m:transpose(1, 2):totable())
    assert.are.same({ { 1, 3, 5 }, { 2, 4, 6 } }, m:transpose():totable())
  end)

  it('select, narrow and slice', function()
    local m = sl.tensor({ { 1, 2, 3 }, { 4, 5, 6 } })
    assert.are.same({ 2, 5 }, m:select(2, 2):totable())
    assert.are.same({ { 2, 3 }, { 5, 6 } }, m:narrow(2, 2, 2):totable())
    assert.are.same({ { 1, 3 }, { 4, 6 } }, m:slice(2, 1, 3, 2):totable())
  end)

  it('expand gives stride 0 views', function()
    local c = sl.tensor({ 1, 2, 3 }):view(3, 1)
    local e = c:expand(3, 4)
    assert.are.same({ 1, 0 }, e:stride())
    assert.are.same({ 3, 3, 3, 3 }, e[3]:totable())
    local r = sl.tensor({ 1, 2 }):broadcast_to(2, 2)
    assert.are.same({ { 1, 2 }, { 1, 2 } }, r:totable())
    assert.are.same({ 2, 3, 1 }, c:expand(2, -1, -1):shape())
    assert.are.same({ 2, 2 }, sl.tensor({ 5 }):expand(sl.zeros(2, 2)):shape())
  end)

  it('squeeze and unsqueeze', function()
    local t = sl.zeros(1, 3, 1)
    assert.are.same({ 3 }, t:squeeze():shape())
    assert.are.same({ 3, 1 }, t:squeeze(1):shape())
    assert.are.same({ 1, 3 }, t:squeeze(-1):shape())
    local v = sl.arange(3)
    assert.are.same({ 1, 3 }, v:unsqueeze(1):shape())
    assert.are.same({ 3, 1 }, v:unsqueeze(2):shape())
    assert.are.same({ 3, 1 }, v:unsqueeze(-1):shape())
    assert.are.same({ { 0 }, { 1 }, { 2 } }, v:unsqueeze(2):totable())
  end)
end)

describe('copies', function()
  it('contiguous, clone and cast copy only when needed', function()
    local t = sl.tensor({ { 1, 2 }, { 3, 4 } })
    local tt = t:transpose()
    local c = tt:contiguous()
    assert.is_true(c:is_contiguous())
    assert.are.same({ { 1, 3 }, { 2, 4 } }, c:totable())
    c[1][1] = 0
    assert.are.equal(1, t[1][1])
    local k = t:clone()
    k[1][1] = 9
    assert.are.equal(1, t[1][1])
    local f = t:cast('float32')
    assert.are.equal('float32', f:dtype())
    assert.are.same(t:totable(), f:totable())
    assert.are.same({ 1.5, -2.5 }, sl.tensor({ 1.5, -2.5 }, 'float32'):totable())
    assert.are.same({ 1, -2 }, sl.tensor({ 1.5, -2.5 }):cast('int32'):totable())
  end)

  it('copy broadcasts and converts into the destination', function()
    local d = sl.zeros(2, 3, 'int32')
    d:copy(sl.tensor({ 1.9, 2, 3 }))
    assert.are.same({ { 1, 2, 3 }, { 1, 2, 3 } }, d:totable())
    d:copy({ { 1 }, { 2 } })
    assert.are.same({ { 1, 1, 1 }, { 2, 2, 2 } }, d:totable())
  end)

  it('copy between overlapping views of one tensor', function()
    local t = sl.arange(6)
    t[{ { 2, 6 } }] = t[{ { 1, 5 } }]
    assert.are.same({ 0, 0, 1, 2, 3, 4 }, t:totable())
  end)

  it('fill on strided views and every dtype', function()
    for _, dt in ipairs(sl.dtypes) do
      local t = sl.zeros(3, 4, dt)
      t[{ {}, { 1, 4, 3 } }]:fill(1)
      local one = dt == 'bool' and true or 1
      local zero = 0
      if dt == 'bool' then zero = false end
      local row = dt:match('^complex') and t[2]:real() or t[2]   -- Lua numbers are real
      assert.are.same({ one, zero, zero, one }, row:totable())
    end
  end)
end)

describe('FFI access', function()
  it('t:data() points at the first element', function()
    local t = sl.arange(10, 'float64')
    local p = t:data()
    local s = 0
    for i = 0, 9 do s = s + p[i] end
    assert.are.equal(45, s)
    p[0] = 100
    assert.are.equal(100, t[1])
    local v = t[{ { 3, 10 } }]
    assert.are.equal(2, v:data()[0])
    assert.are.equal(7, sl.tensor({ 7 }, 'int32'):data()[0])
  end)
end)

describe('0-d constructors', function()
  it('take no sizes at all', function()
    assert.are.equal(0, require('symlua').randn():dim())
    assert.are.equal('float32', require('symlua').zeros('float32'):dtype())
    assert.are.equal(1, require('symlua').ones():item())
  end)
end)
