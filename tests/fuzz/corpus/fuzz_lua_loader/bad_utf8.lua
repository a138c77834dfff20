return workflow{id = "utf8", name = "cafÃ© ÿş í €",
  steps = {step{id = "sÃ(", uses = "core.log", with = {message = "${{ inputs.x }} øˆ"}}}}
