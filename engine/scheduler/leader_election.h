// Keeps one process at a time doing a job (the cron scheduler) among processes that share a
// store: whoever gets Store::try_lead(role) does it until the lead is lost, and the others try
// again every `interval`, so a successor takes over within about that long after the leader dies.
//
// Callbacks run on the election's thread: on_lead when this process starts leading, on_lose when
// it stops (the lead was lost, or stop() was called while leading). Exceptions from try_lead (the
// store unreachable) count as "not leading now".
//
// Thread-safety: start() and stop() from one thread; leading() from any.
#pragma once

#include "engine/store/store.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace flowpilot::engine {

class LeaderElection {
 public:
  LeaderElection(Store& store, std::string role, std::function<void()> on_lead,
                 std::function<void()> on_lose,
                 std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~LeaderElection();  // stop()
  LeaderElection(const LeaderElection&) = delete;
  LeaderElection& operator=(const LeaderElection&) = delete;

  void start();
  void stop();
  bool leading() const { return leading_.load(); }

 private:
  void run();

  Store& store_;
  std::string role_;
  std::function<void()> on_lead_;
  std::function<void()> on_lose_;
  std::chrono::milliseconds interval_;
  std::atomic<bool> leading_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace flowpilot::engine
