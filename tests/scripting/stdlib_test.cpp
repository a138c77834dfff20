// The data-work library (json, date, string, table, money) in expressions and programs.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "scripting/expression.h"
#include "scripting/program.h"

namespace flowpilot::scripting {
namespace {

namespace json = boost::json;

class StdlibTest : public ::testing::Test {
 protected:
  StdlibTest() {
    scope_.bind("data", data_);
    options_.chunk_name = "test";
  }

  json::value eval(std::string_view expression) {
    EvalResult result = engine_.evaluate(expression, scope_);
    if (!result.ok()) {
      ADD_FAILURE() << expression << "\nfailed: " << result.error().message;
      return nullptr;
    }
    return result.value();
  }

  std::string eval_error(std::string_view expression) {
    EvalResult result = engine_.evaluate(expression, scope_);
    if (result.ok()) {
      ADD_FAILURE() << expression << "\ngave " << json::serialize(result.value());
      return {};
    }
    return result.error().message;
  }

  json::value program(std::string_view code) {
    ProgramOutcome outcome = run_program(engine_, code, scope_, options_);
    if (const auto* error = std::get_if<ProgramError>(&outcome)) {
      ADD_FAILURE() << code << "\nfailed: " << error->message;
      return nullptr;
    }
    return std::get<ProgramResult>(outcome).value;
  }

  std::string program_error(std::string_view code) {
    ProgramOutcome outcome = run_program(engine_, code, scope_, options_);
    if (const auto* result = std::get_if<ProgramResult>(&outcome)) {
      ADD_FAILURE() << code << "\ngave " << json::serialize(result->value);
      return {};
    }
    return std::get<ProgramError>(outcome).message;
  }

  const json::value data_ = json::parse(R"({
    "rows": [
      {"campaign": "a", "channel": "meta", "spend": 10, "cpa": 30},
      {"campaign": "b", "channel": "google", "spend": 5, "cpa": 50},
      {"campaign": "c", "channel": "meta", "spend": 7, "cpa": 30},
      {"campaign": "d", "channel": "google", "spend": 1}
    ],
    "numbers": [3, 1, 2]
  })");
  ExpressionEngine engine_{Limits{}, 1};
  Scope scope_;
  ProgramOptions options_;
};

TEST_F(StdlibTest, JsonEncodeAndDecode) {
  EXPECT_EQ(eval(R"(json.encode({a = 1, b = {true, "x"}}))").as_string().size(), 22u);
  EXPECT_EQ(eval(R"(json.encode({1, 2.5, "q\""}))"), json::value(R"([1,2.5,"q\""])"));
  EXPECT_EQ(eval("json.encode(data.numbers)"), json::value("[3,1,2]"));
  EXPECT_EQ(eval("json.encode({})"), json::value("[]"));
  EXPECT_EQ(eval(R"(json.decode('{"a":[1,2,{"b":null}],"c":"d"}').a[2])"), json::value(2));
  EXPECT_EQ(eval(R"(json.decode('[1, 2, 3]')[3] + 1)"), json::value(4));
  EXPECT_EQ(program(R"(local t = json.decode('{"n": 1}') t.n = t.n + 1 return t)"),
            json::parse(R"({"n":2})"));
  EXPECT_EQ(eval(R"(json.decode(json.encode({x = "é"})).x)"), json::value("é"));
}

TEST_F(StdlibTest, JsonRejectsBadInput) {
  EXPECT_EQ(eval_error("json.decode('{')").rfind("json.decode: the text is not valid JSON", 0), 0u);
  EXPECT_EQ(eval_error("json.decode(1)"), "json.decode: argument 1 must be a string");
  EXPECT_EQ(eval_error("json.encode(function() end)"),
            "json.encode: result contains a function value, which has no JSON form");
  EXPECT_EQ(program_error("local t = {} t[1] = t return json.encode(t)"),
            "json.encode: result contains a cycle (a table that contains itself)");
  EXPECT_NE(eval_error("json.decode(string.rep('[', 200) .. string.rep(']', 200))")
                .find("not valid JSON"),
            std::string::npos);
}

TEST_F(StdlibTest, DateParseAcceptsIsoForms) {
  EXPECT_EQ(eval("date.parse('2024-05-01')"), json::value(1714521600));
  EXPECT_EQ(eval("date.parse('2024-05-01T10:00:00Z')"), json::value(1714557600));
  EXPECT_EQ(eval("date.parse('2024-05-01T10:00:00+02:00')"), json::value(1714550400));
  EXPECT_EQ(eval("date.parse('2024-05-01T10:00:00-0130')"), json::value(1714563000));
  EXPECT_EQ(eval("date.parse('2024-05-01 10:00')"), json::value(1714557600));
  EXPECT_EQ(eval("date.parse('2024-05-01T10:00:00.250Z')"), json::value(1714557600.25));
}

TEST_F(StdlibTest, DateParseRejectsBadInput) {
  const char* bad[] = {"2024-13-01",
                       "2024-02-30",
                       "2024-05-01T25:00",
                       "yesterday",
                       "2024-05-01T10:00:00+2",
                       "2024-05-01T10:00:00Zjunk",
                       ""};
  for (const char* text : bad) {
    const std::string message = eval_error(std::string("date.parse('") + text + "')");
    EXPECT_NE(message.find("is not an ISO-8601 date or time"), std::string::npos) << text;
  }
  EXPECT_EQ(eval_error("date.parse(12)"), "date.parse: argument 1 must be an ISO-8601 string");
  EXPECT_EQ(eval_error("date.parse({})"),
            "date.parse: argument 1 must be a time (an ISO-8601 string or seconds since the "
            "epoch)");
}

TEST_F(StdlibTest, DateFormatInAZone) {
  EXPECT_EQ(eval("date.format('2024-05-01T10:00:00Z')"), json::value("2024-05-01T10:00:00+00:00"));
  EXPECT_EQ(eval("date.format(1714557600, '%d.%m.%Y %H:%M', 'Europe/Berlin')"),
            json::value("01.05.2024 12:00"));
  EXPECT_EQ(eval("date.format('2024-01-15T12:00:00Z', '%H:%M %Z', 'America/New_York')"),
            json::value("07:00 EST"));
  EXPECT_EQ(eval("date.format('2024-07-15T12:00:00Z', nil, 'America/New_York')"),
            json::value("2024-07-15T08:00:00-04:00"));
  EXPECT_EQ(eval_error("date.format(0, '%Y', 'Mars/Olympus')"),
            "date.format: unknown time zone `Mars/Olympus`; use an IANA name such as "
            "Europe/Berlin");
  // Zone names are looked up among the known zones, never opened as paths.
  for (const char* name : {"../../../etc/passwd", "/usr/share/zoneinfo/UTC", ""}) {
    EXPECT_EQ(eval_error(std::string("date.format(0, nil, '") + name + "')")
                  .rfind("date.format: unknown time zone", 0),
              0u)
        << name;
  }
  EXPECT_EQ(eval_error("date.format(0, 5)"), "date.format: argument 2 must be a string");
  EXPECT_EQ(eval_error("date.format(1e300)"),
            "date.format: argument 1 is not a time within years 0 to 9999");
}

TEST_F(StdlibTest, DateAddKeepsWallClockAcrossDstInBerlin) {
  // Spring forward: 2024-03-31 02:00 → 03:00 in Europe/Berlin.
  EXPECT_EQ(eval("date.add('2024-03-30T10:00:00+01:00', {days = 1}, 'Europe/Berlin')"),
            json::value("2024-03-31T10:00:00+02:00"));
  EXPECT_EQ(eval("date.add('2024-03-30T10:00:00+01:00', {hours = 24}, 'Europe/Berlin')"),
            json::value("2024-03-31T11:00:00+02:00"));
  // Fall back: 2024-10-27 03:00 → 02:00.
  EXPECT_EQ(eval("date.add('2024-10-26T10:00:00+02:00', {days = 1}, 'Europe/Berlin')"),
            json::value("2024-10-27T10:00:00+01:00"));
  // A wall-clock time the change skips maps to the moment of the change.
  EXPECT_EQ(eval("date.add('2024-03-30T02:30:00+01:00', {days = 1}, 'Europe/Berlin')"),
            json::value("2024-03-31T03:00:00+02:00"));
  // Numbers in, numbers out.
  EXPECT_EQ(eval("date.add(date.parse('2024-03-30T09:00:00Z'), {days = 1}, 'Europe/Berlin') - "
                 "date.parse('2024-03-30T09:00:00Z')"),
            json::value(23 * 3600));
}

TEST_F(StdlibTest, DateAddInNewYorkAndCalendarUnits) {
  // Spring forward: 2024-03-10 02:00 → 03:00 in America/New_York.
  EXPECT_EQ(eval("date.add('2024-03-09T09:00:00-05:00', {days = 1}, 'America/New_York')"),
            json::value("2024-03-10T09:00:00-04:00"));
  EXPECT_EQ(eval("date.add('2024-11-02T09:00:00-04:00', {weeks = 1}, 'America/New_York')"),
            json::value("2024-11-09T09:00:00-05:00"));
  EXPECT_EQ(eval("date.add('2024-01-31T00:00:00Z', {months = 1})"),
            json::value("2024-02-29T00:00:00+00:00"));
  EXPECT_EQ(eval("date.add('2024-02-29', {years = 1, minutes = 90})"),
            json::value("2025-02-28T01:30:00+00:00"));
  EXPECT_EQ(eval("date.add(0, {seconds = -1})"), json::value(-1));
}

TEST_F(StdlibTest, DateAddRejectsBadInput) {
  EXPECT_EQ(eval_error("date.add(0, 5)"),
            "date.add: argument 2 must be a table such as {days = 1, hours = 2}");
  EXPECT_EQ(eval_error("date.add(0, {fortnights = 1})"),
            "date.add: unknown unit fortnights; use years, months, weeks, days, hours, minutes "
            "or seconds");
  EXPECT_EQ(eval_error("date.add(0, {days = 1.5})"), "date.add: days must be a whole number");
  EXPECT_EQ(
      eval_error("date.add(0, {days = 1}, 'Nowhere')").rfind("date.add: unknown time zone", 0), 0u);
  EXPECT_EQ(eval_error("date.add(0, {years = 2000000})"), "date.add: years is out of range");
  EXPECT_EQ(eval_error("date.add(0, {years = 100000})"),
            "date.add: the result is outside years 0 to 9999");
}

TEST_F(StdlibTest, DateDiff) {
  EXPECT_EQ(eval("date.diff('2024-05-02', '2024-05-01', 'days')"), json::value(1));
  EXPECT_EQ(eval("date.diff('2024-05-01T01:30:00Z', '2024-05-01', 'hours')"), json::value(1.5));
  EXPECT_EQ(eval("date.diff('2024-05-01', '2024-05-01T00:10:00Z', 'minutes')"), json::value(-10));
  EXPECT_EQ(eval("date.diff(100, 40)"), json::value(60));
  EXPECT_EQ(eval_error("date.diff(1, 2, 'weeks')"),
            "date.diff: argument 3 must be \"days\", \"hours\", \"minutes\" or \"seconds\"");
}

TEST_F(StdlibTest, NowAndTodayOnlyInPrograms) {
  EXPECT_EQ(eval("date.now"), json::value(nullptr));
  EXPECT_EQ(eval("date.today"), json::value(nullptr));
  const json::value now = program("return date.now()");
  ASSERT_TRUE(now.is_number());
  EXPECT_GT(now.to_number<double>(), 1.7e9);
  const json::value today = program("return date.today('Europe/Berlin')");
  ASSERT_TRUE(today.is_string());
  EXPECT_EQ(today.as_string().size(), 10u);
  EXPECT_EQ(program("return date.parse(date.today()) <= date.now()"), json::value(true));
  EXPECT_EQ(program_error("return date.today('Nowhere')").rfind("date.today: unknown time zone", 0),
            0u);
}

TEST_F(StdlibTest, StringHelpersAsFunctionsAndMethods) {
  EXPECT_EQ(eval("string.split('a,b,,c', ',')"), json::parse(R"(["a","b","","c"])"));
  EXPECT_EQ(eval("('a::b'):split('::')"), json::parse(R"(["a","b"])"));
  EXPECT_EQ(eval("('a.b'):split('.')"), json::parse(R"(["a","b"])"));  // plain, not a pattern
  EXPECT_EQ(eval("('abc'):split(',')"), json::parse(R"(["abc"])"));
  EXPECT_EQ(eval("(''):split(',')"), json::parse(R"([""])"));
  EXPECT_EQ(eval("string.trim('  x y \\t\\n')"), json::value("x y"));
  EXPECT_EQ(eval("('   '):trim()"), json::value(""));
  EXPECT_EQ(eval("('1.5%'):replace('%', ' percent')"), json::value("1.5 percent"));
  EXPECT_EQ(eval("string.replace('aaa', 'a', 'aa')"), json::value("aaaaaa"));
  EXPECT_EQ(eval("string.replace('a.b.c', '.', '')"), json::value("abc"));
}

TEST_F(StdlibTest, StringHelpersRejectBadInput) {
  EXPECT_EQ(eval_error("string.split('a', '')"), "string.split: the separator must not be empty");
  EXPECT_EQ(eval_error("string.split({}, ',')"), "string.split: argument 1 must be a string");
  EXPECT_EQ(eval_error("string.trim(1)"), "string.trim: argument 1 must be a string");
  EXPECT_EQ(eval_error("string.replace('a', '', 'b')"),
            "string.replace: the text to replace must not be empty");
  EXPECT_EQ(eval_error("string.replace('a', 'a')"), "string.replace: argument 3 must be a string");
  EXPECT_EQ(eval_error("string.replace(string.rep('a', 4000), 'a', string.rep('b', 8000))"),
            "expression exceeded the memory limit of 16 MiB");
}

TEST_F(StdlibTest, StringLibraryStaysReadOnly) {
  EXPECT_EQ(program_error("string.split = nil"), "library tables are read-only");
  EXPECT_EQ(program_error("json.encode = print"), "library tables are read-only");
  EXPECT_EQ(program_error("date.now = nil"), "library tables are read-only");
  EXPECT_EQ(program_error("table.sort_by = nil"), "library tables are read-only");
  EXPECT_EQ(eval("('a,b'):split(',')[2]"), json::value("b"));
}

TEST_F(StdlibTest, TableMapAndFilterOnViewsAndTables) {
  EXPECT_EQ(eval("table.map(data.numbers, function(x, i) return x * 10 + i end)"),
            json::parse("[31,12,23]"));
  EXPECT_EQ(eval("table.map({1, 2}, function(x) return {x = x} end)"),
            json::parse(R"([{"x":1},{"x":2}])"));
  EXPECT_EQ(eval("table.filter(data.rows, function(r) return r.cpa ~= nil and r.cpa > 40 end)"),
            json::parse(R"([{"campaign":"b","channel":"google","spend":5,"cpa":50}])"));
  EXPECT_EQ(eval("table.filter({5, 6, 7}, function(x, i) return i ~= 2 end)"),
            json::parse("[5,7]"));
  EXPECT_EQ(eval("table.map({}, tostring)"), json::parse("[]"));
}

TEST_F(StdlibTest, TableGroupBySumAndSortBy) {
  EXPECT_EQ(eval("table.map(table.group_by(data.rows, 'channel').meta, "
                 "function(r) return r.campaign end)"),
            json::parse(R"(["a","c"])"));
  EXPECT_EQ(eval("#table.group_by(data.numbers, function(x) return x % 2 == 0 end)[false]"),
            json::value(2));
  EXPECT_EQ(eval("table.sum(data.rows, 'spend')"), json::value(23));
  EXPECT_EQ(eval("table.sum(data.rows, 'cpa')"), json::value(110));  // the missing one is skipped
  EXPECT_EQ(eval("table.sum(data.numbers)"), json::value(6));
  EXPECT_EQ(eval("table.sum({0.5, 1}, function(x) return x * 2 end)"), json::value(3));
  // Stable: equal keys keep their order; missing keys sort last.
  EXPECT_EQ(eval("table.map(table.sort_by(data.rows, 'cpa'), function(r) return r.campaign end)"),
            json::parse(R"(["a","c","b","d"])"));
  EXPECT_EQ(eval("table.map(table.sort_by(data.rows, 'cpa', 'desc'), "
                 "function(r) return r.campaign end)"),
            json::parse(R"(["b","a","c","d"])"));
  EXPECT_EQ(eval("table.sort_by({'bb', 'a', 'ccc'}, function(s) return #s end)"),
            json::parse(R"(["a","bb","ccc"])"));
  EXPECT_EQ(program("local t = {3, 1, 2} local s = table.sort_by(t, function(x) return x end) "
                    "return {t, s}"),
            json::parse("[[3,1,2],[1,2,3]]"));
}

TEST_F(StdlibTest, TableHelpersRejectBadInput) {
  EXPECT_EQ(eval_error("table.sum(data.rows, 5)"),
            "table.sum: argument 2 must be a field name or a function");
  EXPECT_EQ(eval_error("table.map('x', print)"), "table.map: argument 1 must be a table");
  EXPECT_EQ(eval_error("table.map({}, 'x')"), "table.map: argument 2 must be a function");
  EXPECT_EQ(eval_error("table.filter({})"), "table.filter: argument 2 must be a function");
  EXPECT_EQ(eval_error("table.group_by(data.rows, 'cpa')"), "table.group_by: element 4 has no key");
  EXPECT_EQ(eval_error("table.sum(data.rows, 'campaign')"),
            "table.sum: element 1 is a string, not a number");
  EXPECT_EQ(eval_error("table.sum({math.maxinteger, 1})"),
            "table.sum: the sum is too large for an integer");
  EXPECT_EQ(eval("table.sum({math.maxinteger, 1.0}) > 0"), json::value(true));
  EXPECT_EQ(eval_error("table.sort_by({1}, {})"),
            "table.sort_by: argument 2 must be a field name or a function");
  EXPECT_EQ(eval_error("table.sort_by({1}, tostring, 'up')"),
            "table.sort_by: argument 3 must be \"asc\" or \"desc\"");
  EXPECT_EQ(eval_error("table.sort_by({{k = 1}, {k = 'a'}}, 'k')"),
            "attempt to compare string with number");
  EXPECT_EQ(eval_error("table.sort_by({{k = {}}}, 'k')"),
            "table.sort_by: the key of element 1 is a table; keys must be numbers or strings");
}

TEST_F(StdlibTest, MoneyIsExact) {
  EXPECT_EQ(eval("money.add(money.parse('0.1'), money.parse('0.2')) == money.parse('0.3')"),
            json::value(true));
  EXPECT_EQ(eval("money.parse('12.34')"), json::value(12'340'000));
  EXPECT_EQ(eval("money.parse('-0.5')"), json::value(-500'000));
  EXPECT_EQ(eval("money.parse('+7')"), json::value(7'000'000));
  EXPECT_EQ(eval("money.parse('0.000001')"), json::value(1));
  EXPECT_EQ(eval("money.format(money.parse('12.3'))"), json::value("12.30"));
  EXPECT_EQ(eval("money.format(money.parse('-0.5'), 'EUR')"), json::value("-0.50 EUR"));
  EXPECT_EQ(eval("money.format(money.parse('1.234567'))"), json::value("1.234567"));
  EXPECT_EQ(eval("money.format(0)"), json::value("0.00"));
  EXPECT_EQ(eval("money.sub(money.parse('1'), money.parse('0.01'))"), json::value(990'000));
}

TEST_F(StdlibTest, MoneyMulAndDivRoundHalfToEven) {
  EXPECT_EQ(eval("money.mul(money.parse('10'), 1.1)"), json::value(11'000'000));
  EXPECT_EQ(eval("money.mul(money.parse('19.99'), 3)"), json::value(59'970'000));
  EXPECT_EQ(eval("money.mul(5, 0.5)"), json::value(2));  // 2.5 → 2
  EXPECT_EQ(eval("money.mul(7, 0.5)"), json::value(4));  // 3.5 → 4
  EXPECT_EQ(eval("money.mul(-5, 0.5)"), json::value(-2));
  EXPECT_EQ(eval("money.mul(money.parse('100'), '0.0825')"), json::value(8'250'000));
  EXPECT_EQ(eval("money.div(money.parse('10'), 3)"), json::value(3'333'333));
  EXPECT_EQ(eval("money.div(5, 2)"), json::value(2));
  EXPECT_EQ(eval("money.div(money.parse('1'), 0.5)"), json::value(2'000'000));
  EXPECT_EQ(eval("money.div(money.parse('1'), 0)"), json::value(nullptr));
  EXPECT_EQ(eval("money.ratio(money.parse('1'), money.parse('4'))"), json::value(0.25));
  EXPECT_EQ(eval("money.ratio(1, 0)"), json::value(nullptr));
}

TEST_F(StdlibTest, MoneyRejectsBadInputAndOverflow) {
  for (const char* text : {"1e3", "12.3456789", "1,000", " 1", "abc", ".", "-", "", "1."}) {
    const std::string message = eval_error(std::string("money.parse('") + text + "')");
    EXPECT_NE(message.find("is not an amount"), std::string::npos) << text << ": " << message;
  }
  EXPECT_EQ(eval_error("money.parse(12)"), "money.parse: argument 1 must be a string");
  EXPECT_EQ(eval_error("money.parse('99999999999999')"),
            "money.parse: the result is too large for an amount");
  EXPECT_EQ(eval_error("money.add(math.maxinteger, 1)"),
            "money.add: the result is too large for an amount");
  EXPECT_EQ(eval_error("money.sub(math.mininteger, 1)"),
            "money.sub: the result is too large for an amount");
  EXPECT_EQ(eval_error("money.mul(math.maxinteger, 2)"),
            "money.mul: the result is too large for an amount");
  EXPECT_EQ(eval_error("money.div(math.maxinteger, 0.5)"),
            "money.div: the result is too large for an amount");
  EXPECT_EQ(eval_error("money.add(1.5, 1)"),
            "money.add: argument 1 must be an amount in integer micros (see money.parse)");
  EXPECT_EQ(eval_error("money.mul(1, 0/0)"),
            "money.mul: argument 2 must be a finite number or a decimal string");
  EXPECT_EQ(eval_error("money.format('1')"),
            "money.format: argument 1 must be an amount in integer micros (see money.parse)");
}

}  // namespace
}  // namespace flowpilot::scripting
