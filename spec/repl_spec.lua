-- The REPL, driven through a pseudo-terminal: keystrokes in, screen text out.
local pty = require 'spec.support.pty'

local files = require 'spec.support.files'
local symlua, read_file = files.symlua, files.read

local function version()
  local header = read_file(files.root .. '/core/include/symlua.h')
  return header:match('#define%s+SYMLUA_VERSION%s+"([^"]+)"')
end

describe('the REPL', function()
  local home, term

  before_each(function()
    home = os.tmpname()
    os.remove(home)
    assert(os.execute('mkdir -p ' .. home) == 0)
    term = pty.spawn(symlua, {}, { HOME = home, TERM = 'xterm' })
    local banner, seen = term:expect('> $')
    assert(banner, 'no prompt; the screen shows:\n' .. tostring(seen))
    assert.truthy(banner:find('symlua ' .. version(), 1, true))
    assert.truthy(banner:find('LuaJIT', 1, true))
    assert.truthy(banner:find("'sl'", 1, true))
  end)

  after_each(function()
    term:close()
    os.execute('rm -rf ' .. home)
  end)

  it('prints the values of expressions, without "="', function()
    assert.truthy(term:line('1+1'):find('\n2\n', 1, true))
    assert.truthy(term:line("'a', nil, 3"):find('\na\tnil\t3\n', 1, true))
    assert.truthy(term:line('print(42)'):find('\n42\n', 1, true))
    -- a statement prints nothing
    assert.truthy(term:line('x = 6 * 7'):find('^x = 6 %* 7\n> $'))
    assert.truthy(term:line('x'):find('\n42\n', 1, true))
  end)

  it('predefines sl and prints tensors through their __tostring', function()
    local out = term:line('sl.tensor({{1,2},{3,4}})')
    assert.truthy(out:find('int64', 1, true), out)
    for _, n in ipairs({ '1', '2', '3', '4' }) do
      assert.truthy(out:find(n, #'sl.tensor({{1,2},{3,4}})' + 1, true), out)
    end
    assert.truthy(term:line('sl.zeros(2, 3):numel()'):find('\n6\n', 1, true))
  end)

  it('continues an unfinished statement on ">> " lines', function()
    term:send('for i = 1, 3 do\r')
    assert.truthy(term:expect('\n>> $'))
    term:send('print(i * 10)\r')
    assert.truthy(term:expect('\n>> $'))
    local out = term:line('end')
    assert.truthy(out:find('\n10\n20\n30\n', 1, true), out)
    -- an unfinished expression too
    term:send('1 +\r')
    assert.truthy(term:expect('\n>> $'))
    assert.truthy(term:line('2'):find('\n3\n', 1, true))
  end)

  it('shows an error with its traceback and carries on', function()
    local out = term:line("error('boom')")
    assert.truthy(out:find('stdin:1: boom', 1, true), out)
    assert.truthy(out:find('stack traceback:', 1, true), out)
    out = term:line('x = = 1')
    assert.truthy(out:find("unexpected symbol near '='", 1, true), out)
    assert.truthy(term:line('10 * 3'):find('\n30\n', 1, true))
  end)

  it("shows the message and the script's frames, without raw C addresses", function()
    term:line('function explode() local t = nil; return t.x end')
    local out = term:line('explode()')
    assert.truthy(out:find("stdin:1: attempt to index local 't' (a nil value)\nstack traceback:\n" ..
                           "\tstdin:1: in function 'explode'\n\tstdin:1: in main chunk\n> ", 1, true), out)
    out = term:line('sl.zeros(2) + sl.zeros(3)')
    assert.truthy(out:find('add: shapes do not broadcast', 1, true), out)
    assert.falsy(out:find('[C]: at 0x', 1, true), out)
    out = term:line("error('boom')")
    assert.falsy(out:find('[C]', 1, true), out)
  end)

  it('completes table fields, globals and methods with TAB', function()
    -- sl.zer<TAB> becomes sl.zeros, so the rest of the line makes a call
    local out = term:line('sl.zer\t(2, 3):numel()')
    assert.truthy(out:find('\n6\n', 1, true), out)
    out = term:line("string.fo\t('%d', 7)")
    assert.truthy(out:find('\n7\n', 1, true), out)
    out = term:line("tost\t(5) .. 'x'")
    assert.truthy(out:find('\n5x\n', 1, true), out)
    term:line('t = sl.tensor({1, 2, 3})')
    out = term:line('t:nume\t()')
    assert.truthy(out:find('\n3\n', 1, true), out)
  end)

  it('stops a running loop on Ctrl-C and carries on', function()
    term:send('for i = 1, 1e10 do local x = i end\r')
    local early = term:expect('\n> $', 300)
    assert.is_nil(early, 'the loop ended by itself')
    term:send('\3')
    local out, seen = term:expect('\n> $', 5000)
    assert.truthy(out, 'not interrupted; the screen shows:\n' .. tostring(seen))
    assert.truthy(out:find('interrupted!', 1, true), out)
    term:send('while true do end\r')
    assert.is_nil(term:expect('\n> $', 300))
    term:send('\3')
    out, seen = term:expect('\n> $', 5000)
    assert.truthy(out and out:find('interrupted!', 1, true), seen)
    assert.truthy(term:line('1+1'):find('\n2\n', 1, true))
  end)

  it('says so when Ctrl-C cannot stop a JIT-compiled loop; a third Ctrl-C quits', function()
    -- Code typed at the prompt runs interpreted, but a function made by
    -- loadstring is compiled as usual, and LuaJIT's compiled loops never
    -- look at the hook that Ctrl-C sets.
    term:line("spin = loadstring('while true do end')")
    term:send('spin()\r')
    assert.is_nil(term:expect('\n> $', 300))
    term:send('\3')
    assert.is_nil(term:expect('\n> $', 500), 'a compiled loop was interrupted after all')
    term:send('\3')
    local out, seen = term:expect('does not check for interrupts', 3000)
    assert.truthy(out, seen)
    term:send('\3')
    assert.are.equal(-2, term:wait(5000))  -- ended by SIGINT
  end)

  it('drops the line being typed on Ctrl-C at the prompt', function()
    term:send('this is not lua')
    term:send('\3')
    assert.truthy(term:expect('\n> $'))
    term:send('for i = 1, 2 do\r')
    assert.truthy(term:expect('\n>> $'))
    term:send('\3')
    assert.truthy(term:expect('\n> $'))
    assert.truthy(term:line('2+2'):find('\n4\n', 1, true))
  end)

  it('exits with status 0 on Ctrl-D and keeps the history', function()
    term:line('y = 12345')
    term:send('\4')
    assert.are.equal(0, term:wait(5000))
    local history = read_file(home .. '/.symlua_history')
    -- libedit writes spaces as \040
    assert.truthy(history and history:find('y\\040=\\04012345'), tostring(history))
  end)
end)

describe('the REPL with an unwritable home', function()
  it('still runs', function()
    local term = pty.spawn(symlua, {}, { HOME = '/nonexistent/symlua-home', TERM = 'xterm' })
    finally(function() term:close() end)
    assert.truthy(term:expect('> $'))
    assert.truthy(term:line('3*3'):find('\n9\n', 1, true))
    term:send('\4')
    assert.are.equal(0, term:wait(5000))
  end)
end)

describe('symlua -i', function()
  it('runs the script, then the REPL with its globals', function()
    local script = os.tmpname()
    local f = assert(io.open(script, 'w'))
    f:write('answer = 41\n')
    f:close()
    local term = pty.spawn(symlua, { '-i', script }, { HOME = '/nonexistent', TERM = 'xterm' })
    finally(function() term:close(); os.remove(script) end)
    assert.truthy(term:expect('> $'))
    assert.truthy(term:line('answer + 1'):find('\n42\n', 1, true))
    term:send('\4')
    assert.are.equal(0, term:wait(5000))
  end)
end)
