-- Elementwise expressions and reductions: symlua's compiled functions against
-- NumPy, hand-written C loops and a STREAM triad, all measured in this run.
--
-- For each expression, size (10^3, 10^5, 10^7) and dtype (float32, float64)
-- the table gives the time per call of
--   symlua  a function from sl.compile with its default options (whatever
--           backend that is), its output freshly allocated on every call;
--   NumPy   the same expression in /usr/bin/python3 (one thread, as NumPy's
--           elementwise code is), a fresh output on every call;
--   C       bench/c/elemwise.c, built here with -O3 -march=native -fopenmp
--           -fno-math-errno and kernels/vmath.h's vector math when present,
--           writing into one preallocated output on the same threads;
-- and symlua's effective bandwidth: bytes of the operands read once plus the
-- output written once, over its time, also as a percentage of the STREAM
-- triad (a = b + s*c on 10^7 doubles, 24 bytes an element, same threads).
-- Times are the best of several batches of calls. Then: the cost of one
-- call of a compiled 10-element function, the cold compile time of the
-- logistic-regression training step in a fresh process with an empty compile
-- cache, and the time to load it from that cache in another fresh process.
--
-- Run: bin/symlua bench/elemwise.lua [sizes]   e.g. 1e3,1e5 (default 1e3,1e5,1e7)
-- BENCH_CASES=pattern: only the expressions whose name contains pattern (plain text).
-- BENCH_THREADS=n: threads for symlua and the C loops (default sl.config.threads,
-- then OMP_NUM_THREADS, then every core). On a machine busy with other work a
-- threaded loop waits for a free core at each parallel region (a scheduler tick,
-- milliseconds): there, BENCH_THREADS=1 measures the code rather than the wait.
local sl = require 'symlua'
local ffi = require 'ffi'

pcall(ffi.cdef, [[
  typedef struct { long tv_sec; long tv_nsec; } bench_ew_timespec;
  int clock_gettime(int clk, bench_ew_timespec *ts);
  long readlink(const char *path, char *buf, size_t n);
]])

local ts = ffi.new('bench_ew_timespec')
local function now()
  ffi.C.clock_gettime(1, ts)   -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read_command(cmd)
  local p = io.popen(cmd)
  local out = p:read('*a')
  p:close()
  return out
end

local bench_dir = (arg and arg[0] or 'bench/elemwise.lua'):match('^(.*)/[^/]*$') or '.'
local root = bench_dir .. '/..'

-- The running interpreter, to start a fresh one for the cache-hit load.
local function self_exe()
  local buf = ffi.new('char[4096]')
  local n = ffi.C.readlink('/proc/self/exe', buf, 4095)
  if n > 0 then return (ffi.string(buf, n):gsub(' %(deleted%)$', '')) end   -- rebuilt meanwhile
  return root .. '/bin/symlua'
end

-- -- the logistic-regression training step (as in examples/logistic_regression.lua) --
-- Returns the time of sl.compile, of the first call, and of a later call.
local function logistic_compile()
  local D, N, BATCH, RATE, L2 = 20, 8000, 100, 0.5, 1e-4
  sl.manual_seed(7)
  local w = sl.shared(sl.zeros(D), 'w')
  local b = sl.shared(0, 'b')
  local x, y = sl.matrix('x'), sl.vector('y')
  local z = x:dot(w) + b
  local xent = (y * sl.softplus(-z) + (1 - y) * sl.softplus(z)):mean()
  local loss = xent + L2 * (w * w):sum()
  local correct = sl.eq(sl.gt(z, 0):cast('float64'), y):cast('float64'):sum()
  local gw, gb = unpack(sl.grad(loss, { w, b }))
  local Xs = sl.shared(sl.randn(N, D), 'X_train')
  local Ys = sl.shared(sl.lt(sl.rand(N), 0.5):cast('float64'), 'Y_train')
  local i = sl.lscalar('i')
  local rows = { { i * BATCH + 1, (i + 1) * BATCH } }
  local t0 = now()
  local train = sl.compile({ i }, { xent, correct }, {
    updates = { [w] = w - RATE * gw, [b] = b - RATE * gb },
    givens = { [x] = Xs[rows], [y] = Ys[rows] },
  })
  local t1 = now()
  train(0)
  local t2 = now()
  train(1)
  return t1 - t0, t2 - t1, now() - t2
end

-- A child process compiling the step against the cache dir arg[2]: prints
-- "probe <sl.compile s> <first call s> <later call s> <cache hits> <entries>".
if arg and arg[1] == '--compile-probe' then
  local isolated = pcall(function() sl.config.cache_dir = arg[2] end)
  local c, first, later = logistic_compile()
  local ok, info = pcall(sl.cache_info)
  ok = ok and isolated and type(info) == 'table'
  print(string.format('probe %.9f %.9f %.9f %s %s', c, first, later,
    ok and tostring(info.hits) or 'n/a', ok and tostring(info.entries) or 'n/a'))
  return
end

local SIZES = { 1e3, 1e5, 1e7 }
if arg and arg[1] then
  SIZES = {}
  for s in arg[1]:gmatch('[^,]+') do SIZES[#SIZES + 1] = math.floor(assert(tonumber(s), 'bad size ' .. s)) end
end
local DTYPES = { 'float32', 'float64' }
local ESIZE = { float32 = 4, float64 = 8 }

-- Best time per call. Calls are timed in short batches (about 0.2 ms, or one
-- call where a call takes longer), as many as fit in the budget and at least
-- five: on a busy machine a batch that lost its core to another process runs
-- slower, and the minimum over many short batches is one that did not.
local function measure(call, budget)
  budget = budget or 0.1
  call()
  local t0 = now()
  call()
  local one = math.max(now() - t0, 1e-8)
  local k = math.max(1, math.floor(2e-4 / one))
  local best, start, reps = math.huge, now(), 0
  repeat
    local s = now()
    for _ = 1, k do call() end
    best = math.min(best, (now() - s) / k)
    reps = reps + 1
  until reps >= (one > 0.1 and 3 or 5) and (now() - start > budget or reps >= 2000)
  return best
end

-- Warm up a symlua function until its calls are served from the buffer cache
-- (six in a row without a fresh buffer): until the collector has run a few
-- times and the cache holds a whole cycle's worth of outputs, outputs of 10^7
-- elements come fresh from the system, each page faulted in on first touch.
local function warm_up(call)
  local info = sl.core.storage_cache_info
  local clean = 0
  for _ = 1, 30 do
    local misses = info().misses
    call()
    clean = info().misses == misses and clean + 1 or 0
    if clean >= 6 then return end
  end
end

-- Matrix shapes with rows * cols = n: 25 x 40, 250 x 400, 2500 x 4000.
local function matrix_shape(n)
  local rows = math.max(1, math.floor(math.sqrt(n / 1.6) + 0.5))
  while n % rows ~= 0 do rows = rows - 1 end
  return rows, n / rows
end

-- -- the suite ----------------------------------------------------------------------
-- kind: 'flat' (nin vectors of n), 'matrix' (one rows x cols matrix),
-- 'row' (a matrix and a vector of cols), 'transposed' (a matrix and a cols x rows
-- matrix), 'bcast4' (a p x q x r x s array and a q x 1 x s one). np: the NumPy
-- expression in a, b, c, d, e. c: the C kernel's base name.
-- reads/writes: elements of the operands and of the output, for the bandwidth.
local cases = {
  { name = 'a*b+c', kind = 'flat', nin = 3, np = 'a*b+c', c = 'fma',
    f = function(a, b, c) return a * b + c end },
  { name = 'a*b+c*exp(d)', kind = 'flat', nin = 4, np = 'a*b+c*np.exp(d)', c = 'fma_exp',
    f = function(a, b, c, d) return a * b + c * sl.exp(d) end },
  { name = 'sigmoid(x)', kind = 'flat', nin = 1, np = '1/(1+np.exp(-a))', c = 'sigmoid',
    f = function(a) return sl.sigmoid(a) end },
  { name = 'tanh(x)*y+0.5*x*x', kind = 'flat', nin = 2, np = 'np.tanh(a)*b+0.5*a*a', c = 'tanh_mix',
    f = function(a, b) return sl.tanh(a) * b + 0.5 * a * a end },
  { name = 'softplus(x)', kind = 'flat', nin = 1, np = 'np.logaddexp(0, a)', c = 'softplus',
    f = function(a) return sl.softplus(a) end },
  { name = 'sum(x*y)', kind = 'flat', nin = 2, np = 'np.sum(a*b)', c = 'dot', scalar_out = true,
    f = function(a, b) return (a * b):sum() end },
  { name = 'sum(m, 1) (down columns)', kind = 'matrix', np = 'a.sum(axis=0)', c = 'colsum',
    f = function(m) return m:sum(1) end },
  { name = 'sum(m, 2) (along rows)', kind = 'matrix', np = 'a.sum(axis=1)', c = 'rowsum',
    f = function(m) return m:sum(2) end },
  { name = 'matrix + row vector', kind = 'row', np = 'a+b', c = 'addrow',
    f = function(m, v) return m + v end },
  { name = 'a + transposed b', kind = 'transposed', np = 'a+b.T', c = 'addt',
    f = function(a, b) return a + b:dimshuffle(2, 1) end },
  { name = '4-d a + b (b: 1 x q x 1 x s)', kind = 'bcast4', np = 'a+b', c = 'bcast4',
    f = function(a, b) return a + b end },
  { name = '(a*b+c) + d*exp(e), two chains', kind = 'flat', nin = 5, np = '(a*b+c)+d*np.exp(e)',
    c = 'chains5', f = function(a, b, c, d, e) return (a * b + c) + d * sl.exp(e) end },
}

-- n = p * q with q the largest divisor of n not above sqrt(n).
local function split(n)
  local q = math.floor(math.sqrt(n))
  while n % q ~= 0 do q = q - 1 end
  return n / q, q
end

-- The 4-d broadcast's shapes: a (p, q, r, s), b (q, 1, s), from the matrix shape.
local function bcast4_shape(n)
  local rows, cols = matrix_shape(n)
  local p, q = split(rows)
  local r, s = split(cols)
  return p, q, r, s
end

do
  local only = os.getenv('BENCH_CASES')
  if only and only ~= '' then
    local kept = {}
    for _, c in ipairs(cases) do if c.name:find(only, 1, true) then kept[#kept + 1] = c end end
    cases = kept
  end
end

-- Operand shapes, and element counts read and written, for case c at size n.
local function layout(c, n)
  local rows, cols = matrix_shape(n)
  if c.kind == 'flat' then
    local shapes = {}
    for i = 1, c.nin do shapes[i] = { n } end
    return shapes, c.nin * n, c.scalar_out and 1 or n, 1, n
  elseif c.kind == 'matrix' then
    return { { rows, cols } }, n, c.c == 'colsum' and cols or rows, rows, cols
  elseif c.kind == 'row' then
    return { { rows, cols }, { cols } }, n + cols, n, rows, cols
  elseif c.kind == 'bcast4' then
    local p, q, r, s = bcast4_shape(n)
    return { { p, q, r, s }, { q, 1, s } }, n + q * s, n, rows, cols
  else
    return { { rows, cols }, { cols, rows } }, 2 * n, n, rows, cols
  end
end

-- The load average over the last minute: other work on the cores skews times.
local function loadavg()
  local f = io.open('/proc/loadavg')
  if not f then return 'n/a' end
  local l = f:read('*n')
  f:close()
  return l and string.format('%.1f', l) or 'n/a'
end
local load_start = loadavg()

-- -- threads ---------------------------------------------------------------------------
local function nproc()
  local n = tonumber((read_command('nproc 2>/dev/null')))
  return n or 1
end
-- BENCH_THREADS=n sets symlua's threads (sl.config.threads) and the C loops' alike.
local threads = tonumber(os.getenv('BENCH_THREADS') or '')
if threads then sl.config.threads = threads else threads = sl.config.threads end
if not threads or threads == 0 then threads = tonumber(os.getenv('OMP_NUM_THREADS') or '') or nproc() end
local omp_threshold = sl.config.omp_threshold or 32768

-- -- the C baseline: build and load --------------------------------------------------------
pcall(ffi.cdef, [[
  long bench_threshold;
  long bench_dims[4];
  int bench_vector_math(void);
  void bench_set_threads(int n);
  void bench_triad(long n, double *a, const double *b, const double *c, double s);
  void bench_fill(long n, double *a, double v);
  void *aligned_alloc(size_t align, size_t n);
  void free(void *p);
  int madvise(void *p, size_t n, int advice);
]])
for _, c in ipairs(cases) do
  for _, suffix in ipairs({ '_f32', '_f64' }) do
    pcall(ffi.cdef, string.format('void %s%s(long rows, long cols, const void *a, const void *b, '
      .. 'const void *c, const void *d, const void *e, void *out);', c.c, suffix))
  end
end

local tmpdir = read_command('mktemp -d 2>/dev/null'):gsub('%s+$', '')
if tmpdir == '' then tmpdir = '/tmp' end
local CC = os.getenv('CC') or 'cc'
local clib, c_note
do
  local src = root .. '/bench/c/elemwise.c'
  local so = tmpdir .. '/bench_elemwise.so'
  local base = string.format('%s -O3 -march=native -fopenmp -fno-math-errno -fPIC -shared -o %s %s',
    CC, shell_quote(so), shell_quote(src))
  local vmath = root .. '/kernels/vmath.h'
  local have_vmath = io.open(vmath) ~= nil
  local built = false
  if have_vmath then
    built = os.execute(base .. ' -DBENCH_VMATH -I' .. shell_quote(root .. '/kernels') .. ' 2>' .. tmpdir .. '/cc.log') == 0
  end
  if not built then built = os.execute(base .. ' 2>' .. tmpdir .. '/cc.log') == 0 end
  if built then
    local ok, lib = pcall(ffi.load, so)
    if ok then
      clib = lib
      clib.bench_threshold = omp_threshold
      clib.bench_set_threads(threads)
      c_note = clib.bench_vector_math() == 1 and 'with kernels/vmath.h vector math'
        or (have_vmath and 'libm math (kernels/vmath.h did not compile with the bench)'
            or 'libm math (kernels/vmath.h not present): plain loops')
    else
      c_note = 'n/a: could not load the built library: ' .. tostring(lib)
    end
  else
    c_note = 'n/a: ' .. CC .. ' failed to build bench/c/elemwise.c (-fopenmp needed)'
  end
end

-- Buffers for the C loops: 2 MiB aligned with huge pages, filled (so touched)
-- with values in [-2, 2), the same each run.
local c_buffers = {}
local function c_buffer(nbytes, fill)
  local size = math.max(2 ^ 21, math.ceil(nbytes / 2 ^ 21) * 2 ^ 21)
  local p = ffi.C.aligned_alloc(2 ^ 21, size)
  assert(p ~= nil, 'out of memory for the C baseline')
  ffi.C.madvise(p, size, 14)   -- MADV_HUGEPAGE
  c_buffers[#c_buffers + 1] = p
  local bytes = ffi.cast('unsigned char *', p)
  ffi.fill(bytes, size, 0)
  if fill then   -- fill: 'float' or 'double'
    local nd = math.floor(nbytes / ffi.sizeof(fill))
    local d = ffi.cast(fill .. ' *', p)
    local x = 12345
    for i = 0, nd - 1 do
      x = (x * 1103515245 + 12345) % 2147483648
      d[i] = x / 2147483648 * 4 - 2
    end
  end
  return p
end

-- -- STREAM triad ----------------------------------------------------------------------
local triad_gbs, triad_note
if clib then
  local n = 1e7
  local a, b, c = c_buffer(8 * n), c_buffer(8 * n), c_buffer(8 * n)
  clib.bench_fill(n, b, 1.0)
  clib.bench_fill(n, c, 2.0)
  local t = measure(function() clib.bench_triad(n, a, b, c, 3.0) end)
  triad_gbs = 24 * n / t / 1e9
  triad_note = string.format('%.1f GB/s (10^7 doubles, %d threads)', triad_gbs, threads)
else
  triad_note = 'n/a (' .. c_note .. ')'
end

-- -- symlua -------------------------------------------------------------------------------
local results = {}   -- results[key] = { sl =, c =, np = }
local function key(ci, n, dt) return ci .. ':' .. n .. ':' .. dt end

local RANK_KIND = { 'vector', 'matrix', 'tensor3', 'tensor4' }
local backend = 'default'
local compiled = {}
for ci, c in ipairs(cases) do
  for _, n in ipairs(SIZES) do
    for _, dt in ipairs(DTYPES) do
      local shapes, reads, writes, rows, cols = layout(c, n)
      local vals, cptr = {}, {}
      for i, s in ipairs(shapes) do vals[i] = sl.randn(s, dt) end
      local r = { reads = reads, writes = writes }
      -- one compiled function per expression and dtype, for every size
      local fkey = ci .. ':' .. dt
      if not compiled[fkey] then
        local vars = {}
        for i, s in ipairs(shapes) do
          vars[i] = sl[RANK_KIND[#s]]('x' .. i, dt)
        end
        compiled[fkey] = { pcall(sl.compile, vars, c.f(unpack(vars))) }
      end
      local ok, f = unpack(compiled[fkey])
      if ok then
        local info = f.info and f:info()
        if info and (info.mode or info.backend) then backend = info.mode or info.backend end
        local call = function() return f(unpack(vals)) end
        local ok2, t = pcall(function() warm_up(call) return measure(call) end)
        if ok2 then r.sl = t else r.sl_err = tostring(t) end
      else
        r.sl_err = tostring(f)
      end
      vals = nil
      collectgarbage()
      if clib then
        local es = ESIZE[dt]
        for i, s in ipairs(shapes) do
          local cnt = 1
          for _, d in ipairs(s) do cnt = cnt * d end
          cptr[i] = c_buffer(cnt * es, dt == 'float32' and 'float' or 'double')
        end
        local out = c_buffer(writes * es)
        local fn = clib[c.c .. (dt == 'float32' and '_f32' or '_f64')]
        local a, b, cc, d, e = cptr[1], cptr[2], cptr[3], cptr[4], cptr[5]
        if c.kind == 'bcast4' then
          local p, q, rr, s = bcast4_shape(n)
          clib.bench_dims[0], clib.bench_dims[1], clib.bench_dims[2], clib.bench_dims[3] = p, q, rr, s
        end
        r.c = measure(function() fn(rows, cols, a, b, cc, d, e, out) end)
        for _ = 1, #cptr + 1 do ffi.C.free(table.remove(c_buffers)) end
      end
      results[key(ci, n, dt)] = r
    end
  end
end

-- -- per-call overhead ----------------------------------------------------------------
local overhead = {}
do
  local x = sl.vector('x', 'float64')
  local f = sl.compile({ x }, x * 2 + 1)
  local v = sl.randn(10, 'float64')
  overhead.sl = measure(function() return f(v) end)
end

-- -- minor page faults per call ------------------------------------------------------
-- a*b+c on 10^7 float64 returns a fresh 80 MB result each call: a call whose
-- result pages are new to the process faults each one in (20000 4 KiB pages).
pcall(ffi.cdef, [[
  typedef struct { long utime[2], stime[2]; long maxrss, ixrss, idrss, isrss, minflt, majflt;
                   long rest[8]; } bench_ew_rusage;
  int getrusage(int who, bench_ew_rusage *u);
]])
local function minflt()
  local u = ffi.new('bench_ew_rusage')
  ffi.C.getrusage(0, u)   -- RUSAGE_SELF
  return tonumber(u.minflt)
end
local FAULT_N, FAULT_CALLS, FAULT_SMALL = 1e7, 20, 1e5
local faults = {}
do
  local a, b, c = sl.vector('a', 'float64'), sl.vector('b', 'float64'), sl.vector('c', 'float64')
  local f = sl.compile({ a, b, c }, a * b + c)
  local va, vb, vc = sl.randn(FAULT_N, 'float64'), sl.randn(FAULT_N, 'float64'), sl.randn(FAULT_N, 'float64')
  local m0 = minflt()
  for _ = 1, 3 do f(va, vb, vc) end
  faults.first = (minflt() - m0) / 3
  warm_up(function() return f(va, vb, vc) end)
  m0 = minflt()
  for _ = 1, FAULT_CALLS do f(va, vb, vc) end
  faults.steady = (minflt() - m0) / FAULT_CALLS
  -- the same function on 10^5 elements once the large arrays are collected
  va, vb, vc = nil, nil, nil
  collectgarbage()
  local sa = sl.randn(FAULT_SMALL, 'float64')
  for _ = 1, 300 do f(sa, sa, sa) end
  m0 = minflt()
  for _ = 1, 200 do f(sa, sa, sa) end
  faults.after = (minflt() - m0) / 200
  collectgarbage()
end

-- -- NumPy, in one subprocess ---------------------------------------------------------
local jobs = {}
for ci, c in ipairs(cases) do
  for _, n in ipairs(SIZES) do
    for _, dt in ipairs(DTYPES) do
      local shapes = layout(c, n)
      local sh = {}
      for i, s in ipairs(shapes) do sh[i] = '(' .. table.concat(s, ',') .. ',)' end
      jobs[#jobs + 1] = string.format('(%q, %q, [%s], %q)', key(ci, n, dt), c.np, table.concat(sh, ','), dt)
    end
  end
end
local python = string.format([[/usr/bin/python3 - <<'PY' 2>&1
import time
try:
    import numpy as np
except Exception as e:
    print('error numpy unavailable: %%s' %% e); raise SystemExit
def measure(f, budget=0.1):
    f(); t0 = time.perf_counter(); f(); one = max(time.perf_counter() - t0, 1e-8)
    k = max(1, int(2e-4 / one)); best = 1e9; start = time.perf_counter(); reps = 0
    while reps < (3 if one > 0.1 else 5) or (time.perf_counter() - start <= budget and reps < 2000):
        s = time.perf_counter()
        for _ in range(k): f()
        best = min(best, (time.perf_counter() - s) / k); reps += 1
    return best
rng = np.random.default_rng(0)
for key, code, shapes, dt in [%s]:
    arrs = [rng.standard_normal(s).astype(dt) for s in shapes]
    env = dict(zip('abcde', arrs)); env['np'] = np
    fn = eval('lambda: ' + code, env)
    print('time', key, measure(fn), flush=True)
    del arrs, env, fn
a = np.ones(10); b = np.ones(10)
print('time ufunc', measure(lambda: np.add(a, b)))
print('time expr10', measure(lambda: a*2+1))
import resource
def minflt(): return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
a, b, c = (rng.standard_normal(%d) for _ in range(3))
for _ in range(3): r = a*b+c
m0 = minflt()
for _ in range(%d): r = a*b+c
print('faults', (minflt() - m0) / %d)
print('version', np.__version__)
PY]], table.concat(jobs, ', '), FAULT_N, FAULT_CALLS, FAULT_CALLS)
local np_version, np_error = nil, nil
for line in read_command(python):gmatch('[^\n]+') do
  local k, t = line:match('^time (%S+) (%S+)$')
  if k == 'ufunc' then overhead.np_ufunc = tonumber(t)
  elseif k == 'expr10' then overhead.np_expr = tonumber(t)
  elseif k then
    if results[k] then results[k].np = tonumber(t) end
  elseif line:match('^faults ') then faults.np = tonumber(line:match('^faults (%S+)'))
  elseif line:match('^version ') then np_version = line:match('^version (%S+)')
  elseif line:match('^error ') then np_error = line:match('^error (.*)')
  end
end
if not np_version and not np_error then np_error = 'python3 with numpy did not run' end

-- -- compile and cache ------------------------------------------------------------------
-- Both in fresh processes against one new cache dir: the first compiles from
-- nothing, the second should find everything in the cache.
local compile = {}
do
  local cache_dir = tmpdir .. '/compile-cache'
  os.execute('mkdir -p ' .. shell_quote(cache_dir))
  local function probe()
    local out = read_command(string.format('%s %s --compile-probe %s 2>&1', shell_quote(self_exe()),
      shell_quote(arg and arg[0] or 'bench/elemwise.lua'), shell_quote(cache_dir)))
    local c, first, later, hits, entries = out:match('probe (%S+) (%S+) (%S+) (%S+) (%S+)')
    return { compile = tonumber(c), first = tonumber(first), later = tonumber(later),
             hits = tonumber(hits), entries = tonumber(entries), out = out }
  end
  compile.cold = probe()
  compile.hit = probe()
end

-- -- the report --------------------------------------------------------------------------------
local function us(t) return t and string.format('%.2f', t * 1e6) or 'n/a' end
local function ratio(x, y) return (x and y) and string.format('%.2f', x / y) or 'n/a' end

print(string.format('# symlua elementwise benchmark (%s)', os.date('!%Y-%m-%d %H:%M UTC')))
print()
print(string.format('- machine: %d cores; load average %s at the start, %s at the end'
  .. ' (other processes on the cores make threaded times wait for a core)', nproc(), load_start, loadavg()))
print()
print(string.format('- symlua: sl.compile defaults (backend: %s), %d threads, omp_threshold %d',
  backend, threads, omp_threshold))
do   -- the kernel-choice thresholds in force and where each came from (symlua --tune)
  local t, parts = sl.tuning(), {}
  for _, name in ipairs({ 'omp_threshold', 'omp_threshold_compute', 'tile_threshold_f32', 'tile_threshold_f64' }) do
    parts[#parts + 1] = string.format('%s %d (%s)', name, t[name], t.sources[name])
  end
  print('- thresholds: ' .. table.concat(parts, ', ') .. (t.file and ('; calibrated file ' .. t.file) or ''))
end
print('- NumPy: ' .. (np_version and (np_version .. ', one thread') or ('n/a (' .. np_error .. ')')))
print('- C: ' .. (c_note or 'n/a') .. ', -O3 -march=native -fopenmp, ' .. threads .. ' threads, preallocated output')
print('- STREAM triad: ' .. triad_note)
print('- times are µs per call, the best of many short batches (at least 5, or 3 of calls over 0.1 s; a batch is one call'
  .. ' from about 0.2 ms up); speedup = NumPy time / symlua time;'
  .. ' vs C = symlua time / C time (1.00 = as fast as C); GB/s counts operands read once'
  .. ' and the output written once')
print()
print('| expression | dtype | n | symlua µs | NumPy µs | C µs | symlua GB/s | speedup vs NumPy | symlua / C | % of triad |')
print('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|')
local errors = {}
for ci, c in ipairs(cases) do
  for _, n in ipairs(SIZES) do
    for _, dt in ipairs(DTYPES) do
      local r = results[key(ci, n, dt)]
      local gbs = r.sl and (r.reads + r.writes) * ESIZE[dt] / r.sl / 1e9
      print(string.format('| %s | %s | 10^%d | %s | %s | %s | %s | %s | %s | %s |', c.name, dt,
        math.floor(math.log10(n) + 0.5), us(r.sl), us(r.np), us(r.c),
        gbs and string.format('%.1f', gbs) or 'n/a', ratio(r.np, r.sl), ratio(r.sl, r.c),
        (gbs and triad_gbs) and string.format('%.0f%%', 100 * gbs / triad_gbs) or 'n/a'))
      if r.sl_err then errors[#errors + 1] = c.name .. ' ' .. dt .. ': ' .. r.sl_err end
    end
  end
end
for _, e in ipairs(errors) do print('- symlua failed: ' .. e) end

print()
print('| per call, 10 float64 elements | µs |')
print('|---|---:|')
print(string.format('| symlua compiled x*2+1 | %s |', us(overhead.sl)))
print(string.format('| NumPy a*2+1 (two ufunc calls) | %s |', us(overhead.np_expr)))
print(string.format('| NumPy np.add(a, b) (one ufunc call) | %s |', us(overhead.np_ufunc)))

print()
local function nf(x) return x and string.format('%.1f', x) or 'n/a' end
print(string.format('| minor page faults per call, a*b+c on 10^%d float64 (fresh %d MB result) | faults |',
  math.floor(math.log10(FAULT_N) + 0.5), 8 * FAULT_N / 1e6))
print('|---|---:|')
print(string.format('| symlua, first 3 calls | %s |', nf(faults.first)))
print(string.format('| symlua, steady state (%d calls after warm-up) | %s |', FAULT_CALLS, nf(faults.steady)))
print(string.format('| NumPy, steady state (%d calls) | %s |', FAULT_CALLS, nf(faults.np)))
print(string.format('| symlua, 10^5 elements after the 10^7 arrays are collected (200 calls after 300) | %s |', nf(faults.after)))

print()
print('| logistic-regression training step, each in a fresh process | ms |')
print('|---|---:|')
local function ms(t) return t and string.format('%.3f', t * 1e3) or 'n/a' end
local cold, hit = compile.cold, compile.hit
local function total(p) return p.compile and p.first and p.compile + p.first end
print(string.format('| cold, empty cache dir: sl.compile | %s |', ms(cold.compile)))
print(string.format('| cold, empty cache dir: first call | %s |', ms(cold.first)))
print(string.format('| cold, empty cache dir: sl.compile + first call | %s |', ms(total(cold))))
print(string.format('| cache hit: sl.compile | %s |', ms(hit.compile)))
print(string.format('| cache hit: first call | %s |', ms(hit.first)))
print(string.format('| cache hit: sl.compile + first call | %s |', ms(total(hit))))
print(string.format('| a later call (for scale) | %s |', ms(hit.later)))
for _, p in ipairs({ cold, hit }) do
  if not p.compile then print('- a probe process failed: ' .. p.out:gsub('\n', ' ')) end
end
if cold.compile and hit.compile then
  if not cold.entries then
    print('- n/a: no sl.cache_info or sl.config.cache_dir here, so the compile cache could not be isolated')
  elseif cold.entries == 0 then
    print('- the cold compile wrote nothing to the cache dir: the default backend compiles no code,'
      .. ' so "cold" and "cache hit" are the same graph setup')
  else
    print(string.format('- the cold compile left %d cache entries; the second process found %d of its'
      .. ' compiles in the cache and left %d entries', cold.entries, hit.hits or 0, hit.entries or 0))
  end
end

for _, p in ipairs(c_buffers) do ffi.C.free(p) end
os.execute('rm -rf ' .. shell_quote(tmpdir))
