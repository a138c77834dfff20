#include "engine/store/store_url.h"

#include "engine/store/postgres_store.h"
#include "engine/store/sqlite_store.h"

#include <algorithm>
#include <cctype>

namespace flowpilot::engine {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::optional<StoreKind> store_kind(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::string scheme = lower(url.substr(0, scheme_end));
  if (scheme == "sqlite") return StoreKind::sqlite;
  if (scheme == "postgres" || scheme == "postgresql") return StoreKind::postgres;
  return std::nullopt;
}

std::string mask_store_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  // SQLite URLs name a file: a ':' and '@' in its path are no password.
  if (scheme_end == std::string_view::npos || lower(url.substr(0, scheme_end)) == "sqlite") {
    return std::string(url);
  }
  const std::size_t authority = scheme_end + 3;
  const std::size_t query = std::min(url.find_first_of("?#", authority), url.size());
  std::string out(url.substr(0, authority));
  const std::string_view rest = url.substr(authority, query - authority);
  // The last '@' ends the user info: a password may itself contain '@' or '/'.
  const auto at = rest.rfind('@');
  const auto colon = rest.find(':');
  if (at != std::string_view::npos && colon != std::string_view::npos && colon < at) {
    out += std::string(rest.substr(0, colon + 1)) + "***" + std::string(rest.substr(at));
  } else {
    out += rest;
  }
  if (query == url.size()) return out;
  // libpq also takes the password as a parameter: ?password=...
  std::string_view params = url.substr(query + 1);
  out += url[query];
  bool first = true;
  while (true) {
    const auto amp = params.find('&');
    const std::string_view param = params.substr(0, amp);
    if (!first) out += '&';
    first = false;
    if (lower(param.substr(0, param.find('='))) == "password" &&
        param.find('=') != std::string_view::npos) {
      out += std::string(param.substr(0, param.find('=') + 1)) + "***";
    } else {
      out += param;
    }
    if (amp == std::string_view::npos) break;
    params.remove_prefix(amp + 1);
  }
  return out;
}

std::unique_ptr<Store> open_store(const StoreOpenOptions& options) {
  const auto kind = store_kind(options.url);
  if (!kind) {
    throw StoreError("store `" + mask_store_url(options.url) +
                     "`: not a store URL (sqlite://PATH or postgres://USER@HOST:PORT/DATABASE)");
  }
  if (*kind == StoreKind::postgres) {
    PostgresStoreOptions pg;
    pg.url = options.url;
    pg.on_commit = options.on_commit;
    pg.exclusive = options.exclusive;
    pg.on_exclusive_lost = options.on_exclusive_lost;
    return open_postgres_store(pg);
  }
  SqliteStoreOptions sqlite;
  sqlite.path = options.url.substr(std::string_view("sqlite://").size());
  sqlite.durability = options.relaxed_durability ? Durability::relaxed : Durability::full;
  sqlite.on_commit = options.on_commit;
  return open_sqlite_store(sqlite);
}

}  // namespace flowpilot::engine
