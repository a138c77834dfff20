#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/json_print.h"
#include "engine/model/suggest.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <iostream>

namespace flowpilot::cli {
namespace {

std::string flags_of(const engine::StepDescriptor& d) {
  std::string out;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!out.empty()) out += ", ";
    out += name;
  };
  add(d.side_effects, "side effects");
  add(d.idempotent, "idempotent");
  add(d.supports_plan, "plans in dry runs");
  return out.empty() ? "none" : out;
}

std::string type_of(const boost::json::value& schema) {
  const auto* obj = schema.if_object();
  if (obj == nullptr) return "any";
  if (const auto* t = obj->if_contains("type")) {
    if (t->is_string()) return std::string(t->get_string());
    if (t->is_array()) {
      std::string out;
      for (const auto& v : t->get_array()) {
        if (!out.empty()) out += " | ";
        out += v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v);
      }
      return out;
    }
  }
  if (const auto* e = obj->if_contains("enum")) return "one of " + boost::json::serialize(*e);
  return "any";
}

// The fields of an object schema as a table a person can read; the raw schema follows it.
void print_fields(std::ostream& out, const char* title, const boost::json::value& schema) {
  out << "\n" << title << ":\n";
  const auto* obj = schema.if_object();
  const auto* props = obj != nullptr ? obj->if_contains("properties") : nullptr;
  if (props == nullptr || !props->is_object() || props->get_object().empty()) {
    out << "  " << type_of(schema) << (obj != nullptr && obj->empty() ? " (no schema)" : "") << "\n";
    return;
  }
  std::vector<std::string> required;
  if (const auto* r = obj->if_contains("required"); r != nullptr && r->is_array()) {
    for (const auto& v : r->get_array()) {
      if (v.is_string()) required.emplace_back(v.get_string());
    }
  }
  std::size_t width = 5;
  for (const auto& [name, _] : props->get_object()) width = std::max(width, name.size());
  out << fmt::format("  {:<{}}  {:<18}  {:<8}  {}\n", "FIELD", width, "TYPE", "REQUIRED",
                     "DESCRIPTION");
  for (const auto& [name, sub] : props->get_object()) {
    const bool is_required =
        std::find(required.begin(), required.end(), std::string_view(name)) != required.end();
    std::string description;
    if (const auto* s = sub.if_object()) {
      if (const auto* d = s->if_contains("description"); d != nullptr && d->is_string()) {
        description = std::string(d->get_string());
      }
    }
    out << fmt::format("  {:<{}}  {:<18}  {:<8}  {}\n", std::string_view(name), width,
                       type_of(sub), is_required ? "yes" : "", description);
  }
}

}  // namespace

void add_plugins_command(CLI::App& app, int& exit_code) {
  auto* plugins = app.add_subcommand("plugins", "List installed plugins and describe step kinds");
  plugins->require_subcommand(1);

  auto* list = plugins->add_subcommand("list", "Plugins with their versions, files and steps");
  list->callback([&exit_code] {
    AppContext context(CommonOptions{});
    std::cout << fmt::format("{:<12}  {:<9}  {}\n", "PLUGIN", "VERSION", "FILE / STEPS");
    std::cout << fmt::format("{:<12}  {:<9}  {}\n", "(engine)", "0.1.0", "built into flowpilot");
    std::cout << fmt::format("{:<12}  {:<9}    {}\n", "", "", engine::kApprovalStep);
    for (const auto& plugin : context.plugins().plugins()) {
      std::cout << fmt::format("{:<12}  {:<9}  {}\n", plugin.name, plugin.version, plugin.file);
      for (const auto& step : plugin.steps) std::cout << fmt::format("{:<12}  {:<9}    {}\n", "", "", step);
    }
    for (const auto& refusal : context.plugin_refusals()) {
      std::cout << "not loaded: " << refusal.to_string() << "\n";
    }
    exit_code = context.plugin_refusals().empty() ? kExitOk : kExitFailed;
  });

  auto step = std::make_shared<std::string>();
  auto* describe = plugins->add_subcommand("describe", "A step kind's summary, flags and schemas");
  describe->add_option("step", *step, "Step kind, e.g. core.sleep")->required();
  describe->callback([step, &exit_code] {
    AppContext context(CommonOptions{});
    const engine::StepDescriptor* d = context.registry().describe(*step);
    if (d == nullptr) {
      const std::string suggestion = engine::nearest_name(*step, context.registry().step_names());
      throw UsageError("no step kind `" + *step + "` is installed" +
                       (suggestion.empty() ? "" : " (did you mean `" + suggestion + "`?)") +
                       "; `flowpilot plugins list` shows them all");
    }
    std::cout << d->name << ": " << d->summary << "\n";
    std::cout << "flags: " << flags_of(*d) << "\n";
    print_fields(std::cout, "input (with)", d->input_schema);
    print_fields(std::cout, "output", d->output_schema);
    std::cout << "\ninput schema:\n" << pretty_json(d->input_schema) << "\n";
    std::cout << "\noutput schema:\n" << pretty_json(d->output_schema) << "\n";
    exit_code = kExitOk;
  });
}

}  // namespace flowpilot::cli
