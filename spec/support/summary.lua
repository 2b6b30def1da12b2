-- Busted output handler: busted's plain terminal report, then one closing line
-- "N passed, N failed, N skipped" (errors count as failures, pending as skipped).
return function(options)
  local busted = require 'busted'
  local handler = require 'busted.outputHandlers.plainTerminal'(options)

  local subscribe = handler.subscribe
  handler.subscribe = function(h, opts)
    subscribe(h, opts)
    busted.subscribe({ 'suite', 'end' }, function()
      io.write(string.format('%d passed, %d failed, %d skipped\n', handler.successesCount,
        handler.failuresCount + handler.errorsCount, handler.pendingsCount))
      io.flush()
      return nil, true
    end)
  end
  return handler
end
