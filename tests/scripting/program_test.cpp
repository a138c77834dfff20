#include "scripting/program.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace flowpilot::scripting {
namespace {

namespace json = boost::json;
using Kind = EvalError::Kind;

class ProgramTest : public ::testing::Test {
 protected:
  ProgramOutcome run(std::string_view code) { return run_program(engine_, code, scope_, options_); }

  json::value value(std::string_view code) {
    ProgramOutcome outcome = run(code);
    if (const auto* error = std::get_if<ProgramError>(&outcome)) {
      ADD_FAILURE() << code << "\nfailed: " << error->message << " (line " << error->line << ")";
      return nullptr;
    }
    return std::get<ProgramResult>(outcome).value;
  }

  ProgramError error(std::string_view code) {
    ProgramOutcome outcome = run(code);
    if (const auto* result = std::get_if<ProgramResult>(&outcome)) {
      ADD_FAILURE() << code << "\ngave " << json::serialize(result->value);
      return {};
    }
    return std::get<ProgramError>(outcome);
  }

  // The state (there is only one) still works after whatever the previous program did.
  void expect_healthy() {
    EXPECT_EQ(value("local t = {} for i = 1, 3 do t[i] = i * i end return t"),
              json::parse("[1,4,9]"));
    EvalResult result = engine_.evaluate("1 + 1", scope_);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result.value(), json::value(2));
  }

  ProgramTest() { options_.chunk_name = "step `score`"; }

  ExpressionEngine engine_{Limits{}, 1};
  Scope scope_;
  ProgramOptions options_;
};

TEST_F(ProgramTest, StatementsLoopsAndFunctionsBuildTables) {
  EXPECT_EQ(value(R"(
    local function square(x) return x * x end
    local rows = {}
    for i = 1, 3 do rows[#rows + 1] = {n = i, sq = square(i)} end
    local total = 0
    while total < 10 do total = total + 4 end
    return {rows = rows, total = total, flag = i == nil}
  )"),
            json::parse(R"({"rows":[{"n":1,"sq":1},{"n":2,"sq":4},{"n":3,"sq":9}],
                            "total":12,"flag":true})"));
}

TEST_F(ProgramTest, ReturningNothingGivesNull) {
  EXPECT_EQ(value("local x = 1"), json::value(nullptr));
  EXPECT_EQ(value(""), json::value(nullptr));
  EXPECT_EQ(value("return 1, 2"), json::value(1));
}

TEST_F(ProgramTest, ReadsContextAsReadOnlyViews) {
  const json::value inputs = json::parse(R"({"target":40,"rows":[{"cpa":10},{"cpa":50}]})");
  scope_.bind("inputs", inputs);
  scope_.set_secret_resolver([](std::string_view name) -> std::optional<std::string> {
    if (name == "TOKEN") return std::string("s3cret");
    return std::nullopt;
  });
  EXPECT_EQ(value(R"(
    local over = {}
    for _, row in ipairs(inputs.rows) do
      if row.cpa > inputs.target then over[#over + 1] = row.cpa end
    end
    return {over = over, secret_length = #secrets.TOKEN}
  )"),
            json::parse(R"({"over":[50],"secret_length":6})"));
  ProgramError e = error("inputs.target = 1");
  EXPECT_EQ(e.message, "context values are read-only");
  EXPECT_EQ(e.line, 1);
  EXPECT_EQ(inputs.at("target"), json::value(40));
}

TEST_F(ProgramTest, GlobalsDoNotLeakBetweenRuns) {
  EXPECT_EQ(value("counter = 41 return counter"), json::value(41));
  EXPECT_EQ(value("return counter"), json::value(nullptr));
}

TEST_F(ProgramTest, PrintAndLogGoToTheSinkWithLevels) {
  std::vector<std::pair<std::string, std::string>> lines;
  options_.log = [&](std::string_view level, std::string_view message) {
    lines.emplace_back(level, message);
  };
  value(R"(
    print("a", 1, nil, true)
    log.debug("d")
    log.info("i", 2.5)
    log.warn("w")
    log.error("e", {} ~= nil)
  )");
  const std::vector<std::pair<std::string, std::string>> expected = {{"info", "a\t1\tnil\ttrue"},
                                                                     {"debug", "d"},
                                                                     {"info", "i\t2.5"},
                                                                     {"warn", "w"},
                                                                     {"error", "e\ttrue"}};
  EXPECT_EQ(lines, expected);
}

TEST_F(ProgramTest, SecretValuesAreMaskedInTheLog) {
  std::vector<std::string> lines;
  options_.log = [&](std::string_view, std::string_view message) { lines.emplace_back(message); };
  scope_.set_secret_resolver([](std::string_view name) -> std::optional<std::string> {
    if (name == "TOKEN") return std::string("tok-123");
    if (name == "LONG") return std::string("tok-123-extra");
    return std::nullopt;
  });
  value(
      "local t = secrets.TOKEN\nlocal l = secrets.LONG\n"
      "print('token', t, 'again:' .. t)\nlog.warn(l)\nprint('no secret here')");
  const std::vector<std::string> expected = {"token\t***\tagain:***", "***", "no secret here"};
  EXPECT_EQ(lines, expected);
  EXPECT_EQ(error("error('bad token ' .. secrets.TOKEN)").message, "bad token ***");
  // The next program has not read the secrets: nothing to mask.
  lines.clear();
  value("print('tok-123')");
  EXPECT_EQ(lines, std::vector<std::string>{"tok-123"});
}

TEST_F(ProgramTest, PrintWithoutSinkIsDiscarded) {
  EXPECT_EQ(value("print('x') return 1"), json::value(1));
}

TEST_F(ProgramTest, AThrowingSinkBecomesAnError) {
  options_.log = [](std::string_view, std::string_view) { throw std::runtime_error("disk full"); };
  EXPECT_EQ(error("print('x')").message, "the log could not take the message");
  expect_healthy();
}

TEST_F(ProgramTest, PrintIsNotAvailableInExpressions) {
  EvalResult result = engine_.evaluate("print", scope_);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result.value().is_null());
}

TEST_F(ProgramTest, RuntimeErrorsCarryTheLine) {
  ProgramError e = error("local a = 1\nlocal b = 2\nerror('boom')\n");
  EXPECT_EQ(e.kind, Kind::runtime);
  EXPECT_EQ(e.message, "boom");
  EXPECT_EQ(e.line, 3);

  e = error("local t = nil\n\nreturn t.x");
  EXPECT_EQ(e.message, "attempt to index a nil value (local 't')");
  EXPECT_EQ(e.line, 3);

  // Errors raised by library functions point at the calling line.
  e = error("\nlocal x = string.rep()");
  EXPECT_EQ(e.line, 2);
  EXPECT_NE(e.message.find("bad argument #1 to 'rep'"), std::string::npos) << e.message;

  // A rethrown error keeps the line where it first happened.
  e = error("local ok, err = pcall(function()\n error('inner')\nend)\n\nerror(err)");
  EXPECT_EQ(e.message, "inner");
  EXPECT_EQ(e.line, 2);

  // error() with a table has no position in the message; the line comes from the stack.
  e = error("\n\nerror({})");
  EXPECT_EQ(e.message, "error object is a table value");
  EXPECT_EQ(e.line, 3);
}

TEST_F(ProgramTest, CompileErrorsCarryTheLine) {
  ProgramError e = error("local x = 1\nlocal y = = 2\n");
  EXPECT_EQ(e.kind, Kind::compile);
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.message, "unexpected symbol near '='");
}

TEST_F(ProgramTest, LongChunkNamesAreMatchedAsLuaShortensThem) {
  options_.chunk_name = "workflows/" + std::string(80, 'x') + ".lua";
  ProgramError e = error("\nerror('boom')");
  EXPECT_EQ(e.message, "boom");
  EXPECT_EQ(e.line, 2);
}

TEST_F(ProgramTest, InstructionLimitNamesTheLimit) {
  options_.limits = Limits{200'000, 64u << 20, std::chrono::milliseconds(10'000)};
  ProgramError e = error("local n = 0\nwhile true do n = n + 1 end");
  EXPECT_EQ(e.kind, Kind::instruction_limit);
  EXPECT_EQ(e.message, "exceeded 200,000 instructions");
  EXPECT_EQ(e.line, 2);
  expect_healthy();
}

TEST_F(ProgramTest, DefaultLimitsAreTheProgramLimits) {
  ProgramError e = error("while true do end");
  EXPECT_EQ(e.kind, Kind::instruction_limit);
  EXPECT_EQ(e.message, "exceeded 50,000,000 instructions");
  expect_healthy();
}

TEST_F(ProgramTest, MemoryLimitNamesTheLimit) {
  ProgramError e = error("local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end");
  EXPECT_EQ(e.kind, Kind::memory_limit);
  EXPECT_EQ(e.message, "exceeded the memory limit of 64 MiB");
  e = error("return string.rep('x', 2^31)");
  EXPECT_TRUE(e.kind == Kind::memory_limit || e.kind == Kind::runtime) << e.message;
  e = error("local s = 'x' while true do s = s .. s end");
  EXPECT_EQ(e.kind, Kind::memory_limit);
  expect_healthy();
}

TEST_F(ProgramTest, TimeLimitNamesTheLimit) {
  options_.limits = Limits{1'000'000'000'000, 64u << 20, std::chrono::milliseconds(50)};
  ProgramError e = error("while true do end");
  EXPECT_EQ(e.kind, Kind::time_limit);
  EXPECT_EQ(e.message, "exceeded the time limit of 50 ms");
  expect_healthy();
}

TEST_F(ProgramTest, PcallCannotSwallowALimit) {
  options_.limits = Limits{100'000, 64u << 20, std::chrono::milliseconds(10'000)};
  ProgramError e = error("for i = 1, 10 do pcall(function() while true do end end) end return 1");
  EXPECT_EQ(e.kind, Kind::instruction_limit);
  expect_healthy();
}

TEST_F(ProgramTest, LocateRecordsLinesOfNestedTables) {
  options_.enable_locate = true;
  ProgramOutcome outcome = run(R"(local wf = locate {
  id = "demo",
  steps = {
    locate { id = "a" },
    { id = "b" },
    locate {
      id = "c",
      with = { items = { locate { x = 1 } } },
    },
  },
}
return wf)");
  ASSERT_TRUE(std::holds_alternative<ProgramResult>(outcome))
      << std::get<ProgramError>(outcome).message;
  const auto& result = std::get<ProgramResult>(outcome);
  const std::map<std::string, int> expected = {
      {"", 1}, {"steps[0]", 4}, {"steps[2]", 6}, {"steps[2].with.items[0]", 8}};
  EXPECT_EQ(result.lines, expected);
  EXPECT_EQ(result.value.at("steps").at(1).at("id"), json::value("b"));
}

TEST_F(ProgramTest, LocateInsideAPreludeHelperReportsTheProgramLine) {
  options_.enable_locate = true;
  options_.prelude = "function step(t)\n  t.kind = 'step'\n  return locate(t)\nend\n";
  ProgramOutcome outcome = run("return {\n  steps = {\n    step { id = 'a' },\n  },\n}");
  ASSERT_TRUE(std::holds_alternative<ProgramResult>(outcome))
      << std::get<ProgramError>(outcome).message;
  const auto& result = std::get<ProgramResult>(outcome);
  EXPECT_EQ(result.lines, (std::map<std::string, int>{{"steps[0]", 3}}));
  EXPECT_EQ(result.value, json::parse(R"({"steps":[{"id":"a","kind":"step"}]})"));
}

TEST_F(ProgramTest, LocateIsAbsentUnlessEnabled) {
  EXPECT_EQ(error("return locate({})").message, "attempt to call a nil value (global 'locate')");
  options_.enable_locate = true;
  EXPECT_EQ(error("return locate(1)").message, "locate: argument 1 must be a table");
}

TEST_F(ProgramTest, PreludeRunsFirstInTheSameEnvironment) {
  options_.prelude = "helper_value = 20\nfunction double(x) return 2 * x end";
  EXPECT_EQ(value("return double(helper_value) + 2"), json::value(42));
  options_.prelude = "\nerror('bad prelude')";
  ProgramError e = error("return 1");
  EXPECT_EQ(e.message, "prelude:2: bad prelude");
  // An error inside a prelude helper keeps the prelude's position in the message and reports the
  // program line that called the helper.
  options_.prelude = "function fail()\n  error('boom')\nend";
  e = error("local a = 1\n\nfail()");
  EXPECT_EQ(e.message, "prelude:2: boom");
  EXPECT_EQ(e.line, 3);
  options_.prelude = "x = = 1";
  EXPECT_EQ(error("return 1").kind, Kind::compile);
  options_.prelude.clear();
  EXPECT_EQ(value("return helper_value"), json::value(nullptr));
}

TEST_F(ProgramTest, ResultsThatCannotBeJsonAreConversionErrors) {
  ProgramError e = error("local t = {} t.self = t return t");
  EXPECT_EQ(e.kind, Kind::conversion);
  EXPECT_EQ(e.message, "result contains a cycle (a table that contains itself)");
  // Metamethods are not consulted: the table converts as what it holds.
  EXPECT_EQ(value("return setmetatable({a = 1}, {__index = function() error('x') end, "
                  "__pairs = function() error('y') end, __len = function() error('z') end, "
                  "__tostring = function() error('w') end})"),
            json::parse(R"({"a":1})"));
  expect_healthy();
}

TEST(CheckProgramTest, ReportsCompileErrorsWithoutRunning) {
  EXPECT_EQ(check_program("while true do end\nreturn 1", "code"), std::nullopt);
  std::optional<ProgramError> e = check_program("local x = 1\nlocal y = = 2\n", "code");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, Kind::compile);
  EXPECT_EQ(e->line, 2);
  EXPECT_EQ(e->message, "unexpected symbol near '='");
  e = check_program("\n\nx = ", "workflows/" + std::string(80, 'x') + ".lua");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->line, 3);
  EXPECT_EQ(e->message, "unexpected symbol near <eof>");
  e = check_program(std::string("\x1bLua\x54", 5), "code");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->message, "precompiled Lua bytecode is not accepted; programs must be text");
}

TEST_F(ProgramTest, ProgramsAndExpressionsShareThePoolAcrossThreads) {
  for (const std::size_t threads : {2u, 4u, 8u}) {
    ExpressionEngine engine(Limits{}, 2);
    const json::value inputs = json::parse(R"({"start":"2024-03-30T10:00:00+01:00"})");
    std::vector<std::thread> workers;
    std::vector<int> failures(threads, 0);
    for (std::size_t t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        Scope scope;
        scope.bind("inputs", inputs);
        ProgramOptions options;
        options.chunk_name = "worker";
        for (int i = 0; i < 50; ++i) {
          ProgramOutcome outcome =
              run_program(engine,
                          "return date.add(inputs.start, {days = 1}, 'Europe/Berlin') .. "
                          "money.format(money.mul(money.parse('1.10'), 3))",
                          scope, options);
          const auto* result = std::get_if<ProgramResult>(&outcome);
          if (result == nullptr || result->value != json::value("2024-03-31T10:00:00+02:003.30")) {
            ++failures[t];
          }
          EvalResult expression = engine.evaluate("date.parse(inputs.start)", scope);
          if (!expression.ok() || expression.value() != json::value(1711789200)) ++failures[t];
        }
      });
    }
    for (std::thread& worker : workers) worker.join();
    for (std::size_t t = 0; t < threads; ++t) EXPECT_EQ(failures[t], 0) << threads << "/" << t;
  }
}

}  // namespace
}  // namespace flowpilot::scripting
