// Sandboxed evaluation of `${{ }}` expressions with embedded Lua 5.4.
//
// An ExpressionEngine owns a pool of Lua states. Each state is sandboxed: only the base (minus
// load/loadfile/dofile/require/collectgarbage/...), string (minus string.dump), table, math and utf8
// libraries are reachable, chunks are loaded in text mode only, an allocator enforces a hard memory
// cap and a count hook enforces the instruction budget and the wall-time limit. Compiled chunks are
// cached per state, keyed by the expression text.
//
// Context values are handed in as borrowed Boost.JSON values through a Scope and exposed to Lua as
// read-only, lazily converted tables: an expression that reads one field of a 10 MB step output
// does not pay for converting the rest.
//
// Errors are values at this border: evaluate() never throws for bad expressions or limits; it
// returns an EvalResult carrying an EvalError. Only programming errors (std::bad_alloc of the host)
// escape as exceptions.
//
// Thread-safety: ExpressionEngine is safe to use from any number of threads at once; each call
// borrows one pooled state for its duration. A Scope is not synchronised: build it on one thread and
// do not mutate the values it borrows while an evaluation reads them.
#pragma once

#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace flowpilot::scripting {

namespace detail {
class SandboxState;
}

// Per-evaluation limits. Defaults suit expressions; the lua code step lowers or raises them.
struct Limits {
  std::uint64_t max_instructions = 1'000'000;  // Lua VM instructions, counted by the hook
  std::size_t max_memory_bytes = 16u << 20;   // bytes a state may hold on top of its baseline
  std::chrono::milliseconds max_wall_time{2000};
};

struct EvalError {
  enum class Kind {
    compile,            // the expression does not parse
    runtime,            // a Lua error raised while evaluating
    instruction_limit,  // Limits::max_instructions exceeded
    memory_limit,       // Limits::max_memory_bytes exceeded
    time_limit,         // Limits::max_wall_time exceeded
    conversion,         // the result cannot become JSON (function, cycle, NaN, ...)
  };
  Kind kind = Kind::runtime;
  std::string message;  // plain sentence, no Lua internals such as "[string \"...\"]:1:"
};

std::string_view to_string(EvalError::Kind kind);

class EvalResult {
 public:
  EvalResult(boost::json::value v) : data_(std::move(v)) {}  // NOLINT: implicit by design
  EvalResult(EvalError e) : data_(std::move(e)) {}           // NOLINT: implicit by design

  bool ok() const { return data_.index() == 0; }
  const boost::json::value& value() const { return std::get<0>(data_); }
  boost::json::value& value() { return std::get<0>(data_); }
  const EvalError& error() const { return std::get<1>(data_); }

 private:
  std::variant<boost::json::value, EvalError> data_;
};

// Looks up a secret by name. Returns nullopt when no secret of that name exists, which makes
// `secrets.NAME` raise "unknown secret `NAME`".
using SecretResolver = std::function<std::optional<std::string>(std::string_view name)>;

// The names an expression can see. Values are borrowed, not copied: the caller keeps them alive
// and unchanged until the evaluation returns.
class Scope {
 public:
  void bind(std::string name, const boost::json::value& value);
  void set_secret_resolver(SecretResolver resolver) { secrets_ = std::move(resolver); }

  const std::vector<std::pair<std::string, const boost::json::value*>>& bindings() const {
    return bindings_;
  }
  const SecretResolver& secret_resolver() const { return secrets_; }

 private:
  std::vector<std::pair<std::string, const boost::json::value*>> bindings_;
  SecretResolver secrets_;
};

class ExpressionEngine {
 public:
  // pool_size: how many Lua states to keep; 0 means one per hardware thread.
  explicit ExpressionEngine(Limits limits = {}, std::size_t pool_size = 0);
  ~ExpressionEngine();
  ExpressionEngine(const ExpressionEngine&) = delete;
  ExpressionEngine& operator=(const ExpressionEngine&) = delete;

  // Checks that `expression` (the text inside `${{ }}`) compiles. Returns the error message, or
  // nullopt when it compiles. Used by validation; evaluates nothing.
  std::optional<std::string> check(std::string_view expression) const;

  // Evaluates one expression (the text inside `${{ }}`) against `scope`.
  EvalResult evaluate(std::string_view expression, const Scope& scope) const;
  EvalResult evaluate(std::string_view expression, const Scope& scope, const Limits& limits) const;

  const Limits& limits() const { return limits_; }

  // Lends a pooled state to `use` for the duration of the call. For run_program (program.h), which
  // shares the pool so that programs and expressions run in identically prepared states.
  void with_state(const std::function<void(detail::SandboxState&)>& use) const;

 private:
  class Pool;
  Limits limits_;
  std::unique_ptr<Pool> pool_;
};

// A string that may hold `${{ expr }}` parts, parsed once.
class Template {
 public:
  struct Part {
    bool is_expression = false;
    std::string text;  // literal text, or the expression source without `${{`/`}}`
  };

  // Parses `source`. Returns nullopt and sets `error` (when given) for an unterminated `${{`.
  static std::optional<Template> parse(std::string_view source, std::string* error = nullptr);

  const std::vector<Part>& parts() const { return parts_; }
  bool has_expressions() const;
  // True when the whole string is exactly one `${{ }}` (surrounding whitespace allowed): its value
  // keeps its type (table, number, boolean) instead of being interpolated as text.
  bool is_single_expression() const;

 private:
  std::vector<Part> parts_;
};

// Renders a parsed template. A single expression keeps its type; otherwise each expression's value
// is converted to text (nil → "", integral numbers without ".0", tables as compact JSON) and
// concatenated with the literal parts.
EvalResult render(const ExpressionEngine& engine, const Template& tmpl, const Scope& scope);

// Walks a JSON value and renders every string that holds `${{ }}`; other values are copied. Keys
// are never evaluated. A value produced by an expression is never evaluated again, so data that
// happens to contain `${{ }}` stays data. On error, `error_path` (when given) receives the
// location of the failing string as a path such as `with.rows` or `with.items[2]`, relative to
// `path_prefix`.
EvalResult render_value(const ExpressionEngine& engine, const boost::json::value& tmpl,
                        const Scope& scope, std::string_view path_prefix = {},
                        std::string* error_path = nullptr);

// Converts a JSON value to the text an interpolation would produce.
std::string to_display_text(const boost::json::value& v);

}  // namespace flowpilot::scripting
