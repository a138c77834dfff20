// What the token and session services remember about a credential between requests: the
// credential's record and its user's, keyed by the credential's hash, for at most 5 seconds, so
// that a request costs a hash and a lookup rather than two store reads, while a change made by
// another process (the CLI) still takes effect within those seconds. At most 10,000 entries; past
// that the cache starts over (a flood of made-up credentials misses the cache anyway).
//
// Thread-safety: every member function may be called from any thread.
#pragma once

#include "engine/access/principal.h"
#include "engine/store/store.h"

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace flowpilot::engine::access_detail {

template <class Record>
class CredentialCache {
 public:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    Record record;
    UserRecord user;
    Clock::time_point fetched{};
  };

  // The entry for `hash` while it is fresh; a stale one is dropped.
  std::optional<Entry> get(const std::string& hash, Clock::time_point now) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(hash);
    if (it == entries_.end()) return std::nullopt;
    if (now - it->second.fetched >= kFreshFor) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second;
  }

  void put(const std::string& hash, Entry entry) {
    std::lock_guard lock(mu_);
    if (entries_.size() >= kMaxEntries && !entries_.contains(hash)) entries_.clear();
    entries_[hash] = std::move(entry);
  }

  void forget(const std::string& hash) {
    std::lock_guard lock(mu_);
    entries_.erase(hash);
  }

  void forget_user(const std::string& user_id) {
    std::lock_guard lock(mu_);
    std::erase_if(entries_, [&](const auto& kv) { return kv.second.user.id == user_id; });
  }

 private:
  static constexpr auto kFreshFor = std::chrono::seconds(5);
  static constexpr std::size_t kMaxEntries = 10'000;

  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

// The principal of `user`, before its credential narrows or annotates it.
inline Principal principal_of(const UserRecord& user, Principal::Kind kind) {
  Principal p;
  p.kind = kind;
  p.user_id = user.id;
  p.email = user.email;
  p.name = user.name;
  p.role = user.role;
  p.permissions = PermissionSet::of_role(user.role);
  return p;
}

}  // namespace flowpilot::engine::access_detail
