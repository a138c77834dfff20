// The workflow list's run summary: each workflow's newest run and the share of its finished runs
// that succeeded, as the UI's list shows them.
#include "server_fixture.h"

#include <gtest/gtest.h>

namespace flowpilot::web {
namespace {

namespace json = boost::json;

class WorkflowListTest : public test::ServerFixture {
 protected:
  std::string run(const std::string& workflow, engine::RunStatus expected) {
    auto r = call("POST", "/api/v1/workflows/" + workflow + "/runs");
    EXPECT_EQ(r.status, 201) << r.body;
    std::string id(body_of(r).at("run_id").as_string());
    EXPECT_EQ(executor_->wait(id, std::chrono::seconds(10)), expected);
    return id;
  }

  json::object item(const std::string& workflow) {
    auto r = call("GET", "/api/v1/workflows");
    EXPECT_EQ(r.status, 200) << r.body;
    const json::value body = body_of(r);
    for (const auto& entry : body.at("items").as_array()) {
      if (entry.at("id").as_string() == workflow) return entry.as_object();
    }
    ADD_FAILURE() << workflow << " is not listed";
    return {};
  }
};

TEST_F(WorkflowListTest, AWorkflowWithoutRunsHasNoLastRunAndNoRate) {
  define("id: quiet\nsteps:\n  - {id: a, uses: core.noop}\n");
  const auto quiet = item("quiet");
  EXPECT_TRUE(quiet.at("last_run").is_null());
  EXPECT_TRUE(quiet.at("success_rate").is_null());
}

TEST_F(WorkflowListTest, LastRunAndSuccessRateCountOnlyThatWorkflow) {
  define("id: flaky\ninputs: {fail: {type: boolean, default: false}}\nsteps:\n"
         "  - {id: a, uses: core.noop, if: '${{ not inputs.fail }}'}\n"
         "  - {id: b, uses: core.fail, if: '${{ inputs.fail }}'}\n");
  define("id: other\nsteps:\n  - {id: a, uses: core.noop}\n");
  run("flaky", engine::RunStatus::succeeded);
  run("flaky", engine::RunStatus::succeeded);
  run("other", engine::RunStatus::succeeded);
  auto failing = call("POST", "/api/v1/workflows/flaky/runs", R"({"inputs":{"fail":true}})",
                      [] { Headers h; h.set("Content-Type", "application/json"); return h; }());
  ASSERT_EQ(failing.status, 201) << failing.body;
  const std::string last(body_of(failing).at("run_id").as_string());
  ASSERT_EQ(executor_->wait(last, std::chrono::seconds(10)), engine::RunStatus::failed);

  const auto flaky = item("flaky");
  ASSERT_TRUE(flaky.at("last_run").is_object());
  EXPECT_EQ(flaky.at("last_run").at("id").as_string(), last);
  EXPECT_EQ(flaky.at("last_run").at("status").as_string(), "failed");
  EXPECT_NEAR(flaky.at("success_rate").to_number<double>(), 2.0 / 3.0, 1e-9);
  EXPECT_EQ(item("other").at("success_rate").to_number<double>(), 1.0);
}

TEST_F(WorkflowListTest, ARunStillGoingIsTheLastRunButNotCounted) {
  define("id: slow\nsteps:\n  - {id: ask, uses: core.approval, with: {message: \"ok?\"}}\n");
  auto r = call("POST", "/api/v1/workflows/slow/runs");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id(body_of(r).at("run_id").as_string());
  const auto slow = item("slow");
  ASSERT_TRUE(slow.at("last_run").is_object());
  EXPECT_EQ(slow.at("last_run").at("id").as_string(), id);
  EXPECT_TRUE(slow.at("success_rate").is_null());
}

}  // namespace
}  // namespace flowpilot::web
