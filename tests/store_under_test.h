// The store (or warehouse) a test suite runs against: SQLite at the given path, or, when the
// environment variable FLOWPILOT_TEST_PG_URL_FILE names a file holding a PostgreSQL URL (ctest's
// `pg.` copies of the store-backed suites, see tests/pg/), PostgreSQL in a schema of its own. The
// schema is named after the path, so that reopening the same path (a restart in a test) reopens
// the same data, and tests running side by side never share tables. Schemas are left for the
// throwaway test server to take with it.
#pragma once

#include "engine/store/postgres_store.h"
#include "engine/store/sqlite_store.h"
#include "engine/warehouse/warehouse.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace flowpilot::engine::testing {

// The PostgreSQL URL of the test server, or "" when the suite runs on SQLite.
inline std::string test_postgres_url() {
  const char* file = std::getenv("FLOWPILOT_TEST_PG_URL_FILE");
  if (file == nullptr || *file == '\0') return {};
  std::ifstream in(file);
  std::string url;
  if (!(in >> url) || url.empty()) {
    throw std::runtime_error(std::string("FLOWPILOT_TEST_PG_URL_FILE: no URL in ") + file +
                             " (is the pg_server_start fixture running?)");
  }
  return url;
}

inline bool testing_on_postgres() { return !test_postgres_url().empty(); }

// The PostgreSQL schema that stands for the SQLite file at `sqlite_path`.
inline std::string test_schema_for(const std::filesystem::path& sqlite_path) {
  return "t" + std::to_string(std::hash<std::string>{}(std::filesystem::absolute(sqlite_path).lexically_normal().string()));
}

inline std::unique_ptr<Store> open_store_under_test(const SqliteStoreOptions& sqlite) {
  const std::string url = test_postgres_url();
  if (url.empty()) return open_sqlite_store(sqlite);
  PostgresStoreOptions options;
  options.url = url;
  options.schema = test_schema_for(sqlite.path);
  options.max_ops_per_commit = sqlite.max_ops_per_commit;
  options.on_commit = sqlite.on_commit;
  return open_postgres_store(options);
}

inline std::unique_ptr<Store> open_store_under_test(const std::filesystem::path& sqlite_path) {
  SqliteStoreOptions options;
  options.path = sqlite_path;
  return open_store_under_test(options);
}

// The PostgreSQL schema that stands for the SQLite warehouse file at `sqlite_path`: apart from
// the store's, as a warehouse file is apart from the store's file.
inline std::string test_warehouse_schema_for(const std::filesystem::path& sqlite_path) {
  return test_schema_for(sqlite_path) + "w";
}

// The warehouse a test runs against, chosen as open_store_under_test chooses the store.
inline std::unique_ptr<Warehouse> open_warehouse_under_test(const std::filesystem::path& sqlite_path) {
  const std::string url = test_postgres_url();
  if (url.empty()) return open_sqlite_warehouse({sqlite_path});
  PostgresWarehouseOptions options;
  options.url = url;
  options.schema = test_warehouse_schema_for(sqlite_path);
  return open_postgres_warehouse(options);
}

}  // namespace flowpilot::engine::testing
