// The scale-out store: PostgreSQL through libpq, for several flowpilot processes sharing one
// database. Versioned migrations run at open (under an advisory lock, so processes starting
// together migrate once); one writer connection group-commits every batch queued while the
// previous commit was in flight, as the SQLite store does, sending the group's statements in one
// pipeline; reads use a pool of connections with statements prepared once per connection.
// wait_for_signals LISTENs on a connection of its own (one NOTIFY channel per schema), and each
// Leadership holds its advisory lock on one.
//
// Durability: a callback that has run is a committed transaction, as durable as the server's
// settings make it (synchronous_commit=on, the default, waits for the WAL flush).
//
// A lost connection (the server restarted) is opened again: a read is retried once on a new
// connection, and a group whose transaction failed before COMMIT was sent is retried. A group
// whose COMMIT got no answer is failed, since it may or may not have been applied.
//
// Thread-safety: see Store.
#pragma once

#include "engine/store/store.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace flowpilot::engine {

struct PostgresStoreOptions {
  std::string url;     // a libpq URI (postgres://user@host:port/db?...) or key=value conninfo
  std::string schema;  // "" = the server's default search path; otherwise created when missing
  std::string application_name = "flowpilot";  // how the connections show in pg_stat_activity
  std::size_t max_idle_readers = 8;
  // Holds a session advisory lock for the store's lifetime, so that a second store opened with
  // this flag on the same database and schema is refused (StoreError) instead of also resuming
  // and executing the same runs. For `serve`, until processes can divide the work by role.
  bool exclusive = false;
  // Called (once, from a store thread) when the exclusive lock was lost and another process holds
  // it now (the server restarted and the other process was faster): this process must stop
  // executing runs. `serve` shuts down.
  std::function<void(const std::string& why)> on_exclusive_lost = nullptr;
  std::size_t max_ops_per_commit = 20'000;  // a larger queue is split over several commits
  // As SqliteStoreOptions::on_commit.
  std::function<void(std::chrono::duration<double> seconds, std::size_t batches)> on_commit = nullptr;
};

// Connects, creates the schema when asked and migrates. Throws StoreError naming the server (never
// the password) and the reason.
std::unique_ptr<Store> open_postgres_store(const PostgresStoreOptions& options);

// The schema version this binary migrates a PostgreSQL store to.
int postgres_schema_version();

}  // namespace flowpilot::engine
