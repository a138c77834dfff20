#include "simulator/dataset.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <tuple>

namespace flowpilot::simulator {

namespace {

using std::chrono::sys_days;

// A generator keyed by (seed, entity, day): the same key always gives the same sequence, so a
// day's numbers do not depend on what else was generated before.
class Rng {
 public:
  Rng(std::uint64_t seed, std::string_view key, std::int64_t day) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the key
    for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
    state_ = seed * 0x9E3779B97F4A7C15ull ^ h ^ (static_cast<std::uint64_t>(day) << 32);
    next();
  }
  std::uint64_t next() {  // splitmix64
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }
  double between(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Rounds up with probability equal to the fraction, so small expectations still add up.
  std::int64_t round(double x) { return static_cast<std::int64_t>(std::floor(x + uniform())); }
  std::size_t pick(std::size_t n) { return static_cast<std::size_t>(next() % n); }

 private:
  std::uint64_t state_;
};

struct Profile {
  double ctr;          // clicks / impressions
  double cvr;          // purchases / link clicks (Meta) or conversions / clicks (Google)
  double aov;          // revenue per purchase, major units
  double cpm;          // cost per 1000 impressions, major units
  double utilization;  // share of the daily budget spent on a weekday
};

Profile profile_of(const Campaign& c) {
  const std::string& s = c.scenario;
  if (c.platform == "meta") {
    if (s == "budget_limited_high_roas") return {0.025, 0.045, 95.0, 12.0, 0.99};
    if (s == "low_ctr") return {0.003, 0.03, 60.0, 5.0, 0.85};
    if (s == "good_ctr_poor_cvr") return {0.038, 0.003, 70.0, 11.0, 0.85};
    if (s == "zero_conversions") return {0.012, 0.0, 50.0, 8.0, 0.8};
    if (s == "creative_fatigue") return {0.024, 0.03, 65.0, 10.0, 0.85};
    return {0.014, 0.035, 65.0, 9.0, 0.85};
  }
  if (c.objective == "SEARCH") return {0.06, 0.06, 80.0, 45.0, 0.85};
  if (c.objective == "DISPLAY") return {0.008, 0.03, 60.0, 4.0, 0.8};
  return {0.02, 0.04, 70.0, 15.0, 0.85};
}

constexpr int kDriftDays = 28;     // cpa_drift: the last four weeks
constexpr int kSpikeDaysAgo = 12;  // spend_spike: today - 12
constexpr double kSpikeFactor = 4.0;

double weekday_factor(sys_days day) {
  const std::chrono::weekday wd{day};
  return (wd == std::chrono::Saturday || wd == std::chrono::Sunday) ? 0.85 : 1.0;
}

// Scenario multipliers for day index i (0 = first day, days-1 = today).
struct DayEffect {
  double spend = 1, ctr = 1, cvr = 1;
};

DayEffect effect_of(const Campaign& c, int i, int days) {
  DayEffect e;
  if (c.scenario == "cpa_drift" && i >= days - kDriftDays) {
    const double t = static_cast<double>(i - (days - kDriftDays)) / (kDriftDays - 1);
    e.cvr = 1.0 - 0.6 * t;
  } else if (c.scenario == "spend_spike" && i == days - 1 - kSpikeDaysAgo) {
    e.spend = kSpikeFactor;
  } else if (c.scenario == "creative_fatigue") {
    e.ctr = 1.0 - 0.6 * static_cast<double>(i) / std::max(1, days - 1);
  }
  return e;
}

constexpr std::int64_t kDayMs = 86'400'000;

std::int64_t day_ms(sys_days day) {
  return static_cast<std::int64_t>(day.time_since_epoch().count()) * kDayMs;
}

}  // namespace

std::string format_date(sys_days day) {
  const std::chrono::year_month_day ymd{day};
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buffer;
}

std::optional<sys_days> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8};
  const std::size_t lengths[3] = {4, 2, 2};
  for (int p = 0; p < 3; ++p) {
    for (std::size_t k = 0; k < lengths[p]; ++k) {
      const char ch = text[starts[p] + k];
      if (ch < '0' || ch > '9') return std::nullopt;
      parts[p] = parts[p] * 10 + (ch - '0');
    }
  }
  const std::chrono::year_month_day ymd{std::chrono::year{parts[0]},
                                        std::chrono::month{static_cast<unsigned>(parts[1])},
                                        std::chrono::day{static_cast<unsigned>(parts[2])}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd};
}

sys_days utc_today() {
  return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
}

Dataset::Dataset(DatasetOptions options) : options_(options) {
  if (options_.days < 1) options_.days = 1;
  build_accounts_and_campaigns();
  build_meta_rows();
  build_google_rows();
  build_hubspot();
  build_ga4();
}

std::string Dataset::first_date() const {
  return format_date(options_.today - std::chrono::days(options_.days - 1));
}
std::string Dataset::last_date() const { return format_date(options_.today); }

std::vector<std::string> Dataset::dates() const {
  std::vector<std::string> out;
  for (int i = 0; i < options_.days; ++i) {
    out.push_back(format_date(options_.today - std::chrono::days(options_.days - 1 - i)));
  }
  return out;
}

const Campaign* Dataset::find_campaign(std::string_view id) const {
  for (const auto& c : campaigns_) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

const Account* Dataset::find_account(std::string_view platform, std::string_view id) const {
  for (const auto& a : accounts_) {
    if (a.platform == platform && a.id == id) return &a;
  }
  return nullptr;
}

void Dataset::build_accounts_and_campaigns() {
  accounts_ = {
      {"meta", "act_1001", "Sim Shop EU", "EUR", "Europe/Berlin"},
      {"meta", "act_1002", "Sim Shop US", "USD", "America/New_York"},
      {"google_ads", "1234567890", "Sim Shop EU", "EUR", "Europe/Berlin"},
      {"google_ads", "9876543210", "Sim Shop US", "USD", "America/New_York"},
      {"hubspot", std::string(kHubspotPortalId), "Sim Shop CRM", "EUR", "Europe/Berlin"},
      {"ga4", std::string(kGa4PropertyId), "Sim Shop Web", "EUR", "Europe/Berlin"},
  };
  struct Seed {
    const char* platform;
    const char* account;
    const char* id;
    const char* name;
    const char* objective;
    std::int64_t budget;
    const char* currency;
    const char* scenario;
  };
  const Seed seeds[] = {
      {"meta", "act_1001", "120200001", "Prospecting - Broad", "OUTCOME_SALES", 20000, "EUR",
       "cpa_drift"},
      {"meta", "act_1001", "120200002", "Retargeting - Cart Abandoners", "OUTCOME_SALES", 8000,
       "EUR", "budget_limited_high_roas"},
      {"meta", "act_1001", "120200003", "Video Awareness", "OUTCOME_AWARENESS", 10000, "EUR",
       "low_ctr"},
      {"meta", "act_1001", "120200004", "Lookalike - Purchasers 1%", "OUTCOME_SALES", 15000, "EUR",
       "creative_fatigue"},
      {"meta", "act_1001", "120200005", "Spring Sale", "OUTCOME_SALES", 12000, "EUR",
       "spend_spike"},
      {"meta", "act_1002", "120210001", "US Prospecting - Interests", "OUTCOME_SALES", 18000, "USD",
       "cpa_drift"},
      {"meta", "act_1002", "120210002", "US Broad Test", "OUTCOME_SALES", 5000, "USD",
       "zero_conversions"},
      {"meta", "act_1002", "120210003", "US Retargeting", "OUTCOME_SALES", 9000, "USD", ""},
      {"meta", "act_1002", "120210004", "US Landing Page Test", "OUTCOME_TRAFFIC", 7000, "USD",
       "good_ctr_poor_cvr"},
      {"google_ads", "1234567890", "555000001", "Brand - Exact", "SEARCH", 60'000'000, "EUR", ""},
      {"google_ads", "1234567890", "555000002", "Generic - Running Shoes", "SEARCH", 150'000'000,
       "EUR", "cpa_drift"},
      {"google_ads", "1234567890", "555000003", "Shopping - All Products", "SHOPPING", 120'000'000,
       "EUR", ""},
      {"google_ads", "1234567890", "555000004", "Display - Remarketing", "DISPLAY", 40'000'000,
       "EUR", ""},
      {"google_ads", "9876543210", "555100001", "US Brand", "SEARCH", 50'000'000, "USD", ""},
      {"google_ads", "9876543210", "555100002", "US Generic", "SEARCH", 130'000'000, "USD",
       "cpa_drift"},
      {"google_ads", "9876543210", "555100003", "US Performance Max", "PERFORMANCE_MAX",
       100'000'000, "USD", ""},
      {"google_ads", "9876543210", "555100004", "US Display", "DISPLAY", 30'000'000, "USD", ""},
  };
  for (const auto& s : seeds) {
    Campaign c;
    c.platform = s.platform;
    c.account_id = s.account;
    c.id = s.id;
    c.name = s.name;
    c.status = c.platform == "meta" ? "ACTIVE" : "ENABLED";
    c.objective = s.objective;
    c.daily_budget = s.budget;
    c.currency = s.currency;
    c.scenario = s.scenario;
    if (c.platform == "meta") {
      // Two adsets of two ads each; ids derive from the campaign id.
      for (int a = 1; a <= 2; ++a) {
        Adset adset;
        adset.id = c.id + "0" + std::to_string(a);
        adset.name = c.name + (a == 1 ? " - Feed" : " - Stories");
        for (int b = 1; b <= 2; ++b) {
          adset.ads.push_back({adset.id + "0" + std::to_string(b),
                               adset.name + (b == 1 ? " - Image" : " - Video")});
        }
        c.adsets.push_back(std::move(adset));
      }
    }
    campaigns_.push_back(std::move(c));
  }

  const int days = options_.days;
  auto day_string = [&](int days_ago) {
    return format_date(options_.today - std::chrono::days(days_ago));
  };
  const std::string first = first_date();
  const std::string last = last_date();
  const std::string drift_first = day_string(std::min(kDriftDays, days) - 1);
  for (const auto& c : campaigns_) {
    if (c.scenario.empty()) continue;
    Scenario sc{c.scenario, c.platform, c.account_id, c.id, first, last, ""};
    if (c.scenario == "cpa_drift") {
      sc.first_date = drift_first;
      sc.description =
          "conversion rate falls linearly to 40% of normal over the last 28 days, "
          "so CPA rises to about 2.5x";
    } else if (c.scenario == "spend_spike") {
      sc.first_date = sc.last_date = day_string(kSpikeDaysAgo);
      sc.description =
          "spend (and impressions) about 4x the usual level on one day, purchases about usual";
    } else if (c.scenario == "zero_conversions") {
      sc.description = "spends every day, never converts";
    } else if (c.scenario == "budget_limited_high_roas") {
      sc.description = "spends 97-100% of its daily budget every day at a ROAS above 5";
    } else if (c.scenario == "low_ctr") {
      sc.description = "CTR about 0.3%";
    } else if (c.scenario == "good_ctr_poor_cvr") {
      sc.description = "CTR about 3.8% but about 0.3% of link clicks purchase";
    } else if (c.scenario == "creative_fatigue") {
      sc.description = "CTR falls linearly from about 2.4% to about 1.0% over the 90 days";
    }
    scenarios_.push_back(std::move(sc));
  }
}

void Dataset::build_meta_rows() {
  const int days = options_.days;
  for (int i = 0; i < days; ++i) {
    const sys_days day = options_.today - std::chrono::days(days - 1 - i);
    const std::string date = format_date(day);
    const std::int64_t day_number = day.time_since_epoch().count();
    for (const auto& c : campaigns_) {
      if (c.platform != "meta") continue;
      const Profile p = profile_of(c);
      const DayEffect e = effect_of(c, i, days);
      Rng cr(options_.seed, c.id, day_number);
      double campaign_spend;
      if (c.scenario == "budget_limited_high_roas") {
        campaign_spend = static_cast<double>(c.daily_budget) * cr.between(0.97, 1.0);
      } else {
        // The spike day ignores the weekend dip so that it stands out on any weekday.
        const double weekday = e.spend > 1 ? 1.0 : weekday_factor(day);
        campaign_spend = static_cast<double>(c.daily_budget) * p.utilization * weekday *
                         cr.between(0.88, 1.12) * e.spend;
      }
      double weight_sum = 0;
      std::vector<double> weights;
      for (const auto& adset : c.adsets) {
        for (const auto& ad : adset.ads) {
          Rng wr(options_.seed, ad.id, 0);  // a fixed share per ad
          weights.push_back(wr.between(0.6, 1.4));
          weight_sum += weights.back();
        }
      }
      std::size_t k = 0;
      for (const auto& adset : c.adsets) {
        for (const auto& ad : adset.ads) {
          Rng r(options_.seed, ad.id, day_number);
          MetaAdDay row;
          row.account_id = c.account_id;
          row.campaign_id = c.id;
          row.adset_id = adset.id;
          row.ad_id = ad.id;
          row.date = date;
          row.spend_cents = static_cast<std::int64_t>(campaign_spend * weights[k++] / weight_sum);
          const double cpm_cents = p.cpm * 100 * r.between(0.9, 1.1) * (e.spend > 1 ? 0.95 : 1.0);
          row.impressions = r.round(static_cast<double>(row.spend_cents) / cpm_cents * 1000);
          const double ctr = p.ctr * e.ctr * r.between(0.9, 1.1);
          row.clicks =
              std::min(row.impressions, r.round(static_cast<double>(row.impressions) * ctr));
          row.link_clicks = r.round(static_cast<double>(row.clicks) * 0.8);
          // The spike's extra reach converts poorly: purchases stay near the usual level.
          const double cvr = p.cvr * e.cvr * r.between(0.85, 1.15) / (e.spend > 1 ? e.spend : 1.0);
          row.purchases =
              std::min(row.link_clicks, r.round(static_cast<double>(row.link_clicks) * cvr));
          row.purchase_value_cents = 0;
          for (std::int64_t n = 0; n < row.purchases; ++n) {
            row.purchase_value_cents +=
                static_cast<std::int64_t>(std::llround(p.aov * 100 * r.between(0.7, 1.3)));
          }
          meta_rows_.push_back(std::move(row));
        }
      }
    }
  }
}

void Dataset::build_google_rows() {
  const int days = options_.days;
  for (int i = 0; i < days; ++i) {
    const sys_days day = options_.today - std::chrono::days(days - 1 - i);
    const std::int64_t day_number = day.time_since_epoch().count();
    for (const auto& c : campaigns_) {
      if (c.platform != "google_ads") continue;
      const Profile p = profile_of(c);
      const DayEffect e = effect_of(c, i, days);
      Rng r(options_.seed, c.id, day_number);
      GoogleCampaignDay row;
      row.customer_id = c.account_id;
      row.campaign_id = c.id;
      row.date = format_date(day);
      // Whole cents, in micros.
      const double cost = static_cast<double>(c.daily_budget) * p.utilization *
                          weekday_factor(day) * r.between(0.88, 1.12) * e.spend;
      row.cost_micros = static_cast<std::int64_t>(cost / 10'000) * 10'000;
      const double cpm_micros = p.cpm * 1e6 * r.between(0.9, 1.1);
      row.impressions = r.round(static_cast<double>(row.cost_micros) / cpm_micros * 1000);
      row.clicks = std::min(row.impressions, r.round(static_cast<double>(row.impressions) * p.ctr *
                                                     e.ctr * r.between(0.9, 1.1)));
      const std::int64_t conv_hundredths = std::llround(static_cast<double>(row.clicks) * p.cvr *
                                                        e.cvr * r.between(0.85, 1.15) * 100);
      row.conversions = static_cast<double>(conv_hundredths) / 100.0;
      const std::int64_t value_cents =
          std::llround(row.conversions * p.aov * r.between(0.8, 1.2) * 100);
      row.conversions_value = static_cast<double>(value_cents) / 100.0;
      google_rows_.push_back(std::move(row));
    }
  }
}

void Dataset::build_hubspot() {
  const int days = options_.days;
  static constexpr std::array<std::pair<const char*, int>, 8> kSources = {{{"PAID_SEARCH", 30},
                                                                           {"PAID_SOCIAL", 25},
                                                                           {"ORGANIC_SEARCH", 15},
                                                                           {"EMAIL_MARKETING", 10},
                                                                           {"DIRECT_TRAFFIC", 10},
                                                                           {"REFERRALS", 5},
                                                                           {"SOCIAL_MEDIA", 3},
                                                                           {"OFFLINE", 2}}};
  auto pick_source = [](Rng& r) {
    int roll = static_cast<int>(r.pick(100));
    for (const auto& [name, weight] : kSources) {
      if (roll < weight) return std::string(name);
      roll -= weight;
    }
    return std::string("OTHER_CAMPAIGNS");
  };
  static constexpr std::array<const char*, 16> kFirst = {
      "Ada",  "Ben",   "Clara", "David", "Elena", "Felix", "Greta", "Hugo",
      "Ines", "Jonas", "Karla", "Lars",  "Mira",  "Noah",  "Olga",  "Paul"};
  static constexpr std::array<const char*, 16> kLast = {
      "Abel", "Berg",   "Cruz",     "Dietz", "Eriksen", "Fontaine", "Gruber", "Hale",
      "Ito",  "Jansen", "Kowalski", "Lind",  "Moreau",  "Novak",    "Ortiz",  "Petrov"};
  static constexpr std::array<const char*, 6> kProducts = {
      "Running Shoes", "Trail Kit", "Team Order", "Annual Plan", "Gift Cards", "Store Display"};

  std::int64_t deal_number = 0;
  for (int i = 0; i < days; ++i) {
    const sys_days day = options_.today - std::chrono::days(days - 1 - i);
    Rng r(options_.seed, "hubspot-deals", day.time_since_epoch().count());
    const int count = 6 + static_cast<int>(r.pick(5));
    for (int n = 0; n < count; ++n) {
      Deal d;
      d.id = std::to_string(70'000'001 + deal_number++);
      d.source = pick_source(r);
      const double base = d.source == "PAID_SEARCH" ? 1800 : d.source == "PAID_SOCIAL" ? 1200 : 900;
      d.amount_cents = std::llround(base * r.between(0.3, 2.5)) * 100;
      const int stage = static_cast<int>(r.pick(100));
      d.dealstage = stage < 65 ? "closedwon" : stage < 90 ? "closedlost" : "contractsent";
      d.pipeline = "default";
      d.dealname = std::string(kProducts[r.pick(kProducts.size())]) + " - " +
                   kLast[r.pick(kLast.size())] + " #" + d.id;
      d.closedate_ms = day_ms(day) + static_cast<std::int64_t>(r.pick(20)) * 3'600'000;
      d.createdate_ms = d.closedate_ms - (1 + static_cast<std::int64_t>(r.pick(40))) * kDayMs -
                        static_cast<std::int64_t>(r.pick(3'600'000));
      d.lastmodified_ms = d.closedate_ms + 3'600'000;
      deals_.push_back(std::move(d));
    }
  }

  constexpr int kContacts = 12'000;  // enough to reach the search API's 10,000-result cap
  for (int k = 0; k < kContacts; ++k) {
    Rng r(options_.seed, "hubspot-contact", k);
    Contact c;
    c.id = std::to_string(50'001 + k);
    c.firstname = kFirst[r.pick(kFirst.size())];
    c.lastname = kLast[r.pick(kLast.size())];
    std::string lower = c.firstname + "." + c.lastname + "." + c.id;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    c.email = lower + "@example.com";
    char phone[32];
    std::snprintf(phone, sizeof phone, "+1-202-555-01%02d", static_cast<int>(r.pick(100)));
    c.phone = phone;
    c.source = pick_source(r);
    const int stage = static_cast<int>(r.pick(100));
    c.lifecyclestage = stage < 60 ? "lead" : stage < 85 ? "marketingqualifiedlead" : "customer";
    const int day_index = static_cast<int>(static_cast<std::int64_t>(k) * days / kContacts);
    const sys_days day = options_.today - std::chrono::days(days - 1 - day_index);
    c.createdate_ms =
        day_ms(day) + static_cast<std::int64_t>(r.pick(static_cast<std::size_t>(kDayMs)));
    c.lastmodified_ms = c.createdate_ms + static_cast<std::int64_t>(r.pick(86'400)) * 1000;
    contacts_.push_back(std::move(c));
  }
}

void Dataset::build_ga4() {
  struct Source {
    const char* source;
    const char* medium;
    const char* channel;
    double sessions;
    double conversion_rate;
    double aov;
  };
  static constexpr std::array<Source, 7> kSources = {{
      {"(direct)", "(none)", "Direct", 1800, 0.025, 85},
      {"bing", "organic", "Organic Search", 300, 0.02, 80},
      {"facebook", "paid", "Paid Social", 2200, 0.015, 70},
      {"google", "cpc", "Paid Search", 3000, 0.03, 80},
      {"google", "organic", "Organic Search", 4000, 0.02, 75},
      {"instagram", "referral", "Referral", 400, 0.01, 60},
      {"newsletter", "email", "Email", 600, 0.04, 90},
  }};
  const int days = options_.days;
  for (int i = 0; i < days; ++i) {
    const sys_days day = options_.today - std::chrono::days(days - 1 - i);
    for (const auto& s : kSources) {
      Rng r(options_.seed, std::string("ga4-") + s.source + "/" + s.medium,
            day.time_since_epoch().count());
      Ga4Day row;
      row.date = format_date(day);
      row.source = s.source;
      row.medium = s.medium;
      row.channel_group = s.channel;
      row.sessions = r.round(s.sessions * weekday_factor(day) * r.between(0.85, 1.15));
      row.total_users = r.round(static_cast<double>(row.sessions) * r.between(0.7, 0.85));
      row.conversions =
          r.round(static_cast<double>(row.sessions) * s.conversion_rate * r.between(0.8, 1.2));
      row.transactions = row.conversions;
      for (std::int64_t n = 0; n < row.transactions; ++n) {
        row.purchase_revenue_cents += std::llround(s.aov * 100 * r.between(0.6, 1.4));
      }
      ga4_rows_.push_back(std::move(row));
    }
  }
}

}  // namespace flowpilot::simulator
