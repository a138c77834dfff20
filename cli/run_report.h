// Human-readable reports of runs, shared by `run`, `runs show`, `runs approve|reject|resume`.
#pragma once

#include "engine/store/store.h"

#include <iosfwd>
#include <string>

namespace flowpilot::cli {

// Prints the run header, a per-step table (status, attempts, duration, error), pending approvals
// and the outputs as JSON. Returns the exit code the run's status maps to.
int print_run_report(std::ostream& out, engine::Store& store, const std::string& run_id,
                     bool parked, bool with_logs);

std::string format_millis(std::int64_t ms);

}  // namespace flowpilot::cli
