// The simulator's synthetic marketing data: a pure function of a seed and an anchor date, so that
// tests can compute expected KPIs from these rows independently of any HTTP answer.
//
// The data covers `days` calendar days ending on `today` inclusive (default 90). Every number of
// a given entity and day is drawn from a generator keyed by (seed, entity, day) alone, so a day's
// figures never depend on which range, level or page a query asks for. Meta rows are generated per
// ad and day (integer cents and counts); campaign and adset figures are sums of their ads. Google
// rows are per campaign and day (micros, fractional conversions). HubSpot deals and contacts and
// GA4 rows by day and source/medium complete the set.
//
// The seeded scenarios (scenarios()) name the campaign and the days each one affects; they are
// listed in docs/simulator.md.
//
// Thread-safety: a Dataset is immutable after construction; every const member may be called from
// any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::simulator {

struct DatasetOptions {
  std::uint64_t seed = 42;
  std::chrono::sys_days today{};  // the last day with data; default-constructed means 1970-01-01
  int days = 90;                  // days with data, ending on `today`
};

// "YYYY-MM-DD" <-> days.
std::string format_date(std::chrono::sys_days day);
std::optional<std::chrono::sys_days> parse_date(std::string_view text);
// Today's date in UTC.
std::chrono::sys_days utc_today();

struct Account {
  std::string platform;  // "meta", "google_ads", "hubspot", "ga4"
  std::string id;        // "act_1001", "1234567890", the HubSpot portal id, the GA4 property id
  std::string name;
  std::string currency;   // ISO 4217
  std::string time_zone;  // IANA
};

struct Ad {
  std::string id;
  std::string name;
};

struct Adset {
  std::string id;
  std::string name;
  std::vector<Ad> ads;
};

struct Campaign {
  std::string platform;    // "meta" or "google_ads"
  std::string account_id;  // "act_1001" or "1234567890"
  std::string id;
  std::string name;
  std::string status;     // initial: Meta ACTIVE/PAUSED, Google ENABLED/PAUSED
  std::string objective;  // Meta objective or Google advertising channel type
  // Meta: daily budget in the account currency's minor units (cents). Google: budget micros.
  std::int64_t daily_budget = 0;
  std::string currency;
  std::vector<Adset> adsets;  // Meta only
  std::string scenario;       // "" or the scenario name
};

// One Meta ad on one day.
struct MetaAdDay {
  std::string account_id, campaign_id, adset_id, ad_id;
  std::string date;  // YYYY-MM-DD
  std::int64_t spend_cents = 0;
  std::int64_t impressions = 0;
  std::int64_t clicks = 0;       // all clicks
  std::int64_t link_clicks = 0;  // the link_click action
  std::int64_t purchases = 0;    // purchase and omni_purchase actions
  std::int64_t purchase_value_cents = 0;
};

// One Google Ads campaign on one day.
struct GoogleCampaignDay {
  std::string customer_id, campaign_id;
  std::string date;
  std::int64_t cost_micros = 0;
  std::int64_t impressions = 0;
  std::int64_t clicks = 0;
  double conversions = 0;        // multiples of 0.01
  double conversions_value = 0;  // multiples of 0.01
};

struct Deal {
  std::string id;
  std::string dealname;
  std::int64_t amount_cents = 0;
  std::string dealstage;  // closedwon, closedlost, contractsent
  std::string pipeline;   // "default"
  std::string source;     // hs_analytics_source
  std::int64_t createdate_ms = 0;
  std::int64_t closedate_ms = 0;
  std::int64_t lastmodified_ms = 0;
};

struct Contact {
  std::string id;
  std::string email, firstname, lastname, phone;
  std::string source;          // hs_analytics_source
  std::string lifecyclestage;  // lead, marketingqualifiedlead, customer
  std::int64_t createdate_ms = 0;
  std::int64_t lastmodified_ms = 0;
};

// GA4 sessions for one day and one source/medium.
struct Ga4Day {
  std::string date;  // YYYY-MM-DD
  std::string source, medium;
  std::string channel_group;  // sessionDefaultChannelGroup
  std::int64_t sessions = 0;
  std::int64_t total_users = 0;
  std::int64_t conversions = 0;
  std::int64_t transactions = 0;
  std::int64_t purchase_revenue_cents = 0;
};

struct Scenario {
  std::string name;  // cpa_drift, spend_spike, zero_conversions, budget_limited_high_roas,
                     // low_ctr, good_ctr_poor_cvr, creative_fatigue
  std::string platform, account_id, campaign_id;
  std::string first_date, last_date;  // the days the effect covers
  std::string description;
};

class Dataset {
 public:
  explicit Dataset(DatasetOptions options);

  const DatasetOptions& options() const { return options_; }
  std::string first_date() const;
  std::string last_date() const;  // == today
  std::vector<std::string> dates() const;

  const std::vector<Account>& accounts() const { return accounts_; }
  const std::vector<Campaign>& campaigns() const { return campaigns_; }
  const Campaign* find_campaign(std::string_view id) const;
  const Account* find_account(std::string_view platform, std::string_view id) const;

  // Sorted by date, then campaign, adset, ad id.
  const std::vector<MetaAdDay>& meta_rows() const { return meta_rows_; }
  // Sorted by date, then customer, campaign id.
  const std::vector<GoogleCampaignDay>& google_rows() const { return google_rows_; }
  const std::vector<Deal>& deals() const { return deals_; }           // by id
  const std::vector<Contact>& contacts() const { return contacts_; }  // by id
  const std::vector<Ga4Day>& ga4_rows() const { return ga4_rows_; }   // by date, source, medium
  const std::vector<Scenario>& scenarios() const { return scenarios_; }

  static constexpr std::string_view kHubspotPortalId = "24681357";
  static constexpr std::string_view kGa4PropertyId = "345678901";

 private:
  void build_accounts_and_campaigns();
  void build_meta_rows();
  void build_google_rows();
  void build_hubspot();
  void build_ga4();

  DatasetOptions options_;
  std::vector<Account> accounts_;
  std::vector<Campaign> campaigns_;
  std::vector<MetaAdDay> meta_rows_;
  std::vector<GoogleCampaignDay> google_rows_;
  std::vector<Deal> deals_;
  std::vector<Contact> contacts_;
  std::vector<Ga4Day> ga4_rows_;
  std::vector<Scenario> scenarios_;
};

}  // namespace flowpilot::simulator
