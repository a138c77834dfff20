// The simulator's shared state and the helpers every vendor's handlers use. Private to
// simulator/.
//
// Thread-safety: State's mutable members are guarded by State::mutex; handlers run on several
// server threads at once and take it for every read or write of those members.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "simulator/simulator.h"
#include "web/router.h"
#include "web/server.h"

namespace flowpilot::simulator {

namespace detail {

using Clock = std::chrono::steady_clock;

// Runs callbacks after a delay on one thread of its own, so slow answers hold no server thread.
class DelayQueue {
 public:
  DelayQueue();
  ~DelayQueue();
  DelayQueue(const DelayQueue&) = delete;
  DelayQueue& operator=(const DelayQueue&) = delete;
  // After shutdown() callbacks run at once on the caller's thread.
  void schedule(std::chrono::milliseconds delay, std::function<void()> callback);
  // Runs everything still pending now and stops the thread.
  void shutdown();

 private:
  void loop();
  std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<Clock::time_point, std::function<void()>> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

// The outcome of taking one call from a rate budget.
struct BudgetUse {
  bool allowed = true;
  int used = 0;   // calls in the window, this one included
  int limit = 0;  // 0: unlimited
  std::chrono::milliseconds reset_in{0};
  std::chrono::milliseconds window{0};
};

struct IssuedToken {
  Vendor vendor;
  Clock::time_point expires;
};

// Decoded `application/x-www-form-urlencoded` pairs, in order.
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body);
std::optional<std::string> form_value(const std::vector<std::pair<std::string, std::string>>& form,
                                      std::string_view name);
std::string url_encode(std::string_view text);
std::string base64_encode(std::string_view text);
std::optional<std::string> base64_decode(std::string_view text);
// The `Bearer` credential of the Authorization header, if any.
std::optional<std::string> bearer_token(const web::Request& request);
// A random-looking but deterministic-enough id for trace/correlation fields.
std::string random_id(std::size_t length);

web::Response json_answer(int status, const boost::json::value& body);
web::Response text_answer(int status, std::string body,
                          std::string_view content_type = "text/plain");

// Integer minor units (or micros with decimals = 6) as a fixed-point decimal string.
std::string decimal_string(std::int64_t units, int decimals);
// The days a Meta date_preset covers (today, yesterday, last_7d, this_month, maximum, ...),
// relative to `today`; `first` is the first day with data (for maximum). nullopt for an unknown
// preset.
std::optional<std::pair<std::chrono::sys_days, std::chrono::sys_days>> preset_range(
    std::string_view preset, std::chrono::sys_days today, std::chrono::sys_days first);
// Parses a non-negative integer; nullopt on anything else (or overflow).
std::optional<std::int64_t> parse_int(std::string_view text);

}  // namespace detail

struct Simulator::State {
  explicit State(SimulatorOptions options);

  SimulatorOptions options;
  Dataset dataset;
  web::Router router;
  std::unique_ptr<web::HttpServer> server;
  std::uint16_t port = 0;
  detail::DelayQueue delays;

  mutable std::mutex mutex;
  std::map<std::string, CampaignState, std::less<>> campaigns;  // by id
  std::vector<SlackMessage> messages;
  std::map<std::string, std::uint64_t> counts;
  std::map<std::string, detail::IssuedToken, std::less<>> tokens;
  std::vector<Fault> faults;
  std::map<std::string, RateBudget, std::less<>> budgets;  // by vendor name
  struct Window {
    detail::Clock::time_point start;
    int used = 0;
  };
  std::map<std::string, Window, std::less<>> windows;  // by vendor name + "|" + key
  std::uint64_t sequence = 0;                          // tokens and message ts

  void reset_locked();
  // Replaces a vendor's budget (kept across reset()) and starts its windows afresh.
  void set_budget_locked(Vendor vendor, RateBudget budget);
  // Takes one call from `vendor`'s budget for `key`.
  detail::BudgetUse take(Vendor vendor, std::string_view key);
  // Peeks at the budget without taking a call.
  detail::BudgetUse peek(Vendor vendor, std::string_view key);
  // Issues an access token for `vendor` living `lifetime`.
  std::string issue_token(Vendor vendor, std::string_view prefix, std::chrono::seconds lifetime);
  // nullopt: unknown; true: valid; false: expired.
  std::optional<bool> token_valid(Vendor vendor, std::string_view token);
  // The first configured fault matching the request, consumed.
  std::optional<Fault> take_fault(Vendor vendor, std::string_view sub_path);
};

namespace detail {

// Registers one vendor route: counting, faults, then `handler`.
using VendorHandler = std::function<web::Response(Simulator::State&, const web::Request&)>;
void add_vendor_route(Simulator::State& state, Vendor vendor, web::Method method,
                      std::string_view pattern, VendorHandler handler);

// The vendor's own answer for a fault (rate limit, 5xx, expired token).
web::Response fault_answer(Simulator::State& state, Vendor vendor, const Fault& fault,
                           const web::Request& request);

// Per-vendor error bodies, shared by handlers and faults.
web::Response meta_error(int http_status, int code, std::optional<int> subcode,
                         std::string_view type, std::string_view message, bool transient = false);
web::Response google_error(int http_status, std::string_view status, std::string_view message,
                           std::string_view error_key = {}, std::string_view error_value = {},
                           const boost::json::object& details = {});
web::Response hubspot_error(int http_status, std::string_view category, std::string_view message);

// A valid Google OAuth access token on the request, or Google's 401 (GA4 shares Google's tokens).
std::optional<web::Response> check_google_access(Simulator::State& state,
                                                 const web::Request& request);

void register_meta(Simulator::State& state);
void register_google(Simulator::State& state);  // Google Ads and Google OAuth
void register_hubspot(Simulator::State& state);
void register_ga4(Simulator::State& state);
void register_slack(Simulator::State& state);
void register_admin(Simulator::State& state);

// Meta's rate-limit answer when `use` is exhausted, and its usage headers on every answer.
web::Response meta_throttled(int code, std::chrono::milliseconds reset_in);
// `type` is ads_insights or ads_management.
void add_meta_usage_headers(web::Response& response, std::string_view account,
                            std::string_view type, const BudgetUse& use);
web::Response google_quota_exhausted(std::chrono::milliseconds retry_in);
web::Response hubspot_rate_limited(std::string_view policy, const BudgetUse& use);
web::Response slack_rate_limited(Vendor vendor, std::chrono::milliseconds retry_in);

}  // namespace detail
}  // namespace flowpilot::simulator
