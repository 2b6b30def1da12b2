-- Seeing and debugging graphs: debugprint, graphviz, profiles, the NaN guard,
-- and error messages that point at the script's line.
local sl = require 'symlua'

-- "file:line" of the caller, as the core writes it into messages
local function here()
  local info = debug.getinfo(2, 'Sl')
  return info.short_src .. ':' .. info.currentline
end

local function lines_of(text)
  local t = {}
  for line in text:gmatch('([^\n]*)\n') do t[#t + 1] = line end
  return t
end

local function plain_find(s, pattern) return s:find(pattern, 1, true) ~= nil end

local files = require 'spec.support.files'
local read_file, write_file = files.read, files.write

local function succeeded(a, _, c) return a == 0 or (a == true and (c == nil or c == 0)) end
local function have_dot() return succeeded(os.execute('command -v dot >/dev/null 2>&1')) end

local run_script = files.run_script

describe('debugprint', function()
  it('prints one line per var, inputs indented, a repeated subtree by its id', function()
    local x, y = sl.vector('x'), sl.vector('y')
    local e = sl.exp(x)
    local m = e * y
    local z = (m + e):name('z')
    local text = sl.debugprint(z, { print = false })
    assert.are.same({
      ("add [id %d] 'z' float64 (?,)"):format(z:id()),
      (' |mul [id %d] float64 (?,)'):format(m:id()),
      (' | |exp [id %d] float64 (?,)'):format(e:id()),
      (" | | |input [id %d] 'x' float64 (?,)"):format(x:id()),
      (" | |input [id %d] 'y' float64 (?,)"):format(y:id()),
      (' |exp [id %d] float64 (?,) (see above)'):format(e:id()),
    }, lines_of(text))
  end)

  it('marks shared variables and constants, with small values shown', function()
    local W = sl.shared(sl.tensor({ { 1, 2 }, { 3, 4 } }, 'float64'), 'W')
    local x = sl.matrix('x')
    local big = sl.core.constant(sl.zeros(3, 4))
    local small = sl.core.constant(sl.tensor({ 1, 2, 3 }, 'int32'))
    local z = x:dot(W) * 0.5 + big:sum(2):reshape(3, 1) + small
    local text = sl.debugprint(z, { print = false })
    assert.truthy(plain_find(text, ("shared [id %d] 'W' float64 (?, ?)\n"):format(W:id())))
    assert.truthy(plain_find(text, ("input [id %d] 'x' float64 (?, ?)\n"):format(x:id())))
    assert.truthy(plain_find(text, ('constant [id %d] float64 (3, 4)\n'):format(big:id())))
    assert.truthy(plain_find(text, ('constant [id %d] int32 (3,) = {1, 2, 3}\n'):format(small:id())))
    assert.truthy(text:find('constant %[id %d+%] float64 %(%) = 0%.5 %(weak%)\n'))
  end)

  it('shows a compiled function: its inputs, outputs and updates, labeled', function()
    local x = sl.vector('x')
    local s = sl.shared(sl.zeros(3), 's')
    local out = sl.tanh(x)
    local new = s + x
    local f = sl.compile({ x }, out, { updates = { [s] = new } }); local line = here()
    assert.are.same({
      ('function compiled at %s: 1 input, 1 output, 1 update'):format(line),
      ("input 1: input [id %d] 'x' float64 (?,)"):format(x:id()),
      'output 1:',
      ('tanh [id %d] float64 (?,)'):format(out:id()),
      (" |input [id %d] 'x' float64 (?,)"):format(x:id()),
      ("update of shared [id %d] 's' float64 (?,):"):format(s:id()),
      ('add [id %d] float64 (?,) (destroys input 1)'):format(new:id()),   -- s + x written into s
      (" |shared [id %d] 's' float64 (?,)"):format(s:id()),
      (" |input [id %d] 'x' float64 (?,)"):format(x:id()),
    }, lines_of(sl.debugprint(f, { print = false })))
  end)

  it('takes a list of vars, sharing what was shown, and a depth', function()
    local x = sl.vector('x')
    local a = sl.exp(x)
    local b = a * 2
    local lines = lines_of(sl.debugprint({ a, b }, { print = false }))
    assert.are.equal(('exp [id %d] float64 (?,)'):format(a:id()), lines[1])
    assert.are.equal((' |exp [id %d] float64 (?,) (see above)'):format(a:id()), lines[4])
    assert.are.equal(1, #lines_of(sl.debugprint(b, { print = false, depth = 0 })))
    assert.are.equal(3, #lines_of(sl.debugprint(b, { print = false, depth = 1 })))
  end)

  it('rejects what is not a graph', function()
    local ok, err = pcall(sl.debugprint, 3)
    assert.is_false(ok)
    assert.truthy(plain_find(err, 'debugprint: expected a variable, a list of variables or a compiled function, got number'))
    ok, err = pcall(sl.debugprint, { sl.vector('v'), 'w' })
    assert.truthy(plain_find(err, 'debugprint: item 2 of the list is a string, not a variable'))
  end)
end)

describe('graphviz', function()
  local function train_fn()
    local x, y = sl.matrix('x'), sl.vector('y')
    local w = sl.shared(sl.zeros(3), 'w')
    local b = sl.shared(sl.tensor(0, 'float64'), 'b')
    local p = sl.sigmoid(x:dot(w) + b):name('p')
    local cost = (-(y * sl.log(p) + (1 - y) * sl.log(1 - p))):dot(sl.ones(4)):name('cost')
    local gw, gb = unpack(sl.grad(cost, { w, b }))
    -- the edges checked below are the dot and add as written, not the gemv they specialize to
    local f = sl.compile({ x, y }, cost, { updates = { [w] = w - 0.1 * gw, [b] = b - 0.1 * gb },
                                           exclude = { 'gemv_from_dot_add' } })
    return f, { x = x, y = y, w = w, b = b, p = p, cost = cost }
  end

  it('writes the .dot text: ops as boxes, vars as styled ellipses, numbered edges', function()
    local f, v = train_fn()
    local path = os.tmpname() .. '.dot'
    local written, text = sl.graphviz(f, path)
    assert.are.equal(path, written)
    assert.are.equal(text, read_file(path))
    os.remove(path)
    assert.truthy(text:match('^digraph symlua {\n'))
    assert.truthy(text:match('}\n$'))
    local function node_line(id) return text:match('\n  v' .. id .. ' %[([^\n]*)%];') end
    assert.truthy(node_line(v.x:id()):find('label="x\\nfloat64 (?, ?)", shape=ellipse', 1, true))
    assert.truthy(node_line(v.x:id()):find('fillcolor="#9fd3ff"', 1, true))          -- input
    assert.truthy(node_line(v.w:id()):find('fillcolor="#a8e6a1"', 1, true))          -- shared
    assert.truthy(node_line(v.cost:id()):find('label="output 1\\ncost\\nfloat64 ()"', 1, true))
    assert.truthy(node_line(v.cost:id()):find('peripheries=2', 1, true))             -- output
    assert.are.equal('label="p\\nfloat64 (?,)", shape=ellipse', node_line(v.p:id()))
    assert.truthy(text:find('label="1\\nint64 ()", shape=ellipse, style=filled, fillcolor="#e6e6e6"', 1, true))
    local sig = v.p:owner():outputs()[1]:id()
    assert.truthy(plain_find(text, ('n%d [label="sigmoid", shape=box'):format(sig)))
    -- one input: no edge label; several: the input's position
    local add = v.p:owner():inputs()[1]
    assert.truthy(plain_find(text, ('v%d -> n%d;'):format(add:id(), sig)))
    local dot = add:owner():inputs()[1]
    assert.truthy(plain_find(text, ('v%d -> n%d [label="1"];'):format(v.x:id(), dot:id())))
    assert.truthy(plain_find(text, ('v%d -> n%d [label="2"];'):format(v.w:id(), dot:id())))
    assert.truthy(plain_find(text, ('v%d -> n%d [label="2"];'):format(v.b:id(), add:id())))
    -- updates: labeled results with a dashed edge back to their shared variable
    assert.truthy(text:find('label="new w\\nfloat64 (?,)"', 1, true))
    assert.truthy(text:find('-> v' .. v.w:id() .. ' [style=dashed', 1, true))
    assert.truthy(text:find('label="function compiled at ', 1, true))
  end)

  it('draws intermediate results inside their op boxes when compact', function()
    local x = sl.vector('x')
    local e = sl.exp(x)
    local z = (e + 1):name('z')
    local path = os.tmpname()
    local _, text = sl.graphviz(z, path, { compact = true })
    os.remove(path)
    local n = e:id()
    assert.truthy(plain_find(text, ('n%d [label="exp\\nfloat64 (?,)", shape=box'):format(n)))
    assert.falsy(plain_find(text, ('v%d ['):format(n)))
    assert.truthy(plain_find(text, ('n%d -> n%d [label="1"];'):format(n, z:id())))
    assert.truthy(plain_find(text, ('v%d [label="z\\nfloat64 (?,)", shape=ellipse, style=filled, '
      .. 'fillcolor="#ffcf7a", peripheries=2]'):format(z:id())))
  end)

  it('renders an svg with dot', function()
    if not have_dot() then pending('Graphviz dot is not installed') return end
    local f = train_fn()
    local path = os.tmpname() .. '.svg'
    assert.are.equal(path, (sl.graphviz(f, path)))
    local svg = read_file(path)
    os.remove(path)
    assert.truthy(svg and #svg > 0)
    assert.truthy(svg:find('<svg', 1, true))
    assert.truthy(svg:find('sigmoid', 1, true))
  end)

  it('falls back to the .dot text when dot cannot be run', function()
    local path = os.tmpname() .. '.png'
    local written, text = sl.graphviz(sl.exp(sl.vector('x')), path, { dot = 'no-such-dot-program', quiet = true })
    assert.are.equal(path .. '.dot', written)
    assert.are.equal(text, read_file(written))
    assert.is_nil(read_file(path))
    os.remove(written)
  end)
end)

describe('profiles', function()
  it('count calls and time per node and per op', function()
    local x = sl.matrix('x')
    local h = sl.tanh(x:dot(x)); local line = here()
    local f = sl.compile({ x }, h + 1, { profile = true })
    for _ = 1, 3 do f(sl.ones(8, 8)) end
    local p = f:profile({ print = false })
    assert.are.equal(3, p.calls)
    assert.is_true(p.time > 0)
    assert.are.equal(3, #p.nodes)
    local total = 0
    for i, e in ipairs(p.nodes) do
      assert.are.equal(3, e.calls)
      if i > 1 then assert.is_true(p.nodes[i - 1].time >= e.time) end
      total = total + e.time
    end
    assert.is_true(total <= p.time)
    local ops = {}
    for _, e in ipairs(p.nodes) do ops[e.op] = e end
    assert.are.equal(line, ops.dot.where)
    assert.are.equal(line, ops.tanh.where)
    assert.truthy(ops.dot.node:match('^dot#%d+$'))
    assert.are.equal(3, #p.ops)
    assert.truthy(p.text:find('3 calls', 1, true))
    for _, col in ipairs({ 'time', '%', 'calls', 'op', 'node', 'where', 'by op:' }) do
      assert.truthy(p.text:find(col, 1, true), col)
    end
    assert.are.equal(0, f:profile({ print = false, reset = true }) and f:profile({ print = false }).calls)
  end)

  it('are off unless asked for', function()
    local x = sl.vector('x')
    local f = sl.compile({ x }, x * 2)
    assert.is_false(f:info().profile)
    assert.is_false(f:info().nan_guard)
    local ok, err = pcall(function() return f:profile() end)
    assert.is_false(ok)
    assert.truthy(plain_find(err, 'compiled without profiling'))
  end)

  it('print at exit under SYMLUA_PROFILE=1', function()
    local out, err = run_script('SYMLUA_PROFILE=1', [[
      local sl = require 'symlua'
      local x = sl.vector('x')
      local f = sl.compile({ x }, sl.exp(x) * 2)
      f(sl.ones(3)); f(sl.ones(3))
      print(f:info().profile)
    ]])
    assert.are.equal('true\n', out)
    assert.truthy(err:find('Profile of the function compiled at [^\n]*:3: 2 calls'))
    -- on the C backend the op is followed by its kernel variant: "exp [fused]"
    assert.truthy(err:find('\n +[%d.]+ [mu]?s +[%d.]+%% +2  exp  ?[^\n]-exp#%d+ +[^\n]*:3\n'), err)
    out, err = run_script('SYMLUA_PROFILE=1', [[
      local sl = require 'symlua'
      local x = sl.vector('x')
      local f = sl.compile({ x }, sl.exp(x))
      f(sl.ones(3))
      os.exit(0)
    ]])
    assert.truthy(err:find('1 call,', 1, true))
  end)
end)

describe('nan_guard', function()
  it('names the first node that makes NaN or Inf, its line and its inputs', function()
    local x = sl.vector('x')
    local y = sl.log(x):name('logx'); local line = here()
    local f = sl.compile({ x }, y * 2, { nan_guard = true })
    local ok, err = pcall(f, sl.tensor({ 2, -1, 0 }, 'float64'))
    assert.is_false(ok)
    assert.truthy(plain_find(err, ('nan_guard: log (logx) built at %s produced NaN and Inf: '
      .. 'min 0.693147, max 0.693147, 1 NaN, 1 -Inf'):format(line)), err)
    assert.truthy(plain_find(err, '\n  input 1: x float64 (3,): min -1, max 2, no NaN/Inf'), err)
  end)

  it('stays quiet on a clean graph, and off by default', function()
    local x = sl.vector('x')
    local y = sl.exp(sl.log(x)) / (x + 1)
    local f = sl.compile({ x }, y, { nan_guard = true })
    assert.is_true(f:info().nan_guard)
    assert.are.same({ 0.5, 2 / 3 }, f(sl.tensor({ 1, 2 }, 'float64')):totable())
    -- int and bool results are not checked, and NaN already in an input is not blamed
    local i = sl.lvector('i')
    local g = sl.compile({ i, x }, { i * 2, sl.isnan(x) }, { nan_guard = true })
    local a, b = g(sl.tensor({ 1, 2 }, 'int64'), sl.tensor({ 0 / 0 }, 'float64'))
    assert.are.same({ 2, 4 }, a:totable())
    assert.are.same({ true }, b:totable())
    local plain = sl.compile({ x }, sl.log(x))
    local r = plain(sl.tensor({ -1 }, 'float64')):item()
    assert.is_true(r ~= r)
  end)

  it('is switched on for every function by SYMLUA_NAN_GUARD=1', function()
    local _, err = run_script('SYMLUA_NAN_GUARD=1', [[
      local sl = require 'symlua'
      local x = sl.vector('x')
      local f = sl.compile({ x }, sl.sqrt(x))
      f(sl.tensor({ -4 }, 'float64'))
    ]])
    assert.truthy(err:find(':4: nan_guard: sqrt %(sqrt#%d+%) built at [^\n]*:3 produced NaN: '
      .. 'no finite values, 1 NaN\n  input 1: x float64 %(1,%): min %-4, max %-4, no NaN/Inf'), err)
  end)
end)

describe('error messages', function()
  it('at build time name the op, the shapes and the line', function()
    local a = sl.tensor_type('float64', { 3 })('a')
    local b = sl.tensor_type('float64', { 4 })('b')
    local ok, err = pcall(function() return a + b end); local line = here()
    assert.is_false(ok)
    assert.are.equal(line .. ': add: shapes do not broadcast: float64 (3,) and float64 (4,) '
      .. 'differ in dimension 1 (3 vs 4)', err)
  end)

  it('at call time name the op, the shapes, the node and where it was built', function()
    local x, y = sl.matrix('x'), sl.matrix('y')
    local z = x:dot(y); local built = here()
    local f = sl.compile({ x, y }, sl.exp(z))
    local ok, err = pcall(f, sl.ones(2, 3), sl.ones(4, 2)); local called = here()
    assert.is_false(ok)
    assert.are.equal(('%s: dot: shapes (2, 3) and (4, 2) are not aligned: 3 (dim 2) != 4 (dim 1) '
      .. '(node dot#%d built at %s; inputs float64 (2, 3), float64 (4, 2))'):format(called, z:id(), built), err)
  end)

  it('for a wrong input name the input, the types and a fix', function()
    local x = sl.fmatrix('x')
    local f = sl.compile({ x }, x + 1)
    local ok, err = pcall(f, sl.ones(2, 3, 'float64')); local line = here()
    assert.is_false(ok)
    assert.are.equal(line .. ": input 1 ('x'): expected float32 (?, ?), got float64 (2, 3) "
      .. "(wrong dtype: convert it with :cast('float32'))", err)
    ok, err = pcall(f, sl.ones(2, 'float32')); line = here()
    assert.are.equal(line .. ": input 1 ('x'): expected float32 (?, ?), got float32 (2,) (wrong rank)", err)
    ok, err = pcall(f); line = here()
    assert.are.equal(line .. ': compiled function takes 1 argument, got 0', err)
  end)
end)
