// The csv plugin: csv.read (a file under the allowed roots, or inline content, through a typed
// schema into valid rows, rejected rows and a data-quality report) and csv.write (rows to a file
// or to text, protected against formula injection). The rules are in csv_logic.h.
//
// Configuration: {"roots": ["/data/in", "/data/out"]}: the only directories files may be read
// from or written to; without roots, file access is refused and only `content` works.
#include <flowpilot/plugin.hpp>
#include <string>
#include <utility>

#include "csv_logic.h"

namespace {

namespace json = boost::json;
namespace sdk = flowpilot::sdk;
namespace cp = flowpilot::csv_plugin;

constexpr const char* kReadInput = R"json({
  "type": "object",
  "properties": {
    "path": {"type": "string", "minLength": 1,
             "description": "File to read, under one of the plugin's allowed roots"},
    "content": {"type": "string", "description": "The CSV text itself (e.g. an upload)"},
    "delimiter": {"type": "string", "minLength": 1, "maxLength": 3,
                  "description": "One character, or tab; default ,"},
    "header": {"type": "boolean", "description": "The first record names the columns; default true"},
    "encoding": {"enum": ["utf-8", "UTF-8", "utf8"],
                 "description": "Only UTF-8 is read (a byte-order mark is dropped); convert other encodings first"},
    "schema": {"type": "array", "items": {"type": "object", "required": ["name"],
      "properties": {
        "name": {"type": "string", "minLength": 1},
        "type": {"enum": ["string", "integer", "number", "decimal", "money", "date", "boolean"]},
        "required": {"type": "boolean"},
        "allowed": {"type": "array"},
        "min": {"type": ["number", "string"]},
        "max": {"type": ["number", "string"]},
        "format": {"type": "string"},
        "rename": {"type": "string", "minLength": 1}},
      "additionalProperties": false}},
    "extra_columns": {"enum": ["keep", "drop"]},
    "max_rejected": {"type": ["integer", "number", "string"],
                     "description": "A count, a ratio below 1 or a percentage such as 5%"},
    "max_field_bytes": {"type": "integer", "minimum": 1},
    "stamp_batch_id": {"type": "boolean"}
  },
  "anyOf": [{"required": ["path"]}, {"required": ["content"]}],
  "additionalProperties": false
})json";

constexpr const char* kReadOutput = R"json({
  "type": "object",
  "required": ["rows", "rejected", "report", "batch_id"],
  "properties": {
    "rows": {"type": "array", "items": {"type": "object"}},
    "rejected": {"type": "array"},
    "report": {"type": "object"},
    "batch_id": {"type": "string"}
  }
})json";

constexpr const char* kWriteInput = R"json({
  "type": "object",
  "required": ["rows"],
  "properties": {
    "rows": {"type": "array", "items": {"type": "object"}},
    "path": {"type": "string", "minLength": 1,
             "description": "File to write, under one of the plugin's allowed roots; without it the CSV text is returned as `content`"},
    "columns": {"type": "array", "items": {"type": "string"}},
    "delimiter": {"type": "string", "minLength": 1, "maxLength": 3},
    "header": {"type": "boolean"},
    "line_ending": {"enum": ["crlf", "lf"]}
  },
  "additionalProperties": false
})json";

json::value read_step(sdk::Call& call) {
  const json::object& with = call.input();
  cp::ReadOptions options;
  cp::ReadResult result;
  try {
    options = cp::parse_read_options(with);
    options.batch_id = cp::batch_id_for(call.idempotency_key());
    if (with.contains("path") && with.contains("content")) {
      throw cp::OptionError("give `path` (a file) or `content` (the CSV text), not both");
    }
    if (const auto* path = with.if_contains("path"); path != nullptr && path->is_string()) {
      const auto roots = cp::roots_from_config(call.config());
      const auto file = cp::resolve_allowed(path->get_string(), roots, "with.path");
      result = cp::read_csv_file(file, options);
    } else if (const auto* content = with.if_contains("content");
               content != nullptr && content->is_string()) {
      result = cp::read_csv(std::string_view(content->get_string()), options);
    } else {
      throw cp::OptionError("csv.read needs `path` or `content`");
    }
  } catch (const cp::OptionError& e) {
    throw sdk::StepError(std::string("csv.read: ") + e.what());
  }
  if (auto message = cp::reject_limit_message(result, options)) throw sdk::StepError(*message);
  if (result.rows_rejected > 0) {
    call.log(sdk::Level::warn, "csv.read: " + std::to_string(result.rows_rejected) + " of " +
                                   std::to_string(result.rows_read) + " rows rejected");
  }
  return json::object{{"rows", std::move(result.rows)},
                      {"rejected", std::move(result.rejected)},
                      {"report", std::move(result.report)},
                      {"batch_id", options.batch_id}};
}

json::value write_step(sdk::Call& call) {
  const json::object& with = call.input();
  const json::value* rows = with.if_contains("rows");
  if (rows == nullptr || !rows->is_array()) throw sdk::StepError("csv.write needs `rows`, a list");
  try {
    cp::WriteOptions options = cp::parse_write_options(with);
    const std::string text = cp::write_csv(rows->get_array(), options);
    json::array columns;
    for (const auto& c : options.columns) columns.emplace_back(c);
    const std::size_t count = rows->get_array().size();
    const json::value* path = with.if_contains("path");
    if (path == nullptr || !path->is_string()) {
      return json::object{{"content", text}, {"rows", count}, {"columns", std::move(columns)}};
    }
    const auto roots = cp::roots_from_config(call.config());
    const auto file = cp::resolve_allowed(path->get_string(), roots, "with.path");
    if (call.plan_mode()) {
      return json::object{{"plan", json::array{json::object{{"action", "write_file"},
                                                             {"path", file.string()},
                                                             {"rows", count},
                                                             {"bytes", text.size()},
                                                             {"columns", columns}}}}};
    }
    cp::write_file_atomically(file, text);
    return json::object{{"path", file.string()},
                        {"rows", count},
                        {"bytes", text.size()},
                        {"columns", std::move(columns)}};
  } catch (const cp::OptionError& e) {
    throw sdk::StepError(std::string("csv.write: ") + e.what());
  }
}

sdk::Plugin make_plugin() {
  sdk::Plugin plugin("csv", "1.0.0");
  plugin.on_init([](const json::object& config) -> std::string {
    try {
      cp::roots_from_config(config);
    } catch (const cp::OptionError& e) {
      return e.what();
    }
    return {};
  });
  plugin.step(sdk::Step("read", "Reads CSV from a file or from text into typed rows, rejected rows "
                                "and a data-quality report.")
                  .input_schema(kReadInput)
                  .output_schema(kReadOutput)
                  .flags(FP_STEP_IDEMPOTENT)
                  .run(read_step));
  plugin.step(sdk::Step("write", "Writes rows as CSV to a file or returns the CSV text, with "
                                 "formula-injection protection.")
                  .input_schema(kWriteInput)
                  .flags(FP_STEP_SIDE_EFFECTS | FP_STEP_SUPPORTS_PLAN | FP_STEP_IDEMPOTENT)
                  .run(write_step));
  return plugin;
}

}  // namespace

FLOWPILOT_PLUGIN_FROM(make_plugin)
