// transform steps through the real engine: expressions see `row` and the run's context, errors
// name the row and the field, and the cost of one host->eval per row is measured.
#include "plugins/csv/data_fixture.h"

#include <chrono>
#include <iostream>

namespace flowpilot::data_testing {
namespace {

namespace json = boost::json;
using engine::RunStatus;

TEST_F(DataWorkflowTest, FilterMapSortSeeTheRunContext) {
  auto status = run_to_end(R"yaml(
id: transform-chain
inputs:
  max_cpa: {type: number, default: 20}
steps:
  - id: rows
    uses: core.noop
    with:
      rows:
        - {campaign: A, spend: 100, conversions: 10}
        - {campaign: B, spend: 90, conversions: 2}
        - {campaign: C, spend: 50, conversions: 0}
        - {campaign: D, spend: 300, conversions: 10}
  - id: cpa
    uses: transform.map
    needs: [rows]
    with:
      rows: ${{ steps.rows.output.rows }}
      fields:
        cpa: "row.conversions > 0 and row.spend / row.conversions or nil"
  - id: expensive
    uses: transform.filter
    needs: [cpa]
    with:
      rows: ${{ steps.cpa.output.rows }}
      where: "row.cpa ~= nil and row.cpa > inputs.max_cpa"
  - id: ranked
    uses: transform.sort
    needs: [expensive]
    with:
      rows: ${{ steps.expensive.output.rows }}
      by: [{column: cpa, order: desc}]
outputs:
  names: ${{ steps.ranked.output.rows }}
)yaml");
  ASSERT_EQ(status, RunStatus::succeeded) << run_error();
  auto s = steps();
  EXPECT_EQ(s["expensive"].output.at("count"), 2);
  const auto& ranked = s["ranked"].output.at("rows").as_array();
  ASSERT_EQ(ranked.size(), 2u);
  EXPECT_EQ(ranked[0].at("campaign"), "B");
  EXPECT_EQ(ranked[1].at("campaign"), "D");
}

TEST_F(DataWorkflowTest, ExpressionErrorsNameTheRow) {
  auto status = run_to_end(R"yaml(
id: transform-error
steps:
  - id: f
    uses: transform.filter
    with:
      rows: [{spend: 1}, {spend: 2}, {other: 3}]
      where: "row.spend > 1"
)yaml");
  ASSERT_EQ(status, RunStatus::failed);
  const std::string error = steps()["f"].error;
  EXPECT_NE(error.find("transform.filter: with.where: row 2: "), std::string::npos) << error;
  EXPECT_NE(error.find("compare"), std::string::npos) << error;
}

// One host->eval per row: the figure goes into docs/data-plugins.md.
TEST_F(DataWorkflowTest, FilterOfAHundredThousandRowsIsMeasured) {
  json::array rows;
  rows.reserve(100'000);
  for (int i = 0; i < 100'000; ++i) {
    rows.push_back(json::object{{"id", i}, {"spend", i % 100}, {"channel", i % 2 ? "a" : "b"}});
  }
  const auto start = std::chrono::steady_clock::now();
  auto status = run_to_end(R"yaml(
id: transform-bench
inputs:
  rows: {type: array}
steps:
  - id: f
    uses: transform.filter
    with:
      rows: ${{ inputs.rows }}
      where: "row.spend >= 50 and row.channel == 'a'"
)yaml",
                           json::object{{"rows", std::move(rows)}});
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  ASSERT_EQ(status, RunStatus::succeeded) << run_error();
  auto s = steps();
  EXPECT_EQ(s["f"].output.at("count"), 25'000);
  std::cout << "[ info ] transform.filter over 100,000 rows: step " << (s["f"].finished_at - s["f"].started_at)
            << " ms, whole run " << ms << " ms\n";
}

}  // namespace
}  // namespace flowpilot::data_testing
