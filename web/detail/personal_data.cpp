#include "web/detail/personal_data.h"

#include <boost/json.hpp>

#include <algorithm>

namespace flowpilot::web::api_detail {

namespace json = boost::json;

namespace {
constexpr auto kErrorCacheAge = std::chrono::seconds(1);
}  // namespace

PersonalData::PersonalData(engine::Store& store, engine::WorkflowCatalog& catalog,
                           const engine::StepRegistry& steps)
    : store_(store), catalog_(catalog), marks_(steps) {}

std::shared_ptr<const engine::Workflow> PersonalData::workflow_of(const engine::RunRecord& run) const {
  if (auto entry = catalog_.get(run.workflow_id); entry && entry->workflow &&
                                                  entry->workflow->version == run.workflow_version) {
    return entry->workflow;
  }
  if (auto version = store_.get_workflow_version(run.workflow_id, run.workflow_version)) {
    return catalog_.resolve(*version);
  }
  return nullptr;
}

engine::PiiValues PersonalData::of_run(const engine::RunRecord& run,
                                       const std::vector<engine::StepRecord>& steps) const {
  if (marks_.empty()) return {};
  auto workflow = workflow_of(run);
  if (!workflow) return {};
  return engine::run_pii_values(marks_, *workflow, steps);
}

engine::PiiValues PersonalData::of_run(const engine::RunRecord& run) const {
  if (marks_.empty()) return {};
  auto workflow = workflow_of(run);
  if (!workflow) return {};
  auto marks = [this](const engine::StepSpec& s) { return !marks_.paths_of(s.uses).empty(); };
  if (std::none_of(workflow->steps.begin(), workflow->steps.end(), marks) &&
      std::none_of(workflow->on_failure.begin(), workflow->on_failure.end(), marks)) {
    return {};
  }
  return engine::run_pii_values(marks_, *workflow, store_.get_steps(run.id));
}

engine::PiiValues PersonalData::of_run(const std::string& run_id) const {
  if (marks_.empty()) return {};
  auto run = store_.get_run(run_id);
  if (!run) return {};
  return of_run(*run);
}

Response PersonalData::answer(const Request& request, const engine::PiiValues& values,
                              const json::value& body, const std::string& run_id) const {
  if (values.empty()) return json_response(200, body);
  std::size_t count = 0;
  json::value masked = values.mask(body, &count);
  if (request.principal && request.principal->can(engine::Permission::pii_read)) {
    Response response = json_response(200, body);
    if (count > 0) {
      response.audit = json::object{{"action", "pii.read"},
                                    {"target", run_id},
                                    {"route", request.method_text + " " + request.path},
                                    {"values", count}};
    }
    return response;
  }
  return json_response(200, masked);
}

json::value PersonalData::list_item(const Request& request, const engine::PiiValues& values,
                                    json::value item, const std::string& run_id,
                                    ListReads& reads) const {
  if (values.empty()) return item;
  std::size_t count = 0;
  json::value masked = values.mask(item, &count);
  if (!(request.principal && request.principal->can(engine::Permission::pii_read))) return masked;
  if (count > 0) {
    reads.runs.emplace_back(run_id);
    reads.values += count;
  }
  return item;
}

void PersonalData::record_list_reads(const Request& request, const ListReads& reads,
                                     std::string_view target, Response& response) {
  if (reads.values == 0) return;
  response.audit = json::object{{"action", "pii.read"},
                                {"target", target},
                                {"route", request.method_text + " " + request.path},
                                {"runs", reads.runs},
                                {"values", reads.values}};
}

std::string PersonalData::mask_error(const std::string& run_id, const std::string& error) const {
  if (error.empty() || marks_.empty()) return error;
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (cached_run_ != run_id || now - cached_at_ > kErrorCacheAge) {
    try {
      cached_values_ = of_run(run_id);
    } catch (const std::exception&) {
      // The store failed: nothing is known to be personal, so nothing is shown.
      cached_run_.clear();
      return "[hidden: the run's personal data could not be checked]";
    }
    cached_run_ = run_id;
    cached_at_ = now;
  }
  return cached_values_.mask_text(error);
}

}  // namespace flowpilot::web::api_detail
