// Store URLs: `sqlite://PATH` (the embedded default) or `postgres://` / `postgresql://` (a libpq
// URI, for several processes sharing one database), and opening the store a URL names.
#pragma once

#include "engine/store/store.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace flowpilot::engine {

enum class StoreKind { sqlite, postgres };

// The kind of store `url` names, or nullopt for an unknown scheme.
std::optional<StoreKind> store_kind(std::string_view url);

// "postgres://user:***@host/db": the URL with its password (and any password= parameter) masked.
std::string mask_store_url(std::string_view url);

struct StoreOpenOptions {
  std::string url;
  bool relaxed_durability = false;  // SQLite only: synchronous=NORMAL (see sqlite_store.h)
  bool exclusive = false;           // PostgreSQL only: see PostgresStoreOptions::exclusive
  std::function<void(const std::string& why)> on_exclusive_lost = nullptr;  // and on_exclusive_lost
  std::function<void(std::chrono::duration<double> seconds, std::size_t batches)> on_commit = nullptr;
};

// Opens (creating and migrating) the store `url` names. Throws StoreError for an unknown scheme
// and for what the store's own opening throws.
std::unique_ptr<Store> open_store(const StoreOpenOptions& options);

}  // namespace flowpilot::engine
