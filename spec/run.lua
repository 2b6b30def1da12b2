-- Runs the Busted specs inside bin/symlua (make check); settings come from .busted.
-- Busted reports failures by raising an error with no message: exit 1 then.
local ok, err = pcall(require 'busted.runner', { standalone = false })
if not ok then
  if err ~= nil then io.stderr:write(tostring(err), '\n') end
  os.exit(1)
end
