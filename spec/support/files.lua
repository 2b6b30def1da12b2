-- Files and programs for the specs: the symlua binary running them, and
-- whole-file reads and writes.
local M = {}

local spec_dir = debug.getinfo(1, 'S').source:match('^@(.*)/support/[^/]*$') or 'spec'
if spec_dir:sub(1, 1) ~= '/' then spec_dir = (os.getenv('PWD') or '.') .. '/' .. spec_dir end
M.root = spec_dir .. '/..'

-- The binary running these specs when it is a symlua (make sanitize runs
-- them under bin/symlua-san), else the checkout's bin/symlua.
do
  local ffi = require 'ffi'
  pcall(ffi.cdef, 'long readlink(const char *path, char *buf, size_t size);')
  local buf = ffi.new('char[4096]')
  local n = ffi.C.readlink('/proc/self/exe', buf, 4096)
  local exe = n > 0 and ffi.string(buf, n) or nil
  M.symlua = (exe and exe:match('/symlua[^/]*$')) and exe or M.root .. '/bin/symlua'
end

-- A fresh empty directory (mktemp -d).
function M.tmpdir()
  local p = io.popen('mktemp -d')
  local d = p:read('*l')
  p:close()
  return d
end

function M.read(path)
  local f = io.open(path, 'rb')
  if not f then return nil end
  local s = f:read('*a')
  f:close()
  return s
end

function M.write(path, text)
  local f = assert(io.open(path, 'wb'))
  f:write(text)
  f:close()
  return path
end

-- Whether s contains pattern as plain text.
function M.plain_find(s, pattern) return s:find(pattern, 1, true) ~= nil end

-- A shell command's standard output.
function M.shell(cmd)
  local p = assert(io.popen(cmd, 'r'))
  local out = p:read('*a')
  p:close()
  return out
end

-- A fresh temporary directory.
function M.mktemp_dir() return (M.shell('mktemp -d'):gsub('%s+$', '')) end

-- Runs a Lua script (text) in a fresh symlua with env settings ("A=1 B=2");
-- returns its stdout and stderr.
function M.run_script(env, script)
  local path = M.write(os.tmpname(), script)
  local errpath = os.tmpname()
  local p = io.popen(string.format("env %s '%s' '%s' 2>'%s'", env, M.symlua, path, errpath))
  local out = p:read('*a')
  p:close()
  local err = M.read(errpath)
  os.remove(path)
  os.remove(errpath)
  return out, err
end

return M
