// csv_logic: parsing edge cases, every column type and rejection reason, the report, reject
// limits, batch ids, allowed roots and the writer's formula-injection protection.
#include "csv_logic.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

namespace flowpilot::csv_plugin {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

ReadOptions with_schema(const char* with_json) {
  return parse_read_options(json::parse(with_json).as_object());
}

std::vector<std::string> reasons_of(const ReadResult& r, std::size_t i) {
  std::vector<std::string> out;
  for (const auto& s : r.rejected.at(i).at("reasons").as_array()) out.emplace_back(s.as_string());
  return out;
}

TEST(CsvRead, HeaderAndPlainRowsAsStrings) {
  auto r = read_csv("a,b\n1,x\n2,y\n", ReadOptions{});
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0], json::parse(R"({"a":"1","b":"x"})"));
  EXPECT_EQ(r.rows[1], json::parse(R"({"a":"2","b":"y"})"));
  EXPECT_EQ(r.report.at("rows_read"), 2);
  EXPECT_EQ(r.report.at("rows_accepted"), 2);
}

TEST(CsvRead, QuotedFieldsWithDelimitersNewlinesAndDoubledQuotes) {
  auto r = read_csv("name,note\n\"Smith, J\",\"said \"\"hi\"\"\nthen left\"\nplain,x\n", ReadOptions{});
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].at("name"), "Smith, J");
  EXPECT_EQ(r.rows[0].at("note"), "said \"hi\"\nthen left");
  // The quoted newline moves the next record's line number on.
  auto bad = read_csv("a,b\n\"x\ny\",1\n1,2,3\n", ReadOptions{});
  ASSERT_EQ(bad.rejected.size(), 1u);
  EXPECT_EQ(bad.rejected[0].at("line"), 4);
}

TEST(CsvRead, CrlfBomAndBlankLines) {
  auto r = read_csv("\xEF\xBB\xBFid,v\r\n1,a\r\n\r\n2,b\r\n\n", ReadOptions{});
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_TRUE(r.rows[0].as_object().contains("id")) << json::serialize(r.rows[0]);
  EXPECT_EQ(r.rows[1].at("v"), "b");
  EXPECT_EQ(r.rows_rejected, 0u);
  auto old_mac = read_csv("id\r1\r2\r", ReadOptions{});
  ASSERT_EQ(old_mac.rows.size(), 2u);
  EXPECT_EQ(old_mac.rows[1].at("id"), "2");
}

TEST(CsvRead, RaggedRowsAreRejectedWithTheirLine) {
  auto r = read_csv("a,b,c\n1,2,3\n1,2\n1,2,3,4\n", ReadOptions{});
  EXPECT_EQ(r.rows.size(), 1u);
  ASSERT_EQ(r.rejected.size(), 2u);
  EXPECT_EQ(reasons_of(r, 0)[0], "line 3: has 2 fields, expected 3");
  EXPECT_EQ(r.rejected[0].at("record"), "1,2");
  EXPECT_EQ(reasons_of(r, 1)[0], "line 4: has 4 fields, expected 3");
}

TEST(CsvRead, UnterminatedQuoteAndTextAfterQuote) {
  auto r = read_csv("a,b\n\"x\"y,1\n\"open,2\n", ReadOptions{});
  ASSERT_EQ(r.rejected.size(), 2u);
  EXPECT_NE(reasons_of(r, 0)[0].find("after the closing quote"), std::string::npos);
  EXPECT_NE(reasons_of(r, 1)[0].find("not closed"), std::string::npos);
}

TEST(CsvRead, InvalidUtf8IsRejectedWithLineAndColumn) {
  auto r = read_csv("a,b\nok,fine\nx,bad\xC3(\n", ReadOptions{});
  EXPECT_EQ(r.rows.size(), 1u);
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(reasons_of(r, 0)[0], "line 3, column \"b\": invalid UTF-8 at byte 4");
  EXPECT_EQ(r.report.at("columns").at("b").at("rejected"), 1);
}

TEST(CsvRead, HugeFieldsRejectTheRowWithoutHoldingThem) {
  ReadOptions o;
  o.max_field_bytes = 1000;
  std::string text = "a,b\n1," + std::string(200000, 'x') + "\n2,y\n";
  auto r = read_csv(text, o);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].at("a"), "2");
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_NE(reasons_of(r, 0)[0].find("longer than 1000 bytes"), std::string::npos);
  EXPECT_LT(r.rejected[0].at("record").as_string().size(), 5000u);
}

TEST(CsvRead, DelimiterAndNoHeader) {
  auto r = read_csv("1;x\n2;y\n", with_schema(R"({"delimiter":";","header":false})"));
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[1], json::parse(R"({"column_1":"2","column_2":"y"})"));
  auto tabs = read_csv("a\tb\n1\t2\n", with_schema(R"({"delimiter":"tab"})"));
  EXPECT_EQ(tabs.rows[0].at("b"), "2");
  auto named = read_csv("7,2026-05-01\n",
                        with_schema(R"({"header":false,"schema":[{"name":"n","type":"integer"},
                                        {"name":"d","type":"date"}]})"));
  EXPECT_EQ(named.rows[0], json::parse(R"({"n":7,"d":"2026-05-01"})"));
}

TEST(CsvRead, TypedColumns) {
  auto o = with_schema(R"({"schema":[
      {"name":"n","type":"integer"}, {"name":"x","type":"number"},
      {"name":"m","type":"money"}, {"name":"d","type":"date"},
      {"name":"eu","type":"date","format":"%d/%m/%Y"}, {"name":"b","type":"boolean"},
      {"name":"s","type":"string","rename":"label"}]})");
  auto r = read_csv("n,x,m,d,eu,b,s\n-42, 1.5e2 ,12.34,2026-02-28,31/12/2025,yes, keep spaces \n",
                    o);
  ASSERT_EQ(r.rows.size(), 1u) << json::serialize(r.rejected);
  const auto& row = r.rows[0].as_object();
  EXPECT_EQ(row.at("n"), -42);
  EXPECT_EQ(row.at("x").as_double(), 150.0);
  EXPECT_EQ(std::llround(row.at("m").as_double() * 1e6), 12'340'000);
  EXPECT_EQ(row.at("d"), "2026-02-28");
  EXPECT_EQ(row.at("eu"), "2025-12-31");
  EXPECT_EQ(row.at("b"), true);
  EXPECT_EQ(row.at("label"), " keep spaces ");
  EXPECT_FALSE(row.contains("s"));
}

TEST(CsvRead, EveryRejectionReason) {
  auto o = with_schema(R"({"schema":[
      {"name":"n","type":"integer","min":0,"max":10}, {"name":"spend","type":"number"},
      {"name":"m","type":"decimal"}, {"name":"d","type":"date","min":"2026-01-01"},
      {"name":"b","type":"boolean"}, {"name":"c","required":true,"allowed":["EUR","USD"]}]})");
  auto r = read_csv(
      "n,spend,m,d,b,c\n"
      "11,12,1.5,2026-02-01,true,EUR\n"    // above max
      "1,\"12,5x\",1,2026-02-01,no,EUR\n"  // not a number
      "1,1,1.1234567,2026-02-01,no,EUR\n"  // more than 6 decimals
      "1,1,1,2026-02-30,no,EUR\n"          // not a date
      "1,1,1,2025-12-31,no,EUR\n"          // before min
      "1,1,1,2026-02-01,maybe,EUR\n"       // not a boolean
      "1,1,1,2026-02-01,no,\n"             // required
      "1,1,1,2026-02-01,no,GBP\n"          // not allowed
      "x,1,1,2026-02-01,no,EUR\n"          // not an integer
      "-1,y,1,2026-02-01,no,GBP\n",        // three reasons at once
      o);
  EXPECT_EQ(r.rows.size(), 0u);
  ASSERT_EQ(r.rejected.size(), 10u);
  EXPECT_EQ(reasons_of(r, 0)[0], "line 2, column \"n\": \"11\" is above the maximum 10");
  EXPECT_EQ(reasons_of(r, 1)[0], "line 3, column \"spend\": \"12,5x\" is not a number");
  EXPECT_EQ(reasons_of(r, 2)[0], "line 4, column \"m\": \"1.1234567\" has more than 6 decimals");
  EXPECT_EQ(reasons_of(r, 3)[0], "line 5, column \"d\": \"2026-02-30\" is not a date");
  EXPECT_EQ(reasons_of(r, 4)[0], "line 6, column \"d\": \"2025-12-31\" is before 2026-01-01");
  EXPECT_EQ(reasons_of(r, 5)[0], "line 7, column \"b\": \"maybe\" is not a boolean");
  EXPECT_EQ(reasons_of(r, 6)[0], "line 8, column \"c\": is required but empty");
  EXPECT_EQ(reasons_of(r, 7)[0],
            "line 9, column \"c\": \"GBP\" is not one of the allowed values [\"EUR\",\"USD\"]");
  EXPECT_EQ(reasons_of(r, 8)[0], "line 10, column \"n\": \"x\" is not an integer");
  EXPECT_EQ(reasons_of(r, 9).size(), 3u);
  const auto& cols = r.report.at("columns").as_object();
  EXPECT_EQ(cols.at("n").at("rejected"), 3);
  EXPECT_EQ(cols.at("c").at("nulls"), 1);
  EXPECT_EQ(cols.at("c").at("rejected"), 3);
  EXPECT_EQ(r.report.at("rows_rejected"), 10);
}

TEST(CsvRead, EmptyOptionalCellsAreNullAndCounted) {
  auto r = read_csv("a,b\n1,\n,\n", with_schema(R"({"schema":[{"name":"a","type":"integer"}]})"));
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_TRUE(r.rows[1].at("a").is_null());
  EXPECT_EQ(r.rows[0].at("b"), "");  // an extra column stays a string
  EXPECT_EQ(r.report.at("columns").at("a").at("nulls"), 1);
  EXPECT_EQ(r.report.at("columns").at("b").at("nulls"), 2);
}

TEST(CsvRead, MissingSchemaColumnAndExtraColumnsDropped) {
  EXPECT_THROW(read_csv("a\n1\n", with_schema(R"({"schema":[{"name":"spend"}]})")), OptionError);
  auto r = read_csv("a,b\n1,2\n",
                    with_schema(R"({"extra_columns":"drop","schema":[{"name":"b"}]})"));
  EXPECT_EQ(r.rows[0], json::parse(R"({"b":"2"})"));
}

TEST(CsvRead, HeaderProblems) {
  try {
    read_csv("a,b,a\n1,2,3\n", ReadOptions{});
    FAIL();
  } catch (const OptionError& e) {
    EXPECT_EQ(std::string(e.what()), "the CSV header names the column \"a\" twice");
  }
  auto unnamed = read_csv(" a ,\n1,2\n", ReadOptions{});
  EXPECT_EQ(unnamed.rows[0], json::parse(R"({"a":"1","column_2":"2"})"));
  EXPECT_THROW(read_csv("a,\"b\n", ReadOptions{}), OptionError);  // unclosed quote in the header
  auto empty = read_csv("", ReadOptions{});
  EXPECT_EQ(empty.rows.size(), 0u);
  EXPECT_EQ(empty.report.at("rows_read"), 0);
}

TEST(CsvRead, MoneyIsExact) {
  auto r = read_csv("m\n0.1\n0.2\n-3.000001\n1234567.89\n",
                    with_schema(R"({"schema":[{"name":"m","type":"money"}]})"));
  std::int64_t micros = 0;
  for (const auto& row : r.rows) micros += std::llround(row.at("m").as_double() * 1e6);
  EXPECT_EQ(micros, 100'000 + 200'000 - 3'000'001 + 1'234'567'890'000);
}

TEST(CsvRead, BadOptionsNameTheirField) {
  try {
    with_schema(R"({"schema":[{"name":"a"},{"name":"b","type":"float"}]})");
    FAIL();
  } catch (const OptionError& e) {
    EXPECT_NE(std::string(e.what()).find("with.schema[1].type"), std::string::npos) << e.what();
  }
  EXPECT_THROW(with_schema(R"({"max_rejected":"lots"})"), OptionError);
  EXPECT_THROW(with_schema(R"({"schema":[{"name":"a"},{"name":"b","rename":"a"}]})"), OptionError);
  EXPECT_THROW(with_schema(R"({"delimiter":"\""})"), OptionError);
}

TEST(CsvRead, RejectLimitsByCountAndRatio) {
  const char* text = "n\n1\nx\n2\ny\n";
  auto count = with_schema(R"({"max_rejected":1,"schema":[{"name":"n","type":"integer"}]})");
  auto r = read_csv(text, count);
  auto message = reject_limit_message(r, count);
  ASSERT_TRUE(message);
  EXPECT_NE(message->find("2 of 4 rows rejected (more than 1 allowed)"), std::string::npos);
  EXPECT_NE(message->find("line 3, column \"n\": \"x\" is not an integer"), std::string::npos);
  auto ratio = with_schema(R"({"max_rejected":"50%","schema":[{"name":"n","type":"integer"}]})");
  EXPECT_FALSE(reject_limit_message(read_csv(text, ratio), ratio));
  auto strict = with_schema(R"({"max_rejected":0.25,"schema":[{"name":"n","type":"integer"}]})");
  EXPECT_TRUE(reject_limit_message(read_csv(text, strict), strict));
}

TEST(CsvRead, BatchIdIsStablePerKeyAndStamped) {
  EXPECT_EQ(batch_id_for("run1/load"), batch_id_for("run1/load"));
  EXPECT_NE(batch_id_for("run1/load"), batch_id_for("run2/load"));
  ReadOptions o;
  o.batch_id = batch_id_for("k");
  o.stamp_batch_id = true;
  auto r = read_csv("a\n1\n", o);
  EXPECT_EQ(r.rows[0].at("_batch_id"), json::value(o.batch_id));
}

TEST(CsvRead, AMillionRowsStreamFromAFile) {
  const fs::path file = fs::temp_directory_path() / ("fp-csv-big-" + std::to_string(std::random_device{}()) + ".csv");
  {
    std::ofstream out(file, std::ios::binary);
    out << "date,campaign_id,spend,impressions,clicks\n";
    for (int i = 0; i < 1'000'000; ++i) {
      const int day = i % 28 + 1;
      out << "2026-05-" << (day < 10 ? "0" : "") << day << ",c" << (i % 50) << "," << (i % 1000) << ".25," << i << ",7\n";
    }
  }
  auto o = with_schema(R"({"schema":[{"name":"date","type":"date"},{"name":"campaign_id","required":true},
      {"name":"spend","type":"money"},{"name":"impressions","type":"integer"},
      {"name":"clicks","type":"integer"}]})");
  const auto start = std::chrono::steady_clock::now();
  auto r = read_csv_file(file, o);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start).count();
  fs::remove(file);
  EXPECT_EQ(r.rows.size(), 1'000'000u) << json::serialize(r.rejected.empty() ? json::value() : r.rejected[0]);
  EXPECT_EQ(r.rows_rejected, 0u);
  std::cout << "[ info ] 1,000,000 typed rows parsed in " << ms << " ms ("
            << (ms > 0 ? 60'000'000'000LL / ms / 1000 : 0) << "k rows/min)\n";
}

TEST(CsvPaths, OnlyInsideTheRoots) {
  const fs::path base = fs::temp_directory_path() / ("fp-csv-roots-" + std::to_string(std::random_device{}()));
  fs::create_directories(base / "in" / "sub");
  fs::create_directories(base / "secret");
  std::ofstream(base / "secret" / "x.csv") << "a\n1\n";
  std::ofstream(base / "in" / "sub" / "ok.csv") << "a\n1\n";
  fs::create_symlink(base / "secret", base / "in" / "escape");
  const auto roots = roots_from_config(
      json::parse("{\"roots\":[\"" + (base / "in").string() + "\"]}").as_object());
  EXPECT_EQ(resolve_allowed("sub/ok.csv", roots, "with.path"),
            fs::canonical(base / "in" / "sub" / "ok.csv"));
  EXPECT_EQ(resolve_allowed((base / "in" / "new.csv").string(), roots, "with.path"),
            fs::canonical(base / "in") / "new.csv");
  for (const std::string& bad : {std::string("../secret/x.csv"), std::string("sub/../../secret/x.csv"),
                                std::string("escape/x.csv"), (base / "secret" / "x.csv").string(),
                                std::string("/etc/passwd")}) {
    try {
      resolve_allowed(bad, roots, "with.path");
      ADD_FAILURE() << bad << " was allowed";
    } catch (const OptionError& e) {
      EXPECT_NE(std::string(e.what()).find("outside the allowed directories"), std::string::npos)
          << e.what();
    }
  }
  // A sibling whose name starts with the root's name is not inside it.
  fs::create_directories(base / "in2");
  EXPECT_THROW(resolve_allowed((base / "in2" / "a.csv").string(), roots, "with.path"), OptionError);
  EXPECT_THROW(resolve_allowed("a.csv", {}, "with.path"), OptionError);
  EXPECT_THROW(read_csv_file(base / "in" / "sub", ReadOptions{}), OptionError);
  EXPECT_THROW(read_csv_file(base / "in" / "missing.csv", ReadOptions{}), OptionError);
  EXPECT_EQ(read_csv_file(base / "in" / "sub" / "ok.csv", ReadOptions{}).rows.size(), 1u);
  fs::remove_all(base);
}

TEST(CsvWrite, FormulaInjectionIsNeutralised) {
  for (const char* bad : {"=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"}) {
    const std::string cell = format_cell(json::value(bad), ',');
    EXPECT_EQ(cell.substr(0, 2), "\"'") << bad;
  }
  EXPECT_EQ(format_cell(json::value(std::string("\0x", 2)), ','), std::string("\"'\0x\"", 5));
  EXPECT_EQ(format_cell(json::value(-5), ','), "-5");  // a number is data, not a formula
  EXPECT_EQ(format_cell(json::value(12.5), ','), "12.5");
  EXPECT_EQ(format_cell(json::value("plain"), ','), "plain");
}

TEST(CsvWrite, QuotingColumnsAndRoundTrip) {
  auto rows = json::parse(R"([{"a":"x,y","b":"say \"hi\"","c":null},
                               {"a":"line\nbreak","b":true,"c":1.5,"d":"ignored"}])").as_array();
  WriteOptions o;
  const std::string text = write_csv(rows, o);
  EXPECT_EQ(text, "a,b,c\r\n\"x,y\",\"say \"\"hi\"\"\",\r\n\"line\nbreak\",true,1.5\r\n");
  auto back = read_csv(text, ReadOptions{});
  ASSERT_EQ(back.rows.size(), 2u);
  EXPECT_EQ(back.rows[0].at("b"), "say \"hi\"");
  EXPECT_EQ(back.rows[1].at("a"), "line\nbreak");
  WriteOptions chosen = parse_write_options(json::parse(R"({"columns":["c","a"],"header":false,
                                                          "line_ending":"lf","delimiter":";"})").as_object());
  EXPECT_EQ(write_csv(rows, chosen), ";x,y\n1.5;\"line\nbreak\"\n");  // , needs no quotes here
}

}  // namespace
}  // namespace flowpilot::csv_plugin
