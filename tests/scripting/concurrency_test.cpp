#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <string>
#include <thread>
#include <vector>

#include "scripting/expression.h"

namespace flowpilot::scripting {
namespace {

namespace json = boost::json;

// Each thread evaluates against its own scope and checks every answer, so a state or view shared
// by mistake between threads shows up as a wrong value (and as a race under the sanitizers).
void run_threads(std::size_t threads, std::size_t pool_size, int per_thread) {
  ExpressionEngine engine(Limits{}, pool_size);
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const std::int64_t id = static_cast<std::int64_t>(t) * 1'000'000 + i;
        json::value row = {{"id", id},
                           {"name", "row-" + std::to_string(id)},
                           {"values", json::array{id, id + 1, id + 2}}};
        Scope scope;
        scope.bind("row", row);
        // Alternate cached and fresh expressions.
        const std::string expression =
            i % 10 == 0 ? "row.values[3] - row.id + " + std::to_string(i)
                        : "{sum = row.values[1] + row.values[2] + row.values[3], name = row.name}";
        EvalResult result = engine.evaluate(expression, scope);
        const bool correct =
            result.ok() &&
            (i % 10 == 0 ? result.value() == json::value(2 + i)
                         : result.value() == json::value{{"sum", 3 * id + 3},
                                                         {"name", "row-" + std::to_string(id)}});
        if (!correct) ++failures;
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(ExpressionConcurrency, FourThreadsTwoThousandEvaluationsEach) { run_threads(4, 0, 2000); }

TEST(ExpressionConcurrency, MoreThreadsThanPooledStates) { run_threads(4, 1, 500); }

TEST(ExpressionConcurrency, OneToFourThreads) {
  for (std::size_t threads = 1; threads <= 4; ++threads) {
    SCOPED_TRACE(threads);
    run_threads(threads, 2, 300);
  }
}

TEST(ExpressionConcurrency, LimitHitsInOneThreadDoNotDisturbOthers) {
  ExpressionEngine engine(Limits{}, 2);
  std::atomic<int> failures{0};
  std::thread killer([&] {
    Scope scope;
    for (int i = 0; i < 5; ++i) {
      EvalResult r = engine.evaluate("(function() while true do end end)()", scope);
      if (r.ok() || r.error().kind != EvalError::Kind::instruction_limit) ++failures;
    }
  });
  std::thread worker([&] {
    for (int i = 0; i < 500; ++i) {
      json::value n(i);
      Scope scope;
      scope.bind("n", n);
      EvalResult r = engine.evaluate("n * 2", scope);
      if (!r.ok() || r.value() != json::value(2 * i)) ++failures;
    }
  });
  killer.join();
  worker.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace flowpilot::scripting
