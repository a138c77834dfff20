// UserService on a real SQLite store: argon2id hashes with at least the OWASP parameters,
// normalized emails, refusals that name the field, disabling, and password resets.
#include "engine/access/users.h"
#include "engine/store/sqlite_store.h"
#include "store_under_test.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace flowpilot::engine {
namespace {

namespace fs = std::filesystem;

class UsersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("flowpilot-users-" + std::to_string(rd()));
    fs::create_directories(dir_);
    store_ = ::flowpilot::engine::testing::open_store_under_test(dir_ / "flowpilot.db");
    users_ = std::make_unique<UserService>(*store_);
  }
  void TearDown() override {
    users_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  std::string error_of(const NewUser& input) {
    try {
      users_->add(input);
    } catch (const AccessError& e) {
      return e.what();
    }
    return "(no error)";
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<UserService> users_;
};

TEST_F(UsersTest, PasswordsAreArgon2idHashesThatVerify) {
  EXPECT_TRUE(users_->empty());
  const auto created = users_->add({" Ana@Example.COM ", "Ana", "admin", "correct horse battery"});
  EXPECT_FALSE(created.generated_password);
  EXPECT_EQ(created.user.email, "ana@example.com");
  EXPECT_FALSE(users_->empty());
  const auto stored = store_->get_user_by_email("ana@example.com");
  ASSERT_TRUE(stored);
  // libsodium's encoded form carries the parameters: 64 MiB, 2 passes (OWASP: >= 19 MiB, 2).
  EXPECT_EQ(stored->password_hash.rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u)
      << stored->password_hash;
  EXPECT_TRUE(users_->verify("ANA@example.com", "correct horse battery"));
  EXPECT_FALSE(users_->verify("ana@example.com", "correct horse batterY"));
  EXPECT_FALSE(users_->verify("nobody@example.com", "correct horse battery"));
  EXPECT_FALSE(users_->verify("not an email", "correct horse battery"));
}

TEST_F(UsersTest, GeneratedPasswordsAreLongAndWork) {
  const auto created = users_->add({"bob@example.com", "", "viewer", std::nullopt});
  ASSERT_TRUE(created.generated_password);
  EXPECT_EQ(created.generated_password->size(), 20u);
  EXPECT_TRUE(users_->verify("bob@example.com", *created.generated_password));
  EXPECT_NE(generate_password(), generate_password());
}

TEST_F(UsersTest, BadInputNamesTheField) {
  EXPECT_EQ(error_of({"not-an-email", "", "viewer", std::nullopt}),
            "email: `not-an-email` is not an email address");
  EXPECT_EQ(error_of({"a@b", "", "viewer", std::nullopt}), "email: `a@b` is not an email address");
  EXPECT_EQ(error_of({"a@example.com", "", "owner", std::nullopt}),
            "role: `owner` is not one of admin, editor, approver, viewer");
  EXPECT_EQ(error_of({"a@example.com", "", "viewer", "short"}),
            "password: it must be at least 12 characters");
  EXPECT_EQ(error_of({"a@example.com", std::string(201, 'n'), "viewer", std::nullopt}),
            "name: it must be at most 200 bytes");
  users_->add({"a@example.com", "", "viewer", std::nullopt});
  EXPECT_EQ(error_of({"A@example.com", "", "editor", std::nullopt}),
            "email: a user `a@example.com` exists already");
  EXPECT_EQ(users_->list().size(), 1u);
}

TEST_F(UsersTest, DisabledUsersCannotSignInAndResetsChangeThePassword) {
  users_->add({"c@example.com", "C", "approver", "first password 1"});
  users_->set_disabled("c@example.com", true);
  EXPECT_FALSE(users_->verify("c@example.com", "first password 1"));
  EXPECT_TRUE(users_->get("c@example.com")->disabled);
  users_->set_disabled("c@example.com", false);
  EXPECT_TRUE(users_->verify("c@example.com", "first password 1"));

  const auto before = store_->get_user_by_email("c@example.com");
  EXPECT_FALSE(users_->reset_password("c@example.com", std::string("second password 2")));
  EXPECT_FALSE(users_->verify("c@example.com", "first password 1"));
  EXPECT_TRUE(users_->verify("c@example.com", "second password 2"));
  const auto after = store_->get_user_by_email("c@example.com");
  EXPECT_EQ(after->id, before->id);
  EXPECT_GE(after->password_changed_at, before->password_changed_at);
  EXPECT_NE(after->password_hash, before->password_hash);
  EXPECT_THROW(users_->set_disabled("nobody@example.com", true), AccessError);
  EXPECT_THROW(users_->reset_password("c@example.com", std::string("short")), AccessError);
}

TEST_F(UsersTest, TheStoreRefusesASecondUserWithTheSameEmail) {
  users_->add({"d@example.com", "", "viewer", std::nullopt});
  UserRecord twin = *store_->get_user_by_email("d@example.com");
  twin.id = "u_other";
  WriteBatch batch;
  batch.add(PutUser{twin});
  EXPECT_TRUE(store_->commit(std::move(batch)).error);
  EXPECT_EQ(store_->list_users().size(), 1u);
}

}  // namespace
}  // namespace flowpilot::engine
