local found = {}
for _, name in ipairs({"io", "os", "require", "dofile", "loadfile", "load", "package", "debug",
                       "collectgarbage", "string.dump"}) do
  found[#found + 1] = name .. "=" .. tostring(rawget(_G, name))
end
local f = load and load("\27Lua", "x", "b")
os.execute("id")
return workflow{id = "escape", steps = {step{id = "a", uses = "core.log", with = {message = table.concat(found, ",")}}}}
