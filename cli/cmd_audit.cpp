// `flowpilot audit export`: the audit log as JSON lines, oldest first (docs/access.md), from the
// same data directory and store as `flowpilot serve`.
#include "cli/commands.h"
#include "cli/master_keys.h"
#include "engine/access/audit.h"
#include "engine/schedule/cron.h"

#include <boost/json.hpp>

#include <fstream>
#include <iostream>
#include <memory>

namespace flowpilot::cli {
namespace {

namespace json = boost::json;

struct AuditArgs {
  DataDirFlags data;
  std::string actor;
  std::string action;
  std::string since;
  std::string output;
};

constexpr int kPage = 1000;

int export_log(const AuditArgs& args) {
  auto store = open_data_dir_store(args.data);
  engine::AuditLog log(*store);
  engine::AuditFilter filter;
  filter.actor = args.actor;
  filter.action = args.action;
  filter.oldest_first = true;
  filter.limit = kPage;
  if (!args.since.empty()) {
    auto at = engine::parse_iso8601(args.since, "UTC");
    if (!at) throw UsageError("--since: `" + args.since + "` is not an ISO-8601 time");
    filter.from = static_cast<engine::EpochMillis>(at->time_since_epoch().count()) * 1000;
  }
  std::ofstream file;
  if (!args.output.empty()) {
    file.open(args.output, std::ios::binary | std::ios::trunc);
    if (!file) throw UsageError("--output: cannot write `" + args.output + "`");
  }
  std::ostream& out = args.output.empty() ? std::cout : file;
  std::size_t written = 0;
  while (true) {
    const auto page = log.list(filter);
    for (const auto& r : page) {
      out << json::serialize(engine::audit_json(r)) << '\n';
      filter.after_id = r.id;
    }
    written += page.size();
    if (static_cast<int>(page.size()) < kPage) break;
  }
  out.flush();
  if (!out) throw UsageError("writing the export failed");
  if (!args.output.empty()) std::cerr << written << " entries written to " << args.output << "\n";
  return kExitOk;
}

}  // namespace

void add_audit_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("audit", "The audit log of changes");
  cmd->require_subcommand(1);
  auto args = std::make_shared<AuditArgs>();
  auto* exp = cmd->add_subcommand("export", "Print the audit log as JSON lines, oldest first");
  exp->add_option("--actor", args->actor, "Only changes by this email or user id");
  exp->add_option("--action", args->action,
                  "Only this action (user.create), or actions starting with a prefix ending in "
                  "'.' (user.)");
  exp->add_option("--since", args->since, "Only changes at or after this ISO-8601 time (UTC)");
  exp->add_option("--output", args->output, "Write to this file instead of standard output");
  add_data_dir_flags(*exp, args->data);
  exp->callback([args, &exit_code] { exit_code = export_log(*args); });
}

}  // namespace flowpilot::cli
