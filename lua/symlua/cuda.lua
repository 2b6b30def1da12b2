-- sl.cuda: the CUDA backend's face (core/backend/cuda). libcuda and libnvrtc
-- are opened at run time; on a machine without them every call says so.
--
--   sl.cuda.available()        true when the driver sees a device
--   sl.cuda.why()              why not (the message naming the missing library), or nil
--   sl.cuda.devices()          per device: name, major, minor, multiprocessors,
--                              max_threads_per_block, total_memory
--   sl.cuda.nvrtc_version()    e.g. 13000, or nil and the reason
--   sl.cuda.source(f)          the CUDA C++ source of compiled function f's kernels
--   sl.cuda.ptx(src, arch)     NVRTC's PTX for arch (default 'compute_90') and
--                              whether the disk cache had it
return function(sl)
  local cc = sl.core.cuda
  sl.cuda = {
    available = cc.available, why = cc.why, devices = cc.devices,
    nvrtc_version = cc.nvrtc_version, source = cc.source, ptx = cc.ptx,
  }
end
