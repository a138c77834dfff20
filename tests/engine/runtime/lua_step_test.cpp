// The `lua` step through the executor: context, output, logs, limits, errors with lines.
#include "engine/runtime/runtime_fixture.h"

namespace flowpilot::engine::testing {
namespace {

namespace json = boost::json;

TEST_F(RuntimeTest, LuaStepSeesTheContextAndReturnsItsOutput) {
  auto status = run_to_end(R"(
id: lua-step
inputs:
  target: {type: number, default: 40}
steps:
  - id: load
    uses: core.noop
    with:
      rows: [{name: A, cpa: 31}, {name: B, cpa: 75}, {name: C, cpa: 52}]
  - id: over
    uses: lua
    needs: [load]
    with: {label: expensive}
    code: |
      local names = {}
      for _, row in ipairs(steps.load.output.rows) do
        if row.cpa > inputs.target then names[#names + 1] = row.name end
      end
      print("found", #names)
      log.warn("checked " .. #steps.load.output.rows .. " rows")
      return {label = with.label, names = names, run = run.id}
outputs:
  names: ${{ steps.over.output.names }}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << store_->get_run(last_run_)->error;
  auto run = store_->get_run(last_run_);
  EXPECT_EQ(run->outputs.at("names"), json::parse(R"(["B","C"])"));
  auto over = steps_of(last_run_)["over"].output;
  EXPECT_EQ(over.at("label"), json::value("expensive"));
  EXPECT_EQ(over.at("run"), json::value(last_run_));
  store_->flush();
  std::vector<std::string> messages;
  for (const auto& log : store_->get_logs(last_run_)) messages.push_back(log.level + " " + log.message);
  EXPECT_NE(std::find(messages.begin(), messages.end(), "info found\t2"), messages.end());
  EXPECT_NE(std::find(messages.begin(), messages.end(), "warn checked 3 rows"), messages.end());
}

TEST_F(RuntimeTest, LuaStepRunsPerForeachItem) {
  auto status = run_to_end(R"(
id: lua-foreach
steps:
  - id: each
    uses: lua
    foreach: [1, 2, 3]
    code: return item * 10 + index
)");
  ASSERT_EQ(status, RunStatus::succeeded) << store_->get_run(last_run_)->error;
  EXPECT_EQ(steps_of(last_run_)["each"].output, json::parse("[10, 21, 32]"));
}

TEST_F(RuntimeTest, LuaStepLimitsEndTheStepWithAClearError) {
  auto status = run_to_end(R"(
id: lua-limits
steps:
  - id: spin
    uses: lua
    limits: {instructions: 100000}
    code: |
      while true do end
  - id: hog
    uses: lua
    limits: {memory: 8MiB}
    code: |
      local t = {}
      for i = 1, 1e9 do t[i] = string.rep("x", 1000) .. i end
  - id: after
    uses: lua
    code: return "still healthy"
)");
  ASSERT_EQ(status, RunStatus::failed);
  auto steps = steps_of(last_run_);
  EXPECT_NE(steps["spin"].error.find("lua step `spin` exceeded 100,000 instructions"),
            std::string::npos) << steps["spin"].error;
  EXPECT_NE(steps["hog"].error.find("memory limit"), std::string::npos) << steps["hog"].error;
  EXPECT_EQ(steps["after"].output, json::value("still healthy"));
}

TEST_F(RuntimeTest, LuaStepErrorsPointAtTheWorkflowLine) {
  auto status = run_to_end(R"(
id: lua-error
steps:
  - id: broken
    uses: lua
    code: |
      local a = 1
      local b = nil
      return a + b
)");
  ASSERT_EQ(status, RunStatus::failed);
  const auto error = steps_of(last_run_)["broken"].error;
  // The code starts on line 7 of the YAML text above; `return a + b` is its third line.
  EXPECT_NE(error.find("test.yaml:9"), std::string::npos) << error;
  EXPECT_NE(error.find("arithmetic"), std::string::npos) << error;
}

}  // namespace
}  // namespace flowpilot::engine::testing
