// ConnectionService over a real SQLite store: validation with field paths, secrets never shown,
// credentials for a step, moved ciphertexts refused, rotation and retirement, and the type table.
#include "engine/connections/connections.h"
#include "engine/store/sqlite_store.h"
#include "store_under_test.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

namespace flowpilot::engine {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kSecret = "EAAB-very-secret-token-1234";

class ConnectionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("flowpilot-connections-" + std::to_string(rd()));
    fs::create_directories(dir_);
    store_ = ::flowpilot::engine::testing::open_store_under_test(dir_ / "flowpilot.db");
    service_ = std::make_unique<ConnectionService>(*store_, keyring_);
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  static ConnectionInput meta(std::string name = "meta-main") {
    ConnectionInput in;
    in.name = std::move(name);
    in.type = "meta_ads";
    in.fields["access_token"] = kSecret;
    in.fields["account_id"] = "act_1001";
    return in;
  }
  std::vector<ConnectionProblem> problems_of(const ConnectionInput& in) {
    try {
      service_->add(in);
    } catch (const ConnectionError& e) {
      EXPECT_EQ(e.kind(), ConnectionError::Kind::invalid);
      EXPECT_EQ(std::string(e.what()).find(kSecret), std::string::npos);
      return e.problems();
    }
    ADD_FAILURE() << "accepted";
    return {};
  }
  static bool has_problem(const std::vector<ConnectionProblem>& problems, const std::string& path,
                          const std::string& part) {
    for (const auto& p : problems) {
      if (p.path == path && p.message.find(part) != std::string::npos) return true;
    }
    return false;
  }

  fs::path dir_;
  Keyring keyring_{std::vector<MasterKey>{Keyring::generate_key()}};
  std::unique_ptr<Store> store_;
  std::unique_ptr<ConnectionService> service_;
};

TEST_F(ConnectionsTest, AddListAndCredentialsRoundTrip) {
  const auto added = service_->add(meta());
  EXPECT_EQ(added.key_id, keyring_.primary_id());
  EXPECT_EQ(added.secret_fields_set, std::vector<std::string>{"access_token"});

  const auto listed = service_->list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].config.at("account_id"), "act_1001");
  EXPECT_FALSE(listed[0].config.contains("access_token"));
  EXPECT_EQ(listed[0].rate_limit.per_second, find_connection_type("meta_ads")->rate_limit.per_second);
  EXPECT_EQ(json::serialize(to_json(listed[0])).find(kSecret), std::string::npos);

  // Stored bytes carry no plaintext.
  const auto row = store_->get_connection("meta-main");
  ASSERT_TRUE(row);
  EXPECT_EQ(json::serialize(row->config).find(kSecret), std::string::npos);
  EXPECT_EQ(row->ciphertext.find(kSecret), std::string::npos);

  const auto creds = service_->credentials("meta-main");
  ASSERT_TRUE(creds);
  EXPECT_EQ(creds->at("access_token"), kSecret);
  EXPECT_EQ(creds->at("account_id"), "act_1001");
  EXPECT_EQ(creds->at("base_url"), "https://graph.facebook.com");  // the type's default
  EXPECT_EQ(creds->at("connection_type"), "meta_ads");
  EXPECT_FALSE(service_->credentials("nope"));
}

TEST_F(ConnectionsTest, ValidationNamesTheField) {
  auto in = meta();
  in.fields.erase("access_token");
  EXPECT_TRUE(has_problem(problems_of(in), "fields.access_token", "required"));

  in = meta();
  in.type = "myspace";
  EXPECT_TRUE(has_problem(problems_of(in), "type", "unknown connection type `myspace`"));

  in = meta();
  in.fields["acess_token"] = "x";
  EXPECT_TRUE(has_problem(problems_of(in), "fields.acess_token", "unknown field"));

  in = meta();
  in.fields["base_url"] = "ftp://graph.facebook.com";
  EXPECT_TRUE(has_problem(problems_of(in), "fields.base_url", "not an http(s) URL"));
  in.fields["base_url"] = "https://";
  EXPECT_TRUE(has_problem(problems_of(in), "fields.base_url", "not an http(s) URL"));

  in = meta("bad name!");
  EXPECT_TRUE(has_problem(problems_of(in), "name", "letters, digits"));

  in = meta();
  in.fields["access_token"] = std::string(kSecret) + "\nX-Injected: 1";
  EXPECT_TRUE(has_problem(problems_of(in), "fields.access_token", "control character"));

  ConnectionInput slack;
  slack.name = "slack";
  slack.type = "slack";
  EXPECT_TRUE(has_problem(problems_of(slack), "fields.webhook_url", "webhook_url or bot_token"));
  slack.fields["webhook_url"] = kSecret;  // a secret URL field that is not a URL
  const auto problems = problems_of(slack);
  ASSERT_TRUE(has_problem(problems, "fields.webhook_url", "not an http(s) URL"));

  ConnectionInput google;
  google.name = "g";
  google.type = "google_ads";
  google.fields = {{"developer_token", "d"}, {"client_id", "c"}, {"client_secret", "s"},
                   {"refresh_token", "r"}, {"login_customer_id", "123-456-7890"}};
  EXPECT_TRUE(has_problem(problems_of(google), "fields.login_customer_id", "digits only"));

  in = meta();
  in.rate_limit = RateLimit{-1, 0};
  const auto rate = problems_of(in);
  EXPECT_TRUE(has_problem(rate, "rate_limit.per_second", "0 or more"));
  EXPECT_TRUE(has_problem(rate, "rate_limit.burst", "1 or more"));

  ConnectionInput http;
  http.name = "api";
  http.type = "http";
  http.fields["auth"] = "bearer";
  EXPECT_TRUE(has_problem(problems_of(http), "fields.token", "required with auth bearer"));
  http.fields["auth"] = "digest";
  EXPECT_TRUE(has_problem(problems_of(http), "fields.auth", "not one of none, bearer"));
  EXPECT_TRUE(service_->list().empty());
}

TEST_F(ConnectionsTest, DuplicateUpdateAndRemove) {
  service_->add(meta());
  try {
    service_->add(meta());
    FAIL();
  } catch (const ConnectionError& e) {
    EXPECT_EQ(e.kind(), ConnectionError::Kind::exists);
  }
  // An update that leaves the secret out keeps it; a custom rate limit is kept too.
  ConnectionInput change;
  change.name = "meta-main";
  change.fields["account_id"] = "act_2002";
  change.rate_limit = RateLimit{2, 4};
  const auto updated = service_->update(change);
  EXPECT_TRUE(updated.custom_rate_limit);
  EXPECT_EQ(updated.rate_limit.per_second, 2);
  auto creds = service_->credentials("meta-main");
  EXPECT_EQ(creds->at("access_token"), kSecret);
  EXPECT_EQ(creds->at("account_id"), "act_2002");
  EXPECT_EQ(service_->rate_limit("meta-main")->burst, 4);

  change = {};
  change.name = "meta-main";
  change.fields["access_token"] = std::nullopt;  // clearing a required field
  EXPECT_THROW(service_->update(change), ConnectionError);
  change = {};
  change.name = "meta-main";
  change.type = "hubspot";
  EXPECT_THROW(service_->update(change), ConnectionError);
  change.name = "ghost";
  change.type.clear();
  try {
    service_->update(change);
    FAIL();
  } catch (const ConnectionError& e) {
    EXPECT_EQ(e.kind(), ConnectionError::Kind::not_found);
  }
  EXPECT_TRUE(service_->remove("meta-main"));
  EXPECT_FALSE(service_->remove("meta-main"));
  EXPECT_FALSE(service_->get("meta-main"));
}

TEST_F(ConnectionsTest, MetaTokenRenewalFieldsComeTogetherAndTheSecretStaysSealed) {
  auto in = meta();
  in.fields["app_id"] = "1234567890";
  EXPECT_TRUE(has_problem(problems_of(in), "fields.app_secret", "required with app_id"));
  in = meta();
  in.fields["app_secret"] = "app-secret-value";
  EXPECT_TRUE(has_problem(problems_of(in), "fields.app_id", "required with app_secret"));
  in = meta();
  in.fields["app_id"] = "1234567890";
  in.fields["app_secret"] = "app-secret-value";
  in.fields["token_expires_at"] = "2026-07-01";
  EXPECT_TRUE(has_problem(problems_of(in), "fields.token_expires_at", "digits only"));

  in.fields["token_expires_at"] = "1782864000";
  const auto added = service_->add(in);
  EXPECT_EQ(added.config.at("app_id"), "1234567890");
  EXPECT_EQ(added.config.at("token_expires_at"), "1782864000");
  EXPECT_FALSE(added.config.contains("app_secret"));
  EXPECT_NE(std::find(added.secret_fields_set.begin(), added.secret_fields_set.end(), "app_secret"),
            added.secret_fields_set.end());
  // A renewal replaces the token and its expiry and keeps the rest.
  ConnectionInput renewal;
  renewal.name = "meta-main";
  renewal.fields["access_token"] = "EAA-renewed";
  renewal.fields["token_expires_at"] = "1788048000";
  service_->update(renewal);
  const auto creds = service_->credentials("meta-main");
  EXPECT_EQ(creds->at("access_token"), "EAA-renewed");
  EXPECT_EQ(creds->at("token_expires_at"), "1788048000");
  EXPECT_EQ(creds->at("app_secret"), "app-secret-value");
  EXPECT_EQ(creds->at("account_id"), "act_1001");
}

TEST_F(ConnectionsTest, CiphertextMovedToAnotherRowIsRefused) {
  service_->add(meta("a"));
  service_->add(meta("b"));
  auto a = *store_->get_connection("a");
  auto b = *store_->get_connection("b");
  b.nonce = a.nonce;
  b.ciphertext = a.ciphertext;
  WriteBatch batch;
  batch.add(PutConnection{b});
  ASSERT_FALSE(store_->commit(std::move(batch)).error);
  try {
    service_->credentials("b");
    FAIL() << "opened a ciphertext that belongs to another connection";
  } catch (const ConnectionError& e) {
    EXPECT_EQ(e.kind(), ConnectionError::Kind::key);
    EXPECT_NE(std::string(e.what()).find("connection `b` cannot be decrypted"), std::string::npos);
  }
  EXPECT_TRUE(service_->credentials("a"));
}

TEST_F(ConnectionsTest, WrongKeyringFailsClearly) {
  service_->add(meta());
  ConnectionService other(*store_, Keyring({Keyring::generate_key()}));
  try {
    other.credentials("meta-main");
    FAIL();
  } catch (const ConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find(keyring_.primary_id()), std::string::npos) << e.what();
  }
  const auto report = other.test("meta-main", nullptr);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.error.find("cannot be decrypted"), std::string::npos);
  // Listing needs no key.
  EXPECT_EQ(other.list().size(), 1u);
}

TEST_F(ConnectionsTest, RotationReencryptsEveryRowAndRetirementWorks) {
  service_->add(meta("a"));
  service_->add(meta("b"));
  const Keyring rotated = keyring_.with_new_primary(Keyring::generate_key());
  EXPECT_EQ(service_->rotate(rotated), 2u);
  for (const auto& row : store_->list_connections()) EXPECT_EQ(row.key_id, rotated.primary_id());
  EXPECT_EQ(service_->key_ids_in_use(), std::vector<std::string>{rotated.primary_id()});

  // Only the new key is needed from now on.
  ConnectionService retired(*store_, rotated.primary_only());
  EXPECT_EQ(retired.credentials("a")->at("access_token"), kSecret);
  // The old key alone no longer opens anything.
  ConnectionService old_only(*store_, keyring_);
  EXPECT_THROW(old_only.credentials("a"), ConnectionError);

  // A keyring that cannot open the rows changes nothing.
  ConnectionService stranger(*store_, Keyring({Keyring::generate_key()}));
  EXPECT_THROW(stranger.rotate(Keyring({Keyring::generate_key()})), ConnectionError);
  EXPECT_EQ(store_->get_connection("a")->key_id, rotated.primary_id());
}

TEST_F(ConnectionsTest, ReloadsKeysWhenARowNamesAnUnknownKey) {
  service_->add(meta());
  const Keyring rotated = keyring_.with_new_primary(Keyring::generate_key());
  ConnectionService(*store_, keyring_).rotate(rotated);
  int reloads = 0;
  service_->set_key_reloader([&]() -> std::optional<Keyring> {
    ++reloads;
    return rotated;
  });
  EXPECT_EQ(service_->credentials("meta-main")->at("access_token"), kSecret);
  EXPECT_EQ(service_->credentials("meta-main")->at("access_token"), kSecret);
  EXPECT_EQ(reloads, 1);
}

TEST_F(ConnectionsTest, ListenerHearsRateLimitsOfChanges) {
  std::vector<std::pair<std::string, std::optional<RateLimit>>> heard;
  service_->set_listener([&](const std::string& name, std::optional<RateLimit> limit) {
    heard.emplace_back(name, limit);
  });
  service_->add(meta());
  ConnectionInput change;
  change.name = "meta-main";
  change.rate_limit = RateLimit{3, 6};
  service_->update(change);
  service_->remove("meta-main");
  ASSERT_EQ(heard.size(), 3u);
  EXPECT_EQ(heard[0].second->per_second, find_connection_type("meta_ads")->rate_limit.per_second);
  EXPECT_EQ(heard[1].second->burst, 6);
  EXPECT_FALSE(heard[2].second);
}

TEST_F(ConnectionsTest, HttpCredentialsUseThePluginsNames) {
  ConnectionInput in;
  in.name = "api";
  in.type = "http";
  in.fields = {{"auth", "header"}, {"header_name", "X-Api-Key"}, {"header_value", "k-123456"},
               {"base_url", "https://api.example.com"}};
  service_->add(in);
  const auto creds = service_->credentials("api");
  EXPECT_EQ(creds->at("type"), "header");
  EXPECT_EQ(creds->at("name"), "X-Api-Key");
  EXPECT_EQ(creds->at("value"), "k-123456");
  EXPECT_FALSE(creds->contains("auth"));
  EXPECT_EQ(service_->rate_limit("api")->per_second, 0);  // unlimited by default
}

TEST_F(ConnectionsTest, TestSaysWhatWasCheckedOffline) {
  service_->add(meta());
  const auto report = service_->test("meta-main", nullptr);
  EXPECT_TRUE(report.ok) << report.error;
  ASSERT_EQ(report.checks.size(), 3u);
  EXPECT_NE(report.checks[0].find("decrypted"), std::string::npos);
  EXPECT_NE(report.checks[1].find("validated"), std::string::npos);
  EXPECT_NE(report.checks[2].find("no network call"), std::string::npos);
  EXPECT_THROW(service_->test("ghost", nullptr), ConnectionError);
}

TEST(ConnectionTypesTest, TableDescribesEveryTypeForForms) {
  for (const char* name : {"meta_ads", "google_ads", "hubspot", "ga4", "slack", "http"}) {
    EXPECT_NE(find_connection_type(name), nullptr) << name;
  }
  const auto types = connection_types_json();
  ASSERT_EQ(types.size(), connection_types().size());
  const auto& google = types[1].as_object();
  EXPECT_EQ(google.at("name"), "google_ads");
  EXPECT_EQ(google.at("oauth2"), true);
  bool saw_secret = false;
  for (const auto& f : google.at("fields").as_array()) {
    if (f.at("name") == "client_secret") saw_secret = f.at("secret").as_bool();
    if (f.at("name") == "token_url") {
      EXPECT_EQ(f.at("default"), "https://oauth2.googleapis.com/token");
    }
  }
  EXPECT_TRUE(saw_secret);
}

}  // namespace
}  // namespace flowpilot::engine
