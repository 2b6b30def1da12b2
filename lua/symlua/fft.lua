-- sl.fft (FFTW3) and complex values: real, imag, conj, angle, abs, complex;
-- the transforms' gradients.
--
--   sl.fft.fft(x [, axis]), ifft(x [, axis])        complex to complex (real x is promoted)
--   sl.fft.rfft(x [, axis])                         real to the n/2 + 1 non-negative frequencies
--   sl.fft.irfft(X [, n [, axis]])                  back to n real values (n = 2 (m - 1) by default)
--   sl.fft.fft2, ifft2, rfft2, irfft2(x [, s])      over the last two axes (s: irfft2's output sizes)
--
-- Axes are 1-based, negative from the end, -1 by default. Normalization is
-- NumPy's: the forward transforms are unnormalized, the inverses divide by n.
--
-- Gradients treat a complex value as its (real, imaginary) pair: the
-- gradient of a real cost with respect to z = a + ib is dC/da + i dC/db.
return function(sl)
  local core = sl.core
  local apply = core.apply
  local var_methods = core.var_mt.__index
  local tensor_methods = core.tensor_methods
  local fail = core.fail
  sl.fft = sl.fft or {}

  local function is_complex(x) local d = x:dtype() return d == 'complex64' or d == 'complex128' end
  local function ndim(x) return sl.is_var(x) and #x:static_shape() or x:dim() end
  local function as_value(x) return type(x) == 'number' and sl.tensor(x, sl.config.floatX) or x end

  local function axis0(op, axis, nd)
    axis = axis or -1
    if type(axis) ~= 'number' or axis % 1 ~= 0 then fail('%s: the axis must be an integer', op) end
    local a = axis < 0 and nd + axis or axis - 1
    if a < 0 or a >= nd then fail('%s: axis %d is out of range for %d dimensions', op, axis, nd) end
    return a
  end

  local function complex_dtype(x)
    return (x:dtype() == 'float32' or x:dtype() == 'complex64') and 'complex64' or 'complex128'
  end
  local function float_dtype(x) return x:dtype() == 'float32' and 'float32' or 'float64' end

  -- -- complex values ------------------------------------------------------------------------
  local function method(name, f)
    sl[name] = f
    var_methods[name] = f
    tensor_methods[name] = f
  end
  method('real', function(x) x = as_value(x) return is_complex(x) and apply('real', nil, x) or x end)
  method('imag', function(x)
    x = as_value(x)
    return is_complex(x) and apply('imag', nil, x) or x * 0
  end)
  method('conj', function(x) x = as_value(x) return is_complex(x) and apply('conj', nil, x) or x end)
  method('angle', function(x)
    x = as_value(x)
    return is_complex(x) and apply('angle', nil, x) or sl.atan2(x * 0, x)
  end)
  -- sl.complex(re, im): re + i im, from floats of one dtype and shape
  function sl.complex(re, im) return apply('complex', nil, as_value(re), as_value(im)) end
  -- abs of a complex value is its magnitude, a float
  local abs = sl.abs
  local function cabs(x)
    if (sl.is_var(x) or sl.is_tensor(x)) and is_complex(x) then return apply('cabs', nil, x) end
    return abs(x)
  end
  sl.abs, var_methods.abs, tensor_methods.abs = cabs, cabs, cabs

  -- -- transforms ----------------------------------------------------------------------------
  local function to_complex(x)
    x = as_value(x)
    if is_complex(x) then return x end
    return x:cast(complex_dtype(x))
  end
  local function to_float(x)
    x = as_value(x)
    if is_complex(x) then fail('rfft: expected a real input, got %s (use fft)', x:dtype()) end
    if x:dtype() ~= 'float32' and x:dtype() ~= 'float64' then x = x:cast(float_dtype(x)) end
    return x
  end

  -- params: the axis, a second axis for the 2-d forms (-1: none), irfft's
  -- output length along the last of them (core/ops/fft.c)
  function sl.fft.fft(x, axis)
    x = to_complex(x)
    return apply('fft', { v = { axis0('fft', axis, ndim(x)), -1, 0 } }, x)
  end
  function sl.fft.ifft(x, axis)
    x = to_complex(x)
    return apply('ifft', { v = { axis0('ifft', axis, ndim(x)), -1, 0 } }, x)
  end
  function sl.fft.rfft(x, axis)
    x = to_float(x)
    return apply('rfft', { v = { axis0('rfft', axis, ndim(x)), -1, 0 } }, x)
  end

  -- irfft's output length n defaults to 2 (m - 1) for m frequencies
  local function out_length(op, X, a, n)
    if n == nil then
      local m = sl.is_var(X) and X:static_shape()[a + 1] or X:size(a + 1)
      if not m or m < 0 then fail('%s: give the output length: the input size along the axis is not known', op) end
      n = 2 * (m - 1)
    end
    if type(n) ~= 'number' or n < 1 or n % 1 ~= 0 then fail('%s: n must be a positive integer, got %s', op, tostring(n)) end
    return n
  end

  function sl.fft.irfft(X, n, axis)
    X = to_complex(X)
    local a = axis0('irfft', axis, ndim(X))
    return apply('irfft', { v = { a, -1, out_length('irfft', X, a, n) } }, X)
  end

  -- the 2-d forms: one transform over the last two axes
  local function last_two(op, x)
    local nd = ndim(x)
    if nd < 2 then fail('%s: expected at least 2 dimensions, got %d', op, nd) end
    return nd - 2, nd - 1
  end
  function sl.fft.fft2(x)
    x = to_complex(x)
    local a, b = last_two('fft2', x)
    return apply('fft', { v = { a, b, 0 } }, x)
  end
  function sl.fft.ifft2(x)
    x = to_complex(x)
    local a, b = last_two('ifft2', x)
    return apply('ifft', { v = { a, b, 0 } }, x)
  end
  function sl.fft.rfft2(x)
    x = to_float(x)
    local a, b = last_two('rfft2', x)
    return apply('rfft', { v = { a, b, 0 } }, x)
  end
  -- s: { rows, cols } of the output; rows must be the input's, cols
  -- defaults to 2 (m - 1)
  function sl.fft.irfft2(X, s)
    X = to_complex(X)
    local a, b = last_two('irfft2', X)
    s = s or {}
    local rows = sl.is_var(X) and X:static_shape()[a + 1] or X:size(a + 1)
    if s[1] and rows and rows >= 0 and s[1] ~= rows then
      fail('irfft2: the output has as many rows as the input (%d), not %d', rows, s[1])
    end
    return apply('irfft', { v = { a, b, out_length('irfft2', X, b, s[2]) } }, X)
  end

  -- -- gradients -----------------------------------------------------------------------------
  local rules = sl.gradients

  -- the size of x along 0-based axis a, as a number or a symbolic scalar
  local function size(x, a) return sl.is_var(x) and x:shape(a + 1) or x:size(a + 1) end

  -- a real vector w along axis a of a rank-nd value, shaped to broadcast
  local function along(w, a, nd)
    local pattern = {}
    for d = 1, nd do pattern[d] = d == a + 1 and 1 or 'x' end
    return w:dimshuffle(unpack(pattern))
  end

  -- For m = n/2 + 1 frequencies of a length-n transform: weight 1 for the
  -- bins that appear once in the full spectrum (0, and n/2 when n is even),
  -- 2 for the others, which stand for a conjugate pair.
  local function pair_weights(m, n, dtype)
    local k = sl.arange(0, m, 'int64')
    local once = sl.logical_or(sl.eq(k, 0), sl.eq(k * 2, n))
    return sl.where(once, 1, 2):cast(dtype)
  end

  -- The transformed axes of a node (0-based), the last being the halved one
  -- of rfft/irfft, and the product of the sizes of x along them.
  local function axes_of(node)
    local v = node:params().v
    return v[2] >= 0 and { v[1], v[2] } or { v[1] }
  end
  local function count(x, axes, dtype)
    local c = 1
    for _, a in ipairs(axes) do c = c * size(x, a) end
    return sl.cast(c, dtype)
  end

  -- fft: dC/dx = conj(F)^T G = N ifft(G); ifft: dC/dx = fft(G) / N
  rules.fft = function(node, ins, _, g)
    local N = count(ins[1], axes_of(node), float_dtype(sl.real(ins[1])))
    return { apply('ifft', node:params(), g[1]) * N }
  end
  rules.ifft = function(node, ins, _, g)
    local N = count(ins[1], axes_of(node), float_dtype(sl.real(ins[1])))
    return { apply('fft', node:params(), g[1]) / N }
  end
  -- rfft: x -> the non-negative half of F x along the last axis; dC/dx =
  -- Re(sum_k conj(F_kj) G_k) = N irfft(G / w), w the pair weights (irfft
  -- counts the paired bins twice)
  rules.rfft = function(node, ins, _, g)
    local x, axes = ins[1], axes_of(node)
    local a = axes[#axes]
    local w = pair_weights(size(g[1], a), size(x, a), float_dtype(x))
    local v = node:params().v
    local inv = apply('irfft', { v = { v[1], v[2], -1 } }, g[1] / along(w, a, ndim(x)), x)
    return { inv * count(x, axes, x:dtype()) }
  end
  -- irfft: y = Re(sum_k w_k X_k e^{2 pi i jk/n}) / N; dC/dX_k = w_k rfft(G)_k / N
  rules.irfft = function(node, ins, outs, g)
    local X, axes = ins[1], axes_of(node)
    local a = axes[#axes]
    local y = outs[1]
    local w = pair_weights(size(X, a), size(y, a), float_dtype(g[1]))
    local v = node:params().v
    local G = apply('rfft', { v = { v[1], v[2], 0 } }, g[1])
    return { G * along(w / count(y, axes, w:dtype()), a, ndim(X)) }
  end

  rules.real = function(_, ins, _, g) return { sl.complex(g[1], g[1] * 0):cast(ins[1]:dtype()) } end
  rules.imag = function(_, ins, _, g) return { sl.complex(g[1] * 0, g[1]):cast(ins[1]:dtype()) } end
  rules.conj = function(_, _, _, g) return { apply('conj', nil, g[1]) } end
  rules.complex = function(_, _, _, g) return { apply('real', nil, g[1]), apply('imag', nil, g[1]) } end
  -- |z|: (a, b) / |z|, so G = g z / |z|; 0 at z = 0, as real abs's sign(0) is
  rules.cabs = function(_, ins, outs, g)
    local z, r = ins[1], outs[1]
    local s = g[1] / sl.where(sl.gt(r, 0), r, 1)
    return { z * sl.complex(s, s * 0) }
  end
  -- angle = atan2(b, a): (-b, a) / |z|^2, so G = g i z / |z|^2
  rules.angle = function(_, ins, _, g)
    local z = ins[1]
    local r2 = sl.real(z) * sl.real(z) + sl.imag(z) * sl.imag(z)
    local s = g[1] / r2
    return { z * sl.complex(s * 0, s) }
  end
end
