#include "simulator/simulator.h"

#include <stdexcept>

#include "simulator/detail/state.h"

namespace flowpilot::simulator {

namespace {
struct VendorInfo {
  Vendor vendor;
  std::string_view name;
  std::string_view prefix;
};
constexpr VendorInfo kVendors[] = {
    {Vendor::kMeta, "meta", "/meta"},
    {Vendor::kGoogleAds, "google_ads", "/google-ads"},
    {Vendor::kGoogleOauth, "google_oauth", "/google-oauth"},
    {Vendor::kHubspot, "hubspot", "/hubspot"},
    {Vendor::kGa4, "ga4", "/ga4"},
    {Vendor::kSlack, "slack", "/slack"},
    {Vendor::kSlackHooks, "slack_hooks", "/slack-hooks"},
};
}  // namespace

std::string_view vendor_name(Vendor vendor) {
  for (const auto& v : kVendors) {
    if (v.vendor == vendor) return v.name;
  }
  return "unknown";
}

std::optional<Vendor> parse_vendor(std::string_view name) {
  for (const auto& v : kVendors) {
    if (v.name == name) return v.vendor;
  }
  return std::nullopt;
}

std::string_view vendor_prefix(Vendor vendor) {
  for (const auto& v : kVendors) {
    if (v.vendor == vendor) return v.prefix;
  }
  return "";
}

RateBudget default_rate_budget(Vendor vendor) {
  using std::chrono::milliseconds;
  switch (vendor) {
    case Vendor::kMeta:
      return {200, milliseconds(60'000)};
    case Vendor::kGoogleAds:
      return {300, milliseconds(60'000)};
    case Vendor::kGoogleOauth:
      return {0, milliseconds(1000)};
    case Vendor::kHubspot:
      return {100, milliseconds(10'000)};
    case Vendor::kGa4:
      return {120, milliseconds(60'000)};
    case Vendor::kSlack:
      return {5, milliseconds(5000)};
    case Vendor::kSlackHooks:
      return {5, milliseconds(5000)};
  }
  return {};
}

Simulator::State::State(SimulatorOptions opts)
    : options(std::move(opts)),
      dataset(DatasetOptions{options.seed, options.today.value_or(utc_today()), options.days}) {
  reset_locked();
}

void Simulator::State::reset_locked() {
  campaigns.clear();
  for (const auto& c : dataset.campaigns()) {
    campaigns[c.id] =
        CampaignState{c.platform, c.account_id, c.id, c.name, c.status, c.daily_budget};
  }
  messages.clear();
  counts.clear();
  windows.clear();
  faults = options.faults;
  budgets.clear();
  for (Vendor v : kAllVendors) {
    const auto name = std::string(vendor_name(v));
    auto it = options.rate_limits.find(name);
    budgets[name] = it != options.rate_limits.end() ? it->second : default_rate_budget(v);
  }
}

void Simulator::State::set_budget_locked(Vendor vendor, RateBudget budget) {
  const std::string name(vendor_name(vendor));
  budgets[name] = budget;
  options.rate_limits[name] = budget;
  for (auto it = windows.begin(); it != windows.end();) {
    it = it->first.rfind(name + "|", 0) == 0 ? windows.erase(it) : std::next(it);
  }
}

detail::BudgetUse Simulator::State::peek(Vendor vendor, std::string_view key) {
  std::lock_guard lock(mutex);
  const std::string name(vendor_name(vendor));
  const RateBudget budget = budgets[name];
  detail::BudgetUse use;
  use.limit = budget.calls > 0 ? budget.calls : 0;
  use.window = budget.window;
  auto it = windows.find(name + "|" + std::string(key));
  const auto now = detail::Clock::now();
  if (it != windows.end() && now < it->second.start + budget.window) {
    use.used = it->second.used;
    use.reset_in = std::chrono::duration_cast<std::chrono::milliseconds>(it->second.start +
                                                                         budget.window - now);
  }
  use.allowed = use.limit == 0 || use.used < use.limit;
  return use;
}

detail::BudgetUse Simulator::State::take(Vendor vendor, std::string_view key) {
  std::lock_guard lock(mutex);
  const std::string name(vendor_name(vendor));
  const RateBudget budget = budgets[name];
  detail::BudgetUse use;
  use.window = budget.window;
  if (budget.calls <= 0) return use;
  use.limit = budget.calls;
  auto& w = windows[name + "|" + std::string(key)];
  const auto now = detail::Clock::now();
  if (w.used == 0 || now >= w.start + budget.window) {
    w.start = now;
    w.used = 0;
  }
  use.reset_in =
      std::chrono::duration_cast<std::chrono::milliseconds>(w.start + budget.window - now);
  if (w.used >= budget.calls) {
    use.allowed = false;
    use.used = w.used;
    return use;
  }
  use.used = ++w.used;
  return use;
}

std::string Simulator::State::issue_token(Vendor vendor, std::string_view prefix,
                                          std::chrono::seconds lifetime) {
  std::lock_guard lock(mutex);
  std::string token =
      std::string(prefix) + std::to_string(++sequence) + "-" + detail::random_id(24);
  tokens[token] = detail::IssuedToken{vendor, detail::Clock::now() + lifetime};
  return token;
}

std::optional<bool> Simulator::State::token_valid(Vendor vendor, std::string_view token) {
  std::lock_guard lock(mutex);
  auto it = tokens.find(token);
  if (it == tokens.end() || it->second.vendor != vendor) return std::nullopt;
  return detail::Clock::now() < it->second.expires;
}

std::optional<Fault> Simulator::State::take_fault(Vendor vendor, std::string_view sub_path) {
  std::lock_guard lock(mutex);
  for (auto it = faults.begin(); it != faults.end(); ++it) {
    if (it->vendor && *it->vendor != vendor) continue;
    if (!it->path.empty() && sub_path.substr(0, it->path.size()) != it->path) continue;
    Fault fault = *it;
    if (it->count > 0 && --it->count == 0) faults.erase(it);
    return fault;
  }
  return std::nullopt;
}

Simulator::Simulator(SimulatorOptions options)
    : state_(std::make_unique<State>(std::move(options))) {
  detail::register_meta(*state_);
  detail::register_google(*state_);
  detail::register_hubspot(*state_);
  detail::register_ga4(*state_);
  detail::register_slack(*state_);
  detail::register_admin(*state_);
}

Simulator::~Simulator() { stop(); }

std::uint16_t Simulator::start() {
  if (state_->server) throw std::logic_error("the simulator is already started");
  web::ServerOptions server_options;
  server_options.address = state_->options.host;
  server_options.port = state_->options.port;
  server_options.threads = state_->options.threads;
  server_options.shutdown_timeout = std::chrono::milliseconds(2000);
  state_->server = std::make_unique<web::HttpServer>(server_options, state_->router);
  state_->port = state_->server->start();
  return state_->port;
}

void Simulator::stop() {
  state_->delays.shutdown();
  if (state_->server) state_->server->stop();
}

std::uint16_t Simulator::port() const { return state_->port; }

std::string Simulator::base_url() const {
  const std::string& host = state_->options.host;
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(state_->port);
}

std::string Simulator::base_url(Vendor vendor) const {
  return base_url() + std::string(vendor_prefix(vendor));
}

const Dataset& Simulator::dataset() const { return state_->dataset; }
const web::Router& Simulator::router() const { return state_->router; }

std::vector<CampaignState> Simulator::campaigns() const {
  std::lock_guard lock(state_->mutex);
  std::vector<CampaignState> out;
  for (const auto& [id, c] : state_->campaigns) out.push_back(c);
  return out;
}

std::optional<CampaignState> Simulator::campaign(std::string_view id) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->campaigns.find(id);
  if (it == state_->campaigns.end()) return std::nullopt;
  return it->second;
}

std::vector<SlackMessage> Simulator::slack_messages() const {
  std::lock_guard lock(state_->mutex);
  return state_->messages;
}

std::map<std::string, std::uint64_t> Simulator::request_counts() const {
  std::lock_guard lock(state_->mutex);
  return state_->counts;
}

void Simulator::add_fault(Fault fault) {
  std::lock_guard lock(state_->mutex);
  state_->faults.push_back(std::move(fault));
}

void Simulator::clear_faults() {
  std::lock_guard lock(state_->mutex);
  state_->faults.clear();
}

void Simulator::set_rate_budget(Vendor vendor, RateBudget budget) {
  std::lock_guard lock(state_->mutex);
  state_->set_budget_locked(vendor, budget);
}

void Simulator::reset() {
  std::lock_guard lock(state_->mutex);
  state_->reset_locked();
}

}  // namespace flowpilot::simulator
