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

  it('reads gzipped files', function()
    local path = files.write(os.tmpname(), idx_bytes(0x08, { 4 }, string.char(7, 8, 9, 10)))
    os.execute("gzip -f '" .. path .. "'")
    assert.are.same({ 7, 8, 9, 10 }, sl.data.idx(path .. '.gz'):totable())
    os.remove(path .. '.gz')
  end)

  it('names a missing, foreign or truncated file', function()
    assert.matches('data.idx: cannot open /no/such/file', err(sl.data.idx, '/no/such/file'))
    local path = files.write(os.tmpname(), 'hello world')
    assert.matches('is not an IDX file %(bad magic number%)', err(sl.data.idx, path))
    files.write(path, idx_bytes(0x08, { 10 }, 'abc'))
    assert.matches('is truncated: 10 values of 1 bytes expected, 3 bytes found', err(sl.data.idx, path))
    files.write(path, idx_bytes(0x42, { 1 }, 'a'))
    assert.matches('unknown value type 0x42', err(sl.data.idx, path))
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
