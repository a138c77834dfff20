#include "cli/serve_config.h"

#include "engine/model/suggest.h"
#include "engine/schedule/duration.h"
#include "engine/store/store_url.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

namespace flowpilot::cli {
namespace {

using Values = std::vector<std::string>;
// Each parser returns a sentence saying what is wrong, or "" after storing the value in `out`;
// `out` is untouched on failure so that a bad value never half-applies.
using Apply = std::string (*)(const Values& values, ServeConfig& config);
using Show = Values (*)(const ServeConfig& config);
using Mask = std::string (*)(std::string_view value);

std::string backquoted(std::string_view text) { return "`" + std::string(text) + "`"; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string parse_text(std::string_view text, std::string& out) {
  out = std::string(text);
  return {};
}

std::string parse_required_text(std::string_view text, std::string& out) {
  if (text.empty()) return "must not be empty";
  out = std::string(text);
  return {};
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The same shapes `serve` accepts when it binds: HOST:PORT, with IPv6 hosts in brackets.
// "HOST:PORT" or "[IPv6]:PORT" -> host (brackets removed) and port text; nullopt when there is
// no colon with text on both sides.
std::optional<std::pair<std::string_view, std::string_view>> split_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  return std::pair{text.substr(0, colon), text.substr(colon + 1)};
}

std::string parse_address(std::string_view text, std::string& out) {
  const std::string bad =
      backquoted(text) + " is not HOST:PORT (e.g. 127.0.0.1:8080, 0.0.0.0:80, [::1]:8080)";
  const auto parts = split_address(text);
  if (!parts) return bad;
  const auto [host, port] = *parts;
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (!bracketed && (host.find_first_of("[]: \t") != std::string_view::npos)) return bad;
  if (!all_digits(port) || port.size() > 5) return bad;
  if (std::stoul(std::string(port)) > 65535) {
    return backquoted(text) + ": the port must be a number from 0 to 65535";
  }
  out = std::string(text);
  return {};
}

bool starts_with_icase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && lower(text.substr(0, prefix.size())) == prefix;
}

std::string parse_store(std::string_view text, std::string& out) {
  if (!text.empty()) {
    bool ok = false;
    for (std::string_view scheme : {"sqlite://", "postgres://", "postgresql://"}) {
      if (starts_with_icase(text, scheme) && text.size() > scheme.size()) ok = true;
    }
    if (!ok) {
      return backquoted(engine::mask_store_url(text)) +
             " is not a store URL; use sqlite:///abs/path, sqlite://relative/path or "
             "postgres://user:password@host/db";
    }
  }
  out = std::string(text);
  return {};
}

// "worker, api" -> "api,worker": the roles in one order, each once.
std::string parse_roles(std::string_view text, std::string& out) {
  static constexpr std::string_view kRoles[] = {"api", "scheduler", "worker"};
  bool wanted[3] = {false, false, false};
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    const auto* it = std::find(std::begin(kRoles), std::end(kRoles), part);
    if (it == std::end(kRoles)) {
      return backquoted(part) + " is not a role; use api, scheduler and worker, comma-separated";
    }
    wanted[it - std::begin(kRoles)] = true;
    start = end + 1;
  }
  out.clear();
  for (std::size_t i = 0; i < 3; ++i) {
    if (!wanted[i]) continue;
    if (!out.empty()) out += ',';
    out += kRoles[i];
  }
  return {};
}

std::string parse_positive_duration(std::string_view text, std::chrono::milliseconds& out) {
  std::string error;
  const auto d = engine::parse_duration(text, &error);
  if (!d) return error;
  out = *d;
  return {};
}

// "0", "0s", "0ms", "0.0h": the engine's parser refuses zero, but here zero means "off".
bool is_zero_duration(std::string_view text) {
  text = trim(text);
  std::size_t i = 0;
  bool digit = false;
  while (i < text.size() && (text[i] == '0' || text[i] == '.')) {
    digit = digit || text[i] == '0';
    ++i;
  }
  if (!digit || std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(i), '.') > 1) {
    return false;
  }
  const std::string_view unit = text.substr(i);
  return unit.empty() || unit == "ms" || unit == "s" || unit == "m" || unit == "h" || unit == "d";
}

std::string parse_duration_or_zero(std::string_view text, std::chrono::milliseconds& out) {
  if (is_zero_duration(text)) {
    out = std::chrono::milliseconds(0);
    return {};
  }
  return parse_positive_duration(text, out);
}

struct SizeUnit {
  std::string_view name;  // lower case
  std::uint64_t bytes;
};
// Binary units first: format_size prefers them, and they are what limits are usually written in.
constexpr std::array<SizeUnit, 7> kSizeUnits{{{"gib", 1ULL << 30},
                                              {"mib", 1ULL << 20},
                                              {"kib", 1ULL << 10},
                                              {"gb", 1'000'000'000},
                                              {"mb", 1'000'000},
                                              {"kb", 1'000},
                                              {"b", 1}}};
constexpr std::string_view kSizeUnitNames[] = {"GiB", "MiB", "KiB", "GB", "MB", "kB", "B"};

std::string parse_size(std::string_view text, std::size_t& out) {
  const std::string bad = backquoted(text) + " is not a size (e.g. 1MiB, 65536)";
  const std::string_view t = trim(text);
  std::size_t digits = 0;
  while (digits < t.size() && t[digits] >= '0' && t[digits] <= '9') ++digits;
  if (digits == 0) return bad;
  std::uint64_t number = 0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + digits, number);
  const std::string unit = lower(trim(t.substr(digits)));
  std::uint64_t multiplier = unit.empty() ? 1 : 0;
  for (const auto& u : kSizeUnits) {
    if (u.name == unit) multiplier = u.bytes;
  }
  if (multiplier == 0) return bad;
  const std::uint64_t max = std::numeric_limits<std::size_t>::max();
  if (ec == std::errc::result_out_of_range || number > max / multiplier) {
    return backquoted(text) + " is too large";
  }
  if (ec != std::errc() || ptr != t.data() + digits) return bad;
  if (number == 0) return "must be at least 1 byte, not " + backquoted(text);
  out = static_cast<std::size_t>(number * multiplier);
  return {};
}

std::string format_size(std::size_t bytes) {
  for (std::size_t i = 0; i + 1 < kSizeUnits.size(); ++i) {
    if (bytes != 0 && bytes % kSizeUnits[i].bytes == 0) {
      return std::to_string(bytes / kSizeUnits[i].bytes) + std::string(kSizeUnitNames[i]);
    }
  }
  return std::to_string(bytes);
}

template <int Min>
std::string parse_int(std::string_view text, int& out) {
  const std::string_view t = trim(text);
  int value = 0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec == std::errc::result_out_of_range) return backquoted(text) + " is too large";
  if (ec != std::errc() || ptr != t.data() + t.size())
    return backquoted(text) + " is not a whole number";
  if (value < Min) return "must be at least " + std::to_string(Min) + ", not " + backquoted(text);
  out = value;
  return {};
}

std::string parse_rate(std::string_view text, double& out) {
  const std::string_view t = trim(text);
  double value = 0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || ptr != t.data() + t.size() || !std::isfinite(value)) {
    return backquoted(text) + " is not a number (e.g. 100, 0.5)";
  }
  if (value < 0) return "must be 0 or more, not " + backquoted(text);
  out = value;
  return {};
}

std::string format_number(double value) {
  std::array<char, 64> buf{};
  const auto [ptr, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  return ec == std::errc() ? std::string(buf.data(), ptr) : std::to_string(value);
}

// Names in the order of the enumerators: a value's name is names[value].
template <typename E>
struct EnumNames;
template <>
struct EnumNames<engine::Durability> {
  static constexpr std::array<std::string_view, 2> names{"full", "relaxed"};
};
template <>
struct EnumNames<LogFormat> {
  static constexpr std::array<std::string_view, 2> names{"json", "text"};
};
template <>
struct EnumNames<LogLevel> {
  static constexpr std::array<std::string_view, 5> names{"trace", "debug", "info", "warn", "error"};
};

// Case-insensitive because FLOWPILOT_LOG_LEVEL=INFO is what people write in environments.
template <typename E>
std::string parse_enum(std::string_view text, E& out) {
  const auto& names = EnumNames<E>::names;
  const std::string given = lower(trim(text));
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == given) {
      out = static_cast<E>(i);
      return {};
    }
  }
  std::string list;
  for (const auto name : names) list += (list.empty() ? "" : ", ") + std::string(name);
  return backquoted(text) + " is not one of " + list;
}

static_assert(static_cast<std::size_t>(engine::Durability::relaxed) == 1);
static_assert(static_cast<std::size_t>(LogFormat::kText) == 1);
static_assert(static_cast<std::size_t>(LogLevel::kError) == 4);

template <typename E>
std::string format_enum(E value) {
  return std::string(EnumNames<E>::names[static_cast<std::size_t>(value)]);
}

std::string parse_bool(std::string_view text, bool& out) {
  const std::string given = lower(trim(text));
  if (given == "true" || given == "yes" || given == "1" || given == "on") {
    out = true;
  } else if (given == "false" || given == "no" || given == "0" || given == "off") {
    out = false;
  } else {
    return backquoted(text) + " is not true or false";
  }
  return {};
}

std::string format_bool(bool value) { return value ? "true" : "false"; }
std::string format_text(const std::string& value) { return value; }
std::string format_int(int value) { return std::to_string(value); }
std::string format_ms(std::chrono::milliseconds value) { return engine::format_duration(value); }

std::string mask_all(std::string_view value) { return value.empty() ? std::string() : "***"; }
std::string mask_url(std::string_view value) { return engine::mask_store_url(value); }

// A key of the table together with how it is stored and shown.
struct KeyDef {
  ConfigKey key;
  std::string_view value_name;  // for --help: DURATION, SIZE, ...
  Apply apply;
  Show show;
  Mask mask = nullptr;  // null: shown as it is
};

template <auto Member, auto Parse>
std::string apply_scalar(const Values& values, ServeConfig& config) {
  return Parse(values.empty() ? std::string_view() : std::string_view(values.back()),
               config.*Member);
}

template <auto Member, auto Format>
Values show_scalar(const ServeConfig& config) {
  return {Format(config.*Member)};
}

template <auto Member>
std::string apply_list(const Values& values, ServeConfig& config) {
  Values items;
  for (const auto& v : values) {
    if (!v.empty()) items.push_back(v);
  }
  config.*Member = std::move(items);
  return {};
}

template <auto Member>
Values show_list(const ServeConfig& config) {
  return config.*Member;
}

template <auto Member, auto Parse, auto Format>
constexpr KeyDef scalar(std::string_view value_name, ConfigKey key, Mask mask = nullptr) {
  if (key.secret && mask == nullptr) mask = mask_all;
  return KeyDef{key, value_name, &apply_scalar<Member, Parse>, &show_scalar<Member, Format>, mask};
}

template <auto Member>
constexpr KeyDef path_list(ConfigKey key) {
  key.list = true;
  return KeyDef{key, "PATH", &apply_list<Member>, &show_list<Member>, nullptr};
}

using S = ServeConfig;
using std::chrono::milliseconds;

// The one list of keys. Sections (log., limits., ...) must be contiguous: --print-config nests
// them.
const KeyDef kKeys[] = {
    scalar<&S::listen, parse_address, format_text>(
        "HOST:PORT",
        {.path = "listen",
         .type = "HOST:PORT",
         .default_value = "127.0.0.1:8080",
         .doc = "Address and port to listen on; `[::1]:8080` for IPv6, port 0 picks a free port "
                "(printed on start)"}),
    scalar<&S::data_dir, parse_required_text, format_text>(
        "DIR", {.path = "data_dir",
                .type = "path",
                .default_value = "flowpilot-data",
                .doc = "Directory of the server's data, created if missing; holds the default "
                       "SQLite database"}),
    scalar<&S::store, parse_store, format_text>(
        "URL",
        {.path = "store",
         .type = "URL",
         .default_value = "",
         .doc =
             "Where runs are stored: `sqlite:///abs/path`, `sqlite://relative/path` or "
             "`postgres://user:password@host/db`; empty means `sqlite://<data_dir>/flowpilot.db`. "
             "The password is masked when printed"},
        mask_url),
    scalar<&S::roles, parse_roles, format_text>(
        "ROLES",
        {.path = "role",
         .type = "api, scheduler, worker (comma-separated)",
         .default_value = "api,scheduler,worker",
         .doc = "What this process does: `api` serves the REST API, webhooks and the UI, "
                "`scheduler` fires cron schedules (one process leads at a time), `worker` "
                "executes runs. Anything but all three needs a PostgreSQL store, which every "
                "process shares (docs/deploy.md)"}),
    scalar<&S::lease_ttl, parse_positive_duration, format_ms>(
        "DURATION",
        {.path = "lease_ttl",
         .type = "duration",
         .default_value = "30s",
         .doc = "With a PostgreSQL store: how long a worker's claim on a run lasts unless renewed "
                "(every third of it); a worker that dies gives its runs up after this long"}),
    scalar<&S::durability, parse_enum<engine::Durability>, format_enum<engine::Durability>>(
        "full|relaxed",
        {.path = "durability",
         .type = "full | relaxed",
         .default_value = "full",
         .doc = "SQLite commits: `full` waits for the disk, so a finished step survives a power "
                "loss; `relaxed` is faster and may lose the last commits on a power loss (never "
                "corrupts)"}),
    path_list<&S::plugin_paths>({.path = "plugin_paths",
                                 .type = "list of paths",
                                 .default_value = "",
                                 .doc = "Directories searched for plugins after the built-in one"}),
    path_list<&S::workflow_dirs>(
        {.path = "workflow_dirs",
         .type = "list of paths",
         .default_value = "",
         .doc = "Directories of workflow files (*.yaml, *.yml, *.lua) to load; a bad file is "
                "reported and skipped",
         .flag_alias = "workflows"}),
    scalar<&S::watch_interval, parse_duration_or_zero, format_ms>(
        "DURATION", {.path = "watch_interval",
                     .type = "duration",
                     .default_value = "2s",
                     .doc = "How often workflow_dirs are checked for changed files; 0s disables "
                            "watching"}),
    scalar<&S::secrets_file, parse_text, format_text>(
        "FILE", {.path = "secrets_file",
                 .type = "path",
                 .default_value = "",
                 .doc = "YAML or JSON mapping `NAME: value` of secrets; empty for none"}),
    scalar<&S::connections_file, parse_text, format_text>(
        "FILE", {.path = "connections_file",
                 .type = "path",
                 .default_value = "",
                 .doc = "YAML mapping of connections (credentials steps name in `connection:`); "
                        "empty for none"}),
    scalar<&S::master_key_file, parse_text, format_text>(
        "FILE", {.path = "master_key_file",
                 .type = "path",
                 .default_value = "",
                 .doc = "File of master keys that encrypt stored connections (docs/connections.md); "
                        "empty: FLOWPILOT_MASTER_KEY, else `<data_dir>/master.key`, created on "
                        "first start"}),
    scalar<&S::log_format, parse_enum<LogFormat>, format_enum<LogFormat>>(
        "json|text", {.path = "log.format",
                      .type = "json | text",
                      .default_value = "text",
                      .doc = "Log lines as JSON objects (for collectors) or as text"}),
    scalar<&S::log_level, parse_enum<LogLevel>, format_enum<LogLevel>>(
        "LEVEL", {.path = "log.level",
                  .type = "trace | debug | info | warn | error",
                  .default_value = "info",
                  .doc = "The least severe level logged"}),
    scalar<&S::retention_runs, parse_duration_or_zero, format_ms>(
        "DURATION", {.path = "retention.runs",
                     .type = "duration",
                     .default_value = "30d",
                     .doc = "How long finished runs are kept; 0s keeps them forever"}),
    scalar<&S::max_body_bytes, parse_size, format_size>(
        "SIZE", {.path = "limits.max_body_bytes",
                 .type = "size",
                 .default_value = "1MiB",
                 .doc = "Largest request body accepted; a larger one is answered 413"}),
    scalar<&S::max_upload_bytes, parse_size, format_size>(
        "SIZE", {.path = "limits.max_upload_bytes",
                 .type = "size",
                 .default_value = "64MiB",
                 .doc = "Largest file accepted by PUT /api/v1/files/{path} (uploads for the csv "
                        "steps); a larger one is answered 413"}),
    scalar<&S::max_header_bytes, parse_size, format_size>(
        "SIZE",
        {.path = "limits.max_header_bytes",
         .type = "size",
         .default_value = "16KiB",
         .doc = "Largest request line and headers accepted, together; more is answered 431"}),
    scalar<&S::read_timeout, parse_positive_duration, format_ms>(
        "DURATION",
        {.path = "limits.read_timeout",
         .type = "duration",
         .default_value = "10s",
         .doc = "Time a client has to send a whole request, and how long an idle keep-alive "
                "connection is kept"}),
    scalar<&S::max_connections, parse_int<1>, format_int>(
        "N", {.path = "limits.max_connections",
              .type = "integer >= 1",
              .default_value = "1024",
              .doc = "Open connections at most; a further one is answered 503 with Retry-After"}),
    scalar<&S::webhook_rate, parse_rate, format_number>(
        "N", {.path = "limits.webhook_rate",
              .type = "number >= 0",
              .default_value = "100",
              .doc = "Requests per second allowed on each webhook path, beyond which 429 is "
                     "answered; 0 means unlimited"}),
    scalar<&S::webhook_burst, parse_int<1>, format_int>(
        "N", {.path = "limits.webhook_burst",
              .type = "integer >= 1",
              .default_value = "200",
              .doc = "Requests a webhook path may receive in a burst above its rate (the "
                     "token bucket's size)"}),
    scalar<&S::result_timeout, parse_positive_duration, format_ms>(
        "DURATION", {.path = "limits.result_timeout",
                     .type = "duration",
                     .default_value = "30s",
                     .doc = "How long a `respond: result` webhook waits for its run before "
                            "answering 202 with the run's id"}),
    scalar<&S::shutdown_timeout, parse_positive_duration, format_ms>(
        "DURATION", {.path = "limits.shutdown_timeout",
                     .type = "duration",
                     .default_value = "10s",
                     .doc = "On SIGTERM, how long requests in progress may take to finish before "
                            "their connections are closed"}),
    scalar<&S::http_threads, parse_int<1>, format_int>("N", {.path = "threads.http",
                                                             .type = "integer >= 1",
                                                             .default_value = "2",
                                                             .doc = "Threads serving HTTP"}),
    scalar<&S::worker_threads, parse_int<0>, format_int>(
        "N", {.path = "threads.workers",
              .type = "integer >= 0",
              .default_value = "0",
              .doc = "Threads running steps; 0 means one per core"}),
    scalar<&S::metrics_token, parse_text, format_text>(
        "TOKEN", {.path = "metrics.token",
                  .type = "string",
                  .default_value = "",
                  .doc = "When set, /metrics requires `Authorization: Bearer <token>`; prefer the "
                         "environment or the file to the flag, which other users can see in `ps`",
                  .secret = true}),
    scalar<&S::session_idle_timeout, parse_positive_duration, format_ms>(
        "DURATION", {.path = "auth.session_idle_timeout",
                     .type = "duration",
                     .default_value = "8h",
                     .doc = "A UI session not used for this long ends; sign in again"}),
    scalar<&S::session_absolute_timeout, parse_positive_duration, format_ms>(
        "DURATION", {.path = "auth.session_absolute_timeout",
                     .type = "duration",
                     .default_value = "7d",
                     .doc = "A UI session ends this long after sign-in, however much it is used"}),
    scalar<&S::secure_cookies, parse_bool, format_bool>(
        "true|false", {.path = "auth.secure_cookies",
                       .type = "boolean",
                       .default_value = "false",
                       .doc = "Mark the session cookie Secure, so browsers send it over HTTPS "
                              "only; set it when a TLS proxy serves Flowpilot"}),
};

const KeyDef* find_key(std::string_view path) {
  for (const auto& def : kKeys) {
    if (def.key.path == path) return &def;
  }
  return nullptr;
}

std::string_view section_of(std::string_view path) {
  const auto dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : path.substr(0, dot);
}

bool is_section(std::string_view name) {
  return std::any_of(std::begin(kKeys), std::end(kKeys),
                     [&](const KeyDef& def) { return section_of(def.key.path) == name; });
}

std::string keys_of_section(std::string_view section) {
  std::string out;
  for (const auto& def : kKeys) {
    if (section_of(def.key.path) == section)
      out += (out.empty() ? "" : ", ") + std::string(def.key.path);
  }
  return out;
}

// "(did you mean `listen`?)" for a typo; for a key written outside its section
// (`max_body_bytes:` at the top), the key it belongs to.
std::string suggestion_for(std::string_view path) {
  std::vector<std::string> candidates;
  for (const auto& def : kKeys) {
    const std::string_view p = def.key.path;
    if (p.size() > path.size() && p.ends_with(path) && p[p.size() - path.size() - 1] == '.') {
      return " (did you mean `" + std::string(p) + "`?)";
    }
    candidates.emplace_back(p);
    if (const auto section = section_of(p); !section.empty()) candidates.emplace_back(section);
  }
  const std::string best = engine::nearest_name(path, candidates);
  return best.empty() ? std::string() : " (did you mean `" + best + "`?)";
}

std::string describe(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  if (node.IsNull()) return "empty";
  return "a single value";
}

class FileReader {
 public:
  FileReader(std::string file, ServeConfig& config, std::vector<std::string>& problems)
      : file_(std::move(file)), config_(config), problems_(problems) {}

  void read() {
    std::ifstream in(file_);
    if (!in) {
      problems_.push_back("cannot read config file " + backquoted(file_) + ": " +
                          std::strerror(errno));
      return;
    }
    YAML::Node root;
    try {
      root = YAML::Load(in);
    } catch (const YAML::ParserException& e) {
      problems_.push_back(where(e.mark) + e.msg);
      return;
    } catch (const YAML::Exception& e) {
      problems_.push_back(file_ + ": " + e.what());
      return;
    }
    if (root.IsNull()) return;  // an empty file, or only comments: every key keeps its default
    if (!root.IsMap()) {
      problems_.push_back(where(root.Mark()) +
                          "the file must be a mapping of keys such as `listen: 127.0.0.1:8080`, "
                          "not " +
                          describe(root));
      return;
    }
    read_mapping(root, "");
  }

 private:
  std::string where(const YAML::Mark& mark) const {
    if (mark.is_null()) return file_ + ": ";
    return file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) +
           ": ";
  }

  void read_mapping(const YAML::Node& map, const std::string& prefix) {
    std::map<std::string, int, std::less<>> seen;  // key -> line, for duplicates
    for (auto it = map.begin(); it != map.end(); ++it) {
      // Copies: a Node is a handle, and `it->` returns a proxy that dies with the expression.
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        problems_.push_back(where(key.Mark()) + "keys must be names, not " + describe(key));
        continue;
      }
      const std::string path = prefix.empty() ? key.Scalar() : prefix + "." + key.Scalar();
      const int line = key.Mark().line + 1;
      if (const auto [first, inserted] = seen.emplace(key.Scalar(), line); !inserted) {
        problems_.push_back(where(key.Mark()) + "duplicate key " + backquoted(path) +
                            "; the first is on line " + std::to_string(first->second));
        continue;
      }
      if (const KeyDef* def = find_key(path)) {
        read_value(*def, key, value);
      } else if (is_section(path)) {
        if (value.IsMap()) {
          read_mapping(value, path);
        } else if (!value.IsNull()) {
          problems_.push_back(where(value.Mark().is_null() ? key.Mark() : value.Mark()) + path +
                              ": expected a mapping of " + keys_of_section(path) + ", not " +
                              describe(value));
        }
      } else {
        problems_.push_back(where(key.Mark()) + "unknown key " + backquoted(path) +
                            suggestion_for(path));
      }
    }
  }

  void read_value(const KeyDef& def, const YAML::Node& key, const YAML::Node& value) {
    const std::string at = where(value.Mark().is_null() ? key.Mark() : value.Mark()) +
                           std::string(def.key.path) + ": ";
    Values values;
    if (def.key.list) {
      if (value.IsSequence()) {
        for (const auto& item : value) {
          if (!item.IsScalar()) {
            problems_.push_back(where(item.Mark()) + std::string(def.key.path) +
                                ": each item must be a single value, not " + describe(item));
            return;
          }
          values.push_back(item.Scalar());
        }
      } else if (value.IsScalar()) {
        values.push_back(value.Scalar());  // one path needs no brackets
      } else if (!value.IsNull()) {
        problems_.push_back(at + "expected a list such as [a, b], not " + describe(value));
        return;
      }
    } else if (value.IsScalar()) {
      values.push_back(value.Scalar());
    } else if (value.IsNull()) {
      values.emplace_back();  // `key:` with nothing after it: the empty string
    } else {
      problems_.push_back(at + "expected a single value, not " + describe(value));
      return;
    }
    if (const std::string error = def.apply(values, config_); !error.empty()) {
      problems_.push_back(at + error);
      return;
    }
    config_.sources[std::string(def.key.path)] =
        "file " + file_ + ":" + std::to_string(key.Mark().line + 1);
  }

  std::string file_;
  ServeConfig& config_;
  std::vector<std::string>& problems_;
};

Values split_list(std::string_view text) {
  Values out;
  while (true) {
    const auto comma = text.find(',');
    if (const auto item = trim(text.substr(0, comma)); !item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += (out.empty() ? "" : "\n") + line;
  return out;
}

// Plain YAML when it reads back as the same string, double-quoted otherwise.
std::string yaml_scalar(std::string_view text) {
  static constexpr std::string_view kReserved[] = {"null", "true", "false", "yes", "no",
                                                   "on",   "off",  "y",     "n",   "~"};
  bool plain = !text.empty() &&
               (std::isalnum(static_cast<unsigned char>(text.front())) || text.front() == '/' ||
                text.front() == '.' || text.front() == '_') &&
               text.back() != ':';
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view("_./:@+*%=-").find(c) == std::string_view::npos) {
      plain = false;
    }
  }
  const std::string low = lower(text);
  for (const auto word : kReserved) {
    if (low == word) plain = false;
  }
  if (plain) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string markdown_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string ServeConfig::store_url() const {
  if (!store.empty()) return store;
  return "sqlite://" + (std::filesystem::path(data_dir) / "flowpilot.db").generic_string();
}

std::string ServeConfig::listen_host() const {
  const auto parts = split_address(listen);
  if (!parts) return {};
  std::string_view host = parts->first;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" ? std::string("127.0.0.1") : std::string(host);
}

std::uint16_t ServeConfig::listen_port() const {
  const auto parts = split_address(listen);
  if (!parts || parts->second.empty() || !all_digits(parts->second)) return 0;
  return static_cast<std::uint16_t>(std::stoul(std::string(parts->second)));
}

bool ServeConfig::has_role(std::string_view role) const {
  std::string_view rest = roles;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    if (rest.substr(0, comma) == role) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<std::string> ServeConfig::sqlite_path() const {
  constexpr std::string_view kScheme = "sqlite://";
  const std::string url = store_url();
  if (!starts_with_icase(url, kScheme)) return std::nullopt;
  return url.substr(kScheme.size());
}

ConfigError::ConfigError(std::vector<std::string> problems)
    : UsageError(join(problems)), problems_(std::move(problems)) {}

std::string ConfigKey::env_name() const {
  std::string out = "FLOWPILOT_";
  for (char c : path) {
    out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string ConfigKey::flag_name() const {
  std::string out = "--";
  for (char c : path) out += (c == '.' || c == '_') ? '-' : c;
  return out;
}

const std::vector<ConfigKey>& serve_config_keys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> out;
    for (const auto& def : kKeys) out.push_back(def.key);
    return out;
  }();
  return keys;
}

ServeConfig serve_config_defaults() {
  ServeConfig config;
  for (const auto& def : kKeys) {
    Values values;
    if (!def.key.list || !def.key.default_value.empty()) values.emplace_back(def.key.default_value);
    if (const std::string error = def.apply(values, config); !error.empty()) {
      throw std::logic_error("serve config: the default of " + std::string(def.key.path) +
                             " does not parse: " + error);
    }
    config.sources[std::string(def.key.path)] = "default";
  }
  return config;
}

std::shared_ptr<ServeConfigFlags> add_serve_config_flags(CLI::App& cmd) {
  auto flags = std::make_shared<ServeConfigFlags>();
  // Sized before binding: CLI11 keeps references to the elements.
  flags->values.resize(std::size(kKeys));
  cmd.add_option("--config", flags->config_file,
                 "YAML file of settings (see docs/configuration.md); FLOWPILOT_* variables and "
                 "flags override it")
      ->type_name("FILE");
  cmd.add_flag("--print-config", flags->print_config,
               "Print the effective configuration, each value with its source, and exit");
  for (std::size_t i = 0; i < std::size(kKeys); ++i) {
    const ConfigKey& key = kKeys[i].key;
    std::string names = key.flag_name();
    if (!key.flag_alias.empty()) names += ",--" + std::string(key.flag_alias);
    std::string help = std::string(key.doc);
    if (key.list) help += "; repeatable";
    if (!key.default_value.empty()) help += " [default: " + std::string(key.default_value) + "]";
    help += " [env: " + key.env_name() + "]";
    auto* option = cmd.add_option(names, flags->values[i], help)
                       ->type_name(std::string(kKeys[i].value_name))
                       ->allow_extra_args(false);
    // One value per occurrence. A repeated list flag adds to the list; a repeated scalar flag
    // keeps its last value, as a later flag overrides an earlier source.
    option->expected(1)->multi_option_policy(key.list ? CLI::MultiOptionPolicy::TakeAll
                                                      : CLI::MultiOptionPolicy::TakeLast);
  }
  return flags;
}

std::optional<std::string> process_env(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

ServeConfig load_serve_config(const ServeConfigFlags& flags, const EnvLookup& env) {
  ServeConfig config = serve_config_defaults();
  std::vector<std::string> problems;
  if (!flags.config_file.empty()) FileReader(flags.config_file, config, problems).read();

  for (const auto& def : kKeys) {
    const std::string name = def.key.env_name();
    const auto value = env(name);
    if (!value || value->empty()) continue;
    const Values values = def.key.list ? split_list(*value) : Values{*value};
    if (const std::string error = def.apply(values, config); !error.empty()) {
      problems.push_back("environment " + name + ": " + error);
      continue;
    }
    config.sources[std::string(def.key.path)] = "env " + name;
  }

  for (std::size_t i = 0; i < std::size(kKeys) && i < flags.values.size(); ++i) {
    const auto& given = flags.values[i];
    if (given.empty()) continue;
    const KeyDef& def = kKeys[i];
    const std::string name = def.key.flag_name();
    if (const std::string error = def.apply(given, config); !error.empty()) {
      problems.push_back("flag " + name + ": " + error);
      continue;
    }
    config.sources[std::string(def.key.path)] = "flag " + name;
  }

  if (!problems.empty()) throw ConfigError(std::move(problems));
  return config;
}

std::string render_effective_config(const ServeConfig& config) {
  struct Line {
    std::string text;
    std::string comment;
  };
  std::vector<Line> lines;
  std::string_view section;
  for (const auto& def : kKeys) {
    const std::string_view path = def.key.path;
    const std::string_view sect = section_of(path);
    if (sect != section && !sect.empty()) lines.push_back({std::string(sect) + ":", ""});
    section = sect;
    const std::string indent = sect.empty() ? "" : "  ";
    const std::string name(sect.empty() ? path : path.substr(sect.size() + 1));
    const auto found = config.sources.find(path);
    std::string comment = found == config.sources.end() ? "default" : found->second;
    Values shown = def.show(config);
    if (def.mask != nullptr) {
      for (auto& v : shown) v = def.mask(v);
    }
    if (path == "store" && config.store.empty()) {
      comment += "; in effect " + engine::mask_store_url(config.store_url());
    }
    if (!def.key.list) {
      lines.push_back({indent + name + ": " + yaml_scalar(shown.front()), comment});
    } else if (shown.empty()) {
      lines.push_back({indent + name + ": []", comment});
    } else {
      lines.push_back({indent + name + ":", comment});
      for (const auto& item : shown) lines.push_back({indent + "  - " + yaml_scalar(item), ""});
    }
  }
  std::size_t width = 0;
  for (const auto& line : lines) {
    if (!line.comment.empty()) width = std::max(width, line.text.size());
  }
  width = std::min<std::size_t>(width, 40);
  std::string out =
      "# The effective configuration of flowpilot serve; each value's source follows it.\n"
      "# Precedence: flag > environment > file > default.\n";
  for (const auto& line : lines) {
    out += line.text;
    if (!line.comment.empty()) {
      out += std::string(line.text.size() < width ? width - line.text.size() : 0, ' ');
      out += "  # " + line.comment;
    }
    out += '\n';
  }
  return out;
}

std::string config_reference_markdown() {
  std::string out =
      "| key | type | default | environment | flag | description |\n"
      "| --- | --- | --- | --- | --- | --- |\n";
  for (const auto& def : kKeys) {
    const ConfigKey& key = def.key;
    std::string type = markdown_cell(key.type);
    if (key.secret) type += ", secret";
    const std::string default_value = key.list ? "`[]`"
                                      : key.default_value.empty()
                                          ? "`\"\"`"
                                          : "`" + std::string(key.default_value) + "`";
    std::string flag = "`" + key.flag_name() + "`";
    if (!key.flag_alias.empty()) flag += ", `--" + std::string(key.flag_alias) + "`";
    if (key.list) flag += " (repeatable)";
    out += "| `" + std::string(key.path) + "` | " + type + " | " + default_value + " | `" +
           key.env_name() + "` | " + flag + " | " + markdown_cell(key.doc) + " |\n";
  }
  return out;
}

}  // namespace flowpilot::cli
