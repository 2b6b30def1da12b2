-- Linear algebra in Lua: dot and outer (core/ops/blas.c), the LAPACK ops
-- (core/ops/lapack.c) and what is built from them (det, cho_solve, pinv,
-- matrix_power, norm, matmul), on variables and tensors alike. Their
-- gradients are in grad.lua.
--
-- sl.dot(a, b) / a:dot(b) follows NumPy's dot for 1-d and 2-d operands
-- (vector·vector gives a 0-d result) and np.matmul for 3-d ones: stacks of
-- matrices multiply pairwise, a 2-d operand is broadcast over the stack.
-- With a scalar operand (a Lua number or a 0-d value) dot multiplies, as
-- NumPy's does. sl.outer(a, b) is np.outer: both flattened, (#a, #b).
return function(sl)
  local core = sl.core
  local apply = core.apply
  local var_methods = core.var_methods or core.var_mt.__index
  local tensor_methods = core.tensor_methods

  local function is_scalar(x)
    local t = type(x)
    if t == 'number' or t == 'boolean' then return true end
    return (sl.is_var(x) or sl.is_tensor(x)) and x:dim() == 0
  end

  local method = core.method

  -- float16 and bfloat16 operands multiply as NumPy's and PyTorch's do: in
  -- float32 (sgemm), the result rounded once to the promoted dtype
  local HALF = { float16 = true, bfloat16 = true }
  local function half_dot(a, b)
    local dt = (sl.tensor(0, a:dtype()) + sl.tensor(0, b:dtype())):dtype()   -- the elementwise promotion
    local compute = HALF[dt] and 'float32' or dt
    local c = apply('dot', nil, a:cast(compute), b:cast(compute))
    return HALF[dt] and c:cast(dt) or c
  end

  method('dot', function(a, b)
    if is_scalar(a) or is_scalar(b) then return sl.mul(a, b) end
    if HALF[a:dtype()] or HALF[b:dtype()] then return half_dot(a, b) end
    return apply('dot', nil, a, b)
  end)

  method('outer', function(a, b) return apply('outer', nil, a, b) end)

  -- -- LAPACK (core/ops/lapack.c) and what is built from it ----------------------
  -- Stacks of matrices are the last two axes, the leading ones a batch, as in
  -- numpy.linalg. Integer and bool inputs compute in floatX; float32 stays
  -- float32; complex64 and complex128 go through LAPACK's complex routines.
  -- A right-hand side of solve, solve_triangular, cho_solve and
  -- lstsq that is 1-d is one vector; otherwise it is a (stack of) matrix.
  local fail = core.fail
  sl.linalg = sl.linalg or {}

  local function linalg(name, f)
    sl[name] = f
    sl.linalg[name] = f
    var_methods[name] = f
    if tensor_methods[name] == nil then tensor_methods[name] = f end
  end

  local COMPLEX = { complex64 = true, complex128 = true }
  local function is_complex(x) return COMPLEX[x:dtype()] == true end
  sl.linalg.is_complex = is_complex
  local function ndim(x) return sl.is_var(x) and #x:static_shape() or x:dim() end
  local function as_float(x)
    if type(x) == 'number' then return sl.tensor(x, sl.config.floatX) end
    if type(x) == 'table' and not sl.is_var(x) and not sl.is_tensor(x) then x = sl.tensor(x) end
    local d = x:dtype()
    if d == 'float32' or d == 'float64' or d == 'complex64' or d == 'complex128' then return x end
    return x:cast(sl.config.floatX)
  end
  local function need_matrix(op, x, flat)
    local nd = ndim(x)
    if nd < 2 or (flat and nd ~= 2) then
      fail('%s: expected a matrix (%s dimensions), got %d-d', op, flat and '2' or 'at least 2', nd)
    end
    return nd
  end
  -- the size of axis a (1-based, negative from the end): a number or a symbolic scalar
  local function size(x, a)
    local nd = ndim(x)
    if a < 0 then a = nd + 1 + a end
    if sl.is_var(x) then
      local s = x:static_shape()[a]
      if s and s >= 0 then return s end
      return x:shape(a)
    end
    return x:size(a)
  end
  sl.linalg.size = size

  -- x with its last two axes swapped (NumPy's matrix_transpose, x.mT)
  local function mT(x)
    local nd = ndim(x)
    local v = {}
    for i = 1, nd do v[i] = i - 1 end
    v[nd - 1], v[nd] = nd - 1, nd - 2
    return apply('dimshuffle', { v = v }, x)
  end
  linalg('matrix_transpose', mT)
  -- the conjugate transpose (x.mH); mT for real x
  local function mH(x)
    if is_complex(x) then return apply('conj', nil, mT(x)) end
    return mT(x)
  end
  linalg('matrix_adjoint', mH)

  -- np.matmul for stacks of any rank: dot takes 2-d and 3-d operands; more
  -- leading axes (the same on both sides) are folded into one.
  local matmul
  -- complex operands multiply through their real and imaginary parts (dot
  -- is real), so the product and its gradient are real graphs
  local function complex_matmul(a, b)
    local ar, ai = a, nil
    local br, bi = b, nil
    if is_complex(a) then ar, ai = sl.real(a), sl.imag(a) end
    if is_complex(b) then br, bi = sl.real(b), sl.imag(b) end
    local re, im = matmul(ar, br), nil
    if ai and bi then re = re - matmul(ai, bi) end
    if ai then im = matmul(ai, br) end
    if bi then im = im and im + matmul(ar, bi) or matmul(ar, bi) end
    return sl.complex(re, im)
  end
  matmul = function(a, b)
    if is_complex(a) or is_complex(b) then return complex_matmul(a, b) end
    local na, nb = ndim(a), ndim(b)
    if na <= 3 and nb <= 3 then return sl.dot(a, b) end
    if na ~= nb then fail('matmul: stacks of %d and %d dimensions; give both the same batch axes', na, nb) end
    local shape = {}
    for i = 1, na - 2 do shape[i] = size(a, i) end
    local a3 = sl.reshape(a, -1, size(a, -2), size(a, -1))
    local b3 = sl.reshape(b, -1, size(b, -2), size(b, -1))
    shape[na - 1], shape[na] = size(a, -2), size(b, -1)
    return sl.reshape(sl.dot(a3, b3), shape)
  end
  linalg('matmul', matmul)

  -- a 1-d right-hand side as one column, and back
  local function as_columns(b)
    if ndim(b) == 1 then return apply('dimshuffle', { v = { 0, -1 } }, b), true end
    return b, false
  end
  local function from_columns(x, vector)
    if not vector then return x end
    local v = {}
    for i = 1, ndim(x) - 1 do v[i] = i - 1 end
    return apply('dimshuffle', { v = v }, x)
  end

  linalg('cholesky', function(a)
    a = as_float(a)
    need_matrix('cholesky', a)
    return apply('cholesky', nil, a)
  end)

  linalg('solve', function(a, b)
    a, b = as_float(a), as_float(b)
    need_matrix('solve', a)
    local cols, vector = as_columns(b)
    return from_columns(apply('solve', nil, a, cols), vector)
  end)

  -- solve_triangular(a, b, opts): SciPy's; opts.lower (default false), opts.trans
  -- (false/'N'/0, true/'T'/1, 'C'/2: the conjugate transpose, the transpose
  -- for real a) and opts.unit_diagonal. Only the triangle named is read.
  local TRANS = { N = 0, T = 1, C = 2, [0] = 0, [1] = 1, [2] = 2, [false] = 0, [true] = 1 }
  linalg('solve_triangular', function(a, b, opts)
    opts = opts or {}
    a, b = as_float(a), as_float(b)
    need_matrix('solve_triangular', a)
    local trans = TRANS[opts.trans == nil and 0 or opts.trans]
    if not trans then fail("solve_triangular: trans must be 'N', 'T', 'C', 0, 1, 2 or a boolean, got %s", tostring(opts.trans)) end
    if trans == 2 and not is_complex(a) then trans = 1 end   -- one form for one real solve
    local cols, vector = as_columns(b)
    local p = { v = { opts.lower and 1 or 0, trans, opts.unit_diagonal and 1 or 0 } }
    return from_columns(apply('solve_triangular', p, a, cols), vector)
  end)

  -- cho_solve(L, b, opts): x with A x = b for A = L L^H (opts.lower, default
  -- true) or U^H U (opts.lower = false), by two triangular solves
  linalg('cho_solve', function(c, b, opts)
    local lower = not (opts and opts.lower == false)
    local y = sl.solve_triangular(c, b, { lower = lower, trans = lower and 'N' or 'C' })
    return sl.solve_triangular(c, y, { lower = lower, trans = lower and 'C' or 'N' })
  end)

  linalg('inv', function(a)
    a = as_float(a)
    need_matrix('inv', a)
    return apply('inv', nil, a)
  end)

  -- slogdet(a): sign and log|det a|; (0, -inf) for a singular matrix. The sign
  -- of a complex matrix is det / |det|, a complex unit
  linalg('slogdet', function(a)
    a = as_float(a)
    need_matrix('slogdet', a)
    return apply('slogdet', nil, a)
  end)

  -- det(a) = sign * exp(logdet): its gradient goes through slogdet's
  linalg('det', function(a)
    local sign, logdet = sl.slogdet(a)
    return sign * sl.exp(logdet)
  end)

  -- qr(a, mode): 'reduced' (default) or 'complete' give Q, R; 'r' gives R
  linalg('qr', function(a, mode)
    a = as_float(a)
    need_matrix('qr', a)
    mode = mode or 'reduced'
    if mode ~= 'reduced' and mode ~= 'complete' and mode ~= 'r' then
      fail("qr: mode must be 'reduced', 'complete' or 'r', got %s", tostring(mode))
    end
    local q, r = apply('qr', { v = { mode == 'complete' and 1 or 0 } }, a)
    if mode == 'r' then return r end
    return q, r
  end)

  -- svd(a, full_matrices, compute_uv): NumPy's (both default true): U, S, Vh
  -- with a = U diag(S) Vh, or S alone (the op svdvals)
  linalg('svd', function(a, full_matrices, compute_uv)
    a = as_float(a)
    need_matrix('svd', a)
    if compute_uv == false then return apply('svdvals', nil, a) end
    return apply('svd', { v = { full_matrices == false and 0 or 1 } }, a)
  end)
  linalg('svdvals', function(a)
    a = as_float(a)
    need_matrix('svdvals', a)
    return apply('svdvals', nil, a)
  end)

  -- eigh(a, UPLO): eigenvalues ascending and the eigenvectors as columns, of a
  -- symmetric matrix read from its lower ('L', default) or upper triangle
  local function uplo(op, u)
    u = u or 'L'
    if u ~= 'L' and u ~= 'U' then fail("%s: UPLO must be 'L' or 'U', got %s", op, tostring(u)) end
    return { v = { u == 'U' and 1 or 0 } }
  end
  linalg('eigh', function(a, UPLO)
    a = as_float(a)
    need_matrix('eigh', a)
    return apply('eigh', uplo('eigh', UPLO), a)
  end)
  linalg('eigvalsh', function(a, UPLO)
    a = as_float(a)
    need_matrix('eigvalsh', a)
    return apply('eigvalsh', uplo('eigvalsh', UPLO), a)
  end)

  -- eig(a): eigenvalues and unit eigenvectors (columns), always complex
  linalg('eig', function(a)
    a = as_float(a)
    need_matrix('eig', a)
    return apply('eig', nil, a)
  end)

  -- lstsq(a, b, rcond): NumPy's for 2-d a: x, residuals, rank, s. rcond
  -- defaults to eps * max(m, n) (NumPy's rcond=None).
  linalg('lstsq', function(a, b, rcond)
    a, b = as_float(a), as_float(b)
    need_matrix('lstsq', a, true)
    local cols, vector = as_columns(b)
    if ndim(cols) ~= 2 then fail('lstsq: expected a 1-d or 2-d right-hand side, got %d-d', ndim(b)) end
    local x, res, rank, s = apply('lstsq', { x = rcond or -1 }, a, cols)
    return from_columns(x, vector), res, rank, s
  end)

  -- pinv(a, rcond): V diag(1/s) U^H over the singular values above rcond * max(s)
  linalg('pinv', function(a, rcond)
    a = as_float(a)
    need_matrix('pinv', a)
    local u, s, vh = sl.svd(a, false)
    local cutoff = sl.max(s, -1, true) * (rcond or 1e-15)
    local keep = sl.gt(s, cutoff)
    local inv_s = sl.where(keep, 1 / sl.where(keep, s, 1), 0)
    local v = mH(vh) * apply('dimshuffle', { v = (function()
      local p = {}
      for i = 1, ndim(s) - 1 do p[i] = i - 1 end
      p[#p + 1] = -1
      p[#p + 1] = ndim(s) - 1
      return p
    end)() }, inv_s)
    return matmul(v, mH(u))
  end)

  -- an identity of a's matrix size, in a's dtype, broadcasting over its batch
  local function identity_like(a)
    local n = size(a, -1)
    local i = sl.arange(0, n, 'int64')
    return sl.eq(i:dimshuffle(1, 'x'), i:dimshuffle('x', 1)):cast(a:dtype())
  end
  sl.linalg.identity_like = identity_like

  -- matrix_power(a, n): repeated squaring; n < 0 powers the inverse
  linalg('matrix_power', function(a, n)
    a = as_float(a)
    need_matrix('matrix_power', a)
    if type(n) ~= 'number' or n % 1 ~= 0 then fail('matrix_power: the exponent must be an integer, got %s', tostring(n)) end
    if ndim(a) >= 2 and sl.is_tensor(a) and a:size(-1) ~= a:size(-2) then
      fail('matrix_power: expected square matrices, got %d x %d', a:size(-2), a:size(-1))
    end
    if n == 0 then return a * 0 + identity_like(a) end
    if n < 0 then a, n = sl.inv(a), -n end
    local result, base = nil, a
    while n > 0 do
      if n % 2 == 1 then result = result and matmul(result, base) or base end
      n = math.floor(n / 2)
      if n > 0 then base = matmul(base, base) end
    end
    return result
  end)

  -- norm(x, ord, axis, keepdims): NumPy's vector and matrix norms. axis nil:
  -- x 1-d or 2-d (or any x with ord nil: the 2-norm of all of it); a number:
  -- vector norms along it; a pair: matrix norms over those axes.
  -- a complex x's norms are those of |x|, but for the singular-value ones
  local function vector_norm(x, ord, axis, keepdims)
    if is_complex(x) then x = sl.abs(x) end
    local ax = sl.abs(x)
    if ord == nil or ord == 2 then return sl.sqrt(sl.sum(x * x, axis, keepdims)) end
    if ord == math.huge then return sl.max(ax, axis, keepdims) end
    if ord == -math.huge then return sl.min(ax, axis, keepdims) end
    if ord == 0 then return sl.sum(sl.ne(x, 0):cast(x:dtype()), axis, keepdims) end
    if ord == 1 then return sl.sum(ax, axis, keepdims) end
    if type(ord) ~= 'number' then fail('norm: invalid norm order %s for vectors', tostring(ord)) end
    return sl.sum(ax ^ ord, axis, keepdims) ^ (1 / ord)
  end
  local function matrix_norm(x, ord, r, c, keepdims)
    local nd = ndim(x)
    local function fix(v) return v < 0 and nd + 1 + v or v end
    r, c = fix(r), fix(c)
    if r == c then fail('norm: the two axes are the same') end
    local function keep(v)   -- re-insert the reduced axes as size 1
      if not keepdims then return v end
      local p, k = {}, 0
      for i = 1, nd do
        if i == r or i == c then p[i] = 'x' else k = k + 1; p[i] = k end
      end
      return v:dimshuffle(p)
    end
    if ord == nil or ord == 'fro' then
      local m = is_complex(x) and sl.abs(x) or x
      return sl.sqrt(sl.sum(m * m, { r, c }, keepdims))
    end
    local ax = sl.abs(x)
    if ord == 1 or ord == -1 then   -- max/min column sum
      local s = sl.sum(ax, r, true)
      return keep((ord == 1 and sl.max or sl.min)(s, { r, c }))
    end
    if ord == math.huge or ord == -math.huge then   -- max/min row sum
      local s = sl.sum(ax, c, true)
      return keep((ord > 0 and sl.max or sl.min)(s, { r, c }))
    end
    if ord == 2 or ord == -2 or ord == 'nuc' then
      local p = {}
      for i = 1, nd do if i ~= r and i ~= c then p[#p + 1] = i end end
      p[#p + 1], p[#p + 2] = r, c
      local s = sl.svdvals(sl.transpose(x, p))
      local v = ord == 'nuc' and sl.sum(s, -1) or ord == 2 and sl.max(s, -1) or sl.min(s, -1)
      return keep(v)
    end
    fail('norm: invalid norm order %s for matrices', tostring(ord))
  end
  linalg('norm', function(x, ord, axis, keepdims)
    x = as_float(x)
    local nd = ndim(x)
    if axis == nil then
      if ord == nil then
        local ax = is_complex(x) and sl.abs(x) or x
        local r = sl.sqrt(sl.sum(ax * ax))
        if keepdims then
          local p = {}
          for i = 1, nd do p[i] = 'x' end
          r = r:dimshuffle(p)
        end
        return r
      end
      if nd == 1 then return vector_norm(x, ord, 1, keepdims) end
      if nd == 2 then return matrix_norm(x, ord, 1, 2, keepdims) end
      fail('norm: improper number of dimensions to norm (%d-d with an ord and no axis)', nd)
    end
    if type(axis) == 'number' then return vector_norm(x, ord, axis, keepdims) end
    if type(axis) == 'table' and #axis == 1 then return vector_norm(x, ord, axis[1], keepdims) end
    if type(axis) == 'table' and #axis == 2 then return matrix_norm(x, ord, axis[1], axis[2], keepdims) end
    fail('norm: axis must be a number or a list of one or two axes')
  end)
end
