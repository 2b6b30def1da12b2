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

return M
