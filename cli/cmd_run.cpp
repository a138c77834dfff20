#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/run_report.h"

#include <boost/json.hpp>

#include <iostream>

namespace flowpilot::cli {
namespace {

// What a dry run would change: the plans of the steps with side effects, in workflow order.
void print_plan(std::ostream& out, AppContext& context, const engine::Workflow& workflow,
                const std::string& run_id) {
  out << "\nplan (dry run, nothing was changed):\n";
  const auto records = context.store().get_steps(run_id);
  bool any = false;
  for (const auto& spec : workflow.steps) {
    const engine::StepDescriptor* d = context.registry().describe(spec.uses);
    if (d == nullptr || !d->side_effects) continue;
    any = true;
    for (const auto& rec : records) {
      if (rec.step_id != spec.id || rec.index >= 0) continue;
      const auto* obj = rec.output.if_object();
      if (rec.status == engine::StepStatus::succeeded && obj != nullptr && obj->contains("plan")) {
        out << "  " << spec.id << " (" << spec.uses << "): "
            << boost::json::serialize(obj->at("plan")) << "\n";
      } else if (rec.status == engine::StepStatus::succeeded) {
        out << "  " << spec.id << " (" << spec.uses << "): ran for real, it only reads\n";
      } else {
        out << "  " << spec.id << " (" << spec.uses << "): " << engine::to_string(rec.status)
            << (rec.error.empty() ? "" : ": " + rec.error) << "\n";
      }
    }
  }
  if (!any) out << "  (no step with side effects)\n";
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "run", "Run a workflow file to completion, print each step and the outputs");
  struct Args {
    std::string file;
    std::vector<std::string> inputs;
    CommonOptions common;
    std::string idempotency_key;
    bool dry_run = false;
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
  cmd->add_option("--connections", args->common.connections_file,
                  "YAML file of connections: name: {type: bearer, token: ...}");
  cmd->add_flag("--dry-run", args->dry_run,
                "Run read-only steps for real; steps with side effects only describe their plan");
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
    request.dry_run = args->dry_run;
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
    if (args->dry_run) print_plan(std::cout, context, *loaded.workflow, started.run_id);
  });
}

}  // namespace flowpilot::cli
