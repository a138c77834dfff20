// Runs the real `flowpilot` binary as a user would and checks its output and exit codes.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <string>
#include <sys/wait.h>

namespace {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string output;  // stdout and stderr together
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("flowpilot-cli-" + std::to_string(rd()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result flowpilot(const std::string& args) { return flowpilot_env("", args); }

  // `env` is a prefix of VAR=value assignments for the command.
  Result flowpilot_env(const std::string& env, const std::string& args) {
    const std::string cmd = "cd '" + dir_.string() + "' && " + env + "FLOWPILOT_DB='" +
                            (dir_ / "test.db").string() + "' '" + FLOWPILOT_BINARY_DIR +
                            "/cli/flowpilot' " + args + " 2>&1";
    Result r;
    FILE* pipe = popen(cmd.c_str(), "r");
    if (pipe == nullptr) return r;
    std::array<char, 4096> buf{};
    while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) r.output += buf.data();
    const int status = pclose(pipe);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

  static std::string workflow(const std::string& name) {
    return std::string(FLOWPILOT_SOURCE_DIR) + "/workflows/" + name;
  }

  static std::string run_id(const std::string& output) {
    std::smatch m;
    const std::regex re("run ([0-9a-f]{12}-[0-9a-f]{16})");
    return std::regex_search(output, m, re) ? m[1].str() : std::string();
  }

  fs::path dir_;
};

TEST_F(CliTest, HelpAndWrongUsage) {
  auto help = flowpilot("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.output.find("validate"), std::string::npos);
  for (const char* cmd : {"validate --help", "run --help", "runs --help", "runs approve --help"}) {
    auto r = flowpilot(cmd);
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_NE(r.output.find("Usage:"), std::string::npos) << cmd;
  }
  auto none = flowpilot("");
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.output.find("A subcommand is required"), std::string::npos);
  EXPECT_NE(none.output.find("Usage:"), std::string::npos);
  auto missing = flowpilot("run");
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.output.find("file is required"), std::string::npos);
  EXPECT_NE(missing.output.find("Usage: flowpilot run"), std::string::npos);
  auto unknown = flowpilot("launch");
  EXPECT_EQ(unknown.code, 2);
  auto bad_input = flowpilot("run " + workflow("approval-gate.yaml") + " --input nokey");
  EXPECT_EQ(bad_input.code, 2);
  EXPECT_NE(bad_input.output.find("key=value"), std::string::npos);
}

TEST_F(CliTest, ValidateReportsEveryProblemWithLocations) {
  const auto bad = write("bad.yaml", R"(id: Bad_Id
steps:
  - id: fetch
    uses: core.nop
    neeeds: [x]
)");
  auto r = flowpilot("validate " + workflow("campaign-health-check.yaml") + " " + bad);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("campaign-health-check.yaml: ok"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bad.yaml:1:5: workflow id `Bad_Id`"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bad.yaml:4:11:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean `core.noop`?"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("bad.yaml:5:5: unknown key `neeeds`"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean `needs`?"), std::string::npos) << r.output;
  auto missing = flowpilot("validate nowhere.yaml");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.output.find("nowhere.yaml"), std::string::npos);
  auto good = flowpilot("validate " + workflow("campaign-health-check.yaml"));
  EXPECT_EQ(good.code, 0);
}

TEST_F(CliTest, RunPrintsStepsAndOutputs) {
  auto r = flowpilot("run " + workflow("campaign-health-check.yaml") + " --input target_cpa=35");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("succeeded"), std::string::npos);
  EXPECT_NE(r.output.find("STEP"), std::string::npos);
  EXPECT_NE(r.output.find("fetch_budgets"), std::string::npos);
  EXPECT_NE(r.output.find("\"checked\": 4"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"Retargeting\""), std::string::npos) << r.output;

  auto bad = flowpilot("run " + workflow("campaign-health-check.yaml") + " --input target_cpa=lots");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("input `target_cpa` must be a number"), std::string::npos);

  auto list = flowpilot("runs list");
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.output.find(run_id(r.output)), std::string::npos);
}

TEST_F(CliTest, FailedRunExitsNonZero) {
  const auto wf = write("fails.yaml", R"(id: fails
steps:
  - {id: boom, uses: core.fail, with: {message: out of budget}}
)");
  auto r = flowpilot("run " + wf);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("out of budget"), std::string::npos);
}

TEST_F(CliTest, ApprovalParksThenApproveFinishesInAnotherProcess) {
  auto parked = flowpilot("run " + workflow("approval-gate.yaml"));
  ASSERT_EQ(parked.code, 3) << parked.output;
  const auto id = run_id(parked.output);
  ASSERT_FALSE(id.empty());
  EXPECT_NE(parked.output.find("waiting for approval"), std::string::npos);

  auto approved = flowpilot("runs approve " + id + " --by maria --comment ok");
  ASSERT_EQ(approved.code, 0) << approved.output;
  EXPECT_NE(approved.output.find("\"applied\": true"), std::string::npos);
  auto again = flowpilot("runs approve " + id);
  EXPECT_EQ(again.code, 2);
  EXPECT_NE(again.output.find("no pending approval"), std::string::npos);

  auto second = flowpilot("run " + workflow("approval-gate.yaml"));
  const auto id2 = run_id(second.output);
  auto rejected = flowpilot("runs reject " + id2 + " --comment 'not now'");
  EXPECT_EQ(rejected.code, 1);
  EXPECT_NE(rejected.output.find("not now"), std::string::npos);

  auto show = flowpilot("runs show " + id + " --logs");
  EXPECT_EQ(show.code, 0);
  EXPECT_NE(show.output.find("approved by maria"), std::string::npos) << show.output;
  EXPECT_EQ(flowpilot("runs show 0000").code, 2);
}

TEST_F(CliTest, SecretsNeverReachTheTerminalOrTheStore) {
  const auto wf = write("secret.yaml", R"(id: secret
steps:
  - {id: call, uses: core.noop, with: {auth: "Bearer ${{ secrets.TOKEN }}"}}
outputs:
  sent: ${{ steps.call.output.auth }}
)");
  const auto secrets = write("secrets.yaml", "TOKEN: s3cr3t-value-42\n");
  auto r = flowpilot("run " + wf + " --secrets " + secrets);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find("s3cr3t-value-42"), std::string::npos);
  EXPECT_NE(r.output.find("Bearer ***"), std::string::npos);
  auto show = flowpilot("runs show " + run_id(r.output));
  EXPECT_EQ(show.output.find("s3cr3t-value-42"), std::string::npos);
  for (const char* file : {"test.db", "test.db-wal"}) {
    std::ifstream db(dir_ / file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(db)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("s3cr3t-value-42"), std::string::npos) << file;
  }
}

TEST_F(CliTest, PluginsListAndDescribe) {
  auto list = flowpilot("plugins list");
  ASSERT_EQ(list.code, 0) << list.output;
  for (const char* step : {"core.approval", "core.noop", "core.sleep", "http.request"}) {
    EXPECT_NE(list.output.find(step), std::string::npos) << step;
  }
  EXPECT_NE(list.output.find("core.so"), std::string::npos);
  auto describe = flowpilot("plugins describe core.fail");
  ASSERT_EQ(describe.code, 0);
  EXPECT_NE(describe.output.find("failures"), std::string::npos);
  EXPECT_NE(describe.output.find("integer"), std::string::npos);
  auto typo = flowpilot("plugins describe core.slep");
  EXPECT_EQ(typo.code, 2);
  EXPECT_NE(typo.output.find("did you mean `core.sleep`?"), std::string::npos);
}

TEST_F(CliTest, DryRunPrintsThePlanAndChangesNothing) {
  const auto wf = write("pause.yaml", R"(id: pause
steps:
  - id: pause
    uses: http.request
    connection: ads
    with: {method: POST, url: "https://ads.example.invalid/campaigns/c-101", json: {status: PAUSED}}
)");
  const auto connections = write("connections.yaml", "ads: {type: bearer, token: tok-998877}\n");
  auto r = flowpilot("run " + wf + " --dry-run --connections " + connections);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("plan (dry run, nothing was changed)"), std::string::npos);
  EXPECT_NE(r.output.find("\"method\":\"POST\""), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("tok-998877"), std::string::npos);
  const auto junk = write("junk.yaml", "ads: {token: t, rate_limit: {per_second: 5abc}}\n");
  auto bad_rate = flowpilot("run " + wf + " --dry-run --connections " + junk);
  EXPECT_EQ(bad_rate.code, 2);
  EXPECT_NE(bad_rate.output.find("rate_limit must look like"), std::string::npos) << bad_rate.output;
  auto missing = flowpilot("run " + wf + " --dry-run");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.output.find("connection `ads` is not defined"), std::string::npos);
}

TEST_F(CliTest, OperatorCapsBoundLuaSteps) {
  const auto wf = write("spin.yaml", R"(id: spin
steps:
  - id: spin
    uses: lua
    code: |
      local n = 0
      for i = 1, 1e7 do n = n + i end
      return n
)");
  auto capped = flowpilot("run " + wf);
  ASSERT_EQ(capped.code, 0) << capped.output;
  const std::string tight = "FLOWPILOT_LUA_MAX_INSTRUCTIONS=200000 ";
  auto r = flowpilot_env(tight, "run " + wf);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("lua step `spin` exceeded 200,000 instructions"), std::string::npos)
      << r.output;
  auto bad = flowpilot_env("FLOWPILOT_LUA_MAX_INSTRUCTIONS=lots ", "run " + wf);
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("FLOWPILOT_LUA_MAX_INSTRUCTIONS must be a positive whole number"),
            std::string::npos);
}

TEST_F(CliTest, CronNextPrintsFireTimesInTheZone) {
  auto r = flowpilot("cron next '0 9 * * MON' --tz Europe/Berlin --from 2026-03-23T10:00:00+01:00 --count 2");
  ASSERT_EQ(r.code, 0) << r.output;
  // The Monday after the spring change is 09:00 summer time, not 08:00.
  EXPECT_EQ(r.output, "2026-03-30T09:00:00+02:00\n2026-04-06T09:00:00+02:00\n");
  auto bad = flowpilot("cron next '61 * * * *'");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("minute"), std::string::npos) << bad.output;
  auto zone = flowpilot("cron next '@daily' --tz Mars/Olympus");
  EXPECT_EQ(zone.code, 2);
  EXPECT_NE(zone.output.find("Mars/Olympus"), std::string::npos) << zone.output;
}

TEST_F(CliTest, ResumeFinishesNothingWhenNothingIsUnfinished) {
  auto r = flowpilot("runs resume");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("no unfinished runs"), std::string::npos);
}

TEST_F(CliTest, ServeAnswersHealthzAndStopsOnSigterm) {
  // bash for the background process, /dev/tcp for the request and kill for the signal.
  const std::string script = write("serve.sh", R"SH(
"$1" serve --listen 127.0.0.1:0 --data-dir "$PWD/data" > serve.out 2> serve.err &
pid=$!
for i in $(seq 1 200); do grep -q 'serving on' serve.out && break; sleep 0.05; done
cat serve.out
port=$(sed -n 's|^flowpilot serving on http://127.0.0.1:\([0-9]*\)$|\1|p' serve.out)
if [ -n "$port" ] && exec 3<>"/dev/tcp/127.0.0.1/$port"; then
  printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
  cat <&3
  exec 3<&-
fi
kill -TERM $pid
for i in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
if kill -0 $pid 2>/dev/null; then echo "still running 5 s after SIGTERM"; kill -KILL $pid; fi
wait $pid
echo "exit=$?"
cat serve.err
)SH");
  const std::string cmd = "cd '" + dir_.string() + "' && bash '" + script + "' '" +
                          FLOWPILOT_BINARY_DIR + "/cli/flowpilot' 2>&1";
  std::string output;
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) output += buf.data();
  pclose(pipe);
  std::smatch m;
  const std::regex serving("flowpilot serving on http://127\\.0\\.0\\.1:([0-9]+)\n");
  ASSERT_TRUE(std::regex_search(output, m, serving)) << output;
  EXPECT_NE(m[1].str(), "0");
  EXPECT_NE(output.find("HTTP/1.1 200 OK"), std::string::npos) << output;
  EXPECT_NE(output.find(R"({"status":"ok"})"), std::string::npos) << output;
  EXPECT_NE(output.find("exit=0"), std::string::npos) << output;
  EXPECT_TRUE(fs::exists(dir_ / "data" / "flowpilot.db"));
}

}  // namespace
