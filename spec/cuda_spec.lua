-- The CUDA backend without a GPU: the missing-driver error, the generated
-- kernels of the backend-comparison graphs (every elementwise op on every
-- dtype, the fused reductions, the random graphs of spec/codegen_spec.lua)
-- compiled by NVRTC for sm_90 (PTX and cubin), the disk cache of those
-- compiles, and the same kernels run under host emulation (mode
-- 'cuda_host', kernels/cuda/host.h) against the reference backend.
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

describe('cuda: choosing the device', function()
  local x = sl.vector('x')
  local function err(...)
    local ok, e = pcall(sl.compile, ...)
    assert.is_false(ok)
    return (tostring(e):gsub('^[^:]*:%d+: ', ''))
  end

  it('compiles for the device by opts.device, sl.config.device or SYMLUA_DEVICE, never falling back', function()
    local why = sl.cuda.why()
    if not why then
      -- a device: the compile reaches the backend, which says what is not built
      local e = err({ x }, sl.exp(x), { device = 'cuda' })
      assert.is_truthy(e:find('running on the device (memory, transfers, launches) is not built yet', 1, true), e)
      print('a CUDA device is here (' .. sl.cuda.devices()[1].name .. '): the missing-driver checks skip')
      return
    end
    assert.is_truthy(why:find('libcuda', 1, true), why)
    assert.are.equal(why, err({ x }, sl.exp(x), { device = 'cuda' }))
    local old = sl.config.device
    assert.are.equal('cpu', old)
    sl.config.device = 'cuda'
    local e = err({ x }, sl.exp(x))
    -- opts.mode still picks a backend, whatever the device setting
    local f = sl.compile({ x }, sl.exp(x), { mode = 'reference' })
    sl.config.device = old
    assert.are.equal(why, e)
    assert.are.equal('reference', f:info().backend)
    -- device 'cpu' keeps the CPU backend in force (SYMLUA_MODE may make it the reference)
    assert.are.equal(sl.config.mode, sl.compile({ x }, sl.exp(x), { device = 'cpu' }):info().backend)
    -- the environment variable, in a child process
    local p = io.popen("SYMLUA_DEVICE=cuda bin/symlua -e \"local sl = require 'symlua'; local x = sl.vector('x'); "
                       .. "print(sl.config.device, select(2, pcall(sl.compile, {x}, x * 2)))\" 2>&1")
    local out = p:read('*a')
    p:close()
    assert.is_truthy(out:find('^cuda\t'), out)
    assert.is_truthy(out:find(why, 1, true), out)
  end)

  it('rejects an unknown device, and a mode and device that disagree', function()
    assert.are.equal("compile: unknown device 'tpu' (available: 'cpu', 'cuda')", err({ x }, x, { device = 'tpu' }))
    assert.are.equal("compile: mode 'c' runs on device 'cpu', not 'cuda'", err({ x }, x, { device = 'cuda', mode = 'c' }))
    assert.are.equal("compile: mode 'cuda' runs on device 'cuda', not 'cpu'", err({ x }, x, { device = 'cpu', mode = 'cuda' }))
    assert.are.equal("compile: opts.device must be 'cpu' or 'cuda', not a number", err({ x }, x, { device = 1 }))
    local ok, e = pcall(function() sl.config.device = 'gpu' end)
    assert.is_false(ok)
    assert.is_truthy(tostring(e):find("config.device must be one of cpu|cuda, not 'gpu'", 1, true), tostring(e))
    assert.are.equal('cpu', sl.config.device)
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
    local ptx = sl.cuda.ptx(sl.cuda.draw_source(), 'compute_90')
    assert.is_truthy(ptx:find('.entry sl_draw(', 1, true))
  end)

  it('caches the PTX on disk, keyed by the source (not its comments) and the arch', function()
    if not nvrtc then print('skipped: ' .. tostring(why_not)); return end
    local x = sl.dvector('x')
    local src = sl.cuda.source(sl.compile({ x }, sl.tanh(x) * 3 + 0.125, { mode = 'reference' }))
    local unique = src .. string.format('\nstatic const double sl_nonce = %d.%d;\n', os.time(), os.clock() * 1e6)
    local p1, hit1 = sl.cuda.ptx(unique, 'compute_90')
    local p2, hit2 = sl.cuda.ptx(unique, 'compute_90')
    assert.is_false(hit1)
    assert.is_true(hit2)
    assert.are.equal(p1, p2)
    local renumbered, n = unique:gsub('#(%d+)', '#7%1')   -- node ids, in comments only
    assert.is_true(n > 0)
    local p4, hit4 = sl.cuda.ptx(renumbered, 'compute_90')
    assert.is_true(hit4)
    assert.are.equal(p1, p4)
    local p3, hit3 = sl.cuda.ptx(unique, 'compute_80')
    assert.is_false(hit3)
    assert.is_truthy(p3:find('.target sm_80', 1, true))
  end)

  -- A cubin is an ELF file for EM_CUDA (190); its e_flags name the SM: bits
  -- 8-15 from ELF ABI version 8 on (CUDA 12.8+), bits 0-7 before.
  local function cubin_sm(bin)
    local function u16(at) return bin:byte(at + 1) + 256 * bin:byte(at + 2) end
    assert.are.equal('\127ELF', bin:sub(1, 4))
    assert.are.equal(2, bin:byte(5))          -- ELFCLASS64
    assert.are.equal(190, u16(18))            -- e_machine EM_CUDA
    local flags = u16(48) + 65536 * u16(50)   -- e_flags, after e_entry, e_phoff, e_shoff
    if bin:byte(9) >= 8 then return math.floor(flags / 256) % 256 end
    return flags % 256
  end

  it('compiles to a cubin for the real arch, cached apart from the PTX', function()
    if not nvrtc then print('skipped: ' .. tostring(why_not)); return end
    local x, y = sl.fmatrix('x'), sl.fmatrix('y')
    local src = sl.cuda.source(sl.compile({ x, y }, { sl.exp(x) * y, sl.sum(x, 2) }, { mode = 'reference' }))
    local unique = src .. string.format('\nstatic const double sl_nonce_cubin = %d.%d;\n', os.time(), os.clock() * 1e6)
    local c1, hit1 = sl.cuda.cubin(unique, 'sm_90')
    local c2, hit2 = sl.cuda.cubin(unique, 'sm_90')
    assert.is_false(hit1)
    assert.is_true(hit2)
    assert.are.equal(c1, c2)
    assert.are.equal(90, cubin_sm(c1))
    for name in src:gmatch('__global__ void (sl_k%d+_%a+)') do
      assert.is_truthy(c1:find(name .. '\0', 1, true), name .. ' missing from the cubin')
    end
    local c3, hit3 = sl.cuda.cubin(unique, 'sm_80')
    assert.is_false(hit3)
    assert.are.equal(80, cubin_sm(c3))
    local p, hitp = sl.cuda.ptx(unique, 'compute_90')   -- the same source as PTX: its own entry
    assert.is_false(hitp)
    assert.is_truthy(p:find('.target sm_90', 1, true))
    local tool = io.popen('cuobjdump --version 2>/dev/null'):read('*a')
    if tool:find('cuobjdump', 1, true) then
      local path = os.tmpname()
      local fh = io.open(path, 'wb'); fh:write(c1); fh:close()
      local list = io.popen("cuobjdump --list-elf '" .. path .. "' 2>&1"):read('*a')
      os.remove(path)
      assert.is_truthy(list:find('sm_90', 1, true), list)
    else
      print('cuobjdump not installed: the ELF header is checked alone')
    end
    local ok, e = pcall(sl.cuda.cubin, unique, 'gfx90a')
    assert.is_false(ok)
    assert.is_truthy(tostring(e):find("arch 'gfx90a' is neither", 1, true), tostring(e))
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

-- Host emulation (mode 'cuda_host'): the same kernels run on the CPU, each
-- launch as the device would take it (variant, blocks, threads), but with
-- at most 3 blocks, so grid-stride loops take several rounds.
describe('cuda: host emulation against the reference backend', function()
  local C = require 'spec.support.compare'
  local host
  for _, b in ipairs(sl.backends()) do if b.name == 'cuda_host' then host = b end end
  local function skip()
    if host and host.available then return false end
    print('skipped: host emulation needs a C++ compiler (c++), and none runs')
    return true
  end

  -- The functions of kernels/vmath.h: the C backend's and the device's
  -- values, within a few ulp of libm's, which the reference backend calls.
  local VECTOR_MATH = { exp = 1, exp2 = 1, expm1 = 1, log = 1, log2 = 1, log10 = 1, log1p = 1, tanh = 1,
    sigmoid = 1, softplus = 1, cosh = 1, pow = 1, logaddexp = 1 }
  local RTOL = { float32 = 2e-5, float64 = 1e-12, float16 = 1e-3, bfloat16 = 8e-3 }

  local function three(ins, outs)
    return sl.compile(ins, outs, { mode = 'cuda_host' }), sl.compile(ins, outs, { mode = 'c' }),
           sl.compile(ins, outs, { mode = 'reference' })
  end

  local function variants_of(f, seen)
    for _, v in ipairs(f:info().variants) do seen[(v:gsub(' %d%-d$', ''))] = true end
  end

  it('runs every unary and binary op on every dtype: bit for bit, in every layout', function()
    if skip() then return end
    sl.manual_seed(11)
    local seen = {}
    for _, dt in ipairs(DTYPES) do
      local x = sl.tensor_type(dt, { -1, -1 })('x')
      local y = sl.tensor_type(dt, { -1, -1 })('y')
      local outs, names = graphs.outputs_of(graphs.UNARY, x)
      local bo, bn = graphs.outputs_of(graphs.BINARY, x, y)
      for i = 1, #bo do outs[#outs + 1] = bo[i]; names[#names + 1] = bn[i] end
      local fh, fc, fr = three({ x, y }, outs)
      assert.are.equal('cuda_host', fh:info().backend)
      -- 37 x 29 = 1073 elements: 3 blocks of 256 threads take two rounds,
      -- the last one ending inside a warp
      local a, b = C.values(dt, 37, 29), C.values(dt, 37, 29)
      local cases = {
        { a, b, 'same shape' }, { a, C.values(dt, 1, 29), 'row' }, { a, C.values(dt, 37, 1), 'column' },
        { C.values(dt, 37, 1), C.values(dt, 1, 29), 'outer' }, { C.transposed(a), C.stepped(b), 'views' },
        { C.values(dt, 1, 1), C.values(dt, 1, 1), 'one element' }, { C.values(dt, 0, 3), C.values(dt, 1, 3), 'empty' },
        { a, C.values(dt, 2, 29), 'mismatch' },
      }
      for _, case in ipairs(cases) do
        local what = dt .. ' ' .. case[3]
        C.compare(fh, fc, { case[1], case[2] }, what .. ' (c backend)', function(got, want, w) C.same_bits(got, want, w) end)
        C.compare(fh, fr, { case[1], case[2] }, what, function(got, want, w, i)
          if VECTOR_MATH[names[i]] and RTOL[want:dtype()] then C.close(got, want, w .. ' ' .. names[i], RTOL[want:dtype()])
          else C.same_bits(got, want, w .. ' ' .. names[i]) end
        end)
        variants_of(fh, seen)
      end
    end
    assert.is_true(seen.contiguous)
    assert.is_true(seen.strided)
  end)
  -- Reductions accumulate in float for float32 and 16-bit data (the
  -- reference in double): a sum of m elements rounds about m/256 + 13
  -- times in a row (docs/backend_cuda.md), so it is within
  -- (m/256 + 14) 2^-24 sum|x| of the reference; a product of m factors
  -- rounds m times; the result's own rounding to a 16-bit dtype adds one
  -- ulp of it. float64 data accumulate in double; integers exactly.
  local EPS = { float32 = 2 ^ -24, float16 = 2 ^ -24, bfloat16 = 2 ^ -24, float64 = 2 ^ -53 }
  local OUT_ULP = { float16 = 2 ^ -10, bfloat16 = 2 ^ -7 }

  it('runs the fused reductions within the accumulation bound, in every layout', function()
    if skip() then return end
    sl.manual_seed(12)
    local seen = {}
    for _, dt in ipairs({ 'float32', 'float64', 'float16', 'bfloat16', 'int32', 'int64', 'uint8', 'bool' }) do
      local x = sl.tensor_type(dt, { -1, -1 })('x')
      local y = sl.tensor_type(dt, { 1, -1 })('y')
      local OPS = { 'sum', 'prod', 'mean', 'max', 'min' }
      local AXES = { { 2 }, { 1, true }, {} }
      local outs, ops, axes = {}, {}, {}
      local sums = {}      -- per output: sum |x| over the same elements, in float64
      local ax = sl.abs(sl.maximum(x, y):cast('float64'))
      for _, op in ipairs(OPS) do
        for _, a in ipairs(AXES) do
          local ok, v = pcall(sl[op], sl.maximum(x, y), unpack(a))
          if ok then
            outs[#outs + 1], ops[#ops + 1], axes[#axes + 1] = v, op, a
            sums[#sums + 1] = sl.sum(ax, unpack(a))
          end
        end
      end
      local fh = sl.compile({ x, y }, outs, { mode = 'cuda_host' })
      local fr = sl.compile({ x, y }, outs, { mode = 'reference' })
      local fs = sl.compile({ x, y }, sums, { mode = 'reference' })
      -- floats near 1 (products stay finite), integers of both signs
      local function vals(...)
        if EPS[dt] then return (sl.rand(...) + 0.5):cast(dt) end
        return C.values(dt, ...)
      end
      -- 37 x 300: rows of 300 (threads fold two each) and columns of 37 (a
      -- block of two warps), 37 and 300 results over 3 blocks
      local a = vals(37, 300)
      local cases = { { a, vals(1, 300), 'rows' }, { C.transposed(a), C.stepped(vals(1, 300)), 'views' },
        { vals(300, 5), vals(1, 5), 'tall' }, { vals(1, 1), vals(1, 1), 'one element' },
        { vals(3, 0), vals(1, 0), 'empty' } }
      for _, case in ipairs(cases) do
        local what = dt .. ' ' .. case[3]
        local sabs = { fs(case[1], case[2]) }
        local shape = case[1]:shape()
        C.compare(fh, fr, { case[1], case[2] }, what, function(got, want, w, i)
          w = w .. ' ' .. ops[i]
          local eps = EPS[dt]
          if ops[i] == 'mean' and not eps then return C.close(got, want, w, 1e-15) end   -- in double
          if not eps or ops[i] == 'max' or ops[i] == 'min' then return C.same_bits(got, want, w) end
          local m = #axes[i] == 0 and case[1]:numel() or shape[axes[i][1]]
          local q = want:cast('float64'):contiguous():data()
          local sa = sabs[i]:cast('float64'):contiguous():data()
          local ulp = OUT_ULP[dt] or 0
          C.within(got, want, w, function(e)
            local b
            if ops[i] == 'prod' then b = (m + 1) * eps * math.abs(q[e])
            else b = (m / 256 + 14) * eps * sa[e] / (ops[i] == 'mean' and m or 1) end
            return b * 1.01 + ulp * math.abs(q[e]) + 1e-300
          end)
        end)
        variants_of(fh, seen)
      end
    end
    assert.is_true(seen['reduce (a block per result)'])
  end)
  it('agrees with the reference on 40 random graphs of ops, shapes, layouts and dtypes', function()
    if skip() then return end
    sl.manual_seed(13)
    local gen = graphs.generator(4242)
    local rnd, seen = gen.rnd, {}
    for batch, dtype in ipairs({ 'float64', 'float32', 'int64', 'int32' }) do
      -- ten graphs per function: fewer C++ compiles
      local ins, shapes, outs = {}, {}, {}
      for _ = 1, 10 do
        local gi, gs, go = gen.graph(dtype)
        for i = 1, #gi do ins[#ins + 1] = gi[i]; shapes[#shapes + 1] = gs[i] end
        for i = 1, #go do outs[#outs + 1] = go[i] end
      end
      local fh = sl.compile(ins, outs, { mode = 'cuda_host' })
      local fr = sl.compile(ins, outs, { mode = 'reference' })
      local r, c = rnd(40) + 3, rnd(300) + 20
      for trial = 1, 2 do
        local args = {}
        for i = 1, #ins do
          local sh = graphs.runtime_shape(shapes[i], r, c)
          local v = #sh == 0 and C.values(dtype, 1):reshape() or C.values(dtype, unpack(sh))
          if trial == 2 then v = rnd(2) == 1 and C.transposed(v) or C.stepped(v) end
          args[i] = v
        end
        C.compare(fh, fr, args, string.format('batch %d (%s %dx%d, trial %d)', batch, dtype, r, c, trial),
                  -- chains of ops carry a last-bit difference of the vector math
                  -- along (codegen_spec.lua allows 1000 times as much)
                  function(got, want, w) C.close(got, want, w, (RTOL[dtype] or 0) * 10) end)
        variants_of(fh, seen)
      end
    end
    assert.is_true(seen.contiguous and seen.strided and seen['reduce (a block per result)'])
  end)
  -- Philox on the device (kernels/cuda/random.h) shares kernels/philox.h
  -- with the CPU: the same key and offset give the same bits.
  it('draws the numbers the CPU draws for the same key and offset, bit for bit', function()
    if skip() then return end
    local seed = 0x12345678 * 4096 + 77   -- both words of the key in use
    for _, dt in ipairs({ 'float32', 'float64' }) do
      for _, normal in ipairs({ false, true }) do
        -- one value, one block, an odd count over several grid-stride rounds
        for _, n in ipairs({ 1, 2, 3075 }) do
          for _, offset in ipairs({ 0, 1000 }) do
            sl.manual_seed(seed)
            if offset > 0 then sl.rand(2 * offset) end   -- the CPU's stream moves on by offset blocks
            local want = normal and sl.randn(n, dt) or sl.rand(n, dt)
            local got = sl.cuda.host_draw(sl.zeros(n):cast(dt), normal, seed, offset)
            C.same_bits(got, want, string.format('%s %s n=%d offset %d', dt, normal and 'normal' or 'uniform', n, offset))
          end
        end
      end
    end
    -- another seed, another stream
    sl.manual_seed(seed + 1)
    assert.is_false(C.same_bits(sl.cuda.host_draw(sl.zeros(8), false, seed, 0), sl.rand(8), 'other seed', true))
    local ok, e = pcall(sl.cuda.host_draw, sl.zeros(4, 'int32'), false, 1, 0)
    assert.is_false(ok)
    assert.is_truthy(tostring(e):find('float32 or float64, not int32', 1, true), tostring(e))
    ok, e = pcall(sl.cuda.host_draw, sl.zeros(4, 4):transpose(1, 2), false, 1, 0)
    assert.is_false(ok)
    assert.is_truthy(tostring(e):find('contiguous', 1, true), tostring(e))
  end)
end)
