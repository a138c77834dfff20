// API tokens: what scripts and other services present as `Authorization: Bearer <token>`.
//
// A token is "fpt_" and 48 hex digits (192 random bits). It is shown once, when created; the
// store keeps its SHA-256 and its first 12 characters (the prefix, to recognise it in a list).
// It belongs to a user, carries scopes (principal.h) and expires: by default after 90 days,
// or never when asked explicitly. It may be limited to some workflows: then it reaches only those,
// their runs and approvals (other workflows are 403, lists leave them out), and nothing that is
// not tied to a workflow except reading plugins and connection types and validating.
// Its scopes must be within what its user's role grants, and it
// acts with the intersection of the two at every request, so a user whose role is lowered or who
// is disabled cannot go on using an older token to do more.
//
// Lookups are cached for up to 5 seconds: revocation through this service (the API) takes effect
// at once, and a revocation by another process (the CLI while the server runs) within 5 seconds.
//
// Errors: AccessError naming the field. Thread-safety: every member function may be called from
// any thread.
#pragma once

#include "engine/access/detail/credential_cache.h"
#include "engine/access/principal.h"
#include "engine/store/store.h"

#include <boost/json/object.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace flowpilot::engine {

struct TokenSummary {
  std::string id;
  std::string user_id;
  std::string user_email;
  std::string name;
  std::string prefix;
  std::vector<std::string> scopes;
  EpochMillis created_at = 0;
  EpochMillis expires_at = 0;  // 0: never
  EpochMillis revoked_at = 0;  // 0: live
  std::vector<std::string> workflows = {};  // empty: every workflow
};

struct NewToken {
  std::string user_email;
  std::string name;  // 1-100 characters, for the list; defaults to "token"
  std::vector<std::string> scopes;
  // nullopt: the default, 90 days; zero: never expires.
  std::optional<std::chrono::milliseconds> lifetime;
  // The only workflows the token reaches (ids; they need not exist yet); empty: every one.
  std::vector<std::string> workflows = {};
};

struct CreatedToken {
  TokenSummary token;
  std::string secret;  // shown once
};

// One token as JSON (the API's and the CLI's format): never the secret.
boost::json::object token_json(const TokenSummary& token);

// The principal a credential stands for, or why it was refused (a sentence for the 401).
using AuthOutcome = std::variant<Principal, std::string>;

// "30d", "12h", "90m", "never" -> a lifetime (zero for never). Throws AccessError(invalid)
// naming `field`.
std::chrono::milliseconds parse_token_lifetime(std::string_view text,
                                               std::string_view field = "expires");

class TokenService {
 public:
  explicit TokenService(Store& store);
  ~TokenService();
  TokenService(const TokenService&) = delete;
  TokenService& operator=(const TokenService&) = delete;

  CreatedToken create(const NewToken& input);
  // Every token of the user with that email, or of everybody for an empty email; newest first.
  std::vector<TokenSummary> list(std::string_view user_email);
  std::optional<TokenSummary> get(const std::string& token_id);
  // Idempotent: revoking a revoked token keeps its first revocation time.
  TokenSummary revoke(const std::string& token_id);
  AuthOutcome authenticate(std::string_view secret);
  // Drops cached lookups of the user's tokens, after a change to the user (disabled, new role).
  void forget_user(const std::string& user_id);

 private:
  Store& store_;
  std::unique_ptr<access_detail::CredentialCache<TokenRecord>> cache_;
};

}  // namespace flowpilot::engine
