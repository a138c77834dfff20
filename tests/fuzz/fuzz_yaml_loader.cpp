// libFuzzer target: the YAML workflow loader, engine::load_workflow_yaml (engine/loader/loader.h),
// with a small catalog of step kinds (fuzz_catalog.h). Any diagnostics are fine; crashes, escaped
// exceptions, leaks, sanitizer reports, timeouts and a failed load without a diagnostic are bugs.
#include "fuzz_loader_common.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto& ctx = flowpilot::fuzz::load_context();
  flowpilot::fuzz::check_result(flowpilot::engine::load_workflow_yaml(text, "fuzz.yaml", ctx));
  return 0;
}
