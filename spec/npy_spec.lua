-- NumPy .npy files: sl.save / sl.load round trips, files written and read by
-- NumPy itself (when /usr/bin/python3 has numpy), and clear errors on bad input.
local sl = require 'symlua'

local PY = '/usr/bin/python3'   -- explicitly: another python3 without numpy may come first on PATH
local have_numpy = os.execute(PY .. ' -c "import numpy" 2>/dev/null')
have_numpy = have_numpy == true or have_numpy == 0

local function shape(t) return table.concat(t:shape(), 'x') end

-- Equal as stored values: NaN equals NaN, and -0.0 differs from 0.0.
local function same_value(a, b)
  if type(a) ~= 'number' or type(b) ~= 'number' then return a == b end
  if a ~= a then return b ~= b end
  if a == 0 and b == 0 then return 1 / a == 1 / b end
  return a == b
end

local function same_values(a, b)
  if type(a) ~= 'table' or type(b) ~= 'table' then return same_value(a, b) end
  if #a ~= #b then return false end
  for i = 1, #a do
    if not same_values(a[i], b[i]) then return false end
  end
  return true
end

local function assert_same(expected, got)
  assert.is_true(same_values(expected, got),
    'values differ:\n' .. require('pl.pretty').write(expected) .. '\nvs\n' ..
      require('pl.pretty').write(got))
end

local function read_all(path)
  local f = assert(io.open(path, 'rb'))
  local s = f:read('*a')
  f:close()
  return s
end

local function write_all(path, s)
  local f = assert(io.open(path, 'wb'))
  f:write(s)
  f:close()
end

local function exists(path)
  local f = io.open(path, 'rb')
  if f then f:close() return true end
  return false
end

-- Names in a directory, sorted, one line each.
local function listing(dir)
  local p = io.popen('ls -A "' .. dir .. '"')
  local s = p:read('*a')
  p:close()
  return s
end

local function fails_with(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, 'expected an error matching ' .. pattern)
  assert.is_truthy(tostring(err):find(pattern, 1, true),
    'error "' .. tostring(err) .. '" does not mention "' .. pattern .. '"')
  return err
end

-- A .npy file from a header text and raw data, as a byte string.
local function npy_bytes(header, data, major)
  major = major or 1
  header = header .. '\n'
  local n, len = #header, nil
  if major == 1 then
    len = string.char(n % 256, math.floor(n / 256))
  else
    len = string.char(n % 256, math.floor(n / 256) % 256, math.floor(n / 65536) % 256, 0)
  end
  return '\147NUMPY' .. string.char(major, 0) .. len .. header .. (data or '')
end

local function le32(v)
  if v < 0 then v = v + 2 ^ 32 end
  return string.char(v % 256, math.floor(v / 2 ^ 8) % 256, math.floor(v / 2 ^ 16) % 256,
    math.floor(v / 2 ^ 24) % 256)
end

local dir
setup(function()
  local p = io.popen('mktemp -d')
  dir = p:read('*l')
  p:close()
end)
teardown(function()
  if dir and dir:match('^/tmp/') then os.execute('rm -rf "' .. dir .. '"') end
end)

local function path(name) return dir .. '/' .. name end

local function roundtrip(t, name)
  local p = path(name or 'rt.npy')
  sl.save(p, t)
  local u = sl.load(p)
  assert.are.equal(t:dtype(), u:dtype())
  assert.are.equal(shape(t), shape(u))
  if t:dtype():match('^complex') then   -- Lua numbers are real: compare the parts
    assert_same(t:real():totable(), u:real():totable())
    assert_same(t:imag():totable(), u:imag():totable())
  else
    assert_same(t:totable(), u:totable())
  end
  return u, p
end

describe('npy round trip', function()
  it('keeps every dtype, shape and value', function()
    roundtrip(sl.tensor({ { true, false, true }, { false, false, true } }, 'bool'))
    roundtrip(sl.tensor({ 0, 1, 127, 128, 255 }, 'uint8'))
    roundtrip(sl.tensor({ { -2147483648, 2147483647 }, { 0, -1 } }, 'int32'))
    roundtrip(sl.tensor({ -2 ^ 63, -2 ^ 53, 2 ^ 53, 123456789012345, -1 }, 'int64'))
    roundtrip(sl.tensor({ 1.5, 0.25, -3, 2 ^ -149, 3.4028234663852886e38 }, 'float32'))
    roundtrip(sl.tensor({ 0.1, 1 / 3, 1e308, 5e-324, -2.5 }, 'float64'))
    roundtrip(sl.arange(24):view(2, 3, 4))
    roundtrip(sl.rand(3, 5, 'float32'))
    roundtrip(sl.randn(4, 4))
  end)

  it('keeps inf, -inf, nan and -0.0 exactly', function()
    for _, dt in ipairs({ 'float32', 'float64' }) do
      local u = roundtrip(sl.tensor({ 1 / 0, -1 / 0, 0 / 0, -0.0, 0.0 }, dt))
      local v = u:totable()
      assert.are.equal(math.huge, v[1])
      assert.are.equal(-math.huge, v[2])
      assert.is_true(v[3] ~= v[3])
      assert.are.equal(-math.huge, 1 / v[4])
      assert.are.equal(math.huge, 1 / v[5])
    end
  end)

  it('handles 0-d and empty tensors', function()
    for _, dt in ipairs(sl.dtypes) do
      if dt == 'bfloat16' then goto next end   -- NumPy has no bfloat16 (dtype_half_spec)
      local u = roundtrip(sl.tensor(1, dt))
      assert.are.equal(0, u:dim())
      u = roundtrip(sl.zeros(0, dt))
      assert.are.equal('0', shape(u))
      u = roundtrip(sl.zeros(2, 0, dt))
      assert.are.equal('2x0', shape(u))
      ::next::
    end
    assert.are.equal(-7.25, roundtrip(sl.tensor(-7.25)):item())
  end)

  it('writes non-contiguous views in C order', function()
    local m = sl.arange(12, 'int32'):view(3, 4)
    local u = roundtrip(m:transpose())
    assert.are.same({ { 0, 4, 8 }, { 1, 5, 9 }, { 2, 6, 10 }, { 3, 7, 11 } }, u:totable())
    u = roundtrip(sl.arange(10, 'float32')[{ { 1, 5, 2 } }])
    assert.are.same({ 0, 2, 4 }, u:totable())
    u = roundtrip(sl.arange(20):view(4, 5)[{ { 1, 4, 2 }, { 2, 5, 2 } }])
    assert.are.same({ { 1, 3 }, { 11, 13 } }, u:totable())
    u = roundtrip(m[2])
    assert.are.same({ 4, 5, 6, 7 }, u:totable())
    u = roundtrip(sl.tensor({ 1, 2 }, 'uint8'):expand(3, 2))
    assert.are.same({ { 1, 2 }, { 1, 2 }, { 1, 2 } }, u:totable())
  end)

  it('writes version 1.0 with a 64-byte aligned, newline-terminated header', function()
    for _, t in ipairs({ sl.tensor(1), sl.zeros(3), sl.zeros(2, 3, 4, 'uint8'),
                         sl.zeros(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1) }) do
      local p = path('h.npy')
      sl.save(p, t)
      local s = read_all(p)
      assert.are.equal('\147NUMPY\1\0', s:sub(1, 8))
      local hlen = s:byte(9) + 256 * s:byte(10)
      assert.are.equal(0, (10 + hlen) % 64)
      assert.are.equal('\n', s:sub(10 + hlen, 10 + hlen))
      local header = s:sub(11, 10 + hlen)
      local descr = ({ uint8 = '|u1', int64 = '<i8', float64 = '<f8' })[t:dtype()]
      assert.is_truthy(header:find("'descr': '" .. descr .. "'", 1, true), header)
      assert.is_truthy(header:find("'fortran_order': False", 1, true))
    end
    sl.save(path('h.npy'), sl.zeros(5))
    assert.is_truthy(read_all(path('h.npy')):find("'shape': (5,)", 1, true))
    sl.save(path('h.npy'), sl.tensor(2))
    assert.is_truthy(read_all(path('h.npy')):find("'shape': ()", 1, true))
  end)

  it('overwrites an existing file and leaves no temporary files', function()
    local before = listing(dir)
    sl.save(path('over.npy'), sl.zeros(100))
    sl.save(path('over.npy'), sl.tensor({ 1, 2 }, 'int32'))
    assert.are.same({ 1, 2 }, sl.load(path('over.npy')):totable())
    local names = listing(dir)
    assert.is_falsy(names:find('tmp', 1, true))
    assert.are.equal(before:gsub('over.npy\n', '') , names:gsub('over.npy\n', ''))
  end)
end)

describe('npy headers written by hand', function()
  local function load_text(header, data, major)
    write_all(path('hand.npy'), npy_bytes(header, data, major))
    return sl.load(path('hand.npy'))
  end
  local ints = le32(1) .. le32(-2) .. le32(3) .. le32(4) .. le32(5) .. le32(-6)

  it('accepts any key order, quotes, spacing and trailing commas', function()
    local want = { { 1, -2, 3 }, { 4, 5, -6 } }
    assert.are.same(want, load_text("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", ints):totable())
    assert.are.same(want, load_text('{"shape":(2,3),"descr":"<i4","fortran_order":False}', ints):totable())
    assert.are.same(want, load_text("  {  'fortran_order' : False ,\n 'shape' : ( 2 , 3 , ) , 'descr' : '<i4' , }   ", ints):totable())
    assert.are.same(want, load_text("{'descr': '<i4', 'fortran_order': False, 'shape': (2L, 3L), }", ints):totable())
    assert.are.same({ 1, -2, 3 }, load_text("{'descr': '<i4', 'fortran_order': False, 'shape': (3,)}", ints):totable())
    assert.are.same(want, load_text("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", ints, 2):totable())
    assert.are.same(want, load_text("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", ints, 3):totable())
  end)

  it('reads Fortran order, big-endian data and extra bools', function()
    -- column-major (2, 3): columns (1, -2), (3, 4), (5, -6)
    assert.are.same({ { 1, 3, 5 }, { -2, 4, -6 } },
      load_text("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", ints):totable())
    assert.are.same({ 1, 256, -1 },
      load_text("{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }",
        '\0\0\0\1\0\0\1\0\255\255\255\255'):totable())
    assert.are.same({ 7, 9 },
      load_text("{'descr': '>u1', 'fortran_order': False, 'shape': (2,), }", '\7\9'):totable())
    local b = load_text("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", '\0\2\255')
    assert.are.same({ false, true, true }, b:totable())
    assert.are.same({ 0, 1, 1 }, b:cast('uint8'):totable())
  end)
end)

describe('npy errors', function()
  local good
  before_each(function()
    good = path('good.npy')
    sl.save(good, sl.tensor({ { 1, 2, 3 }, { 4, 5, 6 } }, 'float64'))
  end)

  local function bad(name, bytes)
    write_all(path(name), bytes)
    return function() return sl.load(path(name)) end
  end

  it('missing file and non-npy files', function()
    local err = fails_with('No such file or directory', sl.load, path('missing.npy'))
    assert.is_truthy(err:find('missing.npy', 1, true))
    fails_with('not a NumPy .npy file', bad('text.npy', 'hello, world\n'))
    fails_with('not a NumPy .npy file', bad('empty.npy', ''))
    fails_with('it is a directory, not a regular file', sl.load, dir)
  end)

  it('applies one size rule to empty shapes: nonzero sizes multiply to at most 2^60 - 1', function()
    local function hdr(name, shape)
      return bad(name, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': " .. shape .. ", }", ''))
    end
    -- 2^62 = 4611686018427387904, 2^30 = 1073741824
    local rule = 'has more than the 2^60 - 1 elements a tensor can hold (counting its nonzero sizes only)'
    fails_with('(4611686018427387904, 0) ' .. rule, hdr('e1.npy', '(4611686018427387904, 0)'))
    fails_with('(0, 4611686018427387904, 4611686018427387904) ' .. rule,
               hdr('e2.npy', '(0, 4611686018427387904, 4611686018427387904)'))
    fails_with('elements a tensor can hold', hdr('e3.npy', '(0, 1073741824, 1073741824)'))
    local t = hdr('e4.npy', '(0, 1073741824, 1073741823)')()
    assert.are.same({ 0, 1073741824, 1073741823 }, t:shape())
    assert.are.equal(0, t:numel())
  end)

  it('refuses a NUL byte in a header string or a path', function()
    fails_with('a NUL byte inside a string at offset 14',
      bad('nul.npy', npy_bytes("{'descr': '<f8\0', 'fortran_order': False, 'shape': (1,), }", ('\0'):rep(8))))
    fails_with('load: the path has a NUL byte at byte 9 of 18', sl.load, 'abcdefgh' .. '\0' .. '123456789')
    local target = path('nul\0.npy')
    fails_with('save: the path has a NUL byte', sl.save, target, sl.zeros(1))
    assert.is_false(exists(path('nul')))
  end)

  it('keeps the reason of an error about a very long path', function()
    local err = fails_with('File name too long', sl.load, string.rep('a', 5000))
    assert.is_truthy(#err < 1024, #err)
    assert.is_truthy(err:find("cannot load 'aaaa", 1, true), err)
    assert.is_truthy(err:find('\226\128\166', 1, true), err)   -- the ellipsis of the clipped path
    fails_with('File name too long', sl.save, string.rep('b', 5000), sl.zeros(1))
  end)

  it('truncated header and truncated data', function()
    local s = read_all(good)
    fails_with('header truncated', bad('th.npy', s:sub(1, 30)))
    fails_with('header truncated', bad('tp.npy', s:sub(1, 9)))
    local err = fails_with('data truncated', bad('td.npy', s:sub(1, #s - 8)))
    assert.is_truthy(err:find('needs 48 bytes, the file has 40', 1, true), err)
    assert.is_truthy(err:find('(2, 3)', 1, true), err)
  end)

  it('unsupported versions and absurd header lengths', function()
    fails_with('unsupported .npy format version 4.0', bad('v4.npy', '\147NUMPY\4\0\10\0{}'))
    fails_with('unsupported .npy format version 1.5', bad('v15.npy', '\147NUMPY\1\5\10\0{}'))
    fails_with('is absurd', bad('abs.npy', '\147NUMPY\2\0\240\255\255\255{}'))
  end)

  it('unsupported dtypes name themselves and list the supported ones', function()
    local err = fails_with("unsupported dtype '<c32'",
      bad('c32.npy', npy_bytes("{'descr': '<c32', 'fortran_order': False, 'shape': (1,), }", ('\0'):rep(32))))
    assert.is_truthy(err:find("float64 '<f8'", 1, true), err)
    assert.is_truthy(err:find("bool '|b1'", 1, true), err)
    fails_with("unsupported dtype '<U3'",
      bad('u3.npy', npy_bytes("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", ('\0'):rep(12))))
    fails_with("unsupported dtype '|O'",
      bad('obj.npy', npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", ('\0'):rep(8))))
    fails_with("unsupported dtype '<f16'",   -- NumPy's longdouble
      bad('f16.npy', npy_bytes("{'descr': '<f16', 'fortran_order': False, 'shape': (1,), }", ('\0'):rep(16))))
    fails_with('structured arrays',
      bad('rec.npy', npy_bytes("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }", '\0\0\0\0')))
  end)

  it('corrupt shapes and malformed dicts', function()
    local function hdr(name, h) return bad(name, npy_bytes(h, ('\0'):rep(64))) end
    fails_with('negative size -3',
      hdr('neg.npy', "{'descr': '<i4', 'fortran_order': False, 'shape': (2, -3), }"))
    fails_with('more than 16 dimensions',
      hdr('dims.npy', "{'descr': '|u1', 'fortran_order': False, 'shape': (" .. ('1, '):rep(17) .. "), }"))
    fails_with('overflows 64 bits',
      hdr('big.npy', "{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999,), }"))
    fails_with('needs 512000000000000000 bytes, the file has 64',
      hdr('huge.npy', "{'descr': '<f8', 'fortran_order': False, 'shape': (4000000000, 4000000, 4), }"))
    fails_with('elements a tensor can hold (counting its nonzero sizes only)',
      hdr('huger.npy', "{'descr': '<f8', 'fortran_order': False, 'shape': (4000000000, 4000000000), }"))
    fails_with("expected an integer in 'shape'",
      hdr('x.npy', "{'descr': '<i4', 'fortran_order': False, 'shape': (2, x), }"))
    fails_with("expected a tuple for 'shape'",
      hdr('nt.npy', "{'descr': '<i4', 'fortran_order': False, 'shape': 3, }"))
    fails_with('True or False',
      hdr('fo.npy', "{'descr': '<i4', 'fortran_order': maybe, 'shape': (1,), }"))
    fails_with("missing key 'shape'", hdr('nk.npy', "{'descr': '<i4', 'fortran_order': False}"))
    fails_with("unexpected key 'colour'",
      hdr('uk.npy', "{'descr': '<i4', 'colour': 'red', 'fortran_order': False, 'shape': (1,)}"))
    fails_with("key 'descr' repeated",
      hdr('rk.npy', "{'descr': '<i4', 'descr': '<i4', 'fortran_order': False, 'shape': (1,)}"))
    fails_with('malformed .npy header', hdr('nb.npy', "'descr': '<i4'"))
    fails_with('malformed .npy header', hdr('un.npy', "{'descr': '<i4, 'fortran_order': False}"))
    fails_with('malformed .npy header',
      hdr('tail.npy', "{'descr': '<i4', 'fortran_order': False, 'shape': (1,)} junk"))
  end)

  it('a failed save raises a clear error and leaves no file', function()
    local target = path('no/such/dir/out.npy')
    local err = fails_with('No such file or directory', sl.save, target, sl.zeros(3))
    assert.is_truthy(err:find("cannot save '" .. target .. "'", 1, true), err)
    assert.is_false(exists(target))
    -- the target is a directory: the rename fails, the temporary file goes away
    os.execute('mkdir "' .. path('adir') .. '"')
    local before = listing(dir)
    fails_with('Is a directory', sl.save, path('adir'), sl.zeros(3))
    assert.are.equal(before, listing(dir))
    assert.are.equal('', listing(path('adir')))
  end)
end)

describe('npy with NumPy', function()
  local function python(code)
    local script = path('check.py')
    write_all(script, 'import numpy as np, sys\nD = ' .. string.format('%q', dir) .. '\n' .. code)
    local out = io.popen(PY .. ' "' .. script .. '" 2>&1; echo "rc=$?"')
    local text = out:read('*a')
    out:close()
    assert.is_truthy(text:find('rc=0\n', 1, true), 'python failed:\n' .. text)
    return text
  end

  it('reads files that NumPy writes', function()
    if not have_numpy then pending('numpy not installed') return end
    python([==[
def save(name, a): np.save(D + '/' + name, a)
save('b1', np.array([[True, False, True], [False, True, True]]))
save('u1', np.array([0, 1, 128, 255], np.uint8))
save('i4', np.array([[-2**31, 2**31 - 1], [0, -1]], np.int32))
save('i8', np.array([-2**63, -2**53, 2**53, 123456789012345], np.int64))
save('f4', np.array([1.5, -0.0, np.inf, -np.inf, np.nan, 2.0**-149, 3.4028234663852886e38], np.float32))
save('f8', np.array([0.1, -0.0, np.inf, -np.inf, np.nan, 1e308, 5e-324]))
save('fort3', np.asfortranarray(np.arange(24.0).reshape(2, 3, 4)))
save('fort2', np.asfortranarray(np.array([[1, 2, 3], [4, 5, 6]], np.int32)))
save('fortb', np.asfortranarray(np.array([[True, False], [False, False]])))
save('bef8', (np.arange(6, dtype='>f8') * 1.5 - 2).reshape(2, 3))
save('bei4', np.array([[1, -2], [300000, -70000]], dtype='>i4'))
save('bei8', np.array([2**40, -5], dtype='>i8'))
save('bef4', np.array([0.5, -0.0, np.inf], dtype='>f4'))
save('zero_d', np.array(7.25))
save('empty', np.zeros((0,)))
save('empty2', np.zeros((2, 0), np.int32))
save('three', np.arange(24, dtype=np.int64).reshape(2, 3, 4))
for v in [(2, 0), (3, 0)]:
    with open(D + '/v%d.npy' % v[0], 'wb') as f:
        np.lib.format.write_array(f, np.array([[1.25, -2], [3, 4]], np.float32), version=v)
]==])
    local function load(name) return sl.load(path(name .. '.npy')) end
    local function check(name, dtype, shp, values)
      local t = load(name)
      assert.are.equal(dtype, t:dtype(), name)
      assert.are.equal(shp, shape(t), name)
      assert_same(values, t:totable())
    end
    local inf, nan = 1 / 0, 0 / 0
    check('b1', 'bool', '2x3', { { true, false, true }, { false, true, true } })
    check('u1', 'uint8', '4', { 0, 1, 128, 255 })
    check('i4', 'int32', '2x2', { { -2 ^ 31, 2 ^ 31 - 1 }, { 0, -1 } })
    check('i8', 'int64', '4', { -2 ^ 63, -2 ^ 53, 2 ^ 53, 123456789012345 })
    check('f4', 'float32', '7', { 1.5, -0.0, inf, -inf, nan, 2 ^ -149, 3.4028234663852886e38 })
    check('f8', 'float64', '7', { 0.1, -0.0, inf, -inf, nan, 1e308, 5e-324 })
    check('fort3', 'float64', '2x3x4', sl.arange(24, 'float64'):view(2, 3, 4):totable())
    check('fort2', 'int32', '2x3', { { 1, 2, 3 }, { 4, 5, 6 } })
    check('fortb', 'bool', '2x2', { { true, false }, { false, false } })
    check('bef8', 'float64', '2x3', { { -2, -0.5, 1 }, { 2.5, 4, 5.5 } })
    check('bei4', 'int32', '2x2', { { 1, -2 }, { 300000, -70000 } })
    check('bei8', 'int64', '2', { 2 ^ 40, -5 })
    check('bef4', 'float32', '3', { 0.5, -0.0, inf })
    check('empty', 'float64', '0', {})
    check('empty2', 'int32', '2x0', { {}, {} })
    check('three', 'int64', '2x3x4', sl.arange(24):view(2, 3, 4):totable())
    check('v2', 'float32', '2x2', { { 1.25, -2 }, { 3, 4 } })
    check('v3', 'float32', '2x2', { { 1.25, -2 }, { 3, 4 } })
    local z = load('zero_d')
    assert.are.equal(0, z:dim())
    assert.are.equal(7.25, z:item())
  end)

  it('writes files that NumPy reads', function()
    if not have_numpy then pending('numpy not installed') return end
    local function save(name, t) sl.save(path(name .. '.npy'), t) end
    save('b1', sl.tensor({ { true, false, true }, { false, true, true } }))
    save('u1', sl.tensor({ 0, 1, 128, 255 }, 'uint8'))
    save('i4', sl.tensor({ { -2 ^ 31, 2 ^ 31 - 1 }, { 0, -1 } }, 'int32'))
    save('i8', sl.tensor({ -2 ^ 63, -2 ^ 53, 2 ^ 53, 123456789012345 }, 'int64'))
    save('f4', sl.tensor({ 1.5, -0.0, 1 / 0, -1 / 0, 0 / 0, 2 ^ -149 }, 'float32'))
    save('f8', sl.tensor({ 0.1, -0.0, 1 / 0, -1 / 0, 0 / 0, 1e308, 5e-324 }, 'float64'))
    save('zero_d', sl.tensor(7.25))
    save('empty', sl.zeros(0))
    save('empty2', sl.zeros(2, 0, 'int32'))
    save('three', sl.arange(24):view(2, 3, 4))
    save('trans', sl.arange(12, 'int32'):view(3, 4):transpose())
    save('step', sl.arange(10, 'float32')[{ { 1, 5, 2 } }])
    local text = python([==[
def check(name, want):
    a = np.load(D + '/' + name + '.npy')
    assert a.dtype == want.dtype, (name, a.dtype, want.dtype)
    assert a.shape == want.shape, (name, a.shape, want.shape)
    assert a.flags.c_contiguous, name
    ok = np.array_equal(a, want, equal_nan=(a.dtype.kind == 'f'))
    if a.dtype.kind == 'f':   # -0.0 stays negative; NaN's sign is not compared
        ok = ok and np.array_equal(np.signbit(a) & ~np.isnan(a), np.signbit(want) & ~np.isnan(want))
    assert ok, (name, a, want)
    with open(D + '/' + name + '.npy', 'rb') as f:
        major, minor = np.lib.format.read_magic(f)
        assert (major, minor) == (1, 0), name
        np.lib.format.read_array_header_1_0(f)
        assert f.tell() % 64 == 0, (name, f.tell())
check('b1', np.array([[True, False, True], [False, True, True]]))
check('u1', np.array([0, 1, 128, 255], np.uint8))
check('i4', np.array([[-2**31, 2**31 - 1], [0, -1]], np.int32))
check('i8', np.array([-2**63, -2**53, 2**53, 123456789012345], np.int64))
check('f4', np.array([1.5, -0.0, np.inf, -np.inf, np.nan, 2.0**-149], np.float32))
check('f8', np.array([0.1, -0.0, np.inf, -np.inf, np.nan, 1e308, 5e-324]))
check('zero_d', np.array(7.25))
check('empty', np.zeros((0,)))
check('empty2', np.zeros((2, 0), np.int32))
check('three', np.arange(24, dtype=np.int64).reshape(2, 3, 4))
check('trans', np.arange(12, dtype=np.int32).reshape(3, 4).T)
check('step', np.array([0, 2, 4], np.float32))
print('numpy agrees')
]==])
    assert.is_truthy(text:find('numpy agrees', 1, true), text)
  end)
end)
