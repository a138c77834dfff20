// The core step kinds every installation has: core.noop, core.log, core.sleep, core.fail and
// core.approval (the last is implemented by the executor, registered here so that validation and
// `plugins list` know it).
#pragma once

#include "engine/steps/step.h"

namespace flowpilot::engine {

void register_core_steps(StepRegistry& registry);

}  // namespace flowpilot::engine
