// The configuration of `flowpilot serve`: every source (file, environment, flags), their
// precedence, the messages for bad input, the masking of secrets and the generated docs table.
#include "cli/serve_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

namespace flowpilot::cli {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Env = std::map<std::string, std::string, std::less<>>;

EnvLookup env_of(Env vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const EnvLookup kNoEnv = env_of({});

// Parses `args` as the command line of a subcommand, as `flowpilot serve ARGS` would.
std::shared_ptr<ServeConfigFlags> parse_flags(std::vector<std::string> args) {
  CLI::App app;
  auto flags = add_serve_config_flags(app);
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector as a stack: last arg first
  app.parse(args);
  return flags;
}

// A value each key accepts that differs from its default.
const std::map<std::string, std::string, std::less<>> kSamples = {
    {"listen", "0.0.0.0:9000"},
    {"data_dir", "/srv/flowpilot"},
    {"store", "postgres://fp@db.internal/flowpilot"},
    {"role", "api,worker"},
    {"lease_ttl", "10s"},
    {"durability", "relaxed"},
    {"plugin_paths", "/opt/plugins"},
    {"workflow_dirs", "/srv/workflows"},
    {"watch_interval", "5s"},
    {"secrets_file", "secrets.yaml"},
    {"connections_file", "connections.yaml"},
    {"master_key_file", "/etc/flowpilot/master.key"},
    {"log.format", "json"},
    {"log.level", "debug"},
    {"retention.runs", "7d"},
    {"limits.max_body_bytes", "2MiB"},
    {"limits.max_upload_bytes", "128MiB"},
    {"limits.max_header_bytes", "32KiB"},
    {"limits.read_timeout", "3s"},
    {"limits.max_connections", "10"},
    {"limits.webhook_rate", "2.5"},
    {"limits.webhook_burst", "5"},
    {"limits.result_timeout", "1m"},
    {"limits.shutdown_timeout", "20s"},
    {"threads.http", "4"},
    {"threads.workers", "3"},
    {"metrics.token", "sample-token"},
    {"auth.session_idle_timeout", "30m"},
    {"auth.session_absolute_timeout", "1d"},
    {"auth.secure_cookies", "true"},
};

// The render without its comments: what a key is set to, not where it came from.
std::string values_only(const std::string& rendered) {
  std::istringstream in(rendered);
  std::string out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("#")) continue;
    if (const auto hash = line.find("  # "); hash != std::string::npos) line.resize(hash);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

class ServeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("flowpilot-serve-config-" + std::to_string(rd()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& text, const std::string& name = "config.yaml") {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  // Flags naming the file `text` is written to, plus `args`.
  std::shared_ptr<ServeConfigFlags> with_file(const std::string& text,
                                              std::vector<std::string> args = {}) {
    const std::string file = write(text);
    args.insert(args.begin(), {"--config", file});
    return parse_flags(std::move(args));
  }

  // The ConfigError message of loading, or a failure when it loads.
  static std::string error_of(const ServeConfigFlags& flags, const EnvLookup& env = kNoEnv) {
    try {
      (void)load_serve_config(flags, env);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "the config loaded";
    return {};
  }

  std::string file() const { return (dir_ / "config.yaml").string(); }

  fs::path dir_;
};

TEST_F(ServeConfigTest, Defaults) {
  const ServeConfig c = load_serve_config(ServeConfigFlags{}, kNoEnv);
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.data_dir, "flowpilot-data");
  EXPECT_EQ(c.store, "");
  EXPECT_EQ(c.store_url(), "sqlite://flowpilot-data/flowpilot.db");
  EXPECT_EQ(c.sqlite_path(), "flowpilot-data/flowpilot.db");
  EXPECT_EQ(c.durability, engine::Durability::full);
  EXPECT_TRUE(c.plugin_paths.empty());
  EXPECT_TRUE(c.workflow_dirs.empty());
  EXPECT_EQ(c.watch_interval, milliseconds(2000));
  EXPECT_EQ(c.secrets_file, "");
  EXPECT_EQ(c.connections_file, "");
  EXPECT_EQ(c.master_key_file, "");
  EXPECT_EQ(c.log_format, LogFormat::kText);
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
  EXPECT_EQ(c.retention_runs, std::chrono::hours(24 * 30));
  EXPECT_EQ(c.max_body_bytes, 1024u * 1024u);
  EXPECT_EQ(c.max_header_bytes, 16u * 1024u);
  EXPECT_EQ(c.read_timeout, milliseconds(10'000));
  EXPECT_EQ(c.max_connections, 1024);
  EXPECT_EQ(c.webhook_rate, 100.0);
  EXPECT_EQ(c.webhook_burst, 200);
  EXPECT_EQ(c.result_timeout, milliseconds(30'000));
  EXPECT_EQ(c.shutdown_timeout, milliseconds(10'000));
  EXPECT_EQ(c.http_threads, 2);
  EXPECT_EQ(c.worker_threads, 0);
  EXPECT_EQ(c.metrics_token, "");
  ASSERT_EQ(c.sources.size(), serve_config_keys().size());
  for (const auto& [path, source] : c.sources) EXPECT_EQ(source, "default") << path;
}

TEST_F(ServeConfigTest, DefaultsMatchTheKeyTable) {
  const ServeConfig c = serve_config_defaults();
  EXPECT_EQ(render_effective_config(c), render_effective_config(load_serve_config({}, kNoEnv)));
}

TEST_F(ServeConfigTest, FileSetsKeys) {
  const auto flags = with_file(
      "# a comment\n"
      "listen: 0.0.0.0:9000\n"
      "store: sqlite:///var/lib/flowpilot/runs.db\n"
      "workflow_dirs: [workflows, more]\n"
      "log:\n"
      "  format: json\n"
      "limits:\n"
      "  max_body_bytes: 512KiB\n"
      "  webhook_rate: 0.5\n"
      "threads: {http: 8}\n"
      "retention.runs: 0\n");
  const ServeConfig c = load_serve_config(*flags, kNoEnv);
  EXPECT_EQ(c.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.sources.at("listen"), "file " + file() + ":2");
  EXPECT_EQ(c.sqlite_path(), "/var/lib/flowpilot/runs.db");
  EXPECT_EQ(c.workflow_dirs, (std::vector<std::string>{"workflows", "more"}));
  EXPECT_EQ(c.log_format, LogFormat::kJson);
  EXPECT_EQ(c.sources.at("log.format"), "file " + file() + ":6");
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
  EXPECT_EQ(c.sources.at("log.level"), "default");
  EXPECT_EQ(c.max_body_bytes, 512u * 1024u);
  EXPECT_EQ(c.webhook_rate, 0.5);
  EXPECT_EQ(c.http_threads, 8);
  EXPECT_EQ(c.retention_runs, milliseconds(0));
}

TEST_F(ServeConfigTest, EmptyFileKeepsDefaults) {
  const ServeConfig c = load_serve_config(*with_file("# nothing set yet\n"), kNoEnv);
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.sources.at("listen"), "default");
}

TEST_F(ServeConfigTest, EnvOverridesFile) {
  const auto flags = with_file("listen: 0.0.0.0:9000\nlog:\n  level: warn\n");
  const ServeConfig c = load_serve_config(
      *flags, env_of({{"FLOWPILOT_LISTEN", "127.0.0.1:9100"}, {"FLOWPILOT_LOG_FORMAT", "JSON"}}));
  EXPECT_EQ(c.listen, "127.0.0.1:9100");
  EXPECT_EQ(c.sources.at("listen"), "env FLOWPILOT_LISTEN");
  EXPECT_EQ(c.log_format, LogFormat::kJson);
  EXPECT_EQ(c.log_level, LogLevel::kWarn);
  EXPECT_EQ(c.sources.at("log.level"), "file " + file() + ":3");
}

TEST_F(ServeConfigTest, EmptyEnvVariableCountsAsUnset) {
  const auto flags = with_file("listen: 0.0.0.0:9000\n");
  const ServeConfig c = load_serve_config(*flags, env_of({{"FLOWPILOT_LISTEN", ""}}));
  EXPECT_EQ(c.listen, "0.0.0.0:9000");
}

TEST_F(ServeConfigTest, FlagOverridesEnv) {
  const auto flags =
      with_file("threads:\n  http: 3\n", {"--threads-http", "6", "--listen=[::1]:81"});
  const ServeConfig c = load_serve_config(
      *flags, env_of({{"FLOWPILOT_THREADS_HTTP", "5"}, {"FLOWPILOT_LISTEN", "127.0.0.1:82"}}));
  EXPECT_EQ(c.http_threads, 6);
  EXPECT_EQ(c.sources.at("threads.http"), "flag --threads-http");
  EXPECT_EQ(c.listen, "[::1]:81");
  EXPECT_EQ(c.sources.at("listen"), "flag --listen");
}

TEST_F(ServeConfigTest, RepeatedScalarFlagKeepsTheLast) {
  const ServeConfig c =
      load_serve_config(*parse_flags({"--log-level", "warn", "--log-level", "error"}), kNoEnv);
  EXPECT_EQ(c.log_level, LogLevel::kError);
}

TEST_F(ServeConfigTest, ListsFromEnvAndRepeatedFlags) {
  ServeConfig c =
      load_serve_config(ServeConfigFlags{}, env_of({{"FLOWPILOT_PLUGIN_PATHS", "/a, /b,,/c"}}));
  EXPECT_EQ(c.plugin_paths, (std::vector<std::string>{"/a", "/b", "/c"}));
  // --workflows is the name the docs used first; both names add to one list.
  c = load_serve_config(
      *parse_flags({"--workflows", "w1", "--workflow-dirs", "w2", "--workflows", "w3"}), kNoEnv);
  EXPECT_EQ(c.workflow_dirs, (std::vector<std::string>{"w1", "w2", "w3"}));
  EXPECT_EQ(c.sources.at("workflow_dirs"), "flag --workflow-dirs");
  // One value per occurrence, so that a list flag never swallows what follows it.
  EXPECT_THROW(parse_flags({"--workflows", "w1", "w2"}), CLI::ParseError);
  // A flag replaces the list of lower sources rather than adding to it.
  c = load_serve_config(*with_file("plugin_paths: [/x, /y]\n", {"--plugin-paths", "/z"}),
                        env_of({{"FLOWPILOT_PLUGIN_PATHS", "/e"}}));
  EXPECT_EQ(c.plugin_paths, (std::vector<std::string>{"/z"}));
}

TEST_F(ServeConfigTest, RolesAreNamedOnceEachInOneOrder) {
  ServeConfig c = load_serve_config(*parse_flags({"--role", "worker, api,worker"}), kNoEnv);
  EXPECT_EQ(c.roles, "api,worker");
  EXPECT_TRUE(c.has_role("api"));
  EXPECT_TRUE(c.has_role("worker"));
  EXPECT_FALSE(c.has_role("scheduler"));
  EXPECT_FALSE(c.all_roles());
  EXPECT_TRUE(load_serve_config({}, kNoEnv).all_roles());
  try {
    load_serve_config(*parse_flags({"--role", "api,cook"}), kNoEnv);
    FAIL() << "an unknown role was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("`cook` is not a role"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--role"), std::string::npos) << e.what();
  }
}

TEST_F(ServeConfigTest, NamesFollowTheRule) {
  for (const auto& key : serve_config_keys()) {
    std::string env = "FLOWPILOT_";
    std::string flag = "--";
    for (char c : key.path) {
      env += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      flag += (c == '.' || c == '_') ? '-' : c;
    }
    EXPECT_EQ(key.env_name(), env);
    EXPECT_EQ(key.flag_name(), flag);
    EXPECT_FALSE(key.doc.empty()) << key.path;
    EXPECT_FALSE(key.type.empty()) << key.path;
  }
  const auto& keys = serve_config_keys();
  const auto find = [&](std::string_view path) {
    return *std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.path == path; });
  };
  EXPECT_EQ(find("limits.max_body_bytes").env_name(), "FLOWPILOT_LIMITS_MAX_BODY_BYTES");
  EXPECT_EQ(find("limits.max_body_bytes").flag_name(), "--limits-max-body-bytes");
  EXPECT_EQ(find("data_dir").flag_name(), "--data-dir");
  EXPECT_EQ(find("workflow_dirs").flag_alias, "workflows");
  EXPECT_TRUE(find("metrics.token").secret);
}

// Each key, set through each source alone, lands in the config (its rendered value changes) and is
// attributed to that source.
TEST_F(ServeConfigTest, EveryKeyWorksFromEverySource) {
  const std::string defaults = values_only(render_effective_config(serve_config_defaults()));
  for (const auto& key : serve_config_keys()) {
    SCOPED_TRACE(std::string(key.path));
    const auto sample = kSamples.find(key.path);
    ASSERT_NE(sample, kSamples.end()) << "add a sample value for the new key";
    const std::string path(key.path);

    ServeConfig c = load_serve_config({}, env_of({{key.env_name(), sample->second}}));
    EXPECT_EQ(c.sources.at(path), "env " + key.env_name());
    EXPECT_NE(values_only(render_effective_config(c)), defaults);
    EXPECT_NE(render_effective_config(c).find("# env " + key.env_name()), std::string::npos);

    c = load_serve_config(*parse_flags({key.flag_name(), sample->second}), kNoEnv);
    EXPECT_EQ(c.sources.at(path), "flag " + key.flag_name());
    EXPECT_NE(values_only(render_effective_config(c)), defaults);

    // Dotted paths may also be written flat at the top of the file.
    c = load_serve_config(*with_file(path + ": \"" + sample->second + "\"\n"), kNoEnv);
    EXPECT_EQ(c.sources.at(path), "file " + file() + ":1");
    EXPECT_NE(values_only(render_effective_config(c)), defaults);
  }
}

TEST_F(ServeConfigTest, OnlyKnownEnvironmentVariablesAreRead) {
  std::set<std::string, std::less<>> asked;
  const EnvLookup recording = [&](std::string_view name) -> std::optional<std::string> {
    asked.emplace(name);
    return std::nullopt;
  };
  (void)load_serve_config({}, recording);
  std::set<std::string, std::less<>> expected;
  for (const auto& key : serve_config_keys()) expected.insert(key.env_name());
  EXPECT_EQ(asked, expected);
  // Variables of other commands are left alone even when they look like ours.
  EXPECT_NO_THROW((void)load_serve_config(
      {},
      env_of({{"FLOWPILOT_DB", "x"}, {"FLOWPILOT_PLUGIN_PATH", "y"}, {"FLOWPILOT_LISTN", "z"}})));
}

TEST_F(ServeConfigTest, BadValuesSayWhereTheyCameFrom) {
  const auto flags = with_file(
      "listen: 127.0.0.1:8080\n"
      "limits:\n"
      "  max_body_bytes: lots\n",
      {"--threads-http", "0"});
  try {
    (void)load_serve_config(*flags, env_of({{"FLOWPILOT_LOG_LEVEL", "loud"}}));
    FAIL() << "the config loaded";
  } catch (const ConfigError& e) {
    const std::vector<std::string> expected = {
        file() + ":3:19: limits.max_body_bytes: `lots` is not a size (e.g. 1MiB, 65536)",
        "environment FLOWPILOT_LOG_LEVEL: `loud` is not one of trace, debug, info, warn, error",
        "flag --threads-http: must be at least 1, not `0`",
    };
    EXPECT_EQ(e.problems(), expected);
    EXPECT_EQ(std::string(e.what()), expected[0] + "\n" + expected[1] + "\n" + expected[2]);
  }
}

TEST_F(ServeConfigTest, BadValuesOfEachType) {
  struct Case {
    std::string path;
    std::string value;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"listen", "8080", "`8080` is not HOST:PORT (e.g. 127.0.0.1:8080, 0.0.0.0:80, [::1]:8080)"},
      {"listen", "::1:8080",
       "`::1:8080` is not HOST:PORT (e.g. 127.0.0.1:8080, 0.0.0.0:80, [::1]:8080)"},
      {"listen", "localhost:70000", "`localhost:70000`: the port must be a number from 0 to 65535"},
      {"store", "mysql://db/x",
       "`mysql://db/x` is not a store URL; use sqlite:///abs/path, sqlite://relative/path or "
       "postgres://user:password@host/db"},
      {"store", "sqlite://",
       "`sqlite://` is not a store URL; use sqlite:///abs/path, sqlite://relative/path or "
       "postgres://user:password@host/db"},
      {"durability", "fast", "`fast` is not one of full, relaxed"},
      {"watch_interval", "soon",
       "`soon` is not a duration; use a number with a unit such as 30s, 5m, 2h"},
      {"limits.read_timeout", "0s", "a duration must be longer than zero, not `0s`"},
      {"limits.max_header_bytes", "0", "must be at least 1 byte, not `0`"},
      {"limits.max_header_bytes", "1.5MiB", "`1.5MiB` is not a size (e.g. 1MiB, 65536)"},
      {"limits.max_header_bytes", "99999999999999999999", "`99999999999999999999` is too large"},
      {"limits.max_connections", "1.5", "`1.5` is not a whole number"},
      {"auth.secure_cookies", "maybe", "`maybe` is not true or false"},
      {"auth.session_idle_timeout", "0s", "a duration must be longer than zero, not `0s`"},
      {"limits.webhook_rate", "-1", "must be 0 or more, not `-1`"},
      {"limits.webhook_rate", "fast", "`fast` is not a number (e.g. 100, 0.5)"},
      {"threads.workers", "-1", "must be at least 0, not `-1`"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path + "=" + c.value);
    const auto& keys = serve_config_keys();
    const auto key =
        std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.path == c.path; });
    ASSERT_NE(key, keys.end());
    EXPECT_EQ(error_of({}, env_of({{key->env_name(), c.value}})),
              "environment " + key->env_name() + ": " + c.message);
    EXPECT_EQ(error_of(*parse_flags({key->flag_name(), c.value})),
              "flag " + key->flag_name() + ": " + c.message);
  }
  EXPECT_EQ(error_of(*parse_flags({"--data-dir", ""})), "flag --data-dir: must not be empty");
}

TEST_F(ServeConfigTest, GoodValuesOfEachType) {
  const ServeConfig c = load_serve_config(
      *parse_flags({"--limits-max-body-bytes", "2MB", "--limits-max-header-bytes", "65536",
                    "--watch-interval", "0s", "--limits-read-timeout", "1m30s", "--listen",
                    "localhost:0", "--store", "postgresql://u:p@h/db", "--limits-webhook-rate",
                    "0"}),
      env_of({{"FLOWPILOT_RETENTION_RUNS", "0"}, {"FLOWPILOT_LOG_LEVEL", " Debug "}}));
  EXPECT_EQ(c.max_body_bytes, 2'000'000u);
  EXPECT_EQ(c.max_header_bytes, 65536u);
  EXPECT_EQ(c.watch_interval, milliseconds(0));
  EXPECT_EQ(c.read_timeout, milliseconds(90'000));
  EXPECT_EQ(c.listen, "localhost:0");
  EXPECT_EQ(c.store_url(), "postgresql://u:p@h/db");
  EXPECT_EQ(c.sqlite_path(), std::nullopt);
  EXPECT_EQ(c.webhook_rate, 0.0);
  EXPECT_EQ(c.retention_runs, milliseconds(0));
  EXPECT_EQ(c.log_level, LogLevel::kDebug);
}

TEST_F(ServeConfigTest, UnknownFileKeySuggestsTheNearest) {
  EXPECT_EQ(error_of(*with_file("listn: 127.0.0.1:80\n")),
            file() + ":1:1: unknown key `listn` (did you mean `listen`?)");
  EXPECT_EQ(error_of(*with_file("limits:\n  max_body_byte: 1MiB\n")),
            file() +
                ":2:3: unknown key `limits.max_body_byte` (did you mean "
                "`limits.max_body_bytes`?)");
  // A key written outside its section.
  EXPECT_EQ(error_of(*with_file("max_connections: 5\n")),
            file() +
                ":1:1: unknown key `max_connections` (did you mean "
                "`limits.max_connections`?)");
  EXPECT_EQ(error_of(*with_file("logs:\n  level: info\n")),
            file() + ":1:1: unknown key `logs` (did you mean `log`?)");
  EXPECT_EQ(error_of(*with_file("zzzzzz: 1\n")), file() + ":1:1: unknown key `zzzzzz`");
}

TEST_F(ServeConfigTest, EveryProblemOfTheFileIsReported) {
  try {
    (void)load_serve_config(*with_file("listn: x\nthreads:\n  http: many\n  workers: -2\n"),
                            kNoEnv);
    FAIL() << "the config loaded";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.problems().size(), 3u);
    EXPECT_EQ(e.problems()[1], file() + ":3:9: threads.http: `many` is not a whole number");
    EXPECT_EQ(e.problems()[2], file() + ":4:12: threads.workers: must be at least 0, not `-2`");
  }
}

TEST_F(ServeConfigTest, YamlSyntaxErrorHasLineAndColumn) {
  EXPECT_EQ(error_of(*with_file("listen: 127.0.0.1:80\nlog:\n  format: [json\n")),
            file() + ":4:1: end of sequence flow not found");
  EXPECT_EQ(error_of(*with_file("log:\n  format: json\n level: info\n")),
            file() + ":3:2: end of map not found");
  EXPECT_EQ(error_of(*with_file("listen: a: b\n")), file() + ":1:10: illegal map value");
}

TEST_F(ServeConfigTest, FileMustBeAMapping) {
  EXPECT_EQ(error_of(*with_file("- listen: 127.0.0.1:80\n")),
            file() +
                ":1:1: the file must be a mapping of keys such as `listen: 127.0.0.1:8080`, "
                "not a list");
  EXPECT_EQ(error_of(*with_file("listen 127.0.0.1:80\n")),
            file() +
                ":1:1: the file must be a mapping of keys such as `listen: 127.0.0.1:8080`, "
                "not a single value");
}

TEST_F(ServeConfigTest, WrongShapes) {
  EXPECT_EQ(error_of(*with_file("listen: [a, b]\n")),
            file() + ":1:9: listen: expected a single value, not a list");
  EXPECT_EQ(error_of(*with_file("threads:\n  http: {n: 2}\n")),
            file() + ":2:9: threads.http: expected a single value, not a mapping");
  EXPECT_EQ(error_of(*with_file("log: json\n")),
            file() + ":1:6: log: expected a mapping of log.format, log.level, not a single value");
  EXPECT_EQ(error_of(*with_file("plugin_paths: {a: b}\n")),
            file() + ":1:15: plugin_paths: expected a list such as [a, b], not a mapping");
  EXPECT_EQ(error_of(*with_file("plugin_paths:\n  - [a]\n")),
            file() + ":2:5: plugin_paths: each item must be a single value, not a list");
  // A single path needs no brackets.
  EXPECT_EQ(load_serve_config(*with_file("plugin_paths: /opt/p\n"), kNoEnv).plugin_paths,
            std::vector<std::string>{"/opt/p"});
}

TEST_F(ServeConfigTest, DuplicateKeysAreErrors) {
  EXPECT_EQ(error_of(*with_file("listen: a:1\nlog:\n  level: info\nlisten: b:2\n")),
            file() + ":4:1: duplicate key `listen`; the first is on line 1");
}

TEST_F(ServeConfigTest, MissingFile) {
  const std::string missing = (dir_ / "nope.yaml").string();
  EXPECT_EQ(error_of(*parse_flags({"--config", missing})),
            "cannot read config file `" + missing + "`: No such file or directory");
}

TEST_F(ServeConfigTest, StoreUrl) {
  ServeConfig c = serve_config_defaults();
  c.data_dir = "/var/lib/flowpilot";
  EXPECT_EQ(c.store_url(), "sqlite:///var/lib/flowpilot/flowpilot.db");
  EXPECT_EQ(c.sqlite_path(), "/var/lib/flowpilot/flowpilot.db");
  c.store = "sqlite://runs/db.sqlite";
  EXPECT_EQ(c.sqlite_path(), "runs/db.sqlite");
}

TEST_F(ServeConfigTest, ListenSplitsIntoHostAndPort) {
  ServeConfig c = serve_config_defaults();
  EXPECT_EQ(c.listen_host(), "127.0.0.1");
  EXPECT_EQ(c.listen_port(), 8080);
  c.listen = "[::1]:0";
  EXPECT_EQ(c.listen_host(), "::1");
  EXPECT_EQ(c.listen_port(), 0);
  c.listen = "localhost:65535";
  EXPECT_EQ(c.listen_host(), "127.0.0.1");
  EXPECT_EQ(c.listen_port(), 65535);
}

TEST_F(ServeConfigTest, SecretsAreMaskedInRender) {
  const ServeConfig c = load_serve_config(
      *parse_flags({"--store", "postgres://flowpilot:pa55-w0rd@db.internal:5432/flowpilot"}),
      env_of({{"FLOWPILOT_METRICS_TOKEN", "tok-8c1f2e"}}));
  EXPECT_EQ(c.metrics_token, "tok-8c1f2e");
  const std::string out = render_effective_config(c);
  EXPECT_EQ(out.find("tok-8c1f2e"), std::string::npos) << out;
  EXPECT_EQ(out.find("pa55-w0rd"), std::string::npos) << out;
  EXPECT_NE(out.find("token: \"***\""), std::string::npos) << out;
  EXPECT_NE(out.find("store: postgres://flowpilot:***@db.internal:5432/flowpilot"),
            std::string::npos)
      << out;
}

TEST_F(ServeConfigTest, BadStoreUrlMessageMasksThePassword) {
  const std::string message = error_of(*parse_flags({"--store", "postgress://u:hunter2@h/db"}));
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  EXPECT_NE(message.find("`postgress://u:***@h/db` is not a store URL"), std::string::npos);
}

TEST_F(ServeConfigTest, RenderShowsEachSource) {
  const auto flags =
      with_file("data_dir: /srv/fp\nlog:\n  level: warn\n", {"--listen", "0.0.0.0:1"});
  const std::string out =
      render_effective_config(load_serve_config(*flags, env_of({{"FLOWPILOT_THREADS_HTTP", "3"}})));
  const auto line_of = [&](const std::string& start) {
    const auto pos = out.find("\n" + start);
    if (pos == std::string::npos) return std::string("(missing) ") + start;
    return out.substr(pos + 1, out.find('\n', pos + 1) - pos - 1);
  };
  const auto squeeze = [](std::string s) {
    s.erase(std::unique(s.begin(), s.end(), [](char a, char b) { return a == ' ' && b == ' '; }),
            s.end());
    return s;
  };
  EXPECT_EQ(squeeze(line_of("listen:")), "listen: 0.0.0.0:1 # flag --listen");
  EXPECT_EQ(squeeze(line_of("data_dir:")), "data_dir: /srv/fp # file " + file() + ":1");
  EXPECT_EQ(squeeze(line_of("store:")),
            "store: \"\" # default; in effect sqlite:///srv/fp/flowpilot.db");
  EXPECT_EQ(squeeze(line_of("  level:")), " level: warn # file " + file() + ":3");
  EXPECT_EQ(squeeze(line_of("  http:")), " http: 3 # env FLOWPILOT_THREADS_HTTP");
  EXPECT_EQ(squeeze(line_of("  max_body_bytes:")), " max_body_bytes: 1MiB # default");
  EXPECT_EQ(squeeze(line_of("workflow_dirs:")), "workflow_dirs: [] # default");
}

// What --print-config prints is itself a config file that gives the same settings.
TEST_F(ServeConfigTest, RenderReadsBack) {
  std::vector<std::string> args;
  for (const auto& key : serve_config_keys()) {
    if (key.secret) continue;
    args.push_back(key.flag_name());
    args.push_back(kSamples.at(std::string(key.path)));
  }
  args.insert(args.end(),
              {"--workflows", "dir with spaces", "--workflows", "#hash", "--secrets-file", "yes"});
  const ServeConfig original = load_serve_config(*parse_flags(args), kNoEnv);
  const std::string rendered = render_effective_config(original);
  const ServeConfig again = load_serve_config(*with_file(rendered), kNoEnv);
  EXPECT_EQ(values_only(render_effective_config(again)), values_only(rendered));
  EXPECT_EQ(again.workflow_dirs,
            (std::vector<std::string>{"/srv/workflows", "dir with spaces", "#hash"}));
  EXPECT_EQ(again.secrets_file, "yes");
  for (const auto& [path, source] : again.sources) {
    if (path != "metrics.token") {
      EXPECT_TRUE(source.starts_with("file ")) << path << ": " << source;
    }
  }
}

TEST_F(ServeConfigTest, FlagsHaveHelp) {
  CLI::App app;
  (void)add_serve_config_flags(app);
  const std::string help = app.help();
  for (const auto& key : serve_config_keys()) {
    EXPECT_NE(help.find(key.flag_name()), std::string::npos) << key.path;
    EXPECT_NE(help.find(key.env_name()), std::string::npos) << key.path;
  }
  EXPECT_NE(help.find("--config"), std::string::npos);
  EXPECT_NE(help.find("--print-config"), std::string::npos);
  EXPECT_NE(help.find("--workflows"), std::string::npos);
  EXPECT_TRUE(parse_flags({"--print-config"})->print_config);
}

// docs/configuration.md carries the generated table between two markers. With
// FLOWPILOT_UPDATE_DOCS=1 in the environment the test rewrites it instead of comparing.
TEST(ServeConfigDocs, ReferenceTableIsCurrent) {
  const fs::path doc = fs::path(FLOWPILOT_SOURCE_DIR) / "docs" / "configuration.md";
  std::ifstream in(doc);
  ASSERT_TRUE(in) << doc;
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  const std::string begin = "<!-- BEGIN config_reference_markdown() -->\n";
  const std::string end = "<!-- END config_reference_markdown() -->";
  const std::string table = config_reference_markdown();
  const char* update = std::getenv("FLOWPILOT_UPDATE_DOCS");
  if (update != nullptr && std::string(update) == "1") {
    const auto b = text.find(begin);
    const auto e = text.find(end);
    ASSERT_TRUE(b != std::string::npos && e != std::string::npos && b < e);
    text.replace(b + begin.size(), e - b - begin.size(), table);
    std::ofstream(doc) << text;
  }
  EXPECT_NE(text.find(begin + table + end), std::string::npos)
      << "docs/configuration.md is out of date; rerun this test with FLOWPILOT_UPDATE_DOCS=1";
  for (const auto& key : serve_config_keys()) {
    EXPECT_NE(table.find("`" + std::string(key.path) + "`"), std::string::npos) << key.path;
  }
}

}  // namespace
}  // namespace flowpilot::cli
