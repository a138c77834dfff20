#include "engine/store/detail/pg_connection.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "engine/store/store_url.h"

namespace flowpilot::engine::store_detail {

namespace {

// SQLSTATE classes worth a retry: 08 connection exception, 40001 serialization failure, 40P01
// deadlock, 57P01..57P03 admin shutdown / crash shutdown / cannot connect now.
bool transient_state(std::string_view state) {
  return state.starts_with("08") || state == "40001" || state == "40P01" || state == "57P01" ||
         state == "57P02" || state == "57P03";
}

std::string error_message(PGconn* conn) {
  std::string message = PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

// Length of the valid UTF-8 sequence starting at `s[i]` (1..4), or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c >= 0x01 && c < 0x80) return 1;
  std::size_t n = 0;
  std::uint32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;  // NUL, a continuation byte, or 0xF8..0xFF
  }
  if (i + n > s.size()) return 0;
  std::uint32_t cp = c & (0x7F >> n);
  for (std::size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

bool PgError::transient() const noexcept { return connection_lost_ || transient_state(sqlstate_); }

std::string valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t n = utf8_sequence(text, i);
    if (n == 0) break;
    i += n;
  }
  if (i == text.size()) return std::string(text);
  std::string out(text.substr(0, i));
  while (i < text.size()) {
    const std::size_t n = utf8_sequence(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

PgParams& PgParams::text(std::string_view value) {
  values_.emplace_back(valid_utf8(value));
  return *this;
}

PgParams& PgParams::text_or_null(std::string_view value) {
  if (value.empty()) return null();
  return text(value);
}

PgParams& PgParams::integer(std::int64_t value) {
  values_.emplace_back(std::to_string(value));
  return *this;
}

PgParams& PgParams::boolean(bool value) {
  values_.emplace_back(value ? "true" : "false");
  return *this;
}

PgParams& PgParams::null() {
  values_.emplace_back(std::nullopt);
  return *this;
}

PgParams& PgParams::json(const boost::json::value& value) {
  if (value.is_null()) return null();
  // Serialized JSON escapes control characters, NUL among them; strings inside it may still carry
  // invalid UTF-8 taken from raw bytes.
  return text(boost::json::serialize(value));
}

std::vector<const char*> PgParams::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
  return out;
}

namespace {

PGconn* connect(const std::string& url, const std::string& application_name) {
  // expand_dbname: `dbname` may be a whole URI or conninfo; application_name then fills in what the
  // URL leaves out.
  const char* keywords[] = {"dbname", "application_name", nullptr};
  const char* values[] = {url.c_str(), application_name.c_str(), nullptr};
  return PQconnectdbParams(keywords, values, 1);
}

}  // namespace

PgConnection::PgConnection(const std::string& url, const std::string& application_name,
                           const std::string& schema, bool create_schema)
    : conn_(connect(url, application_name)) {
  if (!conn_) throw PgError("08000", true, "cannot connect to " + mask_store_url(url) + ": out of memory");
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    throw PgError("08001", true, fmt::format("cannot connect to {}: {}", mask_store_url(url), error_message(conn_.get())));
  }
  // Notices (e.g. "schema already exists, skipping") would go to stderr otherwise.
  PQsetNoticeProcessor(conn_.get(), [](void*, const char*) {}, nullptr);
  if (!schema.empty()) {
    const std::unique_ptr<char, decltype(&PQfreemem)> quoted(
        PQescapeIdentifier(conn_.get(), schema.data(), schema.size()), &PQfreemem);
    if (!quoted) throw PgError("22000", false, "store schema `" + schema + "`: " + error_message(conn_.get()));
    if (create_schema) {
      try {
        exec(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", quoted.get()));
      } catch (const PgError& e) {
        // Processes creating the same schema at once: IF NOT EXISTS can still lose the race on the
        // catalog's unique index, and then the schema exists, which is all that was asked.
        if (e.sqlstate() != "23505" && e.sqlstate() != "42P06") throw;
      }
    }
    exec(fmt::format("SET search_path TO {}", quoted.get()));
  }
}

PgResult PgConnection::check(PGresult* raw, std::string_view sql) {
  PgResult result(raw);
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
  const bool lost = PQstatus(conn_.get()) != CONNECTION_OK;
  std::string message = result ? PQresultErrorMessage(result.get()) : "";
  if (message.empty()) message = error_message(conn_.get());
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  const std::string_view head = sql.substr(0, std::min<std::size_t>(sql.size(), 60));
  throw PgError(state != nullptr ? state : (lost ? "08006" : ""), lost,
                fmt::format("PostgreSQL: {} (in `{}{}`)", message, head, sql.size() > head.size() ? "..." : ""));
}

void PgConnection::exec(std::string_view sql) {
  const std::string text(sql);
  check(PQexec(conn_.get(), text.c_str()), sql);
}

PgResult PgConnection::query(std::string_view sql, const PgParams& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(next_name_++);
    const std::string text(sql);
    check(PQprepare(conn_.get(), name.c_str(), text.c_str(), params.size(), nullptr), sql);
    it = prepared_.emplace(text, std::move(name)).first;
  }
  const auto values = params.pointers();
  return check(PQexecPrepared(conn_.get(), it->second.c_str(), params.size(), values.data(), nullptr,
                              nullptr, 0),
               sql);
}

std::vector<PgResult> PgConnection::pipeline(
    const std::vector<std::pair<std::string_view, const PgParams*>>& statements) {
  // Answers are read after each chunk: with every statement sent first, the server's answers could
  // fill the socket buffers while it waits for us to read, and we for it to read.
  constexpr std::size_t kChunk = 512;
  std::vector<PgResult> results;
  results.reserve(statements.size());
  std::optional<PgError> failure;
  std::vector<std::string> prepared_here;  // names of statements prepared in this pipeline
  if (PQenterPipelineMode(conn_.get()) != 1) {
    throw PgError("", !usable(), "PostgreSQL: cannot enter pipeline mode: " + error_message(conn_.get()));
  }
  try {
    for (std::size_t begin = 0; begin < statements.size() && !failure; begin += kChunk) {
      const std::size_t end = std::min(statements.size(), begin + kChunk);
      // What each answer belongs to: -1 a PREPARE, else the statement's index.
      std::vector<std::ptrdiff_t> expected;
      std::vector<std::vector<const char*>> values;
      values.reserve(end - begin);
      for (std::size_t i = begin; i < end; ++i) {
        const auto& [sql, params] = statements[i];
        auto it = prepared_.find(sql);
        if (it == prepared_.end()) {
          std::string name = "s" + std::to_string(next_name_++);
          const std::string text(sql);
          if (PQsendPrepare(conn_.get(), name.c_str(), text.c_str(), params->size(), nullptr) != 1) break;
          expected.push_back(-1);
          prepared_here.push_back(name);
          it = prepared_.emplace(text, std::move(name)).first;
        }
        values.push_back(params->pointers());
        if (PQsendQueryPrepared(conn_.get(), it->second.c_str(), params->size(), values.back().data(), nullptr,
                                nullptr, 0) != 1) {
          break;
        }
        expected.push_back(static_cast<std::ptrdiff_t>(i));
      }
      if (PQpipelineSync(conn_.get()) != 1) {
        throw PgError("08006", !usable(), "PostgreSQL: pipeline failed: " + error_message(conn_.get()));
      }
      for (const std::ptrdiff_t what : expected) {
        PgResult result(PQgetResult(conn_.get()));
        // Each answer ends with a null result.
        while (PGresult* extra = PQgetResult(conn_.get())) PQclear(extra);
        const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
        const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
        if (!ok && !failure && status != PGRES_PIPELINE_ABORTED) {
          const std::string_view sql = what < 0 ? std::string_view("PREPARE") : statements[static_cast<std::size_t>(what)].first;
          try {
            check(result.release(), sql);
          } catch (const PgError& e) {
            failure = e;
          }
          continue;
        }
        if (!ok && !failure) failure = PgError("", false, "PostgreSQL: pipeline aborted");
        if (what >= 0) results.push_back(std::move(result));
      }
      PgResult sync(PQgetResult(conn_.get()));  // PGRES_PIPELINE_SYNC
      if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) {
        throw PgError("08006", !usable(), "PostgreSQL: pipeline out of step: " + error_message(conn_.get()));
      }
      if (expected.size() < (end - begin)) {
        throw PgError("08006", !usable(), "PostgreSQL: could not send a statement: " + error_message(conn_.get()));
      }
    }
  } catch (const PgError& e) {
    if (!failure) failure = e;
  }
  // Answers still pending (a pipeline that broke off half-way) keep the connection in pipeline
  // mode: it is then unusable, and the caller must treat it as lost.
  const bool exited = PQexitPipelineMode(conn_.get()) == 1;
  if (failure && !exited) failure = PgError(failure->sqlstate(), true, failure->what());
  if (failure) {
    // A PREPARE the server skipped or refused left no statement behind: forget its name.
    for (const auto& name : prepared_here) {
      for (auto it = prepared_.begin(); it != prepared_.end(); ++it) {
        if (it->second == name) {
          prepared_.erase(it);
          break;
        }
      }
    }
    throw *failure;
  }
  return results;
}

PgResult PgConnection::query_once(std::string_view sql, const PgParams& params) {
  const std::string text(sql);
  const auto values = params.pointers();
  return check(PQexecParams(conn_.get(), text.c_str(), params.size(), nullptr, values.data(), nullptr,
                            nullptr, 0),
               sql);
}

std::string pg_text(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return {};
  return std::string(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
}

std::int64_t pg_int(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return 0;
  const char* text = PQgetvalue(r, row, col);
  const char* end = text + PQgetlength(r, row, col);
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end) {
    throw StoreError(fmt::format("PostgreSQL: column {} holds `{}`, not an integer", PQfname(r, col), text));
  }
  return value;
}

bool pg_bool(const PGresult* r, int row, int col) {
  return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

bool pg_is_null(const PGresult* r, int row, int col) { return PQgetisnull(r, row, col) != 0; }

boost::json::value pg_json(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return nullptr;
  const std::string_view text(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) throw StoreError(fmt::format("PostgreSQL: column {} holds invalid JSON: {}", PQfname(r, col), ec.message()));
  return v;
}

}  // namespace flowpilot::engine::store_detail
