// `flowpilot users add|list|disable|enable|reset-password`: the people who sign in (docs/access.md),
// on the same data directory and store as `flowpilot serve`.
#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/json_print.h"
#include "cli/master_keys.h"
#include "cli/terminal_input.h"
#include "engine/access/audit.h"
#include "engine/access/users.h"
#include "engine/store/sqlite_store.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>

namespace flowpilot::cli {
namespace {

namespace json = boost::json;

struct UsersArgs {
  DataDirFlags data;
  std::string email;
  std::string name;
  std::string role = "viewer";
  bool password_stdin = false;
  bool json_output = false;
};

struct Opened {
  std::unique_ptr<engine::Store> store;
  std::unique_ptr<engine::UserService> users;
};

Opened open(const UsersArgs& args) {
  Opened o;
  o.store = open_data_dir_store(args.data);
  o.users = std::make_unique<engine::UserService>(*o.store);
  return o;
}

// Every change made here is in the audit log, by the person at the terminal.
void audit(engine::Store& store, std::string action, const engine::UserSummary& user,
           json::object details = {}) {
  engine::AuditEntry entry;
  engine::set_cli_actor(entry);
  entry.action = std::move(action);
  entry.target = user.id;
  details["email"] = user.email;
  entry.details = std::move(details);
  engine::AuditLog(store).record_now(std::move(entry));
}

std::string read_password() {
  auto value = read_hidden_line("password (not shown): ");
  if (!value) throw UsageError("--password-stdin: no password on standard input");
  return *value;
}

json::object to_json(const engine::UserSummary& u) {
  return {{"id", u.id},           {"email", u.email},           {"name", u.name},
          {"role", u.role},       {"disabled", u.disabled},     {"created_at", u.created_at},
          {"updated_at", u.updated_at}};
}

// Runs `body`, turning the service's refusals into usage errors (exit 2) with its message.
void print_generated(const std::optional<std::string>& password) {
  if (!password) return;
  std::cout << "password: " << *password << "\n"
            << "(shown once: it is stored only as a hash)\n";
}

int add(const UsersArgs& args) {
  return usage_errors_from<engine::AccessError>([&] {
    Opened o = open(args);
    engine::NewUser input{args.email, args.name, args.role, std::nullopt};
    if (args.password_stdin) input.password = read_password();
    const auto created = o.users->add(input);
    audit(*o.store, "user.create", created.user, {{"role", created.user.role}});
    std::cout << "user " << created.user.email << " added (" << created.user.role << ")\n";
    print_generated(created.generated_password);
    return kExitOk;
  });
}

int list(const UsersArgs& args) {
  return usage_errors_from<engine::AccessError>([&] {
    Opened o = open(args);
    const auto all = o.users->list();
    if (args.json_output) {
      json::array out;
      for (const auto& u : all) out.push_back(to_json(u));
      std::cout << pretty_json(json::object{{"users", std::move(out)}}) << "\n";
      return kExitOk;
    }
    if (all.empty()) {
      std::cout << "no users\n";
      return kExitOk;
    }
    std::cout << fmt::format("{:<36} {:<9} {:<9} {}\n", "EMAIL", "ROLE", "STATE", "NAME");
    for (const auto& u : all) {
      std::cout << fmt::format("{:<36} {:<9} {:<9} {}\n", u.email, u.role,
                               u.disabled ? "disabled" : "active", u.name.empty() ? "-" : u.name);
    }
    return kExitOk;
  });
}

int set_disabled(const UsersArgs& args, bool disabled) {
  return usage_errors_from<engine::AccessError>([&] {
    Opened o = open(args);
    const auto u = o.users->set_disabled(args.email, disabled);
    audit(*o.store, "user.update", u, {{"disabled", disabled}});
    std::cout << "user " << u.email << (disabled ? " disabled\n" : " enabled\n");
    return kExitOk;
  });
}

int reset_password(const UsersArgs& args) {
  return usage_errors_from<engine::AccessError>([&] {
    Opened o = open(args);
    std::optional<std::string> password;
    if (args.password_stdin) password = read_password();
    const auto generated = o.users->reset_password(args.email, password);
    if (auto user = o.users->get(args.email)) {
      audit(*o.store, "user.reset_password", *user, {{"generated", generated.has_value()}});
    }
    std::cout << "password of " << engine::normalize_email(args.email) << " changed\n";
    print_generated(generated);
    return kExitOk;
  });
}

}  // namespace

void add_users_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("users", "The people who sign in: add, list, disable, enable, "
                                          "reset-password");
  cmd->require_subcommand(1);
  auto args = std::make_shared<UsersArgs>();
  const std::string stdin_help =
      "Read the password from standard input (not echoed on a terminal); without it one is "
      "generated and shown once";

  auto* add_cmd = cmd->add_subcommand("add", "Add a user");
  add_cmd->add_option("email", args->email, "Email address, the user's login")->required();
  add_cmd->add_option("--name", args->name, "Display name");
  add_cmd->add_option("--role", args->role, "admin, editor, approver or viewer (default viewer)");
  add_cmd->add_flag("--password-stdin", args->password_stdin, stdin_help);
  add_data_dir_flags(*add_cmd, args->data);
  add_cmd->callback([args, &exit_code] { exit_code = add(*args); });

  auto* ls = cmd->add_subcommand("list", "List users (never their password hashes)");
  ls->add_flag("--json", args->json_output, "Print JSON");
  add_data_dir_flags(*ls, args->data);
  ls->callback([args, &exit_code] { exit_code = list(*args); });

  auto* disable = cmd->add_subcommand("disable", "Stop a user from signing in");
  disable->add_option("email", args->email, "Email address")->required();
  add_data_dir_flags(*disable, args->data);
  disable->callback([args, &exit_code] { exit_code = set_disabled(*args, true); });

  auto* enable = cmd->add_subcommand("enable", "Let a disabled user sign in again");
  enable->add_option("email", args->email, "Email address")->required();
  add_data_dir_flags(*enable, args->data);
  enable->callback([args, &exit_code] { exit_code = set_disabled(*args, false); });

  auto* reset = cmd->add_subcommand("reset-password", "Set a new password for a user");
  reset->add_option("email", args->email, "Email address")->required();
  reset->add_flag("--password-stdin", args->password_stdin, stdin_help);
  add_data_dir_flags(*reset, args->data);
  reset->callback([args, &exit_code] { exit_code = reset_password(*args); });
}

}  // namespace flowpilot::cli
