// `flowpilot pii erase --email ...`: GDPR erasure of one person from the stored runs and the
// warehouse of the server's data directory (engine/access/erasure.h, docs/access.md). The audit
// log records the erasure under the SHA-256 of the email, never the email itself.
#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/master_keys.h"
#include "engine/access/audit.h"
#include "engine/access/detail/credentials.h"
#include "engine/access/erasure.h"
#include "engine/store/store_url.h"

#include <boost/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

namespace flowpilot::cli {
namespace {

namespace json = boost::json;

struct EraseArgs {
  DataDirFlags data;
  std::string email;
  bool dry_run = false;
  bool as_json = false;
};

void print_report(const engine::ErasureReport& r) {
  std::cout << (r.dry_run ? "Would erase" : "Erased") << " the data of " << r.identifiers.front()
            << " (looked for: ";
  for (std::size_t i = 0; i < r.identifiers.size(); ++i) {
    std::cout << (i == 0 ? "" : ", ") << r.identifiers[i];
  }
  std::cout << ")\n"
            << "  runs scanned:            " << r.runs_scanned << "\n"
            << "  runs changed:            " << r.runs_changed << "\n"
            << "  step output values:      " << r.step_values << "\n"
            << "  attempt input/output:    " << r.attempt_values << "\n"
            << "  run inputs/trigger/out:  " << r.run_values << "\n"
            << "  log lines:               " << r.log_lines << "\n"
            << "  approval messages:       " << r.approval_values << "\n"
            << "  warehouse rows renamed:  " << r.warehouse_rows << "\n";
  if (!r.unfinished_runs.empty()) {
    std::cout << "  not yet finished, left as they are (erase again once they finish):";
    for (const auto& id : r.unfinished_runs) std::cout << ' ' << id;
    std::cout << "\n";
  }
  if (r.total() == 0) std::cout << "Nothing stored mentions this person.\n";
}

int erase(const EraseArgs& args) {
  const ServeConfig config = load_data_dir_config(args.data);
  CommonOptions common;
  common.store_url = config.store_url();
  common.db_path = local_db_path(config);
  common.plugin_paths = config.plugin_paths;
  AppContext context(common);
  // The marks come from the plugins the server loads, so the same fields count as personal.
  const engine::PiiCatalog marks(context.registry());
  // A SQLite warehouse that was never created holds nothing to erase (and is not created here);
  // a PostgreSQL one lives beside the store.
  std::unique_ptr<engine::Warehouse> warehouse_file;
  engine::Warehouse* warehouse = nullptr;
  if (engine::store_kind(common.store_url) == engine::StoreKind::postgres) {
    warehouse = &context.warehouse();
  } else if (const auto file = std::filesystem::path(config.data_dir) / "warehouse.db"; std::filesystem::exists(file)) {
    warehouse_file = engine::open_sqlite_warehouse({file, false});
    warehouse = warehouse_file.get();
  }
  const engine::ErasureReport report = usage_errors_from<std::invalid_argument>([&] {
    return engine::erase_person(context.store(), warehouse, marks, {args.email, args.dry_run});
  });
  if (!args.dry_run) {
    engine::AuditEntry entry;
    engine::set_cli_actor(entry);
    entry.action = "pii.erase";
    entry.target = "sha256:" + engine::access_detail::sha256_hex(report.identifiers.front());
    json::object details = report.to_json();
    details.erase("identifiers");  // the audit log must not keep what was erased
    entry.details = std::move(details);
    engine::AuditLog(context.store()).record_now(std::move(entry));
  }
  if (args.as_json) {
    std::cout << json::serialize(report.to_json()) << "\n";
  } else {
    print_report(report);
  }
  return kExitOk;
}

}  // namespace

void add_pii_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("pii", "Personal data in stored runs");
  cmd->require_subcommand(1);
  auto args = std::make_shared<EraseArgs>();
  auto* erase_cmd = cmd->add_subcommand(
      "erase", "Erase one person's data from stored runs and the warehouse (GDPR erasure)");
  erase_cmd->add_option("--email", args->email, "The person's email address")->required();
  erase_cmd->add_flag("--dry-run", args->dry_run, "Count what would be erased; change nothing");
  erase_cmd->add_flag("--json", args->as_json, "Print the report as JSON");
  add_data_dir_flags(*erase_cmd, args->data);
  erase_cmd->callback([args, &exit_code] { exit_code = erase(*args); });
}

}  // namespace flowpilot::cli
