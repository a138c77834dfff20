#include "web/live_events.h"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>

namespace flowpilot::web {

namespace json = boost::json;

namespace {

constexpr auto kHeartbeat = std::chrono::seconds(15);

json::object event_object(const engine::RunEvent& e) {
  json::object o{{"run_id", e.run_id}, {"workflow_id", e.workflow_id}, {"status", e.status}};
  if (e.kind == engine::RunEvent::Kind::step) {
    o["step_id"] = e.step_id;
    if (e.index >= 0) o["index"] = e.index;
    o["attempt"] = e.attempt;
  }
  o["error"] = e.error.empty() ? json::value(nullptr) : json::value(e.error);
  o["started_at"] = e.started_at;
  o["finished_at"] = e.finished_at;
  return o;
}

std::string frame(std::uint64_t id, std::string_view event, const std::string& data) {
  std::string out;
  out.reserve(data.size() + 48);
  out += "id: ";
  out += std::to_string(id);
  out += "\nevent: ";
  out += event;
  out += "\ndata: ";
  out += data;  // serialized JSON never contains a raw newline
  out += "\n\n";
  return out;
}

bool run_finished(const engine::RunEvent& e) {
  auto status = engine::parse_run_status(e.status);
  return e.kind == engine::RunEvent::Kind::run && status && engine::is_terminal(*status);
}

}  // namespace

std::string event_json(const engine::RunEvent& event) {
  return json::serialize(event_object(event));
}

struct LiveEvents::Subscriber {
  std::shared_ptr<StreamSink> sink;
  std::string run_id;       // empty: every run
  std::string workflow_id;  // empty: every workflow
  LiveEvents::ErrorMask mask_error;
  std::mutex mu;
  bool ready = false;                // the snapshot has been written
  std::vector<std::string> backlog;  // events that came while the snapshot was being written
  bool done = false;

  bool wants(const engine::RunEvent& e) const {
    if (!run_id.empty()) return e.run_id == run_id;
    return workflow_id.empty() || e.workflow_id == workflow_id;
  }

  // Writes or queues one frame; ends a run's stream after its final state.
  // Returns true when the stream is over (the client went away, or the run finished).
  bool deliver(std::string bytes, bool last) {
    std::lock_guard lock(mu);
    if (done) return true;
    if (!ready) {
      backlog.push_back(std::move(bytes));
      if (last) backlog.push_back("event: end\ndata: {}\n\n");
      return false;
    }
    if (!sink->write(std::move(bytes))) {
      done = true;
      return true;
    }
    if (last) finish();
    return done;
  }

  void finish() {
    sink->write("event: end\ndata: {}\n\n");
    sink->close();
    done = true;
  }
};

LiveEvents::LiveEvents(std::size_t max_streams) : max_streams_(max_streams) {
  heartbeat_ = std::thread([this] { heartbeat_loop(); });
}

LiveEvents::~LiveEvents() {
  {
    std::lock_guard lock(heartbeat_mu_);
    stopping_ = true;
  }
  heartbeat_cv_.notify_all();
  heartbeat_.join();
  close_all();
}

void LiveEvents::publish(const engine::RunEvent& event) {
  if (count_.load(std::memory_order_relaxed) == 0) return;
  std::vector<std::shared_ptr<Subscriber>> targets;
  {
    std::lock_guard lock(mu_);
    for (const auto& s : subscribers_) {
      if (s->wants(event)) targets.push_back(s);
    }
  }
  if (targets.empty()) return;
  const std::uint64_t id = ++sequence_;
  const std::string_view kind = event.kind == engine::RunEvent::Kind::run ? "run" : "step";
  const std::string bytes = frame(id, kind, event_json(event));
  std::string masked;  // the same event with its error masked, made once if a stream needs it
  const bool finished = run_finished(event);
  bool any_done = false;
  for (const auto& s : targets) {
    const bool mask = s->mask_error && !event.error.empty();
    if (mask && masked.empty()) {
      engine::RunEvent copy = event;
      copy.error = s->mask_error(event.run_id, event.error);
      masked = frame(id, kind, event_json(copy));
    }
    any_done = s->deliver(mask ? masked : bytes, finished && !s->run_id.empty()) || any_done;
  }
  if (any_done) drop_closed();
}

Response LiveEvents::open(engine::Store& store, const std::string& run_id,
                          const std::string& workflow_id, const std::string& instance,
                          ErrorMask mask_error) {
  if (!run_id.empty() && !store.get_run(run_id)) {
    return problem_json(404, "Not found", "no run `" + run_id + "`",
                        json::object{{"instance", instance}});
  }
  if (count_.load() >= max_streams_) {
    Response busy = problem_json(503, "Too many event streams",
                                 "the server has " + std::to_string(max_streams_) +
                                     " event streams open; retry shortly",
                                 json::object{{"instance", instance}});
    busy.headers.set("Retry-After", "5");
    return busy;
  }
  Response response;
  response.status = 200;
  response.headers.set("Content-Type", "text/event-stream; charset=utf-8");
  response.stream = [this, &store, run_id, workflow_id,
                     mask_error = std::move(mask_error)](std::shared_ptr<StreamSink> sink) {
    auto sub = std::make_shared<Subscriber>();
    sub->sink = std::move(sink);
    sub->run_id = run_id;
    sub->workflow_id = workflow_id;
    sub->mask_error = mask_error;
    auto shown = [&](engine::RunEvent e) {
      if (mask_error && !e.error.empty()) e.error = mask_error(e.run_id, e.error);
      return event_json(e);
    };
    {
      std::lock_guard lock(mu_);
      subscribers_.push_back(sub);
      count_.store(subscribers_.size());
    }
    // Subscribed first, then the snapshot: a change that lands in between is in the backlog
    // (possibly also in the snapshot; states are idempotent to apply).
    std::vector<std::string> snapshot;
    bool finished = false;
    if (!run_id.empty()) {
      try {
        if (auto run = store.get_run(run_id)) {
          snapshot.push_back(frame(++sequence_, "run", shown(engine::run_event(*run))));
          finished = engine::is_terminal(run->status);
          for (const engine::StepRecord& step : store.get_steps(run_id)) {
            if (step.index >= 0) continue;
            snapshot.push_back(
                frame(++sequence_, "step", shown(engine::step_event(step, run->workflow_id))));
          }
        }
      } catch (const std::exception&) {
        // The store failed: the stream still delivers what happens from now on.
      }
    }
    std::lock_guard lock(sub->mu);
    bool open = sub->sink->write(": connected\n\n");
    for (auto& bytes : snapshot) open = open && sub->sink->write(std::move(bytes));
    for (auto& bytes : sub->backlog) {
      if (bytes.rfind("event: end", 0) == 0) finished = true;
      else open = open && sub->sink->write(std::move(bytes));
    }
    sub->backlog.clear();
    sub->ready = true;
    if (!open) {
      sub->done = true;
    } else if (finished) {
      sub->finish();
    }
  };
  return response;
}

std::size_t LiveEvents::open_streams() const { return count_.load(); }

void LiveEvents::close_all() {
  std::vector<std::shared_ptr<Subscriber>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(subscribers_);
    count_.store(0);
  }
  for (const auto& s : all) {
    std::lock_guard lock(s->mu);
    s->done = true;
    s->sink->close();
  }
}

void LiveEvents::drop_closed() {
  std::lock_guard lock(mu_);
  std::erase_if(subscribers_, [](const std::shared_ptr<Subscriber>& s) {
    std::lock_guard sub_lock(s->mu);
    return s->done || s->sink->closed();
  });
  count_.store(subscribers_.size());
}

void LiveEvents::heartbeat_loop() {
  std::unique_lock lock(heartbeat_mu_);
  while (!heartbeat_cv_.wait_for(lock, kHeartbeat, [this] { return stopping_; })) {
    lock.unlock();
    std::vector<std::shared_ptr<Subscriber>> all;
    {
      std::lock_guard list_lock(mu_);
      all = subscribers_;
    }
    for (const auto& s : all) {
      std::lock_guard sub_lock(s->mu);
      if (!s->done && s->ready && !s->sink->write(": keep-alive\n\n")) s->done = true;
    }
    drop_closed();
    lock.lock();
  }
}

}  // namespace flowpilot::web
