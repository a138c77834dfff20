#include "scripting/expression.h"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <mutex>
#include <optional>
#include <thread>

#include "scripting/detail/json_bridge.h"
#include "scripting/detail/sandbox_state.h"

namespace flowpilot::scripting {

namespace json = boost::json;

std::string_view to_string(EvalError::Kind kind) {
  switch (kind) {
    case EvalError::Kind::compile:
      return "compile";
    case EvalError::Kind::runtime:
      return "runtime";
    case EvalError::Kind::instruction_limit:
      return "instruction_limit";
    case EvalError::Kind::memory_limit:
      return "memory_limit";
    case EvalError::Kind::time_limit:
      return "time_limit";
    case EvalError::Kind::conversion:
      return "conversion";
  }
  return "unknown";
}

void Scope::bind(std::string name, const json::value& value) {
  // A later bind of the same name replaces the earlier one rather than shadowing it silently.
  for (auto& binding : bindings_) {
    if (binding.first == name) {
      binding.second = &value;
      return;
    }
  }
  bindings_.emplace_back(std::move(name), &value);
}

// Idle states, handed out one per evaluation. States are created lazily, so an engine that is
// never used costs nothing, and one that hit a limit is dropped rather than returned.
class ExpressionEngine::Pool {
 public:
  explicit Pool(std::size_t capacity) : capacity_(capacity) {}

  std::unique_ptr<detail::SandboxState> acquire() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        std::unique_ptr<detail::SandboxState> state = std::move(idle_.back());
        idle_.pop_back();
        return state;
      }
    }
    // Built outside the lock: setting up a state takes tens of microseconds.
    return std::make_unique<detail::SandboxState>();
  }

  void release(std::unique_ptr<detail::SandboxState> state) {
    if (!state->reusable()) {
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() < capacity_) {
      idle_.push_back(std::move(state));
    }
  }

 private:
  const std::size_t capacity_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<detail::SandboxState>> idle_;  // guarded by mutex_
};

namespace {

// Returns the state to the pool when an evaluation ends, by return or by exception. A state that
// saw an exception mid-evaluation is dropped: its Lua stack may hold anything.
// A template only because ExpressionEngine::Pool is private and cannot be named here.
template <class PoolType>
class Borrowed {
 public:
  explicit Borrowed(PoolType& pool) : pool_(pool), state_(pool.acquire()) {}
  Borrowed(const Borrowed&) = delete;
  Borrowed& operator=(const Borrowed&) = delete;
  ~Borrowed() {
    if (std::uncaught_exceptions() == exceptions_) {
      pool_.release(std::move(state_));
    }
  }
  detail::SandboxState* operator->() const { return state_.get(); }

 private:
  PoolType& pool_;
  std::unique_ptr<detail::SandboxState> state_;
  int exceptions_ = std::uncaught_exceptions();
};

std::size_t default_pool_size(std::size_t requested) {
  if (requested != 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

bool is_blank(std::string_view text) { return trim(text).empty(); }

bool is_lua_keyword(std::string_view word) {
  static constexpr std::string_view kKeywords[] = {
      "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
      "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while"};
  return std::find(std::begin(kKeywords), std::end(kKeywords), word) != std::end(kKeywords);
}

// `name.field.field...` read straight from the scope, without Lua: most templates are such paths
// (`${{ trigger.body }}`, `${{ steps.read.output.rows }}`), and a path answers what Lua would:
// each name is a binding or an existing object member. Anything else (a missing member, an index,
// a keyword, an operator, a call) returns nullopt and goes to Lua, which has the last word on
// semantics and errors.
std::optional<json::value> read_path(std::string_view expression, const Scope& scope) {
  const json::value* at = nullptr;
  bool first = true;
  std::size_t position = 0;
  while (position <= expression.size()) {
    std::size_t end = position;
    while (end < expression.size() &&
           (std::isalnum(static_cast<unsigned char>(expression[end])) != 0 || expression[end] == '_')) {
      ++end;
    }
    const std::string_view name = expression.substr(position, end - position);
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())) != 0 ||
        is_lua_keyword(name)) {
      return std::nullopt;
    }
    if (first) {
      // The sandbox puts these above any binding of the same name (see push_environment).
      if (name == "secrets" || name == "_G") return std::nullopt;
      for (const auto& [bound, value] : scope.bindings()) {
        if (bound == name) at = value;
      }
      if (at == nullptr) return std::nullopt;
      first = false;
    } else {
      const json::object* object = at->if_object();
      const json::value* member = object != nullptr ? object->if_contains(name) : nullptr;
      if (member == nullptr) return std::nullopt;
      at = member;
    }
    if (end == expression.size()) break;
    if (expression[end] != '.') return std::nullopt;
    position = end + 1;
  }
  // Scalars leave Lua through its own conversion (integral floats become integers, text must be
  // UTF-8, there are no unsigned integers); only objects, arrays, integers and valid text are
  // certain to come out unchanged.
  if (at == nullptr) return std::nullopt;
  if (at->is_object() || at->is_array() || at->is_int64() || at->is_bool()) return *at;
  if (const json::string* text = at->if_string(); text != nullptr && detail::is_valid_utf8(*text)) {
    return *at;
  }
  return std::nullopt;
}

}  // namespace

ExpressionEngine::ExpressionEngine(Limits limits, std::size_t pool_size)
    : limits_(limits), pool_(std::make_unique<Pool>(default_pool_size(pool_size))) {}

ExpressionEngine::~ExpressionEngine() = default;

std::optional<std::string> ExpressionEngine::check(std::string_view expression) const {
  Borrowed<Pool> state(*pool_);
  return state->check(expression, limits_);
}

EvalResult ExpressionEngine::evaluate(std::string_view expression, const Scope& scope) const {
  return evaluate(expression, scope, limits_);
}

EvalResult ExpressionEngine::evaluate(std::string_view expression, const Scope& scope,
                                      const Limits& limits) const {
  if (auto value = read_path(expression, scope)) return std::move(*value);
  Borrowed<Pool> state(*pool_);
  return state->evaluate(expression, scope, limits);
}

void ExpressionEngine::with_state(const std::function<void(detail::SandboxState&)>& use) const {
  Borrowed<Pool> state(*pool_);
  use(*state.operator->());
}

// `}}` is searched for textually, so an expression cannot contain `}}` even inside a Lua string
// literal (`${{ "}}" }}` ends at the first `}}`). Expressions rarely need it; a string built with
// "}" .. "}" works around it.
std::optional<Template> Template::parse(std::string_view source, std::string* error) {
  static constexpr std::string_view kOpen = "${{";
  static constexpr std::string_view kClose = "}}";
  Template tmpl;
  std::size_t position = 0;
  while (position < source.size()) {
    const std::size_t open = source.find(kOpen, position);
    if (open == std::string_view::npos) {
      tmpl.parts_.push_back({false, std::string(source.substr(position))});
      break;
    }
    const std::size_t close = source.find(kClose, open + kOpen.size());
    if (close == std::string_view::npos) {
      if (error != nullptr) {
        *error = "unterminated `${{` at offset " + std::to_string(open);
      }
      return std::nullopt;
    }
    if (open > position) {
      tmpl.parts_.push_back({false, std::string(source.substr(position, open - position))});
    }
    const std::string_view inner = source.substr(open + kOpen.size(), close - open - kOpen.size());
    tmpl.parts_.push_back({true, std::string(trim(inner))});
    position = close + kClose.size();
  }
  return tmpl;
}

bool Template::has_expressions() const {
  return std::any_of(parts_.begin(), parts_.end(), [](const Part& p) { return p.is_expression; });
}

bool Template::is_single_expression() const {
  std::size_t expressions = 0;
  for (const Part& part : parts_) {
    if (part.is_expression) {
      ++expressions;
    } else if (!is_blank(part.text)) {
      return false;
    }
  }
  return expressions == 1;
}

EvalResult render(const ExpressionEngine& engine, const Template& tmpl, const Scope& scope) {
  if (tmpl.is_single_expression()) {
    for (const Template::Part& part : tmpl.parts()) {
      if (part.is_expression) {
        return engine.evaluate(part.text, scope);
      }
    }
  }
  std::string text;
  for (const Template::Part& part : tmpl.parts()) {
    if (!part.is_expression) {
      text += part.text;
      continue;
    }
    EvalResult value = engine.evaluate(part.text, scope);
    if (!value.ok()) {
      return value;
    }
    text += to_display_text(value.value());
  }
  return json::value(json::string(text));
}

namespace {

std::string join_key(std::string_view prefix, std::string_view key) {
  std::string path(prefix);
  if (!path.empty()) path += '.';
  path += key;
  return path;
}

std::string join_index(std::string_view prefix, std::size_t index) {
  return std::string(prefix) + "[" + std::to_string(index) + "]";
}

// Builds the rendered copy of `tmpl` into `out`. Only the template is walked; what an expression
// returns is stored as is and never looked at for `${{` again.
std::optional<EvalError> render_into(const ExpressionEngine& engine, const json::value& tmpl,
                                     const Scope& scope, const std::string& path, json::value& out,
                                     std::string* error_path) {
  if (const json::string* s = tmpl.if_string()) {
    std::string parse_error;
    std::optional<Template> parsed = Template::parse(*s, &parse_error);
    if (!parsed) {
      if (error_path != nullptr) *error_path = path;
      return EvalError{EvalError::Kind::compile, std::move(parse_error)};
    }
    if (!parsed->has_expressions()) {
      out = tmpl;
      return std::nullopt;
    }
    EvalResult rendered = render(engine, *parsed, scope);
    if (!rendered.ok()) {
      if (error_path != nullptr) *error_path = path;
      return rendered.error();
    }
    out = std::move(rendered.value());
    return std::nullopt;
  }
  if (const json::array* array = tmpl.if_array()) {
    json::array& copy = out.emplace_array();
    copy.reserve(array->size());
    for (std::size_t i = 0; i < array->size(); ++i) {
      json::value& element = copy.emplace_back(nullptr);
      if (auto error =
              render_into(engine, (*array)[i], scope, join_index(path, i), element, error_path)) {
        return error;
      }
    }
    return std::nullopt;
  }
  if (const json::object* object = tmpl.if_object()) {
    json::object& copy = out.emplace_object();
    copy.reserve(object->size());
    for (const json::key_value_pair& member : *object) {
      json::value& slot = copy[member.key()];
      if (auto error = render_into(engine, member.value(), scope, join_key(path, member.key()),
                                   slot, error_path)) {
        return error;
      }
    }
    return std::nullopt;
  }
  out = tmpl;
  return std::nullopt;
}

}  // namespace

EvalResult render_value(const ExpressionEngine& engine, const json::value& tmpl, const Scope& scope,
                        std::string_view path_prefix, std::string* error_path) {
  json::value out;
  if (auto error = render_into(engine, tmpl, scope, std::string(path_prefix), out, error_path)) {
    return std::move(*error);
  }
  return out;
}

std::string to_display_text(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return {};
    case json::kind::string:
      return std::string(v.get_string());
    default:
      return detail::to_compact_json(v);
  }
}

}  // namespace flowpilot::scripting
