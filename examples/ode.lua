-- ode.lua — an oscillator x'' = -k x integrated with a fixed step by
-- classical Runge-Kutta, written as a symbolic loop (sl.scan), and the
-- derivative of the final position with respect to the stiffness k taken
-- through all the steps (backpropagation through the loop). From x(0) = 1,
-- x'(0) = 0 the solution is x(t) = cos(sqrt(k) t), so the analytic values are
--   x(T) = cos(w T),   dx(T)/dk = -T sin(w T) / (2 w),   w = sqrt(k).
--
-- Run: bin/symlua examples/ode.lua [k] [T] [steps]   (default 2, 5, 500)
local sl = require 'symlua'

local K = tonumber(arg and arg[1]) or 2
local T = tonumber(arg and arg[2]) or 5
local STEPS = tonumber(arg and arg[3]) or 500
local H = T / STEPS

local k = sl.scalar('k')
local function deriv(s, k)   -- s = (x, x'), ds/dt = (x', -k x)
  return sl.stack({ s[2], -k * s[1] })
end
local path = sl.scan(function(s, k)
  local k1 = deriv(s, k)
  local k2 = deriv(s + k1 * (H / 2), k)
  local k3 = deriv(s + k2 * (H / 2), k)
  local k4 = deriv(s + k3 * H, k)
  return s + (k1 + k2 * 2 + k3 * 2 + k4) * (H / 6)
end, { outputs_info = { sl.tensor({ 1, 0 }, 'float64') }, non_sequences = { k }, n_steps = STEPS })
local x_end = path[-1][1]
local f = sl.compile({ k }, { x_end, sl.grad(x_end, k) })

local x, dx = f(K)
local w = math.sqrt(K)
local want_x, want_dx = math.cos(w * T), -T * math.sin(w * T) / (2 * w)
print(('%d Runge-Kutta steps of %g to t = %g, k = %g'):format(STEPS, H, T, K))
print(('x(T)     = %.12f   analytic %.12f   difference %.2e'):format(x:item(), want_x, math.abs(x:item() - want_x)))
print(('dx(T)/dk = %.12f   analytic %.12f   difference %.2e'):format(dx:item(), want_dx, math.abs(dx:item() - want_dx)))
-- RK4's error is O(h^4): with h = 0.01 both agree to about 1e-9
if math.abs(x:item() - want_x) > 1e-7 or math.abs(dx:item() - want_dx) > 1e-7 then
  print('the integration or its gradient is off')
  os.exit(1, true)
end
