local sl = require 'symlua'
describe('smoke', function()
  it('makes a tensor', function() assert.are.equal(6, sl.tensor({{1,2,3},{4,5,6}}):numel()) end)
  it('skips', function() pending('x') end)
end)
