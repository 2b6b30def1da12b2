-- Complex dtypes and sl.fft: values against numpy.fft and hand-computed
-- transforms, printing, .npy files, gradients, planning, errors.
local sl = require 'symlua'
local np = require 'spec.support.numpy'

local check = require 'spec.support.check'
local err = check.err

local function close(a, b, tol)
  local d = (a - b)
  d = sl.abs(d):max():item()
  assert.is_true(d < (tol or 1e-12), 'differs by ' .. d)
end

describe('complex values', function()
  it('print as NumPy prints them and convert like C casts', function()
    local z = sl.complex(sl.tensor({ 1, -2.5 }, 'float64'), sl.tensor({ 2, -0.5 }, 'float64'))
    assert.are.equal('complex128', z:dtype())
    assert.matches('tensor%(%[1%.%+2%.j, %-2%.5%-0%.5j%], shape=%(2,%), dtype=complex128%)', tostring(z))
    assert.are.same({ 1, -2.5 }, z:real():totable())
    assert.are.same({ 2, -0.5 }, z:imag():totable())
    assert.are.same({ 1, -2.5 }, z:cast('float64'):totable())   -- the real part, as NumPy casts
    assert.are.same({ -2, 0.5 }, sl.conj(z):imag():totable())
    close(sl.abs(z), sl.tensor({ math.sqrt(5), math.sqrt(6.5) }, 'float64'))
    close(sl.angle(z), sl.tensor({ math.atan2(2, 1), math.atan2(-0.5, -2.5) }, 'float64'))
  end)

  it('do arithmetic with each other and with reals, promoting like NumPy', function()
    local a = sl.complex(sl.tensor({ 1, 2 }, 'float32'), sl.tensor({ 1, -1 }, 'float32'))
    assert.are.equal('complex64', a:dtype())
    local p = a * a                                         -- (1+i)^2 = 2i, (2-i)^2 = 3-4i
    assert.are.same({ 0, 3 }, p:real():totable())
    assert.are.same({ 2, -4 }, p:imag():totable())
    assert.are.equal('complex64', (a * sl.tensor({ 2, 2 }, 'float32')):dtype())
    assert.are.equal('complex128', (a * sl.tensor({ 2, 2 }, 'float64')):dtype())
    local q = a / a
    assert.are.same({ 1, 1 }, q:real():totable())
    -- a Lua number is weak: a float one keeps the complex dtype and its imaginary part
    local h = a * 0.5 + 0.25
    assert.are.equal('complex64', h:dtype())
    assert.are.same({ 0.75, 1.25 }, h:real():totable())
    assert.are.same({ 0.5, -0.5 }, h:imag():totable())
    local x = sl.tensor_type('complex128', { -1 })('x')
    assert.are.equal('complex128', (x * 0.5):dtype())
    assert.are.same({ 0.5, -0.5 }, sl.compile({ x }, x * 0.5)(a:cast('complex128')):imag():totable())
    assert.are.same({ true, false }, sl.eq(a, sl.complex(sl.tensor({ 1, 0 }, 'float32'), sl.tensor({ 1, -1 }, 'float32'))):totable())
  end)

  it('refuse ops that have no complex meaning here, naming the op', function()
    local z = sl.fft.fft(sl.tensor({ 1, 2 }, 'float64'))
    assert.matches('exp does not take complex input', err(sl.exp, z))
    assert.matches('sum does not take complex input', err(function() return z:sum() end))
    assert.matches('dot does not take complex input', err(sl.dot, z, z))
    assert.matches('not a Lua number: take the tensor', err(function() return z[1] end))
  end)

  it('round-trip through .npy files', function()
    local z = sl.complex(sl.randn(3, 2), sl.randn(3, 2))
    local path = os.tmpname()
    sl.save(path, z)
    local back = sl.load(path)
    os.remove(path)
    assert.are.equal('complex128', back:dtype())
    close(back, z, 0.5e-300)
  end)
end)

describe('sl.fft', function()
  it('computes a DFT by hand', function()
    local X = sl.fft.fft(sl.tensor({ 1, 0, -1, 0 }, 'float64'))   -- cos(pi k / 2): bins 1 and 3
    close(X:real(), sl.tensor({ 0, 2, 0, 2 }, 'float64'))
    close(X:imag(), sl.tensor({ 0, 0, 0, 0 }, 'float64'))
    local R = sl.fft.rfft(sl.tensor({ 1, 1, 1, 1, 1 }, 'float32'))
    assert.are.equal('complex64', R:dtype())
    close(R:real(), sl.tensor({ 5, 0, 0 }, 'float32'), 1e-6)
  end)

  ;(np.available() and it or pending)('matches numpy.fft along every axis, float64 and float32', function()
    sl.manual_seed(9)
    local x = sl.randn(3, 5, 4)
    for axis = 1, 3 do
      local a = axis - 1
      local want = np.eval(('np.fft.fft(x, axis=%d)'):format(a), { x = x })
      close(sl.fft.fft(x, axis), want, 1e-12)
      close(sl.fft.rfft(x, axis), np.eval(('np.fft.rfft(x, axis=%d)'):format(a), { x = x }), 1e-12)
      close(sl.fft.ifft(sl.fft.fft(x, axis), axis):real(), x, 1e-12)
      local n = x:size(axis)
      close(sl.fft.irfft(sl.fft.rfft(x, axis), n, axis), x, 1e-12)
    end
    close(sl.fft.fft2(x), np.eval('np.fft.fft2(x)', { x = x }), 1e-12)
    close(sl.fft.ifft2(x), np.eval('np.fft.ifft2(x)', { x = x }), 1e-12)
    close(sl.fft.rfft2(x), np.eval('np.fft.rfft2(x)', { x = x }), 1e-12)
    local R = sl.fft.rfft2(x)
    close(sl.fft.irfft2(R, { 5, 4 }), np.eval('np.fft.irfft2(r, s=(5, 4))', { r = R }), 1e-12)
    local xf = x:cast('float32')
    close(sl.fft.rfft(xf), np.eval('np.fft.rfft(x)', { x = x }), 1e-4)
    close(sl.fft.irfft(sl.fft.rfft(x), 5), np.eval('np.fft.irfft(np.fft.rfft(x), 5)', { x = x }), 1e-12)
  end)

  it('works in compiled functions and on views', function()
    local x = sl.matrix('x')
    local f = sl.compile({ x }, { sl.abs(sl.fft.rfft(x)), sl.fft.irfft(sl.fft.rfft(x), 6) })
    local m = sl.randn(6, 4):dimshuffle(2, 1)   -- a transposed view, (4, 6)
    local mag, back = f(m)
    assert.are.same({ 4, 4 }, mag:size())
    close(back, m, 1e-12)
    close(mag, sl.abs(sl.fft.rfft(m:clone())), 1e-12)
  end)

  it('has gradients (complex values as real and imaginary parts)', function()
    local cases = {
      function(a) return sl.real(sl.fft.fft(a)) + sl.imag(sl.fft.fft(a)) * 2 end,
      function(a) return sl.abs(sl.fft.rfft(a)) end,
      function(a) return sl.fft.irfft2(sl.fft.rfft2(a) * 2, { 4, 6 }) end,
    }
    for _, build in ipairs(cases) do sl.verify_grad(build, { sl.randn(4, 6) }) end
    for _, n in ipairs({ 8, 9 }) do   -- even and odd lengths pair their bins differently
      sl.verify_grad(function(a, b) return sl.fft.irfft(sl.complex(a, b), n) end, { sl.randn(5), sl.randn(5) })
      sl.verify_grad(function(a) return sl.abs(sl.fft.rfft(a)) end, { sl.randn(n) })
    end
    sl.verify_grad(function(a, b) return sl.angle(sl.fft.ifft(sl.complex(a, b))) end, { sl.randn(5), sl.randn(5) })
    sl.verify_grad(function(a) return sl.abs(sl.fft.rfft(a, 1)) end, { sl.randn(7, 2) }, { static_shapes = false })
  end)

  it('keeps measured plans as FFTW wisdom in the cache directory', function()
    local dir = os.tmpname()
    os.remove(dir)
    local old_dir, old_plan = sl.config.cache_dir, sl.config.fft_plan
    sl.config.cache_dir, sl.config.fft_plan = dir, 'measure'
    local x = sl.randn(48)
    local y = sl.fft.rfft(x)
    sl.config.cache_dir, sl.config.fft_plan = old_dir, old_plan
    local f = io.open(dir .. '/fftw.wisdom')
    assert.is_not_nil(f, 'wisdom written')
    assert.matches('fftw', f:read('*a'))
    f:close()
    os.execute("rm -rf '" .. dir .. "'")
    close(sl.fft.irfft(y, 48), x, 1e-12)
  end)

  it('names bad input', function()
    assert.matches('rfft: expected a real input, got complex128', err(sl.fft.rfft, sl.fft.fft(sl.randn(4))))
    assert.matches('fft: axis 3 is out of range for 2 dimensions', err(sl.fft.fft, sl.randn(2, 2), 3))
    assert.matches('irfft: an output of length 10 needs 6 frequencies along axis 1, got 3',
                   err(sl.fft.irfft, sl.fft.rfft(sl.randn(4)), 10))
    assert.matches('irfft: n must be a positive integer', err(sl.fft.irfft, sl.fft.rfft(sl.randn(4)), 0))
    assert.matches('fft: axis %-1 is out of range for 0 dimensions', err(sl.fft.fft, sl.tensor(1.5)))
    assert.matches("fft_plan must be one of estimate|measure, not 'patient'",
                   err(function() sl.config.fft_plan = 'patient' end))
  end)
end)
