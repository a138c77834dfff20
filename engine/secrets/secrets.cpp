#include "engine/secrets/secrets.h"

#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <system_error>

namespace flowpilot::engine {

namespace {

void ensure_sodium() {
  static const int rc = sodium_init();
  if (rc < 0) throw SecretsError("libsodium failed to initialise");
}

bool valid_key_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
  });
}

// The key id is authenticated with the caller's data, so a value cannot be passed off as sealed
// under another key of the ring.
std::string full_associated_data(std::string_view key_id, std::string_view associated_data) {
  std::string ad = "flowpilot-aead-v1\n";
  ad += key_id;
  ad += '\n';
  ad += associated_data;
  return ad;
}

MasterKey key_from_base64(std::string id, std::string_view text, const std::string& where) {
  auto bytes = from_base64(text);
  if (!bytes) throw SecretsError(where + ": the key is not valid base64");
  if (bytes->size() != kMasterKeyBytes) {
    throw SecretsError(fmt::format("{}: a master key must be {} bytes (base64 of 32 random bytes), "
                                   "this one has {}",
                                   where, kMasterKeyBytes, bytes->size()));
  }
  MasterKey key;
  key.id = std::move(id);
  std::memcpy(key.bytes.data(), bytes->data(), kMasterKeyBytes);
  sodium_memzero(bytes->data(), bytes->size());
  return key;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw SecretsError(fmt::format("cannot read master key file {}: {}", file.string(),
                                   std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void check_permissions(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    throw SecretsError(fmt::format("cannot read master key file {}: {}", file.string(),
                                   std::strerror(errno)));
  }
  if ((st.st_mode & 077) != 0) {
    throw SecretsError(fmt::format(
        "master key file {} is accessible by group or others (mode {:04o}); it must be readable "
        "by its owner only: chmod 600 {}",
        file.string(), st.st_mode & 07777, file.string()));
  }
}

}  // namespace

std::string to_base64(std::string_view bytes) {
  ensure_sodium();
  const std::size_t size = sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(size, '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(size - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> from_base64(std::string_view text) {
  ensure_sodium();
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &length, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

Keyring::Keyring(std::vector<MasterKey> keys) : keys_(std::move(keys)) {
  if (keys_.empty()) throw SecretsError("a keyring needs at least one master key");
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (!valid_key_id(keys_[i].id)) {
      throw SecretsError("master key id `" + keys_[i].id +
                         "` is not 1 to 64 letters, digits, `_`, `.` or `-`");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (keys_[j].id == keys_[i].id) {
        throw SecretsError("master key id `" + keys_[i].id + "` appears twice");
      }
    }
  }
}

MasterKey Keyring::generate_key() {
  ensure_sodium();
  MasterKey key;
  randombytes_buf(key.bytes.data(), key.bytes.size());
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char date[16];
  std::strftime(date, sizeof date, "%Y%m%d", &utc);
  key.id = fmt::format("k{}-{:08x}", date, randombytes_random());
  return key;
}

const std::string& Keyring::primary_id() const {
  if (keys_.empty()) throw SecretsError("no master key is configured");
  return keys_.front().id;
}

bool Keyring::has(std::string_view key_id) const { return find(key_id) != nullptr; }

std::vector<std::string> Keyring::ids() const {
  std::vector<std::string> out;
  for (const auto& k : keys_) out.push_back(k.id);
  return out;
}

Keyring Keyring::with_new_primary(MasterKey key) const {
  std::vector<MasterKey> keys;
  keys.push_back(std::move(key));
  keys.insert(keys.end(), keys_.begin(), keys_.end());
  return Keyring(std::move(keys));
}

Keyring Keyring::primary_only() const {
  if (keys_.empty()) throw SecretsError("no master key is configured");
  return Keyring({keys_.front()});
}

const MasterKey* Keyring::find(std::string_view key_id) const {
  for (const auto& k : keys_) {
    if (k.id == key_id) return &k;
  }
  return nullptr;
}

SealedValue Keyring::seal(std::string_view plaintext, std::string_view associated_data) const {
  ensure_sodium();
  if (keys_.empty()) throw SecretsError("no master key is configured");
  const MasterKey& key = keys_.front();
  std::array<unsigned char, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce{};
  randombytes_buf(nonce.data(), nonce.size());
  const std::string ad = full_associated_data(key.id, associated_data);
  std::string cipher(plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long cipher_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(cipher.data()), &cipher_len,
      reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, nonce.data(),
      key.bytes.data());
  cipher.resize(static_cast<std::size_t>(cipher_len));
  SealedValue out;
  out.key_id = key.id;
  out.nonce = to_base64(std::string_view(reinterpret_cast<const char*>(nonce.data()), nonce.size()));
  out.ciphertext = to_base64(cipher);
  return out;
}

std::string Keyring::open(const SealedValue& sealed, std::string_view associated_data) const {
  ensure_sodium();
  const MasterKey* key = find(sealed.key_id);
  if (key == nullptr) {
    std::string known;
    for (const auto& k : keys_) known += (known.empty() ? "" : ", ") + k.id;
    throw SecretsError(fmt::format(
        "sealed with master key `{}`, which is not among the configured keys ({}); configure "
        "that key (FLOWPILOT_MASTER_KEY or the key file)",
        sealed.key_id, known.empty() ? "none" : known));
  }
  const auto nonce = from_base64(sealed.nonce);
  const auto cipher = from_base64(sealed.ciphertext);
  if (!nonce || nonce->size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES || !cipher ||
      cipher->size() < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    throw SecretsError("the stored value is malformed (bad nonce or ciphertext)");
  }
  const std::string ad = full_associated_data(key->id, associated_data);
  std::string plain(cipher->size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long plain_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &plain_len, nullptr,
          reinterpret_cast<const unsigned char*>(cipher->data()), cipher->size(),
          reinterpret_cast<const unsigned char*>(ad.data()), ad.size(),
          reinterpret_cast<const unsigned char*>(nonce->data()), key->bytes.data()) != 0) {
    throw SecretsError(fmt::format(
        "authentication failed under master key `{}`: the key is not the one that sealed the "
        "value, or the stored value was altered or belongs to another row",
        key->id));
  }
  plain.resize(static_cast<std::size_t>(plain_len));
  return plain;
}

std::string Keyring::key_file_text() const {
  std::string out =
      "# Flowpilot master keys: one per line, `<id> <base64 of 32 bytes>`; the first is "
      "primary.\n";
  for (const auto& k : keys_) {
    out += k.id;
    out += ' ';
    out += to_base64(std::string_view(reinterpret_cast<const char*>(k.bytes.data()), k.bytes.size()));
    out += '\n';
  }
  return out;
}

Keyring parse_key_env(std::string_view text) {
  const std::string where = "FLOWPILOT_MASTER_KEY";
  std::vector<MasterKey> keys;
  text = trim(text);
  if (text.find(':') == std::string_view::npos && text.find(',') == std::string_view::npos) {
    MasterKey key = key_from_base64("", text, where);
    std::array<unsigned char, 4> hash{};
    crypto_generichash(hash.data(), hash.size(), key.bytes.data(), key.bytes.size(), nullptr, 0);
    key.id = fmt::format("env-{:02x}{:02x}{:02x}{:02x}", hash[0], hash[1], hash[2], hash[3]);
    keys.push_back(std::move(key));
    return Keyring(std::move(keys));
  }
  std::size_t n = 0;
  while (!text.empty()) {
    ++n;
    const auto comma = text.find(',');
    const std::string_view entry = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto colon = entry.find(':');
    const std::string entry_where = fmt::format("{} entry {}", where, n);
    if (colon == std::string_view::npos) {
      throw SecretsError(entry_where + ": expected `id:base64` when several keys are given");
    }
    keys.push_back(key_from_base64(std::string(trim(entry.substr(0, colon))),
                                   trim(entry.substr(colon + 1)), entry_where));
  }
  try {
    return Keyring(std::move(keys));
  } catch (const SecretsError& e) {
    throw SecretsError(where + ": " + e.what());
  }
}

Keyring parse_key_file(std::string_view text, std::string_view where) {
  std::vector<MasterKey> keys;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    const std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    const std::string line_where = fmt::format("{}:{}", where, line_no);
    const auto space = line.find_first_of(" \t");
    if (space == std::string_view::npos) {
      throw SecretsError(line_where + ": expected `<id> <base64 key>`");
    }
    std::string id(line.substr(0, space));
    if (!valid_key_id(id)) {
      throw SecretsError(line_where + ": key id `" + id +
                         "` is not 1 to 64 letters, digits, `_`, `.` or `-`");
    }
    keys.push_back(key_from_base64(std::move(id), trim(line.substr(space + 1)), line_where));
  }
  if (keys.empty()) throw SecretsError(std::string(where) + ": holds no master key");
  try {
    return Keyring(std::move(keys));
  } catch (const SecretsError& e) {
    throw SecretsError(std::string(where) + ": " + e.what());
  }
}

void save_key_file(const std::filesystem::path& file, const Keyring& keyring) {
  const std::string text = keyring.key_file_text();
  const std::filesystem::path tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw SecretsError(fmt::format("cannot write master key file {}: {}", tmp.string(),
                                   std::strerror(errno)));
  }
  // O_CREAT keeps the mode of a leftover file; make sure it is private before writing.
  bool ok = ::fchmod(fd, 0600) == 0;
  std::size_t written = 0;
  while (ok && written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0) {
    const int err = ok ? errno : saved;
    ::unlink(tmp.c_str());
    throw SecretsError(fmt::format("cannot write master key file {}: {}", file.string(),
                                   std::strerror(err)));
  }
}

std::optional<LoadedKeys> load_master_keys(const MasterKeyOptions& options) {
  if (options.env_value && !options.env_value->empty()) {
    LoadedKeys out{parse_key_env(*options.env_value), {}, false, true};
    return out;
  }
  std::filesystem::path file = options.key_file;
  bool explicit_file = !file.empty();
  if (!explicit_file) file = options.default_file;
  if (file.empty()) return std::nullopt;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    if (explicit_file) {
      throw SecretsError("master key file " + file.string() + " does not exist");
    }
    if (!options.create_if_missing) return std::nullopt;
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
    Keyring ring({Keyring::generate_key()});
    save_key_file(file, ring);
    return LoadedKeys{std::move(ring), file, true, false};
  }
  check_permissions(file);
  std::string text = read_file(file);
  Keyring ring = parse_key_file(text, file.string());
  sodium_memzero(text.data(), text.size());
  return LoadedKeys{std::move(ring), file, false, false};
}

}  // namespace flowpilot::engine
