#include "engine/access/audit.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace flowpilot::engine {

namespace {

bool secret_name(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view word : {"password", "secret", "token", "authorization", "cookie",
                                "api_key", "apikey", "private_key", "credential"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

void redact(boost::json::value& value) {
  if (auto* o = value.if_object()) {
    for (auto& [key, member] : *o) {
      if (secret_name(key)) member = "[redacted]";
      else redact(member);
    }
  } else if (auto* a = value.if_array()) {
    for (auto& item : *a) redact(item);
  }
}

AuditRecord to_record(AuditEntry entry) {
  AuditRecord r;
  r.at = now_millis();
  r.actor_id = std::move(entry.actor_id);
  r.actor_email = std::move(entry.actor_email);
  r.actor_kind = entry.actor_kind.empty() ? std::string("system") : std::move(entry.actor_kind);
  r.address = std::move(entry.address);
  r.action = std::move(entry.action);
  r.target = std::move(entry.target);
  r.details = redact_secrets(std::move(entry.details));
  r.request_id = std::move(entry.request_id);
  return r;
}

}  // namespace

void set_actor(AuditEntry& entry, const Principal& principal) {
  entry.actor_id = principal.user_id;
  entry.actor_email = principal.email;
  entry.actor_kind = std::string(principal_kind_name(principal.kind));
}

void set_cli_actor(AuditEntry& entry) {
  const char* user = std::getenv("USER");
  entry.actor_id.clear();
  entry.actor_email = user != nullptr && *user != '\0' ? user : "cli";
  entry.actor_kind = "cli";
}

boost::json::object redact_secrets(boost::json::object details) {
  boost::json::value v(std::move(details));
  redact(v);
  return std::move(v.as_object());
}

AuditLog::AuditLog(Store& store) : store_(store) {}

void AuditLog::record(AuditEntry entry, std::function<void(std::exception_ptr)> done) {
  WriteBatch batch;
  batch.add(AppendAudit{to_record(std::move(entry))});
  store_.submit(std::move(batch), [done = std::move(done)](CommitResult result) {
    if (done) done(result.error);
  });
}

void AuditLog::record_now(AuditEntry entry) {
  WriteBatch batch;
  batch.add(AppendAudit{to_record(std::move(entry))});
  CommitResult result = store_.commit(std::move(batch));
  if (result.error) std::rethrow_exception(result.error);
}

std::vector<AuditRecord> AuditLog::list(const AuditFilter& filter) { return store_.list_audit(filter); }

boost::json::object audit_json(const AuditRecord& r) {
  return boost::json::object{{"id", r.id},
                             {"at", r.at},
                             {"actor", boost::json::object{{"id", r.actor_id},
                                                           {"email", r.actor_email},
                                                           {"kind", r.actor_kind}}},
                             {"address", r.address},
                             {"action", r.action},
                             {"target", r.target},
                             {"details", r.details},
                             {"request_id", r.request_id}};
}

}  // namespace flowpilot::engine
