#include "engine/plugins/oauth_tokens.h"

#include "engine/http/http_client.h"

#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <vector>
#include <string_view>
#include <utility>

namespace flowpilot::engine {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using WallClock = std::chrono::system_clock;

namespace {

struct Entry {
  std::string fingerprint;  // the credentials the token was obtained with
  std::string token;
  Clock::time_point obtained{};
  Clock::time_point expires{};
  // Exchanged tokens only: the token `token` replaced, its expiry on the wall clock, and when a
  // failed early renewal may be tried again.
  std::string source;
  WallClock::time_point wall_expires{};
  WallClock::time_point retry_not_before{};
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

// Meta's answers to a token exchange: the token, or an error object with a numeric code.
Parsed parse_exchange_answer(const std::string& connection, const HttpResponse& response,
                             std::chrono::seconds default_lifetime) {
  json::error_code ec;
  json::value body = json::parse(response.body, ec);
  const json::object* obj = ec ? nullptr : body.if_object();
  const json::value* error = obj != nullptr ? obj->if_contains("error") : nullptr;
  if (error == nullptr || !error->is_object()) {
    Parsed out = parse_answer(connection, response, default_lifetime);
    if (!out.result.error.empty()) {
      out.result.error = "exchange of the access token of connection `" + connection +
                         "` failed: " + out.result.error;
    }
    return out;
  }
  const json::object& e = error->get_object();
  std::int64_t code = 0;
  if (const auto* c = e.if_contains("code"); c != nullptr && c->is_int64()) code = c->get_int64();
  const std::string_view message = string_field(e, "message");
  Parsed out;
  AccessTokenResult& r = out.result;
  r.error = fmt::format("exchange of the access token of connection `{}` was refused (HTTP {}, "
                        "code {}): {}",
                        connection, response.status, code, message);
  // Throttling and temporary errors pass; a refused token, app id or secret does not.
  r.retryable = response.status == 429 || response.status >= 500 || code == 2 || code == 4 ||
                code == 17 || code == 613;
  if (code == 190) {
    r.error += "; the token can no longer be exchanged (it expired or was revoked): create a new "
               "long-lived token and set it on the connection";
  } else if (!r.retryable) {
    r.error += "; check the connection's app_id and app_secret";
  }
  return out;
}

std::optional<WallClock::time_point> stored_expiry(const json::object& credentials) {
  const json::value* v = credentials.if_contains("token_expires_at");
  if (v == nullptr) return std::nullopt;
  std::int64_t seconds = -1;
  if (v->is_int64()) {
    seconds = v->get_int64();
  } else if (v->is_string()) {
    const std::string_view text = v->get_string();
    if (text.empty() || text.size() > 18 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    seconds = std::stoll(std::string(text));
  }
  if (seconds <= 0) return std::nullopt;
  return WallClock::time_point(std::chrono::seconds(seconds));
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

  void finish_exchange(const std::string& connection, AccessTokenResult result,
                       WallClock::time_point expires, const std::string& exchanged) {
    RenewalListener listener;
    std::vector<Done> waiters;
    {
      std::lock_guard lock(mu);
      auto it = entries.find(connection);
      if (it == entries.end()) return;
      Entry& e = *it->second;
      e.refreshing = false;
      if (result.error.empty()) {
        e.token = result.token;
        e.source = exchanged;
        e.obtained = options.now();
        e.wall_expires = expires;
        listener = listener_;
        if (listener) ++listener_calls;
      } else {
        e.token.clear();
        e.source.clear();
        e.retry_not_before = options.wall_now() + options.exchange_retry;
      }
      waiters.swap(e.waiters);
    }
    if (listener) {
      try {
        listener(connection, RenewedToken{result.token, expires});
      } catch (const std::exception&) {
        // The listener reports its own failures; the token is good either way.
      }
      std::lock_guard lock(mu);
      --listener_calls;
      listener_idle.notify_all();
    }
    for (auto& waiter : waiters) waiter(result);
  }

  const OAuthTokensOptions options;
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Entry>, std::less<>> entries;  // GUARDED_BY(mu)
  RenewalListener listener_;                                            // GUARDED_BY(mu)
  int listener_calls = 0;  // GUARDED_BY(mu): calls of a listener under way
  std::condition_variable listener_idle;
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

void OAuthTokens::set_renewal_listener(RenewalListener listener) {
  std::unique_lock lock(state_->mu);
  state_->listener_ = std::move(listener);
  // The previous listener may be running on the HTTP client's thread; its owner may be about to
  // go away.
  state_->listener_idle.wait(lock, [this] { return state_->listener_calls == 0; });
}

void OAuthTokens::get(const std::string& connection, const json::object& credentials,
                      bool force_refresh, Done done) {
  const std::string_view refresh_token = string_field(credentials, "refresh_token");
  if (refresh_token.empty() && !string_field(credentials, "app_id").empty() &&
      !string_field(credentials, "app_secret").empty() &&
      !string_field(credentials, "access_token").empty()) {
    exchange(connection, credentials, force_refresh, std::move(done));
    return;
  }
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

void OAuthTokens::exchange(const std::string& connection, const json::object& credentials,
                           bool force_refresh, Done done) {
  const std::string stored(string_field(credentials, "access_token"));
  const std::string app_id(string_field(credentials, "app_id"));
  const std::string app_secret(string_field(credentials, "app_secret"));
  std::string base_url(string_field(credentials, "base_url"));
  if (base_url.empty()) base_url = "https://graph.facebook.com";
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  std::string version(string_field(credentials, "api_version"));
  if (version.empty()) version = "v25.0";
  const std::optional<WallClock::time_point> stored_expires = stored_expiry(credentials);
  const std::string fingerprint = fmt::format("exchange\n{}\n{}\n{}", base_url, version, app_id);
  const OAuthTokensOptions& options = state_->options;

  std::optional<AccessTokenResult> cached;
  bool start = false;
  std::string exchanged;  // the token to exchange
  {
    std::lock_guard lock(state_->mu);
    auto& slot = state_->entries[connection];
    if (!slot || (slot->fingerprint != fingerprint && !slot->refreshing)) {
      slot = std::make_shared<Entry>();
      slot->fingerprint = fingerprint;
    }
    Entry& entry = *slot;
    // The renewed token stands for the stored one while the credentials still carry the token it
    // replaced (or already the renewed one); another stored token was set by a person.
    const bool renewed = !entry.token.empty() && (stored == entry.token || stored == entry.source);
    if (!renewed && !entry.refreshing) {
      entry.token.clear();
      entry.source.clear();
    }
    const std::string current = renewed ? entry.token : stored;
    const std::optional<WallClock::time_point> expires =
        renewed ? std::optional(entry.wall_expires) : stored_expires;
    const auto wall = options.wall_now();
    const bool due = !expires || *expires - wall < options.exchange_margin;
    const bool may_retry = wall >= entry.retry_not_before;
    const bool just_obtained = renewed && options.now() - entry.obtained < options.reuse_window;
    if (!entry.refreshing && (force_refresh ? just_obtained : (!due || !may_retry))) {
      cached.emplace();
      cached->token = current;
    } else {
      if (!entry.refreshing) {
        exchanged = current;
        start = true;
        entry.refreshing = true;
      }
      if (!force_refresh && (!expires || *expires > wall)) {
        // An early renewal that fails leaves the token in use, which is still valid.
        std::weak_ptr<State> weak = state_;
        done = [weak, current, expires, inner = std::move(done)](AccessTokenResult r) {
          auto state = weak.lock();
          if (!r.error.empty() && state && (!expires || state->options.wall_now() < *expires)) {
            r = AccessTokenResult{};
            r.token = current;
          }
          inner(std::move(r));
        };
      }
    }
    if (!cached) entry.waiters.push_back(std::move(done));
  }
  if (cached) {
    done(std::move(*cached));
    return;
  }
  if (!start) return;
  if (http_ == nullptr) {
    AccessTokenResult r;
    r.error = fmt::format("cannot renew the token of connection `{}`: this flowpilot process "
                          "offers no HTTP client",
                          connection);
    state_->finish_exchange(connection, std::move(r), {}, exchanged);
    return;
  }
  HttpRequest request;
  request.method = "GET";
  request.url = base_url + "/" + version + "/oauth/access_token?grant_type=fb_exchange_token" +
                "&client_id=" + form_encode(app_id) + "&client_secret=" + form_encode(app_secret) +
                "&fb_exchange_token=" + form_encode(exchanged);
  request.headers = {{"Accept", "application/json"}};
  request.timeout = options.request_timeout;
  request.retry_throttled = true;
  request.secrets = {app_secret, exchanged, form_encode(app_secret), form_encode(exchanged)};
  std::weak_ptr<State> weak = state_;
  std::vector<std::string> secrets = request.secrets;
  http_->send(std::move(request), [weak, connection, secrets, exchanged](HttpResponse response) {
    auto state = weak.lock();
    if (!state) return;
    Parsed parsed = parse_exchange_answer(connection, response,
                                          state->options.exchange_default_lifetime);
    parsed.result.error = redact_secrets(std::move(parsed.result.error), secrets);
    const auto expires = std::chrono::time_point_cast<std::chrono::seconds>(
        state->options.wall_now() + parsed.lifetime);
    state->finish_exchange(connection, std::move(parsed.result), expires, exchanged);
  });
}

}  // namespace flowpilot::engine
