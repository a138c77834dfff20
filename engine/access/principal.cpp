#include "engine/access/principal.h"

#include <algorithm>

#include <array>

namespace flowpilot::engine {

namespace {

constexpr std::array<std::string_view, kPermissionCount> kNames = {
    "workflows:read", "workflows:write",   "runs:read", "runs:write", "approvals",
    "connections:read", "connections:write", "pii:read", "admin"};

}  // namespace

std::string_view permission_name(Permission p) { return kNames[static_cast<std::size_t>(p)]; }

std::optional<Permission> parse_permission(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Permission>(i);
  }
  return std::nullopt;
}

PermissionSet PermissionSet::all() {
  PermissionSet s;
  s.bits_.set();
  return s;
}

PermissionSet PermissionSet::of_role(std::string_view role) {
  using P = Permission;
  PermissionSet s;
  if (role == "admin") return all();
  if (role == "editor") {
    for (P p : {P::workflows_read, P::workflows_write, P::runs_read, P::runs_write,
                P::connections_read}) {
      s.add(p);
    }
  } else if (role == "approver") {
    for (P p : {P::workflows_read, P::runs_read, P::approvals}) s.add(p);
  } else if (role == "viewer") {
    for (P p : {P::workflows_read, P::runs_read}) s.add(p);
  }
  return s;
}

PermissionSet PermissionSet::of_scopes(const std::vector<std::string>& scopes,
                                       std::string_view field) {
  PermissionSet s;
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    auto p = parse_permission(scopes[i]);
    if (!p) {
      std::string known;
      for (auto n : kNames) known += (known.empty() ? "" : ", ") + std::string(n);
      throw AccessError(AccessError::Kind::invalid,
                        std::string(field) + "[" + std::to_string(i) + "]: `" + scopes[i] +
                            "` is not a scope (one of " + known + ")");
    }
    if (*p == Permission::admin) return all();
    s.add(*p);
  }
  return s;
}

PermissionSet PermissionSet::operator&(const PermissionSet& other) const {
  PermissionSet s;
  s.bits_ = bits_ & other.bits_;
  return s;
}

std::vector<std::string> PermissionSet::names() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kPermissionCount; ++i) {
    if (bits_.test(i)) out.emplace_back(kNames[i]);
  }
  return out;
}

std::string_view principal_kind_name(Principal::Kind kind) {
  switch (kind) {
    case Principal::Kind::session: return "session";
    case Principal::Kind::token: return "token";
    case Principal::Kind::cli: return "cli";
  }
  return "session";
}

bool Principal::reaches(std::string_view workflow_id) const {
  return workflows.empty() ||
         std::find(workflows.begin(), workflows.end(), workflow_id) != workflows.end();
}

}  // namespace flowpilot::engine
