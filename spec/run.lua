-- Runs the Busted specs inside bin/symlua (make check); settings come from .busted.
-- Busted reports failures by raising an error with no message: exit 1 then.
-- Generated code is compiled by libtcc (milliseconds, not seconds, a function)
-- unless SYMLUA_COMPILE says otherwise; specs that need the optimizing
-- compiler's code set sl.config.compile = 'sync' (codegen_spec.lua runs its
-- whole comparison with both). Set here, so that child processes inherit it.
local ffi = require 'ffi'
pcall(ffi.cdef, 'int setenv(const char *name, const char *value, int overwrite);')
ffi.C.setenv('SYMLUA_COMPILE', 'tcc', 0)
-- No calibration of the kernel thresholds in the background: its probes
-- would compile into the cache directory that specs count, and take a core.
-- spec/tune_spec.lua calibrates explicitly.
ffi.C.setenv('SYMLUA_AUTOTUNE', '0', 0)
local ok, err = pcall(require 'busted.runner', { standalone = false })
if not ok then
  if err ~= nil then io.stderr:write(tostring(err), '\n') end
  os.exit(1)
end
