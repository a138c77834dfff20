// Sign-in and credentials through the router, against the attacks BAD-INPUTS.md lists under
// "HTTP API and auth": path tricks that must stay authenticated (22), viewers calling changes
// directly (21), cookie changes without the CSRF token or from a foreign origin, a fresh session
// id at every sign-in and sign-out that ends the session on the server (25); and the credentials
// that must stop working: revoked or expired tokens, disabled users, changed passwords.
#include "server_fixture.h"

#include <gtest/gtest.h>

namespace flowpilot::web {
namespace {

namespace json = boost::json;

class AccessTest : public test::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    users_->add({"ana@example.com", "Ana", "editor", std::string(kPassword)});
  }

  static constexpr std::string_view kPassword = "correct horse battery";

  Response anonymous(std::string_view method, std::string_view target, Headers headers = {},
                     std::string body = {}) {
    return router_.handle(make_request(method, target, std::move(headers), std::move(body)));
  }

  struct Session {
    std::string cookie;  // "flowpilot_session=..."
    std::string csrf;
    Response answer;
  };
  Session sign_in(Headers headers = {}) {
    headers.set("Content-Type", "application/json");
    Session s;
    s.answer = anonymous("POST", "/api/v1/auth/login", headers,
                         R"({"email": "ana@example.com", "password": "correct horse battery"})");
    EXPECT_EQ(s.answer.status, 200) << s.answer.body;
    const std::string set(s.answer.headers.get("Set-Cookie").value_or(""));
    s.cookie = set.substr(0, set.find(';'));
    if (s.answer.status == 200) s.csrf = std::string(body_of(s.answer).at("csrf_token").as_string());
    return s;
  }
  Headers with(const Session& s, bool csrf) {
    Headers h;
    h.set("Cookie", "theme=dark; " + s.cookie);
    h.set("Host", "flowpilot.example");
    if (csrf) h.set("X-CSRF-Token", s.csrf);
    return h;
  }
  static Headers bearer(const std::string& token) {
    Headers h;
    h.set("Authorization", "Bearer " + token);
    return h;
  }
};

constexpr std::string_view kFlow = "id: flow\nsteps:\n  - {id: a, uses: core.noop}\n";

TEST_F(AccessTest, PathTricksStayAuthenticated) {
  EXPECT_EQ(anonymous("GET", "/api/v1/workflows").status, 401);
  EXPECT_EQ(anonymous("GET", "/api/v1/workflows/").status, 401) << "trailing slash";
  EXPECT_EQ(anonymous("HEAD", "/api/v1/workflows").status, 401) << "HEAD instead of GET";
  EXPECT_EQ(anonymous("GET", "/api/v1/workflows.svg").status, 404) << "no such route, not open";
  EXPECT_EQ(anonymous("GET", "/api/v1/%77orkflows").status, 401) << "an escaped letter";
  EXPECT_EQ(anonymous("GET", "/healthz/../api/v1/workflows").status, 400);
  EXPECT_EQ(anonymous("GET", "/healthz/%2e%2e/api/v1/workflows").status, 400);
  EXPECT_EQ(anonymous("GET", "/api/v1//workflows").status, 400);
  EXPECT_EQ(anonymous("GET", "/api/v1/workflows?access_token=" + admin_token_).status, 401)
      << "tokens are never read from the URL";
  auto r = anonymous("GET", "/api/v1/runs");
  EXPECT_EQ(r.headers.get("WWW-Authenticate"), "Bearer realm=\"flowpilot\"");
  EXPECT_EQ(r.headers.get("Content-Type"), "application/problem+json");
  // The open routes stay open, and only those.
  EXPECT_EQ(anonymous("GET", "/api/v1/openapi.json").status, 200);
}

TEST_F(AccessTest, MalformedCredentialsAreRefusedSayingWhy) {
  auto detail = [this](std::string_view field, std::string value) {
    Headers h;
    h.set(field, value);
    auto r = anonymous("GET", "/api/v1/workflows", h);
    EXPECT_EQ(r.status, 401) << value;
    return std::string(body_of(r).at("detail").as_string());
  };
  EXPECT_EQ(detail("Authorization", "Basic YWRtaW46YWRtaW4="),
            "Authorization must be `Bearer <API token>`");
  EXPECT_EQ(detail("Authorization", "Bearer "), "Authorization must be `Bearer <API token>`");
  EXPECT_EQ(detail("Authorization", "Bearer fpt_nothex"),
            "the bearer token is not a Flowpilot API token");
  EXPECT_EQ(detail("Authorization", "Bearer fpt_" + std::string(48, 'a')),
            "the bearer token is unknown");
  EXPECT_EQ(detail("Authorization", "bearer " + admin_token_ + "x"),
            "the bearer token is not a Flowpilot API token");
  EXPECT_EQ(detail("Cookie", "flowpilot_session=../../etc"), "the session cookie is malformed");
  EXPECT_EQ(detail("Cookie", "flowpilot_session=" + std::string(64, 'f')),
            "the session is unknown or has ended");
  // The scheme is case-insensitive; the token is not.
  Headers h;
  h.set("Authorization", "bEaReR " + admin_token_);
  EXPECT_EQ(anonymous("GET", "/api/v1/workflows", h).status, 200);
}

TEST_F(AccessTest, ViewersCannotChangeAnything) {
  const std::string viewer = token_for("vic@example.com", "viewer");
  for (auto [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"POST", "/api/v1/workflows"},
           {"PUT", "/api/v1/workflows/flow"},
           {"POST", "/api/v1/workflows/flow/runs"},
           {"POST", "/api/v1/validate"},
           {"PUT", "/api/v1/files/x.csv"},
           {"POST", "/api/v1/connections"},
           {"POST", "/api/v1/users"},
           {"GET", "/api/v1/audit"}}) {
    auto r = anonymous(method, target, bearer(viewer), std::string(kFlow));
    if (target == "/api/v1/validate") {
      EXPECT_EQ(r.status, 200) << "validating is reading: allowed";
      continue;
    }
    EXPECT_EQ(r.status, 403) << method << " " << target << ": " << r.body;
  }
  EXPECT_EQ(anonymous("GET", "/api/v1/workflows", bearer(viewer)).status, 200);
}

TEST_F(AccessTest, ChangesWithTheCookieNeedTheCsrfTokenAndTheSameOrigin) {
  const Session s = sign_in();
  const std::string set(s.answer.headers.get("Set-Cookie").value_or(""));
  EXPECT_NE(set.find("; HttpOnly"), std::string::npos) << set;
  EXPECT_NE(set.find("; SameSite=Lax"), std::string::npos) << set;
  EXPECT_NE(set.find("; Path=/"), std::string::npos) << set;
  EXPECT_EQ(set.find("Secure"), std::string::npos) << "plain HTTP unless configured";
  EXPECT_EQ(s.answer.headers.get("Cache-Control"), "no-store");

  EXPECT_EQ(anonymous("GET", "/api/v1/workflows", with(s, false)).status, 200)
      << "reading needs no CSRF token";
  auto post = [&](Headers h) {
    h.set("Content-Type", "application/yaml");
    return anonymous("POST", "/api/v1/workflows", h, std::string(kFlow));
  };
  auto no_token = post(with(s, false));
  EXPECT_EQ(no_token.status, 403);
  EXPECT_NE(body_of(no_token).at("detail").as_string().find("X-CSRF-Token"), std::string::npos);
  Headers wrong = with(s, false);
  wrong.set("X-CSRF-Token", std::string(64, '0'));
  EXPECT_EQ(post(wrong).status, 403);
  Headers foreign = with(s, true);
  foreign.set("Origin", "https://evil.example");
  EXPECT_EQ(post(foreign).status, 403);
  Headers null_origin = with(s, true);
  null_origin.set("Origin", "null");
  EXPECT_EQ(post(null_origin).status, 403);
  Headers cross = with(s, true);
  cross.set("Sec-Fetch-Site", "cross-site");
  EXPECT_EQ(post(cross).status, 403);
  Headers same = with(s, true);
  same.set("Origin", "http://flowpilot.example");
  same.set("Sec-Fetch-Site", "same-origin");
  EXPECT_EQ(post(same).status, 201) << post(same).body;
}

TEST_F(AccessTest, EverySignInIsANewSessionAndSignOutEndsItOnTheServer) {
  const Session first = sign_in();
  // Signing in with a session cookie already set (a planted one, say) never keeps it.
  const Session second = sign_in(with(first, false));
  EXPECT_NE(first.cookie, second.cookie);
  EXPECT_NE(first.csrf, second.csrf);
  auto out = anonymous("POST", "/api/v1/auth/logout", with(second, true));
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(std::string(out.headers.get("Set-Cookie").value_or("")).find("Max-Age=0"),
            std::string::npos);
  // The browser may keep sending the old cookie; the server has ended it.
  EXPECT_EQ(anonymous("GET", "/api/v1/auth/session", with(second, false)).status, 401);
  EXPECT_EQ(anonymous("GET", "/api/v1/auth/session", with(first, false)).status, 200);

  // A password change ends every session of the user, through the API at once.
  const std::string ana(users_->get("ana@example.com")->id);
  EXPECT_EQ(call("POST", "/api/v1/users/" + ana + "/password").status, 200);
  EXPECT_EQ(anonymous("GET", "/api/v1/auth/session", with(first, false)).status, 401);
}

TEST_F(AccessTest, TheSessionProbeSaysSignedOutWithoutCredentialsAndRefusesBadOnes) {
  const auto nobody = anonymous("GET", "/api/v1/auth/session");
  EXPECT_EQ(nobody.status, 200);
  EXPECT_EQ(boost::json::parse(nobody.body), (boost::json::object{{"signed_in", false}}));
  EXPECT_EQ(nobody.headers.get("Cache-Control").value_or(""), "no-store");
  Headers forged;
  forged.set("Cookie", "flowpilot_session=forged");
  EXPECT_EQ(anonymous("GET", "/api/v1/auth/session", forged).status, 401);
  Headers bad_token;
  bad_token.set("Authorization", "Bearer fpt_0000");
  EXPECT_EQ(anonymous("GET", "/api/v1/auth/session", bad_token).status, 401);
  const Session signed_in = sign_in();
  const auto me = anonymous("GET", "/api/v1/auth/session", with(signed_in, false));
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(boost::json::parse(me.body).at("signed_in"), true);
}

TEST_F(AccessTest, WrongPasswordsLookTheSameAndAreThrottled) {
  Headers json_type;
  json_type.set("Content-Type", "application/json");
  auto wrong = anonymous("POST", "/api/v1/auth/login", json_type,
                         R"({"email": "ana@example.com", "password": "wrong password"})");
  auto unknown = anonymous("POST", "/api/v1/auth/login", json_type,
                           R"({"email": "who@example.com", "password": "wrong password"})");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(body_of(wrong).at("detail"), body_of(unknown).at("detail"));
  EXPECT_FALSE(wrong.headers.get("Set-Cookie").has_value());
  // Spellings that sign-in reads as the same account share its count.
  for (const char* spelling : {"ana@example.com\\n", "\\rana@example.com", "\\u000bANA@example.com",
                               " ana@example.com\\t"}) {
    auto r = anonymous("POST", "/api/v1/auth/login", json_type,
                       std::string(R"({"email": ")") + spelling + R"(", "password": "wrong password"})");
    EXPECT_EQ(r.status, 401) << spelling << " " << r.body;
  }
  auto throttled = anonymous("POST", "/api/v1/auth/login", json_type,
                             R"({"email": "ANA@example.com", "password": "correct horse battery"})");
  EXPECT_EQ(throttled.status, 429);
  EXPECT_GT(std::stoi(std::string(throttled.headers.get("Retry-After").value_or("0"))), 0);
  // A disabled account cannot sign in, with the same answer as a wrong password.
  users_->add({"dee@example.com", "", "viewer", std::string(kPassword)});
  users_->set_disabled("dee@example.com", true);
  auto disabled = anonymous("POST", "/api/v1/auth/login", json_type,
                            R"({"email": "dee@example.com", "password": "correct horse battery"})");
  EXPECT_EQ(disabled.status, 401);
  EXPECT_EQ(body_of(disabled).at("detail"), body_of(wrong).at("detail"));
}

TEST_F(AccessTest, TokensStopAtOnceWhenRevokedOrTheirUserIsDisabledOrDemoted) {
  const std::string token = token_for("ed@example.com", "editor");
  Headers yaml = bearer(token);
  yaml.set("Content-Type", "application/yaml");
  EXPECT_EQ(anonymous("POST", "/api/v1/workflows", yaml, std::string(kFlow)).status, 201);
  const std::string ed(users_->get("ed@example.com")->id);
  EXPECT_EQ(call("PATCH", "/api/v1/users/" + ed, R"({"role": "viewer"})",
                 [] { Headers h; h.set("Content-Type", "application/json"); return h; }())
                .status,
            200);
  EXPECT_EQ(anonymous("PUT", "/api/v1/workflows/flow", yaml, std::string(kFlow)).status, 403);
  EXPECT_EQ(anonymous("GET", "/api/v1/workflows", bearer(token)).status, 200);
  EXPECT_EQ(call("PATCH", "/api/v1/users/" + ed, R"({"disabled": true})",
                 [] { Headers h; h.set("Content-Type", "application/json"); return h; }())
                .status,
            200);
  EXPECT_EQ(anonymous("GET", "/api/v1/workflows", bearer(token)).status, 401);

  const std::string other = token_for("fay@example.com", "viewer");
  auto listed = body_of(call("GET", "/api/v1/tokens?user=fay%40example.com"));
  const std::string id(listed.at("items").at(0).at("id").as_string());
  EXPECT_EQ(call("DELETE", "/api/v1/tokens/" + id).status, 200);
  auto refused = anonymous("GET", "/api/v1/workflows", bearer(other));
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(body_of(refused).at("detail"), "the bearer token was revoked");
}

TEST_F(AccessTest, ASessionTakesANewRoleAtOnce) {
  auto session = sign_in();  // ana, an editor
  Headers h = with(session, true);
  h.set("Content-Type", "application/yaml");
  EXPECT_EQ(anonymous("POST", "/api/v1/workflows", h, std::string(kFlow)).status, 201);
  const std::string ana(users_->get("ana@example.com")->id);
  EXPECT_EQ(call("PATCH", "/api/v1/users/" + ana, R"({"role": "viewer"})",
                 [] { Headers j; j.set("Content-Type", "application/json"); return j; }())
                .status,
            200);
  // Within the cache's 5 seconds: the session must not go on acting as an editor.
  EXPECT_EQ(anonymous("PUT", "/api/v1/workflows/flow", h, std::string(kFlow)).status, 403);
}

TEST_F(AccessTest, TheLastEnabledAdminStays) {
  const std::string admin(users_->get("admin@test.local")->id);
  Headers h;
  h.set("Content-Type", "application/json");
  auto demote = call("PATCH", "/api/v1/users/" + admin, R"({"role": "viewer"})", h);
  EXPECT_EQ(demote.status, 422) << demote.body;
  EXPECT_NE(demote.body.find("last enabled admin"), std::string::npos);
  EXPECT_EQ(call("PATCH", "/api/v1/users/" + admin, R"({"disabled": true})", h).status, 422);
}

TEST_F(AccessTest, TheAuditLogSaysWhoWhenWhereAndWhat) {
  Request request = make_request("POST", "/api/v1/workflows",
                                 [this] {
                                   Headers h = bearer(admin_token_);
                                   h.set("Content-Type", "application/yaml");
                                   h.set("X-Request-Id", "req-42");
                                   return h;
                                 }(),
                                 std::string(kFlow));
  request.remote_address = "203.0.113.7";
  const auto before = engine::now_millis();
  ASSERT_EQ(router_.handle(std::move(request)).status, 201);
  engine::AuditFilter filter;
  filter.action = "workflow.create";
  auto entries = audit_->list(filter);
  ASSERT_EQ(entries.size(), 1u) << "written before the answer";
  const auto& e = entries[0];
  EXPECT_EQ(e.actor_email, "admin@test.local");
  EXPECT_EQ(e.actor_kind, "token");
  EXPECT_EQ(e.address, "203.0.113.7");
  EXPECT_EQ(e.request_id, "req-42");
  EXPECT_EQ(e.target, "flow");
  EXPECT_GE(e.at, before);

  // A connection's secret never reaches the log.
  engine::ConnectionService service(*store_, engine::Keyring({engine::Keyring::generate_key()}));
  api_->connections = &service;
  Headers h;
  h.set("Content-Type", "application/json");
  ASSERT_EQ(call("POST", "/api/v1/connections",
                 R"({"name": "meta", "type": "meta_ads", "fields": {"access_token": "EAAB-secret-1",
                     "account_id": "act_1"}})",
                 h)
                .status,
            201);
  for (const auto& entry : audit_->list({})) {
    EXPECT_EQ(json::serialize(entry.details).find("EAAB-secret-1"), std::string::npos);
  }
  filter.action = "connection.create";
  ASSERT_EQ(audit_->list(filter).size(), 1u);
  EXPECT_EQ(audit_->list(filter)[0].target, "meta");
}

TEST_F(AccessTest, SecureCookiesWhenConfigured) {
  Router router;
  AccessApi secure(AccessServices{*users_, *tokens_, *sessions_, throttle_, *audit_},
                   AccessOptions{true});
  secure.install(router);
  Headers h;
  h.set("Content-Type", "application/json");
  auto r = router.handle(make_request(
      "POST", "/api/v1/auth/login", h,
      R"({"email": "ana@example.com", "password": "correct horse battery"})"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(std::string(r.headers.get("Set-Cookie").value_or("")).find("; Secure"),
            std::string::npos);
}

TEST_F(AccessTest, SecureCookiesWhenAProxySaysHttps) {
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"X-Forwarded-Proto", "https"}, {"X-Forwarded-Proto", " HTTPS , http"},
           {"Forwarded", "for=192.0.2.60;proto=https;by=203.0.113.43"}}) {
    SCOPED_TRACE(name + ": " + value);
    Headers h;
    h.set(name, value);
    auto s = sign_in(h);
    EXPECT_NE(std::string(s.answer.headers.get("Set-Cookie").value_or("")).find("; Secure"),
              std::string::npos);
  }
  Headers plain;
  plain.set("X-Forwarded-Proto", "http");
  auto s = sign_in(plain);
  EXPECT_EQ(std::string(s.answer.headers.get("Set-Cookie").value_or("")).find("; Secure"),
            std::string::npos);
}

}  // namespace
}  // namespace flowpilot::web
