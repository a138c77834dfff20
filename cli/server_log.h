// The server's log: one line per event on stderr, as JSON lines (log.format: json) for log
// collectors or as readable text, at the configured level. Everything logged through spdlog, by
// the engine too, goes through the same formatter, so a JSON log has no stray plain lines.
//
// JSON line: {"ts":"2026-11-22T14:03:07.123Z","level":"info","msg":"run finished",
//             "run_id":"...","workflow_id":"...","status":"succeeded"}
// Text line: 2026-11-22T14:03:07.123Z info run finished run_id=... workflow_id=... status=...
//
// Thread-safety: configure once at start; log_fields may be called from any thread.
#pragma once

#include "cli/serve_config.h"

#include <spdlog/common.h>

#include <initializer_list>
#include <string_view>
#include <utility>

namespace flowpilot::cli {

void configure_server_log(LogFormat format, LogLevel level);

bool log_enabled(spdlog::level::level_enum level);

using LogField = std::pair<std::string_view, std::string_view>;
// A message with named fields (run and step ids, statuses); fields with empty values are left out.
void log_fields(spdlog::level::level_enum level, std::string_view message,
                std::initializer_list<LogField> fields);

}  // namespace flowpilot::cli
