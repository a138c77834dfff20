#include "engine/model/workflow.h"

#include <gtest/gtest.h>

namespace flowpilot::engine {
namespace {

TEST(Diagnostic, FormatsFileLineColumnAndSuggestion) {
  const Diagnostic d{SourceLocation{"wf.yaml", 5, 7}, "unknown key `neeeds` in step `fetch`",
                     "needs"};
  EXPECT_EQ(d.to_string(), "wf.yaml:5:7: unknown key `neeeds` in step `fetch` (did you mean `needs`?)");
}

TEST(Diagnostic, WithoutSuggestion) {
  const Diagnostic d{SourceLocation{"wf.yaml", 2, 1}, "bad thing", ""};
  EXPECT_EQ(d.to_string(), "wf.yaml:2:1: bad thing");
}

TEST(Diagnostic, LineZeroMeansWholeFile) {
  const Diagnostic d{SourceLocation{"wf.yaml", 0, 0}, "the file is empty", ""};
  EXPECT_EQ(d.to_string(), "wf.yaml: the file is empty");
}

Workflow sample() {
  Workflow wf;
  wf.source_file = "wf.yaml";
  StepSpec a;
  a.id = "a";
  StepSpec b;
  b.id = "b";
  wf.steps = {a, b};
  StepSpec alert;
  alert.id = "alert";
  wf.on_failure = {alert};
  wf.locations[""] = SourceLocation{"wf.yaml", 1, 1};
  wf.locations["steps"] = SourceLocation{"wf.yaml", 3, 3};
  wf.locations["steps[1]"] = SourceLocation{"wf.yaml", 5, 5};
  wf.locations["steps[1].with"] = SourceLocation{"wf.yaml", 7, 7};
  return wf;
}

TEST(Workflow, FindStepLooksInStepsAndOnFailure) {
  const Workflow wf = sample();
  ASSERT_NE(wf.find_step("b"), nullptr);
  EXPECT_EQ(wf.find_step("b")->id, "b");
  ASSERT_NE(wf.find_step("alert"), nullptr);
  EXPECT_EQ(wf.find_step("alert"), &wf.on_failure[0]);
  EXPECT_EQ(wf.find_step("zzz"), nullptr);
}

TEST(Workflow, LocationOfExactPath) {
  const Workflow wf = sample();
  EXPECT_EQ(wf.location_of("steps[1].with").line, 7);
}

TEST(Workflow, LocationOfFallsBackToTheLongestKnownPrefix) {
  const Workflow wf = sample();
  EXPECT_EQ(wf.location_of("steps[1].with.account_id").line, 7);
  EXPECT_EQ(wf.location_of("steps[1].with.rows[3].x").line, 7);
  EXPECT_EQ(wf.location_of("steps[1].needs").line, 5);
  EXPECT_EQ(wf.location_of("steps[0].uses").line, 3);
  EXPECT_EQ(wf.location_of("outputs.x").line, 1);
}

TEST(Workflow, LocationOfWithoutAnyLocationIsTheFile) {
  Workflow wf;
  wf.source_file = "x.yaml";
  const auto where = wf.location_of("steps[0]");
  EXPECT_EQ(where.file, "x.yaml");
  EXPECT_EQ(where.line, 0);
}

TEST(Workflow, EnumNames) {
  EXPECT_EQ(to_string(InputType::string), "string");
  EXPECT_EQ(to_string(InputType::number), "number");
  EXPECT_EQ(to_string(InputType::integer), "integer");
  EXPECT_EQ(to_string(InputType::boolean), "boolean");
  EXPECT_EQ(to_string(InputType::object), "object");
  EXPECT_EQ(to_string(InputType::array), "array");
  EXPECT_EQ(to_string(OnLimit::queue), "queue");
  EXPECT_EQ(to_string(OnLimit::skip), "skip");
  EXPECT_EQ(to_string(OnLimit::cancel_running), "cancel_running");
}

}  // namespace
}  // namespace flowpilot::engine
