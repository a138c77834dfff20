// `flowpilot serve`: the server (DESIGN.md §8-9). Wires the store, the catalog of workflows (the
// API's and the watched directories'), the executor, the cron scheduler, the webhook receiver,
// live events, metrics and the REST API onto one HTTP server.
//
// Signals: SIGINT and SIGTERM are blocked in every thread before any thread starts, and the main
// thread collects them with sigwait(). No signal handler runs at all, so nothing unsafe can happen
// in one; the graceful stop then runs as ordinary code on the main thread, in this order: no new
// cron firings, no new HTTP requests (those in flight finish, event streams close), no more
// directory scans, then the executor stops: steps still running stay recorded as running and
// start again, with the same idempotency keys, when the server next starts.
#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/server_main.h"
#include "cli/master_keys.h"
#include "cli/serve_config.h"
#include "cli/server_log.h"
#include "engine/access/audit.h"
#include "engine/access/login_throttle.h"
#include "engine/access/sessions.h"
#include "engine/access/tokens.h"
#include "engine/access/users.h"
#include "engine/catalog/workflow_catalog.h"
#include "engine/scheduler/cron_scheduler.h"
#include "engine/scheduler/leader_election.h"
#include "engine/schedule/cron.h"
#include "engine/store/retention.h"
#include "engine/store/store_url.h"
#include "web/access.h"
#include "web/api.h"
#include "web/live_events.h"
#include "web/observability.h"
#include "web/routes.h"
#include "web/server.h"
#include "web/ui_bundle.h"
#include "web/webhooks.h"

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <pthread.h>
#include <unistd.h>
#include <stdexcept>

namespace flowpilot::cli {

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// The executor's events go to several listeners that exist only after the executor does.
struct EventFanout {
  std::atomic<web::LiveEvents*> live{nullptr};
  std::atomic<web::WebhookReceiver*> webhooks{nullptr};
  std::atomic<web::ServerMetrics*> metrics{nullptr};
  // Errors can quote personal data; the log masks it as the API does for callers without pii:read.
  std::atomic<std::shared_ptr<const web::LiveEvents::ErrorMask>> mask_error;

  std::string shown(const engine::RunEvent& e) const {
    if (e.error.empty()) return e.error;
    const auto mask = mask_error.load();
    return mask ? (*mask)(e.run_id, e.error) : e.error;
  }

  void operator()(const engine::RunEvent& e) const {
    if (auto* m = metrics.load()) m->observe_event(e);
    if (auto* w = webhooks.load()) w->on_event(e);
    if (auto* l = live.load()) l->publish(e);
    if (e.kind == engine::RunEvent::Kind::run) {
      // A run's end at info; at thousands of runs a second the rest is debug.
      const auto status = engine::parse_run_status(e.status);
      const auto level = status && engine::is_terminal(*status) ? spdlog::level::info
                                                                 : spdlog::level::debug;
      if (!log_enabled(level)) return;
      log_fields(level, "run " + e.status,
                 {{"run_id", e.run_id}, {"workflow_id", e.workflow_id}, {"status", e.status},
                  {"error", shown(e)}});
    } else if (log_enabled(spdlog::level::debug)) {
      log_fields(spdlog::level::debug, "step " + e.status,
                 {{"run_id", e.run_id},
                  {"workflow_id", e.workflow_id},
                  {"step_id", e.index >= 0 ? e.step_id + "[" + std::to_string(e.index) + "]"
                                           : e.step_id},
                  {"status", e.status},
                  {"attempt", std::to_string(e.attempt)},
                  {"error", shown(e)}});
    }
  }
};

std::vector<engine::ScheduleSpec> schedules_of(const engine::WorkflowCatalog& catalog) {
  std::vector<engine::ScheduleSpec> specs;
  for (const auto& route : catalog.cron_triggers()) {
    auto expression = engine::CronExpression::parse(route.trigger.expression);
    if (!expression) continue;  // validation refuses these; nothing to schedule
    specs.push_back(engine::ScheduleSpec{route.key, *expression, route.trigger.timezone,
                                         route.trigger.catch_up});
  }
  return specs;
}

void report_problems(const engine::WorkflowCatalog& catalog) {
  for (const auto& problem : catalog.problems()) {
    for (const auto& d : problem.diagnostics) {
      log_fields(spdlog::level::warn, "workflow file not loaded: " + d.to_string(),
                 {{"file", problem.file}});
    }
  }
}

// A store without users gets its first admin: FLOWPILOT_ADMIN_EMAIL and FLOWPILOT_ADMIN_PASSWORD
// when set, else admin@flowpilot.local with a generated password printed once (docs/access.md).
// Returns the line to print once the server listens (empty when there were users already).
std::string create_first_admin(engine::Store& store) {
  engine::UserService users(store);
  if (!users.empty()) return {};
  const char* email = std::getenv("FLOWPILOT_ADMIN_EMAIL");
  const char* password = std::getenv("FLOWPILOT_ADMIN_PASSWORD");
  engine::NewUser admin{email != nullptr && *email != '\0' ? email : "admin@flowpilot.local", "Admin",
                        "admin", std::nullopt};
  if (password != nullptr && *password != '\0') admin.password = password;
  engine::CreatedUser created;
  try {
    created = users.add(admin);
  } catch (const engine::AccessError& e) {
    throw UsageError(std::string("the first admin (FLOWPILOT_ADMIN_EMAIL, FLOWPILOT_ADMIN_PASSWORD): ") +
                     e.what());
  }
  engine::AuditEntry entry;
  entry.actor_kind = "system";
  entry.actor_email = "flowpilot serve";
  entry.action = "user.create";
  entry.target = created.user.id;
  entry.details = json::object{{"email", created.user.email}, {"role", "admin"}, {"first_admin", true}};
  engine::AuditLog(store).record_now(std::move(entry));
  std::string line = "first admin: " + created.user.email;
  if (created.generated_password) {
    line += ", password " + *created.generated_password +
            " (shown once; change it with `flowpilot users reset-password`)";
  }
  return line;
}

// Names this process in run leases: "host:pid:random", unique even across a pid reused after a
// restart.
std::string lease_owner_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" +
         engine::new_run_id().substr(13);
}

}  // namespace

int run_server(const ServeConfig& config, const ServerReady& on_ready) {
  configure_server_log(config.log_format, config.log_level);

  web::ServerOptions options;
  options.address = config.listen_host();
  options.port = config.listen_port();
  options.threads = config.http_threads;
  options.max_body_bytes = config.max_body_bytes;
  options.upload_prefix = "/api/v1/files/";
  options.max_upload_bytes = config.max_upload_bytes;
  options.max_header_bytes = config.max_header_bytes;
  options.read_timeout = config.read_timeout;
  options.max_connections = static_cast<std::size_t>(config.max_connections);
  options.shutdown_timeout = config.shutdown_timeout;
  const std::string db_path = local_db_path(config);

  // Block before any thread exists (the executor's, the store's, the server's): threads inherit
  // the mask, so the signals stay pending until sigwait below takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Whoever reads our standard output (`| head -1`, a supervisor) may stop reading: a write to it
  // must then fail, not end the server.
  std::signal(SIGPIPE, SIG_IGN);

  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec) throw UsageError("cannot create data_dir `" + config.data_dir + "`: " + ec.message());
  for (const auto& dir : config.workflow_dirs) {
    if (!fs::is_directory(dir, ec)) throw UsageError("workflow directory `" + dir + "` is not a directory");
  }

  web::metrics::Registry registry;
  web::ServerMetrics server_metrics(registry);
  EventFanout fanout;
  fanout.metrics = &server_metrics;

  // On PostgreSQL any number of processes may share the store, each with some of the roles: runs
  // are leased to workers, one scheduler leads. SQLite has one process doing everything.
  const bool shared_store = !config.sqlite_path();
  if (!shared_store && !config.all_roles()) {
    throw UsageError("role `" + config.roles + "` needs a PostgreSQL store (--store postgres://...): "
                     "with SQLite one process has every role");
  }
  CommonOptions common;
  common.store_url = config.store_url();
  if (shared_store) {
    engine::ExecutorOptions::Leases leases;
    leases.owner = lease_owner_name();
    leases.ttl = config.lease_ttl;
    leases.renew_every = std::max(std::chrono::milliseconds(100), config.lease_ttl / 3);
    leases.execute = config.has_role("worker");
    common.leases = leases;
  }
  common.exclusive_store = !shared_store;
  common.on_exclusive_store_lost = [](const std::string& why) {
    log_fields(spdlog::level::critical, "stopping: the store is no longer this process's alone", {{"reason", why}});
    // The same way out as an operator's SIGTERM: requests finish, running steps park durably.
    ::kill(::getpid(), SIGTERM);
  };
  common.db_path = db_path;
  common.secrets_file = config.secrets_file;
  common.connections_file = config.connections_file;
  // Stored connections: keys from FLOWPILOT_MASTER_KEY or a file; the default file is created on
  // the first start so that connections can be added without any setup.
  if (auto keys = load_keys(config, true)) {
    if (keys->created) {
      log_fields(spdlog::level::warn,
                 "created master key file; back it up, stored connections cannot be read without it",
                 {{"file", keys->file.string()}, {"key_id", keys->keyring.primary_id()}});
    } else {
      log_fields(spdlog::level::info, "master keys loaded",
                 {{"source", keys->from_env ? std::string("FLOWPILOT_MASTER_KEY") : keys->file.string()},
                  {"primary_key_id", keys->keyring.primary_id()}});
    }
    common.master_keys = keys->keyring;
    if (!keys->from_env) {
      common.reload_master_keys = [config]() -> std::optional<engine::Keyring> {
        auto again = engine::load_master_keys(master_key_options(config, false));
        if (!again) return std::nullopt;
        return again->keyring;
      };
    }
  }
  common.plugin_paths = config.plugin_paths;
  common.relaxed_durability = config.durability == engine::Durability::relaxed;
  common.worker_threads = static_cast<std::size_t>(config.worker_threads);
  common.on_event = [&fanout](const engine::RunEvent& e) { fanout(e); };
  common.on_commit = [&server_metrics](std::chrono::duration<double> s, std::size_t n) {
    server_metrics.observe_commit(s, n);
  };
  AppContext context(common);
  engine::Store& store = context.store();
  const std::string first_admin = create_first_admin(store);

  std::vector<fs::path> dirs(config.workflow_dirs.begin(), config.workflow_dirs.end());
  engine::WorkflowCatalog catalog(store, context.load_context(), dirs);
  context.set_resolver([&catalog](const engine::WorkflowVersionRecord& v) {
    return catalog.resolve(v);
  });
  catalog.load();
  report_problems(catalog);

  engine::Executor& executor = context.executor();
  server_metrics.set_sources(&executor, &context.http());
  const std::size_t resumed = executor.resume_all();
  if (resumed > 0) {
    log_fields(spdlog::level::info, "resumed unfinished runs", {{"count", std::to_string(resumed)}});
  }

  // Cron: a tick's run and the record that it fired are written together, and the tick's id is
  // the run's idempotency key, so a restart within a tick cannot fire it twice.
  engine::SchedulerHooks hooks;
  hooks.last_fired = [&store](const std::string& key) -> std::optional<std::chrono::sys_seconds> {
    auto at = store.get_schedule_fired(key);
    if (!at) return std::nullopt;
    return std::chrono::sys_seconds(std::chrono::seconds(*at / 1000));
  };
  hooks.fire = [&catalog, &executor](const engine::Firing& firing) {
    const std::string workflow_id = firing.schedule_key.substr(0, firing.schedule_key.rfind('#'));
    auto entry = catalog.get(workflow_id);
    if (!entry) return;  // removed since: nothing to run
    engine::RunRequest run;
    run.workflow = entry->workflow;
    run.idempotency_key = "cron:" + firing.firing_id;
    run.trigger = json::object{{"type", "cron"},
                               {"schedule", firing.schedule_key},
                               {"scheduled_for", engine::format_iso8601(firing.scheduled_for, "UTC")},
                               {"catch_up", firing.catch_up},
                               {"body", nullptr},
                               {"headers", json::object()},
                               {"query", json::object()}};
    run.also_write.push_back(engine::PutScheduleFired{
        firing.schedule_key,
        static_cast<engine::EpochMillis>(firing.scheduled_for.time_since_epoch().count()) * 1000});
    const auto started = executor.start(std::move(run));
    log_fields(spdlog::level::info, "cron fired",
               {{"schedule", firing.schedule_key}, {"run_id", started.run_id},
                {"firing_id", firing.firing_id}});
  };
  engine::CronSchedulerOptions scheduler_options;
  scheduler_options.warn = [](std::string message) {
    log_fields(spdlog::level::warn, message, {});
  };
  // Exists while this process leads the scheduling; a new leader reads what was fired from the
  // store, and a tick's idempotency key keeps a tick fired by the old one from firing again.
  std::mutex scheduler_mu;
  std::unique_ptr<engine::CronScheduler> scheduler;
  auto lead_scheduling = [&] {
    auto fresh = std::make_unique<engine::CronScheduler>(hooks, scheduler_options);
    fresh->set_schedules(schedules_of(catalog));
    fresh->start();
    std::lock_guard lock(scheduler_mu);
    scheduler = std::move(fresh);
  };
  auto stop_scheduling = [&] {
    std::unique_ptr<engine::CronScheduler> old;
    {
      std::lock_guard lock(scheduler_mu);
      old = std::move(scheduler);
    }
    if (old) old->stop();
  };
  catalog.set_listener([&scheduler_mu, &scheduler, &catalog] {
    report_problems(catalog);
    std::lock_guard lock(scheduler_mu);
    if (!scheduler) return;
    try {
      scheduler->set_schedules(schedules_of(catalog));
    } catch (const std::exception& e) {
      log_fields(spdlog::level::err, std::string("cron schedules not updated: ") + e.what(), {});
    }
  });
  std::optional<engine::LeaderElection> election;
  if (config.has_role("scheduler") && shared_store) {
    election.emplace(store, "scheduler", lead_scheduling, stop_scheduling);
  }

  web::LiveEvents live_events;
  fanout.live = &live_events;
  web::WebhookOptions webhook_options;
  webhook_options.rate = config.webhook_rate;
  webhook_options.burst = config.webhook_burst;
  webhook_options.result_timeout = config.result_timeout;
  if (shared_store && !config.has_role("worker")) {
    webhook_options.poll_results = std::chrono::milliseconds(100);
  }
  web::WebhookReceiver webhooks(
      web::WebhookServices{catalog, executor, store, context.expressions(),
                           [&context](std::string_view name) { return context.secret(name); },
                           &registry},
      webhook_options);
  fanout.webhooks = &webhooks;

  engine::UserService users(store);
  engine::TokenService tokens(store);
  engine::SessionService sessions(
      store, engine::SessionOptions{config.session_idle_timeout, config.session_absolute_timeout});
  engine::LoginThrottle throttle;
  engine::AuditLog audit(store);
  web::AccessApi access(web::AccessServices{users, tokens, sessions, throttle, audit},
                        web::AccessOptions{config.secure_cookies});

  web::Router router;
  const bool api_role = config.has_role("api");
  if (api_role) access.install(router);
  web::add_health_routes(router, [&store] {
    // A point read of a run that cannot exist: cheap, and fails if the database does not answer.
    // Migrations ran when the store opened, so an answering store is a migrated one.
    try {
      (void)store.get_run("readyz-probe");
      return true;
    } catch (...) {
      return false;
    }
  });
  server_metrics.add_route(router, config.metrics_token);
  web::ApiServices api{store,   executor,          catalog, context.registry(),
                       &context.plugins(), context.load_context(), &live_events};
  api.connections = &context.connections();
  api.http = &context.http();
  api.warehouse = &context.warehouse();
  // The csv steps' root (AppContext gives them files/ beside the database).
  const fs::path db_folder = fs::path(db_path).parent_path();
  api.files_root = (db_folder.empty() ? fs::path(".") : db_folder) / "files";
  api.max_file_download_bytes = config.max_upload_bytes;
  if (api_role) {
    web::add_api_routes(router, api);
    web::add_ui_routes(router);
  }
  fanout.mask_error = std::make_shared<const web::LiveEvents::ErrorMask>(web::personal_data_masker(api));
  // The executor outlives this scope's later locals on every way out, even a failed start.
  struct ForgetMask {
    EventFanout& fanout;
    ~ForgetMask() { fanout.mask_error.store(nullptr); }
  } forget_mask{fanout};
  if (api_role) webhooks.add_routes(router);
  router.set_observer([&server_metrics](const web::RequestSummary& r) {
    server_metrics.observe_request(r);
    if (log_enabled(spdlog::level::debug)) {
      log_fields(spdlog::level::debug, "http request",
                 {{"method", r.method_text}, {"path", r.path}, {"status", std::to_string(r.status)},
                  {"request_id", r.request_id}});
    }
  });

  web::HttpServer server(options, router);
  std::uint16_t port = 0;
  try {
    port = server.start();
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
  if (election) {
    election->start();
  } else if (config.has_role("scheduler")) {
    lead_scheduling();
  }
  catalog.start_watching(config.watch_interval);
  std::optional<engine::RetentionPruner> retention;
  if (config.retention_runs.count() > 0) {
    retention.emplace(store, config.retention_runs);
    retention->start();
  }
  const bool v6 = options.address.find(':') != std::string::npos;
  const std::string url = "http://" + std::string(v6 ? "[" : "") + options.address +
                          (v6 ? "]" : "") + ":" + std::to_string(port);
  std::cout << "flowpilot serving on " << url << std::endl;
  if (!first_admin.empty()) std::cout << first_admin << std::endl;
  std::function<void()> before_stop;
  if (on_ready) {
    // Signals stay pending while it runs: sigwait below takes them afterwards.
    ServerHandles handles{context, catalog, executor, url};
    before_stop = on_ready(handles);
  }

  int received = 0;
  sigwait(&signals, &received);
  if (before_stop) before_stop();
  log_fields(spdlog::level::info, "stopping", {{"signal", received == SIGINT ? "SIGINT" : "SIGTERM"}});
  if (election) election->stop();
  stop_scheduling();
  if (retention) retention->stop();
  live_events.close_all();
  server.stop();
  catalog.stop_watching();
  fanout.webhooks = nullptr;
  fanout.live = nullptr;
  // Runs still in progress stay unfinished in the store and resume on the next start.
  context.stop_executor();
  return kExitOk;
}

namespace {

int serve(const ServeConfigFlags& flags) {
  const ServeConfig config = load_serve_config(flags);
  if (flags.print_config) {
    std::cout << render_effective_config(config);
    return kExitOk;
  }
  return run_server(config);
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "serve", "Run the server: REST API, webhooks, cron schedules, live events, metrics");
  auto flags = add_serve_config_flags(*cmd);
  cmd->footer("Every setting can also come from --config FILE or a FLOWPILOT_* environment "
              "variable; see docs/configuration.md. --print-config shows the result.");
  cmd->callback([flags, &exit_code] { exit_code = serve(*flags); });
}

}  // namespace flowpilot::cli
