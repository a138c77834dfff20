#include "engine/store/retention.h"

#include <stdexcept>

namespace flowpilot::engine {

namespace {
constexpr int kRunsPerBatch = 500;
}  // namespace

RetentionPruner::RetentionPruner(Store& store, std::chrono::milliseconds keep,
                                 std::chrono::milliseconds every)
    : store_(store), keep_(keep), every_(every) {
  if (keep.count() <= 0) throw std::invalid_argument("retention period must be positive");
}

RetentionPruner::~RetentionPruner() { stop(); }

std::size_t RetentionPruner::prune_once() {
  const EpochMillis cutoff = now_millis() - keep_.count();
  std::size_t total = 0;
  for (;;) {
    WriteBatch batch;
    batch.add(PruneRuns{cutoff, kRunsPerBatch});
    CommitResult result = store_.commit(std::move(batch));
    if (result.error) std::rethrow_exception(result.error);
    total += result.pruned_runs;
    if (result.pruned_runs < static_cast<std::size_t>(kRunsPerBatch)) return total;
  }
}

void RetentionPruner::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    do {
      lock.unlock();
      try {
        prune_once();
      } catch (const std::exception&) {
        // The store is failing; its errors surface on the commit path. Try again next time.
      }
      lock.lock();
    } while (!cv_.wait_for(lock, every_, [this] { return stopping_; }));
  });
}

void RetentionPruner::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace flowpilot::engine
