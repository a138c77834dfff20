#include "engine/scheduler/leader_election.h"

#include <spdlog/spdlog.h>

namespace flowpilot::engine {

LeaderElection::LeaderElection(Store& store, std::string role, std::function<void()> on_lead,
                               std::function<void()> on_lose, std::chrono::milliseconds interval)
    : store_(store),
      role_(std::move(role)),
      on_lead_(std::move(on_lead)),
      on_lose_(std::move(on_lose)),
      interval_(interval) {}

LeaderElection::~LeaderElection() { stop(); }

void LeaderElection::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void LeaderElection::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LeaderElection::run() {
  std::unique_ptr<Leadership> lead;
  for (;;) {
    if (lead && !lead->held()) {
      spdlog::warn("lost the lead of `{}`; another process may take over", role_);
      lead.reset();
      leading_ = false;
      if (on_lose_) on_lose_();
    }
    if (!lead) {
      try {
        lead = store_.try_lead(role_);
      } catch (const std::exception& e) {
        spdlog::warn("could not try to lead `{}`: {}", role_, e.what());
      }
      if (lead) {
        spdlog::info("leading `{}`", role_);
        leading_ = true;
        if (on_lead_) on_lead_();
      }
    }
    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, interval_, [this] { return stopping_; })) break;
  }
  if (lead) {
    leading_ = false;
    if (on_lose_) on_lose_();
    lead.reset();  // released only after the job stopped: no overlap with a successor
  }
}

}  // namespace flowpilot::engine
