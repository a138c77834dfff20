#include "web/router.h"

#include <algorithm>
#include <stdexcept>

namespace flowpilot::web {

namespace {

bool is_param(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
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
  if (pattern.size() != segments.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (!is_param(pattern[i]) && pattern[i] != segments[i]) return false;
  }
  return true;
}

}  // namespace

void Router::add(Method method, std::string_view pattern, Handler handler) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern `" + std::string(pattern) + "` must start with '/'");
  }
  Route route{method, {}, 0, std::move(handler)};
  if (pattern != "/") {
    for (const auto part : split(pattern)) {
      if (part.empty() || part == "{}") {
        throw std::invalid_argument("route pattern `" + std::string(pattern) +
                                    "` has an empty segment or parameter name");
      }
      if (!is_param(part)) ++route.literals;
      route.segments.emplace_back(part);
    }
  }
  routes_.push_back(std::move(route));
}

Response Router::handle(Request request) const {
  Canonical canonical = canonicalise(request.raw_path);
  if (!canonical.error.empty()) {
    return problem_json(400, "Bad request path", canonical.error);
  }
  request.path = canonical.path;
  const boost::json::object instance{{"instance", request.path}};

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
      return problem_json(404, "Not found", "no resource at " + request.path, instance);
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
    return response;
  }

  for (std::size_t i = 0; i < best->segments.size(); ++i) {
    const auto& segment = best->segments[i];
    if (is_param(segment)) {
      request.params[segment.substr(1, segment.size() - 2)] = canonical.segments[i];
    }
  }
  Response response;
  try {
    response = best->handler(request);
  } catch (...) {
    // The message may carry internals (paths, SQL); the client gets a generic problem.
    return problem_json(500, "Internal error", "the server failed to handle the request",
                        instance);
  }
  if (head_as_get) {
    response.headers.set("Content-Length", std::to_string(response.body.size()));
    response.body.clear();
  }
  return response;
}

}  // namespace flowpilot::web
