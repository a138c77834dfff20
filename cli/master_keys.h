// Where `serve`, `connections` and `secrets` find the master keys and the store: the same
// settings as `flowpilot serve` (serve_config.h: --config, --data-dir, --store,
// --master-key-file and their FLOWPILOT_* variables), so every command sees the same data.
//
// Keys: FLOWPILOT_MASTER_KEY when set, else master_key_file, else `<data_dir>/master.key`
// (created with mode 0600 when `create` is true and it does not exist yet).
//
// Thread-safety: plain functions over values; reading the environment is as safe as the
// caller's use of setenv().
#pragma once

#include "cli/serve_config.h"
#include "engine/secrets/secrets.h"
#include "engine/store/store.h"

#include <CLI/CLI.hpp>

#include <memory>
#include <optional>
#include <string>

namespace flowpilot::cli {

// The subset of the server's flags that commands working on its data take.
struct DataDirFlags {
  std::string config_file;
  std::string data_dir;
  std::string store;
  std::string master_key_file;
};
void add_data_dir_flags(CLI::App& cmd, DataDirFlags& flags);

// The server's configuration with these flags applied (file < environment < flags).
ServeConfig load_data_dir_config(const DataDirFlags& flags);

engine::MasterKeyOptions master_key_options(const ServeConfig& config, bool create);

// Loads the keys; nullopt when none is configured and `create` is false. Key problems become
// UsageError.
std::optional<engine::LoadedKeys> load_keys(const ServeConfig& config, bool create);

// Where this process keeps its local files: the SQLite database path, or for a PostgreSQL store
// `flowpilot.db` in data_dir, never created. The warehouse (warehouse.db) and the csv steps'
// files/ live beside it.
std::string local_db_path(const ServeConfig& config);

// The configuration's store (SQLite or PostgreSQL), with data_dir created if missing (as `serve`
// would); store errors become UsageError.
std::unique_ptr<engine::Store> open_config_store(const ServeConfig& config);

// open_config_store for the configuration these flags name.
std::unique_ptr<engine::Store> open_data_dir_store(const DataDirFlags& flags);

}  // namespace flowpilot::cli
