#include "web/router.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <random>
#include <stdexcept>
#include <utility>

namespace flowpilot::web {

namespace {

bool is_param(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// `{name...}`: a last segment that takes the rest of the path.
bool is_rest_param(std::string_view segment) {
  return is_param(segment) && segment.size() > 5 && segment.substr(segment.size() - 4) == "...}";
}

std::string param_name(std::string_view segment) {
  segment = segment.substr(1, segment.size() - 2);
  if (segment.ends_with("...")) segment.remove_suffix(3);
  return std::string(segment);
}

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);  // the leading '/'
  while (true) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

struct Canonical {
  std::vector<std::string> segments;
  std::string path;
  std::string error;  // empty when ok
};

Canonical canonicalise(std::string_view raw) {
  Canonical c;
  if (raw.empty() || raw.front() != '/') {
    c.error = "the request target must be an absolute path starting with '/'";
    return c;
  }
  auto parts = split(raw);
  if (parts.size() > 1 && parts.back().empty()) parts.pop_back();  // one trailing slash
  if (parts.size() == 1 && parts.front().empty()) parts.clear();    // "/"
  for (const auto part : parts) {
    if (part.empty()) {
      c.error = "the path has an empty segment ('//')";
      return c;
    }
    auto decoded = percent_decode(part);
    if (!decoded) {
      c.error = "the path segment `" + std::string(part) + "` has a malformed percent-escape";
      return c;
    }
    if (decoded->find('/') != std::string::npos || decoded->find('\0') != std::string::npos) {
      c.error = "the path segment `" + std::string(part) + "` encodes '/' or NUL";
      return c;
    }
    if (*decoded == "." || *decoded == "..") {
      c.error = "the path contains a `" + *decoded + "` segment (`" + std::string(part) +
                "`); relative segments are refused";
      return c;
    }
    c.segments.push_back(std::move(*decoded));
  }
  c.path = "/";
  for (std::size_t i = 0; i < c.segments.size(); ++i) {
    if (i > 0) c.path += '/';
    c.path += c.segments[i];
  }
  return c;
}

bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& segments) {
  const bool rest = !pattern.empty() && is_rest_param(pattern.back());
  if (rest ? segments.size() < pattern.size() : pattern.size() != segments.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (!is_param(pattern[i]) && pattern[i] != segments[i]) return false;
  }
  return true;
}

constexpr std::size_t kMaxRequestIdLength = 64;

bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

std::string new_request_id() {
  // Ids correlate log lines; they need to be unique, not unpredictable, so a per-thread PRNG
  // seeded once from the OS is enough and keeps the hot path lock-free.
  thread_local std::mt19937_64 engine{[] {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }()};
  std::uint64_t value = engine();
  std::string id(16, '0');
  for (auto it = id.rbegin(); it != id.rend(); ++it) {
    *it = "0123456789abcdef"[value & 0xf];
    value >>= 4;
  }
  return id;
}

// The shared state behind every copy of one request's Reply: the first completion wins, and
// destroying the last copy without a completion answers 500, so a handler that loses its Reply
// cannot leave a connection hanging.
class PendingReply {
 public:
  PendingReply(Reply downstream, std::shared_ptr<const RequestObserver> observer,
               RequestSummary summary)
      : downstream_(std::move(downstream)),
        observer_(std::move(observer)),
        summary_(std::move(summary)),
        start_(std::chrono::steady_clock::now()) {}

  ~PendingReply() {
    if (done_.load()) return;
    try {
      complete(problem_json(500, "Internal error", "the handler did not answer the request",
                            boost::json::object{{"instance", summary_.path}}));
    } catch (...) {
      // Nothing may escape a destructor; the downstream reply path gives up on this request.
    }
  }

  PendingReply(const PendingReply&) = delete;
  PendingReply& operator=(const PendingReply&) = delete;

  // Set once the route is known, before the handler runs (and so before any completion).
  void matched(std::string route, bool head_as_get) {
    summary_.route = std::move(route);
    head_as_get_ = head_as_get;
  }

  // Set before the handler runs for an audited route: a success is recorded before it is sent.
  void audit_with(std::shared_ptr<const Auditor> auditor, AuditEvent event) {
    auditor_ = std::move(auditor);
    audit_ = std::move(event);
  }

  void complete(Response response) {
    if (done_.exchange(true)) return;
    if (head_as_get_ && !response.stream) {
      response.headers.set("Content-Length", std::to_string(response.body.size()));
      response.body.clear();
    }
    response.headers.set("X-Request-Id", summary_.request_id);
    summary_.status = response.status;
    summary_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (observer_ && *observer_) {
      try {
        (*observer_)(summary_);
      } catch (...) {
        // Metrics or logging failing must not cost the client its response.
      }
    }
    if (auditor_ && *auditor_ && response.status >= 200 && response.status < 400) {
      AuditEvent event = std::move(audit_);
      if (auto* action = response.audit.if_contains("action"); action && action->is_string()) {
        if (event.action.empty()) event.action = std::string(action->get_string());
        response.audit.erase("action");
      }
      if (event.action.empty()) {
        response.audit = {};
        return downstream_(std::move(response));
      }
      if (auto* target = response.audit.if_contains("target"); target && target->is_string()) {
        event.target = std::string(target->get_string());
        response.audit.erase("target");
      }
      event.details = std::move(response.audit);
      auto held = std::make_shared<Response>(std::move(response));
      auto downstream = std::move(downstream_);
      (*auditor_)(std::move(event), [held, downstream = std::move(downstream)] {
        downstream(std::move(*held));
      });
      return;
    }
    downstream_(std::move(response));
  }

 private:
  Reply downstream_;
  std::shared_ptr<const RequestObserver> observer_;
  RequestSummary summary_;
  std::chrono::steady_clock::time_point start_;
  bool head_as_get_ = false;
  std::shared_ptr<const Auditor> auditor_;
  AuditEvent audit_;
  std::atomic<bool> done_{false};
};

}  // namespace

std::string limited_to_text(const engine::Principal& principal) {
  std::string out = "it is limited to the workflow";
  out += principal.workflows.size() == 1 ? " " : "s ";
  for (std::size_t i = 0; i < principal.workflows.size(); ++i) {
    out += (i == 0 ? "`" : ", `") + principal.workflows[i] + "`";
  }
  return out;
}

std::string Access::describe() const {
  switch (kind) {
    case Kind::open: return "open";
    case Kind::signed_in: return "signed-in";
    case Kind::permission: return std::string(engine::permission_name(permission));
  }
  return "open";
}

void Router::add(Method method, std::string_view pattern, Access access, Handler handler) {
  add_route(method, pattern, access, std::move(handler), nullptr);
}

void Router::add_async(Method method, std::string_view pattern, Access access,
                       AsyncHandler handler) {
  add_route(method, pattern, access, nullptr, std::move(handler));
}

void Router::set_authenticator(Authenticator authenticator) {
  authenticator_ = std::move(authenticator);
}

void Router::set_auditor(Auditor auditor) {
  auditor_ = std::make_shared<const Auditor>(std::move(auditor));
}

std::vector<RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  for (const auto& r : routes_) out.push_back(RouteInfo{r.method, r.pattern, r.access});
  return out;
}

void Router::set_observer(RequestObserver observer) {
  observer_ = std::make_shared<const RequestObserver>(std::move(observer));
}

void Router::add_route(Method method, std::string_view pattern, Access access, Handler handler,
                       AsyncHandler async_handler) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern `" + std::string(pattern) + "` must start with '/'");
  }
  Route route{method,         std::string(pattern), {}, 0, access, std::move(handler),
              std::move(async_handler)};
  if (pattern != "/") {
    for (const auto part : split(pattern)) {
      if (part.empty() || part == "{}" || part == "{...}") {
        throw std::invalid_argument("route pattern `" + std::string(pattern) +
                                    "` has an empty segment or parameter name");
      }
      if (!route.segments.empty() && is_rest_param(route.segments.back())) {
        throw std::invalid_argument("route pattern `" + std::string(pattern) +
                                    "`: only the last segment may be a `{name...}` parameter");
      }
      if (!is_param(part)) ++route.literals;
      route.segments.emplace_back(part);
    }
  }
  routes_.push_back(std::move(route));
}

Response Router::handle(Request request) const {
  // Shared, not on this stack: the replying thread may still be inside set_value() when get()
  // returns here.
  auto promise = std::make_shared<std::promise<Response>>();
  auto future = promise->get_future();
  dispatch(std::move(request), [promise](Response response) {
    promise->set_value(std::move(response));
  });
  return future.get();
}

void Router::dispatch(Request request, Reply reply) const {
  if (const auto id = request.headers.get("X-Request-Id"); id && acceptable_request_id(*id)) {
    request.request_id = std::string(*id);
  } else {
    request.request_id = new_request_id();
  }
  Canonical canonical = canonicalise(request.raw_path);
  RequestSummary summary;
  summary.method = request.method;
  summary.method_text = request.method_text;
  summary.path = canonical.error.empty() ? canonical.path : request.raw_path;
  summary.request_id = request.request_id;
  // Held here until dispatch returns, so a sync handler or a router error completes it first.
  const auto pending = std::make_shared<PendingReply>(std::move(reply), observer_,
                                                      std::move(summary));
  if (!canonical.error.empty()) {
    return pending->complete(problem_json(400, "Bad request path", canonical.error));
  }
  request.path = canonical.path;
  const boost::json::object instance{{"instance", request.raw_path}};

  const Method wanted = request.method;
  const Route* best = nullptr;
  const Route* get_fallback = nullptr;
  std::vector<Method> allowed;
  for (const auto& route : routes_) {
    if (!matches(route.segments, canonical.segments)) continue;
    allowed.push_back(route.method);
    if (route.method == wanted && (best == nullptr || route.literals > best->literals)) {
      best = &route;
    }
    if (wanted == Method::kHead && route.method == Method::kGet &&
        (get_fallback == nullptr || route.literals > get_fallback->literals)) {
      get_fallback = &route;
    }
  }
  const bool head_as_get = best == nullptr && get_fallback != nullptr;
  if (head_as_get) best = get_fallback;
  if (best == nullptr) {
    if (allowed.empty()) {
      return pending->complete(
          problem_json(404, "Not found", "no resource at " + request.path, instance));
    }
    if (std::find(allowed.begin(), allowed.end(), Method::kGet) != allowed.end()) {
      allowed.push_back(Method::kHead);
    }
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    std::string allow;
    for (const Method m : allowed) {
      if (!allow.empty()) allow += ", ";
      allow += method_name(m);
    }
    Response response = problem_json(405, "Method not allowed",
                                     request.method_text + " is not allowed on " + request.path +
                                         "; allowed: " + allow,
                                     instance);
    response.headers.set("Allow", allow);
    return pending->complete(std::move(response));
  }

  for (std::size_t i = 0; i < best->segments.size(); ++i) {
    const auto& segment = best->segments[i];
    if (is_rest_param(segment)) {
      std::string rest = canonical.segments[i];
      for (std::size_t j = i + 1; j < canonical.segments.size(); ++j) {
        rest += '/';
        rest += canonical.segments[j];
      }
      request.params[param_name(segment)] = std::move(rest);
    } else if (is_param(segment)) {
      request.params[param_name(segment)] = canonical.segments[i];
    }
  }
  pending->matched(best->pattern, head_as_get);

  const Access& access = best->access;
  if (access.kind != Access::Kind::open) {
    if (!authenticator_) {
      Response refused = problem_json(401, "Unauthorized", "this server has no sign-in configured",
                                      instance);
      refused.headers.set("WWW-Authenticate", "Bearer");
      return pending->complete(std::move(refused));
    }
    Authentication auth;
    try {
      auth = authenticator_(request);
    } catch (...) {
      return pending->complete(problem_json(500, "Internal error",
                                            "the server failed to check the credentials",
                                            instance));
    }
    if (auth.refusal) return pending->complete(std::move(*auth.refusal));
    if (!auth.principal) {
      return pending->complete(problem_json(500, "Internal error",
                                            "the server failed to check the credentials",
                                            instance));
    }
    if (access.kind == Access::Kind::permission && !auth.principal->can(access.permission)) {
      const std::string needed(engine::permission_name(access.permission));
      boost::json::object extra = instance;
      extra["required_permission"] = needed;
      return pending->complete(problem_json(
          403, "Forbidden",
          request.method_text + " " + request.path + " needs the permission `" + needed +
              "`, which " + auth.principal->email + " (" +
              (auth.principal->kind == engine::Principal::Kind::token ? "this token" : "role " + auth.principal->role) +
              ") does not have",
          extra));
    }
    if (auth.principal->limited_to_workflows() && access.reach != Access::Reach::anywhere &&
        access.reach != Access::Reach::by_handler) {
      const bool reaches = access.reach == Access::Reach::workflow &&
                           auth.principal->reaches(request.params["id"]);
      if (!reaches) {
        return pending->complete(problem_json(
            403, "Forbidden",
            request.method_text + " " + request.path + " is outside what this token may reach: " +
                limited_to_text(*auth.principal),
            instance));
      }
    }
    request.principal = std::move(auth.principal);
  }
  if ((!access.audit_action.empty() || access.personal_data) && auditor_) {
    AuditEvent event;
    event.action = std::string(access.audit_action);
    event.principal = request.principal;
    event.address = request.remote_address;
    event.request_id = request.request_id;
    for (std::size_t i = 0; i < best->segments.size(); ++i) {
      if (!is_param(best->segments[i])) continue;
      if (!event.target.empty()) event.target += '/';
      event.target += request.params[param_name(best->segments[i])];
    }
    pending->audit_with(auditor_, std::move(event));
  }
  // The message of an exception may carry internals (paths, SQL); the client gets a generic
  // problem. For an async handler that already replied, this completion is ignored.
  auto internal_error = [&instance] {
    return problem_json(500, "Internal error", "the server failed to handle the request",
                        instance);
  };
  if (best->handler) {
    Response response;
    try {
      response = best->handler(request);
    } catch (...) {
      return pending->complete(internal_error());
    }
    return pending->complete(std::move(response));
  }
  try {
    best->async_handler(std::move(request),
                        [pending](Response response) { pending->complete(std::move(response)); });
  } catch (...) {
    pending->complete(internal_error());
  }
}

}  // namespace flowpilot::web
