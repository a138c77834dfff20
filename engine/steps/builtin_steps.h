// Step kinds built into the engine rather than loaded as plugins: core.approval, which parks a
// run durably until a decision, and lua, which runs a program over the run's own context; both
// need the executor's state. Every other step kind, core.noop, core.log, core.sleep and
// core.fail included, comes from a plugin (plugins/core) through the same ABI as third-party
// plugins.
#pragma once

#include "engine/steps/step.h"

namespace flowpilot::engine {

void register_builtin_steps(StepRegistry& registry);

}  // namespace flowpilot::engine
