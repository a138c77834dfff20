// The people who sign in: accounts with a role and an argon2id password hash, kept in the Store.
//
// Passwords are hashed with argon2id (libsodium crypto_pwhash, version 1.3) at 2 passes over
// 64 MiB, above the OWASP minimum (19 MiB, 2 passes); the encoded hash carries its parameters, so
// they can be raised later without breaking stored hashes. A password is 12 to 1,024 bytes; a
// generated one is 20 characters from a 56-letter alphabet without look-alikes (about 116 bits).
//
// Emails are compared lower-case and trimmed. Roles: admin (everything), editor (workflows, runs,
// connections use), approver (approvals and reading), viewer (read only).
//
// Errors: AccessError (principal.h) with a kind and a sentence naming the field.
// Thread-safety: the service holds no state of its own beyond the store, which is thread-safe;
// calls may come from any thread, but two concurrent changes to one user are not ordered (the
// last write wins).
//
// The last enabled admin cannot be disabled or given another role: an installation must keep
// someone who can manage it.
#pragma once

#include "engine/access/principal.h"
#include "engine/store/store.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::engine {


// What may be shown of a user: never the hash.
struct UserSummary {
  std::string id;
  std::string email;
  std::string name;
  std::string role;
  bool disabled = false;
  EpochMillis created_at = 0;
  EpochMillis updated_at = 0;
};

struct NewUser {
  std::string email;
  std::string name;
  std::string role = "viewer";
  std::optional<std::string> password;  // nullopt: one is generated and returned once
};

struct CreatedUser {
  UserSummary user;
  std::optional<std::string> generated_password;  // set only when one was generated
};

class UserService {
 public:
  explicit UserService(Store& store);

  CreatedUser add(const NewUser& input);
  std::vector<UserSummary> list();
  std::optional<UserSummary> get(std::string_view email);
  std::optional<UserSummary> get_by_id(const std::string& user_id);
  // Disabling also ends the user's sessions; their tokens stop working while they are disabled.
  UserSummary set_disabled(std::string_view email, bool disabled);
  UserSummary set_role(std::string_view email, const std::string& role);
  // Sets a new password (or generates one, returned) and ends the user's sessions (their
  // password_changed_at moves past every session's start).
  std::optional<std::string> reset_password(std::string_view email,
                                            std::optional<std::string> password);
  // The user when `password` is theirs and the account is enabled; nullopt otherwise. Takes the
  // time of a hash even for an unknown email, so that timing does not tell which emails exist.
  std::optional<UserSummary> verify(std::string_view email, std::string_view password);

  bool empty();  // no user at all (a fresh store)

 private:
  UserRecord must_get(std::string_view email);
  // Throws when `before` is the last enabled admin and `after` would no longer be one.
  void keep_an_admin(const UserRecord& before, const UserRecord& after);

  Store& store_;
};

// Lower-case, trimmed; throws AccessError(invalid) naming `field` when it is not an email address.
std::string normalize_email(std::string_view email, std::string_view field = "email");
std::string hash_password(std::string_view password);
bool password_matches(const std::string& hash, std::string_view password);
std::string generate_password();

}  // namespace flowpilot::engine
