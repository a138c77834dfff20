// The YAML front end on its own: typing of scalars, locations, and the caps against hostile files
// (BAD-INPUTS.md items 1-3).
#include "engine/loader/detail/yaml_document.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace flowpilot::engine::detail {
namespace {

namespace json = boost::json;

YamlParseResult parse(std::string_view text, LoadLimits limits = {}) {
  return parse_yaml_document(text, "doc.yaml", limits);
}

std::string dump(const YamlParseResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += "\n  " + d.to_string();
  return out;
}

TEST(YamlDocument, ScalarsAreTypedLikeYaml12) {
  const auto r = parse(R"(t: true
f: False
i: 42
neg: -7
hex: 0x1F
oct: 0o17
big: 18446744073709551615
huge: 123456789012345678901234567890
d: 1.5
e: 2e3
dot: .5
n1: null
n2: ~
n3:
q: "true"
sq: '42'
tagged: !!str 7
word: yes
ver: 1.2.3
inf: .inf
dollar: ${{ steps.a.output }}
)");
  ASSERT_TRUE(r.document.has_value()) << dump(r);
  const auto& o = r.document->root.as_object();
  EXPECT_EQ(o.at("t"), json::value(true));
  EXPECT_EQ(o.at("f"), json::value(false));
  EXPECT_EQ(o.at("i"), json::value(42));
  EXPECT_EQ(o.at("neg"), json::value(-7));
  EXPECT_EQ(o.at("hex"), json::value(31));
  EXPECT_EQ(o.at("oct"), json::value(15));
  EXPECT_TRUE(o.at("big").is_uint64());
  EXPECT_TRUE(o.at("huge").is_double());
  EXPECT_EQ(o.at("d"), json::value(1.5));
  EXPECT_EQ(o.at("e"), json::value(2000.0));
  EXPECT_EQ(o.at("dot"), json::value(0.5));
  EXPECT_TRUE(o.at("n1").is_null());
  EXPECT_TRUE(o.at("n2").is_null());
  EXPECT_TRUE(o.at("n3").is_null());
  EXPECT_EQ(o.at("q"), json::value("true"));
  EXPECT_EQ(o.at("sq"), json::value("42"));
  EXPECT_EQ(o.at("tagged"), json::value("7"));
  EXPECT_EQ(o.at("word"), json::value("yes"));  // YAML 1.2: not a boolean
  EXPECT_EQ(o.at("ver"), json::value("1.2.3"));
  EXPECT_EQ(o.at("inf"), json::value(".inf"));
  EXPECT_EQ(o.at("dollar"), json::value("${{ steps.a.output }}"));
}

TEST(YamlDocument, LocationsOfValuesAndKeys) {
  const auto r = parse(R"(id: demo
steps:
  - id: a
    with: {account_id: act_1, rows: [1, 2]}
)");
  ASSERT_TRUE(r.document.has_value()) << dump(r);
  const auto& loc = r.document->locations;
  auto where = [&](const std::string& path) {
    auto it = loc.find(path);
    return it == loc.end() ? std::string("missing")
                           : std::to_string(it->second.line) + ":" + std::to_string(it->second.column);
  };
  EXPECT_EQ(where(""), "1:1");
  EXPECT_EQ(where("id"), "1:5");
  EXPECT_EQ(where("id#key"), "1:1");
  EXPECT_EQ(where("steps"), "3:3");
  EXPECT_EQ(where("steps[0]"), "3:5");
  EXPECT_EQ(where("steps[0].id"), "3:9");
  EXPECT_EQ(where("steps[0].with"), "4:11");
  EXPECT_EQ(where("steps[0].with#key"), "4:5");
  EXPECT_EQ(where("steps[0].with.account_id"), "4:24");
  EXPECT_EQ(where("steps[0].with.rows[1]"), "4:41");
  EXPECT_EQ(loc.at("id").file, "doc.yaml");
}

TEST(YamlDocument, AliasesExpandWithTheAnchorsLocations) {
  const auto r = parse(R"(base: &b {x: 1, y: [2]}
copy: *b
)");
  ASSERT_TRUE(r.document.has_value()) << dump(r);
  const auto& o = r.document->root.as_object();
  EXPECT_EQ(o.at("copy"), o.at("base"));
  EXPECT_EQ(r.document->locations.at("copy").line, 2);
  EXPECT_EQ(r.document->locations.at("copy.y[0]").line, 1);
}

TEST(YamlDocument, SyntaxErrorHasYamlCppsMark) {
  const auto r = parse("id: demo\nsteps:\n  - id: a\n   bad: [\n");
  ASSERT_FALSE(r.document.has_value());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_NE(r.diagnostics[0].message.find("YAML syntax error"), std::string::npos);
  EXPECT_GT(r.diagnostics[0].where.line, 0);
}

TEST(YamlDocument, DuplicateKeysKeepTheFirstValue) {
  const auto r = parse("a: 1\nb: 2\na: 3\n");
  ASSERT_TRUE(r.document.has_value());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].to_string(), "doc.yaml:3:1: duplicate key `a`; the first is on line 1");
  EXPECT_EQ(r.document->root.at("a"), json::value(1));
  EXPECT_EQ(r.document->locations.at("a").line, 1);
}

TEST(YamlDocument, AliasBombIsRefusedQuickly) {
  // Billion laughs: nine levels of nine aliases each, about 300 bytes.
  const std::string bomb = R"(a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
)";
  const auto start = std::chrono::steady_clock::now();
  const auto r = parse(bomb);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.document.has_value());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_NE(r.diagnostics[0].message.find("more than 200000 nodes"), std::string::npos) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("aliases"), std::string::npos) << dump(r);
  EXPECT_GT(r.diagnostics[0].where.line, 1);
  EXPECT_LT(elapsed, std::chrono::seconds(5));  // guards against expansion, not a benchmark
}

TEST(YamlDocument, NestedAnchorsCountAgainstTheCap) {
  // Each anchored level keeps a copy for later aliases; the copies are paid for too.
  std::string text = "x: ";
  for (int i = 0; i < 30; ++i) text += "&a" + std::to_string(i) + " [";
  text += "1";
  for (int i = 0; i < 30; ++i) text += "]";
  text += "\n";
  LoadLimits limits;
  limits.max_nodes = 100;
  const auto r = parse(text, limits);
  ASSERT_FALSE(r.document.has_value());
  EXPECT_NE(r.diagnostics[0].message.find("more than 100 nodes"), std::string::npos) << dump(r);
}

TEST(YamlDocument, DeepNestingIsRefused) {
  const std::string deep = std::string(10'000, '[') + std::string(10'000, ']');
  const auto r = parse(deep);
  ASSERT_FALSE(r.document.has_value());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_NE(r.diagnostics[0].message.find("nested more than 64 levels"), std::string::npos) << dump(r);
  EXPECT_EQ(r.diagnostics[0].where.line, 1);
  EXPECT_EQ(r.diagnostics[0].where.column, 65);

  const std::string deep_maps = [] {
    std::string s;
    for (int i = 0; i < 10'000; ++i) s += "{a: ";
    return s + "1" + std::string(10'000, '}');
  }();
  EXPECT_FALSE(parse(deep_maps).document.has_value());
}

TEST(YamlDocument, DepthThroughAnAliasCounts) {
  LoadLimits limits;
  limits.max_depth = 4;
  EXPECT_TRUE(parse("a: &x [[1]]\nb: [*x]\n", limits).document.has_value());
  const auto r = parse("a: &x [[[1]]]\nb: [*x]\n", limits);
  ASSERT_FALSE(r.document.has_value());
  EXPECT_NE(r.diagnostics[0].message.find("nested more than 4 levels"), std::string::npos) << dump(r);
}

TEST(YamlDocument, SelfReferencingAliasIsRefused) {
  const auto r = parse("a: &x [*x]\n");
  ASSERT_FALSE(r.document.has_value());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].to_string(),
            "doc.yaml:1:8: alias `*x` refers to the node that contains it; recursive aliases are "
            "not allowed");
  EXPECT_FALSE(parse("a: &x {k: *x}\n").document.has_value());
  EXPECT_FALSE(parse("&x [1, [2, *x]]\n").document.has_value());
}

TEST(YamlDocument, UndefinedAliasIsASyntaxError) {
  const auto r = parse("a: *nope\n");
  ASSERT_FALSE(r.document.has_value());
  EXPECT_NE(r.diagnostics[0].message.find("anchor"), std::string::npos) << dump(r);
}

TEST(YamlDocument, FileSizeCap) {
  LoadLimits limits;
  limits.max_file_bytes = 8;
  const auto r = parse("id: something-long\n", limits);
  ASSERT_FALSE(r.document.has_value());
  EXPECT_EQ(r.diagnostics[0].to_string(), "doc.yaml: the file is 19 bytes; the limit is 8");
}

TEST(YamlDocument, EmptyFileAndSeveralDocuments) {
  EXPECT_NE(parse("").diagnostics.at(0).message.find("empty"), std::string::npos);
  EXPECT_NE(parse("# only a comment\n").diagnostics.at(0).message.find("empty"), std::string::npos);
  const auto r = parse("a: 1\n---\nb: 2\n");
  ASSERT_FALSE(r.document.has_value());
  EXPECT_NE(r.diagnostics.at(0).message.find("more than one YAML document"), std::string::npos);
  EXPECT_EQ(r.diagnostics.at(0).where.line, 2);
}

TEST(YamlDocument, ComplexKeysAreRefused) {
  const auto r = parse("? [a, b]\n: 1\n");
  ASSERT_FALSE(r.document.has_value());
  EXPECT_NE(r.diagnostics[0].message.find("mapping keys must be plain text"), std::string::npos);
}

TEST(YamlDocument, NodeCapWithoutAliases) {
  LoadLimits limits;
  limits.max_nodes = 10;
  const auto r = parse("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n", limits);
  ASSERT_FALSE(r.document.has_value());
  EXPECT_NE(r.diagnostics[0].message.find("more than 10 nodes"), std::string::npos);
}

}  // namespace
}  // namespace flowpilot::engine::detail
