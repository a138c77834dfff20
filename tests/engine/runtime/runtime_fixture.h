// Shared set-up for executor tests: a real SQLite store in a temporary directory, the core steps,
// a real expression engine, and `test.probe`, a step kind that records every call so that tests
// can see what ran, how often, with which idempotency key, and how many ran at once.
#pragma once

#include "engine/executor/executor.h"
#include "engine/http/http_client.h"
#include "engine/loader/loader.h"
#include "engine/plugins/plugin_host.h"
#include "engine/steps/builtin_steps.h"
#include "engine/store/sqlite_store.h"
#include "engine/warehouse/warehouse.h"
#include "store_under_test.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace flowpilot::engine::testing {

// with: {fail_until: N}   fails attempts 1..N (retryable unless retryable: false)
//       {sleep_ms: N}     completes after N ms without holding a thread (cancellable)
//       {hold: true}      never completes (until cancelled)
//       {fail_while_flag: true}  fails (not retryable) while the test has set fail_flag
//       anything else     echoed back as the output
class ProbeStep final : public StepHandler {
 public:
  struct Call {
    std::string key;
    int attempt;
    boost::json::value input;
  };

  ProbeStep() {
    descriptor_.name = "test.probe";
    descriptor_.summary = "Records its calls (tests only).";
  }
  const StepDescriptor& descriptor() const override { return descriptor_; }

  void start(std::shared_ptr<StepCall> call) override {
    const int now = ++running_;
    int seen = max_running_.load();
    while (now > seen && !max_running_.compare_exchange_weak(seen, now)) {
    }
    {
      std::lock_guard lock(mu_);
      calls_.push_back({call->idempotency_key(), call->attempt(), call->input()});
    }
    const auto* in = call->input().if_object();
    auto get_int = [&](const char* name) -> std::int64_t {
      if (in == nullptr) return -1;
      const auto* v = in->if_contains(name);
      return v != nullptr && v->is_int64() ? v->get_int64() : -1;
    };
    const std::int64_t fail_until = get_int("fail_until");
    const std::int64_t sleep_ms = get_int("sleep_ms");
    const bool hold = in != nullptr && in->contains("hold");
    if (in != nullptr && in->contains("fail_while_flag") && fail_flag.load()) {
      --running_;
      call->fail({"flag is set", false, std::nullopt});
      return;
    }
    if (fail_until >= call->attempt()) {
      bool retryable = true;
      if (in != nullptr && in->contains("retryable")) retryable = in->at("retryable").as_bool();
      --running_;
      call->fail({"probe failure " + std::to_string(call->attempt()), retryable, std::nullopt});
      return;
    }
    if (hold) {
      call->after(std::chrono::hours(24), [this, call] {
        --running_;
        call->fail({"released", false, std::nullopt});
      });
      return;
    }
    if (sleep_ms > 0) {
      call->after(std::chrono::milliseconds(sleep_ms), [this, call] {
        --running_;
        if (call->cancelled()) {
          call->fail({"cancelled", false, std::nullopt});
        } else {
          call->complete(call->input());
        }
      });
      return;
    }
    --running_;
    call->complete(call->input());
  }

  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  int max_running() const { return max_running_.load(); }
  std::atomic<bool> fail_flag{false};

 private:
  StepDescriptor descriptor_;
  mutable std::mutex mu_;
  std::vector<Call> calls_;
  std::atomic<int> running_{0};
  std::atomic<int> max_running_{0};
};

inline std::filesystem::path fresh_temp_dir(const std::string& prefix) {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() /
             (prefix + "-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir;
}

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_temp_dir("flowpilot-runtime");
    register_builtin_steps(registry_);
    // The core steps come from plugins/core through the real loader, as in production.
    // The real HTTP client, allowed to reach only this machine's loopback test servers.
    HttpClientOptions http_options;
    http_options.allowed_networks = {"127.0.0.1/32"};
    http_ = std::make_unique<HttpClient>(http_options);
    warehouse_ = open_sqlite_warehouse({dir_ / "warehouse.db", true});
    plugins_ = std::make_unique<PluginHost>(PluginServices{http_.get(), warehouse_.get(), {}, token_options_});
    for (const auto& refusal : plugins_->load_directories({builtin_plugin_dir()}, registry_)) {
      ADD_FAILURE() << refusal.to_string();
    }
    ASSERT_TRUE(registry_.has_step("core.noop")) << "core plugin not found in "
                                                 << builtin_plugin_dir();
    probe_ = std::make_shared<ProbeStep>();
    registry_.add(probe_);
    open();
  }

  void TearDown() override {
    executor_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void open() {
    store_ = ::flowpilot::engine::testing::open_store_under_test(dir_ / "flowpilot.db");
    executor_ = make_executor();
  }

  // Drops the executor and the store as a crash would leave them, then opens both again.
  void reopen() {
    executor_.reset();
    store_.reset();
    open();
  }

  std::unique_ptr<Executor> make_executor(ExecutorOptions options = {}) {
    auto resolver = [this](const WorkflowVersionRecord& v) -> std::shared_ptr<const Workflow> {
      return load_workflow_source(v.source_text, v.source_file, v.format, context()).workflow;
    };
    auto secrets = [](std::string_view name) -> std::optional<std::string> {
      if (name == "API_TOKEN") return std::string("tok-very-secret-123");
      return std::nullopt;
    };
    return std::make_unique<Executor>(*store_, registry_, expressions_, secrets, resolver,
                                      options);
  }

  LoadContext context() { return {registry_, expressions_, {}}; }

  std::shared_ptr<const Workflow> load(const std::string& yaml) {
    auto result = load_workflow_yaml(yaml, "test.yaml", context());
    for (const auto& d : result.diagnostics) ADD_FAILURE() << d.to_string();
    return result.workflow;
  }

  std::string start(const std::shared_ptr<const Workflow>& wf, boost::json::object inputs = {}) {
    RunRequest request;
    request.workflow = wf;
    request.inputs = std::move(inputs);
    return executor_->start(std::move(request)).run_id;
  }

  RunStatus run_to_end(const std::string& yaml, boost::json::object inputs = {}) {
    auto wf = load(yaml);
    if (!wf) return RunStatus::failed;
    last_run_ = start(wf, std::move(inputs));
    auto status = executor_->wait(last_run_, std::chrono::seconds(60));
    EXPECT_TRUE(status.has_value()) << "run did not settle in time";
    return status.value_or(RunStatus::running);
  }

  std::map<std::string, StepRecord> steps_of(const std::string& run_id) {
    std::map<std::string, StepRecord> out;
    for (auto& s : store_->get_steps(run_id)) {
      if (s.index < 0) out[s.step_id] = s;
    }
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<Warehouse> warehouse_;
  OAuthTokensOptions token_options_;     // a fixture may change it before SetUp
  std::unique_ptr<PluginHost> plugins_;  // outlives the registry's use by the executor
  StepRegistry registry_;
  std::shared_ptr<ProbeStep> probe_;
  scripting::ExpressionEngine expressions_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Executor> executor_;
  std::string last_run_;
};

}  // namespace flowpilot::engine::testing
