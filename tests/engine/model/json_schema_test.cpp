#include "engine/schema/json_schema.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace flowpilot::engine {
namespace {

namespace json = boost::json;

std::shared_ptr<const JsonSchema> compile(std::string_view schema) {
  std::string error;
  auto compiled = JsonSchema::compile(json::parse(schema), &error);
  EXPECT_NE(compiled, nullptr) << error;
  EXPECT_TRUE(compiled == nullptr || error.empty()) << error;
  return compiled;
}

std::string dump(const std::vector<SchemaProblem>& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n  " + p.path + ": " + p.message;
  return out;
}

std::vector<SchemaProblem> check(const JsonSchema& schema, std::string_view value,
                                 std::string_view prefix = "with") {
  return schema.validate(json::parse(value), prefix);
}

// A step's input: a message, a level, a bounded integer, and rows of objects.
constexpr std::string_view kReport = R"({
  "type": "object",
  "required": ["message", "rows"],
  "additionalProperties": false,
  "properties": {
    "message": {"type": "string", "minLength": 1},
    "level": {"enum": ["info", "warn", "error"]},
    "max_rows": {"type": "integer", "minimum": 1, "maximum": 1000},
    "rows": {
      "type": "array",
      "items": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "cpa": {"type": "number", "minimum": 0}}
      }
    }
  }
})";

TEST(JsonSchema, InvalidSchemasDoNotCompile) {
  for (const char* bad : {R"({"type": 5})", R"({"type": "strnig"})", R"({"required": "x"})",
                          R"({"properties": {"a": {"pattern": "("}}})", R"({"$ref": "http://example.com/s.json"})",
                          R"([1, 2])", R"(5)"}) {
    std::string error;
    EXPECT_EQ(JsonSchema::compile(json::parse(bad), &error), nullptr) << bad;
    EXPECT_NE(error.find("not a valid JSON Schema"), std::string::npos) << bad << " → " << error;
  }
  // Without an error string it still just returns null.
  EXPECT_EQ(JsonSchema::compile(json::parse(R"({"type": 5})")), nullptr);
}

TEST(JsonSchema, ValidSchemasCompileAndKeepTheDocument) {
  auto schema = compile(kReport);
  ASSERT_NE(schema, nullptr);
  EXPECT_EQ(schema->document(), json::parse(kReport));
  EXPECT_NE(compile("true"), nullptr);
  EXPECT_NE(compile("{}"), nullptr);
  EXPECT_NE(compile(R"({"$schema": "http://json-schema.org/draft-04/schema#", "type": "number",
                        "minimum": 0, "exclusiveMinimum": true})"),
            nullptr);
}

TEST(JsonSchema, ValidValuesHaveNoProblems) {
  auto schema = compile(kReport);
  ASSERT_NE(schema, nullptr);
  EXPECT_TRUE(check(*schema, R"({"message": "hi", "rows": []})").empty());
  EXPECT_TRUE(check(*schema, R"({"message": "hi", "level": "warn", "max_rows": 10,
                                 "rows": [{"name": "a", "cpa": 1.5}, {"name": "b", "cpa": 0}]})")
                  .empty());
}

TEST(JsonSchema, TypeMismatchNamesBothTypes) {
  auto schema = compile(kReport);
  ASSERT_NE(schema, nullptr);
  auto problems = check(*schema, R"({"message": 5, "rows": {}})");
  ASSERT_EQ(problems.size(), 2u) << dump(problems);
  EXPECT_EQ(problems[0].path, "with.message");
  EXPECT_EQ(problems[0].message, "must be a string, not an integer");
  EXPECT_EQ(problems[1].path, "with.rows");
  EXPECT_EQ(problems[1].message, "must be an array, not an object");

  problems = check(*schema, R"({"message": "m", "rows": [], "max_rows": 2.5})");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].message, "must be an integer, not 2.5");

  auto either = compile(R"({"type": ["string", "null"]})");
  ASSERT_NE(either, nullptr);
  problems = check(*either, "true", "value");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].path, "value");
  EXPECT_EQ(problems[0].message, "must be a string or null, not a boolean");

  auto alternatives = compile(R"({"anyOf": [{"type": "string"}, {"type": "integer"}]})");
  ASSERT_NE(alternatives, nullptr);
  problems = check(*alternatives, "[]", "x");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].message, "must be a string or an integer, not an array");
}

TEST(JsonSchema, MissingRequiredProperties) {
  auto schema = compile(kReport);
  ASSERT_NE(schema, nullptr);
  auto problems = check(*schema, "{}");
  ASSERT_EQ(problems.size(), 2u) << dump(problems);
  EXPECT_EQ(problems[0].path, "with");
  EXPECT_EQ(problems[0].message, "required property `message` is missing");
  EXPECT_EQ(problems[1].path, "with");
  EXPECT_EQ(problems[1].message, "required property `rows` is missing");
}

TEST(JsonSchema, EveryUnknownPropertyWithTheAllowedNames) {
  auto schema = compile(kReport);
  ASSERT_NE(schema, nullptr);
  auto problems = check(*schema, R"({"message": "m", "rows": [], "mesage": 1, "extra": true})");
  ASSERT_EQ(problems.size(), 2u) << dump(problems);
  EXPECT_EQ(problems[0].path, "with");
  EXPECT_EQ(problems[0].message,
            "unknown property `mesage`; allowed: `message`, `level`, `max_rows` and `rows`");
  EXPECT_EQ(problems[1].message,
            "unknown property `extra`; allowed: `message`, `level`, `max_rows` and `rows`");

  auto closed = compile(R"({"additionalProperties": false})");
  ASSERT_NE(closed, nullptr);
  problems = check(*closed, R"({"a": 1})", "");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].path, "");
  EXPECT_EQ(problems[0].message, "unknown property `a`; no properties are allowed here");
}

TEST(JsonSchema, EnumListsTheChoices) {
  auto schema = compile(kReport);
  ASSERT_NE(schema, nullptr);
  auto problems = check(*schema, R"({"message": "m", "rows": [], "level": "debug"})");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].path, "with.level");
  EXPECT_EQ(problems[0].message, R"(must be one of "info", "warn" or "error", not "debug")");
}

TEST(JsonSchema, MinimumAndMaximum) {
  auto schema = compile(kReport);
  ASSERT_NE(schema, nullptr);
  auto problems = check(*schema, R"({"message": "m", "rows": [], "max_rows": 0})");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].path, "with.max_rows");
  EXPECT_EQ(problems[0].message, "must be at least 1, not 0");
  problems = check(*schema, R"({"message": "m", "rows": [], "max_rows": 5000})");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].message, "must be at most 1000, not 5000");

  auto exclusive = compile(R"({"type": "number", "exclusiveMinimum": 0.5, "exclusiveMaximum": 2})");
  ASSERT_NE(exclusive, nullptr);
  problems = check(*exclusive, "0.5", "v");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].message, "must be greater than 0.5, not 0.5");
  problems = check(*exclusive, "2", "v");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].message, "must be less than 2, not 2");
}

TEST(JsonSchema, OtherKeywordsReadAsSentences) {
  auto schema = compile(R"({"type": "object", "properties": {
      "code": {"type": "string", "pattern": "^[A-Z]{3}$", "maxLength": 3},
      "tags": {"type": "array", "minItems": 1, "uniqueItems": true},
      "kind": {"const": "ad"}}})");
  ASSERT_NE(schema, nullptr);
  auto problems = check(*schema, R"({"code": "abcd", "tags": [], "kind": "x"})");
  ASSERT_EQ(problems.size(), 4u) << dump(problems);
  EXPECT_EQ(problems[0].path, "with.code");
  EXPECT_EQ(problems[0].message, "must be at most 3 characters long");
  EXPECT_EQ(problems[1].message, "must match the pattern `^[A-Z]{3}$`");
  EXPECT_EQ(problems[2].path, "with.tags");
  EXPECT_EQ(problems[2].message, "must have at least 1 item");
  EXPECT_EQ(problems[3].path, "with.kind");
  EXPECT_EQ(problems[3].message, R"(must be "ad")");

  problems = check(*schema, R"({"tags": [1, 2, 1]})");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].message, "items [0] and [2] are the same; items must be unique");
}

TEST(JsonSchema, NestedArraysOfObjectsGetIndexedPaths) {
  auto schema = compile(kReport);
  ASSERT_NE(schema, nullptr);
  auto problems = check(*schema, R"({"message": "m", "rows": [{"name": "a", "cpa": 1},
                                                              {"name": "b", "cpa": "high"},
                                                              {"cpa": -2}]})");
  ASSERT_EQ(problems.size(), 3u) << dump(problems);
  EXPECT_EQ(problems[0].path, "with.rows[1].cpa");
  EXPECT_EQ(problems[0].message, "must be a number, not a string");
  EXPECT_EQ(problems[1].path, "with.rows[2]");
  EXPECT_EQ(problems[1].message, "required property `name` is missing");
  EXPECT_EQ(problems[2].path, "with.rows[2].cpa");
  EXPECT_EQ(problems[2].message, "must be at least 0, not -2");
}

TEST(JsonSchema, KeysThatLookLikeIndicesStayKeys) {
  auto schema = compile(R"({"properties": {"0": {"type": "string"}},
                            "additionalProperties": {"type": "integer"}})");
  ASSERT_NE(schema, nullptr);
  auto problems = check(*schema, R"({"0": 1, "x.y": "z"})", "");
  ASSERT_EQ(problems.size(), 2u) << dump(problems);
  EXPECT_EQ(problems[0].path, "0");
  EXPECT_EQ(problems[0].message, "must be a string, not an integer");
  EXPECT_EQ(problems[1].path, "x.y");
  EXPECT_EQ(problems[1].message, "must be an integer, not a string");
}

TEST(JsonSchema, ReferencesAreFollowedForMessages) {
  auto schema = compile(R"({"definitions": {"row": {"type": "object",
                                                    "properties": {"n": {"type": "integer"}}}},
                            "type": "array", "items": {"$ref": "#/definitions/row"}})");
  ASSERT_NE(schema, nullptr);
  auto problems = check(*schema, R"([{"n": 1}, {"n": "x"}])", "rows");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].path, "rows[1].n");
  EXPECT_EQ(problems[0].message, "must be an integer, not a string");
}

TEST(JsonSchema, ManyProblemsAtOnceWithoutParentSummaries) {
  auto schema = compile(kReport);
  ASSERT_NE(schema, nullptr);
  auto problems = check(*schema, R"({"level": 3, "max_rows": -1, "rows": [{"name": 1}, 7], "x": 0})");
  ASSERT_EQ(problems.size(), 6u) << dump(problems);
  // Document order: the object's own problems, then its members as written.
  EXPECT_EQ(problems[0].path, "with");
  EXPECT_EQ(problems[1].path, "with");
  EXPECT_EQ(problems[2].path, "with.level");
  EXPECT_EQ(problems[3].path, "with.max_rows");
  EXPECT_EQ(problems[4].path, "with.rows[0].name");
  EXPECT_EQ(problems[5].path, "with.rows[1]");
  for (const auto& p : problems) {
    EXPECT_EQ(p.message.find("Failed"), std::string::npos) << p.message;
    EXPECT_EQ(p.message.find("failed"), std::string::npos) << p.message;
  }
}

TEST(JsonSchema, ASummaryStaysWhenItIsTheOnlyProblem) {
  // `not` reports only itself; nothing is lost when there is no deeper problem.
  auto schema = compile(R"({"properties": {"a": {"not": {"type": "string"}}}})");
  ASSERT_NE(schema, nullptr);
  auto problems = check(*schema, R"({"a": "s"})");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].path, "with.a");
  EXPECT_EQ(problems[0].message, "has a form that is not allowed here");
}

TEST(JsonSchema, FalseSubschemasStillSayWhere) {
  // valijson reports nothing for a `false` schema itself, only its parent's summary.
  auto schema = compile(R"({"properties": {"a": false}, "items": false})");
  ASSERT_NE(schema, nullptr);
  auto problems = check(*schema, R"({"a": 1, "b": 2})");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].path, "with.a");
  EXPECT_EQ(problems[0].message, "is not allowed here");
  problems = check(*schema, "[1]");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].path, "with[0]");

  auto nothing = compile("false");
  ASSERT_NE(nothing, nullptr);
  problems = check(*nothing, "1");
  ASSERT_EQ(problems.size(), 1u) << dump(problems);
  EXPECT_EQ(problems[0].path, "with");
  EXPECT_EQ(problems[0].message, "is not allowed here");
}

TEST(JsonSchema, ConcurrentValidationWithOneSchema) {
  auto schema = compile(kReport);
  ASSERT_NE(schema, nullptr);
  const json::value good = json::parse(R"({"message": "m", "rows": [{"name": "a", "cpa": 3}]})");
  const json::value bad = json::parse(R"({"rows": [{"name": "a", "cpa": "x"}], "level": "no"})");
  const auto expected_bad = schema->validate(bad, "with");
  ASSERT_EQ(expected_bad.size(), 3u) << dump(expected_bad);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (!schema->validate(good, "with").empty()) ++mismatches;
        const auto problems = schema->validate(bad, "with");
        if (problems.size() != expected_bad.size()) {
          ++mismatches;
          continue;
        }
        for (std::size_t k = 0; k < problems.size(); ++k) {
          if (problems[k].path != expected_bad[k].path ||
              problems[k].message != expected_bad[k].message) {
            ++mismatches;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace flowpilot::engine
