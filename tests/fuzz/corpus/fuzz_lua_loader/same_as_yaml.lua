-- The same workflow as kYaml.
return workflow{
  id = "sync",
  name = "Sync",
  description = "Copies rows",
  inputs = {
    target = {type = "number", default = 40},
    dry_run = {type = "boolean", default = true},
  },
  triggers = {{cron = "*/30 * * * *", timezone = "Europe/Berlin"}},
  concurrency = {limit = 1, on_limit = "skip"},
  timeout = "30m",
  defaults = {retry = {attempts = 3, backoff = "fixed", delay = "2s"}, timeout = "2m"},
  steps = {
    step{id = "load", uses = "core.noop", with = {rows = {1, 2, 3}}},
    step{
      id = "each", uses = "core.log", needs = {"load"},
      foreach = "${{ steps.load.output.rows }}", concurrency = 2,
      with = {message = "row ${{ item }}"},
    },
    step{
      id = "report", uses = "core.log", needs = {"each"},
      ["if"] = "${{ not inputs.dry_run }}",
      retry = {attempts = 5}, timeout = "10s",
      with = {message = "done"},
    },
  },
  outputs = {count = "${{ #steps.each.output }}"},
  on_failure = {
    step{id = "alert", uses = "core.log", with = {message = "failed: ${{ run.error }}"}},
  },
}
