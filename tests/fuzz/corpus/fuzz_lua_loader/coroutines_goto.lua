local co = coroutine.wrap(function() while true do coroutine.yield(step{id = "c", uses = "core.noop"}) end end)
local s = {}
for i = 1, 3 do s[i] = co() end
::again::
local x <close> = nil
local y <const> = #s
if y < 0 then goto again end
return workflow{id = "co", steps = s}
