-- The C host API (core/embed/symlua_host.h) given bad host input, driven
-- through LuaJIT's FFI as a C host would call it (bin/symlua links the API):
-- each mistake comes back as a status and a message that names it, and
-- nothing crashes. A second Lua state, opened through the API, holds the
-- functions; sl.config is process-wide, so its script leaves it alone.
local ffi = require 'ffi'

ffi.cdef [[
typedef struct sl_tensor sl_tensor;
typedef struct sl_state sl_state;
typedef struct sl_function sl_function;
sl_tensor *sl_tensor_wrap(void *data, int dt, int ndim, const int64_t *shape, const int64_t *strides,
                          void (*release)(void *, void *), void *ud);
void sl_tensor_release(sl_tensor *t);
double sl_tensor_get(const sl_tensor *t, const int64_t *idx);
const char *sl_errmsg(void);
sl_state *sl_state_open(const char *lua_dir);
void sl_state_close(sl_state *S);
const char *sl_state_errmsg(const sl_state *S);
int sl_state_dostring(sl_state *S, const char *chunk);
int sl_state_get_function(sl_state *S, const char *name, sl_function **out);
void sl_function_release(sl_function *f);
int sl_function_call(sl_function *f, sl_tensor *const *inputs, sl_tensor **outputs);
const char *sl_status_text(int s);
int sl_dtype_from_name(const char *name, int *out);
]]
local C = ffi.C

local function dtype_code(name)   -- the enum value, as a C host gets it from symlua.h
  local code = ffi.new('int[1]')
  assert(C.sl_dtype_from_name(name, code) == 0, name)
  return code[0]
end
local FLOAT32, FLOAT64 = dtype_code('float32'), dtype_code('float64')
local OK, ARG, RELEASED, RUN = 0, 1, 2, 4

local lua_dir = package.searchpath('symlua', package.path):gsub('/symlua/init%.lua$', '')

-- a host buffer of n doubles (or floats) and a tensor over it; the buffer is
-- anchored in the tensor's table so it outlives the tensor
local function host(n, ctype, dt, shape)
  local buf = ffi.new(ctype .. '[?]', n)
  for i = 0, n - 1 do buf[i] = i end
  local dims = shape or { n }
  local t = C.sl_tensor_wrap(buf, dt or FLOAT64, #dims, ffi.new('int64_t[?]', #dims, dims), nil, nil, nil)
  assert(t ~= nil, ffi.string(C.sl_errmsg()))
  return { t = ffi.gc(t, C.sl_tensor_release), buf = buf }
end

local function call(f, inputs, outputs)
  local ins = ffi.new('sl_tensor *[?]', #inputs + 1)
  for i, x in ipairs(inputs) do ins[i - 1] = x end
  local outs = ffi.new('sl_tensor *[?]', #outputs + 1)
  for i, y in ipairs(outputs) do outs[i - 1] = y end
  local s = C.sl_function_call(f, ins, outs)
  return s, ffi.string(C.sl_errmsg()), outs
end

local function expect(status, want, msg, text)
  msg = msg or ''

  assert.are.equal(ffi.string(C.sl_status_text(want)), ffi.string(C.sl_status_text(status)), msg)
  assert.is_truthy(msg:find(text, 1, true), 'message "' .. msg .. '" does not say "' .. text .. '"')
end

describe('the host API', function()
  local S, affine, sum2
  setup(function()
    S = C.sl_state_open(lua_dir)
    assert(S ~= nil, ffi.string(C.sl_errmsg()))
    assert.are.equal(OK, C.sl_state_dostring(S, [[
      local sl = require 'symlua'
      local x = sl.vector('x')
      affine = sl.compile({x}, x * 2 + 1)
      local a, b = sl.vector('a'), sl.vector('b')
      sum2 = sl.compile({a, b}, a + b)
    ]]), ffi.string(C.sl_state_errmsg(S)))
    local box = ffi.new('sl_function *[1]')
    assert.are.equal(OK, C.sl_state_get_function(S, 'affine', box))
    affine = box[0]
    assert.are.equal(OK, C.sl_state_get_function(S, 'sum2', box))
    sum2 = box[0]
  end)
  teardown(function()
    C.sl_function_release(affine)
    C.sl_function_release(sum2)
    C.sl_state_close(S)
  end)

  it('writes results into the host\'s buffer (the oracle: 2x + 1 by hand)', function()
    local x, y = host(10, 'double'), host(10, 'double')
    local s, msg = call(affine, { x.t }, { y.t })
    assert.are.equal(OK, s, msg)
    for i = 0, 9 do assert.are.equal(2 * i + 1, y.buf[i]) end
  end)

  it('a NULL buffer', function()
    assert.is_true(C.sl_tensor_wrap(nil, FLOAT64, 1, ffi.new('int64_t[1]', 10), nil, nil, nil) == nil)
    assert.is_truthy(ffi.string(C.sl_errmsg()):find('sl_tensor_wrap: NULL data', 1, true))
    local y = host(10, 'double')
    local s, msg = call(affine, { nil }, { y.t })
    expect(s, ARG, msg, "input 1 ('x') is NULL")
    local outs
    s, msg, outs = call(affine, { host(10, 'double').t }, { nil })   -- NULL entry: a new tensor
    assert.are.equal(OK, s, msg)
    assert.are.equal(19, C.sl_tensor_get(outs[0], ffi.new('int64_t[1]', 9)))
    C.sl_tensor_release(outs[0])
  end)

  it('a wrong dtype or shape', function()
    local y = host(10, 'double')
    local s, msg = call(affine, { host(10, 'float', FLOAT32).t }, { y.t })
    expect(s, ARG, msg, "input 1 ('x') is float32 but the function takes float64")
    s, msg = call(affine, { host(6, 'double', FLOAT64, { 2, 3 }).t }, { y.t })
    expect(s, ARG, msg, 'wrong rank')
    s, msg = call(affine, { host(10, 'double').t }, { host(10, 'float', FLOAT32).t })
    expect(s, ARG, msg, 'output 1')
    assert.is_truthy(msg:find('(wrong dtype)', 1, true), msg)
  end)

  it('an output too small', function()
    local s, msg = call(affine, { host(10, 'double').t }, { host(4, 'double').t })
    expect(s, ARG, msg, 'is float64 (4,) but the result is float64 (10,) (wrong shape: too small)')
  end)

  it('inputs that meet only at run time: SL_RUN naming the node and its line', function()
    local s, msg = call(sum2, { host(3, 'double').t, host(4, 'double').t }, { nil })
    expect(s, RUN, msg, 'add')
    assert.is_truthy(msg:find('float64 (3,), float64 (4,)', 1, true), msg)
  end)

  it('a released function', function()
    local box = ffi.new('sl_function *[1]')
    assert.are.equal(OK, C.sl_state_dostring(S, [[
      local sl = require 'symlua'
      local v = sl.vector('v')
      scratch = sl.compile({v}, v * v)]]))
    assert.are.equal(OK, C.sl_state_get_function(S, 'scratch', box))
    local f = box[0]
    local x, y = host(5, 'double'), host(5, 'double')
    assert.are.equal(OK, (call(f, { x.t }, { y.t })))
    assert.are.equal(16, y.buf[4])
    C.sl_function_release(f)   -- the host's reference; the script's is left
    assert.are.equal(OK, (call(f, { x.t }, { y.t })))
    assert.are.equal(OK, C.sl_state_dostring(S, 'scratch = nil; collectgarbage(); collectgarbage()'))
    local s, msg = call(f, { x.t }, { y.t })
    expect(s, RELEASED, msg, 'the function was released')
  end)

  it('a NULL function, NULL arrays and a name that is no function', function()
    local x, y = host(10, 'double'), host(10, 'double')
    local s, msg = call(nil, { x.t }, { y.t })
    expect(s, ARG, msg, 'the function is NULL')
    s = C.sl_function_call(affine, nil, ffi.new('sl_tensor *[1]', y.t))
    expect(s, ARG, ffi.string(C.sl_errmsg()), 'inputs is NULL, but the function takes 1 input')
    local box = ffi.new('sl_function *[1]')
    s = C.sl_state_get_function(S, 'nothing', box)
    expect(s, ARG, ffi.string(C.sl_state_errmsg(S)), "'nothing' is nil, not a compiled function")
    assert.is_true(box[0] == nil)
  end)
end)
