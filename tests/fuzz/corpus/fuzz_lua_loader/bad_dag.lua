return workflow{
  id = "Bad Id",
  steps = {
    step{id = "a", uses = "core.noop", needs = {"c"}},
    step{id = "b", uses = "core.noop", needs = "a"},
    step{id = "c", uses = "core.noop", needs = {"b", "missing"}},
    step{id = "a", uses = "core.nop", neeeds = {"a"}},
    step("not a table"),
  },
  on_failure = concat(1, {}),
}
