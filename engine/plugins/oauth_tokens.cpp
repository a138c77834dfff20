#include "engine/plugins/oauth_tokens.h"

#include "engine/http/http_client.h"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <fmt/format.h>

#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <vector>
#include <string_view>
#include <utility>

namespace flowpilot::engine {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Entry {
  std::string fingerprint;  // the credentials the token was obtained with
  std::string token;
  Clock::time_point obtained{};
  Clock::time_point expires{};
  bool refreshing = false;
  std::vector<OAuthTokens::Done> waiters;
};

std::string_view string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return v->get_string();
}

std::string form_encode(std::string_view s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

// Errors that mean the grant or the client is wrong: retrying cannot help, a person must fix the
// connection.
bool permanent_oauth_error(std::string_view code) {
  static constexpr std::array<std::string_view, 7> kPermanent = {
      "invalid_grant", "invalid_client", "unauthorized_client", "invalid_request",
      "unsupported_grant_type", "invalid_scope", "access_denied"};
  for (auto p : kPermanent) {
    if (code == p) return true;
  }
  return false;
}

// The text of an `error` member: a string (RFC 6749), or an object with a message or status.
std::string error_text(const json::value& error) {
  if (const auto* s = error.if_string()) return std::string(*s);
  if (const auto* o = error.if_object()) {
    for (const char* key : {"status", "message", "code"}) {
      if (const auto* v = o->if_contains(key)) {
        if (v->is_string()) return std::string(v->get_string());
        if (v->is_int64()) return std::to_string(v->get_int64());
      }
    }
  }
  return json::serialize(error);
}

struct Parsed {
  AccessTokenResult result;
  std::chrono::seconds lifetime{0};
};

Parsed parse_answer(const std::string& connection, const HttpResponse& response,
                    std::chrono::seconds default_lifetime) {
  Parsed out;
  AccessTokenResult& r = out.result;
  const std::string who = fmt::format("token refresh for connection `{}`", connection);
  if (response.status == 0) {
    r.error = fmt::format("{} failed: {}", who, response.error);
    r.retryable = true;
    return out;
  }
  const bool transient_status = response.status == 429 || response.status >= 500;
  json::error_code ec;
  json::value body = json::parse(response.body, ec);
  const json::object* obj = ec ? nullptr : body.if_object();
  if (obj != nullptr) {
    if (const json::value* error = obj->if_contains("error")) {
      const std::string code = error_text(*error);
      std::string_view description = string_field(*obj, "error_description");
      if (description.empty()) description = string_field(*obj, "message");
      r.error = fmt::format("{} was refused (HTTP {}): {}{}{}", who, response.status, code,
                            description.empty() ? "" : ": ", description);
      r.retryable = transient_status || !permanent_oauth_error(code);
      if (permanent_oauth_error(code)) {
        r.error += "; the connection's credentials must be renewed";
        r.retryable = false;
      }
      return out;
    }
    if (response.status >= 200 && response.status < 300) {
      const std::string_view token = string_field(*obj, "access_token");
      if (!token.empty()) {
        r.token = std::string(token);
        out.lifetime = default_lifetime;
        if (const json::value* e = obj->if_contains("expires_in")) {
          // Some endpoints send the lifetime as a string.
          std::int64_t seconds = -1;
          if (e->is_int64()) seconds = e->get_int64();
          else if (e->is_uint64()) seconds = static_cast<std::int64_t>(e->get_uint64());
          else if (e->is_double()) seconds = static_cast<std::int64_t>(e->get_double());
          else if (e->is_string()) {
            try {
              seconds = std::stoll(std::string(e->get_string()));
            } catch (const std::exception&) {
              seconds = -1;
            }
          }
          if (seconds > 0) out.lifetime = std::chrono::seconds(seconds);
        }
        r.lifetime = out.lifetime;
        return out;
      }
    }
  }
  if (response.status >= 200 && response.status < 300) {
    r.error = fmt::format("{}: the endpoint answered HTTP {} without an access_token", who,
                          response.status);
    r.retryable = false;
    return out;
  }
  r.error = fmt::format("{} failed with HTTP {}", who, response.status);
  r.retryable = transient_status;
  return out;
}

}  // namespace

struct OAuthTokens::State {
  explicit State(OAuthTokensOptions o) : options(std::move(o)) {}

  void finish(const std::string& connection, AccessTokenResult result, Clock::time_point expires) {
    std::vector<Done> waiters;
    {
      std::lock_guard lock(mu);
      auto it = entries.find(connection);
      if (it == entries.end()) return;
      Entry& e = *it->second;
      e.refreshing = false;
      if (result.error.empty()) {
        e.token = result.token;
        e.obtained = options.now();
        e.expires = expires;
      } else {
        e.token.clear();  // a refused refresh also ends the old token's use
      }
      waiters.swap(e.waiters);
    }
    for (auto& waiter : waiters) waiter(result);
  }

  const OAuthTokensOptions options;
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Entry>, std::less<>> entries;  // GUARDED_BY(mu)
};

OAuthTokens::OAuthTokens(HttpClient* http, OAuthTokensOptions options)
    : http_(http), state_(std::make_shared<State>(std::move(options))) {}

OAuthTokens::~OAuthTokens() = default;

void OAuthTokens::forget(const std::string& connection) {
  std::lock_guard lock(state_->mu);
  auto it = state_->entries.find(connection);
  // A refresh under way keeps its entry: its waiters are answered when it ends.
  if (it != state_->entries.end() && !it->second->refreshing) state_->entries.erase(it);
}

void OAuthTokens::get(const std::string& connection, const json::object& credentials,
                      bool force_refresh, Done done) {
  const std::string_view refresh_token = string_field(credentials, "refresh_token");
  if (refresh_token.empty()) {
    const std::string_view token = string_field(credentials, "access_token");
    AccessTokenResult r;
    if (token.empty()) {
      r.error = fmt::format(
          "connection `{}` has neither an access_token nor a refresh_token", connection);
    } else if (force_refresh) {
      r.error = fmt::format(
          "the API refused the access token of connection `{}`, which has no refresh_token to "
          "get a new one: replace the token",
          connection);
    } else {
      r.token = std::string(token);
    }
    done(std::move(r));
    return;
  }
  const std::string_view token_url = string_field(credentials, "token_url");
  const std::string_view client_id = string_field(credentials, "client_id");
  const std::string_view client_secret = string_field(credentials, "client_secret");
  for (auto [name, value] : {std::pair{"token_url", token_url}, std::pair{"client_id", client_id}}) {
    if (value.empty()) {
      AccessTokenResult r;
      r.error = fmt::format("connection `{}` has a refresh_token but no {}", connection, name);
      done(std::move(r));
      return;
    }
  }
  if (http_ == nullptr) {
    AccessTokenResult r;
    r.error = fmt::format("cannot refresh the token of connection `{}`: this flowpilot process "
                          "offers no HTTP client",
                          connection);
    done(std::move(r));
    return;
  }
  const std::string fingerprint = fmt::format("{}\n{}\n{}", token_url, client_id, refresh_token);
  const OAuthTokensOptions& options = state_->options;

  std::optional<AccessTokenResult> cached;
  bool start_refresh = false;
  {
    std::lock_guard lock(state_->mu);
    auto& slot = state_->entries[connection];
    if (!slot || (slot->fingerprint != fingerprint && !slot->refreshing)) {
      slot = std::make_shared<Entry>();
      slot->fingerprint = fingerprint;
    }
    Entry& entry = *slot;
    const auto now = options.now();
    if (entry.fingerprint == fingerprint && !entry.refreshing && !entry.token.empty()) {
      const bool fresh = now + options.refresh_margin < entry.expires;
      const bool just_obtained = now - entry.obtained < options.reuse_window;
      if (fresh && (!force_refresh || just_obtained)) {
        cached.emplace();
        cached->token = entry.token;
      }
    }
    if (!cached) {
      entry.waiters.push_back(std::move(done));
      // A refresh under way answers this caller too.
      start_refresh = !entry.refreshing;
      entry.refreshing = true;
    }
  }
  if (cached) {
    done(std::move(*cached));  // outside the lock: `done` may call back into this object
    return;
  }
  if (!start_refresh) return;

  HttpRequest request;
  request.method = "POST";
  request.url = std::string(token_url);
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = "grant_type=refresh_token&client_id=" + form_encode(client_id) +
                 "&refresh_token=" + form_encode(refresh_token);
  if (!client_secret.empty()) request.body += "&client_secret=" + form_encode(client_secret);
  request.timeout = options.request_timeout;
  request.retry_throttled = true;
  request.secrets = {std::string(refresh_token)};
  if (!client_secret.empty()) request.secrets.emplace_back(client_secret);
  std::weak_ptr<State> weak = state_;
  std::vector<std::string> secrets = request.secrets;
  http_->send(std::move(request), [weak, connection, secrets](HttpResponse response) {
    auto state = weak.lock();
    if (!state) return;
    Parsed parsed = parse_answer(connection, response, state->options.default_lifetime);
    // Endpoints sometimes quote the refresh token back in their error description.
    parsed.result.error = redact_secrets(std::move(parsed.result.error), secrets);
    const auto expires = state->options.now() + parsed.lifetime;
    state->finish(connection, std::move(parsed.result), expires);
  });
}

}  // namespace flowpilot::engine
