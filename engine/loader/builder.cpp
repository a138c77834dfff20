// The shared second stage of loading: validates a LocatedDocument against DESIGN.md section 5 and
// builds the Workflow. Validation keeps going after an error so that one pass reports every
// problem of a file; the model is only handed out when there were none.
#include "engine/loader/loader.h"
#include "engine/model/json_text.h"

#include "engine/loader/detail/document_paths.h"
#include "engine/model/suggest.h"
#include "engine/loader/detail/yaml_document.h"
#include "engine/schedule/cron.h"
#include "engine/schedule/duration.h"
#include "engine/schema/json_schema.h"

#include "scripting/program.h"

#include <date/tz.h>

#include <sodium.h>

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <span>
#include <sstream>
#include <unordered_map>
#include <tuple>
#include <unordered_set>

namespace flowpilot::engine {
namespace {

namespace json = boost::json;
using detail::child_path;
using detail::index_path;
using detail::key_path;

using Names = std::span<const std::string_view>;

constexpr std::string_view kTopKeys[] = {"id",          "name",     "description", "inputs",
                                         "triggers",    "concurrency", "timeout",  "defaults",
                                         "steps",       "outputs",  "on_failure"};
constexpr std::string_view kInputKeys[] = {"type", "default", "required", "description", "unit",
                                           "enum", "connection"};
constexpr std::string_view kCronTriggerKeys[] = {"cron", "timezone", "catch_up"};
constexpr std::string_view kWebhookTriggerKeys[] = {"webhook"};
constexpr std::string_view kWebhookKeys[] = {"path", "auth", "respond", "idempotency_key"};
constexpr std::string_view kAuthKeys[] = {"scheme", "secret"};
constexpr std::string_view kConcurrencyKeys[] = {"limit", "on_limit"};
constexpr std::string_view kDefaultsKeys[] = {"retry", "timeout"};
constexpr std::string_view kRetryKeys[] = {"attempts", "backoff", "delay", "max_delay"};
constexpr std::string_view kStepKeys[] = {"id",      "name",        "uses",  "connection",
                                          "with",    "needs",       "if",    "foreach",
                                          "concurrency", "retry",   "timeout"};
// `uses: lua` steps take their program and its limits as well.
constexpr std::string_view kLuaStepKeys[] = {"id",      "name",        "uses",  "connection",
                                             "with",    "needs",       "if",    "foreach",
                                             "concurrency", "retry",   "timeout", "code",
                                             "file",    "limits"};
constexpr std::string_view kLuaLimitKeys[] = {"instructions", "memory", "time"};

constexpr std::string_view kInputTypes[] = {"string", "number", "integer",
                                            "boolean", "object", "array"};
constexpr std::string_view kBackoffs[] = {"exponential", "fixed"};
constexpr std::string_view kOnLimits[] = {"queue", "skip", "cancel_running"};
constexpr std::string_view kCatchUps[] = {"none", "latest", "all"};
// Order matches WebhookAuthScheme.
constexpr std::string_view kSchemes[] = {"none", "token", "hmac-sha256", "github", "slack",
                                         "stripe"};
constexpr std::string_view kResponds[] = {"accepted", "result"};

constexpr int kMaxRetryAttempts = 100;
constexpr std::int64_t kMaxConcurrency = 1'000'000;
// Lua step programs: the size of a `file:` program, and the smallest limits that still let a
// program do something (a lower value is almost certainly a unit mistake).
constexpr std::uintmax_t kMaxLuaFileBytes = 1u << 20;
constexpr std::int64_t kMinLuaInstructions = 1000;
constexpr std::int64_t kMinLuaMemoryBytes = 64 * 1024;


std::string describe(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: return "text";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "a number";
    case json::kind::bool_: return "a boolean";
    case json::kind::object: return "a mapping";
    case json::kind::array: return "a list";
    case json::kind::null: return "empty";
  }
  return "something else";
}


std::string join(Names names, std::string_view last_separator) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? last_separator : ", ";
    out += names[i];
  }
  return out;
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// ^[a-z0-9][a-z0-9_-]{0,63}$ (loader.h: is_valid_workflow_id)
bool valid_workflow_id(std::string_view s) {
  if (s.empty() || s.size() > 64 || !is_lower_alnum(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_lower_alnum(c) || c == '_' || c == '-'; });
}

// ^[A-Za-z_][A-Za-z0-9_]{0,63}$: usable as a Lua name in `steps.<id>` and `inputs.<name>`.
bool valid_identifier(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(is_alpha(s[0]) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_alpha(c) || is_digit(c) || c == '_'; });
}

// ^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$: one URL segment, so /hooks/<path> needs no escaping and no
// path can shadow another's prefix.
bool valid_webhook_path(std::string_view s) {
  if (s.empty() || s.size() > 128 || !(is_alpha(s[0]) || is_digit(s[0]))) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == '-'; });
}

std::string identifier_suggestion(std::string_view s) {
  std::string out;
  for (char c : s) out += (c == '-' || c == ' ' || c == '.') ? '_' : c;
  return valid_identifier(out) && out != s ? out : std::string();
}

std::string workflow_id_suggestion(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c == ' ' || c == '.' ? '-' : c;
    }
  }
  return valid_workflow_id(out) && out != s ? out : std::string();
}

const json::value* member(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->value();
}

std::optional<std::int64_t> integral(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    return v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
               ? std::numeric_limits<std::int64_t>::max()
               : static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9e18) {
      return static_cast<std::int64_t>(d);
    }
  }
  return std::nullopt;
}

bool matches_type(InputType t, const json::value& v) {
  switch (t) {
    case InputType::string: return v.is_string();
    case InputType::number: return v.is_number();
    case InputType::integer: return integral(v).has_value();
    case InputType::boolean: return v.is_bool();
    case InputType::object: return v.is_object();
    case InputType::array: return v.is_array();
  }
  return false;
}

std::string type_phrase(InputType t) {
  switch (t) {
    case InputType::string: return "text";
    case InputType::number: return "a number";
    case InputType::integer: return "a whole number";
    case InputType::boolean: return "a boolean";
    case InputType::object: return "a mapping";
    case InputType::array: return "a list";
  }
  return "a value";
}

std::string unterminated_message(const std::string& path, const std::string& why) {
  // The likeliest cause in YAML is an unquoted value using Lua's `#`: " #" starts a comment there,
  // which cuts the expression short.
  return "`" + path + "`: " + (why.empty() ? "unterminated `${{`" : why) +
         "; close it with `}}` (in YAML, quote a value that uses `#`: unquoted, ` #` starts a "
         "comment)";
}

bool has_template(std::string_view s) { return s.find("${{") != std::string_view::npos; }

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string content_hash(std::string_view text) {
  // Thread-safe once (a function-local static). sodium_init only fails when no entropy source
  // exists, and crypto_generichash needs none, so the result does not matter here.
  [[maybe_unused]] static const int sodium_ready = sodium_init();
  unsigned char digest[16];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), nullptr, 0);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(sizeof digest * 2);
  for (unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0xF];
  }
  return hex;
}

std::vector<std::string> time_zone_names() {
  std::vector<std::string> names;
  try {
    const auto& db = date::get_tzdb();
    for (const auto& zone : db.zones) names.emplace_back(zone.name());
  } catch (const std::exception&) {
    // No tz database: no suggestion, the error itself still stands.
  }
  return names;
}

// Diagnostics are found field by field; users read them in file order.
void sort_by_position(std::vector<Diagnostic>& diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
  });
}

// Where a field is, for messages: `label` names it ("`needs` in step `fetch`"), `phrase` is the
// same context for unknown keys ("in step `fetch`", "at the top level").
struct Context {
  std::string path;
  std::string phrase;  // empty at the top level
  std::string label(std::string_view key) const {
    std::string out = "`" + std::string(key) + "`";
    if (!phrase.empty()) out += " " + phrase;
    return out;
  }
  std::string key_phrase() const { return phrase.empty() ? "at the top level" : phrase; }
  std::string at(std::string_view key) const { return child_path(path, key); }
};

struct ParsedStep {
  StepSpec spec;
  std::string path;
  bool on_failure = false;
  bool has_id = false;
  std::vector<std::pair<std::string, std::string>> needs;  // step id, path of the entry
};

class Validator {
 public:
  Validator(const LocatedDocument& doc, const std::string& file, const LoadContext& ctx)
      : doc_(doc), file_(file), ctx_(ctx) {}

  LoadResult run(std::string_view source_text, std::string_view format);

 private:
  SourceLocation at(const std::string& path) const {
    std::string current = path;
    while (true) {
      if (auto it = doc_.locations.find(current); it != doc_.locations.end()) return it->second;
      if (current.empty()) break;
      const auto cut = current.find_last_of(".[");
      current.resize(cut == std::string::npos ? 0 : cut);
    }
    return SourceLocation{file_, 0, 0};
  }
  SourceLocation key_at(const std::string& path) const {
    if (auto it = doc_.locations.find(key_path(path)); it != doc_.locations.end()) return it->second;
    return at(path);
  }
  void error(SourceLocation where, std::string message, std::string suggestion = {}) {
    diagnostics_.push_back(Diagnostic{std::move(where), std::move(message), std::move(suggestion)});
  }

  void check_keys(const json::object& o, const Context& c, Names allowed);
  const json::object* want_object(const json::value& v, const std::string& path,
                                  const std::string& label, std::string_view what);
  std::optional<std::string> read_string(const json::object& o, std::string_view key,
                                         const Context& c);
  std::optional<std::size_t> read_enum(const json::value& v, const std::string& path,
                                       const std::string& label, Names names);
  std::optional<std::int64_t> read_int(const json::value& v, const std::string& path,
                                       const std::string& label, std::int64_t min,
                                       std::int64_t max);
  std::optional<Millis> read_duration(const json::value& v, const std::string& path,
                                      const std::string& label);
  std::optional<bool> read_bool(const json::value& v, const std::string& path,
                                const std::string& label);

  void check_templates(const json::value& v, const std::string& path);
  void check_inputs(const json::value* with, const Context& c, const std::string& uses,
                    const std::string& who);
  void check_template(std::string_view text, const std::string& path);
  void check_expression(std::string_view expression, const std::string& path);

  void parse_inputs(const json::value& v, Workflow& wf);
  void parse_triggers(const json::value& v, Workflow& wf);
  void parse_cron_trigger(const json::object& o, const Context& c, Workflow& wf);
  void parse_webhook_trigger(const json::object& o, const Context& c, Workflow& wf,
                             std::unordered_map<std::string, int>& paths);
  void parse_concurrency(const json::value& v, Workflow& wf);
  std::optional<RetryPolicy> parse_retry(const json::value& v, const std::string& path,
                                         const std::string& phrase, const RetryPolicy& base);
  void parse_defaults(const json::value& v, Workflow& wf);
  void parse_steps(const json::value& v, std::string_view key, bool on_failure,
                   std::vector<ParsedStep>& out, const Workflow& wf);
  ParsedStep parse_step(const json::value& v, const std::string& path, std::size_t index,
                        bool on_failure, const Workflow& wf);
  void parse_if(const json::value& v, const Context& c, StepSpec& spec);
  void parse_foreach(const json::value& v, const Context& c, StepSpec& spec);
  void parse_needs(const json::value& v, const Context& c, ParsedStep& step);
  void parse_lua(const json::object& o, const Context& c, const std::string& who, StepSpec& spec);
  bool read_lua_file(const json::value& v, const Context& c, const std::string& who,
                     StepSpec& spec);
  void parse_lua_limits(const json::value& v, const Context& c, StepSpec& spec);
  std::optional<std::size_t> read_memory(const json::value& v, const std::string& path,
                                         const std::string& label);
  int code_start_line(const std::string& path) const;
  void check_graph(std::vector<ParsedStep>& main, std::vector<ParsedStep>& on_failure);
  void report_cycles(const std::vector<ParsedStep>& steps);
  std::vector<std::size_t> dependency_order(const std::vector<ParsedStep>& steps) const;

  const LocatedDocument& doc_;
  const std::string& file_;
  const LoadContext& ctx_;
  std::string_view source_text_;  // for where inline code starts (see code_start_line)
  std::string_view format_;
  std::vector<Diagnostic> diagnostics_;
};

void Validator::check_keys(const json::object& o, const Context& c, Names allowed) {
  for (const auto& entry : o) {
    const std::string_view key = entry.key();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    error(key_at(c.at(key)), "unknown key `" + std::string(key) + "` " + c.key_phrase(),
          nearest_name(key, allowed));
  }
}

const json::object* Validator::want_object(const json::value& v, const std::string& path,
                                           const std::string& label, std::string_view what) {
  if (v.is_object()) return &v.get_object();
  error(at(path), label + " must be " + std::string(what) + ", not " + describe(v));
  return nullptr;
}

std::optional<std::string> Validator::read_string(const json::object& o, std::string_view key,
                                                  const Context& c) {
  const json::value* v = member(o, key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  error(at(c.at(key)), c.label(key) + " must be text, not " + describe(*v));
  return std::nullopt;
}

std::optional<std::size_t> Validator::read_enum(const json::value& v, const std::string& path,
                                                const std::string& label, Names names) {
  const std::string choices = join(names, " or ");
  if (!v.is_string()) {
    error(at(path), label + " must be " + choices + ", not " + describe(v));
    return std::nullopt;
  }
  const std::string_view text = v.get_string();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == text) return i;
  }
  error(at(path), label + " must be " + choices + ", not `" + std::string(text) + "`",
        nearest_name(text, names));
  return std::nullopt;
}

std::optional<std::int64_t> Validator::read_int(const json::value& v, const std::string& path,
                                                const std::string& label, std::int64_t min,
                                                std::int64_t max) {
  const auto n = integral(v);
  if (!n) {
    error(at(path), label + " must be a whole number, not " +
                        (v.is_number() ? "`" + display_json(v) + "`" : describe(v)));
    return std::nullopt;
  }
  if (*n < min || *n > max) {
    const std::string range = max == std::numeric_limits<std::int64_t>::max() || max == kMaxConcurrency
                                  ? "at least " + std::to_string(min)
                                  : "between " + std::to_string(min) + " and " + std::to_string(max);
    error(at(path), label + " must be " + range + ", not " + display_json(v));
    return std::nullopt;
  }
  return n;
}

std::optional<Millis> Validator::read_duration(const json::value& v, const std::string& path,
                                               const std::string& label) {
  std::string text;
  if (v.is_string()) {
    text = std::string(v.get_string());
  } else if (v.is_number()) {
    // A bare YAML number means seconds; hand it to the same parser so the rules stay in one place.
    text = display_json(v);
  } else {
    error(at(path), label + " must be a duration such as 30s, 5m or 2h, not " + describe(v));
    return std::nullopt;
  }
  std::string why;
  auto d = parse_duration(text, &why);
  if (!d) error(at(path), label + ": " + why);
  return d;
}

std::optional<bool> Validator::read_bool(const json::value& v, const std::string& path,
                                         const std::string& label) {
  if (v.is_bool()) return v.get_bool();
  error(at(path), label + " must be true or false, not " + describe(v));
  return std::nullopt;
}

void Validator::check_templates(const json::value& v, const std::string& path) {
  switch (v.kind()) {
    case json::kind::string:
      check_template(v.get_string(), path);
      break;
    case json::kind::array: {
      const auto& a = v.get_array();
      for (std::size_t i = 0; i < a.size(); ++i) check_templates(a[i], index_path(path, i));
      break;
    }
    case json::kind::object:
      // Keys are never evaluated, so only values are checked.
      for (const auto& entry : v.get_object()) check_templates(entry.value(), child_path(path, entry.key()));
      break;
    default:
      break;
  }
}

// Paths (as JsonSchema writes them) of the strings holding `${{ }}`: their values are only known
// at run time, where the executor checks the evaluated inputs against the schema again.
void collect_templated(const json::value& v, const std::string& path,
                       std::unordered_set<std::string>& out) {
  switch (v.kind()) {
    case json::kind::string:
      if (has_template(v.get_string())) out.insert(path);
      break;
    case json::kind::array: {
      const auto& a = v.get_array();
      for (std::size_t i = 0; i < a.size(); ++i) collect_templated(a[i], index_path(path, i), out);
      break;
    }
    case json::kind::object:
      for (const auto& entry : v.get_object()) {
        collect_templated(entry.value(), child_path(path, entry.key()), out);
      }
      break;
    default:
      break;
  }
}

// Checks a step's literal `with` (an absent one is `{}`) against its kind's input schema.
// Problems at or inside a templated value are skipped; a required property holding a template is
// present, so it passes without help.
void Validator::check_inputs(const json::value* with, const Context& c, const std::string& uses,
                             const std::string& who) {
  if (uses.empty() || !ctx_.catalog.has_step(uses)) return;
  const JsonSchema* schema = ctx_.catalog.input_schema(uses);
  if (schema == nullptr) return;
  const json::value empty = json::object();
  const json::value& value = with != nullptr ? *with : empty;
  std::unordered_set<std::string> templated;
  collect_templated(value, "with", templated);
  auto in_template = [&](std::string path) {
    while (!path.empty()) {
      if (templated.contains(path)) return true;
      const auto cut = path.find_last_of(".[");
      path.resize(cut == std::string::npos ? 0 : cut);
    }
    return false;
  };
  constexpr std::string_view kUnknown = "unknown property `";
  for (const SchemaProblem& problem : schema->validate(value, "with")) {
    if (in_template(problem.path)) continue;
    const std::string path = child_path(c.path, problem.path);
    // An absent or empty `with` has no value to point at (YAML places an empty value after its
    // key, even past the end of the file); its key does, and failing that the step.
    SourceLocation where = with == nullptr && problem.path == "with" ? key_at(path) : at(path);
    // An unknown property is reported on its object; the key itself is the better place to point.
    if (problem.message.starts_with(kUnknown)) {
      const auto end = problem.message.find('`', kUnknown.size());
      if (end != std::string::npos) {
        where = key_at(child_path(path, std::string_view(problem.message)
                                            .substr(kUnknown.size(), end - kUnknown.size())));
      }
    }
    error(where, who + ", `" + problem.path + "`: " + problem.message);
  }
}

void Validator::check_template(std::string_view text, const std::string& path) {
  if (!has_template(text)) return;
  std::string why;
  auto tmpl = scripting::Template::parse(text, &why);
  if (!tmpl) {
    error(at(path), unterminated_message(path, why));
    return;
  }
  for (const auto& part : tmpl->parts()) {
    if (part.is_expression) check_expression(part.text, path);
  }
}

void Validator::check_expression(std::string_view expression, const std::string& path) {
  const std::string text = trim(expression);
  if (text.empty()) {
    error(at(path), "`" + path + "` holds an empty expression `${{ }}`");
    return;
  }
  if (auto why = ctx_.expressions.check(text)) {
    error(at(path), "expression `" + text + "` in `" + path + "` does not compile: " + *why);
  }
}

void Validator::parse_inputs(const json::value& v, Workflow& wf) {
  if (v.is_null()) return;
  const json::object* inputs = want_object(v, "inputs", "`inputs`", "a mapping of input names to their type and default");
  if (inputs == nullptr) return;
  for (const auto& entry : *inputs) {
    const std::string name(entry.key());
    const std::string path = child_path("inputs", name);
    if (!valid_identifier(name)) {
      error(key_at(path),
            "input name `" + name +
                "` is not valid: use letters, digits and underscores, starting with a letter or "
                "underscore (inputs are read as `inputs.<name>` in expressions)",
            identifier_suggestion(name));
    }
    const Context c{path, "in input `" + name + "`"};
    InputSpec input;
    input.name = name;
    const json::object* spec = want_object(entry.value(), path, "input `" + name + "`",
                                           "a mapping such as {type: number, default: 40}");
    if (spec == nullptr) continue;
    check_keys(*spec, c, kInputKeys);
    bool type_ok = true;
    if (const json::value* t = member(*spec, "type")) {
      if (auto i = read_enum(*t, c.at("type"), c.label("type"), kInputTypes)) {
        input.type = static_cast<InputType>(*i);
      } else {
        type_ok = false;
      }
    } else if (const json::value* d = member(*spec, "default")) {
      // `{default: 40}` says enough: the type follows the default.
      input.type = d->is_number() ? InputType::number
                   : d->is_bool() ? InputType::boolean
                   : d->is_object() ? InputType::object
                   : d->is_array() ? InputType::array
                                   : InputType::string;
    }
    if (auto s = read_string(*spec, "description", c)) input.description = *s;
    if (auto s = read_string(*spec, "unit", c)) input.unit = *s;
    if (auto s = read_string(*spec, "connection", c)) {
      if (input.type != InputType::string) {
        error(at(c.at("connection")), "input `" + name + "` names a connection, so its type must be string");
      } else if (s->empty()) {
        error(at(c.at("connection")), "input `" + name + "`: `connection` must name a connection type such as meta_ads");
      }
      input.connection_type = *s;
    }
    if (const json::value* r = member(*spec, "required")) {
      if (auto b = read_bool(*r, c.at("required"), c.label("required"))) input.required = *b;
    }
    if (const json::value* e = member(*spec, "enum")) {
      if (!e->is_array() || e->get_array().empty()) {
        error(at(c.at("enum")), c.label("enum") + " must be a non-empty list of allowed values, not " + describe(*e));
      } else {
        const auto& values = e->get_array();
        for (std::size_t i = 0; i < values.size(); ++i) {
          if (type_ok && !matches_type(input.type, values[i])) {
            error(at(index_path(c.at("enum"), i)),
                  "allowed value " + display_json(values[i]) + " of input `" + name +
                      "` must be " + type_phrase(input.type) + ", as its type is " +
                      std::string(to_string(input.type)));
          }
          input.allowed.push_back(values[i]);
        }
      }
    }
    if (const json::value* d = member(*spec, "default")) {
      const std::string dpath = c.at("default");
      if (type_ok && !matches_type(input.type, *d)) {
        error(at(dpath), "default of input `" + name + "` must be " + type_phrase(input.type) +
                             ", as its type is " + std::string(to_string(input.type)) + ", not " +
                             describe(*d));
      } else if (!input.allowed.empty() &&
                 std::find(input.allowed.begin(), input.allowed.end(), *d) == input.allowed.end()) {
        error(at(dpath), "default of input `" + name + "` is " + display_json(*d) +
                             ", which is not one of its allowed values");
      }
      if (input.required) {
        error(at(c.at("required")),
              "input `" + name +
                  "` is required and has a default, which contradicts itself; remove `required` "
                  "or the default");
      }
      input.default_value = *d;
    }
    wf.inputs.push_back(std::move(input));
  }
}

void Validator::parse_triggers(const json::value& v, Workflow& wf) {
  if (v.is_null()) return;
  if (!v.is_array()) {
    error(at("triggers"), "`triggers` must be a list of `cron:` and `webhook:` entries, not " + describe(v));
    return;
  }
  std::unordered_map<std::string, int> webhook_paths;
  const auto& items = v.get_array();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string path = index_path("triggers", i);
    const std::string what = "trigger " + std::to_string(i + 1);
    const json::object* o = want_object(items[i], path, what, "a mapping with `cron:` or `webhook:`");
    if (o == nullptr) continue;
    const bool cron = o->contains("cron");
    const bool webhook = o->contains("webhook");
    if (cron && webhook) {
      error(at(path), what + " has both `cron` and `webhook`; write each as its own trigger");
      continue;
    }
    if (!cron && !webhook) {
      std::string suggestion;
      for (const auto& entry : *o) {
        if (suggestion.empty()) suggestion = nearest_name(entry.key(), std::array<std::string_view, 2>{"cron", "webhook"});
      }
      error(at(path), what + " needs `cron:` or `webhook:`", suggestion);
      continue;
    }
    if (cron) {
      parse_cron_trigger(*o, Context{path, "in cron " + what}, wf);
    } else {
      parse_webhook_trigger(*o, Context{path, "in webhook " + what}, wf, webhook_paths);
    }
  }
}

void Validator::parse_cron_trigger(const json::object& o, const Context& c, Workflow& wf) {
  check_keys(o, c, kCronTriggerKeys);
  CronTrigger trigger;
  trigger.location = at(c.path);
  if (auto expr = read_string(o, "cron", c)) {
    std::string why;
    if (CronExpression::parse(*expr, &why)) {
      trigger.expression = *expr;
    } else {
      error(at(c.at("cron")), "bad cron expression `" + *expr + "`: " + why);
    }
  } else if (member(o, "cron")->is_null()) {
    error(at(c.at("cron")), c.label("cron") + " is empty; write a schedule such as \"*/30 * * * *\"");
  }
  if (auto tz = read_string(o, "timezone", c)) {
    if (is_valid_time_zone(*tz)) {
      trigger.timezone = *tz;
    } else {
      error(at(c.at("timezone")), "unknown time zone `" + *tz + "`; use an IANA name such as Europe/Berlin",
            nearest_name(*tz, time_zone_names()));
    }
  }
  if (const json::value* cu = member(o, "catch_up")) {
    if (auto i = read_enum(*cu, c.at("catch_up"), c.label("catch_up"), kCatchUps)) {
      trigger.catch_up = static_cast<CatchUp>(*i);
    }
  }
  wf.triggers.emplace_back(std::move(trigger));
}

void Validator::parse_webhook_trigger(const json::object& outer, const Context& oc, Workflow& wf,
                                      std::unordered_map<std::string, int>& paths) {
  check_keys(outer, oc, kWebhookTriggerKeys);
  const std::string path = oc.at("webhook");
  const json::object* o = want_object(outer.at("webhook"), path, oc.label("webhook"),
                                      "a mapping with `path:`");
  if (o == nullptr) return;
  const Context c{path, oc.phrase};
  check_keys(*o, c, kWebhookKeys);
  WebhookTrigger trigger;
  trigger.location = at(oc.path);
  if (auto p = read_string(*o, "path", c)) {
    if (!valid_webhook_path(*p)) {
      error(at(c.at("path")),
            "webhook path `" + *p +
                "` is not valid: use letters, digits, `_` and `-` (one URL segment, no `/`), "
                "starting with a letter or digit, at most 128 characters");
    } else if (auto [it, inserted] = paths.emplace(*p, at(c.at("path")).line); !inserted) {
      error(at(c.at("path")), "duplicate webhook path `" + *p + "`; the first is on line " +
                                  std::to_string(it->second));
    }
    trigger.path = *p;
  } else if (!o->contains("path") || o->at("path").is_null()) {
    error(at(path), "webhook " + oc.phrase.substr(oc.phrase.find("trigger")) + " has no `path`");
  }
  if (const json::value* auth = member(*o, "auth")) {
    const std::string apath = c.at("auth");
    const Context ac{apath, "in webhook auth"};
    if (const json::object* a = want_object(*auth, apath, c.label("auth"),
                                            "a mapping such as {scheme: hmac-sha256, secret: ...}")) {
      check_keys(*a, ac, kAuthKeys);
      if (const json::value* s = member(*a, "scheme")) {
        if (auto i = read_enum(*s, ac.at("scheme"), ac.label("scheme"), kSchemes)) {
          trigger.scheme = static_cast<WebhookAuthScheme>(*i);
        }
      } else {
        error(at(apath), "webhook auth has no `scheme`; use one of " + join(kSchemes, " or "));
      }
      if (auto secret = read_string(*a, "secret", ac)) {
        trigger.secret = *secret;
        check_template(*secret, ac.at("secret"));
      } else if (trigger.scheme != WebhookAuthScheme::none && member(*a, "scheme") != nullptr &&
                 (member(*a, "secret") == nullptr || member(*a, "secret")->is_null())) {
        error(at(apath), "webhook auth `" + std::string(kSchemes[static_cast<std::size_t>(trigger.scheme)]) +
                             "` needs a `secret`, usually \"${{ secrets.NAME }}\"");
      }
    }
  }
  if (const json::value* r = member(*o, "respond")) {
    if (auto i = read_enum(*r, c.at("respond"), c.label("respond"), kResponds)) {
      trigger.respond = static_cast<WebhookRespond>(*i);
    }
  }
  if (auto key = read_string(*o, "idempotency_key", c)) {
    trigger.idempotency_key = *key;
    check_template(*key, c.at("idempotency_key"));
  }
  wf.triggers.emplace_back(std::move(trigger));
}

void Validator::parse_concurrency(const json::value& v, Workflow& wf) {
  if (v.is_null()) return;
  const Context c{"concurrency", "in concurrency"};
  const json::object* o = want_object(v, "concurrency", "`concurrency`", "a mapping such as {limit: 1, on_limit: queue}");
  if (o == nullptr) return;
  check_keys(*o, c, kConcurrencyKeys);
  if (const json::value* limit = member(*o, "limit")) {
    if (auto n = read_int(*limit, c.at("limit"), c.label("limit"), 1, kMaxConcurrency)) {
      wf.concurrency.limit = static_cast<int>(*n);
    }
  }
  if (const json::value* on = member(*o, "on_limit")) {
    if (auto i = read_enum(*on, c.at("on_limit"), c.label("on_limit"), kOnLimits)) {
      wf.concurrency.on_limit = static_cast<OnLimit>(*i);
    }
  }
}

std::optional<RetryPolicy> Validator::parse_retry(const json::value& v, const std::string& path,
                                                  const std::string& phrase,
                                                  const RetryPolicy& base) {
  const Context c{path, phrase};
  const json::object* o = want_object(v, path, "`retry`" + (phrase.empty() ? "" : " " + phrase),
                                      "a mapping such as {attempts: 3, delay: 2s}");
  if (o == nullptr) return std::nullopt;
  check_keys(*o, c, kRetryKeys);
  RetryPolicy retry = base;
  bool ok = true;
  if (const json::value* a = member(*o, "attempts")) {
    if (auto n = read_int(*a, c.at("attempts"), c.label("attempts"), 1, kMaxRetryAttempts)) {
      retry.attempts = static_cast<int>(*n);
    } else {
      ok = false;
    }
  }
  if (const json::value* b = member(*o, "backoff")) {
    if (auto i = read_enum(*b, c.at("backoff"), c.label("backoff"), kBackoffs)) {
      retry.backoff = static_cast<Backoff>(*i);
    } else {
      ok = false;
    }
  }
  bool delays_ok = true;
  if (const json::value* d = member(*o, "delay")) {
    if (auto ms = read_duration(*d, c.at("delay"), c.label("delay"))) {
      retry.delay = *ms;
    } else {
      ok = delays_ok = false;
    }
  }
  if (const json::value* d = member(*o, "max_delay")) {
    if (auto ms = read_duration(*d, c.at("max_delay"), c.label("max_delay"))) {
      retry.max_delay = *ms;
    } else {
      ok = delays_ok = false;
    }
  }
  if (delays_ok && retry.delay > retry.max_delay) {
    error(at(o->contains("max_delay") ? c.at("max_delay") : c.at("delay")),
          c.label("delay") + " (" + format_duration(retry.delay) + ") is longer than `max_delay` (" +
              format_duration(retry.max_delay) + ")");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return retry;
}

void Validator::parse_defaults(const json::value& v, Workflow& wf) {
  if (v.is_null()) return;
  const Context c{"defaults", "in defaults"};
  const json::object* o = want_object(v, "defaults", "`defaults`", "a mapping with `retry` and `timeout`");
  if (o == nullptr) return;
  check_keys(*o, c, kDefaultsKeys);
  if (const json::value* r = member(*o, "retry")) {
    if (auto retry = parse_retry(*r, c.at("retry"), "in defaults", wf.default_retry)) wf.default_retry = *retry;
  }
  if (const json::value* t = member(*o, "timeout")) {
    if (auto ms = read_duration(*t, c.at("timeout"), c.label("timeout"))) wf.default_timeout = *ms;
  }
}

void Validator::parse_steps(const json::value& v, std::string_view key, bool on_failure,
                            std::vector<ParsedStep>& out, const Workflow& wf) {
  const std::string path(key);
  if (!v.is_array()) {
    error(at(path), "`" + path + "` must be a list of steps, not " + describe(v));
    return;
  }
  const auto& items = v.get_array();
  out.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    out.push_back(parse_step(items[i], index_path(path, i), i, on_failure, wf));
  }
}

ParsedStep Validator::parse_step(const json::value& v, const std::string& path, std::size_t index,
                                 bool on_failure, const Workflow& wf) {
  ParsedStep step;
  step.path = path;
  step.on_failure = on_failure;
  StepSpec& spec = step.spec;
  spec.location = at(path);
  const std::string kind = on_failure ? "on_failure step" : "step";
  const json::object* o = want_object(v, path, kind + " " + std::to_string(index + 1),
                                      "a mapping with `id` and `uses`");
  if (o == nullptr) return step;

  // The id comes first so that every later message can name the step.
  std::string name_for_messages = kind + " " + std::to_string(index + 1);
  const json::value* id = member(*o, "id");
  if (id == nullptr || id->is_null()) {
    error(at(path), name_for_messages + " has no `id`");
  } else if (!id->is_string()) {
    error(at(child_path(path, "id")), "`id` of " + name_for_messages + " must be text, not " + describe(*id));
  } else {
    spec.id = std::string(id->get_string());
    name_for_messages = kind + " `" + spec.id + "`";
    if (!valid_identifier(spec.id)) {
      error(at(child_path(path, "id")),
            "step id `" + spec.id +
                "` is not valid: use letters, digits and underscores, starting with a letter or "
                "underscore, at most 64 characters (no dashes: steps are read as `steps.<id>` in "
                "expressions)",
            identifier_suggestion(spec.id));
    } else {
      step.has_id = true;
    }
  }
  const Context c{path, "in " + name_for_messages};
  const json::value* uses_value = member(*o, "uses");
  const bool is_lua = uses_value != nullptr && uses_value->is_string() &&
                      uses_value->get_string() == kLuaStep;
  if (is_lua) {
    check_keys(*o, c, kLuaStepKeys);
  } else {
    check_keys(*o, c, kStepKeys);
  }

  if (auto s = read_string(*o, "name", c)) spec.name = *s;
  if (spec.name.empty()) spec.name = spec.id;
  if (auto s = read_string(*o, "connection", c)) spec.connection = *s;

  const json::value* uses = member(*o, "uses");
  if (uses == nullptr || uses->is_null()) {
    error(at(path), name_for_messages + " has no `uses`; name a step kind such as core.noop");
  } else if (!uses->is_string()) {
    error(at(c.at("uses")), c.label("uses") + " must be a step kind such as core.noop, not " + describe(*uses));
  } else {
    spec.uses = std::string(uses->get_string());
    if (!ctx_.catalog.has_step(spec.uses)) {
      error(at(c.at("uses")), "unknown step kind `" + spec.uses + "` " + c.phrase,
            nearest_name(spec.uses, ctx_.catalog.step_names()));
    }
  }

  const json::value* with = member(*o, "with");
  if (with != nullptr && with->is_null()) with = nullptr;
  if (with == nullptr || with->is_object()) check_inputs(with, c, spec.uses, name_for_messages);
  if (with != nullptr) {
    if (with->is_object()) {
      spec.with = *with;
      check_templates(*with, c.at("with"));
      if (spec.uses == "core.approval") {
        if (const json::value* t = member(with->get_object(), "timeout")) {
          const bool is_template = t->is_string() && has_template(t->get_string());
          if (!is_template) read_duration(*t, child_path(c.at("with"), "timeout"), "`with.timeout` " + c.phrase);
        }
      }
    } else {
      error(at(c.at("with")), c.label("with") + " must be a mapping of step inputs, not " + describe(*with));
    }
  }
  if (const json::value* needs = member(*o, "needs")) parse_needs(*needs, c, step);
  if (const json::value* cond = member(*o, "if")) parse_if(*cond, c, spec);
  if (const json::value* each = member(*o, "foreach")) parse_foreach(*each, c, spec);
  if (const json::value* conc = member(*o, "concurrency")) {
    if (auto n = read_int(*conc, c.at("concurrency"), c.label("concurrency"), 1, kMaxConcurrency)) {
      if (spec.foreach.is_null() && member(*o, "foreach") == nullptr) {
        error(at(c.at("concurrency")), c.label("concurrency") +
                                           " only applies to a step with `foreach`; add "
                                           "`foreach` or remove `concurrency`");
      } else {
        spec.concurrency = static_cast<int>(*n);
      }
    }
  }
  if (const json::value* r = member(*o, "retry")) {
    // Fields the step leaves out come from `defaults.retry`, so `retry: {attempts: 5}` keeps
    // the workflow's back-off settings.
    spec.retry = parse_retry(*r, c.at("retry"), c.phrase, wf.default_retry);
  }
  if (const json::value* t = member(*o, "timeout")) {
    spec.timeout = read_duration(*t, c.at("timeout"), c.label("timeout"));
  }
  if (is_lua) parse_lua(*o, c, name_for_messages, spec);
  return step;
}

// Where a step's inline program starts. For a YAML block scalar (`code: |`) the value's position
// is the indicator on the key's line, and the program starts on the next line; a quoted or plain
// value starts where it stands.
int Validator::code_start_line(const std::string& path) const {
  const SourceLocation where = at(path);
  if (where.line <= 0) return 1;
  if (format_ != "yaml" || where.column <= 0) return where.line;
  std::size_t offset = 0;
  for (int line = 1; line < where.line && offset != std::string_view::npos; ++line) {
    offset = source_text_.find('\n', offset);
    if (offset != std::string_view::npos) ++offset;
  }
  if (offset == std::string_view::npos) return where.line;
  offset += static_cast<std::size_t>(where.column - 1);
  if (offset < source_text_.size() && (source_text_[offset] == '|' || source_text_[offset] == '>')) {
    return where.line + 1;
  }
  return where.line;
}

// `file:` names a program next to the workflow. It stays inside the workflow's folder (no
// absolute paths, no `..`), so that a definition cannot read arbitrary files of the host.
bool Validator::read_lua_file(const json::value& v, const Context& c, const std::string& who,
                              StepSpec& spec) {
  namespace fs = std::filesystem;
  const std::string path = c.at("file");
  if (!v.is_string() || v.get_string().empty()) {
    error(at(path), c.label("file") + " must be the path of a .lua file, not " + describe(v));
    return false;
  }
  const std::string text(v.get_string());
  if (!ctx_.allow_program_files) {
    error(at(path), c.label("file") + " is only available to workflows read from a directory; "
                                      "put the program inline with `code:`");
    return false;
  }
  const fs::path relative(text);
  if (relative.is_absolute() || relative.has_root_name() || relative.has_root_directory()) {
    error(at(path), c.label("file") + " must be relative to the workflow file's folder, not the "
                                      "absolute path `" + text + "`");
    return false;
  }
  for (const auto& part : relative) {
    if (part == "..") {
      error(at(path), c.label("file") + " must stay inside the workflow file's folder; `" + text +
                          "` uses `..`");
      return false;
    }
  }
  const fs::path full = (fs::path(file_).parent_path() / relative).lexically_normal();
  std::error_code ec;
  if (!fs::is_regular_file(full, ec)) {
    error(at(path), who + ": cannot read `" + text + "` (looked for " + full.string() + "): " +
                        (fs::exists(full, ec) ? "not a regular file" : "no such file"));
    return false;
  }
  const auto size = fs::file_size(full, ec);
  if (ec) {
    error(at(path), who + ": cannot read `" + text + "`: " + ec.message());
    return false;
  }
  if (size > kMaxLuaFileBytes) {
    error(at(path), who + ": `" + text + "` is " + std::to_string(size) +
                        " bytes; a step's program may have at most " +
                        std::to_string(kMaxLuaFileBytes) + " bytes");
    return false;
  }
  std::ifstream in(full, std::ios::binary);
  std::string code(static_cast<std::size_t>(size), '\0');
  if (!in || !in.read(code.data(), static_cast<std::streamsize>(size))) {
    error(at(path), who + ": cannot read `" + text + "`");
    return false;
  }
  spec.code = std::move(code);
  spec.code_origin = full.string();
  spec.code_line = 1;
  return true;
}

// "33554432", "32MiB", "512 KiB", "64MB": bytes for `limits.memory`.
std::optional<std::size_t> Validator::read_memory(const json::value& v, const std::string& path,
                                                  const std::string& label) {
  const std::string range = " (at least " + std::to_string(kMinLuaMemoryBytes) + " bytes, 64KiB)";
  if (!v.is_string()) {
    auto n = read_int(v, path, label, kMinLuaMemoryBytes, std::numeric_limits<std::int64_t>::max());
    if (!n) return std::nullopt;
    return static_cast<std::size_t>(*n);
  }
  const std::string text = trim(v.get_string());
  std::size_t digits = 0;
  while (digits < text.size() && is_digit(text[digits])) ++digits;
  static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {
      {"", 1},           {"B", 1},          {"KB", 1000},        {"KiB", 1u << 10},
      {"MB", 1'000'000}, {"MiB", 1u << 20}, {"GB", 1'000'000'000}, {"GiB", 1u << 30}};
  const std::string unit = trim(std::string_view(text).substr(digits));
  const auto* found = std::find_if(std::begin(kUnits), std::end(kUnits),
                                   [&](const auto& u) { return u.first == unit; });
  std::uint64_t count = 0;
  const bool number_ok =
      digits > 0 && digits <= 12 &&
      std::from_chars(text.data(), text.data() + digits, count).ec == std::errc();
  if (!number_ok || found == std::end(kUnits)) {
    error(at(path), label + " must be a number of bytes or a size such as 32MiB or 512KiB, not `" +
                        text + "`");
    return std::nullopt;
  }
  const std::uint64_t bytes = count * found->second;  // at most 12 digits × 2^30: no overflow
  if (bytes < static_cast<std::uint64_t>(kMinLuaMemoryBytes)) {
    error(at(path), label + " is too small: `" + text + "` is " + std::to_string(bytes) +
                        " bytes" + range);
    return std::nullopt;
  }
  return static_cast<std::size_t>(bytes);
}

void Validator::parse_lua_limits(const json::value& v, const Context& c, StepSpec& spec) {
  const std::string path = c.at("limits");
  if (v.is_null()) return;
  const json::object* o = want_object(v, path, c.label("limits"),
                                      "a mapping such as {instructions: 1000000, memory: 32MiB, "
                                      "time: 5s}");
  if (o == nullptr) return;
  const Context lc{path, "in `limits` " + c.phrase};
  check_keys(*o, lc, kLuaLimitKeys);
  if (const json::value* n = member(*o, "instructions")) {
    if (auto count = read_int(*n, lc.at("instructions"), lc.label("instructions"),
                              kMinLuaInstructions, std::numeric_limits<std::int64_t>::max())) {
      spec.max_instructions = static_cast<std::uint64_t>(*count);
    }
  }
  if (const json::value* m = member(*o, "memory")) {
    spec.max_memory_bytes = read_memory(*m, lc.at("memory"), lc.label("memory"));
  }
  if (const json::value* t = member(*o, "time")) {
    // read_duration refuses zero and negative durations.
    spec.max_time = read_duration(*t, lc.at("time"), lc.label("time"));
  }
}

// A `lua` step's program (`code:` or `file:`, exactly one) and its limits. The program is
// compiled here so that a syntax error is a load error, at the line of the program it is on.
void Validator::parse_lua(const json::object& o, const Context& c, const std::string& who,
                          StepSpec& spec) {
  const json::value* code = member(o, "code");
  const json::value* file = member(o, "file");
  if (code != nullptr && code->is_null()) code = nullptr;
  if (file != nullptr && file->is_null()) file = nullptr;
  if (const json::value* l = member(o, "limits")) parse_lua_limits(*l, c, spec);
  if (code != nullptr && file != nullptr) {
    error(key_at(c.at("file")), who + " has both `code` and `file`; keep one");
    return;
  }
  if (code == nullptr && file == nullptr) {
    error(at(c.path), who + " has no program; add `code:` (inline Lua) or `file:` (a .lua file "
                            "next to the workflow)");
    return;
  }
  if (code != nullptr) {
    if (!code->is_string()) {
      error(at(c.at("code")), c.label("code") + " must be Lua source text, not " + describe(*code));
      return;
    }
    if (trim(code->get_string()).empty()) {
      error(at(c.at("code")), c.label("code") + " is empty; write a program that ends with "
                                                "`return value`");
      return;
    }
    spec.code = std::string(code->get_string());
    spec.code_origin = file_;
    spec.code_line = code_start_line(c.at("code"));
  } else if (!read_lua_file(*file, c, who, spec)) {
    return;
  }
  // A short chunk name: Lua shortens long ones in its messages, which would hide the line.
  if (auto problem = scripting::check_program(spec.code, "code")) {
    const int line = problem->line > 0 ? spec.code_line + problem->line - 1 : spec.code_line;
    error(SourceLocation{spec.code_origin, line, 1},
          who + ": the Lua code does not compile: " + problem->message);
  }
}

void Validator::parse_needs(const json::value& v, const Context& c, ParsedStep& step) {
  const std::string path = c.at("needs");
  auto add = [&](const json::value& item, const std::string& item_path) {
    if (!item.is_string()) {
      error(at(item_path), c.label("needs") + " must name steps by id, not " + describe(item));
      return;
    }
    std::string id(item.get_string());
    for (const auto& [existing, unused] : step.needs) {
      if (existing == id) return;  // listing a dependency twice changes nothing
    }
    step.needs.emplace_back(std::move(id), item_path);
  };
  if (v.is_null()) return;
  if (v.is_string()) {
    add(v, path);
  } else if (v.is_array()) {
    const auto& items = v.get_array();
    for (std::size_t i = 0; i < items.size(); ++i) add(items[i], index_path(path, i));
  } else {
    error(at(path), c.label("needs") + " must be a step id or a list of step ids, not " + describe(v));
  }
}

void Validator::parse_if(const json::value& v, const Context& c, StepSpec& spec) {
  const std::string path = c.at("if");
  if (v.is_bool()) {
    spec.if_expression = v.get_bool() ? "true" : "false";
    return;
  }
  if (!v.is_string()) {
    error(at(path), c.label("if") + " must be an expression such as ${{ inputs.enabled }}, not " + describe(v));
    return;
  }
  const std::string_view text = v.get_string();
  if (!has_template(text)) {
    // A bare expression: `if: inputs.enabled`.
    spec.if_expression = trim(text);
    check_expression(spec.if_expression, path);
    return;
  }
  std::string why;
  auto tmpl = scripting::Template::parse(text, &why);
  if (!tmpl) {
    error(at(path), unterminated_message(path, why));
    return;
  }
  if (!tmpl->is_single_expression()) {
    error(at(path), c.label("if") + " must be one expression, written bare or as ${{ … }}, not `" +
                        std::string(text) + "`");
    return;
  }
  for (const auto& part : tmpl->parts()) {
    if (part.is_expression) spec.if_expression = trim(part.text);
  }
  check_expression(spec.if_expression, path);
}

void Validator::parse_foreach(const json::value& v, const Context& c, StepSpec& spec) {
  const std::string path = c.at("foreach");
  if (v.is_array()) {
    check_templates(v, path);
    spec.foreach = v;
    return;
  }
  if (v.is_string()) {
    const std::string_view text = v.get_string();
    std::string why;
    auto tmpl = scripting::Template::parse(text, &why);
    if (!tmpl) {
      error(at(path), unterminated_message(path, why));
      return;
    }
    if (!tmpl->is_single_expression()) {
      error(at(path), c.label("foreach") + " must be one ${{ … }} expression or a list, not `" +
                          std::string(text) + "`");
      return;
    }
    for (const auto& part : tmpl->parts()) {
      if (part.is_expression) check_expression(part.text, path);
    }
    spec.foreach = v;
    return;
  }
  error(at(path), c.label("foreach") + " must be one ${{ … }} expression or a list, not " + describe(v));
}

void Validator::check_graph(std::vector<ParsedStep>& main, std::vector<ParsedStep>& on_failure) {
  // id → (is on_failure, index); the first definition wins, later ones are duplicates.
  std::unordered_map<std::string, std::pair<bool, std::size_t>> ids;
  std::vector<std::string> main_ids;
  std::vector<std::string> failure_ids;
  for (auto* list : {&main, &on_failure}) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      ParsedStep& step = (*list)[i];
      if (!step.has_id) continue;
      auto [it, inserted] = ids.emplace(step.spec.id, std::make_pair(step.on_failure, i));
      if (!inserted) {
        const auto& [first_on_failure, first_index] = it->second;
        const ParsedStep& first = first_on_failure ? on_failure[first_index] : main[first_index];
        error(at(child_path(step.path, "id")),
              "duplicate step id `" + step.spec.id + "`; the first is on line " +
                  std::to_string(at(child_path(first.path, "id")).line));
        step.has_id = false;  // keep it out of the graph
        continue;
      }
      (step.on_failure ? failure_ids : main_ids).push_back(step.spec.id);
    }
  }
  for (auto* list : {&main, &on_failure}) {
    for (ParsedStep& step : *list) {
      const std::string who = (step.on_failure ? "on_failure step `" : "step `") +
                              (step.spec.id.empty() ? "?" : step.spec.id) + "`";
      for (const auto& [need, path] : step.needs) {
        auto it = ids.find(need);
        if (it == ids.end()) {
          error(at(path), who + " needs `" + need + "`, which is not a step",
                nearest_name(need, step.on_failure ? failure_ids : main_ids));
          continue;
        }
        const bool target_on_failure = it->second.first;
        if (target_on_failure != step.on_failure) {
          error(at(path), step.on_failure
                              ? who + " needs `" + need +
                                    "`, a main step; on_failure steps may only need other "
                                    "on_failure steps"
                              : who + " needs `" + need +
                                    "`, an on_failure step; main steps cannot wait for on_failure "
                                    "steps");
          continue;
        }
        step.spec.needs.push_back(need);
      }
    }
  }
  report_cycles(main);
  report_cycles(on_failure);
}

// Tarjan's strongly connected components, iteratively (a long chain of steps must not exhaust
// the stack); each component with a cycle is reported once, as one concrete cycle through its
// first step in file order.
void Validator::report_cycles(const std::vector<ParsedStep>& steps) {
  const std::size_t n = steps.size();
  std::unordered_map<std::string_view, std::size_t> index_of;
  for (std::size_t i = 0; i < n; ++i) {
    if (steps[i].has_id) index_of.emplace(steps[i].spec.id, i);
  }
  std::vector<std::vector<std::size_t>> edges(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!steps[i].has_id) continue;
    for (const auto& need : steps[i].spec.needs) {
      if (auto it = index_of.find(need); it != index_of.end()) edges[i].push_back(it->second);
    }
  }
  constexpr std::size_t kUnvisited = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> order(n, kUnvisited);
  std::vector<std::size_t> low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<std::size_t> stack;
  std::vector<std::size_t> component_of(n, kUnvisited);
  std::vector<std::vector<std::size_t>> components;
  std::size_t counter = 0;
  for (std::size_t root = 0; root < n; ++root) {
    if (order[root] != kUnvisited) continue;
    std::vector<std::pair<std::size_t, std::size_t>> work{{root, 0}};
    order[root] = low[root] = counter++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!work.empty()) {
      auto& [node, next_edge] = work.back();
      if (next_edge < edges[node].size()) {
        const std::size_t to = edges[node][next_edge++];
        if (order[to] == kUnvisited) {
          order[to] = low[to] = counter++;
          stack.push_back(to);
          on_stack[to] = true;
          work.emplace_back(to, 0);
        } else if (on_stack[to]) {
          low[node] = std::min(low[node], order[to]);
        }
        continue;
      }
      const std::size_t done = node;
      work.pop_back();
      if (!work.empty()) low[work.back().first] = std::min(low[work.back().first], low[done]);
      if (low[done] == order[done]) {
        std::vector<std::size_t> component;
        std::size_t member_index = 0;
        do {
          member_index = stack.back();
          stack.pop_back();
          on_stack[member_index] = false;
          component_of[member_index] = components.size();
          component.push_back(member_index);
        } while (member_index != done);
        components.push_back(std::move(component));
      }
    }
  }

  std::vector<std::vector<std::size_t>> cyclic;
  for (auto& component : components) {
    const std::size_t first = *std::min_element(component.begin(), component.end());
    const bool self_loop = std::find(edges[first].begin(), edges[first].end(), first) != edges[first].end();
    if (component.size() > 1 || self_loop) cyclic.push_back(component);
  }
  std::sort(cyclic.begin(), cyclic.end(), [](const auto& a, const auto& b) {
    return *std::min_element(a.begin(), a.end()) < *std::min_element(b.begin(), b.end());
  });
  for (const auto& component : cyclic) {
    const std::size_t start = *std::min_element(component.begin(), component.end());
    const std::size_t id = component_of[start];
    // Shortest way from `start` back to itself inside the component (breadth-first).
    std::vector<std::size_t> parent(n, kUnvisited);
    std::vector<std::size_t> queue{start};
    std::size_t last = kUnvisited;
    for (std::size_t q = 0; q < queue.size() && last == kUnvisited; ++q) {
      const std::size_t node = queue[q];
      std::vector<std::size_t> next = edges[node];
      std::sort(next.begin(), next.end());
      for (std::size_t to : next) {
        if (component_of[to] != id) continue;
        if (to == start) {
          last = node;
          break;
        }
        if (parent[to] == kUnvisited) {
          parent[to] = node;
          queue.push_back(to);
        }
      }
    }
    std::vector<std::size_t> path;
    for (std::size_t node = last; node != start; node = parent[node]) path.push_back(node);
    path.push_back(start);
    std::reverse(path.begin(), path.end());
    std::string text;
    for (std::size_t node : path) text += steps[node].spec.id + " → ";
    text += steps[start].spec.id;
    error(at(child_path(steps[start].path, "needs")),
          "steps form a cycle: " + text + " (each step needs the next)");
  }
}

// Stable topological order (Kahn's algorithm, ready steps in file order).
std::vector<std::size_t> Validator::dependency_order(const std::vector<ParsedStep>& steps) const {
  const std::size_t n = steps.size();
  std::unordered_map<std::string_view, std::size_t> index_of;
  for (std::size_t i = 0; i < n; ++i) index_of.emplace(steps[i].spec.id, i);
  std::vector<std::size_t> waiting(n, 0);
  std::vector<std::vector<std::size_t>> dependents(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& need : steps[i].spec.needs) {
      const std::size_t from = index_of.at(need);
      dependents[from].push_back(i);
      ++waiting[i];
    }
  }
  std::set<std::size_t> ready;
  for (std::size_t i = 0; i < n; ++i) {
    if (waiting[i] == 0) ready.insert(i);
  }
  std::vector<std::size_t> order;
  while (!ready.empty()) {
    const std::size_t next = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(next);
    for (std::size_t d : dependents[next]) {
      if (--waiting[d] == 0) ready.insert(d);
    }
  }
  return order;
}

LoadResult Validator::run(std::string_view source_text, std::string_view format) {
  LoadResult result;
  source_text_ = source_text;
  format_ = format;
  if (!doc_.root.is_object()) {
    error(at(""), "a workflow must be a mapping with keys such as `id` and `steps`, not " +
                      describe(doc_.root));
    result.diagnostics = std::move(diagnostics_);
    return result;
  }
  const json::object& root = doc_.root.get_object();
  const Context top{"", ""};
  auto wf = std::make_shared<Workflow>();
  check_keys(root, top, kTopKeys);

  const json::value* id = member(root, "id");
  if (id == nullptr || id->is_null()) {
    error(at(""), "the workflow has no `id`; add one such as `id: weekly-report`");
  } else if (!id->is_string()) {
    error(at("id"), "`id` must be text, not " + describe(*id));
  } else {
    wf->id = std::string(id->get_string());
    if (!valid_workflow_id(wf->id)) {
      error(at("id"),
            "workflow id `" + wf->id +
                "` is not valid: use lowercase letters, digits, `-` and `_`, starting with a "
                "letter or digit, at most 64 characters",
            workflow_id_suggestion(wf->id));
    }
  }
  if (auto s = read_string(root, "name", top)) wf->name = *s;
  if (wf->name.empty()) wf->name = wf->id;
  if (auto s = read_string(root, "description", top)) wf->description = *s;
  if (const json::value* v = member(root, "inputs")) parse_inputs(*v, *wf);
  if (const json::value* v = member(root, "triggers")) parse_triggers(*v, *wf);
  if (const json::value* v = member(root, "concurrency")) parse_concurrency(*v, *wf);
  if (const json::value* v = member(root, "timeout")) wf->timeout = read_duration(*v, "timeout", "`timeout`");
  if (const json::value* v = member(root, "defaults")) parse_defaults(*v, *wf);
  if (const json::value* v = member(root, "outputs"); v != nullptr && !v->is_null()) {
    if (const json::object* o = want_object(*v, "outputs", "`outputs`", "a mapping of names to values")) {
      wf->outputs = *o;
      check_templates(*v, "outputs");
    }
  }

  const json::value* steps = member(root, "steps");
  const json::value* failure = member(root, "on_failure");
  std::size_t step_count = 0;
  if (steps != nullptr && steps->is_array()) step_count += steps->get_array().size();
  if (failure != nullptr && failure->is_array()) step_count += failure->get_array().size();
  std::vector<ParsedStep> main_steps;
  std::vector<ParsedStep> failure_steps;
  if (step_count > ctx_.limits.max_steps) {
    // Checking each of them would only bury this message.
    error(at("steps"), "the workflow has " + std::to_string(step_count) + " steps; the limit is " +
                           std::to_string(ctx_.limits.max_steps));
  } else {
    if (steps == nullptr || steps->is_null()) {
      error(at(""), "the workflow has no `steps`; add a list of steps");
    } else {
      parse_steps(*steps, "steps", false, main_steps, *wf);
      if (steps->is_array() && steps->get_array().empty()) {
        error(at("steps"), "`steps` is empty; a workflow needs at least one step");
      }
    }
    if (failure != nullptr && !failure->is_null()) {
      parse_steps(*failure, "on_failure", true, failure_steps, *wf);
    }
    check_graph(main_steps, failure_steps);
  }

  if (!diagnostics_.empty()) {
    result.diagnostics = std::move(diagnostics_);
    sort_by_position(result.diagnostics);
    return result;
  }
  for (auto& step : main_steps) wf->steps.push_back(std::move(step.spec));
  for (std::size_t i : dependency_order(failure_steps)) {
    wf->on_failure.push_back(std::move(failure_steps[i].spec));
  }
  wf->source_file = file_;
  wf->source_text = std::string(source_text);
  wf->source_format = std::string(format);
  wf->version = content_hash(source_text);
  wf->locations = doc_.locations;
  result.workflow = std::move(wf);
  return result;
}

bool has_extension(const std::filesystem::path& file, std::string_view ext) {
  std::string actual = file.extension().string();
  std::transform(actual.begin(), actual.end(), actual.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return actual == ext;
}

}  // namespace

LoadResult build_workflow(const LocatedDocument& doc, const std::string& file_name,
                          std::string_view source_text, std::string_view format,
                          const LoadContext& ctx) {
  try {
    Validator validator(doc, file_name, ctx);
    return validator.run(source_text, format);
  } catch (const std::exception& e) {
    // Bad input never gets here; this keeps a host failure (e.g. out of memory) a value too.
    LoadResult result;
    result.diagnostics.push_back(
        Diagnostic{SourceLocation{file_name, 0, 0}, std::string("cannot validate the workflow: ") + e.what(), ""});
    return result;
  }
}

LoadResult load_workflow_yaml(std::string_view text, const std::string& file_name,
                              const LoadContext& ctx) {
  auto parsed = detail::parse_yaml_document(text, file_name, ctx.limits);
  if (!parsed.document) {
    LoadResult result;
    result.diagnostics = std::move(parsed.diagnostics);
    return result;
  }
  LoadResult result = build_workflow(*parsed.document, file_name, text, "yaml", ctx);
  if (!parsed.diagnostics.empty()) {
    // Problems found while reading (duplicate keys) come first, in file order with the rest.
    result.workflow.reset();
    parsed.diagnostics.insert(parsed.diagnostics.end(), result.diagnostics.begin(),
                              result.diagnostics.end());
    result.diagnostics = std::move(parsed.diagnostics);
    sort_by_position(result.diagnostics);
  }
  return result;
}

LoadResult load_workflow_file(const std::filesystem::path& file, const LoadContext& ctx) {
  const std::string file_name = file.string();
  auto fail = [&](std::string message) {
    LoadResult result;
    result.diagnostics.push_back(Diagnostic{SourceLocation{file_name, 0, 0}, std::move(message), ""});
    return result;
  };
  const bool is_lua = has_extension(file, ".lua");
  if (!is_lua && !has_extension(file, ".yaml") && !has_extension(file, ".yml")) {
    return fail("cannot load `" + file.filename().string() +
                "`: workflow files end in .yaml, .yml or .lua");
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return fail("cannot read the file: " + ec.message());
  // Checked before reading, so that a huge file costs nothing.
  if (size > ctx.limits.max_file_bytes) {
    return fail("the file is " + std::to_string(size) + " bytes; the limit is " +
                std::to_string(ctx.limits.max_file_bytes));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail("cannot open the file");
  std::string text;
  text.resize(static_cast<std::size_t>(size));
  in.read(text.data(), static_cast<std::streamsize>(size));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return is_lua ? load_workflow_lua(text, file_name, ctx) : load_workflow_yaml(text, file_name, ctx);
}

bool is_valid_workflow_id(std::string_view id) { return valid_workflow_id(id); }

}  // namespace flowpilot::engine
