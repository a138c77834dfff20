// The access services on a real SQLite store: permissions of roles and scopes, API tokens
// (hashed, expiring, revocable, never more than their user's role), sessions (idle and absolute
// expiry, sign-out, ended by a password change or a disabled account), the sign-in throttle, and
// the audit log's redaction of secrets.
#include "engine/access/detail/credentials.h"
#include "engine/access/audit.h"
#include "engine/access/login_throttle.h"
#include "engine/access/sessions.h"
#include "engine/access/tokens.h"
#include "engine/access/users.h"
#include "engine/store/sqlite_store.h"
#include "store_under_test.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

namespace flowpilot::engine {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class AccessServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("flowpilot-access-" + std::to_string(rd()));
    fs::create_directories(dir_);
    store_ = ::flowpilot::engine::testing::open_store_under_test(dir_ / "flowpilot.db");
    users_ = std::make_unique<UserService>(*store_);
    tokens_ = std::make_unique<TokenService>(*store_);
  }
  void TearDown() override {
    tokens_.reset();
    users_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  UserSummary add(const std::string& email, const std::string& role) {
    return users_->add({email, "", role, std::string("a good long password")}).user;
  }
  static std::string refusal(const AuthOutcome& outcome) {
    const auto* why = std::get_if<std::string>(&outcome);
    return why == nullptr ? std::string("(accepted)") : *why;
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<UserService> users_;
  std::unique_ptr<TokenService> tokens_;
};

TEST(Permissions, RolesAndScopes) {
  EXPECT_TRUE(PermissionSet::of_role("admin").has(Permission::pii_read));
  EXPECT_TRUE(PermissionSet::of_role("editor").has(Permission::runs_write));
  EXPECT_FALSE(PermissionSet::of_role("editor").has(Permission::connections_write));
  EXPECT_TRUE(PermissionSet::of_role("approver").has(Permission::approvals));
  EXPECT_FALSE(PermissionSet::of_role("approver").has(Permission::runs_write));
  EXPECT_EQ(PermissionSet::of_role("viewer").names(),
            (std::vector<std::string>{"workflows:read", "runs:read"}));
  EXPECT_TRUE(PermissionSet::of_role("owner").empty());
  EXPECT_TRUE(PermissionSet::of_scopes({"admin"}).contains(PermissionSet::all()));
  try {
    PermissionSet::of_scopes({"runs:read", "runs:fly"});
    ADD_FAILURE() << "an unknown scope was accepted";
  } catch (const AccessError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("scopes[1]: `runs:fly` is not a scope", 0), 0u) << e.what();
  }
}

TEST_F(AccessServicesTest, TokensAreHashedScopedAndNeverMoreThanTheRole) {
  add("ed@example.com", "editor");
  auto created = tokens_->create({"ed@example.com", "ci", {"runs:read", "runs:write"}, std::nullopt});
  EXPECT_EQ(created.secret.size(), 52u);
  EXPECT_TRUE(created.secret.starts_with("fpt_"));
  EXPECT_EQ(created.token.prefix, created.secret.substr(0, 12));
  EXPECT_NEAR(static_cast<double>(created.token.expires_at - created.token.created_at),
              90.0 * 24 * 3600 * 1000, 1000);
  EXPECT_FALSE(store_->get_token_by_hash(created.secret)) << "the secret itself is not stored";
  EXPECT_TRUE(store_->get_token_by_hash(access_detail::sha256_hex(created.secret)))
      << "its SHA-256 is";

  auto outcome = tokens_->authenticate(created.secret);
  ASSERT_TRUE(std::holds_alternative<Principal>(outcome)) << refusal(outcome);
  const auto& p = std::get<Principal>(outcome);
  EXPECT_TRUE(p.can(Permission::runs_write));
  EXPECT_FALSE(p.can(Permission::workflows_read)) << "not among the scopes";

  try {
    tokens_->create({"ed@example.com", "", {"connections:write"}, std::nullopt});
    ADD_FAILURE() << "a scope beyond the role was granted";
  } catch (const AccessError& e) {
    EXPECT_EQ(e.kind(), AccessError::Kind::forbidden);
  }
  // The role shrinks: the token shrinks with it.
  users_->set_role("ed@example.com", "viewer");
  tokens_->forget_user(p.user_id);
  outcome = tokens_->authenticate(created.secret);
  ASSERT_TRUE(std::holds_alternative<Principal>(outcome));
  EXPECT_FALSE(std::get<Principal>(outcome).can(Permission::runs_write));
  EXPECT_TRUE(std::get<Principal>(outcome).can(Permission::runs_read));
}

TEST_F(AccessServicesTest, TokensEndWhenRevokedExpiredOrTheirUserIsDisabled) {
  add("boss@example.com", "admin");
  add("ana@example.com", "editor");
  auto revoked = tokens_->create({"ana@example.com", "", {"runs:read"}, std::nullopt});
  tokens_->revoke(revoked.token.id);
  EXPECT_EQ(refusal(tokens_->authenticate(revoked.secret)), "the bearer token was revoked");
  auto expired = tokens_->create({"ana@example.com", "", {"runs:read"}, 1ms});
  std::this_thread::sleep_for(5ms);
  EXPECT_EQ(refusal(tokens_->authenticate(expired.secret)), "the bearer token expired");
  auto never = tokens_->create({"ana@example.com", "", {"runs:read"}, 0ms});
  EXPECT_EQ(never.token.expires_at, 0);
  EXPECT_EQ(refusal(tokens_->authenticate(never.secret)), "(accepted)");
  users_->set_disabled("ana@example.com", true);
  tokens_->forget_user(never.token.user_id);
  EXPECT_EQ(refusal(tokens_->authenticate(never.secret)), "the bearer token's user is disabled");
  EXPECT_EQ(refusal(tokens_->authenticate("fpt_" + std::string(48, '0'))),
            "the bearer token is unknown");
  EXPECT_EQ(refusal(tokens_->authenticate("Basic abc")),
            "the bearer token is not a Flowpilot API token");
  EXPECT_EQ(parse_token_lifetime("30d"), std::chrono::hours(24 * 30));
  EXPECT_EQ(parse_token_lifetime("never"), 0ms);
  for (const char* bad : {"", "30", "d", "-1d", "30y", "1.5d"}) {
    EXPECT_THROW(parse_token_lifetime(bad), AccessError) << bad;
  }
}

TEST_F(AccessServicesTest, SessionsExpireWhenIdleOrOldAndEndOnSignOutOrPasswordChange) {
  const auto ana = add("ana@example.com", "approver");
  SessionService idle(*store_, SessionOptions{50ms, 10s});
  auto s = idle.open(ana, "10.0.0.1", "test");
  EXPECT_EQ(s.cookie_value.size(), 64u);
  auto outcome = idle.authenticate(s.cookie_value);
  ASSERT_TRUE(std::holds_alternative<Principal>(outcome)) << refusal(outcome);
  EXPECT_EQ(std::get<Principal>(outcome).csrf_token, s.csrf_token);
  EXPECT_TRUE(std::get<Principal>(outcome).can(Permission::approvals));
  std::this_thread::sleep_for(80ms);
  EXPECT_EQ(refusal(idle.authenticate(s.cookie_value)),
            "the session expired after being idle; sign in again");

  SessionService old(*store_, SessionOptions{10s, 50ms});
  s = old.open(ana, "10.0.0.1", "test");
  std::this_thread::sleep_for(80ms);
  EXPECT_EQ(refusal(old.authenticate(s.cookie_value)), "the session expired; sign in again");

  SessionService sessions(*store_);
  s = sessions.open(ana, "10.0.0.1", "test");
  auto other = sessions.open(ana, "10.0.0.2", "test");
  EXPECT_NE(s.cookie_value, other.cookie_value);
  sessions.close(s.cookie_value);
  EXPECT_EQ(refusal(sessions.authenticate(s.cookie_value)), "the session has ended (signed out)");
  EXPECT_EQ(refusal(sessions.authenticate(other.cookie_value)), "(accepted)");
  std::this_thread::sleep_for(2ms);
  users_->reset_password("ana@example.com", std::string("another long password"));
  // The password change alone ends the session for anyone reading the store (a fresh service
  // has no cache)...
  SessionService fresh(*store_);
  EXPECT_NE(refusal(fresh.authenticate(other.cookie_value)), "(accepted)");
  // ...and close_all ends it at once for this service's cache too.
  sessions.close_all(ana.id);
  EXPECT_NE(refusal(sessions.authenticate(other.cookie_value)), "(accepted)");
  EXPECT_EQ(refusal(sessions.authenticate("not-a-session")), "the session cookie is malformed");
}

TEST(LoginThrottleTest, CountsFailuresPerAccountAndAddressOverTheWindow) {
  LoginThrottle throttle({3, 5, std::chrono::seconds(60), 100});
  const auto t0 = LoginThrottle::Clock::now();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(throttle.wait("ana", "10.0.0.1", t0 + std::chrono::seconds(i)).count(), 0);
    throttle.failed("ana", "10.0.0.1", t0 + std::chrono::seconds(i));
  }
  // The fourth waits until the first failure leaves the window.
  EXPECT_EQ(throttle.wait("ana", "10.0.0.9", t0 + std::chrono::seconds(3)).count(), 57);
  EXPECT_EQ(throttle.wait("ana", "10.0.0.9", t0 + std::chrono::seconds(60)).count(), 0);
  EXPECT_EQ(throttle.wait("bob", "10.0.0.2", t0 + std::chrono::seconds(3)).count(), 0);
  // Per address: five failures across accounts.
  for (const char* who : {"c", "d"}) throttle.failed(who, "10.0.0.1", t0 + std::chrono::seconds(4));
  EXPECT_GT(throttle.wait("e", "10.0.0.1", t0 + std::chrono::seconds(5)).count(), 0);
  throttle.succeeded("ana");
  EXPECT_EQ(throttle.wait("ana", "10.0.0.7", t0 + std::chrono::seconds(5)).count(), 0);
  // Bounded memory: a spray of names keeps at most max_tracked entries, and still works.
  for (int i = 0; i < 1000; ++i) throttle.failed("spray" + std::to_string(i), "10.9.9.9", t0);
  EXPECT_EQ(throttle.wait("someone", "10.0.0.8", t0).count(), 0);
  EXPECT_GT(throttle.wait("someone", "10.9.9.9", t0).count(), 0) << "the spraying address is held";
}

TEST(AuditRedaction, SecretLookingMembersAreRedactedAtAnyDepth) {
  auto out = redact_secrets(boost::json::object{
      {"name", "meta"},
      {"fields", boost::json::object{{"access_token", "EAAB..."}, {"account_id", "act_1"}}},
      {"list", boost::json::array{boost::json::object{{"Password", "x"}}}},
      {"client_secret", "s"}});
  EXPECT_EQ(out.at("name"), "meta");
  EXPECT_EQ(out.at("fields").at("access_token"), "[redacted]");
  EXPECT_EQ(out.at("fields").at("account_id"), "act_1");
  EXPECT_EQ(out.at("list").at(0).at("Password"), "[redacted]");
  EXPECT_EQ(out.at("client_secret"), "[redacted]");
}

}  // namespace
}  // namespace flowpilot::engine
