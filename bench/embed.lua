-- The host API's call path: one compiled function call on 10 elements from
-- Lua, from C (sl_function_call into a host buffer) and from two C threads
-- at once. The C side is bench/c/embed_call.c, built here through make.
-- Run: bin/symlua bench/embed.lua
local root = ((arg and arg[0] or ''):match('^(.*/)bench/') or './')
assert(os.execute('make -s -C ' .. root .. ' build/bench/embed_call') == 0, 'building bench/c/embed_call.c failed')
local p = assert(io.popen('cd ' .. root .. ' && build/bench/embed_call lua'))
io.write(p:read('*a'))
assert(p:close(), 'build/bench/embed_call failed')
