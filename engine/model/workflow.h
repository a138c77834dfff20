// The in-memory model of a workflow definition, shared by the YAML and Lua loaders, validation,
// the executor and (later) the server.
//
// A Workflow is immutable once loaded and validated; runs share it through
// std::shared_ptr<const Workflow>. Fields that may hold `${{ }}` expressions keep their source
// text (strings inside JSON values); the executor renders them with scripting::render_value when
// a step becomes ready. Durations are milliseconds.
//
// Thread-safety: a const Workflow may be read from any thread.
#pragma once

#include "engine/schema/json_schema.h"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace flowpilot::engine {

using Millis = std::chrono::milliseconds;

// 1-based line and column in a definition file. line == 0 means "whole file".
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// One validation finding: `file:line:column: message (did you mean `x`?)`.
struct Diagnostic {
  SourceLocation where;
  std::string message;     // a plain sentence, no trailing period needed
  std::string suggestion;  // nearest valid name, or empty
  std::string to_string() const;
};

enum class InputType { string, number, integer, boolean, object, array };

struct InputSpec {
  std::string name;
  InputType type = InputType::string;
  std::optional<boost::json::value> default_value;  // no default and required → must be given
  bool required = false;
  std::string description;
  std::string unit;  // shown by the wizard, e.g. "EUR" or "%"
  // The value names a connection of this type (meta_ads, slack, ...): the wizard offers the
  // stored connections of that type. The input's type is then string.
  std::string connection_type;
  std::vector<boost::json::value> allowed;  // `enum:` values, empty = any
};

enum class Backoff { exponential, fixed };

struct RetryPolicy {
  int attempts = 1;  // total attempts including the first; 1 = no retry
  Backoff backoff = Backoff::exponential;
  Millis delay{1000};       // base delay before the second attempt
  Millis max_delay{300000};  // cap for any single back-off
};

enum class OnLimit { queue, skip, cancel_running };

struct ConcurrencyPolicy {
  int limit = 0;  // 0 = unlimited
  OnLimit on_limit = OnLimit::queue;
};

enum class CatchUp { none, latest, all };

struct CronTrigger {
  std::string expression;      // 5 or 6 fields, or @hourly, @daily, ...
  std::string timezone = "UTC";
  CatchUp catch_up = CatchUp::latest;
  SourceLocation location;
};

enum class WebhookAuthScheme { none, token, hmac_sha256, github, slack, stripe };
enum class WebhookRespond { accepted, result };

struct WebhookTrigger {
  std::string path;  // POST /hooks/<path>
  WebhookAuthScheme scheme = WebhookAuthScheme::none;
  std::string secret;  // template, usually "${{ secrets.NAME }}"
  WebhookRespond respond = WebhookRespond::accepted;
  std::string idempotency_key;  // template over the request, or empty
  SourceLocation location;
};

using Trigger = std::variant<CronTrigger, WebhookTrigger>;

struct StepSpec {
  std::string id;
  std::string name;  // display name, defaults to id
  std::string uses;  // "plugin.step", e.g. "core.noop"
  std::string connection;
  boost::json::value with = boost::json::object();  // may hold templates
  std::vector<std::string> needs;
  std::string if_expression;  // the expression text (without `${{ }}`), empty = always
  // The list to fan out over: a template string ("${{ steps.x.output.rows }}") or a literal
  // array; null = no foreach.
  boost::json::value foreach;
  int concurrency = 0;  // foreach parallelism; 0 = the engine default
  std::optional<RetryPolicy> retry;  // falls back to Workflow::default_retry
  std::optional<Millis> timeout;     // falls back to Workflow::default_timeout
  SourceLocation location;

  // `uses: lua` only. The program comes from `code:` (inline) or `file:` (read at load time,
  // relative to the workflow file); `code` holds the text either way. `code_line` is the line of
  // the program's first line in `code_origin` (the workflow file, or the .lua file), so that
  // errors point there. `limits:` may lower the program's limits (instructions, memory, time).
  std::string code;
  std::string code_origin;
  int code_line = 1;
  std::optional<std::uint64_t> max_instructions;
  std::optional<std::size_t> max_memory_bytes;
  std::optional<Millis> max_time;
};

// The step kind of Lua code steps: `uses: lua`.
inline constexpr std::string_view kLuaStep = "lua";

struct Workflow {
  std::string id;
  std::string name;
  std::string description;
  std::vector<InputSpec> inputs;
  std::vector<Trigger> triggers;
  ConcurrencyPolicy concurrency;
  std::optional<Millis> timeout;  // whole run
  RetryPolicy default_retry;
  std::optional<Millis> default_timeout;
  std::vector<StepSpec> steps;       // in file order
  boost::json::object outputs;       // name → template
  std::vector<StepSpec> on_failure;  // run once when a run fails, in order of `needs`

  // Where the definition came from, and its exact text (stored with every run so that recovery
  // and re-runs use the definition the run started with).
  std::string source_file;
  std::string source_text;
  std::string source_format;  // "yaml" or "lua"
  std::string version;        // content hash of source_text (hex)

  // Field path → location, for errors found after loading (e.g. "steps[2].with.account_id").
  std::map<std::string, SourceLocation> locations;

  const StepSpec* find_step(std::string_view step_id) const;
  SourceLocation location_of(const std::string& path) const;
};

// Step kinds the loader may reference. The engine's step registry implements this; validation
// uses it to reject unknown `uses` (with the nearest name) and to check literal `with` values.
class StepCatalog {
 public:
  virtual ~StepCatalog() = default;
  virtual bool has_step(std::string_view uses) const = 0;
  virtual std::vector<std::string> step_names() const = 0;
  // The compiled input schema of a step kind, or null when it declares none.
  virtual const JsonSchema* input_schema(std::string_view uses) const {
    static_cast<void>(uses);
    return nullptr;
  }
};

std::string_view to_string(InputType t);
std::string_view to_string(OnLimit v);

}  // namespace flowpilot::engine
