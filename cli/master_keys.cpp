#include "cli/master_keys.h"

#include "engine/store/store_url.h"

#include <filesystem>

namespace flowpilot::cli {

void add_data_dir_flags(CLI::App& cmd, DataDirFlags& flags) {
  cmd.add_option("--config", flags.config_file, "The server's YAML configuration file");
  cmd.add_option("--data-dir", flags.data_dir,
                 "The server's data directory (default as `serve`: $FLOWPILOT_DATA_DIR or "
                 "flowpilot-data)");
  cmd.add_option("--store", flags.store, "Store URL (default sqlite://<data_dir>/flowpilot.db)");
  cmd.add_option("--master-key-file", flags.master_key_file,
                 "File of master keys (default $FLOWPILOT_MASTER_KEY, else <data_dir>/master.key)");
}

ServeConfig load_data_dir_config(const DataDirFlags& flags) {
  ServeConfigFlags serve_flags;
  serve_flags.config_file = flags.config_file;
  const auto& keys = serve_config_keys();
  serve_flags.values.resize(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string_view path = keys[i].path;
    const std::string* given = path == "data_dir"          ? &flags.data_dir
                               : path == "store"           ? &flags.store
                               : path == "master_key_file" ? &flags.master_key_file
                                                           : nullptr;
    if (given != nullptr && !given->empty()) serve_flags.values[i].push_back(*given);
  }
  return load_serve_config(serve_flags);
}

engine::MasterKeyOptions master_key_options(const ServeConfig& config, bool create) {
  engine::MasterKeyOptions options;
  options.env_value = process_env("FLOWPILOT_MASTER_KEY");
  options.key_file = config.master_key_file;
  options.default_file = std::filesystem::path(config.data_dir) / "master.key";
  options.create_if_missing = create;
  return options;
}

std::optional<engine::LoadedKeys> load_keys(const ServeConfig& config, bool create) {
  try {
    return engine::load_master_keys(master_key_options(config, create));
  } catch (const engine::SecretsError& e) {
    throw UsageError(e.what());
  }
}

std::string local_db_path(const ServeConfig& config) {
  if (auto path = config.sqlite_path()) return *path;
  return (std::filesystem::path(config.data_dir) / "flowpilot.db").string();
}

std::unique_ptr<engine::Store> open_config_store(const ServeConfig& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  try {
    engine::StoreOpenOptions options;
    options.url = config.store_url();
    return engine::open_store(options);
  } catch (const engine::StoreError& e) {
    throw UsageError(e.what());
  }
}

std::unique_ptr<engine::Store> open_data_dir_store(const DataDirFlags& flags) {
  return open_config_store(load_data_dir_config(flags));
}

}  // namespace flowpilot::cli
