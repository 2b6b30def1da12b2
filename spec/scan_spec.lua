-- sl.scan and its relatives (lua/symlua/scan.lua, core/ops/scan.c): values
-- on both backends against NumPy loops and hand-computed ones, gradients
-- against finite differences and against the same loop unrolled in the
-- graph, and the errors that bad loops get.
local sl = require 'symlua'
local np = require 'spec.support.numpy'
local check = require 'spec.support.check'

local MODES = { 'reference', 'c' }
sl.manual_seed(11)

local function close(want, got, tol, what)
  local err = (want - got):abs():max():item()
  assert(err <= tol, ('%s: off by %g'):format(what or '?', err))
end

local function rnn(x, h0, W, U, b)
  return (sl.scan(function(xt, hp, W, U, b) return sl.tanh(xt:dot(W) + hp:dot(U) + b) end,
    { sequences = x, outputs_info = { h0 }, non_sequences = { W, U, b } }))
end

describe('scan: values', function()
  it('runs a recurrent layer like the NumPy loop, on both backends', function()
    local x, h0, W, U, b = sl.matrix('x'), sl.vector('h0'), sl.matrix('W'), sl.matrix('U'), sl.vector('b')
    local h = rnn(x, h0, W, U, b)
    local v = { x = sl.randn(7, 3), h0 = sl.randn(4), W = sl.randn(3, 4), U = sl.randn(4, 4) * 0.5, b = sl.randn(4) }
    local want = np.eval('np.stack(list(__import__("itertools").accumulate(x, lambda h, r: np.tanh(r @ W + h @ U + b), '
                         .. 'initial=h0))[1:])', v)
    for _, mode in ipairs(MODES) do
      local f = sl.compile({ x, h0, W, U, b }, h, { mode = mode })
      np.assert_close(f(v.x, v.h0, v.W, v.U, v.b), want, 1e-12, 1e-12, mode)
    end
  end)

  it('passes taps in the order written, from an initial value of one row per step back', function()
    local fib = sl.scan(function(a, b) return a + b end,
      { outputs_info = { { initial = sl.tensor({ 0, 1 }, 'float64'), taps = { -2, -1 } } }, n_steps = 6 })
    local back = sl.scan(function(b, a) return b - a end,   -- taps { -1, -2 }: one step back first
      { outputs_info = { { initial = sl.tensor({ 1, 4 }, 'float64'), taps = { -1, -2 } } }, n_steps = 3 })
    for _, mode in ipairs(MODES) do
      assert.are.same({ 1, 2, 3, 5, 8, 13 }, sl.compile({}, fib, { mode = mode })():totable())
      -- 4-1 = 3, 3-4 = -1, -1-3 = -4
      assert.are.same({ 3, -1, -4 }, sl.compile({}, back, { mode = mode })():totable())
    end
  end)

  it('runs backwards with reverse, the outputs in the sequence\'s order', function()
    local x = sl.vector('x')
    local s = sl.scan(function(r, acc) return acc + r end, { sequences = x, outputs_info = { sl.tensor(0, 'float64') }, reverse = true })
    for _, mode in ipairs(MODES) do
      assert.are.same({ 10, 9, 7, 4 }, sl.compile({ x }, s, { mode = mode })(sl.tensor({ 1, 2, 3, 4 }, 'float64')):totable())
    end
  end)

  it('stops at n_steps, takes numbers, captures what fn uses unlisted and returns outputs not fed back', function()
    local x, k = sl.vector('x'), sl.scalar('k')
    local W = sl.shared(sl.tensor(2.0), 'W')
    local outs = sl.scan(function(r, acc, c) return acc * W + r * k + c, acc * 10 end,
      { sequences = x, outputs_info = { sl.tensor(1, 'float64'), false }, non_sequences = { 0.5 }, n_steps = 3 })
    for _, mode in ipairs(MODES) do
      local acc, prev = sl.compile({ x, k }, outs, { mode = mode })(sl.tensor({ 1, 2, 3, 4 }, 'float64'), 3)
      -- acc: 1*2+3+0.5 = 5.5, 5.5*2+6+0.5 = 17.5, 17.5*2+9+0.5 = 44.5
      assert.are.same({ 5.5, 17.5, 44.5 }, acc:totable())
      assert.are.same({ 10, 55, 175 }, prev:totable())
    end
  end)

  it('takes n_steps as an integer scalar variable: that many steps, the sequences cut to them', function()
    local n, x, h0, W = sl.lscalar('n'), sl.matrix('x'), sl.vector('h0'), sl.matrix('W')
    local h = sl.scan(function(xt, hp) return sl.tanh(hp:dot(W) + xt) end,
      { sequences = x, outputs_info = { h0 }, n_steps = n })
    local fib = sl.scan(function(a, b) return a + b end,
      { outputs_info = { { initial = sl.tensor({ 0, 1 }, 'float64'), taps = { -2, -1 } } }, n_steps = n })
    local doubling = sl.scan_until(function(v) return v * 2, sl.gt(v * 2, 100) end,
      { outputs_info = { sl.tensor(1, 'float64') }, n_steps = n })
    local last = sl.scan(function(xt, hp) return sl.tanh(hp:dot(W) + xt) end,
      { sequences = x, outputs_info = { h0 }, n_steps = n, checkpoint = 2 })
    local v = { x = sl.randn(7, 3), h0 = sl.randn(3), W = sl.randn(3, 3) * 0.5 }
    local want = np.eval('np.stack(list(__import__("itertools").accumulate(x[:4], lambda h, r: np.tanh(h @ W + r), '
                         .. 'initial=h0))[1:])', v)
    -- the gradient of the 4-step loop, from the same loop with n_steps = 4
    local h4 = sl.scan(function(xt, hp) return sl.tanh(hp:dot(W) + xt) end,
      { sequences = x, outputs_info = { h0 }, n_steps = 4 })
    local g4 = sl.compile({ x, h0, W }, { sl.grad(h4[-1]:sum(), W), sl.grad(h4[-1]:sum(), x) }, { mode = 'reference' })
    local gW4, gx4 = g4(v.x, v.h0, v.W)
    for _, mode in ipairs(MODES) do
      local f = sl.compile({ x, h0, W, n }, { h, last, sl.grad(h[-1]:sum(), W), sl.grad(h[-1]:sum(), x) }, { mode = mode })
      local hv, lv, gW, gx = f(v.x, v.h0, v.W, 4)
      np.assert_close(hv, want, 1e-12, 1e-12, mode)
      close(want[4], lv, 1e-12, mode .. ' checkpoint')
      close(gW4, gW, 1e-12, mode .. ' dW')
      close(gx4, gx, 1e-12, mode .. ' dx')
      assert.are.same({ 7, 3 }, gx:shape())
      assert.are.same({ 0, 3 }, sl.compile({ x, h0, W, n }, h, { mode = mode })(v.x, v.h0, v.W, 0):shape())
      assert.matches('scan: sequence 1 has 7 steps, fewer than n_steps = 9', check.err(f, v.x, v.h0, v.W, 9), 1, true)
      local g = sl.compile({ n }, { fib, doubling }, { mode = mode })
      local a, b = g(6)
      assert.are.same({ 1, 2, 3, 5, 8, 13 }, a:totable())
      assert.are.same({ 2, 4, 8, 16, 32, 64 }, b:totable())
      a, b = g(10)
      assert.are.equal(89, a[10])
      assert.are.same({ 2, 4, 8, 16, 32, 64, 128 }, b:totable())
    end
    assert.matches('scan: n_steps must be a non-negative integer or an integer scalar variable, got a 0-d float64 variable',
      check.err(function() return sl.scan(function(a) return a end, { outputs_info = { h0 }, n_steps = sl.scalar('q') }) end), 1, true)
  end)

  it('scan_until stops after the first step whose condition holds, or at n_steps', function()
    local limit = sl.scalar('limit')
    local r = sl.scan_until(function(v) return v * 2, sl.gt(v * 2, limit) end,
      { outputs_info = { sl.tensor(1, 'float64') }, n_steps = 5 })
    for _, mode in ipairs(MODES) do
      local f = sl.compile({ limit }, r, { mode = mode })
      assert.are.same({ 2, 4, 8, 16 }, f(10):totable())
      assert.are.same({ 2, 4, 8, 16, 32 }, f(1000):totable())
    end
  end)

  it('map, foldl, foldr and cumsum_scan', function()
    local x = sl.vector('x')
    local xv = sl.tensor({ 1, 2, 3 }, 'float64')
    for _, mode in ipairs(MODES) do
      local f = sl.compile({ x }, { sl.map(function(r) return r * r end, x), sl.foldl(function(r, a) return a * 10 + r end, x, sl.tensor(0, 'float64')),
                                    sl.foldr(function(r, a) return a * 10 + r end, x, sl.tensor(0, 'float64')), sl.cumsum_scan(x) }, { mode = mode })
      local m, l, r, c = f(xv)
      assert.are.same({ 1, 4, 9 }, m:totable())
      assert.are.equal(123, l:item())
      assert.are.equal(321, r:item())
      assert.are.same({ 1, 3, 6 }, c:totable())
    end
  end)
end)

describe('scan: gradients', function()
  it('pass verify_grad: a recurrent layer, taps, reverse with an output not fed back', function()
    sl.verify_grad(rnn, { sl.randn(5, 3), sl.randn(4), sl.randn(3, 4), sl.randn(4, 4), sl.randn(4) })
    sl.verify_grad(function(a0, w)
      return (sl.scan(function(a, b, w) return sl.sin(a * w + b) end,
        { outputs_info = { { initial = a0, taps = { -2, -1 } } }, non_sequences = { w }, n_steps = 6 }))
    end, { sl.randn(2, 3), sl.randn(3) })
    sl.verify_grad(function(x, h0)
      local outs = sl.scan(function(xt, hp) return hp * xt, sl.exp(hp) end,
        { sequences = x, outputs_info = { h0, false }, reverse = true })
      return outs[1] + outs[2]
    end, { sl.randn(4, 2), sl.randn(2) })
  end)

  it('equal the gradients of the loop unrolled by hand, for a captured shared variable', function()
    local W = sl.shared(sl.randn(3, 3) * 0.5, 'W')
    local x = sl.matrix('x')
    local h = sl.scan(function(xt, hp) return sl.tanh(hp:dot(W) + xt) end, { sequences = x, outputs_info = { sl.zeros(3) } })
    local hs, hh = {}, sl.zeros(3)
    for t = 1, 4 do hh = sl.tanh(sl.dot(hh, W) + x[t]); hs[t] = hh end
    local xv = sl.randn(4, 3)
    for _, mode in ipairs(MODES) do
      local g1, gx1 = sl.compile({ x }, sl.grad((h[-1] * h[2]):sum(), { W, x }), { mode = mode })(xv)
      local g2, gx2 = sl.compile({ x }, sl.grad((hs[4] * hs[2]):sum(), { W, x }), { mode = mode })(xv)
      close(g2, g1, 1e-12, mode)
      close(gx2, gx1, 1e-12, mode)
    end
  end)

  it('of a weight used as dot(row, W) are one product after the loop, equal to the unrolled loop\'s', function()
    local x, h0 = sl.tensor3('x'), sl.matrix('h0')
    local V, W, b = sl.matrix('V'), sl.matrix('W'), sl.vector('b')
    -- V reads sequence rows, W reads the taps and the rows (two products), b is added: a running sum
    local function step(xt, hp, V, W, b) return sl.tanh(xt:dot(V) + hp:dot(W) + xt:dot(W) * 0.5 + b) end
    local function loss(h) return (h * h):sum() end
    local xv, h0v = sl.randn(5, 2, 3), sl.randn(2, 3)
    local Vv, Wv, bv = sl.randn(3, 3) * 0.5, sl.randn(3, 3) * 0.5, sl.randn(3)
    for _, opts in ipairs({ {}, { reverse = true }, { truncate_gradient = 2 } }) do
      local h = sl.scan(step, { sequences = x, outputs_info = { h0 }, non_sequences = { V, W, b },
                                reverse = opts.reverse, truncate_gradient = opts.truncate_gradient })
      local g = sl.grad(loss(h), { V, W, b })
      -- the backward loop carries the state's window and b's sum, nothing for V and W
      local carries = {}
      local stack = { g[1], g[2], g[3] }
      while #stack > 0 do
        local n = table.remove(stack):owner()
        if n then
          if n:op() == 'scan' then carries[#carries + 1] = n:params().v[2] end
          for _, i in ipairs(n:inputs()) do stack[#stack + 1] = i end
        end
      end
      table.sort(carries)
      assert.are.same(1, carries[1])
      assert.are.same(2, carries[#carries])
      -- the oracle: the same loop unrolled in the graph; truncated, the steps
      -- before the last T start from the state they reached, as an input
      local T = opts.truncate_gradient or 5
      local hc = sl.matrix('hc')
      local hs, hh = {}, hc
      for q = 1, 5 do
        local t = opts.reverse and 6 - q or q
        if q > 5 - T then hh = step(x[t], hh, V, W, b); hs[#hs + 1] = hh end
      end
      local want = sl.grad(loss(sl.stack(hs, 1)), { V, W, b })
      local hcv = h0v
      if T < 5 then hcv = sl.compile({ x, h0, V, W, b }, h)(xv, h0v, Vv, Wv, bv)[5 - T] end
      for _, mode in ipairs(MODES) do
        local got = { sl.compile({ x, h0, V, W, b }, g, { mode = mode })(xv, h0v, Vv, Wv, bv) }
        local ref = { sl.compile({ x, hc, V, W, b }, want, { mode = mode })(xv, hcv, Vv, Wv, bv) }
        for i = 1, 3 do close(ref[i], got[i], 1e-12, mode .. ' input ' .. i) end
      end
    end
  end)

  it('have second derivatives', function()
    local w, x = sl.scalar('w'), sl.vector('x')
    local h = sl.scan(function(xt, hp, w) return sl.sin(hp * w + xt) end,
      { sequences = x, outputs_info = { sl.tensor(0.3) }, non_sequences = { w } })
    local g = sl.grad(h:sum(), w)
    local f = sl.compile({ x, w }, { g, sl.grad(g, w) })
    local xv, e = sl.randn(5), 1e-5
    local _, gg = f(xv, 0.7)
    local gp, gm = f(xv, 0.7 + e), f(xv, 0.7 - e)
    assert.near((gp - gm):item() / (2 * e), gg:item(), 1e-6)
    sl.verify_grad(function(x, w)
      local hh = sl.scan(function(xt, hp, w) return sl.sin(hp * w + xt) end,
        { sequences = x, outputs_info = { sl.tensor(0.3) }, non_sequences = { w } })
      return sl.grad(hh:sum(), w)
    end, { xv, sl.tensor(0.7) })
    -- through a weight whose gradient is one product after the loop
    sl.verify_grad(function(xs, W)
      local hh = sl.scan(function(xt, hp, W) return sl.tanh(xt + hp:dot(W)) end,
        { sequences = xs, outputs_info = { sl.zeros(2, 3) }, non_sequences = { W } })
      return sl.grad((hh * hh):sum(), W)
    end, { sl.randn(4, 2, 3), sl.randn(3, 3) * 0.5 }, { static_shapes = true })
  end)

  it('truncate_gradient backpropagates through the last steps only', function()
    local x, w = sl.vector('x'), sl.scalar('w')
    local function last(T)
      local h = sl.scan(function(xt, hp, w) return sl.tanh(hp * w + xt) end,
        { sequences = x, outputs_info = { sl.tensor(0.1) }, non_sequences = { w }, truncate_gradient = T })
      return h[-1]
    end
    local xv = sl.randn(6)
    local full = sl.compile({ x, w }, sl.grad(last(-1), x))(xv, 0.8)
    local cut = sl.compile({ x, w }, sl.grad(last(2), x))(xv, 0.8)
    -- the last state's paths from x[5] and x[6] lie within the last 2 steps
    assert.are.same({ 0, 0, 0, 0 }, cut[{ { 1, 4 } }]:totable())
    close(full[{ { 5, 6 } }], cut[{ { 5, 6 } }], 1e-14, 'last rows')
  end)

  it('scan_until has none, and says why', function()
    local v0 = sl.scalar('v0')
    local r = sl.scan_until(function(v) return v * 2, sl.gt(v, 10) end, { outputs_info = { v0 }, n_steps = 5 })
    assert.matches('scan_until has no gradient', check.err(sl.grad, r:sum(), v0))
  end)
end)

describe('scan: the step', function()
  it('computes what depends on non-sequences alone once, before the loop', function()
    local x, W = sl.matrix('x'), sl.matrix('W')
    local h = sl.scan(function(xt, hp, W) return sl.tanh(hp:dot(W:transpose() * 2) + xt) end,
      { sequences = x, outputs_info = { sl.zeros(3) }, non_sequences = { W } })
    local node = h:owner():inputs()[1]:owner()   -- the scan under the rows' subtensor
    assert.are.equal('scan', node:op())
    local names = {}
    for _, v in ipairs(node:params().sub:inputs()) do names[#names + 1] = v:name() end
    assert.are.same({ 'seq1', 'tap1_1', 'non1', 'hoisted1' }, names)
    local ops = {}
    local stack = node:params().sub:outputs()
    while #stack > 0 do
      local v = table.remove(stack)
      if v:owner() then ops[v:owner():op()] = true; for _, i in ipairs(v:owner():inputs()) do stack[#stack + 1] = i end end
    end
    assert.is_nil(ops.dimshuffle)
    local xv, Wv = sl.randn(4, 3), sl.randn(3, 3) * 0.3
    local want = sl.zeros(3)
    for t = 1, 4 do want = sl.tanh(want:dot(Wv:transpose() * 2) + xv[t]) end
    for _, mode in ipairs(MODES) do close(want, sl.compile({ x, W }, h, { mode = mode })(xv, Wv)[4], 1e-14, mode) end
  end)

  it("takes a shared variable's shape when the loop is built, and names the input when it changes", function()
    local W = sl.shared(sl.eye(3), 'W')
    local x = sl.matrix('x')
    local h = sl.scan(function(xt, hp) return hp:dot(W) + xt end, { sequences = x, outputs_info = { sl.zeros(3) } })
    local f = sl.compile({ x }, h)
    assert.are.same({ { 1, 1, 1 }, { 2, 2, 2 } }, f(sl.ones(2, 3)):totable())
    W:set_value(sl.eye(4))
    assert.matches("input 3 %('W'%): expected float64 %(3, 3%), got float64 %(4, 4%)", check.err(f, sl.ones(2, 3)))
  end)
end)

describe('scan: memory', function()
  local function step(xt, hp, W) return sl.tanh(hp:dot(W) + xt) end

  -- Peak resident memory of a 300-step gradient, in a fresh process, in units
  -- of one stacked state (300 x 16 x 256 float64, 9.8 MB): the forward states,
  -- the backward loop's stacked products and what the product after the loop
  -- reads. Its slices and reshapes are views: with copies it took 16 states.
  it('of a long gradient stays within 11 stacked states', function()
    local files = require 'spec.support.files'
    if files.symlua:find('san', 1, true) then return pending('the sanitizer keeps freed memory') end
    local script = files.write(os.tmpname(), [[
      local sl = require 'symlua'
      local ffi = require 'ffi'
      ffi.cdef('struct spec_rusage { long t[4]; long maxrss; long rest[13]; }; int getrusage(int who, struct spec_rusage *u);')
      local function maxrss() local u = ffi.new('struct spec_rusage'); ffi.C.getrusage(0, u); return tonumber(u.maxrss) * 1024 end
      sl.config.mode = 'c'
      local x, W = sl.tensor3('x'), sl.shared(sl.randn(256, 256) * 0.05, 'W')
      local h = sl.scan(function(xt, hp) return sl.tanh(hp:dot(W) + xt) end,
        { sequences = x, outputs_info = { sl.alloc(0.0, x:shape(2), 256) } })
      local f = sl.compile({ x }, sl.grad(h[-1]:sum(), W))
      local xv = sl.randn(300, 16, 256)
      f(sl.randn(2, 16, 256))
      local before = maxrss()
      f(xv)
      print((maxrss() - before) / (300 * 16 * 256 * 8))]])
    local out = files.shell(("'%s' '%s' 2>&1"):format(files.symlua, script))
    os.remove(script)
    local states = tonumber(out:match('^%s*([%d.]+)%s*$'))
    assert(states, out)
    assert.is_true(states <= 11, ('peak growth of %.1f stacked states'):format(states))
  end)

  it("keep = 'last' returns the final state, and its gradient is the full loop's", function()
    local x, W = sl.tensor3('x'), sl.matrix('W')
    local all = sl.scan(step, { sequences = x, outputs_info = { sl.zeros(2, 3) }, non_sequences = { W } })
    local last = sl.scan(step, { sequences = x, outputs_info = { { initial = sl.zeros(2, 3), keep = 'last' } }, non_sequences = { W } })
    local fib = sl.scan(function(a, b) return a + b end,
      { outputs_info = { { initial = sl.tensor({ 0, 1 }, 'float64'), taps = { -2, -1 }, keep = 'last' } }, n_steps = 6 })
    local xv, Wv = sl.randn(5, 2, 3), sl.randn(3, 3) * 0.5
    for _, mode in ipairs(MODES) do
      local f = sl.compile({ x, W }, { all[-1], last, sl.grad(all[-1]:sum(), W), sl.grad(last:sum(), W) }, { mode = mode })
      local a, l, ga, gl = f(xv, Wv)
      assert.are.same({ 2, 3 }, l:shape())
      close(a, l, 0, mode)
      close(ga, gl, 1e-14, mode)
      assert.are.same({ 8, 13 }, sl.compile({}, fib, { mode = mode })():totable())
    end
    sl.verify_grad(function(x, W)
      local h = sl.scan(step, { sequences = x, outputs_info = { { initial = sl.zeros(2, 3), keep = 'last' } }, non_sequences = { W } })
      return h
    end, { xv, Wv })
  end)

  it('checkpoint = k gives the final state and the gradient of the loop without it', function()
    local x, W = sl.tensor3('x'), sl.matrix('W')
    local plain = sl.scan(step, { sequences = x, outputs_info = { sl.zeros(2, 3) }, non_sequences = { W } })[-1]
    local xv, Wv = sl.randn(12, 2, 3), sl.randn(3, 3) * 0.5
    for _, k in ipairs({ 1, 4, 12 }) do
      local h = sl.scan(step, { sequences = x, outputs_info = { sl.zeros(2, 3) }, non_sequences = { W }, checkpoint = k })
      for _, mode in ipairs(MODES) do
        local f = sl.compile({ x, W }, { plain, h, sl.grad(plain:sum(), W), sl.grad(h:sum(), W), sl.grad(plain:sum(), x), sl.grad(h:sum(), x) }, { mode = mode })
        local p, c, gp, gc, xp, xc = f(xv, Wv)
        close(p, c, 1e-15, mode)
        close(gp, gc, 1e-13, mode)
        close(xp, xc, 1e-13, mode)
      end
    end
    sl.verify_grad(function(x, W)
      local h = sl.scan(step, { sequences = x, outputs_info = { sl.zeros(2, 3) }, non_sequences = { W }, checkpoint = 3 })
      return h
    end, { xv, Wv })
    local f = sl.compile({ x, W }, sl.scan(step, { sequences = x, outputs_info = { sl.zeros(2, 3) }, non_sequences = { W }, checkpoint = 5 }))
    assert.matches('reshape', check.err(f, sl.randn(12, 2, 3), Wv))
    assert.matches('scan: with checkpoint every output is fed back', check.err(function()
      local r = sl.scan(function(a) return a, a end, { outputs_info = { sl.zeros(2), false }, n_steps = 4, checkpoint = 2 })
      return r
    end))
    assert.matches('scan: checkpoint = 3 does not divide the 4 steps', check.err(function()
      local r = sl.scan(function(a) return a end, { outputs_info = { sl.zeros(2) }, n_steps = 4, checkpoint = 3 })
      return r
    end))
  end)
end)

describe('scan: bad loops', function()
  it('a carry whose static type changes names the output, the step and the line', function()
    local h0 = sl.tensor_type('float64', { 3 })('h0')
    local W = sl.tensor_type('float64', { 3, 4 })('W')
    local e = check.err(function()
      local h = sl.scan(function(hp, W) return hp:dot(W) end, { outputs_info = { h0 }, non_sequences = { W }, n_steps = 2 })
      return h
    end)
    assert.matches('scan_spec.lua:%d+: scan: output 1 of fn is float64 %(4,%) %(built at .-scan_spec.lua:%d+%) but its '
                   .. 'initial value is float64 %(3,%): a fed%-back output must keep its type, and step 1 changes it', e)
    e = check.err(sl.scan, function(hp) return hp:cast('float32') end, { outputs_info = { h0 }, n_steps = 2 })
    assert.matches("cast the initial value with :cast%('float32'%)", e)
  end)

  it('a carry whose shape changes at run time names the step', function()
    local h0, x = sl.vector('h0'), sl.matrix('x')
    local h = sl.scan(function(xt, hp) return xt[{ { 1, 2 } }] + hp[1] end, { sequences = x, outputs_info = { h0 } })
    for _, mode in ipairs(MODES) do
      local f = sl.compile({ x, h0 }, h, { mode = mode })
      assert.matches('scan: step 1 changes state 1 from shape %(3,%) to %(2,%)', check.err(f, sl.randn(2, 3), sl.randn(3)))
      assert.are.same({ 2, 2 }, f(sl.randn(2, 3), sl.randn(2)):shape())
    end
  end)

  it('a wrong number of outputs, no trip count, short initial rows and mismatched sequences', function()
    local h0, x = sl.vector('h0'), sl.matrix('x')
    assert.matches('scan_spec.lua:%d+: scan: fn returned 2 values but outputs_info has 1 entries',
      check.err(function() local h = sl.scan(function(hp) return hp, hp end, { outputs_info = { h0 }, n_steps = 3 }); return h end))
    assert.matches('scan_spec.lua:%d+: scan: no sequences and no n_steps',
      check.err(function() local h = sl.scan(function(hp) return hp end, { outputs_info = { h0 } }); return h end))
    assert.matches('taps down to %-3 need an initial value of 3 rows',
      check.err(sl.scan, function(a) return a end, { outputs_info = { { initial = sl.zeros(2, 4), taps = { -3 } } }, n_steps = 3 }))
    assert.matches("scan: unknown option 'n_step'", check.err(sl.scan, function(a) return a end, { n_step = 3 }))
    local y = sl.matrix('y')
    local s = sl.scan(function(a, b) return a + b end, { sequences = { x, y } })
    local f = sl.compile({ x, y }, s)
    assert.matches('scan: sequence 2 has 3 steps, sequence 1 has 2', check.err(f, sl.randn(2, 2), sl.randn(3, 2)))
    local g = sl.compile({ x }, sl.scan(function(a) return a end, { sequences = x, n_steps = 4 }))
    assert.matches('scan: sequence 1 has 3 steps, fewer than n_steps = 4', check.err(g, sl.randn(3, 2)))
  end)
end)
