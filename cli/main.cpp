#include "cli/app_context.h"
#include "cli/commands.h"

#include <spdlog/spdlog.h>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"Flowpilot: workflow orchestration for marketing teams", "flowpilot"};
  app.require_subcommand(1);
  // On wrong usage, say what is wrong and show the usage of the command concerned.
  app.failure_message(CLI::FailureMessage::help);
  app.set_version_flag("--version", "flowpilot 0.1.0");
  int exit_code = flowpilot::cli::kExitOk;
  flowpilot::cli::add_validate_command(app, exit_code);
  flowpilot::cli::add_run_command(app, exit_code);
  flowpilot::cli::add_runs_command(app, exit_code);
  flowpilot::cli::add_plugins_command(app, exit_code);
  flowpilot::cli::add_cron_command(app, exit_code);
  flowpilot::cli::add_serve_command(app, exit_code);
  flowpilot::cli::add_demo_command(app, exit_code);
  flowpilot::cli::add_sim_command(app, exit_code);
  flowpilot::cli::add_connections_command(app, exit_code);
  flowpilot::cli::add_secrets_command(app, exit_code);
  flowpilot::cli::add_users_command(app, exit_code);
  flowpilot::cli::add_tokens_command(app, exit_code);
  flowpilot::cli::add_audit_command(app, exit_code);
  flowpilot::cli::add_pii_command(app, exit_code);
  spdlog::set_level(spdlog::level::warn);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : flowpilot::cli::kExitUsage;
  } catch (const flowpilot::cli::UsageError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return flowpilot::cli::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return flowpilot::cli::kExitFailed;
  }
  return exit_code;
}
