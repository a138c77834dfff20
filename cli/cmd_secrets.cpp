// `flowpilot secrets rotate-key|keys`: the master keys that encrypt stored connections
// (docs/connections.md).
#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/master_keys.h"
#include "engine/connections/connections.h"
#include "engine/store/sqlite_store.h"

#include <iostream>
#include <map>
#include <memory>

namespace flowpilot::cli {
namespace {

struct SecretsArgs {
  DataDirFlags data;
  bool retire_old = false;
};

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

int rotate_key(const SecretsArgs& args) {
  const ServeConfig config = load_data_dir_config(args.data);
  auto keys = load_keys(config, false);
  if (keys && keys->from_env) {
    throw UsageError(
        "the master keys come from FLOWPILOT_MASTER_KEY, which this command cannot change: "
        "use a key file (master_key_file) to rotate with this command, or put the new key first "
        "in FLOWPILOT_MASTER_KEY as `new:BASE64,old:BASE64` (see docs/connections.md)");
  }
  auto store = open_config_store(config);
  if (!keys) {
    keys = load_keys(config, true);
    std::cout << "created master key file " << keys->file.string() << " with key "
              << keys->keyring.primary_id() << "; no connections needed re-encrypting\n";
    return kExitOk;
  }
  const engine::Keyring rotated = keys->keyring.with_new_primary(engine::Keyring::generate_key());
  // The file gets the new key before any row uses it: a crash in between leaves rows that the
  // file can still open.
  try {
    engine::save_key_file(keys->file, rotated);
  } catch (const engine::SecretsError& e) {
    throw UsageError(e.what());
  }
  engine::ConnectionService service(*store, keys->keyring);
  std::size_t count = 0;
  try {
    count = service.rotate(rotated);
  } catch (const engine::ConnectionError& e) {
    throw UsageError(std::string(e.what()) + " (the new key " + rotated.primary_id() +
                     " was added to " + keys->file.string() + " and is now primary)");
  }
  std::cout << "new primary key " << rotated.primary_id() << " in " << keys->file.string()
            << "; re-encrypted " << count << " connection" << (count == 1 ? "" : "s") << "\n";
  std::vector<std::string> old = rotated.ids();
  old.erase(old.begin());
  if (!args.retire_old) {
    std::cout << "kept older keys for reading: " << joined(old)
              << " (remove them with `flowpilot secrets rotate-key --retire-old`)\n";
    return kExitOk;
  }
  for (const auto& id : service.key_ids_in_use()) {
    if (id != rotated.primary_id()) {
      throw UsageError("connections still use key " + id + "; old keys were not retired");
    }
  }
  try {
    engine::save_key_file(keys->file, rotated.primary_only());
  } catch (const engine::SecretsError& e) {
    throw UsageError(e.what());
  }
  std::cout << "retired keys: " << joined(old) << "\n";
  return kExitOk;
}

int list_keys(const SecretsArgs& args) {
  const ServeConfig config = load_data_dir_config(args.data);
  auto keys = load_keys(config, false);
  if (!keys) {
    std::cout << "no master key configured\n";
    return kExitOk;
  }
  auto store = open_config_store(config);
  std::map<std::string, int> used;
  for (const auto& r : store->list_connections()) ++used[r.key_id];
  std::cout << "keys from " << (keys->from_env ? "FLOWPILOT_MASTER_KEY" : keys->file.string())
            << ":\n";
  for (const auto& id : keys->keyring.ids()) {
    std::cout << "  " << id << (id == keys->keyring.primary_id() ? " (primary)" : "") << ": "
              << used[id] << " connection(s)\n";
    used.erase(id);
  }
  for (const auto& [id, n] : used) {
    std::cout << "  " << id << " (MISSING): " << n << " connection(s) cannot be decrypted\n";
  }
  return kExitOk;
}

}  // namespace

void add_secrets_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("secrets", "Master keys that encrypt stored connections");
  cmd->require_subcommand(1);
  auto args = std::make_shared<SecretsArgs>();

  auto* rotate = cmd->add_subcommand(
      "rotate-key", "Generate a new primary master key and re-encrypt every connection with it");
  rotate->add_flag("--retire-old", args->retire_old,
                   "Afterwards remove the older keys from the key file");
  add_data_dir_flags(*rotate, args->data);
  rotate->callback([args, &exit_code] { exit_code = rotate_key(*args); });

  auto* keys = cmd->add_subcommand("keys", "List the master key ids and how many connections use each");
  add_data_dir_flags(*keys, args->data);
  keys->callback([args, &exit_code] { exit_code = list_keys(*args); });
}

}  // namespace flowpilot::cli
