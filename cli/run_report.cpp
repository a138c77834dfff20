#include "cli/run_report.h"

#include "cli/commands.h"
#include "cli/json_print.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <ostream>

namespace flowpilot::cli {

std::string format_millis(std::int64_t ms) {
  if (ms < 0) return "-";
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 60'000) return fmt::format("{:.2f} s", static_cast<double>(ms) / 1000.0);
  return fmt::format("{}m{:02}s", ms / 60'000, (ms % 60'000) / 1000);
}

int print_run_report(std::ostream& out, engine::Store& store, const std::string& run_id,
                     bool parked, bool with_logs) {
  auto run = store.get_run(run_id);
  if (!run) {
    out << "run " << run_id << " not found\n";
    return kExitUsage;
  }
  const std::int64_t elapsed =
      run->finished_at != 0 && run->started_at != 0 ? run->finished_at - run->started_at : -1;
  out << fmt::format("run {}  workflow {}  {}{}\n", run->id, run->workflow_id,
                     engine::to_string(run->status),
                     elapsed >= 0 ? "  in " + format_millis(elapsed) : std::string());

  auto steps = store.get_steps(run_id);
  // In the order they started, which follows the DAG; steps that never started go last.
  std::stable_sort(steps.begin(), steps.end(), [](const auto& a, const auto& b) {
    const auto key = [](const engine::StepRecord& s) {
      return s.started_at != 0 ? s.started_at : std::numeric_limits<std::int64_t>::max();
    };
    return key(a) < key(b);
  });
  std::size_t width = 4;
  for (const auto& s : steps) {
    if (s.index < 0) width = std::max(width, s.step_id.size());
  }
  out << fmt::format("\n{:<{}}  {:<10}  {:>8}  {:>10}  {}\n", "STEP", width, "STATUS", "ATTEMPTS",
                     "DURATION", "DETAIL");
  for (const auto& s : steps) {
    if (s.index >= 0) continue;
    const std::int64_t duration =
        s.finished_at != 0 && s.started_at != 0 ? s.finished_at - s.started_at : -1;
    std::string detail = s.error;
    if (s.item_count >= 0) {
      detail = fmt::format("{} items{}", s.item_count, detail.empty() ? "" : "; " + detail);
    }
    out << fmt::format("{:<{}}  {:<10}  {:>8}  {:>10}  {}\n", s.step_id, width,
                       engine::to_string(s.status), s.attempt, format_millis(duration), detail);
  }

  for (const auto& approval : store.list_approvals(engine::ApprovalStatus::pending)) {
    if (approval.run_id != run_id) continue;
    out << fmt::format("\nwaiting for approval of step `{}`: {}\n", approval.step_id,
                       approval.message.empty() ? "(no message)" : approval.message);
    out << fmt::format("  approve: flowpilot runs approve {} --step {}\n", run_id,
                       approval.step_id);
    out << fmt::format("  reject:  flowpilot runs reject {} --step {} --comment \"...\"\n", run_id,
                       approval.step_id);
  }
  if (!run->error.empty()) out << "\nerror: " << run->error << "\n";
  if (run->status == engine::RunStatus::succeeded) {
    out << "\noutputs:\n" << pretty_json(run->outputs) << "\n";
  }
  if (with_logs) {
    out << "\nlogs:\n";
    for (const auto& log : store.get_logs(run_id)) {
      out << fmt::format("  {} {:<5} {}{}: {}\n", log.at, log.level, log.step_id,
                         log.index >= 0 ? fmt::format("[{}]", log.index) : "", log.message);
    }
  }
  switch (run->status) {
    case engine::RunStatus::succeeded: return kExitOk;
    case engine::RunStatus::queued:
    case engine::RunStatus::running: return parked ? kExitParked : kExitFailed;
    default: return kExitFailed;
  }
}

}  // namespace flowpilot::cli
