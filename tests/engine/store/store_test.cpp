#include "engine/store/store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace flowpilot::engine {
namespace {

TEST(StoreEnums, RunStatusNamesRoundTrip) {
  const std::vector<std::pair<RunStatus, std::string>> all = {
      {RunStatus::queued, "queued"},       {RunStatus::running, "running"},
      {RunStatus::succeeded, "succeeded"}, {RunStatus::failed, "failed"},
      {RunStatus::cancelled, "cancelled"}, {RunStatus::timed_out, "timed_out"}};
  for (const auto& [status, name] : all) {
    EXPECT_EQ(to_string(status), name);
    EXPECT_EQ(parse_run_status(name), status) << name;
  }
  EXPECT_EQ(parse_run_status("Queued"), std::nullopt);
  EXPECT_EQ(parse_run_status(""), std::nullopt);
  EXPECT_EQ(parse_run_status("timed-out"), std::nullopt);
}

TEST(StoreEnums, StepStatusNamesRoundTrip) {
  const std::vector<std::pair<StepStatus, std::string>> all = {
      {StepStatus::pending, "pending"},     {StepStatus::ready, "ready"},
      {StepStatus::running, "running"},     {StepStatus::waiting, "waiting"},
      {StepStatus::succeeded, "succeeded"}, {StepStatus::failed, "failed"},
      {StepStatus::skipped, "skipped"},     {StepStatus::cancelled, "cancelled"}};
  for (const auto& [status, name] : all) {
    EXPECT_EQ(to_string(status), name);
    EXPECT_EQ(parse_step_status(name), status) << name;
  }
  EXPECT_EQ(parse_step_status("done"), std::nullopt);
  EXPECT_EQ(parse_step_status("queued"), std::nullopt);
}

TEST(StoreEnums, ApprovalStatusNamesRoundTrip) {
  const std::vector<std::pair<ApprovalStatus, std::string>> all = {
      {ApprovalStatus::pending, "pending"},
      {ApprovalStatus::approved, "approved"},
      {ApprovalStatus::rejected, "rejected"},
      {ApprovalStatus::expired, "expired"}};
  for (const auto& [status, name] : all) {
    EXPECT_EQ(to_string(status), name);
    EXPECT_EQ(parse_approval_status(name), status) << name;
  }
  EXPECT_EQ(parse_approval_status("approve"), std::nullopt);
}

TEST(StoreEnums, TerminalStates) {
  EXPECT_FALSE(is_terminal(RunStatus::queued));
  EXPECT_FALSE(is_terminal(RunStatus::running));
  EXPECT_TRUE(is_terminal(RunStatus::succeeded));
  EXPECT_TRUE(is_terminal(RunStatus::failed));
  EXPECT_TRUE(is_terminal(RunStatus::cancelled));
  EXPECT_TRUE(is_terminal(RunStatus::timed_out));

  EXPECT_FALSE(is_terminal(StepStatus::pending));
  EXPECT_FALSE(is_terminal(StepStatus::ready));
  EXPECT_FALSE(is_terminal(StepStatus::running));
  EXPECT_FALSE(is_terminal(StepStatus::waiting));
  EXPECT_TRUE(is_terminal(StepStatus::succeeded));
  EXPECT_TRUE(is_terminal(StepStatus::failed));
  EXPECT_TRUE(is_terminal(StepStatus::skipped));
  EXPECT_TRUE(is_terminal(StepStatus::cancelled));
}

TEST(StoreTime, NowMillisIsTheSystemClock) {
  const auto expected = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  EXPECT_NEAR(static_cast<double>(now_millis()), static_cast<double>(expected), 1000.0);
}

TEST(RunId, FormatCarriesTheCreationTime) {
  const EpochMillis before = now_millis();
  const std::string id = new_run_id();
  const EpochMillis after = now_millis();
  ASSERT_EQ(id.size(), 29u) << id;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 12) {
      EXPECT_EQ(c, '-') << id;
    } else {
      EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
    }
  }
  const auto ms = static_cast<EpochMillis>(std::stoull(id.substr(0, 12), nullptr, 16));
  EXPECT_GE(ms, before);
  // Ids within one millisecond may run ahead by at most a millisecond on counter overflow.
  EXPECT_LE(ms, after + 1);
}

TEST(RunId, SortsByCreationTimeAcrossMilliseconds) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(new_run_id());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_LT(ids.front().substr(0, 12), ids.back().substr(0, 12));
}

TEST(RunId, UniqueAndOrderedAcrossThreadsWithinOneMillisecond) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20'000;
  std::mutex mu;
  std::vector<std::string> in_creation_order;  // the order in which ids were handed out
  std::vector<std::vector<std::string>> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (i % 4 == 0) {
          // Under a lock, the order of the calls is known: the ids must sort the same way.
          std::lock_guard lock(mu);
          in_creation_order.push_back(new_run_id());
        } else {
          per_thread[static_cast<std::size_t>(t)].push_back(new_run_id());
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  EXPECT_TRUE(std::is_sorted(in_creation_order.begin(), in_creation_order.end()));
  std::set<std::string> all(in_creation_order.begin(), in_creation_order.end());
  for (const auto& ids : per_thread) {
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    EXPECT_TRUE(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads) * kPerThread);
}

}  // namespace
}  // namespace flowpilot::engine
