-- Transcendental ops and kernels/vmath.h: exp, exp2, expm1, log, log2, log10,
-- log1p, tanh, sigmoid, softplus and cosh against NumPy on both backends, special
-- values included; tests/c/test_vmath.c built the way generated code is
-- (-O3 -march=native -fopenmp) and run over millions of inputs; and the
-- loops that call vmath's functions vectorize.
local sl = require 'symlua'
local np = require 'spec.support.numpy'

local CC = os.getenv('CC') or 'cc'
local CFLAGS = '-std=gnu11 -O3 -march=native -fopenmp -fno-math-errno'

local function sh(cmd)
  local p = io.popen(cmd .. ' 2>&1')
  local out = p:read('*a')
  local ok = p:close()
  return ok == true or ok == 0, out
end

local have_cc = sh(CC .. ' --version')

local tmpdir = require('spec.support.files').tmpdir

-- -- against NumPy -------------------------------------------------------------------
-- NumPy computes sigmoid and softplus in float64 here (it has neither), then
-- rounds; float32 results come from NumPy's float32 functions.
local ORACLE = {
  exp = 'np.exp(x)', exp2 = 'np.exp2(x)', expm1 = 'np.expm1(x)', log = 'np.log(x)',
  log2 = 'np.log2(x)', log10 = 'np.log10(x)', log1p = 'np.log1p(x)', tanh = 'np.tanh(x)',
  sigmoid = '(lambda d: np.where(d >= 0, 1 / (1 + np.exp(-np.abs(d))), np.exp(-np.abs(d)) / (1 + np.exp(-np.abs(d)))))(x.astype(np.float64)).astype(x.dtype)',
  softplus = 'np.logaddexp(0, x.astype(np.float64)).astype(x.dtype)',
  cosh = 'np.cosh(x.astype(np.float64)).astype(x.dtype)',   -- float32 cosh: from vmath's double exp
}
local NAMES = { 'exp', 'exp2', 'expm1', 'log', 'log2', 'log10', 'log1p', 'tanh', 'sigmoid', 'softplus', 'cosh' }

-- Special values and thresholds, then a sweep over (-60, 60) and magnitudes
-- from 1e-300 to 1e300 of both signs.
local function inputs(dtype)
  local v = { 0, -0.0, 1, -1, 0.5, -0.5, 2, 10, 1000, -1000, 1 / 0, -1 / 0, 0 / 0,
    709.78, 709.79, -708.4, -745.1, -746, 88.72, 88.73, -87.3, -103.9, -104, 1024, -1074, 128, -149,
    1e-300, -1e-300, 5e-324, 1e-40, -1e-40, 1e-8, -1e-8, 0.55, -0.55, 19, 20, 9, 36.7, -36.7,
    -0.9999999, -1.5, 1e300, -1e300 }
  for i = 1, 600 do v[#v + 1] = (i - 300.5) * 0.2 end
  for i = 1, 300 do
    local m = 10 ^ (-300 + i * 2)
    v[#v + 1] = m
    v[#v + 1] = -m * 0.7
  end
  return sl.tensor(v, dtype)
end

-- NumPy's results for one dtype, all functions in one run of python3.
local oracle_cache = {}
local function oracle(dtype)
  if not oracle_cache[dtype] then
    local codes = {}
    for i, name in ipairs(NAMES) do codes[i] = ORACLE[name] end
    local t = inputs(dtype)
    oracle_cache[dtype] = { input = t,
      want = { np.eval('(np.seterr(all="ignore"), (' .. table.concat(codes, ', ') .. '))[1]', { x = t }) } }
  end
  return oracle_cache[dtype]
end

-- One compiled function per backend and dtype computes all ten (one
-- compile instead of ten).
for _, mode in ipairs({ 'reference', 'c' }) do
  describe('transcendental ops (' .. mode .. ' backend) against NumPy', function()
    for _, dtype in ipairs({ 'float64', 'float32' }) do
      -- float32: NumPy's own float32 functions are a few ulp from the
      -- correctly rounded result, as symlua's may be: 2^-20 relative.
      local rtol = dtype == 'float64' and 2e-15 or 1e-6
      it(table.concat(NAMES, ', ') .. ' on ' .. dtype, function()
        local x = sl.vector('x', dtype)
        local outs = {}
        for i, name in ipairs(NAMES) do outs[i] = sl[name](x) end
        local f = sl.compile({ x }, outs, { mode = mode })
        local o = oracle(dtype)
        local got = { f(o.input) }
        for i, name in ipairs(NAMES) do
          np.assert_close(got[i], o.want[i], rtol, 0, name .. ' ' .. dtype)
        end
      end)
    end
  end)
end

describe('transcendental ops: hand-checked values', function()
  for _, mode in ipairs({ 'reference', 'c' }) do
    it('are stable for large arguments (' .. mode .. ')', function()
      local x = sl.vector('x')
      local f = sl.compile({ x }, { sl.sigmoid(x), sl.softplus(x), sl.tanh(x), sl.exp(x) }, { mode = mode })
      local s, p, t, e = f(sl.tensor({ -1000, 1000, 0, -0.0 }, 'float64'))
      assert.are.same({ 0, 1, 0.5, 0.5 }, s:totable())
      assert.are.same({ 0, 1000, math.log(2), math.log(2) }, p:totable())
      assert.are.same({ -1, 1, 0, 0 }, t:totable())
      assert.are.same({ 0, 1 / 0, 1, 1 }, e:totable())
      local xf = sl.vector('xf', 'float32')
      local g = sl.compile({ xf }, { sl.sigmoid(xf), sl.softplus(xf) }, { mode = mode })
      s, p = g(sl.tensor({ -1000, 1000 }, 'float32'))
      assert.are.same({ 0, 1 }, s:totable())
      assert.are.same({ 0, 1000 }, p:totable())
    end)

    it('keep the sign of zero and give -inf, NaN at the edges of log (' .. mode .. ')', function()
      local x = sl.vector('x')
      local f = sl.compile({ x }, { sl.log(x), sl.log1p(x), sl.expm1(x), sl.tanh(x) }, { mode = mode })
      local l, l1, em, th = f(sl.tensor({ 0, -0.0, -1, 1 }, 'float64'))
      local lt, l1t, emt, tht = l:totable(), l1:totable(), em:totable(), th:totable()
      assert.are.same({ -1 / 0, -1 / 0 }, { lt[1], lt[2] })
      assert.is_true(lt[3] ~= lt[3])
      assert.are.equal(0, lt[4])
      assert.are.same({ 0, 0, -1 / 0, math.log(2) }, { l1t[1], l1t[2], l1t[3], l1t[4] })
      assert.are.equal(-1 / 0, 1 / l1t[2])                -- log1p(-0) is -0
      assert.are.equal(-1 / 0, 1 / emt[2])                -- expm1(-0) is -0
      assert.are.equal(-1 / 0, 1 / tht[2])                -- tanh(-0) is -0
    end)
  end
end)

-- -- kernels/vmath.h built as generated code is --------------------------------------
describe('kernels/vmath.h', function()
  it('is within 2 ulp of libm over 4 million inputs per function and dtype (-O3 -march=native)', function()
    if not have_cc then return pending('no C compiler (' .. CC .. ')') end
    local dir = tmpdir()
    local ok, out = sh(string.format('%s %s -Wall -Wextra -Werror -o %s/test_vmath tests/c/test_vmath.c -lm',
      CC, CFLAGS, dir))
    assert(ok, 'test_vmath.c did not build:\n' .. out)
    ok, out = sh(dir .. '/test_vmath 1000000')
    os.execute('rm -rf ' .. dir)
    assert(ok and out:find('all vmath checks passed', 1, true), out)
  end)

  it('vectorizes every function, float and double (cosh: float), in omp simd loops', function()
    if not have_cc then return pending('no C compiler (' .. CC .. ')') end
    local _, version = sh(CC .. ' -v')
    if not version:find('gcc version', 1, true) then return pending('the check reads GCC reports') end
    local dir = tmpdir()
    local src = io.open(dir .. '/loops.c', 'w')
    src:write('#define SL_VECTOR_MATH 1\n#include "kernels/scalar.h"\n#include "kernels/vmath.h"\n')
    local n = 0
    for _, name in ipairs(NAMES) do
      -- cosh is vmath's in float only (from its double exp); double cosh is libm's
      for _, t in ipairs(name == 'cosh' and { 'float' } or { 'double', 'float' }) do
        n = n + 1
        src:write(string.format('void loop%d(const %s *restrict x, %s *restrict y, long n)\n', n, t, t),
          string.format('{\n#pragma omp simd\n  for (long i = 0; i < n; i++) y[i] = sl_%s(x[i]);\n}\n', name))
      end
    end
    src:close()
    -- AVX2 as well as the host: the selects must vectorize without masked
    -- instructions too. The host's assembly is kept to look for calls.
    for _, arch in ipairs({ '-march=native', '-mavx2 -mfma' }) do
      local ok, out = sh(string.format('%s -std=gnu11 -O3 %s -fopenmp -fno-math-errno -fopt-info-vec-optimized -I. -S %s/loops.c -o %s/loops%s.s',
        CC, arch, dir, dir, arch == '-march=native' and '' or '_avx2'))
      assert(ok, out)
      local vectorized = {}
      for line in out:gmatch('[^\n]+') do
        local l = line:match('loops%.c:(%d+):%d+: optimized: loop vectorized')
        if l then vectorized[tonumber(l)] = true end
      end
      local lines, k = 4, 0
      for i = 1, n do
        k = k + (vectorized[lines + 3] and 1 or 0)
        lines = lines + 5
      end
      assert.are.equal(n, k, arch .. ': not every loop vectorized:\n' .. out)
    end
    -- and no calls remain in the code
    local f = assert(io.open(dir .. '/loops.s'))
    local asm = f:read('*a')
    f:close()
    os.execute('rm -rf ' .. dir)
    assert.is_nil(asm:find('\tcall\t'), 'a vmath function left a call behind')
  end)
end)

-- -- both tiers of the C backend --------------------------------------------------------
-- libtcc's code (the first tier) calls the copies of vmath.h built into symlua;
-- the optimizing compiler inlines and vectorizes the same text. Both must give
-- the same bits for every function and dtype (docs/backend_c.md, Tiers).
describe('kernels/vmath.h in both tiers', function()
  local ffi = require 'ffi'
  local core = require 'symlua.core'

  -- The special values of inputs(), scaled normals, and random bit patterns.
  local function bits_inputs(dtype)
    local edge = inputs(dtype)
    local n = edge:size(1)
    local total = n + 3 * 20000
    local x = sl.zeros(total, dtype)
    x[{ { 1, n } }] = edge
    x[{ { n + 1, n + 20000 } }] = sl.randn(20000, dtype) * 3
    x[{ { n + 20001, n + 40000 } }] = sl.randn(20000, dtype) * 60
    local p = x:data()
    local u = ffi.cast(dtype == 'float32' and 'uint32_t *' or 'uint64_t *', p)
    math.randomseed(7)
    for i = n + 40000, total - 1 do
      if dtype == 'float32' then
        u[i] = math.random(0, 2^31 - 1) * 2 + math.random(0, 1)
      else
        u[i] = ffi.new('uint64_t', math.random(0, 2^31 - 1)) * 2^33 + math.random(0, 2^31 - 1) * 4 + math.random(0, 3)
      end
    end
    return x
  end

  -- Indices (0-based) where a and b differ in their bit patterns; NaNs are
  -- equal whatever their payloads (which operand of a sum of two NaNs gives
  -- its payload depends on the order the compiler chose).
  local function differ(a, b, dtype)
    local ct = dtype == 'float32' and 'uint32_t *' or 'uint64_t *'
    local ua, ub = ffi.cast(ct, a:data()), ffi.cast(ct, b:data())
    local fa, fb = ffi.cast(dtype == 'float32' and 'float *' or 'double *', a:data()), ffi.cast(dtype == 'float32' and 'float *' or 'double *', b:data())
    local bad = {}
    for i = 0, a:size(1) - 1 do
      local nans = fa[i] ~= fa[i] and fb[i] ~= fb[i]
      if ua[i] ~= ub[i] and not nans and #bad < 5 then bad[#bad + 1] = i end
    end
    return bad
  end

  for _, dtype in ipairs({ 'float64', 'float32' }) do
    it('gives the same bits from tcc code and from the optimizing compiler (' .. dtype .. ')', function()
      if not core.has_tcc then return pending('libtcc is not linked into this binary') end
      local mode, compile = sl.config.mode, sl.config.compile
      sl.config.mode = 'c'
      local x = sl.vector('x', dtype)
      local outs = {}
      for i, name in ipairs(NAMES) do outs[i] = sl[name](x) end
      local xv = bits_inputs(dtype)
      local ok, e = pcall(function()
        sl.config.compile = 'tcc'
        local ft = sl.compile({ x }, outs)
        local t = { ft(xv) }
        assert.are.equal('tcc', ft:info().tier)
        sl.config.compile = 'sync'
        local fc = sl.compile({ x }, outs)
        local c = { fc(xv) }
        assert.are.equal('cc', fc:info().tier)
        for i, name in ipairs(NAMES) do
          local bad = differ(t[i], c[i], dtype)
          local where = {}
          for k, j in ipairs(bad) do
            where[k] = ('%s(%.17g): tcc %.17g, cc %.17g'):format(name, xv[j + 1], t[i][j + 1], c[i][j + 1])
          end
          assert.are.same({}, where, name .. ' ' .. dtype)
        end
      end)
      sl.config.mode, sl.config.compile = mode, compile
      assert(ok, e)
    end)
  end
end)
