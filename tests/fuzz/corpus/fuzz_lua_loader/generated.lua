local accounts = {"a1", "a2", "a3"}

local function retry_then_alert(prefix)
  return {
    step{id = prefix .. "_try", uses = "core.noop"},
    step{id = prefix .. "_alert", uses = "core.log", needs = {prefix .. "_try"},
         with = {message = prefix}},
  }
end

return workflow{
  id = "generated",
  steps = concat(
    steps_from(accounts, function(account)
      return step{id = "sync_" .. account, uses = "core.noop", with = {account = account}}
    end),
    retry_then_alert("north"),
    step{id = "summary", uses = "core.log", needs = {"sync_a1", "sync_a2"}, with = {message = "done"}}
  ),
}
