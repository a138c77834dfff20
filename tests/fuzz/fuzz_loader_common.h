// Shared by the workflow loader fuzz targets: one catalog and one expression engine for the whole
// process, and the checks every load result must pass.
#pragma once

#include "engine/loader/loader.h"
#include "scripting/expression.h"

#include "fuzz_catalog.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace flowpilot::fuzz {

inline const engine::LoadContext& load_context() {
  static const FuzzCatalog catalog;
  static const scripting::ExpressionEngine expressions(
      scripting::Limits{200'000, 8u << 20, std::chrono::milliseconds(1000)}, 1);
  static const engine::LoadContext ctx{catalog, expressions, engine::LoadLimits{}};
  return ctx;
}

// load_* report bad input as diagnostics: a failed load without one is a bug (the user would get
// no error), and rendering each diagnostic must not crash. With FLOWPILOT_FUZZ_VERBOSE=1 in the
// environment the diagnostics are printed, which helps when minimising a reproducer.
inline void check_result(const engine::LoadResult& result) {
  static const bool verbose = std::getenv("FLOWPILOT_FUZZ_VERBOSE") != nullptr;
  if (!result.ok() && result.diagnostics.empty()) {
    std::fprintf(stderr, "load failed without a diagnostic\n");
    std::abort();
  }
  for (const auto& d : result.diagnostics) {
    const std::string text = d.to_string();
    if (verbose) std::fprintf(stderr, "%s\n", text.c_str());
  }
  if (verbose && result.ok()) std::fprintf(stderr, "loaded\n");
}

}  // namespace flowpilot::fuzz
