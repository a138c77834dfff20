// Connections: the named, stored credentials that steps use through `connection: NAME`.
//
// A connection has a type from a fixed table (meta_ads, google_ads, hubspot, ga4, slack, http).
// The table is data: for each type its fields (which are secret, which are required, their
// defaults such as base_url, api_version or token_url, allowed values) and a default rate limit,
// so the CLI, the API and later a UI form are all driven by it. Secret field values are sealed
// together with the keyring (engine/secrets/secrets.h) bound to the connection's name and type;
// non-secret fields are stored in the clear. Secret values are write-only: nothing here returns
// them except credentials(), which the executor calls for one step, and no error message
// contains them.
//
// Errors: ConnectionError with a kind (invalid input with field paths such as
// `fields.client_secret`, not found, already exists, a key problem) and the problems found.
// Storage failures surface as StoreError.
//
// Thread-safety: ConnectionService may be used from any thread; writes are serialized by one
// mutex, reads go straight to the store, and the keyring is swapped under that mutex on rotation.
#pragma once

#include "engine/http/http_client.h"
#include "engine/plugins/rate_limiter.h"
#include "engine/secrets/secrets.h"
#include "engine/store/store.h"

#include <boost/json/object.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::engine {

struct ConnectionField {
  std::string_view name;
  std::string_view label;        // for a form
  std::string_view description;  // one line
  bool secret = false;
  bool required = false;
  std::string_view default_value{};           // "" when none
  std::string_view kind = "text";             // text | url | secret | choice
  std::vector<std::string_view> choices{};    // for kind choice
};

struct ConnectionType {
  std::string_view name;
  std::string_view title;
  std::string_view description;
  std::vector<ConnectionField> fields;
  RateLimit rate_limit;  // default for connections of this type
  bool oauth2 = false;   // `test` refreshes a token at token_url
  // At least one of these fields must be set (slack: a webhook URL or a bot token); empty: none.
  std::vector<std::string_view> one_of{};
};

const std::vector<ConnectionType>& connection_types();
const ConnectionType* find_connection_type(std::string_view name);
// The table as JSON for forms: [{name, title, description, oauth2, rate_limit, fields: [...]}].
boost::json::array connection_types_json();

struct ConnectionProblem {
  std::string path;  // "name", "type", "fields.base_url", "rate_limit.per_second"
  std::string message;
};

class ConnectionError : public std::runtime_error {
 public:
  enum class Kind { invalid, not_found, exists, key };
  ConnectionError(Kind kind, std::string message, std::vector<ConnectionProblem> problems = {});
  Kind kind() const { return kind_; }
  const std::vector<ConnectionProblem>& problems() const { return problems_; }

 private:
  Kind kind_;
  std::vector<ConnectionProblem> problems_;
};

// What add() and update() take. For update(), fields absent from `fields` keep their stored
// value (secrets cannot be read back, so a form leaves them out), and a field mapped to nullopt is
// cleared.
struct ConnectionInput {
  std::string name;
  std::string type;  // update(): empty keeps the stored type; another type is refused
  std::map<std::string, std::optional<std::string>> fields;
  std::optional<RateLimit> rate_limit;  // nullopt: the stored one, or the type's default
};

// A connection as shown: no secret values, only which secret fields are set.
struct ConnectionSummary {
  std::string name;
  std::string type;
  boost::json::object config;  // non-secret fields that are set
  std::vector<std::string> secret_fields_set;
  RateLimit rate_limit;
  bool custom_rate_limit = false;  // false: the type's default
  std::string key_id;
  EpochMillis created_at = 0;
  EpochMillis updated_at = 0;
};
boost::json::object to_json(const ConnectionSummary& summary);

// The outcome of test(): what was checked, in order, and whether all of it passed.
struct ConnectionTestReport {
  bool ok = true;
  std::vector<std::string> checks;  // "decrypted the secret fields with key k1", ...
  std::string error;                // why it failed; empty when ok
};

class ConnectionService {
 public:
  // `keyring` may be empty: then list(), get() and remove() work and the rest throws a key error.
  ConnectionService(Store& store, Keyring keyring);

  ConnectionSummary add(const ConnectionInput& input);
  ConnectionSummary update(const ConnectionInput& input);
  std::vector<ConnectionSummary> list();
  std::optional<ConnectionSummary> get(const std::string& name);
  bool remove(const std::string& name);  // false when there was none

  // The decrypted credentials for one step: every set field plus the type's defaults, and
  // `connection_type`. For http connections the plugin's names are used (`auth` becomes `type`,
  // header_name/header_value become name/value). nullopt when there is no such connection;
  // throws ConnectionError(key) when it cannot be decrypted.
  std::optional<boost::json::object> credentials(const std::string& name);
  // The rate limit of a stored connection (its own or its type's default).
  std::optional<RateLimit> rate_limit(const std::string& name);

  // Decrypts and validates the stored fields; for OAuth2 types also refreshes a token at
  // token_url through `http` (null: that step is skipped and said so). Blocks until done.
  ConnectionTestReport test(const std::string& name, HttpClient* http);
  // The same without blocking on the network: `done` runs exactly once, on the calling thread
  // when no network call is needed, else on `http`'s thread (so it must not block). Throws
  // ConnectionError(not_found), before anything else, when there is no such connection. The
  // service must outlive the call only until test_async returns; `http` until `done` has run.
  using TestDone = std::function<void(ConnectionTestReport)>;
  void test_async(const std::string& name, HttpClient* http, TestDone done);

  // Re-seals every connection under `keyring`'s primary key in one store batch, then uses
  // `keyring`. Every row must open with the current or the new keyring. Returns the rows.
  std::size_t rotate(const Keyring& keyring);
  // Ids of master keys that stored connections still use.
  std::vector<std::string> key_ids_in_use();

  // Called when a row names a key this service does not hold, to read the keys again (the key
  // file may have gained one through a rotation in another process). Null: no reloading.
  void set_key_reloader(std::function<std::optional<Keyring>()> reload);
  // Called after add(), update() and remove() with the connection's rate limit in effect
  // (nullopt once removed), e.g. to configure the plugin host's limiter. Null: none.
  using Listener = std::function<void(const std::string& name, std::optional<RateLimit> limit)>;
  void set_listener(Listener listener);

 private:
  Keyring keyring_for(const ConnectionRecord& record);
  boost::json::object open_secrets(const ConnectionRecord& record, const Keyring& keyring);
  ConnectionRecord seal(const std::string& name, const std::string& type,
                        const std::map<std::string, std::string>& values,
                        std::optional<RateLimit> rate_limit, EpochMillis created_at);

  Store& store_;
  std::mutex mu_;  // serializes writes and guards keyring_
  Keyring keyring_;
  std::function<std::optional<Keyring>()> reload_;
  Listener listener_;
};

}  // namespace flowpilot::engine
