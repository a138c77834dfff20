#include "engine/store/detail/sqlite_handle.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <system_error>

namespace flowpilot::engine::store_detail {

namespace {

constexpr int kBusyTimeoutMs = 5000;

std::string db_name(sqlite3* db) {
  const char* name = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
  return name != nullptr ? std::string(name) : std::string("(unknown)");
}

}  // namespace

void throw_error(sqlite3* db, int rc, std::string_view context) {
  const int code = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw SqliteError(code != 0 ? code : rc,
                    fmt::format("database {}: {}: {}", db_name(db), context, msg));
}

Db open_db(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  // sqlite3_open_v2 hands out a handle even on failure; it must be closed either way.
  Db db(raw);
  if (rc != SQLITE_OK) {
    const char* msg = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    throw SqliteError(rc, fmt::format("cannot open database {}: {}", path, msg));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  // The store never needs to write sqlite_schema directly; defensive mode and an untrusted schema
  // keep a tampered file from running functions through views or triggers (BAD-INPUTS 34).
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  return db;
}

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    const int code = sqlite3_extended_errcode(db);
    std::string_view what(sql);
    if (what.size() > 60) what = what.substr(0, 60);
    throw SqliteError(code != 0 ? code : rc,
                      fmt::format("database {}: {}: {}", db_name(db), what, msg));
  }
}

Stmt prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  Stmt stmt(raw);
  if (rc != SQLITE_OK) throw_error(db, rc, fmt::format("preparing \"{}\"", sql));
  return stmt;
}

bool step(sqlite3_stmt* stmt) {
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw_error(sqlite3_db_handle(stmt), rc, "executing statement");
}

void bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  const int rc =
      sqlite3_bind_text64(stmt, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) throw_error(sqlite3_db_handle(stmt), rc, "binding a value");
}

void bind_text_or_null(sqlite3_stmt* stmt, int index, std::string_view text) {
  if (text.empty()) {
    bind_null(stmt, index);
  } else {
    bind_text(stmt, index, text);
  }
}

void bind_int(sqlite3_stmt* stmt, int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt, index, value);
  if (rc != SQLITE_OK) throw_error(sqlite3_db_handle(stmt), rc, "binding a value");
}

void bind_null(sqlite3_stmt* stmt, int index) {
  const int rc = sqlite3_bind_null(stmt, index);
  if (rc != SQLITE_OK) throw_error(sqlite3_db_handle(stmt), rc, "binding a value");
}

std::string column_text(sqlite3_stmt* stmt, int col) {
  const auto* text = sqlite3_column_text(stmt, col);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt, col)));
}

std::int64_t column_int(sqlite3_stmt* stmt, int col) { return sqlite3_column_int64(stmt, col); }

boost::json::value column_json(sqlite3_stmt* stmt, int col) {
  const auto* text = sqlite3_column_text(stmt, col);
  if (text == nullptr) return nullptr;
  const std::string_view sv(reinterpret_cast<const char*>(text),
                            static_cast<std::size_t>(sqlite3_column_bytes(stmt, col)));
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(sv, ec);
  if (ec) {
    throw StoreError(fmt::format("database {}: column {} holds invalid JSON: {}",
                                 db_name(sqlite3_db_handle(stmt)), sqlite3_column_name(stmt, col),
                                 ec.message()));
  }
  return v;
}

}  // namespace flowpilot::engine::store_detail
