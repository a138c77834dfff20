// Personal data: marked paths from output schemas, masking a run's values, erasing a person.
#include "engine/access/pii.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace flowpilot::engine {
namespace {

namespace json = boost::json;

const char* kContactsSchema = R"({
  "type": "object",
  "properties": {
    "count": {"type": "integer"},
    "contacts": {"type": "array", "items": {"type": "object", "properties": {
      "id": {"type": "string"},
      "email": {"type": "string", "x-pii": true},
      "phone": {"type": ["string", "null"], "x-pii": true},
      "properties": {"type": "object", "additionalProperties": {"x-pii": false},
                     "properties": {"firstname": {"x-pii": true}}}
    }}},
    "owner": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {"name": {"x-pii": true}}}]}
  }
})";

TEST(PiiPaths, FollowPropertiesItemsAndBranches) {
  auto paths = pii_paths(json::parse(kContactsSchema));
  std::vector<std::string> texts;
  for (const auto& p : paths) texts.push_back(pii_path_text(p));
  EXPECT_EQ(texts, (std::vector<std::string>{"contacts[*].email", "contacts[*].phone",
                                             "contacts[*].properties.firstname", "owner.name"}));
}

TEST(PiiPaths, NoMarkNoPathAndDeepSchemasStop) {
  EXPECT_TRUE(pii_paths(json::parse(R"({"type":"object","properties":{"a":{"type":"string"}}})")).empty());
  EXPECT_TRUE(pii_paths(json::value("not a schema")).empty());
  // A schema nested far deeper than any real output is cut off rather than followed.
  json::value deep = json::object{{"x-pii", true}};
  for (int i = 0; i < 200; ++i) deep = json::object{{"properties", json::object{{"a", deep}}}};
  EXPECT_TRUE(pii_paths(deep).empty());
}

PiiValues contact_values() {
  PiiValues values;
  values.collect(pii_paths(json::parse(kContactsSchema)), json::parse(R"({
    "count": 2,
    "contacts": [
      {"id": "1", "email": "Jane.Doe@Example.com", "phone": "+1 555 0100",
       "properties": {"firstname": "Jane", "lifecyclestage": "lead"}},
      {"id": "2", "email": "bo@example.org", "phone": null, "properties": {"firstname": "B"}}
    ]
  })"));
  return values;
}

TEST(PiiValues, CollectsOnlyMarkedValues) {
  const auto values = contact_values();
  // jane's email, phone and first name, bo's email ("B" is too short to be worth matching).
  EXPECT_EQ(values.size(), 4u);
  EXPECT_EQ(values.mask_text("lead"), "lead");
  EXPECT_EQ(values.mask_text("1"), "1");
}

TEST(PiiValues, MasksWholeStringsWordsAndPhrasesInFreeText) {
  const auto values = contact_values();
  std::size_t count = 0;
  EXPECT_EQ(values.mask_text("jane.doe@example.com", &count), "[pii]");
  EXPECT_EQ(values.mask_text("sent to jane.doe@example.COM.", &count), "sent to [pii].");
  EXPECT_EQ(values.mask_text("call +1 555 0100 or mail bo@example.org", &count),
            "call [pii] or mail [pii]");
  EXPECT_EQ(values.mask_text("Jane, welcome (Janet stays)", &count),
            "[pii], welcome (Janet stays)");
  EXPECT_EQ(values.mask_text("email=bo@example.org&x=1", &count), "email=[pii]&x=1");
  EXPECT_EQ(count, 6u);
}

TEST(PiiValues, MasksCopiesInOtherShapesKeysIncluded) {
  const auto values = contact_values();
  std::size_t count = 0;
  auto masked = values.mask(json::parse(R"({
    "rows": [{"who": "bo@example.org", "n": 3}],
    "by_email": {"bo@example.org": 1, "jane.doe@example.com": 2, "[pii]": 0},
    "note": "nothing personal"
  })"), &count);
  EXPECT_EQ(masked.at("rows").at(0).at("who"), "[pii]");
  EXPECT_EQ(masked.at("rows").at(0).at("n"), 3);
  const auto& keys = masked.at("by_email").as_object();
  EXPECT_EQ(keys.size(), 3u);  // colliding masked keys are numbered, none is lost
  EXPECT_TRUE(keys.contains("[pii] #2"));
  EXPECT_TRUE(keys.contains("[pii] #3"));
  EXPECT_EQ(masked.at("note"), "nothing personal");
  EXPECT_EQ(count, 3u);
}

TEST(PiiValues, EmptySetChangesNothing) {
  PiiValues none;
  const json::value v = json::parse(R"({"email":"a@b.c"})");
  std::size_t count = 0;
  EXPECT_EQ(none.mask(v, &count), v);
  EXPECT_EQ(count, 0u);
}

TEST(PersonErasure, ErasesTheRowAndTheLearntIdentifiersEverywhere) {
  PersonErasure erasure("JANE.DOE@example.com", {"email", "firstname", "lastname", "phone"});
  const json::value output = json::parse(R"({"contacts": [
    {"id": "1", "email": "jane.doe@example.com", "firstname": "Jane", "lastname": "Doe",
     "phone": "+1 555 0100", "lifecyclestage": "lead"},
    {"id": "2", "email": "jo@example.com", "firstname": "Jane", "lastname": "Roe", "phone": null}
  ]})");
  erasure.learn(output);
  const auto ids = erasure.identifiers();
  EXPECT_NE(std::find(ids.begin(), ids.end(), "+1 555 0100"), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), "Jane Doe"), ids.end());
  EXPECT_EQ(std::find(ids.begin(), ids.end(), "Jane"), ids.end());

  std::size_t count = 0;
  auto erased = erasure.erase(output, count);
  const auto& jane = erased.at("contacts").at(0);
  EXPECT_EQ(jane.at("email"), "[erased]");
  EXPECT_EQ(jane.at("firstname"), "[erased]");
  EXPECT_EQ(jane.at("lastname"), "[erased]");
  EXPECT_EQ(jane.at("phone"), "[erased]");
  EXPECT_EQ(jane.at("lifecyclestage"), "lead");
  EXPECT_EQ(jane.at("id"), "1");
  // Another Jane keeps her name.
  EXPECT_EQ(erased.at("contacts").at(1).at("firstname"), "Jane");
  EXPECT_EQ(count, 4u);

  count = 0;
  EXPECT_EQ(erasure.erase_text("Deal: Jane Doe (+1 555 0100), cc jane.doe@example.com", count),
            "Deal: [erased] ([erased]), cc [erased]");
  EXPECT_EQ(count, 3u);
  // A second pass finds nothing left.
  count = 0;
  erasure.erase(erased, count);
  EXPECT_EQ(count, 0u);
}

}  // namespace
}  // namespace flowpilot::engine
