// The core plugin: core.noop, core.log, core.sleep and core.fail, on the same ABI as every other
// plugin. (core.approval parks a run durably, so it stays an engine feature.)
#include <chrono>
#include <cmath>
#include <cstdint>
#include <flowpilot/plugin.hpp>
#include <string>

#include "duration.h"

namespace {

namespace json = boost::json;
namespace sdk = flowpilot::sdk;

// core.sleep's duration: a duration string, or a number of seconds.
std::int64_t sleep_duration_ms(const sdk::Call& call) {
  const json::value* d = call.input().if_contains("duration");
  std::string error = "core.sleep needs `duration`, such as 2s or 5m";
  std::optional<std::int64_t> ms;
  if (d != nullptr && d->is_string()) {
    ms = flowpilot::core_plugin::parse_duration_ms(d->get_string(), &error);
  } else if (d != nullptr && (d->is_int64() || d->is_uint64())) {
    ms = flowpilot::core_plugin::parse_duration_ms(json::serialize(*d), &error);
  } else if (d != nullptr && d->is_double()) {
    // Serialized doubles look like "1.5E0"; convert instead, keeping whole milliseconds only.
    const double millis = d->get_double() * 1000.0;
    if (std::isfinite(millis) && millis >= 1 &&
        millis <= static_cast<double>(flowpilot::core_plugin::kMaxDurationMs) &&
        millis == std::floor(millis)) {
      ms = static_cast<std::int64_t>(millis);
    } else {
      error = "`" + json::serialize(*d) + "` seconds is not a usable duration";
    }
  }
  if (!ms) throw sdk::StepError(error);
  return *ms;
}

sdk::Level log_level(const sdk::Call& call) {
  const json::value* l = call.input().if_contains("level");
  if (l == nullptr || !l->is_string()) return sdk::Level::info;
  const std::string_view name = l->get_string();
  if (name == "debug") return sdk::Level::debug;
  if (name == "warn") return sdk::Level::warn;
  if (name == "error") return sdk::Level::error;
  return sdk::Level::info;
}

}  // namespace

FLOWPILOT_PLUGIN(
    "core", "1.0.0",
    sdk::Step("noop", "Does nothing and returns its input as its output.")
        .input_schema(R"json({"type":"object"})json")
        .run([](sdk::Call& call) -> json::value { return call.input(); }),

    sdk::Step("log", "Writes a message to the step's log.")
        .input_schema(R"json({"type":"object","required":["message"],"properties":{
             "message":{"description":"Text to log; other values are logged as JSON"},
             "level":{"enum":["debug","info","warn","error"],"description":"Default info"}},
           "additionalProperties":false})json")
        .run([](sdk::Call& call) -> json::value {
          const json::value* message = call.input().if_contains("message");
          if (message == nullptr) throw sdk::StepError("core.log needs `message`");
          std::string text =
              message->is_string() ? std::string(message->get_string()) : json::serialize(*message);
          call.log(log_level(call), text);
          return json::object{{"message", text}};
        }),

    // Waits on a host timer, holding no worker thread; a cancelled run ends the wait at once.
    sdk::Step("sleep", "Waits for a duration, then succeeds.")
        .input_schema(R"json({"type":"object","required":["duration"],"properties":{
             "duration":{"type":["string","number"],
                         "description":"How long: 500ms, 30s, 5m, 2h, 1d, 1h30m, or seconds"}},
           "additionalProperties":false})json")
        .start([](sdk::Call& call) {
          const std::int64_t ms = sleep_duration_ms(call);
          call.after(std::chrono::milliseconds(ms), [ms](sdk::Call& done) {
            if (done.cancelled()) {
              done.fail("sleep cancelled");
            } else {
              done.complete(json::object{{"slept_ms", ms}});
            }
          });
        }),

    // Fails its first `failures` attempts (every attempt without `failures`): for testing
    // retries, on_failure handlers and skip propagation.
    sdk::Step("fail", "Fails with a message; with `failures: N`, fails only the first N attempts.")
        .input_schema(R"json({"type":"object","properties":{
             "message":{"type":"string","description":"The error message"},
             "failures":{"type":"integer","minimum":0,
                         "description":"Fail only the first N attempts (default: every attempt)"},
             "retryable":{"type":"boolean","description":"Whether retries may follow (default true)"}},
           "additionalProperties":false})json")
        .run([](sdk::Call& call) -> json::value {
          const std::string message = call.input_or<std::string>("message", "failed on purpose");
          const std::optional<std::int64_t> failures = call.input_opt<std::int64_t>("failures");
          const bool retryable = call.input_or<bool>("retryable", true);
          const int attempt = call.attempt();
          if (!failures || attempt <= *failures) throw sdk::StepError(message, retryable);
          return json::object{{"attempts", attempt}};
        }))
