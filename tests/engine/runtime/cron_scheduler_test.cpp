// The cron scheduler against a fake clock and a fake durable store: catch-up policies, restarts,
// failing fires, schedule changes, daylight saving, clock jumps and the thread's loop. Decisions
// are checked through due() and fire_due() on the test's thread; the loop tests only wait for
// firings (with generous timeouts) and never assert on elapsed time.
#include "engine/scheduler/cron_scheduler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace flowpilot::engine::testing {
namespace {

using std::chrono::sys_seconds;
using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

sys_seconds utc(const std::string& text) {
  auto t = parse_iso8601(text);
  EXPECT_TRUE(t) << text;
  return t.value_or(sys_seconds{});
}

class FakeClock {
 public:
  void set(sys_seconds t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }
  void set(const std::string& text) { set(utc(text)); }
  Clock::time_point now() const {
    std::lock_guard lock(mu_);
    return now_;
  }

 private:
  mutable std::mutex mu_;
  Clock::time_point now_{};
};

// What the caller keeps durably: the last tick fired per key and every firing made durable, with
// the firing id as a unique key (as the runs table's idempotency key would be).
class FakeStore {
 public:
  void fire(const Firing& f) {
    std::lock_guard lock(mu_);
    ++attempts_;
    if (fail_next_ > 0 && (fail_key_.empty() || fail_key_ == f.schedule_key)) {
      --fail_next_;
      throw std::runtime_error("store unavailable");
    }
    if (!ids_.insert(f.firing_id).second) ++duplicates_;
    fired_.push_back(f);
    last_[f.schedule_key] = f.scheduled_for;
    changed_.notify_all();
  }
  std::optional<sys_seconds> last_fired(const std::string& key) {
    std::lock_guard lock(mu_);
    ++lookups_[key];
    auto it = last_.find(key);
    if (it == last_.end()) return std::nullopt;
    return it->second;
  }
  void set_last(const std::string& key, sys_seconds t) {
    std::lock_guard lock(mu_);
    last_[key] = t;
  }
  // The next `n` fires throw (only those of `key`, when given).
  void fail_next(int n, std::string key = "") {
    std::lock_guard lock(mu_);
    fail_next_ = n;
    fail_key_ = std::move(key);
  }
  std::vector<Firing> fired() const {
    std::lock_guard lock(mu_);
    return fired_;
  }
  std::vector<sys_seconds> ticks() const {
    std::vector<sys_seconds> out;
    for (const auto& f : fired()) out.push_back(f.scheduled_for);
    return out;
  }
  int duplicates() const {
    std::lock_guard lock(mu_);
    return duplicates_;
  }
  int attempts() const {
    std::lock_guard lock(mu_);
    return attempts_;
  }
  int lookups(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = lookups_.find(key);
    return it == lookups_.end() ? 0 : it->second;
  }
  bool wait_for_count(std::size_t n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 30s, [&] { return fired_.size() >= n; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, sys_seconds> last_;
  std::map<std::string, int> lookups_;
  std::vector<Firing> fired_;
  std::set<std::string> ids_;
  int fail_next_ = 0;
  std::string fail_key_;
  int duplicates_ = 0;
  int attempts_ = 0;
};

class Warnings {
 public:
  void add(std::string w) {
    std::lock_guard lock(mu_);
    list_.push_back(std::move(w));
    changed_.notify_all();
  }
  std::vector<std::string> list() const {
    std::lock_guard lock(mu_);
    return list_;
  }
  bool wait_for_count(std::size_t n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, 30s, [&] { return list_.size() >= n; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::string> list_;
};

ScheduleSpec spec(const std::string& key, const std::string& expression,
                  CatchUp catch_up = CatchUp::latest, const std::string& zone = "UTC") {
  std::string error;
  auto parsed = CronExpression::parse(expression, &error);
  EXPECT_TRUE(parsed) << error;
  return ScheduleSpec{key, parsed.value_or(CronExpression{}), zone, catch_up};
}

std::vector<sys_seconds> ticks_of(const std::vector<Firing>& firings) {
  std::vector<sys_seconds> out;
  for (const auto& f : firings) out.push_back(f.scheduled_for);
  return out;
}

class CronSchedulerTest : public ::testing::Test {
 protected:
  std::unique_ptr<CronScheduler> make(CronSchedulerOptions options = {}) {
    SchedulerHooks hooks;
    hooks.last_fired = [this](const std::string& key) { return store_.last_fired(key); };
    hooks.fire = [this](const Firing& f) { store_.fire(f); };
    hooks.now = [this] { return clock_.now(); };
    options.warn = [this](std::string w) { warnings_.add(std::move(w)); };
    return std::make_unique<CronScheduler>(std::move(hooks), std::move(options));
  }

  FakeClock clock_;
  FakeStore store_;
  Warnings warnings_;
};

TEST_F(CronSchedulerTest, FreshScheduleDoesNotFireThePast) {
  clock_.set("2026-05-01T10:00:00Z");  // exactly on a tick: that tick is not "after now"
  auto scheduler = make();
  scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::all)});
  EXPECT_EQ(store_.lookups("wf#0"), 1);
  EXPECT_EQ(scheduler->next_tick("wf#0"), utc("2026-05-01T11:00:00Z"));
  EXPECT_TRUE(scheduler->due(clock_.now()).empty());
  EXPECT_TRUE(scheduler->due(utc("2026-05-01T10:59:59Z")).empty());

  auto due = scheduler->due(utc("2026-05-01T11:00:00Z"));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].scheduled_for, utc("2026-05-01T11:00:00Z"));
  EXPECT_FALSE(due[0].catch_up);
  EXPECT_EQ(due[0].firing_id, "wf#0@2026-05-01T11:00:00Z");
  // Not fired yet: asking again returns the same firing, not a second one.
  EXPECT_EQ(ticks_of(scheduler->due(utc("2026-05-01T11:00:10Z"))), ticks_of(due));
}

TEST_F(CronSchedulerTest, CatchUpNoneAfterFiveMissedTicksFiresNone) {
  store_.set_last("wf#0", utc("2026-05-01T05:00:00Z"));
  clock_.set("2026-05-01T10:30:00Z");  // 06:00 to 10:00 were missed
  auto scheduler = make();
  scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::none)});
  EXPECT_EQ(scheduler->fire_due(), 0u);
  EXPECT_TRUE(store_.fired().empty());

  clock_.set("2026-05-01T11:00:00Z");
  EXPECT_EQ(scheduler->fire_due(), 1u);
  ASSERT_EQ(store_.fired().size(), 1u);
  EXPECT_EQ(store_.fired()[0].scheduled_for, utc("2026-05-01T11:00:00Z"));
  EXPECT_FALSE(store_.fired()[0].catch_up);
}

TEST_F(CronSchedulerTest, CatchUpLatestAfterFiveMissedTicksFiresTheMostRecentOnce) {
  store_.set_last("wf#0", utc("2026-05-01T05:00:00Z"));
  clock_.set("2026-05-01T10:30:00Z");
  auto scheduler = make();
  scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::latest)});
  EXPECT_EQ(scheduler->fire_due(), 1u);
  ASSERT_EQ(store_.fired().size(), 1u);
  EXPECT_EQ(store_.fired()[0].scheduled_for, utc("2026-05-01T10:00:00Z"));
  EXPECT_TRUE(store_.fired()[0].catch_up);
  EXPECT_EQ(store_.fired()[0].firing_id, "wf#0@2026-05-01T10:00:00Z");

  EXPECT_EQ(scheduler->fire_due(), 0u);  // once
  clock_.set("2026-05-01T11:00:00Z");
  EXPECT_EQ(scheduler->fire_due(), 1u);
  EXPECT_FALSE(store_.fired().back().catch_up);
  EXPECT_EQ(store_.duplicates(), 0);
}

TEST_F(CronSchedulerTest, CatchUpAllAfterFiveMissedTicksFiresEachInOrder) {
  store_.set_last("wf#0", utc("2026-05-01T05:00:00Z"));
  clock_.set("2026-05-01T10:30:00Z");
  auto scheduler = make();
  scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::all)});
  auto due = scheduler->due(clock_.now());
  ASSERT_EQ(due.size(), 5u);
  for (std::size_t i = 0; i < due.size(); ++i) {
    EXPECT_EQ(due[i].scheduled_for, utc("2026-05-01T05:00:00Z") + std::chrono::hours(i + 1));
    EXPECT_TRUE(due[i].catch_up);
  }
  EXPECT_EQ(scheduler->fire_due(), 5u);
  EXPECT_EQ(ticks_of(store_.fired()), ticks_of(due));
  EXPECT_EQ(scheduler->fire_due(), 0u);
  EXPECT_TRUE(warnings_.list().empty());
}

TEST_F(CronSchedulerTest, CatchUpAllIsBoundedByMaxCatchUpWithAWarning) {
  store_.set_last("wf#0", utc("2026-05-01T05:00:00Z"));
  clock_.set("2026-05-01T10:30:00Z");
  CronSchedulerOptions options;
  options.max_catch_up = 3;
  auto scheduler = make(options);
  scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::all)});
  EXPECT_EQ(scheduler->fire_due(), 3u);
  EXPECT_EQ(store_.ticks(), (std::vector{utc("2026-05-01T08:00:00Z"), utc("2026-05-01T09:00:00Z"),
                                         utc("2026-05-01T10:00:00Z")}));
  auto warnings = warnings_.list();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("wf#0"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("dropped 2 missed ticks"), std::string::npos) << warnings[0];
}

TEST_F(CronSchedulerTest, LongDowntimeOfASecondsScheduleStaysBoundedAndCounted) {
  // A day of a per-second schedule: 86,340 missed ticks and 60 within the grace period.
  store_.set_last("s#0", utc("2026-05-01T00:00:00Z"));
  clock_.set("2026-05-02T00:00:00Z");
  auto scheduler = make();
  scheduler->set_schedules({spec("s#0", "* * * * * *", CatchUp::all)});
  auto due = scheduler->due(clock_.now());
  ASSERT_EQ(due.size(), 160u);
  EXPECT_EQ(due.front().scheduled_for, utc("2026-05-01T23:57:21Z"));
  EXPECT_TRUE(due[99].catch_up);
  EXPECT_FALSE(due[100].catch_up);
  EXPECT_EQ(due.back().scheduled_for, utc("2026-05-02T00:00:00Z"));
  auto warnings = warnings_.list();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("dropped 86240 missed ticks"), std::string::npos) << warnings[0];
}

TEST_F(CronSchedulerTest, TickWithinTheGraceAfterARestartIsOnTime) {
  store_.set_last("wf#0", utc("2026-05-01T07:00:00Z"));
  clock_.set("2026-05-01T10:00:30Z");  // down from before 08:00 until just after 10:00
  auto scheduler = make();
  scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::none)});
  auto due = scheduler->due(clock_.now());
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].scheduled_for, utc("2026-05-01T10:00:00Z"));
  EXPECT_FALSE(due[0].catch_up);
}

TEST_F(CronSchedulerTest, LatestFiresNothingExtraWhenTheNewestTickIsOnTime) {
  store_.set_last("wf#0", utc("2026-05-01T07:00:00Z"));
  clock_.set("2026-05-01T10:00:30Z");
  auto scheduler = make();
  scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::latest)});
  EXPECT_EQ(ticks_of(scheduler->due(clock_.now())), (std::vector{utc("2026-05-01T10:00:00Z")}));
}

TEST_F(CronSchedulerTest, RestartWithinATickDoesNotFireItAgain) {
  store_.set_last("wf#0", utc("2026-05-01T09:00:00Z"));
  clock_.set("2026-05-01T10:00:00Z");
  {
    auto first = make();
    first->set_schedules({spec("wf#0", "0 * * * *", CatchUp::all)});
    EXPECT_EQ(first->fire_due(), 1u);
  }
  // The process restarts a few seconds later, still within the tick's second and grace.
  for (const char* at : {"2026-05-01T10:00:00Z", "2026-05-01T10:00:20Z"}) {
    clock_.set(at);
    auto second = make();
    second->set_schedules({spec("wf#0", "0 * * * *", CatchUp::all)});
    EXPECT_EQ(second->last_fired("wf#0"), utc("2026-05-01T10:00:00Z"));
    EXPECT_TRUE(second->due(clock_.now()).empty()) << at;
    EXPECT_EQ(second->fire_due(), 0u) << at;
  }
  EXPECT_EQ(store_.fired().size(), 1u);
  EXPECT_EQ(store_.duplicates(), 0);
}

TEST_F(CronSchedulerTest, RestartAfterACrashBeforeTheFiringFiresItOnce) {
  // The previous process died just before 10:00 became durable; the restart fires it, once.
  store_.set_last("wf#0", utc("2026-05-01T09:00:00Z"));
  clock_.set("2026-05-01T10:00:10Z");
  for (int restart = 0; restart < 2; ++restart) {
    auto scheduler = make();
    scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::none)});
    scheduler->fire_due();
  }
  EXPECT_EQ(store_.ticks(), (std::vector{utc("2026-05-01T10:00:00Z")}));
}

TEST_F(CronSchedulerTest, FireThatThrowsIsRetriedWithBackOffNotSkipped) {
  store_.set_last("wf#0", utc("2026-05-01T09:00:00Z"));
  store_.fail_next(2);
  clock_.set("2026-05-01T10:00:00Z");
  auto scheduler = make();  // retry after 1 s, then 2 s
  scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::none)});

  EXPECT_EQ(scheduler->fire_due(), 0u);
  EXPECT_EQ(store_.attempts(), 1);
  EXPECT_TRUE(scheduler->due(clock_.now()).empty());  // waits for its retry time
  clock_.set("2026-05-01T10:00:01Z");
  EXPECT_EQ(scheduler->fire_due(), 0u);
  EXPECT_EQ(store_.attempts(), 2);
  clock_.set("2026-05-01T10:00:02Z");
  EXPECT_EQ(scheduler->fire_due(), 0u);
  EXPECT_EQ(store_.attempts(), 2);  // back-off doubled
  clock_.set("2026-05-01T10:00:03Z");
  EXPECT_EQ(scheduler->fire_due(), 1u);
  EXPECT_EQ(store_.ticks(), (std::vector{utc("2026-05-01T10:00:00Z")}));
  EXPECT_FALSE(store_.fired()[0].catch_up);

  auto warnings = warnings_.list();
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("wf#0@2026-05-01T10:00:00Z failed (attempt 1): store unavailable"),
            std::string::npos)
      << warnings[0];
  EXPECT_NE(warnings[1].find("attempt 2"), std::string::npos) << warnings[1];
}

TEST_F(CronSchedulerTest, LaterTicksWaitBehindAFailingFiringWhileOtherSchedulesGoOn) {
  store_.set_last("m#0", utc("2026-05-01T09:59:00Z"));
  store_.set_last("h#0", utc("2026-05-01T09:00:00Z"));
  store_.fail_next(1000, "m#0");
  auto scheduler = make();
  scheduler->set_schedules(
      {spec("m#0", "* * * * *", CatchUp::all), spec("h#0", "0 * * * *", CatchUp::all)});
  for (const char* at : {"2026-05-01T10:00:00Z", "2026-05-01T10:01:00Z", "2026-05-01T10:02:00Z"}) {
    clock_.set(at);
    scheduler->fire_due();
  }
  EXPECT_EQ(store_.ticks(), (std::vector{utc("2026-05-01T10:00:00Z")}));
  EXPECT_EQ(store_.fired().at(0).schedule_key, "h#0");

  store_.fail_next(0);
  clock_.set("2026-05-01T10:03:00Z");
  EXPECT_EQ(scheduler->fire_due(), 4u);
  std::vector<sys_seconds> minutely;
  for (const auto& f : store_.fired()) {
    if (f.schedule_key == "m#0") minutely.push_back(f.scheduled_for);
  }
  EXPECT_EQ(minutely, (std::vector{utc("2026-05-01T10:00:00Z"), utc("2026-05-01T10:01:00Z"),
                                   utc("2026-05-01T10:02:00Z"), utc("2026-05-01T10:03:00Z")}));
  EXPECT_EQ(store_.duplicates(), 0);
}

TEST_F(CronSchedulerTest, LatestKeepsOnlyTheNewestTickBehindAFailingFiring) {
  store_.set_last("m#0", utc("2026-05-01T09:59:00Z"));
  store_.fail_next(1000);
  auto scheduler = make();
  scheduler->set_schedules({spec("m#0", "* * * * *", CatchUp::latest)});
  for (const char* at : {"2026-05-01T10:00:00Z", "2026-05-01T10:01:00Z", "2026-05-01T10:02:00Z"}) {
    clock_.set(at);
    scheduler->fire_due();
  }
  store_.fail_next(0);
  clock_.set("2026-05-01T10:03:00Z");
  EXPECT_EQ(scheduler->fire_due(), 2u);
  EXPECT_EQ(store_.ticks(),
            (std::vector{utc("2026-05-01T10:00:00Z"), utc("2026-05-01T10:03:00Z")}));
  bool warned = false;
  for (const auto& w : warnings_.list()) {
    warned = warned ||
             w.find("queued behind failing firing m#0@2026-05-01T10:00:00Z") != std::string::npos;
  }
  EXPECT_TRUE(warned);
}

TEST_F(CronSchedulerTest, SetSchedulesKeepsStateForUnchangedKeysAndDropsRemovedOnes) {
  clock_.set("2026-05-01T09:30:00Z");
  auto scheduler = make();
  scheduler->set_schedules(
      {spec("a#0", "0 * * * *", CatchUp::none), spec("b#0", "0 * * * *", CatchUp::none)});
  clock_.set("2026-05-01T10:00:00Z");
  EXPECT_EQ(scheduler->fire_due(), 2u);

  // Unchanged key (a new catch-up policy only): state kept, the store is not asked again.
  scheduler->set_schedules(
      {spec("a#0", "0 * * * *", CatchUp::all), spec("c#0", "15 * * * *", CatchUp::none)});
  EXPECT_EQ(store_.lookups("a#0"), 1);
  EXPECT_EQ(store_.lookups("c#0"), 1);
  EXPECT_EQ(scheduler->last_fired("a#0"), utc("2026-05-01T10:00:00Z"));
  EXPECT_FALSE(scheduler->next_tick("b#0"));
  EXPECT_FALSE(scheduler->last_fired("b#0"));
  EXPECT_EQ(scheduler->next_tick("c#0"), utc("2026-05-01T10:15:00Z"));

  clock_.set("2026-05-01T11:00:00Z");
  // a at 11:00; c's 10:15 was missed and its policy is none; b is gone.
  EXPECT_EQ(scheduler->fire_due(), 1u);
  EXPECT_EQ(store_.fired().back().firing_id, "a#0@2026-05-01T11:00:00Z");

  // Removed and added back: the store is asked again and its record holds.
  scheduler->set_schedules(
      {spec("a#0", "0 * * * *", CatchUp::all), spec("b#0", "0 * * * *", CatchUp::all)});
  EXPECT_EQ(store_.lookups("b#0"), 2);
  EXPECT_EQ(scheduler->last_fired("b#0"), utc("2026-05-01T10:00:00Z"));
  EXPECT_EQ(ticks_of(scheduler->due(clock_.now())),
            (std::vector{utc("2026-05-01T11:00:00Z")}));  // b's 11:00, on time
}

TEST_F(CronSchedulerTest, ChangedExpressionStartsAfreshFromNow) {
  store_.set_last("a#0", utc("2026-05-01T06:00:00Z"));
  clock_.set("2026-05-01T10:20:00Z");
  auto scheduler = make();
  scheduler->set_schedules({spec("a#0", "0 0 * * *", CatchUp::all)});
  // Changed before the next look: the old definition's missed ticks are not caught up, and the
  // new one's past ticks are not either.
  scheduler->set_schedules({spec("a#0", "*/15 * * * *", CatchUp::all)});
  EXPECT_EQ(store_.lookups("a#0"), 1);
  EXPECT_EQ(scheduler->next_tick("a#0"), utc("2026-05-01T10:30:00Z"));
  EXPECT_TRUE(scheduler->due(clock_.now()).empty());
  // Another zone is a change too.
  scheduler->set_schedules({spec("a#0", "*/15 * * * *", CatchUp::all, "Asia/Kolkata")});
  EXPECT_EQ(scheduler->next_tick("a#0"), utc("2026-05-01T10:30:00Z"));
  EXPECT_EQ(ticks_of(scheduler->due(utc("2026-05-01T10:30:00Z"))),
            (std::vector{utc("2026-05-01T10:30:00Z")}));
}

TEST_F(CronSchedulerTest, SetSchedulesRejectsDuplicateKeysAndUnknownZonesChangingNothing) {
  clock_.set("2026-05-01T09:30:00Z");
  auto scheduler = make();
  scheduler->set_schedules({spec("a#0", "0 * * * *")});
  EXPECT_THROW(scheduler->set_schedules({spec("b#0", "0 * * * *"), spec("b#0", "5 * * * *")}),
               std::invalid_argument);
  EXPECT_THROW(scheduler->set_schedules({spec("b#0", "0 * * * *", CatchUp::all, "Europe/Berln")}),
               std::invalid_argument);
  EXPECT_TRUE(scheduler->next_tick("a#0"));
  EXPECT_FALSE(scheduler->next_tick("b#0"));
  EXPECT_EQ(store_.lookups("b#0"), 0);
}

TEST_F(CronSchedulerTest, DstOverlapInBerlinFiresBothInstants) {
  clock_.set("2026-10-24T12:00:00Z");
  auto scheduler = make();
  scheduler->set_schedules({spec("b#0", "30 2 * * *", CatchUp::none, "Europe/Berlin")});
  // Look every 30 s across the change, as the thread would.
  for (auto t = utc("2026-10-24T12:00:00Z"); t <= utc("2026-10-25T12:00:00Z"); t += 30s) {
    clock_.set(t);
    scheduler->fire_due();
  }
  auto fired = store_.fired();
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].scheduled_for, utc("2026-10-25T02:30:00+02:00"));
  EXPECT_EQ(fired[1].scheduled_for, utc("2026-10-25T02:30:00+01:00"));
  EXPECT_EQ(fired[0].firing_id, "b#0@2026-10-25T00:30:00Z");
  EXPECT_EQ(fired[1].firing_id, "b#0@2026-10-25T01:30:00Z");
  EXPECT_FALSE(fired[0].catch_up);
  EXPECT_FALSE(fired[1].catch_up);
}

TEST_F(CronSchedulerTest, DstOverlapCaughtUpAfterDowntimeFiresBothOnce) {
  store_.set_last("b#0", utc("2026-10-24T02:30:00+02:00"));
  clock_.set("2026-10-25T09:00:00Z");
  auto scheduler = make();
  scheduler->set_schedules({spec("b#0", "30 2 * * *", CatchUp::all, "Europe/Berlin")});
  EXPECT_EQ(scheduler->fire_due(), 2u);
  EXPECT_EQ(scheduler->fire_due(), 0u);
  EXPECT_EQ(store_.ticks(),
            (std::vector{utc("2026-10-25T00:30:00Z"), utc("2026-10-25T01:30:00Z")}));
}

TEST_F(CronSchedulerTest, DstGapInBerlinFiresNoneThatDay) {
  clock_.set("2026-03-28T12:00:00Z");
  auto scheduler = make();
  scheduler->set_schedules({spec("b#0", "30 2 * * *", CatchUp::all, "Europe/Berlin")});
  for (auto t = utc("2026-03-28T12:00:00Z"); t <= utc("2026-03-30T12:00:00Z"); t += 30s) {
    clock_.set(t);
    scheduler->fire_due();
  }
  // 2026-03-29 02:30 does not exist in Berlin; the next firing is the 30th at 02:30+02:00.
  EXPECT_EQ(store_.ticks(), (std::vector{utc("2026-03-30T02:30:00+02:00")}));
}

TEST_F(CronSchedulerTest, ClockJumpBackDoesNotRefire) {
  clock_.set("2026-05-01T09:30:00Z");
  auto scheduler = make();
  scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::all)});
  clock_.set("2026-05-01T10:00:00Z");
  EXPECT_EQ(scheduler->fire_due(), 1u);
  for (const char* at : {"2026-05-01T09:10:00Z", "2026-05-01T09:59:59Z", "2026-05-01T10:00:00Z",
                         "2026-05-01T10:30:00Z"}) {
    clock_.set(at);
    EXPECT_EQ(scheduler->fire_due(), 0u) << at;
  }
  clock_.set("2026-05-01T11:00:00Z");
  EXPECT_EQ(scheduler->fire_due(), 1u);
  EXPECT_EQ(store_.ticks(),
            (std::vector{utc("2026-05-01T10:00:00Z"), utc("2026-05-01T11:00:00Z")}));
  EXPECT_EQ(store_.duplicates(), 0);
}

TEST_F(CronSchedulerTest, ClockJumpBackBeforeAnyFiringWaitsForTheClockToCatchUp) {
  // Ticks decided while the clock was ahead are not decided again once it is set back.
  clock_.set("2026-05-01T09:30:00Z");
  auto scheduler = make();
  scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::none)});
  clock_.set("2026-05-01T12:30:00Z");  // forward: 10:00, 11:00, 12:00 missed, none fires
  EXPECT_EQ(scheduler->fire_due(), 0u);
  clock_.set("2026-05-01T10:00:00Z");  // back again
  EXPECT_EQ(scheduler->fire_due(), 0u);
  clock_.set("2026-05-01T11:00:00Z");
  EXPECT_EQ(scheduler->fire_due(), 0u);
  clock_.set("2026-05-01T13:00:00Z");
  EXPECT_EQ(scheduler->fire_due(), 1u);
  EXPECT_EQ(store_.ticks(), (std::vector{utc("2026-05-01T13:00:00Z")}));
}

TEST_F(CronSchedulerTest, ClockJumpForwardFollowsTheCatchUpPolicy) {
  clock_.set("2026-05-01T09:30:00Z");
  auto scheduler = make();
  scheduler->set_schedules({spec("l#0", "0 * * * *", CatchUp::latest),
                            spec("a#0", "0 * * * *", CatchUp::all),
                            spec("n#0", "0 * * * *", CatchUp::none)});
  clock_.set("2026-05-01T13:30:00Z");
  auto due = scheduler->due(clock_.now());
  std::map<std::string, std::vector<sys_seconds>> by_key;
  for (const auto& f : due) {
    EXPECT_TRUE(f.catch_up);
    by_key[f.schedule_key].push_back(f.scheduled_for);
  }
  EXPECT_EQ(by_key["l#0"], (std::vector{utc("2026-05-01T13:00:00Z")}));
  EXPECT_EQ(by_key["a#0"], (std::vector{utc("2026-05-01T10:00:00Z"), utc("2026-05-01T11:00:00Z"),
                                        utc("2026-05-01T12:00:00Z"), utc("2026-05-01T13:00:00Z")}));
  EXPECT_TRUE(by_key["n#0"].empty());
  // Oldest first across schedules.
  for (std::size_t i = 1; i < due.size(); ++i) {
    EXPECT_LE(due[i - 1].scheduled_for, due[i].scheduled_for);
  }
}

TEST_F(CronSchedulerTest, SixFieldExpressionsFireOnSeconds) {
  clock_.set("2026-05-01T10:00:00Z");
  auto scheduler = make();
  scheduler->set_schedules({spec("s#0", "*/15 * * * * *", CatchUp::none)});
  EXPECT_EQ(scheduler->next_tick("s#0"), utc("2026-05-01T10:00:15Z"));
  EXPECT_TRUE(scheduler->due(utc("2026-05-01T10:00:14Z")).empty());
  clock_.set("2026-05-01T10:00:15Z");
  EXPECT_EQ(scheduler->fire_due(), 1u);
  clock_.set("2026-05-01T10:00:45Z");  // 30 and 45 are both within the grace: on time
  EXPECT_EQ(scheduler->fire_due(), 2u);
  auto fired = store_.fired();
  ASSERT_EQ(fired.size(), 3u);
  EXPECT_EQ(fired[1].firing_id, "s#0@2026-05-01T10:00:30Z");
  EXPECT_EQ(fired[2].firing_id, "s#0@2026-05-01T10:00:45Z");
  EXPECT_FALSE(fired[1].catch_up);
}

TEST_F(CronSchedulerTest, FiringIdsAreUtcAndDistinct) {
  EXPECT_EQ(firing_id("wf#0", utc("2026-03-29T01:00:00Z")), "wf#0@2026-03-29T01:00:00Z");
  EXPECT_EQ(firing_id("wf#1", utc("2026-03-29T03:00:00+02:00")), "wf#1@2026-03-29T01:00:00Z");
  EXPECT_EQ(firing_id("x", utc("1999-12-31T23:59:59Z")), "x@1999-12-31T23:59:59Z");

  // A Berlin schedule: the id carries the UTC instant, not the local time.
  clock_.set("2026-06-30T12:00:00Z");
  auto scheduler = make();
  scheduler->set_schedules({spec("wf#0", "0 9 * * *", CatchUp::all, "Europe/Berlin")});
  std::set<std::string> ids;
  for (auto t = utc("2026-06-30T12:00:00Z"); t <= utc("2026-07-03T12:00:00Z"); t += 12h) {
    clock_.set(t);
    for (const auto& f : scheduler->due(clock_.now())) ids.insert(f.firing_id);
    scheduler->fire_due();
  }
  EXPECT_EQ(ids, (std::set<std::string>{"wf#0@2026-07-01T07:00:00Z", "wf#0@2026-07-02T07:00:00Z",
                                        "wf#0@2026-07-03T07:00:00Z"}));
  EXPECT_EQ(store_.fired().size(), 3u);
  EXPECT_EQ(store_.duplicates(), 0);
}

TEST_F(CronSchedulerTest, CronSchedulesKeysTriggersByWorkflowAndIndex) {
  Workflow workflow;
  workflow.id = "report";
  workflow.triggers.push_back(CronTrigger{"0 9 * * MON", "Europe/Berlin", CatchUp::all, {}});
  workflow.triggers.push_back(WebhookTrigger{});
  workflow.triggers.push_back(CronTrigger{"@hourly", "UTC", CatchUp::none, {}});
  auto specs = cron_schedules(workflow);
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].key, "report#0");
  EXPECT_EQ(specs[0].zone, "Europe/Berlin");
  EXPECT_EQ(specs[0].catch_up, CatchUp::all);
  EXPECT_EQ(specs[1].key, "report#2");
  EXPECT_EQ(specs[1].expression.text(), "@hourly");

  workflow.triggers.push_back(CronTrigger{"0 9 * * MOON", "UTC", CatchUp::none, {}});
  EXPECT_THROW(cron_schedules(workflow), std::invalid_argument);
}

// The loop on its thread. The fake clock stands still between steps; poke() makes the thread
// look at it at once, and max_sleep bounds how long a missed poke could delay a look.
class CronSchedulerThreadTest : public CronSchedulerTest {
 protected:
  CronSchedulerOptions fast() {
    CronSchedulerOptions options;
    options.max_sleep = 20ms;
    return options;
  }
};

TEST_F(CronSchedulerThreadTest, FiresTicksAsTheClockAdvances) {
  clock_.set("2026-05-01T09:30:00Z");
  auto scheduler = make(fast());
  scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::all)});
  scheduler->start();
  clock_.set("2026-05-01T10:00:00Z");
  scheduler->poke();
  ASSERT_TRUE(store_.wait_for_count(1));
  clock_.set("2026-05-01T11:00:00Z");
  scheduler->poke();
  ASSERT_TRUE(store_.wait_for_count(2));
  scheduler->stop();
  EXPECT_EQ(store_.ticks(),
            (std::vector{utc("2026-05-01T10:00:00Z"), utc("2026-05-01T11:00:00Z")}));
  EXPECT_EQ(store_.duplicates(), 0);
}

TEST_F(CronSchedulerThreadTest, ClockJumpBackDoesNotRefire) {
  clock_.set("2026-05-01T09:30:00Z");
  auto scheduler = make(fast());
  scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::all)});
  scheduler->start();
  clock_.set("2026-05-01T10:00:00Z");
  scheduler->poke();
  ASSERT_TRUE(store_.wait_for_count(1));
  for (const char* at : {"2026-05-01T09:00:30Z", "2026-05-01T10:00:00Z", "2026-05-01T11:00:00Z"}) {
    clock_.set(at);
    scheduler->poke();
  }
  // A refire of 10:00 would come before 11:00 (one schedule fires in tick order).
  ASSERT_TRUE(store_.wait_for_count(2));
  scheduler->stop();
  EXPECT_EQ(store_.ticks(),
            (std::vector{utc("2026-05-01T10:00:00Z"), utc("2026-05-01T11:00:00Z")}));
}

TEST_F(CronSchedulerThreadTest, CatchesUpOnStartAndRetriesAFailedFiring) {
  store_.set_last("wf#0", utc("2026-05-01T05:00:00Z"));
  store_.fail_next(1);
  clock_.set("2026-05-01T10:30:00Z");
  auto scheduler = make(fast());
  scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::all)});
  scheduler->start();
  ASSERT_TRUE(warnings_.wait_for_count(1));  // 06:00 failed; the retry waits for the clock
  clock_.set("2026-05-01T10:30:01Z");
  scheduler->poke();
  ASSERT_TRUE(store_.wait_for_count(5));
  scheduler->stop();
  EXPECT_EQ(store_.ticks(), (std::vector{utc("2026-05-01T06:00:00Z"), utc("2026-05-01T07:00:00Z"),
                                         utc("2026-05-01T08:00:00Z"), utc("2026-05-01T09:00:00Z"),
                                         utc("2026-05-01T10:00:00Z")}));
  for (const auto& f : store_.fired()) EXPECT_TRUE(f.catch_up);
}

TEST_F(CronSchedulerThreadTest, SchedulesAddedWhileRunningAreFired) {
  clock_.set("2026-05-01T09:30:00Z");
  auto scheduler = make(fast());
  scheduler->start();
  store_.set_last("late#0", utc("2026-05-01T08:00:00Z"));
  scheduler->set_schedules({spec("late#0", "0 * * * *", CatchUp::latest)});
  ASSERT_TRUE(store_.wait_for_count(1));
  EXPECT_EQ(store_.fired()[0].firing_id, "late#0@2026-05-01T09:00:00Z");
  scheduler->stop();
  scheduler->stop();  // twice is fine
}

TEST_F(CronSchedulerThreadTest, StopLetsAFireInProgressComplete) {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  bool completed = false;
  SchedulerHooks hooks;
  hooks.now = [this] { return clock_.now(); };
  hooks.last_fired = [](const std::string&) { return utc("2026-05-01T05:00:00Z"); };
  hooks.fire = [&](const Firing&) {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    completed = true;
  };
  clock_.set("2026-05-01T10:30:00Z");
  auto scheduler = std::make_unique<CronScheduler>(std::move(hooks), fast());
  scheduler->set_schedules({spec("wf#0", "0 * * * *", CatchUp::all)});
  scheduler->start();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return entered; }));
  }
  std::thread stopper([&] { scheduler->stop(); });
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  stopper.join();
  std::lock_guard lock(mu);
  EXPECT_TRUE(completed);
}

}  // namespace
}  // namespace flowpilot::engine::testing
