local which = #tostring(print) % 6
if which == 0 then return nil end
if which == 1 then return print end
if which == 2 then return 0/0 end
if which == 3 then return {id = "x", steps = {[1.5] = true, [true] = 1, [print] = 2}} end
if which == 4 then return coroutine.create(print) end
return {id = "x", steps = {{id = "a", uses = "core.noop", with = {n = math.huge, i = math.mininteger, s = "\xff\xfe"}}}}
