// An in-process simulator of the marketing APIs Flowpilot's connectors call: the Meta Marketing
// API, Google Ads REST with Google's OAuth token endpoint, HubSpot CRM v3 with its OAuth token
// endpoint, the GA4 Data API's runReport, and Slack (incoming webhooks and chat.postMessage).
// One HTTP listener serves every vendor under its own path prefix (base_url()), with the vendors'
// paths, credential checks, response shapes, paging, rate-limit answers and error bodies as
// docs/simulator.md describes, over deterministic data (simulator/dataset.h). Writes persist for
// the simulator's lifetime: a paused campaign stays paused, a new budget stays.
//
// Faults (rate-limit storms, 5xx, slow answers, truncated bodies, expired tokens) are injected per
// request with the `X-Sim-Fault` header, or for the next N matching requests through add_fault(),
// the options, or the loopback admin routes under /_sim/.
//
// Thread-safety: start() and stop() belong to the owner. Every other member may be called from any
// thread while the server runs; state readers return copies.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/dataset.h"

namespace flowpilot::web {
class Router;
}

namespace flowpilot::simulator {

// The fixed credentials the simulator accepts (documented in docs/simulator.md).
namespace credentials {
inline constexpr std::string_view kMetaSystemUserToken = "sim-meta-system-user-token";
inline constexpr std::string_view kMetaAppId = "sim-meta-app-id";
inline constexpr std::string_view kMetaAppSecret = "sim-meta-app-secret";
inline constexpr std::string_view kGoogleClientId =
    "sim-google-client-id.apps.googleusercontent.com";
inline constexpr std::string_view kGoogleClientSecret = "sim-google-client-secret";
inline constexpr std::string_view kGoogleRefreshToken = "sim-google-refresh-token";
inline constexpr std::string_view kGoogleDeveloperToken = "sim-google-developer-token";
inline constexpr std::string_view kHubspotPrivateAppToken = "pat-na1-sim-hubspot-private-app-token";
inline constexpr std::string_view kHubspotClientId = "sim-hubspot-client-id";
inline constexpr std::string_view kHubspotClientSecret = "sim-hubspot-client-secret";
inline constexpr std::string_view kHubspotRefreshToken = "sim-hubspot-refresh-token";
inline constexpr std::string_view kSlackBotToken = "xoxb-sim-slack-bot-token";
// Incoming webhook path under the slack-hooks prefix; it posts to #marketing-alerts.
inline constexpr std::string_view kSlackWebhookPath =
    "/services/T0SIM0001/B0SIM0001/simwebhooksecret";
}  // namespace credentials

enum class Vendor { kMeta, kGoogleAds, kGoogleOauth, kHubspot, kGa4, kSlack, kSlackHooks };

// "meta", "google_ads", "google_oauth", "hubspot", "ga4", "slack", "slack_hooks".
std::string_view vendor_name(Vendor vendor);
std::optional<Vendor> parse_vendor(std::string_view name);
// The path prefix: "/meta", "/google-ads", "/google-oauth", "/hubspot", "/ga4", "/slack",
// "/slack-hooks".
std::string_view vendor_prefix(Vendor vendor);
inline constexpr Vendor kAllVendors[] = {
    Vendor::kMeta, Vendor::kGoogleAds, Vendor::kGoogleOauth, Vendor::kHubspot,
    Vendor::kGa4,  Vendor::kSlack,     Vendor::kSlackHooks};

// At most `calls` requests per fixed window of `window`. calls <= 0 means unlimited.
struct RateBudget {
  int calls = 0;
  std::chrono::milliseconds window{1000};
};

enum class FaultKind { kRateLimit, kServerError, kSlow, kMalformed, kExpiredToken };
std::string_view fault_kind_name(
    FaultKind kind);  // rate_limit, server_error, slow, malformed, expired_token

struct Fault {
  FaultKind kind = FaultKind::kServerError;
  std::optional<Vendor> vendor;        // nullopt: every vendor
  std::string path;                    // "" or a prefix of the path after the vendor prefix
  int count = 1;                       // matching requests it affects; 0: until cleared
  int status = 500;                    // kServerError: the HTTP status (500-599)
  std::chrono::milliseconds delay{0};  // kSlow: how long the answer is held back
};

// Parses the `X-Sim-Fault` header form: "rate_limit", "server_error", "server_error:503",
// "slow:1500" (milliseconds), "malformed", "expired_token". Returns nullopt with `error` set.
std::optional<Fault> parse_fault_header(std::string_view text, std::string* error);

// Builds a fault from its configuration fields (vendor "" or "*" for every vendor; status only for
// server_error, delay_ms only for slow). Throws std::invalid_argument starting with the field
// name ("kind: unknown fault ...").
Fault make_fault(std::string_view kind, std::string_view vendor, std::string path,
                 std::int64_t count, std::int64_t status, std::int64_t delay_ms);

struct SimulatorOptions {
  std::string host = "127.0.0.1";  // an IP literal
  std::uint16_t port = 0;          // 0: the OS picks a free port
  int threads = 2;                 // server threads
  std::uint64_t seed = 42;
  std::optional<std::chrono::sys_days> today;  // default: the current UTC date
  int days = 90;
  std::chrono::seconds token_lifetime{3599};  // Google and HubSpot OAuth access tokens
  // Budgets by vendor name; missing vendors use the defaults of default_rate_budget().
  // Meta: per ad account (or object), Google Ads: per customer, HubSpot: per token (search apart),
  // GA4: per property, Slack: per channel.
  std::map<std::string, RateBudget, std::less<>> rate_limits;
  std::vector<Fault> faults;  // active from the start
};

RateBudget default_rate_budget(Vendor vendor);

// Sets options.host and options.port from "HOST:PORT" ("[::1]:9090" for IPv6). Throws
// std::invalid_argument saying what is wrong.
void parse_listen(std::string_view text, SimulatorOptions& options);

// Reads a YAML configuration (see docs/simulator.md) into `options`. Throws std::invalid_argument
// naming the field (`faults[1].kind`) when a value is wrong, std::runtime_error when the file
// cannot be read or parsed.
void load_simulator_config(const std::string& path, SimulatorOptions& options);
// The same over YAML text (tests).
void apply_simulator_config_text(const std::string& yaml_text, SimulatorOptions& options);

struct CampaignState {
  std::string platform;  // "meta" or "google_ads"
  std::string account_id;
  std::string id;
  std::string name;
  std::string status;             // Meta ACTIVE/PAUSED, Google ENABLED/PAUSED/REMOVED
  std::int64_t daily_budget = 0;  // Meta minor units, Google micros
};

struct SlackMessage {
  std::string via;      // "webhook" or "chat.postMessage"
  std::string channel;  // channel id (C...)
  std::string text;
  std::string blocks_json;  // the blocks array as JSON, "" when none
  std::string thread_ts;
  std::string ts;
};

class Simulator {
 public:
  explicit Simulator(SimulatorOptions options = {});
  ~Simulator();  // stops
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Binds and starts serving; returns the port. Throws as web::HttpServer::start() does.
  std::uint16_t start();
  // Answers held back by slow faults go out at once; then the server stops. Idempotent.
  void stop();

  std::uint16_t port() const;
  // "http://HOST:PORT" and "http://HOST:PORT/meta" etc. (IPv6 hosts in brackets). Valid after
  // start().
  std::string base_url() const;
  std::string base_url(Vendor vendor) const;

  const Dataset& dataset() const;
  // The router, for tests that call handlers without sockets.
  const web::Router& router() const;

  std::vector<CampaignState> campaigns() const;
  std::optional<CampaignState> campaign(std::string_view id) const;
  std::vector<SlackMessage> slack_messages() const;
  // Requests received per vendor name ("meta"), per route ("meta GET /{version}/{object}/insights")
  // and in total ("total"); admin routes are not counted.
  std::map<std::string, std::uint64_t> request_counts() const;

  void add_fault(Fault fault);
  void clear_faults();
  void set_rate_budget(Vendor vendor, RateBudget budget);
  // Back to the initial campaigns, no messages, counters, rate windows or faults; issued tokens
  // stay valid.
  void reset();

  struct State;  // shared with the vendor handlers (simulator/detail/)

 private:
  std::unique_ptr<State> state_;
};

}  // namespace flowpilot::simulator
