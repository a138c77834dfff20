#include <thread>

#include "sim_fixture.h"

namespace flowpilot::simulator::testing {
namespace {

namespace json = boost::json;

class FaultsTest : public SimulatorTest {
 protected:
  std::string insights() { return meta_url("/v21.0/act_1001/insights?date_preset=yesterday"); }
  engine::HttpResponse admin(const std::string& method, const std::string& path,
                             const std::string& body = "") {
    return call(client_, method, sim_->base_url() + path, {{"Content-Type", "application/json"}},
                body);
  }
};

TEST_F(FaultsTest, HeaderFaultsPerKind) {
  auto limited = get(insights(), {{"X-Sim-Fault", "rate_limit"}});
  EXPECT_EQ(limited.status, 400);
  EXPECT_EQ(body_json(limited).at("error").at("code"), 17);
  auto broken = get(insights(), {{"X-Sim-Fault", "server_error:503"}});
  EXPECT_EQ(broken.status, 503);
  EXPECT_EQ(body_json(broken).at("error").at("is_transient"), true);
  auto malformed = get(insights(), {{"X-Sim-Fault", "malformed"}});
  EXPECT_EQ(malformed.status, 200);
  boost::system::error_code ec;
  json::parse(malformed.body, ec);
  EXPECT_TRUE(ec) << malformed.body;
  auto expired = get(insights(), {{"X-Sim-Fault", "expired_token"}});
  EXPECT_EQ(body_json(expired).at("error").at("code"), 190);
  EXPECT_EQ(body_json(expired).at("error").at("error_subcode"), 463);
  auto unknown = get(insights(), {{"X-Sim-Fault", "explode"}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(get(insights()).status, 200);
}

TEST_F(FaultsTest, ExpiredTokenPerVendor) {
  auto slack = post_json(url(Vendor::kSlack, "/api/chat.postMessage"),
                         json::object{{"channel", "C0SIMALERT"}, {"text", "x"}},
                         {{"Authorization", "Bearer " + std::string(credentials::kSlackBotToken)},
                          {"X-Sim-Fault", "expired_token"}});
  EXPECT_EQ(slack.status, 200);
  EXPECT_EQ(body_json(slack).at("error"), "token_expired");
  auto hub =
      get(url(Vendor::kHubspot, "/crm/v3/objects/deals"), {{"X-Sim-Fault", "expired_token"}});
  EXPECT_EQ(hub.status, 401);
  EXPECT_EQ(body_json(hub).at("category"), "EXPIRED_AUTHENTICATION");
  auto google = post(url(Vendor::kGoogleAds, "/v21/customers/1234567890/googleAds:searchStream"),
                     "{}", {{"X-Sim-Fault", "expired_token"}});
  EXPECT_EQ(google.status, 401);
  EXPECT_TRUE(sim_->slack_messages().empty());
}

TEST_F(FaultsTest, ConfiguredFaultsHitTheNextNMatchingCalls) {
  sim_->add_fault(make_fault("server_error", "meta", "/v21.0/act_1001", 2, 500, 0));
  EXPECT_EQ(get(meta_url("/v21.0/act_1002/insights")).status, 200);  // other path
  EXPECT_EQ(post(url(Vendor::kGoogleOauth, "/token"), "").status,
            400);  // other vendor, normal refusal
  EXPECT_EQ(get(insights()).status, 500);
  EXPECT_EQ(get(insights()).status, 500);
  EXPECT_EQ(get(insights()).status, 200);
}

TEST_F(FaultsTest, AdminRoutes) {
  auto added =
      admin("POST", "/_sim/faults", R"({"kind":"rate_limit","vendor":"hubspot","count":2})");
  ASSERT_EQ(added.status, 201) << added.body;
  auto listed = admin("GET", "/_sim/faults");
  EXPECT_EQ(body_json(listed).at("faults").as_array().size(), 1u);
  auto r = get(url(Vendor::kHubspot, "/crm/v3/objects/deals"), hubspot_headers());
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(body_json(r).at("policyName"), "TEN_SECONDLY_ROLLING");
  EXPECT_EQ(admin("DELETE", "/_sim/faults").status, 200);
  EXPECT_EQ(get(url(Vendor::kHubspot, "/crm/v3/objects/deals"), hubspot_headers()).status, 200);
  auto bad = admin("POST", "/_sim/faults", R"({"kind":"meltdown"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("kind"), std::string::npos);
  EXPECT_EQ(admin("PUT", "/_sim/rate-limits/slack", R"({"calls":1,"window_ms":60000})").status,
            200);
  EXPECT_EQ(admin("PUT", "/_sim/rate-limits/nobody", R"({"calls":1,"window_ms":60000})").status,
            404);

  ASSERT_EQ(post(meta_url("/v21.0/120200003?status=PAUSED"), "").status, 200);
  auto state = admin("GET", "/_sim/state");
  ASSERT_EQ(state.status, 200);
  const auto s = body_json(state);
  EXPECT_EQ(s.at("today"), "2026-05-01");
  EXPECT_EQ(s.at("request_counts").at("hubspot"), 2);
  EXPECT_EQ(s.at("rate_limits").at("slack").at("calls"), 1);
  bool paused = false;
  for (const auto& c : s.at("campaigns").as_array())
    paused |= c.at("id") == "120200003" && c.at("status") == "PAUSED";
  EXPECT_TRUE(paused);
  EXPECT_EQ(admin("POST", "/_sim/reset").status, 200);
  EXPECT_EQ(sim_->campaign("120200003")->status, "ACTIVE");
  EXPECT_TRUE(sim_->request_counts().empty());
}

TEST_F(FaultsTest, SlowAnswersHoldNoServerThread) {
  auto options = test_options();
  options.threads = 1;
  start(options);
  std::promise<engine::HttpResponse> slow_done;
  auto slow_result = slow_done.get_future();
  engine::HttpRequest slow;
  slow.url = insights();
  slow.headers = {{"X-Sim-Fault", "slow:1500"}};
  const auto began = std::chrono::steady_clock::now();
  client_.send(slow, [&](engine::HttpResponse r) { slow_done.set_value(std::move(r)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto fast = get(insights());  // answered while the slow one waits, on the only server thread
  EXPECT_EQ(fast.status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(1200));
  auto r = slow_result.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - began, std::chrono::milliseconds(1500));
}

TEST_F(FaultsTest, StopAnswersHeldRequestsAtOnce) {
  std::promise<engine::HttpResponse> done;
  auto result = done.get_future();
  engine::HttpRequest slow;
  slow.url = insights();
  slow.headers = {{"X-Sim-Fault", "slow:60000"}};
  client_.send(slow, [&](engine::HttpResponse r) { done.set_value(std::move(r)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto began = std::chrono::steady_clock::now();
  sim_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(5));
  EXPECT_EQ(result.get().status, 200);
}

TEST(FaultHeader, Parsing) {
  std::string error;
  EXPECT_EQ(parse_fault_header("server_error:502", &error)->status, 502);
  EXPECT_EQ(parse_fault_header("slow:250", &error)->delay, std::chrono::milliseconds(250));
  EXPECT_FALSE(parse_fault_header("server_error:404", &error));
  EXPECT_NE(error.find("500-599"), std::string::npos);
  EXPECT_FALSE(parse_fault_header("malformed:3", &error));
  EXPECT_FALSE(parse_fault_header("nope", &error));
}

TEST(SimulatorConfig, ReadsEverySetting) {
  SimulatorOptions options;
  apply_simulator_config_text(R"(
listen: 127.0.0.1:9191
seed: 7
today: 2026-03-15
token_lifetime_seconds: 60
rate_limits:
  meta: {calls: 10, window_ms: 1000}
faults:
  - {kind: slow, vendor: ga4, delay_ms: 200, count: 0}
  - {kind: server_error, vendor: slack, status: 503}
)",
                              options);
  EXPECT_EQ(options.port, 9191);
  EXPECT_EQ(options.seed, 7u);
  EXPECT_EQ(format_date(*options.today), "2026-03-15");
  EXPECT_EQ(options.token_lifetime, std::chrono::seconds(60));
  EXPECT_EQ(options.rate_limits.at("meta").calls, 10);
  ASSERT_EQ(options.faults.size(), 2u);
  EXPECT_EQ(options.faults[0].count, 0);
  EXPECT_EQ(options.faults[1].status, 503);
}

TEST(SimulatorConfig, BadValuesNameTheField) {
  auto error_of = [](const std::string& text) {
    SimulatorOptions options;
    try {
      apply_simulator_config_text(text, options);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(
      error_of("faults:\n  - {kind: slow, delay_ms: 5}\n  - {kind: boom}\n").find("faults[1].kind"),
      std::string::npos);
  EXPECT_NE(error_of("faults:\n  - {kind: slow}\n").find("faults[0].delay_ms"), std::string::npos);
  EXPECT_NE(error_of("rate_limits:\n  meta: {calls: -1}\n").find("rate_limits.meta.calls"),
            std::string::npos);
  EXPECT_NE(error_of("today: 2026-13-01\n").find("today"), std::string::npos);
  EXPECT_NE(error_of("colour: blue\n").find("colour"), std::string::npos);
  EXPECT_NE(error_of("listen: localhost\n").find("listen"), std::string::npos);
  EXPECT_NE(error_of("seed: [1\n").find("YAML"), std::string::npos);
}

TEST(SimulatorConfig, ListenAddresses) {
  SimulatorOptions options;
  parse_listen("[::1]:0", options);
  EXPECT_EQ(options.host, "::1");
  EXPECT_EQ(options.port, 0);
  parse_listen("0.0.0.0:9090", options);
  EXPECT_EQ(options.host, "0.0.0.0");
  EXPECT_EQ(options.port, 9090);
  EXPECT_THROW(parse_listen("127.0.0.1:70000", options), std::invalid_argument);
  EXPECT_THROW(parse_listen("127.0.0.1:", options), std::invalid_argument);
  EXPECT_THROW(parse_listen(":9090", options), std::invalid_argument);
}

TEST(SimulatorDeterminism, SameSeedSameBytesOtherSeedDiffers) {
  auto fetch = [](std::uint64_t seed) {
    auto options = test_options();
    options.seed = seed;
    Simulator sim(options);
    sim.start();
    engine::HttpClient client(loopback_client());
    auto r = call(
        client, "GET",
        sim.base_url(Vendor::kMeta) +
            "/v21.0/act_1001/insights?level=ad&time_increment=1&date_preset=last_7d"
            "&limit=500&fields=ad_id,spend,impressions,clicks,actions,action_values&access_token=" +
            std::string(credentials::kMetaSystemUserToken),
        {{"Host", "sim.test"}});
    EXPECT_EQ(r.status, 200);
    return r.body;
  };
  const std::string a = fetch(42);
  EXPECT_EQ(a, fetch(42));
  EXPECT_NE(a, fetch(43));
}

}  // namespace
}  // namespace flowpilot::simulator::testing
