-- Compiling generated C and the disk cache of compiled modules: hits in one
-- process and across processes, corrupt entries, an unwritable directory,
-- compile errors, a missing compiler, libtcc and background compiles.
local sl = require 'symlua'
local core = require 'symlua.core'
local files = require 'spec.support.files'

local plain_find, shell, mktemp_dir = files.plain_find, files.shell, files.mktemp_dir

-- A module whose f(x) is 2 * (x mod 3) + tag, through the prelude's helpers.
local function source(tag)
  return core.cc_prelude() .. ([[
double f(double x) { return sl_mod(x, 3.0) * 2 + %d; }
]]):format(tag)
end

-- The cache's files under dir, relative to it, sorted.
local function cache_files(dir)
  local t = {}
  for line in shell("cd '" .. dir .. "' && find . -type f | sort"):gmatch('[^\n]+') do
    t[#t + 1] = line:sub(3)
  end
  return t
end

-- Runs body in a fresh symlua process with env settings, the source text
-- available as SRC; returns stdout and stderr.
local function child(env, src, body)
  local script = files.write(os.tmpname(), ("local sl = require 'symlua'\n" ..
    "local core = require 'symlua.core'\nlocal SRC = %q\n%s\n"):format(src, body))
  local errpath = os.tmpname()
  local out = shell(("env %s '%s' '%s' 2>'%s'"):format(env, files.symlua, script, errpath))
  local err = files.read(errpath)
  os.remove(script)
  os.remove(errpath)
  return out, err
end

-- Compile SRC once, print f(7.5) and this process's misses, hits, corrupt.
local REPORT = [[
local y = core.cc_call(SRC, 'f', 7.5)
local i = sl.cache_info()
io.write(y, ' ', i.misses, ' ', i.hits, ' ', i.corrupt)]]

describe('the compiled-code cache', function()
  local dir, saved_dir
  before_each(function()
    dir = mktemp_dir()
    saved_dir = sl.config.cache_dir
    sl.config.cache_dir = dir
  end)
  after_each(function()
    sl.config.cache_dir = saved_dir
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it('compiles a module, and a second compile of the same source is a hit', function()
    local before = sl.cache_info()
    assert.are.equal(dir, before.dir)
    assert.are.equal(0, before.entries)
    assert.are.equal(3 + 1, core.cc_call(source(1), 'f', 7.5))   -- 2 * 1.5 + 1
    local after1 = sl.cache_info()
    assert.are.equal(before.misses + 1, after1.misses)
    assert.are.equal(before.hits, after1.hits)
    assert.are.equal(2 * 2 + 1, core.cc_call(source(1), 'f', 8))
    local after2 = sl.cache_info()
    assert.are.equal(after1.misses, after2.misses)
    assert.are.equal(after1.hits + 1, after2.hits)
    assert.are.equal(1, after2.entries)
    assert.is_true(after2.bytes > 1000)
  end)

  it('keeps entries in two-character subfolders named by the key', function()
    core.cc_call(source(2), 'f', 1)
    core.cc_call(source(3), 'f', 1)
    local list = cache_files(dir)
    assert.are.equal(2, #list)
    for _, name in ipairs(list) do
      local sub, key = name:match('^(%x%x)/(%x+)%.so$')
      assert.is_truthy(sub, name)
      assert.are.equal(32, #key)
      assert.are.equal(sub, key:sub(1, 2))
    end
  end)

  it('uses a key that does not depend on where the cache is, and does on the flags', function()
    core.cc_call(source(4), 'f', 1)
    local other = mktemp_dir()
    sl.config.cache_dir = other
    core.cc_call(source(4), 'f', 1)
    assert.are.same(cache_files(dir), cache_files(other))
    local saved = sl.config.cflags
    sl.config.cflags = '-O1'
    local misses = sl.cache_info().misses
    local ok, e = pcall(core.cc_call, source(4), 'f', 7.5)
    sl.config.cflags = saved
    assert.is_true(ok, e)
    assert.are.equal(3 + 4, e)
    assert.are.equal(misses + 1, sl.cache_info().misses)
    assert.are.equal(2, #cache_files(other))
    os.execute("rm -rf '" .. other .. "'")
  end)

  it('keys on the code without its comments, string literals included', function()
    local function src(comment, text)
      return core.cc_prelude() .. ([[
/* %s */
static const char *label = "%s"; // %s
double f(double x) { return sl_mod(x, 3.0) + (label[0] == 'a'); }
]]):format(comment, text, comment)
    end
    local i0 = sl.cache_info()
    assert.are.equal(2.5, core.cc_call(src('kernel 1 (add#12)', 'a /* x */'), 'f', 7.5))
    assert.are.equal(2.5, core.cc_call(src('kernel 1 (add#97)', 'a /* x */'), 'f', 7.5))
    local i1 = sl.cache_info()
    assert.are.same({ 1, 1 }, { i1.misses - i0.misses, i1.hits - i0.hits })
    assert.are.equal(1.5, core.cc_call(src('kernel 1 (add#97)', 'b /* x */'), 'f', 7.5))
    assert.are.equal(2.5, core.cc_call(src('kernel 1 (add#97)', 'a /* y */'), 'f', 7.5))
    local i2 = sl.cache_info()
    assert.are.same({ 2, 0 }, { i2.misses - i1.misses, i2.hits - i1.hits })
    assert.are.equal(3, i2.entries)
  end)

  it('is hit by a second process', function()
    local env = "SYMLUA_CACHE_DIR='" .. dir .. "'"
    local out1, err1 = child(env, source(5), REPORT)
    local out2, err2 = child(env, source(5), REPORT)
    assert.are.equal('8 1 0 0', out1)
    assert.are.equal('8 0 1 0', out2)
    assert.are.equal('', err1)
    assert.are.equal('', err2)
  end)

  it('is safe when several processes compile the same source at once', function()
    local script = files.write(os.tmpname(), ("local core = require 'symlua.core'\n" ..
      "io.write(core.cc_call(%q, 'f', 7.5))\n"):format(source(6)))
    local outs = {}
    for i = 1, 4 do outs[i] = os.tmpname() end
    local cmd = {}
    for i = 1, 4 do
      cmd[i] = ("SYMLUA_CACHE_DIR='%s' '%s' '%s' >'%s' 2>&1 &"):format(dir, files.symlua, script, outs[i])
    end
    os.execute(table.concat(cmd, ' ') .. ' wait')
    for i = 1, 4 do
      assert.are.equal('9', files.read(outs[i]))
      os.remove(outs[i])
    end
    os.remove(script)
    assert.are.equal(1, #cache_files(dir))   -- no temporary files left behind
  end)

  -- Damage the only entry by rewriting it into a new file (this process may
  -- still have the old one mapped), then check that a fresh process notices.
  local function damage(how)
    core.cc_call(source(7), 'f', 1)
    local name = cache_files(dir)[1]
    local path = dir .. '/' .. name
    local bytes = files.read(path)
    files.write(path .. '.new', how(bytes))
    assert.is_true(os.rename(path .. '.new', path))
    local out, err = child("SYMLUA_CACHE_DIR='" .. dir .. "'", source(7), REPORT)
    return out, err, path
  end

  for _, case in ipairs({
    { 'truncated', 'truncated', function(b) return b:sub(1, math.floor(#b / 2)) end },
    { 'empty', 'truncated', function() return '' end },
    { 'with flipped bytes', 'checksum mismatch', function(b)
        local i = math.floor(#b / 2)
        return b:sub(1, i - 1) .. string.char(255 - b:byte(i), 255 - b:byte(i + 1)) .. b:sub(i + 2)
      end },
  }) do
    it('detects an entry ' .. case[1] .. ', warns once, rebuilds it and loads the new one', function()
      local out, err, path = damage(case[3])
      assert.are.equal('10 1 0 1', out)   -- right result; one miss, one corrupt entry
      local lines = select(2, err:gsub('\n', '\n'))
      assert.are.equal(1, lines, err)
      assert.is_true(plain_find(err, 'warning'), err)
      assert.is_true(plain_find(err, path), err)
      assert.is_true(plain_find(err, case[2]), err)
      local again = child("SYMLUA_CACHE_DIR='" .. dir .. "'", source(7), REPORT)
      assert.are.equal('10 0 1 0', again)
    end)
  end

  it('falls back to a temporary directory, with one warning, when it cannot write', function()
    local file = os.tmpname()   -- a regular file: nothing can be made under it
    local out, err = child("SYMLUA_CACHE_DIR='" .. file .. "/cache'", source(8), REPORT .. [[

io.write(' ', core.cc_call(SRC, 'f', 1), ' ', sl.cache_info().hits, ' ', sl.cache_info().dir)]])
    os.remove(file)
    local y, misses, hits, corrupt, y2, hits2, used = out:match('^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$')
    assert.are.same({ '11', '1', '0', '0', '10', '1' }, { y, misses, hits, corrupt, y2, hits2 })
    assert.is_true(used:find('symlua%-cache%-') ~= nil, used)
    assert.are.equal(1, select(2, err:gsub('\n', '\n')), err)
    assert.is_true(plain_find(err, 'warning'), err)
    assert.is_true(plain_find(err, file .. '/cache'), err)
    assert.is_true(plain_find(err, used), err)
    assert.are.equal('', shell("ls -d '" .. used .. "' 2>/dev/null"))   -- removed at exit
  end)

  it('reports a compile error with the compiler message and the kept source', function()
    local bad = core.cc_prelude() .. 'double f(double x) { return x +; }\n'
    local ok, e = pcall(core.cc_call, bad, 'f', 1)
    assert.is_false(ok)
    e = tostring(e)
    assert.is_true(plain_find(e, 'C compile failed'), e)
    assert.is_true(plain_find(e, 'error'), e)
    local kept = e:match('source kept at (%S+%.c)')
    assert.is_truthy(kept, e)
    assert.are.equal(dir, kept:sub(1, #dir))
    assert.are.equal(bad, files.read(kept))
    assert.is_true(plain_find(e, kept .. ':'), e)   -- the compiler's lines name the kept file
    assert.are.equal(0, sl.cache_info().entries)
  end)

  it('keeps generated sources next to their entries with SYMLUA_KEEP_SOURCE=1', function()
    local out = child("SYMLUA_KEEP_SOURCE=1 SYMLUA_CACHE_DIR='" .. dir .. "'", source(9), REPORT)
    assert.are.equal('12 1 0 0', out)
    local list = cache_files(dir)
    assert.are.equal(2, #list)
    assert.are.equal(list[1]:gsub('%.c$', '.so'), list[2])
    assert.are.equal(source(9), files.read(dir .. '/' .. list[1]))
  end)

  it('clears only the files that are its own', function()
    core.cc_call(source(10), 'f', 1)
    local sub = cache_files(dir)[1]:sub(1, 2)
    files.write(dir .. '/notes.txt', 'mine')
    files.write(dir .. '/' .. sub .. '/readme', 'mine too')
    assert.are.equal(1, sl.cache_clear())
    local info = sl.cache_info()
    assert.are.equal(0, info.entries)
    assert.are.same({ sub .. '/readme', 'notes.txt' }, cache_files(dir))
  end)
end)

describe('the C compiler', function()
  local dir, saved_dir
  before_each(function()
    dir = mktemp_dir()
    saved_dir = sl.config.cache_dir
    sl.config.cache_dir = dir
  end)
  after_each(function()
    sl.config.cache_dir = saved_dir
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it('is available here, and not when sl.config.cc names a missing program', function()
    assert.is_true(core.cc_available())
    local saved = sl.config.cc
    sl.config.cc = '/nonexistent/cc'
    local available = core.cc_available()
    local ok, e = pcall(core.cc_call, source(11), 'f', 1)
    sl.config.cc = saved
    assert.is_false(available)
    assert.is_false(ok)
    assert.is_true(plain_find(tostring(e), "C compiler '/nonexistent/cc' is not available"), tostring(e))
    assert.is_true(core.cc_available())
  end)

  it('is looked for without noise on stderr when missing', function()
    local out, err = child("CC=/nonexistent/cc SYMLUA_CACHE_DIR='" .. dir .. "'", '',
      "io.write(tostring(core.cc_available()), ' ', tostring(pcall(core.cc_call, 'x', 'f', 1)))")
    assert.are.equal('false false', out)
    assert.are.equal('', err)
  end)

  it('gives the prelude: scalar helpers with _Generic and vector math', function()
    local src = '#define SL_VECTOR_MATH 1\n' .. core.cc_prelude() .. [[
double f(double x) {
  float y = (float)x;
  int64_t k = (int64_t)x;
  return sl_exp(x) + sl_floordiv(k, (int64_t)2) + sl_mod(y, 2.0f) + sl_pow(k, (int64_t)3);
}
]]
    local want = math.exp(2.5) + 1 + 0.5 + 8
    assert.is_true(math.abs(core.cc_call(src, 'f', 2.5) - want) < 1e-12)
    if core.has_tcc then
      assert.is_true(math.abs(core.cc_call(src, 'f', 2.5, 'tcc') - want) < 1e-12)
    end
  end)

  it('compiles in memory with libtcc, and reports its errors', function()
    if not core.has_tcc then return pending('libtcc is not linked into this binary') end
    local before = sl.cache_info()
    assert.are.equal(3 + 12, core.cc_call(source(12), 'f', 7.5, 'tcc'))
    assert.are.equal(before.misses, sl.cache_info().misses)   -- no disk cache involved
    local ok, e = pcall(core.cc_call, 'double f(double x) { return x +; }', 'f', 1, 'tcc')
    assert.is_false(ok)
    assert.is_true(plain_find(tostring(e), 'libtcc compile failed'), tostring(e))
    assert.is_true(plain_find(tostring(e), 'error'), tostring(e))
  end)

  it('compiles in a background thread, and hands back its errors', function()
    assert.are.equal(3 + 13, core.cc_call(source(13), 'f', 7.5, 'async'))
    local ok, e = pcall(core.cc_call, 'double f(double x) { return x +; }', 'f', 1, 'async')
    assert.is_false(ok)
    assert.is_true(plain_find(tostring(e), 'C compile failed'), tostring(e))
  end)

  it('names a missing symbol', function()
    local ok, e = pcall(core.cc_call, source(14), 'g', 1)
    assert.is_false(ok)
    assert.is_true(plain_find(tostring(e), "no symbol 'g'"), tostring(e))
  end)
end)
