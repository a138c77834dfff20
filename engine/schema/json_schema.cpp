// JsonSchema on valijson: valijson decides validity and says where; this file turns its results
// into our paths and plain sentences.
//
// valijson's raw results need three kinds of repair:
//  - contexts are `<root>`, `[rows]`, `[1]`, ...: object keys and array indices look the same, so
//    the path is rebuilt by walking the validated value;
//  - every failure inside an object or array is repeated as a summary on each parent ("Failed to
//    validate against schema associated with property name 'rows'"); those are dropped whenever a
//    more specific problem exists at or below the same path;
//  - messages carry little detail ("Value type not permitted by 'type' constraint"), so the
//    subschema at the failing path is looked up in the schema document to name what was expected.
//    That lookup follows `properties`, `patternProperties`, `additionalProperties`, `items`,
//    `additionalItems`, `allOf` and local `$ref`s; when it finds nothing, a plainer generic
//    sentence is used instead.

// GCC 12 at -O2 with the sanitizers warns inside <regex> (std::function in the regex automaton
// "may be used uninitialized"), a known false positive in the standard library that valijson's
// `pattern` support instantiates here; -Werror would turn it into a build failure.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// valijson aborts the process on a bad schema unless VALIJSON_USE_EXCEPTIONS is defined, which
// engine/CMakeLists.txt does for the whole library.

#include "engine/schema/json_schema.h"
#include "engine/model/json_text.h"

#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <regex>
#include <set>
#include <sstream>
#include <unordered_map>
#include <utility>

namespace flowpilot::engine {
namespace {

namespace json = boost::json;

// Long enum and property lists are cut here; the rest is summarised as a count.
constexpr std::size_t kMaxListed = 12;
// Guards the schema lookup against `$ref` loops ({"$ref": "#"} inside itself).
constexpr int kMaxRefDepth = 32;

// One step of an instance path: an object key or an array index.
struct Segment {
  bool is_index = false;
  std::size_t index = 0;
  std::string key;
};

struct RawProblem {
  std::vector<Segment> segments;
  std::string path;
  const json::value* value = nullptr;  // the value at `path`, when it exists
  std::string description;             // valijson's text
};

struct Problem {
  std::string path;
  std::string message;
  bool summary = false;  // a parent's "something below failed"
  std::string child;     // for a summary about one member, that member's path
  std::size_t order = 0;
};

std::string append_key(std::string path, std::string_view key) {
  if (!path.empty()) path += '.';
  path += key;
  return path;
}

std::string append_index(std::string path, std::size_t index) {
  path += '[';
  path += std::to_string(index);
  path += ']';
  return path;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Rebuilds the path from valijson's context by walking `root` alongside it: "[3]" is an index
// when the value there is an array, otherwise the key "3".
RawProblem locate(const json::value& root, const std::vector<std::string>& context,
                  std::string_view prefix) {
  RawProblem out;
  out.path = std::string(prefix);
  const json::value* current = &root;
  for (std::size_t i = 0; i < context.size(); ++i) {
    const std::string& part = context[i];
    if (i == 0 && part == "<root>") continue;
    std::string_view inner = part;
    if (inner.size() >= 2 && inner.front() == '[' && inner.back() == ']') {
      inner = inner.substr(1, inner.size() - 2);
    }
    Segment segment;
    if (current != nullptr && current->is_array() && all_digits(inner)) {
      segment.is_index = true;
      segment.index = static_cast<std::size_t>(std::strtoull(std::string(inner).c_str(), nullptr, 10));
      const auto& array = current->get_array();
      current = segment.index < array.size() ? &array[segment.index] : nullptr;
      out.path = append_index(std::move(out.path), segment.index);
    } else {
      segment.key = std::string(inner);
      const json::object* object = current != nullptr ? current->if_object() : nullptr;
      current = object != nullptr ? object->if_contains(segment.key) : nullptr;
      out.path = append_key(std::move(out.path), segment.key);
    }
    out.segments.push_back(std::move(segment));
  }
  out.value = current;
  return out;
}

// Pre-order position of every path in `value`, so that problems come out in document order
// (Boost.JSON keeps object members in the order they were written).
void number_paths(const json::value& value, const std::string& path,
                  std::unordered_map<std::string, std::size_t>& order) {
  order.emplace(path, order.size());
  if (const json::object* o = value.if_object()) {
    for (const auto& member : *o) number_paths(member.value(), append_key(path, member.key()), order);
  } else if (const json::array* a = value.if_array()) {
    for (std::size_t i = 0; i < a->size(); ++i) number_paths((*a)[i], append_index(path, i), order);
  }
}

// ---- looking up the subschemas that apply at an instance path ----

// Resolves a local JSON pointer ("#/definitions/row"); remote references were refused when the
// schema compiled, so anything else yields null.
const json::value* resolve_pointer(const json::value& root, std::string_view ref) {
  if (ref.empty() || ref.front() != '#') return nullptr;
  ref.remove_prefix(1);
  if (ref.empty()) return &root;
  try {
    // Percent-encoding in fragments is rare in hand-written schemas; unescaped text works.
    boost::system::error_code ec;
    const json::value* found = root.find_pointer(ref, ec);
    return ec ? nullptr : found;
  } catch (const std::exception&) {
    return nullptr;
  }
}

// Adds `schema` and everything that applies alongside it (`$ref` targets, `allOf` members).
void expand(const json::value& root, const json::value* schema, int depth,
            std::vector<const json::object*>& out) {
  if (schema == nullptr || depth > kMaxRefDepth) return;
  const json::object* o = schema->if_object();
  if (o == nullptr) return;
  if (std::find(out.begin(), out.end(), o) != out.end()) return;
  out.push_back(o);
  if (const json::value* ref = o->if_contains("$ref"); ref != nullptr && ref->is_string()) {
    expand(root, resolve_pointer(root, ref->get_string()), depth + 1, out);
  }
  if (const json::value* all = o->if_contains("allOf"); all != nullptr && all->is_array()) {
    for (const auto& member : all->get_array()) expand(root, &member, depth + 1, out);
  }
}

bool pattern_matches(std::string_view pattern, const std::string& text) {
  try {
    return std::regex_search(text, std::regex(pattern.begin(), pattern.end(), std::regex::ECMAScript));
  } catch (const std::regex_error&) {
    return false;
  }
}

std::vector<const json::object*> subschemas_at(const json::value& root,
                                               const std::vector<Segment>& segments) {
  std::vector<const json::object*> current;
  expand(root, &root, 0, current);
  for (const Segment& segment : segments) {
    std::vector<const json::object*> next;
    for (const json::object* schema : current) {
      if (segment.is_index) {
        const json::value* items = schema->if_contains("items");
        if (items != nullptr && items->is_array()) {
          const auto& tuple = items->get_array();
          if (segment.index < tuple.size()) {
            expand(root, &tuple[segment.index], 0, next);
          } else {
            expand(root, schema->if_contains("additionalItems"), 0, next);
          }
        } else {
          expand(root, items, 0, next);
        }
        continue;
      }
      bool matched = false;
      if (const json::value* props = schema->if_contains("properties"); props != nullptr && props->is_object()) {
        if (const json::value* s = props->get_object().if_contains(segment.key)) {
          expand(root, s, 0, next);
          matched = true;
        }
      }
      if (const json::value* patterns = schema->if_contains("patternProperties");
          patterns != nullptr && patterns->is_object()) {
        for (const auto& entry : patterns->get_object()) {
          if (pattern_matches(entry.key(), segment.key)) {
            expand(root, &entry.value(), 0, next);
            matched = true;
          }
        }
      }
      if (!matched) expand(root, schema->if_contains("additionalProperties"), 0, next);
    }
    current = std::move(next);
    if (current.empty()) break;
  }
  return current;
}

// ---- wording ----

std::string type_name(std::string_view type) {
  if (type == "string") return "a string";
  if (type == "number") return "a number";
  if (type == "integer") return "an integer";
  if (type == "boolean") return "a boolean";
  if (type == "object") return "an object";
  if (type == "array") return "an array";
  if (type == "null") return "null";
  return "`" + std::string(type) + "`";
}

std::string kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string: return "a string";
    case json::kind::int64:
    case json::kind::uint64: return "an integer";
    case json::kind::double_: return "a number";
    case json::kind::bool_: return "a boolean";
    case json::kind::object: return "an object";
    case json::kind::array: return "an array";
    case json::kind::null: return "null";
  }
  return "something else";
}


std::string join(const std::vector<std::string>& items, std::string_view last) {
  std::string out;
  const std::size_t shown = std::min(items.size(), kMaxListed);
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) out += (i + 1 == shown && shown == items.size()) ? last : std::string_view(", ");
    out += items[i];
  }
  if (shown < items.size()) out += " and " + std::to_string(items.size() - shown) + " more";
  return out;
}

// valijson prints limits with std::to_string ("0.000000"); trailing zeros go.
std::string trim_number(std::string text) {
  if (text.find('.') == std::string::npos) return text;
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

// The text after `prefix` in `description` up to the first of `stops`, or nullopt.
std::optional<std::string> after(std::string_view description, std::string_view prefix,
                                 std::string_view stops = " .'") {
  if (!description.starts_with(prefix)) return std::nullopt;
  description.remove_prefix(prefix.size());
  const auto end = description.find_first_of(stops);
  return std::string(description.substr(0, end));
}

// The text between the first pair of single quotes.
std::string quoted(std::string_view description) {
  const auto open = description.find('\'');
  if (open == std::string_view::npos) return {};
  const auto close = description.find('\'', open + 1);
  if (close == std::string_view::npos) return {};
  return std::string(description.substr(open + 1, close - open - 1));
}

bool value_has_type(const json::value& v, std::string_view type) {
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  // Matches valijson's strict typing: only values written as integers are integers.
  if (type == "integer") return v.is_int64() || v.is_uint64();
  if (type == "boolean") return v.is_bool();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "null") return v.is_null();
  return false;
}

void collect_types(const json::value* type, std::vector<std::string>& out) {
  if (type == nullptr) return;
  auto add = [&](const json::value& t) {
    if (!t.is_string()) return;
    std::string name(t.get_string());
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  };
  if (type->is_array()) {
    for (const auto& t : type->get_array()) add(t);
  } else {
    add(*type);
  }
}

// The types a value may have where it failed: from each applicable subschema whose own `type`
// the value misses, or from the alternatives of its `anyOf`/`oneOf`.
std::vector<std::string> expected_types(const std::vector<const json::object*>& schemas,
                                        const json::value& value) {
  std::vector<std::string> types;
  for (const json::object* schema : schemas) {
    std::vector<std::string> own;
    collect_types(schema->if_contains("type"), own);
    if (!own.empty() && std::none_of(own.begin(), own.end(),
                                     [&](const std::string& t) { return value_has_type(value, t); })) {
      for (auto& t : own) {
        if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(std::move(t));
      }
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      const json::value* alternatives = schema->if_contains(key);
      if (alternatives == nullptr || !alternatives->is_array()) continue;
      for (const auto& alternative : alternatives->get_array()) {
        if (const json::object* a = alternative.if_object()) collect_types(a->if_contains("type"), types);
      }
    }
  }
  return types;
}

std::string type_message(const std::vector<const json::object*>& schemas, const json::value* value) {
  if (value == nullptr) return "has the wrong type";
  // valijson takes only signed 64-bit integers as integers.
  if (value->is_uint64()) return "is too large a number (at most 9223372036854775807)";
  const std::vector<std::string> types = expected_types(schemas, *value);
  if (types.empty()) return "must not be " + kind_name(*value);
  std::vector<std::string> names;
  for (const auto& t : types) names.push_back(type_name(t));
  // "must be an integer, not 1.5" says more than "not a number".
  const std::string actual = value->is_double() ? display_json(*value) : kind_name(*value);
  return "must be " + join(names, " or ") + ", not " + actual;
}

std::string enum_message(const std::vector<const json::object*>& schemas, const json::value* value) {
  std::vector<std::string> allowed;
  for (const json::object* schema : schemas) {
    const json::value* e = schema->if_contains("enum");
    if (e == nullptr || !e->is_array()) continue;
    if (value != nullptr &&
        std::find(e->get_array().begin(), e->get_array().end(), *value) != e->get_array().end()) {
      continue;  // this enum accepted it; another one failed
    }
    for (const auto& v : e->get_array()) allowed.push_back(display_json(v));
    break;
  }
  std::string out = allowed.empty() ? "is not one of the allowed values"
                    : allowed.size() == 1 ? "must be " + allowed.front()
                                          : "must be one of " + join(allowed, " or ");
  if (value != nullptr && !value->is_object() && !value->is_array()) out += ", not " + display_json(*value);
  return out;
}

std::string const_message(const std::vector<const json::object*>& schemas) {
  for (const json::object* schema : schemas) {
    if (const json::value* c = schema->if_contains("const")) return "must be " + display_json(*c);
  }
  return "does not have the required value";
}

std::string pattern_message(const std::vector<const json::object*>& schemas, const json::value* value) {
  for (const json::object* schema : schemas) {
    const json::value* p = schema->if_contains("pattern");
    if (p == nullptr || !p->is_string()) continue;
    if (value != nullptr && value->is_string() &&
        pattern_matches(p->get_string(), std::string(value->get_string()))) {
      continue;
    }
    return "must match the pattern `" + std::string(p->get_string()) + "`";
  }
  return "does not match the required pattern";
}

// Every property of `object` that a subschema with `additionalProperties: false` does not allow,
// each with that subschema's allowed names. valijson itself reports only the first one.
std::vector<std::string> unknown_property_messages(const std::vector<const json::object*>& schemas,
                                                   const json::value* value) {
  std::vector<std::string> out;
  const json::object* object = value != nullptr ? value->if_object() : nullptr;
  if (object == nullptr) return out;
  std::set<std::string> reported;
  for (const json::object* schema : schemas) {
    const json::value* additional = schema->if_contains("additionalProperties");
    if (additional == nullptr || !additional->is_bool() || additional->get_bool()) continue;
    const json::value* props = schema->if_contains("properties");
    const json::object* named = props != nullptr ? props->if_object() : nullptr;
    const json::value* patterns_value = schema->if_contains("patternProperties");
    const json::object* patterns = patterns_value != nullptr ? patterns_value->if_object() : nullptr;
    std::vector<std::string> allowed;
    if (named != nullptr) {
      for (const auto& entry : *named) allowed.push_back("`" + std::string(entry.key()) + "`");
    }
    for (const auto& member : *object) {
      const std::string key(member.key());
      if (named != nullptr && named->contains(key)) continue;
      bool by_pattern = false;
      if (patterns != nullptr) {
        for (const auto& entry : *patterns) by_pattern = by_pattern || pattern_matches(entry.key(), key);
      }
      if (by_pattern || !reported.insert(key).second) continue;
      std::string message = "unknown property `" + key + "`";
      if (!allowed.empty()) {
        message += "; allowed: " + join(allowed, " and ");
      } else if (patterns == nullptr) {
        message += "; no properties are allowed here";
      }
      out.push_back(std::move(message));
    }
  }
  return out;
}

bool is_summary(std::string_view d) {
  static constexpr std::string_view kSummaries[] = {
      "Failed to validate against schema associated with property name",
      "Failed to validate item #",
      "Failed to validate against additional properties schema",
      "Failed to validate against schema associated with pattern",
      "Failed to validate against child schema #",
      "Failed to validate against dependent schema",
      "Failed to validate against any schemas allowed by anyOf",
      "Failed to validate against any child schemas allowed by oneOf",
      "Failed to validate against a conditional schema",
  };
  return std::any_of(std::begin(kSummaries), std::end(kSummaries),
                     [&](std::string_view s) { return d.starts_with(s); });
}

// Fallback: valijson's sentence, lower-cased and without its full stop.
std::string plain(std::string text) {
  if (!text.empty() && text.back() == '.') text.pop_back();
  if (!text.empty() && text.front() >= 'A' && text.front() <= 'Z' &&
      !(text.size() > 1 && text[1] >= 'A' && text[1] <= 'Z')) {
    text.front() = static_cast<char>(text.front() - 'A' + 'a');
  }
  return text;
}

// Turns one valijson result into zero or more of our sentences.
std::vector<std::string> messages_for(const RawProblem& raw, const json::value& schema_root) {
  const std::string& d = raw.description;
  auto schemas = [&] { return subschemas_at(schema_root, raw.segments); };

  if (d.starts_with("Value type not permitted")) return {type_message(schemas(), raw.value)};
  if (d.starts_with("Missing required property") || d.starts_with("Missing dependency")) {
    return {"required property `" + quoted(d) + "` is missing"};
  }
  if (d.starts_with("Object contains a property that could not be validated")) {
    auto unknown = unknown_property_messages(schemas(), raw.value);
    if (unknown.empty()) unknown.push_back("unknown property `" + quoted(d) + "`");
    return unknown;
  }
  if (d.starts_with("Failed to match against any enum values")) return {enum_message(schemas(), raw.value)};
  if (d.starts_with("Failed to match expected value set by 'const'")) return {const_message(schemas())};
  if (d.starts_with("Failed to match regex")) return {pattern_message(schemas(), raw.value)};

  const std::string actual =
      raw.value != nullptr && raw.value->is_number() ? ", not " + display_json(*raw.value) : "";
  if (auto n = after(d, "Expected number greater than or equal to ", " ")) {
    return {"must be at least " + trim_number(*n) + actual};
  }
  if (auto n = after(d, "Expected number greater than ", " ")) {
    return {"must be greater than " + trim_number(*n) + actual};
  }
  if (auto n = after(d, "Expected number less than or equal to ", " ")) {
    return {"must be at most " + trim_number(*n) + actual};
  }
  if (auto n = after(d, "Expected number less than ", " ")) {
    return {"must be less than " + trim_number(*n) + actual};
  }
  if (auto n = after(d, "Value should be a multiple of ", " ")) {
    return {"must be a multiple of " + trim_number(*n)};
  }
  auto count = [](const std::string& n, std::string_view one, std::string_view many) {
    return n + " " + std::string(n == "1" ? one : many);
  };
  if (auto n = after(d, "String should be no fewer than ")) {
    return {"must be at least " + count(*n, "character", "characters") + " long"};
  }
  if (auto n = after(d, "String should be no more than ")) {
    return {"must be at most " + count(*n, "character", "characters") + " long"};
  }
  if (auto n = after(d, "Array should contain no fewer than ")) {
    return {"must have at least " + count(*n, "item", "items")};
  }
  if (auto n = after(d, "Array should contain no more than ")) {
    return {"must have at most " + count(*n, "item", "items")};
  }
  if (auto n = after(d, "Object should have no fewer than ")) {
    return {"must have at least " + count(*n, "property", "properties")};
  }
  if (auto n = after(d, "Object should have no more than ")) {
    return {"must have at most " + count(*n, "property", "properties")};
  }
  if (auto f = after(d, "String should be a valid ", "")) return {"must be a valid " + *f};
  if (d.starts_with("Array contains more items than allowed") || d.starts_with("Cannot validate item #")) {
    return {"has more items than allowed"};
  }
  if (auto first = after(d, "Elements at indexes #")) {
    const auto second = d.find("and #");
    const std::string other = second == std::string::npos ? "?" : after(d.substr(second), "and #").value_or("?");
    return {"items [" + *first + "] and [" + other + "] are the same; items must be unique"};
  }
  if (d.starts_with("Failed to any values against subschema in 'contains'")) {
    return {"has no item of the required form"};
  }
  if (d.starts_with("Target should not validate against schema specified in 'not'")) {
    return {"has a form that is not allowed here"};
  }
  if (d.starts_with("Failed to validate against exactly one child schema")) {
    return {"matches more than one of the allowed forms; it must match exactly one"};
  }
  if (d.starts_with("Failed to validate against any schemas allowed by anyOf") ||
      d.starts_with("Failed to validate against any child schemas allowed by oneOf")) {
    return {"does not match any of the allowed forms"};
  }
  if (is_summary(d)) return {"is not valid"};
  return {plain(d)};
}

// Regexes are compiled only when a value is validated; a bad one is found here instead, when the
// schema compiles. Literal data (`enum`, `const`, `default`, `examples`) is not schema, so it is
// skipped: a default string may well be named "pattern".
void check_patterns(const json::value& schema) {
  const json::object* o = schema.if_object();
  if (o != nullptr) {
    for (const auto& entry : *o) {
      const std::string_view key = entry.key();
      if (key == "enum" || key == "const" || key == "default" || key == "examples") continue;
      if (key == "pattern" && entry.value().is_string()) {
        const std::string_view p = entry.value().get_string();
        static_cast<void>(std::regex(p.begin(), p.end(), std::regex::ECMAScript));
      }
      if (key == "patternProperties" && entry.value().is_object()) {
        for (const auto& pattern : entry.value().get_object()) {
          const std::string_view p = pattern.key();
          static_cast<void>(std::regex(p.begin(), p.end(), std::regex::ECMAScript));
        }
      }
      check_patterns(entry.value());
    }
  } else if (const json::array* a = schema.if_array()) {
    for (const auto& v : *a) check_patterns(v);
  }
}

valijson::SchemaParser::Version version_of(const json::value& schema) {
  if (const json::object* o = schema.if_object()) {
    if (const json::value* s = o->if_contains("$schema"); s != nullptr && s->is_string()) {
      const std::string_view uri = s->get_string();
      if (uri.find("draft-04") != std::string_view::npos) return valijson::SchemaParser::kDraft4;
      if (uri.find("draft-03") != std::string_view::npos) return valijson::SchemaParser::kDraft3;
    }
  }
  return valijson::SchemaParser::kDraft7;
}

}  // namespace

struct JsonSchema::Compiled {
  valijson::Schema schema;
};

JsonSchema::JsonSchema() : compiled_(std::make_unique<Compiled>()) {}
JsonSchema::~JsonSchema() = default;

std::shared_ptr<const JsonSchema> JsonSchema::compile(const boost::json::value& schema,
                                                      std::string* error) {
  auto fail = [&](std::string why) -> std::shared_ptr<const JsonSchema> {
    if (error != nullptr) *error = "not a valid JSON Schema: " + why;
    return nullptr;
  };
  if (!schema.is_object() && !schema.is_bool()) {
    return fail("a schema is an object (or true/false), not " + kind_name(schema));
  }
  // The constructor is private, hence no make_shared.
  std::shared_ptr<JsonSchema> out(new JsonSchema());
  out->document_ = schema;
  try {
    check_patterns(out->document_);
    valijson::SchemaParser parser(version_of(out->document_));
    // No document fetcher is given, so a remote `$ref` is refused rather than fetched.
    parser.populateSchema(valijson::adapters::BoostJsonAdapter(out->document_), out->compiled_->schema);
  } catch (const std::regex_error& e) {
    return fail(std::string("a regular expression does not compile: ") + e.what());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return out;
}

std::vector<SchemaProblem> JsonSchema::validate(const boost::json::value& value,
                                                std::string_view prefix) const {
  // A Validator holds a regex cache, so each call has its own; the Schema is only read.
  valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  try {
    if (validator.validate(compiled_->schema, valijson::adapters::BoostJsonAdapter(value), &results)) {
      return {};
    }
  } catch (const std::exception& e) {
    return {SchemaProblem{std::string(prefix), std::string("cannot be checked against its schema: ") + e.what()}};
  }

  std::vector<Problem> problems;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    RawProblem raw = locate(value, error.context, prefix);
    raw.description = std::move(error.description);
    const bool summary = is_summary(raw.description);
    std::string child;
    if (summary) {
      const json::value* parent = raw.value;
      if (auto key = after(raw.description, "Failed to validate against schema associated with property name '", "'")) {
        child = append_key(raw.path, *key);
      } else if (raw.description.find("corresponding item schema") != std::string::npos) {
        child = raw.path;  // reported at the item itself
      } else if (auto index = after(raw.description, "Failed to validate item #", " ");
                 index && parent != nullptr && parent->is_array() && all_digits(*index)) {
        child = append_index(raw.path, std::strtoull(index->c_str(), nullptr, 10));
      }
    }
    for (auto& message : messages_for(raw, document_)) {
      problems.push_back(Problem{raw.path, std::move(message), summary, child, 0});
    }
  }
  if (problems.empty()) {
    // The whole schema is `false` (or something equally silent): still say no.
    problems.push_back(Problem{std::string(prefix), "is not allowed here", false, {}, 0});
  }

  // A summary stays only when nothing more specific was found at or below its path.
  auto inside = [](const std::string& path, const std::string& parent) {
    if (!path.starts_with(parent)) return false;
    if (path.size() == parent.size() || parent.empty()) return true;
    return path[parent.size()] == '.' || path[parent.size()] == '[';
  };
  std::vector<Problem> kept;
  for (Problem& p : problems) {
    if (p.summary && std::any_of(problems.begin(), problems.end(), [&](const Problem& q) {
          return !q.summary && inside(q.path, p.path);
        })) {
      continue;
    }
    // A `false` subschema fails without a word, leaving only its parent's summary.
    if (p.summary && !p.child.empty()) {
      p.path = std::move(p.child);
      p.message = "is not allowed here";
    }
    const bool duplicate = std::any_of(kept.begin(), kept.end(), [&](const Problem& q) {
      return q.path == p.path && q.message == p.message;
    });
    if (!duplicate) kept.push_back(p);
  }

  std::unordered_map<std::string, std::size_t> order;
  number_paths(value, std::string(prefix), order);
  for (Problem& p : kept) {
    auto it = order.find(p.path);
    p.order = it == order.end() ? order.size() : it->second;
  }
  std::stable_sort(kept.begin(), kept.end(),
                   [](const Problem& a, const Problem& b) { return a.order < b.order; });

  std::vector<SchemaProblem> out;
  out.reserve(kept.size());
  for (Problem& p : kept) out.push_back(SchemaProblem{std::move(p.path), std::move(p.message)});
  return out;
}

}  // namespace flowpilot::engine
