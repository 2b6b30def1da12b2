-- sl.data: IDX files (plain and gzipped) and shuffled minibatches.
local sl = require 'symlua'
local files = require 'spec.support.files'

local check = require 'spec.support.check'
local err = check.err

-- An IDX file: magic, sizes big-endian, values as given (already encoded).
local function idx_bytes(code, shape, payload)
  local parts = { string.char(0, 0, code, #shape) }
  for _, n in ipairs(shape) do
    parts[#parts + 1] = string.char(math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256,
                                    math.floor(n / 256) % 256, n % 256)
  end
  parts[#parts + 1] = payload
  return table.concat(parts)
end

describe('sl.data.idx', function()
  it('reads uint8 images and big-endian int32 and float64 values', function()
    local path = files.write(os.tmpname(), idx_bytes(0x08, { 2, 3 }, string.char(0, 1, 2, 253, 254, 255)))
    local t = sl.data.idx(path)
    assert.are.equal('uint8', t:dtype())
    assert.are.same({ { 0, 1, 2 }, { 253, 254, 255 } }, t:totable())
    files.write(path, idx_bytes(0x0C, { 2 }, string.char(0, 0, 1, 2, 255, 255, 255, 254)))
    assert.are.same({ 258, -2 }, sl.data.idx(path):totable())
    -- 1.5 and -2 as big-endian IEEE doubles
    files.write(path, idx_bytes(0x0E, { 2 }, string.char(0x3F, 0xF8, 0, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0)))
    local d = sl.data.idx(path)
    assert.are.equal('float64', d:dtype())
    assert.are.same({ 1.5, -2 }, d:totable())
    os.remove(path)
  end)

  it('widens int8 and int16 to int32 and reads big-endian float32', function()
    local path = files.write(os.tmpname(), idx_bytes(0x09, { 3 }, string.char(255, 5, 128)))
    assert.are.same({ -1, 5, -128 }, sl.data.idx(path):totable())
    files.write(path, idx_bytes(0x0B, { 2 }, string.char(255, 254, 1, 44)))
    local w = sl.data.idx(path)
    assert.are.equal('int32', w:dtype())
    assert.are.same({ -2, 300 }, w:totable())
    -- -0.375 as a big-endian IEEE single
    files.write(path, idx_bytes(0x0D, { 1, 1 }, string.char(0xBE, 0xC0, 0, 0)))
    assert.are.same({ { -0.375 } }, sl.data.idx(path):totable())
    os.remove(path)
  end)

  -- gzip made by Python's gzip module (stored blocks: level 0), not by the
  -- reader under test; the last 8 bytes are the CRC-32 and the length.
  local function gzipped(data, level)
    local path = files.write(os.tmpname(), data)
    assert(os.execute(string.format("/usr/bin/python3 -c \"import gzip, sys; "
      .. "d = open(sys.argv[1], 'rb').read(); "
      .. "open(sys.argv[1], 'wb').write(gzip.compress(d, compresslevel=%d, mtime=0))\" '%s'",
      level or 0, path)))
    local gz = files.read(path)
    os.remove(path)
    return gz
  end
  local function flip(s, at) return s:sub(1, at - 1) .. string.char(255 - s:byte(at)) .. s:sub(at + 1) end

  it('reads gzipped files, several gzip members in a row as gzip -dc does', function()
    local path = files.write(os.tmpname(), idx_bytes(0x08, { 4 }, string.char(7, 8, 9, 10)))
    os.execute("gzip -f '" .. path .. "'")
    assert.are.same({ 7, 8, 9, 10 }, sl.data.idx(path .. '.gz'):totable())
    os.remove(path .. '.gz')
    local two = idx_bytes(0x0C, { 2 }, '')
    files.write(path, gzipped(two .. string.char(0, 0)) .. gzipped(string.char(1, 2, 0, 0, 0, 3), 9))
    assert.are.same({ 258, 3 }, sl.data.idx(path):totable())
    os.remove(path)
  end)

  it('refuses gzip data whose CRC or length does not match, naming the file', function()
    local gz = gzipped(idx_bytes(0x08, { 4 }, string.char(7, 8, 9, 10)))
    local path = os.tmpname()
    files.write(path, flip(gz, #gz - 8))   -- the last data byte
    local e = err(sl.data.idx, path)
    assert.matches("data.idx: '" .. path .. "' is corrupt gzip data %(incorrect data check%)", e)
    files.write(path, flip(gz, #gz - 7))   -- the CRC
    assert.matches('incorrect data check', err(sl.data.idx, path))
    files.write(path, flip(gz, #gz - 3))   -- the length
    assert.matches("'" .. path .. "' is corrupt gzip data %(incorrect length check%)", err(sl.data.idx, path))
    files.write(path, gz:sub(1, #gz - 4))
    assert.matches("'" .. path .. "' is truncated: the gzip stream ends early", err(sl.data.idx, path))
    files.write(path, gz .. 'junk')
    assert.matches('is corrupt gzip data %(incorrect header check%)', err(sl.data.idx, path))
    os.remove(path)
  end)

  it('refuses data past the declared values, plain or gzipped', function()
    local path = files.write(os.tmpname(), idx_bytes(0x08, { 2 }, 'abcd'))
    assert.matches("'" .. path .. "' holds 2 bytes more than the 2 values its header declares",
                   err(sl.data.idx, path))
    files.write(path, gzipped(idx_bytes(0x0C, { 1 }, 'abcdefg')))
    assert.matches('holds 3 bytes more than the 1 values', err(sl.data.idx, path))
    os.remove(path)
  end)

  it('reads a decompression bomb only as far as its header declares, in little memory', function()
    -- 4 declared values, then 300 MB of zeros in about 300 kB of gzip
    local path = os.tmpname()
    assert(os.execute(string.format("{ printf '\\0\\0\\10\\1\\0\\0\\0\\4'; head -c 300000000 /dev/zero; } "
                                    .. "| gzip -1 > '%s'", path)))
    local out = files.run_script('', string.format([[
      local sl = require 'symlua'
      local ok, e = pcall(sl.data.idx, %q)
      local hwm = io.open('/proc/self/status'):read('*a'):match('VmHWM:%%s*(%%d+) kB')
      print(tostring(e))
      print(hwm)
    ]], path))
    os.remove(path)
    local msg, kb = out:match('^(.-)\n(%d+)\n$')
    assert.matches("'" .. path .. "' holds 299999996 bytes more than the 4 values its header declares", msg)
    assert.is_true(tonumber(kb) < 100 * 1024, 'peak resident memory ' .. kb .. ' kB')
  end)

  it('names a directory, a FIFO, an unreadable file and a NUL in the path', function()
    assert.matches("data.idx: cannot open '/tmp' %(it is a directory, not a regular file%)",
                   err(sl.data.idx, '/tmp'))
    local fifo = os.tmpname()
    os.remove(fifo)
    assert(os.execute("mkfifo '" .. fifo .. "'"))
    assert.matches("cannot open '" .. fifo .. "' %(it is a FIFO %(named pipe%), not a regular file%)",
                   err(sl.data.idx, fifo))
    os.remove(fifo)
    -- unreadable: root reads any file, so the check runs as nobody when root
    local path = files.write(os.tmpname(), idx_bytes(0x08, { 1 }, 'a'))
    assert(os.execute("chmod 000 '" .. path .. "'"))
    local out = files.run_script('', string.format([[
      local sl = require 'symlua'
      local ffi = require 'ffi'
      ffi.cdef 'int setresuid(unsigned, unsigned, unsigned); int setresgid(unsigned, unsigned, unsigned); unsigned geteuid(void);'
      if ffi.C.geteuid() == 0 then assert(ffi.C.setresgid(65534, 65534, 65534) == 0 and ffi.C.setresuid(65534, 65534, 65534) == 0) end
      print(select(2, pcall(sl.data.idx, %q)))
    ]], path))
    os.remove(path)
    assert.matches("cannot open '" .. path .. "' %(Permission denied%)", out)
    assert.matches('data.idx: the path has a NUL byte at byte 5 of 7', err(sl.data.idx, '/tmp' .. '\0' .. 'xy'))
  end)

  it('refuses sizes whose product overflows', function()
    local path = files.write(os.tmpname(), idx_bytes(0x08, { 65536, 65536, 65536, 65536 }, ''))
    assert.matches("'" .. path .. "' declares a shape symlua cannot hold: shape %(65536, 65536, 65536, 65536%) "
                   .. 'has more than the 2^60 %- 1 elements', err(sl.data.idx, path))
    files.write(path, idx_bytes(0x08, { 0, 4294967295, 4294967295, 4294967295 }, ''))
    assert.matches('elements a tensor can hold', err(sl.data.idx, path))
    -- a header declaring more than the file can hold allocates nothing
    files.write(path, idx_bytes(0x0E, { 1073741824 }, 'abc'))
    assert.matches('is truncated: 1073741824 values of 8 bytes expected, 3 bytes found', err(sl.data.idx, path))
    local gz = gzipped(idx_bytes(0x0E, { 1073741824 }, 'abc'))
    files.write(path, gz)
    assert.matches('is truncated: 1073741824 values of 8 bytes expected, more than its '
                   .. #gz .. ' bytes of gzip can hold', err(sl.data.idx, path))
    files.write(path, idx_bytes(0x08, { 0, 7 }, ''))
    assert.are.same({ 0, 7 }, sl.data.idx(path):shape())
    os.remove(path)
  end)

  local dir = '/usr/share/datasets/fashion-mnist'
  local have = files.read(dir .. '/t10k-labels-idx1-ubyte.gz') ~= nil
  ;(have and it or pending)('reads Fashion-MNIST as NumPy does', function()
    local y = sl.data.idx(dir .. '/t10k-labels-idx1-ubyte.gz')
    assert.are.same({ 10000 }, y:size())
    local counts = sl.zeros(10, 'int64')
    for i = 1, 10000 do counts[y[i] + 1] = counts[y[i] + 1] + 1 end
    assert.are.same({ 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000 }, counts:totable())
    local x = sl.data.idx(dir .. '/t10k-images-idx3-ubyte.gz')
    assert.are.same({ 10000, 28, 28 }, x:size())
  end)
end)

describe('sl.data.batches', function()
  it('visits every row once per epoch, in the same order for every tensor', function()
    local X = sl.arange(1, 11):reshape(10, 1)
    local Y = sl.arange(1, 11) * 10
    local seen, sizes = {}, {}
    for b, x, y in sl.data.batches({ X, Y }, 4, { shuffle = true, seed = 5 }) do
      sizes[b] = x:size(1)
      for i = 1, x:size(1) do
        assert.are.equal(x[{ i, 1 }] * 10, y[i])
        seen[#seen + 1] = y[i]
      end
    end
    assert.are.same({ 4, 4, 2 }, sizes)
    table.sort(seen)
    assert.are.same({ 10, 20, 30, 40, 50, 60, 70, 80, 90, 100 }, seen)
  end)

  it('repeats an order for a seed and epoch, and changes it with either', function()
    local function order(seed, epoch)
      local t = {}
      for _, x in sl.data.batches(sl.arange(1, 21), 20, { shuffle = true, seed = seed, epoch = epoch }) do
        t = x:totable()
      end
      return table.concat(t, ',')
    end
    assert.are.equal(order(1, 0), order(1, 0))
    assert.are_not.equal(order(1, 0), order(1, 1))
    assert.are_not.equal(order(1, 0), order(2, 0))
    assert.are_not.equal('1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20', order(1, 0))
  end)

  it('keeps rows in order without shuffle, and can drop a last short batch', function()
    local n = 0
    for b, x in sl.data.batches(sl.arange(1, 11), 3, { drop_last = true }) do
      assert.are.same({ 3 * b - 2, 3 * b - 1, 3 * b }, x:totable())
      n = b
    end
    assert.are.equal(3, n)
  end)

  it('names bad arguments', function()
    assert.matches('the batch size must be a positive integer, got 0',
                   err(sl.data.batches, sl.zeros(3), 0))
    assert.matches('tensor 2 has 4 rows but tensor 1 has 3',
                   err(sl.data.batches, { sl.zeros(3), sl.zeros(4) }, 2))
  end)
end)
