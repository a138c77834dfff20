#include "engine/steps/step.h"

#include <stdexcept>

namespace flowpilot::engine {

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

void StepRegistry::compile_schema(const StepDescriptor& descriptor) {
  std::string error;
  auto schema = JsonSchema::compile(descriptor.input_schema, &error);
  if (!schema) {
    throw std::invalid_argument("step `" + descriptor.name + "` has an input schema that is not " +
                                "a valid JSON Schema: " + error);
  }
  input_schemas_[descriptor.name] = std::move(schema);
}

void StepRegistry::add(std::shared_ptr<StepHandler> handler) {
  const std::string name = handler->descriptor().name;
  if (has_step(name)) throw std::invalid_argument("step `" + name + "` is already registered");
  compile_schema(handler->descriptor());
  handlers_.emplace(name, std::move(handler));
}

void StepRegistry::add_builtin(StepDescriptor descriptor) {
  if (has_step(descriptor.name)) {
    throw std::invalid_argument("step `" + descriptor.name + "` is already registered");
  }
  compile_schema(descriptor);
  std::string name = descriptor.name;
  builtins_.emplace(std::move(name), std::move(descriptor));
}

StepHandler* StepRegistry::find(std::string_view name) const {
  auto it = handlers_.find(name);
  return it == handlers_.end() ? nullptr : it->second.get();
}

const StepDescriptor* StepRegistry::describe(std::string_view name) const {
  if (auto it = handlers_.find(name); it != handlers_.end()) return &it->second->descriptor();
  if (auto it = builtins_.find(name); it != builtins_.end()) return &it->second;
  return nullptr;
}

const JsonSchema* StepRegistry::input_schema(std::string_view uses) const {
  auto it = input_schemas_.find(uses);
  return it == input_schemas_.end() ? nullptr : it->second.get();
}

bool StepRegistry::has_step(std::string_view uses) const { return describe(uses) != nullptr; }

std::vector<std::string> StepRegistry::step_names() const {
  std::vector<std::string> names;
  for (const auto& [name, _] : handlers_) names.push_back(name);
  for (const auto& [name, _] : builtins_) names.push_back(name);
  return names;
}

}  // namespace flowpilot::engine
