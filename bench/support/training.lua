-- What the training benches (nn, scan) share: the thread count they run at
-- (BENCH_THREADS, or every core) and a per-call timer on the given clock.
--   local training = dofile(here .. 'support/training.lua')(now)
return function(now)
  local M = {}

  local function nproc()
    local p = io.popen('nproc 2>/dev/null')
    local n = p and tonumber(p:read('*l')) or 1
    if p then p:close() end
    return n
  end
  M.threads = tonumber(os.getenv('BENCH_THREADS')) or nproc()

  -- seconds per call: the best of three runs of n calls, after one warm-up call
  function M.per_call(f, n)
    f()
    local best = math.huge
    for _ = 1, 3 do
      local t0 = now()
      for _ = 1, n do f() end
      best = math.min(best, (now() - t0) / n)
    end
    return best
  end

  return M
end
