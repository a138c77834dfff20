// Encryption at rest for stored credentials: a keyring of master keys and authenticated
// encryption (libsodium's XChaCha20-Poly1305-IETF AEAD) with associated data.
//
// A keyring holds one or more 32-byte master keys, each with an id; the first is the primary key,
// which seals everything new. Older keys stay in the ring so that values sealed under them still
// open, until they are retired after a rotation has re-sealed everything. Each sealed value
// carries the id of the key that sealed it, a random 24-byte nonce, and the ciphertext with its
// 16-byte tag. The associated data (for connections: the connection's name and type) is
// authenticated but not stored in the ciphertext, so a ciphertext copied onto another row, or a
// row whose bytes were altered, fails to open instead of yielding someone else's secret.
//
// Master keys come from FLOWPILOT_MASTER_KEY (base64 of 32 bytes; or several as `id:base64`
// separated by commas, the first primary) or from a key file: one key per line, `<id> <base64>`,
// the first line primary; blank lines and lines starting with `#` are ignored. A key file must not
// be readable or writable by group or others; load_master_keys() refuses one that is.
//
// Errors: SecretsError, whose message names the key id, file or line concerned and never
// contains key material or plaintext.
//
// Thread-safety: a Keyring is a value; its const members may be called from any thread at once.
// load_master_keys() and save_key_file() touch the file system and are for setup and the CLI.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::engine {

class SecretsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::size_t kMasterKeyBytes = 32;

struct MasterKey {
  std::string id;  // [A-Za-z0-9_.-], 1..64 characters
  std::array<unsigned char, kMasterKeyBytes> bytes{};
};

// A value sealed under one key: base64 text, ready for a database column.
struct SealedValue {
  std::string key_id;
  std::string nonce;       // base64 of 24 bytes
  std::string ciphertext;  // base64 of the ciphertext and its tag
};

class Keyring {
 public:
  Keyring() = default;
  // Keys in order, the first primary. Throws SecretsError on an empty list, a bad or repeated id.
  explicit Keyring(std::vector<MasterKey> keys);

  // One new random key with a fresh id ("k" followed by the UTC date and random hex).
  static MasterKey generate_key();

  bool empty() const { return keys_.empty(); }
  const std::string& primary_id() const;  // throws SecretsError when empty
  bool has(std::string_view key_id) const;
  std::vector<std::string> ids() const;  // in order, primary first

  // A copy with `key` in front (the new primary) and the current keys after it.
  Keyring with_new_primary(MasterKey key) const;
  // A copy holding only the primary key.
  Keyring primary_only() const;

  // Seals `plaintext` under the primary key, binding `associated_data` (and the key id).
  SealedValue seal(std::string_view plaintext, std::string_view associated_data) const;
  // Opens a value sealed by seal() with the same associated data. Throws SecretsError when the
  // key id is not in the ring, or when authentication fails (wrong key, altered bytes, or data
  // that belongs to another row).
  std::string open(const SealedValue& sealed, std::string_view associated_data) const;

  // The key file text: a comment line, then `<id> <base64>` per key, primary first.
  std::string key_file_text() const;

 private:
  const MasterKey* find(std::string_view key_id) const;
  std::vector<MasterKey> keys_;
};

// Parses FLOWPILOT_MASTER_KEY: one base64 key (its id is derived from the key, "env-" and 8 hex
// digits of its hash), or `id:base64` entries separated by commas.
Keyring parse_key_env(std::string_view text);
// Parses a key file's text; `where` names the file in errors ("keys.txt:3: ...").
Keyring parse_key_file(std::string_view text, std::string_view where);

// Where the master keys come from, in order of precedence.
struct MasterKeyOptions {
  std::optional<std::string> env_value;  // FLOWPILOT_MASTER_KEY; nullopt or "" when unset
  std::filesystem::path key_file;        // explicit file (flag, config, env); must exist
  std::filesystem::path default_file;    // <data_dir>/master.key, used when key_file is empty
  bool create_if_missing = false;        // create default_file (mode 0600) when it is absent
};

struct LoadedKeys {
  Keyring keyring;
  std::filesystem::path file;  // the file the keys came from; empty when from the environment
  bool created = false;        // default_file was created by this call
  bool from_env = false;
};

// Loads the master keys; nullopt when none is configured and none may be created. Throws
// SecretsError for a missing explicit file, a file readable by group or others, or bad contents.
std::optional<LoadedKeys> load_master_keys(const MasterKeyOptions& options);

// Writes the key file atomically (temporary file with mode 0600, fsync, rename).
void save_key_file(const std::filesystem::path& file, const Keyring& keyring);

// Base64 (standard alphabet, padded), shared by the keyring and the connection store.
std::string to_base64(std::string_view bytes);
std::optional<std::string> from_base64(std::string_view text);

}  // namespace flowpilot::engine
