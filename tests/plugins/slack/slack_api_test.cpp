// Block Kit building and the meaning of Slack's answers.
#include "slack_api.h"
#include "plugins/http_answer.h"

#include <gtest/gtest.h>

namespace flowpilot::slack {
namespace {

namespace json = boost::json;
using marketing::Verdict;

using flowpilot::testing::http_answer;

TEST(SlackBlocksTest, KpiTablesAlignNumbersAndButtonsCarryTheirTargets) {
  auto input = json::parse(R"({"title":"Weekly KPIs","text":"ROAS is up.",
    "kpis":{"columns":["campaign","spend","roas"],
            "rows":[["Brand",1200.5,4.2],["Prospecting",98,null]]},
    "buttons":[{"text":"Approve","url":"https://flowpilot.example/approve","style":"primary"},
               {"text":"Reject","action_id":"reject","value":"run-1"}]})").as_object();
  auto blocks = build_blocks(input);
  ASSERT_EQ(blocks.size(), 4u);
  EXPECT_EQ(blocks[0].at("type"), "header");
  EXPECT_EQ(blocks[1].at("text").at("text"), "ROAS is up.");
  EXPECT_EQ(blocks[2].at("text").at("text"),
            "```\ncampaign       spend  roas\nBrand        1200.50  4.20\nProspecting       98     –\n```");
  const auto& buttons = blocks[3].at("elements").as_array();
  EXPECT_EQ(buttons[0].at("url"), "https://flowpilot.example/approve");
  EXPECT_EQ(buttons[0].at("style"), "primary");
  EXPECT_EQ(buttons[1].at("action_id"), "reject");
}

TEST(SlackBlocksTest, LimitsAreReportedWithTheField) {
  auto too_long = json::object{{"title", std::string(151, 'x')}};
  EXPECT_THROW(build_blocks(too_long), sdk::StepError);
  json::array many(51, json::object{{"type", "divider"}});
  try {
    build_blocks(json::object{{"blocks", many}});
    FAIL();
  } catch (const sdk::StepError& e) {
    EXPECT_NE(std::string(e.what()).find("51 blocks"), std::string::npos);
  }
  try {
    build_blocks(json::parse(R"({"buttons":[{"text":"Go"}]})").as_object());
    FAIL();
  } catch (const sdk::StepError& e) {
    EXPECT_NE(std::string(e.what()).find("with.buttons[0] needs a `url` or an `action_id`"), std::string::npos);
  }
  // A header counts characters, not bytes.
  EXPECT_NO_THROW(build_blocks(json::object{{"title", std::string(150, 'a')}}));
  std::string umlauts;
  for (int i = 0; i < 150; ++i) umlauts += "\xc3\xa4";
  EXPECT_NO_THROW(build_blocks(json::object{{"title", umlauts}}));
}

TEST(SlackAnswersTest, WebhookAndWebApiErrors) {
  EXPECT_EQ(classify_webhook(http_answer(200, "ok")).kind, Verdict::Kind::ok);
  EXPECT_EQ(classify_webhook(http_answer(404, "channel_not_found")).kind, Verdict::Kind::fail);
  EXPECT_EQ(classify_webhook(http_answer(500, "rollup_error")).kind, Verdict::Kind::retry);
  auto limited = classify_webhook(http_answer(429, "rate_limited", {{"retry-after", "7"}}));
  EXPECT_EQ(limited.kind, Verdict::Kind::retry);
  EXPECT_EQ(limited.wait, std::chrono::seconds(7));
  EXPECT_TRUE(limited.throttled);

  EXPECT_EQ(classify_web_api(http_answer(200, R"({"ok":true,"channel":"C1","ts":"1.2"})")).kind, Verdict::Kind::ok);
  // Errors arrive with HTTP 200.
  auto missing = classify_web_api(http_answer(200, R"({"ok":false,"error":"channel_not_found"})"));
  EXPECT_EQ(missing.kind, Verdict::Kind::fail);
  EXPECT_NE(missing.message.find("channel_not_found"), std::string::npos);
  EXPECT_EQ(classify_web_api(http_answer(200, R"({"ok":false,"error":"token_expired"})")).kind,
            Verdict::Kind::refresh_token);
  EXPECT_EQ(classify_web_api(http_answer(429, R"({"ok":false,"error":"ratelimited"})", {{"retry-after", "2"}})).wait,
            std::chrono::seconds(2));
  EXPECT_EQ(classify_web_api(http_answer(200, "<html>")).kind, Verdict::Kind::retry);
}

}  // namespace
}  // namespace flowpilot::slack
