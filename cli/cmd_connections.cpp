// `flowpilot connections add|update|list|test|remove|types`: the stored, encrypted connections
// (docs/connections.md), on the same data directory and store as `flowpilot serve`.
#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/json_print.h"
#include "cli/master_keys.h"
#include "cli/terminal_input.h"
#include "engine/connections/connections.h"
#include "engine/store/sqlite_store.h"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>

namespace flowpilot::cli {
namespace {

namespace json = boost::json;

struct ConnectionsArgs {
  DataDirFlags data;
  std::string name;
  std::string type;
  std::vector<std::string> fields;         // key=value
  std::vector<std::string> secret_fields;  // key=value, or key alone to read the value
  std::vector<std::string> clear;          // update: fields to unset
  std::string rate_limit;                  // PER_SECOND[:BURST]
  bool json_output = false;
};

// What a command works on: the server's store and, when needed, its master keys.
struct Opened {
  ServeConfig config;
  std::optional<engine::LoadedKeys> keys;
  std::unique_ptr<engine::Store> store;
  std::unique_ptr<engine::ConnectionService> service;
};

Opened open(const ConnectionsArgs& args, bool need_keys, bool create_keys) {
  Opened o;
  o.config = load_data_dir_config(args.data);
  if (need_keys) {
    o.keys = load_keys(o.config, create_keys);
    if (!o.keys) {
      throw UsageError("no master key: set FLOWPILOT_MASTER_KEY, --master-key-file, or create " +
                       (std::filesystem::path(o.config.data_dir) / "master.key").string() +
                       " by adding a connection first");
    }
    if (o.keys->created) {
      std::cerr << "created master key file " << o.keys->file.string()
                << " (mode 0600); back it up: without it stored connections cannot be read\n";
    }
  }
  o.store = open_config_store(o.config);
  o.service = std::make_unique<engine::ConnectionService>(
      *o.store, o.keys ? o.keys->keyring : engine::Keyring());
  return o;
}

// Reads one secret without echoing it on a terminal, or one line from piped input.
std::string read_secret(const std::string& field) {
  auto value = read_hidden_line("value for " + field + " (not shown): ");
  if (!value) {
    throw UsageError("no value for secret field `" + field + "` on standard input (one line each, "
                     "in the order of the --secret-field options)");
  }
  return *value;
}

void parse_assignments(const std::vector<std::string>& items, bool secret,
                       std::map<std::string, std::optional<std::string>>& out) {
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      if (!secret) throw UsageError("--field `" + item + "`: expected key=value");
      out[item] = read_secret(item);
      continue;
    }
    if (eq == 0) throw UsageError("--field: a field name is missing before `=`");
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
}

std::optional<engine::RateLimit> parse_rate(const std::string& text) {
  if (text.empty()) return std::nullopt;
  const auto colon = text.find(':');
  auto number = [&](std::string_view part) {
    double v = 0;
    const auto r = std::from_chars(part.data(), part.data() + part.size(), v);
    if (r.ec != std::errc() || r.ptr != part.data() + part.size()) {
      throw UsageError("--rate-limit `" + text + "`: expected PER_SECOND[:BURST], e.g. 5:10");
    }
    return v;
  };
  engine::RateLimit limit;
  const std::string_view all(text);
  limit.per_second = number(all.substr(0, colon));
  limit.burst = colon == std::string::npos ? std::max(1.0, limit.per_second)
                                           : number(all.substr(colon + 1));
  return limit;
}

engine::ConnectionInput input_of(const ConnectionsArgs& args) {
  engine::ConnectionInput in;
  in.name = args.name;
  in.type = args.type;
  parse_assignments(args.fields, false, in.fields);
  parse_assignments(args.secret_fields, true, in.fields);
  for (const auto& f : args.clear) in.fields[f] = std::nullopt;
  in.rate_limit = parse_rate(args.rate_limit);
  return in;
}

// Problems one per line with their paths, as the API reports them.
[[noreturn]] void rethrow_for_user(const engine::ConnectionError& e) {
  if (e.problems().empty()) throw UsageError(e.what());
  std::string message = "connection not saved:";
  for (const auto& p : e.problems()) message += "\n  " + p.path + ": " + p.message;
  throw UsageError(message);
}

std::string format_number(double v) {
  return v == static_cast<double>(static_cast<long long>(v)) ? std::to_string(static_cast<long long>(v))
                                                              : fmt::format("{}", v);
}

void print_summary(const engine::ConnectionSummary& s, std::string_view verb) {
  std::cout << "connection " << s.name << " (" << s.type << ") " << verb << "; secret fields set: ";
  if (s.secret_fields_set.empty()) std::cout << "none";
  for (std::size_t i = 0; i < s.secret_fields_set.size(); ++i) {
    std::cout << (i == 0 ? "" : ", ") << s.secret_fields_set[i];
  }
  std::cout << "; encrypted with key " << s.key_id << "\n";
}

int add_or_update(const ConnectionsArgs& args, bool add) {
  auto input = input_of(args);
  Opened o = open(args, true, add);
  try {
    const auto summary = add ? o.service->add(input) : o.service->update(input);
    print_summary(summary, add ? "added" : "updated");
  } catch (const engine::ConnectionError& e) {
    rethrow_for_user(e);
  }
  return kExitOk;
}

int list(const ConnectionsArgs& args) {
  Opened o = open(args, false, false);
  const auto all = o.service->list();
  if (args.json_output) {
    json::array out;
    for (const auto& s : all) out.push_back(engine::to_json(s));
    std::cout << pretty_json(json::object{{"connections", std::move(out)}}) << "\n";
    return kExitOk;
  }
  if (all.empty()) {
    std::cout << "no stored connections\n";
    return kExitOk;
  }
  std::cout << fmt::format("{:<24} {:<11} {:<14} {:<40} {}\n", "NAME", "TYPE", "RATE/S:BURST",
                           "FIELDS", "SECRETS SET");
  for (const auto& s : all) {
    std::string fields;
    for (const auto& [key, value] : s.config) {
      fields += (fields.empty() ? "" : " ") + std::string(key) + "=" +
                (value.is_string() ? std::string(value.as_string()) : json::serialize(value));
    }
    std::string secrets;
    for (const auto& f : s.secret_fields_set) secrets += (secrets.empty() ? "" : ",") + f;
    const std::string rate =
        s.rate_limit.per_second == 0
            ? "unlimited"
            : format_number(s.rate_limit.per_second) + ":" + format_number(s.rate_limit.burst);
    std::cout << fmt::format("{:<24} {:<11} {:<14} {:<40} {}\n", s.name, s.type, rate,
                             fields.empty() ? "-" : fields, secrets.empty() ? "-" : secrets);
  }
  return kExitOk;
}

// FLOWPILOT_HTTP_ALLOW_NETWORKS, as the server reads it (a loopback token endpoint in tests).
std::vector<std::string> allowed_networks() {
  std::vector<std::string> out;
  const char* env = std::getenv("FLOWPILOT_HTTP_ALLOW_NETWORKS");
  std::string_view rest(env == nullptr ? "" : env);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    if (const auto part = rest.substr(0, comma); !part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

int test(const ConnectionsArgs& args) {
  Opened o = open(args, true, false);
  engine::HttpClientOptions http_options;
  try {
    http_options.allowed_networks = allowed_networks();
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("FLOWPILOT_HTTP_ALLOW_NETWORKS: ") + e.what());
  }
  std::unique_ptr<engine::HttpClient> http;
  try {
    http = std::make_unique<engine::HttpClient>(http_options);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("FLOWPILOT_HTTP_ALLOW_NETWORKS: ") + e.what());
  }
  engine::ConnectionTestReport report;
  try {
    report = o.service->test(args.name, http.get());
  } catch (const engine::ConnectionError& e) {
    throw UsageError(e.what());
  }
  for (const auto& check : report.checks) std::cout << "ok: " << check << "\n";
  if (!report.ok) {
    std::cout << "FAILED: " << report.error << "\n";
    return kExitFailed;
  }
  std::cout << "connection " << args.name << " passed\n";
  return kExitOk;
}

int remove(const ConnectionsArgs& args) {
  Opened o = open(args, false, false);
  if (!o.service->remove(args.name)) throw UsageError("connection `" + args.name + "` does not exist");
  std::cout << "connection " << args.name << " removed\n";
  return kExitOk;
}

int types(const ConnectionsArgs& args) {
  if (args.json_output) {
    std::cout << pretty_json(json::object{{"types", engine::connection_types_json()}}) << "\n";
    return kExitOk;
  }
  for (const auto& t : engine::connection_types()) {
    std::cout << t.name << ": " << t.description << "\n";
    for (const auto& f : t.fields) {
      std::cout << "  " << fmt::format("{:<18}", f.name) << (f.required ? "required" : "optional")
                << (f.secret ? ", secret" : "");
      if (!f.default_value.empty()) std::cout << ", default " << f.default_value;
      std::cout << "\n";
    }
  }
  return kExitOk;
}

void add_field_options(CLI::App* cmd, ConnectionsArgs& args) {
  cmd->add_option("--field", args.fields, "A field as key=value (repeatable)");
  cmd->add_option("--secret-field", args.secret_fields,
                  "A secret field: key (the value is read from standard input, or prompted for "
                  "without echo) or key=value (lands in shell history)");
  cmd->add_option("--rate-limit", args.rate_limit,
                  "Calls per second and burst for every workflow using the connection, e.g. 5:10; "
                  "0 for unlimited (default: the type's)");
}

}  // namespace

void add_connections_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "connections", "Stored connections: credentials encrypted with the master key");
  cmd->require_subcommand(1);
  auto args = std::make_shared<ConnectionsArgs>();

  auto* add = cmd->add_subcommand("add", "Add a connection");
  add->add_option("name", args->name, "Connection name, as steps name it in `connection:`")
      ->required();
  add->add_option("--type", args->type, "meta_ads, google_ads, hubspot, ga4, slack or http")
      ->required();
  add_field_options(add, *args);
  add_data_dir_flags(*add, args->data);
  add->callback([args, &exit_code] { exit_code = add_or_update(*args, true); });

  auto* update = cmd->add_subcommand("update", "Change fields of a connection; others are kept");
  update->add_option("name", args->name, "Connection name")->required();
  add_field_options(update, *args);
  update->add_option("--clear", args->clear, "A field to unset (repeatable)");
  add_data_dir_flags(*update, args->data);
  update->callback([args, &exit_code] { exit_code = add_or_update(*args, false); });

  auto* ls = cmd->add_subcommand("list", "List connections (never their secret values)");
  ls->add_flag("--json", args->json_output, "Print JSON");
  add_data_dir_flags(*ls, args->data);
  ls->callback([args, &exit_code] { exit_code = list(*args); });

  auto* t = cmd->add_subcommand(
      "test", "Decrypt and validate a connection; refresh an OAuth2 token where there is one");
  t->add_option("name", args->name, "Connection name")->required();
  add_data_dir_flags(*t, args->data);
  t->callback([args, &exit_code] { exit_code = test(*args); });

  auto* rm = cmd->add_subcommand("remove", "Remove a connection");
  rm->add_option("name", args->name, "Connection name")->required();
  add_data_dir_flags(*rm, args->data);
  rm->callback([args, &exit_code] { exit_code = remove(*args); });

  auto* ty = cmd->add_subcommand("types", "The connection types and their fields");
  ty->add_flag("--json", args->json_output, "Print JSON");
  ty->callback([args, &exit_code] { exit_code = types(*args); });
}

}  // namespace flowpilot::cli
