#include "engine/loader/loader.h"
#include "engine/schema/json_schema.h"

#include "scripting/expression.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace flowpilot::engine {
namespace {

std::shared_ptr<const JsonSchema> compile_schema(std::string_view text) {
  std::string error;
  auto schema = JsonSchema::compile(boost::json::parse(text), &error);
  if (schema == nullptr) ADD_FAILURE() << "test schema does not compile: " << error;
  return schema;
}

// The step kinds these tests may name; the engine's registry implements the same interface.
// Two have input schemas: `core.log` (one required text and a closed set of keys) and
// `sheets.append` (integers, an enum and a nested list of objects).
class TestCatalog final : public StepCatalog {
 public:
  bool has_step(std::string_view uses) const override {
    return std::find(names_.begin(), names_.end(), uses) != names_.end();
  }
  std::vector<std::string> step_names() const override { return names_; }
  const JsonSchema* input_schema(std::string_view uses) const override {
    if (uses == "core.log") return log_.get();
    if (uses == "sheets.append") return sheets_.get();
    return nullptr;
  }

 private:
  std::vector<std::string> names_{"core.noop",         "core.log",         "core.sleep",
                                  "core.fail",         "core.approval",    "meta_ads.insights",
                                  "meta_ads.pause_campaign", "transform.filter", "slack.notify",
                                  "sheets.append",     "lua"};
  std::shared_ptr<const JsonSchema> log_ = compile_schema(R"({
    "type": "object",
    "required": ["message"],
    "additionalProperties": false,
    "properties": {"message": {"type": "string"}, "level": {"enum": ["info", "warn", "error"]}}
  })");
  std::shared_ptr<const JsonSchema> sheets_ = compile_schema(R"({
    "type": "object",
    "required": ["sheet", "rows"],
    "properties": {
      "sheet": {"type": "string"},
      "max_rows": {"type": "integer", "minimum": 1, "maximum": 1000},
      "mode": {"enum": ["append", "replace"]},
      "rows": {"type": "array", "items": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "cpa": {"type": "number", "minimum": 0}}
      }}
    }
  })");
};

const scripting::ExpressionEngine& expressions() {
  static const scripting::ExpressionEngine engine({}, 1);
  return engine;
}

LoadResult load(std::string_view yaml, LoadLimits limits = {}) {
  static const TestCatalog catalog;
  const LoadContext ctx{catalog, expressions(), limits};
  return load_workflow_yaml(yaml, "wf.yaml", ctx);
}

std::string dump(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += "\n  " + d.to_string();
  return out;
}

// Passes when some diagnostic at line:column contains `fragment` and carries `suggestion`.
::testing::AssertionResult has_diag(const LoadResult& r, int line, int column,
                                    std::string_view fragment, std::string_view suggestion = {}) {
  if (r.ok()) return ::testing::AssertionFailure() << "the workflow loaded";
  const Diagnostic* near_miss = nullptr;
  for (const auto& d : r.diagnostics) {
    if (d.message.find(fragment) == std::string::npos) continue;
    if (d.where.line == line && d.where.column == column && d.suggestion == suggestion &&
        d.where.file == "wf.yaml") {
      return ::testing::AssertionSuccess();
    }
    if (near_miss == nullptr) near_miss = &d;
  }
  if (near_miss != nullptr) {
    return ::testing::AssertionFailure() << "found `" << fragment << "` but as: "
                                         << near_miss->to_string() << " [suggestion `"
                                         << near_miss->suggestion << "`]";
  }
  return ::testing::AssertionFailure() << "no diagnostic containing `" << fragment << "`; got:"
                                       << dump(r);
}

LoadResult load_fixture(const std::string& name) {
  static const TestCatalog catalog;
  const LoadContext ctx{catalog, expressions(), {}};
  return load_workflow_file(std::string(FLOWPILOT_SOURCE_DIR) + "/tests/engine/model/fixtures/" + name,
                            ctx);
}

constexpr const char* kMinimal = R"(id: demo
steps:
  - id: fetch
    uses: core.noop
)";

TEST(Loader, MinimalWorkflowLoadsWithDefaults) {
  const auto r = load(kMinimal);
  ASSERT_TRUE(r.ok()) << dump(r);
  const Workflow& wf = *r.workflow;
  EXPECT_EQ(wf.id, "demo");
  EXPECT_EQ(wf.name, "demo");
  ASSERT_EQ(wf.steps.size(), 1u);
  EXPECT_EQ(wf.steps[0].id, "fetch");
  EXPECT_EQ(wf.steps[0].name, "fetch");
  EXPECT_EQ(wf.steps[0].uses, "core.noop");
  EXPECT_TRUE(wf.steps[0].with.is_object());
  EXPECT_TRUE(wf.steps[0].foreach.is_null());
  EXPECT_FALSE(wf.steps[0].retry.has_value());
  EXPECT_FALSE(wf.steps[0].timeout.has_value());
  EXPECT_EQ(wf.steps[0].location.line, 3);
  EXPECT_EQ(wf.steps[0].location.column, 5);
  EXPECT_EQ(wf.default_retry.attempts, 1);
  EXPECT_EQ(wf.concurrency.limit, 0);
  EXPECT_FALSE(wf.timeout.has_value());
  EXPECT_EQ(wf.source_file, "wf.yaml");
  EXPECT_EQ(wf.source_text, kMinimal);
  EXPECT_EQ(wf.source_format, "yaml");
  EXPECT_EQ(wf.version.size(), 32u);
  EXPECT_EQ(wf.version.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(wf.location_of("steps[0].uses").line, 4);
  EXPECT_EQ(wf.location_of("steps[0].uses").column, 11);
}

TEST(Loader, VersionFollowsTheText) {
  const auto a = load(kMinimal);
  const auto b = load(std::string(kMinimal) + "# a comment\n");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a.workflow->version, load(kMinimal).workflow->version);
  EXPECT_NE(a.workflow->version, b.workflow->version);
}

TEST(Loader, DesignExampleLoads) {
  const auto r = load_fixture("cpa_guardrail.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const Workflow& wf = *r.workflow;
  EXPECT_EQ(wf.id, "cpa-guardrail");
  EXPECT_EQ(wf.name, "CPA guardrail");
  EXPECT_EQ(wf.description, "Pause Meta campaigns whose CPA is above target");
  ASSERT_EQ(wf.inputs.size(), 2u);
  const InputSpec* target = nullptr;
  const InputSpec* dry_run = nullptr;
  for (const auto& in : wf.inputs) {
    if (in.name == "target_cpa") target = &in;
    if (in.name == "dry_run") dry_run = &in;
  }
  ASSERT_NE(target, nullptr);
  ASSERT_NE(dry_run, nullptr);
  EXPECT_EQ(target->type, InputType::number);
  EXPECT_EQ(*target->default_value, boost::json::value(40));
  EXPECT_EQ(dry_run->type, InputType::boolean);
  EXPECT_EQ(*dry_run->default_value, boost::json::value(true));

  ASSERT_EQ(wf.triggers.size(), 2u);
  const auto& cron = std::get<CronTrigger>(wf.triggers[0]);
  EXPECT_EQ(cron.expression, "*/30 * * * *");
  EXPECT_EQ(cron.timezone, "Europe/Berlin");
  EXPECT_EQ(cron.catch_up, CatchUp::latest);
  EXPECT_EQ(cron.location.line, 8);
  const auto& hook = std::get<WebhookTrigger>(wf.triggers[1]);
  EXPECT_EQ(hook.path, "spend-alert");
  EXPECT_EQ(hook.scheme, WebhookAuthScheme::hmac_sha256);
  EXPECT_EQ(hook.secret, "${{ secrets.HOOK_SECRET }}");
  EXPECT_EQ(hook.respond, WebhookRespond::accepted);
  EXPECT_EQ(hook.idempotency_key, "${{ trigger.headers['x-event-id'] }}");

  EXPECT_EQ(wf.concurrency.limit, 1);
  EXPECT_EQ(wf.concurrency.on_limit, OnLimit::queue);
  EXPECT_EQ(wf.timeout, std::chrono::minutes(30));
  EXPECT_EQ(wf.default_retry.attempts, 3);
  EXPECT_EQ(wf.default_retry.backoff, Backoff::exponential);
  EXPECT_EQ(wf.default_retry.delay, std::chrono::seconds(2));
  EXPECT_EQ(wf.default_retry.max_delay, std::chrono::minutes(5));
  EXPECT_EQ(wf.default_timeout, std::chrono::minutes(2));

  ASSERT_EQ(wf.steps.size(), 4u);
  EXPECT_EQ(wf.steps[0].connection, "meta-main");
  EXPECT_EQ(wf.steps[0].with.at("account_id"), "act_123");
  EXPECT_EQ(wf.steps[1].needs, std::vector<std::string>{"insights"});
  EXPECT_EQ(wf.steps[1].with.at("rows"), "${{ steps.insights.output.rows }}");
  EXPECT_EQ(wf.steps[2].if_expression, "not inputs.dry_run and #steps.expensive.output.rows > 0");
  EXPECT_EQ(wf.steps[3].foreach, "${{ steps.expensive.output.rows }}");
  EXPECT_EQ(wf.steps[3].concurrency, 4);
  EXPECT_EQ(wf.outputs.at("paused"), "${{ #steps.pause.output }}");
  ASSERT_EQ(wf.on_failure.size(), 1u);
  EXPECT_EQ(wf.on_failure[0].id, "alert");
  EXPECT_EQ(wf.on_failure[0].uses, "slack.notify");
  ASSERT_NE(wf.find_step("pause"), nullptr);
  EXPECT_EQ(wf.location_of("steps[3].with.campaign_id").line, 42);
}

TEST(Loader, UnquotedHashInAnExpressionIsExplained) {
  // DESIGN.md's example writes `if: ${{ not ... #steps... }}` unquoted; YAML reads ` #` as the
  // start of a comment, so the value ends early. The error says so.
  const auto r = load(R"(id: demo
steps:
  - id: a
    uses: core.noop
    if: ${{ #steps.a.output > 0 }}
)");
  EXPECT_TRUE(has_diag(r, 5, 9, "unterminated `${{`"));
  EXPECT_TRUE(has_diag(r, 5, 9, "quote a value that uses `#`"));
}

TEST(Loader, OtherGoodFixturesLoad) {
  for (const char* name : {"weekly_report.yaml", "fan_out.yml"}) {
    const auto r = load_fixture(name);
    EXPECT_TRUE(r.ok()) << name << dump(r);
  }
}

TEST(Loader, FanOutFixtureFillsRetryAndOrdersOnFailure) {
  const auto r = load_fixture("fan_out.yml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const Workflow& wf = *r.workflow;
  const StepSpec* each = wf.find_step("each");
  ASSERT_NE(each, nullptr);
  ASSERT_TRUE(each->retry.has_value());
  EXPECT_EQ(each->retry->attempts, 5);
  EXPECT_EQ(each->retry->backoff, Backoff::fixed);
  EXPECT_EQ(each->retry->delay, std::chrono::milliseconds(500));  // from defaults
  EXPECT_EQ(each->timeout, std::chrono::seconds(90));
  EXPECT_TRUE(each->foreach.is_array());
  EXPECT_EQ(each->if_expression, "inputs.enabled");
  ASSERT_EQ(wf.on_failure.size(), 2u);
  EXPECT_EQ(wf.on_failure[0].id, "first");  // listed second, but the other needs it
  EXPECT_EQ(wf.on_failure[1].id, "second");
  ASSERT_EQ(wf.inputs.size(), 3u);
}

TEST(Loader, UnknownKeyInStepSuggestsTheNearest) {
  const auto r = load(R"(id: demo
steps:
  - id: fetch
    uses: core.noop
    neeeds: [x]
)");
  EXPECT_TRUE(has_diag(r, 5, 5, "unknown key `neeeds` in step `fetch`", "needs"));
  EXPECT_EQ(r.diagnostics.size(), 1u) << dump(r);
}

TEST(Loader, UnknownKeysAtEveryLevel) {
  const auto r = load(R"(id: demo
nmae: x
inputs:
  a: {type: number, defualt: 1}
triggers:
  - cron: "0 * * * *"
    timezon: UTC
  - webhook: {path: p, respnd: result, auth: {scheme: token, secert: x}}
concurrency: {limit: 1, onlimit: skip}
defaults: {retry: {attempts: 2, bakoff: fixed}, timout: 5s}
steps:
  - id: fetch
    uses: core.noop
on_failure:
  - id: alert
    uses: core.log
    wtih: {}
)");
  // With `with` misspelt, the step has no inputs, and core.log requires `message`.
  EXPECT_TRUE(has_diag(r, 15, 5, "on_failure step `alert`, `with`: required property `message` is missing"));
  EXPECT_TRUE(has_diag(r, 2, 1, "unknown key `nmae` at the top level", "name"));
  EXPECT_TRUE(has_diag(r, 4, 21, "unknown key `defualt` in input `a`", "default"));
  EXPECT_TRUE(has_diag(r, 7, 5, "unknown key `timezon` in cron trigger 1", "timezone"));
  EXPECT_TRUE(has_diag(r, 8, 24, "unknown key `respnd` in webhook trigger 2", "respond"));
  EXPECT_TRUE(has_diag(r, 8, 62, "unknown key `secert` in webhook auth", "secret"));
  EXPECT_TRUE(has_diag(r, 9, 25, "unknown key `onlimit` in concurrency", "on_limit"));
  EXPECT_TRUE(has_diag(r, 10, 33, "unknown key `bakoff` in defaults", "backoff"));
  EXPECT_TRUE(has_diag(r, 10, 49, "unknown key `timout` in defaults", "timeout"));
  EXPECT_TRUE(has_diag(r, 17, 5, "unknown key `wtih` in on_failure step `alert`", "with"));
  // The misspelt `secret` also leaves the token scheme without one.
  EXPECT_TRUE(has_diag(r, 8, 46, "webhook auth `token` needs a `secret`"));
  EXPECT_EQ(r.diagnostics.size(), 11u) << dump(r);
  for (std::size_t i = 1; i < r.diagnostics.size(); ++i) {
    EXPECT_LE(r.diagnostics[i - 1].where.line, r.diagnostics[i].where.line) << "file order";
  }
}

TEST(Loader, MissingRequiredKeys) {
  const auto r = load(R"(name: no id
steps:
  - uses: core.noop
  - id: second
)");
  EXPECT_TRUE(has_diag(r, 1, 1, "the workflow has no `id`"));
  EXPECT_TRUE(has_diag(r, 3, 5, "step 1 has no `id`"));
  EXPECT_TRUE(has_diag(r, 4, 5, "step `second` has no `uses`"));
  EXPECT_EQ(r.diagnostics.size(), 3u) << dump(r);
  EXPECT_TRUE(has_diag(load("id: x\n"), 1, 1, "the workflow has no `steps`"));
  EXPECT_TRUE(has_diag(load("id: x\nsteps: []\n"), 2, 8, "`steps` is empty"));
}

TEST(Loader, BadWorkflowId) {
  const auto r = load("id: CPA Guard\nsteps: [{id: a, uses: core.noop}]\n");
  EXPECT_TRUE(has_diag(r, 1, 5, "workflow id `CPA Guard` is not valid", "cpa-guard"));
  EXPECT_TRUE(has_diag(load("id: -x\nsteps: [{id: a, uses: core.noop}]\n"), 1, 5,
                       "workflow id `-x` is not valid"));
  EXPECT_TRUE(has_diag(load("id: " + std::string(65, 'a') + "\nsteps: [{id: a, uses: core.noop}]\n"),
                       1, 5, "at most 64 characters"));
  EXPECT_TRUE(load("id: " + std::string(64, 'a') + "\nsteps: [{id: a, uses: core.noop}]\n").ok());
}

TEST(Loader, BadStepIdMentionsDashes) {
  const auto r = load(R"(id: demo
steps:
  - id: fetch-data
    uses: core.noop
  - id: 2nd
    uses: core.noop
)");
  EXPECT_TRUE(has_diag(r, 3, 9, "step id `fetch-data` is not valid", "fetch_data"));
  EXPECT_TRUE(has_diag(r, 3, 9, "no dashes", "fetch_data"));
  EXPECT_TRUE(has_diag(r, 5, 9, "step id `2nd` is not valid"));
}

TEST(Loader, WrongTypesNameTheExpectedType) {
  const auto r = load(R"(id: demo
steps:
  - id: a
    uses: core.noop
    needs: 3
    with: [1]
    if: [x]
  - id: b
    uses: 7
    timeout: true
)");
  EXPECT_TRUE(has_diag(r, 5, 12, "`needs` in step `a` must be a step id or a list of step ids, not a number"));
  EXPECT_TRUE(has_diag(r, 6, 11, "`with` in step `a` must be a mapping of step inputs, not a list"));
  EXPECT_TRUE(has_diag(r, 7, 9, "`if` in step `a` must be an expression"));
  EXPECT_TRUE(has_diag(r, 9, 11, "`uses` in step `b` must be a step kind such as core.noop, not a number"));
  EXPECT_TRUE(has_diag(r, 10, 14, "`timeout` in step `b` must be a duration such as 30s, 5m or 2h, not a boolean"));
  EXPECT_TRUE(has_diag(load("id: demo\nsteps: {}\n"), 2, 8, "`steps` must be a list of steps, not a mapping"));
  EXPECT_TRUE(has_diag(load("- a\n- b\n"), 1, 1, "a workflow must be a mapping"));
  EXPECT_TRUE(has_diag(load("id: [x]\nsteps: [{id: a, uses: core.noop}]\n"), 1, 5, "`id` must be text, not a list"));
}

TEST(Loader, DuplicateStepIdsPointAtTheSecond) {
  const auto r = load(R"(id: demo
steps:
  - id: fetch
    uses: core.noop
  - id: fetch
    uses: core.noop
on_failure:
  - id: fetch
    uses: core.log
    with: {message: hi}
)");
  EXPECT_TRUE(has_diag(r, 5, 9, "duplicate step id `fetch`; the first is on line 3"));
  EXPECT_TRUE(has_diag(r, 8, 9, "duplicate step id `fetch`; the first is on line 3"));
  EXPECT_EQ(r.diagnostics.size(), 2u) << dump(r);
}

TEST(Loader, NeedsNamingUnknownSteps) {
  const auto r = load(R"(id: demo
steps:
  - id: fetch
    uses: core.noop
  - id: report
    uses: core.noop
    needs: fetc
  - id: other
    uses: core.noop
    needs: [fetch, zzz]
)");
  EXPECT_TRUE(has_diag(r, 7, 12, "step `report` needs `fetc`, which is not a step", "fetch"));
  EXPECT_TRUE(has_diag(r, 10, 20, "step `other` needs `zzz`, which is not a step"));
  EXPECT_EQ(r.diagnostics.size(), 2u) << dump(r);
}

TEST(Loader, CyclesArePrintedOncePerCycle) {
  const auto r = load(R"(id: demo
steps:
  - id: a
    uses: core.noop
    needs: c
  - id: b
    uses: core.noop
    needs: a
  - id: c
    uses: core.noop
    needs: b
  - id: d
    uses: core.noop
    needs: [d]
  - id: e
    uses: core.noop
    needs: a
)");
  EXPECT_TRUE(has_diag(r, 5, 12, "steps form a cycle: a → c → b → a"));
  EXPECT_TRUE(has_diag(r, 14, 12, "steps form a cycle: d → d"));
  EXPECT_EQ(r.diagnostics.size(), 2u) << dump(r);
}

TEST(Loader, UnknownUsesSuggestsFromTheCatalog) {
  const auto r = load(R"(id: demo
steps:
  - id: a
    uses: core.nop
  - id: b
    uses: meta_ads.insight
  - id: c
    uses: totally.unknown
)");
  EXPECT_TRUE(has_diag(r, 4, 11, "unknown step kind `core.nop` in step `a`", "core.noop"));
  EXPECT_TRUE(has_diag(r, 6, 11, "unknown step kind `meta_ads.insight` in step `b`", "meta_ads.insights"));
  EXPECT_TRUE(has_diag(r, 8, 11, "unknown step kind `totally.unknown` in step `c`"));
}

TEST(Loader, BadDurations) {
  const auto r = load(R"(id: demo
timeout: 5x
defaults:
  timeout: -1s
  retry: {delay: 0s, max_delay: forever}
steps:
  - id: a
    uses: core.approval
    timeout: 1h30
    with: {message: hi, timeout: soon}
)");
  EXPECT_TRUE(has_diag(r, 2, 10, "`timeout`: `5x` is not a duration; use a number with a unit such as 30s, 5m, 2h"));
  EXPECT_TRUE(has_diag(r, 4, 12, "`timeout` in defaults: a duration must be positive"));
  EXPECT_TRUE(has_diag(r, 5, 18, "`delay` in defaults: a duration must be longer than zero"));
  EXPECT_TRUE(has_diag(r, 5, 33, "`max_delay` in defaults: `forever` is not a duration"));
  EXPECT_TRUE(has_diag(r, 9, 14, "`timeout` in step `a`: `1h30` is not a duration"));
  EXPECT_TRUE(has_diag(r, 10, 34, "`with.timeout` in step `a`: `soon` is not a duration"));
  EXPECT_EQ(r.diagnostics.size(), 6u) << dump(r);
}

TEST(Loader, NumericDurationsAreSeconds) {
  const auto r = load("id: demo\ntimeout: 90\nsteps: [{id: a, uses: core.noop, timeout: 1.5}]\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.workflow->timeout, std::chrono::seconds(90));
  EXPECT_EQ(r.workflow->steps[0].timeout, std::chrono::milliseconds(1500));
}

TEST(Loader, BadRetry) {
  const auto r = load(R"(id: demo
steps:
  - id: a
    uses: core.noop
    retry: {attempts: 0, backoff: linear}
  - id: b
    uses: core.noop
    retry: {attempts: 101, delay: 10m, max_delay: 1m}
  - id: c
    uses: core.noop
    retry: 3
)");
  EXPECT_TRUE(has_diag(r, 5, 23, "`attempts` in step `a` must be between 1 and 100, not 0"));
  EXPECT_TRUE(has_diag(r, 5, 35, "`backoff` in step `a` must be exponential or fixed, not `linear`"));
  EXPECT_TRUE(has_diag(r, 8, 23, "must be between 1 and 100, not 101"));
  EXPECT_TRUE(has_diag(r, 8, 51, "`delay` in step `b` (10m) is longer than `max_delay` (1m)"));
  EXPECT_TRUE(has_diag(r, 11, 12, "`retry` in step `c` must be a mapping"));
  EXPECT_EQ(r.diagnostics.size(), 5u) << dump(r);
}

TEST(Loader, BadTriggers) {
  const auto r = load(R"(id: demo
triggers:
  - cron: "61 * * * *"
  - cron: "0 9 * * MON"
    timezone: Europe/Berln
    catch_up: lates
  - cron: "@daily"
    webhook: {path: x}
  - timezone: UTC
  - webhook: {path: "/bad"}
  - webhook: {path: same, auth: {scheme: hmac-sha1, secret: x}, respond: later}
  - webhook: {path: same, auth: {scheme: github}}
  - webhook: {respond: result}
steps: [{id: a, uses: core.noop}]
)");
  EXPECT_TRUE(has_diag(r, 3, 11, "bad cron expression `61 * * * *`: minute field `61` is out of range 0-59"));
  EXPECT_TRUE(has_diag(r, 5, 15, "unknown time zone `Europe/Berln`", "Europe/Berlin"));
  EXPECT_TRUE(has_diag(r, 6, 15, "`catch_up` in cron trigger 2 must be none, latest or all, not `lates`", "latest"));
  EXPECT_TRUE(has_diag(r, 7, 5, "trigger 3 has both `cron` and `webhook`"));
  EXPECT_TRUE(has_diag(r, 9, 5, "trigger 4 needs `cron:` or `webhook:`"));
  EXPECT_TRUE(has_diag(r, 10, 21, "webhook path `/bad` is not valid"));
  EXPECT_TRUE(has_diag(r, 11, 42, "`scheme` in webhook auth must be none, token, hmac-sha256, github, slack or stripe, not `hmac-sha1`", "hmac-sha256"));
  EXPECT_TRUE(has_diag(r, 11, 74, "`respond` in webhook trigger 6 must be accepted or result, not `later`"));
  EXPECT_TRUE(has_diag(r, 12, 21, "duplicate webhook path `same`; the first is on line 11"));
  EXPECT_TRUE(has_diag(r, 12, 33, "webhook auth `github` needs a `secret`"));
  EXPECT_TRUE(has_diag(r, 13, 14, "webhook trigger 8 has no `path`"));
  EXPECT_EQ(r.diagnostics.size(), 11u) << dump(r);
}

TEST(Loader, BadConcurrency) {
  const auto r = load(R"(id: demo
concurrency: {limit: 0, on_limit: cancel}
steps:
  - id: a
    uses: core.noop
    concurrency: 4
  - id: b
    uses: core.noop
    foreach: [1, 2]
    concurrency: 0
)");
  EXPECT_TRUE(has_diag(r, 2, 22, "`limit` in concurrency must be at least 1, not 0"));
  EXPECT_TRUE(has_diag(r, 2, 35, "`on_limit` in concurrency must be queue, skip or cancel_running, not `cancel`", "cancel_running"));
  EXPECT_TRUE(has_diag(r, 6, 18, "`concurrency` in step `a` only applies to a step with `foreach`"));
  EXPECT_TRUE(has_diag(r, 10, 18, "`concurrency` in step `b` must be at least 1, not 0"));
  EXPECT_EQ(r.diagnostics.size(), 4u) << dump(r);
}

TEST(Loader, BadInputs) {
  const auto r = load(R"(id: demo
inputs:
  a: {type: decimal}
  b: {type: number, default: "forty"}
  c: {type: integer, default: 1.5}
  d: {type: boolean, default: false, required: true}
  e: {type: string, enum: [x, y], default: z}
  bad-name: {type: string}
  f: string
steps: [{id: a, uses: core.noop}]
)");
  EXPECT_TRUE(has_diag(r, 3, 13, "`type` in input `a` must be string, number, integer, boolean, object or array, not `decimal`"));
  EXPECT_TRUE(has_diag(r, 4, 30, "default of input `b` must be a number, as its type is number, not text"));
  EXPECT_TRUE(has_diag(r, 5, 31, "default of input `c` must be a whole number"));
  EXPECT_TRUE(has_diag(r, 6, 48, "input `d` is required and has a default, which contradicts itself"));
  EXPECT_TRUE(has_diag(r, 7, 44, "default of input `e` is \"z\", which is not one of its allowed values"));
  EXPECT_TRUE(has_diag(r, 8, 3, "input name `bad-name` is not valid", "bad_name"));
  EXPECT_TRUE(has_diag(r, 9, 6, "input `f` must be a mapping such as {type: number, default: 40}, not text"));
  EXPECT_EQ(r.diagnostics.size(), 7u) << dump(r);
}

TEST(Loader, InputsOfEveryTypeLoad) {
  const auto r = load(R"(id: demo
inputs:
  s: {type: string, default: hi, description: Greeting}
  n: {type: number, default: 1.5, unit: EUR}
  i: {type: integer, default: 3}
  b: {type: boolean, required: true}
  o: {type: object, default: {k: v}}
  l: {type: array, default: [1, 2], enum: [[1, 2], [3]]}
  inferred: {default: 2.5}
steps: [{id: a, uses: core.noop}]
)");
  ASSERT_TRUE(r.ok()) << dump(r);
  ASSERT_EQ(r.workflow->inputs.size(), 7u);
  EXPECT_EQ(r.workflow->inputs[6].type, InputType::number);
  for (const auto& in : r.workflow->inputs) {
    if (in.name == "b") {
      EXPECT_TRUE(in.required);
      EXPECT_FALSE(in.default_value.has_value());
    }
    if (in.name == "n") {
      EXPECT_EQ(in.unit, "EUR");
    }
    if (in.name == "l") {
      EXPECT_EQ(in.allowed.size(), 2u);
    }
  }
}

TEST(Loader, ExpressionsThatDoNotCompile) {
  const auto r = load(R"(id: demo
triggers:
  - webhook:
      path: p
      auth: {scheme: token, secret: "${{ secrets. }}"}
      idempotency_key: "${{ trigger.headers[ }}"
steps:
  - id: a
    uses: core.noop
    with:
      rows: ${{ steps.x.output + }}
      nested: {list: [ok, "x ${{ 1 + }} y"]}
      open: "${{ inputs.x"
    if: inputs.enabled and
    foreach: "${{ steps.a.output ) }}"
outputs:
  total: ${{ == }}
on_failure:
  - id: alert
    uses: slack.notify
    with: {text: "failed: ${{ run.error .. }}"}
)");
  EXPECT_TRUE(has_diag(r, 5, 37, "expression `secrets.` in `triggers[0].webhook.auth.secret` does not compile"));
  EXPECT_TRUE(has_diag(r, 6, 24, "expression `trigger.headers[` in `triggers[0].webhook.idempotency_key` does not compile"));
  EXPECT_TRUE(has_diag(r, 11, 13, "expression `steps.x.output +` in `steps[0].with.rows` does not compile"));
  EXPECT_TRUE(has_diag(r, 12, 27, "expression `1 +` in `steps[0].with.nested.list[1]` does not compile"));
  EXPECT_TRUE(has_diag(r, 13, 13, "`steps[0].with.open`: unterminated `${{`"));
  EXPECT_TRUE(has_diag(r, 14, 9, "expression `inputs.enabled and` in `steps[0].if` does not compile"));
  EXPECT_TRUE(has_diag(r, 15, 14, "expression `steps.a.output )` in `steps[0].foreach` does not compile"));
  EXPECT_TRUE(has_diag(r, 17, 10, "expression `==` in `outputs.total` does not compile"));
  EXPECT_TRUE(has_diag(r, 21, 18, "expression `run.error ..` in `on_failure[0].with.text` does not compile"));
  EXPECT_EQ(r.diagnostics.size(), 9u) << dump(r);
}

TEST(Loader, IfAcceptsBareOrWrappedExpressions) {
  const auto r = load(R"(id: demo
steps:
  - id: a
    uses: core.noop
    if: ${{ inputs.x > 1 }}
  - id: b
    uses: core.noop
    if: inputs.x > 1
  - id: c
    uses: core.noop
    if: false
)");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.workflow->steps[0].if_expression, "inputs.x > 1");
  EXPECT_EQ(r.workflow->steps[1].if_expression, "inputs.x > 1");
  EXPECT_EQ(r.workflow->steps[2].if_expression, "false");
  EXPECT_TRUE(has_diag(load("id: demo\nsteps: [{id: a, uses: core.noop, if: \"x ${{ y }}\"}]\n"), 2, 38,
                       "`if` in step `a` must be one expression"));
}

TEST(Loader, ForeachMustBeOneExpressionOrAList) {
  const auto r = load(R"(id: demo
steps:
  - id: a
    uses: core.noop
    foreach: "items: ${{ inputs.list }}"
  - id: b
    uses: core.noop
    foreach: 5
)");
  EXPECT_TRUE(has_diag(r, 5, 14, "`foreach` in step `a` must be one ${{ … }} expression or a list"));
  EXPECT_TRUE(has_diag(r, 8, 14, "`foreach` in step `b` must be one ${{ … }} expression or a list, not a number"));
}

TEST(Loader, TemplateDataIsNotCheckedInKeys) {
  // Keys are never evaluated, so a key that looks like an expression is plain data.
  const auto r = load("id: demo\nsteps: [{id: a, uses: core.noop, with: {\"${{ 1 + }}\": x}}]\n");
  EXPECT_TRUE(r.ok()) << dump(r);
}

TEST(Loader, OnFailureStepsMayNeedEachOtherButNotMainSteps) {
  const auto r = load(R"(id: demo
steps:
  - id: a
    uses: core.noop
    needs: alert
on_failure:
  - id: alert
    uses: slack.notify
    needs: [cleanup, a]
  - id: cleanup
    uses: core.log
    with: {message: cleaning up}
)");
  EXPECT_TRUE(has_diag(r, 5, 12, "step `a` needs `alert`, an on_failure step"));
  EXPECT_TRUE(has_diag(r, 9, 22, "on_failure step `alert` needs `a`, a main step; on_failure steps may only need other on_failure steps"));
  EXPECT_EQ(r.diagnostics.size(), 2u) << dump(r);
}

TEST(Loader, AllErrorsOfAFileAtOnce) {
  const auto r = load_fixture("five_errors.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.diagnostics.size(), 5u) << dump(r);
  for (const auto& d : r.diagnostics) {
    EXPECT_GT(d.where.line, 0) << d.to_string();
    EXPECT_NE(d.where.file.find("five_errors.yaml"), std::string::npos);
  }
  EXPECT_NE(dump(r).find("five_errors.yaml:4:5: unknown key `tpye` in input `target_cpa` (did you mean `type`?)"),
            std::string::npos)
      << dump(r);
  EXPECT_NE(dump(r).find("five_errors.yaml:15:14: `timeout` in step `filter`: `5x` is not a duration"),
            std::string::npos)
      << dump(r);
  EXPECT_EQ(r.diagnostics.back().where.line, 15) << "diagnostics come in file order";
}

TEST(Loader, TooManySteps) {
  std::string yaml = "id: demo\nsteps:\n";
  for (int i = 0; i < 11; ++i) yaml += "  - {id: s" + std::to_string(i) + ", uses: core.noop}\n";
  LoadLimits limits;
  limits.max_steps = 10;
  const auto r = load(yaml, limits);
  EXPECT_TRUE(has_diag(r, 3, 3, "the workflow has 11 steps; the limit is 10"));
  EXPECT_EQ(r.diagnostics.size(), 1u);
}

TEST(Loader, HundredThousandStepsAreRejectedQuickly) {
  std::string yaml = "id: demo\nsteps:\n";
  yaml.reserve(4'000'000);
  for (int i = 0; i < 100'000; ++i) yaml += "- {id: s" + std::to_string(i) + ", uses: core.noop}\n";
  const auto start = std::chrono::steady_clock::now();
  const auto r = load(yaml);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1u) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("200000 nodes"), std::string::npos) << dump(r);
  // A generous bound: this guards against quadratic work, not a benchmark.
  EXPECT_LT(elapsed, std::chrono::seconds(20));

  // With the node cap raised the step cap is what refuses it.
  LoadLimits limits;
  limits.max_nodes = 1'000'000;
  const auto r2 = load(yaml, limits);
  EXPECT_TRUE(has_diag(r2, 3, 1, "the workflow has 100000 steps; the limit is 10000"));
}

TEST(Loader, ALongChainOfStepsLoads) {
  std::string yaml = "id: chain\nsteps:\n  - {id: s0, uses: core.noop}\n";
  for (int i = 1; i < 5000; ++i) {
    yaml += "  - {id: s" + std::to_string(i) + ", uses: core.noop, needs: s" + std::to_string(i - 1) + "}\n";
  }
  const auto r = load(yaml);
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.workflow->steps.size(), 5000u);
}

TEST(Loader, DuplicateMappingKeys) {
  const auto r = load(R"(id: demo
steps:
  - id: a
    uses: core.noop
    uses: core.log
)");
  EXPECT_TRUE(has_diag(r, 5, 5, "duplicate key `uses`; the first is on line 4"));
  EXPECT_EQ(r.diagnostics.size(), 1u) << dump(r);
}

TEST(Loader, DuplicateKeysAreReportedWithOtherErrors) {
  const auto r = load("id: demo\nid: other\nsteps: [{id: a, uses: core.nope}]\n");
  EXPECT_TRUE(has_diag(r, 2, 1, "duplicate key `id`; the first is on line 1"));
  EXPECT_TRUE(has_diag(r, 3, 23, "unknown step kind `core.nope`", "core.noop"));
}

TEST(Loader, LiteralInputsAreCheckedAgainstTheStepSchema) {
  const auto r = load(R"(id: demo
steps:
  - id: notify
    uses: core.log
    with:
      message: 5
      levle: warn
  - id: save
    uses: sheets.append
    with:
      sheet: s
      max_rows: 0
      mode: upsert
      rows:
        - {name: a, cpa: 1}
        - {name: b, cpa: high}
)");
  EXPECT_TRUE(has_diag(r, 6, 16, "step `notify`, `with.message`: must be a string, not an integer"));
  EXPECT_TRUE(has_diag(r, 7, 7, "step `notify`, `with`: unknown property `levle`; allowed: `message` and `level`"));
  EXPECT_TRUE(has_diag(r, 12, 17, "step `save`, `with.max_rows`: must be at least 1, not 0"));
  EXPECT_TRUE(has_diag(r, 13, 13, R"(step `save`, `with.mode`: must be one of "append" or "replace", not "upsert")"));
  EXPECT_TRUE(has_diag(r, 16, 26, "step `save`, `with.rows[1].cpa`: must be a number, not a string"));
  EXPECT_EQ(r.diagnostics.size(), 5u) << dump(r);
}

TEST(Loader, TemplatedInputsAreLeftToRunTime) {
  const auto r = load(R"(id: demo
steps:
  - id: notify
    uses: core.log
    with: {message: "${{ run.id }}", level: "${{ run.workflow }}"}
  - id: save
    uses: sheets.append
    with:
      sheet: s
      max_rows: "${{ 10 * 2 }}"
      rows: "${{ steps.notify.output }}"
  - id: save_each
    uses: sheets.append
    with:
      sheet: "${{ run.id }}"
      rows:
        - {name: "${{ run.id }}", cpa: "${{ 1 + 1 }}"}
        - {name: "cpa is ${{ 2 }}"}
)");
  EXPECT_TRUE(r.ok()) << dump(r);
}

TEST(Loader, MissingInputsAreCheckedAsEmpty) {
  const auto r = load(R"(id: demo
steps:
  - id: notify
    uses: core.log
  - id: save
    uses: sheets.append
    with: {}
  - id: rows_without_names
    uses: sheets.append
    with: {sheet: s, rows: [{cpa: 1}]}
on_failure:
  - id: alert
    uses: core.log
    with:
)");
  EXPECT_TRUE(has_diag(r, 3, 5, "step `notify`, `with`: required property `message` is missing"));
  EXPECT_TRUE(has_diag(r, 7, 11, "step `save`, `with`: required property `sheet` is missing"));
  EXPECT_TRUE(has_diag(r, 7, 11, "step `save`, `with`: required property `rows` is missing"));
  EXPECT_TRUE(has_diag(r, 10, 29, "step `rows_without_names`, `with.rows[0]`: required property `name` is missing"));
  EXPECT_TRUE(has_diag(r, 14, 5, "on_failure step `alert`, `with`: required property `message` is missing"));
  EXPECT_EQ(r.diagnostics.size(), 5u) << dump(r);
}

TEST(Loader, SchemaProblemsComeWithTheOtherDiagnostics) {
  const auto r = load(R"(id: demo
steps:
  - id: notify
    uses: core.log
    timeout: 5x
    with: {message: [1], extra: true}
  - id: save
    uses: sheets.appendd
    with: {anything: 1}
  - id: later
    uses: sheets.append
    needs: [nope]
    with: {sheet: s, rows: [], max_rows: 1.5}
)");
  EXPECT_TRUE(has_diag(r, 5, 14, "`timeout` in step `notify`: `5x` is not a duration"));
  EXPECT_TRUE(has_diag(r, 6, 21, "step `notify`, `with.message`: must be a string, not an array"));
  EXPECT_TRUE(has_diag(r, 6, 26, "step `notify`, `with`: unknown property `extra`"));
  EXPECT_TRUE(has_diag(r, 8, 11, "unknown step kind `sheets.appendd`", "sheets.append"));
  EXPECT_TRUE(has_diag(r, 12, 13, "step `later` needs `nope`, which is not a step"));
  EXPECT_TRUE(has_diag(r, 13, 42, "step `later`, `with.max_rows`: must be an integer, not 1.5"));
  EXPECT_EQ(r.diagnostics.size(), 6u) << dump(r);
  for (std::size_t i = 1; i < r.diagnostics.size(); ++i) {
    EXPECT_LE(r.diagnostics[i - 1].where.line, r.diagnostics[i].where.line) << "file order";
  }
}

TEST(Loader, FileErrors) {
  const auto missing = load_fixture("does_not_exist.yaml");
  ASSERT_EQ(missing.diagnostics.size(), 1u);
  EXPECT_NE(missing.diagnostics[0].message.find("cannot read the file"), std::string::npos);
  // .lua files are workflows too: this one is read and validated (it has no steps).
  const auto lua = load_fixture("weekly_report.lua");
  ASSERT_EQ(lua.diagnostics.size(), 1u) << dump(lua);
  EXPECT_NE(lua.diagnostics[0].message.find("no `steps`"), std::string::npos) << dump(lua);
  // Other extensions are refused before the file is even looked for.
  const auto json = load_fixture("weekly_report.json");
  ASSERT_EQ(json.diagnostics.size(), 1u);
  EXPECT_NE(json.diagnostics[0].message.find(".yaml, .yml or .lua"), std::string::npos) << dump(json);
}

TEST(Loader, FileLargerThanTheLimitIsRefusedBeforeReading) {
  static const TestCatalog catalog;
  LoadLimits limits;
  limits.max_file_bytes = 10;
  const LoadContext ctx{catalog, expressions(), limits};
  const auto r = load_workflow_file(
      std::string(FLOWPILOT_SOURCE_DIR) + "/tests/engine/model/fixtures/cpa_guardrail.yaml", ctx);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_NE(r.diagnostics[0].message.find("the limit is 10"), std::string::npos);
  EXPECT_EQ(r.diagnostics[0].where.line, 0);
}

TEST(Loader, BuildWorkflowWorksOnAnyLocatedDocument) {
  // The Lua front end will hand documents built by other means to the same builder.
  static const TestCatalog catalog;
  const LoadContext ctx{catalog, expressions(), {}};
  LocatedDocument doc;
  doc.root = boost::json::parse(R"({"id": "lua-flow", "steps": [{"id": "a", "uses": "core.noop", "bogus": 1}]})");
  doc.locations["steps[0]"] = SourceLocation{"flow.lua", 3, 5};
  const auto r = build_workflow(doc, "flow.lua", "return {}", "lua", ctx);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].to_string(), "flow.lua:3:5: unknown key `bogus` in step `a`");
  doc.root.as_object()["steps"].as_array()[0].as_object().erase("bogus");
  const auto ok = build_workflow(doc, "flow.lua", "return {}", "lua", ctx);
  ASSERT_TRUE(ok.ok()) << dump(ok);
  EXPECT_EQ(ok.workflow->source_format, "lua");
}

}  // namespace
}  // namespace flowpilot::engine

namespace flowpilot::engine {
namespace {

TEST(LoaderInputs, AConnectionInputNamesItsTypeAndMustBeAString) {
  const auto ok = load(R"(id: demo
inputs:
  meta_connection: {type: string, default: meta-main, description: Meta ad account, connection: meta_ads}
steps:
  - id: fetch
    uses: core.noop
)");
  ASSERT_TRUE(ok.ok()) << dump(ok);
  EXPECT_EQ(ok.workflow->inputs.at(0).connection_type, "meta_ads");
  const auto bad = load(R"(id: demo
inputs:
  budget: {type: number, default: 5, connection: meta_ads}
steps:
  - id: fetch
    uses: core.noop
)");
  EXPECT_TRUE(has_diag(bad, 3, 50, "names a connection, so its type must be string"));
}

}  // namespace
}  // namespace flowpilot::engine
