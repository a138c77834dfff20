// Retention (DESIGN.md §6): finished runs, with their steps, attempts, logs and approvals, are
// deleted once they finished longer ago than the configured period. Runs still queued, running
// or parked are never pruned, whatever their age.
//
// Pruning goes in small batches through the store's writer, so a large backlog never holds the
// write lock long enough to stall the commits of live runs.
//
// Thread-safety: start() and stop() by the owner; prune_once() from any thread.
#pragma once

#include "engine/store/store.h"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

namespace flowpilot::engine {

class RetentionPruner {
 public:
  // keep: how long finished runs are kept (must be positive); every: how often to prune.
  RetentionPruner(Store& store, std::chrono::milliseconds keep,
                  std::chrono::milliseconds every = std::chrono::hours(1));
  ~RetentionPruner();  // stop()
  RetentionPruner(const RetentionPruner&) = delete;
  RetentionPruner& operator=(const RetentionPruner&) = delete;

  // Deletes every run that finished before now - keep; returns how many.
  std::size_t prune_once();
  // Prunes now and then every `every` on a thread of its own.
  void start();
  void stop();

 private:
  Store& store_;
  const std::chrono::milliseconds keep_;
  const std::chrono::milliseconds every_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace flowpilot::engine
