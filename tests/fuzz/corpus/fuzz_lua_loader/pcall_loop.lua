-- pcall in a loop, errors that are tables with metamethods, and string.rep past the memory cap.
local n = 0
for i = 1, 2000 do
  pcall(function()
    n = n + 1
    error(setmetatable({}, {__tostring = function() return "e" .. n end}))
  end)
end
local ok, err = pcall(string.rep, "x", 2^31)
return workflow{id = "pcall", steps = {step{id = "a", uses = "core.noop", with = {n = n, ok = ok, err = tostring(err)}}}}
