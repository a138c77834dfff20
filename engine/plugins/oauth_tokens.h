// Access tokens for connections: the OAuth2 refresh-token grant (RFC 6749 section 6), with the
// tokens cached per connection and shared by every step call that uses it.
//
// Credentials are the connection's fields (a JSON object). With `refresh_token`, the token comes
// from a form-encoded POST of grant_type=refresh_token, client_id, client_secret and refresh_token
// to `token_url` (Google, HubSpot); without one, the static `access_token` field is the token
// (Meta system-user tokens, HubSpot private-app tokens, Slack bot tokens).
//
// A cached token is served until `refresh_margin` before its expiry (`expires_in`, default one
// hour when the endpoint omits it). Callers that ask while a refresh is under way wait for that
// refresh instead of starting another. `force_refresh` (the API refused the token) discards the
// cached token unless it was obtained within `reuse_window`, so that a burst of calls refused with
// the same old token causes one refresh, not one each.
//
// Token endpoints sometimes answer HTTP 200 with an error body ({"error": "invalid_grant"}, or an
// `ok: false` body): any answer without a non-empty `access_token` string is an error, and an
// `error` member is reported whatever the status. invalid_grant, invalid_client,
// unauthorized_client and the like are not retryable (the connection must be fixed); network
// errors, 429 and 5xx are. Error messages name the connection and the endpoint's error code, never
// the secrets (the HTTP client redacts them from its own messages as well).
//
// Refreshed refresh tokens (providers that rotate them) are not written back: the stored
// connection keeps the one it was given.
//
// Meta has no refresh token: a long-lived token is renewed by exchanging it for a new one
// (grant_type=fb_exchange_token at `{base_url}/{api_version}/oauth/access_token`). A connection
// with `app_id` and `app_secret` (and no refresh_token) is renewed that way when the API refused
// its token (`force_refresh`), when its expiry (`token_expires_at`, Unix seconds) is less than
// `exchange_margin` away, or when that expiry is unknown (the first exchange learns it). The new
// token and its expiry go to the renewal listener, which stores them in the connection, so that a
// restart does not fall back to the old token; until the stored connection says so, the renewed
// token is served from here whenever the credentials still carry the token it replaced. An early
// renewal that fails leaves the old token in use (it is still valid) and is tried again no sooner
// than `exchange_retry` later; a refused token whose exchange fails fails the call.
//
// Thread-safety: every member may be called from any thread. Callbacks run on the HTTP client's
// thread, or on the caller's thread when the answer is cached; they must not block (the renewal
// listener's one store write excepted).
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace flowpilot::engine {

class HttpClient;

struct AccessTokenResult {
  std::string token;  // empty on error
  std::string error;  // empty on success
  bool retryable = false;
  std::chrono::seconds lifetime{0};  // of a token just obtained from the endpoint; 0 otherwise
};

struct OAuthTokensOptions {
  std::chrono::seconds refresh_margin{60};
  std::chrono::seconds reuse_window{10};
  std::chrono::seconds default_lifetime{3600};
  std::chrono::milliseconds request_timeout{30'000};
  // Exchanged (Meta) tokens: renewed when less than this is left before `token_expires_at`.
  std::chrono::seconds exchange_margin{std::chrono::hours(24 * 7)};
  // Exchanged tokens: the lifetime assumed when the answer has no expires_in (Meta's 60 days).
  std::chrono::seconds exchange_default_lifetime{std::chrono::hours(24 * 60)};
  // Exchanged tokens: after a failed early renewal, the old token is served this long before the
  // next attempt.
  std::chrono::seconds exchange_retry{std::chrono::minutes(15)};
  // The clock (tests move it forward to expire tokens).
  std::function<std::chrono::steady_clock::time_point()> now = [] {
    return std::chrono::steady_clock::now();
  };
  // The wall clock that stored expiries (`token_expires_at`) are compared with.
  std::function<std::chrono::system_clock::time_point()> wall_now = [] {
    return std::chrono::system_clock::now();
  };
};

// A token obtained by exchange, for the stored connection.
struct RenewedToken {
  std::string access_token;
  std::chrono::system_clock::time_point expires_at;
};

class OAuthTokens {
 public:
  using Done = std::function<void(AccessTokenResult)>;
  // Called with each token obtained by exchange, before the callers that waited for it are
  // answered, on the HTTP client's thread. It stores the token (a store write is fine; it must
  // not call back into this object) and must not throw.
  using RenewalListener =
      std::function<void(const std::string& connection, const RenewedToken& renewed)>;

  // `http` may be null: then only static tokens can be answered.
  explicit OAuthTokens(HttpClient* http, OAuthTokensOptions options = {});
  ~OAuthTokens();
  OAuthTokens(const OAuthTokens&) = delete;
  OAuthTokens& operator=(const OAuthTokens&) = delete;

  // Answers with a token for `connection` whose credentials are `credentials`. `done` runs
  // exactly once.
  void get(const std::string& connection, const boost::json::object& credentials,
           bool force_refresh, Done done);

  // Drops the cached token of `connection` (its credentials changed or were removed).
  void forget(const std::string& connection);

  // Replaces the renewal listener (null: renewed tokens are kept in memory only). Returns once
  // no call of the previous listener is under way, so its owner may then be destroyed; never
  // call it from a listener.
  void set_renewal_listener(RenewalListener listener);

 private:
  struct State;  // shared with refreshes in flight, which may end after this object is gone

  void exchange(const std::string& connection, const boost::json::object& credentials,
                bool force_refresh, Done done);

  HttpClient* http_;
  std::shared_ptr<State> state_;
};

}  // namespace flowpilot::engine
