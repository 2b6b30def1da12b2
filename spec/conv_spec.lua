-- Convolution, pooling and batch normalization: each algorithm against the
-- direct definition and NumPy, gradients by finite differences, errors.
local sl = require 'symlua'
local np = require 'spec.support.numpy'

local check = require 'spec.support.check'
local err = check.err

local function diff(a, b) return (a - b):abs():max():item() end

-- NumPy's convolution (groups 1) through sliding windows.
local NP_CONV = [[
(lambda xp, w, s, d: np.einsum('nchwij,kcij->nkhw',
   np.lib.stride_tricks.sliding_window_view(xp, ((w.shape[2]-1)*d+1, (w.shape[3]-1)*d+1),
                                            axis=(2, 3))[:, :, ::s, ::s, ::d, ::d], w))
(np.pad(x, ((0, 0), (0, 0), (P, P), (P, P))), w, S, D)]]

describe('conv2d', function()
  sl.manual_seed(2)
  local x = sl.randn(2, 4, 9, 8)
  local cases = {
    { 'plain', {} }, { 'stride 2', { stride = 2 } }, { 'padding 1', { padding = 1 } },
    { 'dilation 2', { dilation = 2, padding = { 2, 1 } } },
    { 'mixed stride and padding', { stride = { 1, 2 }, padding = 2 } },
  }
  for _, c in ipairs(cases) do
    it('im2col agrees with the direct loop: ' .. c[1], function()
      local w = sl.randn(6, 4, 3, 3)
      local a, d = { algo = 'im2col' }, { algo = 'direct' }
      for k, v in pairs(c[2]) do a[k], d[k] = v, v end
      assert.is_true(diff(sl.nn.conv2d(x, w, a), sl.nn.conv2d(x, w, d)) < 1e-12)
    end)
  end

  it('groups split the channels', function()
    local w = sl.randn(6, 2, 3, 3)
    local y = sl.nn.conv2d(x, w, { groups = 2, algo = 'im2col' })
    assert.is_true(diff(y, sl.nn.conv2d(x, w, { groups = 2, algo = 'direct' })) < 1e-12)
    -- group 2's outputs only see channels 3-4
    local half = sl.nn.conv2d(x[{ {}, { 3, 4 } }]:clone(), w[{ { 4, 6 } }]:clone(), { algo = 'direct' })
    assert.is_true(diff(y[{ {}, { 4, 6 } }], half) < 1e-12)
  end)

  it('the FFT path agrees with the others, float64 and float32, and is chosen for large kernels', function()
    local w = sl.randn(3, 4, 7, 7)
    local fft = sl.nn.conv2d(x, w, { algo = 'fft', padding = 3 })
    assert.is_true(diff(fft, sl.nn.conv2d(x, w, { algo = 'direct', padding = 3 })) < 1e-10)
    assert.is_true(diff(fft, sl.nn.conv2d(x, w, { algo = 'im2col', padding = 3 })) < 1e-10)
    local xf, wf = x:cast('float32'), w:cast('float32')
    assert.is_true(diff(sl.nn.conv2d(xf, wf, { algo = 'fft', padding = 3 }),
                        sl.nn.conv2d(xf, wf, { algo = 'direct', padding = 3 })) < 1e-4)
    assert.matches('the FFT algorithm needs stride 1',
                   err(sl.nn.conv2d, x, w, { algo = 'fft', stride = 2 }))
  end)

  -- <conv(x, w), g> = <x, grad_input(g, w)> = <w, grad_filters(x, g)>: the
  -- gradient ops are the adjoints of the direct definition in any direction
  local function adjoint_gaps(xs, w, opts, dt)
    local d = { algo = 'direct' }
    for k, v in pairs(opts) do d[k] = v end
    local y = sl.nn.conv2d(xs, w, d)
    local g = sl.randn(y:size(1), y:size(2), y:size(3), y:size(4), dt)
    local X, W = sl.tensor4('X', dt), sl.tensor4('W', dt)
    local gx, gw = sl.compile({ X, W }, sl.grad((sl.nn.conv2d(X, W, opts) * g):sum(), { X, W }))(xs, w)
    local yg = (y * g):sum():item()
    local scale = math.abs(yg) + 1
    return math.abs(yg - (xs * gx):sum():item()) / scale, math.abs(yg - (w * gw):sum():item()) / scale
  end

  -- the batch in chunks of several images, one thread and two; odd sizes
  for _, threads in ipairs({ 1, 2 }) do
    it('im2col over chunks of the batch agrees with the direct loop, and its gradients are its adjoints, '
       .. threads .. ' thread(s)', function()
      local saved = sl.config.threads
      sl.config.threads = threads
      local cases = {
        { {}, 3 }, { { stride = 2, padding = 1 }, 3 }, { { stride = { 2, 1 }, padding = { 0, 2 } }, 3 },
        { { dilation = 2, padding = { 2, 1 } }, 3 }, { { groups = 2, padding = 1 }, 2 },
        { { groups = 4, stride = 3, padding = 2, dilation = { 1, 2 } }, 1 },
      }
      for _, dt in ipairs({ 'float64', 'float32' }) do
        local tol = dt == 'float64' and 1e-12 or 1e-4
        local xs = sl.randn(7, 4, 5, 6, dt)   -- 7 images: chunks of 4 and 3 on two threads
        for _, c in ipairs(cases) do
          local opts, cin = c[1], c[2]
          local w = sl.randn(8, 4 / (opts.groups or 1), cin, 3, dt)
          local a, d = { algo = 'im2col' }, { algo = 'direct' }
          for k, v in pairs(opts) do a[k], d[k] = v, v end
          assert.is_true(diff(sl.nn.conv2d(xs, w, a), sl.nn.conv2d(xs, w, d)) < tol, dt)
          local gap_x, gap_w = adjoint_gaps(xs, w, a, dt)
          assert.is_true(gap_x < tol and gap_w < tol, ('%s %g %g'):format(dt, gap_x, gap_w))
        end
      end
      sl.config.threads = saved
    end)
  end

  -- each Winograd rule: the algorithm, its filter size, and cases (N, C, H, W, K, padding)
  local WINOGRAD = {
    { 'winograd', 3, { { 2, 3, 7, 5, 4, 1 }, { 3, 4, 8, 8, 5, 0 }, { 1, 2, 5, 9, 3, 2 }, { 5, 6, 1, 1, 2, 1 },
                       { 4, 3, 6, 6, 2, 3 }, { 9, 2, 3, 4, 3, 1 } } },
    { 'winograd4x4', 3, { { 2, 3, 7, 5, 4, 1 }, { 3, 4, 8, 8, 5, 0 }, { 1, 2, 5, 9, 3, 2 }, { 5, 6, 1, 1, 2, 1 },
                          { 4, 3, 6, 6, 2, 3 }, { 2, 2, 13, 10, 3, 1 } } },
    { 'winograd', 5, { { 2, 3, 7, 5, 4, 2 }, { 3, 4, 8, 8, 5, 0 }, { 1, 2, 5, 9, 3, 4 }, { 5, 3, 1, 1, 2, 2 },
                       { 4, 3, 6, 6, 2, 5 }, { 2, 2, 14, 11, 3, 1 } } },
  }
  for _, rule in ipairs(WINOGRAD) do
    local algo, k = rule[1], rule[2]
    it(('%s agrees with the direct loop for %dx%d filters, float64 and float32, odd sizes and any padding'):format(algo, k, k), function()
      for _, dt in ipairs({ 'float64', 'float32' }) do
        local tol = dt == 'float64' and 1e-12 or 1e-4
        for _, c in ipairs(rule[3]) do
          local xs, w = sl.randn(c[1], c[2], c[3], c[4], dt), sl.randn(c[5], c[2], k, k, dt)
          local opts = { padding = c[6], algo = algo }
          local want = sl.nn.conv2d(xs, w, { padding = c[6], algo = 'direct' })
          assert.is_true(diff(sl.nn.conv2d(xs, w, opts), want) < tol, dt .. ' ' .. table.concat(c, ','))
          -- its input gradient is Winograd too up to padding k - 1, im2col beyond
          local gap_x, gap_w = adjoint_gaps(xs, w, opts, dt)
          assert.is_true(gap_x < tol and gap_w < tol, ('%s %g %g'):format(dt, gap_x, gap_w))
        end
      end
      sl.verify_grad(function(a, w) return sl.nn.conv2d(a, w, { padding = 1, algo = algo }) end,
                     { sl.randn(2, 3, 6, 5), sl.randn(2, 3, k, k) })
    end)
  end

  -- gradients entry by entry against the direct loop's (im2col's filter gradient)
  local function gradient_gaps(xs, w, opts, dt)
    local d = { algo = 'direct' }
    for key, v in pairs(opts) do if key ~= 'algo' then d[key] = v end end
    local y = sl.nn.conv2d(xs, w, d)
    local g = sl.randn(y:size(1), y:size(2), y:size(3), y:size(4), dt)
    local X, W = sl.tensor4('X', dt), sl.tensor4('W', dt)
    local function grads(o) return sl.compile({ X, W }, sl.grad((sl.nn.conv2d(X, W, o) * g):sum(), { X, W }))(xs, w) end
    local gx, gw = grads(opts)
    local wx, ww = grads(d)
    return diff(gx, wx) / (wx:abs():max():item() + 1), diff(gw, ww) / (ww:abs():max():item() + 1)
  end

  it('Winograd filter gradients agree with the direct loop entry by entry, one thread and two', function()
    local saved = sl.config.threads
    for _, threads in ipairs({ 1, 2 }) do
      sl.config.threads = threads
      for _, rule in ipairs(WINOGRAD) do
        for _, dt in ipairs({ 'float64', 'float32' }) do
          local tol = dt == 'float64' and 1e-12 or 1e-5
          for _, c in ipairs(rule[3]) do
            local xs, w = sl.randn(c[1], c[2], c[3], c[4], dt), sl.randn(c[5], c[2], rule[2], rule[2], dt)
            local gap_x, gap_w = gradient_gaps(xs, w, { padding = c[6], algo = rule[1] }, dt)
            assert.is_true(gap_x < tol and gap_w < tol, ('%s %s %s %g %g'):format(rule[1], dt, table.concat(c, ','), gap_x, gap_w))
          end
        end
      end
    end
    sl.config.threads = saved
  end)

  it('the sliding window agrees with the direct loop, with its input gradient, float64 and float32, odd sizes', function()
    for _, dt in ipairs({ 'float64', 'float32' }) do
      local tol = dt == 'float64' and 1e-12 or 1e-5
      -- N, C, H, W, K, kh, kw, padding: filter counts not a multiple of 8, rows past 16 columns
      for _, c in ipairs({ { 2, 1, 9, 7, 11, 5, 5, { 2, 2 } }, { 2, 3, 17, 20, 9, 3, 3, { 1, 1 } },
                           { 1, 2, 5, 6, 3, 5, 5, { 0, 0 } }, { 3, 2, 8, 4, 8, 3, 1, { 2, 0 } },
                           { 2, 2, 3, 35, 17, 1, 4, { 0, 3 } } }) do
        local xs, w = sl.randn(c[1], c[2], c[3], c[4], dt), sl.randn(c[5], c[2], c[6], c[7], dt)
        local opts = { padding = c[8], algo = 'sliding' }
        local want = sl.nn.conv2d(xs, w, { padding = c[8], algo = 'direct' })
        local rel = diff(sl.nn.conv2d(xs, w, opts), want) / (want:abs():max():item() + 1)
        assert.is_true(rel < tol, dt .. ' ' .. rel)
        local gap_x, gap_w = gradient_gaps(xs, w, opts, dt)
        assert.is_true(gap_x < tol and gap_w < tol, ('%s %g %g'):format(dt, gap_x, gap_w))
      end
    end
    assert.matches("conv2d: the sliding%-window algorithm needs stride 1, dilation 1 and one group",
                   err(sl.nn.conv2d, x, sl.randn(6, 4, 3, 3), { stride = 2, algo = 'sliding' }))
  end)

  it('Winograd names what it needs', function()
    for _, opts in ipairs({ { stride = 2 }, { dilation = 2 }, { groups = 2 } }) do
      opts.algo = 'winograd'
      assert.matches("conv2d: the Winograd algorithm 'winograd' needs 3x3 or 5x5 filters, stride 1, dilation 1 and one group",
                     err(sl.nn.conv2d, x, sl.randn(6, 4 / (opts.groups or 1), 3, 3), opts))
    end
    assert.matches('needs 3x3 or 5x5 filters', err(sl.nn.conv2d, x, sl.randn(6, 4, 7, 7), { algo = 'winograd' }))
    assert.matches("'winograd4x4' needs 3x3 filters", err(sl.nn.conv2d, x, sl.randn(6, 4, 5, 5), { algo = 'winograd4x4' }))
  end)

  it('shows the algorithm it ran in the profile', function()
    local X, W = sl.tensor4('X'), sl.tensor4('W')
    for _, algo in ipairs({ 'winograd', 'winograd4x4', 'sliding', 'im2col', 'direct' }) do
      local f = sl.compile({ X, W }, sl.nn.conv2d(X, W, { padding = 1, algo = algo }), { profile = true })
      f(sl.randn(1, 2, 5, 5), sl.randn(3, 2, 3, 3))
      assert.truthy(f:profile({ print = false }).text:find('conv2d [' .. algo .. ']', 1, true), algo)
    end
  end)

  describe("'auto'", function()
    local dir, saved
    local mktemp_dir = require('spec.support.files').tmpdir
    local function lines(path)
      local f, out = io.open(path), {}
      if f then for l in f:lines() do out[#out + 1] = l end f:close() end
      return out
    end
    before_each(function() dir, saved = mktemp_dir(), sl.config.cache_dir sl.config.cache_dir = dir end)
    after_each(function() sl.config.cache_dir = saved os.execute("rm -rf '" .. dir .. "'") end)

    it('times the algorithms that fit once per shape and keeps the choice in the cache directory', function()
      local w = sl.randn(3, 4, 7, 7)
      local y = sl.nn.conv2d(x, w, { padding = 3 })
      assert.is_true(diff(y, sl.nn.conv2d(x, w, { padding = 3, algo = 'direct' })) < 1e-10)
      local kept = lines(dir .. '/conv_algos.txt')
      assert.are.equal(1, #kept)
      local key, algo = kept[1]:match('^(conv2d float64 %d+ threads N2 C4 9x8 K3 7x7 stride 1,1 pad 3,3 groups 1 of im2col fft sliding)\t(%w+)$')
      assert.is_truthy(key, kept[1])
      assert.is_truthy(algo == 'im2col' or algo == 'fft' or algo == 'sliding', algo)
      sl.nn.conv2d(x, w, { padding = 3 })   -- known now: not measured again
      assert.are.equal(1, #lines(dir .. '/conv_algos.txt'))
      -- a kept choice is what later runs use: a later line for the key wins
      for _, forced in ipairs({ 'fft', 'im2col' }) do
        local other = mktemp_dir()
        local f = io.open(other .. '/conv_algos.txt', 'w')
        f:write(key, '\tim2col\n', 'a line of another kind\n', key, '\t', forced, '\n')
        f:close()
        sl.config.cache_dir = other
        local want = sl.nn.conv2d(x, w, { padding = 3, algo = forced })
        assert.are.equal(0, diff(sl.nn.conv2d(x, w, { padding = 3 }), want), forced)
        os.execute("rm -rf '" .. other .. "'")
      end
    end)

    it('measures the input gradient too, and measures again a kept choice that does not fit', function()
      local xs, w = sl.randn(2, 3, 6, 6, 'float32'), sl.randn(4, 3, 3, 3, 'float32')
      local gap_x, gap_w = adjoint_gaps(xs, w, { padding = 1 }, 'float32')
      assert.is_true(gap_x < 1e-4 and gap_w < 1e-4, ('%g %g'):format(gap_x, gap_w))
      local kept = {}
      for _, l in ipairs(lines(dir .. '/conv_algos.txt')) do
        local key, op, algo = l:match('^((%S+) float32 .*)\t(%w+)$')
        if op then kept[op] = { key, algo } end
      end
      local fits = { im2col = true, winograd = true, winograd4x4 = true, sliding = true }
      assert.is_truthy(fits[kept.conv2d[2]], kept.conv2d[2])
      assert.is_truthy(fits[kept.conv2d_grad_input[2]], kept.conv2d_grad_input[2])
      -- the key names the candidates it was measured among
      assert.is_truthy(kept.conv2d[1]:find(' groups 1 of im2col winograd winograd4x4 sliding$'), kept.conv2d[1])
      -- FFT is no candidate for 3x3 filters: measured again, and the new choice appended
      local other = mktemp_dir()
      local f = io.open(other .. '/conv_algos.txt', 'w')
      f:write(kept.conv2d[1], '\tfft\n')
      f:close()
      sl.config.cache_dir = other
      local y = sl.nn.conv2d(xs, w, { padding = 1 })
      assert.is_true(diff(y, sl.nn.conv2d(xs, w, { padding = 1, algo = 'direct' })) < 1e-5)
      local after = lines(other .. '/conv_algos.txt')
      assert.are.equal(2, #after)
      local again = after[2]:match('\t(%w+)$')
      assert.is_truthy(fits[again], after[2])
      os.execute("rm -rf '" .. other .. "'")
    end)
  end)

  ;(np.available() and it or pending)('matches NumPy', function()
    for _, c in ipairs({ { 1, 0, 1 }, { 2, 1, 1 }, { 1, 2, 2 } }) do
      local S, P, D = c[1], c[2], c[3]
      local w = sl.randn(5, 4, 3, 2)
      local want = np.eval(NP_CONV:gsub('S, D', S .. ', ' .. D):gsub('%(P, P%)', '(' .. P .. ', ' .. P .. ')'),
                           { x = x, w = w })
      np.assert_close(sl.nn.conv2d(x, w, { stride = S, padding = P, dilation = D }), want, 1e-10, 1e-10)
    end
  end)

  it("pads 'same' and works symbolically, float32 too", function()
    local X, W = sl.tensor4('X', 'float32'), sl.tensor4('W', 'float32')
    local f = sl.compile({ X, W }, sl.nn.conv2d(X, W, { padding = 1 }))
    local xf, wf = x:cast('float32'), sl.randn(3, 4, 3, 3, 'float32')
    local y = f(xf, wf)
    assert.are.same({ 2, 3, 9, 8 }, y:size())
    assert.is_true(diff(y, sl.nn.conv2d(xf, wf, { padding = 'same', algo = 'direct' })) < 1e-4)
  end)

  it('has gradients for input and filters, and second derivatives', function()
    local opts = { stride = 2, padding = 1 }
    sl.verify_grad(function(a, w) return sl.nn.conv2d(a, w, opts) end,
                   { sl.randn(2, 3, 6, 5), sl.randn(4, 3, 3, 2) })
    sl.verify_grad(function(a, w) return sl.nn.conv2d(a, w, { groups = 3, dilation = 2, padding = 2 }) end,
                   { sl.randn(1, 6, 5, 5), sl.randn(3, 2, 2, 3) })
    sl.verify_grad(function(a, w)   -- through the gradient ops
      local y = sl.nn.conv2d(a, w, opts)
      local gx, gw = unpack(sl.grad((y * y):sum(), { a, w }))
      return (gx * gx):sum() + (gw * gw):sum()
    end, { sl.randn(1, 2, 5, 4), sl.randn(2, 2, 3, 3) })
  end)

  it('gives its shape without computing it', function()
    local X, W = sl.tensor4('X'), sl.tensor4('W')
    local y = sl.nn.max_pool2d(sl.nn.conv2d(X, W, { stride = 2, padding = 1, dilation = 2 }), { 2, 3 })
    local f = sl.compile({ X, W }, y:shape())
    for _, node in ipairs(f:info().order) do
      assert.is_true(node:op() ~= 'conv2d' and node:op() ~= 'max_pool2d', node:op())
    end
    local xs, ws = sl.randn(2, 3, 17, 12), sl.randn(5, 3, 3, 2)
    local want = sl.nn.max_pool2d(sl.nn.conv2d(xs, ws, { stride = 2, padding = 1, dilation = 2 }), { 2, 3 }):size()
    assert.are.same(want, f(xs, ws):totable())
  end)

  it('names shape and parameter errors', function()
    local X = sl.tensor4('X')
    assert.matches('conv2d: input float64 %(2, 4, 9, 8%) has 4 channels but filters float64 %(6, 3, 3, 3%) take 3',
                   err(sl.nn.conv2d, x, sl.randn(6, 3, 3, 3)))
    assert.matches('conv2d: the input must be a 4%-d float tensor', err(sl.nn.conv2d, sl.matrix('m'), X))
    assert.matches('does not fit in input', err(sl.nn.conv2d, x, sl.randn(1, 4, 11, 3)))
    assert.matches('do not split into 3 groups', err(sl.nn.conv2d, x, sl.randn(6, 2, 3, 3), { groups = 3 }))
    assert.matches("algo must be 'auto', 'im2col', 'winograd', 'winograd4x4', 'sliding', 'fft' or 'direct', not gemm",
                   err(sl.nn.conv2d, x, sl.randn(6, 4, 3, 3), { algo = 'gemm' }))
    assert.matches('stride must be an integer or a pair of integers', err(sl.nn.conv2d, X, X, { stride = 1.5 }))
    local f = sl.compile({ X }, sl.nn.conv2d(X, sl.randn(2, 4, 3, 3)))
    assert.matches('has 3 channels but filters', err(f, sl.randn(1, 3, 5, 5)))
  end)
end)

describe('pooling', function()
  sl.manual_seed(4)
  local x = sl.randn(2, 3, 7, 6)

  ;(np.available() and it or pending)('max and average pooling match NumPy', function()
    local swv = 'np.lib.stride_tricks.sliding_window_view'
    local mx = np.eval(swv .. "(x, (2, 2), axis=(2, 3))[:, :, ::2, ::2].max(axis=(4, 5))", { x = x })
    np.assert_close(sl.nn.max_pool2d(x, 2), mx, 0, 0)
    local av = np.eval(swv .. "(np.pad(x, ((0,0),(0,0),(1,1),(1,1))), (3, 3), axis=(2, 3))[:, :, ::2, ::2].mean(axis=(4, 5))",
                       { x = x })
    np.assert_close(sl.nn.avg_pool2d(x, 3, { stride = 2, padding = 1 }), av, 1e-12, 1e-12)
    local mp = np.eval(swv .. "(np.pad(x, ((0,0),(0,0),(1,1),(1,1)), constant_values=-np.inf), (3, 2), axis=(2, 3))[:, :, ::2, ::1].max(axis=(4, 5))",
                       { x = x })
    np.assert_close(sl.nn.max_pool2d(x, { 3, 2 }, { stride = { 2, 1 }, padding = 1 }), mp, 0, 0)
  end)

  ;(np.available() and it or pending)('pools and back-propagates planes split between threads as NumPy does', function()
    local saved = sl.config.threads
    sl.config.threads = 2
    local big = sl.randn(8, 9, 40, 38, 'float32')   -- 8*9*20*19 outputs: past the size where threads start
    local g = sl.randn(8, 9, 20, 19, 'float32')
    local mx = np.eval("x.reshape(8, 9, 20, 2, 19, 2).max(axis=(3, 5))", { x = big })
    np.assert_close(sl.nn.max_pool2d(big, 2), mx, 0, 0)
    np.assert_close(sl.nn.avg_pool2d(big, 2), np.eval("x.reshape(8, 9, 20, 2, 19, 2).mean(axis=(3, 5))", { x = big }),
                    1e-6, 1e-6)
    local X = sl.ftensor4('X')
    local dmax = sl.compile({ X }, sl.grad((sl.nn.max_pool2d(X, 2) * g):sum(), { X })[1])(big)
    local dx = np.eval([[(lambda w, m: np.where(w == m[:, :, :, None, :, None], 1, 0) * g[:, :, :, None, :, None])
                         (x.reshape(8, 9, 20, 2, 19, 2), x.reshape(8, 9, 20, 2, 19, 2).max(axis=(3, 5))).reshape(8, 9, 40, 38).astype(np.float32)]],
                       { x = big, g = g })
    np.assert_close(dmax, dx, 0, 0)   -- random values: every window's maximum is unique
    local davg = sl.compile({ X }, sl.grad((sl.nn.avg_pool2d(X, 2) * g):sum(), { X })[1])(big)
    np.assert_close(davg, np.eval("np.repeat(np.repeat(g / 4, 2, axis=2), 2, axis=3)", { g = g }), 1e-6, 1e-6)
    sl.config.threads = saved
  end)

  it('gives each window one value by hand', function()
    local t = sl.arange(1, 17, 'float64'):reshape(1, 1, 4, 4)
    assert.are.same({ { { { 6, 8 }, { 14, 16 } } } }, sl.nn.max_pool2d(t, 2):totable())
    assert.are.same({ { { { 3.5, 5.5 }, { 11.5, 13.5 } } } }, sl.nn.avg_pool2d(t, 2):totable())
  end)

  it('has gradients', function()
    -- distinct values keep every window's maximum unique
    local pts = sl.arange(0, 2 * 2 * 5 * 6, 'float64'):reshape(2, 2, 5, 6) * 0.37 % 1.9
    sl.verify_grad(function(a) return sl.nn.max_pool2d(a, 2, { stride = 1 }) end, { pts })
    sl.verify_grad(function(a) return sl.nn.avg_pool2d(a, 3, { stride = 2, padding = 1 }) end, { sl.randn(2, 2, 5, 6) })
    sl.verify_grad(function(a)
      local g = sl.grad((sl.nn.avg_pool2d(a, 2) ^ 2):sum(), { a })[1]
      return (g * g):sum()
    end, { sl.randn(1, 2, 4, 4) })
  end)

  it('names bad windows', function()
    assert.matches('padding %(2, 2%) must be at most half the window', err(sl.nn.max_pool2d, x, 2, { padding = 2 }))
    assert.matches('the window must be an integer or a pair', err(sl.nn.avg_pool2d, x, 'big'))
  end)
end)

describe('batch_norm', function()
  it('normalizes each channel in training and updates the running statistics', function()
    local X = sl.tensor4('X')
    local gamma, beta = sl.shared(sl.tensor({ 1, 2, 3 }, 'float64'), 'gamma'), sl.shared(sl.zeros(3), 'beta')
    local rm, rv = sl.shared(sl.zeros(3), 'rm'), sl.shared(sl.ones(3), 'rv')
    local y, updates = sl.nn.batch_norm(X, gamma, beta, { running_mean = rm, running_var = rv, momentum = 0.5 })
    local f = sl.compile({ X }, y, { updates = updates })
    local x = sl.randn(4, 3, 2, 2) * 3 + 1
    local out = f(x)
    for c = 1, 3 do
      local ch = out[{ {}, c }]
      assert.is_true(math.abs(ch:mean():item()) < 1e-12)
      assert.is_true(math.abs(ch:std():item() - c) < 1e-4)   -- gamma scales the unit variance
      local xc = x[{ {}, c }]
      assert.is_true(math.abs(rm:get_value()[c] - 0.5 * xc:mean():item()) < 1e-12)
      local unbiased = xc:var():item() * 16 / 15
      assert.is_true(math.abs(rv:get_value()[c] - (0.5 + 0.5 * unbiased)) < 1e-12)
    end
    local g, _ = sl.nn.batch_norm(X, gamma, beta, { running_mean = rm, running_var = rv, training = false })
    local infer = sl.compile({ X }, g)(x)
    local want = (x - rm:get_value():reshape(1, 3, 1, 1)) / sl.sqrt(rv:get_value():reshape(1, 3, 1, 1) + 1e-5)
               * gamma:get_value():reshape(1, 3, 1, 1)
    assert.is_true(diff(infer, want) < 1e-12)
  end)

  it('has gradients for input, scale and shift', function()
    sl.verify_grad(function(a, gm, bt) return (sl.nn.batch_norm(a, gm, bt)) end,
                   { sl.randn(5, 3), sl.randn(3), sl.randn(3) })
    sl.verify_grad(function(a) return (sl.nn.batch_norm(a)) end, { sl.randn(3, 2, 2, 2) })
  end)
end)
