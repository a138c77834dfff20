// The audit log: one append-only entry per change (workflows and their versions, runs started,
// cancelled, retried and re-run, approvals, connections, uploaded files, users, tokens, sessions
// ended by an admin), saying who, when, from where and what changed.
//
// Entries are written through the store's writer like everything else and never changed: the
// table refuses UPDATE and DELETE. `details` never holds a secret: record() drops the value of
// every member whose name suggests one (password, secret, token, key, authorization, cookie, at
// any depth) and writes "[redacted]" instead, as a last line of defence behind the callers, who
// do not put secrets there in the first place.
//
// Thread-safety: every member function may be called from any thread.
#pragma once

#include "engine/access/principal.h"
#include "engine/store/store.h"

#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::engine {

struct AuditEntry {
  // Who: a principal (session or token), or a command-line user.
  std::string actor_id;
  std::string actor_email;
  std::string actor_kind;  // session | token | cli | system
  std::string address;
  std::string action;
  std::string target;
  boost::json::object details;
  std::string request_id;
};

// The entry's actor fields for a principal.
void set_actor(AuditEntry& entry, const Principal& principal);
// The entry's actor fields for the person running a CLI command ($USER, or "cli").
void set_cli_actor(AuditEntry& entry);

// `details` with secret-looking members replaced by "[redacted]".
boost::json::object redact_secrets(boost::json::object details);

class AuditLog {
 public:
  explicit AuditLog(Store& store);

  // Queues the entry; `done` runs on the store's writer thread once it is durable (null error) or
  // failed.
  void record(AuditEntry entry, std::function<void(std::exception_ptr)> done);
  // Writes the entry and waits; throws what the store throws.
  void record_now(AuditEntry entry);
  std::vector<AuditRecord> list(const AuditFilter& filter);

 private:
  Store& store_;
};

// One entry as a JSON object (the API's and the export's format).
boost::json::object audit_json(const AuditRecord& record);

}  // namespace flowpilot::engine
