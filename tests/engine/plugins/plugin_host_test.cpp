// The plugin loader's refusals and the host services, with real shared libraries built from
// tests/engine/plugins/fixtures/.
#include "engine/plugins/plugin_host.h"

#include "engine/runtime/runtime_fixture.h"

#include <fstream>

namespace flowpilot::engine::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

fs::path case_dir(const std::string& name) {
  return fs::path(FLOWPILOT_BINARY_DIR) / "test-plugins" / name;
}

std::vector<PluginRefusal> load_case(PluginHost& host, StepRegistry& registry,
                                     const std::string& name) {
  return host.load_directories({case_dir(name)}, registry);
}

TEST(PluginHostTest, LoadsAWellFormedPlugin) {
  StepRegistry registry;
  PluginHost host({});
  auto refusals = load_case(host, registry, "good");
  ASSERT_TRUE(refusals.empty()) << refusals.front().to_string();
  ASSERT_EQ(host.plugins().size(), 1u);
  EXPECT_EQ(host.plugins()[0].name, "good");
  EXPECT_EQ(host.plugins()[0].version, "1.0.0");
  EXPECT_TRUE(registry.has_step("good.echo"));
  const StepDescriptor* pause = registry.describe("good.pause");
  ASSERT_NE(pause, nullptr);
  EXPECT_TRUE(pause->side_effects);
  EXPECT_TRUE(pause->supports_plan);
  EXPECT_TRUE(registry.describe("good.echo")->idempotent);
  EXPECT_NE(registry.input_schema("good.typed_output"), nullptr);
}

struct RefusalCase {
  const char* dir;
  const char* reason;
};

class PluginRefusalTest : public ::testing::TestWithParam<RefusalCase> {};

TEST_P(PluginRefusalTest, RefusesWithTheFileAndTheReason) {
  StepRegistry registry;
  PluginHost host({});
  auto refusals = load_case(host, registry, GetParam().dir);
  ASSERT_FALSE(refusals.empty()) << GetParam().dir << " was accepted";
  const auto& refusal = refusals.back();
  EXPECT_NE(refusal.file.find(GetParam().dir), std::string::npos) << refusal.to_string();
  EXPECT_NE(refusal.reason.find(GetParam().reason), std::string::npos) << refusal.to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Loader, PluginRefusalTest,
    ::testing::Values(RefusalCase{"no_entry", "missing the entry symbol `flowpilot_plugin_entry`"},
                      RefusalCase{"wrong_abi", "built for plugin ABI 99.0"},
                      RefusalCase{"small_descriptor", "descriptor is 8 bytes"},
                      RefusalCase{"bad_schema", "input_schema is not JSON"},
                      RefusalCase{"invalid_schema", "input_schema"},
                      RefusalCase{"duplicate_step", "step `broken.a` is declared twice"},
                      RefusalCase{"bad_step_name", "invalid name `Bad-Name`"},
                      RefusalCase{"no_start", "has no start function"},
                      RefusalCase{"bad_plugin_name", "plugin name `Bad Name` is not valid"},
                      RefusalCase{"duplicate_plugin", "a plugin named `twin` is already loaded"}),
    [](const auto& info) { return std::string(info.param.dir); });

TEST(PluginHostTest, RefusesFilesThatAreNotSharedLibraries) {
  const auto dir = fresh_temp_dir("flowpilot-plugins");
  std::ofstream(dir / "fake.so") << "this is text, not ELF";
  StepRegistry registry;
  PluginHost host({});
  auto refusals = host.load_directories({dir}, registry);
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_NE(refusals[0].reason.find("not a loadable shared library"), std::string::npos);
  fs::remove_all(dir);
}

TEST(PluginHostTest, RefusesPathTricksBeforeLoading) {
  const auto dir = fresh_temp_dir("flowpilot-plugins");
  const auto outside = fresh_temp_dir("flowpilot-outside");
  fs::copy_file(case_dir("good") / "good.so", outside / "good.so");
  fs::create_symlink(outside / "good.so", dir / "escape.so");
  StepRegistry registry;
  PluginHost host({});

  auto via_link = host.load_file(dir / "escape.so", {dir}, registry);
  ASSERT_TRUE(via_link);
  EXPECT_NE(via_link->reason.find("symbolic link that leads outside"), std::string::npos);

  auto dotdot = host.load_file(dir / ".." / outside.filename() / "good.so", {dir}, registry);
  ASSERT_TRUE(dotdot);
  EXPECT_NE(dotdot->reason.find("`..`"), std::string::npos);

  auto elsewhere = host.load_file(outside / "good.so", {dir}, registry);
  ASSERT_TRUE(elsewhere);
  EXPECT_NE(elsewhere->reason.find("not inside a plugin directory"), std::string::npos);

  auto bare = host.load_file("good.so", {dir}, registry);
  ASSERT_TRUE(bare);
  EXPECT_TRUE(host.plugins().empty());
  fs::remove_all(dir);
  fs::remove_all(outside);
}

TEST(PluginHostTest, SearchPathPutsTheBuiltinDirectoryFirstThenTheEnvironment) {
  ::setenv("FLOWPILOT_PLUGIN_PATH", "/opt/a:/opt/b", 1);
  auto dirs = plugin_search_path({"/etc/flowpilot/plugins"});
  ::unsetenv("FLOWPILOT_PLUGIN_PATH");
  ASSERT_EQ(dirs.size(), 4u);
  EXPECT_EQ(dirs.front(), builtin_plugin_dir());
  EXPECT_FALSE(dirs.front().empty()) << "the test binary sits next to the built-in plugins";
  EXPECT_EQ(dirs[dirs.size() - 3], "/opt/a");
  EXPECT_EQ(dirs[dirs.size() - 2], "/opt/b");
  EXPECT_EQ(dirs.back(), "/etc/flowpilot/plugins");
}

// Runs workflows on the good plugin through the real executor.
class PluginRunTest : public RuntimeTest {
 protected:
  void SetUp() override {
    host_ = std::make_unique<PluginHost>(PluginServices{});
    auto refusals = host_->load_directories({case_dir("good"), case_dir("throwing")}, registry_);
    ASSERT_TRUE(refusals.empty()) << refusals.front().to_string();
    RuntimeTest::SetUp();
  }
  void TearDown() override {
    RuntimeTest::TearDown();
    host_.reset();
  }
  std::unique_ptr<PluginHost> host_;
};

TEST_F(PluginRunTest, HostServicesWork) {
  auto status = run_to_end(R"(
id: plugin-services
inputs:
  target: {type: number, default: 40}
steps:
  - {id: echo, uses: good.echo, with: {a: 1, b: [true, "x"]}}
  - {id: wait, uses: good.wait}
  - {id: filter, uses: good.filter}
  - {id: throttled, uses: good.throttled, retry: {attempts: 2, delay: 1ms}}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << store_->get_run(last_run_)->error;
  auto steps = steps_of(last_run_);
  EXPECT_EQ(steps["echo"].output, json::parse(R"({"a":1,"b":[true,"x"]})"));
  EXPECT_EQ(steps["wait"].output, json::parse(R"({"waited":true})"));
  EXPECT_EQ(steps["filter"].output, json::parse(R"({"matches":true})"));
  EXPECT_EQ(steps["throttled"].attempt, 2);
  // The retry honoured the plugin's retry-after of 150 ms.
  auto attempts = store_->get_attempts(last_run_);
  EpochMillis first_end = 0;
  EpochMillis second_start = 0;
  for (const auto& a : attempts) {
    if (a.step_id != "throttled") continue;
    if (a.attempt == 1) first_end = a.finished_at;
    if (a.attempt == 2) second_start = a.started_at;
  }
  EXPECT_GE(second_start - first_end, 140);
  store_->flush();
  bool logged = false;
  for (const auto& log : store_->get_logs(last_run_)) {
    logged = logged || (log.step_id == "echo" && log.message == "echoing {\"n\":1}");
  }
  EXPECT_TRUE(logged);
}

TEST_F(PluginRunTest, BadOutputsAndExceptionsFailTheStepNotTheEngine) {
  auto status = run_to_end(R"(
id: plugin-failures
steps:
  - {id: not_json, uses: good.bad_output}
  - {id: wrong_type, uses: good.typed_output}
  - {id: explode, uses: throwing.explode}
)");
  ASSERT_EQ(status, RunStatus::failed);
  auto steps = steps_of(last_run_);
  EXPECT_NE(steps["not_json"].error.find("output that is not JSON"), std::string::npos);
  EXPECT_NE(steps["wrong_type"].error.find("output.count"), std::string::npos)
      << steps["wrong_type"].error;
  EXPECT_NE(steps["explode"].error.find("boom from the plugin"), std::string::npos);
  // The engine still runs workflows afterwards.
  EXPECT_EQ(run_to_end("id: after\nsteps:\n  - {id: a, uses: good.echo}\n"), RunStatus::succeeded);
}

TEST_F(PluginRunTest, DryRunPlansSideEffectsAndSkipsWhatCannotPlan) {
  auto wf = load(R"(
id: dry
steps:
  - {id: read, uses: good.echo, with: {n: 1}}
  - {id: pause, uses: good.pause, needs: [read]}
  - {id: delete, uses: good.delete, needs: [read]}
)");
  RunRequest request;
  request.workflow = wf;
  request.dry_run = true;
  const auto id = executor_->start(request).run_id;
  ASSERT_EQ(executor_->wait(id, std::chrono::seconds(10)), RunStatus::succeeded);
  auto steps = steps_of(id);
  EXPECT_EQ(steps["read"].status, StepStatus::succeeded);
  EXPECT_EQ(steps["pause"].output, json::parse(R"({"plan":"would pause c-101"})"));
  EXPECT_EQ(steps["delete"].status, StepStatus::skipped);
  EXPECT_NE(steps["delete"].error.find("cannot describe a plan"), std::string::npos);
}

TEST_F(PluginRunTest, CredentialsReachTheStepAndAreMaskedInRecords) {
  executor_.reset();
  ExecutorOptions options;
  options.connections = [](std::string_view name) -> std::optional<json::object> {
    if (name == "meta-main") return json::object{{"type", "bearer"}, {"token", "EAAB-secret-token"}};
    return std::nullopt;
  };
  executor_ = make_executor(options);
  auto status = run_to_end(R"(
id: creds
steps:
  - {id: me, uses: good.whoami, connection: meta-main}
)");
  ASSERT_EQ(status, RunStatus::succeeded);
  EXPECT_EQ(steps_of(last_run_)["me"].output.at("token"), json::value("***"));
  auto missing = run_to_end(R"(
id: creds-missing
steps:
  - {id: me, uses: good.whoami, connection: nowhere}
)");
  EXPECT_EQ(missing, RunStatus::failed);
  EXPECT_NE(steps_of(last_run_)["me"].error.find("connection `nowhere` is not defined"),
            std::string::npos);
}

}  // namespace
}  // namespace flowpilot::engine::testing

namespace flowpilot::engine::testing {
namespace {

TEST(RateLimiterTest, UnconfiguredKeysAreUnlimitedAndBucketsRefill) {
  RateLimiter limiter;
  EXPECT_EQ(limiter.reserve("anything", 100).count(), 0);
  limiter.configure("meta", {10, 2});  // 10 per second, burst 2
  EXPECT_EQ(limiter.reserve("meta", 1).count(), 0);
  EXPECT_EQ(limiter.reserve("meta", 1).count(), 0);
  const auto third = limiter.reserve("meta", 1).count();
  EXPECT_GT(third, 50);
  EXPECT_LE(third, 100);
  // Reservations queue: the next caller waits behind the previous one.
  EXPECT_GT(limiter.reserve("meta", 1).count(), third);
}

TEST_F(PluginRunTest, ConnectionRateLimitSpacesCalls) {
  host_->limit_connection("slow-api", {20, 1});  // one call every 50 ms
  executor_.reset();
  ExecutorOptions options;
  options.connections = [](std::string_view) -> std::optional<boost::json::object> {
    return boost::json::object{{"token", "t"}};
  };
  executor_ = make_executor(options);
  const auto t0 = std::chrono::steady_clock::now();
  auto status = run_to_end(R"(
id: limited
steps:
  - id: each
    uses: good.echo
    connection: slow-api
    foreach: [1, 2, 3, 4, 5]
    concurrency: 5
)");
  ASSERT_EQ(status, RunStatus::succeeded);
  // Five calls at 20 per second with a burst of one take at least four intervals.
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(190));
}

}  // namespace
}  // namespace flowpilot::engine::testing

namespace flowpilot::engine::testing {
namespace {

TEST(RateLimiterTest, APauseHoldsEveryCallerOfTheKeyRateOrNot) {
  RateLimiter limiter;
  limiter.pause("unlimited", std::chrono::milliseconds(300));
  const auto held = limiter.reserve("unlimited", 1).count();
  EXPECT_GT(held, 250);
  EXPECT_LE(held, 300);
  // A shorter pause does not shorten the one in force.
  limiter.pause("unlimited", std::chrono::milliseconds(10));
  EXPECT_GT(limiter.reserve("unlimited", 1).count(), 250);

  limiter.configure("meta", {10, 5});  // 10 per second, burst 5
  limiter.pause("meta", std::chrono::milliseconds(500));
  // Callers released by the pause are spaced by the rate, not let through together.
  const auto first = limiter.reserve("meta", 1).count();
  const auto second = limiter.reserve("meta", 1).count();
  EXPECT_GE(first, 450);
  EXPECT_GE(second - first, 90);
}

TEST_F(PluginRunTest, AccessTokensAndSharedBackOffReachPlugins) {
  executor_.reset();
  ExecutorOptions options;
  options.connections = [](std::string_view name) -> std::optional<json::object> {
    if (name == "static") return json::object{{"access_token", "EAAB-static-token"}};
    if (name == "oauth-without-url") {
      return json::object{{"refresh_token", "1//refresh"}, {"client_id", "id"}};
    }
    return std::nullopt;
  };
  executor_ = make_executor(options);
  auto status = run_to_end(R"(
id: tokens
steps:
  - {id: plain, uses: good.token, connection: static}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << store_->get_run(last_run_)->error;
  EXPECT_EQ(steps_of(last_run_)["plain"].output, json::parse(R"({"token_length":17})"));

  // A refused static token cannot be renewed: the error says what to do.
  status = run_to_end(R"(
id: tokens-refused
steps:
  - {id: again, uses: good.token, connection: static, with: {refresh: true}}
)");
  ASSERT_EQ(status, RunStatus::failed);
  EXPECT_NE(steps_of(last_run_)["again"].error.find("replace the token"), std::string::npos);

  status = run_to_end(R"(
id: tokens-incomplete
steps:
  - {id: oauth, uses: good.token, connection: oauth-without-url}
)");
  ASSERT_EQ(status, RunStatus::failed);
  EXPECT_NE(steps_of(last_run_)["oauth"].error.find("has a refresh_token but no token_url"),
            std::string::npos);

  // A plugin's back-off holds every later call of a step whose connection has that name.
  host_->limit_connection("shared-account", {1000, 100});
  executor_.reset();
  ExecutorOptions shared;
  shared.connections = [](std::string_view) -> std::optional<json::object> {
    return json::object{{"access_token", "t"}};
  };
  executor_ = make_executor(shared);
  const auto t0 = std::chrono::steady_clock::now();
  status = run_to_end(R"(
id: backoff
steps:
  - {id: told, uses: good.backoff}
  - {id: later, uses: good.echo, connection: shared-account, needs: [told]}
)");
  ASSERT_EQ(status, RunStatus::succeeded);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(190));
}

}  // namespace
}  // namespace flowpilot::engine::testing
