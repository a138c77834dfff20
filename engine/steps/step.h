// Step kinds: what the executor calls when a step runs, and the registry that names them.
//
// The shape mirrors the plugin ABI that built-in and external plugins will share: a step kind has
// a descriptor (name, summary, JSON Schemas, flags) and is started with one call per attempt that
// carries the rendered input as JSON and completes asynchronously, exactly once, from any thread.
// A step waiting on a timer or on I/O therefore holds no worker thread.
//
// Errors are values: a step reports failure through StepCall::fail, never by throwing out of
// start(). The executor turns an exception escaping start() into a non-retryable failure.
//
// Thread-safety: a StepHandler must accept concurrent start() calls. StepCall members may be
// called from any thread; complete/fail take effect once, later calls are ignored.
#pragma once

#include "engine/model/workflow.h"
#include "scripting/expression.h"

#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowpilot::engine {

struct StepDescriptor {
  std::string name;     // "plugin.step", e.g. "core.noop"
  std::string summary;  // one plain sentence for `plugins describe` and the wizard
  boost::json::value input_schema = boost::json::object();   // JSON Schema
  boost::json::value output_schema = boost::json::object();  // JSON Schema
  bool side_effects = false;   // changes something outside Flowpilot
  bool idempotent = true;      // safe to repeat with the same idempotency key
  bool supports_plan = false;  // can describe what it would change in a dry run
};

struct StepError {
  std::string message;
  bool retryable = true;
  std::optional<std::chrono::milliseconds> retry_after;  // e.g. from HTTP 429 Retry-After
};

enum class LogLevel { debug, info, warn, error };
std::string_view to_string(LogLevel level);

// One attempt of one step (or one foreach item). Created by the executor.
class StepCall {
 public:
  virtual ~StepCall() = default;

  virtual const std::string& run_id() const = 0;
  virtual const std::string& step_id() const = 0;
  virtual int index() const = 0;    // foreach item, -1 otherwise
  virtual int attempt() const = 0;  // 1-based
  // `<run_id>/<step_id>[/<index>]`: the same on every attempt and after recovery.
  virtual const std::string& idempotency_key() const = 0;
  virtual const std::string& connection() const = 0;
  virtual const boost::json::value& input() const = 0;  // the rendered `with`
  virtual bool plan_mode() const = 0;                    // dry run: describe, do not change
  // The step's connection credentials, resolved for this call only; null without a connection.
  virtual const boost::json::value* credentials() const = 0;

  virtual void log(LogLevel level, std::string message) = 0;
  virtual void progress(double fraction, std::string note) = 0;
  virtual bool cancelled() const = 0;
  // Evaluates a sandboxed expression with `row` bound as `row`, in the run's context (inputs,
  // steps, run, trigger, item): what transform.filter's `where:` uses.
  virtual scripting::EvalResult evaluate(std::string_view expression,
                                         const boost::json::value& row) = 0;
  // Runs `fn` after `delay` on a worker thread, unless the call is cancelled first, in which case
  // `fn` runs at once with cancelled() true. Lets a step wait without holding a thread.
  virtual void after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;

  virtual void complete(boost::json::value output) = 0;
  virtual void fail(StepError error) = 0;
};

class StepHandler {
 public:
  virtual ~StepHandler() = default;
  virtual const StepDescriptor& descriptor() const = 0;
  // Starts one attempt. Must eventually call call->complete() or call->fail(), from any thread.
  virtual void start(std::shared_ptr<StepCall> call) = 0;
};

// The approval step is part of the engine: it parks the run durably instead of calling a handler.
inline constexpr std::string_view kApprovalStep = "core.approval";

// Names → step kinds. Filled at start-up, read-only afterwards.
class StepRegistry final : public StepCatalog {
 public:
  // Throws std::invalid_argument when the name is taken or the input schema does not compile.
  void add(std::shared_ptr<StepHandler> handler);
  // Registers a step kind the executor implements itself (core.approval).
  void add_builtin(StepDescriptor descriptor);

  StepHandler* find(std::string_view name) const;
  const StepDescriptor* describe(std::string_view name) const;

  bool has_step(std::string_view uses) const override;
  std::vector<std::string> step_names() const override;
  const JsonSchema* input_schema(std::string_view uses) const override;

 private:
  void compile_schema(const StepDescriptor& descriptor);

  std::map<std::string, std::shared_ptr<StepHandler>, std::less<>> handlers_;
  std::map<std::string, StepDescriptor, std::less<>> builtins_;
  std::map<std::string, std::shared_ptr<const JsonSchema>, std::less<>> input_schemas_;
};

}  // namespace flowpilot::engine
