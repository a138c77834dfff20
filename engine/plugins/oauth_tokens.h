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
// Thread-safety: every member may be called from any thread. Callbacks run on the HTTP client's
// thread, or on the caller's thread when the answer is cached; they must not block.
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
  // The clock (tests move it forward to expire tokens).
  std::function<std::chrono::steady_clock::time_point()> now = [] {
    return std::chrono::steady_clock::now();
  };
};

class OAuthTokens {
 public:
  using Done = std::function<void(AccessTokenResult)>;

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

 private:
  struct State;  // shared with refreshes in flight, which may end after this object is gone

  HttpClient* http_;
  std::shared_ptr<State> state_;
};

}  // namespace flowpilot::engine
