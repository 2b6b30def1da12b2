-- FFT throughput: sl.fft in compiled functions against FFTW called directly
-- (through the FFI, same planning flags, a plan made once, new-array
-- execute into a fresh output, as symlua does) and numpy.fft, all in the
-- same run. symlua / FFTW should be at least 0.95.
-- Run: bin/symlua bench/fft.lua
local sl = require 'symlua'
local ffi = require 'ffi'
pcall(ffi.cdef, [[
  typedef struct fftw_plan_s *fftw_plan;
  typedef struct fftwf_plan_s *fftwf_plan;
  fftw_plan fftw_plan_dft_r2c_1d(int n, double *in, void *out, unsigned flags);
  fftw_plan fftw_plan_dft_1d(int n, void *in, void *out, int sign, unsigned flags);
  fftw_plan fftw_plan_dft_r2c_2d(int n0, int n1, double *in, void *out, unsigned flags);
  fftwf_plan fftwf_plan_dft_r2c_1d(int n, float *in, void *out, unsigned flags);
  void fftw_execute_dft_r2c(fftw_plan p, double *in, void *out);
  void fftw_execute_dft(fftw_plan p, void *in, void *out);
  void fftwf_execute_dft_r2c(fftwf_plan p, float *in, void *out);
]])
local FFTW_ESTIMATE, FFTW_UNALIGNED, FFTW_FORWARD = 2 ^ 6, 2 ^ 1, -1

local here = (arg and arg[0] or ''):match('^(.*/)') or './'
local now = dofile(here .. 'support/clock.lua')
local python = dofile(here .. 'support/python.lua')

local best = dofile(here .. 'support/best.lua')(now)

local fftw = (pcall(function() return ffi.C.fftw_plan_dft_1d end)) and ffi.C or select(2, pcall(ffi.load, 'fftw3'))
local fftwf = (pcall(function() return ffi.C.fftwf_plan_dft_r2c_1d end)) and ffi.C or select(2, pcall(ffi.load, 'fftw3f'))

-- Each case: a symlua expression on one input, the FFTW call, numpy's expression.
local N1, N2 = 2 ^ 20, 512
local cases = {
  { 'rfft, 2^20 float64', function() return sl.randn(N1) end, function(x) return sl.fft.rfft(x) end,
    function(x)
      local out = sl.zeros(N1 / 2 + 1, 'complex128')
      local plan = fftw.fftw_plan_dft_r2c_1d(N1, x:data(), out:data(), FFTW_ESTIMATE + FFTW_UNALIGNED)
      return function() fftw.fftw_execute_dft_r2c(plan, x:data(), sl.zeros(N1 / 2 + 1, 'complex128'):data()) end
    end, 'np.fft.rfft(x)' },
  { 'rfft, 2^20 float32', function() return sl.randn(N1, 'float32') end, function(x) return sl.fft.rfft(x) end,
    function(x)
      local out = sl.zeros(N1 / 2 + 1, 'complex64')
      local plan = fftwf.fftwf_plan_dft_r2c_1d(N1, x:data(), out:data(), FFTW_ESTIMATE + FFTW_UNALIGNED)
      return function() fftwf.fftwf_execute_dft_r2c(plan, x:data(), sl.zeros(N1 / 2 + 1, 'complex64'):data()) end
    end, 'np.fft.rfft(x)' },
  { 'fft, 2^20 complex128', function() return sl.complex(sl.randn(N1), sl.randn(N1)) end,
    function(x) return sl.fft.fft(x) end,
    function(x)
      local out = sl.zeros(N1, 'complex128')
      local plan = fftw.fftw_plan_dft_1d(N1, x:data(), out:data(), FFTW_FORWARD, FFTW_ESTIMATE + FFTW_UNALIGNED)
      return function() fftw.fftw_execute_dft(plan, x:data(), sl.zeros(N1, 'complex128'):data()) end
    end, 'np.fft.fft(x)' },
  { 'rfft2, 512x512 float64', function() return sl.randn(N2, N2) end, function(x) return sl.fft.rfft2(x) end,
    function(x)
      local out = sl.zeros(N2, N2 / 2 + 1, 'complex128')
      local plan = fftw.fftw_plan_dft_r2c_2d(N2, N2, x:data(), out:data(), FFTW_ESTIMATE + FFTW_UNALIGNED)
      return function() fftw.fftw_execute_dft_r2c(plan, x:data(), sl.zeros(N2, N2 / 2 + 1, 'complex128'):data()) end
    end, 'np.fft.rfft2(x)' },
}

-- numpy.fft times, one subprocess for every case
local function numpy_times()
  local lines = {}
  local makers = { 'np.random.randn(2**20)', 'np.random.randn(2**20).astype(np.float32)',
    'np.random.randn(2**20) + 1j * np.random.randn(2**20)', 'np.random.randn(512, 512)' }
  for i, c in ipairs(cases) do
    lines[#lines + 1] = ('x = %s; r.append(best(lambda: %s))'):format(makers[i], c[5])
  end
  return python.numpy_times(lines, #cases)
end

local np = numpy_times()
print('| case | symlua | FFTW direct | numpy.fft | FFTW / symlua | numpy / symlua |')
print('|---|---:|---:|---:|---:|---:|')
for i, c in ipairs(cases) do
  local x = c[2]()
  local sym = sl.vector('x', x:dtype())
  if x:dim() == 2 then sym = sl.matrix('x', x:dtype()) end
  local f = sl.compile({ sym }, c[3](sym))
  local t_sl = best(function() f(x) end)
  local ok, direct = pcall(c[4], x)
  local t_fftw = ok and fftw and best(direct) or nil
  local t_np = np and np[i]
  local function ms(t) return t and ('%.3f ms'):format(t * 1e3) or 'n/a' end
  local function ratio(t) return t and ('%.2f'):format(t / t_sl) or 'n/a' end
  print(('| %s | %s | %s | %s | %s | %s |'):format(c[1], ms(t_sl), ms(t_fftw), ms(t_np), ratio(t_fftw), ratio(t_np)))
end
