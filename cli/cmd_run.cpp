#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/run_report.h"

#include <iostream>

namespace flowpilot::cli {

void add_run_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "run", "Run a workflow file to completion, print each step and the outputs");
  struct Args {
    std::string file;
    std::vector<std::string> inputs;
    CommonOptions common;
    std::string idempotency_key;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("file", args->file, "Workflow file (.yaml, .yml)")->required();
  cmd->add_option("-i,--input", args->inputs, "An input as key=value (repeatable)");
  cmd->add_option("--db", args->common.db_path,
                  "SQLite database (default: $FLOWPILOT_DB or ./flowpilot.db)");
  cmd->add_option("--secrets", args->common.secrets_file,
                  "YAML file of secrets (NAME: value); FLOWPILOT_SECRET_<NAME> also works");
  cmd->add_option("--idempotency-key", args->idempotency_key,
                  "Start at most one run for this key; a repeat reports the first run");
  cmd->callback([args, &exit_code] {
    AppContext context(args->common);
    auto loaded = engine::load_workflow_file(args->file, context.load_context());
    if (!loaded.ok()) {
      for (const auto& d : loaded.diagnostics) std::cerr << d.to_string() << "\n";
      exit_code = kExitUsage;
      return;
    }
    engine::RunRequest request;
    request.workflow = loaded.workflow;
    request.idempotency_key = args->idempotency_key;
    for (const auto& kv : args->inputs) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw UsageError("--input `" + kv + "` must look like key=value");
      }
      request.inputs[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    engine::StartedRun started;
    try {
      started = context.executor().start(std::move(request));
    } catch (const engine::InputError& e) {
      for (const auto& problem : e.problems()) std::cerr << args->file << ": " << problem << "\n";
      exit_code = kExitUsage;
      return;
    }
    if (!started.created) {
      std::cout << "idempotency key already used by run " << started.run_id << "\n";
    }
    context.executor().wait(started.run_id);
    const bool parked = context.executor().is_parked(started.run_id);
    exit_code = print_run_report(std::cout, context.store(), started.run_id, parked, false);
  });
}

}  // namespace flowpilot::cli
