// Runs SQL around the store under test (store_under_test.h), as another program with access to
// the database could: the SQLite file, or the test's schema on the PostgreSQL server. For tests of
// what the database itself refuses.
#pragma once

#include "engine/store/detail/pg_connection.h"
#include "store_under_test.h"

#include <sqlite3.h>

#include <filesystem>
#include <string>

namespace flowpilot::engine::testing {

// "" when `sql` succeeded, else the database's error message.
inline std::string exec_raw_sql(const std::filesystem::path& sqlite_path, const std::string& sql) {
  const std::string url = test_postgres_url();
  if (!url.empty()) {
    try {
      store_detail::PgConnection conn(url, "flowpilot-test", test_schema_for(sqlite_path), false);
      conn.exec(sql);
      return {};
    } catch (const StoreError& e) {
      return e.what();
    }
  }
  sqlite3* db = nullptr;
  if (sqlite3_open(sqlite_path.c_str(), &db) != SQLITE_OK) {
    std::string message = sqlite3_errmsg(db);
    sqlite3_close(db);
    return message;
  }
  char* error = nullptr;
  std::string message;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    message = error != nullptr ? error : "failed";
  }
  sqlite3_free(error);
  sqlite3_close(db);
  return message;
}

}  // namespace flowpilot::engine::testing
