#include "engine/connections/connections.h"

#include "engine/http/http_client.h"
#include "engine/plugins/oauth_tokens.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <future>
#include <set>

namespace flowpilot::engine {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxValueBytes = 8192;

std::string field_path(std::string_view field) { return "fields." + std::string(field); }

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (!std::isalnum(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

bool is_http_url(std::string_view value) {
  std::string_view rest;
  if (value.substr(0, 8) == "https://") {
    rest = value.substr(8);
  } else if (value.substr(0, 7) == "http://") {
    rest = value.substr(7);
  } else {
    return false;
  }
  const std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (host.empty() || host.front() == ':' || host.find('@') != std::string_view::npos) return false;
  return std::none_of(value.begin(), value.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
  });
}

// The value as it may appear in a message: secret values never do.
std::string shown(const ConnectionField& field, std::string_view value) {
  if (field.secret) return "the value";
  std::string v(value.substr(0, 80));
  return "`" + v + (value.size() > 80 ? "...`" : "`");
}

void check_value(const ConnectionField& field, const std::string& value,
                 std::vector<ConnectionProblem>& problems) {
  const std::string path = field_path(field.name);
  if (value.size() > kMaxValueBytes) {
    problems.push_back({path, fmt::format("is longer than {} bytes", kMaxValueBytes)});
    return;
  }
  if (std::any_of(value.begin(), value.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    problems.push_back({path, "contains a control character (newline, tab, ...)"});
    return;
  }
  if (field.kind == "url" && !is_http_url(value)) {
    problems.push_back({path, shown(field, value) +
                                  " is not an http(s) URL with a host (e.g. https://api.example.com)"});
  } else if (field.kind == "digits" &&
             !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    problems.push_back({path, shown(field, value) + " must be digits only (no dashes or prefix)"});
  } else if (field.kind == "choice" &&
             std::find(field.choices.begin(), field.choices.end(), value) == field.choices.end()) {
    std::string choices;
    for (auto c : field.choices) choices += (choices.empty() ? "" : ", ") + std::string(c);
    problems.push_back({path, shown(field, value) + " is not one of " + choices});
  }
}

const ConnectionField* find_field(const ConnectionType& type, std::string_view name) {
  for (const auto& f : type.fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// The value in effect: the set one, else the field's default.
std::string effective(const ConnectionType& type, const std::map<std::string, std::string>& values,
                      std::string_view name) {
  if (auto it = values.find(std::string(name)); it != values.end()) return it->second;
  if (const auto* f = find_field(type, name)) return std::string(f->default_value);
  return {};
}

// Rules across fields: which are required, at least one of a group, OAuth2 completeness, and the
// http authentication method's own fields.
void check_whole(const ConnectionType& type, const std::map<std::string, std::string>& values,
                 std::vector<ConnectionProblem>& problems) {
  for (const auto& f : type.fields) {
    if (f.required && values.count(std::string(f.name)) == 0) {
      problems.push_back({field_path(f.name), fmt::format("is required for {} connections", type.name)});
    }
  }
  if (!type.one_of.empty()) {
    bool any = false;
    std::string names;
    for (auto f : type.one_of) {
      any = any || values.count(std::string(f)) > 0;
      names += (names.empty() ? "" : " or ") + std::string(f);
    }
    if (!any) {
      problems.push_back({field_path(type.one_of.front()),
                          fmt::format("{} connections need {}", type.name, names)});
    }
  }
  if (type.oauth2 && values.count("refresh_token") > 0) {
    for (std::string_view needed : {"client_id", "client_secret"}) {
      if (values.count(std::string(needed)) == 0 && !find_field(type, needed)->required) {
        problems.push_back({field_path(needed), "is required with a refresh_token"});
      }
    }
  }
  if (type.name == "meta_ads" && (values.count("app_id") > 0) != (values.count("app_secret") > 0)) {
    // One without the other cannot renew the token.
    problems.push_back({field_path(values.count("app_id") > 0 ? "app_secret" : "app_id"),
                        "is required with " +
                            std::string(values.count("app_id") > 0 ? "app_id" : "app_secret") +
                            " (both are needed to renew the access token)"});
  }
  if (type.name == "http") {
    const std::string auth = effective(type, values, "auth");
    auto need = [&](std::string_view field) {
      if (values.count(std::string(field)) == 0) {
        problems.push_back({field_path(field), "is required with auth " + auth});
      }
    };
    if (auth == "bearer") need("token");
    if (auth == "basic") need("username");
    if (auth == "header") {
      need("header_name");
      need("header_value");
    }
  }
}

void check_rate_limit(const RateLimit& limit, std::vector<ConnectionProblem>& problems) {
  if (!std::isfinite(limit.per_second) || limit.per_second < 0) {
    problems.push_back({"rate_limit.per_second", "must be a number of calls per second, 0 or more "
                                                 "(0: unlimited)"});
  }
  if (!std::isfinite(limit.burst) || limit.burst < 1) {
    problems.push_back({"rate_limit.burst", "must be a number, 1 or more"});
  }
}

std::string associated_data(const std::string& name, const std::string& type) {
  return "connection\n" + name + "\n" + type;
}

json::object rate_json(const RateLimit& r) {
  return json::object{{"per_second", r.per_second}, {"burst", r.burst}};
}

std::optional<RateLimit> rate_from_config(const json::object& config) {
  const auto* r = config.if_contains("rate_limit");
  if (r == nullptr || !r->is_object()) return std::nullopt;
  RateLimit out;
  if (const auto* v = r->as_object().if_contains("per_second"); v && v->is_number()) {
    out.per_second = v->to_number<double>();
  }
  if (const auto* v = r->as_object().if_contains("burst"); v && v->is_number()) {
    out.burst = v->to_number<double>();
  }
  return out;
}

const json::object& config_object(const ConnectionRecord& r) {
  static const json::object empty;
  return r.config.is_object() ? r.config.as_object() : empty;
}

ConnectionSummary summarize(const ConnectionRecord& r) {
  ConnectionSummary s;
  s.name = r.name;
  s.type = r.type;
  const json::object& config = config_object(r);
  if (const auto* f = config.if_contains("fields"); f && f->is_object()) s.config = f->as_object();
  if (const auto* set = config.if_contains("secrets_set"); set && set->is_array()) {
    for (const auto& v : set->as_array()) {
      if (v.is_string()) s.secret_fields_set.emplace_back(v.as_string());
    }
  }
  const ConnectionType* type = find_connection_type(r.type);
  if (auto rate = rate_from_config(config)) {
    s.rate_limit = *rate;
    s.custom_rate_limit = true;
  } else if (type != nullptr) {
    s.rate_limit = type->rate_limit;
  }
  s.key_id = r.key_id;
  s.created_at = r.created_at;
  s.updated_at = r.updated_at;
  return s;
}

}  // namespace

ConnectionError::ConnectionError(Kind kind, std::string message,
                                 std::vector<ConnectionProblem> problems)
    : std::runtime_error(std::move(message)), kind_(kind), problems_(std::move(problems)) {}

json::object to_json(const ConnectionSummary& s) {
  json::array secrets;
  for (const auto& f : s.secret_fields_set) secrets.emplace_back(f);
  return json::object{{"name", s.name},
                      {"type", s.type},
                      {"fields", s.config},
                      {"secret_fields_set", std::move(secrets)},
                      {"rate_limit", rate_json(s.rate_limit)},
                      {"rate_limit_default", !s.custom_rate_limit},
                      {"key_id", s.key_id},
                      {"created_at", s.created_at},
                      {"updated_at", s.updated_at}};
}

ConnectionService::ConnectionService(Store& store, Keyring keyring)
    : store_(store), keyring_(std::move(keyring)) {}

void ConnectionService::set_key_reloader(std::function<std::optional<Keyring>()> reload) {
  std::lock_guard lock(mu_);
  reload_ = std::move(reload);
}

void ConnectionService::set_listener(Listener listener) {
  std::lock_guard lock(mu_);
  listener_ = std::move(listener);
}

Keyring ConnectionService::keyring_for(const ConnectionRecord& record) {
  std::function<std::optional<Keyring>()> reload;
  {
    std::lock_guard lock(mu_);
    if (keyring_.has(record.key_id) || !reload_) return keyring_;
    reload = reload_;
  }
  // Another process (`flowpilot secrets rotate-key`) may have added a key since we loaded ours.
  std::optional<Keyring> fresh;
  try {
    fresh = reload();
  } catch (const SecretsError&) {
    fresh.reset();
  }
  std::lock_guard lock(mu_);
  if (fresh && fresh->has(record.key_id)) keyring_ = std::move(*fresh);
  return keyring_;
}

json::object ConnectionService::open_secrets(const ConnectionRecord& record, const Keyring& keyring) {
  if (keyring.empty()) {
    throw ConnectionError(ConnectionError::Kind::key,
                          "connection `" + record.name +
                              "` cannot be decrypted: no master key is configured "
                              "(FLOWPILOT_MASTER_KEY or a key file)");
  }
  std::string plain;
  try {
    plain = keyring.open(SealedValue{record.key_id, record.nonce, record.ciphertext},
                         associated_data(record.name, record.type));
  } catch (const SecretsError& e) {
    throw ConnectionError(ConnectionError::Kind::key,
                          "connection `" + record.name + "` cannot be decrypted: " + e.what());
  }
  boost::system::error_code ec;
  json::value v = json::parse(plain, ec);
  std::fill(plain.begin(), plain.end(), '\0');
  if (ec || !v.is_object()) {
    throw ConnectionError(ConnectionError::Kind::key,
                          "connection `" + record.name + "`: the decrypted value is not an object");
  }
  return std::move(v.as_object());
}

ConnectionRecord ConnectionService::seal(const std::string& name, const std::string& type_name,
                                         const std::map<std::string, std::string>& values,
                                         std::optional<RateLimit> rate_limit,
                                         EpochMillis created_at) {
  const ConnectionType& type = *find_connection_type(type_name);
  json::object fields;
  json::object secrets;
  json::array secrets_set;
  for (const auto& [key, value] : values) {
    if (find_field(type, key)->secret) {
      secrets[key] = value;
      secrets_set.emplace_back(key);
    } else {
      fields[key] = value;
    }
  }
  json::object config{{"fields", std::move(fields)}, {"secrets_set", std::move(secrets_set)}};
  if (rate_limit) config["rate_limit"] = rate_json(*rate_limit);
  std::string plain = json::serialize(secrets);
  if (keyring_.empty()) {
    throw ConnectionError(ConnectionError::Kind::key,
                          "no master key is configured: set FLOWPILOT_MASTER_KEY or a key file");
  }
  const SealedValue sealed = keyring_.seal(plain, associated_data(name, type_name));
  std::fill(plain.begin(), plain.end(), '\0');
  ConnectionRecord r;
  r.name = name;
  r.type = type_name;
  r.config = std::move(config);
  r.key_id = sealed.key_id;
  r.nonce = sealed.nonce;
  r.ciphertext = sealed.ciphertext;
  r.updated_at = now_millis();
  r.created_at = created_at == 0 ? r.updated_at : created_at;
  return r;
}

namespace {

// Validates the input's fields against `type` and merges them over `base`.
std::map<std::string, std::string> merge_fields(const ConnectionType& type,
                                                const ConnectionInput& input,
                                                std::map<std::string, std::string> base,
                                                std::vector<ConnectionProblem>& problems) {
  for (const auto& [key, value] : input.fields) {
    const ConnectionField* field = find_field(type, key);
    if (field == nullptr) {
      std::string known;
      for (const auto& f : type.fields) known += (known.empty() ? "" : ", ") + std::string(f.name);
      problems.push_back({field_path(key), fmt::format("unknown field for {} connections; known: {}",
                                                       type.name, known)});
      continue;
    }
    if (!value || value->empty()) {
      base.erase(key);
      continue;
    }
    check_value(*field, *value, problems);
    base[key] = *value;
  }
  return base;
}

ConnectionError invalid(std::vector<ConnectionProblem> problems) {
  std::string message = "invalid connection:";
  for (const auto& p : problems) message += " " + p.path + ": " + p.message + ";";
  message.pop_back();
  return ConnectionError(ConnectionError::Kind::invalid, std::move(message), std::move(problems));
}

void commit_or_throw(Store& store, WriteBatch batch) {
  CommitResult result = store.commit(std::move(batch));
  if (result.error) std::rethrow_exception(result.error);
}

}  // namespace

ConnectionSummary ConnectionService::add(const ConnectionInput& input) {
  std::vector<ConnectionProblem> problems;
  if (!valid_name(input.name)) {
    problems.push_back({"name", "must be 1 to 64 letters, digits, `_`, `-` or `.`, starting with a "
                                "letter or digit"});
  }
  const ConnectionType* type = find_connection_type(input.type);
  if (type == nullptr) {
    std::string known;
    for (const auto& t : connection_types()) known += (known.empty() ? "" : ", ") + std::string(t.name);
    problems.push_back({"type", (input.type.empty() ? std::string("is required")
                                                    : "unknown connection type `" + input.type + "`") +
                                    "; one of " + known});
    throw invalid(std::move(problems));
  }
  auto values = merge_fields(*type, input, {}, problems);
  if (problems.empty()) check_whole(*type, values, problems);
  if (input.rate_limit) check_rate_limit(*input.rate_limit, problems);
  if (!problems.empty()) throw invalid(std::move(problems));

  std::lock_guard lock(mu_);
  if (store_.get_connection(input.name)) {
    throw ConnectionError(ConnectionError::Kind::exists,
                          "connection `" + input.name + "` already exists; update or remove it");
  }
  ConnectionRecord record = seal(input.name, input.type, values, input.rate_limit, 0);
  WriteBatch batch;
  batch.add(PutConnection{record});
  commit_or_throw(store_, std::move(batch));
  ConnectionSummary summary = summarize(record);
  if (listener_) listener_(summary.name, summary.rate_limit);
  return summary;
}

ConnectionSummary ConnectionService::update(const ConnectionInput& input) {
  std::lock_guard lock(mu_);
  auto existing = store_.get_connection(input.name);
  if (!existing) {
    throw ConnectionError(ConnectionError::Kind::not_found,
                          "connection `" + input.name + "` does not exist");
  }
  std::vector<ConnectionProblem> problems;
  if (!input.type.empty() && input.type != existing->type) {
    problems.push_back({"type", "a connection's type cannot change (it is " + existing->type +
                                    "); remove the connection and add it again"});
    throw invalid(std::move(problems));
  }
  const ConnectionType* type = find_connection_type(existing->type);
  if (type == nullptr) {
    throw ConnectionError(ConnectionError::Kind::invalid,
                          "connection `" + input.name + "` has unknown type `" + existing->type + "`");
  }
  std::map<std::string, std::string> base;
  const ConnectionSummary old = summarize(*existing);
  for (const auto& [key, value] : old.config) {
    if (value.is_string()) base[std::string(key)] = std::string(value.as_string());
  }
  for (const auto& [key, value] : open_secrets(*existing, keyring_)) {
    if (value.is_string()) base[std::string(key)] = std::string(value.as_string());
  }
  auto values = merge_fields(*type, input, std::move(base), problems);
  if (problems.empty()) check_whole(*type, values, problems);
  std::optional<RateLimit> rate = input.rate_limit;
  if (rate) {
    check_rate_limit(*rate, problems);
  } else {
    rate = rate_from_config(config_object(*existing));
  }
  if (!problems.empty()) throw invalid(std::move(problems));
  ConnectionRecord record = seal(input.name, existing->type, values, rate, existing->created_at);
  WriteBatch batch;
  batch.add(PutConnection{record});
  commit_or_throw(store_, std::move(batch));
  ConnectionSummary summary = summarize(record);
  if (listener_) listener_(summary.name, summary.rate_limit);
  return summary;
}

std::vector<ConnectionSummary> ConnectionService::list() {
  std::vector<ConnectionSummary> out;
  for (const auto& r : store_.list_connections()) out.push_back(summarize(r));
  return out;
}

std::optional<ConnectionSummary> ConnectionService::get(const std::string& name) {
  auto r = store_.get_connection(name);
  if (!r) return std::nullopt;
  return summarize(*r);
}

bool ConnectionService::remove(const std::string& name) {
  std::lock_guard lock(mu_);
  if (!store_.get_connection(name)) return false;
  WriteBatch batch;
  batch.add(DeleteConnection{name});
  commit_or_throw(store_, std::move(batch));
  if (listener_) listener_(name, std::nullopt);
  return true;
}

std::optional<json::object> ConnectionService::credentials(const std::string& name) {
  auto record = store_.get_connection(name);
  if (!record) return std::nullopt;
  const ConnectionType* type = find_connection_type(record->type);
  json::object out;
  if (type != nullptr) {
    for (const auto& f : type->fields) {
      if (!f.default_value.empty()) out[f.name] = f.default_value;
    }
  }
  const ConnectionSummary s = summarize(*record);
  for (const auto& [key, value] : s.config) out[key] = value;
  for (const auto& [key, value] : open_secrets(*record, keyring_for(*record))) out[key] = value;
  if (record->type == "http") {
    // The names the http plugin reads.
    // Copies first: inserting into `out` may move the element a pointer into it refers to.
    if (auto* auth = out.if_contains("auth")) {
      const json::value scheme = *auth;
      out.erase("auth");
      if (scheme.as_string() != "none") out["type"] = scheme;
    }
    if (auto* v = out.if_contains("header_name")) {
      const json::value header = *v;
      out.erase("header_name");
      out["name"] = header;
    }
    if (auto* v = out.if_contains("header_value")) {
      const json::value header = *v;
      out.erase("header_value");
      out["value"] = header;
    }
  }
  out["connection_type"] = record->type;
  return out;
}

std::optional<RateLimit> ConnectionService::rate_limit(const std::string& name) {
  auto s = get(name);
  if (!s) return std::nullopt;
  return s->rate_limit;
}

void ConnectionService::test_async(const std::string& name, HttpClient* http, TestDone done) {
  ConnectionTestReport report;
  auto record = store_.get_connection(name);
  if (!record) {
    throw ConnectionError(ConnectionError::Kind::not_found, "connection `" + name + "` does not exist");
  }
  const ConnectionType* type = find_connection_type(record->type);
  if (type == nullptr) {
    report.ok = false;
    report.error = "unknown connection type `" + record->type + "`";
    return done(std::move(report));
  }
  json::object secrets;
  try {
    secrets = open_secrets(*record, keyring_for(*record));
  } catch (const ConnectionError& e) {
    report.ok = false;
    report.error = e.what();
    return done(std::move(report));
  }
  report.checks.push_back("decrypted the secret fields with master key `" + record->key_id + "`");

  std::map<std::string, std::string> values;
  for (const auto& [key, value] : summarize(*record).config) {
    if (value.is_string()) values[std::string(key)] = std::string(value.as_string());
  }
  std::vector<std::string> secret_values;
  for (const auto& [key, value] : secrets) {
    if (!value.is_string()) continue;
    values[std::string(key)] = std::string(value.as_string());
    secret_values.emplace_back(value.as_string());
  }
  std::vector<ConnectionProblem> problems;
  for (const auto& [key, value] : values) {
    const ConnectionField* field = find_field(*type, key);
    if (field == nullptr) {
      problems.push_back({field_path(key), "unknown field for " + std::string(type->name)});
    } else {
      check_value(*field, value, problems);
    }
  }
  check_whole(*type, values, problems);
  if (!problems.empty()) {
    report.ok = false;
    report.error = invalid(std::move(problems)).what();
    return done(std::move(report));
  }
  report.checks.push_back("validated the stored fields against type " + std::string(type->name));

  if (!type->oauth2 || values.count("refresh_token") == 0) {
    report.checks.push_back("made no network call: " + std::string(type->name) +
                            " connections without a refresh token are checked offline");
    return done(std::move(report));
  }
  const std::string token_url = effective(*type, values, "token_url");
  if (http == nullptr) {
    report.checks.push_back("skipped the token refresh at " + token_url + ": no HTTP client");
    return done(std::move(report));
  }
  // The same refresh the plugins get their tokens from, with nothing cached: a test must reach
  // the endpoint.
  json::object credentials;
  for (const auto& [key, value] : values) credentials[key] = value;
  credentials["token_url"] = token_url;
  OAuthTokensOptions token_options;
  token_options.request_timeout = std::chrono::milliseconds(15'000);
  // A refresh in flight is dropped with its OAuthTokens, so the callback keeps it alive; the
  // callback is released (and with it the OAuthTokens) once it has run.
  auto tokens = std::make_shared<OAuthTokens>(http, token_options);
  tokens->get(name, credentials, true,
              [tokens, report = std::move(report), token_url,
               secret_values = std::move(secret_values),
               done = std::move(done)](AccessTokenResult result) mutable {
                if (!result.error.empty()) {
                  report.ok = false;
                  report.error = redact_secrets(result.error, secret_values);
                } else {
                  report.checks.push_back(
                      fmt::format("refreshed an access token at {} (expires in {} s)", token_url,
                                  result.lifetime.count()));
                }
                done(std::move(report));
              });
}

ConnectionTestReport ConnectionService::test(const std::string& name, HttpClient* http) {
  auto promise = std::make_shared<std::promise<ConnectionTestReport>>();
  auto future = promise->get_future();
  test_async(name, http, [promise](ConnectionTestReport r) { promise->set_value(std::move(r)); });
  return future.get();
}

std::size_t ConnectionService::rotate(const Keyring& keyring) {
  std::lock_guard lock(mu_);
  WriteBatch batch;
  const auto records = store_.list_connections();
  for (const auto& record : records) {
    json::object secrets;
    try {
      secrets = open_secrets(record, keyring.has(record.key_id) ? keyring : keyring_);
    } catch (const ConnectionError& e) {
      throw ConnectionError(ConnectionError::Kind::key,
                            std::string(e.what()) + "; nothing was re-encrypted");
    }
    std::string plain = json::serialize(secrets);
    const SealedValue sealed = keyring.seal(plain, associated_data(record.name, record.type));
    std::fill(plain.begin(), plain.end(), '\0');
    ConnectionRecord next = record;
    next.key_id = sealed.key_id;
    next.nonce = sealed.nonce;
    next.ciphertext = sealed.ciphertext;
    batch.add(PutConnection{std::move(next)});
  }
  if (!batch.empty()) commit_or_throw(store_, std::move(batch));
  keyring_ = keyring;
  return records.size();
}

std::vector<std::string> ConnectionService::key_ids_in_use() {
  std::set<std::string> ids;
  for (const auto& r : store_.list_connections()) ids.insert(r.key_id);
  return {ids.begin(), ids.end()};
}

}  // namespace flowpilot::engine
