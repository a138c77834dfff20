// `flowpilot tokens create|list|revoke`: API tokens (docs/access.md), on the same data directory
// and store as `flowpilot serve`. The secret is printed once, by `create`.
#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/json_print.h"
#include "cli/master_keys.h"
#include "engine/access/audit.h"
#include "engine/access/tokens.h"
#include "engine/schedule/cron.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <iostream>
#include <memory>

namespace flowpilot::cli {
namespace {

namespace json = boost::json;

struct TokensArgs {
  DataDirFlags data;
  std::string user;
  std::string name;
  std::vector<std::string> scopes;
  std::vector<std::string> workflows;
  std::string expires;
  std::string id;
  bool json_output = false;
};


std::string when(engine::EpochMillis at, std::string_view none) {
  if (at == 0) return std::string(none);
  return engine::format_iso8601(std::chrono::sys_seconds(std::chrono::seconds(at / 1000)), "UTC")
      .substr(0, 16);
}

void audit(engine::Store& store, std::string action, const engine::TokenSummary& t) {
  engine::AuditEntry entry;
  engine::set_cli_actor(entry);
  entry.action = std::move(action);
  entry.target = t.id;
  json::array scopes;
  for (const auto& s : t.scopes) scopes.push_back(json::value(s));
  entry.details = json::object{{"user", t.user_email}, {"name", t.name}, {"scopes", std::move(scopes)}};
  if (!t.workflows.empty()) {
    entry.details["workflows"] = json::array(t.workflows.begin(), t.workflows.end());
  }
  engine::AuditLog(store).record_now(std::move(entry));
}

std::string comma_joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::vector<std::string> comma_separated(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    std::string_view rest = item;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      if (comma != 0) out.emplace_back(rest.substr(0, comma));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

int create(const TokensArgs& args) {
  return usage_errors_from<engine::AccessError>([&] {
    auto store = open_data_dir_store(args.data);
    engine::TokenService tokens(*store);
    engine::NewToken input{args.user, args.name, {}, std::nullopt};
    // "--scopes runs:read,runs:write" and repeated --scopes both work; --workflow likewise.
    input.scopes = comma_separated(args.scopes);
    input.workflows = comma_separated(args.workflows);
    if (!args.expires.empty()) input.lifetime = engine::parse_token_lifetime(args.expires, "--expires");
    const auto created = tokens.create(input);
    audit(*store, "token.create", created.token);
    if (args.json_output) {
      json::object out = engine::token_json(created.token);
      out["secret"] = created.secret;
      std::cout << pretty_json(out) << "\n";
      return kExitOk;
    }
    std::cout << "token " << created.token.id << " for " << created.token.user_email
              << " (expires " << when(created.token.expires_at, "never") << ")"
              << (created.token.workflows.empty() ? "" : ", limited to workflows " +
                                                             comma_joined(created.token.workflows))
              << "\n"
              << created.secret << "\n"
              << "(shown once: it is stored only as a hash; send it as `Authorization: Bearer "
                 "<token>`)\n";
    return kExitOk;
  });
}

int list(const TokensArgs& args) {
  return usage_errors_from<engine::AccessError>([&] {
    auto store = open_data_dir_store(args.data);
    engine::TokenService tokens(*store);
    const auto all = tokens.list(args.user);
    if (args.json_output) {
      json::array out;
      for (const auto& t : all) out.push_back(engine::token_json(t));
      std::cout << pretty_json(json::object{{"tokens", std::move(out)}}) << "\n";
      return kExitOk;
    }
    if (all.empty()) {
      std::cout << "no tokens\n";
      return kExitOk;
    }
    std::cout << fmt::format("{:<27} {:<16} {:<13} {:<28} {:<17} {:<17} {}\n", "ID", "NAME",
                             "PREFIX", "USER", "EXPIRES", "REVOKED", "SCOPES");
    for (const auto& t : all) {
      std::string scopes;
      for (const auto& s : t.scopes) scopes += (scopes.empty() ? "" : ",") + s;
      std::cout << fmt::format("{:<27} {:<16} {:<13} {:<28} {:<17} {:<17} {}\n", t.id, t.name,
                               t.prefix, t.user_email, when(t.expires_at, "never"),
                               when(t.revoked_at, "-"), scopes);
    }
    return kExitOk;
  });
}

int revoke(const TokensArgs& args) {
  return usage_errors_from<engine::AccessError>([&] {
    auto store = open_data_dir_store(args.data);
    engine::TokenService tokens(*store);
    const auto t = tokens.revoke(args.id);
    audit(*store, "token.revoke", t);
    std::cout << "token " << t.id << " of " << t.user_email << " revoked\n";
    return kExitOk;
  });
}

}  // namespace

void add_tokens_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("tokens", "API tokens: create, list, revoke");
  cmd->require_subcommand(1);
  auto args = std::make_shared<TokensArgs>();

  auto* make = cmd->add_subcommand("create", "Create an API token; its secret is shown once");
  make->add_option("--user", args->user, "The owner's email")->required();
  make->add_option("--scopes", args->scopes,
                   "workflows:read, workflows:write, runs:read, runs:write, approvals, "
                   "connections:read, connections:write, pii:read, admin (comma-separated or "
                   "repeated); within what the owner's role grants")
      ->required();
  make->add_option("--workflow", args->workflows,
                   "Limit the token to these workflows (ids, comma-separated or repeated): it "
                   "reaches only them, their runs and approvals");
  make->add_option("--name", args->name, "A name to recognise it by");
  make->add_option("--expires", args->expires, "Lifetime: 30d, 12h, 90m or never (default 90d)");
  make->add_flag("--json", args->json_output, "Print JSON");
  add_data_dir_flags(*make, args->data);
  make->callback([args, &exit_code] { exit_code = create(*args); });

  auto* ls = cmd->add_subcommand("list", "List tokens (never their secrets)");
  ls->add_option("--user", args->user, "Only this user's");
  ls->add_flag("--json", args->json_output, "Print JSON");
  add_data_dir_flags(*ls, args->data);
  ls->callback([args, &exit_code] { exit_code = list(*args); });

  auto* rm = cmd->add_subcommand("revoke", "Revoke a token (the server notices within 5 seconds)");
  rm->add_option("id", args->id, "The token's id (t_...)")->required();
  add_data_dir_flags(*rm, args->data);
  rm->callback([args, &exit_code] { exit_code = revoke(*args); });
}

}  // namespace flowpilot::cli
