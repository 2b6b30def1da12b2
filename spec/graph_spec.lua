-- Symbols and the graph IR as Lua sees it: constructors, types, inspection.
local sl = require 'symlua'

describe('symbols', function()
  it('have a dtype and a static shape per constructor', function()
    local cases = {
      { sl.scalar('s'), 'float64', {} },
      { sl.vector('v'), 'float64', { -1 } },
      { sl.matrix('m'), 'float64', { -1, -1 } },
      { sl.tensor3('t3'), 'float64', { -1, -1, -1 } },
      { sl.tensor4('t4'), 'float64', { -1, -1, -1, -1 } },
      { sl.row('r'), 'float64', { 1, -1 } },
      { sl.col('c'), 'float64', { -1, 1 } },
      { sl.fmatrix('fm'), 'float32', { -1, -1 } },
      { sl.dvector('dv'), 'float64', { -1 } },
      { sl.ivector('iv'), 'int32', { -1 } },
      { sl.lvector('lv'), 'int64', { -1 } },
      { sl.bscalar('bs'), 'bool', {} },
      { sl.umatrix('um'), 'uint8', { -1, -1 } },
      { sl.matrix('m32', 'float32'), 'float32', { -1, -1 } },
    }
    for _, c in ipairs(cases) do
      local v, dtype, shape = c[1], c[2], c[3]
      assert.are.equal(dtype, v:dtype(), v:name())
      assert.are.same(shape, v:static_shape(), v:name())
      assert.are.equal(#shape, v:dim())
      assert.are.equal('input', v:kind())
      assert.is_true(sl.is_var(v))
      assert.is_false(sl.is_tensor(v))
    end
  end)

  it('tensor_type makes inputs of any rank with known sizes', function()
    local T = sl.tensor_type('float32', { 2, -1, 1, 5, -1 })
    local x = T('x')
    assert.are.same({ 2, -1, 1, 5, -1 }, x:static_shape())
    assert.are.same({ dtype = 'float32', shape = { 2, -1, 1, 5, -1 } }, x:type())
    assert.are.equal('x', x:name())
  end)

  it('follow config.floatX', function()
    sl.config.floatX = 'float32'
    local ok, err = pcall(function()
      assert.are.equal('float32', sl.matrix('m'):dtype())
      assert.are.equal('float32', (sl.ivector('i') * 0.5):dtype())
    end)
    sl.config.floatX = 'float64'
    assert(ok, err)
    assert.are.equal('float64', sl.matrix('m'):dtype())
    assert.has_error(function() sl.config.floatX = 'int32' end)
  end)
end)

describe('graphs', function()
  it('are inspectable: owner, op, inputs, names, where', function()
    local x, y = sl.vector('x'), sl.vector('y')
    local z = sl.exp(x) * y
    local node = z:owner()
    assert.are.equal('mul', node:op())
    local ins = node:inputs()
    assert.are.equal(2, #ins)
    assert.are.equal('exp', ins[1]:owner():op())
    assert.are.equal('x', ins[1]:owner():inputs()[1]:name())
    assert.are.equal('y', ins[2]:name())
    assert.are.equal('result', z:kind())
    assert.is_nil(x:owner())
    assert.is_truthy(z:where():find('graph_spec.lua:%d+$'))
    assert.are.equal(z, z:name('z'))
    assert.are.equal('z', z:name())
    assert.is_truthy(tostring(z):find('var z: float64 %(%?,%)'))
  end)

  it('broadcast static shapes and reject conflicts at build time', function()
    local r, c = sl.row('r'), sl.col('c')
    assert.are.same({ -1, -1 }, (r + c):static_shape())
    local a = sl.tensor_type('float64', { 3, 4 })('a')
    local b = sl.tensor_type('float64', { 5, 4 })('b')
    local ok, err = pcall(function() return a + b end)
    assert.is_false(ok)
    assert.is_truthy(err:find('graph_spec.lua:%d+: add: shapes do not broadcast'))
    assert.are.same({ 3, 4 }, (a * sl.row('q')):static_shape())
  end)

  it('weak Lua numbers keep the dtype of the symbol', function()
    assert.are.equal('float32', (sl.fvector('f') * 0.5):dtype())
    assert.are.equal('int32', (sl.ivector('i') + 1):dtype())
    assert.are.equal('float64', (sl.ivector('i') * 0.5):dtype())
    assert.are.equal('int64', (sl.bvector('b') + 1):dtype())
    assert.are.equal('float64', (sl.ivector('i') / 2):dtype())
    assert.are.equal('bool', sl.lt(sl.fvector('f'), 1):dtype())
  end)

  it('tensors mixed with symbols become constants', function()
    local x = sl.vector('x')
    local t = sl.tensor({ 1, 2, 3 }, 'float64')
    local y = t + x
    local c = y:owner():inputs()[1]
    assert.are.equal('constant', c:kind())
    assert.are.same({ 1, 2, 3 }, c:get_value():totable())
    local f = sl.compile({ x }, y)
    assert.are.same({ 11, 12, 13 }, f({ 10, 10, 10 }):totable())
  end)

  it('operators on two tensors evaluate at once', function()
    local a, b = sl.tensor({ 1, 2 }, 'float64'), sl.tensor({ { 10 }, { 20 } }, 'float64')
    local s = a + b
    assert.is_true(sl.is_tensor(s))
    assert.are.same({ { 11, 12 }, { 21, 22 } }, s:totable())
    assert.are.same({ -1, -2 }, (-a):totable())
    assert.are.same({ 1, 4 }, (a ^ 2):totable())
    assert.are.same({ 0.5, 1 }, (a / 2):totable())
    assert.are.same({ 1, 0 }, (a % 2):totable())
    assert.are.same({ 1, 2 }, sl.exp(sl.log(a)):totable())
  end)
end)

describe('shared variables', function()
  it('hold a copy of their value in the core', function()
    local t = sl.tensor({ 1, 2 }, 'float64')
    local w = sl.shared(t, 'w')
    t[1] = 100
    assert.are.same({ 1, 2 }, w:get_value():totable())
    local v = w:get_value()
    v[1] = -1
    assert.are.same({ 1, 2 }, w:get_value():totable())
    w:set_value(sl.tensor({ 5, 6, 7 }, 'float64'))   -- sizes may change, rank may not
    assert.are.same({ 5, 6, 7 }, w:get_value():totable())
    assert.are.equal('shared', w:kind())
    assert.are.same({ -1 }, w:static_shape())
    assert.has_error(function() w:set_value(sl.zeros(2, 2)) end)
    local ok, err = pcall(function() w:set_value(sl.zeros(2, 'float32')) end)
    assert.is_false(ok)
    assert.is_truthy(err:find("set_value: shared variable 'w' is float64 %(%?,%), got float32 %(2,%)"))
  end)
end)
