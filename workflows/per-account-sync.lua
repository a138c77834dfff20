-- Syncs every ad account in a list, one step per account, then summarises. The accounts and the
-- retry-then-alert fragment are plain Lua: add an account to the list and the workflow grows a
-- step. Load it with `flowpilot validate workflows/per-account-sync.lua`.
local accounts = {
  {id = "act_101", name = "Brand"},
  {id = "act_202", name = "Performance"},
  {id = "act_303", name = "Retargeting"},
}

-- A reusable fragment: a check that is retried, and an alert for the workflow's on_failure
-- list that reports it when the run failed because of it. Steps that need a failed step are
-- skipped, so an alert belongs in on_failure, which runs once when the run fails. Used twice
-- below with different prefixes.
local function retry_then_alert(prefix, message)
  return {
    steps = {
      step{
        id = prefix .. "_check",
        uses = "core.noop",
        retry = {attempts = 3, backoff = "fixed", delay = "100ms"},
        with = {check = message},
      },
    },
    on_failure = {
      step{
        id = prefix .. "_alert",
        uses = "core.log",
        ["if"] = "${{ steps." .. prefix .. "_check.status == 'failed' }}",
        with = {level = "error", message = message .. " failed: ${{ run.error }}"},
      },
    },
  }
end

local budgets = retry_then_alert("budgets", "budget check")
local pixels = retry_then_alert("pixels", "pixel check")

local sync_ids = {}
for _, account in ipairs(accounts) do
  sync_ids[#sync_ids + 1] = "sync_" .. account.id
end

return workflow{
  id = "per-account-sync",
  name = "Per-account sync",
  description = "One sync step per ad account, then a summary",
  inputs = {
    date_preset = {type = "string", default = "last_7d"},
  },
  steps = concat(
    steps_from(accounts, function(account)
      return step{
        id = "sync_" .. account.id,
        uses = "core.log",
        with = {message = "syncing " .. account.name .. " (" .. account.id .. ") for ${{ inputs.date_preset }}"},
      }
    end),
    budgets.steps,
    pixels.steps,
    step{
      id = "summary",
      uses = "core.log",
      needs = sync_ids,
      with = {message = "synced " .. #accounts .. " accounts"},
    }
  ),
  outputs = {
    accounts = #accounts,
  },
  on_failure = concat(budgets.on_failure, pixels.on_failure),
}
