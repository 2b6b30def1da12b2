-- Linear algebra: sl.solve, cholesky, svd and eigh in compiled functions
-- against numpy.linalg in the same run, both on this machine's OpenBLAS
-- LAPACK, on float64 and complex128 matrices (LAPACK's d and z routines). numpy / symlua (its time over ours) should be at least 0.95.
-- Run: bin/symlua bench/linalg.lua
local sl = require 'symlua'

local here = (arg and arg[0] or ''):match('^(.*/)') or './'
local now = dofile(here .. 'support/clock.lua')
local python = dofile(here .. 'support/python.lua')

local best = dofile(here .. 'support/best.lua')(now)

local SIZES = { 256, 1024 }
local function reps(n) return n <= 256 and 9 or 3 end

-- Each case: a name, symlua's expression of (A, b), numpy's of (A, b). A is
-- symmetric (Hermitian) positive definite, so every op takes it.
local DTYPES = { 'float64', 'complex128' }
local cases = {
  { 'solve (n x n, 1 column)', function(a, b) return sl.solve(a, b) end, 'np.linalg.solve(A, b)' },
  { 'cholesky', function(a) return sl.cholesky(a) end, 'np.linalg.cholesky(A)' },
  { 'svd (reduced U, S, Vh)', function(a) return { sl.svd(a, false) } end, 'np.linalg.svd(A, full_matrices=False)' },
  { 'eigh (values, vectors)', function(a) return { sl.eigh(a) } end, 'np.linalg.eigh(A)' },
}

-- numpy.linalg times, one subprocess for every case and size
local function numpy_times()
  local lines = {}
  for _, dt in ipairs(DTYPES) do
    local i = dt == 'complex128' and ' + 1j * np.random.randn(%d, %d)' or ''
    for _, n in ipairs(SIZES) do
      lines[#lines + 1] = ('M = np.random.randn(%d, %d)' .. i .. '; A = M @ M.conj().T + %d * np.eye(%d); b = np.random.randn(%d, 1)')
        :format(n, n, n, n, n, n, n)
      for _, c in ipairs(cases) do lines[#lines + 1] = ('r.append(best(lambda: %s, %d))'):format(c[3], reps(n)) end
    end
  end
  return python.numpy_times(lines, #cases * #SIZES * #DTYPES)
end

local np = numpy_times()
print('| case | dtype | n | symlua | numpy.linalg | numpy / symlua |')
print('|---|---|---:|---:|---:|---:|')
local k = 0
for _, dt in ipairs(DTYPES) do
  for _, n in ipairs(SIZES) do
    local M = dt == 'complex128' and sl.complex(sl.randn(n, n), sl.randn(n, n)) or sl.randn(n, n)
    local A = sl.matmul(M, sl.matrix_adjoint(M)) + sl.eye(n) * n
    local b = sl.randn(n, 1)
    for _, c in ipairs(cases) do
      k = k + 1
      local a, bb = sl.tensor_type(dt, { -1, -1 })('A'), sl.matrix('b')
      local f = sl.compile({ a, bb }, c[2](a, bb))
      local t_sl = best(function() f(A, b) end, reps(n))
      local t_np = np and np[k]
      local function ms(t) return t and ('%.3f ms'):format(t * 1e3) or 'n/a' end
      print(('| %s | %s | %d | %s | %s | %s |'):format(c[1], dt, n, ms(t_sl), ms(t_np),
        t_np and ('%.2f'):format(t_np / t_sl) or 'n/a'))
    end
  end
end
