#include "engine/access/users.h"

#include "engine/access/detail/credentials.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace flowpilot::engine {

namespace {

constexpr unsigned long long kOpsLimit = 2;
constexpr std::size_t kMemLimit = 64u << 20;
constexpr std::size_t kMinPassword = 12;
constexpr std::size_t kMaxPassword = 1024;
constexpr std::size_t kMaxName = 200;

void ensure_sodium() {
  static const int rc = sodium_init();
  if (rc < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.remove_suffix(1);
  return text;
}

AccessError invalid(const std::string& message) { return AccessError(AccessError::Kind::invalid, message); }

AccessError not_found(std::string_view email) {
  return AccessError(AccessError::Kind::not_found, "there is no user `" + std::string(email) + "`");
}

void check_role(const std::string& role) {
  if (std::find(std::begin(kRoles), std::end(kRoles), role) == std::end(kRoles)) {
    throw invalid("role: `" + role + "` is not one of admin, editor, approver, viewer");
  }
}

void check_password(std::string_view password) {
  if (password.size() < kMinPassword) {
    throw invalid("password: it must be at least " + std::to_string(kMinPassword) + " characters");
  }
  if (password.size() > kMaxPassword) {
    throw invalid("password: it must be at most " + std::to_string(kMaxPassword) + " bytes");
  }
}

std::string new_user_id() { return "u_" + access_detail::random_hex(12); }

UserSummary summary_of(const UserRecord& r) {
  return {r.id, r.email, r.name, r.role, r.disabled, r.created_at, r.updated_at};
}

void put(Store& store, UserRecord record) {
  WriteBatch batch;
  batch.add(PutUser{std::move(record)});
  CommitResult result = store.commit(std::move(batch));
  if (result.error) std::rethrow_exception(result.error);
}

}  // namespace

std::string normalize_email(std::string_view email, std::string_view field) {
  std::string out(trim(email));
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto at = out.find('@');
  const bool shaped = at != std::string::npos && at > 0 && at + 1 < out.size() &&
                      out.find('@', at + 1) == std::string::npos &&
                      out.find('.', at + 2) != std::string::npos && out.back() != '.';
  const bool printable = std::all_of(out.begin(), out.end(), [](unsigned char c) {
    return c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != ',' && c != ';' && c != '"';
  });
  if (!shaped || !printable || out.size() > 254) {
    throw invalid(std::string(field) + ": `" + std::string(trim(email)).substr(0, 80) +
                  "` is not an email address");
  }
  return out;
}

std::string hash_password(std::string_view password) {
  ensure_sodium();
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), kOpsLimit, kMemLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("hashing the password ran out of memory");
  }
  return std::string(out.data());
}

bool password_matches(const std::string& hash, std::string_view password) {
  ensure_sodium();
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string generate_password() {
  ensure_sodium();
  // No 0/O, 1/l/I: a person may have to type it once.
  static constexpr std::string_view kAlphabet =
      "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  for (int i = 0; i < 20; ++i) {
    out += kAlphabet[randombytes_uniform(static_cast<std::uint32_t>(kAlphabet.size()))];
  }
  return out;
}

UserService::UserService(Store& store) : store_(store) {}

CreatedUser UserService::add(const NewUser& input) {
  UserRecord r;
  r.email = normalize_email(input.email);
  r.name = std::string(trim(input.name));
  if (r.name.size() > kMaxName) throw invalid("name: it must be at most 200 bytes");
  r.role = input.role;
  check_role(r.role);
  CreatedUser created;
  std::string password;
  if (input.password) {
    check_password(*input.password);
    password = *input.password;
  } else {
    password = generate_password();
    created.generated_password = password;
  }
  if (store_.get_user_by_email(r.email)) {
    throw AccessError(AccessError::Kind::exists, "email: a user `" + r.email + "` exists already");
  }
  r.id = new_user_id();
  r.password_hash = hash_password(password);
  r.created_at = r.updated_at = r.password_changed_at = now_millis();
  put(store_, r);
  created.user = summary_of(r);
  return created;
}

std::vector<UserSummary> UserService::list() {
  std::vector<UserSummary> out;
  for (const auto& r : store_.list_users()) out.push_back(summary_of(r));
  return out;
}

std::optional<UserSummary> UserService::get(std::string_view email) {
  auto r = store_.get_user_by_email(normalize_email(email));
  if (!r) return std::nullopt;
  return summary_of(*r);
}

std::optional<UserSummary> UserService::get_by_id(const std::string& user_id) {
  auto r = store_.get_user(user_id);
  if (!r) return std::nullopt;
  return summary_of(*r);
}

UserRecord UserService::must_get(std::string_view email) {
  const std::string normalized = normalize_email(email);
  auto r = store_.get_user_by_email(normalized);
  if (!r) throw not_found(normalized);
  return *r;
}

void UserService::keep_an_admin(const UserRecord& before, const UserRecord& after) {
  auto enabled_admin = [](const UserRecord& u) { return u.role == "admin" && !u.disabled; };
  if (!enabled_admin(before) || enabled_admin(after)) return;
  for (const auto& u : store_.list_users()) {
    if (u.id != before.id && enabled_admin(u)) return;
  }
  throw invalid("`" + before.email +
                "` is the last enabled admin; make another user admin first");
}

UserSummary UserService::set_disabled(std::string_view email, bool disabled) {
  UserRecord r = must_get(email);
  UserRecord changed = r;
  changed.disabled = disabled;
  keep_an_admin(r, changed);
  changed.updated_at = now_millis();
  WriteBatch batch;
  batch.add(PutUser{changed});
  if (disabled) batch.add(RevokeSessions{changed.id, changed.updated_at});
  CommitResult result = store_.commit(std::move(batch));
  if (result.error) std::rethrow_exception(result.error);
  return summary_of(changed);
}

UserSummary UserService::set_role(std::string_view email, const std::string& role) {
  check_role(role);
  UserRecord r = must_get(email);
  UserRecord changed = r;
  changed.role = role;
  keep_an_admin(r, changed);
  changed.updated_at = now_millis();
  put(store_, changed);
  return summary_of(changed);
}

std::optional<std::string> UserService::reset_password(std::string_view email,
                                                       std::optional<std::string> password) {
  UserRecord r = must_get(email);
  std::optional<std::string> generated;
  if (password) {
    check_password(*password);
  } else {
    password = generate_password();
    generated = password;
  }
  r.password_hash = hash_password(*password);
  r.updated_at = r.password_changed_at = now_millis();
  WriteBatch batch;
  batch.add(PutUser{r});
  batch.add(RevokeSessions{r.id, r.updated_at});
  CommitResult result = store_.commit(std::move(batch));
  if (result.error) std::rethrow_exception(result.error);
  return generated;
}

std::optional<UserSummary> UserService::verify(std::string_view email, std::string_view password) {
  // A fixed hash to verify against when the email is unknown, so that both paths cost one hash.
  static const std::string kDecoy = hash_password(generate_password());
  std::optional<UserRecord> r;
  try {
    r = store_.get_user_by_email(normalize_email(email));
  } catch (const AccessError&) {
  }
  const bool matches = password_matches(r ? r->password_hash : kDecoy, password);
  if (!r || !matches || r->disabled) return std::nullopt;
  return summary_of(*r);
}

bool UserService::empty() { return store_.list_users().empty(); }

}  // namespace flowpilot::engine
