#include <map>

#include "sim_fixture.h"

namespace flowpilot::simulator::testing {
namespace {

namespace json = boost::json;

struct Sums {
  std::int64_t spend_cents = 0, impressions = 0, purchases = 0, rows = 0;
};

std::int64_t cents(std::string_view decimal) {
  const auto dot = decimal.find('.');
  EXPECT_NE(dot, std::string_view::npos);
  EXPECT_EQ(decimal.size() - dot, 3u) << decimal;  // two decimals
  return std::stoll(std::string(decimal.substr(0, dot))) * 100 +
         std::stoll(std::string(decimal.substr(dot + 1)));
}

class MetaTest : public SimulatorTest {
 protected:
  // Follows paging.next to the end; sums spend, impressions and purchases.
  Sums fetch_all(std::string first_url, int* pages = nullptr) {
    Sums s;
    std::string next = std::move(first_url);
    int n = 0;
    while (!next.empty()) {
      auto r = get(next);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      ++n;
      auto body = body_json(r).as_object();
      for (const auto& row : body.at("data").as_array()) {
        const auto& o = row.as_object();
        s.spend_cents += cents(o.at("spend").as_string());
        s.impressions += std::stoll(std::string(o.at("impressions").as_string()));
        if (const auto* actions = o.if_contains("actions")) {
          for (const auto& a : actions->as_array()) {
            if (a.at("action_type") == "purchase")
              s.purchases += std::stoll(std::string(a.at("value").as_string()));
          }
        }
        ++s.rows;
      }
      next.clear();
      if (const auto* paging = body.if_contains("paging")) {
        if (const auto* n2 = paging->as_object().if_contains("next")) next = n2->as_string();
      }
    }
    if (pages) *pages = n;
    return s;
  }

  Sums expected(const std::string& account, const std::string& from, const std::string& to) {
    Sums s;
    for (const auto& r : sim_->dataset().meta_rows()) {
      if (r.account_id != account || r.date < from || r.date > to) continue;
      s.spend_cents += r.spend_cents;
      s.impressions += r.impressions;
      s.purchases += r.purchases;
    }
    return s;
  }
};

constexpr const char* kRange =
    "time_range=%7B%22since%22%3A%222026-04-01%22%2C%22until%22%3A%222026-04-30%22%7D";

TEST_F(MetaTest, PagingThroughEveryPageEqualsTheUnpagedTotal) {
  const std::string fields =
      "fields=campaign_id,campaign_name,spend,impressions,clicks,actions,action_values";
  int pages = 0;
  const Sums paged =
      fetch_all(meta_url("/v21.0/act_1001/insights?level=ad&time_increment=1&limit=37&" + fields +
                         "&" + kRange),
                &pages);
  EXPECT_EQ(paged.rows, 30 * 20);  // 30 days x 20 ads
  EXPECT_GT(pages, 10);
  EXPECT_EQ(sim_->request_counts().at("meta GET /{version}/{object}/insights"),
            static_cast<std::uint64_t>(pages));
  const Sums whole =
      fetch_all(meta_url("/v21.0/act_1001/insights?level=account&" + fields + "&" + kRange));
  EXPECT_EQ(whole.rows, 1);
  const Sums want = expected("act_1001", "2026-04-01", "2026-04-30");
  EXPECT_EQ(paged.spend_cents, want.spend_cents);
  EXPECT_EQ(whole.spend_cents, want.spend_cents);
  EXPECT_EQ(paged.impressions, want.impressions);
  EXPECT_EQ(whole.purchases, want.purchases);
  // Campaign level adds up to the same.
  const Sums campaigns =
      fetch_all(meta_url("/v21.0/act_1001/insights?level=campaign&time_increment=1&limit=500&" +
                         fields + "&" + kRange));
  EXPECT_EQ(campaigns.rows, 30 * 5);
  EXPECT_EQ(campaigns.spend_cents, want.spend_cents);
}

TEST_F(MetaTest, RowShapeIsStringsWithActionsAndNextLinkFromHost) {
  auto r = get(meta_url(
      std::string(
          "/v21.0/act_1002/insights?level=campaign&time_increment=1&limit=2&"
          "fields=campaign_id,campaign_name,spend,impressions,clicks,actions,action_values&") +
      kRange));
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = body_json(r).as_object();
  const auto& row = body.at("data").as_array().at(0).as_object();
  EXPECT_EQ(row.at("date_start"), "2026-04-01");
  EXPECT_EQ(row.at("date_stop"), "2026-04-01");
  EXPECT_TRUE(row.at("spend").is_string());
  EXPECT_TRUE(row.at("impressions").is_string());
  EXPECT_EQ(row.at("campaign_id"), "120210001");
  bool purchase = false, omni = false, link = false;
  for (const auto& a : row.at("actions").as_array()) {
    purchase |= a.at("action_type") == "purchase";
    omni |= a.at("action_type") == "omni_purchase";
    link |= a.at("action_type") == "link_click";
  }
  EXPECT_TRUE(purchase && omni && link);
  const std::string next(body.at("paging").at("next").as_string());
  EXPECT_EQ(next.rfind(sim_->base_url(Vendor::kMeta) + "/v21.0/act_1002/insights?", 0), 0u) << next;
  EXPECT_NE(next.find("after="), std::string::npos);
  EXPECT_FALSE(header(r, "x-business-use-case-usage").empty());
  EXPECT_FALSE(header(r, "x-app-usage").empty());
  EXPECT_FALSE(header(r, "x-ad-account-usage").empty());
}

TEST_F(MetaTest, ZeroConversionCampaignHasNoPurchaseActions) {
  auto r =
      get(meta_url("/v21.0/act_1002/"
                   "insights?level=campaign&date_preset=maximum&fields=campaign_id,spend,actions,"
                   "action_values&limit=50"));
  ASSERT_EQ(r.status, 200) << r.body;
  bool seen = false;
  const auto body = body_json(r);
  for (const auto& row : body.at("data").as_array()) {
    if (row.at("campaign_id") != "120210002") continue;
    seen = true;
    EXPECT_GT(cents(row.at("spend").as_string()), 0);
    EXPECT_EQ(row.as_object().if_contains("action_values"), nullptr);
    for (const auto& a : row.at("actions").as_array()) EXPECT_NE(a.at("action_type"), "purchase");
  }
  EXPECT_TRUE(seen);
}

TEST_F(MetaTest, DatePresets) {
  auto dates = [&](const std::string& preset) {
    auto r = get(meta_url(
        "/v21.0/act_1001/insights?level=account&time_increment=1&limit=500&date_preset=" + preset));
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    const auto body = body_json(r);
    for (const auto& row : body.at("data").as_array())
      out.emplace_back(row.at("date_start").as_string());
    return out;
  };
  EXPECT_EQ(dates("today"), std::vector<std::string>{"2026-05-01"});
  EXPECT_EQ(dates("yesterday"), std::vector<std::string>{"2026-04-30"});
  auto week = dates("last_7d");
  ASSERT_EQ(week.size(), 7u);
  EXPECT_EQ(week.front(), "2026-04-24");
  EXPECT_EQ(week.back(), "2026-04-30");
  EXPECT_EQ(dates("last_month").size(), 30u);
  EXPECT_EQ(dates("this_month"), std::vector<std::string>{"2026-05-01"});
  EXPECT_EQ(dates("maximum").size(), 90u);
  EXPECT_EQ(dates("last_90d").size(), 89u);  // the day before the first has no data
  auto bad = get(meta_url("/v21.0/act_1001/insights?date_preset=last_9d"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(body_json(bad).at("error").at("code"), 100);
}

TEST_F(MetaTest, AuthRefusals) {
  auto missing = get(url(Vendor::kMeta, "/v21.0/act_1001/insights"));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(body_json(missing).at("error").at("code"), 104);
  auto wrong = get(url(Vendor::kMeta, "/v21.0/act_1001/insights?access_token=nope"));
  EXPECT_EQ(wrong.status, 400);
  auto error = body_json(wrong).at("error").as_object();
  EXPECT_EQ(error.at("code"), 190);
  EXPECT_EQ(error.at("type"), "OAuthException");
  EXPECT_TRUE(error.contains("fbtrace_id"));
  auto bearer =
      get(url(Vendor::kMeta, "/v21.0/act_1001/insights"),
          {{"Authorization", "Bearer " + std::string(credentials::kMetaSystemUserToken)}});
  EXPECT_EQ(bearer.status, 200) << bearer.body;
  auto old_version = get(meta_url("/v12.0/act_1001/insights"));
  EXPECT_EQ(old_version.status, 400);
  auto unknown = get(meta_url("/v21.0/act_9999/insights"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(body_json(unknown).at("error").at("error_subcode"), 33);
}

TEST_F(MetaTest, ExchangeTokenIssuesALongLivedToken) {
  auto r = get(url(Vendor::kMeta,
                   "/v21.0/oauth/access_token?grant_type=fb_exchange_token&client_id=" +
                       std::string(credentials::kMetaAppId) +
                       "&client_secret=" + std::string(credentials::kMetaAppSecret) +
                       "&fb_exchange_token=" + std::string(credentials::kMetaSystemUserToken)));
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = body_json(r).as_object();
  EXPECT_EQ(body.at("token_type"), "bearer");
  EXPECT_EQ(body.at("expires_in"), 5183944);
  const std::string token(body.at("access_token").as_string());
  auto use = get(url(Vendor::kMeta, "/v21.0/act_1001/campaigns?access_token=" + token));
  EXPECT_EQ(use.status, 200) << use.body;
  auto bad_secret =
      get(url(Vendor::kMeta, "/v21.0/oauth/access_token?grant_type=fb_exchange_token&client_id=" +
                                 std::string(credentials::kMetaAppId) +
                                 "&client_secret=x&fb_exchange_token=" + token));
  EXPECT_EQ(bad_secret.status, 400);
}

TEST_F(MetaTest, PauseAndBudgetPersist) {
  auto r = post(meta_url("/v21.0/120200001"), "status=PAUSED&daily_budget=12345",
                {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r), json::parse(R"({"success":true})"));
  auto list =
      get(meta_url("/v21.0/act_1001/campaigns?fields=id,name,status,effective_status,daily_budget&"
                   "effective_status=%5B%22PAUSED%22%5D"));
  ASSERT_EQ(list.status, 200) << list.body;
  const auto list_body = body_json(list);
  const auto& data = list_body.at("data").as_array();
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].at("id"), "120200001");
  EXPECT_EQ(data[0].at("effective_status"), "PAUSED");
  EXPECT_EQ(data[0].at("daily_budget"), "12345");
  EXPECT_EQ(sim_->campaign("120200001")->status, "PAUSED");
  auto active = get(meta_url("/v21.0/act_1001/campaigns?effective_status=%5B%22ACTIVE%22%5D"));
  EXPECT_EQ(body_json(active).at("data").as_array().size(), 4u);
  // Resume.
  ASSERT_EQ(post(meta_url("/v21.0/120200001?status=ACTIVE"), "").status, 200);
  EXPECT_EQ(sim_->campaign("120200001")->status, "ACTIVE");
  // Refusals.
  EXPECT_EQ(post(meta_url("/v21.0/120200001?status=STOPPED"), "").status, 400);
  EXPECT_EQ(post(meta_url("/v21.0/120200001?daily_budget=abc"), "").status, 400);
  auto missing = post(meta_url("/v21.0/999?status=PAUSED"), "");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(body_json(missing).at("error").at("error_subcode"), 33);
}

TEST_F(MetaTest, ThrottledOnceTheCallBudgetIsSpent) {
  sim_->set_rate_budget(Vendor::kMeta, RateBudget{3, std::chrono::milliseconds(60'000)});
  for (int i = 0; i < 3; ++i) {
    auto r = get(meta_url("/v21.0/act_1001/insights?date_preset=yesterday"));
    ASSERT_EQ(r.status, 200) << r.body;
    auto usage = json::parse(header(r, "x-business-use-case-usage"));
    EXPECT_EQ(usage.at("1001").at(0).at("call_count"), (i + 1) * 100 / 3);
  }
  auto r = get(meta_url("/v21.0/act_1001/insights?date_preset=yesterday"));
  EXPECT_EQ(r.status, 400);
  auto error = body_json(r).at("error").as_object();
  EXPECT_EQ(error.at("code"), 80000);
  EXPECT_EQ(error.at("error_subcode"), 2446079);
  auto usage = json::parse(header(r, "x-business-use-case-usage"));
  EXPECT_GE(usage.at("1001").at(0).at("estimated_time_to_regain_access").as_int64(), 1);
  // The other account has its own budget.
  EXPECT_EQ(get(meta_url("/v21.0/act_1002/insights?date_preset=yesterday")).status, 200);
  // Management calls on the throttled account answer 80004.
  auto m = post(meta_url("/v21.0/120200002?status=PAUSED"), "");
  EXPECT_EQ(body_json(m).at("error").at("code"), 80004);
}

}  // namespace
}  // namespace flowpilot::simulator::testing
