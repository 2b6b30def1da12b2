-- The CUDA backend without a GPU: the missing-driver error, the generated
-- kernels of the backend-comparison graphs (every elementwise op on every
-- dtype, the fused reductions, the random graphs of spec/codegen_spec.lua)
-- compiled by NVRTC for sm_90, the disk cache of that compile, and the
-- same sources compiled as C++ for host emulation (kernels/cuda/host.h).
-- What needs NVRTC or a C++ compiler skips with the reason printed.
local sl = require 'symlua'
local graphs = require 'spec.support.graphs'

local DTYPES = { 'bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float32', 'float64', 'float16', 'bfloat16' }

local nvrtc, why_not = sl.cuda.nvrtc_version()

local function have_cxx()
  local r = os.execute('c++ --version >/dev/null 2>&1')
  return r == 0 or r == true
end

-- The compiled functions of the comparison graphs, built with the C backend
-- (their plans are what the CUDA generator reads).
local function comparison_functions()
  local fs = {}
  for _, dt in ipairs(DTYPES) do
    local x = sl.tensor_type(dt, { -1, -1 })('x')
    local y = sl.tensor_type(dt, { 1, -1 })('y')
    local outs = graphs.outputs_of(graphs.UNARY, x)
    local bin = graphs.outputs_of(graphs.BINARY, x, y)
    for _, v in ipairs(bin) do outs[#outs + 1] = v end
    for _, op in ipairs({ 'sum', 'prod', 'mean', 'max', 'min' }) do
      for _, build in ipairs({ function() return sl[op](sl.maximum(x, y)) end, function() return sl[op](x, 2) end,
                               function() return sl[op](x, 1, true) end }) do
        local ok, v = pcall(build)
        if ok then outs[#outs + 1] = v end
      end
    end
    fs[#fs + 1] = { dt, sl.compile({ x, y }, outs, { mode = 'reference' }) }
  end
  local gen = graphs.generator(12345)
  for g = 1, 40 do
    local dtype = gen.pick({ 'float64', 'float32', 'int64', 'int32' })
    local ins, _, outs = gen.graph(dtype)
    fs[#fs + 1] = { 'random graph ' .. g .. ' (' .. dtype .. ')', sl.compile(ins, outs, { mode = 'reference' }) }
  end
  return fs
end

describe('cuda: without a driver', function()
  it('says which library is missing, and compiling for cuda is a clear error', function()
    if sl.cuda.available() then
      print('skipped: this machine has a CUDA device (' .. sl.cuda.devices()[1].name .. ')')
      return
    end
    assert.is_false(sl.cuda.available())
    assert.are.same({}, sl.cuda.devices())
    local why = sl.cuda.why()
    assert.is_truthy(why:find('libcuda.so.1', 1, true) or why:find('no device', 1, true), why)
    local x = sl.vector('x')
    local ok, e = pcall(sl.compile, { x }, sl.exp(x), { mode = 'cuda' })
    assert.is_false(ok)
    assert.are.equal(why, tostring(e):gsub('^[^:]*:%d+: ', ''), tostring(e))
    local found
    for _, b in ipairs(sl.backends()) do if b.name == 'cuda' then found = b end end
    assert.is_truthy(found)
    assert.is_false(found.available)
  end)
end)

describe('cuda: generated kernels', function()
  it('prints every kernel of a function in its variants, with the body the C backend uses', function()
    local x, y = sl.fmatrix('x'), sl.fmatrix('y')
    local f = sl.compile({ x, y }, { sl.exp(x) * y + 0.5, sl.sum(x * y, 2) }, { mode = 'reference' })
    local src = sl.cuda.source(f)
    assert.is_truthy(src:find('extern "C" __global__ void sl_k%d+_contig%(const sl_cuargs A%)'))
    assert.is_truthy(src:find('extern "C" __global__ void sl_k%d+_strided'))
    assert.is_truthy(src:find('extern "C" __global__ void sl_k%d+_reduce'))
    assert.is_truthy(src:find('__shfl_down_sync', 1, true))
    assert.is_truthy(src:find('#define sl_k%d+_body%('))
    -- float32 data accumulates in float on the device (double on the CPU)
    assert.is_truthy(src:find('float acc = 0;', 1, true))
    -- NVRTC has no C library: only the host emulation's head includes headers
    local after_head = src:sub(src:find('#define SL_VECTOR_MATH 1', 1, true), -1)
    assert.is_nil(after_head:find('#include <', 1, true))
  end)

  it('compiles every kernel of the comparison graphs with NVRTC for sm_90', function()
    if not nvrtc then print('skipped: ' .. tostring(why_not)); return end
    local n = 0
    for _, e in ipairs(comparison_functions()) do
      local src = sl.cuda.source(e[2])
      local ok, ptx = pcall(sl.cuda.ptx, src, 'compute_90')
      assert(ok, e[1] .. ': ' .. tostring(ptx))
      assert.is_truthy(ptx:find('.target sm_90', 1, true), e[1])
      for name in src:gmatch('__global__ void (sl_k%d+_%a+)') do
        assert.is_truthy(ptx:find('.entry ' .. name .. '(', 1, true), e[1] .. ': ' .. name .. ' missing from the PTX')
        n = n + 1
      end
    end
    assert.is_true(n > 100, n .. ' kernels')
  end)

  it('caches the PTX on disk, keyed by the source and the arch', function()
    if not nvrtc then print('skipped: ' .. tostring(why_not)); return end
    local x = sl.dvector('x')
    local src = sl.cuda.source(sl.compile({ x }, sl.tanh(x) * 3 + 0.125, { mode = 'reference' }))
    local unique = src .. '\n/* ' .. os.time() .. ' ' .. os.clock() .. ' */\n'
    local p1, hit1 = sl.cuda.ptx(unique, 'compute_90')
    local p2, hit2 = sl.cuda.ptx(unique, 'compute_90')
    assert.is_false(hit1)
    assert.is_true(hit2)
    assert.are.equal(p1, p2)
    local p3, hit3 = sl.cuda.ptx(unique, 'compute_80')
    assert.is_false(hit3)
    assert.is_truthy(p3:find('.target sm_80', 1, true))
  end)

  it('reports an NVRTC compile error with its log', function()
    if not nvrtc then print('skipped: ' .. tostring(why_not)); return end
    local ok, e = pcall(sl.cuda.ptx, 'extern "C" __global__ void k() { undefined_thing(); }')
    assert.is_false(ok)
    assert.is_truthy(tostring(e):find('could not compile', 1, true))
    assert.is_truthy(tostring(e):find('undefined_thing', 1, true))
  end)

  it('compiles the same sources as C++ for host emulation', function()
    if not have_cxx() then print('skipped: no C++ compiler (c++) on this machine'); return end
    local fs = comparison_functions()
    for i = 1, #fs, 6 do
      local path = os.tmpname() .. '.cpp'
      local fh = io.open(path, 'w')
      fh:write(sl.cuda.source(fs[i][2]))
      fh:close()
      local p = io.popen("c++ -std=c++20 -fsyntax-only -DSL_CUDA_HOST -x c++ '" .. path .. "' 2>&1")
      local msg = p:read('*a')
      p:close()
      os.remove(path)
      assert(not msg:find('error'), fs[i][1] .. ': ' .. msg)
    end
  end)
end)
