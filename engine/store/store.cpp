#include "engine/store/store.h"

#include <fmt/format.h>
#include <sodium.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <future>
#include <limits>
#include <mutex>
#include <utility>

namespace flowpilot::engine {

namespace {

constexpr std::array<std::string_view, 6> kRunStatusNames = {"queued", "running",   "succeeded",
                                                             "failed", "cancelled", "timed_out"};
constexpr std::array<std::string_view, 8> kStepStatusNames = {
    "pending", "ready", "running", "waiting", "succeeded", "failed", "skipped", "cancelled"};
constexpr std::array<std::string_view, 4> kApprovalStatusNames = {"pending", "approved", "rejected",
                                                                  "expired"};

template <class Enum, std::size_t N>
std::string_view name_of(Enum e, const std::array<std::string_view, N>& names) {
  const auto i = static_cast<std::size_t>(e);
  return i < N ? names[i] : std::string_view("unknown");
}

template <class Enum, std::size_t N>
std::optional<Enum> parse_enum(std::string_view s, const std::array<std::string_view, N>& names) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

std::uint64_t random_u64() {
  // sodium_init is idempotent and thread-safe, but calling it once keeps it off the hot path.
  static const int sodium_rc = sodium_init();
  if (sodium_rc < 0) throw std::runtime_error("libsodium failed to initialise");
  std::uint64_t r = 0;
  randombytes_buf(&r, sizeof r);
  return r;
}

}  // namespace

std::string_view to_string(RunStatus s) { return name_of(s, kRunStatusNames); }
std::string_view to_string(StepStatus s) { return name_of(s, kStepStatusNames); }
std::string_view to_string(ApprovalStatus s) { return name_of(s, kApprovalStatusNames); }

std::optional<RunStatus> parse_run_status(std::string_view s) {
  return parse_enum<RunStatus>(s, kRunStatusNames);
}
std::optional<StepStatus> parse_step_status(std::string_view s) {
  return parse_enum<StepStatus>(s, kStepStatusNames);
}
std::optional<ApprovalStatus> parse_approval_status(std::string_view s) {
  return parse_enum<ApprovalStatus>(s, kApprovalStatusNames);
}

bool is_terminal(RunStatus s) {
  switch (s) {
    case RunStatus::succeeded:
    case RunStatus::failed:
    case RunStatus::cancelled:
    case RunStatus::timed_out:
      return true;
    case RunStatus::queued:
    case RunStatus::running:
      return false;
  }
  return false;
}

bool is_terminal(StepStatus s) {
  switch (s) {
    case StepStatus::succeeded:
    case StepStatus::failed:
    case StepStatus::skipped:
    case StepStatus::cancelled:
      return true;
    case StepStatus::pending:
    case StepStatus::ready:
    case StepStatus::running:
    case StepStatus::waiting:
      return false;
  }
  return false;
}

EpochMillis now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CommitResult Store::commit(WriteBatch batch) {
  std::promise<CommitResult> promise;
  auto future = promise.get_future();
  submit(std::move(batch),
         [&promise](CommitResult result) { promise.set_value(std::move(result)); });
  return future.get();
}

std::string new_run_id() {
  // Monotonic within the process: ids created in the same millisecond (or while the clock steps
  // back) continue from the previous one with a random increment, so text order always equals
  // creation order here, and ids stay unguessable. Across processes the 63 random bits of a fresh
  // millisecond make collisions negligible.
  static std::mutex mu;
  static std::uint64_t last_ms = 0;
  static std::uint64_t last_rand = 0;

  const auto now = static_cast<std::uint64_t>(now_millis());
  std::uint64_t ms = 0;
  std::uint64_t rand = 0;
  {
    std::lock_guard lock(mu);
    if (now > last_ms) {
      ms = now;
      // The top bit is left clear so that increments within one millisecond cannot overflow.
      rand = random_u64() >> 1;
    } else {
      const std::uint64_t step = (random_u64() & 0xffffffffu) + 1;
      if (last_rand > std::numeric_limits<std::uint64_t>::max() - step) {
        ms = last_ms + 1;
        rand = random_u64() >> 1;
      } else {
        ms = last_ms;
        rand = last_rand + step;
      }
    }
    last_ms = ms;
    last_rand = rand;
  }
  return fmt::format("{:012x}-{:016x}", ms & 0xffff'ffff'ffffu, rand);
}

}  // namespace flowpilot::engine
