#include "engine/access/tokens.h"

#include "engine/access/detail/credentials.h"
#include "engine/access/users.h"
#include "engine/loader/loader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <unordered_map>

namespace flowpilot::engine {

namespace {

using Clock = access_detail::CredentialCache<TokenRecord>::Clock;

constexpr std::string_view kSecretPrefix = "fpt_";
constexpr std::size_t kSecretBytes = 24;
constexpr std::size_t kSecretLength = kSecretPrefix.size() + 2 * kSecretBytes;
constexpr std::size_t kShownPrefix = 12;
constexpr std::size_t kMaxName = 100;
constexpr auto kDefaultLifetime = std::chrono::hours(24 * 90);

AccessError invalid(const std::string& message) {
  return AccessError(AccessError::Kind::invalid, message);
}

bool well_formed(std::string_view secret) {
  return secret.size() == kSecretLength && secret.starts_with(kSecretPrefix) &&
         std::all_of(secret.begin() + kSecretPrefix.size(), secret.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

void commit(Store& store, WriteOp op) {
  WriteBatch batch;
  batch.ops.push_back(std::move(op));
  CommitResult result = store.commit(std::move(batch));
  if (result.error) std::rethrow_exception(result.error);
}

}  // namespace

boost::json::object token_json(const TokenSummary& t) {
  boost::json::array scopes;
  for (const auto& s : t.scopes) scopes.push_back(boost::json::value(s));
  auto time_or_null = [](EpochMillis at) {
    return at == 0 ? boost::json::value(nullptr) : boost::json::value(at);
  };
  return {{"id", t.id},
          {"user", t.user_email},
          {"name", t.name},
          {"prefix", t.prefix},
          {"scopes", std::move(scopes)},
          {"created_at", t.created_at},
          {"expires_at", time_or_null(t.expires_at)},
          {"revoked_at", time_or_null(t.revoked_at)},
          {"workflows", t.workflows.empty() ? boost::json::value(nullptr)
                                            : boost::json::value(boost::json::array(
                                                  t.workflows.begin(), t.workflows.end()))}};
}

std::chrono::milliseconds parse_token_lifetime(std::string_view text, std::string_view field) {
  if (text == "never") return std::chrono::milliseconds::zero();
  long long n = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, n);
  const bool unit_follows = ec == std::errc() && ptr + 1 == end;
  if (!unit_follows || n <= 0 || n > 3650 * 24) {
    throw invalid(std::string(field) + ": `" + std::string(text).substr(0, 40) +
                  "` is not a lifetime (e.g. 30d, 12h, 90m, or never)");
  }
  switch (*ptr) {
    case 'm': return std::chrono::minutes(n);
    case 'h': return std::chrono::hours(n);
    case 'd': return std::chrono::hours(24 * n);
    default:
      throw invalid(std::string(field) + ": `" + std::string(text).substr(0, 40) +
                    "` has no unit m, h or d (e.g. 30d, or never)");
  }
}

TokenService::TokenService(Store& store)
    : store_(store), cache_(std::make_unique<access_detail::CredentialCache<TokenRecord>>()) {}
TokenService::~TokenService() = default;

namespace {

TokenSummary summary_of(const TokenRecord& r, const std::string& email) {
  return {r.id, r.user_id, email, r.name, r.prefix, r.scopes, r.created_at, r.expires_at,
          r.revoked_at, r.workflows};
}

}  // namespace

CreatedToken TokenService::create(const NewToken& input) {
  const std::string email = normalize_email(input.user_email, "user");
  auto user = store_.get_user_by_email(email);
  if (!user) throw AccessError(AccessError::Kind::not_found, "user: there is no user `" + email + "`");
  if (user->disabled) throw invalid("user: `" + email + "` is disabled");
  std::string name = input.name.empty() ? std::string("token") : input.name;
  if (name.size() > kMaxName ||
      std::any_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    throw invalid("name: at most 100 characters, without control characters");
  }
  if (input.scopes.empty()) throw invalid("scopes: name at least one scope");
  const PermissionSet wanted = PermissionSet::of_scopes(input.scopes);
  const PermissionSet role = PermissionSet::of_role(user->role);
  if (!role.contains(wanted)) {
    for (std::size_t i = 0; i < input.scopes.size(); ++i) {
      if (!role.contains(PermissionSet::of_scopes({input.scopes[i]}))) {
        throw AccessError(AccessError::Kind::forbidden,
                          "scopes[" + std::to_string(i) + "]: `" + input.scopes[i] +
                              "` is more than the role " + user->role + " of " + email +
                              " grants");
      }
    }
  }
  std::vector<std::string> scopes = input.scopes;
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  std::vector<std::string> workflows = input.workflows;
  for (std::size_t i = 0; i < workflows.size(); ++i) {
    if (!is_valid_workflow_id(workflows[i])) {
      throw invalid("workflows[" + std::to_string(i) + "]: `" + workflows[i] +
                    "` is not a workflow id (lower-case letters, digits, '-' and '_', at most 64)");
    }
  }
  std::sort(workflows.begin(), workflows.end());
  workflows.erase(std::unique(workflows.begin(), workflows.end()), workflows.end());

  CreatedToken created;
  created.secret = std::string(kSecretPrefix) + access_detail::random_hex(kSecretBytes);
  TokenRecord r;
  r.id = "t_" + access_detail::random_hex(12);
  r.user_id = user->id;
  r.name = std::move(name);
  r.secret_hash = access_detail::sha256_hex(created.secret);
  r.prefix = created.secret.substr(0, kShownPrefix);
  r.scopes = std::move(scopes);
  r.workflows = std::move(workflows);
  r.created_at = now_millis();
  const auto lifetime = input.lifetime.value_or(
      std::chrono::duration_cast<std::chrono::milliseconds>(kDefaultLifetime));
  r.expires_at = lifetime.count() == 0 ? 0 : r.created_at + lifetime.count();
  commit(store_, PutToken{r});
  created.token = summary_of(r, email);
  return created;
}

std::vector<TokenSummary> TokenService::list(std::string_view user_email) {
  std::string user_id;
  std::unordered_map<std::string, std::string> emails;
  for (const auto& u : store_.list_users()) emails[u.id] = u.email;
  if (!user_email.empty()) {
    const std::string email = normalize_email(user_email, "user");
    auto user = store_.get_user_by_email(email);
    if (!user) throw AccessError(AccessError::Kind::not_found, "user: there is no user `" + email + "`");
    user_id = user->id;
  }
  std::vector<TokenSummary> out;
  for (const auto& r : store_.list_tokens(user_id)) out.push_back(summary_of(r, emails[r.user_id]));
  return out;
}

std::optional<TokenSummary> TokenService::get(const std::string& token_id) {
  auto r = store_.get_token(token_id);
  if (!r) return std::nullopt;
  auto user = store_.get_user(r->user_id);
  return summary_of(*r, user ? user->email : std::string());
}

TokenSummary TokenService::revoke(const std::string& token_id) {
  auto r = store_.get_token(token_id);
  if (!r) throw AccessError(AccessError::Kind::not_found, "there is no token `" + token_id + "`");
  if (r->revoked_at == 0) {
    r->revoked_at = now_millis();
    commit(store_, PutToken{*r});
  }
  cache_->forget(r->secret_hash);
  auto user = store_.get_user(r->user_id);
  return summary_of(*r, user ? user->email : std::string());
}

void TokenService::forget_user(const std::string& user_id) { cache_->forget_user(user_id); }

AuthOutcome TokenService::authenticate(std::string_view secret) {
  if (!well_formed(secret)) return std::string("the bearer token is not a Flowpilot API token");
  const std::string hash = access_detail::sha256_hex(secret);
  auto entry = cache_->get(hash, Clock::now());
  if (!entry) {
    auto token = store_.get_token_by_hash(hash);
    if (!token) return std::string("the bearer token is unknown");
    auto user = store_.get_user(token->user_id);
    if (!user) return std::string("the bearer token's user no longer exists");
    entry.emplace(std::move(*token), std::move(*user), Clock::now());
    cache_->put(hash, *entry);
  }
  const TokenRecord& token = entry->record;
  const UserRecord& user = entry->user;
  if (token.revoked_at != 0) return std::string("the bearer token was revoked");
  if (token.expires_at != 0 && now_millis() >= token.expires_at) {
    return std::string("the bearer token expired");
  }
  if (user.disabled) return std::string("the bearer token's user is disabled");
  Principal p = access_detail::principal_of(user, Principal::Kind::token);
  p.permissions = p.permissions & PermissionSet::of_scopes(token.scopes);
  p.credential_id = token.id;
  p.workflows = token.workflows;
  return p;
}

}  // namespace flowpilot::engine
