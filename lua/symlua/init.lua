-- symlua: Lua-scripted array computation. This file is the module's front:
-- argument sugar over the C core (symlua.core) and the pieces written in Lua.
local core = require 'symlua.core'

local sl = {}
sl.version = core.version
sl.core = core

-- Errors point at the user's line: frames in this directory are skipped.
local package_dir = debug.getinfo(1, 'S').source:match('^@(.*[/\\])')
if package_dir then core.set_package_dir(package_dir) end

-- core.fail(fmt, ...): the error for the Lua files of this package to raise,
-- located like the core's at the first caller outside them.
function core.fail(fmt, ...)
  local msg = string.format(fmt, ...)
  for level = 2, 200 do
    local info = debug.getinfo(level, 'Sl')
    if not info then break end
    local src = info.source:sub(2)
    if info.currentline > 0 and (not package_dir or src:sub(1, #package_dir) ~= package_dir) then
      return error(info.short_src .. ':' .. info.currentline .. ': ' .. msg, 0)
    end
  end
  error(msg, 0)
end

-- Settings live in the core (core/base/config.c lists them); floatX is the
-- default float dtype, read when things are made. The table stays empty so
-- every access passes through the core, which rejects unknown names.
sl.config = setmetatable({}, {
  __index = function(_, k) return core.config_get(k) end,
  __newindex = function(_, k, v) core.config_set(k, v) end,
})

-- The dtypes are the core's (sl.dtypes lists them in its order).
sl.dtypes = core.dtypes()
local DTYPES = {}
for _, name in ipairs(sl.dtypes) do DTYPES[name] = true end

local function is_dtype(v) return type(v) == 'string' and DTYPES[v] ~= nil end

-- Split (d1, d2, ..., [dtype]) or ({d1, d2, ...}, [dtype]) into shape and dtype.
local function shape_and_dtype(...)
  local n = select('#', ...)
  local last = n > 0 and select(n, ...) or nil
  local dtype
  if type(last) == 'string' then dtype = last; n = n - 1 end
  local first = ...
  local shape
  if n == 1 and type(first) == 'table' then
    shape = first
  else
    shape = { ... }
    for i = n + 1, #shape do shape[i] = nil end
  end
  return shape, dtype or sl.config.floatX
end

sl.is_tensor = core.is_tensor

function sl.tensor(value, dtype)
  if core.is_tensor(value) then
    return dtype and value:cast(dtype) or value:clone()
  end
  return core.tensor(value, dtype)
end

function sl.zeros(...) local s, d = shape_and_dtype(...) return core.zeros(d, s) end
function sl.ones(...) local s, d = shape_and_dtype(...) return core.full(d, s, 1) end
function sl.rand(...) local s, d = shape_and_dtype(...) return core.rand(d, s) end
function sl.randn(...) local s, d = shape_and_dtype(...) return core.randn(d, s) end

-- sl.full(shape, value [, dtype])
function sl.full(shape, value, dtype)
  if type(shape) == 'number' then shape = { shape } end
  return core.full(dtype or sl.config.floatX, shape, value)
end

-- sl.randint(low, high, shape [, dtype]): integers in [low, high), int64 by default
function sl.randint(low, high, shape, dtype)
  if type(shape) == 'number' then shape = { shape } end
  return core.randint(dtype or 'int64', shape or {}, low, high)
end

-- NumPy's arange: arange(stop), arange(start, stop [, step]); half-open.
-- Integer arguments give int64, like NumPy; a trailing dtype overrides.
function sl.arange(a, b, c, dtype)
  if is_dtype(b) then dtype, b = b, nil elseif is_dtype(c) then dtype, c = c, nil end
  local start, stop, step = 0, a, 1
  if b ~= nil then start, stop, step = a, b, c or 1 end
  if not dtype then
    local int = start % 1 == 0 and stop % 1 == 0 and step % 1 == 0
    dtype = int and 'int64' or sl.config.floatX
  end
  return core.arange(dtype, start, stop, step)
end

function sl.linspace(start, stop, n, dtype)
  return core.linspace(dtype or sl.config.floatX, start, stop, n or 50)
end

function sl.eye(n, m, dtype)
  if type(m) == 'string' then dtype, m = m, nil end
  return core.eye(dtype or sl.config.floatX, n, m or n)
end

function sl.zeros_like(t, dtype) return core.zeros(dtype or t:dtype(), t:shape()) end
function sl.ones_like(t, dtype) return core.full(dtype or t:dtype(), t:shape(), 1) end
function sl.full_like(t, v, dtype) return core.full(dtype or t:dtype(), t:shape(), v) end

sl.manual_seed = core.manual_seed
sl.load = core.load
sl.save = core.save

-- The disk cache of compiled code: sl.cache_info() -> {dir, entries, bytes,
-- hits, misses, corrupt} (hits .. corrupt: lookups by this process);
-- sl.cache_clear() removes the entries and returns how many files went.
sl.cache_info = core.cache_info
sl.cache_clear = core.cache_clear

-- The thresholds of the C backend's kernel choices (core/backend/c/tune.c):
-- sl.tuning() -> {omp_threshold = n, ..., sources = {omp_threshold =
-- 'default'|'calibrated'|'user', ...}, file = path, state = ...};
-- sl.tune() calibrates now (what `symlua --tune` runs) and returns the same.
sl.tuning = core.tuning
sl.tune = core.tune

-- For the modules below. core.method: sl.NAME, var:NAME() and, unless
-- tensors have their own, tensor:NAME() at once. core.value: a variable or
-- tensor as it is, anything else (a number, a nested table) as a tensor.
function core.method(name, f)
  sl[name] = f
  local var_methods = core.var_methods or core.var_mt.__index
  var_methods[name] = f
  if core.tensor_methods[name] == nil then core.tensor_methods[name] = f end
end

function core.value(x)
  if sl.is_var(x) or sl.is_tensor(x) then return x end
  return sl.tensor(x)
end

require('symlua.graph')(sl)
require('symlua.nn')(sl)
require('symlua.reduce')(sl)
require('symlua.linalg')(sl)
require('symlua.index')(sl)
require('symlua.shape')(sl)
require('symlua.sort')(sl)
require('symlua.shape_helpers')(sl)
require('symlua.einsum')(sl)
require('symlua.grad')(sl)
require('symlua.autodiff')(sl)
require('symlua.debug')(sl)
require('symlua.data')(sl)
require('symlua.optim')(sl)
require('symlua.params')(sl)
require('symlua.random')(sl)
require('symlua.conv')(sl)
require('symlua.fft')(sl)
require('symlua.dist')(sl)
require('symlua.cuda')(sl)
require('symlua.scan')(sl)

-- Under LuaJIT, t:data() is an FFI pointer to the first element, for fast
-- loops; it is valid while t is alive, and indexes from 0 like C.
local ok, ffi = pcall(require, 'ffi')
if ok then
  local ctypes = {
    bool = ffi.typeof('uint8_t *'), uint8 = ffi.typeof('uint8_t *'),
    int8 = ffi.typeof('int8_t *'), int16 = ffi.typeof('int16_t *'),
    float16 = ffi.typeof('uint16_t *'), bfloat16 = ffi.typeof('uint16_t *'),   -- the bits
    int32 = ffi.typeof('int32_t *'), int64 = ffi.typeof('int64_t *'),
    float32 = ffi.typeof('float *'), float64 = ffi.typeof('double *'),
    complex64 = ffi.typeof('complex float *'), complex128 = ffi.typeof('complex *'),
  }
  function core.tensor_methods.data(t) return ffi.cast(ctypes[t:dtype()], t:_ptr()) end
end

return sl
