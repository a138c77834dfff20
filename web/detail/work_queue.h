// A few threads of its own for route work that must not hold a server thread: writing an upload
// to disk, checking a password hash (about a tenth of a second and 64 MiB each). Jobs run in the
// order they were posted. The destructor lets queued jobs finish, then joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace flowpilot::web::api_detail {

class WorkQueue {
 public:
  explicit WorkQueue(std::size_t threads = 1) {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
  }
  ~WorkQueue() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void post(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
  }

  // Jobs posted and not yet finished.
  std::size_t backlog() {
    std::lock_guard lock(mu_);
    return jobs_.size() + running_;
  }

 private:
  void run() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, and nothing left
        job = std::move(jobs_.front());
        jobs_.pop_front();
        ++running_;
      }
      job();
      std::lock_guard lock(mu_);
      --running_;
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  std::size_t running_ = 0;                 // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::vector<std::thread> threads_;        // last: start once the members above exist
};

}  // namespace flowpilot::web::api_detail
