// The `flowpilot` commands. Each registers a CLI11 subcommand whose callback sets `exit_code`.
//
// Exit codes: 0 success; 1 a run did not succeed (failed, cancelled, timed out) or a file did not
// validate; 2 wrong usage or an input the user must fix; 3 the run is parked, waiting for an
// approval.
#pragma once

#include <CLI/CLI.hpp>

namespace flowpilot::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitParked = 3;

void add_validate_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
void add_runs_command(CLI::App& app, int& exit_code);
void add_plugins_command(CLI::App& app, int& exit_code);
void add_cron_command(CLI::App& app, int& exit_code);
void add_serve_command(CLI::App& app, int& exit_code);
void add_demo_command(CLI::App& app, int& exit_code);
void add_sim_command(CLI::App& app, int& exit_code);
void add_connections_command(CLI::App& app, int& exit_code);
void add_secrets_command(CLI::App& app, int& exit_code);
void add_users_command(CLI::App& app, int& exit_code);
void add_tokens_command(CLI::App& app, int& exit_code);
void add_audit_command(CLI::App& app, int& exit_code);
void add_pii_command(CLI::App& app, int& exit_code);

}  // namespace flowpilot::cli
