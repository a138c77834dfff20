#include "engine/access/erasure.h"

#include <boost/json.hpp>

#include <stdexcept>

namespace flowpilot::engine {

namespace json = boost::json;

namespace {

constexpr int kPage = 200;

// Every run, newest first, a page at a time.
template <class F>
void for_each_run(Store& store, F&& visit) {
  RunFilter filter;
  filter.limit = kPage;
  for (;;) {
    auto runs = store.list_runs(filter);
    for (auto& run : runs) visit(run);
    if (static_cast<int>(runs.size()) < kPage) return;
    filter.before_id = runs.back().id;
  }
}

bool plausible_email(std::string_view email) {
  const auto at = email.find('@');
  return email.size() <= 254 && at != std::string_view::npos && at > 0 && at + 1 < email.size() &&
         email.find_first_of(" \t\r\n,;<>") == std::string_view::npos;
}

// Replaces `value` with its erased copy; true when something changed.
bool erase_in(const PersonErasure& person, json::value& value, std::int64_t& counter) {
  std::size_t count = 0;
  json::value erased = person.erase(value, count);
  if (count == 0) return false;
  counter += static_cast<std::int64_t>(count);
  value = std::move(erased);
  return true;
}

bool erase_in(const PersonErasure& person, std::string& text, std::int64_t& counter) {
  std::size_t count = 0;
  std::string erased = person.erase_text(text, count);
  if (count == 0) return false;
  counter += static_cast<std::int64_t>(count);
  text = std::move(erased);
  return true;
}

}  // namespace

std::int64_t ErasureReport::total() const {
  return step_values + attempt_values + run_values + log_lines + approval_values + warehouse_rows;
}

json::object ErasureReport::to_json() const {
  json::array ids;
  for (const auto& i : identifiers) ids.emplace_back(i);
  json::array unfinished;
  for (const auto& r : unfinished_runs) unfinished.emplace_back(r);
  return json::object{{"dry_run", dry_run},
                      {"identifiers", std::move(ids)},
                      {"runs_scanned", runs_scanned},
                      {"runs_changed", runs_changed},
                      {"step_values", step_values},
                      {"attempt_values", attempt_values},
                      {"run_values", run_values},
                      {"log_lines", log_lines},
                      {"approval_values", approval_values},
                      {"warehouse_rows", warehouse_rows},
                      {"unfinished_runs", std::move(unfinished)}};
}

ErasureReport erase_person(Store& store, Warehouse* warehouse, const PiiCatalog& marks,
                           const ErasureOptions& options) {
  if (!plausible_email(options.email)) {
    throw std::invalid_argument("--email: `" + options.email + "` is not an email address");
  }
  PersonErasure person(options.email, marks.field_names());
  ErasureReport report;
  report.dry_run = options.dry_run;

  for_each_run(store, [&](const RunRecord& run) {
    if (!is_terminal(run.status)) return;
    person.learn(run.inputs);
    person.learn(run.trigger);
    person.learn(run.outputs);
    for (const auto& step : store.get_steps(run.id)) person.learn(step.output);
    for (const auto& attempt : store.get_attempts(run.id)) {
      person.learn(attempt.input);
      person.learn(attempt.output);
    }
  });
  report.identifiers = person.identifiers();

  for_each_run(store, [&](RunRecord run) {
    ++report.runs_scanned;
    if (!is_terminal(run.status)) {
      report.unfinished_runs.push_back(run.id);
      return;
    }
    WriteBatch batch;
    bool run_changed = false;
    run_changed |= erase_in(person, run.inputs, report.run_values);
    run_changed |= erase_in(person, run.trigger, report.run_values);
    run_changed |= erase_in(person, run.outputs, report.run_values);
    run_changed |= erase_in(person, run.error, report.run_values);
    const auto steps = store.get_steps(run.id);
    for (StepRecord step : steps) {
      bool changed = erase_in(person, step.output, report.step_values);
      changed |= erase_in(person, step.error, report.step_values);
      if (changed) batch.add(PutStep{std::move(step)});
    }
    for (AttemptRecord attempt : store.get_attempts(run.id)) {
      bool changed = erase_in(person, attempt.input, report.attempt_values);
      changed |= erase_in(person, attempt.output, report.attempt_values);
      changed |= erase_in(person, attempt.error, report.attempt_values);
      if (changed) batch.add(PutAttempt{std::move(attempt)});
    }
    auto logs = store.get_logs(run.id);
    std::int64_t lines = 0;
    for (auto& log : logs) {
      std::int64_t in_line = 0;
      if (erase_in(person, log.message, in_line)) ++lines;
    }
    if (lines > 0) {
      report.log_lines += lines;
      batch.add(DeleteRunLogs{run.id});
      for (auto& log : logs) batch.add(AppendLog{std::move(log)});
    }
    for (const auto& step : steps) {
      if (step.index >= 0) continue;
      auto approval = store.get_approval(run.id, step.step_id);
      if (!approval) continue;
      bool changed = erase_in(person, approval->message, report.approval_values);
      changed |= erase_in(person, approval->comment, report.approval_values);
      if (changed) batch.add(PutApproval{std::move(*approval)});
    }
    if (run_changed) batch.add(PutRun{run});
    if (batch.empty()) return;
    ++report.runs_changed;
    if (!options.dry_run) {
      auto result = store.commit(std::move(batch));
      if (result.error) std::rethrow_exception(result.error);
    }
  });

  if (warehouse != nullptr) {
    report.warehouse_rows =
        warehouse->erase_mentions(report.identifiers, PersonErasure::kErased, options.dry_run);
  }
  return report;
}

}  // namespace flowpilot::engine
