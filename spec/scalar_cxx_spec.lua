-- kernels/scalar.h in C++ (the language CUDA compiles generated code in):
-- every elementwise op's scalar expression, built as C and as C++, with and
-- without the vector math of kernels/vmath.h, gives the same values.
local sl = require 'symlua'
local files = require 'spec.support.files'

local function have(cmd)
  local r = os.execute(cmd .. ' --version >/dev/null 2>&1')
  return r == 0 or r == true
end

-- A program printing each op at a few points, for double, float and int64_t.
local function program(vector_math)
  local lines = { vector_math and '#define SL_VECTOR_MATH 1' or '',
                  '#include <math.h>', '#include <stdio.h>', '#include "kernels/scalar.h"',
                  vector_math and '#include "kernels/vmath.h"' or '', 'int main(void) {' }
  local points = { { 0.5, 2, -1 }, { -1.25, 3, 0.75 }, { 3, -2, 1 } }
  for _, op in ipairs(sl.core.ops()) do
    if op.elemwise and op.cexpr then
      for _, ty in ipairs({ 'double', 'float', 'int64_t' }) do
        for _, p in ipairs(points) do
          -- an int64_t result of a float function (log(0) = -inf) out of
          -- int64_t's range has no defined conversion: printed as such
          local value = ty == 'int64_t'
            and ('fabs((double)(%s)) < 9.2e18 ? (double)(int64_t)(%s) : -0.0'):format(op.cexpr, op.cexpr)
            or ('(double)(%s)(%s)'):format(ty, op.cexpr)
          lines[#lines + 1] = string.format(
            '{ %s a = (%s)%s, b = (%s)%s, c = (%s)%s; (void)a; (void)b; (void)c; ' ..
            'printf("%s %s %%.17g\\n", %s); }',
            ty, ty, p[1], ty, p[2], ty, p[3], op.name, ty, value)
        end
      end
    end
  end
  lines[#lines + 1] = 'return 0; }'
  return table.concat(lines, '\n') .. '\n'
end

local function build_and_run(compiler, lang, src)
  local path = files.write(os.tmpname() .. '.src', src)
  local exe = os.tmpname()
  local cmd = string.format("%s -x %s -O1 -I. -o '%s' '%s' -lm 2>&1 && echo BUILT", compiler, lang, exe, path)
  local p = io.popen(cmd)
  local msg = p:read('*a')
  p:close()
  os.remove(path)
  if not msg:find('BUILT\n$') then os.remove(exe); return nil, msg end
  p = io.popen("'" .. exe .. "'")
  local out = p:read('*a')
  p:close()
  os.remove(exe)
  return out
end

describe('kernels/scalar.h', function()
  for _, vector_math in ipairs({ false, true }) do
    it('gives C and C++ the same values' .. (vector_math and ' with vector math' or ''), function()
      if not have('c++') then
        print('skipped: no C++ compiler (c++) on this machine')
        return
      end
      local src = program(vector_math)
      local c_out, c_err = build_and_run('cc', 'c', src)
      assert(c_out, c_err)
      local cxx_out, cxx_err = build_and_run('c++', 'c++', src)
      assert(cxx_out, cxx_err)
      local c_lines, cxx_lines = {}, {}
      for l in c_out:gmatch('[^\n]+') do c_lines[#c_lines + 1] = l end
      for l in cxx_out:gmatch('[^\n]+') do cxx_lines[#cxx_lines + 1] = l end
      assert.is_true(#c_lines > 400, c_out)
      assert.are.equal(#c_lines, #cxx_lines)
      for i, l in ipairs(c_lines) do
        -- float: C++ calls libm's float versions (atan2f) where C promotes to
        -- double, so the last bit may differ; double and int64_t are exact
        local name, ty, x = l:match('^(%S+) (%S+) (%S+)$')
        local _, _, y = cxx_lines[i]:match('^(%S+) (%S+) (%S+)$')
        if ty == 'float' and x ~= y then
          x, y = tonumber(x), tonumber(y)
          assert.is_true(math.abs(x - y) <= 2.4e-7 * math.abs(x), name .. ': ' .. l .. ' vs ' .. cxx_lines[i])
        else
          assert.are.equal(l, cxx_lines[i])
        end
      end
    end)
  end
end)
