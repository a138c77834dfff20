#include "sim_fixture.h"

namespace flowpilot::simulator::testing {
namespace {

namespace json = boost::json;

class SlackTest : public SimulatorTest {
 protected:
  engine::HttpResponse post_message(const json::object& body,
                                    std::string token = std::string(credentials::kSlackBotToken)) {
    engine::HttpHeaders headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return post_json(url(Vendor::kSlack, "/api/chat.postMessage"), body, std::move(headers));
  }
  engine::HttpResponse hook(const std::string& body,
                            const std::string& path = std::string(credentials::kSlackWebhookPath)) {
    return post(url(Vendor::kSlackHooks, path), body, {{"Content-Type", "application/json"}});
  }
};

TEST_F(SlackTest, PostMessageIsRecorded) {
  json::array blocks{json::object{{"type", "header"},
                                  {"text", json::object{{"type", "plain_text"}, {"text", "KPIs"}}}},
                     json::object{{"type", "divider"}}};
  auto r = post_message(
      json::object{{"channel", "#marketing-reports"}, {"text", "Weekly KPIs"}, {"blocks", blocks}});
  ASSERT_EQ(r.status, 200);
  const auto body = body_json(r);
  EXPECT_EQ(body.at("ok"), true);
  EXPECT_EQ(body.at("channel"), "C0SIMREPORT");
  EXPECT_FALSE(body.at("ts").as_string().empty());
  auto messages = sim_->slack_messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].via, "chat.postMessage");
  EXPECT_EQ(messages[0].channel, "C0SIMREPORT");
  EXPECT_EQ(messages[0].text, "Weekly KPIs");
  EXPECT_EQ(json::parse(messages[0].blocks_json), blocks);
}

TEST_F(SlackTest, PostMessageErrorsAreHttp200) {
  auto expect_error = [&](const engine::HttpResponse& r, const char* error) {
    EXPECT_EQ(r.status, 200);
    const auto body = body_json(r);
    EXPECT_EQ(body.at("ok"), false);
    EXPECT_EQ(body.at("error"), error);
  };
  const json::object message{{"channel", "C0SIMALERT"}, {"text", "hi"}};
  expect_error(post_message(message, ""), "not_authed");
  expect_error(post_message(message, "xoxb-wrong"), "invalid_auth");
  expect_error(post_message(json::object{{"channel", "C999"}, {"text", "hi"}}),
               "channel_not_found");
  expect_error(post_message(json::object{{"channel", "C0SIMARCHIV"}, {"text", "hi"}}),
               "is_archived");
  expect_error(post_message(json::object{{"channel", "C0SIMALERT"}}), "no_text");
  json::array many;
  for (int i = 0; i < 51; ++i) many.push_back(json::object{{"type", "divider"}});
  expect_error(
      post_message(json::object{{"channel", "C0SIMALERT"}, {"text", "x"}, {"blocks", many}}),
      "msg_blocks_too_long");
  EXPECT_TRUE(sim_->slack_messages().empty());
}

TEST_F(SlackTest, RateLimitedPerChannel) {
  sim_->set_rate_budget(Vendor::kSlack, RateBudget{1, std::chrono::milliseconds(5000)});
  EXPECT_EQ(post_message(json::object{{"channel", "C0SIMALERT"}, {"text", "one"}}).status, 200);
  auto r = post_message(json::object{{"channel", "C0SIMALERT"}, {"text", "two"}});
  ASSERT_EQ(r.status, 429);
  EXPECT_EQ(body_json(r).at("error"), "ratelimited");
  EXPECT_FALSE(header(r, "retry-after").empty());
  EXPECT_EQ(
      post_message(json::object{{"channel", "C0SIMREPORT"}, {"text", "other channel"}}).status,
      200);
  EXPECT_EQ(sim_->slack_messages().size(), 2u);
}

TEST_F(SlackTest, IncomingWebhook) {
  auto ok = hook(
      R"({"text":"CPA alert","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*CPA* up"}}]})");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "ok");
  ASSERT_EQ(sim_->slack_messages().size(), 1u);
  EXPECT_EQ(sim_->slack_messages()[0].via, "webhook");
  EXPECT_EQ(sim_->slack_messages()[0].text, "CPA alert");
  auto bad = hook("{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, "invalid_payload");
  auto empty = hook("{}");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.body, "no_text");
  auto wrong_secret = hook(R"({"text":"x"})", "/services/T0SIM0001/B0SIM0001/wrong");
  EXPECT_EQ(wrong_secret.status, 403);
  EXPECT_EQ(wrong_secret.body, "invalid_token");
  EXPECT_EQ(hook(R"({"text":"x"})", "/services/T1/B1/x").status, 404);
  EXPECT_EQ(sim_->slack_messages().size(), 1u);
}

}  // namespace
}  // namespace flowpilot::simulator::testing
