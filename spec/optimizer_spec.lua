-- The optimizer's engine: options, the list of rewrites, merge, constant
-- folding, the trace, and that an optimized function computes what the
-- graph as written computes.
local sl = require 'symlua'
local files = require 'spec.support.files'

local function f64(t) return sl.tensor(t, 'float64') end

local check = require 'spec.support.check'
local err, count_ops = check.err, check.count_ops

describe('optimizer options', function()
  it('lists every rewrite with its pass and a description, passes in order', function()
    local list = sl.rewrites()
    local passes = { merge = 1, constant_folding = 2, canonicalize = 3, stabilize = 4,
                     specialize = 5, inplace = 6 }
    local names, last = {}, 0
    assert.is_true(#list >= 2)
    for _, r in ipairs(list) do
      assert.is_string(r.name)
      assert.is_nil(names[r.name], 'rewrite names are unique: ' .. r.name)
      names[r.name] = true
      assert.is_not_nil(passes[r.pass], r.name .. ' has a known pass')
      assert.is_true(passes[r.pass] >= last, r.name .. ' is listed in pass order')
      last = passes[r.pass]
      assert.is_true(#r.doc > 10, r.name .. ' has a description')
    end
    assert.is_true(names.merge and names.constant_folding)
  end)

  it('rejects an unknown optimizer level, rewrite or pass name', function()
    local x = sl.vector('x')
    assert.matches("optimizer must be 'fast_run', 'fast_compile' or 'none', not fastest",
                   err(sl.compile, { x }, x + 1, { optimizer = 'fastest' }), 1, true)
    assert.matches("exclude names 'no_such_rewrite', which is neither a rewrite nor a pass",
                   err(sl.compile, { x }, x + 1, { exclude = { 'no_such_rewrite' } }), 1, true)
    assert.matches("include names 'nope'",
                   err(sl.compile, { x }, x + 1, { include = 'nope' }), 1, true)
    assert.matches('exclude%[1%] must be a name, not number',
                   err(sl.compile, { x }, x + 1, { exclude = { 3 } }))
  end)

  it("runs nothing with optimizer = 'none'", function()
    local x = sl.vector('x')
    local f = sl.compile({ x }, { x * 2, x * 2 }, { optimizer = 'none' })
    assert.are.equal(2, count_ops(f, 'mul'))
    assert.are.same({}, f:info().rewrites)
  end)

  it('reports how long it took', function()
    local x = sl.vector('x')
    local f = sl.compile({ x }, x + 1)
    assert.is_number(f:info().optimizer_time)
    assert.is_true(f:info().optimizer_time >= 0)
  end)
end)

describe('merge', function()
  it('makes equal computations one node and keeps the outputs apart', function()
    local x = sl.vector('x')
    local a, b = sl.exp(x) * 2, sl.exp(x) * 2
    local f = sl.compile({ x }, { a, b })
    assert.is_true(f:info().rewrites.merge >= 2)
    assert.are.equal(1, count_ops(f, 'exp'))
    assert.are.equal(1, count_ops(f, 'mul'))
    local ra, rb = f(f64({ 0, 1 }))
    assert.are.same({ 2, 2 * math.exp(1) }, ra:totable())
    assert.are.same(ra:totable(), rb:totable())
    ra[1] = 99   -- merged outputs are still two tensors
    assert.are.equal(2, rb[1])
  end)

  it('merges equal constants, weak ones only with weak ones', function()
    local x = sl.vector('x')
    local c1, c2 = sl.core.constant(f64({ 1, 2 })), sl.core.constant(f64({ 1, 2 }))
    local f = sl.compile({ x }, { x + c1, x + c2 })
    assert.are.equal(1, count_ops(f, 'add'))
    local r1, r2 = f(f64({ 1, 1 }))
    assert.are.same({ 2, 3 }, r1:totable())
    assert.are.same({ 2, 3 }, r2:totable())
  end)

  it('does not merge nodes whose parameters differ', function()
    local m = sl.matrix('m')
    local f = sl.compile({ m }, { m:sum(1), m:sum(2) })
    assert.are.equal(2, count_ops(f, 'sum'))
    local r1, r2 = f(f64({ { 1, 2 }, { 3, 4 } }))
    assert.are.same({ 4, 6 }, r1:totable())
    assert.are.same({ 3, 7 }, r2:totable())
  end)

  it('can be excluded by name', function()
    local x = sl.vector('x')
    local f = sl.compile({ x }, { sl.exp(x), sl.exp(x) }, { exclude = { 'merge' } })
    assert.are.equal(2, count_ops(f, 'exp'))
    assert.is_nil(f:info().rewrites.merge)
  end)
end)

describe('constant folding', function()
  it('computes constant subgraphs at compile time', function()
    local x = sl.vector('x')
    local two = sl.core.constant(f64({ 2 }))
    local c = sl.exp(two * 0) + two     -- exp(0) + 2 = 3, all constant
    local f = sl.compile({ x }, x * c)
    assert.is_true(f:info().rewrites.constant_folding >= 1)
    assert.are.equal(0, count_ops(f, 'exp'))
    assert.are.same({ 3, 6 }, f(f64({ 1, 2 })):totable())
  end)

  it('keeps the types the graph was built with', function()
    local x = sl.fvector('x')
    local c = sl.core.apply('add', nil, sl.core.constant(sl.tensor(2), true), 3)
    local f = sl.compile({ x }, x * c)
    local g = sl.compile({ x }, x * c, { optimizer = 'none' })
    assert.is_true(f:info().rewrites.constant_folding >= 1)
    local r, want = f(sl.tensor({ 1, 2 }, 'float32')), g(sl.tensor({ 1, 2 }, 'float32'))
    assert.are.equal(want:dtype(), r:dtype())
    assert.are.same({ 5, 10 }, r:totable())
  end)
end)

describe('the optimized graph', function()
  it('computes what the graph as written computes (gradients of a small network)', function()
    local x = sl.matrix('x')
    local W = sl.shared(sl.randn(3, 4), 'W')
    local b = sl.shared(sl.randn(4), 'b')
    local h = sl.tanh(x:dot(W) + b)
    local loss = (h * h):sum() + (W * W):sum() * 0.01
    local outs = { loss }
    for _, g in ipairs(sl.grad(loss, { W, b })) do outs[#outs + 1] = g end
    local fast = sl.compile({ x }, outs)
    local none = sl.compile({ x }, outs, { optimizer = 'none' })
    local xs = sl.randn(5, 3)
    local a, b2 = { fast(xs) }, { none(xs) }
    assert.are.equal(#a, #b2)
    for i = 1, #a do
      local d = (a[i] - b2[i]):abs():max():item()
      assert.is_true(d < 1e-12, 'output ' .. i .. ' differs by ' .. d)
    end
    assert.is_true(fast:info().nodes <= none:info().nodes)
  end)

  it('never changes the graph the user built', function()
    local x = sl.vector('x')
    local y = sl.exp(x) + sl.exp(x)
    local before = y:owner():inputs()[1]:id()
    sl.compile({ x }, y)
    assert.are.equal(before, y:owner():inputs()[1]:id())
    assert.are_not.equal(y:owner():inputs()[1], y:owner():inputs()[2])
  end)

  it('optimizes a 10,000-node graph quickly enough to compile it', function()
    local x = sl.vector('x')
    local y = x
    for i = 1, 2500 do y = sl.tanh(y * 1.0001 + (x * 0.5)) end   -- 4 nodes per step
    local f = sl.compile({ x }, y)
    assert.are.equal(2500, count_ops(f, 'tanh'))
    assert.are.equal(2500, count_ops(f, 'mul') - 1)   -- x * 0.5 merged into one node
  end)
end)

describe('SYMLUA_OPT_TRACE', function()
  it('prints each rewrite as it fires, with the node and the source line', function()
    local _, err = files.run_script('SYMLUA_OPT_TRACE=1', [[
local sl = require 'symlua'
local x = sl.vector('x')
local y = sl.exp(x) + sl.exp(x)
sl.compile({ x }, y)
]])
    assert.matches('rewrite merge: exp#%d+ %-> exp#%d+ %(.*:3%)', err)
  end)
end)
