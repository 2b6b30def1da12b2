-- First and second derivatives of every op with a gradient rule, on 0-d
-- inputs, checked against central differences (sl.verify_grad). The list of
-- ops comes from the core (core.ops()), so an op added later with a rule but
-- no 0-d case here fails the walk until it gets one.
local sl = require 'symlua'

-- A 0-d point away from every kink, pole and domain edge of the unary ops:
-- floor/ceil/round are flat there, log/sqrt/asin/acos are defined.
local X, Y, Z = 0.3, 0.7, 0.45

-- op -> build(x, y, ...) over 0-d float64 variables with the points it needs,
-- or a string saying why the op has no 0-d form to differentiate.
local cases = {
  clip = { function(x, lo, hi) return sl.clip(x, lo, hi) end, { X, 0.1, 0.9 } },
  where = { function(a, b) return sl.where(sl.gt(a, b), a * b, b) end, { Y, X } },
  cast = { function(x) return (x * x):cast('complex128'):real() end, { X } },
  sum_to = { function(x, y) return sl.core.apply('sum_to', nil, x * y, y) end, { X, Y } },
  dot = { function(x, y) return sl.dot(x, y) end, { X, Y } },
  reshape = { function(x) return (x * x):reshape(1) end, { X } },
  flatten = { function(x) return (x * x):flatten() end, { X } },
  dimshuffle = { function(x) return (x * x):dimshuffle('x', 'x') end, { X } },
  stack = { function(x, y) return sl.stack({ x * y, x }) end, { X, Y } },
  ['repeat'] = { function(x) return sl['repeat'](x * x, 3) end, { X } },
  tile = { function(x) return sl.tile(x * x, { 2, 3 }) end, { X } },
  set_subtensor = { function(x, y) return sl.set_subtensor(sl.alloc(y, 3)[2], x * x) end, { X, Y } },
  inc_subtensor = { function(x, y) return sl.inc_subtensor(sl.alloc(y, 3)[2], x * y) end, { X, Y } },
  set_take = { function(x, y) return sl.set_take(sl.alloc(y, 3), { 2 }, x * x) end, { X, Y } },
  inc_take = { function(x, y) return sl.inc_take(sl.alloc(y, 3), { 1, 1 }, x * y) end, { X, Y } },
  take = { function(x) return sl.take(sl.alloc(x, 3) * x, sl.tensor(2, 'int64')) end, { X } },
  alloc = { function(x) return sl.alloc(x * x, 2, 2) end, { X } },
  sum = { function(x) return (x * x):sum() end, { X } },
  prod = { function(x) return (x * x):prod() end, { X } },
  mean = { function(x) return (x * x):mean() end, { X } },
  max = { function(x) return (x * x):max() end, { X } },
  min = { function(x) return (x * x):min() end, { X } },
  var = { function(x) return (x * x):var() + x * x end, { X } },
  logsumexp = { function(x) return sl.logsumexp(x * x) end, { X } },
  -- one process: the identity, whose gradient is the allreduce of g
  allreduce = { function(x, y) return sl.dist.allreduce(x * y, 'mean') end, { X, Y } },
  complex = { function(x, y) return sl.abs(sl.complex(x * y, x)) end, { X, Y } },
  real = { function(x, y) return sl.real(sl.complex(x, y) * sl.complex(y, x)) end, { X, Y } },
  imag = { function(x, y) return sl.imag(sl.complex(x, y) / sl.complex(y, x * x)) end, { X, Y } },
  conj = { function(x, y) return sl.imag(sl.conj(sl.complex(x * y, x))) end, { X, Y } },
  cabs = { function(x, y) return sl.abs(sl.complex(x, y)) end, { X, Y } },
  angle = { function(x, y) return sl.angle(sl.complex(x, y)) end, { X, Y } },
  -- linear algebra: 1 x 1 matrices made from the scalars
  cholesky = { function(x) return sl.sum(sl.cholesky((x * x + 1):dimshuffle('x', 'x'))) end, { X } },
  solve = { function(x, y) return sl.sum(sl.solve((x * x + 1):dimshuffle('x', 'x'), y:dimshuffle('x', 'x'))) end, { X, Y } },
  solve_triangular = { function(x, y)
    return sl.sum(sl.solve_triangular((x + 1):dimshuffle('x', 'x'), y:dimshuffle('x', 'x'), { lower = true })) end, { X, Y } },
  inv = { function(x) return sl.sum(sl.inv((x + 1):dimshuffle('x', 'x'))) end, { X } },
  slogdet = { function(x) local _, l = sl.slogdet((x + 1):dimshuffle('x', 'x')) return sl.sum(l) end, { X } },
  qr = { function(x) local q, r = sl.qr((x + 1):dimshuffle('x', 'x')) return sl.sum(q * r * r) end, { X } },
  svd = { function(x) local _, s = sl.svd((x + 1):dimshuffle('x', 'x'), false) return sl.sum(s * s * s) end, { X } },
  svdvals = { function(x) return sl.sum(sl.svdvals((x + 1):dimshuffle('x', 'x')) ^ 3) end, { X } },
  eigh = { function(x) local w = sl.eigh((x * x):dimshuffle('x', 'x')) return sl.sum(w * x) end, { X } },
  eigvalsh = { function(x) return sl.sum(sl.eigvalsh((x * x):dimshuffle('x', 'x')) ^ 2) end, { X } },
  lstsq = { function(x, y) return sl.sum((sl.lstsq((x + 1):dimshuffle('x', 'x'), y:dimshuffle('x', 'x')))) end, { X, Y } },
  eig = 'has no gradient (an error that names eigh for symmetric matrices)',
  acosh = { function(x) return sl.acosh(x) end, { 1.3 } },
  cumsum = { function(x) return sl.cumsum(x * x) end, { X } },
  cumprod = { function(x, y) return sl.cumprod(sl.stack({ x, y * x })) end, { X, Y } },
  argsort = { function(x) return sl.argsort(sl.stack({ x, x * x })) end, { X } },
  searchsorted = { function(x) return sl.searchsorted(sl.stack({ x, x + 1 }), x * 2) end, { X } },
  scan = { function(x, y)
    return (sl.scan(function(h, w) return sl.sin(h * w + w) end, { outputs_info = { x }, non_sequences = { y }, n_steps = 3 }))
  end, { X, Y } },
  std = 'the std of one value is 0, where its square root has no derivative',
  outer = 'takes vectors', gemm = 'takes matrices', gemv = 'takes a matrix and vectors',
  ger = 'takes vectors and a matrix', concatenate = 'joins along an existing axis',
  narrow = 'needs an axis', subtensor = 'a 0-d value has no axis to index',
  gather = 'needs an axis', softmax = 'needs an axis', log_softmax = 'needs an axis',
  softmax_grad = 'needs an axis', softmax_crossentropy = 'takes rows of logits',
  conv2d = 'takes 4-d images', conv2d_grad_input = 'takes 4-d images',
  conv2d_grad_filters = 'takes 4-d images', max_pool2d = 'takes 4-d images',
  avg_pool2d = 'takes 4-d images', max_pool2d_grad = 'takes 4-d images',
  avg_pool2d_grad = 'takes 4-d images', fft = 'needs an axis', ifft = 'needs an axis',
  rfft = 'needs an axis', irfft = 'needs an axis',
  arange = 'its inputs are integer bounds', shape_i = 'needs an axis',
  random = 'its inputs are a generator state and sizes',
  shape = { function(x) return x:shape() end, { X } },
  argmax = { function(x) return sl.argmax(x * x) end, { X } },
  argmin = { function(x) return sl.argmin(x * x) end, { X } },
  all = { function(x) return sl.all(sl.gt(x, 0)) end, { X } },
  any = { function(x) return sl.any(sl.gt(x, 0)) end, { X } },
}

-- results that are not floats carry no gradient: the rule must still build
local NOT_FLOAT = { bool = true, uint8 = true, int32 = true, int64 = true }

-- The first derivative in x, times a factor that keeps every input connected
-- (the derivative of x + y alone is a constant): its own gradient checks the
-- second derivatives.
local function second(build)
  return function(...)
    local y = build(...)
    if y:dim() > 0 then y = y:sum() end
    local factor = 1
    for _, x in ipairs({ ... }) do factor = x + factor end
    return sl.grad(y, (...)) * factor
  end
end

-- Points of a case, fresh each time: verify_grad turns numbers into tensors in place.
local function points(case)
  local p = {}
  for i, v in ipairs(case[2]) do p[i] = sl.tensor(v, 'float64') end
  return p
end

describe('gradients on 0-d inputs', function()
  local s, t = sl.scalar('s'), sl.scalar('t')

  it('build through sign, abs, floor, ceil and round, to the second order', function()
    for _, op in ipairs({ 'sign', 'abs', 'floor', 'ceil', 'round' }) do
      local g = sl.grad(sl[op](s) * s, s)
      local gg = sl.grad(g, s)
      local f = sl.compile({ s }, { g, gg })
      local v1, v2 = f(sl.tensor(-2.3))
      local want = { sign = { -1, 0 }, abs = { 4.6, -2 }, floor = { -3, 0 }, ceil = { -2, 0 },
                     round = { -2, 0 } }
      assert.near(want[op][1], v1:item(), 1e-12, op)
      assert.near(want[op][2], v2:item(), 1e-12, op)
    end
  end)

  it('zeros_like and ones_like of a 0-d variable are variables', function()
    assert.is_true(sl.is_var(sl.zeros_like(s)))
    assert.is_true(sl.is_var(sl.ones_like(s)))
    assert.is_true(sl.is_var(sl.full_like(s, 3)))
    assert.are.equal(1.5, sl.compile({ s }, sl.full_like(s, 3) * s)(sl.tensor(0.5)):item())
  end)

  -- The rules are the same on every backend; the reference one needs no
  -- compiler for the few hundred small functions below.
  local run_mode
  before_each(function() run_mode = sl.config.mode end)
  after_each(function() sl.config.mode = run_mode end)

  it('are right for every op, first and second derivatives', function()
    sl.config.mode = 'reference'
    local checked, skipped = 0, 0
    for _, op in ipairs(sl.core.ops()) do
      local name = op.name
      if sl.gradients[name] then
        local case = cases[name]
        if case == nil and op.elemwise then
          local ins = {}
          for i = 1, op.nin do ins[i] = ({ X, Y, Z })[i] end
          case = { function(...) return sl.core.apply(name, nil, ...) end, ins }
        end
        assert(case ~= nil, 'op ' .. name .. ' has a gradient rule but no 0-d case here')
        if type(case) == 'string' then
          skipped = skipped + 1
        else
          local syms = {}
          for i = 1, #case[2] do syms[i] = sl.scalar('x' .. i) end
          local out = case[1](unpack(syms))
          if NOT_FLOAT[out:dtype()] then
            -- no gradient flows through it, but asking builds and gives zeros
            local y = sl.where(sl.eq(out, out), syms[1], syms[1]):sum()
            local n = sl.compile(syms, out)(unpack(points(case))):numel()
            local g = sl.grad(y, syms[1])
            assert.are.equal(n, sl.compile(syms, g)(unpack(points(case))):item(), name)
          else
            local ok, e = pcall(sl.verify_grad, case[1], points(case))
            assert(ok, name .. ' (first derivative): ' .. tostring(e))
            ok, e = pcall(sl.verify_grad, second(case[1]), points(case))
            assert(ok, name .. ' (second derivative): ' .. tostring(e))
          end
          checked = checked + 1
        end
      end
    end
    assert.is_true(checked > 60, 'checked ' .. checked .. ' ops')
    assert.is_true(skipped < 30, 'skipped ' .. skipped .. ' ops')
  end)
end)
