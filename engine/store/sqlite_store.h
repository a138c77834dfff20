// The embedded store: SQLite in WAL mode, versioned migrations run at open, one writer thread that
// group-commits every batch queued while the previous commit was in flight, and a small pool of
// read connections. Notify signals and leadership stay within the process (see Store).
//
// Durability: `full` (the default) commits with synchronous=FULL, so a callback that has run is a
// promise that survives power loss; `relaxed` uses synchronous=NORMAL (may lose the last commits
// on power loss, never corrupts) and must be chosen explicitly.
//
// Thread-safety: see Store.
#pragma once

#include "engine/store/store.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <filesystem>
#include <memory>

namespace flowpilot::engine {

enum class Durability { full, relaxed };

struct SqliteStoreOptions {
  std::filesystem::path path;              // created with its parent directory when missing
  Durability durability = Durability::full;
  std::size_t max_ops_per_commit = 20'000;  // a larger queue is split over several commits
  // Called on the writer thread after each group commit with its duration and its number of
  // batches (for the store commit latency metric). Must be quick and must not throw.
  std::function<void(std::chrono::duration<double> seconds, std::size_t batches)> on_commit =
      nullptr;
};

// Opens (creating and migrating) the database. Throws StoreError naming the file and the reason,
// e.g. a schema newer than this binary knows.
std::unique_ptr<Store> open_sqlite_store(const SqliteStoreOptions& options);

// The schema version this binary migrates to.
int sqlite_schema_version();

}  // namespace flowpilot::engine
