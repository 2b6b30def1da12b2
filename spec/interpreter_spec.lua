-- bin/symlua as a command: options, the arg table, scripts from files and
-- stdin, and how it reports errors. Each case runs the binary as a subprocess.
local files = require 'spec.support.files'
local root, symlua = files.root, files.symlua
local read_file, write_file = files.read, files.write

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local tmpdir
local function tmpfile(name, text)
  return write_file(tmpdir .. '/' .. name, text)
end

-- run({args...}, {stdin = s, env = {NAME = value}}) -> stdout, stderr, exit code
local function run(args, opts)
  opts = opts or {}
  local words = {}
  for name, value in pairs(opts.env or {}) do words[#words + 1] = name .. '=' .. quote(value) end
  words[#words + 1] = quote(symlua)
  for _, a in ipairs(args) do words[#words + 1] = quote(a) end
  local stdin = write_file(tmpdir .. '/stdin', opts.stdin or '')
  local err = tmpdir .. '/stderr'
  local cmd = table.concat(words, ' ') .. ' <' .. quote(stdin) .. ' 2>' .. quote(err) ..
              '; echo "exit:$?"'
  local p = assert(io.popen(cmd, 'r'))
  local out = p:read('*a')
  p:close()
  local code = tonumber(out:match('exit:(%d+)\n$'))
  out = out:gsub('exit:%d+\n$', '')
  return out, read_file(err) or '', code
end

local function version()
  return read_file(root .. '/core/include/symlua.h'):match('#define%s+SYMLUA_VERSION%s+"([^"]+)"')
end

describe('symlua', function()
  before_each(function()
    tmpdir = os.tmpname()
    os.remove(tmpdir)
    assert(os.execute('mkdir -p ' .. quote(tmpdir)) == 0)
  end)

  after_each(function()
    os.execute('rm -rf ' .. quote(tmpdir))
  end)

  describe('running a script', function()
    it('sets arg as luajit does and passes the arguments as ...', function()
      local script = tmpfile('args.lua', [[
        local parts = {}
        for i = -3, 3 do parts[#parts + 1] = tostring(arg[i]) end
        print(table.concat(parts, '|'))
        print(select('#', ...), ...)
      ]])
      local out, err, code = run({ '-e', 'x = 1', script, 'a b', 'c' })
      assert.are.equal('', err)
      assert.are.equal(0, code)
      assert.are.equal(symlua .. '|-e|x = 1|' .. script .. '|a b|c|nil\n2\ta b\tc\n', out)
    end)

    it('treats everything after the script as its arguments, options too', function()
      local script = tmpfile('args.lua', 'print(#arg, arg[1], arg[2], ...)')
      local out, _, code = run({ script, '-e', '-v' })
      assert.are.equal(0, code)
      assert.are.equal('2\t-e\t-v\t-e\t-v\n', out)
      -- "--" ends the options, so the script may start with "-"
      out = run({ '--', script, '--help' })
      assert.are.equal('1\t--help\tnil\t--help\n', out)
    end)

    it('runs -e chunks in order, without a script, and then stops', function()
      local out, err, code = run({ '-e', 'a = 20', '-e', 'print(a + 1, arg[0], arg[-1])' },
        { stdin = 'print("stdin was run")' })
      assert.are.equal('', err)
      assert.are.equal(0, code)
      assert.are.equal('21\tnil\tprint(a + 1, arg[0], arg[-1])\n', out)
    end)

    it('-l requires a module and stores it in a global', function()
      local out, err, code = run({ '-l', 'symlua', '-e', 'print(type(symlua), symlua.version)' })
      assert.are.equal('', err)
      assert.are.equal(0, code)
      assert.are.equal('table\t' .. version() .. '\n', out)
      out = run({ '-lstring', '-e', 'print(string == _G.string)' })
      assert.are.equal('true\n', out)
    end)

    it('finds symlua next to the binary and still honours LUA_PATH', function()
      tmpfile('mymod.lua', 'return { answer = 42 }')
      local out, err, code = run({ '-e', 'print(require("mymod").answer, require("symlua").version)' },
        { env = { LUA_PATH = tmpdir .. '/?.lua;;' } })
      assert.are.equal('', err)
      assert.are.equal(0, code)
      assert.are.equal('42\t' .. version() .. '\n', out)
    end)

    it('SYMLUA_MODE picks the backend of every compile; opts.mode still wins', function()
      local script = "local sl = require 'symlua'; local x = sl.vector('x'); " ..
        "print(sl.config.mode, sl.compile({ x }, x * 2):info().backend, " ..
        "sl.compile({ x }, x * 2, { mode = 'c' }):info().backend, " ..
        "sl.compile({ x }, x * 3, { mode = 'reference' }):info().backend)"
      local out, err, code = run({ '-e', script }, { env = { SYMLUA_MODE = 'reference' } })
      assert.are.equal('', err)
      assert.are.equal(0, code)
      assert.are.equal('reference\treference\tc\treference\n', out)
      out = run({ '-e', script }, { env = { SYMLUA_MODE = 'c' } })
      assert.are.equal('c\tc\tc\treference\n', out)
      local _, e, status = run({ '-e', "require 'symlua'" }, { env = { SYMLUA_MODE = 'fast' } })
      assert.are.equal(1, status)
      assert.matches("SYMLUA_MODE=fast: config.mode must be one of c|reference, not 'fast'", e, 1, true)
    end)

    it('runs LUA_INIT first, as a chunk or @file, unless -E', function()
      local out = run({ '-e', 'print(init_value)' }, { env = { LUA_INIT = 'init_value = 7' } })
      assert.are.equal('7\n', out)
      local init = tmpfile('init.lua', 'init_value = "from file"')
      out = run({ '-e', 'print(init_value)' }, { env = { LUA_INIT = '@' .. init } })
      assert.are.equal('from file\n', out)
      out = run({ '-E', '-e', 'print(init_value)' }, { env = { LUA_INIT = 'init_value = 7' } })
      assert.are.equal('nil\n', out)
    end)

    it('reads the script from stdin for "-" and when stdin is not a terminal', function()
      local out, err, code = run({ '-', 'x', 'y' },
        { stdin = 'print(arg[0], select("#", ...), ...)' })
      assert.are.equal('', err)
      assert.are.equal(0, code)
      assert.are.equal('-\t2\tx\ty\n', out)
      out, err, code = run({}, { stdin = 'print(6 * 7)\nprint(type(sl))' })
      assert.are.equal('', err)
      assert.are.equal(0, code)
      assert.are.equal('42\nnil\n', out)  -- only the REPL predefines sl
    end)

    it('passes os.exit codes through and closes the state at the end', function()
      local _, _, code = run({ '-e', 'os.exit(3)' })
      assert.are.equal(3, code)
      -- lua_close runs finalizers
      local out = run({ '-e', [[
        keep = newproxy(true)
        getmetatable(keep).__gc = function() print('finalized') end
        print('end of script')
      ]] })
      assert.are.equal('end of script\nfinalized\n', out)
    end)
  end)

  describe('information', function()
    it('-v prints symlua and LuaJIT versions', function()
      local out, err, code = run({ '-v' })
      assert.are.equal('', err)
      assert.are.equal(0, code)
      local jit_version = run({ '-e', 'io.write(jit.version)' })
      assert.truthy(jit_version:find('^LuaJIT 2%.'))
      assert.truthy(out:find('symlua ' .. version(), 1, true), out)
      assert.truthy(out:find(jit_version, 1, true), out)
      assert.are.equal(1, select(2, out:gsub('\n', '')))
    end)

    it('--help prints the usage on stdout', function()
      local out, err, code = run({ '--help' })
      assert.are.equal('', err)
      assert.are.equal(0, code)
      assert.truthy(out:find('^usage: symlua %[options%]'))
      for _, opt in ipairs({ '-e chunk', '-l name', '-i ', '-v ', '-E ', '-- ', '- ' }) do
        assert.truthy(out:find('\n  ' .. opt, 1, true), opt)
      end
    end)

    it('rejects an unknown option with the usage on stderr and status 1', function()
      for _, bad in ipairs({ '-z', '--nope', '-ix', '-e' }) do
        local out, err, code = run({ bad })
        assert.are.equal('', out)
        assert.are.equal(1, code)
        assert.truthy(err:find('^usage: symlua'), bad)
      end
    end)
  end)

  describe('errors', function()
    it('names a missing script file', function()
      local out, err, code = run({ tmpdir .. '/no_such_script.lua', 'a' })
      assert.are.equal('', out)
      assert.are_not.equal(0, code)
      assert.truthy(err:find('no_such_script.lua', 1, true), err)
      assert.truthy(err:find('^symlua: cannot open'), err)
    end)

    it('reports a syntax error with the file and line, status 1', function()
      local script = tmpfile('syntax.lua', 'local ok = 1\nx = = 2\n')
      local out, err, code = run({ script })
      assert.are.equal('', out)
      assert.are.equal(1, code)
      assert.truthy(err:find('syntax.lua:2:', 1, true), err)
      assert.truthy(err:find("unexpected symbol near '='", 1, true), err)
    end)

    it('reports a runtime error with a traceback, status 1', function()
      local script = tmpfile('runtime.lua', [[
print('before')
local function explode(what) error('boom: ' .. what) end
explode('fuse')
print('not reached')
]])
      local out, err, code = run({ script })
      assert.are.equal('before\n', out)
      assert.are.equal(1, code)
      assert.truthy(err:find('^symlua: [^\n]*runtime.lua:2: boom: fuse\n'), err)
      assert.truthy(err:find('stack traceback:', 1, true), err)
      assert.truthy(err:find('runtime.lua:3: in main chunk', 1, true), err)
    end)

    it('reports errors in -e and in error objects that are not strings', function()
      local out, err, code = run({ '-e', 'error(setmetatable({}, {__tostring = function() return "custom" end}))' })
      assert.are.equal('', out)
      assert.are.equal(1, code)
      assert.are.equal('symlua: custom\n', err)
      _, err, code = run({ '-e', 'error({})' })
      assert.are.equal(1, code)
      assert.truthy(err:find('(error object is a table value)', 1, true), err)
    end)
  end)
end)
