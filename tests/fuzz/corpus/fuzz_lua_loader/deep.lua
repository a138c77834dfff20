local function nest(n) if n == 0 then return {} end return {nest(n - 1)} end
local function rec(n) return rec(n + 1) + 1 end
pcall(rec, 1)
local ok = pcall(table.unpack, {}, 1, 1e8)
return workflow{id = "deep", steps = {step{id = "a", uses = "core.noop", with = {x = nest(200)}}}}
