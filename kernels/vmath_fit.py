#!/usr/bin/python3
# vmath_fit.py — derives the polynomial coefficients in kernels/vmath.h: a
# weighted minimax (Remez) fit in 70-digit decimal arithmetic, printed as C
# hex literals for double and float. Run: /usr/bin/python3 kernels/vmath_fit.py
import math
import struct
from decimal import Decimal as D, getcontext

getcontext().prec = 70


def solve(a, b):
    """Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [row[:] + [v] for row, v in zip(a, b)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return [m[i][n] / m[i][i] for i in range(n)]


def power(z, j):
    return D(1) if j == 0 else z ** j


def remez(g, w, lo, hi, deg, iters=10, grid=3000):
    """Coefficients c of sum c_j z^j minimizing max |(p(z) - g(z)) w(z)| on
    [lo, hi], and that maximum."""
    n = deg + 1
    pts = [lo + (hi - lo) * (1 - D(math.cos(math.pi * i / n))) / 2 for i in range(n + 1)]
    zs = [lo + (hi - lo) * D(i) / grid for i in range(grid + 1)]
    best = None
    for _ in range(iters):
        rows = [[power(z, j) for j in range(n)] + [D((-1) ** i) / w(z)] for i, z in enumerate(pts)]
        sol = solve(rows, [g(z) for z in pts])
        c = sol[:n]
        err = [(sum(cj * power(z, j) for j, cj in enumerate(c)) - g(z)) * w(z) for z in zs]
        top = max(abs(e) for e in err)
        if best is None or top < best[1]:
            best = (c, top)
        # the new reference: alternating local extrema, the largest kept
        ext = [0] + [i for i in range(1, grid) if (err[i] - err[i - 1]) * (err[i + 1] - err[i]) <= 0] + [grid]
        sel = []
        for i in ext:
            if sel and (err[i] >= 0) == (err[sel[-1]] >= 0):
                if abs(err[i]) > abs(err[sel[-1]]):
                    sel[-1] = i
            else:
                sel.append(i)
        while len(sel) > n + 1:
            sel.pop(0 if abs(err[sel[0]]) < abs(err[sel[-1]]) else -1)
        if len(sel) < n + 1:
            break
        pts = [zs[i] for i in sel]
    return best


def f32(x):
    return struct.unpack('f', struct.pack('f', x))[0]


def fit(name, g, w, lo, hi, deg, deg_f):
    c, e = remez(g, w, lo, hi, deg)
    print('%s, double, degree %d: weighted error 2^%.1f' % (name, deg, math.log2(float(e))))
    print('  ' + ', '.join(float(x).hex() for x in reversed(c)))
    c, e = remez(g, w, lo, hi, deg_f)
    print('%s, float, degree %d: weighted error 2^%.1f' % (name, deg_f, math.log2(float(e))))
    print('  ' + ', '.join(float(f32(float(x))).hex() + 'f' for x in reversed(c)))


def tanh(x):
    e = (2 * x).exp()
    return (e - 1) / (e + 1)


def atanh(s):
    return ((1 + s) / (1 - s)).ln() / 2


# e^r - 1 = r + r^2 q(r) on |r| <= ln2/2 (a little wider for rounding of
# n); error relative to e^r - 1.
H = D(2).ln() / 2 * D('1.0005')
fit('exp: q(r) = (e^r - 1 - r) / r^2',
    lambda r: D(1) / 2 if r == 0 else (r.exp() - 1 - r) / (r * r),
    lambda r: D('1e-40') if r == 0 else r * r / abs(r.exp() - 1),
    -H, H, 10, 5)

# log(1 + f) = 2 atanh(s) = 2 s + s R, R = z P(z), z = s^2 <= 0.1716^2;
# error relative to 2 s.
S = D('0.1716')
fit('log: P(z) = (2 atanh(s) / s - 2) / z',
    lambda z: (2 * atanh(z.sqrt()) / z.sqrt() - 2) / z,
    lambda z: z / 2,
    D('1e-12'), S * S, 6, 2)

# tanh(x) = x + x^3 P(x^2) on |x| < 0.55; error relative to tanh(x).
T = D('0.55')
fit('tanh: P(z) = (tanh(x) - x) / x^3, z = x^2',
    lambda z: (tanh(z.sqrt()) - z.sqrt()) / (z.sqrt() * z),
    lambda z: z * z.sqrt() / tanh(z.sqrt()),
    D('1e-8'), T * T, 10, 4)
