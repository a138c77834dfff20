#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/run_report.h"

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

namespace flowpilot::cli {
namespace {

struct RunsArgs {
  CommonOptions common;
  std::string run_id;
  std::string step;
  std::string comment;
  std::string by;
  std::string workflow;
  std::string status;
  int limit = 20;
  bool logs = false;
  std::vector<std::string> run_ids;
};

void add_db_options(CLI::App* cmd, RunsArgs& args) {
  cmd->add_option("--db", args.common.db_path,
                  "SQLite database (default: $FLOWPILOT_DB or ./flowpilot.db)");
  cmd->add_option("--secrets", args.common.secrets_file, "YAML file of secrets (NAME: value)");
  cmd->add_option("--connections", args.common.connections_file,
                  "YAML file of connections: name: {type: bearer, token: ...}");
}

std::string default_decider() {
  const char* user = std::getenv("USER");
  return user != nullptr && *user != '\0' ? user : "cli";
}

int decide(const RunsArgs& args, bool approve) {
  AppContext context(args.common);
  auto& store = context.store();
  if (!store.get_run(args.run_id)) throw UsageError("run " + args.run_id + " not found");
  std::string step = args.step;
  if (step.empty()) {
    std::vector<std::string> pending;
    for (const auto& a : store.list_approvals(engine::ApprovalStatus::pending)) {
      if (a.run_id == args.run_id) pending.push_back(a.step_id);
    }
    if (pending.empty()) throw UsageError("run " + args.run_id + " has no pending approval");
    if (pending.size() > 1) {
      throw UsageError("run " + args.run_id + " waits for several approvals; choose one with --step");
    }
    step = pending.front();
  }
  try {
    context.executor().decide(args.run_id, step, approve,
                              args.by.empty() ? default_decider() : args.by, args.comment);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  context.executor().wait(args.run_id);
  return print_run_report(std::cout, store, args.run_id, context.executor().is_parked(args.run_id),
                          false);
}

}  // namespace

void add_runs_command(CLI::App& app, int& exit_code) {
  auto* runs = app.add_subcommand("runs", "List, inspect, resume, approve and cancel runs");
  runs->require_subcommand(1);
  auto args = std::make_shared<RunsArgs>();

  auto* list = runs->add_subcommand("list", "List recent runs, newest first");
  add_db_options(list, *args);
  list->add_option("--workflow", args->workflow, "Only runs of this workflow id");
  list->add_option("--status", args->status,
                   "Only runs in this state (queued, running, succeeded, failed, cancelled, "
                   "timed_out)");
  list->add_option("--limit", args->limit, "How many runs to show")->check(CLI::Range(1, 10000));
  list->callback([args, &exit_code] {
    AppContext context(args->common);
    engine::RunFilter filter;
    filter.workflow_id = args->workflow;
    filter.limit = args->limit;
    if (!args->status.empty()) {
      filter.status = engine::parse_run_status(args->status);
      if (!filter.status) throw UsageError("--status `" + args->status + "` is not a run state");
    }
    const auto runs = context.store().list_runs(filter);
    std::cout << fmt::format("{:<29}  {:<24}  {:<10}  {:>10}\n", "RUN", "WORKFLOW", "STATUS",
                             "DURATION");
    for (const auto& run : runs) {
      const std::int64_t elapsed =
          run.finished_at != 0 && run.started_at != 0 ? run.finished_at - run.started_at : -1;
      std::cout << fmt::format("{:<29}  {:<24}  {:<10}  {:>10}\n", run.id, run.workflow_id,
                               engine::to_string(run.status), format_millis(elapsed));
    }
    if (runs.empty()) std::cout << "(no runs)\n";
    exit_code = kExitOk;
  });

  auto* show = runs->add_subcommand("show", "Show a run: steps, attempts, approvals, outputs");
  add_db_options(show, *args);
  show->add_option("id", args->run_id, "Run id")->required();
  show->add_flag("--logs", args->logs, "Also print the steps' logs");
  show->callback([args, &exit_code] {
    AppContext context(args->common);
    if (!context.store().get_run(args->run_id)) throw UsageError("run " + args->run_id + " not found");
    print_run_report(std::cout, context.store(), args->run_id, false, args->logs);
    exit_code = kExitOk;
  });

  auto* resume = runs->add_subcommand(
      "resume", "Continue unfinished runs (all of them, or the ids given) after a stop or crash");
  add_db_options(resume, *args);
  resume->add_option("ids", args->run_ids, "Run ids (default: every unfinished run)");
  resume->callback([args, &exit_code] {
    AppContext context(args->common);
    auto& executor = context.executor();
    std::vector<std::string> ids = args->run_ids;
    if (ids.empty()) ids = context.store().unfinished_run_ids();
    if (ids.empty()) {
      std::cout << "no unfinished runs\n";
      exit_code = kExitOk;
      return;
    }
    for (const auto& id : ids) {
      if (!context.store().get_run(id)) throw UsageError("run " + id + " not found");
      executor.resume(id);
    }
    int worst = kExitOk;
    for (const auto& id : ids) {
      executor.wait(id);
      const int code =
          print_run_report(std::cout, context.store(), id, executor.is_parked(id), false);
      std::cout << "\n";
      worst = std::max(worst, code == kExitParked ? kExitParked : code);
    }
    exit_code = worst;
  });

  auto* approve = runs->add_subcommand("approve", "Approve a run's pending core.approval step");
  auto* reject = runs->add_subcommand("reject", "Reject a run's pending core.approval step");
  for (auto* cmd : {approve, reject}) {
    add_db_options(cmd, *args);
    cmd->add_option("id", args->run_id, "Run id")->required();
    cmd->add_option("--step", args->step, "The approval step (needed when several wait)");
    cmd->add_option("--comment", args->comment, "A note recorded with the decision");
    cmd->add_option("--by", args->by, "Who decides (default: $USER)");
  }
  approve->callback([args, &exit_code] { exit_code = decide(*args, true); });
  reject->callback([args, &exit_code] { exit_code = decide(*args, false); });

  auto* cancel = runs->add_subcommand("cancel", "Cancel a queued, running or parked run");
  add_db_options(cancel, *args);
  cancel->add_option("id", args->run_id, "Run id")->required();
  cancel->add_option("--comment", args->comment, "Why (recorded as the run's error)");
  cancel->callback([args, &exit_code] {
    AppContext context(args->common);
    auto run = context.store().get_run(args->run_id);
    if (!run) throw UsageError("run " + args->run_id + " not found");
    if (engine::is_terminal(run->status)) {
      throw UsageError(fmt::format("run {} has already finished ({})", args->run_id,
                                   engine::to_string(run->status)));
    }
    context.executor().cancel(
        args->run_id, args->comment.empty() ? "cancelled by " + default_decider() : args->comment);
    context.executor().wait(args->run_id);
    print_run_report(std::cout, context.store(), args->run_id, false, false);
    exit_code = kExitOk;
  });
}

}  // namespace flowpilot::cli
