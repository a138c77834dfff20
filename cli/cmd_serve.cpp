// `flowpilot serve`: the HTTP server over the store in --data-dir (DESIGN.md §9).
//
// Signals: SIGINT and SIGTERM are blocked in every thread before any thread starts, and the main
// thread collects them with sigwait(). No signal handler runs at all, so nothing unsafe can happen
// in one; the graceful stop then runs as ordinary code on the main thread.
#include "cli/app_context.h"
#include "cli/commands.h"
#include "web/routes.h"
#include "web/server.h"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <pthread.h>
#include <stdexcept>

namespace flowpilot::cli {

namespace {

namespace fs = std::filesystem;

struct ServeArgs {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "flowpilot-data";
  std::vector<std::string> workflow_dirs;
  int threads = 2;
};

// "HOST:PORT" or "[IPv6]:PORT" -> address and port; "localhost" means 127.0.0.1.
void parse_listen(const std::string& text, web::ServerOptions& options) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw UsageError("--listen `" + text + "` must look like HOST:PORT, e.g. 127.0.0.1:8080");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  const std::string port_text = text.substr(colon + 1);
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(port_text, &used);
    if (used != port_text.size()) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    port = 65536;
  }
  if (port > 65535) {
    throw UsageError("--listen `" + text + "`: the port must be a number from 0 to 65535");
  }
  options.address = host;
  options.port = static_cast<std::uint16_t>(port);
}

// Validates every workflow file of each directory and prints the problems of each bad file to
// stderr; a bad file does not stop the server. Returns how many files were invalid.
int check_workflow_dirs(const std::vector<std::string>& dirs, const AppContext& context) {
  int invalid = 0;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw UsageError("--workflows `" + dir + "` is not a directory");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const auto ext = entry.path().extension();
      if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".lua")) {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      auto result = engine::load_workflow_file(file, context.load_context());
      if (result.ok()) continue;
      ++invalid;
      for (const auto& d : result.diagnostics) std::cerr << d.to_string() << "\n";
    }
  }
  return invalid;
}

int serve(const ServeArgs& args) {
  web::ServerOptions options;
  parse_listen(args.listen, options);
  if (args.threads < 1) throw UsageError("--threads must be at least 1");
  options.threads = args.threads;

  // Block before any thread exists (the executor's, the store's, the server's): threads inherit
  // the mask, so the signals stay pending until sigwait below takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::error_code ec;
  fs::create_directories(args.data_dir, ec);
  if (ec) {
    throw UsageError("cannot create --data-dir `" + args.data_dir + "`: " + ec.message());
  }
  CommonOptions common;
  common.db_path = (fs::path(args.data_dir) / "flowpilot.db").string();
  AppContext context(common);
  check_workflow_dirs(args.workflow_dirs, context);

  engine::Store& store = context.store();
  const std::size_t resumed = context.executor().resume_all();
  if (resumed > 0) std::cerr << "flowpilot: resumed " << resumed << " unfinished run(s)\n";

  web::Router router;
  web::add_health_routes(router, [&store] {
    // A point read of a run that cannot exist: cheap, and fails if the database does not answer.
    try {
      (void)store.get_run("readyz-probe");
      return true;
    } catch (...) {
      return false;
    }
  });
  web::HttpServer server(options, router);
  std::uint16_t port = 0;
  try {
    port = server.start();
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
  const bool v6 = options.address.find(':') != std::string::npos;
  std::cout << "flowpilot serving on http://" << (v6 ? "[" : "") << options.address
            << (v6 ? "]" : "") << ":" << port << std::endl;

  int received = 0;
  sigwait(&signals, &received);
  std::cerr << "flowpilot: received " << (received == SIGINT ? "SIGINT" : "SIGTERM")
            << ", stopping\n";
  server.stop();
  // The executor (owned by `context`) stops next; runs still in progress stay unfinished in the
  // store and resume on the next start.
  return kExitOk;
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("serve", "Run the HTTP server (health and readiness for now)");
  auto args = std::make_shared<ServeArgs>();
  cmd->add_option("--listen", args->listen,
                  "HOST:PORT to listen on; port 0 picks a free port, printed on start")
      ->capture_default_str();
  cmd->add_option("--data-dir", args->data_dir,
                  "Directory of the server's data; the database is DIR/flowpilot.db")
      ->capture_default_str();
  cmd->add_option("--workflows", args->workflow_dirs,
                  "Directory of workflow files (*.yaml, *.yml, *.lua); repeatable. Every file is "
                  "validated at start and each bad file's problems are printed to stderr");
  cmd->add_option("--threads", args->threads, "Threads serving HTTP")->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = serve(*args); });
}

}  // namespace flowpilot::cli
