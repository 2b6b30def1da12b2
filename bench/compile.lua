-- compile.lua — how soon compiled functions answer (tiered compilation,
-- core/backend/c/tier.c): for a one-kernel function, the logistic-regression training
-- step and the MLP training step of examples/mlp.lua, each in a fresh
-- process with an empty compile cache: the time to the first result, until
-- the optimized code takes over, the call time on tcc code and on the
-- optimized code; then the first result of a fresh process with the cache
-- filled, and (for comparison) the first call under compile = 'sync'.
--
-- Run: bin/symlua bench/compile.lua
local here = (arg and arg[0] or ''):match('^(.*/)') or './'
local now = dofile(here .. 'support/clock.lua')

local function median(t)
  table.sort(t)
  return t[math.floor((#t + 1) / 2)]
end

-- -- a child process: one case, one mode, against one cache directory ----------------------
if arg and arg[1] == '--case' then
  local sl = require 'symlua'
  local steps = dofile(here .. 'support/steps.lua')
  local name, mode = arg[2], arg[3]
  sl.config.compile = mode
  local f, args = steps[name]()
  local t0 = now()
  f(unpack(args))
  local first, tier0 = now() - t0, f:info().tier
  local function call_time()
    local s = now()
    f(unpack(args))
    return now() - s
  end
  local before, after = {}, {}
  while f:info().tier == 'tcc' and #before < 20 do before[#before + 1] = call_time() end
  while f:info().tier == 'tcc' and now() - t0 < 120 do   -- polls between calls, as a loop would
    f(unpack(args))
    os.execute('sleep 0.005')
  end
  local switched = f:info().tier == 'cc' and tier0 == 'tcc' and now() - t0 or nil
  for i = 1, 20 do after[i] = call_time() end
  print(('result %s %.9f %s %s %s'):format(tier0, first, switched and ('%.9f'):format(switched) or '-',
    #before > 0 and ('%.9f'):format(median(before)) or '-', ('%.9f'):format(median(after))))
  return
end

-- -- the parent: fresh processes, one empty cache directory per case --------------------------
local function self_exe()
  local ffi = require 'ffi'
  pcall(ffi.cdef, 'long readlink(const char *path, char *buf, size_t size);')
  local buf = ffi.new('char[4096]')
  local n = ffi.C.readlink('/proc/self/exe', buf, 4095)
  return n > 0 and ffi.string(buf, n) or 'bin/symlua'
end

local function run(cmd)
  local p = assert(io.popen(cmd, 'r'))
  local out = p:read('*a')
  p:close()
  return out
end

local function case(name, mode, dir)
  local out = run(("SYMLUA_CACHE_DIR='%s' '%s' '%s' --case %s %s 2>&1"):format(dir, self_exe(),
    arg and arg[0] or 'bench/compile.lua', name, mode))
  local tier, first, switched, before, after = out:match('result (%S+) (%S+) (%S+) (%S+) (%S+)')
  if not tier then error('bench case ' .. name .. ' failed:\n' .. out) end
  return { tier = tier, first = tonumber(first), switched = tonumber(switched),
           before = tonumber(before), after = tonumber(after) }
end

-- milliseconds, or microseconds below one
local function ms(t)
  if not t then return 'n/a' end
  return t < 1e-3 and ('%.1f us'):format(t * 1e6) or ('%.1f ms'):format(t * 1e3)
end

print(('# symlua compile latency (%s)'):format(os.date('!%Y-%m-%d %H:%M UTC')))
print()
print('| function | first result | optimized from | call on tcc | call optimized | cache hit, fresh process | sync first call | sync call |')
print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
for _, c in ipairs { { 'one_kernel', '(a) one kernel, 1000 doubles' },
                     { 'logistic', '(b) logistic-regression step' },
                     { 'mlp', '(c) MLP step (examples/mlp.lua)' } } do
  local dir, sdir = run('mktemp -d'):gsub('%s+$', ''), run('mktemp -d'):gsub('%s+$', '')
  local cold = case(c[1], 'tiered', dir)
  local hit = case(c[1], 'tiered', dir)
  local sync = case(c[1], 'sync', sdir)
  run(("rm -rf '%s' '%s'"):format(dir, sdir))
  print(('| %s | %s (%s) | %s | %s | %s | %s (%s) | %s | %s |'):format(c[2],
    ms(cold.first), cold.tier, ms(cold.switched), ms(cold.before), ms(cold.after),
    ms(hit.first), hit.tier, ms(sync.first), ms(sync.after)))
end
print()
print('Each row from fresh processes: "first result" is the first call with an')
print('empty cache (tcc code when libtcc is linked in), "optimized from" the time from that call')
print('until the optimizing compiler\'s code took over, the call columns medians of 20 calls.')
print('Targets: first result of (b) <= 30 ms, of (a) <= 5 ms; a cache hit <= 5 ms.')
