#include "cli/app_context.h"

#include "engine/steps/core_steps.h"
#include "engine/store/sqlite_store.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

extern char** environ;

namespace flowpilot::cli {

std::string default_db_path() {
  if (const char* env = std::getenv("FLOWPILOT_DB"); env != nullptr && *env != '\0') return env;
  return "flowpilot.db";
}

AppContext::AppContext(const CommonOptions& options)
    : options_(options), expressions_(std::make_unique<scripting::ExpressionEngine>()) {
  engine::register_core_steps(registry_);
  // Secrets from the environment: FLOWPILOT_SECRET_<NAME>=value.
  constexpr std::string_view kPrefix = "FLOWPILOT_SECRET_";
  for (char** env = environ; env != nullptr && *env != nullptr; ++env) {
    std::string_view entry(*env);
    if (entry.substr(0, kPrefix.size()) != kPrefix) continue;
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    secrets_[std::string(entry.substr(kPrefix.size(), eq - kPrefix.size()))] =
        std::string(entry.substr(eq + 1));
  }
  if (!options_.secrets_file.empty()) {
    YAML::Node root;
    try {
      root = YAML::LoadFile(options_.secrets_file);
    } catch (const YAML::Exception& e) {
      throw UsageError("cannot read secrets file " + options_.secrets_file + ": " + e.what());
    }
    if (!root.IsMap()) {
      throw UsageError("secrets file " + options_.secrets_file +
                       " must be a mapping of NAME: value");
    }
    for (const auto& entry : root) {
      if (!entry.second.IsScalar()) {
        throw UsageError("secret `" + entry.first.as<std::string>() + "` in " +
                         options_.secrets_file + " must be a single value");
      }
      secrets_[entry.first.as<std::string>()] = entry.second.as<std::string>();
    }
  }
}

std::optional<std::string> AppContext::secret(std::string_view name) const {
  auto it = secrets_.find(name);
  if (it == secrets_.end()) return std::nullopt;
  return it->second;
}

engine::Store& AppContext::store() {
  if (!store_) {
    engine::SqliteStoreOptions options;
    options.path = options_.db_path.empty() ? default_db_path() : options_.db_path;
    try {
      store_ = engine::open_sqlite_store(options);
    } catch (const engine::StoreError& e) {
      throw UsageError(e.what());
    }
  }
  return *store_;
}

engine::Executor& AppContext::executor() {
  if (!executor_) {
    auto resolver = [this](const engine::WorkflowVersionRecord& version)
        -> std::shared_ptr<const engine::Workflow> {
      auto result = engine::load_workflow_yaml(version.source_text, version.source_file,
                                               load_context());
      return result.workflow;
    };
    executor_ = std::make_unique<engine::Executor>(
        store(), registry_, *expressions_,
        [this](std::string_view name) { return secret(name); }, resolver);
  }
  return *executor_;
}

}  // namespace flowpilot::cli
