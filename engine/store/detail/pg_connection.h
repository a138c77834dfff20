// RAII ownership of libpq connections and results, and the few helpers the PostgreSQL store needs
// around them: prepared statements cached per connection, text parameters, typed column reads.
#pragma once

#include <libpq-fe.h>

#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/store/store.h"

namespace flowpilot::engine::store_detail {

struct PgConnCloser {
  void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
struct PgResultClearer {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, PgResultClearer>;

// Keeps the SQLSTATE so that the writer can tell one batch's fault (a constraint) from a failure of
// the whole transaction (serialization, a lost connection).
class PgError : public StoreError {
 public:
  PgError(std::string sqlstate, bool connection_lost, const std::string& what)
      : StoreError(what), sqlstate_(std::move(sqlstate)), connection_lost_(connection_lost) {}
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  // The server went away (restart, network): the connection must be opened again.
  bool connection_lost() const noexcept { return connection_lost_; }
  // Worth another try on a fresh transaction: serialization failure, deadlock, lost connection,
  // the server starting up or shutting down.
  bool transient() const noexcept;

 private:
  std::string sqlstate_;
  bool connection_lost_;
};

// Parameters in text format; nullopt is SQL NULL. Text is made valid UTF-8 without NUL bytes
// (PostgreSQL refuses both, SQLite stores them): such bytes become U+FFFD.
class PgParams {
 public:
  PgParams& text(std::string_view value);
  PgParams& text_or_null(std::string_view value);  // "" -> NULL
  PgParams& integer(std::int64_t value);
  PgParams& boolean(bool value);
  PgParams& null();
  PgParams& json(const boost::json::value& value);  // JSON null -> SQL NULL

  int size() const { return static_cast<int>(values_.size()); }
  // Pointers into the values, valid while this object lives and is not changed.
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::optional<std::string>> values_;
};

// Replaces NUL bytes and invalid UTF-8 sequences by U+FFFD; returns `text` unchanged when valid.
std::string valid_utf8(std::string_view text);

// One connection with its prepared statements (named s0, s1, ... in preparation order).
class PgConnection {
 public:
  // Connects to `url` (a libpq URI or conninfo) as `application_name` (what pg_stat_activity
  // shows) and, when `schema` is not empty, makes it the search path (creating it when
  // `create_schema`). Throws PgError naming the server (never the password) on failure.
  PgConnection(const std::string& url, const std::string& application_name, const std::string& schema,
               bool create_schema);

  PGconn* get() const { return conn_.get(); }
  // Connected, and not left in pipeline mode by a pipeline that broke off half-way (then only a
  // new connection is safe).
  bool usable() const {
    return PQstatus(conn_.get()) == CONNECTION_OK && PQpipelineStatus(conn_.get()) == PQ_PIPELINE_OFF;
  }

  // Statements without parameters or results (DDL, transaction control). Throws PgError.
  void exec(std::string_view sql);
  // Runs `sql` as a statement prepared once on this connection. Throws PgError.
  PgResult query(std::string_view sql, const PgParams& params);
  // Runs `sql` unprepared (one-off statements with varying text). Throws PgError.
  PgResult query_once(std::string_view sql, const PgParams& params);

  // Sends every statement (each prepared once on this connection, like query()) before reading
  // any answer, in libpq's pipeline mode, so a group of statements costs one round trip instead of
  // one each. Statements run in order; after a failure the server skips the rest, and this throws
  // the first failure's PgError. Call inside a transaction: a failure leaves it aborted.
  std::vector<PgResult> pipeline(const std::vector<std::pair<std::string_view, const PgParams*>>& statements);

  // In a transaction and not yet failed (PQTRANS_INTRANS).
  bool in_transaction() const { return PQtransactionStatus(conn_.get()) != PQTRANS_IDLE; }

 private:
  PgResult check(PGresult* result, std::string_view sql);

  std::unique_ptr<PGconn, PgConnCloser> conn_;
  std::map<std::string, std::string, std::less<>> prepared_;  // sql -> statement name
  std::size_t next_name_ = 0;  // names are never reused, even after a failed PREPARE
};

// Column readers over a result in text format. NULL reads as "" / 0 / JSON null.
std::string pg_text(const PGresult* r, int row, int col);
std::int64_t pg_int(const PGresult* r, int row, int col);
bool pg_bool(const PGresult* r, int row, int col);
bool pg_is_null(const PGresult* r, int row, int col);
// Throws StoreError when the stored text is not JSON.
boost::json::value pg_json(const PGresult* r, int row, int col);

}  // namespace flowpilot::engine::store_detail
