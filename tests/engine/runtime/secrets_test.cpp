// The keyring and its AEAD: round trip, wrong key, tampering, associated data, key files
// (format, permissions, creation) and the environment variable.
#include "engine/secrets/secrets.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace flowpilot::engine {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("flowpilot-secrets-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string flip_first_char(std::string b64) {
  b64[0] = b64[0] == 'A' ? 'B' : 'A';
  return b64;
}

TEST(SecretsTest, SealOpenRoundTripUnderPrimaryKey) {
  Keyring ring({Keyring::generate_key()});
  const auto sealed = ring.seal("{\"token\":\"s3cr3t-value\"}", "connection\nmeta\nmeta_ads");
  EXPECT_EQ(sealed.key_id, ring.primary_id());
  EXPECT_EQ(sealed.ciphertext.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(ring.open(sealed, "connection\nmeta\nmeta_ads"), "{\"token\":\"s3cr3t-value\"}");
  // Fresh nonces: sealing twice never gives the same bytes.
  EXPECT_NE(ring.seal("x", "ad").nonce, ring.seal("x", "ad").nonce);
}

TEST(SecretsTest, WrongKeyIsAClearError) {
  Keyring one({Keyring::generate_key()});
  MasterKey other = Keyring::generate_key();
  other.id = one.primary_id();  // same id, different bytes
  Keyring two({other});
  const auto sealed = one.seal("secret", "ad");
  try {
    two.open(sealed, "ad");
    FAIL() << "opened with the wrong key";
  } catch (const SecretsError& e) {
    EXPECT_NE(std::string(e.what()).find("authentication failed"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos);
  }
  Keyring unrelated({Keyring::generate_key()});
  try {
    unrelated.open(sealed, "ad");
    FAIL() << "opened without the key";
  } catch (const SecretsError& e) {
    EXPECT_NE(std::string(e.what()).find("`" + one.primary_id() + "`"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("not among the configured keys"), std::string::npos);
  }
}

TEST(SecretsTest, TamperedCiphertextNonceOrKeyIdIsRefused) {
  Keyring ring({Keyring::generate_key()});
  const auto sealed = ring.seal("secret", "ad");
  auto bad = sealed;
  bad.ciphertext = flip_first_char(bad.ciphertext);
  EXPECT_THROW(ring.open(bad, "ad"), SecretsError);
  bad = sealed;
  bad.nonce = flip_first_char(bad.nonce);
  EXPECT_THROW(ring.open(bad, "ad"), SecretsError);
  bad = sealed;
  bad.ciphertext = "not base64!";
  EXPECT_THROW(ring.open(bad, "ad"), SecretsError);
  // Relabelled as sealed by another key of the same ring: the key id is authenticated too.
  const Keyring two = ring.with_new_primary(Keyring::generate_key());
  bad = sealed;
  bad.key_id = two.primary_id();
  EXPECT_THROW(two.open(bad, "ad"), SecretsError);
  EXPECT_EQ(two.open(sealed, "ad"), "secret");
}

TEST(SecretsTest, OtherAssociatedDataIsRefused) {
  Keyring ring({Keyring::generate_key()});
  const auto sealed = ring.seal("secret", "connection\na\nhttp");
  EXPECT_THROW(ring.open(sealed, "connection\nb\nhttp"), SecretsError);
}

TEST(SecretsTest, RotationKeepsOldKeysReadableUntilRetired) {
  Keyring old_ring({Keyring::generate_key()});
  const auto old_sealed = old_ring.seal("v1", "ad");
  Keyring rotated = old_ring.with_new_primary(Keyring::generate_key());
  EXPECT_NE(rotated.primary_id(), old_ring.primary_id());
  EXPECT_EQ(rotated.ids().size(), 2u);
  EXPECT_EQ(rotated.open(old_sealed, "ad"), "v1");
  const auto new_sealed = rotated.seal("v2", "ad");
  EXPECT_EQ(new_sealed.key_id, rotated.primary_id());
  const Keyring retired = rotated.primary_only();
  EXPECT_EQ(retired.ids(), std::vector<std::string>{rotated.primary_id()});
  EXPECT_THROW(retired.open(old_sealed, "ad"), SecretsError);
  EXPECT_EQ(retired.open(new_sealed, "ad"), "v2");
}

TEST(SecretsTest, KeyFileRoundTripAndFormat) {
  TempDir dir;
  const Keyring ring = Keyring({Keyring::generate_key()}).with_new_primary(Keyring::generate_key());
  save_key_file(dir.path() / "master.key", ring);
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  MasterKeyOptions options;
  options.key_file = dir.path() / "master.key";
  auto loaded = load_master_keys(options);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->keyring.ids(), ring.ids());
  EXPECT_EQ(loaded->keyring.open(ring.seal("x", "ad"), "ad"), "x");

  // Hand-written: comments, blank lines, and the first key is primary.
  const std::string key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";  // 32 bytes
  const Keyring parsed = parse_key_file("# keys\n\nfirst " + key + "\nsecond\t" + key + "\n", "f");
  EXPECT_EQ(parsed.primary_id(), "first");
  EXPECT_EQ(parsed.ids().size(), 2u);
}

TEST(SecretsTest, BadKeyFilesSayWhereAndWhat) {
  auto message = [](const std::string& text) {
    try {
      parse_key_file(text, "keys.txt");
    } catch (const SecretsError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("k1 c2hvcnQ=\n").find("keys.txt:1: a master key must be 32 bytes"),
            std::string::npos);
  EXPECT_NE(message("\nonlyid\n").find("keys.txt:2: expected `<id> <base64 key>`"),
            std::string::npos);
  EXPECT_NE(message("k/1 MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n").find("key id `k/1`"),
            std::string::npos);
  EXPECT_NE(message("a MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"
                    "a MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n")
                .find("appears twice"),
            std::string::npos);
  EXPECT_NE(message("# nothing\n").find("holds no master key"), std::string::npos);
  EXPECT_NE(message("k1 %%%%\n").find("not valid base64"), std::string::npos);
}

TEST(SecretsTest, KeyFileReadableByOthersIsRefused) {
  TempDir dir;
  const fs::path file = dir.path() / "master.key";
  save_key_file(file, Keyring({Keyring::generate_key()}));
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  MasterKeyOptions options;
  options.key_file = file;
  try {
    load_master_keys(options);
    FAIL() << "loaded a group-readable key file";
  } catch (const SecretsError& e) {
    EXPECT_NE(std::string(e.what()).find("mode 0640"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos) << e.what();
  }
}

TEST(SecretsTest, DefaultFileIsCreatedOnlyWhenAsked) {
  TempDir dir;
  MasterKeyOptions options;
  options.default_file = dir.path() / "data" / "master.key";
  EXPECT_FALSE(load_master_keys(options));
  EXPECT_FALSE(fs::exists(options.default_file));
  options.create_if_missing = true;
  auto created = load_master_keys(options);
  ASSERT_TRUE(created);
  EXPECT_TRUE(created->created);
  struct stat st {};
  ASSERT_EQ(::stat(options.default_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = load_master_keys(options);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->keyring.ids(), created->keyring.ids());

  MasterKeyOptions missing;
  missing.key_file = dir.path() / "nope.key";
  EXPECT_THROW(load_master_keys(missing), SecretsError);
}

TEST(SecretsTest, EnvironmentKeyTakesPrecedence) {
  TempDir dir;
  MasterKeyOptions options;
  options.env_value = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
  options.default_file = dir.path() / "master.key";
  options.create_if_missing = true;
  auto loaded = load_master_keys(options);
  ASSERT_TRUE(loaded);
  EXPECT_TRUE(loaded->from_env);
  EXPECT_FALSE(fs::exists(options.default_file));
  EXPECT_EQ(loaded->keyring.primary_id().rfind("env-", 0), 0u);
  // The id is derived from the key, so it is the same on every start.
  EXPECT_EQ(parse_key_env(*options.env_value).primary_id(), loaded->keyring.primary_id());

  const Keyring several =
      parse_key_env("new:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=,"
                    "old:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=");
  EXPECT_EQ(several.ids(), (std::vector<std::string>{"new", "old"}));
  EXPECT_THROW(parse_key_env("dG9vIHNob3J0"), SecretsError);
}

}  // namespace
}  // namespace flowpilot::engine
