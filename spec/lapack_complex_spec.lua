-- The LAPACK ops on complex64 and complex128 matrices (LAPACK's z routines):
-- values against NumPy, batched, empty, complex64 and compiled; the errors
-- for singular and non-positive-definite input; gradients against finite
-- differences (through the real and imaginary parts) and torch.autograd.
local sl = require 'symlua'
local np = require 'spec.support.numpy'
local torch_oracle = require 'spec.support.torch'

local COMPLEX = { complex64 = true, complex128 = true }
-- real and imaginary parts both within tol of want's
local function close(got, want, tol, what)
  tol = tol or 1e-10
  assert.are.equal(want:dtype(), got:dtype(), (what or '') .. ' dtype')
  if not COMPLEX[want:dtype()] then return np.assert_close(got, want, tol, tol, what) end
  np.assert_close(sl.real(got), sl.real(want), tol, tol, (what or '') .. ' (real parts)')
  np.assert_close(sl.imag(got), sl.imag(want), tol, tol, (what or '') .. ' (imaginary parts)')
end

sl.manual_seed(11)
local function crandn(...) return sl.complex(sl.randn(...), sl.randn(...)) end
local H = sl.matrix_adjoint
local A, B, W = crandn(4, 4), crandn(4, 3), crandn(5, 3)
local HPD = sl.matmul(A, H(A)) + sl.eye(4) * 4   -- Hermitian positive definite
local BATCH = crandn(2, 3, 3)
local BHPD = sl.matmul(BATCH, H(BATCH)) + sl.eye(3) * 3

describe('complex linalg values against NumPy', function()
  it('solves, inverts, factors and takes determinants', function()
    local want = { np.eval('(np.linalg.solve(A, B), np.linalg.solve(A, B[:, 0]), np.linalg.inv(A), '
      .. 'np.linalg.det(A), *np.linalg.slogdet(A), np.linalg.cholesky(S), np.linalg.matrix_power(A, 3), '
      .. 'np.linalg.matrix_power(A, -2), np.linalg.matrix_power(A, 0), np.linalg.pinv(W), '
      .. 'np.linalg.solve(S, B), np.linalg.solve(R, B))', { A = A, B = B, S = HPD, W = W, R = sl.real(A) }) }
    close(sl.solve(A, B), want[1], nil, 'solve')
    close(sl.solve(A, B:select(2, 1)), want[2], nil, 'solve vector')
    close(sl.inv(A), want[3], nil, 'inv')
    close(sl.det(A), want[4], nil, 'det')
    local sign, logdet = sl.slogdet(A)
    close(sign, want[5], nil, 'slogdet sign')
    close(logdet, want[6], nil, 'slogdet logdet')
    assert.is_true(math.abs(sl.abs(sign):item() - 1) < 1e-14)
    close(sl.cholesky(HPD), want[7], nil, 'cholesky')
    close(sl.matrix_power(A, 3), want[8], nil, 'matrix_power 3')
    close(sl.matrix_power(A, -2), want[9], 1e-9, 'matrix_power -2')
    close(sl.matrix_power(A, 0), want[10], nil, 'matrix_power 0')
    close(sl.pinv(W), want[11], nil, 'pinv')
    close(sl.cho_solve(sl.cholesky(HPD), B), want[12], 1e-9, 'cho_solve')
    close(sl.solve(sl.real(A), B), want[13], nil, 'a real matrix, a complex right-hand side')
  end)

  it('solves triangular systems for every trans', function()
    local Lw = A + sl.eye(4) * 3
    local want = { np.eval('(np.linalg.solve(np.tril(M), B), np.linalg.solve(np.triu(M).T, B), '
      .. 'np.linalg.solve(np.tril(M).conj().T, B), np.linalg.solve(np.tril(M, -1) + np.eye(4), B))', { M = Lw, B = B }) }
    close(sl.solve_triangular(Lw, B, { lower = true }), want[1], nil, "lower, 'N'")
    close(sl.solve_triangular(Lw, B, { trans = 'T' }), want[2], nil, "upper, 'T'")
    close(sl.solve_triangular(Lw, B, { lower = true, trans = 'C' }), want[3], nil, "lower, 'C'")
    close(sl.solve_triangular(Lw, B, { lower = true, unit_diagonal = true }), want[4], nil, 'unit diagonal')
  end)

  it('decomposes: values match NumPy, factors are unitary and rebuild the input', function()
    local want = { np.eval('(np.linalg.svd(W, compute_uv=False), np.linalg.eigvalsh(S), np.abs(np.linalg.qr(W)[1]), '
      .. 'np.sort_complex(np.linalg.eigvals(A)), np.linalg.eigvalsh(S, UPLO="U"))', { W = W, S = HPD, A = A }) }
    local function unitary(u, what)
      local k = u:size(2)
      close(sl.matmul(H(u), u), sl.eye(k):cast('complex128'), 1e-12, what)
    end
    local u, s, vh = sl.svd(W, false)
    close(s, want[1], nil, 'svd values')
    close(sl.svdvals(W), want[1], nil, 'svdvals')
    unitary(u, 'reduced U')
    close(sl.matmul(u * s:dimshuffle('x', 1), vh), W, 1e-12, 'U S Vh')
    local uf, sf, vf = sl.svd(W)
    assert.are.same({ 5, 5 }, uf:shape())
    unitary(uf, 'full U')
    unitary(vf, 'full V^H')
    close(sl.matmul(uf:narrow(2, 1, 3) * sf:dimshuffle('x', 1), vf), W, 1e-12, 'full U S Vh')
    local wide_u, wide_s, wide_vh = sl.svd(W:transpose(1, 2):contiguous())
    close(wide_s, want[1], nil, 'svd of the transpose')
    close(sl.matmul(wide_u * wide_s:dimshuffle('x', 1), wide_vh:narrow(1, 1, 3)), W:transpose(1, 2), 1e-12, 'wide U S Vh')
    local w, v = sl.eigh(HPD)
    assert.are.equal('float64', w:dtype())
    close(w, want[2], nil, 'eigh values')
    close(sl.eigvalsh(HPD), want[2], nil, 'eigvalsh')
    close(sl.eigvalsh(HPD, 'U'), want[5], nil, "eigvalsh 'U'")
    unitary(v, 'eigh V')
    close(sl.matmul(HPD, v), v * w:dimshuffle('x', 1), 1e-11, 'A V = V w')
    local q, r = sl.qr(W)
    close(sl.abs(r), want[3], 1e-12, 'qr |R|')
    unitary(q, 'Q')
    close(sl.matmul(q, r), W, 1e-12, 'Q R')
    local qc, rc = sl.qr(W, 'complete')
    unitary(qc, 'complete Q')
    close(sl.matmul(qc, rc), W, 1e-12, 'complete Q R')
    local ew, ev = sl.eig(A)
    assert.are.equal('complex128', ew:dtype())
    close(sl.matmul(A, ev), ev * ew:dimshuffle('x', 1), 1e-11, 'A V = V w')
    close(np.eval('np.sort_complex(w)', { w = ew }), want[4], 1e-10, 'eig values')
  end)

  it('lstsq gives x, residuals, rank and s as NumPy does', function()
    local b = crandn(5, 2)
    local want = { np.eval('np.linalg.lstsq(W, b, rcond=None)', { W = W, b = b }) }
    local x, res, rank, s = sl.lstsq(W, b)
    close(x, want[1], nil, 'x')
    assert.are.equal('float64', res:dtype())
    close(res, want[2], 1e-9, 'residuals')
    assert.are.equal(want[3]:item(), rank:item())
    close(s, want[4], nil, 's')
  end)

  it('norms of |x|, and singular values for 2, -2 and nuc', function()
    local v = crandn(6)
    local ords = { 'None', '1', '2', 'np.inf', '-np.inf', '0', '3' }
    local lua_ords = { nil, 1, 2, math.huge, -math.huge, 0, 3 }
    local mords = { 'None', "'fro'", "'nuc'", '1', '-1', '2', '-2', 'np.inf', '-np.inf' }
    local lua_mords = { nil, 'fro', 'nuc', 1, -1, 2, -2, math.huge, -math.huge }
    local codes = {}
    for i = 1, #ords do codes[#codes + 1] = 'np.linalg.norm(v, ' .. ords[i] .. ')' end
    for i = 1, #mords do codes[#codes + 1] = 'np.linalg.norm(W, ' .. mords[i] .. ')' end
    codes[#codes + 1] = 'np.linalg.norm(T, 2, axis=(-2, -1))'
    local want = { np.eval('(' .. table.concat(codes, ', ') .. ',)', { v = v, W = W, T = BATCH }) }
    for i = 1, #ords do close(sl.norm(v, lua_ords[i]), want[i], 1e-12, 'vector norm ' .. ords[i]) end
    for i = 1, #mords do close(sl.norm(W, lua_mords[i]), want[#ords + i], 1e-12, 'matrix norm ' .. mords[i]) end
    close(sl.norm(BATCH, 2, { -2, -1 }), want[#codes], 1e-12, 'batched 2-norm')
  end)

  it('batches over leading axes, broadcasting solve operands', function()
    local rhs = crandn(2, 3, 2)
    local want = { np.eval('(np.linalg.cholesky(S), np.linalg.solve(M, r), np.linalg.inv(M), *np.linalg.slogdet(M), '
      .. 'np.linalg.eigvalsh(S), np.linalg.svd(M, compute_uv=False), np.linalg.solve(M[0], r), np.linalg.det(M))',
      { S = BHPD, M = BATCH, r = rhs }) }
    close(sl.cholesky(BHPD), want[1], nil, 'cholesky')
    close(sl.solve(BATCH, rhs), want[2], 1e-9, 'solve')
    close(sl.inv(BATCH), want[3], 1e-9, 'inv')
    local s, l = sl.slogdet(BATCH)
    close(s, want[4], nil, 'sign')
    close(l, want[5], nil, 'logdet')
    close(sl.eigvalsh(BHPD), want[6], nil, 'eigvalsh')
    close(sl.svdvals(BATCH), want[7], nil, 'svdvals')
    close(sl.solve(BATCH[1], rhs), want[8], 1e-9, 'one matrix for a stack of right-hand sides')
    close(sl.det(BATCH), want[9], 1e-10, 'det')
    local w, v = sl.eig(BATCH)
    close(sl.matmul(BATCH, v), v * w:dimshuffle(1, 'x', 2), 1e-11, 'batched A V = V w')
  end)

  it('computes complex64 in complex64 (real parts float32)', function()
    local f = HPD:cast('complex64')
    local L = sl.cholesky(f)
    assert.are.equal('complex64', L:dtype())
    close(L, sl.cholesky(HPD):cast('complex64'), 1e-5, 'complex64 cholesky')
    local w, v = sl.eigh(f)
    assert.are.equal('float32', w:dtype())
    assert.are.equal('complex64', v:dtype())
    local u, s, vh = sl.svd(W:cast('complex64'))
    assert.are.same({ 'complex64', 'float32', 'complex64' }, { u:dtype(), s:dtype(), vh:dtype() })
    close(s, sl.svdvals(W):cast('float32'), 1e-5, 'complex64 singular values')
    local sign, logdet = sl.slogdet(A:cast('complex64'))
    assert.are.same({ 'complex64', 'float32' }, { sign:dtype(), logdet:dtype() })
    assert.are.equal('complex64', (sl.eig(A:cast('complex64'))):dtype())
    close(sl.solve(A:cast('complex64'), B:cast('complex64')), sl.solve(A, B):cast('complex64'), 1e-4, 'complex64 solve')
  end)

  it('takes 0 x 0, empty batches and empty right-hand sides', function()
    local e = sl.complex(sl.zeros(0, 0), sl.zeros(0, 0))
    assert.are.same({ 0, 0 }, sl.cholesky(e):shape())
    assert.are.same({ 0, 0 }, sl.inv(e):shape())
    close(sl.det(e), sl.tensor(1, 'float64'):cast('complex128'), 0, 'det of 0 x 0')
    local w, v = sl.eigh(e)
    assert.are.same({ 0 }, w:shape())
    assert.are.same({ 0, 0 }, v:shape())
    local zb = sl.complex(sl.zeros(0, 3, 3), sl.zeros(0, 3, 3))
    assert.are.same({ 0, 3, 3 }, sl.cholesky(zb):shape())
    assert.are.same({ 0 }, sl.slogdet(zb):shape())
    assert.are.same({ 4, 0 }, sl.solve(A, sl.complex(sl.zeros(4, 0), sl.zeros(4, 0))):shape())
    local u, s, vh = sl.svd(sl.complex(sl.zeros(3, 0), sl.zeros(3, 0)))
    assert.are.same({ 3, 3 }, u:shape())
    assert.are.same({ 0 }, s:shape())
    close(u, sl.eye(3):cast('complex128'), 0, 'empty svd: U is the identity')
    local q = sl.qr(sl.complex(sl.zeros(2, 0), sl.zeros(2, 0)), 'complete')
    close(q, sl.eye(2):cast('complex128'), 0, 'empty qr: Q is the identity')
  end)

  it('compiles: the same values from a graph', function()
    local x = sl.tensor_type('complex128', { -1, -1 })('x')
    local y = sl.tensor_type('complex128', { -1, -1 })('y')
    local sign, logdet = sl.slogdet(x)
    local f = sl.compile({ x, y }, { sl.solve(x, y), sl.cholesky(x), sign, logdet, sl.eigvalsh(x), sl.inv(x) })
    local z, L, s, l, w, i = f(HPD, B)
    close(z, sl.solve(HPD, B), 1e-12, 'compiled solve')
    close(L, sl.cholesky(HPD), 1e-12, 'compiled cholesky')
    close(s, (sl.slogdet(HPD)), 1e-12, 'compiled sign')
    close(l, select(2, sl.slogdet(HPD)), 1e-12, 'compiled logdet')
    close(w, sl.eigvalsh(HPD), 1e-12, 'compiled eigvalsh')
    close(i, sl.inv(HPD), 1e-12, 'compiled inv')
  end)
end)

describe('complex linalg errors', function()
  local function fails(pattern, f, ...)
    local ok, err = pcall(f, ...)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find(pattern, 1, true), tostring(err))
  end
  local function c(t) return sl.complex(sl.tensor(t, 'float64'), sl.tensor(t, 'float64') * 0.5) end
  it("names the op and LAPACK's z routine for singular and indefinite matrices", function()
    local sing = c({ { 1, 2 }, { 2, 4 } })
    fails('solve: the matrix is singular (LAPACK zgetrf: pivot 2 is exactly zero)', sl.solve, sing, c({ 1, 1 }))
    fails('inv: the matrix is singular (LAPACK zgetrf', sl.inv, sing)
    local s, l = sl.slogdet(sing)
    close(s, sl.tensor(0, 'float64'):cast('complex128'), 0, 'singular sign')
    assert.are.equal(-math.huge, l:item())
    local indefinite = sl.complex(sl.tensor({ { 1, 2 }, { 2, 1 } }, 'float64'), sl.tensor({ { 0, 1 }, { -1, 0 } }, 'float64'))
    fails('cholesky: the matrix is not positive definite (LAPACK zpotrf: the leading minor of order 2 is not positive)',
          sl.cholesky, indefinite)
    fails('cholesky: the matrix is not positive definite (matrix 2 of the batch)', sl.cholesky, sl.stack({ HPD, -HPD }))
    fails('solve_triangular: the matrix is singular (diagonal entry 2 is zero)', sl.solve_triangular,
          c({ { 1, 5 }, { 2, 0 } }), c({ 1, 1 }), { lower = true })
    local x = sl.tensor_type('complex128', { -1, -1 })('x')
    fails('inv: the matrix is singular', sl.compile({ x }, sl.inv(x)), sing)
  end)
  it('refuses NaN and infinity in either part', function()
    local bad = sl.complex(sl.real(HPD), sl.imag(HPD))
    local im = sl.imag(HPD):clone()
    im[{ 2, 3 }] = 0 / 0
    bad = sl.complex(sl.real(HPD), im)
    fails('cholesky: the input holds NaN or infinity (element 7)', sl.cholesky, bad)
    fails('svd: the input holds NaN or infinity (element 7)', sl.svd, bad)
    fails('eig: the input holds NaN or infinity', sl.eig, bad)
    fails('lstsq: the input holds NaN or infinity', sl.lstsq, bad, B)
  end)
  it('checks trans', function()
    fails("solve_triangular: trans must be 'N', 'T', 'C', 0, 1, 2 or a boolean, got X", sl.solve_triangular, A, B,
          { trans = 'X' })
  end)
end)

describe('complex linalg gradients', function()
  -- f of complex inputs, checked as a function of their real and imaginary parts
  local function parts(f, n)
    return function(...)
      local p, z = { ... }, {}
      for i = 1, n do z[i] = sl.complex(p[2 * i - 1], p[2 * i]) end
      for i = 2 * n + 1, #p do z[#z + 1] = p[i] end
      return f(unpack(z))
    end
  end
  local function herm(z) return (z + H(z)) * 0.5 end
  local R = sl.randn
  local C5 = sl.randn(5, 5)
  local function sq(x) return x * x end
  local cases = {
    { 'solve', 2, function(a, b) local x = sl.solve(a, b) return sl.real(x) * sl.imag(x) end, { 3, 3 }, { 3, 2 } },
    { 'inv', 1, function(a) local y = sl.inv(a) return sq(sl.real(y)) + sl.imag(y) end, { 3, 3 } },
    { 'slogdet (sign and log|det|)', 1, function(a) local s, l = sl.slogdet(a)
        return sl.real(s) * 2 + sl.imag(s) * 3 + l end, { 3, 3 } },
    { 'det', 1, function(a) local d = sl.det(a) return sl.abs(d) + sl.real(d) - sl.imag(d) end, { 3, 3 } },
    { 'batched det', 1, function(a) local d = sl.det(a) return sl.real(d) * sl.imag(d) end, { 2, 3, 3 } },
    { 'cholesky', 1, function(a) local L = sl.cholesky(herm(a) + sl.eye(3) * 6) return sl.real(L) + sq(sl.imag(L)) end, { 3, 3 } },
    { "solve_triangular 'N'", 2, function(a, b)
        local x = sl.solve_triangular(a + sl.eye(3) * 3, b, { lower = true }) return sl.real(x) * sl.imag(x) end, { 3, 3 }, { 3, 2 } },
    { "solve_triangular 'T'", 2, function(a, b)
        local x = sl.solve_triangular(a + sl.eye(3) * 3, b, { trans = 'T' }) return sl.real(x) * sl.imag(x) end, { 3, 3 }, { 3, 2 } },
    { "solve_triangular 'C', unit diagonal", 2, function(a, b)
        local x = sl.solve_triangular(a, b, { trans = 'C', lower = true, unit_diagonal = true })
        return sl.real(x) * sl.imag(x) end, { 3, 3 }, { 3, 2 } },
    { 'cho_solve', 2, function(a, b) local x = sl.cho_solve(sl.cholesky(herm(a) + sl.eye(3) * 6), b)
        return sl.real(x) + sl.imag(x) end, { 3, 3 }, { 3, 2 } },
    { 'qr', 1, function(a) local q, r = sl.qr(a)
        return sl.sum(sl.real(q) ^ 3) + sl.sum(sl.imag(q)) + sl.sum(sl.imag(r) ^ 3) + sl.sum(sl.real(r)) end, { 5, 3 } },
    { 'qr of a wide matrix', 1, function(a) local q, r = sl.qr(a) return sl.sum(sl.real(q) ^ 3) + sl.sum(sl.abs(r) ^ 3) end, { 3, 5 } },
    { "qr 'complete' (Q's last columns through their span)", 1, function(a) local q, r = sl.qr(a, 'complete')
        local q2 = q:narrow(2, 4, 2)
        return sl.sum(sl.real(sl.matmul(q2, H(q2))) * C5) + sl.sum(sl.abs(r) ^ 3) + sl.sum(sl.real(q:narrow(2, 1, 3))) end, { 5, 3 } },
    { 'svdvals', 1, function(a) return sl.svdvals(a) end, { 4, 3 } },
    { 'svd, phase-free costs of U and Vh', 1, function(a) local u, s, vh = sl.svd(a, false)
        return sl.sum(sl.abs(u) ^ 3) + sl.sum(s ^ 2) + sl.sum(sl.abs(vh) ^ 3) + sl.real(sl.matmul(u * sq(s):dimshuffle('x', 1), vh)) end,
      { 4, 3 } },
    { 'svd with full matrices (the extra columns through their span)', 1, function(a) local u, s, vh = sl.svd(a)
        local u2 = u:narrow(2, 4, 2)
        return sl.sum(sl.real(sl.matmul(u2, H(u2))) * C5) + sl.sum(sl.abs(vh) ^ 3) + sl.sum(s ^ 3) end, { 5, 3 } },
    { 'eigvalsh', 1, function(a) return sl.eigvalsh(herm(a)) end, { 3, 3 } },
    { 'eigh, |V|', 1, function(a) local w, v = sl.eigh(herm(a)) return sl.abs(v) ^ 3 * w:dimshuffle('x', 1) end, { 3, 3 } },
    { 'eig', 1, function(a) local w, v = sl.eig(a)
        return sl.sum(sl.real(w) ^ 3) + sl.sum(sl.imag(w) ^ 2) + sl.sum(sl.abs(v) ^ 3) end, { 3, 3 } },
    { "eig vectors' phases (zgeev's: each column's largest component real)", 1, function(a) local _, v = sl.eig(a)
        return sl.real(v) * sl.imag(v) end, { 3, 3 } },
    { 'lstsq', 2, function(a, b) local x = sl.lstsq(a, b) return sl.real(x) * sl.imag(x) end, { 5, 3 }, { 5, 2 } },
    { 'pinv', 1, function(a) local p = sl.pinv(a) return sl.real(p) + sq(sl.imag(p)) end, { 4, 3 } },
    { 'matrix_power -2', 1, function(a) local p = sl.matrix_power(a, -2) return sl.real(p) + sq(sl.imag(p)) end, { 3, 3 } },
    { 'norms', 1, function(a) return sl.norm(a) + sl.norm(a, 'nuc') + sl.norm(a, 2) + sl.norm(a, 1) end, { 4, 3 } },
  }
  for _, c in ipairs(cases) do
    it(c[1] .. ' matches finite differences', function()
      local points = {}
      for i = 1, c[2] do
        points[#points + 1] = R(unpack(c[3 + i]))
        points[#points + 1] = R(unpack(c[3 + i]))
      end
      assert.is_true(sl.verify_grad(parts(c[3], c[2]), points) <= 1)
    end)
  end

  it('a real matrix with a complex right-hand side: the real gradient is the real part', function()
    local f = function(a, br, bi) local x = sl.solve(a, sl.complex(br, bi)) return sl.abs(x) end
    assert.is_true(sl.verify_grad(f, { R(3, 3), R(3, 2), R(3, 2) }) <= 1)
  end)

  -- torch.autograd on complex inputs, on real costs (torch's gradient convention
  -- is symlua's: dC/da + i dC/db)
  local C4 = sl.randn(4, 4)
  local TORCH = {
    { 'solve', function(x) local y = sl.solve(x, B) return sl.sum(sl.real(y) * sl.imag(y)) end,
      '(lambda y: (y.real * y.imag).sum())(t.linalg.solve(X, B))', A },
    { 'inv', function(x) return sl.sum(sl.abs(sl.inv(x)) * C4) end, '(t.linalg.inv(X).abs() * C4).sum()', A },
    { 'slogdet', function(x) local s, l = sl.slogdet(x) return sl.real(s) + 2 * sl.imag(s) + 3 * l end,
      '(lambda s, l: s.real + 2 * s.imag + 3 * l)(*t.linalg.slogdet(X))', A },
    { 'det', function(x) local d = sl.det(x) return sl.real(d) * sl.imag(d) end,
      '(lambda d: d.real * d.imag)(t.linalg.det(X))', A },
    { 'cholesky', function(x) local L = sl.cholesky(herm(x)) return sl.sum(sl.real(L) * C4) + sl.sum(sl.imag(L) ^ 2) end,
      '(lambda L: (L.real * C4).sum() + (L.imag ** 2).sum())(t.linalg.cholesky((X + X.mH) / 2))', HPD },
    { 'qr', function(x) local q, r = sl.qr(x) return sl.sum(sl.real(q) ^ 3) + sl.sum(sl.imag(r) * sl.real(r)) end,
      '(lambda q, r: (q.real ** 3).sum() + (r.imag * r.real).sum())(*t.linalg.qr(X))', W },
    { 'svd', function(x) local u, s, vh = sl.svd(x, false)
        return sl.sum(sl.abs(u) ^ 3) + sl.sum(s ^ 3) + sl.sum(sl.abs(vh)) + sl.sum(sl.real(sl.matmul(u, vh))) end,
      '(lambda u, s, vh: (u.abs() ** 3).sum() + (s ** 3).sum() + vh.abs().sum() + (u @ vh).real.sum())'
        .. '(*t.linalg.svd(X, full_matrices=False))', W },
    { 'eigh', function(x) local w, v = sl.eigh(herm(x)) return sl.sum(sl.abs(v) ^ 3 * w:dimshuffle('x', 1)) + sl.sum(w ^ 3) end,
      '(lambda w, v: ((v.abs() ** 3) * w[None, :]).sum() + (w ** 3).sum())(*t.linalg.eigh((X + X.mH) / 2))', HPD },
    { 'eig', function(x) local w, v = sl.eig(x)
        return sl.sum(sl.real(w) ^ 3) + sl.sum(sl.imag(w) ^ 2) + sl.sum(sl.abs(v) * C4) end,
      '(lambda w, v: (w.real ** 3).sum() + (w.imag ** 2).sum() + (v.abs() * C4).sum())(*t.linalg.eig(X))', A },
  }
  for _, c in ipairs(TORCH) do
    it(c[1] .. ' matches torch.autograd', function()
      if not torch_oracle.available() then pending('python3-torch is not installed') return end
      local x = sl.tensor_type('complex128', { -1, -1 })('x')
      local g = sl.compile({ x }, sl.grad(c[2](x), x))(c[4])
      local want = torch_oracle.grad(c[3], { X = c[4], B = B, C4 = C4 }, { 'X' })
      close(g, want, 1e-8, c[1] .. ' against torch')
    end)
  end

  it('|z| has gradient 0 at z = 0, as abs has for reals', function()
    local x = sl.tensor_type('complex128', { -1 })('x')
    local g = sl.compile({ x }, sl.grad(sl.sum(sl.abs(x)), x))(
      sl.complex(sl.tensor({ 0, 3 }, 'float64'), sl.tensor({ 0, 4 }, 'float64')))
    close(g, sl.complex(sl.tensor({ 0, 0.6 }, 'float64'), sl.tensor({ 0, 0.8 }, 'float64')), 1e-15, 'd|z|/dz')
  end)

  it('narrow and subtensor of a complex value pass its gradient back', function()
    local x = sl.tensor_type('complex128', { -1 })('x')
    local y = x:narrow(1, 2, 2)
    local cost = sl.sum(sl.real(y) * 2 + sl.imag(y) * 3) + sl.sum(sl.imag(x[{ { 1, 1 } }]))
    local g = sl.compile({ x }, sl.grad(cost, x))(crandn(4))
    close(g, sl.complex(sl.tensor({ 0, 2, 2, 0 }, 'float64'), sl.tensor({ 1, 3, 3, 0 }, 'float64')), 0, 'scattered gradient')
  end)
end)
