-- A table that grows until the allocator cap stops it.
local t = {}
local s = ("y"):rep(1 << 20)
for i = 1, 1e9 do t[i] = s .. i end
return workflow{id = "big", steps = t}
