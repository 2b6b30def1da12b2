-- Reverse-mode differentiation over the graph. Each op's gradient is a rule
-- in sl.gradients (op name -> function) that builds the input gradients from
-- other ops, so gradients are graphs like any other: optimized and compiled.
--
-- A rule is called as rule(node, inputs, outputs, gouts) where gouts[k] is
-- the gradient of the cost with respect to outputs[k] (never nil: a missing
-- one is zeros). It returns one gradient per input, or nil for an input that
-- has none (an integer index, a condition). The engine sums gradients of
-- broadcast inputs back to their shapes and casts them to their dtypes.
return function(sl)
  local core = sl.core
  local apply = core.apply

  local rules = {}
  sl.gradients = rules

  -- values gradients flow through (complex ones as (real, imaginary) pairs)
  local differentiable = { float32 = true, float64 = true, complex64 = true, complex128 = true }
  local function is_float(v) return differentiable[v:dtype()] == true end

  local function label(v)
    return v:name() or ((v:owner() and v:owner():op() or v:kind()) .. '#' .. v:id())
  end

  -- zeros for an output the cost does not reach (alloc is real: a complex
  -- one is built from its two parts)
  local REAL_PART = { complex64 = 'float32', complex128 = 'float64' }
  local function zeros_of(v)
    local part = REAL_PART[v:dtype()]
    if not part then return sl.zeros_like(v) end
    local z = sl.zeros_like(v, part)
    return sl.complex(z, z)
  end

  -- Sum g back over the axes that broadcasting stretched, and match x's dtype.
  local function fit(g, x)
    local gs, xs = g:static_shape(), x:static_shape()
    local same = #gs == #xs
    for i = 1, #xs do same = same and xs[i] ~= -1 and gs[i] == xs[i] end
    if not same then g = apply('sum_to', nil, g, x) end
    if g:dtype() ~= x:dtype() then g = g:cast(x:dtype()) end
    return g
  end

  -- Ops whose rules give each input's gradient in that input's exact shape
  -- (their rows in the core say so: core.ops()[i].exact_grad): no
  -- broadcasting happened in them, so no sum_to is needed (a sum_to the
  -- optimizer cannot prove useless blocks other rewrites, such as gemm).
  local EXACT = {}
  for _, op in ipairs(sl.core.ops()) do EXACT[op.name] = op.exact_grad or nil end
  local function exact_shape(node)
    local op = node:op()
    if EXACT[op] then return true end
    if op == 'dot' then   -- a matrix product (its other forms lean on fit)
      local ins = node:inputs()
      return #ins[1]:static_shape() == 2 and #ins[2]:static_shape() == 2
    end
    return false
  end

  -- The nodes between the wrt vars and the cost, in an order where every node
  -- follows its inputs (iterative: graphs can be deep).
  local function relevant_nodes(roots, depends, stop)
    local order, seen = {}, {}
    local stack = {}
    for _, r in ipairs(roots) do
      local n = r:owner()
      if n and not stop[r:id()] then stack[#stack + 1] = { n, n:inputs(), 0 } end
    end
    while #stack > 0 do
      local top = stack[#stack]
      local node, ins = top[1], top[2]
      local key = node:outputs()[1]:id()
      if seen[key] and top[3] == 0 then
        stack[#stack] = nil
      else
        seen[key] = true
        top[3] = top[3] + 1
        local x = ins[top[3]]
        if x then
          local o = x:owner()
          if o and not stop[x:id()] and not seen[o:outputs()[1]:id()] then
            stack[#stack + 1] = { o, o:inputs(), 0 }
          end
        else
          stack[#stack] = nil
          order[#order + 1] = node
        end
      end
    end
    -- keep the nodes that some wrt var reaches
    local kept = {}
    for _, node in ipairs(order) do
      local dep = false
      for _, x in ipairs(node:inputs()) do dep = dep or (depends[x:id()] and not stop[x:id()]) end
      if dep then
        for _, o in ipairs(node:outputs()) do depends[o:id()] = true end
        kept[#kept + 1] = node
      end
    end
    return kept
  end

  -- sl.grad(cost, wrt, opts): opts.disconnected = 'raise' | 'warn' | 'ignore',
  -- opts.known_grads = { var = gradient }, opts.consider_constant = { vars }.
  function sl.grad(cost, wrt, opts)
    opts = opts or {}
    local single = sl.is_var(wrt)
    local wrt_list = single and { wrt } or wrt
    if type(wrt_list) ~= 'table' then error('grad: wrt must be a variable or a list of them', 2) end
    local known = opts.known_grads or {}
    local roots, gmap = {}, {}
    if cost ~= nil then
      if not sl.is_var(cost) then error('grad: the cost must be a symbolic variable', 2) end
      if cost:dim() ~= 0 then
        error(string.format('grad: the cost must be a scalar (0-d), got %d-d %s; take its sum '
          .. 'or mean, or use sl.Lop / sl.jacobian', cost:dim(), label(cost)), 2)
      end
      if not is_float(cost) then error('grad: the cost is ' .. cost:dtype() .. '; it must be a float', 2) end
      roots[1] = cost
      gmap[cost:id()] = core.constant(sl.tensor(1, cost:dtype()))
    end
    for v, g in pairs(known) do
      roots[#roots + 1] = v
      gmap[v:id()] = sl.is_var(g) and g or core.constant(sl.tensor(g, v:dtype()))
    end
    if #roots == 0 then error('grad: give a cost or known_grads', 2) end
    local stop = {}
    for _, v in ipairs(opts.consider_constant or {}) do stop[v:id()] = true end
    local depends = {}
    for i, w in ipairs(wrt_list) do
      if not sl.is_var(w) then error('grad: wrt ' .. i .. ' is not a symbolic variable', 2) end
      if not is_float(w) then
        error(string.format('grad: %s is %s; only float variables have gradients', label(w), w:dtype()), 2)
      end
      depends[w:id()] = true
    end

    local nodes = relevant_nodes(roots, depends, stop)
    for k = #nodes, 1, -1 do
      local node = nodes[k]
      local outs = node:outputs()
      local gouts, any = {}, false
      for i, o in ipairs(outs) do
        gouts[i] = gmap[o:id()]
        any = any or gouts[i] ~= nil
      end
      if any then
        local rule = rules[node:op()]
        if not rule then
          error(string.format("grad: op '%s' (%s) has no gradient", node:op(), outs[1]:where() or '?'), 2)
        end
        for i, o in ipairs(outs) do gouts[i] = gouts[i] or zeros_of(o) end
        local ins = node:inputs()
        local gins = rule(node, ins, outs, gouts)
        for i, x in ipairs(ins) do
          local g = gins[i]
          if g ~= nil and is_float(x) and depends[x:id()] and not stop[x:id()] then
            if exact_shape(node) then
              if g:dtype() ~= x:dtype() then g = g:cast(x:dtype()) end
            else
              g = fit(g, x)
            end
            local prev = gmap[x:id()]
            gmap[x:id()] = prev and prev + g or g
          end
        end
      end
    end

    local mode = opts.disconnected or 'raise'
    local result = {}
    for i, w in ipairs(wrt_list) do
      local g = gmap[w:id()]
      if g == nil then
        local msg = string.format('grad: the cost does not depend on %s (wrt %d)', label(w), i)
        if mode == 'raise' then
          error(msg .. "; pass disconnected = 'ignore' or 'warn' to get zeros", 2)
        elseif mode == 'warn' then
          io.stderr:write('warning: ', msg, '\n')
        elseif mode ~= 'ignore' then
          error("grad: disconnected must be 'raise', 'warn' or 'ignore'", 2)
        end
        g = zeros_of(w)
      elseif g:dtype() ~= w:dtype() then
        g = g:cast(w:dtype())
      end
      result[i] = g
    end
    if single then return result[1] end
    return result
  end

  -- -- elementwise rules ---------------------------------------------------------
  local LN2, LN10, TWO_OVER_SQRT_PI = math.log(2), math.log(10), 2 / math.sqrt(math.pi)
  local function as(x, b) return b:cast(x:dtype()) end   -- a bool mask in x's dtype

  local function unary(f)   -- f(x, z, g) for z = op(x)
    return function(_, ins, outs, g) return { f(ins[1], outs[1], g[1]) } end
  end
  local function zero_grad(_, ins) return { sl.zeros_like(ins[1]) } end

  rules.add = function(_, _, _, g) return { g[1], g[1] } end
  rules.sub = function(_, _, _, g) return { g[1], -g[1] } end
  -- with gradients dC/da + i dC/db, a complex factor enters as its conjugate
  local COMPLEX = { complex64 = true, complex128 = true }
  local function conj(v) return COMPLEX[v:dtype()] and apply('conj', nil, v) or v end
  rules.mul = function(_, ins, _, g) return { g[1] * conj(ins[2]), g[1] * conj(ins[1]) } end
  rules.true_div = function(_, ins, outs, g)
    local y = conj(ins[2])
    return { g[1] / y, -g[1] * conj(outs[1]) / y }
  end
  rules.int_div = function(_, ins) return { sl.zeros_like(ins[1]), sl.zeros_like(ins[2]) } end
  rules.mod = function(_, ins, _, g)   -- x - floor(x / y) * y
    return { g[1], -g[1] * sl.floor(ins[1] / ins[2]) }
  end
  rules.pow = function(_, ins, outs, g)
    local x, y = ins[1], ins[2]
    return { g[1] * y * x ^ (y - 1), g[1] * outs[1] * sl.log(x) }
  end
  rules.maximum = function(_, ins, _, g)
    local x, y = ins[1], ins[2]
    return { g[1] * as(g[1], sl.ge(x, y)), g[1] * as(g[1], sl.lt(x, y)) }
  end
  rules.minimum = function(_, ins, _, g)
    local x, y = ins[1], ins[2]
    return { g[1] * as(g[1], sl.le(x, y)), g[1] * as(g[1], sl.gt(x, y)) }
  end
  rules.atan2 = function(_, ins, _, g)   -- atan2(a, b)
    local a, b = ins[1], ins[2]
    local d = a * a + b * b
    return { g[1] * b / d, -g[1] * a / d }
  end
  rules.hypot = function(_, ins, outs, g)
    return { g[1] * ins[1] / outs[1], g[1] * ins[2] / outs[1] }
  end
  rules.logaddexp = function(_, ins, outs, g)   -- the weights exp(a - z), exp(b - z) are at most 1
    return { g[1] * sl.exp(ins[1] - outs[1]), g[1] * sl.exp(ins[2] - outs[1]) }
  end
  rules.neg = unary(function(_, _, g) return -g end)
  rules.abs = unary(function(x, _, g) return g * sl.sign(x) end)
  rules.sign = zero_grad
  rules.sqr = unary(function(x, _, g) return 2 * g * x end)
  rules.reciprocal = unary(function(_, z, g) return -g * z * z end)
  rules.exp = unary(function(_, z, g) return g * z end)
  rules.exp2 = unary(function(_, z, g) return g * z * LN2 end)
  rules.expm1 = unary(function(_, z, g) return g * (z + 1) end)
  rules.log = unary(function(x, _, g) return g / x end)
  rules.log2 = unary(function(x, _, g) return g / (x * LN2) end)
  rules.log10 = unary(function(x, _, g) return g / (x * LN10) end)
  rules.log1p = unary(function(x, _, g) return g / (x + 1) end)
  rules.sqrt = unary(function(_, z, g) return g * 0.5 / z end)
  rules.sin = unary(function(x, _, g) return g * sl.cos(x) end)
  rules.cos = unary(function(x, _, g) return -g * sl.sin(x) end)
  rules.tan = unary(function(_, z, g) return g * (z * z + 1) end)
  rules.asin = unary(function(x, _, g) return g / sl.sqrt(1 - x * x) end)
  rules.acos = unary(function(x, _, g) return -g / sl.sqrt(1 - x * x) end)
  rules.atan = unary(function(x, _, g) return g / (x * x + 1) end)
  rules.asinh = unary(function(x, _, g) return g / sl.sqrt(x * x + 1) end)
  rules.acosh = unary(function(x, _, g) return g / sl.sqrt(x * x - 1) end)
  rules.atanh = unary(function(x, _, g) return g / (1 - x * x) end)
  rules.cbrt = unary(function(_, z, g) return g / (3 * z * z) end)
  rules.deg2rad = unary(function(_, _, g) return g * (math.pi / 180) end)
  rules.rad2deg = unary(function(_, _, g) return g * (180 / math.pi) end)
  rules.sinh = unary(function(x, _, g) return g * sl.cosh(x) end)
  rules.cosh = unary(function(x, _, g) return g * sl.sinh(x) end)
  rules.tanh = unary(function(_, z, g) return g * (1 - z * z) end)
  rules.sigmoid = unary(function(_, z, g) return g * z * (1 - z) end)
  rules.softplus = unary(function(x, _, g) return g * sl.sigmoid(x) end)
  rules.erf = unary(function(x, _, g) return g * TWO_OVER_SQRT_PI * sl.exp(-(x * x)) end)
  rules.erfc = unary(function(x, _, g) return -g * TWO_OVER_SQRT_PI * sl.exp(-(x * x)) end)
  rules.floor, rules.ceil, rules.round = zero_grad, zero_grad, zero_grad
  rules.clip = function(_, ins, _, g)
    local x, lo, hi = ins[1], ins[2], ins[3]
    local inside = sl.logical_and(sl.ge(x, lo), sl.le(x, hi))
    return { g[1] * as(g[1], inside), g[1] * as(g[1], sl.lt(x, lo)), g[1] * as(g[1], sl.gt(x, hi)) }
  end
  rules.where = function(_, ins, _, g)
    local c = ins[1]
    return { nil, sl.where(c, g[1], 0), sl.where(c, 0, g[1]) }
  end
  rules.cast = function(_, ins, _, g)
    if is_float(ins[1]) then return { g[1]:cast(ins[1]:dtype()) } end
    return {}
  end
  rules.sum_to = function(_, ins, _, g)   -- broadcasting back is an add with zeros
    return { g[1] + sl.zeros_like(ins[1]) }
  end
  -- comparisons, logical ops and isnan/isinf return bools: nothing flows back
  for _, op in ipairs({ 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logical_and', 'logical_or',
                        'logical_xor', 'logical_not', 'isnan', 'isinf' }) do
    rules[op] = function() return {} end
  end

  -- -- linear algebra and reshaping ---------------------------------------------------
  -- swap the last two axes of a matrix or a batch of them
  local function swap_last(x)
    if x:dim() == 2 then return x:dimshuffle(2, 1) end
    return x:dimshuffle(1, 3, 2)
  end
  rules.dot = function(_, ins, _, g)
    local a, b, gz = ins[1], ins[2], g[1]
    local da, db = a:dim(), b:dim()
    if da == 0 or db == 0 then return { gz * b, gz * a } end   -- a scaling: fit() sums
    if da == 1 and db == 1 then return { gz * b, gz * a } end
    if db == 1 then   -- (..., n, k) . (k) -> (..., n)
      local gcol = da == 2 and gz:dimshuffle(1, 'x') or gz:dimshuffle(1, 2, 'x')
      return { gcol * b, gcol * a }
    end
    if da == 1 then   -- (k) . (..., k, m) -> (..., m)
      local grow = db == 2 and gz:dimshuffle('x', 1) or gz:dimshuffle(1, 'x', 2)
      -- a's gradient sums b * g over m (fit then sums any batch axis)
      return { apply('sum', { v = { 0, db - 1 } }, grow * b), a:dimshuffle(1, 'x') * grow }
    end
    return { sl.dot(gz, swap_last(b)), sl.dot(swap_last(a), gz) }   -- batches sum in fit()
  end
  rules.outer = function(_, ins, _, g)
    return { sl.dot(g[1], ins[2]), sl.dot(ins[1], g[1]) }
  end
  -- The products the specialize pass makes (core/ops/blas.c); a scale gets a
  -- gradient only when it is a float: sum(g * what it scales).
  local function scale_grad(s, g, x) if is_float(s) then return sl.sum(g * x) end end
  rules.gemm = function(_, ins, _, g)   -- alpha A·B + beta C
    local c, alpha, a, b, beta, gz = ins[1], ins[2], ins[3], ins[4], ins[5], g[1]
    return { gz * beta, scale_grad(alpha, gz, sl.dot(a, b)), sl.dot(gz, b:dimshuffle(2, 1)) * alpha,
             sl.dot(a:dimshuffle(2, 1), gz) * alpha, scale_grad(beta, gz, c) }
  end
  rules.gemv = function(_, ins, _, g)   -- alpha A·x + beta y
    local y, alpha, a, x, beta, gz = ins[1], ins[2], ins[3], ins[4], ins[5], g[1]
    return { gz * beta, scale_grad(alpha, gz, sl.dot(a, x)), sl.outer(gz, x) * alpha,
             sl.dot(gz, a) * alpha, scale_grad(beta, gz, y) }
  end
  rules.ger = function(_, ins, _, g)    -- A + alpha outer(x, y)
    local alpha, x, y, gz = ins[2], ins[3], ins[4], g[1]
    return { gz, scale_grad(alpha, gz, sl.outer(x, y)), sl.dot(gz, y) * alpha, sl.dot(x, gz) * alpha }
  end
  -- -- linear algebra (core/ops/lapack.c) -------------------------------------------
  -- Row-major stacks of matrices; T(x) swaps the last two axes, mm is
  -- np.matmul. Rules are the standard ones (Giles 2008, Murray 2016,
  -- Townsend 2016 for the SVD, Walter and Lehmann for QR), written with other
  -- ops so that they batch and compile like the forward graph.
  -- Complex matrices (complex inputs of the LAPACK ops) take the same rules
  -- with H, the conjugate transpose, for T; matmul multiplies them through
  -- their real and imaginary parts, so the gradients stay real graphs.
  local T, H, mm = sl.matrix_transpose, sl.matrix_adjoint, sl.matmul
  local lsize = sl.linalg.size
  local is_complex = sl.linalg.is_complex
  -- NumPy's tril mask: 1 where column j <= row i + k
  local function lower_mask(x, k)
    local i = sl.arange(0, lsize(x, -2), 'int64')
    local j = sl.arange(0, lsize(x, -1), 'int64')
    return sl.ge(i:dimshuffle(1, 'x') + k, j:dimshuffle('x', 1)):cast(x:dtype())
  end
  local function tril(x, k) return x * lower_mask(x, k or 0) end
  local function triu(x, k) return x - tril(x, (k or 0) - 1) end
  -- v (..., n) as a row (..., 1, n) or a column (..., n, 1), to scale columns or rows
  local function as_row(v)
    local p = {}
    for i = 1, v:dim() - 1 do p[i] = i end
    p[#p + 1], p[#p + 2] = 'x', v:dim()
    return v:dimshuffle(p)
  end
  local function as_col(v)
    local p = {}
    for i = 1, v:dim() do p[i] = i end
    p[#p + 1] = 'x'
    return v:dimshuffle(p)
  end
  -- F_ij = 1 / (w_j - w_i) off the diagonal, and 0 where w_i and w_j are equal
  -- to within the dtype's precision (a repeated eigen- or singular value: the
  -- gradient is then the one of a cost that does not depend on the choice of
  -- basis in that value's space, the only case where one exists)
  local EPS = { float32 = 1.2e-7, float64 = 2.3e-16 }
  local function gap_inverse(w)
    local d = as_row(w) - as_col(w)
    local scale = sl.max(sl.abs(w), -1, true)
    local tol = as_col(scale) * sl.cast(EPS[w:dtype()] * 8 * lsize(w, -1), w:dtype())
    local apart = sl.gt(sl.abs(d), tol)
    return sl.where(apart, 1 / sl.where(apart, d, 1), 0)
  end

  -- L = cholesky(A): gA = L^-H Phi(L^H gL) L^-1 symmetrized, Phi taking the
  -- lower triangle with half its diagonal: two triangular solves and a
  -- product (the matrix form of the blocked rule)
  rules.cholesky = function(_, _, outs, g)
    local L = outs[1]
    local P = tril(mm(H(L), g[1]))
    local S = (P + H(tril(P, -1))) * 0.5
    local Y = sl.solve_triangular(L, S, { lower = true, trans = 'C' })   -- L^-H S
    return { H(sl.solve_triangular(L, H(Y), { lower = true, trans = 'C' })) }   -- Y L^-1
  end
  -- X = solve(A, B): gB = solve(A^H, gX), gA = -gB X^H
  rules.solve = function(_, ins, outs, g)
    local gb = sl.solve(H(ins[1]), g[1])
    return { -mm(gb, H(outs[1])), gb }
  end
  -- X = op(A)^-1 B over the triangle read: gB = op(A)^-H gX, gA = -gB X^H
  -- for op(A) = A, -X gB^H for A^H and -conj(X) gB^T for A^T (gB then being
  -- conj(A^-1 conj(gX))), kept to that triangle
  local function cconj(x) return is_complex(x) and apply('conj', nil, x) or x end
  rules.solve_triangular = function(node, ins, outs, g)
    local v = node:params().v
    local lower, unit, X = v[1] == 1, v[3] == 1, outs[1]
    local trans = v[2] == 0 and 'N' or (v[2] == 2 or not is_complex(X)) and 'C' or 'T'
    local function st(b, t) return sl.solve_triangular(ins[1], b, { lower = lower, trans = t, unit_diagonal = unit }) end
    local gb, ga
    if trans == 'N' then
      gb = st(g[1], 'C')
      ga = -mm(gb, H(X))
    elseif trans == 'C' then
      gb = st(g[1], 'N')
      ga = -mm(X, H(gb))
    else
      gb = cconj(st(cconj(g[1]), 'N'))
      ga = -mm(cconj(X), T(gb))
    end
    local k = unit and 1 or 0
    return { lower and tril(ga, -k) or triu(ga, k), gb }
  end
  -- Y = inv(A): gA = -Y^H gY Y^H
  rules.inv = function(_, _, outs, g)
    local Yh = H(outs[1])
    return { -mm(mm(Yh, g[1]), Yh) }
  end
  -- (sign, log|det A|): gA = g_logdet inv(A)^H for real A, whose sign is
  -- piecewise constant. A complex sign s moves as s i Im tr(A^-1 dA), so then
  -- gA = (g_logdet + i b) inv(A)^H with b = -Im(conj(g_sign) s).
  rules.slogdet = function(_, ins, outs, g)
    local A, s, gs = ins[1], outs[1], g[1]
    local c = g[2]
    if is_complex(A) then
      c = sl.complex(c, sl.imag(gs) * sl.real(s) - sl.real(gs) * sl.imag(s))
    end
    return { as_col(as_col(c)) * H(sl.inv(A)) }
  end
  -- x[..., first..last] over the last axis (cols) or the one before (rows);
  -- bounds may be symbolic, and first > last gives an empty slice
  local function cols(x, first, last)
    local key = {}
    for i = 1, x:dim() - 1 do key[i] = {} end
    key[x:dim()] = { first, last }
    return sl.subtensor(x, key)
  end
  local function rows(x, first, last)
    local key = {}
    for i = 1, x:dim() - 2 do key[i] = {} end
    key[x:dim() - 1] = { first, last }
    return sl.subtensor(x, key)
  end
  local function static_le(a, b) return type(a) == 'number' and type(b) == 'number' and a <= b end
  -- A = Q R with k = min(m, n) (reduced: Q m x k, R k x n). Split A = [X | Y]
  -- and R = [U | V] after k columns: X = Q U is a square or tall QR, and
  -- Y = Q V. With M = U gU^T - gQ'^T Q and gQ' = gQ + Y gV^T,
  -- gX = (gQ' + Q copyltu(M)) U^-T (copyltu mirroring M's lower triangle up)
  -- and gY = Q gV. 'complete' with m > n: the columns Q2 of Q past k are one
  -- orthonormal completion among many, so the gradient is the one of a cost
  -- that depends on them only through their span (Q2 Q2^T = I - Q1 Q1^T,
  -- which moves Q2's gradient onto Q1 as -Q2 gQ2^T Q1); R's zero rows past k
  -- take none. Complex A: H for T, and copyltu keeps only the real part of
  -- M's diagonal (LAPACK's R has a real diagonal, so Q R has no phase left free).
  rules.qr = function(node, ins, outs, g)
    local A, Q, R, gQ, gR = ins[1], outs[1], outs[2], g[1], g[2]
    local m, n = lsize(A, -2), lsize(A, -1)
    local k = lsize(R, -2)
    if node:params().v[1] == 1 and not static_le(m, n) then
      k = (type(m) == 'number' and type(n) == 'number') and math.min(m, n) or sl.minimum(m, n)
      local Q1, Q2, gQ2 = cols(Q, 1, k), cols(Q, k + 1, -1), cols(gQ, k + 1, -1)
      Q, gQ = Q1, cols(gQ, 1, k) - mm(Q2, mm(H(gQ2), Q1))
      R, gR = rows(R, 1, k), rows(gR, 1, k)
    end
    local wide = not static_le(n, m)   -- may be wide: split off Y (empty when it is not)
    local Y, gV
    if wide then
      Y, gV = cols(A, k + 1, -1), cols(gR, k + 1, -1)
      R, gR = cols(R, 1, k), cols(gR, 1, k)
      gQ = gQ + mm(Y, H(gV))
    end
    local M = mm(R, H(gR)) - mm(H(gQ), Q)
    local C = tril(M) + H(tril(M, -1))
    if is_complex(M) then   -- R's diagonal is real: C keeps Re diag(M) alone
      local d = sl.imag(M) * sl.linalg.identity_like(sl.imag(M))
      C = C - sl.complex(d * 0, d)
    end
    local B = gQ + mm(Q, C)
    local gX = H(sl.solve_triangular(R, H(B), { lower = false }))   -- B U^-H
    if wide then return { sl.concatenate({ gX, mm(Q, gV) }, -1) } end
    return { gX }
  end
  -- A = U diag(S) Vh: gA = U [F o (J - J^T) S + S F o (K - K^T) + diag(gS)] Vh
  -- + (gU - U U^T gU) S^-1 Vh + U S^-1 (gVh - gVh V Vh), J = U^T gU, K = Vh gVh^T,
  -- F = gap_inverse(S^2). Full U and V (k = min(m, n)): U's columns U2 past k
  -- are one orthonormal basis among many of the complement of U1's span, so
  -- the gradient is the one of a cost that depends on them only through that
  -- span (U2 U2^T = I - U1 U1^T), the only case where one exists: gU2 moves
  -- onto U1 as -U2 gU2^T U1 (and Vh's rows past k onto Vh1 as -Vh1 gVh2^T Vh2),
  -- as for qr's complete Q. A cost that depends on the basis chosen within
  -- the span gets the gradient of its span-dependent part. Complex A: H for T,
  -- plus i Im(J_jj) / S_j on the diagonal; a pair u_j, v_j is unique only up
  -- to a common phase, so the gradient is that of a cost that does not depend
  -- on it (as PyTorch's, which refuses the others where it can tell).
  rules.svd = function(node, ins, outs, g)
    local U, S, Vh, gU, gS, gVh = outs[1], outs[2], outs[3], g[1], g[2], g[3]
    if node:params().v[1] == 1 then
      local k = lsize(S, -1)
      local U2, gU2, Vh2, gVh2 = cols(U, k + 1, -1), cols(gU, k + 1, -1), rows(Vh, k + 1, -1), rows(gVh, k + 1, -1)
      U, gU, Vh, gVh = cols(U, 1, k), cols(gU, 1, k), rows(Vh, 1, k), rows(gVh, 1, k)
      gU = gU - mm(U2, mm(H(gU2), U))
      gVh = gVh - mm(mm(Vh, H(gVh2)), Vh2)
    end
    local F = gap_inverse(S * S)
    local J, K = mm(H(U), gU), mm(Vh, H(gVh))
    local Sr, Sc = as_row(S), as_col(S)
    local I = sl.linalg.identity_like(J)
    local inner = F * (J - H(J)) * Sr + Sc * (F * (K - H(K))) + I * as_row(gS)
    if is_complex(J) then
      local d = as_row(sl.sum(sl.imag(J) * sl.linalg.identity_like(S), -2) / S)   -- Im(J_jj) / S_j
      inner = inner + I * sl.complex(d * 0, d)
    end
    local ga = mm(mm(U, inner), Vh)
    local gu_perp = gU - mm(U, J)
    local gv_perp = gVh - mm(H(K), Vh)   -- gVh - (gVh V) Vh
    return { ga + mm(gu_perp / Sr, Vh) + mm(U, gv_perp / Sc) }
  end
  -- S alone: gA = U diag(gS) Vh
  rules.svdvals = function(_, ins, _, g)
    local U, _, Vh = apply('svd', { v = { 0 } }, ins[1])
    return { mm(U * as_row(g[1]), Vh) }
  end
  -- A = V diag(w) V^H: gA = V (diag(gw) + F o (V^H gV)) V^H, symmetrized;
  -- F = gap_inverse(w). A complex eigenvector is unique up to a phase: the
  -- gradient is that of a cost that does not depend on it (F's zero diagonal
  -- drops the phase's term, Im diag(V^H gV)).
  rules.eigh = function(_, _, outs, g)
    local w, V, gw, gV = outs[1], outs[2], g[1], g[2]
    local inner = gap_inverse(w) * mm(H(V), gV)
    local ga = mm(mm(V, inner), H(V)) + mm(V * as_row(gw), H(V))
    return { (ga + H(ga)) * 0.5 }
  end
  rules.eigvalsh = function(node, ins, _, g)
    local _, V = apply('eigh', node:params(), ins[1])
    return { mm(V * as_row(g[1]), H(V)) }
  end
  -- Complex matrices as (real, imaginary) pairs of real ones: the products
  -- and solves below then batch and compile like any real graph.
  local function cmm(ar, ai, br, bi) return mm(ar, br) - mm(ai, bi), mm(ar, bi) + mm(ai, br) end
  -- A = V diag(w) V^-1, V's columns of unit norm (each up to a phase):
  -- gA = V^-H (diag(gw) + F o (V^H gV - V^H V diag(Re diag(V^H gV)))) V^H
  -- (its real part for real A),
  -- F_ij = 1 / conj(w_j - w_i) off the diagonal and 0 where w_i, w_j are
  -- equal to within the dtype's precision (as for eigh). The second term of
  -- the bracket keeps the columns' norms. That rule is the one of costs that
  -- do not depend on the vectors' phases (|V|, V diag(w) V^-1, w); dgeev
  -- fixes each phase by making the largest component v_kj real, so a
  -- column's phase moves as Im(dv_kj) / v_kj, and adding i Im(gv_j^H v_j) /
  -- v_kj to gV at (k, j) gives every cost its gradient (nothing, for
  -- phase-free costs, where Im(gv_j^H v_j) = 0).
  rules.eig = function(_, ins, outs, g)
    local w, V = outs[1], outs[2]
    local wr, wi, Vr, Vi = sl.real(w), sl.imag(w), sl.real(V), sl.imag(V)
    local gVr, gVi = sl.real(g[2]), sl.imag(g[2])
    local n = lsize(w, -1)
    local rows_at = sl.arange(1, n + 1, 'int64'):dimshuffle(1, 'x')
    local largest = sl.eq(rows_at, as_row(sl.argmax(sl.abs(V), -2))):cast(Vr:dtype())   -- one-hot (k, j)
    local vk = as_row(sl.sum(Vr * largest, -2))
    local phase = as_row(sl.sum(gVr * Vi - gVi * Vr, -2))   -- Im(gv_j^H v_j)
    gVi = gVi + largest * (phase / vk)
    local Hr, Hi = T(Vr), -T(Vi)   -- V^H
    local Pr, Pi = cmm(Hr, Hi, gVr, gVi)   -- V^H gV
    local d = as_row(sl.sum(Vr * gVr + Vi * gVi, -2))   -- Re diag(V^H gV) as a row
    local Sr, Si = cmm(Hr, Hi, Vr, Vi)   -- V^H V
    local Xr, Xi = Pr - Sr * d, Pi - Si * d
    local Dr, Di = as_row(wr) - as_col(wr), as_row(wi) - as_col(wi)   -- w_j - w_i
    local gap2 = Dr * Dr + Di * Di
    local scale = as_col(sl.max(sl.abs(w), -1, true)) * sl.cast(EPS[wr:dtype()] * 8 * n, wr:dtype())
    local apart = sl.gt(gap2, scale * scale)
    local s = sl.where(apart, 1 / sl.where(apart, gap2, 1), 0)
    local Fr, Fi = Dr * s, Di * s   -- 1 / conj(w_j - w_i) = (w_j - w_i) / |w_j - w_i|^2
    local I = sl.linalg.identity_like(Xr)
    local Ir = Fr * Xr - Fi * Xi + I * as_row(sl.real(g[1]))
    local Ii = Fr * Xi + Fi * Xr + I * as_row(sl.imag(g[1]))
    local Nr, Ni = cmm(Ir, Ii, Hr, Hi)
    -- V^H Z = N as the real system [[Hr, -Hi], [Hi, Hr]] [Zr; Zi] = [Nr; Ni]; gA = Zr (+ i Zi)
    local H2 = sl.concatenate({ sl.concatenate({ Hr, -Hi }, -1), sl.concatenate({ Hi, Hr }, -1) }, -2)
    local Z = sl.solve(H2, sl.concatenate({ Nr, Ni }, -2))
    if is_complex(ins[1]) then return { sl.complex(rows(Z, 1, n), rows(Z, n + 1, -1)) } end
    return { rows(Z, 1, n) }
  end
  -- x = lstsq(A, b) for A of full column rank: z = (A^H A)^-1 gx, r = b - A x,
  -- gA = r z^H - A z x^H, gb = A z; residuals, rank and s take no gradient
  rules.lstsq = function(_, ins, outs, g)
    local A, b, x = ins[1], ins[2], outs[1]
    local z = sl.solve(mm(H(A), A), g[1])
    local Az = mm(A, z)
    return { mm(b - mm(A, x), H(z)) - mm(Az, H(x)), Az }
  end
  rules.reshape = function(_, ins, _, g)
    return { sl.reshape(g[1], ins[1]:shape()) }   -- size inputs get nothing
  end

  -- The sizes of x for alloc and reshape: the static size where known (so
  -- static shapes propagate), else the symbolic x:shape(i).
  local function sizes(x)
    local s, st = {}, x:static_shape()
    for i = 1, #st do s[i] = st[i] >= 0 and st[i] or x:shape(i) end
    return s
  end
  local function params_of(node) return node:params().v end

  -- -- shape ops ---------------------------------------------------------------------
  rules.flatten = function(_, ins, _, g) return { sl.reshape(g[1], sizes(ins[1])) } end

  -- The inverse permutation; 'x' axes of the output are dropped (summed when
  -- g's static size there is not 1, so a dimshuffle may drop them) and input
  -- axes of size 1 that the pattern left out come back as 'x'.
  rules.dimshuffle = function(node, ins, _, g)
    local pat, gz = params_of(node), g[1]
    local gs = gz:static_shape()
    local sum_axes, pos, at = {}, {}, 0
    for j, a in ipairs(pat) do
      if a < 0 and gs[j] ~= 1 then sum_axes[#sum_axes + 1] = j - 1 end
    end
    if #sum_axes > 0 then
      gz = apply('sum', { v = { 0, unpack(sum_axes) } }, gz)
    end
    for j, a in ipairs(pat) do   -- where each input axis lies in gz
      if a >= 0 then pos[a] = at; at = at + 1
      elseif #sum_axes == 0 then at = at + 1 end
    end
    local v = {}
    for i = 0, ins[1]:dim() - 1 do v[i + 1] = pos[i] or -1 end
    return { apply('dimshuffle', { v = v }, gz) }
  end

  -- Full ranges on the axes before `axis` (0-based) and `entry` on it.
  local function key_at(axis, entry)
    local key = {}
    for i = 1, axis do key[i] = {} end
    key[axis + 1] = entry
    return key
  end

  -- Each input gets its range of g along the axis; offsets are numbers when
  -- the sizes are static, symbolic otherwise.
  rules.concatenate = function(node, ins, _, g)
    local axis = params_of(node)[1]
    local out, off = {}, 0
    for i, x in ipairs(ins) do
      local n = x:static_shape()[axis + 1]
      if n < 0 then n = x:shape(axis + 1) end
      out[i] = sl.subtensor(g[1], key_at(axis, { off + 1, off + n }))
      off = off + n
    end
    return out
  end
  rules.stack = function(node, ins, _, g)
    local axis, out = params_of(node)[1], {}
    for i = 1, #ins do out[i] = sl.subtensor(g[1], key_at(axis, i)) end
    return out
  end
  -- g added into zeros shaped like x by add(zeros, g); a complex g's two parts
  -- apart, as the scatters are real
  local function scatter(add, x, g)
    local part = REAL_PART[g:dtype()]
    if not part then return add(sl.zeros_like(x), g) end
    local z = sl.zeros_like(x, part)
    return sl.complex(add(z, sl.real(g)), add(z, sl.imag(g)))
  end
  rules.narrow = function(node, ins, _, g)
    local v, x = params_of(node), ins[1]
    if v[3] == 0 then return { zeros_of(x) } end
    local key = key_at(v[1], { v[2] + 1, v[2] + v[3] })
    return { scatter(function(z, gp) return sl.inc_subtensor(z, key, gp) end, x, g[1]) }
  end

  -- allreduce (sl.dist): the gradient of the job's total cost, the sum of the
  -- ranks' costs: a sum's is the sum of the ranks' g, a mean's their mean.
  rules.allreduce = function(node, _, _, g)
    local code = params_of(node)[1]
    if code ~= core.dist.op_code('sum') and code ~= core.dist.op_code('mean') then
      core.fail('grad: allreduce has a gradient for sum and mean only')
    end
    return { apply('allreduce', node:params(), g[1]) }
  end

  -- repeat: g as (..., n, repeats, ...) summed over the repeats.
  rules['repeat'] = function(node, ins, _, g)
    local v, x = params_of(node), ins[1]
    local reps, axis = v[1], v[2]
    if reps == 0 then return { sl.zeros_like(x) } end
    local s = sizes(x)
    table.insert(s, axis + 2, reps)
    return { apply('sum', { v = { 0, axis + 1 } }, sl.reshape(g[1], s)) }
  end

  -- tile: each axis with r > 1 repetitions splits into (r, size) blocks and
  -- the r axis is summed; leading axes that tile added are then reshaped away.
  rules.tile = function(node, ins, _, g)
    local x, reps = ins[1], params_of(node)
    local nd, nr = x:dim(), #reps
    local d = math.max(nd, nr)
    local s, shape, summed = sizes(x), {}, {}
    for i = 1, d do
      local r = i - (d - nr) >= 1 and reps[i - (d - nr)] or 1
      local si = i - (d - nd) >= 1 and s[i - (d - nd)] or 1
      if r == 0 then return { sl.zeros_like(x) } end
      if r > 1 then
        summed[#summed + 1] = #shape
        shape[#shape + 1] = r
      end
      shape[#shape + 1] = si
    end
    local gx = g[1]
    if #summed > 0 then gx = apply('sum', { v = { 0, unpack(summed) } }, sl.reshape(gx, shape)) end
    if d > nd then gx = sl.reshape(gx, s) end
    return { gx }
  end

  -- -- indexing --------------------------------------------------------------------------
  -- subtensor's params encode the key and its extra inputs are the bounds
  -- (core/ops/index.c); the update ops take the same params with y second.
  rules.subtensor = function(node, ins, _, g)
    return { scatter(function(z, gp) return apply('inc_subtensor', node:params(), z, gp, unpack(ins, 2)) end, ins[1], g[1]) }
  end
  rules.set_subtensor = function(node, ins, _, g)   -- (x, y, bounds...)
    local p = node:params()
    return { apply('set_subtensor', p, g[1], sl.tensor(0, g[1]:dtype()), unpack(ins, 3)),
             apply('subtensor', p, g[1], unpack(ins, 3)) }
  end
  rules.inc_subtensor = function(node, ins, _, g)
    return { g[1], apply('subtensor', node:params(), g[1], unpack(ins, 3)) }
  end
  -- take: repeated indices accumulate (inc_take adds once per occurrence).
  rules.take = function(node, ins, _, g)
    return { apply('inc_take', node:params(), sl.zeros_like(ins[1]), g[1], ins[2]) }
  end
  -- set_take: where an index repeats, only the value written last stays; y's
  -- gradient still reads g at every occurrence.
  rules.set_take = function(node, ins, _, g)   -- (x, y, indices)
    local p = node:params()
    return { apply('set_take', p, g[1], sl.tensor(0, g[1]:dtype()), ins[3]),
             apply('take', p, g[1], ins[3]) }
  end
  rules.inc_take = function(node, ins, _, g)
    return { g[1], apply('take', node:params(), g[1], ins[3]) }
  end
  -- gather is a take from flattened x at the 1-based flat positions
  -- 1 + sum_i (c_i - 1) * stride_i, where c_i runs over the index array's
  -- own positions on the other axes and is the index value on `axis`; its
  -- gradient is then inc_take of g at those positions.
  rules.gather = function(node, ins, _, g)
    local x, ind = ins[1], ins[2]
    local axis, nd = params_of(node)[1], x:dim()
    local xs, is = sizes(x), sizes(ind)
    local flat, stride = 1, 1
    for i = nd, 1, -1 do
      local c
      if i - 1 == axis then
        c = ind - 1
      else
        c = sl.arange(0, is[i], 'int64')
        local pat = {}
        for k = 1, nd do pat[k] = k == i and 1 or 'x' end
        c = sl.dimshuffle(c, pat)
      end
      flat = flat + c * stride
      stride = stride * xs[i]
    end
    return { sl.inc_take(sl.zeros_like(x), flat, g[1]) }
  end
  rules.alloc = function(_, _, _, g) return { g[1] } end   -- summed back to the value's shape

  -- integer results: nothing flows back
  for _, op in ipairs({ 'arange', 'shape', 'shape_i', 'argmax', 'argmin', 'all', 'any' }) do
    rules[op] = function() return {} end
  end

  -- -- cumulative ops (core/ops/sort.c) ----------------------------------------------------
  -- Params: v[1] the axis (0-based), v[2] reverse. cumsum's gradient is the
  -- scan of g in the other direction; cumprod's is that scan of g * z over x,
  -- exact away from zeros (a zero in x gives NaN or Inf, as prod's does).
  local function rescan(node, y)
    local v = params_of(node)
    return apply('cumsum', { v = { v[1], 1 - v[2] } }, y)
  end
  rules.cumsum = function(node, _, _, g) return { rescan(node, g[1]) } end
  rules.cumprod = function(node, ins, outs, g)
    if not is_float(ins[1]) then return {} end
    return { rescan(node, g[1] * outs[1]) / ins[1] }
  end
  rules.argsort = function() return {} end
  rules.searchsorted = function() return {} end

  -- -- reductions --------------------------------------------------------------------------
  -- Params (core/ops/reduce.c): v[1] keepdims, v[2..] the reduced axes
  -- (0-based); x is ddof.
  local function reduced(node)
    local p = node:params()
    local axes, set = {}, {}
    for k = 2, #p.v do axes[#axes + 1] = p.v[k]; set[p.v[k]] = true end
    return p.v[1] == 1, axes, set, p.x
  end

  -- y, a reduction's output (or its gradient), with the reduced axes back
  -- as size-1 axes, so it broadcasts against x.
  local function unreduce(node, x, y)
    local keep, _, set = reduced(node)
    if keep or x:dim() == 0 then return y end
    local v, at = {}, 0
    for i = 0, x:dim() - 1 do
      if set[i] then v[i + 1] = -1 else v[i + 1] = at; at = at + 1 end
    end
    return apply('dimshuffle', { v = v }, y)
  end

  -- The number of elements each output reduces over: a number when the
  -- sizes are static, else a symbolic value in dtype.
  local function count(node, x, dtype)
    local _, axes = reduced(node)
    local n, st = 1, x:static_shape()
    for _, a in ipairs(axes) do n = n * (st[a + 1] >= 0 and st[a + 1] or x:shape(a + 1)) end
    if sl.is_var(n) then n = n:cast(dtype) end
    return n
  end

  local function reduction(f)   -- f(node, x, z, g) for z = op(x); float x only
    return function(node, ins, outs, g)
      if not is_float(ins[1]) then return {} end
      return { f(node, ins[1], outs[1], g[1]) }
    end
  end

  rules.sum = reduction(function(node, x, _, g) return sl.alloc(unreduce(node, x, g), sizes(x)) end)
  rules.mean = reduction(function(node, x, _, g)
    return sl.alloc(unreduce(node, x, g) / count(node, x, g:dtype()), sizes(x))
  end)
  -- d prod / dx_i = prod / x_i: exact away from zeros; a zero in x gives NaN
  -- or Inf where the true gradient is the product of the other elements.
  rules.prod = reduction(function(node, x, z, g) return unreduce(node, x, g * z) / x end)
  -- var = sum((x - mean)^2) / (n - ddof); the mean's own derivative drops
  -- out because the deviations sum to zero.
  local function centered(node, x)
    local _, axes = reduced(node)
    return x - apply('mean', { v = { 1, unpack(axes) } }, x)
  end
  rules.var = reduction(function(node, x, _, g)
    local _, _, _, ddof = reduced(node)
    return unreduce(node, x, g) * centered(node, x) * (2 / (count(node, x, g:dtype()) - ddof))
  end)
  rules.std = reduction(function(node, x, z, g)
    local _, _, _, ddof = reduced(node)
    return unreduce(node, x, g / z) * centered(node, x) / (count(node, x, g:dtype()) - ddof)
  end)
  -- max and min: g goes to the elements equal to the result, shared equally
  -- among ties (so the gradient sums to g, a subgradient); a NaN result
  -- gives NaN.
  local function extreme(node, x, z, g)
    local _, axes = reduced(node)
    local mask = sl.eq(x, unreduce(node, x, z)):cast(x:dtype())
    local ties = apply('sum', { v = { 1, unpack(axes) } }, mask)
    return unreduce(node, x, g) * mask / ties
  end
  rules.max, rules.min = reduction(extreme), reduction(extreme)

  -- -- nn ops (core/ops/nn.c) ---------------------------------------------------------------
  -- Params: v[1] the class axis (0-based); logsumexp's are a reduction's.
  local function axis_sum(a, y) return apply('sum', { v = { 1, a } }, y) end
  -- y (rank nd - 1) with a size-1 axis inserted at a (0-based)
  local function insert_axis(y, a)
    local v = {}
    for i = 0, y:dim() do v[i + 1] = i < a and i or (i == a and -1 or i - 1) end
    return apply('dimshuffle', { v = v }, y)
  end
  -- 1 where the 1-based label of a row names the class, else 0, in x's dtype
  local function onehot(y, x, a)
    local k = x:static_shape()[a + 1]
    if k < 0 then k = x:shape(a + 1) end
    local classes = sl.arange(1, k + 1, 'int64')
    local v = {}
    for i = 0, x:dim() - 1 do v[i + 1] = i == a and 0 or -1 end
    classes = apply('dimshuffle', { v = v }, classes)
    return sl.eq(insert_axis(y, a), classes):cast(x:dtype())
  end

  rules.softmax = function(node, _, outs, g)
    return { apply('softmax_grad', node:params(), g[1], outs[1]) }
  end
  -- softmax_grad(gz, z) = z * (gz - s) with s = sum(gz * z): in gz it is
  -- itself; in z, G * (gz - s) - gz * sum(G * z).
  rules.softmax_grad = function(node, ins, _, g)
    local a, gz, z, G = params_of(node)[1], ins[1], ins[2], g[1]
    local s = axis_sum(a, gz * z)
    return { apply('softmax_grad', node:params(), G, z), G * (gz - s) - gz * axis_sum(a, G * z) }
  end
  rules.log_softmax = function(node, _, outs, g)
    return { g[1] - sl.exp(outs[1]) * axis_sum(params_of(node)[1], g[1]) }
  end
  -- exp(x - logsumexp(x)) never overflows: it is at most 1
  rules.logsumexp = reduction(function(node, x, z, g)
    return unreduce(node, x, g) * sl.exp(x - unreduce(node, x, z))
  end)
  -- labels: g * (softmax(x) - onehot(y)); targets t: g * (softmax(x) * sum(t) - t),
  -- and -g * log_softmax(x) for t
  rules.softmax_crossentropy = function(node, ins, _, g)
    local x, y, a = ins[1], ins[2], params_of(node)[1]
    local gcol = insert_axis(g[1], a)
    local p = apply('softmax', node:params(), x)
    if y:dim() == x:dim() - 1 then return { gcol * (p - onehot(y, x, a)) } end
    return { gcol * (p * axis_sum(a, y) - y), -gcol * apply('log_softmax', node:params(), x) }
  end

  -- -- checking gradients numerically ------------------------------------------------
  local TOL = { float64 = { eps = 1e-7, rtol = 1e-4, atol = 1e-4 },
                float32 = { eps = 1e-3, rtol = 1e-2, atol = 1e-2 } }

  -- sl.verify_grad(build, points, opts): build(x1, x2, ...) makes a graph from
  -- symbolic inputs shaped like the tensors in points; its output is projected
  -- on a random direction to a scalar, and the symbolic gradient is compared
  -- with central differences at those points. opts: eps, rtol, atol, seed,
  -- static_shapes (give the inputs the points' sizes as static shapes).
  -- Raises an error naming the worst element; returns the worst relative error.
  function sl.verify_grad(build, points, opts)
    opts = opts or {}
    local syms = {}
    for i, p in ipairs(points) do
      if not sl.is_tensor(p) then points[i] = sl.tensor(p, sl.config.floatX) end
      p = points[i]
      if not TOL[p:dtype()] then error('verify_grad: input ' .. i .. ' is ' .. p:dtype() .. ', not a float', 2) end
      -- as in Theano, an axis of size 1 is broadcastable (static size 1);
      -- the other sizes are unknown unless opts.static_shapes is set
      local shape = p:shape()
      for d = 1, p:dim() do
        if shape[d] ~= 1 and not opts.static_shapes then shape[d] = -1 end
      end
      syms[i] = sl.tensor_type(p:dtype(), shape)('x' .. i)
    end
    local out = build(unpack(syms))
    if not sl.is_var(out) then error('verify_grad: build must return a symbolic variable', 2) end
    -- project the output on a fixed random direction so any shape gives a scalar
    local out_val = sl.compile(syms, out)(unpack(points))
    sl.manual_seed(opts.seed or 4242)
    local proj = sl.randn(out_val:shape(), out:dtype())
    local cost = out
    if out:dim() > 0 then
      cost = sl.dot(sl.reshape(out, -1), sl.reshape(sl.tensor(proj), -1))
    else
      cost = out * proj:item()
    end
    local grads = sl.grad(cost, syms)
    local f = sl.compile(syms, cost)
    local fg = sl.compile(syms, grads)
    local analytic = { fg(unpack(points)) }
    local worst, where = 0, nil
    for i, p in ipairs(points) do
      local tol = TOL[p:dtype()]
      local eps = opts.eps or tol.eps
      local rtol, atol = opts.rtol or tol.rtol, opts.atol or tol.atol
      local x = p:contiguous():clone()
      local args = { unpack(points) }
      args[i] = x
      local ptr = x:data()
      local ga = analytic[i]:contiguous()
      local gp = ga:data()
      for k = 0, x:numel() - 1 do
        local orig = ptr[k]
        ptr[k] = orig + eps
        local up = f(unpack(args)):item()
        ptr[k] = orig - eps
        local down = f(unpack(args)):item()
        ptr[k] = orig
        local numeric = (up - down) / (2 * eps)
        local a = gp[k]
        local err = math.abs(a - numeric)
        local rel = err / (atol + rtol * math.abs(numeric))
        if rel ~= rel then rel = math.huge end
        if rel > worst then
          worst = rel
          where = string.format('input %d element %d: symbolic %.10g, numeric %.10g '
            .. '(abs error %.3g, allowed %.3g)', i, k + 1, a, numeric, err, atol + rtol * math.abs(numeric))
        end
      end
    end
    if worst > 1 then error('verify_grad: gradients differ at ' .. where, 2) end
    return worst
  end
end
