#include "api_exchange.h"

#include <algorithm>
#include <random>

namespace flowpilot::marketing {

namespace {

void send(sdk::Call& call, const std::shared_ptr<Exchange>& ex);

void handle(sdk::Call& call, const std::shared_ptr<Exchange>& ex, const sdk::HttpResponse& response) {
  Verdict verdict = ex->classify(response);
  switch (verdict.kind) {
    case Verdict::Kind::ok:
      ex->on_ok(call, *ex, response);
      return;
    case Verdict::Kind::fail:
      call.fail(verdict.message, verdict.retryable);
      return;
    case Verdict::Kind::refresh_token:
      if (!ex->use_token) {
        call.fail(verdict.message + ": the connection's token must be replaced", false);
        return;
      }
      if (ex->refreshed) {
        call.fail(verdict.message + " (again after a new token was obtained)", false);
        return;
      }
      ex->refreshed = true;
      call.log(sdk::Level::info, "the API refused the access token; getting a new one");
      call.access_token(true, [ex, refused = verdict.message](sdk::Call& c, const sdk::AccessToken& token) {
        if (!token) {
          c.fail(refused + "; " + token.error, token.retryable);
          return;
        }
        ex->token = token.token;
        send(c, ex);
      });
      return;
    case Verdict::Kind::retry:
      break;
  }
  std::chrono::milliseconds wait =
      verdict.wait.count() > 0 ? verdict.wait : backoff(ex->attempt);
  if (verdict.throttled) call.rate_pause(ex->rate_key, wait);
  if (ex->attempt >= ex->max_attempts || wait > ex->max_inline_wait) {
    call.fail(verdict.message, true, wait);
    return;
  }
  call.log(sdk::Level::warn, verdict.message + "; retrying in " + std::to_string(wait.count()) + " ms");
  call.after(wait, [ex](sdk::Call& c) {
    if (c.cancelled()) {
      c.fail("cancelled while waiting to retry");
      return;
    }
    send(c, ex);
  });
}

void send(sdk::Call& call, const std::shared_ptr<Exchange>& ex) {
  ++ex->attempt;
  call.rate_acquire(ex->rate_key, 1, [ex](sdk::Call& c) {
    sdk::HttpRequest request = ex->request;
    ex->authorize(request, ex->token);
    if (!ex->token.empty()) request.secrets.push_back(ex->token);
    c.http(request, [ex](sdk::Call& c2, const sdk::HttpResponse& response) { handle(c2, ex, response); });
  });
}

}  // namespace

void start(sdk::Call& call, const std::shared_ptr<Exchange>& exchange) {
  if (!exchange->use_token) {
    send(call, exchange);
    return;
  }
  call.access_token(false, [exchange](sdk::Call& c, const sdk::AccessToken& token) {
    if (!token) token.raise();
    exchange->token = token.token;
    send(c, exchange);
  });
}

void send_again(sdk::Call& call, Exchange& exchange) {
  exchange.attempt = 0;
  send(call, exchange.shared_from_this());
}

std::chrono::milliseconds backoff(int attempt, std::chrono::milliseconds base,
                                  std::chrono::milliseconds cap) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  const int shift = std::clamp(attempt - 1, 0, 20);
  const auto ceiling = std::min<std::int64_t>(cap.count(), base.count() << shift);
  std::uniform_int_distribution<std::int64_t> pick(0, std::max<std::int64_t>(ceiling, 1));
  return std::chrono::milliseconds(pick(random));
}

std::string excerpt(const std::string& body, std::size_t max_chars) {
  if (body.size() <= max_chars) return body;
  return body.substr(0, max_chars) + "...";
}

}  // namespace flowpilot::marketing
