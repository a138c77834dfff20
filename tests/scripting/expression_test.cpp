#include "scripting/expression.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <optional>
#include <string>

namespace flowpilot::scripting {
namespace {

namespace json = boost::json;

class ExpressionTest : public ::testing::Test {
 protected:
  ExpressionTest()
      : inputs_(json::parse(R"({"target_cpa": 40, "dry_run": false, "name": "Berlin",
                                "ratio": 0.5, "big": 18446744073709551615, "nothing": null})")),
        steps_(json::parse(R"({"x": {"output": {"rows": [
                   {"campaign_id": "c1", "cpa": 55.5},
                   {"campaign_id": "c2", "cpa": null},
                   {"campaign_id": "c3", "cpa": 12}
               ]}, "status": "succeeded"}})")) {
    scope_.bind("inputs", inputs_);
    scope_.bind("steps", steps_);
  }

  EvalResult eval(std::string_view expression) { return engine_.evaluate(expression, scope_); }

  json::value ok(std::string_view expression) {
    EvalResult result = eval(expression);
    EXPECT_TRUE(result.ok()) << expression << ": " << (result.ok() ? "" : result.error().message);
    return result.ok() ? result.value() : json::value();
  }

  EvalError err(std::string_view expression) {
    EvalResult result = eval(expression);
    EXPECT_FALSE(result.ok()) << expression << " gave " << json::serialize(result.value());
    return result.ok() ? EvalError{} : result.error();
  }

  ExpressionEngine engine_{Limits{}, 2};
  json::value inputs_;
  json::value steps_;
  Scope scope_;
};

TEST_F(ExpressionTest, ArithmeticKeepsNumberTypes) {
  EXPECT_EQ(ok("1 + 2"), json::value(3));
  EXPECT_TRUE(ok("1 + 2").is_int64());
  EXPECT_EQ(ok("40 / 1"), json::value(40));  // a float with an integral value becomes an int
  EXPECT_TRUE(ok("40 / 1").is_int64());
  EXPECT_EQ(ok("7 / 2"), json::value(3.5));
  EXPECT_EQ(ok("2^53"), json::value(std::int64_t{9007199254740992}));
  EXPECT_TRUE(ok("2^60").is_double());  // beyond 2^53 a float is not exact: keep it a float
  EXPECT_EQ(ok("'a' .. 'b'"), json::value("ab"));
  EXPECT_EQ(ok("1 < 2"), json::value(true));
  EXPECT_TRUE(ok("nil").is_null());
  EXPECT_EQ(ok("math.max(3, 9, 4)"), json::value(9));
  EXPECT_EQ(ok("string.upper('abc')"), json::value("ABC"));
  EXPECT_EQ(ok("('x'):rep(3)"), json::value("xxx"));
  EXPECT_EQ(ok("utf8.len('häh')"), json::value(3));
  EXPECT_EQ(ok("table.concat({1, 2, 3}, ',')"), json::value("1,2,3"));
}

TEST_F(ExpressionTest, TablesBecomeArraysOrObjects) {
  EXPECT_EQ(ok("{1, 2, 3}"), json::parse("[1,2,3]"));
  EXPECT_EQ(ok("{}"), json::parse("[]"));
  EXPECT_EQ(ok("{a = 1, b = {true, false}}"), json::parse(R"({"a":1,"b":[true,false]})"));
  EXPECT_EQ(ok("{[1] = 'a', [3] = 'c'}"), json::parse(R"({"1":"a","3":"c"})"));
  EXPECT_EQ(ok("{[0] = 'z', [1] = 'a'}"), json::parse(R"({"0":"z","1":"a"})"));
  EXPECT_EQ(ok("{[-1] = 'n', [2] = 'b'}"), json::parse(R"({"-1":"n","2":"b"})"));
  EXPECT_EQ(ok("{1, 2, x = 3}"), json::parse(R"({"1":1,"2":2,"x":3})"));
}

TEST_F(ExpressionTest, ContextAccess) {
  EXPECT_EQ(ok("inputs.target_cpa"), json::value(40));
  EXPECT_EQ(ok("inputs.name"), json::value("Berlin"));
  EXPECT_EQ(ok("inputs.ratio * 2"), json::value(1));
  EXPECT_EQ(ok("not inputs.dry_run"), json::value(true));
  EXPECT_EQ(ok("#steps.x.output.rows"), json::value(3));
  EXPECT_EQ(ok("steps.x.output.rows[1].cpa"), json::value(55.5));
  EXPECT_EQ(ok("steps.x.output.rows[3].campaign_id"), json::value("c3"));
  EXPECT_TRUE(ok("steps.x.output.rows[4]").is_null());
  EXPECT_TRUE(ok("steps.x.output.rows[0]").is_null());
  EXPECT_TRUE(ok("steps.x.output.rows.cpa").is_null());  // string key on an array
  EXPECT_TRUE(ok("steps.x.missing").is_null());
  EXPECT_TRUE(ok("inputs.nothing == nil").as_bool());
  EXPECT_EQ(ok("#steps.x"), json::value(2));  // objects report their number of keys
  // A uint64 that does not fit a Lua integer arrives as a float.
  EXPECT_TRUE(ok("math.type(inputs.big) == 'float'").as_bool());
}

TEST_F(ExpressionTest, FilterWithNullField) {
  json::value row_null = json::parse(R"({"cpa": null})");
  json::value row_high = json::parse(R"({"cpa": 55})");
  json::value row_low = json::parse(R"({"cpa": 20})");
  const char* where = "row.cpa ~= nil and row.cpa > inputs.target_cpa";
  for (auto [row, expected] : {std::pair{&row_null, false}, {&row_high, true}, {&row_low, false}}) {
    Scope scope = scope_;
    scope.bind("row", *row);
    EvalResult result = engine_.evaluate(where, scope);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result.value(), json::value(expected)) << json::serialize(*row);
  }
}

TEST_F(ExpressionTest, ViewsIterateWithPairsAndIpairs) {
  EXPECT_EQ(ok("(function() local n = 0 for i, r in ipairs(steps.x.output.rows) do "
               "n = n + i end return n end)()"),
            json::value(6));
  EXPECT_EQ(ok("(function() local ids = {} for _, r in ipairs(steps.x.output.rows) do "
               "ids[#ids + 1] = r.campaign_id end return table.concat(ids, ' ') end)()"),
            json::value("c1 c2 c3"));
  EXPECT_EQ(ok("(function() local keys = {} for k, v in pairs(inputs) do keys[#keys + 1] = k end "
               "table.sort(keys) return table.concat(keys, ',') end)()"),
            json::value("big,dry_run,name,nothing,ratio,target_cpa"));
  EXPECT_EQ(ok("(function() local s = 0 for k, v in pairs(steps.x.output.rows) do s = s + k end "
               "return s end)()"),
            json::value(6));
  EXPECT_EQ(ok("table.concat({table.unpack(steps.x.output.rows[1].campaign_id and {1, 2})}, '')"),
            json::value("12"));
}

TEST_F(ExpressionTest, ViewsLookLikeTables) {
  EXPECT_EQ(ok("type(inputs)"), json::value("table"));
  EXPECT_EQ(ok("type(steps.x.output.rows)"), json::value("table"));
  EXPECT_EQ(ok("type(secrets)"), json::value("table"));
  EXPECT_EQ(ok("type(1)"), json::value("number"));
  EXPECT_EQ(ok("tostring(steps.x.output.rows[3])"),
            json::value(R"({"campaign_id":"c3","cpa":12})"));
  EXPECT_EQ(ok("steps.x.output.rows[1] == steps.x.output.rows[1]"), json::value(true));
  EXPECT_EQ(ok("steps.x.output.rows[1] == steps.x.output.rows[2]"), json::value(false));
  EXPECT_EQ(ok("table.concat({'a', 'b'}, tostring(#steps.x.output.rows))"), json::value("a3b"));
}

TEST_F(ExpressionTest, ViewsReturnAsCopiesOfTheirJson) {
  EXPECT_EQ(ok("steps.x.output.rows"), steps_.at("x").at("output").at("rows"));
  EXPECT_EQ(ok("{first = steps.x.output.rows[1], n = 1}"),
            json::parse(R"({"first":{"campaign_id":"c1","cpa":55.5},"n":1})"));
}

TEST_F(ExpressionTest, ContextValuesAreReadOnly) {
  EvalError e = err("(function() inputs.target_cpa = 1 end)()");
  EXPECT_EQ(e.kind, EvalError::Kind::runtime);
  EXPECT_EQ(e.message, "context values are read-only");
  EXPECT_EQ(err("(function() steps.x.output.rows[1] = 1 end)()").message,
            "context values are read-only");
  EXPECT_NE(err("table.insert(steps.x.output.rows, 1)").message.find("read-only"),
            std::string::npos);
  EXPECT_NE(err("setmetatable(inputs, {})").message.find("table expected"), std::string::npos);
  EXPECT_EQ(ok("getmetatable(inputs)"), json::value(false));
  // The data is unchanged afterwards.
  EXPECT_EQ(ok("inputs.target_cpa"), json::value(40));
}

TEST_F(ExpressionTest, SecretsResolveThroughTheScope) {
  scope_.set_secret_resolver([](std::string_view name) -> std::optional<std::string> {
    if (name == "HOOK_SECRET") return std::string("s3cr3t");
    return std::nullopt;
  });
  EXPECT_EQ(ok("secrets.HOOK_SECRET"), json::value("s3cr3t"));
  EXPECT_EQ(ok("#secrets.HOOK_SECRET"), json::value(6));
  EvalError unknown = err("secrets.NOPE");
  EXPECT_EQ(unknown.kind, EvalError::Kind::runtime);
  EXPECT_EQ(unknown.message, "unknown secret `NOPE`");
  EXPECT_EQ(err("(function() secrets.X = 1 end)()").message, "secrets are read-only");
  EXPECT_EQ(err("(function() for k in pairs(secrets) do end end)()").message,
            "secrets cannot be listed");
  EXPECT_EQ(err("secrets").message, "the secrets object cannot be part of a result");
}

TEST_F(ExpressionTest, SecretsWithoutResolverAreUnknown) {
  EXPECT_EQ(err("secrets.ANY").message, "unknown secret `ANY`");
}

TEST_F(ExpressionTest, ResolverExceptionsBecomeErrors) {
  scope_.set_secret_resolver(
      [](std::string_view) -> std::optional<std::string> { throw std::runtime_error("vault"); });
  EXPECT_EQ(err("secrets.A").message, "the secret store failed to resolve `A`");
  EXPECT_EQ(ok("1"), json::value(1));
}

TEST_F(ExpressionTest, SecretsBindingCannotBeSpoofedByData) {
  json::value fake = json::parse(R"({"TOKEN": "from-data"})");
  scope_.bind("secrets", fake);
  EXPECT_EQ(err("secrets.TOKEN").message, "unknown secret `TOKEN`");
}

TEST_F(ExpressionTest, CompileErrorsArePlainSentences) {
  EvalError e = err("1 +");
  EXPECT_EQ(e.kind, EvalError::Kind::compile);
  EXPECT_EQ(e.message.find("[string"), std::string::npos) << e.message;
  EXPECT_EQ(e.message.find("expression:"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("unexpected symbol"), std::string::npos) << e.message;
  EXPECT_EQ(err("   ").message, "the expression is empty");
  EXPECT_EQ(err("").kind, EvalError::Kind::compile);
  // Statements are not expressions; there is no fallback to running them.
  EXPECT_EQ(err("x = 1").kind, EvalError::Kind::compile);
  EXPECT_EQ(err("return 1").kind, EvalError::Kind::compile);
  // A trailing comment does not swallow the closing parenthesis.
  EXPECT_EQ(ok("1 + 1 -- two"), json::value(2));
}

TEST_F(ExpressionTest, RuntimeErrorsKeepLuaText) {
  EvalError e = err("inputs.x.y");
  EXPECT_EQ(e.kind, EvalError::Kind::runtime);
  EXPECT_EQ(e.message, "attempt to index a nil value (field 'x')");
  EXPECT_EQ(err("error('boom')").message, "boom");
  EXPECT_EQ(err("error({})").message, "error object is a table value");
  EXPECT_EQ(err("error(setmetatable({}, {__tostring = function() return 'custom' end}))").message,
            "custom");
  EXPECT_EQ(err("1 + {}").message, "attempt to perform arithmetic on a table value");
}

TEST_F(ExpressionTest, MultiLineErrorsNameTheLine) {
  EvalError e = err("(function()\n  local a = nil\n  return a.b\nend)()");
  EXPECT_EQ(e.message, "line 3: attempt to index a nil value (local 'a')");
}

TEST_F(ExpressionTest, ConversionErrors) {
  EvalError f = err("function() end");
  EXPECT_EQ(f.kind, EvalError::Kind::conversion);
  EXPECT_EQ(f.message, "result contains a function value, which has no JSON form");
  EXPECT_EQ(err("0/0").message, "result contains a number that is not finite (NaN or infinity)");
  EXPECT_EQ(err("{x = math.huge}").kind, EvalError::Kind::conversion);
  EXPECT_EQ(err("'\\xff\\xfe'").message, "result is not valid UTF-8 text");
  EXPECT_EQ(err("{['\\xc0\\x80'] = 1}").kind, EvalError::Kind::conversion);
  EXPECT_EQ(err("{[true] = 1}").message,
            "result has a table key of type boolean; only string and integer keys become JSON");
  EXPECT_EQ(err("{[1.5] = 1}").kind, EvalError::Kind::conversion);
  EXPECT_EQ(ok("'h\\xc3\\xa9'"), json::value("h\xc3\xa9"));
}

TEST_F(ExpressionTest, CheckCompilesWithoutRunning) {
  EXPECT_EQ(engine_.check("1 + 2"), std::nullopt);
  EXPECT_EQ(engine_.check("error('not run')"), std::nullopt);
  EXPECT_EQ(engine_.check("(function() while true do end end)()"), std::nullopt);
  std::optional<std::string> bad = engine_.check("1 +* 2");
  ASSERT_TRUE(bad.has_value());
  EXPECT_NE(bad->find("unexpected symbol"), std::string::npos) << *bad;
  EXPECT_EQ(bad->find("expression:"), std::string::npos) << *bad;
  EXPECT_TRUE(engine_.check("").has_value());
  EXPECT_TRUE(engine_.check("\x1bLuaT\x00").has_value());
}

TEST_F(ExpressionTest, CacheServesRepeatedAndManyExpressions) {
  // More distinct expressions than the per-state cache holds; each must still evaluate correctly
  // after the cache is cleared.
  ExpressionEngine engine(Limits{}, 1);
  Scope scope;
  for (int i = 0; i < 4200; ++i) {
    EvalResult result = engine.evaluate(std::to_string(i) + " + 1", scope);
    ASSERT_TRUE(result.ok()) << i;
    ASSERT_EQ(result.value(), json::value(i + 1));
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(engine.evaluate("3 * 3", scope).value(), json::value(9));
  }
}

TEST_F(ExpressionTest, ScopeBindReplacesSameName) {
  json::value one(1);
  json::value two(2);
  Scope scope;
  scope.bind("n", one);
  scope.bind("n", two);
  ASSERT_EQ(scope.bindings().size(), 1u);
  EXPECT_EQ(engine_.evaluate("n", scope).value(), json::value(2));
}

TEST_F(ExpressionTest, ScalarBindings) {
  json::value index(3);
  json::value item("abc");
  json::value flag(true);
  json::value null_value;
  Scope scope;
  scope.bind("index", index);
  scope.bind("item", item);
  scope.bind("flag", flag);
  scope.bind("none", null_value);
  EXPECT_EQ(engine_.evaluate("index * 2", scope).value(), json::value(6));
  EXPECT_EQ(engine_.evaluate("item:upper()", scope).value(), json::value("ABC"));
  EXPECT_EQ(engine_.evaluate("flag and 1 or 2", scope).value(), json::value(1));
  EXPECT_EQ(engine_.evaluate("none == nil", scope).value(), json::value(true));
}

TEST(EvalErrorKind, Names) {
  EXPECT_EQ(to_string(EvalError::Kind::compile), "compile");
  EXPECT_EQ(to_string(EvalError::Kind::runtime), "runtime");
  EXPECT_EQ(to_string(EvalError::Kind::instruction_limit), "instruction_limit");
  EXPECT_EQ(to_string(EvalError::Kind::memory_limit), "memory_limit");
  EXPECT_EQ(to_string(EvalError::Kind::time_limit), "time_limit");
  EXPECT_EQ(to_string(EvalError::Kind::conversion), "conversion");
}

}  // namespace
}  // namespace flowpilot::scripting

namespace flowpilot::scripting {
namespace {

// Plain paths are read without Lua; wrapped in parentheses they go through Lua. Both must give
// the same value or the same error, whatever the path meets.
TEST(ExpressionPathTest, PathsAnswerWhatLuaAnswers) {
  const json::value data = json::parse(R"({
      "body": {"n": 1, "f": 2.0, "g": 2.5, "s": "text", "t": true, "z": null, "u": 18446744073709551615,
               "list": [1, {"a": 2}], "empty": {}, "none": [], "end": 1, "_x1": {"deep": {"er": "y"}}},
      "n": 7})");
  json::value bad_text = json::string("\xff\xfe");
  json::value secrets = json::parse(R"({"TOKEN": "from-data"})");
  const json::value null_value;
  Scope scope;
  scope.bind("trigger", data);
  scope.bind("raw", bad_text);
  scope.bind("secrets", secrets);
  scope.bind("nothing", null_value);
  scope.set_secret_resolver([](std::string_view name) -> std::optional<std::string> {
    if (name == "TOKEN") return "s3cr3t";
    return std::nullopt;
  });
  ExpressionEngine engine(Limits{}, 1);
  for (const char* path :
       {"trigger", "trigger.body", "trigger.n", "trigger.body.n", "trigger.body.f", "trigger.body.g",
        "trigger.body.s", "trigger.body.t", "trigger.body.z", "trigger.body.u", "trigger.body.list",
        "trigger.body.empty", "trigger.body.none", "trigger.body._x1.deep.er", "trigger.body.missing",
        "trigger.body.missing.x", "trigger.body.s.len", "trigger.body.n.x", "trigger.body.end",
        "trigger.body.list.a", "raw", "secrets.TOKEN", "secrets", "_G.trigger.n", "nothing",
        "nothing.x", "unbound", "unbound.x", "string", "trigger..n", "trigger.", "trigger.1",
        "trigger.body._x1"}) {
    const EvalResult direct = engine.evaluate(path, scope);
    const EvalResult through_lua = engine.evaluate("(" + std::string(path) + ")", scope);
    ASSERT_EQ(direct.ok(), through_lua.ok()) << path;
    if (direct.ok()) {
      EXPECT_EQ(direct.value(), through_lua.value()) << path;
      EXPECT_EQ(direct.value().kind(), through_lua.value().kind()) << path;
    } else {
      EXPECT_EQ(direct.error().message, through_lua.error().message) << path;
    }
  }
  // The plain path never entered Lua: it succeeds where Lua has no time at all.
  const Limits none{1, 16u << 20, std::chrono::milliseconds(0)};
  EXPECT_EQ(engine.evaluate("trigger.body.list", scope, none).value(), data.at("body").at("list"));
  EXPECT_FALSE(engine.evaluate("(trigger.body.list)", scope, none).ok());
}

}  // namespace
}  // namespace flowpilot::scripting
