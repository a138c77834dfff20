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
    router_.add(Method::kPost, "/token", [this](const Request& request) {
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
    ServerOptions options;
    options.port = 0;
    server_ = std::make_unique<HttpServer>(options, router_);
    port_ = server_->start();
    engine::HttpClientOptions http_options;
    http_options.allowed_networks = {"127.0.0.1/32"};
    http_ = std::make_unique<engine::HttpClient>(http_options);
    engine::OAuthTokensOptions token_options;
    token_options.now = [this] { return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(now_.load())); };
    tokens_ = std::make_unique<engine::OAuthTokens>(http_.get(), token_options);
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
