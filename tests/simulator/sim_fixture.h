// A running simulator on a loopback port and a blocking HTTP helper over engine::HttpClient.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <future>
#include <memory>
#include <string>

#include "engine/http/http_client.h"
#include "simulator/simulator.h"

namespace flowpilot::simulator::testing {

inline std::chrono::sys_days test_today() { return *parse_date("2026-05-01"); }

inline SimulatorOptions test_options() {
  SimulatorOptions options;
  options.seed = 42;
  options.today = test_today();
  return options;
}

inline engine::HttpClientOptions loopback_client() {
  engine::HttpClientOptions options;
  options.allowed_networks = {"127.0.0.0/8"};
  options.default_timeout = std::chrono::milliseconds(20'000);
  return options;
}

inline engine::HttpResponse call(engine::HttpClient& client, std::string method, std::string url,
                                 engine::HttpHeaders headers = {}, std::string body = {}) {
  engine::HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.headers = std::move(headers);
  request.body = std::move(body);
  std::promise<engine::HttpResponse> done;
  auto result = done.get_future();
  client.send(std::move(request),
              [&done](engine::HttpResponse r) { done.set_value(std::move(r)); });
  return result.get();
}

inline std::string header(const engine::HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

inline boost::json::value body_json(const engine::HttpResponse& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << r.body.substr(0, 300);
  return v;
}

class SimulatorTest : public ::testing::Test {
 protected:
  void SetUp() override { start(test_options()); }

  void start(SimulatorOptions options) {
    sim_.reset();
    sim_ = std::make_unique<Simulator>(std::move(options));
    sim_->start();
  }

  std::string url(Vendor vendor, const std::string& path) const {
    return sim_->base_url(vendor) + path;
  }

  engine::HttpResponse get(const std::string& full_url, engine::HttpHeaders headers = {}) {
    return call(client_, "GET", full_url, std::move(headers));
  }
  engine::HttpResponse post(const std::string& full_url, std::string body,
                            engine::HttpHeaders headers = {}) {
    return call(client_, "POST", full_url, std::move(headers), std::move(body));
  }
  engine::HttpResponse post_json(const std::string& full_url, const boost::json::value& body,
                                 engine::HttpHeaders headers = {}) {
    headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    return post(full_url, boost::json::serialize(body), std::move(headers));
  }

  std::string google_access_token() {
    auto r =
        post(url(Vendor::kGoogleOauth, "/token"),
             "grant_type=refresh_token&client_id=" + std::string(credentials::kGoogleClientId) +
                 "&client_secret=" + std::string(credentials::kGoogleClientSecret) +
                 "&refresh_token=" + std::string(credentials::kGoogleRefreshToken),
             {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 200) << r.body;
    return std::string(body_json(r).at("access_token").as_string());
  }

  engine::HttpHeaders google_ads_headers(const std::string& token) {
    return {{"Authorization", "Bearer " + token},
            {"developer-token", std::string(credentials::kGoogleDeveloperToken)}};
  }

  engine::HttpHeaders hubspot_headers() {
    return {{"Authorization", "Bearer " + std::string(credentials::kHubspotPrivateAppToken)}};
  }

  std::string meta_url(const std::string& path_and_query) {
    const char sep = path_and_query.find('?') == std::string::npos ? '?' : '&';
    return url(Vendor::kMeta, path_and_query + sep +
                                  "access_token=" + std::string(credentials::kMetaSystemUserToken));
  }

  engine::HttpClient client_{loopback_client()};
  std::unique_ptr<Simulator> sim_;
};

}  // namespace flowpilot::simulator::testing
