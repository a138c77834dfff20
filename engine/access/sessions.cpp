#include "engine/access/sessions.h"

#include "engine/access/detail/credentials.h"

#include <algorithm>

namespace flowpilot::engine {

namespace {

using Clock = std::chrono::steady_clock;  // CredentialCache's clock

constexpr std::size_t kIdBytes = 32;
constexpr EpochMillis kTouchEveryMillis = 60'000;
constexpr std::size_t kMaxUserAgent = 300;

bool well_formed(std::string_view id) {
  return id.size() == 2 * kIdBytes && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

void commit(Store& store, WriteBatch batch) {
  CommitResult result = store.commit(std::move(batch));
  if (result.error) std::rethrow_exception(result.error);
}

}  // namespace

struct SessionService::Live {
  SessionRecord session;
  EpochMillis written_seen = 0;  // the last_seen_at the store has
};

SessionService::SessionService(Store& store, SessionOptions options)
    : store_(store), options_(options), cache_(std::make_unique<access_detail::CredentialCache<Live>>()) {}
SessionService::~SessionService() = default;

OpenedSession SessionService::open(const UserSummary& user, std::string_view address,
                                   std::string_view user_agent) {
  OpenedSession opened;
  opened.cookie_value = access_detail::random_hex(kIdBytes);
  opened.csrf_token = access_detail::random_hex(kIdBytes);
  SessionRecord r;
  r.id_hash = access_detail::sha256_hex(opened.cookie_value);
  r.user_id = user.id;
  r.csrf_token = opened.csrf_token;
  r.address = std::string(address);
  r.user_agent = std::string(user_agent.substr(0, kMaxUserAgent));
  r.created_at = r.last_seen_at = now_millis();
  r.expires_at = r.created_at + options_.absolute_timeout.count();
  opened.expires_at = r.expires_at;
  WriteBatch batch;
  // Sign-ins are rare: a good moment to drop sessions that can never be used again.
  batch.add(PruneSessions{r.created_at - 24 * 3600 * 1000LL});
  batch.add(PutSession{std::move(r)});
  commit(store_, std::move(batch));
  return opened;
}

AuthOutcome SessionService::authenticate(std::string_view cookie_value) {
  if (!well_formed(cookie_value)) return std::string("the session cookie is malformed");
  const std::string hash = access_detail::sha256_hex(cookie_value);
  const EpochMillis now_ms = now_millis();
  auto entry = cache_->get(hash, Clock::now());
  if (!entry) {
    auto session = store_.get_session(hash);
    if (!session) return std::string("the session is unknown or has ended");
    auto user = store_.get_user(session->user_id);
    if (!user) return std::string("the session's user no longer exists");
    const EpochMillis seen = session->last_seen_at;
    entry.emplace(Live{std::move(*session), seen}, std::move(*user), Clock::now());
  }
  SessionRecord& s = entry->record.session;
  const UserRecord& user = entry->user;
  if (s.revoked_at != 0) return std::string("the session has ended (signed out)");
  if (now_ms >= s.expires_at) return std::string("the session expired; sign in again");
  if (now_ms - s.last_seen_at >= options_.idle_timeout.count()) {
    return std::string("the session expired after being idle; sign in again");
  }
  if (user.disabled) return std::string("the session's user is disabled");
  if (user.password_changed_at > s.created_at) {
    return std::string("the session ended when the password changed; sign in again");
  }
  s.last_seen_at = now_ms;
  const bool write_seen = now_ms - entry->record.written_seen >= kTouchEveryMillis;
  if (write_seen) entry->record.written_seen = now_ms;
  cache_->put(hash, *entry);  // keeps the time it was read: the store is read again in 5 s
  if (write_seen) {
    // Not waited for: losing a last-seen time to a crash costs at most a minute of idle time.
    WriteBatch batch;
    batch.add(PutSession{s});
    store_.submit(std::move(batch), [](CommitResult) {});
  }
  Principal p = access_detail::principal_of(user, Principal::Kind::session);
  p.credential_id = hash.substr(0, 16);
  p.csrf_token = s.csrf_token;
  return p;
}

void SessionService::close(std::string_view cookie_value) {
  if (!well_formed(cookie_value)) return;
  const std::string hash = access_detail::sha256_hex(cookie_value);
  auto session = store_.get_session(hash);
  if (session && session->revoked_at == 0) {
    session->revoked_at = now_millis();
    WriteBatch batch;
    batch.add(PutSession{std::move(*session)});
    commit(store_, std::move(batch));
  }
  // After the commit: a check in between would otherwise cache the still-live row again.
  cache_->forget(hash);
}

void SessionService::close_all(const std::string& user_id) {
  WriteBatch batch;
  batch.add(RevokeSessions{user_id, now_millis()});
  commit(store_, std::move(batch));
  cache_->forget_user(user_id);
}

void SessionService::forget_user(const std::string& user_id) { cache_->forget_user(user_id); }

}  // namespace flowpilot::engine
