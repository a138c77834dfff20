// Live run updates as server-sent events (text/event-stream): the executor reports every durable
// state change of a run or a step (engine::RunEvent), and LiveEvents fans them out to the open
// streams that want them.
//
// Wire format, one event per state change:
//   id: <sequence number, increasing per process>
//   event: run | step
//   data: {"run_id": ..., "workflow_id": ..., "status": ..., ...}   (one line of JSON)
// A stream of one run starts with the run's current state (a `run` event and a `step` event per
// step, read from the store), so a client that subscribes after starting a run misses nothing;
// it ends with `event: end` once the run has finished. A stream of all runs (optionally of one
// workflow) never ends on its own. Every 15 s a comment line (`: keep-alive`) keeps proxies from
// closing an idle stream and finds streams whose client has gone.
//
// Publishing costs one relaxed atomic load when nobody listens, so the executor's hot path does
// not pay for the feature. A slow client whose unsent data passes the server's bound is closed
// by the server (see StreamSink), never buffered without limit.
//
// Thread-safety: every member function may be called from any thread.
#pragma once

#include "engine/executor/executor.h"
#include "engine/store/store.h"
#include "web/http_types.h"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace flowpilot::web {

class LiveEvents {
 public:
  explicit LiveEvents(std::size_t max_streams = 512);
  // Closes every stream.
  ~LiveEvents();
  LiveEvents(const LiveEvents&) = delete;
  LiveEvents& operator=(const LiveEvents&) = delete;

  void publish(const engine::RunEvent& event);

  // What a stream shows of an event's error (personal data masked); empty: the error as it is.
  using ErrorMask = std::function<std::string(const std::string& run_id, const std::string& error)>;

  // A streamed response of the events of run `run_id` (its current state from `store` first), or
  // of every run when `run_id` is empty (only those of `workflow_id` when that is not empty).
  // Past `max_streams` open streams: 503 problem with Retry-After.
  // `instance` is the request's path, for problems.
  Response open(engine::Store& store, const std::string& run_id, const std::string& workflow_id,
                const std::string& instance, ErrorMask mask_error = {});

  std::size_t open_streams() const;
  // Closes every stream (the server's graceful stop).
  void close_all();

  struct Subscriber;

 private:
  void heartbeat_loop();
  void drop_closed();

  const std::size_t max_streams_;
  std::atomic<std::size_t> count_{0};
  std::atomic<std::uint64_t> sequence_{0};
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;
  std::mutex heartbeat_mu_;
  std::condition_variable heartbeat_cv_;
  bool stopping_ = false;
  std::thread heartbeat_;
};

// The JSON of an event as sent in `data:` (also used by tests).
std::string event_json(const engine::RunEvent& event);

}  // namespace flowpilot::web
