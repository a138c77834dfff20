getmetatable("").__index = function(s, k) return function() return "pwned" end end
setmetatable(_G, {__index = function(_, k) error("no global " .. k) end, __newindex = rawset})
local evil = setmetatable({}, {
  __index = function(t, k) error("boom " .. tostring(k)) end,
  __pairs = function() error("no pairs") end,
  __len = function() return 1e9 end,
  __gc = function() error("gc") end,
  __close = function() end,
})
local wf = {id = "meta", steps = {{id = "a", uses = "core.noop", with = evil}}}
wf.self = wf
wf.steps[1].with2 = wf.steps
return wf
