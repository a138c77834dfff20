// The request loop every marketing connector shares: take a token from the step's connection,
// wait for the account's shared rate limiter, send, and let the connector's classifier say what
// the answer means: use it, retry it (after the API's hint or an exponential back-off with full
// jitter, holding every run on the account during a throttle), get a new token once (the API
// refused the one it was given), or fail the step with a message that says what the API said.
//
// Connectors page by changing `request` in their on_ok handler and calling send_again(). The
// handler gets the exchange as an argument: capturing its shared_ptr would keep it alive forever.
//
// Threading: everything runs on host worker threads through sdk::Call callbacks; one Exchange
// belongs to one call and is never used by two threads at once.
#pragma once

#include <flowpilot/plugin.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace flowpilot::marketing {

struct Verdict {
  enum class Kind { ok, retry, refresh_token, fail };
  Kind kind = Kind::ok;
  std::string message;                // retry and fail: what the API said, for logs and errors
  std::chrono::milliseconds wait{0};  // retry: at least this long (the API's hint); 0: back-off
  bool throttled = false;             // retry: the account is throttled; hold every run on it
  bool retryable = false;             // fail: whether a later attempt of the step may succeed

  static Verdict ok() { return {}; }
  static Verdict retry(std::string message, std::chrono::milliseconds wait = {},
                       bool throttled = false) {
    return {Kind::retry, std::move(message), wait, throttled, true};
  }
  static Verdict refresh(std::string message) {
    return {Kind::refresh_token, std::move(message), {}, false, false};
  }
  static Verdict fail(std::string message, bool retryable = false) {
    return {Kind::fail, std::move(message), {}, false, retryable};
  }
};

struct Exchange : std::enable_shared_from_this<Exchange> {
  sdk::HttpRequest request;  // without credentials: `authorize` adds them
  std::string rate_key;      // the account's shared limiter, e.g. "meta:act_1001"
  std::function<Verdict(const sdk::HttpResponse&)> classify;
  std::function<void(sdk::HttpRequest&, const std::string& token)> authorize;
  std::function<void(sdk::Call&, Exchange&, const sdk::HttpResponse&)> on_ok;
  int max_attempts = 5;  // per request, including the first
  // False for APIs whose secret is part of the URL or comes from another field (Slack incoming
  // webhooks, bot tokens): then no token is asked of the host and `token` stays empty.
  bool use_token = true;
  // A wait the API asks for beyond this is not slept through inside the step: the step fails as
  // retryable with that retry-after, and the workflow's retry policy decides.
  std::chrono::milliseconds max_inline_wait{60'000};

  std::string token;  // set by start()
  int attempt = 0;
  bool refreshed = false;
};

// Gets the token (cached by the host) and sends the first request.
void start(sdk::Call& call, const std::shared_ptr<Exchange>& exchange);
// Sends `exchange->request` again with a fresh attempt count (the next page).
void send_again(sdk::Call& call, Exchange& exchange);

// Exponential back-off with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))].
std::chrono::milliseconds backoff(int attempt, std::chrono::milliseconds base = std::chrono::milliseconds(500),
                                  std::chrono::milliseconds cap = std::chrono::milliseconds(30'000));

// A short excerpt of a body for error messages.
std::string excerpt(const std::string& body, std::size_t max_chars = 300);

}  // namespace flowpilot::marketing
