// What every command that touches runs needs: the store, the step registry, the expression
// engine, the secrets and a resolver that reloads stored definitions. Built once per command.
#pragma once

#include "engine/connections/connections.h"
#include "engine/executor/executor.h"
#include "engine/http/http_client.h"
#include "engine/loader/loader.h"
#include "engine/plugins/plugin_host.h"
#include "engine/steps/step.h"
#include "engine/store/store.h"
#include "engine/warehouse/warehouse.h"
#include "scripting/expression.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace flowpilot::cli {

struct CommonOptions {
  std::string db_path;           // --db, FLOWPILOT_DB, default ./flowpilot.db
  // A store URL (sqlite:// or postgres://) used instead of db_path for the store; db_path still
  // places files/ (and warehouse.db for SQLite; a PostgreSQL store keeps the warehouse in its
  // database, and warehouse_path is then unused).
  std::string store_url;
  bool exclusive_store = false;  // serve: refuse a PostgreSQL store another process serves
  std::function<void(const std::string& why)> on_exclusive_store_lost;  // ...and stop if it is taken
  // The marketing warehouse; "" = warehouse.db beside db_path. Opened on first use only, so
  // commands that never load data create no file.
  std::string warehouse_path;
  // Folders the csv steps may read and write; empty = `files/` beside db_path.
  std::vector<std::string> file_roots;
  std::string secrets_file;      // --secrets: YAML or JSON mapping NAME: value
  std::string connections_file;  // --connections: YAML mapping name: {credential fields}, unencrypted
  // Stored connections (encrypted, in the store) are looked up before connections_file. Without
  // master keys they are listed but cannot be decrypted. `reload_master_keys` reads the keys again
  // when a row names one we do not hold (a rotation by another process); null: never.
  std::optional<engine::Keyring> master_keys;
  std::function<std::optional<engine::Keyring>()> reload_master_keys;
  // The server's settings; the other commands keep the defaults.
  std::vector<std::string> plugin_paths;  // searched after the built-in directory
  bool relaxed_durability = false;        // synchronous=NORMAL (explicit opt-in)
  std::size_t worker_threads = 0;         // 0: one per core
  // Set when several processes share a PostgreSQL store (serve --role): runs are leased.
  std::optional<engine::ExecutorOptions::Leases> leases;
  engine::RunEventListener on_event;
  std::function<void(std::chrono::duration<double>, std::size_t)> on_commit;
};

// Thrown for problems the user can fix (bad file, missing run); main prints it and exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs `body`, turning an `Error` (a layer's own error for bad input, e.g. engine::AccessError)
// into a UsageError with the same message.
template <class Error, class F>
auto usage_errors_from(F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

class AppContext {
 public:
  explicit AppContext(const CommonOptions& options);
  // Stops storing renewed tokens before the connection service goes away.
  ~AppContext();

  engine::StepRegistry& registry() { return registry_; }
  const scripting::ExpressionEngine& expressions() const { return *expressions_; }
  engine::LoadContext load_context() const { return {registry_, *expressions_, {}}; }
  engine::Store& store();
  engine::Executor& executor();
  // Replaces how stored definitions are loaded back (the server's catalog caches them). Call
  // before the first executor().
  void set_resolver(engine::WorkflowResolver resolver) { resolver_ = std::move(resolver); }
  const engine::HttpClient& http() const { return *http_; }
  engine::HttpClient& http() { return *http_; }
  // The stored connections (opens the store). Changes made through it reconfigure the
  // connection's rate limit in the plugin host.
  engine::ConnectionService& connections();
  // Stops the executor now rather than at destruction, while what its resolver uses still lives.
  void stop_executor() { executor_.reset(); }

  std::optional<std::string> secret(std::string_view name) const;
  const engine::PluginHost& plugins() const { return *plugins_; }
  // The marketing warehouse the data steps write (its file opens on first use).
  engine::Warehouse& warehouse() { return *warehouse_; }
  const std::vector<engine::PluginRefusal>& plugin_refusals() const { return refusals_; }

 private:
  CommonOptions options_;
  engine::StepRegistry registry_;
  std::unique_ptr<engine::HttpClient> http_;
  std::unique_ptr<engine::Warehouse> warehouse_;  // opens its file on first use
  std::unique_ptr<engine::PluginHost> plugins_;
  std::vector<engine::PluginRefusal> refusals_;
  std::unique_ptr<scripting::ExpressionEngine> expressions_;
  std::map<std::string, std::string, std::less<>> secrets_;
  std::map<std::string, boost::json::object, std::less<>> connections_;
  engine::WorkflowResolver resolver_;
  std::unique_ptr<engine::Store> store_;
  std::unique_ptr<engine::ConnectionService> connection_service_;
  // Rate limits given to the plugin host per stored connection: reconfiguring refills the bucket,
  // so a limit is applied only when it changes (another process may have changed it).
  void apply_rate_limit(const std::string& name, engine::RateLimit limit);
  std::mutex limits_mu_;
  std::map<std::string, engine::RateLimit, std::less<>> applied_limits_;
  std::unique_ptr<engine::Executor> executor_;
};

std::string default_db_path();

}  // namespace flowpilot::cli
