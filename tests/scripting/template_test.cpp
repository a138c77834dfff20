#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "scripting/expression.h"

namespace flowpilot::scripting {
namespace {

namespace json = boost::json;

TEST(TemplateParse, SplitsLiteralAndExpressionParts) {
  std::optional<Template> t = Template::parse("Pause ${{ #rows }} campaigns for ${{name}}!");
  ASSERT_TRUE(t.has_value());
  ASSERT_EQ(t->parts().size(), 5u);
  EXPECT_FALSE(t->parts()[0].is_expression);
  EXPECT_EQ(t->parts()[0].text, "Pause ");
  EXPECT_TRUE(t->parts()[1].is_expression);
  EXPECT_EQ(t->parts()[1].text, "#rows");
  EXPECT_EQ(t->parts()[2].text, " campaigns for ");
  EXPECT_EQ(t->parts()[3].text, "name");
  EXPECT_TRUE(t->parts()[3].is_expression);
  EXPECT_EQ(t->parts()[4].text, "!");
  EXPECT_TRUE(t->has_expressions());
  EXPECT_FALSE(t->is_single_expression());
}

TEST(TemplateParse, PlainTextHasNoExpressions) {
  for (const char* text : {"", "plain", "{{ not ours }}", "$ {{ x }}", "${ x }", "}} stray"}) {
    std::optional<Template> t = Template::parse(text);
    ASSERT_TRUE(t.has_value()) << text;
    EXPECT_FALSE(t->has_expressions()) << text;
    EXPECT_FALSE(t->is_single_expression()) << text;
  }
}

TEST(TemplateParse, SingleExpressionAllowsSurroundingWhitespace) {
  EXPECT_TRUE(Template::parse("${{ 1 + 2 }}")->is_single_expression());
  EXPECT_TRUE(Template::parse("  ${{ 1 + 2 }}\n")->is_single_expression());
  EXPECT_FALSE(Template::parse("n=${{ 1 + 2 }}")->is_single_expression());
  EXPECT_FALSE(Template::parse("${{ 1 }}${{ 2 }}")->is_single_expression());
  EXPECT_FALSE(Template::parse("${{ 1 }} x")->is_single_expression());
}

TEST(TemplateParse, UnterminatedExpressionIsAnError) {
  std::string error;
  EXPECT_FALSE(Template::parse("abc ${{ 1 + 2", &error).has_value());
  EXPECT_EQ(error, "unterminated `${{` at offset 4");
  EXPECT_FALSE(Template::parse("${{ a }} then ${{ b }", &error).has_value());
  EXPECT_EQ(error, "unterminated `${{` at offset 14");
  EXPECT_FALSE(Template::parse("${{").has_value());  // error pointer is optional
}

TEST(TemplateParse, ClosingBracesInsideStringsEndTheExpression) {
  // Documented limitation: `}}` is found textually.
  std::optional<Template> t = Template::parse("${{ '}}' }}");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->parts()[0].text, "'");
}

class RenderTest : public ::testing::Test {
 protected:
  RenderTest()
      : inputs_(json::parse(R"({"target_cpa": 40, "name": "Meta", "ratio": 0.25,
                                "tags": ["a", "b"], "nested": {"k": [1, 2.5, null]}})")) {
    scope_.bind("inputs", inputs_);
  }

  json::value render_ok(std::string_view source) {
    std::optional<Template> t = Template::parse(source);
    EXPECT_TRUE(t.has_value()) << source;
    if (!t) return {};
    EvalResult result = render(engine_, *t, scope_);
    EXPECT_TRUE(result.ok()) << source << ": " << (result.ok() ? "" : result.error().message);
    return result.ok() ? result.value() : json::value();
  }

  ExpressionEngine engine_{Limits{}, 2};
  json::value inputs_;
  Scope scope_;
};

TEST_F(RenderTest, SingleExpressionKeepsItsType) {
  EXPECT_EQ(render_ok("${{ 1 + 2 }}"), json::value(3));
  EXPECT_EQ(render_ok(" ${{ inputs.tags }} "), json::parse(R"(["a","b"])"));
  EXPECT_EQ(render_ok("${{ inputs.target_cpa > 10 }}"), json::value(true));
  EXPECT_TRUE(render_ok("${{ nil }}").is_null());
}

TEST_F(RenderTest, InterpolationProducesText) {
  EXPECT_EQ(render_ok("n=${{ 1+2 }}"), json::value("n=3"));
  EXPECT_EQ(render_ok("${{ 1 }}${{ 2 }}"), json::value("12"));
  EXPECT_EQ(render_ok("cpa ${{ inputs.target_cpa / 1 }} ratio ${{ inputs.ratio }}"),
            json::value("cpa 40 ratio 0.25"));
  EXPECT_EQ(render_ok("[${{ nil }}]"), json::value("[]"));
  EXPECT_EQ(render_ok("t=${{ inputs.tags }}"), json::value(R"(t=["a","b"])"));
  EXPECT_EQ(render_ok("${{ inputs.nested }}!"), json::value(R"({"k":[1,2.5,null]}!)"));
  EXPECT_EQ(render_ok("ok: ${{ true }}"), json::value("ok: true"));
  EXPECT_EQ(render_ok("plain text"), json::value("plain text"));
}

TEST_F(RenderTest, RenderReportsExpressionErrors) {
  std::optional<Template> t = Template::parse("x=${{ inputs.a.b }}");
  ASSERT_TRUE(t.has_value());
  EvalResult result = render(engine_, *t, scope_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, EvalError::Kind::runtime);
  EXPECT_EQ(result.error().message, "attempt to index a nil value (field 'a')");
}

TEST(DisplayText, FormatsValues) {
  EXPECT_EQ(to_display_text(json::value(nullptr)), "");
  EXPECT_EQ(to_display_text(json::value(true)), "true");
  EXPECT_EQ(to_display_text(json::value(42)), "42");
  EXPECT_EQ(to_display_text(json::value(40.0)), "40");
  EXPECT_EQ(to_display_text(json::value(-0.5)), "-0.5");
  EXPECT_EQ(to_display_text(json::value(std::uint64_t{18446744073709551615u})),
            "18446744073709551615");
  EXPECT_EQ(to_display_text(json::value("text \"q\"")), "text \"q\"");
  EXPECT_EQ(to_display_text(json::parse(R"({"a":[1,2.0,"x\n"],"b":null})")),
            R"({"a":[1,2,"x\n"],"b":null})");
  EXPECT_EQ(to_display_text(json::parse("[]")), "[]");
  EXPECT_EQ(to_display_text(json::parse("{}")), "{}");
}

TEST_F(RenderTest, RenderValueWalksObjectsAndArrays) {
  json::value tmpl = json::parse(R"({
    "rows": "${{ inputs.tags }}",
    "message": "Pause ${{ #inputs.tags }} campaigns?",
    "items": ["literal", "${{ inputs.target_cpa * 2 }}", {"deep": "${{ inputs.name }}"}],
    "number": 7,
    "${{ key }}": "keys are never evaluated"
  })");
  EvalResult result = render_value(engine_, tmpl, scope_, "with");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result.value(), json::parse(R"({
    "rows": ["a", "b"],
    "message": "Pause 2 campaigns?",
    "items": ["literal", 80, {"deep": "Meta"}],
    "number": 7,
    "${{ key }}": "keys are never evaluated"
  })"));
}

TEST_F(RenderTest, RenderValueReportsTheFailingPath) {
  json::value tmpl = json::parse(R"({"a": "ok", "items": ["fine", "${{ nope.x }}"]})");
  std::string path;
  EvalResult result = render_value(engine_, tmpl, scope_, "with", &path);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(path, "with.items[1]");
  EXPECT_EQ(result.error().message, "attempt to index a nil value (global 'nope')");

  json::value nested = json::parse(R"({"outer": {"inner": [[0, "${{ 1 + }}"]]}})");
  result = render_value(engine_, nested, scope_, "", &path);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, EvalError::Kind::compile);
  EXPECT_EQ(path, "outer.inner[0][1]");

  json::value unterminated = json::parse(R"({"text": "abc ${{ x"})");
  result = render_value(engine_, unterminated, scope_, "with", &path);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, EvalError::Kind::compile);
  EXPECT_EQ(result.error().message, "unterminated `${{` at offset 4");
  EXPECT_EQ(path, "with.text");

  result = render_value(engine_, json::value("${{ nope.x }}"), scope_, "outputs.paused", &path);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(path, "outputs.paused");
}

TEST_F(RenderTest, ValuesProducedByExpressionsAreNeverEvaluatedAgain) {
  json::value body = json::parse(R"({"comment": "${{ 1+1 }}", "list": ["${{ secrets.X }}"],
                                     "legacy": "{{ 7*7 }}"})");
  Scope scope = scope_;
  scope.bind("body", body);
  EvalResult single = render_value(engine_, json::value("${{ body.comment }}"), scope);
  ASSERT_TRUE(single.ok()) << single.error().message;
  EXPECT_EQ(single.value(), json::value("${{ 1+1 }}"));

  EvalResult whole = render_value(engine_, json::value("${{ body }}"), scope);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  EXPECT_EQ(whole.value(), body);

  EvalResult text = render_value(engine_, json::value("got ${{ body.comment }}"), scope);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text.value(), json::value("got ${{ 1+1 }}"));

  json::value tmpl = json::parse(R"({"a": "${{ body.list }}", "b": "${{ body.legacy }}"})");
  EvalResult nested = render_value(engine_, tmpl, scope);
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested.value(), json::parse(R"({"a": ["${{ secrets.X }}"], "b": "{{ 7*7 }}"})"));
}

TEST_F(RenderTest, RenderValueCopiesNonStrings) {
  json::value tmpl = json::parse(R"([1, 2.5, true, null, {"x": []}])");
  EvalResult result = render_value(engine_, tmpl, scope_);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.value(), tmpl);
}

}  // namespace
}  // namespace flowpilot::scripting
