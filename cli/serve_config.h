// The configuration of `flowpilot serve`: one table of keys drives the YAML file parser, the
// environment reader, the command-line flags, --print-config and docs/configuration.md, so a key
// is declared once and every way of setting it follows.
//
// Precedence, highest first: a flag (--limits-max-body-bytes), the environment
// (FLOWPILOT_LIMITS_MAX_BODY_BYTES), the file given by --config (limits: {max_body_bytes: ...}),
// the key's default. Every bad value from every source is collected and reported together in one
// ConfigError, each problem saying where it came from, so a broken deployment is fixed in one go.
//
// Thread-safety: the functions keep no mutable state (the key table is immutable once built) and
// may be called from any thread; a ServeConfig is a plain value. Reading the process environment
// is only as safe as the caller's use of setenv().
#pragma once

#include "cli/app_context.h"
#include "engine/store/sqlite_store.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::cli {

enum class LogFormat { kJson, kText };
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };

// The effective settings. Obtain one from load_serve_config() or serve_config_defaults(): the
// defaults live in the key table, so a value-initialized ServeConfig holds zeros, not defaults.
struct ServeConfig {
  std::string listen;    // HOST:PORT or [IPv6]:PORT; port 0 picks a free one
  std::string data_dir;  // never empty
  std::string store;     // as given; "" means SQLite in data_dir (store_url())
  std::string roles;     // "api,scheduler,worker" or a part of it, in that order
  std::chrono::milliseconds lease_ttl{0};
  engine::Durability durability{};
  std::vector<std::string> plugin_paths;  // searched for plugins after the built-in directory
  std::vector<std::string> workflow_dirs;
  std::chrono::milliseconds watch_interval{0};  // 0: workflow directories are not watched
  std::string secrets_file;                     // "" when none
  std::string connections_file;                 // "" when none
  std::string master_key_file;                  // "" when none: FLOWPILOT_MASTER_KEY or the default
  LogFormat log_format{};
  LogLevel log_level{};
  std::chrono::milliseconds retention_runs{0};  // 0: finished runs are kept forever
  std::size_t max_body_bytes = 0;
  std::size_t max_upload_bytes = 0;  // PUT /api/v1/files/{path} bodies
  std::size_t max_header_bytes = 0;
  std::chrono::milliseconds read_timeout{0};
  int max_connections = 0;
  double webhook_rate = 0;  // requests per second per webhook path; 0: unlimited
  int webhook_burst = 0;
  std::chrono::milliseconds result_timeout{0};
  std::chrono::milliseconds shutdown_timeout{0};
  int http_threads = 0;
  int worker_threads = 0;     // 0: one per core
  std::string metrics_token;  // secret; "" leaves /metrics open
  std::chrono::milliseconds session_idle_timeout{0};
  std::chrono::milliseconds session_absolute_timeout{0};
  bool secure_cookies = false;  // the session cookie says Secure (HTTPS in front)

  // Where each key's value came from, by dotted path: "default", "file config.yaml:4",
  // "env FLOWPILOT_LISTEN" or "flag --listen". load_serve_config() fills every key.
  std::map<std::string, std::string, std::less<>> sources;

  // The store URL in effect: `store`, or sqlite://<data_dir>/flowpilot.db when it is empty.
  std::string store_url() const;
  // The database file when the store is SQLite ("sqlite:///abs/db" -> "/abs/db",
  // "sqlite://rel/db" -> "rel/db"); nullopt for PostgreSQL.
  std::optional<std::string> sqlite_path() const;
  // `listen` split into the address to bind and the port ("[::1]:8080" -> "::1", 8080;
  // "localhost" means 127.0.0.1). `listen` is validated when the config loads.
  std::string listen_host() const;
  std::uint16_t listen_port() const;
  bool has_role(std::string_view role) const;
  bool all_roles() const { return roles == "api,scheduler,worker"; }
};

// Thrown by load_serve_config() with every problem found, one per line, each starting with where
// it is ("config.yaml:3:7: limits.max_body_bytes: ...", "environment FLOWPILOT_LOG_LEVEL: ...",
// "flag --threads-http: ..."). Being a UsageError, main prints it and exits 2.
class ConfigError : public UsageError {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// One key of the table, as documentation and tests see it.
struct ConfigKey {
  std::string_view path;           // dotted: "limits.max_body_bytes"
  std::string_view type;           // as documented: "duration", "size", "full | relaxed", ...
  std::string_view default_value;  // as written in a file; "" for an empty string or list
  std::string_view doc;            // one line, with the unit and what 0 means where it matters
  bool secret = false;             // masked by --print-config
  bool list = false;               // repeatable flag, comma-separated in the environment
  std::string_view flag_alias{};   // a second flag name without "--", or ""

  std::string env_name() const;   // "FLOWPILOT_LIMITS_MAX_BODY_BYTES"
  std::string flag_name() const;  // "--limits-max-body-bytes"
};

// Every key, in the order of the documentation and of --print-config.
const std::vector<ConfigKey>& serve_config_keys();

// Every key at its default, with sources all "default".
ServeConfig serve_config_defaults();

// What the command line gave, filled in by CLI11 when `cmd` parses.
struct ServeConfigFlags {
  std::string config_file;    // --config FILE; "" reads no file
  bool print_config = false;  // --print-config
  // Indexed like serve_config_keys(): each occurrence's value, empty when the flag was absent.
  std::vector<std::vector<std::string>> values;
};

// Registers --config, --print-config and one flag per key (plus aliases) on `cmd`.
std::shared_ptr<ServeConfigFlags> add_serve_config_flags(CLI::App& cmd);

// Looks a variable up; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
// The process environment, through getenv().
std::optional<std::string> process_env(std::string_view name);

// Merges defaults < file < environment < flags. An environment variable set to the empty string
// counts as unset, as it does for FLOWPILOT_DB. FLOWPILOT_* variables that name no key are ignored:
// other commands read their own (FLOWPILOT_DB, FLOWPILOT_SECRET_*, FLOWPILOT_PLUGIN_PATH, ...).
// Throws ConfigError listing every problem.
ServeConfig load_serve_config(const ServeConfigFlags& flags, const EnvLookup& env = process_env);

// The effective config as a YAML file, each value followed by its source as a comment. Secrets are
// shown as "***": metrics.token when set, and the password of a PostgreSQL store URL.
std::string render_effective_config(const ServeConfig& config);

// The Markdown table of every key that docs/configuration.md carries between its markers.
std::string config_reference_markdown();

}  // namespace flowpilot::cli
