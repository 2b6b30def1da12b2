-- The benches' timer: the best of `reps` timed calls (default 9) after one
-- untimed warm-up call, in seconds, on the clock given (support/clock.lua).
-- Loaded with dofile next to a bench: dofile(here .. 'support/best.lua')(now).
return function(now)
  return function(f, reps)
    f()
    local t = math.huge
    for _ = 1, reps or 9 do
      local t0 = now()
      f()
      t = math.min(t, now() - t0)
    end
    return t
  end
end
