#include "engine/steps/core_steps.h"

#include "engine/schedule/duration.h"

#include <boost/json.hpp>

#include <memory>
#include <string>

namespace flowpilot::engine {
namespace {

namespace json = boost::json;

json::value schema(std::string_view text) { return json::parse(text); }

class NoopStep final : public StepHandler {
 public:
  NoopStep() {
    descriptor_.name = "core.noop";
    descriptor_.summary = "Does nothing and returns its input as its output.";
    descriptor_.input_schema = schema(R"({"type":"object"})");
  }
  const StepDescriptor& descriptor() const override { return descriptor_; }
  void start(std::shared_ptr<StepCall> call) override { call->complete(call->input()); }

 private:
  StepDescriptor descriptor_;
};

class LogStep final : public StepHandler {
 public:
  LogStep() {
    descriptor_.name = "core.log";
    descriptor_.summary = "Writes a message to the step's log.";
    descriptor_.input_schema = schema(
        R"({"type":"object","required":["message"],"properties":{
             "message":{},"level":{"enum":["debug","info","warn","error"]}},
           "additionalProperties":false})");
  }
  const StepDescriptor& descriptor() const override { return descriptor_; }
  void start(std::shared_ptr<StepCall> call) override {
    const auto* in = call->input().if_object();
    if (in == nullptr || !in->contains("message")) {
      call->fail({"core.log needs `message`", false, std::nullopt});
      return;
    }
    const json::value& message = in->at("message");
    std::string text = message.is_string() ? std::string(message.get_string())
                                           : json::serialize(message);
    LogLevel level = LogLevel::info;
    if (const auto* l = in->if_contains("level"); l != nullptr && l->is_string()) {
      const std::string_view name = l->get_string();
      if (name == "debug") level = LogLevel::debug;
      else if (name == "warn") level = LogLevel::warn;
      else if (name == "error") level = LogLevel::error;
    }
    call->log(level, text);
    call->complete(json::object{{"message", text}});
  }

 private:
  StepDescriptor descriptor_;
};

// Waits without holding a worker thread; a cancelled run ends the wait at once.
class SleepStep final : public StepHandler {
 public:
  SleepStep() {
    descriptor_.name = "core.sleep";
    descriptor_.summary = "Waits for a duration, then succeeds.";
    descriptor_.input_schema = schema(
        R"({"type":"object","required":["duration"],"properties":{"duration":{}},
           "additionalProperties":false})");
  }
  const StepDescriptor& descriptor() const override { return descriptor_; }
  void start(std::shared_ptr<StepCall> call) override {
    const auto* in = call->input().if_object();
    const json::value* d = in != nullptr ? in->if_contains("duration") : nullptr;
    std::optional<std::chrono::milliseconds> duration;
    std::string error;
    if (d != nullptr && d->is_string()) duration = parse_duration(d->get_string(), &error);
    else if (d != nullptr && d->is_number()) duration = parse_duration(json::serialize(*d), &error);
    else error = "core.sleep needs `duration`, such as 2s or 5m";
    if (!duration) {
      call->fail({error, false, std::nullopt});
      return;
    }
    const auto ms = duration->count();
    call->after(*duration, [call, ms] {
      if (call->cancelled()) {
        call->fail({"sleep cancelled", false, std::nullopt});
      } else {
        call->complete(json::object{{"slept_ms", ms}});
      }
    });
  }

 private:
  StepDescriptor descriptor_;
};

// Fails its first `failures` attempts (all of them when `failures` is absent): for testing retries,
// on_failure handlers and skip propagation.
class FailStep final : public StepHandler {
 public:
  FailStep() {
    descriptor_.name = "core.fail";
    descriptor_.summary = "Fails with a message; with `failures: N`, fails only the first N attempts.";
    descriptor_.input_schema = schema(
        R"({"type":"object","properties":{"message":{"type":"string"},
             "failures":{"type":"integer","minimum":0},"retryable":{"type":"boolean"}},
           "additionalProperties":false})");
  }
  const StepDescriptor& descriptor() const override { return descriptor_; }
  void start(std::shared_ptr<StepCall> call) override {
    const auto* in = call->input().if_object();
    std::string message = "failed on purpose";
    std::int64_t failures = -1;
    bool retryable = true;
    if (in != nullptr) {
      if (const auto* m = in->if_contains("message"); m != nullptr && m->is_string()) {
        message = std::string(m->get_string());
      }
      if (const auto* f = in->if_contains("failures"); f != nullptr && f->is_int64()) {
        failures = f->get_int64();
      }
      if (const auto* r = in->if_contains("retryable"); r != nullptr && r->is_bool()) {
        retryable = r->get_bool();
      }
    }
    if (failures < 0 || call->attempt() <= failures) {
      call->fail({message, retryable, std::nullopt});
    } else {
      call->complete(json::object{{"attempts", call->attempt()}});
    }
  }

 private:
  StepDescriptor descriptor_;
};

}  // namespace

void register_core_steps(StepRegistry& registry) {
  registry.add(std::make_shared<NoopStep>());
  registry.add(std::make_shared<LogStep>());
  registry.add(std::make_shared<SleepStep>());
  registry.add(std::make_shared<FailStep>());
  StepDescriptor approval;
  approval.name = std::string(kApprovalStep);
  approval.summary = "Parks the run until a person approves or rejects, or the timeout passes.";
  approval.input_schema = json::parse(
      R"({"type":"object","properties":{"message":{"type":"string"},"timeout":{}},
         "additionalProperties":false})");
  registry.add_builtin(std::move(approval));
}

}  // namespace flowpilot::engine
