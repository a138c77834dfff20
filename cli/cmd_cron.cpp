// `flowpilot cron next EXPR [--tz ZONE] [--from ISO-8601] [--count N]`: the next fire times of a
// cron expression, one ISO-8601 time with the zone's offset per line. Needs no store, so it builds
// no AppContext.
#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include "cli/app_context.h"
#include "cli/commands.h"
#include "engine/schedule/cron.h"

namespace flowpilot::cli {
namespace {

constexpr int kMaxCount = 1000;

struct CronNextOptions {
  std::string expression;
  std::string zone = "UTC";
  std::string from;  // empty: now
  int count = 5;
};

void run_cron_next(const CronNextOptions& options) {
  std::string error;
  const auto cron = engine::CronExpression::parse(options.expression, &error);
  if (!cron) throw UsageError("bad cron expression: " + error);
  if (!engine::is_valid_time_zone(options.zone)) {
    throw UsageError("unknown time zone `" + options.zone +
                     "`; use an IANA name such as Europe/Berlin, America/New_York or UTC");
  }
  if (options.count < 1 || options.count > kMaxCount) {
    throw UsageError("--count must be between 1 and " + std::to_string(kMaxCount) + ", not " +
                     std::to_string(options.count));
  }
  std::chrono::sys_seconds from =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  if (!options.from.empty()) {
    const auto parsed = engine::parse_iso8601(options.from, options.zone);
    if (!parsed) {
      // Well-formed but rejected in the zone: the wall-clock time falls in a daylight-saving gap.
      if (engine::parse_iso8601(options.from, "UTC")) {
        throw UsageError("--from `" + options.from + "` does not exist in " + options.zone +
                         ": clocks skip that local time for daylight saving; give an offset "
                         "(e.g. +01:00) or another time");
      }
      throw UsageError("--from `" + options.from +
                       "` is not an ISO-8601 date and time such as 2026-03-30T09:00:00+02:00, "
                       "2026-03-30T07:00:00Z or 2026-03-30T09:00 (local time in --tz)");
    }
    from = *parsed;
  }
  int printed = 0;
  for (; printed < options.count; ++printed) {
    const auto next = cron->next_after(from, options.zone);
    if (!next) break;
    std::cout << engine::format_iso8601(*next, options.zone) << "\n";
    from = *next;
  }
  // An expression such as `0 0 30 2 *` parses but never fires; say so rather than print nothing.
  if (printed == 0) {
    throw UsageError("`" + options.expression + "` does not fire within " +
                     std::to_string(engine::CronExpression::kSearchHorizon.count() / 365) +
                     " years after " + engine::format_iso8601(from, options.zone) +
                     "; check the day-of-month and month fields");
  }
}

}  // namespace

void add_cron_command(CLI::App& app, int& exit_code) {
  auto* cron = app.add_subcommand("cron", "Work with cron expressions");
  cron->require_subcommand(1);

  auto options = std::make_shared<CronNextOptions>();
  auto* next = cron->add_subcommand(
      "next", "Print the next fire times of a cron expression, one ISO-8601 time per line");
  next->add_option("expression", options->expression,
                   "Cron expression, e.g. \"0 9 * * MON\" or @daily (quote it)")
      ->required();
  next->add_option("--tz", options->zone, "IANA time zone the fields are read in")
      ->capture_default_str();
  next->add_option("--from", options->from,
                   "Start (exclusive), ISO-8601; without an offset it is local time in --tz; "
                   "default now");
  next->add_option("--count", options->count, "How many fire times, 1-1000")->capture_default_str();
  next->callback([options, &exit_code] {
    run_cron_next(*options);
    exit_code = kExitOk;
  });
}

}  // namespace flowpilot::cli
