-- fft_filter.lua — low-pass filtering of a noisy signal with rfft / irfft.
--
-- The signal is two slow sines (3 and 7 cycles per second) sampled at 1 kHz
-- for 2 s, plus white noise. The filter keeps the frequencies below the
-- cutoff: one compiled function takes the noisy samples and the cutoff and
-- returns the filtered samples. The run prints the error against the clean
-- signal before and after, and writes a plot of the signal before and
-- after: a PNG through gnuplot when it is installed, an SVG otherwise.
--
-- Run: bin/symlua examples/fft_filter.lua [cutoff Hz] [output file]
--      (default 20 Hz and fft_filter.svg, or .png with gnuplot)
local sl = require 'symlua'

local CUTOFF = tonumber(arg and arg[1]) or 20
local RATE, SECONDS, NOISE = 1000, 2, 0.8
local N = RATE * SECONDS
sl.manual_seed(3)

-- -- the signal --------------------------------------------------------------------
local t = sl.arange(0, N, 'float64') / RATE
local clean = sl.sin(t * (2 * math.pi * 3)) + sl.sin(t * (2 * math.pi * 7)) * 0.5
local noisy = clean + sl.randn(N) * NOISE

-- -- the filter: zero every bin at or above the cutoff --------------------------------
local x, cutoff = sl.vector('x'), sl.scalar('cutoff')
local spectrum = sl.fft.rfft(x)
local freqs = sl.arange(0, N / 2 + 1, 'float64') * (RATE / N)   -- Hz of each bin
local keep = sl.lt(freqs, cutoff):cast('float64')
local lowpass = sl.compile({ x, cutoff }, sl.fft.irfft(spectrum * keep, N))

local filtered = lowpass(noisy, CUTOFF)

local function rms(a) return math.sqrt((a * a):mean():item()) end
local before, after = rms(noisy - clean), rms(filtered - clean)
print(('%d samples at %d Hz; low-pass below %g Hz keeps %d of %d frequency bins')
      :format(N, RATE, CUTOFF, sl.lt(freqs, CUTOFF):cast("int64"):sum():item(), N / 2 + 1))
print(('RMS error against the clean signal: %.4f before, %.4f after (%.1fx smaller)')
      :format(before, after, before / after))

-- -- the plot --------------------------------------------------------------------------------
local function have_gnuplot()
  local ok = os.execute('command -v gnuplot >/dev/null 2>&1')
  return ok == 0 or ok == true
end

local function write_png(path)
  local data = os.tmpname()
  local f = assert(io.open(data, 'w'))
  local tv, nv, fv = t:totable(), noisy:totable(), filtered:totable()
  for i = 1, N do f:write(('%g %g %g\n'):format(tv[i], nv[i], fv[i])) end
  f:close()
  local script = ([[set terminal pngcairo size 1000,400
set output '%s'
set xlabel 'time (s)'
set title 'Low-pass filter below %g Hz'
plot '%s' using 1:2 with lines lc rgb '#bbbbbb' title 'noisy', '' using 1:3 with lines lw 2 lc rgb '#1f77b4' title 'filtered'
]]):format(path, CUTOFF, data)
  local p = io.popen('gnuplot 2>&1', 'w')
  p:write(script)
  local ok = p:close()
  os.remove(data)
  return ok
end

-- An SVG of both curves: noisy in grey, filtered in blue.
local function write_svg(path)
  local W, H, PAD = 1000, 400, 40
  local lo, hi = noisy:min():item(), noisy:max():item()
  local function polyline(values, color, width)
    local pts = {}
    for i, v in ipairs(values) do
      local px = PAD + (i - 1) / (N - 1) * (W - 2 * PAD)
      local py = H - PAD - (v - lo) / (hi - lo) * (H - 2 * PAD)
      pts[#pts + 1] = ('%.1f,%.1f'):format(px, py)
    end
    return ('<polyline fill="none" stroke="%s" stroke-width="%g" points="%s"/>\n')
      :format(color, width, table.concat(pts, ' '))
  end
  local f = assert(io.open(path, 'w'))
  f:write(('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d">\n'):format(W, H))
  f:write('<rect width="100%" height="100%" fill="white"/>\n')
  f:write(('<text x="%d" y="24" font-family="sans-serif" font-size="16">Low-pass filter below %g Hz: '
           .. 'noisy (grey) and filtered (blue), %g s</text>\n'):format(PAD, CUTOFF, SECONDS))
  f:write(polyline(noisy:totable(), '#bbbbbb', 1))
  f:write(polyline(filtered:totable(), '#1f77b4', 2))
  f:write('</svg>\n')
  f:close()
end

local out = arg and arg[2]
if have_gnuplot() and (not out or out:match('%.png$')) then
  out = out or 'fft_filter.png'
  if write_png(out) then print('plot written to ' .. out) else out = nil end
end
if not out or not out:match('%.png$') then
  out = out or 'fft_filter.svg'
  write_svg(out)
  print('plot written to ' .. out)
end
if after >= before / 2 then
  print('the filter did not reduce the noise enough')
  os.exit(1, true)
end
