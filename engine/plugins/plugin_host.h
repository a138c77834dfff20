// Loads plugins (shared libraries on the C ABI of flowpilot/plugin.h) and registers their steps.
//
// Search order: the built-in plugin directory (next to the executable), then each directory of
// FLOWPILOT_PLUGIN_PATH (colon-separated), then the directories given by the configuration. Only
// regular files named `*.so` directly inside those directories are considered; a path with `..`,
// a symbolic link that leads outside its directory, or a file outside every plugin directory is
// refused before dlopen, because a library's constructors run as soon as it is loaded.
//
// A library is refused, with a message naming the file and the reason, when it is not a shared
// library, lacks the entry symbol, was built for another ABI major version, returns a descriptor
// that is too small or misses required fields, declares an invalid or duplicate plugin or step
// name, or carries a schema that is not valid JSON Schema. Refusals do not stop the others.
//
// The engine knows built-in plugins (plugins/core, plugins/http) only through this loader.
//
// Thread-safety: load once at start-up, before the executor runs; afterwards read-only. The host
// must outlive every step call it has registered.
#pragma once

#include "engine/plugins/oauth_tokens.h"
#include "engine/plugins/rate_limiter.h"
#include "engine/steps/step.h"

#include <boost/json/object.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flowpilot::engine {

class HttpClient;
class Warehouse;

struct PluginRefusal {
  std::string file;
  std::string reason;
  std::string to_string() const { return file + ": " + reason; }
};

struct LoadedPlugin {
  std::string name;
  std::string version;
  std::string file;
  std::vector<std::string> steps;  // full names, "<plugin>.<step>"
};

// Services the host offers plugins beyond what a StepCall carries.
struct PluginServices {
  HttpClient* http = nullptr;  // required for plugins that call http_send
  Warehouse* warehouse = nullptr;  // required for plugins that call warehouse
  // Per-plugin configuration (plugin name → JSON object) handed to the plugin's init.
  boost::json::object plugin_config;
  // How the host caches and refreshes connections' access tokens (the `access_token` service).
  OAuthTokensOptions tokens;
};

class PluginHost {
 public:
  explicit PluginHost(PluginServices services);
  ~PluginHost();  // calls each plugin's shutdown, then unloads it
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Loads every plugin found in `dirs` (in order) into `registry`; returns the refusals.
  std::vector<PluginRefusal> load_directories(const std::vector<std::filesystem::path>& dirs,
                                              StepRegistry& registry);
  // Loads one file, which must lie directly inside one of `dirs`.
  std::optional<PluginRefusal> load_file(const std::filesystem::path& file,
                                         const std::vector<std::filesystem::path>& dirs,
                                         StepRegistry& registry);

  const std::vector<LoadedPlugin>& plugins() const;

  // Limits calls to plugin steps that name connection `connection`: each call waits for one
  // token before it starts, whichever workflow or run it belongs to. Plugins may also take
  // tokens under keys of their own (an ad account) through the host's rate_acquire.
  void limit_connection(const std::string& connection, RateLimit limit);

  // Receives the tokens the host renews for connections (Meta's token exchange), to store them.
  void on_token_renewed(OAuthTokens::RenewalListener listener);

  class Impl;  // defined in plugin_host.cpp only

 private:
  std::unique_ptr<Impl> impl_;
};

// The built-in plugin directory: `<executable dir>/../plugins` in a build tree,
// `<executable dir>/../lib/flowpilot/plugins` when installed; the first that exists.
std::filesystem::path builtin_plugin_dir();

// builtin_plugin_dir(), then FLOWPILOT_PLUGIN_PATH's entries, then `configured`.
std::vector<std::filesystem::path> plugin_search_path(
    const std::vector<std::filesystem::path>& configured = {});

}  // namespace flowpilot::engine
