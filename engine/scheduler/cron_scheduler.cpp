#include "engine/scheduler/cron_scheduler.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <utility>

namespace flowpilot::engine {
namespace {

using std::chrono::sys_seconds;
using Clock = std::chrono::system_clock;

// Counting the missed ticks that `catch_up: all` drops is only for the warning; past this many
// the warning says "at least", so that a long downtime of a per-second schedule stays cheap.
constexpr std::size_t kDropCountCap = 100000;

std::string utc_text(sys_seconds t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

// The newest `k` ticks in (from, to], oldest first, and how many older ticks the range holds.
struct Tail {
  std::vector<sys_seconds> ticks;
  std::size_t older = 0;
  bool older_capped = false;  // there are at least `older`
};

// Searches windows growing backwards from `to` rather than stepping from `from`, so that the cost
// follows `k` and not the length of the downtime (a week down is 600k ticks of `*/1 * * * * *`).
Tail newest_ticks(const ScheduleSpec& spec, sys_seconds from, sys_seconds to, std::size_t k) {
  Tail tail;
  if (to <= from) return tail;
  std::chrono::seconds window{60};
  sys_seconds start = from;
  std::deque<sys_seconds> newest;
  std::size_t in_window = 0;
  for (;;) {
    start = (to - from <= window) ? from : to - window;
    newest.clear();
    in_window = 0;
    for (auto t = spec.expression.next_after(start, spec.zone); t && *t <= to;
         t = spec.expression.next_after(*t, spec.zone)) {
      ++in_window;
      newest.push_back(*t);
      if (newest.size() > k) newest.pop_front();
    }
    if (in_window > k || start == from) break;
    window *= 4;
  }
  tail.ticks.assign(newest.begin(), newest.end());
  tail.older = in_window - newest.size();
  for (auto t = spec.expression.next_after(from, spec.zone); t && *t <= start;
       t = spec.expression.next_after(*t, spec.zone)) {
    if (++tail.older >= kDropCountCap) {
      tail.older_capped = true;
      break;
    }
  }
  return tail;
}

bool same_definition(const ScheduleSpec& a, const ScheduleSpec& b) {
  return a.expression.text() == b.expression.text() && a.zone == b.zone;
}

Firing make_firing(const std::string& key, sys_seconds tick, bool catch_up) {
  return Firing{key, tick, firing_id(key, tick), catch_up};
}

}  // namespace

std::string firing_id(std::string_view key, sys_seconds tick) {
  std::string id(key);
  id += '@';
  id += utc_text(tick);
  return id;
}

std::vector<ScheduleSpec> cron_schedules(const Workflow& workflow) {
  std::vector<ScheduleSpec> specs;
  for (std::size_t i = 0; i < workflow.triggers.size(); ++i) {
    const auto* cron = std::get_if<CronTrigger>(&workflow.triggers[i]);
    if (cron == nullptr) continue;
    std::string error;
    auto expression = CronExpression::parse(cron->expression, &error);
    if (!expression) {
      throw std::invalid_argument("workflow `" + workflow.id + "` trigger " + std::to_string(i) +
                                  ": " + error);
    }
    specs.push_back(ScheduleSpec{workflow.id + "#" + std::to_string(i), std::move(*expression),
                                 cron->timezone, cron->catch_up});
  }
  return specs;
}

CronScheduler::CronScheduler(SchedulerHooks hooks, CronSchedulerOptions options)
    : hooks_(std::move(hooks)), options_([&] {
        // Zero or negative waits would turn the loop and the retries into busy loops.
        const std::chrono::milliseconds floor{1};
        options.max_sleep = std::max(options.max_sleep, floor);
        options.retry_delay = std::max(options.retry_delay, floor);
        options.retry_max_delay = std::max(options.retry_max_delay, options.retry_delay);
        options.misfire_grace = std::max(options.misfire_grace, std::chrono::seconds(0));
        return std::move(options);
      }()) {
  if (!hooks_.fire) throw std::invalid_argument("CronScheduler needs a fire hook");
}

CronScheduler::~CronScheduler() { stop(); }

Clock::time_point CronScheduler::clock_now() const {
  return hooks_.now ? hooks_.now() : Clock::now();
}

void CronScheduler::set_schedules(std::vector<ScheduleSpec> specs) {
  std::lock_guard config(config_mu_);
  std::set<std::string_view> keys;
  for (const auto& spec : specs) {
    if (!keys.insert(spec.key).second) {
      throw std::invalid_argument("duplicate schedule key `" + spec.key + "`");
    }
    if (!is_valid_time_zone(spec.zone)) {
      throw std::invalid_argument("schedule `" + spec.key + "`: unknown time zone `" + spec.zone +
                                  "`");
    }
  }

  // Hooks run outside mu_ (they reach the store); config_mu_ keeps the set of keys stable
  // meanwhile, since only this function adds or removes keys.
  std::vector<bool> added(specs.size());
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < specs.size(); ++i) {
      added[i] = !schedules_.contains(specs[i].key);
    }
  }
  std::vector<std::optional<sys_seconds>> durable(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (added[i] && hooks_.last_fired) durable[i] = hooks_.last_fired(specs[i].key);
  }
  const auto now = std::chrono::floor<std::chrono::seconds>(clock_now());

  {
    std::lock_guard lock(mu_);
    std::map<std::string, Schedule, std::less<>> next;
    for (std::size_t i = 0; i < specs.size(); ++i) {
      auto& spec = specs[i];
      std::string key = spec.key;
      auto it = schedules_.find(key);
      if (it != schedules_.end()) {
        Schedule s = std::move(it->second);
        if (same_definition(s.spec, spec)) {
          s.spec = std::move(spec);
        } else {
          // Ticks of the old definition mean nothing for the new one; the new one starts now,
          // and never at or before a tick that already fired under this key.
          s.spec = std::move(spec);
          s.generation = next_generation_++;
          s.queue.clear();
          s.failures = 0;
          s.backoff = std::chrono::milliseconds(0);
          set_cursor(s, s.last_fired ? std::max(now, *s.last_fired) : now);
        }
        next.emplace(std::move(key), std::move(s));
      } else {
        Schedule s;
        s.spec = std::move(spec);
        s.generation = next_generation_++;
        s.last_fired = durable[i];
        // Never fired: nothing to catch up, the first tick is the next one after now. Fired
        // before: the ticks after the last firing are decided, by policy, at the next look.
        set_cursor(s, durable[i] ? *durable[i] : now);
        next.emplace(std::move(key), std::move(s));
      }
    }
    schedules_.swap(next);
    poked_ = true;
  }
  wake_.notify_all();
}

void CronScheduler::set_cursor(Schedule& s, sys_seconds cursor) {
  s.cursor = cursor;
  s.next = s.spec.expression.next_after(cursor, s.spec.zone);
}

void CronScheduler::decide(Schedule& s, sys_seconds now, std::vector<std::string>& warnings) {
  // A clock that went back stays behind the cursor: those ticks were decided already.
  if (now <= s.cursor) return;
  const ScheduleSpec& spec = s.spec;
  const sys_seconds missed_until = now - options_.misfire_grace;  // ticks <= this were missed

  std::vector<sys_seconds> on_time;
  {
    const sys_seconds from = std::max(s.cursor, missed_until);
    auto t = from == s.cursor ? s.next : spec.expression.next_after(from, spec.zone);
    for (; t && *t <= now; t = spec.expression.next_after(*t, spec.zone)) on_time.push_back(*t);
  }

  if (missed_until > s.cursor && s.next && *s.next <= missed_until) {
    switch (spec.catch_up) {
      case CatchUp::none:
        break;
      case CatchUp::latest:
        // One firing stands for the whole gap; an on-time tick already is that firing.
        if (on_time.empty()) {
          const Tail tail = newest_ticks(spec, s.cursor, missed_until, 1);
          for (auto t : tail.ticks) enqueue(s, make_firing(spec.key, t, true));
        }
        break;
      case CatchUp::all: {
        const Tail tail = newest_ticks(spec, s.cursor, missed_until, options_.max_catch_up);
        if (tail.older > 0) {
          std::string message =
              "schedule `" + spec.key + "`: dropped " + (tail.older_capped ? "at least " : "") +
              std::to_string(tail.older) + " missed tick" + (tail.older == 1 ? "" : "s") +
              " after " + utc_text(s.cursor) + "; catch_up: all fires at most the newest " +
              std::to_string(options_.max_catch_up);
          if (!tail.ticks.empty()) message += ", from " + utc_text(tail.ticks.front());
          warnings.push_back(std::move(message));
        }
        for (auto t : tail.ticks) enqueue(s, make_firing(spec.key, t, true));
        break;
      }
    }
  }
  for (auto t : on_time) enqueue(s, make_firing(spec.key, t, false));
  if (s.next && *s.next > now) {
    s.cursor = now;  // the cached next tick is still the first one after now
  } else {
    set_cursor(s, now);
  }

  // Behind a failing firing the queue only grows while the store is down; keep it to what the
  // policy would fire after such a downtime. The failing firing itself is never dropped.
  if (s.failures > 0 && s.queue.size() > 2) {
    const std::size_t keep = spec.catch_up == CatchUp::all ? options_.max_catch_up : 1;
    const std::size_t waiting = s.queue.size() - 1;
    if (waiting > keep) {
      const std::size_t drop = waiting - keep;
      s.queue.erase(s.queue.begin() + 1, s.queue.begin() + 1 + static_cast<std::ptrdiff_t>(drop));
      warnings.push_back("schedule `" + spec.key + "`: dropped " + std::to_string(drop) + " tick" +
                         (drop == 1 ? "" : "s") + " queued behind failing firing " +
                         s.queue.front().firing_id);
    }
  }
}

void CronScheduler::enqueue(Schedule& s, Firing firing) {
  if (s.last_fired && firing.scheduled_for <= *s.last_fired) return;
  s.queue.push_back(std::move(firing));
}

std::vector<CronScheduler::Pending> CronScheduler::collect(Clock::time_point now,
                                                           std::vector<std::string>& warnings) {
  const auto now_s = std::chrono::floor<std::chrono::seconds>(now);
  std::vector<Pending> ready;
  for (auto& [key, s] : schedules_) {
    decide(s, now_s, warnings);
    if (s.queue.empty()) continue;
    if (s.failures > 0) {
      // After the clock went back, wait at most the current back-off, not until the old time.
      if (s.retry_at > now + s.backoff) s.retry_at = now + s.backoff;
      if (s.retry_at > now) continue;
    }
    for (const auto& f : s.queue) ready.push_back(Pending{f, s.generation});
  }
  std::stable_sort(ready.begin(), ready.end(), [](const Pending& a, const Pending& b) {
    return a.firing.scheduled_for < b.firing.scheduled_for;
  });
  return ready;
}

std::vector<Firing> CronScheduler::due(Clock::time_point now) {
  std::vector<std::string> warnings;
  std::vector<Firing> firings;
  {
    std::lock_guard lock(mu_);
    for (auto& p : collect(now, warnings)) firings.push_back(std::move(p.firing));
  }
  warn_all(warnings);
  return firings;
}

void CronScheduler::record_success(const Pending& p) {
  std::lock_guard lock(mu_);
  auto it = schedules_.find(p.firing.schedule_key);
  if (it == schedules_.end()) return;
  Schedule& s = it->second;
  if (!s.last_fired || *s.last_fired < p.firing.scheduled_for) {
    s.last_fired = p.firing.scheduled_for;
  }
  if (s.generation == p.generation && !s.queue.empty() &&
      s.queue.front().scheduled_for == p.firing.scheduled_for) {
    s.queue.pop_front();
    s.failures = 0;
    s.backoff = std::chrono::milliseconds(0);
  }
}

void CronScheduler::record_failure(const Pending& p, const std::string& error,
                                   Clock::time_point now, std::vector<std::string>& warnings) {
  std::lock_guard lock(mu_);
  auto it = schedules_.find(p.firing.schedule_key);
  if (it == schedules_.end()) return;
  Schedule& s = it->second;
  if (s.generation != p.generation || s.queue.empty() ||
      s.queue.front().scheduled_for != p.firing.scheduled_for) {
    return;
  }
  ++s.failures;
  s.backoff =
      s.failures == 1 ? options_.retry_delay : std::min(s.backoff * 2, options_.retry_max_delay);
  s.retry_at = now + s.backoff;
  warnings.push_back("schedule `" + s.spec.key + "`: firing " + p.firing.firing_id +
                     " failed (attempt " + std::to_string(s.failures) + "): " + error +
                     "; retrying in " + seconds_text(s.backoff));
}

std::size_t CronScheduler::fire_due() {
  std::lock_guard pass(pass_mu_);
  std::vector<std::string> warnings;
  std::vector<Pending> batch;
  const auto now = clock_now();
  {
    std::lock_guard lock(mu_);
    batch = collect(now, warnings);
  }
  warn_all(warnings);

  std::set<std::string, std::less<>> blocked;  // a firing failed: its later ticks wait for it
  std::size_t fired = 0;
  for (const auto& p : batch) {
    if (blocked.contains(p.firing.schedule_key)) continue;
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    std::string error;
    bool ok = false;
    try {
      hooks_.fire(p.firing);
      ok = true;
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown exception";
    }
    if (ok) {
      record_success(p);
      ++fired;
    } else {
      blocked.insert(p.firing.schedule_key);
      std::vector<std::string> failure;
      record_failure(p, error, clock_now(), failure);
      warn_all(failure);
    }
  }
  return fired;
}

Clock::time_point CronScheduler::next_wake(Clock::time_point now) const {
  auto wake = Clock::time_point::max();
  for (const auto& [key, s] : schedules_) {
    if (!s.queue.empty()) wake = std::min(wake, s.failures > 0 ? s.retry_at : now);
    if (s.next) wake = std::min(wake, Clock::time_point(*s.next));
  }
  return wake;
}

void CronScheduler::warn_all(const std::vector<std::string>& warnings) const {
  if (!options_.warn) return;
  for (const auto& w : warnings) {
    // A failing log sink must not stop the schedules, and has nowhere else to report to.
    try {
      options_.warn(w);
    } catch (...) {
    }
  }
}

void CronScheduler::start() {
  std::lock_guard guard(thread_mu_);
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void CronScheduler::stop() {
  std::lock_guard guard(thread_mu_);
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  std::lock_guard lock(mu_);
  stopping_ = false;  // fire_due() on the caller's thread works again
}

void CronScheduler::poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  wake_.notify_all();
}

void CronScheduler::run() {
  for (;;) {
    fire_due();
    const auto now = clock_now();
    std::unique_lock lock(mu_);
    if (stopping_) return;
    if (poked_) {
      poked_ = false;
      continue;
    }
    // Sleep on the steady clock for at most max_sleep, then read the (possibly jumped or fake)
    // wall clock again.
    const auto until_due = next_wake(now) - now;
    if (until_due > Clock::duration::zero()) {
      const auto sleep = std::min<Clock::duration>(until_due, options_.max_sleep);
      wake_.wait_for(lock, sleep, [this] { return stopping_ || poked_; });
    }
    poked_ = false;
    if (stopping_) return;
  }
}

std::optional<sys_seconds> CronScheduler::next_tick(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = schedules_.find(key);
  if (it == schedules_.end()) return std::nullopt;
  return it->second.next;
}

std::optional<sys_seconds> CronScheduler::last_fired(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = schedules_.find(key);
  if (it == schedules_.end()) return std::nullopt;
  return it->second.last_fired;
}

}  // namespace flowpilot::engine
