// JSON Schema validation of step inputs (and, later, outputs), on valijson.
//
// A JsonSchema is compiled once from a schema document and then validates any number of values.
// Problems come back as values with the field path where each was found, e.g.
// `with.rows[2].cpa: must be a number`, so that validation (file:line:column through the
// workflow's location map) and the executor (before every call) report them the same way.
//
// Thread-safety: a compiled JsonSchema is immutable; validate() may run on many threads at once.
#pragma once

#include <boost/json/value.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::engine {

struct SchemaProblem {
  std::string path;     // `prefix.field[3].sub`; just `prefix` for the value itself
  std::string message;  // a plain sentence, e.g. "required property `message` is missing"
};

class JsonSchema {
 public:
  // Compiles `schema`. Returns nullptr and sets `error` (when given) when it is not a valid
  // JSON Schema (draft 4 to 7 keywords as valijson supports them).
  static std::shared_ptr<const JsonSchema> compile(const boost::json::value& schema,
                                                   std::string* error = nullptr);

  // Every problem found, in document order; empty when `value` is valid. Paths start with
  // `prefix` (e.g. "with").
  std::vector<SchemaProblem> validate(const boost::json::value& value,
                                      std::string_view prefix) const;

  const boost::json::value& document() const { return document_; }

  JsonSchema(const JsonSchema&) = delete;
  JsonSchema& operator=(const JsonSchema&) = delete;
  ~JsonSchema();

 private:
  JsonSchema();
  struct Compiled;
  boost::json::value document_;
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace flowpilot::engine
