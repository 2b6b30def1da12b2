-- sl.compile takes updates from a Lua table, whose pairs() order follows
-- addresses and changes from run to run; the compiled function must not, or
-- the same script would miss the compile cache in every other process.
local sl = require 'symlua'

describe('compile update order', function()
  it('lists updates by their variables ids, whatever the table order', function()
    local vars = {}
    for i = 1, 12 do vars[i] = sl.shared(sl.zeros(2), 's' .. i) end
    local ups = {}
    for i = 12, 1, -1 do ups[vars[i]] = vars[i] + i end
    local f = sl.compile({}, {}, { updates = ups })
    local got = f:info().updates
    assert.are.equal(12, #got)
    for i = 2, #got do assert.is_true(got[i - 1][1]:id() < got[i][1]:id()) end
    -- and each update still goes to its own variable: s_i += i
    f()
    for i = 1, 12 do assert.are.same({ i, i }, vars[i]:get_value():totable()) end
  end)
end)
