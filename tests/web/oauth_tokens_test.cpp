// OAuthTokens against a token endpoint served over loopback by our HTTP server (the endpoint
// stands in for Google's or HubSpot's; the client side is the real one).
#include "engine/http/http_client.h"
#include "engine/plugins/oauth_tokens.h"
#include "web/router.h"
#include "web/server.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <string>
#include <vector>

namespace flowpilot::web::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class OAuthTokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add(Method::kPost, "/token", Access::open(), [this](const Request& request) {
      ++calls_;
      {
        std::lock_guard lock(mu_);
        bodies_.push_back(request.body);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_.load()));
      std::lock_guard lock(mu_);
      Response r;
      r.status = answer_status_;
      r.headers.add("Content-Type", "application/json");
      r.body = answer_body_;
      return r;
    });
    // Meta's token exchange.
    router_.add(Method::kGet, "/v25.0/oauth/access_token", Access::open(), [this](const Request& request) {
      ++exchanges_;
      std::lock_guard lock(mu_);
      exchanged_.push_back(request.query_value("fb_exchange_token").value_or(""));
      exchange_queries_.push_back(request.query);
      Response r;
      r.status = exchange_status_;
      r.headers.add("Content-Type", "application/json");
      r.body = exchange_body_;
      return r;
    });
    ServerOptions options;
    options.port = 0;
    server_ = std::make_unique<HttpServer>(options, router_);
    port_ = server_->start();
    engine::HttpClientOptions http_options;
    http_options.allowed_networks = {"127.0.0.1/32"};
    http_ = std::make_unique<engine::HttpClient>(http_options);
    engine::OAuthTokensOptions token_options;
    token_options.now = [this] { return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(now_.load())); };
    token_options.wall_now = [this] {
      return std::chrono::system_clock::time_point(std::chrono::seconds(wall_.load()));
    };
    tokens_ = std::make_unique<engine::OAuthTokens>(http_.get(), token_options);
    tokens_->set_renewal_listener([this](const std::string& connection,
                                         const engine::RenewedToken& renewed) {
      std::lock_guard lock(mu_);
      renewals_.emplace_back(connection, renewed);
    });
  }
  void TearDown() override {
    tokens_.reset();
    http_.reset();
    server_->stop();
  }

  void answer(int status, std::string body) {
    std::lock_guard lock(mu_);
    answer_status_ = status;
    answer_body_ = std::move(body);
  }
  json::object credentials(std::string refresh = "1//refresh+token/x") const {
    return {{"token_url", "http://127.0.0.1:" + std::to_string(port_) + "/token"},
            {"client_id", "client-1"},
            {"client_secret", "s3cret-value"},
            {"refresh_token", std::move(refresh)}};
  }
  engine::AccessTokenResult get(const std::string& connection, bool force = false,
                                const json::object* creds = nullptr) {
    std::promise<engine::AccessTokenResult> done;
    auto future = done.get_future();
    tokens_->get(connection, creds != nullptr ? *creds : credentials(), force,
                 [&done](engine::AccessTokenResult r) { done.set_value(std::move(r)); });
    return future.get();
  }
  void advance(std::chrono::seconds by) { now_ += std::chrono::steady_clock::duration(by).count(); }
  // Moves both clocks.
  void advance_wall(std::chrono::seconds by) {
    advance(by);
    wall_ += by.count();
  }
  void answer_exchange(int status, std::string body) {
    std::lock_guard lock(mu_);
    exchange_status_ = status;
    exchange_body_ = std::move(body);
  }
  // A Meta connection whose token expires `expires_in` from now (nullopt: expiry unknown).
  json::object meta(std::string token, std::optional<std::chrono::seconds> expires_in) const {
    json::object c{{"access_token", std::move(token)},
                   {"app_id", "app-1"},
                   {"app_secret", "app-s3cret"},
                   {"base_url", "http://127.0.0.1:" + std::to_string(port_) + "/"},
                   {"api_version", "v25.0"}};
    if (expires_in) c["token_expires_at"] = std::to_string(wall_.load() + expires_in->count());
    return c;
  }

  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  std::unique_ptr<engine::HttpClient> http_;
  std::unique_ptr<engine::OAuthTokens> tokens_;
  std::atomic<std::chrono::steady_clock::rep> now_{
      std::chrono::steady_clock::duration(std::chrono::hours(1000)).count()};
  std::atomic<int> calls_{0};
  std::atomic<int> delay_ms_{0};
  std::mutex mu_;
  int answer_status_ = 200;
  std::string answer_body_ = R"({"access_token":"ya29.first","expires_in":3599,"token_type":"Bearer"})";
  std::vector<std::string> bodies_;
  std::atomic<std::int64_t> wall_{1'780'000'000};  // Unix seconds, May 2026
  std::atomic<int> exchanges_{0};
  int exchange_status_ = 200;
  std::string exchange_body_ =
      R"({"access_token":"EAA-new","token_type":"bearer","expires_in":5183944})";
  std::vector<std::string> exchanged_;
  std::vector<std::string> exchange_queries_;
  std::vector<std::pair<std::string, engine::RenewedToken>> renewals_;
};

TEST_F(OAuthTokensTest, RefreshesOnceAndServesTheCachedTokenUntilShortlyBeforeExpiry) {
  auto first = get("google-main");
  ASSERT_EQ(first.error, "");
  EXPECT_EQ(first.token, "ya29.first");
  {
    std::lock_guard lock(mu_);
    ASSERT_EQ(bodies_.size(), 1u);
    // A form-encoded refresh-token grant, every value percent-encoded.
    EXPECT_EQ(bodies_[0],
              "grant_type=refresh_token&client_id=client-1&refresh_token=1%2F%2Frefresh%2Btoken%2Fx"
              "&client_secret=s3cret-value");
  }
  answer(200, R"({"access_token":"ya29.second","expires_in":"3599"})");
  advance(3000s);
  EXPECT_EQ(get("google-main").token, "ya29.first");
  EXPECT_EQ(calls_.load(), 1);
  advance(560s);  // within the 60 s margin before expiry
  EXPECT_EQ(get("google-main").token, "ya29.second");
  EXPECT_EQ(calls_.load(), 2);
  // Connections do not share tokens.
  EXPECT_EQ(get("google-other").token, "ya29.second");
  EXPECT_EQ(calls_.load(), 3);
}

TEST_F(OAuthTokensTest, ConcurrentCallersShareOneRefresh) {
  delay_ms_ = 100;
  std::vector<std::future<engine::AccessTokenResult>> results;
  for (int i = 0; i < 8; ++i) {
    results.push_back(std::async(std::launch::async, [this] { return get("hubspot-main"); }));
  }
  for (auto& r : results) EXPECT_EQ(r.get().token, "ya29.first");
  EXPECT_EQ(calls_.load(), 1);
}

TEST_F(OAuthTokensTest, ForcedRefreshReplacesARefusedTokenButNotOneJustObtained) {
  ASSERT_EQ(get("ga4").token, "ya29.first");
  answer(200, R"({"access_token":"ya29.renewed","expires_in":3599})");
  // Refused a moment after it was obtained: another caller already renewed it.
  EXPECT_EQ(get("ga4", true).token, "ya29.first");
  advance(30s);
  EXPECT_EQ(get("ga4", true).token, "ya29.renewed");
  EXPECT_EQ(calls_.load(), 2);
  // New credentials (a re-connected account) are not served the old token.
  answer(200, R"({"access_token":"ya29.other-grant"})");
  const auto changed = credentials("1//another");
  EXPECT_EQ(get("ga4", false, &changed).token, "ya29.other-grant");
}

TEST_F(OAuthTokensTest, ErrorBodiesFailEvenWithStatus200AndNeverShowSecrets) {
  answer(200, R"({"error":"invalid_grant","error_description":"Token has been expired or revoked."})");
  auto expired = get("google-main");
  EXPECT_EQ(expired.token, "");
  EXPECT_FALSE(expired.retryable);
  EXPECT_NE(expired.error.find("connection `google-main`"), std::string::npos) << expired.error;
  EXPECT_NE(expired.error.find("invalid_grant"), std::string::npos);
  EXPECT_NE(expired.error.find("renewed"), std::string::npos);

  answer(200, R"({"ok":false,"error":"token_expired"})");
  auto slack_like = get("slack-main");
  EXPECT_NE(slack_like.error.find("token_expired"), std::string::npos) << slack_like.error;

  answer(200, R"({"token_type":"Bearer"})");
  auto empty = get("other");
  EXPECT_NE(empty.error.find("without an access_token"), std::string::npos) << empty.error;

  answer(400, R"({"error":"invalid_client"})");
  auto revoked = get("revoked");
  EXPECT_FALSE(revoked.retryable);

  answer(500, "upstream broke");
  auto broken = get("broken");
  EXPECT_TRUE(broken.retryable);
  EXPECT_NE(broken.error.find("HTTP 500"), std::string::npos);

  for (const auto* r : {&expired, &slack_like, &empty, &revoked, &broken}) {
    EXPECT_EQ(r->error.find("s3cret-value"), std::string::npos);
    EXPECT_EQ(r->error.find("refresh+token"), std::string::npos);
  }
}

TEST_F(OAuthTokensTest, UnreachableEndpointsAreRetryableAndStaticTokensNeedNoEndpoint) {
  json::object nowhere = credentials();
  nowhere["token_url"] = "http://127.0.0.1:1/token";
  auto unreachable = get("down", false, &nowhere);
  EXPECT_TRUE(unreachable.retryable);
  EXPECT_NE(unreachable.error.find("connection `down`"), std::string::npos);

  json::object static_token{{"access_token", "pat-na1-abc"}};
  EXPECT_EQ(get("hubspot-pat", false, &static_token).token, "pat-na1-abc");
  EXPECT_EQ(calls_.load(), 0);
}

}  // namespace
}  // namespace flowpilot::web::test

namespace flowpilot::web::test {
namespace {

TEST_F(OAuthTokensTest, AnEndpointThatEchoesTheRefreshTokenDoesNotLeakIt) {
  answer(400, R"({"error":"invalid_grant","error_description":"Bad token 1//refresh+token/x and s3cret-value"})");
  auto r = get("echo");
  EXPECT_NE(r.error.find("invalid_grant"), std::string::npos);
  EXPECT_EQ(r.error.find("1//refresh+token/x"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("s3cret-value"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace flowpilot::web::test

namespace flowpilot::web::test {
namespace {

using std::chrono::hours;

TEST_F(OAuthTokensTest, MetaTokenIsExchangedOnceItHasLessThanAWeekLeftAndTheRenewalIsReported) {
  const json::object fresh = meta("EAA-old", hours(24 * 30));
  const auto old_expiry = std::stoll(std::string(fresh.at("token_expires_at").as_string()));
  EXPECT_EQ(get("meta", false, &fresh).token, "EAA-old");
  EXPECT_EQ(exchanges_.load(), 0) << "30 days left: the stored token is used as it is";

  advance_wall(hours(24 * 23) + std::chrono::seconds(1));  // a second under 7 days left
  auto renewed = get("meta", false, &fresh);
  ASSERT_EQ(renewed.error, "");
  EXPECT_EQ(renewed.token, "EAA-new");
  ASSERT_EQ(exchanges_.load(), 1);
  {
    std::lock_guard lock(mu_);
    EXPECT_EQ(exchanged_[0], "EAA-old");
    const std::string& q = exchange_queries_[0];
    EXPECT_NE(q.find("grant_type=fb_exchange_token"), std::string::npos) << q;
    EXPECT_NE(q.find("client_id=app-1"), std::string::npos) << q;
    EXPECT_NE(q.find("client_secret=app-s3cret"), std::string::npos) << q;
    ASSERT_EQ(renewals_.size(), 1u);
    EXPECT_EQ(renewals_[0].first, "meta");
    EXPECT_EQ(renewals_[0].second.access_token, "EAA-new");
    EXPECT_EQ(renewals_[0].second.expires_at.time_since_epoch(),
              std::chrono::seconds(wall_.load() + 5183944));
    EXPECT_GT(renewals_[0].second.expires_at.time_since_epoch(), std::chrono::seconds(old_expiry));
  }
  // Steps that still hold the old credentials get the renewed token, without another exchange.
  EXPECT_EQ(get("meta", false, &fresh).token, "EAA-new");
  // Once stored, the connection's own fields say the same.
  json::object stored = fresh;
  stored["access_token"] = "EAA-new";
  stored["token_expires_at"] = std::to_string(wall_.load() + 5183944);
  advance_wall(hours(24 * 40));
  EXPECT_EQ(get("meta", false, &stored).token, "EAA-new");
  EXPECT_EQ(exchanges_.load(), 1);
  // A token a person set replaces the renewed one.
  const json::object replaced = meta("EAA-person", hours(24 * 50));
  EXPECT_EQ(get("meta", false, &replaced).token, "EAA-person");
  EXPECT_EQ(exchanges_.load(), 1);
}

TEST_F(OAuthTokensTest, RefusedMetaTokenIsExchangedOnceForABurstOfRefusals) {
  const json::object creds = meta("EAA-old", hours(24 * 30));
  ASSERT_EQ(get("meta", false, &creds).token, "EAA-old");
  auto first = get("meta", true, &creds);
  EXPECT_EQ(first.token, "EAA-new");
  // Another call refused with the old token a moment later is given the new one.
  EXPECT_EQ(get("meta", true, &creds).token, "EAA-new");
  EXPECT_EQ(exchanges_.load(), 1);
  // Refused again later: the renewed token is exchanged in turn.
  answer_exchange(200, R"({"access_token":"EAA-third","expires_in":5183944})");
  advance_wall(std::chrono::seconds(60));
  EXPECT_EQ(get("meta", true, &creds).token, "EAA-third");
  {
    std::lock_guard lock(mu_);
    ASSERT_EQ(exchanged_.size(), 2u);
    EXPECT_EQ(exchanged_[1], "EAA-new");
  }
  // Without app_id and app_secret nothing is exchanged: the person must replace the token.
  const json::object plain{{"access_token", "EAA-static"}};
  auto refused = get("meta-static", true, &plain);
  EXPECT_EQ(refused.token, "");
  EXPECT_NE(refused.error.find("replace the token"), std::string::npos) << refused.error;
  EXPECT_EQ(exchanges_.load(), 2);
}

TEST_F(OAuthTokensTest, UnknownMetaExpiryIsLearnedByAnExchangeAtFirstUse) {
  const json::object creds = meta("EAA-old", std::nullopt);
  EXPECT_EQ(get("meta", false, &creds).token, "EAA-new");
  EXPECT_EQ(get("meta", false, &creds).token, "EAA-new");
  EXPECT_EQ(exchanges_.load(), 1);
  std::lock_guard lock(mu_);
  ASSERT_EQ(renewals_.size(), 1u);
  EXPECT_EQ(renewals_[0].second.expires_at.time_since_epoch(),
            std::chrono::seconds(wall_.load() + 5183944));
}

TEST_F(OAuthTokensTest, FailedMetaExchangesKeepAValidTokenAndExplainARefusedOne) {
  answer_exchange(500, R"({"error":{"message":"An unexpected error has occurred.","type":"OAuthException","code":2}})");
  const json::object creds = meta("EAA-old", hours(24 * 3));
  // Early renewal failed: the old token still has three days.
  auto kept = get("meta", false, &creds);
  EXPECT_EQ(kept.error, "");
  EXPECT_EQ(kept.token, "EAA-old");
  const int after_failure = exchanges_.load();
  EXPECT_GE(after_failure, 1);
  // Not tried again at once.
  EXPECT_EQ(get("meta", false, &creds).token, "EAA-old");
  EXPECT_EQ(exchanges_.load(), after_failure);
  // Later it is, and succeeds.
  answer_exchange(200, R"({"access_token":"EAA-new"})");
  advance_wall(std::chrono::minutes(16));
  EXPECT_EQ(get("meta", false, &creds).token, "EAA-new");
  {
    std::lock_guard lock(mu_);
    ASSERT_EQ(renewals_.size(), 1u);
    // No expires_in: Meta's 60 days are assumed.
    EXPECT_EQ(renewals_[0].second.expires_at.time_since_epoch(),
              std::chrono::seconds(wall_.load() + 60 * 24 * 3600));
  }

  // A refused token that cannot be exchanged fails, saying what to do, without secrets.
  answer_exchange(400, R"({"error":{"message":"Error validating access token EAA-dead","type":"OAuthException","code":190}})");
  const json::object dead = meta("EAA-dead", hours(24 * 3));
  auto refused = get("meta-dead", true, &dead);
  EXPECT_EQ(refused.token, "");
  EXPECT_FALSE(refused.retryable);
  EXPECT_NE(refused.error.find("connection `meta-dead`"), std::string::npos) << refused.error;
  EXPECT_NE(refused.error.find("code 190"), std::string::npos) << refused.error;
  EXPECT_NE(refused.error.find("create a new long-lived token"), std::string::npos) << refused.error;
  EXPECT_EQ(refused.error.find("EAA-dead"), std::string::npos) << refused.error;
  EXPECT_EQ(refused.error.find("app-s3cret"), std::string::npos) << refused.error;

  // A wrong app secret is named as the thing to check.
  answer_exchange(400, R"({"error":{"message":"Error validating client secret.","type":"OAuthException","code":1}})");
  auto wrong_app = get("meta-app", true, &dead);
  EXPECT_FALSE(wrong_app.retryable);
  EXPECT_NE(wrong_app.error.find("app_id and app_secret"), std::string::npos) << wrong_app.error;
}

}  // namespace
}  // namespace flowpilot::web::test

namespace flowpilot::web::test {
namespace {

TEST_F(OAuthTokensTest, ClearingTheRenewalListenerWaitsForACallUnderWay) {
  std::atomic<bool> entered{false};
  std::atomic<bool> finished{false};
  tokens_->set_renewal_listener([&](const std::string&, const engine::RenewedToken&) {
    entered = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    finished = true;
  });
  const json::object creds = meta("EAA-old", std::nullopt);
  auto pending = std::async(std::launch::async, [&] { return get("meta", false, &creds); });
  while (!entered) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  tokens_->set_renewal_listener(nullptr);
  EXPECT_TRUE(finished) << "returned while the listener was still running";
  EXPECT_EQ(pending.get().token, "EAA-new");
}

}  // namespace
}  // namespace flowpilot::web::test
