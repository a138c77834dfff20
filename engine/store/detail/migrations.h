// The SQLite schema as an ordered list of migrations, applied at open.
#pragma once

#include <sqlite3.h>

#include <span>
#include <string>

namespace flowpilot::engine::store_detail {

struct Migration {
  int version;
  const char* sql;
};

// Ordered by version, starting at 1 without gaps. Never edit a released migration: add one.
std::span<const Migration> migrations();

// Brings the database up to the newest migration, each migration in its own transaction. Throws
// StoreError when the database is newer than this binary or a migration fails. `path` names the
// file in messages.
void migrate(sqlite3* db, const std::string& path);

}  // namespace flowpilot::engine::store_detail
