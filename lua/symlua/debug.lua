-- Seeing and debugging graphs: sl.debugprint (an indented text tree),
-- sl.graphviz (a drawing), f:profile() (time per node of a compiled function)
-- and the compile options profile / nan_guard (see docs/debugging.md).
return function(sl)
  local core = sl.core
  local function_methods = core.function_mt.__index

  -- -- describing one var -----------------------------------------------------------
  local function type_text(v)
    local sizes = {}
    for i, s in ipairs(v:static_shape()) do sizes[i] = s < 0 and '?' or string.format('%d', s) end
    return v:dtype() .. ' (' .. table.concat(sizes, ', ') .. (#sizes == 1 and ',)' or ')')
  end

  local function number_text(x, dtype)
    if type(x) == 'boolean' then return tostring(x) end
    if dtype ~= 'float32' and dtype ~= 'float64' then return string.format('%d', x) end
    return string.format('%.6g', x)
  end

  -- A constant's value when it is small: "2", "{1, 2, 3}", "{{1, 2}, {3, 4}}".
  local SMALL = 8
  local function value_text(v)
    local t = v:get_value(true)
    if t:numel() > SMALL then return nil end
    local dtype = t:dtype()
    if t:dim() == 0 then return number_text(t:item(), dtype) end
    local function nest(x)
      if type(x) ~= 'table' then return number_text(x, dtype) end
      local parts = {}
      for i, y in ipairs(x) do parts[i] = nest(y) end
      return '{' .. table.concat(parts, ', ') .. '}'
    end
    return nest(t:totable())
  end

  -- What the line starts with: the op that computed v, or what kind of leaf it is.
  local function head(v)
    local node = v:owner()
    if not node then return v:kind() end
    if #node:outputs() > 1 then return node:op() .. ' (output ' .. v:output_index() .. ')' end
    return node:op()
  end

  local function describe(v)
    local s = head(v) .. ' [id ' .. v:id() .. ']'
    if v:name() then s = s .. " '" .. v:name() .. "'" end
    s = s .. ' ' .. type_text(v)
    local node = v:owner()
    if node and node:destroy() > 0 then s = s .. ' (destroys input ' .. node:destroy() .. ')' end
    if v:kind() == 'constant' then
      local val = value_text(v)
      if val then s = s .. ' = ' .. val end
      if v:is_weak() then s = s .. ' (weak)' end
    end
    return s
  end

  -- The roots a debugprint or graphviz call shows, each with a title or nil:
  -- a var, a list of vars, or a compiled function's outputs and updates.
  local function roots_of(x, what)
    if sl.is_var(x) then return { { var = x } } end
    if type(x) == 'userdata' and getmetatable(x) == core.function_mt then
      local info = x:info()
      local roots = {}
      for i, o in ipairs(info.outputs) do
        roots[#roots + 1] = { var = o, title = 'output ' .. i, short = 'output ' .. i }
      end
      for _, u in ipairs(info.updates) do
        local sh = u[1]
        roots[#roots + 1] = { var = u[2], title = 'update of ' .. describe(sh), shared = sh,
                              short = 'new ' .. (sh:name() or 'shared#' .. sh:id()) }
      end
      return roots, info
    end
    if type(x) == 'table' then
      local roots = {}
      for i, v in ipairs(x) do
        if not sl.is_var(v) then
          error(what .. ': item ' .. i .. ' of the list is a ' .. type(v) .. ', not a variable', 3)
        end
        roots[i] = { var = v }
      end
      return roots
    end
    error(what .. ': expected a variable, a list of variables or a compiled function, got '
      .. type(x), 3)
  end

  local function node_key(node) return node:outputs()[1]:id() end

  -- -- sl.debugprint ------------------------------------------------------------------
  -- sl.debugprint(x, opts): one line per var, inputs indented under the node
  -- that reads them; a subtree already shown is referred to by its id.
  -- It prints the text (and returns nothing, so the REPL shows it once);
  -- opts.print = false returns it instead. opts.depth limits the depth.
  function sl.debugprint(x, opts)
    opts = opts or {}
    local roots, info = roots_of(x, 'debugprint')
    local lines, seen = {}, {}
    local max_depth = opts.depth or math.huge
    local function walk(v, prefix, depth)
      local node = v:owner()
      if node and seen[node_key(node)] then
        lines[#lines + 1] = prefix .. describe(v) .. ' (see above)'
        return
      end
      lines[#lines + 1] = prefix .. describe(v)
      if not node then return end
      seen[node_key(node)] = true
      if depth >= max_depth then return end
      for _, input in ipairs(node:inputs()) do walk(input, prefix .. ' |', depth + 1) end
    end
    if info then
      local ins = {}
      for i, v in ipairs(info.inputs) do ins[i] = describe(v) end
      lines[#lines + 1] = string.format('function compiled at %s: %d input%s, %d output%s, %d update%s',
        info.where or '?', #info.inputs, #info.inputs == 1 and '' or 's',
        #info.outputs, #info.outputs == 1 and '' or 's',
        #info.updates, #info.updates == 1 and '' or 's')
      for i, s in ipairs(ins) do lines[#lines + 1] = 'input ' .. i .. ': ' .. s end
    end
    for _, r in ipairs(roots) do
      if r.title then lines[#lines + 1] = r.title .. ':' end
      walk(r.var, '', 0)
    end
    local text = table.concat(lines, '\n') .. '\n'
    if opts.print == false then return text end
    io.write(text)
  end

  -- -- sl.graphviz ---------------------------------------------------------------------
  local STYLE = {
    op       = 'shape=box, style="rounded,filled", fillcolor="#eeeeee"',
    result   = 'shape=ellipse',
    input    = 'shape=ellipse, style=filled, fillcolor="#9fd3ff"',
    shared   = 'shape=ellipse, style=filled, fillcolor="#a8e6a1", penwidth=2',
    constant = 'shape=ellipse, style=filled, fillcolor="#e6e6e6", fontcolor="#444444"',
    output   = 'shape=ellipse, style=filled, fillcolor="#ffcf7a", peripheries=2',
  }

  local function dot_quote(s)
    return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub('\n', '\\n') .. '"'
  end

  -- opts.compact folds each intermediate result into the box of its op.
  local function dot_text(roots, info, opts)
    local out = { 'digraph symlua {',
      '  rankdir=TB;',
      '  node [fontname="Helvetica", fontsize=11];',
      '  edge [fontname="Helvetica", fontsize=9];' }
    local function add(s) out[#out + 1] = '  ' .. s .. ';' end
    local titles, done_var, done_node = {}, {}, {}
    for _, r in ipairs(roots) do
      local id = r.var:id()
      titles[id] = titles[id] and (titles[id] .. ', ' .. (r.short or 'output')) or (r.short or '')
    end
    local function var_label(v)
      local parts = {}
      local title = titles[v:id()]
      if title and title ~= '' then parts[#parts + 1] = title end
      if v:name() then parts[#parts + 1] = v:name()
      elseif not v:owner() then parts[#parts + 1] = v:kind() end
      if v:kind() == 'constant' then
        local val = value_text(v)
        if val then parts[#parts] = val end
      end
      parts[#parts + 1] = type_text(v)
      return table.concat(parts, '\n')
    end
    -- in compact drawings a folded result is drawn by its op's box
    local function folded(v)
      local node = v:owner()
      return opts.compact and node and not titles[v:id()] and #node:outputs() == 1
    end
    local function graph_id(v)
      return folded(v) and 'n' .. node_key(v:owner()) or 'v' .. v:id()
    end
    local function visit(v)
      local id = v:id()
      if done_var[id] then return end
      done_var[id] = true
      local node = v:owner()
      if not folded(v) then
        local style = titles[id] and STYLE.output or STYLE[v:kind()] or STYLE.result
        add('v' .. id .. ' [label=' .. dot_quote(var_label(v)) .. ', ' .. style .. ']')
      end
      if not node then return end
      local key = node_key(node)
      if not folded(v) then
        add('n' .. key .. ' -> v' .. id
          .. (#node:outputs() > 1 and ' [label="' .. v:output_index() .. '"]' or ''))
      end
      if done_node[key] then return end
      done_node[key] = true
      local label = node:op()
      if folded(v) then label = label .. (v:name() and '\n' .. v:name() or '') .. '\n' .. type_text(v) end
      add('n' .. key .. ' [label=' .. dot_quote(label) .. ', ' .. STYLE.op .. ']')
      local ins = node:inputs()
      for i, input in ipairs(ins) do
        visit(input)
        add(graph_id(input) .. ' -> n' .. key .. (#ins > 1 and ' [label="' .. i .. '"]' or ''))
      end
    end
    for _, r in ipairs(roots) do visit(r.var) end
    for _, r in ipairs(roots) do
      if r.shared then   -- an update: the new value flows back into the shared variable
        visit(r.shared)
        add(graph_id(r.var) .. ' -> v' .. r.shared:id()
          .. ' [style=dashed, color="#2e8b57", fontcolor="#2e8b57", label="update", constraint=false]')
      end
    end
    if info and info.where then add('label=' .. dot_quote('function compiled at ' .. info.where)) end
    out[#out + 1] = '}'
    return table.concat(out, '\n') .. '\n'
  end

  local function write_file(path, text)
    local f, err = io.open(path, 'w')
    if not f then error('graphviz: cannot write ' .. tostring(err), 3) end
    f:write(text)
    f:close()
  end

  local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

  local function succeeded(a, _, c)   -- os.execute: 0 in Lua 5.1, true (or code 0) in 5.2 mode
    return a == 0 or (a == true and (c == nil or c == 0))
  end

  -- sl.graphviz(x, path, opts): x a var, list of vars or compiled function.
  -- A path ending in .svg or .png is rendered with Graphviz's dot (opts.dot
  -- names the program); without it the .dot text goes to path .. '.dot', with
  -- a warning on stderr unless opts.quiet.
  -- opts.compact = true draws each intermediate result inside its op's box.
  -- Returns the path written and the .dot text.
  function sl.graphviz(x, path, opts)
    opts = opts or {}
    if type(path) ~= 'string' then error('graphviz: expected a file path, got ' .. type(path), 2) end
    local roots, info = roots_of(x, 'graphviz')
    local text = dot_text(roots, info, opts)
    local format = path:match('%.(%a+)$')
    format = format and format:lower()
    if format ~= 'svg' and format ~= 'png' then
      write_file(path, text)
      return path, text
    end
    local dot = opts.dot or 'dot'
    if succeeded(os.execute('command -v ' .. shell_quote(dot) .. ' >/dev/null 2>&1')) then
      local tmp = os.tmpname()
      write_file(tmp, text)
      local ok = succeeded(os.execute(string.format('%s -T%s -o %s %s', shell_quote(dot), format,
        shell_quote(path), shell_quote(tmp))))
      os.remove(tmp)
      if not ok then error('graphviz: ' .. dot .. ' failed to render ' .. path, 2) end
      return path, text
    end
    local dotpath = path .. '.dot'
    if not opts.quiet then
      io.stderr:write(string.format('symlua: graphviz: %s not found, wrote %s instead of %s\n',
        dot, dotpath, path))
    end
    write_file(dotpath, text)
    return dotpath, text
  end

  -- -- profiles and the NaN guard ---------------------------------------------------------
  -- f:profile(opts): the profile so far, nodes and op classes sorted by time
  -- (each with its percentage of the calls' time); prints it unless
  -- opts.print == false; opts.reset = true starts counting afresh.
  function function_methods.profile(f, opts)
    opts = opts or {}
    local p = core.function_profile(f, opts.reset)
    if not p then
      error('profile: this function was compiled without profiling; pass { profile = true } '
        .. 'to sl.compile or set SYMLUA_PROFILE=1', 2)
    end
    local total = p.time > 0 and p.time or 1
    local ops, by_op = {}, {}
    for i, e in ipairs(p.nodes) do
      e.index = i
      e.percent = 100 * e.time / total
      local o = by_op[e.op]
      if not o then
        o = { op = e.op, time = 0, nodes = 0 }
        by_op[e.op] = o
        ops[#ops + 1] = o
      end
      o.time = o.time + e.time
      o.nodes = o.nodes + 1
    end
    table.sort(p.nodes, function(a, b)
      if a.time ~= b.time then return a.time > b.time end
      return a.index < b.index
    end)
    for _, o in ipairs(ops) do o.percent = 100 * o.time / total end
    table.sort(ops, function(a, b)
      if a.time ~= b.time then return a.time > b.time end
      return a.op < b.op
    end)
    p.ops = ops
    if opts.print ~= false then io.write(p.text) end
    return p
  end
end
