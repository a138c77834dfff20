// Workflows with the marketing connectors run through the real engine (loader, executor, plugin
// host, HTTP client) against the simulator on loopback. Expected figures come from the
// simulator's dataset, computed in the tests, never from the connectors' own output.
#pragma once

#include "engine/runtime/runtime_fixture.h"
#include "simulator/simulator.h"

#include <boost/json.hpp>

#include <cmath>
#include <map>
#include <set>
#include <memory>
#include <string>

namespace flowpilot::engine::testing {

class ConnectorTest : public RuntimeTest {
 protected:
  // The simulator's last day of data; nullopt: today (for workflows that reckon from the run's
  // start, such as the templates).
  virtual std::optional<std::chrono::sys_days> simulator_today() const {
    return std::chrono::sys_days(std::chrono::year(2026) / 5 / 31);
  }

  void SetUp() override {
    simulator::SimulatorOptions options;
    options.today = simulator_today();
    sim_ = std::make_unique<simulator::Simulator>(options);
    sim_->start();
    RuntimeTest::SetUp();
    namespace cred = simulator::credentials;
    using simulator::Vendor;
    const std::string google_token_url = sim_->base_url(Vendor::kGoogleOauth) + "/token";
    connections_["meta-main"] = {{"access_token", cred::kMetaSystemUserToken},
                                 {"base_url", sim_->base_url(Vendor::kMeta)}};
    connections_["google-main"] = {{"token_url", google_token_url},
                                   {"client_id", cred::kGoogleClientId},
                                   {"client_secret", cred::kGoogleClientSecret},
                                   {"refresh_token", cred::kGoogleRefreshToken},
                                   {"developer_token", cred::kGoogleDeveloperToken},
                                   {"currency", "EUR"},
                                   {"base_url", sim_->base_url(Vendor::kGoogleAds)}};
    connections_["hubspot-main"] = {{"access_token", cred::kHubspotPrivateAppToken},
                                    {"base_url", sim_->base_url(Vendor::kHubspot)}};
    connections_["ga4-main"] = {{"token_url", google_token_url},
                                {"client_id", cred::kGoogleClientId},
                                {"client_secret", cred::kGoogleClientSecret},
                                {"refresh_token", cred::kGoogleRefreshToken},
                                {"property_id", std::string(simulator::Dataset::kGa4PropertyId)},
                                {"base_url", sim_->base_url(Vendor::kGa4)}};
    connections_["slack-main"] = {
        {"webhook_url", sim_->base_url(Vendor::kSlackHooks) + std::string(cred::kSlackWebhookPath)},
        {"bot_token", cred::kSlackBotToken},
        {"base_url", sim_->base_url(Vendor::kSlack) + "/api"}};
    executor_.reset();
    ExecutorOptions executor_options;
    executor_options.connections = [this](std::string_view name) -> std::optional<boost::json::object> {
      auto it = connections_.find(std::string(name));
      if (it == connections_.end()) return std::nullopt;
      return it->second;
    };
    executor_ = make_executor(executor_options);
  }

  void TearDown() override {
    RuntimeTest::TearDown();
    sim_->stop();
  }

  // The output of step `step` of the last run, which must have succeeded.
  boost::json::object output_of(const std::string& step) {
    auto steps = steps_of(last_run_);
    EXPECT_EQ(steps[step].status, StepStatus::succeeded) << steps[step].error;
    const auto* o = steps[step].output.if_object();
    return o != nullptr ? *o : boost::json::object();
  }

  std::string error_of(const std::string& step) { return steps_of(last_run_)[step].error; }

  std::unique_ptr<simulator::Simulator> sim_;
  std::map<std::string, boost::json::object> connections_;
};

// The micros of a normalized row's amount.
inline std::int64_t micros(const boost::json::value& amount) {
  if (amount.is_int64()) return amount.get_int64() * 1'000'000;
  return std::llround(amount.to_number<double>() * 1e6);
}

}  // namespace flowpilot::engine::testing
