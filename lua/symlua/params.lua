-- Parameters of a model: initial values (sl.init: Glorot and He), and
-- saving or loading a set of shared variables as a directory of .npy files.
return function(sl)
  local core = sl.core
  local ffi = require 'ffi'
  pcall(ffi.cdef, 'int mkdir(const char *path, unsigned int mode);')
  sl.init = sl.init or {}

  -- -- initialization ------------------------------------------------------------------------
  -- Fans of a weight shape: (in, out) for a dense layer used as x:dot(W);
  -- (out_channels, in_channels, kh, kw, ...) for convolution filters.
  local function fans(name, shape)
    if type(shape) ~= 'table' or #shape < 1 then
      core.fail('init.%s: expected a shape (a list of sizes), got %s', name, type(shape))
    end
    if #shape == 1 then return shape[1], shape[1] end
    if #shape == 2 then return shape[1], shape[2] end
    local field = 1
    for d = 3, #shape do field = field * shape[d] end
    return shape[2] * field, shape[1] * field
  end

  local function options(opts)
    opts = opts or {}
    return opts.gain or 1, opts.dtype or sl.config.floatX
  end

  local function uniform(shape, limit, dtype) return (sl.rand(shape, dtype) * 2 - 1) * limit end
  local function normal(shape, std, dtype) return sl.randn(shape, dtype) * std end

  -- Glorot & Bengio: variance 2 / (fan_in + fan_out)
  function sl.init.glorot_uniform(shape, opts)
    local gain, dtype = options(opts)
    local fin, fout = fans('glorot_uniform', shape)
    return uniform(shape, gain * math.sqrt(6 / (fin + fout)), dtype)
  end
  function sl.init.glorot_normal(shape, opts)
    local gain, dtype = options(opts)
    local fin, fout = fans('glorot_normal', shape)
    return normal(shape, gain * math.sqrt(2 / (fin + fout)), dtype)
  end
  -- He et al., for ReLU layers: variance 2 / fan_in
  function sl.init.he_uniform(shape, opts)
    local gain, dtype = options(opts)
    local fin = fans('he_uniform', shape)
    return uniform(shape, gain * math.sqrt(6 / fin), dtype)
  end
  function sl.init.he_normal(shape, opts)
    local gain, dtype = options(opts)
    local fin = fans('he_normal', shape)
    return normal(shape, gain * math.sqrt(2 / fin), dtype)
  end

  -- -- saving and loading --------------------------------------------------------------------------
  local function check_params(what, params)
    if type(params) ~= 'table' or #params == 0 then
      core.fail('%s: expected a list of shared variables', what)
    end
    local seen = {}
    for i, p in ipairs(params) do
      if not sl.is_var(p) or p:kind() ~= 'shared' then
        core.fail('%s: item %d is not a shared variable', what, i)
      end
      local name = p:name()
      if not name or not name:match('^[%w_.%-]+$') then
        core.fail("%s: shared variable %d needs a name of letters, digits, '_', '.' or '-' "
                  .. "(it names its file), got %s", what, i, name and ("'" .. name .. "'") or 'none')
      end
      if seen[name] then core.fail("%s: two shared variables are named '%s'", what, name) end
      seen[name] = true
    end
  end

  -- A NUL byte would cut the path where the system reads it (mkdir, open).
  local function check_dir(what, dir)
    if type(dir) ~= 'string' then core.fail('%s: expected a directory path', what) end
    local nul = dir:find('\0', 1, true)
    if nul then core.fail('%s: the path has a NUL byte at byte %d of %d', what, nul, #dir) end
  end

  -- sl.save_params(dir, params): one NAME.npy per shared variable in dir
  -- (created if needed). Each file is written under a temporary name and
  -- renamed, so an interrupted save never leaves a half-written file.
  function sl.save_params(dir, params)
    check_params('save_params', params)
    check_dir('save_params', dir)
    ffi.C.mkdir(dir, tonumber('755', 8))
    for _, p in ipairs(params) do
      local path = dir .. '/' .. p:name() .. '.npy'
      local tmp = path .. '.tmp'
      local ok, err = pcall(sl.save, tmp, p:get_value(true))
      if not ok then core.fail('save_params: cannot write %s (%s)', path, tostring(err)) end
      local renamed, rerr = os.rename(tmp, path)
      if not renamed then core.fail('save_params: cannot write %s (%s)', path, tostring(rerr)) end
    end
    return #params
  end

  -- sl.load_params(dir, params): sets every shared variable from dir/NAME.npy.
  -- All files are read and checked before any variable changes.
  function sl.load_params(dir, params)
    check_params('load_params', params)
    check_dir('load_params', dir)
    local values = {}
    for i, p in ipairs(params) do
      local path = dir .. '/' .. p:name() .. '.npy'
      local ok, t = pcall(sl.load, path)
      if not ok then core.fail('load_params: %s', tostring(t):gsub('^[^:]*:%d+: ', '')) end
      local want = p:get_value(true)
      if t:dtype() ~= want:dtype() or t:dim() ~= want:dim() then
        core.fail("load_params: %s holds %s with %d dimensions, but '%s' is %s with %d", path,
                  t:dtype(), t:dim(), p:name(), want:dtype(), want:dim())
      end
      values[i] = t
    end
    for i, p in ipairs(params) do p:set_value(values[i]) end
    return #params
  end
end
