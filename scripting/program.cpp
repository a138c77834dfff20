#include "scripting/program.h"

#include "scripting/detail/sandbox_state.h"

namespace flowpilot::scripting {

ProgramOutcome run_program(const ExpressionEngine& engine, std::string_view code,
                           const Scope& scope, const ProgramOptions& options) {
  std::optional<ProgramOutcome> outcome;
  engine.with_state([&](detail::SandboxState& state) {
    outcome.emplace(state.run_program(code, scope, options));
  });
  return std::move(*outcome);
}

}  // namespace flowpilot::scripting
