#include "engine/steps/builtin_steps.h"

#include <boost/json.hpp>

namespace flowpilot::engine {

void register_builtin_steps(StepRegistry& registry) {
  StepDescriptor approval;
  approval.name = std::string(kApprovalStep);
  approval.summary = "Parks the run until a person approves or rejects, or the timeout passes.";
  approval.input_schema = boost::json::parse(
      R"({"type":"object","properties":{"message":{"type":"string"},"timeout":{}},
         "additionalProperties":false})");
  registry.add_builtin(std::move(approval));

  StepDescriptor lua;
  lua.name = std::string(kLuaStep);
  lua.summary = "Runs Lua code (`code:` or `file:`) over the run's data and returns its result.";
  lua.input_schema = boost::json::parse(R"({"type":"object"})");
  registry.add_builtin(std::move(lua));
}

}  // namespace flowpilot::engine
