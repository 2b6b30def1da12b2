-- examples/embed/controller.lua — the model that the C host (host.c) runs: a
-- linear policy, action = state * W + b, fitted by gradient descent to the
-- host's demonstrations, which the host hands over as tensors over its own
-- arrays (demo_states, demo_actions: no copy). The host then takes `policy`
-- out and calls it from its control threads, with no Lua on the call path.
local sl = require 'symlua'
sl.config.compile = 'sync'   -- built at the first call, nothing left compiling at exit

local s, a = sl.matrix('s'), sl.matrix('a')
local W = sl.shared(sl.zeros(demo_states:size(2), demo_actions:size(2)), 'W')
local b = sl.shared(sl.zeros(demo_actions:size(2)), 'b')
local action = s:dot(W) + b
local loss = ((action - a) ^ 2):mean()
local gW, gb = unpack(sl.grad(loss, { W, b }))
local fit = sl.compile({ s, a }, loss, { updates = { [W] = W - 0.5 * gW, [b] = b - 0.5 * gb } })

for _ = 1, 400 do fit_loss = fit(demo_states, demo_actions) end

policy = sl.compile({ s }, action)
weights, bias = W:get_value(), b:get_value()
