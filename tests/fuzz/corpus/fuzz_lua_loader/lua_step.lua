return workflow{
  id = "score",
  steps = {
    step{id = "rows", uses = "core.noop", with = {rows = {{name = "A", spend = 10}, {name = "B"}}}},
    step{id = "score", uses = "lua", needs = {"rows"}, code = [[
local total = 0
for _, r in ipairs(steps.rows.output.rows) do total = total + (r.spend or 0) end
return {total = total, text = json.encode(steps.rows.output)}
]]},
    step{id = "broken", uses = "lua", code = [[return (]]},
    step{id = "fromfile", uses = "lua", file = "../../etc/passwd"},
  },
}
