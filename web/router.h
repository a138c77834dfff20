// Maps (method, path pattern) to a handler, a plain function from Request to Response. The server
// calls Router::handle for every request; tests call it directly, without sockets.
//
// Patterns are absolute paths whose segments are literals or `{name}`; `{name}` matches exactly
// one non-empty segment and its decoded value lands in Request::params["name"]. When several
// patterns match, the one with the most literal segments wins ("/runs/active" over "/runs/{id}").
//
// Path canonicalisation, done once here so that nothing downstream (auth included) ever sees two
// spellings of one resource (BAD-INPUTS 22):
//   - the path must start with '/' (origin-form); anything else is 400;
//   - it is split on '/' first and each segment is then percent-decoded, so "%2F" cannot create a
//     segment boundary; a bad escape, or a decoded segment containing '/' or NUL, is 400;
//   - a segment that is "." or ".." after decoding ("%2e%2e" included) is 400, never resolved;
//   - an empty segment inside the path ("/a//b") is 400;
//   - one trailing slash is ignored: "/healthz/" is the same route as "/healthz", and the handler
//     sees Request::path == "/healthz". Ignoring rather than refusing keeps clients that add the
//     slash working, and because matching (and thus any per-route auth) runs on the canonical
//     form the slash cannot select a different, less protected route;
//   - matching is exact per segment: "/healthz.svg" is not "/healthz" (the n8n `.svg` bypass).
// Outcomes: no pattern matches -> 404; a pattern matches but not for this method -> 405 with an
// `Allow` header listing the methods that do; HEAD without a HEAD route runs the GET handler and
// drops the body, keeping the GET's Content-Length. All errors are problem+json with `instance`
// set to the canonical path when there is one.
//
// Thread-safety: add() is for setup, before the server starts; handle() is const and may run on
// many threads at once. Handlers are called on server threads and must be safe for that.
#pragma once

#include "web/http_types.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::web {

using Handler = std::function<Response(const Request&)>;

class Router {
 public:
  // Registers `handler` for `method` on `pattern`. Throws std::invalid_argument for a pattern that
  // does not start with '/', has an empty segment or an empty `{}`.
  void add(Method method, std::string_view pattern, Handler handler);

  // Canonicalises the path, fills request.path and request.params, and runs the matching handler.
  // A handler that throws yields a 500 problem (its message is not shown to the client).
  Response handle(Request request) const;

 private:
  struct Route {
    Method method;
    std::vector<std::string> segments;  // "{name}" for a parameter
    int literals = 0;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace flowpilot::web
