#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <string>

#include "scripting/expression.h"

namespace flowpilot::scripting {
namespace {

namespace json = boost::json;
using Kind = EvalError::Kind;

class SandboxTest : public ::testing::Test {
 protected:
  EvalResult eval(std::string_view expression) { return engine_.evaluate(expression, scope_); }

  EvalError err(std::string_view expression) {
    EvalResult result = eval(expression);
    EXPECT_FALSE(result.ok()) << expression << " gave " << json::serialize(result.value());
    return result.ok() ? EvalError{} : result.error();
  }

  // The engine keeps working after whatever the previous expression did.
  void expect_healthy() {
    EvalResult result = eval("1 + 1");
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result.value(), json::value(2));
  }

  // One state, so every evaluation in a test runs in the same Lua state as the one before.
  ExpressionEngine engine_{Limits{}, 1};
  Scope scope_;
};

TEST_F(SandboxTest, DangerousGlobalsAreAbsent) {
  const std::pair<const char*, const char*> cases[] = {
      {"io.open('/etc/passwd')", "attempt to index a nil value (global 'io')"},
      {"os.execute('true')", "attempt to index a nil value (global 'os')"},
      {"package.loadlib('libc.so.6', 'system')", "attempt to index a nil value (global 'package')"},
      {"require('os')", "attempt to call a nil value (global 'require')"},
      {"debug.getregistry()", "attempt to index a nil value (global 'debug')"},
      {"dofile('/etc/passwd')", "attempt to call a nil value (global 'dofile')"},
      {"loadfile('/etc/passwd')", "attempt to call a nil value (global 'loadfile')"},
      {"load('return 1')", "attempt to call a nil value (global 'load')"},
      {"loadstring('return 1')", "attempt to call a nil value (global 'loadstring')"},
      {"string.dump(function() end)", "attempt to call a nil value (field 'dump')"},
      {"('').dump(function() end)", "attempt to call a nil value (field 'dump')"},
      {"collectgarbage('stop')", "attempt to call a nil value (global 'collectgarbage')"},
      {"print('x')", "attempt to call a nil value (global 'print')"},
      {"rawset(string, 'x', 1)", "attempt to call a nil value (global 'rawset')"},
      {"coroutine.create(print)", "attempt to index a nil value (global 'coroutine')"},
  };
  for (const auto& [expression, message] : cases) {
    EvalError e = err(expression);
    EXPECT_EQ(e.kind, Kind::runtime) << expression;
    EXPECT_EQ(e.message, message) << expression;
  }
}

TEST_F(SandboxTest, BytecodeIsRefused) {
  const std::string bytecode("\x1bLuaT\x00\x19\x93\r\n\x1a\n", 12);
  EvalError e = err(bytecode);
  EXPECT_EQ(e.kind, Kind::compile);
  EXPECT_NE(e.message.find("bytecode"), std::string::npos) << e.message;
  // Embedded after other text, it is just an invalid character.
  EXPECT_EQ(err("1 + " + bytecode).kind, Kind::compile);
  expect_healthy();
}

TEST_F(SandboxTest, InfiniteLoopHitsInstructionLimit) {
  EvalError e = err("(function() while true do end end)()");
  EXPECT_EQ(e.kind, Kind::instruction_limit);
  EXPECT_EQ(e.message, "expression exceeded 1,000,000 instructions");
  expect_healthy();
}

TEST_F(SandboxTest, PcallCannotSwallowTheInstructionLimit) {
  EXPECT_EQ(err("pcall(function() while true do end end)").kind, Kind::instruction_limit);
  EXPECT_EQ(
      err("(function() while true do pcall(function() while true do end end) end end)()").kind,
      Kind::instruction_limit);
  EXPECT_EQ(err("select(2, xpcall(function() while true do end end, "
                "function() while true do end end))")
                .kind,
            Kind::instruction_limit);
  // A handler that loops on an ordinary error is stopped by the hook as usual.
  EXPECT_EQ(
      err("select(2, xpcall(function() error('x') end, function() while true do end end))").kind,
      Kind::instruction_limit);
  // To-be-closed variables run while unwinding, with the hook still in force.
  EXPECT_EQ(err("xpcall(function() local x <close> = setmetatable({}, {__close = function() "
                "while true do end end}) while true do end end, function() return 1 end)")
                .kind,
            Kind::instruction_limit);
  EXPECT_EQ(err("(function() local ok = pcall(function() while true do end end) "
                "return ok and 'caught' or 'not caught' end)()")
                .kind,
            Kind::instruction_limit);
  expect_healthy();
}

TEST_F(SandboxTest, XpcallHandlersStillWork) {
  EvalResult result = eval(
      "select(2, xpcall(function() error('x', 0) end, function(m) return 'handled ' .. m end))");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result.value(), json::value("handled x"));
}

TEST_F(SandboxTest, LowerInstructionLimitIsHonoured) {
  Limits limits;
  limits.max_instructions = 5000;
  EvalResult result = engine_.evaluate(
      "(function() local s = 0 for i = 1, 100000 do s = s + i end return s end)()", scope_, limits);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, Kind::instruction_limit);
  EXPECT_EQ(result.error().message, "expression exceeded 5,000 instructions");
  // The same loop fits the default budget.
  EXPECT_EQ(
      eval("(function() local s = 0 for i = 1, 1000 do s = s + i end return s end)()").value(),
      json::value(500500));
}

TEST_F(SandboxTest, WallTimeLimit) {
  Limits limits;
  limits.max_instructions = std::uint64_t{1} << 62;
  limits.max_wall_time = std::chrono::milliseconds(50);
  EvalResult result = engine_.evaluate("(function() while true do end end)()", scope_, limits);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, Kind::time_limit);
  EXPECT_EQ(result.error().message, "expression exceeded the time limit of 50 ms");
  expect_healthy();
}

TEST_F(SandboxTest, HugeStringHitsMemoryLimit) {
  EvalError e = err("string.rep('x', 2^31 - 1)");
  EXPECT_EQ(e.kind, Kind::memory_limit);
  EXPECT_EQ(e.message, "expression exceeded the memory limit of 16 MiB");
  expect_healthy();
  EXPECT_EQ(err("#(string.rep('x', 2^24) .. string.rep('y', 2^24))").kind, Kind::memory_limit);
  expect_healthy();
  // Lua's string library refuses 2^31 bytes itself, before allocating.
  EvalError too_large = err("string.rep('x', 2^31)");
  EXPECT_EQ(too_large.kind, Kind::runtime);
  EXPECT_EQ(too_large.message, "resulting string too large");
  expect_healthy();
}

TEST_F(SandboxTest, GrowingTableHitsMemoryLimit) {
  EvalError e =
      err("(function() local t = {} local i = 0 while true do i = i + 1 "
          "t[i] = string.rep('x', 1024) .. i end end)()");
  EXPECT_EQ(e.kind, Kind::memory_limit) << e.message;
  expect_healthy();
}

TEST_F(SandboxTest, MemoryLimitCanBeLowered) {
  Limits limits;
  limits.max_memory_bytes = 256 * 1024;
  EvalResult result = engine_.evaluate("#string.rep('x', 1024 * 1024)", scope_, limits);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, Kind::memory_limit);
  EXPECT_EQ(result.error().message, "expression exceeded the memory limit of 256 KiB");
  EXPECT_EQ(eval("#string.rep('x', 1024 * 1024)").value(), json::value(1024 * 1024));
}

TEST_F(SandboxTest, CaughtAllocationFailureStaysWithinTheCap) {
  // pcall may catch a refused allocation; nothing was allocated, so evaluation goes on.
  EvalResult result = eval("(pcall(string.rep, 'x', 2^30))");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result.value(), json::value(false));
  expect_healthy();
}

TEST_F(SandboxTest, GlobalsDoNotLeakBetweenEvaluations) {
  ASSERT_TRUE(eval("(function() leaked = 42; _G.also = 1 return leaked end)()").ok());
  EXPECT_TRUE(eval("leaked").value().is_null());
  EXPECT_TRUE(eval("also").value().is_null());
  ASSERT_TRUE(eval("(function() type = nil; tostring = nil end)()").ok());
  EXPECT_EQ(eval("type(1)").value(), json::value("number"));
}

TEST_F(SandboxTest, LibraryTablesAreReadOnly) {
  EvalError e = err("(function() string.upper = function() return 'pwned' end end)()");
  EXPECT_EQ(e.message, "library tables are read-only");
  EXPECT_EQ(err("(function() math.pi = 3 end)()").message, "library tables are read-only");
  EXPECT_EQ(err("table.insert(string, 1)").message, "library tables are read-only");
  EXPECT_EQ(err("setmetatable(string, nil)").message, "cannot change a protected metatable");
  EXPECT_EQ(eval("string.upper('a')").value(), json::value("A"));
  EXPECT_EQ(eval("math.pi > 3.14").value(), json::value(true));
  // pairs still lists a library without handing out the real table.
  EXPECT_EQ(eval("(function() local n = 0 for k, v in pairs(math) do n = n + 1 end "
                 "return n > 20 end)()")
                .value(),
            json::value(true));
}

TEST_F(SandboxTest, StringMetatableIsLocked) {
  EXPECT_EQ(eval("getmetatable('')").value(), json::value(false));
  EvalError e = err("(function() getmetatable('').__index = nil end)()");
  EXPECT_EQ(e.kind, Kind::runtime);
  EXPECT_NE(e.message.find("attempt to index a boolean value"), std::string::npos) << e.message;
  EXPECT_EQ(err("setmetatable('', {})").kind, Kind::runtime);
  EXPECT_EQ(eval("('abc'):upper()").value(), json::value("ABC"));
}

TEST_F(SandboxTest, EnvironmentMetatableChangesDoNotLeak) {
  // Run A tries to redirect global lookups; run B sees the normal environment.
  EXPECT_EQ(err("setmetatable(_G, {__index = function() return 'pwned' end})").message,
            "cannot change a protected metatable");
  EXPECT_EQ(eval("getmetatable(_G)").value(), json::value(false));
  EXPECT_TRUE(eval("undefined_name").value().is_null());
  // A metatable an expression sets on its own table stays with that table.
  ASSERT_TRUE(eval("setmetatable({}, {__index = function() return 'x' end}).y").ok());
  EXPECT_TRUE(eval("({}).y").value().is_null());
}

TEST_F(SandboxTest, FinalizersAreRefused) {
  EvalError e = err("setmetatable({}, {__gc = function() while true do end end})");
  EXPECT_EQ(e.message, "__gc metamethods are not allowed in the sandbox");
  expect_healthy();
}

TEST_F(SandboxTest, CyclicResultIsAConversionError) {
  EvalError e = err("(function() local t = {} t.self = t return t end)()");
  EXPECT_EQ(e.kind, Kind::conversion);
  EXPECT_EQ(e.message, "result contains a cycle (a table that contains itself)");
  EXPECT_EQ(err("(function() local a, b = {}, {} a[1] = b b[1] = a return a end)()").message,
            "result contains a cycle (a table that contains itself)");
  // Sharing without a cycle is fine.
  EXPECT_EQ(eval("(function() local t = {1} return {t, t} end)()").value(),
            json::parse("[[1],[1]]"));
}

TEST_F(SandboxTest, ResultConversionIgnoresMetamethods) {
  json::value result =
      eval(
          "setmetatable({a = 1}, {__index = function() error('index') end, "
          "__pairs = function() error('pairs') end, __len = function() error('len') end})")
          .value();
  EXPECT_EQ(result, json::parse(R"({"a":1})"));
}

TEST_F(SandboxTest, DeepResultIsRefused) {
  EvalError e = err("(function() local t = {} for i = 1, 200 do t = {t} end return t end)()");
  EXPECT_EQ(e.kind, Kind::conversion);
  EXPECT_EQ(e.message, "result is nested too deeply (more than 100 levels)");
}

TEST_F(SandboxTest, SharedTableExplosionIsRefused) {
  // 60 levels of a table listing its child twice: 2^60 leaves if copied naively.
  EvalError e = err("(function() local t = {1} for i = 1, 60 do t = {t, t} end return t end)()");
  EXPECT_EQ(e.kind, Kind::conversion);
  EXPECT_EQ(e.message, "result is too large to convert to JSON");
}

TEST_F(SandboxTest, UnpackOfHugeRangeIsACleanError) {
  EvalError e = err("table.unpack({}, 1, 1e8)");
  EXPECT_EQ(e.kind, Kind::runtime);
  EXPECT_NE(e.message.find("too many results"), std::string::npos) << e.message;
  expect_healthy();
}

TEST_F(SandboxTest, DeepRecursionIsACleanError) {
  EvalError e = err("(function() local function f(n) return 1 + f(n + 1) end return f(1) end)()");
  EXPECT_TRUE(e.kind == Kind::runtime || e.kind == Kind::memory_limit) << e.message;
  if (e.kind == Kind::runtime) {
    EXPECT_NE(e.message.find("stack overflow"), std::string::npos) << e.message;
  }
  expect_healthy();
}

TEST_F(SandboxTest, MetamethodRecursionInCIsACleanError) {
  EvalError e = err("setmetatable({}, {__index = function(t, k) return t[k] end}).x");
  EXPECT_EQ(e.kind, Kind::runtime);
  EXPECT_NE(e.message.find("stack overflow"), std::string::npos) << e.message;
  expect_healthy();
}

TEST_F(SandboxTest, CatastrophicPatternsAreRefusedBeforeMatching) {
  // Without the guard this runs for minutes inside C, out of the hook's reach.
  const auto start = std::chrono::steady_clock::now();
  for (const char* expression :
       {"string.find(string.rep('a', 3000), '.-.-.-b')", "('a'):rep(100000):match('.-.-b')",
        "select(2, ('a'):rep(100000):gsub('[^,]*,', ''))",
        "(function() for w in ('a'):rep(100000):gmatch('^.-.-b') do end end)()"}) {
    EvalError e = err(expression);
    EXPECT_EQ(e.kind, Kind::runtime) << expression;
    EXPECT_NE(e.message.find("pattern is too expensive"), std::string::npos) << e.message;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // pcall can catch the refusal; nothing ran.
  EXPECT_EQ(eval("(pcall(string.find, ('a'):rep(3000), '.-.-.-b'))").value(), json::value(false));
  // Plain find has no pattern.
  EXPECT_EQ(eval("string.find(('a'):rep(100000) .. '.-', '.-', 1, true)").value(),
            json::value(100001));
}

TEST_F(SandboxTest, PatternsAndFormatsWork) {
  EXPECT_EQ(eval("('  trim me  '):match('^%s*(.-)%s*$')").value(), json::value("trim me"));
  EXPECT_EQ(eval("(function() local t = {} for k, v in ('a=1, b=2'):gmatch('(%w+)=(%w+)') do "
                 "t[#t + 1] = k .. v end return table.concat(t, ' ') end)()")
                .value(),
            json::value("a1 b2"));
  EXPECT_EQ(eval("('(a(b)c) d'):match('%b()')").value(), json::value("(a(b)c)"));
  EXPECT_EQ(eval("select(2, ('x'):rep(10000):gsub('x', 'y'))").value(), json::value(10000));
  EXPECT_EQ(eval("string.format('%05.1f|%s', 3.14159, 'x')").value(), json::value("003.1|x"));
  EXPECT_EQ(eval("('a,b,c'):gsub(',', ';')").value(), json::value("a;b;c"));
  EXPECT_EQ(eval("select('#', 1, 2, 3)").value(), json::value(3));
}

TEST_F(SandboxTest, ExtraResultsAreIgnored) {
  // `1), (2` closes our own parenthesis; the chunk then returns two values and only the first
  // counts. It cannot smuggle in a statement: nothing may follow `return` but `;`.
  EXPECT_EQ(eval("1), (2").value(), json::value(1));
  EXPECT_EQ(err("1); os.exit(").kind, Kind::compile);
}

}  // namespace
}  // namespace flowpilot::scripting
