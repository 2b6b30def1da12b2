-- sl.cuda: the CUDA backend's face (core/backend/cuda). libcuda and libnvrtc
-- are opened at run time; on a machine without them every call says so.
--
--   sl.cuda.available()        true when the driver sees a device
--   sl.cuda.why()              why not (the message naming the missing library), or nil
--   sl.cuda.devices()          per device: name, major, minor, multiprocessors,
--                              max_threads_per_block, total_memory
--   sl.cuda.nvrtc_version()    e.g. 13000, or nil and the reason
--   sl.cuda.source(f)          the CUDA C++ source of compiled function f's kernels
--   sl.cuda.ptx(src, arch)     NVRTC's PTX for a virtual arch (default 'compute_90'),
--                              which the driver compiles for any later device, and
--                              whether the disk cache had it
--   sl.cuda.cubin(src, arch)   the cubin (ELF bytes) for a real arch (default 'sm_90'):
--                              machine code for that device, no JIT; and the same flag
--   sl.cuda.draw_source()      the CUDA C++ source of the kernel of random draws
--   sl.cuda.host_draw(t, normal, seed, offset)
--                              fills contiguous float t by the device's kernel of random
--                              draws under host emulation: the values sl.rand (sl.randn
--                              when normal) gives after sl.manual_seed(seed) at block offset
return function(sl)
  local cc = sl.core.cuda
  sl.cuda = {
    available = cc.available, why = cc.why, devices = cc.devices,
    nvrtc_version = cc.nvrtc_version, source = cc.source, ptx = cc.ptx, cubin = cc.cubin,
    host_draw = cc.host_draw, draw_source = cc.draw_source,
  }
end
