// hello: the smallest useful Flowpilot plugin, a template to copy.
//   hello.greet   a synchronous step: returns a greeting built from its input
//   hello.later   an asynchronous step: waits on a host timer, then completes
#include <chrono>
#include <flowpilot/plugin.hpp>
#include <string>

namespace sdk = flowpilot::sdk;
namespace json = boost::json;

FLOWPILOT_PLUGIN(
    "hello", "1.0.0",
    sdk::Step("greet", "Greets someone by name.")
        .input_schema(R"({"type":"object","required":["name"],
                          "properties":{"name":{"type":"string"},
                                        "punctuation":{"type":"string","default":"!"}},
                          "additionalProperties":false})")
        .output_schema(R"({"type":"object","properties":{"greeting":{"type":"string"}}})")
        .run([](sdk::Call& call) -> json::value {
          const std::string name = call.get_string("name");
          const std::string greeting =
              "Hello, " + name + call.input_or<std::string>("punctuation", "!");
          call.log(sdk::Level::info, greeting);
          return json::object{{"greeting", greeting}};
        }),

    // Never sleep in a step: ask the host for a timer and finish from its callback.
    sdk::Step("later", "Waits `ms` milliseconds, then reports how long it waited.")
        .input_schema(R"({"type":"object","properties":{"ms":{"type":"integer","minimum":0}}})")
        .start([](sdk::Call& call) {
          const auto ms = call.input_or<std::int64_t>("ms", 10);
          call.after(std::chrono::milliseconds(ms), [ms](sdk::Call& done) {
            if (done.cancelled()) throw sdk::StepError("cancelled");
            done.complete(json::object{{"waited_ms", ms}, {"attempt", done.attempt()}});
          });
        }))
