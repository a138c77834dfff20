// `flowpilot demo`: the server with everything a first look needs, in one command. It starts the
// API simulator in-process, points stored (encrypted) connections at it, serves the templates of
// workflows/, seeds the warehouse with 90 days of Meta and Google Ads data, and runs every
// template once so that the history, the dashboard data and the approvals inbox are not empty.
//
// Sign-in: the demo's admin (FLOWPILOT_ADMIN_EMAIL, default admin@flowpilot.local) gets a
// generated password kept in <data_dir>/demo-login (mode 0600), so that every start of the demo
// on the same directory prints the same login; and each start makes an admin API token that
// lasts a day, printed for the curl examples.
#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/serve_config.h"
#include "cli/server_main.h"
#include "engine/access/audit.h"
#include "engine/access/tokens.h"
#include "engine/access/users.h"
#include "simulator/simulator.h"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <pthread.h>
#include <stop_token>
#include <thread>
#include <unistd.h>

namespace flowpilot::cli {

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

struct DemoFlags {
  std::shared_ptr<ServeConfigFlags> serve;
  std::string sim_listen = "127.0.0.1:0";
  bool once = false;
};

// workflows/ of the source tree: beside the working directory, or two levels above the
// executable (build/cli/flowpilot).
std::optional<std::string> find_templates() {
  std::vector<fs::path> candidates = {fs::current_path() / "workflows"};
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    candidates.push_back(exe.parent_path().parent_path().parent_path() / "workflows");
    candidates.push_back(exe.parent_path().parent_path() / "share" / "flowpilot" / "workflows");
  }
  for (const auto& c : candidates) {
    if (fs::exists(c / "cpa-guardrail.yaml", ec)) return fs::weakly_canonical(c, ec).string();
  }
  return std::nullopt;
}

// The connections the templates name, pointing at the simulator with its credentials.
std::vector<engine::ConnectionInput> demo_connections(const simulator::Simulator& sim) {
  namespace cred = simulator::credentials;
  using simulator::Vendor;
  const std::string google_token = sim.base_url(Vendor::kGoogleOauth) + "/token";
  auto input = [](std::string name, std::string type,
                  std::map<std::string, std::optional<std::string>> fields) {
    engine::ConnectionInput in;
    in.name = std::move(name);
    in.type = std::move(type);
    in.fields = std::move(fields);
    return in;
  };
  return {
      input("meta-main", "meta_ads",
            {{"access_token", std::string(cred::kMetaSystemUserToken)},
             {"account_id", "act_1001"},
             {"base_url", sim.base_url(Vendor::kMeta)}}),
      input("google-main", "google_ads",
            {{"developer_token", std::string(cred::kGoogleDeveloperToken)},
             {"client_id", std::string(cred::kGoogleClientId)},
             {"client_secret", std::string(cred::kGoogleClientSecret)},
             {"refresh_token", std::string(cred::kGoogleRefreshToken)},
             {"token_url", google_token},
             {"account_id", "1234567890"},
             {"currency", "EUR"},
             {"base_url", sim.base_url(Vendor::kGoogleAds)}}),
      input("hubspot-main", "hubspot",
            {{"access_token", std::string(cred::kHubspotPrivateAppToken)},
             {"base_url", sim.base_url(Vendor::kHubspot)}}),
      input("ga4-main", "ga4",
            {{"client_id", std::string(cred::kGoogleClientId)},
             {"client_secret", std::string(cred::kGoogleClientSecret)},
             {"refresh_token", std::string(cred::kGoogleRefreshToken)},
             {"token_url", google_token},
             {"property_id", std::string(simulator::Dataset::kGa4PropertyId)},
             {"base_url", sim.base_url(Vendor::kGa4)}}),
      input("slack-main", "slack",
            {{"webhook_url", sim.base_url(Vendor::kSlackHooks) + std::string(cred::kSlackWebhookPath)},
             {"bot_token", std::string(cred::kSlackBotToken)},
             {"base_url", sim.base_url(Vendor::kSlack) + "/api"}}),
  };
}

struct TemplateRun {
  std::string workflow;
  json::object inputs;
  std::string run_id;
  std::string status;
};

void start_template(ServerHandles& server, TemplateRun& t) {
  auto entry = server.catalog.get(t.workflow);
  if (!entry) {
    t.status = "not loaded (see the server log)";
    return;
  }
  engine::RunRequest request;
  request.workflow = entry->workflow;
  request.inputs = t.inputs;
  request.trigger = json::object{{"type", "manual"}, {"by", "flowpilot demo"}};
  t.run_id = server.executor.start(std::move(request)).run_id;
}

// Waits for the run in short slices, so that Ctrl-C during the first runs stops the demo at once.
void settle(ServerHandles& server, TemplateRun& t, const std::stop_token& stop) {
  if (t.run_id.empty()) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::optional<engine::RunStatus> status;
  while (!status && !stop.stop_requested() && std::chrono::steady_clock::now() < deadline) {
    status = server.executor.wait(t.run_id, std::chrono::milliseconds(200));
  }
  if (!status) {
    t.status = "still running";
    return;
  }
  t.status = std::string(engine::to_string(*status));
  if (*status == engine::RunStatus::running) t.status = "waiting for an approval";
}

struct DemoLogin {
  std::string email;
  std::string password;  // empty when the admin was not made by the demo
  fs::path file;
};

// The demo admin's password: the one kept in the data directory, or a new one kept there, given
// to `serve` (through the variables it reads) for the first admin of an empty store.
DemoLogin demo_login(const std::string& data_dir) {
  DemoLogin login;
  const char* email = std::getenv("FLOWPILOT_ADMIN_EMAIL");
  login.email = email != nullptr && *email != '\0' ? email : "admin@flowpilot.local";
  login.file = fs::path(data_dir) / "demo-login";
  if (const char* set = std::getenv("FLOWPILOT_ADMIN_PASSWORD"); set != nullptr && *set != '\0') {
    return login;  // the person chose it: not ours to print or keep
  }
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (std::ifstream in(login.file); in) {
    std::getline(in, login.password);
  }
  if (login.password.empty()) {
    login.password = engine::generate_password();
    const int fd = ::open(login.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) throw UsageError("cannot write `" + login.file.string() + "`");
    const std::string line = login.password + "\n";
    const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    if (!written) throw UsageError("cannot write `" + login.file.string() + "`");
  }
  setenv("FLOWPILOT_ADMIN_PASSWORD", login.password.c_str(), 1);
  return login;
}

// An admin API token for the demo's curl examples, good for a day.
std::string tour_token(engine::Store& store, const std::string& email) {
  engine::TokenService tokens(store);
  auto created = tokens.create({email, "demo tour", {"admin"}, std::chrono::hours(24)});
  engine::AuditEntry entry;
  entry.actor_kind = "system";
  entry.actor_email = "flowpilot demo";
  entry.action = "token.create";
  entry.target = created.token.id;
  entry.details = json::object{{"user", email}, {"name", "demo tour"}};
  engine::AuditLog(store).record_now(std::move(entry));
  return created.secret;
}

// Seeds the warehouse and runs every template once, then prints what happened.
void first_runs(ServerHandles server, bool once, const std::string& token,
                const std::stop_token& stop) {
  // The warehouse first, with the whole 90 days, so that the reports have history.
  TemplateRun seed{"unified-daily-sync", json::object{{"days", 90}}, "", ""};
  start_template(server, seed);
  settle(server, seed, stop);
  std::vector<TemplateRun> runs = {
      {"weekly-kpi-report", {}, "", ""},   {"daily-anomaly-digest", {}, "", ""},
      {"hubspot-revenue-cac", {}, "", ""}, {"csv-spend-upload", {}, "", ""},
      {"cpa-guardrail", {}, "", ""},
  };
  for (auto& t : runs) {
    if (!stop.stop_requested()) start_template(server, t);
  }
  for (auto& t : runs) settle(server, t, stop);
  if (stop.stop_requested()) return;
  runs.insert(runs.begin(), seed);
  std::cout << "\ntemplate runs:\n";
  for (const auto& t : runs) {
    std::cout << "  " << t.workflow << "  " << (t.run_id.empty() ? "-" : t.run_id) << "  " << t.status
              << "\n";
  }
  for (const auto& t : runs) {
    if (t.status == "waiting for an approval") {
      std::cout << "\napprove the proposed pauses:\n  curl -X POST " << server.url << "/api/v1/approvals/"
                << t.run_id << "/approve/approve -H 'Authorization: Bearer " << token
                << "' -H 'Content-Type: application/json' -d '{\"comment\": \"pause them\"}'\n";
    }
  }
  std::cout << "\nopen " << server.url << "/api/v1/runs (Ctrl-C stops the demo)" << std::endl;
  if (once) kill(getpid(), SIGTERM);  // taken by the server's sigwait
}

int demo(const DemoFlags& flags) {
  ServeConfig config = load_serve_config(*flags.serve);
  if (flags.serve->print_config) {
    std::cout << render_effective_config(config);
    return kExitOk;
  }
  if (config.sources["data_dir"] == "default") {
    // A fresh directory each time, unless the user names one to keep.
    std::string pattern = (fs::temp_directory_path() / "flowpilot-demo-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw UsageError("cannot create a temporary data directory");
    config.data_dir = pattern;
  }
  if (config.workflow_dirs.empty()) {
    auto templates = find_templates();
    if (!templates) {
      throw UsageError("cannot find the templates (workflows/); run from the source tree or give --workflows DIR");
    }
    config.workflow_dirs.push_back(*templates);
  }

  // Blocked before the simulator's threads exist, as run_server() does for its own: a SIGTERM must
  // reach the server's sigwait, not end the process on some thread that left it unblocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  simulator::SimulatorOptions sim_options;
  try {
    simulator::parse_listen(flags.sim_listen, sim_options);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--sim-listen: ") + e.what());
  }
  simulator::Simulator sim(sim_options);
  try {
    sim.start();
  } catch (const std::exception& e) {
    throw UsageError(std::string("cannot start the simulator: ") + e.what());
  }
  // The connectors may reach the simulator on loopback; the SSRF guard refuses it otherwise.
  setenv("FLOWPILOT_HTTP_ALLOW_NETWORKS", "127.0.0.0/8", 0);
  setenv("FLOWPILOT_SECRET_HOOK_SECRET", "demo-hook-secret", 0);
  setenv("FLOWPILOT_SECRET_UPLOAD_TOKEN", "demo-upload-token", 0);

  const DemoLogin login = demo_login(config.data_dir);
  const bool once = flags.once;
  std::jthread runner;  // the first runs; stopped and joined before the server stops
  return run_server(config, [&](ServerHandles& server) -> std::function<void()> {
    auto& connections = server.context.connections();
    for (const auto& input : demo_connections(sim)) {
      if (connections.get(input.name)) connections.update(input);
      else connections.add(input);
    }
    std::cout << "simulated APIs on " << sim.base_url() << " (state: " << sim.base_url()
              << "/_sim/state)\ndata directory " << config.data_dir << std::endl;
    if (!login.password.empty()) {
      std::cout << "sign in as " << login.email << " with password " << login.password << " (kept in "
                << login.file.string() << ")" << std::endl;
    }
    std::string token;
    try {
      token = tour_token(server.context.store(), login.email);
      std::cout << "API token for a day: " << token << std::endl;
    } catch (const engine::AccessError& e) {
      std::cout << "no API token for the tour: " << e.what() << std::endl;
    }

    // The first runs take a while (the 90-day sync): on a thread, so that the server answers and
    // a signal stops the demo meanwhile.
    runner = std::jthread([handles = server, once, token](const std::stop_token& stop) {
      first_runs(handles, once, token, stop);
    });
    return [&runner] {
      runner.request_stop();
      if (runner.joinable()) runner.join();
    };
  });
}

}  // namespace

void add_demo_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "demo", "Run the server with the API simulator, connections, templates and a seeded warehouse");
  auto flags = std::make_shared<DemoFlags>();
  flags->serve = add_serve_config_flags(*cmd);
  cmd->add_option("--sim-listen", flags->sim_listen,
                  "Address of the simulated marketing APIs (default 127.0.0.1:0, a free port)");
  cmd->add_flag("--once", flags->once, "Run the templates, print the summary and stop");
  cmd->footer("Without --data-dir the demo uses a new temporary directory. Takes the same settings "
              "as `flowpilot serve` (docs/configuration.md).");
  cmd->callback([flags, &exit_code] { exit_code = demo(*flags); });
}

}  // namespace flowpilot::cli
