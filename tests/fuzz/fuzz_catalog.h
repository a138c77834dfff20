// The step kinds the loader fuzz targets may name. Two carry input schemas so that fuzzed `with`
// blocks also reach schema validation: `core.log` (closed object) and `sheets.append` (integers,
// an enum and a nested list of objects).
#pragma once

#include "engine/model/workflow.h"
#include "engine/schema/json_schema.h"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::fuzz {

class FuzzCatalog final : public engine::StepCatalog {
 public:
  bool has_step(std::string_view uses) const override {
    return std::find(names_.begin(), names_.end(), uses) != names_.end();
  }
  std::vector<std::string> step_names() const override { return names_; }
  const engine::JsonSchema* input_schema(std::string_view uses) const override {
    if (uses == "core.log") return log_.get();
    if (uses == "sheets.append") return sheets_.get();
    return nullptr;
  }

 private:
  static std::shared_ptr<const engine::JsonSchema> compile(std::string_view text) {
    std::string error;
    auto schema = engine::JsonSchema::compile(boost::json::parse(text), &error);
    if (schema == nullptr) std::abort();  // a bug in this file, not in the code under test
    return schema;
  }

  std::vector<std::string> names_{"core.noop",  "core.log",      "core.sleep",
                                  "core.fail",  "core.approval", "lua",
                                  "http.request", "slack.notify", "sheets.append"};
  std::shared_ptr<const engine::JsonSchema> log_ = compile(R"({
    "type": "object", "required": ["message"], "additionalProperties": false,
    "properties": {"message": {"type": "string"}, "level": {"enum": ["info", "warn", "error"]}}
  })");
  std::shared_ptr<const engine::JsonSchema> sheets_ = compile(R"({
    "type": "object", "required": ["sheet", "rows"],
    "properties": {
      "sheet": {"type": "string"},
      "max_rows": {"type": "integer", "minimum": 1, "maximum": 1000},
      "mode": {"enum": ["append", "replace"]},
      "rows": {"type": "array", "items": {"type": "object", "required": ["name"],
        "properties": {"name": {"type": "string"}, "cpa": {"type": "number", "minimum": 0}}}}
    }
  })");
};

}  // namespace flowpilot::fuzz
