// csv.read and csv.write through the real engine with the built plugins: files under the allowed
// root, inline content, the reject limit, plan mode, schema errors with field paths, and a
// csv.read → quality.check → transform.aggregate pipeline.
#include "plugins/csv/data_fixture.h"

#include "csv_logic.h"

#include <fstream>
#include <sstream>

namespace flowpilot::data_testing {
namespace {

namespace json = boost::json;
using engine::RunStatus;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(DataWorkflowTest, ReadCheckAggregatePipeline) {
  write_file("spend.csv",
             "date,campaign_id,channel,spend,clicks\n"
             "2026-05-01,c1,search,10.10,5\n"
             "2026-05-01,c2,social,0.20,1\n"
             "2026-05-02,c1,search,0.10,2\n"
             "2026-05-02,c2,social,oops,3\n"
             "2026-05-03,c3,video,5,0\n");
  auto status = run_to_end(R"yaml(
id: csv-pipeline
steps:
  - id: load
    uses: csv.read
    with:
      path: spend.csv
      stamp_batch_id: true
      max_rejected: 1
      schema:
        - {name: date, type: date, required: true}
        - {name: campaign_id, required: true}
        - {name: channel, allowed: [search, social, video]}
        - {name: spend, type: money, min: 0}
        - {name: clicks, type: integer}
  - id: check
    uses: quality.check
    needs: [load]
    with:
      rows: ${{ steps.load.output.rows }}
      checks:
        - {type: not_null, columns: [campaign_id, spend]}
        - {type: unique, columns: [date, campaign_id]}
        - {type: range, column: clicks, min: 0}
  - id: totals
    uses: transform.aggregate
    needs: [check]
    with:
      rows: ${{ steps.load.output.rows }}
      group_by: channel
      aggregations:
        - {op: sum, column: spend, as: spend}
        - {op: sum, column: clicks, as: clicks}
        - {op: count}
outputs:
  totals: ${{ steps.totals.output.rows }}
  report: ${{ steps.load.output.report }}
)yaml");
  ASSERT_EQ(status, RunStatus::succeeded) << run_error();
  auto s = steps();
  const auto& load = s["load"].output.as_object();
  EXPECT_EQ(load.at("rows").as_array().size(), 4u);
  ASSERT_EQ(load.at("rejected").as_array().size(), 1u);
  EXPECT_EQ(load.at("rejected").at(0).at("reasons").at(0),
            "line 5, column \"spend\": \"oops\" is not a decimal number");
  const std::string batch(load.at("batch_id").as_string());
  EXPECT_EQ(load.at("rows").at(0).at("_batch_id"), json::value(batch));
  EXPECT_EQ(load.at("report").at("rows_read"), 5);
  EXPECT_EQ(s["check"].output.at("passed"), true);
  const auto& totals = s["totals"].output.at("rows").as_array();
  ASSERT_EQ(totals.size(), 3u);
  EXPECT_EQ(totals[0].at("channel"), "search");
  EXPECT_EQ(std::llround(totals[0].at("spend").as_double() * 1e6), 10'200'000);
  EXPECT_EQ(totals[0].at("clicks"), 7);
  EXPECT_EQ(totals[0].at("count"), 2);
  EXPECT_EQ(s["totals"].output.at("count"), 3);
}

TEST_F(DataWorkflowTest, BatchIdComesFromTheIdempotencyKeyAndDiffersBetweenRuns) {
  const std::string yaml = R"yaml(
id: csv-batch
steps:
  - id: load
    uses: csv.read
    with: {content: "a\n1\n"}
)yaml";
  ASSERT_EQ(run_to_end(yaml), RunStatus::succeeded) << run_error();
  const json::value first = steps()["load"].output.at("batch_id");
  // Derived from the idempotency key, which every attempt of the step shares.
  EXPECT_EQ(first, json::value(csv_plugin::batch_id_for(last_run_ + "/load")));
  ASSERT_EQ(run_to_end(yaml), RunStatus::succeeded) << run_error();
  EXPECT_NE(steps()["load"].output.at("batch_id"), first);
}

TEST_F(DataWorkflowTest, TooManyRejectionsFailTheStepWithAReport) {
  auto status = run_to_end(R"yaml(
id: csv-reject
steps:
  - id: load
    uses: csv.read
    with:
      content: "n\n1\nx\ny\n"
      max_rejected: 0.2
      schema: [{name: n, type: integer}]
)yaml");
  ASSERT_EQ(status, RunStatus::failed);
  const std::string error = steps()["load"].error;
  EXPECT_NE(error.find("2 of 3 rows rejected (more than 20% allowed)"), std::string::npos) << error;
  EXPECT_NE(error.find("line 3, column \"n\": \"x\" is not an integer"), std::string::npos) << error;
}

TEST_F(DataWorkflowTest, PathsOutsideTheRootAreRefused) {
  std::ofstream(dir_ / "outside.csv") << "a\n1\n";
  auto status = run_to_end(R"yaml(
id: csv-escape
steps:
  - id: load
    uses: csv.read
    with: {path: ../outside.csv}
)yaml");
  ASSERT_EQ(status, RunStatus::failed);
  EXPECT_NE(steps()["load"].error.find("outside the allowed directories"), std::string::npos)
      << steps()["load"].error;
}

TEST_F(DataWorkflowTest, WriteFileAndContentWithProtection) {
  auto status = run_to_end(R"yaml(
id: csv-write
steps:
  - id: out
    uses: csv.write
    with:
      path: report.csv
      columns: [name, spend]
      rows: [{name: "=HYPERLINK(\"x\")", spend: 1.5}, {name: Brand, spend: 2}]
  - id: text
    uses: csv.write
    with:
      line_ending: lf
      rows: [{a: "@SUM(1)", b: "x"}]
)yaml");
  ASSERT_EQ(status, RunStatus::succeeded) << run_error();
  EXPECT_EQ(slurp(root() / "report.csv"),
            "name,spend\r\n\"'=HYPERLINK(\"\"x\"\")\",1.5\r\nBrand,2\r\n");
  auto s = steps();
  EXPECT_EQ(s["out"].output.at("rows"), 2);
  EXPECT_EQ(s["text"].output.at("content"), "a,b\n\"'@SUM(1)\",x\n");
}

TEST_F(DataWorkflowTest, PlanModeDescribesTheFileAndWritesNothing) {
  auto result = load_result(R"yaml(
id: csv-plan
steps:
  - id: out
    uses: csv.write
    with:
      path: planned.csv
      rows: [{a: 1}, {a: 2}]
)yaml");
  ASSERT_TRUE(result.workflow);
  engine::RunRequest request;
  request.workflow = result.workflow;
  request.dry_run = true;
  last_run_ = executor_->start(std::move(request)).run_id;
  ASSERT_EQ(executor_->wait(last_run_, std::chrono::seconds(60)), RunStatus::succeeded)
      << run_error();
  EXPECT_FALSE(std::filesystem::exists(root() / "planned.csv"));
  const json::value plan = steps()["out"].output.at("plan").at(0);
  EXPECT_EQ(plan.at("action"), "write_file");
  EXPECT_EQ(plan.at("rows"), 2);
  EXPECT_NE(std::string(plan.at("path").as_string()).find("planned.csv"), std::string::npos);
}

TEST_F(DataWorkflowTest, ReadNeedsExactlyOneSource) {
  auto neither = load_result("id: csv-source\nsteps:\n  - id: load\n    uses: csv.read\n    with: {delimiter: \";\"}\n");
  ASSERT_FALSE(neither.diagnostics.empty());
  EXPECT_NE(neither.diagnostics[0].to_string().find("`with`: required property `path` is missing"),
            std::string::npos)
      << neither.diagnostics[0].to_string();
  auto status = run_to_end(R"yaml(
id: csv-both
steps:
  - id: load
    uses: csv.read
    with: {path: a.csv, content: "a\n1\n"}
)yaml");
  ASSERT_EQ(status, RunStatus::failed);
  EXPECT_EQ(steps()["load"].error,
            "csv.read: give `path` (a file) or `content` (the CSV text), not both");
}

TEST_F(DataWorkflowTest, BadWithValuesAreSchemaErrorsWithTheFieldPath) {
  auto result = load_result(R"yaml(
id: csv-bad
steps:
  - id: load
    uses: csv.read
    with:
      content: "a\n1\n"
      encoding: latin1
      schema: [{name: a, type: float}]
  - id: agg
    uses: transform.aggregate
    with:
      rows: []
      aggregations: [{op: median, column: a}]
  - id: check
    uses: quality.check
    with:
      rows: []
      checks: [{type: unique, colums: [a]}]
)yaml");
  std::string all;
  for (const auto& d : result.diagnostics) all += d.to_string() + "\n";
  EXPECT_NE(all.find("with.schema[0].type"), std::string::npos) << all;
  EXPECT_NE(all.find("with.encoding"), std::string::npos) << all;
  EXPECT_NE(all.find("with.aggregations[0].op"), std::string::npos) << all;
  EXPECT_NE(all.find("with.checks[0]"), std::string::npos) << all;
}

}  // namespace
}  // namespace flowpilot::data_testing

namespace flowpilot::data_testing {
namespace {

// A manual measurement (run with --gtest_also_run_disabled_tests): csv.read of a million typed
// rows through the engine, output stored included.
TEST_F(DataWorkflowTest, DISABLED_MillionRowReadThroughTheEngine) {
  {
    std::ofstream out(root() / "big.csv", std::ios::binary);
    out << "date,campaign_id,spend,impressions,clicks\n";
    for (int i = 0; i < 1'000'000; ++i) {
      const int day = i % 28 + 1;
      out << "2026-05-" << (day < 10 ? "0" : "") << day << ",c" << (i % 50) << "," << (i % 1000)
          << ".25," << i << ",7\n";
    }
  }
  const auto start = std::chrono::steady_clock::now();
  auto status = run_to_end(R"yaml(
id: csv-million
steps:
  - id: load
    uses: csv.read
    with:
      path: big.csv
      schema:
        - {name: date, type: date}
        - {name: campaign_id, required: true}
        - {name: spend, type: money}
        - {name: impressions, type: integer}
        - {name: clicks, type: integer}
)yaml");
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  ASSERT_EQ(status, RunStatus::succeeded) << run_error();
  auto s = steps();
  EXPECT_EQ(s["load"].output.at("report").at("rows_accepted"), 1'000'000);
  std::cout << "[ info ] csv.read of 1,000,000 rows: step " << (s["load"].finished_at - s["load"].started_at)
            << " ms, whole run " << ms << " ms\n";
}

}  // namespace
}  // namespace flowpilot::data_testing
