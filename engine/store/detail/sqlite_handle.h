// RAII ownership of sqlite3 handles and the few typed helpers the store needs around them.
#pragma once

#include <sqlite3.h>

#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/store/store.h"

namespace flowpilot::engine::store_detail {

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Keeps SQLite's extended result code so that the writer can tell one batch's fault (a constraint)
// from a failure of the whole transaction (busy, disk full, I/O).
class SqliteError : public StoreError {
 public:
  SqliteError(int code, const std::string& what) : StoreError(what), code_(code) {}
  int code() const noexcept { return code_; }
  int primary_code() const noexcept { return code_ & 0xff; }

 private:
  int code_;
};

// Opens `path` with `flags` and applies the settings every connection of the store shares
// (extended codes, busy timeout, defensive mode, untrusted schema).
Db open_db(const std::string& path, int flags);

// Runs one or more statements without results (pragmas, DDL, transaction control).
void exec(sqlite3* db, const char* sql);

Stmt prepare(sqlite3* db, std::string_view sql);

[[noreturn]] void throw_error(sqlite3* db, int rc, std::string_view context);

// Resets the statement when the scope ends, which also ends the read transaction it holds.
class StmtReset {
 public:
  explicit StmtReset(sqlite3_stmt* stmt) noexcept : stmt_(stmt) {}
  ~StmtReset() { sqlite3_reset(stmt_); }
  StmtReset(const StmtReset&) = delete;
  StmtReset& operator=(const StmtReset&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

// true: a row is available; false: done. Throws SqliteError otherwise.
bool step(sqlite3_stmt* stmt);

// Text is bound without a copy: the caller keeps it alive until the statement has been stepped.
void bind_text(sqlite3_stmt* stmt, int index, std::string_view text);
void bind_text_or_null(sqlite3_stmt* stmt, int index, std::string_view text);  // "" -> NULL
void bind_int(sqlite3_stmt* stmt, int index, std::int64_t value);
void bind_null(sqlite3_stmt* stmt, int index);

std::string column_text(sqlite3_stmt* stmt, int col);  // NULL -> ""
std::int64_t column_int(sqlite3_stmt* stmt, int col);
// NULL -> json null; otherwise parses the stored text, throwing StoreError when it is not JSON.
boost::json::value column_json(sqlite3_stmt* stmt, int col);

}  // namespace flowpilot::engine::store_detail
