// flowpilot/plugin.hpp: a header-only C++ layer over the C ABI of flowpilot/plugin.h.
//
// It turns a plugin into a list of steps, each a function of a `Call`:
//
//   #include <flowpilot/plugin.hpp>
//   namespace sdk = flowpilot::sdk;
//
//   FLOWPILOT_PLUGIN("hello", "1.0.0",
//     sdk::Step("greet", "Greets someone by name.")
//         .input_schema(R"({"type":"object","required":["name"],
//                           "properties":{"name":{"type":"string"}}})")
//         .run([](sdk::Call& call) -> boost::json::value {
//           return {{"greeting", "Hello, " + call.get_string("name") + "!"}};
//         }))
//
// Two kinds of step body:
//   - `Step::run(fn)`: synchronous. `fn(Call&)` returns the output (a boost::json::value, or
//     void for `{}`); returning completes the call. For quick, non-blocking work only.
//   - `Step::start(fn)`: asynchronous. `fn(Call&)` starts the work and returns; the call ends
//     later with `call.complete(...)` or `call.fail(...)`, typically from a callback given to
//     `call.after(...)`, `call.http(...)`, `call.rate_acquire(...)` or `call.access_token(...)`.
//
// Errors: `throw flowpilot::sdk::StepError(message, retryable, retry_after)` anywhere in a step
// body or callback ends the call with `fail`. Any other std::exception fails it as not
// retryable with its what(); anything else as "unknown exception". Nothing ever crosses the C
// boundary. Input getters throw StepError (not retryable) with a message naming the field.
//
// A call that is never completed is failed by the SDK: when the last copy of its `Call` is
// destroyed (the body returned and no callback is pending) the call fails with "ended without a
// result". Completing through the raw `fp_call*` bypasses that bookkeeping: don't.
//
// Threading (see plugin.h): a step body runs on a host worker thread, possibly several calls at
// once, and must not block; callbacks run on host worker threads. A `Call` is a cheap,
// reference-counted handle that may be copied and used from any thread. complete/fail take effect
// once; later calls and every host service used after the end are ignored, because the
// underlying fp_call handle is no longer valid then. The `Plugin` object is built once when the
// library is loaded and is read-only afterwards.
//
// Requires C++17 and Boost.JSON (link Boost::json; `flowpilot_add_plugin` does). Build plugins
// with hidden visibility (`flowpilot_add_plugin` does) so that only the entry point is exported
// and two plugins built against different SDK versions never share this header's symbols.
#ifndef FLOWPILOT_PLUGIN_HPP
#define FLOWPILOT_PLUGIN_HPP

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "flowpilot/plugin.h"

namespace flowpilot::sdk {

// A failure a step reports on purpose. `retryable` lets the host run another attempt (per the
// step's retry policy); `retry_after` asks it to wait at least that long first (0: its back-off).
class StepError : public std::runtime_error {
 public:
  explicit StepError(const std::string& message, bool retryable = false,
                     std::chrono::milliseconds retry_after = std::chrono::milliseconds(0))
      : std::runtime_error(message), retryable_(retryable), retry_after_(retry_after) {}
  bool retryable() const noexcept { return retryable_; }
  std::chrono::milliseconds retry_after() const noexcept { return retry_after_; }

 private:
  bool retryable_;
  std::chrono::milliseconds retry_after_;
};

enum class Level {
  debug = FP_LOG_DEBUG,
  info = FP_LOG_INFO,
  warn = FP_LOG_WARN,
  error = FP_LOG_ERROR
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// An outgoing request for Call::http. Every field states its default.
struct HttpRequest {
  std::string method = "GET";
  std::string url;                       // absolute http(s) URL, already encoded
  Headers headers;                       // none
  std::string body;                      // empty; set Content-Type yourself
  std::chrono::milliseconds timeout{0};  // 0: the host default (30 s)
  bool follow_redirects = false;         // each hop is SSRF-checked by the host
  bool retry_throttled = false;          // retry 429/503 honouring Retry-After
  std::uint32_t max_retries = 0;         // with retry_throttled; 0: the host default (3)
  std::vector<std::string> secrets;      // values the host must redact from its logs
};

// A response, copied out of the host's buffers so it may outlive the callback.
struct HttpResponse {
  int status = 0;   // 0: no response arrived; see `error`
  Headers headers;  // as the host reports them (the engine lower-cases names)
  std::string body;
  std::string error;  // why no response arrived, or empty

  bool ok() const { return status >= 200 && status < 300; }
  // The first header named `name`, compared case-insensitively.
  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < key.size() && same; ++i) {
        same = lower(key[i]) == lower(name[i]);
      }
      if (same) return value;
    }
    return std::nullopt;
  }

 private:
  static char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
};

// The answer of Call::access_token: a token, or why there is none.
struct AccessToken {
  std::string token;
  std::string error;
  bool retryable = false;  // e.g. the token endpoint was unreachable; false for a revoked grant
  explicit operator bool() const { return error.empty() && !token.empty(); }
  // Fails the call with the error (use when there is no token).
  [[noreturn]] void raise() const { throw StepError(error.empty() ? "no access token" : error, retryable); }
};

// The answer of Call::warehouse: a value, or why there is none.
struct HostResult {
  std::optional<boost::json::value> value;
  std::string error;
  explicit operator bool() const { return value.has_value(); }
};

// The result of Call::try_eval: a value, or the evaluator's error message.
struct Evaluated {
  std::optional<boost::json::value> value;
  std::string error;
  explicit operator bool() const { return value.has_value(); }
};

namespace detail {

inline fp_str to_fp(std::string_view s) { return fp_str{s.data(), s.size()}; }
inline std::string_view from_fp(fp_str s) {
  return s.data == nullptr ? std::string_view() : std::string_view(s.data, s.size);
}

inline const char* kind_of(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
      return "an integer";
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "a value";
}

// Converts a JSON value to T, or returns nullopt and sets `expected` to what T needs.
template <class T>
std::optional<T> convert(const boost::json::value& v, const char*& expected) {
  namespace json = boost::json;
  if constexpr (std::is_same_v<T, json::value>) {
    return v;
  } else if constexpr (std::is_same_v<T, std::string>) {
    expected = "a string";
    if (v.is_string()) return std::string(v.get_string());
  } else if constexpr (std::is_same_v<T, bool>) {
    expected = "a boolean";
    if (v.is_bool()) return v.get_bool();
  } else if constexpr (std::is_integral_v<T>) {
    expected = "an integer";
    std::int64_t n = 0;
    if (v.is_int64()) {
      n = v.get_int64();
    } else if (v.is_uint64()) {
      if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return std::nullopt;
      }
      n = static_cast<std::int64_t>(v.get_uint64());
    } else if (v.is_double()) {
      // 3.0 is an integer; YAML and template rendering produce such numbers.
      const double d = v.get_double();
      if (!(d >= -9.2e18 && d <= 9.2e18) ||
          d != static_cast<double>(static_cast<std::int64_t>(d))) {
        return std::nullopt;
      }
      n = static_cast<std::int64_t>(d);
    } else {
      return std::nullopt;
    }
    if (n < 0) {
      if constexpr (std::is_unsigned_v<T>) {
        return std::nullopt;
      } else if (n < static_cast<std::int64_t>(std::numeric_limits<T>::min())) {
        return std::nullopt;
      }
    } else if (static_cast<std::uint64_t>(n) >
               static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
      return std::nullopt;
    }
    return static_cast<T>(n);
  } else if constexpr (std::is_floating_point_v<T>) {
    expected = "a number";
    if (v.is_number()) return static_cast<T>(v.to_number<double>());
  } else if constexpr (std::is_same_v<T, json::object>) {
    expected = "an object";
    if (v.is_object()) return v.get_object();
  } else if constexpr (std::is_same_v<T, json::array>) {
    expected = "an array";
    if (v.is_array()) return v.get_array();
  } else {
    static_assert(!sizeof(T*),
                  "input_as<T>: T must be std::string, bool, an integer, a floating "
                  "point type, boost::json::value, object or array");
  }
  return std::nullopt;
}

// The shared state behind every copy of one Call.
struct CallState {
  const fp_host_api* host = nullptr;
  fp_call* call = nullptr;
  const boost::json::object* config = nullptr;
  boost::json::object input;
  std::atomic<bool> finished{false};

  CallState() = default;
  CallState(const CallState&) = delete;
  CallState& operator=(const CallState&) = delete;
  // The last handle is gone: nobody can end the call any more, so end it here rather than leave
  // the run waiting for its timeout.
  ~CallState() {
    if (!finished.exchange(true)) {
      static constexpr std::string_view kMessage =
          "the step ended without a result (no complete or fail and nothing pending)";
      host->fail(call, to_fp(kMessage), 0, 0);
    }
  }
};

}  // namespace detail

class Call;

namespace detail {
// Heap-allocated owners of a callback and a Call handle, freed after the host calls them back.
template <class F>
struct Thunk;
template <class F>
struct HttpThunk;
template <class F>
struct TokenThunk;
template <class F>
struct ResultThunk;
}  // namespace detail

// Runs `body`, turning an exception into call.fail. Used at every entry from the host.
template <class F>
void guarded(Call& call, F&& body) noexcept;

// One attempt of one step. See the header comment for threading and lifetime.
class Call {
 public:
  // Wraps a raw call; used by the SDK's trampolines and by tests with a fake host table.
  // Throws StepError when the host's input is not a JSON object.
  Call(const fp_host_api* host, fp_call* call, const boost::json::object* config = nullptr)
      : state_(std::make_shared<detail::CallState>()) {
    state_->host = host;
    state_->call = call;
    state_->config = config;
    const std::string_view text = detail::from_fp(host->input(call));
    boost::system::error_code ec;
    boost::json::value parsed =
        boost::json::parse(text.empty() ? std::string_view("{}") : text, ec);
    if (ec || !parsed.is_object()) {
      state_->finished = true;  // the thrower's catcher fails the call, not ~CallState
      throw StepError("the step's input is not a JSON object");
    }
    state_->input = std::move(parsed.get_object());
  }

  // ---- The call ----

  // The rendered `with`.
  const boost::json::object& input() const { return state_->input; }
  // The plugin's configuration (an empty object when none).
  const boost::json::object& config() const {
    static const boost::json::object kEmpty;
    return state_->config != nullptr ? *state_->config : kEmpty;
  }
  std::string step_name() const { return str(host().step_name); }
  std::string run_id() const { return str(host().run_id); }
  std::string idempotency_key() const { return str(host().idempotency_key); }
  int attempt() const { return alive() ? host().attempt(raw()) : 0; }  // 1 for the first
  bool plan_mode() const { return alive() && host().plan_mode(raw()) != 0; }
  // True once the run is cancelled or the attempt timed out (and after the call ended).
  bool cancelled() const { return !alive() || host().cancelled(raw()) != 0; }
  bool finished() const { return state_->finished.load(); }

  // The connection's credentials; nullopt when the step names no connection. Never log them.
  std::optional<boost::json::object> credentials() const {
    if (!alive()) return std::nullopt;
    const std::string_view text = detail::from_fp(host().credentials(raw()));
    if (text.empty()) return std::nullopt;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    if (ec || !v.is_object()) throw StepError("the connection's credentials are not a JSON object");
    return std::move(v.get_object());
  }

  // ---- Input getters ----
  // `input_as` requires the field; `input_opt` returns nullopt when it is absent or null;
  // `input_or` returns `fallback` then. A field of the wrong type is a StepError either way.

  template <class T>
  T input_as(std::string_view field) const {
    std::optional<T> v = input_opt<T>(field);
    if (!v) throw StepError(step_label() + " needs `" + std::string(field) + "`");
    return std::move(*v);
  }
  template <class T>
  std::optional<T> input_opt(std::string_view field) const {
    const boost::json::value* v = state_->input.if_contains(field);
    if (v == nullptr || v->is_null()) return std::nullopt;
    const char* expected = "another type";
    std::optional<T> converted = detail::convert<T>(*v, expected);
    if (!converted) {
      throw StepError(step_label() + ": `" + std::string(field) + "` must be " + expected +
                      ", not " + detail::kind_of(*v));
    }
    return converted;
  }
  template <class T>
  T input_or(std::string_view field, T fallback) const {
    std::optional<T> v = input_opt<T>(field);
    return v ? std::move(*v) : std::move(fallback);
  }
  std::string get_string(std::string_view field) const { return input_as<std::string>(field); }
  std::int64_t get_int(std::string_view field) const { return input_as<std::int64_t>(field); }
  bool get_bool(std::string_view field) const { return input_as<bool>(field); }

  // ---- Host services ----

  void log(Level level, std::string_view message) const { log(level, message, nullptr); }
  void log(Level level, std::string_view message, const boost::json::object& fields) const {
    log(level, message, &fields);
  }
  void progress(double fraction, std::string_view note = {}) const {
    if (alive()) host().progress(raw(), fraction, detail::to_fp(note));
  }

  // Calls `fn(Call&)` on a worker thread after `delay`, or at once when the call is cancelled
  // first (check cancelled()). Never blocks.
  template <class F>
  void after(std::chrono::milliseconds delay, F&& fn) const {
    if (!alive()) return;
    auto* thunk = new detail::Thunk<std::decay_t<F>>{*this, std::forward<F>(fn)};
    host().after(raw(), delay.count() < 0 ? 0 : static_cast<std::uint64_t>(delay.count()),
                 &detail::Thunk<std::decay_t<F>>::on_callback, thunk);
  }

  // Sends `request` through the host's HTTP client; `fn(Call&, const HttpResponse&)` runs on a
  // worker thread with the response (status 0 and `error` set when none arrived).
  template <class F>
  void http(const HttpRequest& request, F&& fn) const {
    if (!alive()) return;
    std::vector<fp_header> headers;
    headers.reserve(request.headers.size());
    for (const auto& [name, value] : request.headers) {
      headers.push_back(fp_header{detail::to_fp(name), detail::to_fp(value)});
    }
    std::vector<fp_str> secrets;
    secrets.reserve(request.secrets.size());
    for (const auto& s : request.secrets) secrets.push_back(detail::to_fp(s));
    fp_http_request raw_request{};
    raw_request.struct_size = sizeof(fp_http_request);
    raw_request.method = detail::to_fp(request.method);
    raw_request.url = detail::to_fp(request.url);
    raw_request.headers = headers.empty() ? nullptr : headers.data();
    raw_request.header_count = headers.size();
    raw_request.body = detail::to_fp(request.body);
    const auto timeout = request.timeout.count();
    raw_request.timeout_ms = timeout <= 0
                                 ? 0u
                                 : static_cast<std::uint32_t>(std::min<std::int64_t>(
                                       timeout, std::numeric_limits<std::uint32_t>::max()));
    raw_request.flags = (request.follow_redirects ? FP_HTTP_FOLLOW_REDIRECTS : 0u) |
                        (request.retry_throttled ? FP_HTTP_RETRY_THROTTLED : 0u);
    raw_request.max_retries = request.max_retries;
    raw_request.secrets = secrets.empty() ? nullptr : secrets.data();
    raw_request.secret_count = secrets.size();
    auto* thunk = new detail::HttpThunk<std::decay_t<F>>{*this, std::forward<F>(fn)};
    host().http_send(raw(), &raw_request, &detail::HttpThunk<std::decay_t<F>>::on_response, thunk);
  }

  // Waits for `tokens` from the shared rate limiter `key`, then calls `fn(Call&)`.
  template <class F>
  void rate_acquire(std::string_view key, double tokens, F&& fn) const {
    if (!alive()) return;
    auto* thunk = new detail::Thunk<std::decay_t<F>>{*this, std::forward<F>(fn)};
    host().rate_acquire(raw(), detail::to_fp(key), tokens,
                        &detail::Thunk<std::decay_t<F>>::on_callback, thunk);
  }

  // Makes the shared rate limiter `key` (and a connection of that name) hold every caller back
  // for `delay`: the back-off an API asked for then holds for every run using the account.
  // A host older than ABI 1.1 has no such service; the call then only affects this attempt
  // through its own retry delay, so this is a no-op there.
  void rate_pause(std::string_view key, std::chrono::milliseconds delay) const {
    if (!alive() || !FP_HOST_HAS(&host(), rate_pause) || delay.count() <= 0) return;
    host().rate_pause(raw(), detail::to_fp(key), static_cast<std::uint64_t>(delay.count()));
  }

  // Gets an access token for the step's connection (OAuth2 refresh with a shared cache, or the
  // connection's static token), then calls `fn(Call&, const AccessToken&)` on a worker thread.
  // Pass `refresh = true` after the API refused the token it was given.
  template <class F>
  void access_token(bool refresh, F&& fn) const {
    if (!alive()) return;
    if (!FP_HOST_HAS(&host(), access_token)) {
      throw StepError("this flowpilot is too old for the step: it lacks access_token (ABI 1.1)");
    }
    auto* thunk = new detail::TokenThunk<std::decay_t<F>>{*this, std::forward<F>(fn)};
    host().access_token(raw(), refresh ? FP_TOKEN_REFRESH : 0u,
                        &detail::TokenThunk<std::decay_t<F>>::on_token, thunk);
  }

  // Sends a request to the marketing warehouse (see plugin.h for the operations), then calls
  // `fn(Call&, const HostResult&)` on a worker thread.
  template <class F>
  void warehouse(const boost::json::value& request, F&& fn) const {
    if (!alive()) return;
    if (!FP_HOST_HAS(&host(), warehouse)) {
      throw StepError("this flowpilot is too old for the step: it lacks the warehouse (ABI 1.1)");
    }
    const std::string text = boost::json::serialize(request);
    auto* thunk = new detail::ResultThunk<std::decay_t<F>>{*this, std::forward<F>(fn)};
    host().warehouse(raw(), detail::to_fp(text), &detail::ResultThunk<std::decay_t<F>>::on_result, thunk);
  }

  // Evaluates a sandboxed Lua expression with `row` bound as `row` (see plugin.h).
  Evaluated try_eval(std::string_view expression,
                     const boost::json::value& row = boost::json::value()) const {
    Evaluated out;
    if (!alive()) {
      out.error = "the call has ended";
      return out;
    }
    const std::string row_text = boost::json::serialize(row);
    fp_buffer result{nullptr, 0};
    const int rc = host().eval(raw(), detail::to_fp(expression), detail::to_fp(row_text), &result);
    // Own the host's buffer at once, so nothing below can leak it.
    struct Release {
      const fp_host_api* host;
      fp_buffer* buffer;
      ~Release() {
        if (buffer->data != nullptr) host->buffer_free(buffer);
      }
    } release{&host(), &result};
    const std::string_view text(result.data == nullptr ? "" : result.data, result.size);
    if (rc != 0) {
      out.error = std::string(text);
      return out;
    }
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    if (ec) {
      out.error = "the evaluator returned invalid JSON";
      return out;
    }
    out.value = std::move(v);
    return out;
  }
  // Like try_eval, but an error is a StepError (not retryable).
  boost::json::value eval(std::string_view expression,
                          const boost::json::value& row = boost::json::value()) const {
    Evaluated e = try_eval(expression, row);
    if (!e) throw StepError("`" + std::string(expression) + "`: " + e.error);
    return std::move(*e.value);
  }

  // ---- Ending the call (once; later calls are ignored) ----

  void complete(const boost::json::value& output) const {
    const std::string text = boost::json::serialize(output);
    if (state_->finished.exchange(true)) return;
    host().complete(raw(), detail::to_fp(text));
  }
  void fail(std::string_view message, bool retryable = false,
            std::chrono::milliseconds retry_after = std::chrono::milliseconds(0)) const {
    if (state_->finished.exchange(true)) return;
    host().fail(raw(), detail::to_fp(message), retryable ? FP_ERROR_RETRYABLE : 0u,
                retry_after.count() > 0 ? static_cast<std::int64_t>(retry_after.count()) : 0);
  }
  void fail(const StepError& error) const {
    fail(error.what(), error.retryable(), error.retry_after());
  }

  // The raw handle, for host functions this header does not wrap. Never end the call with it.
  fp_call* raw() const { return state_->call; }
  const fp_host_api& host() const { return *state_->host; }

 private:
  bool alive() const { return !state_->finished.load(); }
  std::string str(fp_str (*fn)(const fp_call*)) const {
    return alive() ? std::string(detail::from_fp(fn(raw()))) : std::string();
  }
  std::string step_label() const {
    std::string name = step_name();
    return name.empty() ? std::string("the step") : name;
  }
  void log(Level level, std::string_view message, const boost::json::object* fields) const {
    if (!alive()) return;
    const std::string fields_text = fields != nullptr ? boost::json::serialize(*fields) : "";
    host().log(raw(), static_cast<int>(level), detail::to_fp(message), detail::to_fp(fields_text));
  }

  std::shared_ptr<detail::CallState> state_;
};

namespace detail {

template <class F>
struct Thunk {
  Call call;
  F fn;
  static void on_callback(fp_call*, void* user) {
    std::unique_ptr<Thunk> self(static_cast<Thunk*>(user));
    guarded(self->call, [&] { self->fn(self->call); });
  }
};
template <class F>
struct HttpThunk {
  Call call;
  F fn;
  static void on_response(fp_call*, const fp_http_response* response, void* user) {
    std::unique_ptr<HttpThunk> self(static_cast<HttpThunk*>(user));
    guarded(self->call, [&] {
      HttpResponse copy;
      if (response != nullptr) {
        copy.status = response->status;
        copy.headers.reserve(response->header_count);
        for (std::size_t i = 0; i < response->header_count; ++i) {
          copy.headers.emplace_back(std::string(detail::from_fp(response->headers[i].name)),
                                    std::string(detail::from_fp(response->headers[i].value)));
        }
        copy.body = std::string(detail::from_fp(response->body));
        copy.error = std::string(detail::from_fp(response->error));
      } else {
        copy.error = "no response";
      }
      self->fn(self->call, static_cast<const HttpResponse&>(copy));
    });
  }
};

template <class F>
struct TokenThunk {
  Call call;
  F fn;
  static void on_token(fp_call*, fp_str token, fp_str error, uint32_t error_flags, void* user) {
    std::unique_ptr<TokenThunk> self(static_cast<TokenThunk*>(user));
    guarded(self->call, [&] {
      AccessToken answer;
      answer.token = std::string(detail::from_fp(token));
      answer.error = std::string(detail::from_fp(error));
      answer.retryable = (error_flags & FP_ERROR_RETRYABLE) != 0;
      self->fn(self->call, static_cast<const AccessToken&>(answer));
    });
  }
};

template <class F>
struct ResultThunk {
  Call call;
  F fn;
  static void on_result(fp_call*, int status, fp_str result, void* user) {
    std::unique_ptr<ResultThunk> self(static_cast<ResultThunk*>(user));
    guarded(self->call, [&] {
      HostResult answer;
      const std::string_view text = detail::from_fp(result);
      if (status != 0) {
        answer.error = std::string(text.empty() ? std::string_view("the host refused the request") : text);
      } else {
        boost::system::error_code ec;
        boost::json::value v = boost::json::parse(text, ec);
        if (ec) answer.error = "the host answered with invalid JSON";
        else answer.value = std::move(v);
      }
      self->fn(self->call, static_cast<const HostResult&>(answer));
    });
  }
};

}  // namespace detail

template <class F>
void guarded(Call& call, F&& body) noexcept {
  try {
    body();
  } catch (const StepError& e) {
    call.fail(e);
  } catch (const std::exception& e) {
    call.fail(e.what(), false);
  } catch (...) {
    call.fail("unknown exception", false);
  }
}

// One step kind: its descriptor and its body. Built with chained setters.
class Step {
 public:
  using Body = std::function<void(Call&)>;

  // `name`: `[a-z][a-z0-9_]*`, without the plugin prefix. `summary`: one plain sentence.
  Step(std::string name, std::string summary)
      : name_(std::move(name)), summary_(std::move(summary)) {}

  // JSON Schema texts; unset: any object (input) / anything (output).
  Step& input_schema(std::string schema) {
    input_schema_ = std::move(schema);
    return *this;
  }
  Step& output_schema(std::string schema) {
    output_schema_ = std::move(schema);
    return *this;
  }
  // FP_STEP_* flags; default none.
  Step& flags(std::uint32_t flags) {
    flags_ = flags;
    return *this;
  }

  // Synchronous body: `fn(Call&)` returns the output (anything a boost::json::value can be built
  // from), or void for `{}`. If the body already ended the call, the return value is ignored.
  template <class F>
  Step& run(F fn) {
    // Called as const: several calls may run the same body at once.
    body_ = [fn = std::move(fn)](Call& call) {
      using R = decltype(fn(call));
      if constexpr (std::is_void_v<R>) {
        fn(call);
        call.complete(boost::json::object());
      } else {
        boost::json::value output(fn(call));
        call.complete(output);
      }
    };
    return *this;
  }
  // Asynchronous body: `fn(Call&)` arranges for complete/fail, now or from a callback.
  template <class F>
  Step& start(F fn) {
    body_ = [fn = std::move(fn)](Call& call) { fn(call); };
    return *this;
  }

  const std::string& name() const { return name_; }
  const std::string& summary() const { return summary_; }
  const std::optional<std::string>& input_schema() const { return input_schema_; }
  const std::optional<std::string>& output_schema() const { return output_schema_; }
  std::uint32_t flags() const { return flags_; }
  const Body& body() const { return body_; }

 private:
  std::string name_;
  std::string summary_;
  std::optional<std::string> input_schema_;
  std::optional<std::string> output_schema_;
  std::uint32_t flags_ = 0;
  Body body_;
};

// A plugin: a name, a version and its steps, plus optional init/shutdown hooks. Exposed through
// FLOWPILOT_PLUGIN or FLOWPILOT_PLUGIN_FROM, which keep one instance for the library's lifetime.
class Plugin {
 public:
  // Steps are dispatched through a fixed table of trampolines, one per index.
  static constexpr std::size_t kMaxSteps = 64;

  // Returns an error message to refuse loading, or an empty string.
  using InitHook = std::function<std::string(const boost::json::object& config)>;
  using ShutdownHook = std::function<void()>;

  Plugin(std::string name, std::string version, std::vector<Step> steps = {})
      : name_(std::move(name)), version_(std::move(version)), steps_(std::move(steps)) {}
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;
  // Movable until entry() is called (it takes pointers into the object).
  Plugin(Plugin&&) = default;
  Plugin& operator=(Plugin&&) = default;

  Plugin& step(Step step) {
    steps_.push_back(std::move(step));
    return *this;
  }
  Plugin& on_init(InitHook hook) {
    init_ = std::move(hook);
    return *this;
  }
  Plugin& on_shutdown(ShutdownHook hook) {
    shutdown_ = std::move(hook);
    return *this;
  }

  // Builds the C descriptor (once) and remembers the host table. Returns NULL, which the host
  // reports as a refusal, when the host lacks an ABI 1.0 function or the plugin is malformed.
  const fp_plugin* entry(const fp_host_api* host) noexcept {
    if (host == nullptr || !FP_HOST_HAS(host, buffer_free) || steps_.size() > kMaxSteps) {
      return nullptr;
    }
    host_ = host;
    if (built_) return &descriptor_;
    try {
      raw_steps_.resize(steps_.size());
      step_pointers_.resize(steps_.size());
      for (std::size_t i = 0; i < steps_.size(); ++i) {
        fp_step& s = raw_steps_[i];
        s = fp_step{};
        s.struct_size = sizeof(fp_step);
        s.name = steps_[i].name().c_str();
        s.summary = steps_[i].summary().c_str();
        s.input_schema = steps_[i].input_schema() ? steps_[i].input_schema()->c_str() : nullptr;
        s.output_schema = steps_[i].output_schema() ? steps_[i].output_schema()->c_str() : nullptr;
        s.flags = steps_[i].flags();
        s.start = trampolines()[i];
        step_pointers_[i] = &s;
      }
    } catch (...) {
      return nullptr;
    }
    descriptor_ = fp_plugin{};
    descriptor_.struct_size = sizeof(fp_plugin);
    descriptor_.abi_major = FP_ABI_MAJOR;
    descriptor_.abi_minor = FP_ABI_MINOR;
    descriptor_.name = name_.c_str();
    descriptor_.version = version_.c_str();
    descriptor_.steps = step_pointers_.data();
    descriptor_.step_count = step_pointers_.size();
    descriptor_.init = &Plugin::on_init_trampoline;
    descriptor_.shutdown = &Plugin::on_shutdown_trampoline;
    built_ = true;
    instance() = this;
    return &descriptor_;
  }

  const std::string& name() const { return name_; }
  const std::vector<Step>& steps() const { return steps_; }
  const boost::json::object& config() const { return config_; }

  // Starts step `index` of this plugin on `call`: what the trampolines do, public for tests.
  void start(std::size_t index, fp_call* raw_call) const noexcept {
    if (host_ == nullptr) return;
    std::optional<Call> call;
    try {
      call.emplace(host_, raw_call, &config_);
    } catch (const std::exception& e) {
      host_->fail(raw_call, detail::to_fp(e.what()), 0, 0);
      return;
    } catch (...) {
      host_->fail(raw_call, detail::to_fp("unknown exception"), 0, 0);
      return;
    }
    if (index >= steps_.size() || !steps_[index].body()) {
      call->fail("the plugin has no body for this step");
      return;
    }
    guarded(*call, [&] { steps_[index].body()(*call); });
  }

 private:
  // Only one plugin per library; this is how a start without plugin state finds it.
  static Plugin*& instance() {
    static Plugin* current = nullptr;
    return current;
  }

  template <std::size_t I>
  static void start_trampoline(void* state, fp_call* call) {
    const Plugin* self = state != nullptr ? static_cast<const Plugin*>(state) : instance();
    if (self != nullptr) self->start(I, call);
  }
  template <std::size_t... I>
  static constexpr std::array<fp_step_start_fn, sizeof...(I)> make_trampolines(
      std::index_sequence<I...>) {
    return {{&start_trampoline<I>...}};
  }
  static const std::array<fp_step_start_fn, kMaxSteps>& trampolines() {
    static constexpr std::array<fp_step_start_fn, kMaxSteps> kTable =
        make_trampolines(std::make_index_sequence<kMaxSteps>());
    return kTable;
  }

  static void* on_init_trampoline(const fp_host_api* host, fp_str config_json, const char** error) {
    Plugin* self = instance();
    if (self == nullptr) {
      if (error != nullptr) *error = "the plugin's entry was not called";
      return nullptr;
    }
    try {
      if (host != nullptr) self->host_ = host;
      const std::string_view text = detail::from_fp(config_json);
      boost::json::value parsed = boost::json::parse(text.empty() ? std::string_view("{}") : text);
      if (!parsed.is_object()) throw std::invalid_argument("the configuration is not an object");
      self->config_ = std::move(parsed.get_object());
      if (self->init_) self->init_error_ = self->init_(self->config_);
    } catch (const std::exception& e) {
      self->init_error_ = e.what();
    } catch (...) {
      self->init_error_ = "unknown exception";
    }
    if (self->init_error_.empty()) return self;
    if (error != nullptr) *error = self->init_error_.c_str();
    return nullptr;
  }
  static void on_shutdown_trampoline(void* state) {
    auto* self = state != nullptr ? static_cast<Plugin*>(state) : instance();
    if (self == nullptr || !self->shutdown_) return;
    try {
      self->shutdown_();
    } catch (...) {  // nothing may cross the boundary, and nobody is left to tell
    }
  }

  std::string name_;
  std::string version_;
  std::vector<Step> steps_;
  InitHook init_;
  ShutdownHook shutdown_;
  const fp_host_api* host_ = nullptr;
  boost::json::object config_;
  std::string init_error_;
  bool built_ = false;
  std::vector<fp_step> raw_steps_;
  std::vector<const fp_step*> step_pointers_;
  fp_plugin descriptor_{};
};

}  // namespace flowpilot::sdk

// Defines the library's entry point for a plugin with these steps (flowpilot::sdk::Step values).
#define FLOWPILOT_PLUGIN(name, version, ...)                                \
  FP_PLUGIN_ENTRY(host) {                                                   \
    try {                                                                   \
      static ::flowpilot::sdk::Plugin flowpilot_plugin_instance_(           \
          name, version, std::vector<::flowpilot::sdk::Step>{__VA_ARGS__}); \
      return flowpilot_plugin_instance_.entry(host);                        \
    } catch (...) {                                                         \
      return nullptr;                                                       \
    }                                                                       \
  }

// Defines the entry point from `factory()`, a function returning a flowpilot::sdk::Plugin (for
// init/shutdown hooks or steps built in code). It runs once, on the loading thread.
#define FLOWPILOT_PLUGIN_FROM(factory)                                        \
  FP_PLUGIN_ENTRY(host) {                                                     \
    try {                                                                     \
      static ::flowpilot::sdk::Plugin flowpilot_plugin_instance_ = factory(); \
      return flowpilot_plugin_instance_.entry(host);                          \
    } catch (...) {                                                           \
      return nullptr;                                                         \
    }                                                                         \
  }

#endif  // FLOWPILOT_PLUGIN_HPP
