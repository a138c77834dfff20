// Browser sessions: what the UI signs in with.
//
// A session id is 32 random bytes (64 hex digits) that travels only in a cookie; the store keeps
// its SHA-256. Each session has a CSRF token that state-changing requests must echo in a header
// (web/access.h checks it). A session ends when:
//   - it has not been used for the idle timeout (default 8 hours),
//   - the absolute timeout since sign-in passes (default 7 days),
//   - the user signs out, or an admin ends the user's sessions,
//   - the user is disabled or their password changes (every session started before that ends).
// Use is recorded in the store at most once a minute per session, so that a busy UI does not write
// on every request; idle expiry is therefore exact to within that minute. Lookups are cached for up
// to 5 seconds, so a change made by another process (the CLI while the server runs) takes effect
// within 5 seconds; changes through this service take effect at once.
//
// Thread-safety: every member function may be called from any thread.
#pragma once

#include "engine/access/detail/credential_cache.h"
#include "engine/access/tokens.h"
#include "engine/access/users.h"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace flowpilot::engine {

struct SessionOptions {
  std::chrono::milliseconds idle_timeout = std::chrono::hours(8);
  std::chrono::milliseconds absolute_timeout = std::chrono::hours(24 * 7);
};

struct OpenedSession {
  std::string cookie_value;  // give to the browser; never stored
  std::string csrf_token;
  EpochMillis expires_at = 0;  // absolute
};

class SessionService {
 public:
  SessionService(Store& store, SessionOptions options = {});
  ~SessionService();
  SessionService(const SessionService&) = delete;
  SessionService& operator=(const SessionService&) = delete;

  OpenedSession open(const UserSummary& user, std::string_view address,
                     std::string_view user_agent);
  // The principal of a live session (with its CSRF token), or why it is refused.
  AuthOutcome authenticate(std::string_view cookie_value);
  // Signs out one session; unknown or ended sessions are ignored.
  void close(std::string_view cookie_value);
  // Ends every session of a user.
  void close_all(const std::string& user_id);
  // Drops cached lookups of the user's sessions, after a change to the user (a new role).
  void forget_user(const std::string& user_id);

  const SessionOptions& options() const { return options_; }

 private:
  struct Live;  // a session and the last-seen time the store has
  Store& store_;
  SessionOptions options_;
  std::unique_ptr<access_detail::CredentialCache<Live>> cache_;
};

}  // namespace flowpilot::engine
