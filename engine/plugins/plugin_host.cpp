#include "engine/plugins/plugin_host.h"

#include "engine/http/http_client.h"
#include "engine/plugins/oauth_tokens.h"
#include "engine/plugins/rate_limiter.h"
#include "engine/plugins/warehouse_service.h"
#include "engine/schema/json_schema.h"

#include <flowpilot/plugin.h>

#include <boost/json.hpp>
#include <dlfcn.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <regex>
#include <set>

// The host side of flowpilot/plugin.h. Each plugin call gets an `fp_call` that owns copies of the
// strings the plugin may borrow (input JSON, names, credentials) and a reference to the engine's
// StepCall. The C function table below translates every service into StepCall, HttpClient and
// RateLimiter calls. Nothing the plugin passes is trusted to outlive the call that passed it.

struct fp_call {
  std::shared_ptr<flowpilot::engine::StepCall> call;
  flowpilot::engine::PluginHost::Impl* host = nullptr;
  const flowpilot::engine::JsonSchema* output_schema = nullptr;
  std::string step_name;
  std::string input_json;
  std::string credentials_json;
  std::mutex secrets_mu;
  std::vector<std::string> secrets;  // credential values and tokens: redacted from HTTP logs
  std::shared_ptr<std::atomic<bool>> http_cancel = std::make_shared<std::atomic<bool>>(false);
  // Keeps this fp_call alive until the plugin ends the call; pending timers and HTTP callbacks
  // hold their own references, so a late callback never sees a freed handle.
  std::shared_ptr<fp_call> self;
};

namespace flowpilot::engine {

namespace json = boost::json;

class PluginHost::Impl {
 public:
  explicit Impl(PluginServices services)
      : services_(std::move(services)), tokens_(services_.http, services_.tokens) {
    if (services_.warehouse != nullptr) {
      warehouse_ = std::make_unique<WarehouseService>(*services_.warehouse);
    }
  }

  struct Library {
    void* handle = nullptr;
    fp_plugin descriptor{};
    void* state = nullptr;
    LoadedPlugin info;
  };

  PluginServices services_;
  RateLimiter rate_limiter_;
  OAuthTokens tokens_;
  std::unique_ptr<WarehouseService> warehouse_;  // null without a warehouse
  std::vector<Library> libraries_;
  std::vector<LoadedPlugin> infos_;
  std::set<std::string> loaded_files_;
  fp_host_api api_{};
};

namespace {

std::string_view view(fp_str s) { return s.data == nullptr ? std::string_view() : std::string_view(s.data, s.size); }
fp_str to_fp(const std::string& s) { return s.empty() ? fp_str{nullptr, 0} : fp_str{s.data(), s.size()}; }

// ---- the host services table --------------------------------------------------------------

fp_str host_input(const fp_call* c) { return to_fp(c->input_json); }
fp_str host_step_name(const fp_call* c) { return to_fp(c->step_name); }
fp_str host_run_id(const fp_call* c) { return to_fp(c->call->run_id()); }
fp_str host_idempotency_key(const fp_call* c) { return to_fp(c->call->idempotency_key()); }
int host_attempt(const fp_call* c) { return c->call->attempt(); }
int host_plan_mode(const fp_call* c) { return c->call->plan_mode() ? 1 : 0; }
fp_str host_credentials(const fp_call* c) { return to_fp(c->credentials_json); }

void host_log(fp_call* c, int level, fp_str message, fp_str fields_json) {
  LogLevel l = LogLevel::info;
  if (level <= FP_LOG_DEBUG) l = LogLevel::debug;
  else if (level == FP_LOG_WARN) l = LogLevel::warn;
  else if (level >= FP_LOG_ERROR) l = LogLevel::error;
  std::string text(view(message));
  if (fields_json.size > 0) {
    text += " ";
    text += view(fields_json);
  }
  c->call->log(l, std::move(text));
}

void host_progress(fp_call* c, double fraction, fp_str note) {
  c->call->progress(fraction, std::string(view(note)));
}

int host_cancelled(const fp_call* c) { return c->call->cancelled() ? 1 : 0; }

void host_after(fp_call* c, uint64_t delay_ms, fp_callback_fn fn, void* user) {
  auto keep = c->self;
  if (!keep) return;  // the call has ended
  c->call->after(std::chrono::milliseconds(delay_ms), [keep, fn, user] { fn(keep.get(), user); });
}

void end_call(fp_call* c) {
  c->http_cancel->store(true);
  auto release = std::move(c->self);  // may free `c` when this scope ends
}

void host_complete(fp_call* c, fp_str output_json) {
  if (!c->self) return;
  json::error_code ec;
  json::value output = json::parse(view(output_json), ec);
  if (ec) {
    c->call->fail({fmt::format("step `{}` returned output that is not JSON: {}", c->step_name,
                               ec.message()),
                   false, std::nullopt});
  } else if (c->output_schema != nullptr) {
    auto problems = c->output_schema->validate(output, "output");
    if (problems.empty()) {
      c->call->complete(std::move(output));
    } else {
      std::string message = fmt::format("step `{}` returned output that does not match its schema:",
                                        c->step_name);
      for (const auto& p : problems) message += fmt::format(" {}: {};", p.path, p.message);
      message.pop_back();
      c->call->fail({message, false, std::nullopt});
    }
  } else {
    c->call->complete(std::move(output));
  }
  end_call(c);
}

void host_fail(fp_call* c, fp_str message, uint32_t flags, int64_t retry_after_ms) {
  if (!c->self) return;
  StepError error;
  error.message = message.size > 0 ? std::string(view(message)) : std::string("step failed");
  error.retryable = (flags & FP_ERROR_RETRYABLE) != 0;
  if (retry_after_ms > 0) error.retry_after = std::chrono::milliseconds(retry_after_ms);
  c->call->fail(std::move(error));
  end_call(c);
}

void host_http_send(fp_call* c, const fp_http_request* request, fp_http_done_fn done, void* user) {
  auto keep = c->self;
  if (!keep) return;
  // Read only the bytes the plugin's struct declares; fields it does not know stay zero.
  fp_http_request r{};
  std::memcpy(&r, request, std::min(request->struct_size, sizeof r));
  auto deliver = [keep, done, user](HttpResponse response) {
    std::vector<fp_header> headers;
    headers.reserve(response.headers.size());
    for (const auto& [name, value] : response.headers) {
      headers.push_back({to_fp(name), to_fp(value)});
    }
    fp_http_response out{};
    out.struct_size = sizeof out;
    out.status = response.status;
    out.headers = headers.data();
    out.header_count = headers.size();
    out.body = {response.body.data(), response.body.size()};
    out.error = to_fp(response.error);
    done(keep.get(), &out, user);
  };
  HttpClient* client = c->host->services_.http;
  if (client == nullptr) {
    HttpResponse response;
    response.error = "this flowpilot process offers no HTTP client to plugins";
    deliver(std::move(response));
    return;
  }
  HttpRequest req;
  req.method = r.method.size > 0 ? std::string(view(r.method)) : "GET";
  req.url = std::string(view(r.url));
  for (std::size_t i = 0; i < r.header_count && r.headers != nullptr; ++i) {
    req.headers.emplace_back(std::string(view(r.headers[i].name)), std::string(view(r.headers[i].value)));
  }
  req.body = std::string(view(r.body));
  req.timeout = std::chrono::milliseconds(r.timeout_ms);
  req.follow_redirects = (r.flags & FP_HTTP_FOLLOW_REDIRECTS) != 0;
  req.retry_throttled = (r.flags & FP_HTTP_RETRY_THROTTLED) != 0;
  if (r.max_retries > 0) req.max_retries = static_cast<int>(r.max_retries);
  {
    std::lock_guard lock(c->secrets_mu);
    req.secrets = c->secrets;
  }
  for (std::size_t i = 0; i < r.secret_count && r.secrets != nullptr; ++i) {
    req.secrets.emplace_back(view(r.secrets[i]));
  }
  const std::string method = req.method;
  client->send(
      std::move(req),
      [keep, deliver](HttpResponse response) {
        // The client's thread must not run plugin code: hand the response to a worker.
        auto shared = std::make_shared<HttpResponse>(std::move(response));
        keep->call->after(std::chrono::milliseconds(0), [deliver, shared] { deliver(std::move(*shared)); });
      },
      c->http_cancel);
}

int host_eval(fp_call* c, fp_str expression, fp_str row_json, fp_buffer* result) {
  auto write = [result](const std::string& text) {
    result->data = static_cast<char*>(std::malloc(text.size() + 1));
    if (result->data == nullptr) {
      result->size = 0;
      return;
    }
    std::memcpy(result->data, text.data(), text.size());
    result->data[text.size()] = '\0';
    result->size = text.size();
  };
  json::value row;
  if (row_json.size > 0) {
    json::error_code ec;
    row = json::parse(view(row_json), ec);
    if (ec) {
      write("row is not JSON: " + ec.message());
      return 1;
    }
  }
  auto evaluated = c->call->evaluate(view(expression), row);
  if (!evaluated.ok()) {
    write(evaluated.error().message);
    return 1;
  }
  write(json::serialize(evaluated.value()));
  return 0;
}

void host_rate_acquire(fp_call* c, fp_str key, double tokens, fp_callback_fn ready, void* user) {
  auto keep = c->self;
  if (!keep) return;
  const auto wait = c->host->rate_limiter_.reserve(view(key), tokens);
  c->call->after(wait, [keep, ready, user] { ready(keep.get(), user); });
}

void host_access_token(fp_call* c, uint32_t flags, fp_token_done_fn done, void* user) {
  auto keep = c->self;
  if (!keep) return;
  // Answers on a worker thread, as plugin.h promises, whether the token was cached or fetched.
  auto deliver = [keep, done, user](AccessTokenResult result) {
    if (!result.token.empty()) {
      std::lock_guard lock(keep->secrets_mu);
      keep->secrets.push_back(result.token);
    }
    auto shared = std::make_shared<AccessTokenResult>(std::move(result));
    keep->call->after(std::chrono::milliseconds(0), [keep, done, user, shared] {
      const uint32_t error_flags = shared->retryable ? FP_ERROR_RETRYABLE : 0u;
      done(keep.get(), to_fp(shared->token), to_fp(shared->error), error_flags, user);
    });
  };
  const json::value* credentials = c->call->credentials();
  if (credentials == nullptr || !credentials->is_object()) {
    deliver({{}, fmt::format("step `{}` names no connection, so it has no access token",
                             c->step_name)});
    return;
  }
  c->host->tokens_.get(c->call->connection(), credentials->as_object(),
                        (flags & FP_TOKEN_REFRESH) != 0, deliver);
}

void host_rate_pause(fp_call* c, fp_str key, uint64_t delay_ms) {
  if (!c->self) return;
  c->host->rate_limiter_.pause(view(key), std::chrono::milliseconds(delay_ms));
}

void host_warehouse(fp_call* c, fp_str request_json, fp_result_fn done, void* user) {
  auto keep = c->self;
  if (!keep) return;
  auto deliver = [keep, done, user](WarehouseAnswer answer) {
    auto shared = std::make_shared<WarehouseAnswer>(std::move(answer));
    keep->call->after(std::chrono::milliseconds(0), [keep, done, user, shared] {
      const std::string text = shared->ok ? json::serialize(shared->result) : shared->error;
      done(keep.get(), shared->ok ? 0 : 1, fp_str{text.data(), text.size()}, user);
    });
  };
  if (!c->host->warehouse_) {
    deliver({false, {}, "this flowpilot process has no warehouse"});
    return;
  }
  json::error_code ec;
  json::value request = json::parse(view(request_json), ec);
  if (ec) {
    deliver({false, {}, "the warehouse request is not JSON: " + ec.message()});
    return;
  }
  c->host->warehouse_->submit(std::move(request), deliver);
}

void host_buffer_free(fp_buffer* buffer) {
  if (buffer == nullptr) return;
  std::free(buffer->data);
  buffer->data = nullptr;
  buffer->size = 0;
}

// ---- a plugin step as a StepHandler ----------------------------------------------------------

class PluginStep final : public StepHandler {
 public:
  PluginStep(PluginHost::Impl* host, StepDescriptor descriptor, fp_step_start_fn start, void* state,
             std::shared_ptr<const JsonSchema> output_schema)
      : host_(host),
        descriptor_(std::move(descriptor)),
        start_(start),
        state_(state),
        output_schema_(std::move(output_schema)) {}

  const StepDescriptor& descriptor() const override { return descriptor_; }

  void start(std::shared_ptr<StepCall> call) override {
    auto c = std::make_shared<fp_call>();
    c->host = host_;
    c->output_schema = output_schema_.get();
    c->step_name = descriptor_.name;
    c->input_json = json::serialize(call->input());
    if (const json::value* credentials = call->credentials()) {
      c->credentials_json = json::serialize(*credentials);
      if (const auto* obj = credentials->if_object()) {
        for (const auto& [k, v] : *obj) {
          if (v.is_string() && !v.get_string().empty()) c->secrets.emplace_back(v.get_string());
        }
      }
    }
    c->call = std::move(call);
    c->self = c;
    const std::string& connection = c->call->connection();
    const auto wait = connection.empty() ? std::chrono::milliseconds(0)
                                         : host_->rate_limiter_.reserve(connection, 1);
    if (wait.count() > 0) {
      c->call->after(wait, [start = start_, state = state_, c] {
        if (c->call->cancelled()) {
          constexpr std::string_view kMessage = "cancelled while waiting for the rate limit";
          host_fail(c.get(), fp_str{kMessage.data(), kMessage.size()}, 0, 0);
          return;
        }
        invoke(start, state, c.get());
      });
      return;
    }
    invoke(start_, state_, c.get());
  }

  // A C++ exception escaping a plugin's start is the plugin's bug; it fails the call (instead of
  // unwinding into a worker thread) and releases the call's resources.
  static void invoke(fp_step_start_fn start, void* state, fp_call* c) {
    std::string message;
    try {
      start(state, c);
      return;
    } catch (const std::exception& e) {
      message = std::string("step raised an error: ") + e.what();
    } catch (...) {
      message = "step raised an unknown error";
    }
    host_fail(c, fp_str{message.data(), message.size()}, 0, 0);
  }

 private:
  PluginHost::Impl* host_;
  StepDescriptor descriptor_;
  fp_step_start_fn start_;
  void* state_;
  std::shared_ptr<const JsonSchema> output_schema_;
};

// ---- loading ---------------------------------------------------------------------------------

const std::regex& name_pattern() {
  static const std::regex pattern("[a-z][a-z0-9_]{0,63}");
  return pattern;
}

// Refuses path tricks before anything is loaded: a library's constructors run at dlopen.
std::optional<std::string> check_path(const std::filesystem::path& file,
                                      const std::vector<std::filesystem::path>& dirs) {
  namespace fs = std::filesystem;
  for (const auto& part : file) {
    if (part == "..") return "refused: the path contains `..`";
  }
  if (file.extension() != ".so") return "refused: a plugin file must be named *.so";
  std::error_code ec;
  const fs::path real = fs::canonical(file, ec);
  if (ec) return "cannot read: " + ec.message();
  if (!fs::is_regular_file(real, ec)) return "refused: not a regular file";
  const fs::path parent = fs::weakly_canonical(fs::absolute(file).parent_path(), ec);
  for (const auto& dir : dirs) {
    const fs::path canonical_dir = fs::weakly_canonical(fs::absolute(dir), ec);
    if (ec) continue;
    if (parent == canonical_dir) {
      if (real.parent_path() != canonical_dir) {
        return "refused: a symbolic link that leads outside the plugin directory " +
               canonical_dir.string();
      }
      return std::nullopt;
    }
  }
  return "refused: not inside a plugin directory";
}

std::optional<json::value> parse_schema(const char* text, std::string& error) {
  if (text == nullptr) return json::value(json::object());
  json::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) {
    error = "is not JSON: " + ec.message();
    return std::nullopt;
  }
  return doc;
}

}  // namespace

PluginHost::PluginHost(PluginServices services) : impl_(std::make_unique<Impl>(std::move(services))) {
  fp_host_api& api = impl_->api_;
  api.struct_size = sizeof(fp_host_api);
  api.abi_major = FP_ABI_MAJOR;
  api.abi_minor = FP_ABI_MINOR;
  api.input = host_input;
  api.step_name = host_step_name;
  api.run_id = host_run_id;
  api.idempotency_key = host_idempotency_key;
  api.attempt = host_attempt;
  api.plan_mode = host_plan_mode;
  api.credentials = host_credentials;
  api.log = host_log;
  api.progress = host_progress;
  api.cancelled = host_cancelled;
  api.after = host_after;
  api.complete = host_complete;
  api.fail = host_fail;
  api.http_send = host_http_send;
  api.eval = host_eval;
  api.rate_acquire = host_rate_acquire;
  api.buffer_free = host_buffer_free;
  api.access_token = host_access_token;
  api.rate_pause = host_rate_pause;
  api.warehouse = host_warehouse;
}

PluginHost::~PluginHost() {
  for (auto it = impl_->libraries_.rbegin(); it != impl_->libraries_.rend(); ++it) {
    if (it->descriptor.shutdown != nullptr) it->descriptor.shutdown(it->state);
    dlclose(it->handle);
  }
}

const std::vector<LoadedPlugin>& PluginHost::plugins() const { return impl_->infos_; }

void PluginHost::limit_connection(const std::string& connection, RateLimit limit) {
  impl_->rate_limiter_.configure(connection, limit);
}

void PluginHost::on_token_renewed(OAuthTokens::RenewalListener listener) {
  impl_->tokens_.set_renewal_listener(std::move(listener));
}

std::optional<PluginRefusal> PluginHost::load_file(const std::filesystem::path& file,
                                                   const std::vector<std::filesystem::path>& dirs,
                                                   StepRegistry& registry) {
  const std::string name = file.string();
  if (auto refused = check_path(file, dirs)) return PluginRefusal{name, *refused};
  std::error_code ec;
  const std::string real = std::filesystem::canonical(file, ec).string();
  if (impl_->loaded_files_.count(real) != 0) return std::nullopt;  // found twice in the path

  void* handle = dlopen(real.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return PluginRefusal{name, std::string("not a loadable shared library: ") +
                                   (why != nullptr ? why : "unknown error")};
  }
  auto refuse = [&](std::string reason) {
    dlclose(handle);
    return PluginRefusal{name, std::move(reason)};
  };
  void* symbol = dlsym(handle, FLOWPILOT_PLUGIN_ENTRY_SYMBOL);
  if (symbol == nullptr) {
    return refuse(fmt::format("missing the entry symbol `{}` (define it with FP_PLUGIN_ENTRY)",
                              FLOWPILOT_PLUGIN_ENTRY_SYMBOL));
  }
  auto entry = reinterpret_cast<fp_plugin_entry_fn>(symbol);
  const fp_plugin* given = entry(&impl_->api_);
  if (given == nullptr) return refuse("the entry function returned no descriptor");

  // Copy only what the plugin's struct holds; later fields stay zero (OBS's approach).
  constexpr std::size_t kRequired = offsetof(fp_plugin, step_count) + sizeof(given->step_count);
  if (given->struct_size < kRequired) {
    return refuse(fmt::format("descriptor is {} bytes, smaller than the {} bytes ABI 1.0 requires",
                              given->struct_size, kRequired));
  }
  fp_plugin d{};
  std::memcpy(&d, given, std::min(given->struct_size, sizeof d));
  if (d.abi_major != FP_ABI_MAJOR) {
    return refuse(fmt::format("built for plugin ABI {}.{}; this flowpilot speaks ABI {}.{}",
                              d.abi_major, d.abi_minor, FP_ABI_MAJOR, FP_ABI_MINOR));
  }
  if (d.name == nullptr || !std::regex_match(d.name, name_pattern())) {
    return refuse(fmt::format("plugin name `{}` is not valid: use lowercase letters, digits and _",
                              d.name != nullptr ? d.name : ""));
  }
  for (const auto& loaded : impl_->infos_) {
    if (loaded.name == d.name) {
      return refuse(fmt::format("a plugin named `{}` is already loaded from {}", d.name, loaded.file));
    }
  }
  if (d.version == nullptr || *d.version == '\0') return refuse("the descriptor has no version");
  if (d.step_count > 0 && d.steps == nullptr) return refuse("step_count is set but steps is null");

  struct PendingStep {
    StepDescriptor descriptor;
    fp_step_start_fn start = nullptr;
    std::shared_ptr<const JsonSchema> output_schema;
  };
  std::vector<PendingStep> steps;
  std::set<std::string> names;
  constexpr std::size_t kStepRequired = offsetof(fp_step, start) + sizeof(fp_step_start_fn);
  for (std::size_t i = 0; i < d.step_count; ++i) {
    const fp_step* raw = d.steps[i];
    if (raw == nullptr) return refuse(fmt::format("step {} is null", i));
    if (raw->struct_size < kStepRequired) {
      return refuse(fmt::format("step {} is {} bytes, smaller than the {} bytes ABI 1.0 requires", i,
                                raw->struct_size, kStepRequired));
    }
    fp_step s{};
    std::memcpy(&s, raw, std::min(raw->struct_size, sizeof s));
    if (s.name == nullptr || !std::regex_match(s.name, name_pattern())) {
      return refuse(fmt::format("step {} has an invalid name `{}`", i, s.name != nullptr ? s.name : ""));
    }
    const std::string full = std::string(d.name) + "." + s.name;
    if (!names.insert(full).second) return refuse(fmt::format("step `{}` is declared twice", full));
    if (registry.has_step(full)) return refuse(fmt::format("step `{}` is already registered", full));
    if (s.summary == nullptr || *s.summary == '\0') {
      return refuse(fmt::format("step `{}` has no summary", full));
    }
    if (s.start == nullptr) return refuse(fmt::format("step `{}` has no start function", full));
    PendingStep pending;
    pending.descriptor.name = full;
    pending.descriptor.summary = s.summary;
    std::string error;
    auto input = parse_schema(s.input_schema, error);
    if (!input) return refuse(fmt::format("step `{}`: input_schema {}", full, error));
    if (!JsonSchema::compile(*input, &error)) {
      return refuse(fmt::format("step `{}`: input_schema {}", full, error));
    }
    auto output = parse_schema(s.output_schema, error);
    if (!output) return refuse(fmt::format("step `{}`: output_schema {}", full, error));
    if (s.output_schema != nullptr) {
      pending.output_schema = JsonSchema::compile(*output, &error);
      if (!pending.output_schema) return refuse(fmt::format("step `{}`: output_schema {}", full, error));
    }
    pending.descriptor.input_schema = std::move(*input);
    pending.descriptor.output_schema = std::move(*output);
    pending.descriptor.side_effects = (s.flags & FP_STEP_SIDE_EFFECTS) != 0;
    pending.descriptor.idempotent = (s.flags & FP_STEP_IDEMPOTENT) != 0;
    pending.descriptor.supports_plan = (s.flags & FP_STEP_SUPPORTS_PLAN) != 0;
    pending.start = s.start;
    steps.push_back(std::move(pending));
  }

  void* state = nullptr;
  if (d.init != nullptr) {
    std::string config = "{}";
    if (const auto* c = impl_->services_.plugin_config.if_contains(d.name)) config = json::serialize(*c);
    const char* error = nullptr;
    state = d.init(&impl_->api_, fp_str{config.data(), config.size()}, &error);
    if (error != nullptr) return refuse(fmt::format("init refused to start: {}", error));
  }

  LoadedPlugin info;
  info.name = d.name;
  info.version = d.version;
  info.file = real;
  for (auto& pending : steps) {
    info.steps.push_back(pending.descriptor.name);
    registry.add(std::make_shared<PluginStep>(impl_.get(), std::move(pending.descriptor),
                                              pending.start, state, std::move(pending.output_schema)));
  }
  impl_->libraries_.push_back({handle, d, state, info});
  impl_->infos_.push_back(std::move(info));
  impl_->loaded_files_.insert(real);
  return std::nullopt;
}

std::vector<PluginRefusal> PluginHost::load_directories(const std::vector<std::filesystem::path>& dirs,
                                                        StepRegistry& registry) {
  std::vector<PluginRefusal> refusals;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) continue;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".so") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());  // a stable order makes duplicate refusals predictable
    for (const auto& file : files) {
      if (auto refusal = load_file(file, dirs, registry)) refusals.push_back(std::move(*refusal));
    }
  }
  return refusals;
}

std::filesystem::path builtin_plugin_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const auto dir = exe.parent_path();
  for (const auto& candidate : {dir / ".." / "plugins", dir / ".." / "lib" / "flowpilot" / "plugins"}) {
    if (std::filesystem::is_directory(candidate, ec)) return std::filesystem::weakly_canonical(candidate, ec);
  }
  return {};
}

std::vector<std::filesystem::path> plugin_search_path(
    const std::vector<std::filesystem::path>& configured) {
  std::vector<std::filesystem::path> dirs;
  if (auto builtin = builtin_plugin_dir(); !builtin.empty()) dirs.push_back(builtin);
  if (const char* env = std::getenv("FLOWPILOT_PLUGIN_PATH"); env != nullptr) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const auto part = rest.substr(0, colon);
      if (!part.empty()) dirs.emplace_back(std::string(part));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  for (const auto& dir : configured) dirs.push_back(dir);
  return dirs;
}

}  // namespace flowpilot::engine
