#include "cli/app_context.h"

#include "engine/steps/builtin_steps.h"
#include "engine/store/sqlite_store.h"
#include "engine/store/store_url.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <mutex>
#include <cstdlib>
#include <iostream>
#include <fstream>
#include <sstream>
#include <unistd.h>

extern char** environ;

namespace flowpilot::cli {

std::string default_db_path() {
  if (const char* env = std::getenv("FLOWPILOT_DB"); env != nullptr && *env != '\0') return env;
  return "flowpilot.db";
}

namespace {

// FLOWPILOT_HTTP_ALLOW_NETWORKS="127.0.0.0/8,10.1.0.0/16": networks the SSRF guard lets through.
std::vector<std::string> allowed_networks() {
  std::vector<std::string> out;
  const char* env = std::getenv("FLOWPILOT_HTTP_ALLOW_NETWORKS");
  if (env == nullptr) return out;
  std::string_view rest(env);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    if (const auto part = rest.substr(0, comma); !part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

boost::json::value yaml_to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    boost::json::object obj;
    for (const auto& entry : node) obj[entry.first.as<std::string>()] = yaml_to_json(entry.second);
    return obj;
  }
  if (node.IsSequence()) {
    boost::json::array arr;
    for (const auto& item : node) arr.push_back(yaml_to_json(item));
    return arr;
  }
  if (node.IsNull()) return nullptr;
  return boost::json::value(node.as<std::string>());
}

// Opens the warehouse on first use, so that commands which never load data (validate, plugins
// list) leave no file behind and need no database server.
class LazyWarehouse final : public engine::Warehouse {
 public:
  using Open = std::function<std::unique_ptr<engine::Warehouse>()>;
  explicit LazyWarehouse(Open open) : open_(std::move(open)) {}

  engine::UpsertCounts upsert_facts(const std::vector<engine::FactRow>& rows,
                                    std::string_view batch_id) override {
    return get().upsert_facts(rows, batch_id);
  }
  engine::UpsertCounts upsert_deals(const std::vector<engine::DealRow>& rows,
                                    std::string_view batch_id) override {
    return get().upsert_deals(rows, batch_id);
  }
  engine::UpsertCounts upsert_campaigns(const std::vector<engine::CampaignRow>& rows,
                                        std::string_view batch_id) override {
    return get().upsert_campaigns(rows, batch_id);
  }
  std::vector<engine::FactRow> facts(const engine::FactQuery& query) override { return get().facts(query); }
  std::vector<engine::CampaignRow> campaigns(const engine::CampaignQuery& query) override {
    return get().campaigns(query);
  }
  std::vector<engine::DealRow> deals(const engine::DealQuery& query) override { return get().deals(query); }
  std::int64_t erase_mentions(const std::vector<std::string>& values,
                              std::string_view replacement, bool count_only) override {
    return get().erase_mentions(values, replacement, count_only);
  }

 private:
  engine::Warehouse& get() {
    std::call_once(opened_, [this] { inner_ = open_(); });
    return *inner_;
  }
  Open open_;
  std::once_flag opened_;
  std::unique_ptr<engine::Warehouse> inner_;
};

std::filesystem::path data_dir_of(const std::string& db_path) {
  const std::filesystem::path parent = std::filesystem::path(db_path).parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

}  // namespace

AppContext::AppContext(const CommonOptions& options)
    : options_(options), expressions_(std::make_unique<scripting::ExpressionEngine>()) {
  engine::register_builtin_steps(registry_);
  engine::HttpClientOptions http_options;
  try {
    http_options.allowed_networks = allowed_networks();
    http_ = std::make_unique<engine::HttpClient>(http_options);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("FLOWPILOT_HTTP_ALLOW_NETWORKS: ") + e.what());
  }
  const std::string db_path = options_.db_path.empty() ? default_db_path() : options_.db_path;
  // Processes sharing a PostgreSQL store share its warehouse too, in the same database.
  if (engine::store_kind(options_.store_url) == engine::StoreKind::postgres) {
    engine::PostgresWarehouseOptions warehouse_options;
    warehouse_options.url = options_.store_url;
    warehouse_ = std::make_unique<LazyWarehouse>(
        [warehouse_options] { return engine::open_postgres_warehouse(warehouse_options); });
  } else {
    engine::SqliteWarehouseOptions warehouse_options;
    warehouse_options.path = options_.warehouse_path.empty() ? data_dir_of(db_path) / "warehouse.db"
                                                             : std::filesystem::path(options_.warehouse_path);
    warehouse_options.relaxed_durability = options_.relaxed_durability;
    warehouse_ = std::make_unique<LazyWarehouse>(
        [warehouse_options] { return engine::open_sqlite_warehouse(warehouse_options); });
  }
  // The csv steps read and write only inside these folders.
  boost::json::array roots;
  if (options_.file_roots.empty()) {
    roots.emplace_back((data_dir_of(db_path) / "files").string());
  } else {
    for (const auto& root : options_.file_roots) roots.emplace_back(root);
  }
  boost::json::object plugin_config{{"csv", boost::json::object{{"roots", std::move(roots)}}}};
  plugins_ = std::make_unique<engine::PluginHost>(
      engine::PluginServices{http_.get(), warehouse_.get(), std::move(plugin_config), {}});
  std::vector<std::filesystem::path> configured(options_.plugin_paths.begin(),
                                                options_.plugin_paths.end());
  refusals_ = plugins_->load_directories(engine::plugin_search_path(configured), registry_);
  for (const auto& refusal : refusals_) {
    std::cerr << "flowpilot: plugin not loaded: " << refusal.to_string() << "\n";
  }
  if (!options_.connections_file.empty()) {
    YAML::Node root;
    try {
      root = YAML::LoadFile(options_.connections_file);
    } catch (const YAML::Exception& e) {
      throw UsageError("cannot read connections file " + options_.connections_file + ": " +
                       e.what());
    }
    if (!root.IsMap()) {
      throw UsageError("connections file " + options_.connections_file +
                       " must map connection names to their fields");
    }
    for (const auto& entry : root) {
      const std::string name = entry.first.as<std::string>();
      if (!entry.second.IsMap()) {
        throw UsageError("connection `" + name + "` in " + options_.connections_file +
                         " must be a mapping of fields (type, token, ...)");
      }
      boost::json::object fields = yaml_to_json(entry.second).as_object();
      // `rate_limit: {per_second: 5, burst: 10}` throttles every call that uses the connection.
      if (auto* limit = fields.if_contains("rate_limit")) {
        const auto* obj = limit->if_object();
        engine::RateLimit rate;
        // The whole value must be a number: "5abc" is a mistake, not 5.
        auto number = [obj](const char* key, double fallback) {
          if (obj == nullptr || !obj->contains(key)) return fallback;
          const auto* text = obj->at(key).if_string();
          double value = -1;
          if (text == nullptr) return value;
          const char* end = text->data() + text->size();
          const auto parsed = std::from_chars(text->data(), end, value);
          return parsed.ec == std::errc() && parsed.ptr == end ? value : -1.0;
        };
        rate.per_second = number("per_second", 0);
        rate.burst = number("burst", 1);
        if (obj == nullptr || rate.per_second <= 0 || rate.burst < 1) {
          throw UsageError("connection `" + name + "` in " + options_.connections_file +
                           ": rate_limit must look like {per_second: 5, burst: 10}");
        }
        plugins_->limit_connection(name, rate);
        fields.erase("rate_limit");
      }
      connections_[name] = std::move(fields);
    }
  }
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
    engine::StoreOpenOptions options;
    options.url = !options_.store_url.empty()
                      ? options_.store_url
                      : "sqlite://" + (options_.db_path.empty() ? default_db_path() : options_.db_path);
    options.relaxed_durability = options_.relaxed_durability;
    options.exclusive = options_.exclusive_store;
    options.on_exclusive_lost = options_.on_exclusive_store_lost;
    options.on_commit = options_.on_commit;
    try {
      store_ = engine::open_store(options);
    } catch (const engine::StoreError& e) {
      throw UsageError(e.what());
    }
  }
  return *store_;
}

AppContext::~AppContext() {
  // A renewal still in flight would otherwise reach the connection service after it is gone.
  if (plugins_) plugins_->on_token_renewed(nullptr);
}

engine::ConnectionService& AppContext::connections() {
  if (!connection_service_) {
    connection_service_ = std::make_unique<engine::ConnectionService>(
        store(), options_.master_keys.value_or(engine::Keyring()));
    if (options_.reload_master_keys) {
      connection_service_->set_key_reloader(options_.reload_master_keys);
    }
    connection_service_->set_listener(
        [this](const std::string& name, std::optional<engine::RateLimit> limit) {
          // A removed connection goes back to unlimited.
          apply_rate_limit(name, limit.value_or(engine::RateLimit{}));
        });
    // A renewed Meta token is sealed into the stored connection, so that a restart uses it.
    plugins_->on_token_renewed([service = connection_service_.get()](
                                   const std::string& name, const engine::RenewedToken& renewed) {
      const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
          renewed.expires_at.time_since_epoch());
      engine::ConnectionInput input;
      input.name = name;
      input.fields["access_token"] = renewed.access_token;
      input.fields["token_expires_at"] = std::to_string(seconds.count());
      try {
        service->update(input);
        spdlog::info("connection `{}`: renewed its access token (valid until {} Unix time)", name,
                     seconds.count());
      } catch (const std::exception& e) {
        // Connections from a --connections file are not stored; the renewed token lives in
        // memory until the process ends.
        spdlog::warn("connection `{}`: renewed its access token but could not store it: {}", name,
                     e.what());
      }
    });
  }
  return *connection_service_;
}

void AppContext::apply_rate_limit(const std::string& name, engine::RateLimit limit) {
  std::lock_guard lock(limits_mu_);
  auto it = applied_limits_.find(name);
  if (it != applied_limits_.end() && it->second.per_second == limit.per_second &&
      it->second.burst == limit.burst) {
    return;
  }
  applied_limits_[name] = limit;
  plugins_->limit_connection(name, limit);
}

engine::Executor& AppContext::executor() {
  if (!executor_) {
    engine::WorkflowResolver resolver = resolver_;
    if (!resolver) {
      resolver = [this](const engine::WorkflowVersionRecord& version)
          -> std::shared_ptr<const engine::Workflow> {
        auto result = engine::load_workflow_source(version.source_text, version.source_file,
                                                   version.format, load_context());
        return result.workflow;
      };
    }
    engine::ExecutorOptions options;
    options.worker_threads = options_.worker_threads;
    options.on_event = options_.on_event;
    options.leases = options_.leases;
    if (!options.leases &&
        engine::store_kind(options_.store_url) == engine::StoreKind::postgres) {
      // Servers may share this store: the runs this command starts are leased to it, so that no
      // worker claims them meanwhile, and it claims nobody else's.
      engine::ExecutorOptions::Leases leases;
      leases.owner = "cli:" + std::to_string(::getpid()) + ":" + engine::new_run_id().substr(13);
      leases.claim = false;
      options.leases = leases;
    }
    // The operator's caps for lua steps (defaults and maxima; a workflow may only lower them).
    auto env_number = [](const char* name, std::uint64_t fallback) -> std::uint64_t {
      const char* v = std::getenv(name);
      if (v == nullptr || *v == '\0') return fallback;
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v, &end, 10);
      if (end == v || *end != '\0' || n == 0) {
        throw UsageError(std::string(name) + " must be a positive whole number, got `" + v + "`");
      }
      return n;
    };
    options.lua_limits.max_instructions =
        env_number("FLOWPILOT_LUA_MAX_INSTRUCTIONS", options.lua_limits.max_instructions);
    options.lua_limits.max_memory_bytes = static_cast<std::size_t>(
        env_number("FLOWPILOT_LUA_MAX_MEMORY_BYTES", options.lua_limits.max_memory_bytes));
    options.lua_limits.max_wall_time = std::chrono::milliseconds(env_number(
        "FLOWPILOT_LUA_MAX_TIME_MS", static_cast<std::uint64_t>(options.lua_limits.max_wall_time.count())));
    // Stored connections configure their rate limits before any step can use them.
    for (const auto& stored : connections().list()) apply_rate_limit(stored.name, stored.rate_limit);
    options.connections = [this](std::string_view name) -> std::optional<boost::json::object> {
      try {
        if (auto stored = connection_service_->credentials(std::string(name))) {
          // The connection may have been added or changed by another process (the CLI).
          if (auto limit = connection_service_->rate_limit(std::string(name))) {
            apply_rate_limit(std::string(name), *limit);
          }
          return stored;
        }
      } catch (const engine::ConnectionError& e) {
        // The message names the connection and the key, never a value.
        spdlog::error("{}", e.what());
        return std::nullopt;
      } catch (const engine::StoreError& e) {
        spdlog::error("connection `{}`: {}", name, e.what());
        return std::nullopt;
      }
      auto it = connections_.find(name);
      if (it == connections_.end()) return std::nullopt;
      return it->second;
    };
    executor_ = std::make_unique<engine::Executor>(
        store(), registry_, *expressions_,
        [this](std::string_view name) { return secret(name); }, resolver, options);
  }
  return *executor_;
}

}  // namespace flowpilot::cli
