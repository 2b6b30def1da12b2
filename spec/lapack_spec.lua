-- The LAPACK ops (core/ops/lapack.c) and what linalg.lua builds on them:
-- values against NumPy, eager and compiled, batched, empty and float32;
-- gradients against finite differences (verify_grad) and torch.autograd;
-- the errors for bad and singular input; the optimizer's linalg rewrites.
local sl = require 'symlua'
local np = require 'spec.support.numpy'
local torch_oracle = require 'spec.support.torch'

local function close(got, want, tol, what)
  np.assert_close(got, want, tol or 1e-10, tol or 1e-10, what)
end

sl.manual_seed(7)
local A = sl.randn(4, 4)
local SPD = sl.dot(A, A:transpose(1, 2)) + sl.eye(4) * 4
local B = sl.randn(4, 3)
local W = sl.randn(5, 3)
local BATCH = sl.randn(2, 3, 3)
local BSPD = sl.matmul(BATCH, sl.matrix_transpose(BATCH)) + sl.eye(3) * 3

describe('linalg values against NumPy', function()
  it('solves, inverts, factors and takes determinants', function()
    local want = { np.eval('(np.linalg.solve(A, B), np.linalg.solve(A, B[:, 0]), np.linalg.inv(A), '
      .. 'np.linalg.det(A), *np.linalg.slogdet(A), np.linalg.cholesky(S), np.linalg.matrix_power(A, 3), '
      .. 'np.linalg.matrix_power(A, -2), np.linalg.matrix_power(A, 0), np.linalg.pinv(W), '
      .. 'np.linalg.solve(S, B[:, 0]))', { A = A, B = B, S = SPD, W = W }) }
    close(sl.solve(A, B), want[1], nil, 'solve')
    close(sl.solve(A, B:select(2, 1)), want[2], nil, 'solve vector')
    close(sl.inv(A), want[3], nil, 'inv')
    close(sl.det(A), want[4], nil, 'det')
    local sign, logdet = sl.slogdet(A)
    close(sign, want[5], nil, 'slogdet sign')
    close(logdet, want[6], nil, 'slogdet logdet')
    close(sl.cholesky(SPD), want[7], nil, 'cholesky')
    close(sl.matrix_power(A, 3), want[8], nil, 'matrix_power 3')
    close(sl.matrix_power(A, -2), want[9], 1e-9, 'matrix_power -2')
    close(sl.matrix_power(A, 0), want[10], nil, 'matrix_power 0')
    close(sl.pinv(W), want[11], nil, 'pinv')
    close(sl.cho_solve(sl.cholesky(SPD), B:select(2, 1)), want[12], nil, 'cho_solve')
  end)

  it('decomposes: values match, vectors up to sign, products rebuild the input', function()
    local want = { np.eval('(np.linalg.svd(W, compute_uv=False), np.linalg.eigvalsh(S), '
      .. 'np.abs(np.linalg.qr(W)[1]), np.sort_complex(np.linalg.eigvals(A)), '
      .. 'np.abs(np.linalg.svd(W, full_matrices=False)[0]), np.abs(np.linalg.eigh(S)[1]))',
      { W = W, S = SPD, A = A }) }
    local u, s, vh = sl.svd(W, false)
    close(s, want[1], nil, 'svd values')
    close(sl.svd(W, true, false), want[1], nil, 'svd compute_uv = false')
    close(sl.abs(u), want[5], 1e-9, 'svd |U|')
    close(sl.matmul(u * s:dimshuffle('x', 1), vh), W, 1e-12, 'U S Vh')
    local uf, sf, vf = sl.svd(W)
    assert.are.same({ 5, 5 }, uf:shape())
    assert.are.same({ 3, 3 }, vf:shape())
    close(sl.matmul(uf:transpose(1, 2), uf), sl.eye(5), 1e-12, 'full U orthogonal')
    close(sf, want[1], nil, 'full svd values')
    local w, v = sl.eigh(SPD)
    close(w, want[2], nil, 'eigh values')
    close(sl.eigvalsh(SPD), want[2], nil, 'eigvalsh')
    close(sl.abs(v), want[6], 1e-9, 'eigh |V|')
    local q, r = sl.qr(W)
    close(sl.abs(r), want[3], nil, 'qr |R|')
    close(sl.matmul(q, r), W, 1e-12, 'Q R')
    local qc, rc = sl.qr(W, 'complete')
    assert.are.same({ 5, 5 }, qc:shape())
    assert.are.same({ 5, 3 }, rc:shape())
    close(sl.matmul(qc, rc), W, 1e-12, 'complete Q R')
    close(sl.qr(W, 'r'), r, 0, "qr 'r'")
    local ew, ev = sl.eig(A)
    assert.are.equal('complex128', ew:dtype())
    -- A V = V diag(w), and the eigenvalues as NumPy's once sorted
    local Vw = ev * ew:dimshuffle('x', 1)
    close(sl.matmul(A, sl.real(ev)), sl.real(Vw), 1e-10, 'A V = V w (real parts)')
    close(sl.matmul(A, sl.imag(ev)), sl.imag(Vw), 1e-10, 'A V = V w (imaginary parts)')
    local sorted = np.eval('np.sort_complex(w)', { w = ew })
    close(sl.real(sorted), sl.real(want[4]), 1e-10, 'eig values (real parts)')
    close(sl.imag(sorted), sl.imag(want[4]), 1e-10, 'eig values (imaginary parts)')
  end)

  it('lstsq gives x, residuals, rank and s as NumPy does', function()
    local b = sl.randn(5, 2)
    local want = { np.eval('np.linalg.lstsq(W, b, rcond=None)', { W = W, b = b }) }
    local x, res, rank, s = sl.lstsq(W, b)
    close(x, want[1], nil, 'x')
    close(res, want[2], 1e-9, 'residuals')
    assert.are.equal(want[3]:item(), rank:item())
    close(s, want[4], nil, 's')
    -- rank deficient: no residuals, the minimum-norm solution
    local D = sl.tensor({ { 1, 2 }, { 2, 4 }, { 3, 6 } }, 'float64')
    local wd = { np.eval('np.linalg.lstsq(D, b[:3, 0], rcond=None)', { D = D, b = b }) }
    local xd, rd, kd = sl.lstsq(D, b:narrow(1, 1, 3):select(2, 1))
    close(xd, wd[1], nil, 'rank-deficient x')
    assert.are.same({ 0 }, rd:shape())
    assert.are.equal(1, kd:item())
  end)

  it('norms for every NumPy ord', function()
    local v = sl.randn(6)
    local cases = {
      { v, nil }, { v, 1 }, { v, 2 }, { v, math.huge }, { v, -math.huge }, { v, 0 }, { v, 3 }, { v, 0.5 },
      { W, nil }, { W, 'fro' }, { W, 'nuc' }, { W, 1 }, { W, -1 }, { W, 2 }, { W, -2 }, { W, math.huge },
      { W, -math.huge },
    }
    local codes = {}
    for i, c in ipairs(cases) do
      local ord = c[2] == nil and 'None' or c[2] == math.huge and 'np.inf' or c[2] == -math.huge and '-np.inf'
        or type(c[2]) == 'string' and ("'" .. c[2] .. "'") or tostring(c[2])
      codes[i] = string.format('np.linalg.norm(%s, %s)', c[1] == v and 'v' or 'W', ord)
    end
    codes[#codes + 1] = 'np.linalg.norm(T, axis=(1, 2))'
    codes[#codes + 1] = 'np.linalg.norm(T, 2, axis=(-2, -1), keepdims=True)'
    codes[#codes + 1] = 'np.linalg.norm(T, 1, axis=1)'
    codes[#codes + 1] = 'np.linalg.norm(T)'
    local want = { np.eval('(' .. table.concat(codes, ', ') .. ',)', { v = v, W = W, T = BATCH }) }
    for i, c in ipairs(cases) do close(sl.norm(c[1], c[2]), want[i], 1e-12, 'norm ' .. tostring(c[2])) end
    close(sl.norm(BATCH, nil, { 2, 3 }), want[#cases + 1], 1e-12, 'batched fro')
    close(sl.norm(BATCH, 2, { -2, -1 }, true), want[#cases + 2], 1e-12, 'batched 2, keepdims')
    close(sl.norm(BATCH, 1, 2), want[#cases + 3], 1e-12, 'vector 1-norm along an axis')
    close(sl.norm(BATCH), want[#cases + 4], 1e-12, 'whole tensor')
  end)

  it('batches over leading axes, broadcasting solve operands', function()
    local rhs = sl.randn(2, 3, 2)
    local want = { np.eval('(np.linalg.cholesky(S), np.linalg.solve(M, r), np.linalg.inv(M), *np.linalg.slogdet(M), '
      .. 'np.linalg.eigvalsh(S), np.linalg.svd(M, compute_uv=False), np.linalg.solve(M[0], r))',
      { S = BSPD, M = BATCH, r = rhs }) }
    close(sl.cholesky(BSPD), want[1], nil, 'cholesky')
    close(sl.solve(BATCH, rhs), want[2], 1e-9, 'solve')
    close(sl.inv(BATCH), want[3], 1e-9, 'inv')
    local s, l = sl.slogdet(BATCH)
    close(s, want[4], nil, 'sign')
    close(l, want[5], nil, 'logdet')
    close(sl.eigvalsh(BSPD), want[6], nil, 'eigvalsh')
    close(sl.svdvals(BATCH), want[7], nil, 'svdvals')
    close(sl.solve(BATCH[1], rhs), want[8], 1e-9, 'one matrix for a stack of right-hand sides')
    -- a 4-d stack goes through matmul's folding
    local S4 = BSPD:view(1, 2, 3, 3):expand(2, 2, 3, 3):contiguous()
    local L4 = sl.cholesky(S4)
    close(sl.matmul(L4, sl.matrix_transpose(L4)), S4, 1e-12, '4-d L L^T')
  end)

  it('computes float32 in float32 results and integers as floatX', function()
    local f = SPD:cast('float32')
    local L = sl.cholesky(f)
    assert.are.equal('float32', L:dtype())
    close(L, sl.cholesky(SPD):cast('float32'), 1e-6, 'float32 cholesky')
    local w, v = sl.eigh(f)
    assert.are.equal('float32', w:dtype())
    assert.are.equal('float32', v:dtype())
    assert.are.equal('complex64', (sl.eig(f)):dtype())
    local i = sl.tensor({ { 2, 1 }, { 1, 3 } })
    assert.are.equal('float64', sl.inv(i):dtype())
    close(sl.det(i), sl.tensor(5, 'float64'), 1e-12, 'det of an integer matrix')
  end)

  it('takes 0 x 0, empty batches and empty right-hand sides', function()
    local e = sl.zeros(0, 0)
    assert.are.same({ 0, 0 }, sl.cholesky(e):shape())
    assert.are.same({ 0, 0 }, sl.inv(e):shape())
    assert.are.equal(1, sl.det(e):item())
    local w, v = sl.eigh(e)
    assert.are.same({ 0 }, w:shape())
    assert.are.same({ 0, 0 }, v:shape())
    assert.are.same({ 0, 3, 3 }, sl.cholesky(sl.zeros(0, 3, 3)):shape())
    assert.are.same({ 0, 3 }, sl.slogdet(sl.zeros(0, 3, 3, 3)):shape())
    assert.are.same({ 3, 0 }, sl.solve(SPD:narrow(1, 1, 3):narrow(2, 1, 3), sl.zeros(3, 0)):shape())
    local u, s, vh = sl.svd(sl.zeros(3, 0))
    assert.are.same({ 3, 3 }, u:shape())
    assert.are.same({ 0 }, s:shape())
    assert.are.same({ 0, 0 }, vh:shape())
    close(u, sl.eye(3), 0, 'empty svd: U is the identity')
    local q, r = sl.qr(sl.zeros(2, 0), 'complete')
    close(q, sl.eye(2), 0, 'empty qr: Q is the identity')
    assert.are.same({ 2, 0 }, r:shape())
  end)

  it('compiles: the same values from a graph, with static shapes inferred', function()
    local x = sl.matrix('x')
    local y = sl.matrix('y')
    local z = sl.solve(x, y)
    local L = sl.cholesky(x)
    local s, l = sl.slogdet(x)
    local f = sl.compile({ x, y }, { z, L, l, sl.eigvalsh(x) })
    local rz, rL, rl, rw = f(SPD, B)
    close(rz, sl.solve(SPD, B), 1e-12, 'compiled solve')
    close(rL, sl.cholesky(SPD), 1e-12, 'compiled cholesky')
    close(rl, select(2, sl.slogdet(SPD)), 1e-12, 'compiled slogdet')
    close(rw, sl.eigvalsh(SPD), 1e-12, 'compiled eigvalsh')
    local xs = sl.tensor_type('float64', { 2, 5, 3 })('xs')
    local u, sv, vh = sl.svd(xs, false)
    assert.are.same({ 2, 5, 3 }, u:static_shape())
    assert.are.same({ 2, 3 }, sv:static_shape())
    assert.are.same({ 2, 3, 3 }, vh:static_shape())
    assert.are.same({ 2 }, (sl.slogdet(sl.tensor_type('float64', { 2, 3, 3 })('m'))):static_shape())
  end)
end)

local core_apply = sl.core.apply

describe('linalg errors', function()
  local function fails(pattern, f, ...)
    local ok, err = pcall(f, ...)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find(pattern, 1, true), tostring(err))
  end
  it('names the op and LAPACK reason for singular and indefinite matrices', function()
    local sing = sl.tensor({ { 1, 2 }, { 2, 4 } }, 'float64')
    fails('solve: the matrix is singular (LAPACK dgetrf: pivot 2 is exactly zero)', sl.solve, sing, sl.ones(2))
    fails('inv: the matrix is singular', sl.inv, sing)
    fails('cholesky: the matrix is not positive definite (LAPACK dpotrf: the leading minor of order 2',
          sl.cholesky, sl.tensor({ { 1, 2 }, { 2, 1 } }, 'float64'))
    local stack = sl.stack({ SPD, -SPD })
    fails('cholesky: the matrix is not positive definite (matrix 2 of the batch)', sl.cholesky, stack)
    fails('solve_triangular: the matrix is singular (diagonal entry 2 is zero)', sl.solve_triangular,
          sl.tensor({ { 1, 5 }, { 2, 0 } }, 'float64'), sl.ones(2), { lower = true })
    -- a singular matrix has slogdet (0, -inf) and det 0, as in NumPy
    local s, l = sl.slogdet(sing)
    assert.are.equal(0, s:item())
    assert.are.equal(-math.huge, l:item())
    assert.are.equal(0, sl.det(sing):item())
    -- compiled: the same error from the call
    local x = sl.matrix('x')
    local f = sl.compile({ x }, sl.inv(x))
    fails('inv: the matrix is singular', f, sing)
  end)
  it('refuses NaN and infinity instead of returning NaN', function()
    local bad = SPD:clone()
    bad[{ 2, 3 }] = 0 / 0
    fails('cholesky: the input holds NaN or infinity (element 7)', sl.cholesky, bad)
    fails('svd: the input holds NaN or infinity', sl.svd, bad)
    fails('eigh: the input holds NaN or infinity', sl.eigh, bad)
    bad[{ 2, 3 }] = math.huge
    fails('solve: the input holds NaN or infinity', sl.solve, bad, B)
  end)
  it('checks ranks, squareness, sizes and options where the graph is built', function()
    fails('cholesky: expected a matrix (at least 2 dimensions), got 1-d', sl.cholesky, sl.ones(3))
    fails('inv: expected square matrices, got 4 x 3', sl.inv, sl.ones(4, 3))
    fails('solve: a 4 x 4 matrix cannot solve for a right-hand side of 3 rows', sl.solve, SPD, sl.ones(3, 2))
    fails('solve: batch axes do not broadcast: 2 vs 3', sl.solve, sl.ones(2, 3, 3), sl.ones(3, 3, 1))
    fails('lstsq: expected a matrix (2 dimensions), got 3-d', sl.lstsq, BATCH, sl.ones(2, 3))
    fails("qr: mode must be 'reduced', 'complete' or 'r'", sl.qr, W, 'full')
    fails("eigh: UPLO must be 'L' or 'U'", sl.eigh, SPD, 'X')
    fails('cholesky: expected a float or complex matrix, got bool', function()
      return core_apply('cholesky', nil, sl.eq(SPD, SPD)) end)
    fails('norm: invalid norm order fro for vectors', sl.norm, sl.ones(3), 'fro')
    fails('norm: improper number of dimensions', sl.norm, BATCH, 2)
    fails('matrix_power: the exponent must be an integer', sl.matrix_power, SPD, 0.5)
    local x = sl.tensor_type('float64', { 4, 3 })('x')
    fails('cholesky: expected square matrices, got 4 x 3', sl.cholesky, x)
  end)
end)

describe('linalg gradients', function()
  local function sym(x) return (x + sl.matrix_transpose(x)) * 0.5 end
  local SPD_5 = sl.randn(5, 5)
  local cases = {
    { 'cholesky', function(x) return sl.cholesky(sym(x) + sl.eye(4) * 4) end, { A } },
    { 'solve', sl.solve, { A, B } },
    { 'solve, broadcast batch', sl.solve, { A, sl.randn(2, 4, 2) } },
    { 'solve_triangular lower', function(a, b) return sl.solve_triangular(a + sl.eye(4) * 3, b, { lower = true }) end, { A, B } },
    { 'solve_triangular upper, transposed, unit', function(a, b)
        return sl.solve_triangular(a, b, { trans = true, unit_diagonal = true }) end, { A, B } },
    { 'cho_solve', function(x, b) return sl.cho_solve(sl.cholesky(sym(x) + sl.eye(4) * 4), b) end, { A, B } },
    { 'inv', sl.inv, { A } },
    { 'slogdet', function(x) return select(2, sl.slogdet(x)) end, { A } },
    { 'det', sl.det, { A } },
    { 'batched slogdet', function(x) return select(2, sl.slogdet(x)) end, { BATCH } },
    { 'qr', function(x) local q, r = sl.qr(x) return sl.sum(q * q * q) + sl.sum(r * r * r) end, { W } },
    { 'svd', function(x) local u, s, vh = sl.svd(x, false) return sl.sum(u ^ 3) + sl.sum(s ^ 2) + sl.sum(vh ^ 3) end, { W } },
    { 'svd of a wide matrix', function(x) local u, s, vh = sl.svd(x, false) return sl.sum(u ^ 3) + sl.sum(vh ^ 3) + s end,
      { W:transpose(1, 2):contiguous() } },
    { 'svdvals', function(x) return sl.svdvals(x) end, { W } },
    { 'eigh', function(x) local w, v = sl.eigh(sym(x)) return sl.sum(v ^ 3) + w end, { A } },
    { 'eigvalsh', function(x) return sl.eigvalsh(sym(x)) end, { A } },
    { 'lstsq', function(a, b) return (sl.lstsq(a, b)) end, { W, sl.randn(5, 2) } },
    { 'pinv', sl.pinv, { W } },
    { 'norm nuc', function(x) return sl.norm(x, 'nuc') end, { W } },
    { 'norm 2', function(x) return sl.norm(x, 2) end, { W } },
    { 'matrix_power -2', function(x) return sl.matrix_power(x, -2) end, { A } },
    { 'qr of a wide matrix', function(x) local q, r = sl.qr(x) return sl.sum(q * q * q) + sl.sum(r * r * r) end,
      { W:transpose(1, 2):contiguous() } },
    { 'batched qr, wide', function(x) local q, r = sl.qr(x) return sl.sum(q ^ 3) + sl.sum(r ^ 3) end,
      { sl.randn(2, 3, 5) } },
    { "qr 'complete' of a wide matrix", function(x) local q, r = sl.qr(x, 'complete') return sl.sum(q ^ 3) + sl.sum(r ^ 3) end,
      { W:transpose(1, 2):contiguous() } },
    { "qr 'complete' of a tall matrix (Q's last columns through their span)", function(x)
        local q, r = sl.qr(x, 'complete')
        local q2 = q:narrow(2, 4, 2)
        return sl.sum(sl.matmul(q2, sl.matrix_transpose(q2)) * SPD_5) + sl.sum(q:narrow(2, 1, 3) ^ 3) + sl.sum(r ^ 3)
      end, { W } },
    { 'eig values', function(x) local w = sl.eig(x) return sl.sum(sl.real(w) ^ 3) + sl.sum(sl.imag(w) ^ 2) end, { A } },
    { 'eig |V|', function(x) local w, v = sl.eig(x) return sl.abs(v) ^ 3 * sl.real(w):dimshuffle('x', 1) end, { A } },
    { "eig vectors' phases (dgeev's: each column's largest component real)", function(x)
        local _, v = sl.eig(x)
        return sl.sum(sl.real(v) ^ 3) + sl.sum(sl.imag(v) * SPD_5:narrow(1, 1, 4):narrow(2, 1, 4)) end, { A } },
    { "batched eig vectors' phases", function(x) local _, v = sl.eig(x) return sl.real(v) * sl.imag(v) end,
      { sl.randn(3, 5, 5) } },
    { 'eig of float32', function(x) local w, v = sl.eig(x) return sl.sum(sl.real(w) ^ 3) + sl.sum(sl.abs(v) ^ 3) end,
      { A:cast('float32') } },
    { "qr 'r' of a wide matrix", function(x) return sl.qr(x, 'r') end, { W:transpose(1, 2):contiguous() } },
    { 'batched eig', function(x) local w, v = sl.eig(x) return sl.sum(sl.abs(v)) + sl.sum(sl.imag(w) ^ 2) end,
      { BATCH } },
  }
  for _, c in ipairs(cases) do
    it(c[1] .. ' matches finite differences', function()
      local points = {}
      for i, p in ipairs(c[3]) do points[i] = p:clone() end
      assert.is_true(sl.verify_grad(c[2], points) <= 1)
    end)
  end

  it('svd with full matrices (static sizes) matches finite differences', function()
    local f = function(x) local u, s, vh = sl.svd(x) return sl.sum(u:narrow(2, 1, 3) ^ 3) + sl.sum(vh ^ 3) + s end
    assert.is_true(sl.verify_grad(f, { W:clone() }, { static_shapes = true }) <= 1)
  end)

  -- full U and V: the columns past min(m, n) through their span (U2 U2^T, V2 V2^T),
  -- with symbolic sizes as well as static ones
  local function span(x) return sl.matmul(x, sl.matrix_transpose(x)) end
  local FULL_SVD = {
    { 'tall', function(x) local u, s, vh = sl.svd(x)
        return sl.sum(span(u:narrow(2, 4, 2)) * SPD_5) + sl.sum(u:narrow(2, 1, 3) ^ 4) + sl.sum(vh ^ 4) + sl.sum(s ^ 3) end, W },
    { 'wide', function(x) local u, s, vh = sl.svd(x)
        return sl.sum(span(sl.matrix_transpose(vh:narrow(1, 4, 2))) * SPD_5) + sl.sum(vh:narrow(1, 1, 3) ^ 4) + sl.sum(u ^ 4) end,
      W:transpose(1, 2):contiguous() },
    { 'batched tall, U and V', function(x) local u, _, vh = sl.svd(x)
        return sl.sum(span(u:narrow(3, 3, 2)) * SPD_5:narrow(1, 1, 4):narrow(2, 1, 4)) + sl.sum(vh ^ 4) end, sl.randn(2, 4, 2) },
  }
  for _, c in ipairs(FULL_SVD) do
    it('svd with full matrices, ' .. c[1] .. ': the extra columns through their span match finite differences', function()
      assert.is_true(sl.verify_grad(c[2], { c[3]:clone() }) <= 1)
      assert.is_true(sl.verify_grad(c[2], { c[3]:clone() }, { static_shapes = true }) <= 1)
    end)
  end
  it('svd with full matrices: the extra columns through their span match torch.autograd', function()
    if not torch_oracle.available() then pending('python3-torch is not installed') return end
    -- torch ignores U's columns past min(m, n); its oracle is the same cost written
    -- with the reduced factors: U2 U2^T = I - U1 U1^T, V2 V2^T = I - V1 V1^T
    local x = sl.matrix('x')
    local u, s, vh = sl.svd(x)
    local cost = sl.sum(span(u:narrow(2, 4, 2)) * SPD_5) + sl.sum(u:narrow(2, 1, 3) ^ 4) + sl.sum(vh ^ 4) + sl.sum(s ^ 3)
    local g = sl.compile({ x }, sl.grad(cost, x))(W)
    local want = torch_oracle.grad('(lambda u, s, vh: ((t.eye(5, dtype=t.float64) - u @ u.T) * C5).sum() + (u ** 4).sum()'
      .. ' + (vh ** 4).sum() + (s ** 3).sum())(*t.linalg.svd(X, full_matrices=False))', { X = W, C5 = SPD_5 }, { 'X' })
    close(g, want, 1e-8, 'tall, against torch')
    local wide = W:transpose(1, 2):contiguous()
    u, s, vh = sl.svd(x)
    cost = sl.sum(span(sl.matrix_transpose(vh:narrow(1, 4, 2))) * SPD_5) + sl.sum(vh:narrow(1, 1, 3) ^ 4) + sl.sum(u ^ 4)
    g = sl.compile({ x }, sl.grad(cost, x))(wide)
    want = torch_oracle.grad('(lambda u, s, vh: ((t.eye(5, dtype=t.float64) - vh.T @ vh) * C5).sum() + (vh ** 4).sum()'
      .. ' + (u ** 4).sum())(*t.linalg.svd(X, full_matrices=False))', { X = wide, C5 = SPD_5 }, { 'X' })
    close(g, want, 1e-8, 'wide, against torch')
  end)

  it('eigh of a matrix with a repeated eigenvalue: finite for a basis-independent cost', function()
    -- diag(1, 1, 3) rotated: the cost sum(w) + trace(V diag(w) V^T) does not depend on the basis
    local Q = sl.qr(A:narrow(1, 1, 3):narrow(2, 1, 3))
    local D = sl.tensor({ { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 3 } }, 'float64')
    local M = sl.matmul(sl.matmul(Q, D), Q:transpose(1, 2))
    M = sym(M)
    local x = sl.matrix('x')
    local w, v = sl.eigh(x)
    local cost = sl.sum(w * w) + sl.sum(sl.matmul(v * w:dimshuffle('x', 1), sl.matrix_transpose(v)) ^ 2)
    local g = sl.compile({ x }, sl.grad(cost, x))(M)
    -- d/dM (2 sum(w^2)) = 4 M
    close(g, M * 4, 1e-8, 'gradient at a repeated eigenvalue')
  end)

  it('qr of wide and complete factors with static sizes matches finite differences', function()
    local f = function(x) local q, r = sl.qr(x) return sl.sum(q ^ 3) + sl.sum(r ^ 3) end
    local fc = function(x) local q, r = sl.qr(x, 'complete') return sl.sum(q:narrow(2, 1, 3) ^ 3) + sl.sum(r ^ 3) end
    local wide = W:transpose(1, 2):contiguous()
    assert.is_true(sl.verify_grad(f, { wide }, { static_shapes = true }) <= 1)
    assert.is_true(sl.verify_grad(fc, { W:clone() }, { static_shapes = true }) <= 1)
  end)

  it('eig of a matrix with a repeated eigenvalue: finite for a cost that does not depend on its basis', function()
    -- S diag(1, 1, 3) S^-1 (not symmetric): d/dM sum(w^2) = d/dM trace(M^2) = 2 M^T, plus
    -- a cost of the one eigenvector of 3 (picked by a constant mask)
    local S = A:narrow(1, 1, 3):narrow(2, 1, 3) + sl.eye(3) * 3
    local D = sl.tensor({ { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 3 } }, 'float64')
    local M = sl.matmul(sl.matmul(S, D), sl.inv(S))
    local x = sl.matrix('x')
    local w, v = sl.eig(x)
    local values = sl.compile({ x }, sl.grad(sl.sum(sl.real(w * w)), x))(M)
    close(values, M:transpose(1, 2) * 2, 1e-8, 'gradient of sum(w^2) at a repeated eigenvalue')
    local three = sl.gt(sl.real(w), 2):cast('float64'):dimshuffle('x', 1)
    local g = sl.compile({ x }, sl.grad(sl.sum(sl.real(w * w)) + sl.sum(sl.abs(v) ^ 3 * three), x))(M)
    if not torch_oracle.available() then pending('python3-torch is not installed') return end
    local want = torch_oracle.grad('(lambda w, V: (w * w).real.sum() + (V.abs() ** 3 * (w.real > 2)[None, :]).sum())'
      .. '(*t.linalg.eig(X))', { X = M }, { 'X' })
    close(g, want, 1e-8, 'with an eigenvector, against torch')
  end)

  -- eig and the new QR forms against torch.autograd, on costs of several outputs
  local C4, C5 = sl.randn(4), sl.randn(5, 5)
  local TORCH_MULTI = {
    { 'eig', function(x) local w, v = sl.eig(x)
        return sl.sum(sl.real(w) ^ 3) + sl.sum(sl.imag(w) ^ 2) + sl.sum(sl.abs(v) * C4:dimshuffle(1, 'x'))
          + sl.sum(sl.abs(v) ^ 3 * sl.real(w):dimshuffle('x', 1)) end,
      '(lambda w, V: (w.real ** 3).sum() + (w.imag ** 2).sum() + (V.abs() * C4[:, None]).sum()'
        .. ' + (V.abs() ** 3 * w.real[None, :]).sum())(*t.linalg.eig(X))', A },
    { 'batched eig', function(x) local w, v = sl.eig(x)
        return sl.sum(sl.abs(v) ^ 3 * sl.real(w):dimshuffle(1, 'x', 2)) + sl.sum(sl.imag(w) * sl.imag(w)) end,
      '(lambda w, V: (V.abs() ** 3 * w.real[:, None, :]).sum() + (w.imag ** 2).sum())(*t.linalg.eig(X))',
      sl.randn(3, 4, 4) },
    { 'qr of a wide matrix', function(x) local q, r = sl.qr(x) return sl.sum(q ^ 3) + sl.sum(r ^ 3 * C5:narrow(1, 1, 3)) end,
      '(lambda q, r: (q ** 3).sum() + (r ** 3 * C5[:3]).sum())(*t.linalg.qr(X))', W:transpose(1, 2):contiguous() },
    { "batched qr 'complete', wide", function(x) local q, r = sl.qr(x, 'complete') return sl.sum(q ^ 3) + sl.sum(r ^ 3) end,
      "(lambda q, r: (q ** 3).sum() + (r ** 3).sum())(*t.linalg.qr(X, mode='complete'))", sl.randn(2, 3, 4) },
    -- torch refuses 'complete' with more rows than columns; its oracle is the
    -- same cost written with the reduced Q1: Q2 Q2^T = I - Q1 Q1^T
    { "qr 'complete' of a tall matrix", function(x) local q, r = sl.qr(x, 'complete')
        local q2 = q:narrow(2, 4, 2)
        return sl.sum(sl.matmul(q2, sl.matrix_transpose(q2)) * C5) + sl.sum(q:narrow(2, 1, 3) ^ 3) + sl.sum(r ^ 3) end,
      '(lambda q, r: ((t.eye(5, dtype=t.float64) - q @ q.T) * C5).sum() + (q ** 3).sum() + (r ** 3).sum())'
        .. '(*t.linalg.qr(X))', W },
  }
  for _, c in ipairs(TORCH_MULTI) do
    it(c[1] .. ' matches torch.autograd', function()
      if not torch_oracle.available() then pending('python3-torch is not installed') return end
      local shape = {}
      for i = 1, c[4]:dim() do shape[i] = -1 end
      local x = sl.tensor_type('float64', shape)('x')
      local g = sl.compile({ x }, sl.grad(c[2](x), x))(c[4])
      local want = torch_oracle.grad(c[3], { X = c[4], C4 = C4, C5 = C5 }, { 'X' })
      close(g, want, 1e-8, c[1] .. ' against torch')
    end)
  end

  local TORCH = {
    { 'cholesky', function(x) return sl.cholesky(sym(x)) end, 't.linalg.cholesky((X1 + X1.T) / 2)', SPD },
    { 'eigh vectors', function(x) local w, v = sl.eigh(sym(x)) return v * v * w:dimshuffle('x', 1) end,
      '(lambda w, v: v * v * w[None, :])(*t.linalg.eigh((X1 + X1.T) / 2))', SPD },
    { 'svd', function(x) local u, s, vh = sl.svd(x, false) return sl.matmul(u * u, vh * vh) * s:sum() end,
      '(lambda u, s, vh: (u * u) @ (vh * vh) * s.sum())(*t.linalg.svd(X1, full_matrices=False))', W },
    { 'qr', function(x) local q, r = sl.qr(x) return sl.matmul(q * q, r) end,
      '(lambda q, r: (q * q) @ r)(*t.linalg.qr(X1))', W },
    { 'slogdet', function(x) local _, l = sl.slogdet(x) return l end, 't.linalg.slogdet(X1)[1]', A },
    { 'solve', function(x) return sl.solve(x, B) end, 't.linalg.solve(X1, B)', A },
  }
  for _, c in ipairs(TORCH) do
    it(c[1] .. ' matches torch.autograd', function()
      if not torch_oracle.available() then pending('python3-torch is not installed') return end
      local got, want = torch_oracle.compare(c[2], c[3], { c[4] }, { B = B })
      close(got[1], want[1], 1e-8, c[1] .. ' against torch')
    end)
  end
end)

describe('linalg rewrites', function()
  local function count_ops(f, op)
    local text = sl.debugprint(f, { print = false })
    local n = 0
    for _ in text:gmatch('%f[%w_]' .. op .. ' %[id') do n = n + 1 end
    return n
  end
  it('inv(A):dot(b) becomes solve(A, b) (inv_dot_to_solve)', function()
    local a, b = sl.matrix('a'), sl.matrix('b')
    local f = sl.compile({ a, b }, sl.inv(a):dot(b))
    assert.are.equal(0, count_ops(f, 'inv'))
    assert.are.equal(1, count_ops(f, 'solve'))
    close(f(A, B), sl.solve(A, B), 1e-12, 'value')
    local v = sl.vector('v')
    local fv = sl.compile({ a, v }, sl.inv(a):dot(v))
    assert.are.equal(0, count_ops(fv, 'inv'))
    close(fv(A, B:select(2, 1)), sl.solve(A, B:select(2, 1)), 1e-12, 'vector value')
    local kept = sl.compile({ a, b }, sl.inv(a):dot(b), { exclude = 'inv_dot_to_solve' })
    assert.are.equal(1, count_ops(kept, 'inv'))
  end)
  it('cholesky(L L^T) of a Cholesky factor L is L (cholesky_of_cholesky_product)', function()
    local a = sl.matrix('a')
    local L = sl.cholesky(a)
    local T = sl.matrix_transpose
    local f = sl.compile({ a }, sl.cholesky(sl.dot(L, T(L))))
    assert.are.equal(1, f:info().rewrites.cholesky_of_cholesky_product)
    assert.are.equal(1, count_ops(f, 'cholesky'))
    local kept = sl.compile({ a }, sl.cholesky(sl.dot(L, T(L))), { exclude = 'cholesky_of_cholesky_product' })
    assert.is_nil(kept:info().rewrites.cholesky_of_cholesky_product)
    close(f(SPD), kept(SPD), 1e-12, 'value')
    close(f(SPD), np.eval('np.linalg.cholesky(S)', { S = SPD }), 1e-12, 'against NumPy')
    -- U^T U with U = L^T is the same product; stacks too
    local U = T(L)
    local fu = sl.compile({ a }, sl.cholesky(sl.dot(T(U), U)))
    assert.are.equal(1, count_ops(fu, 'cholesky'))
    close(fu(SPD), kept(SPD), 1e-12, 'U^T U')
    local s = sl.tensor3('s')
    local Ls = sl.cholesky(s)
    local fb = sl.compile({ s }, sl.cholesky(sl.dot(Ls, T(Ls))))
    assert.are.equal(1, count_ops(fb, 'cholesky'))
    close(fb(BSPD), sl.cholesky(BSPD), 1e-12, 'batched')
    -- a lower triangular factor with a negative diagonal is not its product's Cholesky factor
    local t = sl.matrix('t')
    local M = t * sl.tensor({ { 1, 0 }, { 1, 1 } }, 'float64')
    local fn = sl.compile({ t }, sl.cholesky(sl.dot(M, T(M))))
    assert.is_nil(fn:info().rewrites.cholesky_of_cholesky_product)
    close(fn(sl.tensor({ { -2, 0 }, { 1, -1 } }, 'float64')), sl.tensor({ { 2, 0 }, { -1, 1 } }, 'float64'), 1e-12, 'tril factor')
  end)
  it('solve(L L^T, b) of a Cholesky factor L is two triangular solves (solve_cholesky_product)', function()
    local a, b = sl.matrix('a'), sl.matrix('b')
    local L = sl.cholesky(a)
    local f = sl.compile({ a, b }, sl.solve(sl.dot(L, sl.matrix_transpose(L)), b))
    assert.are.equal(1, f:info().rewrites.solve_cholesky_product)
    assert.are.equal(0, count_ops(f, 'solve'))
    assert.are.equal(2, count_ops(f, 'solve_triangular'))
    close(f(SPD, B), np.eval('np.linalg.solve(S, B)', { S = SPD, B = B }), 1e-12, 'value')
    local v = sl.vector('v')
    local fv = sl.compile({ a, v }, sl.solve(sl.dot(L, sl.matrix_transpose(L)), v))
    assert.are.equal(1, fv:info().rewrites.solve_cholesky_product)
    close(fv(SPD, B:select(2, 1)), sl.solve(SPD, B:select(2, 1)), 1e-12, 'vector')
    local kept = sl.compile({ a, b }, sl.solve(sl.dot(L, sl.matrix_transpose(L)), b),
      { exclude = 'solve_cholesky_product' })
    assert.are.equal(1, count_ops(kept, 'solve'))
    close(f(SPD, B), kept(SPD, B), 1e-12, 'against the LU solve')
  end)
  it('log(det(A)) becomes logdet + log(sign) (log_det_to_slogdet), finite where det overflows', function()
    local a = sl.matrix('a')
    local f = sl.compile({ a }, sl.log(sl.det(a)))
    assert.are.equal(0, count_ops(f, 'exp'))
    local big = sl.eye(200) * 100   -- det = 1e400: inf in float64
    close(f(big), sl.tensor(200 * math.log(100)), 1e-12, 'log det of a large matrix')
    close(f(SPD), sl.log(sl.det(SPD)), 1e-12, 'value')
    assert.is_true(f(-SPD:narrow(1, 1, 3):narrow(2, 1, 3)):item() ~= f(-SPD:narrow(1, 1, 3):narrow(2, 1, 3)):item(),
      'log of a negative determinant stays NaN')
    local naive = sl.compile({ a }, sl.log(sl.det(a)), { exclude = 'log_det_to_slogdet' })
    assert.are.equal(math.huge, naive(big):item())
  end)
end)
