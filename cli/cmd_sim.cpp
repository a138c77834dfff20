// `flowpilot sim`: the marketing-API simulator (simulator/simulator.h) as a standalone process for
// connector development and demos. Runs until SIGINT or SIGTERM, collected with sigwait() as
// `flowpilot serve` does, so the stop runs as ordinary code on the main thread.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "cli/app_context.h"
#include "cli/commands.h"
#include "simulator/simulator.h"

namespace flowpilot::cli {

namespace {

namespace sim = flowpilot::simulator;

struct SimFlags {
  std::string listen;  // "" : the config's, else 127.0.0.1:9090
  std::optional<std::uint64_t> seed;
  std::string today;
  std::string config;
};

sim::SimulatorOptions options_from(const SimFlags& flags) {
  sim::SimulatorOptions options;
  options.host = "127.0.0.1";
  options.port = 9090;
  try {
    if (!flags.config.empty()) sim::load_simulator_config(flags.config, options);
    if (!flags.listen.empty()) sim::parse_listen(flags.listen, options);
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
  if (flags.seed) options.seed = *flags.seed;
  if (!flags.today.empty()) {
    auto day = sim::parse_date(flags.today);
    if (!day) throw UsageError("--today: expected a date YYYY-MM-DD, got `" + flags.today + "`");
    options.today = *day;
  }
  return options;
}

void print_banner(const sim::Simulator& simulator, const sim::SimulatorOptions& options) {
  namespace c = sim::credentials;
  const auto& data = simulator.dataset();
  std::cout << "Flowpilot API simulator on " << simulator.base_url() << " (seed " << options.seed
            << ", data " << data.first_date() << " to " << data.last_date() << ")\n\n";
  struct Line {
    sim::Vendor vendor;
    const char* stands_for;
  };
  const Line lines[] = {{sim::Vendor::kMeta, "https://graph.facebook.com"},
                        {sim::Vendor::kGoogleAds, "https://googleads.googleapis.com"},
                        {sim::Vendor::kGoogleOauth, "https://oauth2.googleapis.com"},
                        {sim::Vendor::kHubspot, "https://api.hubapi.com"},
                        {sim::Vendor::kGa4, "https://analyticsdata.googleapis.com"},
                        {sim::Vendor::kSlack, "https://slack.com"},
                        {sim::Vendor::kSlackHooks, "https://hooks.slack.com"}};
  std::cout << "Base URLs:\n";
  for (const auto& line : lines) {
    std::printf("  %-13s %-45s for %s\n", std::string(sim::vendor_name(line.vendor)).c_str(),
                simulator.base_url(line.vendor).c_str(), line.stands_for);
  }
  std::fflush(stdout);
  std::cout
      << "\nCredentials:\n"
      << "  Meta access token          " << c::kMetaSystemUserToken << "\n"
      << "  Meta app id / secret       " << c::kMetaAppId << " / " << c::kMetaAppSecret << "\n"
      << "  Google client id           " << c::kGoogleClientId << "\n"
      << "  Google client secret       " << c::kGoogleClientSecret << "\n"
      << "  Google refresh token       " << c::kGoogleRefreshToken << "\n"
      << "  Google Ads developer token " << c::kGoogleDeveloperToken << "\n"
      << "  HubSpot private app token  " << c::kHubspotPrivateAppToken << "\n"
      << "  HubSpot OAuth client       " << c::kHubspotClientId << " / " << c::kHubspotClientSecret
      << " (refresh token " << c::kHubspotRefreshToken << ")\n"
      << "  Slack bot token            " << c::kSlackBotToken << "\n"
      << "  Slack incoming webhook     " << simulator.base_url(sim::Vendor::kSlackHooks)
      << c::kSlackWebhookPath << "\n\n"
      << "Accounts: Meta act_1001 (EUR), act_1002 (USD); Google Ads 1234567890 (EUR), 9876543210 "
         "(USD); HubSpot portal "
      << sim::Dataset::kHubspotPortalId << "; GA4 property " << sim::Dataset::kGa4PropertyId << "\n"
      << "Admin (loopback tool, unauthenticated): " << simulator.base_url() << "/_sim/state\n"
      << "Stop with Ctrl-C. See docs/simulator.md.\n"
      << std::flush;
}

int run_sim(const SimFlags& flags) {
  sim::SimulatorOptions options = options_from(flags);
  // Block before the server's threads exist so that they inherit the mask and sigwait gets the
  // signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  sim::Simulator simulator(options);
  try {
    simulator.start();
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--listen: ") + e.what());
  }
  print_banner(simulator, options);
  int received = 0;
  sigwait(&signals, &received);
  std::cout << "stopping the simulator\n" << std::flush;
  simulator.stop();
  return kExitOk;
}

}  // namespace

void add_sim_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "sim", "Run the marketing-API simulator (Meta, Google Ads, HubSpot, GA4, Slack) on loopback");
  auto flags = std::make_shared<SimFlags>();
  cmd->add_option("--listen", flags->listen,
                  "HOST:PORT to listen on (default 127.0.0.1:9090; port 0 picks a free one)");
  cmd->add_option("--seed", flags->seed, "Seed of the synthetic data (default 42)");
  cmd->add_option("--today", flags->today,
                  "Last day with data, YYYY-MM-DD (default: the current UTC date)");
  cmd->add_option("--config", flags->config,
                  "YAML file with faults, rate budgets and token lifetime (docs/simulator.md)");
  cmd->callback([flags, &exit_code] { exit_code = run_sim(*flags); });
}

}  // namespace flowpilot::cli
