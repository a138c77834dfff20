// Who is calling and what they may do: the permissions a route can require, the four roles, the
// scopes an API token carries, and the Principal a request is made by.
//
// Permissions are the scopes of API tokens, one to one: workflows:read, workflows:write,
// runs:read, runs:write, approvals, connections:read, connections:write, pii:read and admin.
// A role grants a fixed set (docs/access.md):
//   admin    - everything;
//   editor   - workflows and runs, read and write, and reading (using) connections;
//   approver - approvals, and reading workflows and runs;
//   viewer   - reading workflows and runs.
// The scope `admin` stands for every permission. A token acts with the permissions its scopes
// name and its user's role grants (the intersection), so a token never does more than its owner.
//
// Errors in this layer are AccessError exceptions with a kind and a sentence naming the field.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::engine {

enum class Permission : std::uint8_t {
  workflows_read,
  workflows_write,
  runs_read,
  runs_write,
  approvals,
  connections_read,
  connections_write,
  pii_read,
  admin,
};
inline constexpr std::size_t kPermissionCount = 9;

// "workflows:read", ...
std::string_view permission_name(Permission p);
std::optional<Permission> parse_permission(std::string_view name);

class PermissionSet {
 public:
  PermissionSet() = default;
  static PermissionSet all();
  // The permissions of a role; empty for an unknown role.
  static PermissionSet of_role(std::string_view role);
  // The permissions scopes grant: `admin` grants all. Throws AccessError(invalid) naming
  // `field` for an unknown scope.
  static PermissionSet of_scopes(const std::vector<std::string>& scopes,
                                 std::string_view field = "scopes");

  bool has(Permission p) const { return bits_.test(static_cast<std::size_t>(p)); }
  void add(Permission p) { bits_.set(static_cast<std::size_t>(p)); }
  bool contains(const PermissionSet& other) const { return (other.bits_ & ~bits_).none(); }
  PermissionSet operator&(const PermissionSet& other) const;
  bool empty() const { return bits_.none(); }
  // The names, in declaration order.
  std::vector<std::string> names() const;

 private:
  std::bitset<kPermissionCount> bits_;
};

inline constexpr std::string_view kRoles[] = {"admin", "editor", "approver", "viewer"};

// The authenticated caller of one request.
struct Principal {
  enum class Kind { session, token, cli };
  Kind kind = Kind::session;
  std::string user_id;
  std::string email;
  std::string name;
  std::string role;
  PermissionSet permissions;
  std::string credential_id;  // the token's id, or the session's id hash
  std::string csrf_token;     // sessions only: what state-changing requests must echo
  // A token limited to some workflows reaches only those, their runs and their approvals;
  // empty: every workflow.
  std::vector<std::string> workflows;

  bool can(Permission p) const { return permissions.has(p); }
  bool reaches(std::string_view workflow_id) const;
  bool limited_to_workflows() const { return !workflows.empty(); }
};

std::string_view principal_kind_name(Principal::Kind kind);  // "session", "token", "cli"

class AccessError : public std::runtime_error {
 public:
  enum class Kind { invalid, not_found, exists, forbidden };
  AccessError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

}  // namespace flowpilot::engine
