// The cron scheduler: decides when each cron trigger fires and hands each firing to the caller,
// which makes it durable (creates the run). It holds no database and no executor; persistence and
// the clock come in as hooks, so every decision below is plain logic that tests drive directly.
//
// Ticks and firings. A schedule's ticks are the UTC instants CronExpression::next_after yields in
// its zone (engine/schedule/cron.h decides daylight saving: a gap tick does not exist, the two
// occurrences of an overlapped local time are two ticks). A tick fires at most once per schedule
// key, and its firing id "<key>@<UTC ISO-8601>Z" is the idempotency key of the run the caller
// creates, so a tick fires at most once even when the process restarts, or two processes race.
//
// Catch-up. Every tick up to "now" is decided once, in order, when the scheduler looks at the
// clock. A tick looked at within `misfire_grace` of its time is on time and fires. An older one
// was missed (the process was down, the machine slept, or the wall clock jumped forward); the
// schedule's CatchUp policy says what happens to missed ticks: `none` drops them, `latest` fires
// the most recent one unless an on-time tick fires anyway, `all` fires each of them in order,
// the newest `max_catch_up` at most (the older are dropped with a warning).
//
// Restarts. A schedule seen for the first time asks the `last_fired` hook for the last tick made
// durable under its key. Without one nothing is caught up: the first tick is the next one after
// now. With one, the ticks after it are decided as above, so a restart within a tick fires
// nothing twice and a restart after a downtime catches up once, by policy.
//
// Clock jumps. "Now" is read from the `now` hook (the system clock by default) at every look, and
// the thread looks at least every `max_sleep`, so a jump forward is noticed; the ticks it skips
// over are missed ticks. A jump backward fires nothing already decided: ticks at or before the
// last decided instant never fire again, and the schedule waits for the clock to pass it.
//
// Failures. When `fire` throws, the firing stays first in its schedule's queue and is retried
// with exponential back-off; it is never skipped. Later ticks of that schedule wait behind it
// (the caller records last_fired in tick order); other schedules go on.
//
// Thread-safety: every member function may be called from any thread. `fire` is called by the
// scheduler's thread (start()) or by fire_due() on the caller's thread, never by two at a time,
// and never with an internal lock held, so hooks may call set_schedules, poke, due and the
// getters (not stop or fire_due from `fire`, which would wait for themselves).
#pragma once

#include "engine/model/workflow.h"
#include "engine/schedule/cron.h"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace flowpilot::engine {

// One cron trigger to schedule. `key` names it across restarts: the engine uses
// "<workflow id>#<trigger index>" (see cron_schedules), and the durable last-fired record and the
// firing ids hang off it.
struct ScheduleSpec {
  std::string key;
  CronExpression expression;
  std::string zone = "UTC";  // IANA name
  CatchUp catch_up = CatchUp::latest;
};

struct Firing {
  std::string schedule_key;
  std::chrono::sys_seconds scheduled_for;  // the tick, a UTC instant
  // "<schedule_key>@<scheduled_for as UTC ISO-8601 with Z>", e.g. "wf#0@2026-03-29T01:00:00Z".
  // The caller uses it as the run's idempotency key, so a tick fires at most once across restarts.
  std::string firing_id;
  bool catch_up = false;  // fired late for a tick that was missed (see the file comment)
};

struct SchedulerHooks {
  // The last tick fired for this key (durable), or nullopt if never. Called when a schedule is
  // first added (and again if it is removed and added back). Null: treated as never fired.
  std::function<std::optional<std::chrono::sys_seconds>(const std::string& key)> last_fired;
  // Makes the firing durable: creates the run with firing_id as idempotency key and records
  // last_fired = scheduled_for in the same transaction. Returns normally on success; throws on
  // failure, and the scheduler retries that firing later with back-off. Required.
  std::function<void(const Firing&)> fire;
  // The wall clock. Null: std::chrono::system_clock::now.
  std::function<std::chrono::system_clock::time_point()> now;
};

struct CronSchedulerOptions {
  // `catch_up: all` fires at most this many missed ticks of a schedule; older ones are dropped
  // with a warning. The same bound applies to firings queued behind a failing one. Default 100.
  std::size_t max_catch_up = 100;
  // A tick looked at no later than this after its time is on time rather than missed, so a
  // restart or a busy moment around a tick does not turn it into a catch-up. Default 60 s.
  std::chrono::seconds misfire_grace{60};
  // The longest the thread sleeps without reading the clock; bounds how late a wall-clock jump
  // or a change of the `now` hook is noticed. Default 1 s.
  std::chrono::milliseconds max_sleep{1000};
  // Back-off after `fire` throws: the first retry after retry_delay, each further one after
  // twice the previous delay, at most retry_max_delay. Defaults 1 s and 5 min.
  std::chrono::milliseconds retry_delay{1000};
  std::chrono::milliseconds retry_max_delay{300000};
  // Receives one sentence per warning (missed ticks dropped, a firing failed), on the thread
  // that decided or fired; exceptions it throws are ignored. Null: none.
  std::function<void(std::string)> warn;
};

// The schedules of a workflow's cron triggers, keyed "<workflow id>#<index in triggers>".
// Throws std::invalid_argument when an expression does not parse (validation rejects those).
std::vector<ScheduleSpec> cron_schedules(const Workflow& workflow);

// "<key>@YYYY-MM-DDTHH:MM:SSZ" for a tick of schedule `key`.
std::string firing_id(std::string_view key, std::chrono::sys_seconds tick);

class CronScheduler {
 public:
  // Throws std::invalid_argument when hooks.fire is null.
  explicit CronScheduler(SchedulerHooks hooks, CronSchedulerOptions options = {});
  ~CronScheduler();  // stop()
  CronScheduler(const CronScheduler&) = delete;
  CronScheduler& operator=(const CronScheduler&) = delete;

  // Replaces the set of schedules. A key that stays with the same expression text and zone keeps
  // its state (queued and failing firings included; a new catch_up policy applies from now on).
  // A new key asks hooks.last_fired (outside any lock). A key whose expression or zone changed
  // starts afresh from now: its first tick is the next one after now and after its last firing,
  // and firings still queued for the old definition are dropped. Removed keys are forgotten.
  // Throws std::invalid_argument, changing nothing, for a duplicate key or an unknown time zone;
  // an exception from hooks.last_fired also leaves the set unchanged. Wakes the thread.
  void set_schedules(std::vector<ScheduleSpec> specs);

  // Starts the thread that fires ticks as they come due. Calling it while running does nothing.
  void start();
  // Stops and joins the thread: a fire in progress completes, the rest of its batch waits for
  // the next start. Safe to call more than once.
  void stop();
  // Wakes the thread to look at the clock now (after a test moves its fake clock, say).
  void poke();

  // Decides every tick up to `now` that is still undecided (applying the catch-up policies; see
  // the file comment) and returns the firings waiting to be fired, oldest first across schedules,
  // leaving out schedules whose failed firing waits for its retry time. Does not call fire:
  // repeated calls return the same firings until they have fired. For tests and inspection; the
  // thread uses the same logic with hooks.now().
  std::vector<Firing> due(std::chrono::system_clock::time_point now);

  // One pass of the thread, on the calling thread: decides and fires what is due at hooks.now(),
  // in order; a firing that throws is scheduled for retry and holds back the later firings of its
  // schedule. Returns how many fired. Serialised with the thread, so fire never runs twice at once.
  std::size_t fire_due();

  // The next undecided tick of a schedule (nullopt: unknown key, or it never fires again).
  std::optional<std::chrono::sys_seconds> next_tick(std::string_view key) const;
  // The last tick that fired (in this process, or as reported by hooks.last_fired).
  std::optional<std::chrono::sys_seconds> last_fired(std::string_view key) const;

 private:
  struct Schedule {
    ScheduleSpec spec;
    std::uint64_t generation = 0;                  // changes when the definition changes
    std::chrono::sys_seconds cursor{};             // every tick <= cursor has been decided
    std::optional<std::chrono::sys_seconds> next;  // first tick after cursor, cached
    std::optional<std::chrono::sys_seconds> last_fired;
    std::deque<Firing> queue;  // decided, not yet fired, in tick order
    int failures = 0;          // consecutive failures of queue.front()
    std::chrono::system_clock::time_point retry_at{};
    std::chrono::milliseconds backoff{0};
  };
  struct Pending {
    Firing firing;
    std::uint64_t generation;
  };

  std::chrono::system_clock::time_point clock_now() const;
  std::vector<Pending> collect(std::chrono::system_clock::time_point now,
                               std::vector<std::string>& warnings);
  void decide(Schedule& s, std::chrono::sys_seconds now, std::vector<std::string>& warnings);
  void enqueue(Schedule& s, Firing firing);
  void set_cursor(Schedule& s, std::chrono::sys_seconds cursor);
  void record_success(const Pending& p);
  void record_failure(const Pending& p, const std::string& error,
                      std::chrono::system_clock::time_point now,
                      std::vector<std::string>& warnings);
  std::chrono::system_clock::time_point next_wake(std::chrono::system_clock::time_point now) const;
  void warn_all(const std::vector<std::string>& warnings) const;
  void run();

  const SchedulerHooks hooks_;
  const CronSchedulerOptions options_;

  std::mutex thread_mu_;  // serialises start and stop; guards thread_
  std::mutex config_mu_;  // serialises set_schedules; taken before mu_
  std::mutex pass_mu_;    // one pass (and so one fire) at a time; taken before mu_
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::map<std::string, Schedule, std::less<>> schedules_;  // guarded by mu_
  std::uint64_t next_generation_ = 1;                       // guarded by mu_
  bool stopping_ = false;                                   // guarded by mu_
  bool poked_ = false;                                      // guarded by mu_
  std::thread thread_;                                      // guarded by thread_mu_
};

}  // namespace flowpilot::engine
