// What the UI needs of the workflow routes: the list's run summary (each workflow's newest run and
// the share of its finished runs that succeeded) and drafts (a workflow created disabled).
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

TEST_F(WorkflowListTest, ADraftIsSavedDisabledRunsByHandAndKeepsItsFlagOnUpdate) {
  const std::string yaml =
      "id: draft\ntriggers:\n  - webhook: {path: draft-hook}\nsteps:\n  - {id: a, uses: core.noop}\n";
  Headers h;
  h.set("Content-Type", "application/yaml");
  auto created = call("POST", "/api/v1/workflows?enabled=false", yaml, h);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_FALSE(body_of(created).at("enabled").as_bool());
  EXPECT_FALSE(catalog_->find_webhook("draft-hook").has_value()) << "a draft has no live trigger";
  run("draft", engine::RunStatus::succeeded);  // started by hand, as the wizard's dry run is

  auto updated = call("PUT", "/api/v1/workflows/draft?enabled=true", yaml + "# v2\n", h);
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_FALSE(body_of(updated).at("enabled").as_bool()) << "an update keeps the flag";

  ASSERT_EQ(call("POST", "/api/v1/workflows/draft/enable").status, 200);
  EXPECT_TRUE(catalog_->find_webhook("draft-hook").has_value());
}

TEST_F(WorkflowListTest, ADraftMayShareAWebhookPathUntilItIsEnabled) {
  Headers h;
  h.set("Content-Type", "application/yaml");
  const std::string hook = "triggers:\n  - webhook: {path: shared}\nsteps:\n  - {id: a, uses: core.noop}\n";
  ASSERT_EQ(call("POST", "/api/v1/workflows", "id: live\n" + hook, h).status, 201);
  ASSERT_EQ(call("POST", "/api/v1/workflows?enabled=false", "id: copy\n" + hook, h).status, 201);
  auto enabling = call("POST", "/api/v1/workflows/copy/enable");
  EXPECT_EQ(enabling.status, 409) << enabling.body;
}

TEST_F(WorkflowListTest, EnabledMustBeTrueOrFalse) {
  Headers h;
  h.set("Content-Type", "application/yaml");
  auto r = call("POST", "/api/v1/workflows?enabled=no", "id: x\nsteps:\n  - {id: a, uses: core.noop}\n", h);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(body_of(r).at("errors").at(0).at("path").as_string(), "enabled");
  EXPECT_EQ(call("GET", "/api/v1/workflows/x").status, 404) << "nothing saved";
}

}  // namespace
}  // namespace flowpilot::web
