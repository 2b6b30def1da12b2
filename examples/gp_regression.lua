-- Gaussian-process regression: fit the kernel's hyperparameters to noisy
-- data by maximizing the marginal likelihood, through cholesky, cho_solve
-- and slogdet, with gradients with respect to the length scale, the signal
-- scale and the noise; then predict with error bars and plot to SVG.
-- Run: bin/symlua examples/gp_regression.lua [out.svg]
local sl = require 'symlua'

sl.manual_seed(3)
local N, NTEST, NOISE = 40, 200, 0.2
local function truth(x) return sl.sin(x) + 0.5 * sl.cos(2.5 * x) end
local xs = sl.rand(N) * 10
local ys = truth(xs) + sl.randn(N) * NOISE
local xt = sl.linspace(0, 10, NTEST)

-- log-parameters keep the length scale, signal scale and noise positive
local log_len = sl.shared(0.0, 'log_length_scale')
local log_sf = sl.shared(0.0, 'log_signal')
local log_noise = sl.shared(-1.0, 'log_noise')

-- the squared-exponential kernel between two sets of points
local function kernel(a, b)
  local d = a:dimshuffle(1, 'x') - b:dimshuffle('x', 1)
  return sl.exp(2 * log_sf) * sl.exp(-0.5 * d * d / sl.exp(2 * log_len))
end

local x, y = sl.vector('x'), sl.vector('y')
local K = kernel(x, x) + sl.eye(N) * sl.exp(2 * log_noise)
local L = sl.cholesky(K)
local alpha = sl.cho_solve(L, y)
local _, logdet = sl.slogdet(K)
-- the negative log marginal likelihood, per point
local nll = (0.5 * sl.dot(y, alpha) + 0.5 * logdet + 0.5 * N * math.log(2 * math.pi)) / N

local params = { log_len, log_sf, log_noise }
local grads = sl.grad(nll, params)
local train = sl.compile({ x, y }, { nll, unpack(grads) },
  { updates = sl.optim.adam(params, nll, { lr = 0.05 }) })

local first
for step = 1, 300 do
  local loss, gl, gs, gn = train(xs, ys)
  first = first or loss:item()
  if step % 50 == 0 then
    print(('step %3d  nll %.4f  d/dlog_len %+.2e  d/dlog_noise %+.2e'):format(step, loss:item(), gl:item(), gn:item()))
  end
end

-- the posterior at the test points: mean K* alpha, variance k** - |L^-1 K*^T|^2
local xq = sl.vector('xq')
local Ks = kernel(xq, x)
local mean = sl.dot(Ks, alpha)
local v = sl.solve_triangular(L, Ks:transpose(), { lower = true })
local var = sl.exp(2 * log_sf) - sl.sum(v * v, 1)
local predict = sl.compile({ x, y, xq }, { mean, var })
local mu, s2 = predict(xs, ys, xt)
local sd = sl.sqrt(sl.maximum(s2, 0))
local rmse = sl.sqrt(sl.mean((mu - truth(xt)) ^ 2)):item()

local len, sf, noise = math.exp(log_len:get_value():item()), math.exp(log_sf:get_value():item()),
  math.exp(log_noise:get_value():item())
print(('fitted: length scale %.3f, signal scale %.3f, noise %.3f (data made with noise %.2f)'):format(len, sf, noise, NOISE))
print(('negative log likelihood per point: %.4f -> %.4f'):format(first, train(xs, ys):item()))
print(('test RMSE against the noise-free function: %.4f'):format(rmse))

-- the plot: truth (grey), posterior mean (blue) with a 2-sd band, data (dots)
local function write_svg(path)
  local W, H, PAD = 900, 420, 40
  local lo, hi = -2.5, 2.5
  local function px(t) return PAD + t / 10 * (W - 2 * PAD) end
  local function py(v) return H - PAD - (v - lo) / (hi - lo) * (H - 2 * PAD) end
  local function points(xv, yv)
    local pts = {}
    for i, t in ipairs(xv) do pts[#pts + 1] = ('%.1f,%.1f'):format(px(t), py(yv[i])) end
    return pts
  end
  local xtab, m, s = xt:totable(), mu:totable(), sd:totable()
  local upper, lower = {}, {}
  for i = 1, NTEST do upper[i], lower[i] = m[i] + 2 * s[i], m[i] - 2 * s[i] end
  local band = points(xtab, upper)
  local back = points(xtab, lower)
  for i = #back, 1, -1 do band[#band + 1] = back[i] end
  local f = assert(io.open(path, 'w'))
  f:write(('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d">\n'):format(W, H))
  f:write('<rect width="100%" height="100%" fill="white"/>\n')
  f:write(('<text x="%d" y="24" font-family="sans-serif" font-size="15">GP posterior: mean (blue), 2 sd '
    .. '(shaded), truth (grey), data (dots); length scale %.2f, noise %.2f, test RMSE %.3f</text>\n')
    :format(PAD, len, noise, rmse))
  f:write(('<polygon fill="#1f77b4" fill-opacity="0.2" stroke="none" points="%s"/>\n'):format(table.concat(band, ' ')))
  f:write(('<polyline fill="none" stroke="#999999" stroke-width="1.5" points="%s"/>\n')
    :format(table.concat(points(xtab, truth(xt):totable()), ' ')))
  f:write(('<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="%s"/>\n')
    :format(table.concat(points(xtab, m), ' ')))
  local xd, yd = xs:totable(), ys:totable()
  for i = 1, N do f:write(('<circle cx="%.1f" cy="%.1f" r="3" fill="black"/>\n'):format(px(xd[i]), py(yd[i]))) end
  f:write('</svg>\n')
  f:close()
end
local out = arg and arg[1] or 'gp_regression.svg'
write_svg(out)
print('plot written to ' .. out)
if rmse > 0.2 then error(('test RMSE %.3f is too high: the fit failed'):format(rmse)) end
