// /api/v1/connections through the router: create, list, get, update, delete and test, with
// validation errors naming fields, secret values absent from every answer, and the OAuth2 token
// refresh of `test` against a token endpoint served on loopback by the test itself (it stands for
// the vendor).
#include "engine/connections/connections.h"
#include "server_fixture.h"
#include "web/server.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>

namespace flowpilot::web {
namespace {

namespace json = boost::json;

constexpr const char* kClientSecret = "gcs-very-secret-4242";
constexpr const char* kRefreshToken = "1//refresh-secret-7777";
constexpr const char* kDeveloperToken = "dev-token-secret-9999";

class ConnectionsApiTest : public test::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    service_ = std::make_unique<engine::ConnectionService>(
        *store_, engine::Keyring({engine::Keyring::generate_key()}));
    api_->connections = service_.get();
    api_->http = http_.get();

    token_router_.add(Method::kPost, "/token", Access::open(), [this](const Request& request) {
      std::lock_guard lock(mu_);
      token_requests_.push_back(request.body);
      Response r;
      r.status = token_status_;
      r.headers.set("Content-Type", "application/json");
      r.body = token_body_;
      return r;
    });
    ServerOptions options;
    options.port = 0;
    token_server_ = std::make_unique<HttpServer>(options, token_router_);
    port_ = token_server_->start();
  }
  void TearDown() override {
    token_server_->stop();
    api_->connections = nullptr;
    service_.reset();
    ServerFixture::TearDown();
  }

  Response post_json(std::string_view target, const json::value& body) {
    Headers h;
    h.set("Content-Type", "application/json");
    return call("POST", target, json::serialize(body), h);
  }
  Response put_json(std::string_view target, const json::value& body) {
    Headers h;
    h.set("Content-Type", "application/json");
    return call("PUT", target, json::serialize(body), h);
  }
  static void expect_no_secrets(const Response& r) {
    for (const char* s : {kClientSecret, kRefreshToken, kDeveloperToken}) {
      EXPECT_EQ(r.body.find(s), std::string::npos) << r.body;
    }
  }
  json::object google(std::string name = "gads") const {
    return {{"name", std::move(name)},
            {"type", "google_ads"},
            {"fields",
             {{"developer_token", kDeveloperToken},
              {"client_id", "client-1.apps"},
              {"client_secret", kClientSecret},
              {"refresh_token", kRefreshToken},
              {"token_url", "http://127.0.0.1:" + std::to_string(port_) + "/token"}}}};
  }
  void answer(int status, std::string body) {
    std::lock_guard lock(mu_);
    token_status_ = status;
    token_body_ = std::move(body);
  }

  std::unique_ptr<engine::ConnectionService> service_;
  Router token_router_;
  std::unique_ptr<HttpServer> token_server_;
  std::uint16_t port_ = 0;
  std::mutex mu_;
  std::vector<std::string> token_requests_;
  int token_status_ = 200;
  std::string token_body_ = R"({"access_token":"ya29.fresh","expires_in":3599,"token_type":"Bearer"})";
};

TEST_F(ConnectionsApiTest, CreateListUpdateDeleteNeverShowSecrets) {
  auto created = post_json("/api/v1/connections", google());
  ASSERT_EQ(created.status, 201) << created.body;
  expect_no_secrets(created);
  EXPECT_EQ(created.headers.get("Location").value_or(""), "/api/v1/connections/gads");
  auto body = body_of(created).as_object();
  EXPECT_EQ(body.at("fields").at("client_id"), "client-1.apps");
  EXPECT_EQ(body.at("secret_fields_set").as_array().size(), 3u);

  auto list = call("GET", "/api/v1/connections");
  ASSERT_EQ(list.status, 200);
  expect_no_secrets(list);
  EXPECT_EQ(body_of(list).at("items").as_array().size(), 1u);

  auto one = call("GET", "/api/v1/connections/gads");
  ASSERT_EQ(one.status, 200);
  expect_no_secrets(one);

  auto updated = put_json("/api/v1/connections/gads",
                          json::object{{"fields", {{"login_customer_id", "1234567890"}}},
                                       {"rate_limit", {{"per_second", 1}, {"burst", 2}}}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  expect_no_secrets(updated);
  EXPECT_EQ(body_of(updated).at("rate_limit").at("burst").to_number<double>(), 2);
  // The secrets survived the update, which did not send them.
  EXPECT_EQ(service_->credentials("gads")->at("client_secret"), kClientSecret);

  auto renamed = put_json("/api/v1/connections/gads", json::object{{"name", "other"}});
  EXPECT_EQ(renamed.status, 422);

  EXPECT_EQ(call("DELETE", "/api/v1/connections/gads").status, 204);
  EXPECT_EQ(call("DELETE", "/api/v1/connections/gads").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/connections/gads").status, 404);
}

TEST_F(ConnectionsApiTest, ValidationErrorsNameTheFields) {
  auto paths_of = [](const Response& r) {
    std::vector<std::string> paths;
    const json::value body = body_of(r);
    for (const auto& e : body.at("errors").as_array()) {
      paths.emplace_back(e.at("path").as_string());
    }
    return paths;
  };
  auto bad = google();
  bad["fields"].as_object().erase("client_secret");
  bad["fields"].as_object()["base_url"] = "googleads.googleapis.com";
  bad["fields"].as_object()["colour"] = "blue";
  auto r = post_json("/api/v1/connections", bad);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/problem+json");
  expect_no_secrets(r);
  auto paths = paths_of(r);
  EXPECT_NE(std::find(paths.begin(), paths.end(), "fields.base_url"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "fields.colour"), paths.end());

  bad = google();
  bad["fields"].as_object().erase("client_secret");
  r = post_json("/api/v1/connections", bad);
  ASSERT_EQ(r.status, 422);
  EXPECT_EQ(paths_of(r), std::vector<std::string>{"fields.client_secret"});

  r = post_json("/api/v1/connections", json::object{{"name", "x"}, {"type", "friendster"}});
  ASSERT_EQ(r.status, 422);
  EXPECT_EQ(paths_of(r), std::vector<std::string>{"type"});

  r = post_json("/api/v1/connections",
                json::object{{"name", "x"}, {"type", "slack"}, {"fields", {{"webhook_url", 7}}}});
  ASSERT_EQ(r.status, 422);
  EXPECT_EQ(paths_of(r), std::vector<std::string>{"fields.webhook_url"});

  r = post_json("/api/v1/connections", json::object{{"type", "slack"}});
  ASSERT_EQ(r.status, 422);
  EXPECT_EQ(paths_of(r), std::vector<std::string>{"name"});
}

TEST_F(ConnectionsApiTest, TestRefreshesTheOAuth2TokenAtTheConnectionsTokenUrl) {
  ASSERT_EQ(post_json("/api/v1/connections", google()).status, 201);
  auto r = call("POST", "/api/v1/connections/gads/test");
  ASSERT_EQ(r.status, 200) << r.body;
  expect_no_secrets(r);
  auto body = body_of(r);
  EXPECT_EQ(body.at("ok"), true) << r.body;
  const json::array checks = body.at("checks").as_array();
  ASSERT_EQ(checks.size(), 3u);
  EXPECT_NE(std::string(checks[2].as_string()).find("refreshed an access token"), std::string::npos);
  EXPECT_NE(std::string(checks[2].as_string()).find("expires in 3599 s"), std::string::npos);
  EXPECT_EQ(r.body.find("ya29.fresh"), std::string::npos);  // the token itself is not shown
  {
    std::lock_guard lock(mu_);
    ASSERT_EQ(token_requests_.size(), 1u);
    const std::string& form = token_requests_[0];
    EXPECT_NE(form.find("grant_type=refresh_token"), std::string::npos);
    EXPECT_NE(form.find("client_id=client-1.apps"), std::string::npos);
    EXPECT_NE(form.find(std::string("client_secret=") + kClientSecret), std::string::npos);
    EXPECT_NE(form.find("refresh_token=1%2F%2Frefresh-secret-7777"), std::string::npos) << form;
  }

  // A revoked refresh token; the vendor's body echoes the token, which must not reach us.
  answer(400, std::string(R"({"error":"invalid_grant","error_description":"Bad token )") +
                  kRefreshToken + "\"}");
  r = call("POST", "/api/v1/connections/gads/test");
  ASSERT_EQ(r.status, 200);
  expect_no_secrets(r);
  body = body_of(r);
  EXPECT_EQ(body.at("ok"), false);
  EXPECT_NE(std::string(body.at("error").as_string()).find("(HTTP 400): invalid_grant"),
            std::string::npos)
      << r.body;

  // 200 with an error body is a failure too.
  answer(200, R"({"error":"expired","error_description":"token expired"})");
  body = body_of(call("POST", "/api/v1/connections/gads/test"));
  EXPECT_EQ(body.at("ok"), false);
  answer(200, R"({"token_type":"Bearer"})");
  body = body_of(call("POST", "/api/v1/connections/gads/test"));
  EXPECT_EQ(body.at("ok"), false);
  EXPECT_NE(std::string(body.at("error").as_string()).find("without an access_token"),
            std::string::npos);

  EXPECT_EQ(call("POST", "/api/v1/connections/nope/test").status, 404);
}

// A token endpoint that accepts connections (the kernel completes the handshake) and never
// answers, until it is closed, which resets whatever connected to it.
class SilentListener {
 public:
  SilentListener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on loopback: " << std::strerror(errno);
    }
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { close(); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  std::uint16_t port() const { return port_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

// The test of a connection whose token endpoint does not answer waits (up to 15 s) without
// holding a server thread: on a server with one thread, other requests are answered meanwhile.
TEST_F(ConnectionsApiTest, AConnectionTestWaitingOnTheNetworkHoldsNoServerThread) {
  SilentListener silent;
  auto connection = google("slow");
  connection["fields"].as_object()["token_url"] =
      "http://127.0.0.1:" + std::to_string(silent.port()) + "/token";
  ASSERT_EQ(post_json("/api/v1/connections", connection).status, 201);

  ServerOptions options;
  options.port = 0;
  options.threads = 1;
  HttpServer server(options, router_);
  const std::string base = "http://127.0.0.1:" + std::to_string(server.start());
  auto send = [this](std::string method, std::string url) {
    auto promise = std::make_shared<std::promise<engine::HttpResponse>>();
    engine::HttpRequest request;
    request.method = std::move(method);
    request.url = std::move(url);
    request.headers.emplace_back("Authorization", "Bearer " + admin_token_);
    request.timeout = std::chrono::milliseconds(30'000);
    http_->send(std::move(request),
                [promise](engine::HttpResponse r) { promise->set_value(std::move(r)); });
    return promise->get_future();
  };

  auto testing = send("POST", base + "/api/v1/connections/slow/test");
  // Give the test time to reach the silent endpoint and the server time to be held, if it were.
  ASSERT_EQ(testing.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout)
      << "the test answered although its token endpoint never did";
  const auto asked = std::chrono::steady_clock::now();
  auto listed = send("GET", base + "/api/v1/connections");
  ASSERT_EQ(listed.wait_for(std::chrono::seconds(5)), std::future_status::ready)
      << "the only server thread is held by the connection test";
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(2));
  EXPECT_EQ(listed.get().status, 200);
  EXPECT_EQ(testing.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout)
      << "the connection test is still waiting on its endpoint";

  // The endpoint goes away: the test ends, reporting the failure, on the same request.
  silent.close();
  ASSERT_EQ(testing.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  const engine::HttpResponse tested = testing.get();
  ASSERT_EQ(tested.status, 200) << tested.error;
  const json::value body = json::parse(tested.body);
  EXPECT_EQ(body.at("ok"), false) << tested.body;
  EXPECT_FALSE(body.at("error").as_string().empty());
  expect_no_secrets(Response{200, {}, tested.body});
  server.stop();
}

TEST_F(ConnectionsApiTest, TypesDescribeFieldsForForms) {
  auto r = call("GET", "/api/v1/connection-types");
  ASSERT_EQ(r.status, 200);
  const json::value body = body_of(r);
  const auto& items = body.at("items").as_array();
  EXPECT_EQ(items.size(), engine::connection_types().size());
  EXPECT_EQ(items[0].at("name"), "meta_ads");
}

}  // namespace
}  // namespace flowpilot::web
