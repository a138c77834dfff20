// The cost of one plugin call across the C ABI: the host serialises the rendered input to JSON,
// the plugin (core.noop, built with plugin.hpp) parses it, serialises its output, and the host
// parses and validates that output. Measured for a small input and for a 1 MB one.
//
// Usage: flowpilot_plugin_bench [--benchmark_*]   (run from the build tree: it loads
// <build>/plugins/core.so)
#include "engine/plugins/plugin_host.h"

#include <benchmark/benchmark.h>
#include <boost/json.hpp>

#include <cstdlib>
#include <iostream>

namespace fe = flowpilot::engine;
namespace json = boost::json;

namespace {

// A StepCall that completes synchronously: the measurement instrument, not an engine double.
class BenchCall final : public fe::StepCall {
 public:
  explicit BenchCall(json::value input) : input_(std::move(input)) {}
  const std::string& run_id() const override { return id_; }
  const std::string& step_id() const override { return step_; }
  int index() const override { return -1; }
  int attempt() const override { return 1; }
  const std::string& idempotency_key() const override { return id_; }
  const std::string& connection() const override { return empty_; }
  const json::value& input() const override { return input_; }
  bool plan_mode() const override { return false; }
  const json::value* credentials() const override { return nullptr; }
  void log(fe::LogLevel, std::string) override {}
  void progress(double, std::string) override {}
  bool cancelled() const override { return false; }
  flowpilot::scripting::EvalResult evaluate(std::string_view, const json::value&) override {
    return json::value();
  }
  void after(std::chrono::milliseconds, std::function<void()> fn) override { fn(); }
  void complete(json::value output) override { output_ = std::move(output); }
  void fail(fe::StepError error) override {
    std::cerr << "core.noop failed: " << error.message << "\n";
    std::exit(1);
  }
  const json::value& output() const { return output_; }

 private:
  std::string id_ = "bench";
  std::string step_ = "noop";
  std::string empty_;
  json::value input_;
  json::value output_;
};

struct Loaded {
  fe::StepRegistry registry;
  fe::PluginHost host{fe::PluginServices{}};
  fe::StepHandler* noop = nullptr;
  Loaded() {
    const auto dir = fe::builtin_plugin_dir();
    auto refusals = host.load_directories({dir}, registry);
    noop = registry.find("core.noop");
    if (noop == nullptr) {
      std::cerr << "core.noop not found in " << dir << "\n";
      std::exit(1);
    }
  }
};

Loaded& loaded() {
  static Loaded l;
  return l;
}

json::value payload(std::size_t bytes) {
  json::array rows;
  std::size_t size = 0;
  for (int i = 0; size < bytes; ++i) {
    json::object row{{"campaign_id", "c-" + std::to_string(i)},
                     {"campaign_name", "Campaign number " + std::to_string(i)},
                     {"spend", 1234.56 + i},
                     {"clicks", 1000 + i},
                     {"conversions", i % 17}};
    size += json::serialize(row).size() + 1;
    rows.push_back(std::move(row));
  }
  return json::object{{"rows", std::move(rows)}};
}

void call_across_abi(benchmark::State& state) {
  auto& l = loaded();
  // One call object reused: building the input is not part of the ABI's cost.
  auto call = std::make_shared<BenchCall>(payload(static_cast<std::size_t>(state.range(0))));
  for (auto _ : state) {
    l.noop->start(call);
    benchmark::DoNotOptimize(call->output());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0) * 2);
}

}  // namespace

BENCHMARK(call_across_abi)->Arg(100)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
