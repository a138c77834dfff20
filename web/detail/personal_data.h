// What the API shows of a run's personal data (engine/access/pii.h): callers without pii:read see
// it masked; a caller with pii:read sees it, and each such answer is recorded in the audit log as
// a `pii.read` entry (the PII access log: who read whose run, how many values, from where).
//
// Thread-safety: immutable after construction except for a small cache that is locked.
#pragma once

#include "engine/access/pii.h"
#include "engine/catalog/workflow_catalog.h"
#include "engine/store/store.h"
#include "web/http_types.h"

#include <boost/json/value.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace flowpilot::web::api_detail {

class PersonalData {
 public:
  // `steps` must hold every plugin already (the marks are read once, here).
  PersonalData(engine::Store& store, engine::WorkflowCatalog& catalog,
               const engine::StepRegistry& steps);

  // The run's personal values (empty when its workflow reads none).
  engine::PiiValues of_run(const engine::RunRecord& run,
                           const std::vector<engine::StepRecord>& steps) const;
  // The same, reading the steps only when the run's workflow uses a kind that marks fields.
  engine::PiiValues of_run(const engine::RunRecord& run) const;
  engine::PiiValues of_run(const std::string& run_id) const;

  // The JSON answer of `body`: masked when the caller may not read personal data; otherwise, when
  // the body holds any, marked so that the router records the read (action pii.read, target
  // `run_id`; the route must be declared with Access::reading_personal_data()).
  Response answer(const Request& request, const engine::PiiValues& values,
                  const boost::json::value& body, const std::string& run_id) const;

  // Lists whose items belong to runs (the run list, approvals): each item is masked for a caller
  // without pii:read; for a caller with it, the runs whose data was shown go into one pii.read
  // entry for the whole answer (`target` names the list).
  struct ListReads {
    boost::json::array runs;
    std::size_t values = 0;
  };
  boost::json::value list_item(const Request& request, const engine::PiiValues& values,
                               boost::json::value item, const std::string& run_id,
                               ListReads& reads) const;
  static void record_list_reads(const Request& request, const ListReads& reads,
                                std::string_view target, Response& response);

  // An event stream's error text for a caller without pii:read. Reads the run at most once a
  // second however many of its items fail.
  std::string mask_error(const std::string& run_id, const std::string& error) const;

 private:
  std::shared_ptr<const engine::Workflow> workflow_of(const engine::RunRecord& run) const;

  engine::Store& store_;
  engine::WorkflowCatalog& catalog_;
  engine::PiiCatalog marks_;
  mutable std::mutex mu_;
  mutable std::string cached_run_;
  mutable std::chrono::steady_clock::time_point cached_at_{};
  mutable engine::PiiValues cached_values_;
};

}  // namespace flowpilot::web::api_detail
