// The analytics plugins end to end: a YAML workflow through the real executor, store and plugin
// host, with kpi and guardrail loaded from the build's plugin directory.
#include <string>

#include "engine/runtime/runtime_fixture.h"
#include "kpi.h"

namespace flowpilot::engine::testing {
namespace {

namespace json = boost::json;

// Five weeks of one campaign from Monday 2026-04-06: CPA 50 (spend 100, 2 conversions) on
// weekdays, a spend spike to 900 on Monday 2026-05-04, and a second campaign at CPA 20.
std::string rows_json() {
  const std::int32_t monday = *kpi::parse_day("2026-04-06");
  json::array rows;
  for (int i = 0; i < 35; ++i) {
    const double spend = i == 28 ? 900 : 100;
    rows.push_back(json::object{{"platform", "meta"},
                                {"account_id", "act_1"},
                                {"campaign_id", "c1"},
                                {"campaign_name", "Prospecting"},
                                {"date", kpi::format_day(monday + i)},
                                {"spend", spend},
                                {"impressions", 10000},
                                {"clicks", 200},
                                {"conversions", 2},
                                {"revenue", 150},
                                {"currency", "EUR"}});
    rows.push_back(json::object{{"platform", "meta"},
                                {"account_id", "act_1"},
                                {"campaign_id", "c2"},
                                {"campaign_name", "Retargeting"},
                                {"date", kpi::format_day(monday + i)},
                                {"spend", 40},
                                {"impressions", 5000},
                                {"clicks", 100},
                                {"conversions", 2},
                                {"revenue", 160},
                                {"currency", "EUR"}});
  }
  return json::serialize(rows);
}

class AnalyticsWorkflowTest : public RuntimeTest {};

std::string workflow(const std::string& guard_options) {
  return R"(
id: analytics-e2e
steps:
  - id: insights
    uses: core.noop
    with:
      rows: )" +
         rows_json() + R"(
  - id: kpis
    uses: kpi.compute
    needs: [insights]
    with:
      rows: ${{ steps.insights.output.rows }}
      group_by: [campaign_id]
      period: {current: {from: "2026-05-04", to: "2026-05-10"}}
      compare: previous_period
  - id: spikes
    uses: kpi.anomalies
    needs: [insights]
    with:
      rows: ${{ steps.insights.output.rows }}
      metric: spend
      from: "2026-05-04"
  - id: advice
    uses: kpi.recommend
    needs: [insights]
    with:
      rows: ${{ steps.insights.output.rows }}
      targets: {target_cpa: 40}
  - id: guard
    uses: guardrail.check
    needs: [insights]
    with:
      rows: ${{ steps.insights.output.rows }}
      limit: 40
)" + guard_options +
         R"(
  - id: alert
    uses: core.log
    needs: [guard]
    if: ${{ not steps.guard.output.ok }}
    with:
      message: ${{ steps.guard.output.summary }}
outputs:
  c1_cpa: ${{ steps.kpis.output.rows[1].cpa }}
  c1_spend_change: ${{ steps.kpis.output.rows[1].changes.spend.delta_pct }}
  spikes: ${{ steps.spikes.output.count }}
  first_rule: ${{ steps.advice.output.recommendations[1].rule }}
  guard_ok: ${{ steps.guard.output.ok }}
)";
}

TEST_F(AnalyticsWorkflowTest, AnalyticsPluginsRunInAWorkflow) {
  ASSERT_TRUE(registry_.has_step("kpi.compute"));
  ASSERT_TRUE(registry_.has_step("guardrail.check"));
  const RunStatus status = run_to_end(workflow(""));
  ASSERT_EQ(status, RunStatus::succeeded) << store_->get_run(last_run_)->error;
  const json::object outputs = store_->get_run(last_run_)->outputs.as_object();
  // Week of 05-04: spend 900 + 6 × 100 = 1500 for 14 conversions → CPA 107.142857; the week
  // before: 700 → +114.29%.
  EXPECT_DOUBLE_EQ(outputs.at("c1_cpa").as_double(), 107.142857);
  EXPECT_DOUBLE_EQ(outputs.at("c1_spend_change").as_double(), 114.29);
  EXPECT_EQ(outputs.at("spikes").to_number<std::int64_t>(), 1);
  // Both c1's CPA (4300 / 70 = 61.43 against 40) and its ROAS (1.22 against the median 2.61)
  // are off on every day, with 70 conversions: two full scores, ordered by rule name.
  EXPECT_EQ(outputs.at("first_rule"), json::value("cut_low_roas"));
  EXPECT_EQ(outputs.at("guard_ok"), json::value(false));

  auto steps = steps_of(last_run_);
  const json::object& spike = steps["spikes"].output.at("anomalies").as_array()[0].as_object();
  EXPECT_EQ(spike.at("date"), json::value("2026-05-04"));
  EXPECT_DOUBLE_EQ(spike.at("expected").as_double(), 100);
  const json::array& breaches = steps["guard"].output.at("breaches").as_array();
  ASSERT_EQ(breaches.size(), 1u);
  EXPECT_EQ(breaches[0].at("campaign_id"), json::value("c1"));
  EXPECT_EQ(steps["alert"].status, StepStatus::succeeded);
  const json::array& advice = steps["advice"].output.at("recommendations").as_array();
  ASSERT_GE(advice.size(), 2u);
  EXPECT_EQ(advice[1].at("rule"), json::value("pause_high_cpa"));
  EXPECT_EQ(advice[1].at("campaign").at("campaign_id"), json::value("c1"));
  EXPECT_DOUBLE_EQ(advice[1].at("score").as_double(), 1);
}

TEST_F(AnalyticsWorkflowTest, GuardrailCanFailTheStepOnABreach) {
  const RunStatus status = run_to_end(workflow("      fail_on_breach: true"));
  ASSERT_EQ(status, RunStatus::failed);
  auto steps = steps_of(last_run_);
  EXPECT_EQ(steps["guard"].status, StepStatus::failed);
  EXPECT_NE(steps["guard"].error.find("campaign c1 (Prospecting) in EUR was above the limit of "
                                      "40.00 on each of the last 3 days"),
            std::string::npos)
      << steps["guard"].error;
}

TEST_F(AnalyticsWorkflowTest, KpiStepErrorsNameTheBadField) {
  const RunStatus status = run_to_end(R"(
id: analytics-bad-input
steps:
  - id: totals
    uses: kpi.compute
    with:
      rows: [{spend: 1, date: "2026-05-01"}, {spend: 2, date: "2026-05-32"}]
)");
  ASSERT_EQ(status, RunStatus::failed);
  const std::string error = steps_of(last_run_)["totals"].error;
  EXPECT_NE(error.find("with.rows[1].date"), std::string::npos) << error;
}

TEST_F(AnalyticsWorkflowTest, NullAndMissingFieldsCountAsZeroAndWholeDoublesAreCounts) {
  const RunStatus status = run_to_end(R"(
id: analytics-nulls
steps:
  - id: totals
    uses: kpi.compute
    with:
      rows: [{spend: 2.5, revenue: null, clicks: null, date: "2026-05-01", currency: EUR},
             {spend: 2.5, conversions: 1, clicks: 10.0, currency: EUR}]
outputs:
  spend: ${{ steps.totals.output.rows[1].spend }}
  roas: ${{ steps.totals.output.rows[1].roas }}
  cpa: ${{ steps.totals.output.rows[1].cpa }}
  cpc: ${{ steps.totals.output.rows[1].cpc }}
)");
  ASSERT_EQ(status, RunStatus::succeeded) << store_->get_run(last_run_)->error;
  const json::object outputs = store_->get_run(last_run_)->outputs.as_object();
  EXPECT_DOUBLE_EQ(outputs.at("spend").to_number<double>(), 5);
  EXPECT_DOUBLE_EQ(outputs.at("roas").to_number<double>(), 0);
  EXPECT_DOUBLE_EQ(outputs.at("cpa").to_number<double>(), 5);
  EXPECT_DOUBLE_EQ(outputs.at("cpc").to_number<double>(), 0.5);  // 10.0 clicks are whole
}

TEST_F(AnalyticsWorkflowTest, SchemasRefuseUnknownOptionsWhenTheWorkflowLoads) {
  const auto result = load_workflow_yaml(R"(
id: analytics-typo
steps:
  - id: totals
    uses: kpi.compute
    with:
      rows: []
      groupby: [platform]
  - id: guard
    uses: guardrail.check
    with:
      rows: []
      limit: 40
      mode: weekly
)",
                                         "typo.yaml", context());
  EXPECT_EQ(result.workflow, nullptr);
  std::string all;
  for (const auto& d : result.diagnostics) all += d.to_string() + "\n";
  EXPECT_NE(all.find("groupby"), std::string::npos) << all;
  EXPECT_NE(all.find("weekly"), std::string::npos) << all;
}

}  // namespace
}  // namespace flowpilot::engine::testing
