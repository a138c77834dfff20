// quality.check through the real engine: a failed error check fails the step with the report,
// a warn check lets the run go on.
#include "plugins/csv/data_fixture.h"

namespace flowpilot::data_testing {
namespace {

using engine::RunStatus;

TEST_F(DataWorkflowTest, FailedCheckFailsTheStepWithAReadableReport) {
  auto status = run_to_end(R"yaml(
id: quality-fail
steps:
  - id: load
    uses: csv.read
    with:
      content: "campaign_id,spend\nc1,10\nc1,-2\n,3\n"
      schema: [{name: spend, type: money}]
  - id: check
    uses: quality.check
    needs: [load]
    with:
      rows: ${{ steps.load.output.rows }}
      checks:
        - {type: unique, columns: campaign_id}
        - {type: range, column: spend, min: 0}
        - {type: not_null, columns: campaign_id, severity: warn}
)yaml");
  ASSERT_EQ(status, RunStatus::failed);
  const std::string error = steps()["check"].error;
  EXPECT_NE(error.find("quality.check: 2 of 3 checks failed over 3 rows"), std::string::npos)
      << error;
  EXPECT_NE(error.find("\n  unique(campaign_id): 1 failing (row 1: campaign_id = \"c1\" repeats row 0)"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("\n  range(spend): 1 failing (row 1: spend = -2 is not >= 0)"), std::string::npos) << error;
  EXPECT_NE(error.find("\n  warning: not_null(campaign_id): 1 failing"), std::string::npos) << error;
}

TEST_F(DataWorkflowTest, WarnChecksLetTheRunContinue) {
  auto status = run_to_end(R"yaml(
id: quality-warn
steps:
  - id: check
    uses: quality.check
    with:
      rows: [{date: "2020-01-01"}]
      checks: [{type: freshness, column: date, max_age: 2d, severity: warn}]
  - id: after
    uses: core.noop
    needs: [check]
)yaml");
  ASSERT_EQ(status, RunStatus::succeeded) << run_error();
  auto s = steps();
  EXPECT_EQ(s["check"].output.at("warnings"), 1);
  EXPECT_EQ(s["check"].output.at("checks").at(0).at("passed"), false);
}

}  // namespace
}  // namespace flowpilot::data_testing
