// GDPR erasure of one person (`flowpilot pii erase --email ...`): their data leaves every stored
// run (step outputs, attempt inputs and outputs, logs, errors, run inputs, trigger bodies and
// outputs, approval messages) and the warehouse (deal and campaign names that mention them).
//
// Two passes over the finished runs: the first learns the person's phone and full name from the
// rows that hold their email (engine/access/pii.h, PersonErasure), the second rewrites what holds
// any of them, one run per store batch. Runs still queued or running are not touched (the executor
// would write its copy back) and are listed in the report, to erase again once they finish.
//
// Errors: std::invalid_argument for an email that is not one; StoreError from the store.
// Thread-safety: erase_person() may run beside a live server; it writes through the store's writer.
#pragma once

#include "engine/access/pii.h"
#include "engine/store/store.h"
#include "engine/warehouse/warehouse.h"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace flowpilot::engine {

struct ErasureReport {
  std::vector<std::string> identifiers;  // what was looked for: the email, phone, full name
  std::int64_t runs_scanned = 0;
  std::int64_t runs_changed = 0;
  std::int64_t step_values = 0;      // in step outputs
  std::int64_t attempt_values = 0;   // in attempt inputs and outputs
  std::int64_t run_values = 0;       // in run inputs, trigger bodies, outputs and errors
  std::int64_t log_lines = 0;        // log lines rewritten
  std::int64_t approval_values = 0;  // in approval messages and comments
  std::int64_t warehouse_rows = 0;
  std::vector<std::string> unfinished_runs;  // skipped: queued or running
  bool dry_run = false;

  std::int64_t total() const;
  boost::json::object to_json() const;
};

struct ErasureOptions {
  std::string email;
  bool dry_run = false;  // count, change nothing
};

// `warehouse` may be null (no warehouse file yet).
ErasureReport erase_person(Store& store, Warehouse* warehouse, const PiiCatalog& marks,
                           const ErasureOptions& options);

}  // namespace flowpilot::engine
