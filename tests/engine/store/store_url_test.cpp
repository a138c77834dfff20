// Store URLs: which store a URL names, and its password kept out of every message.
#include "engine/store/store_url.h"

#include <gtest/gtest.h>

namespace flowpilot::engine {
namespace {

TEST(StoreUrl, KindFromTheScheme) {
  EXPECT_EQ(store_kind("sqlite:///var/lib/flowpilot/flowpilot.db"), StoreKind::sqlite);
  EXPECT_EQ(store_kind("postgres://flowpilot@db/flowpilot"), StoreKind::postgres);
  EXPECT_EQ(store_kind("PostgreSQL://db/flowpilot"), StoreKind::postgres);
  EXPECT_EQ(store_kind("mysql://db/flowpilot"), std::nullopt);
  EXPECT_EQ(store_kind("/var/lib/flowpilot.db"), std::nullopt);
}

TEST(StoreUrl, PasswordsAreMasked) {
  EXPECT_EQ(mask_store_url("postgres://user:secret@host/db"), "postgres://user:***@host/db");
  EXPECT_EQ(mask_store_url("postgresql://u:p@ss/w@h:5432/db?sslmode=require&password=x"),
            "postgresql://u:***@h:5432/db?sslmode=require&password=***");
  EXPECT_EQ(mask_store_url("postgres://user@host/db"), "postgres://user@host/db");
  EXPECT_EQ(mask_store_url("postgres://host/db"), "postgres://host/db");
  EXPECT_EQ(mask_store_url("sqlite:///a:b@c/db"), "sqlite:///a:b@c/db");
  EXPECT_EQ(mask_store_url(""), "");
}

}  // namespace
}  // namespace flowpilot::engine
