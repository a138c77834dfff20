// Maps (method, path pattern) to a handler, a plain function from Request to Response. The server
// calls Router::dispatch for every request; tests call Router::handle directly, without sockets.
//
// Handlers are synchronous (add: return the Response) or asynchronous (add_async: get the Request
// and a Reply, and call the Reply once, later, from any thread). Asynchronous handlers let a
// request wait for something (a run finishing, another service) without holding one of the
// server's few threads. A Reply is backed by a shared state: if every copy of it is destroyed
// without a call (a bug in the handler), the request is answered with a 500 problem instead of
// hanging.
//
// Every request gets an id (Request::request_id): the client's `X-Request-Id` when it is 1 to 64
// characters of [A-Za-z0-9._-] (so that it is safe to log and to echo), otherwise 16 random hex
// digits. Every response the router produces, its own 400/404/405/500 problems included, carries
// it back as `X-Request-Id`.
//
// An observer (set_observer) sees one RequestSummary per request when its reply is produced, for
// metrics and access logs.
//
// Patterns are absolute paths whose segments are literals or `{name}`; `{name}` matches exactly
// one non-empty segment and its decoded value lands in Request::params["name"]. A last segment
// `{name...}` matches one or more segments, and their decoded values joined by '/' land in
// Request::params["name"] ("/files/{path...}" gives "uploads/spend.csv"). When several patterns
// match, the one with the most literal segments wins ("/runs/active" over "/runs/{id}").
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
// drops the body, keeping the GET's Content-Length (a streamed GET keeps its producer, which the
// server then does not call). All errors are problem+json with `instance` set to the canonical
// path when there is one.
//
// Access (docs/access.md): every route declares what it needs of its caller, an Access value:
// open (no credentials: health, webhooks with their own auth, login), signed_in (any principal),
// or one permission. For a route that is not open, dispatch() calls the authenticator (set with
// set_authenticator) once the route has matched; it answers with a principal or with the problem
// to send (401 for missing or bad credentials, 403 for a missing CSRF token). A principal without
// the route's permission gets 403 problem+json naming the permission. With no authenticator set,
// every route that is not open answers 401: the router fails closed. Matching runs first, so an
// unknown path is 404 and a wrong method 405 for everybody (the routes are public in the OpenAPI
// document anyway).
//
// Audit: a route whose Access names an audit action ("workflow.update") and whose answer is a
// success (2xx or 3xx) is reported to the auditor (set_auditor) before the answer goes out; the
// answer waits until the auditor says the entry is durable, so a change the client saw succeed is
// in the log. The entry's target is the route's parameters joined by '/', or the handler's
// Response::audit["target"]; its details are the rest of Response::audit. A read that shows
// personal data is recorded the same way when its route is declared reading_personal_data() and
// the handler names the action in Response::audit["action"] ("pii.read").
//
// Thread-safety: add(), add_async() and the set_*() functions are for setup, before the server
// starts; dispatch() and handle() are const and may run on many threads at once. Handlers are
// called on server threads and must be safe for that; a Reply may be called from any thread, and
// the observer, authenticator and auditor are called on server threads or whichever thread
// produces the reply, so they must be thread-safe too.
#pragma once

#include "web/http_types.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::web {

using Handler = std::function<Response(const Request&)>;
// Completes one request. Call exactly once, from any thread; later calls are ignored.
using Reply = std::function<void(Response)>;
using AsyncHandler = std::function<void(Request, Reply)>;

// What a route requires of its caller, and whether its successes are audited.
struct Access {
  enum class Kind { open, signed_in, permission };
  Kind kind = Kind::permission;
  engine::Permission permission = engine::Permission::admin;
  std::string_view audit_action;  // empty: not audited, unless the handler names an action
  bool personal_data = false;     // the handler may name an action (pii.read) in Response::audit
  // What a token limited to some workflows (Principal::workflows) may do here:
  //   global     - nothing: the route is not about one workflow (connections, users, files...);
  //   workflow   - the route's {id} is a workflow id, which the router checks;
  //   by_handler - the handler checks the workflow of what it touches and filters lists;
  //   anywhere   - not tied to workflows and harmless (plugins, validation, the session).
  enum class Reach { global, workflow, by_handler, anywhere };
  Reach reach = Reach::global;

  static constexpr Access open() { return {Kind::open, engine::Permission::admin, {}, false, Reach::anywhere}; }
  static constexpr Access signed_in(std::string_view audit_action = {}) {
    return {Kind::signed_in, engine::Permission::admin, audit_action, false, Reach::global};
  }
  static constexpr Access needs(engine::Permission p, std::string_view audit_action = {}) {
    return {Kind::permission, p, audit_action, false, Reach::global};
  }
  constexpr Access reading_personal_data() const {
    Access a = *this;
    a.personal_data = true;
    return a;
  }
  constexpr Access reaching(Reach r) const {
    Access a = *this;
    a.reach = r;
    return a;
  }
  // "open", "signed-in" or the permission's name (what the OpenAPI document's x-permission says).
  std::string describe() const;
};

// "it is limited to the workflows `a`, `b`": for 403 problems about a workflow-limited token.
std::string limited_to_text(const engine::Principal& principal);

// The authenticator's answer: a principal, or the refusal to send instead of running the route.
struct Authentication {
  std::shared_ptr<const engine::Principal> principal;
  std::optional<Response> refusal;
};
using Authenticator = std::function<Authentication(const Request&)>;

// One change to record. `done` must be called once the entry is durable (or failed to be).
struct AuditEvent {
  std::string action;
  std::shared_ptr<const engine::Principal> principal;
  std::string address;
  std::string request_id;
  std::string target;
  boost::json::object details;
};
using Auditor = std::function<void(AuditEvent event, std::function<void()> done)>;

// A registered route, for tests and documentation checks.
struct RouteInfo {
  Method method;
  std::string pattern;
  Access access;
};

// What the observer learns about one request.
struct RequestSummary {
  Method method = Method::kGet;
  std::string method_text;  // as received
  std::string route;        // the matched pattern, e.g. "/api/v1/runs/{id}"; "" when none matched
  int status = 0;
  double seconds = 0;       // from dispatch() to the reply
  std::string path;         // the canonical path, or the raw one when it could not be canonicalised
  std::string request_id;   // as echoed in X-Request-Id
};
using RequestObserver = std::function<void(const RequestSummary&)>;

class Router {
 public:
  // Registers `handler` for `method` on `pattern`. Throws std::invalid_argument for a pattern that
  // does not start with '/', has an empty segment or an empty `{}`.
  void add(Method method, std::string_view pattern, Access access, Handler handler);
  // The same for a handler that answers through its Reply, possibly after returning.
  void add_async(Method method, std::string_view pattern, Access access, AsyncHandler handler);

  void set_authenticator(Authenticator authenticator);
  void set_auditor(Auditor auditor);

  std::vector<RouteInfo> routes() const;

  // Called once per request when its reply is produced (400, 404 and 405 included), before the
  // reply is passed on. Exceptions it throws are ignored. Replaces any earlier observer.
  void set_observer(RequestObserver observer);

  // What the server calls: assigns the request id, canonicalises the path, fills request.path and
  // request.params, and runs the matching handler (404/405/HEAD rules above); sync handlers reply
  // before dispatch returns. A handler that throws yields a 500 problem (its message is not shown
  // to the client). `reply` is called exactly once, possibly on another thread, possibly after
  // the Router is gone (the reply path keeps what it needs alive).
  void dispatch(Request request, Reply reply) const;

  // dispatch() for callers that want the Response as a value: waits for the reply, so for an
  // async route it blocks until the handler answers (or drops its Reply).
  Response handle(Request request) const;

 private:
  struct Route {
    Method method;
    std::string pattern;
    std::vector<std::string> segments;  // "{name}" for a parameter
    int literals = 0;
    Access access;
    Handler handler;              // exactly one of handler and async_handler is set
    AsyncHandler async_handler;
  };
  void add_route(Method method, std::string_view pattern, Access access, Handler handler,
                 AsyncHandler async_handler);

  std::vector<Route> routes_;
  std::shared_ptr<const RequestObserver> observer_;
  Authenticator authenticator_;
  std::shared_ptr<const Auditor> auditor_;
};

}  // namespace flowpilot::web
