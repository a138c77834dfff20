#include "web/access.h"

#include "engine/access/detail/credentials.h"
#include "web/detail/api_support.h"
#include "web/detail/work_queue.h"

#include <boost/json.hpp>

#include <algorithm>
#include <limits>

namespace flowpilot::web {

namespace json = boost::json;
using namespace api_detail;  // NOLINT(google-build-using-namespace): a .cpp's own helpers

namespace {

constexpr std::size_t kPasswordThreads = 2;
constexpr std::size_t kMaxWaitingSignIns = 32;
constexpr long long kMaxAuditPage = 500;

bool changes_state(Method m) {
  return m != Method::kGet && m != Method::kHead && m != Method::kOptions;
}

// The value of cookie `name` in a Cookie header ("a=1; flowpilot_session=..."), or "".
std::string cookie_value(const Request& request, std::string_view name) {
  for (const auto& [field, value] : request.headers.fields()) {
    if (ascii_lowercase(field) != "cookie") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
        return std::string(pair.substr(eq + 1));
      }
    }
  }
  return {};
}

// Why a cookie-authenticated change comes from another site, or "" when it does not: the
// browser's Origin (when sent) must name this server's own host, and Sec-Fetch-Site (when sent)
// must not say cross-site. Behind the CSRF token, this refuses a forged form even on a browser
// that leaks the token some other way.
std::string foreign_origin(const Request& request) {
  if (auto site = request.headers.get("Sec-Fetch-Site"); site && ascii_lowercase(*site) == "cross-site") {
    return "the request comes from another site (Sec-Fetch-Site: cross-site)";
  }
  auto origin = request.headers.get("Origin");
  if (!origin) return {};
  const std::string host = ascii_lowercase(request.headers.get("Host").value_or(""));
  std::string_view o = *origin;
  const auto scheme_end = o.find("://");
  const std::string authority =
      scheme_end == std::string_view::npos ? std::string() : ascii_lowercase(o.substr(scheme_end + 3));
  if (authority.empty() || host.empty() || authority != host) {
    return "the request's Origin `" + printable_text(o.substr(0, 200)) +
           "` is not this server's";
  }
  return {};
}

Response unauthorized(const Request& request, std::string_view detail) {
  Response r = problem(request, 401, "Unauthorized", detail);
  r.headers.set("WWW-Authenticate", "Bearer realm=\"flowpilot\"");
  return r;
}

json::object user_json(const engine::UserSummary& u) {
  return json::object{{"id", u.id},         {"email", u.email},
                      {"name", u.name},     {"role", u.role},
                      {"disabled", u.disabled}, {"created_at", u.created_at},
                      {"updated_at", u.updated_at}};
}


json::array names_json(const std::vector<std::string>& names) {
  json::array out;
  for (const auto& n : names) out.push_back(json::value(n));
  return out;
}

// Answers that carry a secret (a session cookie, a token, a password) must not be cached.
Response no_store(Response r) {
  r.headers.set("Cache-Control", "no-store");
  return r;
}

// The body as an object whose members are all in `allowed` with the given JSON kinds; otherwise a
// 422 naming each wrong member.
struct Member {
  std::string_view name;
  json::kind kind;  // string, array, bool
  bool required = false;
};

std::variant<json::object, Response> object_body(const Request& request,
                                                 std::initializer_list<Member> members) {
  auto parsed = json_body(request);
  if (auto* error = std::get_if<Response>(&parsed)) return std::move(*error);
  auto* o = std::get<json::value>(parsed).if_object();
  if (o == nullptr) return problem(request, 422, "Invalid request", "the body must be a JSON object");
  json::array errors;
  for (const auto& [key, value] : *o) {
    auto m = std::find_if(members.begin(), members.end(),
                          [&](const Member& m) { return m.name == key; });
    if (m == members.end()) {
      errors.push_back(json::object{{"path", key}, {"message", "unknown member"}});
    } else if (value.kind() != m->kind) {
      const char* want = m->kind == json::kind::string  ? "must be a string"
                         : m->kind == json::kind::array ? "must be an array"
                                                        : "must be true or false";
      errors.push_back(json::object{{"path", key}, {"message", want}});
    }
  }
  for (const auto& m : members) {
    if (m.required && !o->contains(m.name)) {
      errors.push_back(json::object{{"path", m.name}, {"message", "missing"}});
    }
  }
  if (!errors.empty()) {
    return problem(request, 422, "Invalid request", "the body has invalid members",
                   std::move(errors));
  }
  return std::move(*o);
}

std::string string_member(const json::object& o, std::string_view name) {
  auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// An AccessError as a problem. Its message starts with the field it is about ("scopes[1]: ..."),
// which becomes the error's path.
Response access_problem(const Request& request, const engine::AccessError& e) {
  const std::string message = e.what();
  const auto colon = message.find(": ");
  const std::string path = colon == std::string::npos ? std::string() : message.substr(0, colon);
  json::array errors;
  if (!path.empty() && path.find(' ') == std::string::npos) {
    errors.push_back(json::object{{"path", path}, {"message", message.substr(colon + 2)}});
  }
  switch (e.kind()) {
    case engine::AccessError::Kind::not_found: return problem(request, 404, "Not found", message);
    case engine::AccessError::Kind::exists:
      return problem(request, 409, "Conflict", message, std::move(errors));
    case engine::AccessError::Kind::forbidden:
      return problem(request, 403, "Forbidden", message, std::move(errors));
    case engine::AccessError::Kind::invalid: break;
  }
  return problem(request, 422, "Invalid request", message, std::move(errors));
}

}  // namespace

// A proxy in front says the browser spoke HTTPS (X-Forwarded-Proto: https, or Forwarded with
// proto=https). Trusting it needs no configuration: a forged header only makes the cookie Secure,
// which costs the forger their own session over plain HTTP and nobody else anything.
bool forwarded_https(const Request& request) {
  if (auto proto = request.headers.get("X-Forwarded-Proto")) {
    std::string first = ascii_lowercase(proto->substr(0, proto->find(',')));
    first.erase(0, first.find_first_not_of(" \t"));
    first.erase(first.find_last_not_of(" \t") + 1);
    if (first == "https") return true;
  }
  if (auto forwarded = request.headers.get("Forwarded")) {
    const std::string text = ascii_lowercase(forwarded->substr(0, forwarded->find(',')));
    if (text.find("proto=https") != std::string::npos) return true;
  }
  return false;
}

struct AccessApi::Impl {
  AccessServices services;
  AccessOptions options;
  WorkQueue password_checks{kPasswordThreads};

  Impl(AccessServices s, AccessOptions o) : services(s), options(o) {}

  std::string session_cookie(const Request& request, std::string_view value,
                             long long max_age_seconds) const {
    std::string cookie = std::string(kSessionCookie) + "=" + std::string(value) +
                         "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                         std::to_string(max_age_seconds);
    if (options.secure_cookies || forwarded_https(request)) cookie += "; Secure";
    return cookie;
  }

  Authentication authenticate(const Request& request) const {
    Authentication out;
    if (auto header = request.headers.get("Authorization")) {
      constexpr std::string_view kBearer = "bearer ";
      std::string_view value = *header;
      if (value.size() <= kBearer.size() ||
          ascii_lowercase(value.substr(0, kBearer.size())) != kBearer) {
        out.refusal = unauthorized(request, "Authorization must be `Bearer <API token>`");
        return out;
      }
      value.remove_prefix(kBearer.size());
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      auto outcome = services.tokens.authenticate(value);
      if (auto* why = std::get_if<std::string>(&outcome)) {
        out.refusal = unauthorized(request, *why);
        return out;
      }
      out.principal = std::make_shared<const engine::Principal>(
          std::move(std::get<engine::Principal>(outcome)));
      return out;
    }
    const std::string cookie = cookie_value(request, kSessionCookie);
    if (cookie.empty()) {
      out.refusal = unauthorized(
          request, "sign in (POST /api/v1/auth/login) or send Authorization: Bearer <API token>");
      return out;
    }
    auto outcome = services.sessions.authenticate(cookie);
    if (auto* why = std::get_if<std::string>(&outcome)) {
      Response r = unauthorized(request, *why);
      r.headers.add("Set-Cookie", session_cookie(request, "", 0));  // the browser may forget it
      out.refusal = std::move(r);
      return out;
    }
    auto principal = std::get<engine::Principal>(std::move(outcome));
    if (changes_state(request.method)) {
      if (const std::string why = foreign_origin(request); !why.empty()) {
        out.refusal = problem(request, 403, "CSRF check failed", why);
        return out;
      }
      const auto sent = request.headers.get(kCsrfHeader);
      if (!sent || !engine::access_detail::same_secret(*sent, principal.csrf_token)) {
        out.refusal = problem(request, 403, "CSRF check failed",
                              std::string(sent ? "the " : "no ") + std::string(kCsrfHeader) +
                                  (sent ? " header does not match this session's token"
                                        : " header: a change made with the session cookie must "
                                          "echo the token from sign-in or GET /api/v1/auth/session"));
        return out;
      }
    }
    out.principal = std::make_shared<const engine::Principal>(std::move(principal));
    return out;
  }

  void audit(AuditEvent event, std::function<void()> done) {
    engine::AuditEntry entry;
    if (event.principal) engine::set_actor(entry, *event.principal);
    entry.address = std::move(event.address);
    entry.action = std::move(event.action);
    entry.target = std::move(event.target);
    entry.details = std::move(event.details);
    entry.request_id = std::move(event.request_id);
    services.audit.record(std::move(entry), [done = std::move(done)](std::exception_ptr) {
      // The change itself is made; its answer goes out even if the entry could not be written
      // (the store failing will have failed the change's own writes too).
      done();
    });
  }

  // ---- /api/v1/auth ----------------------------------------------------------------------

  void login(Request request, Reply reply) {
    auto body = object_body(request, {{"email", json::kind::string, true},
                                      {"password", json::kind::string, true}});
    if (auto* error = std::get_if<Response>(&body)) return reply(std::move(*error));
    const auto& o = std::get<json::object>(body);
    std::string email = string_member(o, "email");
    std::string password = string_member(o, "password");
    // The account as sign-in looks it up, so that spellings of one address share one count.
    std::string account;
    try {
      account = engine::normalize_email(email);
    } catch (const engine::AccessError&) {
      account = ascii_lowercase(email);
    }
    const std::string address = request.remote_address.empty() ? "local" : request.remote_address;
    if (const auto wait = services.throttle.wait(account, address); wait.count() > 0) {
      Response r = problem(request, 429, "Too many sign-in attempts",
                           "too many failed sign-ins for this account or from this address; try "
                           "again in " + std::to_string(wait.count()) + " s");
      r.headers.set("Retry-After", std::to_string(wait.count()));
      return reply(std::move(r));
    }
    if (password_checks.backlog() >= kMaxWaitingSignIns) {
      Response r = problem(request, 503, "Busy", "too many sign-ins at once; try again shortly");
      r.headers.set("Retry-After", "1");
      return reply(std::move(r));
    }
    password_checks.post([this, request = std::move(request), reply = std::move(reply),
                          email = std::move(email), password = std::move(password),
                          account = std::move(account), address]() mutable {
      try {
        auto user = services.users.verify(email, password);
        if (!user) {
          services.throttle.failed(account, address);
          return reply(unauthorized(request, "the email or password is wrong"));
        }
        services.throttle.succeeded(account);
        const std::string agent(request.headers.get("User-Agent").value_or(""));
        engine::OpenedSession opened = services.sessions.open(*user, address, agent);
        json::object answer{
            {"user", user_json(*user)},
            {"csrf_token", opened.csrf_token},
            {"expires_at", opened.expires_at},
            {"permissions", names_json(engine::PermissionSet::of_role(user->role).names())}};
        Response r = no_store(json_response(200, answer));
        r.headers.add("Set-Cookie",
                      session_cookie(request, opened.cookie_value,
                                     services.sessions.options().absolute_timeout.count() / 1000));
        engine::AuditEntry entry;
        entry.actor_id = user->id;
        entry.actor_email = user->email;
        entry.actor_kind = "session";
        entry.address = address;
        entry.action = "session.login";
        entry.target = user->id;
        entry.request_id = request.request_id;
        auto held = std::make_shared<Response>(std::move(r));
        services.audit.record(std::move(entry), [held, reply](std::exception_ptr) {
          reply(std::move(*held));
        });
      } catch (const std::exception&) {
        reply(problem(request, 500, "Internal error", "signing in failed"));
      }
    });
  }

  Response logout(const Request& request) {
    if (request.principal->kind == engine::Principal::Kind::session) {
      services.sessions.close(cookie_value(request, kSessionCookie));
    }
    Response r;
    r.status = 204;
    r.headers.add("Set-Cookie", session_cookie(request, "", 0));
    r.audit = json::object{{"target", request.principal->user_id}};
    return r;
  }

  Response session(const Request& request) const {
    const engine::Principal& p = *request.principal;
    json::object answer{
        {"signed_in", true},
        {"user", json::object{{"id", p.user_id}, {"email", p.email}, {"name", p.name},
                              {"role", p.role}}},
        {"kind", engine::principal_kind_name(p.kind)},
        {"permissions", names_json(p.permissions.names())}};
    if (p.kind == engine::Principal::Kind::session) answer["csrf_token"] = p.csrf_token;
    return no_store(json_response(200, answer));
  }

  // ---- /api/v1/tokens --------------------------------------------------------------------

  Response list_tokens(const Request& request) {
    const engine::Principal& p = *request.principal;
    std::string user = request.query_value("user").value_or("");
    if (!p.can(engine::Permission::admin)) {
      if (!user.empty() && ascii_lowercase(user) != p.email) {
        return problem(request, 403, "Forbidden", "only an admin may list another user's tokens");
      }
      user = p.email;
    }
    try {
      json::array items;
      for (const auto& t : services.tokens.list(user)) items.push_back(engine::token_json(t));
      return json_response(200, json::object{{"items", std::move(items)}});
    } catch (const engine::AccessError& e) {
      return access_problem(request, e);
    }
  }

  Response create_token(const Request& request) {
    auto body = object_body(request, {{"name", json::kind::string},
                                      {"scopes", json::kind::array, true},
                                      {"expires", json::kind::string},
                                      {"user", json::kind::string},
                                      {"workflows", json::kind::array}});
    if (auto* error = std::get_if<Response>(&body)) return std::move(*error);
    const auto& o = std::get<json::object>(body);
    const engine::Principal& p = *request.principal;
    engine::NewToken input;
    input.name = string_member(o, "name");
    input.user_email = o.contains("user") ? string_member(o, "user") : p.email;
    json::array errors;
    const auto& scopes = o.at("scopes").get_array();
    for (std::size_t i = 0; i < scopes.size(); ++i) {
      if (!scopes[i].is_string()) {
        errors.push_back(json::object{{"path", "scopes[" + std::to_string(i) + "]"},
                                      {"message", "must be a string"}});
      } else {
        input.scopes.emplace_back(scopes[i].get_string());
      }
    }
    if (const auto* workflows = o.if_contains("workflows")) {
      for (std::size_t i = 0; i < workflows->get_array().size(); ++i) {
        const auto& w = workflows->get_array()[i];
        if (!w.is_string()) {
          errors.push_back(json::object{{"path", "workflows[" + std::to_string(i) + "]"},
                                        {"message", "must be a string"}});
        } else {
          input.workflows.emplace_back(w.get_string());
        }
      }
    }
    if (!errors.empty()) {
      return problem(request, 422, "Invalid request", "the body has invalid members",
                     std::move(errors));
    }
    try {
      if (o.contains("expires")) {
        input.lifetime = engine::parse_token_lifetime(string_member(o, "expires"));
      }
      if (!p.can(engine::Permission::admin) &&
          engine::normalize_email(input.user_email, "user") != p.email) {
        return problem(request, 403, "Forbidden", "only an admin may create a token for another user",
                       json::array{json::object{{"path", "user"}, {"message", "not you"}}});
      }
      // A token never grants more than the credentials that made it.
      for (std::size_t i = 0; i < input.scopes.size(); ++i) {
        if (!p.permissions.contains(engine::PermissionSet::of_scopes({input.scopes[i]}))) {
          return problem(request, 403, "Forbidden",
                         "scope `" + input.scopes[i] + "` is more than this caller may grant",
                         json::array{json::object{{"path", "scopes[" + std::to_string(i) + "]"},
                                                  {"message", "more than the caller has"}}});
        }
      }
      engine::CreatedToken created = services.tokens.create(input);
      json::object answer = engine::token_json(created.token);
      answer["secret"] = created.secret;
      Response r = no_store(json_response(201, answer));
      r.audit = json::object{{"target", created.token.id},
                             {"user", created.token.user_email},
                             {"name", created.token.name},
                             {"scopes", names_json(created.token.scopes)},
                             {"expires_at", created.token.expires_at},
                             {"workflows", names_json(created.token.workflows)}};
      return r;
    } catch (const engine::AccessError& e) {
      return access_problem(request, e);
    }
  }

  Response revoke_token(const Request& request) {
    const engine::Principal& p = *request.principal;
    const std::string& id = request.params.at("id");
    auto token = services.tokens.get(id);
    // Someone else's token is "not found" for a non-admin: its existence is not theirs to know.
    if (!token || (!p.can(engine::Permission::admin) && token->user_id != p.user_id)) {
      return problem(request, 404, "Not found", "there is no token `" + id + "`");
    }
    Response r = json_response(200, engine::token_json(services.tokens.revoke(id)));
    r.audit = json::object{{"user", token->user_email}, {"name", token->name}};
    return r;
  }

  // ---- /api/v1/users ---------------------------------------------------------------------

  std::optional<engine::UserSummary> user_of(const Request& request) {
    return services.users.get_by_id(request.params.at("id"));
  }

  Response no_user(const Request& request) {
    return problem(request, 404, "Not found", "there is no user `" + request.params.at("id") + "`");
  }

  Response list_users(const Request&) {
    json::array items;
    for (const auto& u : services.users.list()) items.push_back(user_json(u));
    return json_response(200, json::object{{"items", std::move(items)}});
  }

  Response create_user(const Request& request) {
    auto body = object_body(request, {{"email", json::kind::string, true},
                                      {"name", json::kind::string},
                                      {"role", json::kind::string},
                                      {"password", json::kind::string}});
    if (auto* error = std::get_if<Response>(&body)) return std::move(*error);
    const auto& o = std::get<json::object>(body);
    engine::NewUser input{string_member(o, "email"), string_member(o, "name"),
                          o.contains("role") ? string_member(o, "role") : "viewer", std::nullopt};
    if (o.contains("password")) input.password = string_member(o, "password");
    try {
      engine::CreatedUser created = services.users.add(input);
      json::object answer{{"user", user_json(created.user)}};
      if (created.generated_password) answer["password"] = *created.generated_password;
      Response r = no_store(json_response(201, answer));
      r.headers.set("Location", "/api/v1/users/" + created.user.id);
      r.audit = json::object{{"target", created.user.id},
                             {"email", created.user.email},
                             {"role", created.user.role}};
      return r;
    } catch (const engine::AccessError& e) {
      return access_problem(request, e);
    }
  }

  Response update_user(const Request& request) {
    auto body = object_body(request, {{"role", json::kind::string}, {"disabled", json::kind::bool_}});
    if (auto* error = std::get_if<Response>(&body)) return std::move(*error);
    const auto& o = std::get<json::object>(body);
    auto user = user_of(request);
    if (!user) return no_user(request);
    json::object changed;
    try {
      if (o.contains("role") && string_member(o, "role") != user->role) {
        changed["role"] = json::object{{"from", user->role}, {"to", string_member(o, "role")}};
        user = services.users.set_role(user->email, string_member(o, "role"));
      }
      if (auto* d = o.if_contains("disabled"); d && d->get_bool() != user->disabled) {
        changed["disabled"] = d->get_bool();
        user = services.users.set_disabled(user->email, d->get_bool());
        if (user->disabled) services.sessions.close_all(user->id);
      }
    } catch (const engine::AccessError& e) {
      return access_problem(request, e);
    }
    // A new role applies to the user's tokens and browser sessions at once, not after the cache.
    services.tokens.forget_user(user->id);
    services.sessions.forget_user(user->id);
    Response r = json_response(200, user_json(*user));
    changed["email"] = user->email;
    r.audit = std::move(changed);
    return r;
  }

  Response reset_password(const Request& request) {
    auto body = object_body(request, {{"password", json::kind::string}});
    if (auto* error = std::get_if<Response>(&body)) return std::move(*error);
    const auto& o = std::get<json::object>(body);
    auto user = user_of(request);
    if (!user) return no_user(request);
    try {
      std::optional<std::string> password;
      if (o.contains("password")) password = string_member(o, "password");
      auto generated = services.users.reset_password(user->email, password);
      services.sessions.close_all(user->id);
      json::object answer{{"user", user_json(*user)}};
      if (generated) answer["password"] = *generated;
      Response r = no_store(json_response(200, answer));
      r.audit = json::object{{"email", user->email}, {"generated", generated.has_value()}};
      return r;
    } catch (const engine::AccessError& e) {
      return access_problem(request, e);
    }
  }

  Response end_sessions(const Request& request) {
    auto user = user_of(request);
    if (!user) return no_user(request);
    services.sessions.close_all(user->id);
    Response r;
    r.status = 204;
    r.audit = json::object{{"email", user->email}};
    return r;
  }

  // ---- /api/v1/audit ---------------------------------------------------------------------

  Response list_audit(const Request& request) {
    engine::AuditFilter filter;
    filter.actor = request.query_value("actor").value_or("");
    filter.action = request.query_value("action").value_or("");
    filter.target = request.query_value("target").value_or("");
    for (auto [name, field] : {std::pair{"from", &filter.from}, std::pair{"to", &filter.to},
                               std::pair{"cursor", &filter.before_id}}) {
      auto value = query_integer(request, name, 0, std::numeric_limits<long long>::max());
      if (auto* error = std::get_if<Response>(&value)) return std::move(*error);
      *field = std::get<std::optional<long long>>(value).value_or(0);
    }
    auto limit = query_integer(request, "limit", 1, kMaxAuditPage);
    if (auto* error = std::get_if<Response>(&limit)) return std::move(*error);
    filter.limit = static_cast<int>(std::get<std::optional<long long>>(limit).value_or(100));
    json::array items;
    std::int64_t last = 0;
    const auto records = services.audit.list(filter);
    for (const auto& r : records) {
      items.push_back(engine::audit_json(r));
      last = r.id;
    }
    json::object answer{{"items", std::move(items)}};
    answer["next_cursor"] = static_cast<int>(records.size()) == filter.limit
                                ? json::value(std::to_string(last))
                                : json::value(nullptr);
    return json_response(200, answer);
  }
};

AccessApi::AccessApi(AccessServices services, AccessOptions options)
    : impl_(std::make_shared<Impl>(services, options)) {}
AccessApi::~AccessApi() = default;

Authentication AccessApi::authenticate(const Request& request) const {
  return impl_->authenticate(request);
}

void AccessApi::install(Router& router) {
  using P = engine::Permission;
  Impl* impl = impl_.get();
  router.set_authenticator([impl](const Request& r) { return impl->authenticate(r); });
  router.set_auditor([impl](AuditEvent e, std::function<void()> done) {
    impl->audit(std::move(e), std::move(done));
  });
  router.add_async(Method::kPost, "/api/v1/auth/login", Access::open(),
                   [impl](Request r, Reply reply) { impl->login(std::move(r), std::move(reply)); });
  router.add(Method::kPost, "/api/v1/auth/logout", Access::signed_in("session.logout").reaching(Access::Reach::anywhere),
             [impl](const Request& r) { return impl->logout(r); });
  // Open, so that a visitor with no credentials at all hears `signed_in: false` with a 200: the
  // UI asks on every page load, and browsers log every 401 as an error. Credentials that are
  // sent are checked as on any other route (401 when bad).
  router.add(Method::kGet, "/api/v1/auth/session", Access::open(), [impl](const Request& r) {
    if (!r.headers.get("Authorization") && cookie_value(r, kSessionCookie).empty()) {
      return no_store(json_response(200, json::object{{"signed_in", false}}));
    }
    Authentication checked = impl->authenticate(r);
    if (checked.refusal) return std::move(*checked.refusal);
    Request signed_in = r;
    signed_in.principal = std::move(checked.principal);
    return impl->session(signed_in);
  });
  router.add(Method::kGet, "/api/v1/tokens", Access::signed_in(),
             [impl](const Request& r) { return impl->list_tokens(r); });
  router.add(Method::kPost, "/api/v1/tokens", Access::signed_in("token.create"),
             [impl](const Request& r) { return impl->create_token(r); });
  router.add(Method::kDelete, "/api/v1/tokens/{id}", Access::signed_in("token.revoke"),
             [impl](const Request& r) { return impl->revoke_token(r); });
  router.add(Method::kGet, "/api/v1/users", Access::needs(P::admin),
             [impl](const Request& r) { return impl->list_users(r); });
  router.add(Method::kPost, "/api/v1/users", Access::needs(P::admin, "user.create"),
             [impl](const Request& r) { return impl->create_user(r); });
  router.add(Method::kPatch, "/api/v1/users/{id}", Access::needs(P::admin, "user.update"),
             [impl](const Request& r) { return impl->update_user(r); });
  router.add(Method::kPost, "/api/v1/users/{id}/password",
             Access::needs(P::admin, "user.reset_password"),
             [impl](const Request& r) { return impl->reset_password(r); });
  router.add(Method::kDelete, "/api/v1/users/{id}/sessions",
             Access::needs(P::admin, "user.end_sessions"),
             [impl](const Request& r) { return impl->end_sessions(r); });
  router.add(Method::kGet, "/api/v1/audit", Access::needs(P::admin),
             [impl](const Request& r) { return impl->list_audit(r); });
}

}  // namespace flowpilot::web
