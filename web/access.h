// Sign-in for the API (docs/access.md): who is calling, checked on every route that is not open
// (router.h), and the routes that manage access: /api/v1/auth (sign in and out, the current
// session), /api/v1/tokens, /api/v1/users and /api/v1/audit.
//
// Credentials, in this order:
//   1. `Authorization: Bearer <token>` (an API token). Any other Authorization is refused: a
//      client that sent one meant to use it.
//   2. The session cookie `flowpilot_session` set by POST /api/v1/auth/login: HttpOnly,
//      SameSite=Lax, Path=/, Secure when the server is told it is behind HTTPS
//      (AccessOptions::secure_cookies) or a proxy says the request came over HTTPS
//      (X-Forwarded-Proto or Forwarded). A request that changes something (any method but GET,
//      HEAD and OPTIONS) made with the cookie must carry the session's CSRF token in
//      `X-CSRF-Token` (the login answer and GET /api/v1/auth/session give it), and must not come
//      from another site: an Origin header, when sent, must name the Host the request was sent
//      to, and Sec-Fetch-Site must not be cross-site. Bearer tokens need none of this: a browser
//      never attaches them on its own.
// Tokens are never read from the URL, so they do not end up in access logs or browser history.
//
// Sign-in checks the password (argon2id) on two threads of its own, at most 32 waiting; past that
// it answers 503 with Retry-After. Failed sign-ins are throttled per account and per address
// (engine/access/login_throttle.h): 429 with Retry-After, before the password is checked. Every
// refusal says the same "email or password is wrong", whether the account exists or not.
//
// Thread-safety: install() before the server starts; everything else runs on server threads.
#pragma once

#include "engine/access/audit.h"
#include "engine/access/login_throttle.h"
#include "engine/access/sessions.h"
#include "engine/access/tokens.h"
#include "engine/access/users.h"
#include "web/router.h"

#include <memory>

namespace flowpilot::web {

struct AccessOptions {
  bool secure_cookies = false;  // add `Secure` to the session cookie (HTTPS in front)
};

struct AccessServices {
  engine::UserService& users;
  engine::TokenService& tokens;
  engine::SessionService& sessions;
  engine::LoginThrottle& throttle;
  engine::AuditLog& audit;
};

class AccessApi {
 public:
  AccessApi(AccessServices services, AccessOptions options = {});
  ~AccessApi();
  AccessApi(const AccessApi&) = delete;
  AccessApi& operator=(const AccessApi&) = delete;

  // Sets the router's authenticator and auditor and adds the access routes. The AccessApi must
  // outlive the router's use.
  void install(Router& router);

  Authentication authenticate(const Request& request) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

inline constexpr std::string_view kSessionCookie = "flowpilot_session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

}  // namespace flowpilot::web
