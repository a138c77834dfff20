// Shared set-up for the data plugins' workflow tests (csv, transform, quality): a real SQLite
// store in a temporary directory, the real expression engine, and every built-in plugin loaded
// from the build's plugin directory, with the csv plugin allowed to use `root()` only.
#pragma once

#include "engine/executor/executor.h"
#include "engine/http/http_client.h"
#include "engine/loader/loader.h"
#include "engine/plugins/plugin_host.h"
#include "engine/steps/builtin_steps.h"
#include "engine/store/sqlite_store.h"
#include "store_under_test.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>

namespace flowpilot::data_testing {

namespace engine = flowpilot::engine;

class DataWorkflowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("flowpilot-data-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_ / "files");
    engine::register_builtin_steps(registry_);
    engine::HttpClientOptions http_options;
    http_options.allowed_networks = {"127.0.0.1/32"};
    http_ = std::make_unique<engine::HttpClient>(http_options);
    boost::json::object config;
    config["csv"] = boost::json::object{{"roots", boost::json::array{root().string()}}};
    engine::PluginServices services;
    services.http = http_.get();
    services.plugin_config = std::move(config);
    plugins_ = std::make_unique<engine::PluginHost>(std::move(services));
    for (const auto& refusal :
         plugins_->load_directories({FLOWPILOT_BINARY_DIR "/plugins"}, registry_)) {
      ADD_FAILURE() << refusal.to_string();
    }
    ASSERT_TRUE(registry_.has_step("csv.read"));
    ASSERT_TRUE(registry_.has_step("transform.filter"));
    ASSERT_TRUE(registry_.has_step("quality.check"));
    store_ = ::flowpilot::engine::testing::open_store_under_test(dir_ / "flowpilot.db");
    auto resolver =
        [this](const engine::WorkflowVersionRecord& v) -> std::shared_ptr<const engine::Workflow> {
      return engine::load_workflow_source(v.source_text, v.source_file, v.format, context())
          .workflow;
    };
    auto secrets = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
    executor_ = std::make_unique<engine::Executor>(*store_, registry_, expressions_, secrets,
                                                   resolver, engine::ExecutorOptions{});
  }

  void TearDown() override {
    executor_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::filesystem::path root() const { return dir_ / "files"; }

  void write_file(const std::string& name, const std::string& text) {
    std::ofstream out(root() / name, std::ios::binary);
    out << text;
  }

  engine::LoadContext context() { return {registry_, expressions_, {}}; }

  engine::LoadResult load_result(const std::string& yaml) {
    return engine::load_workflow_yaml(yaml, "test.yaml", context());
  }

  engine::RunStatus run_to_end(const std::string& yaml, boost::json::object inputs = {}) {
    auto result = load_result(yaml);
    for (const auto& d : result.diagnostics) ADD_FAILURE() << d.to_string();
    if (!result.workflow) return engine::RunStatus::failed;
    engine::RunRequest request;
    request.workflow = result.workflow;
    request.inputs = std::move(inputs);
    last_run_ = executor_->start(std::move(request)).run_id;
    auto status = executor_->wait(last_run_, std::chrono::seconds(120));
    EXPECT_TRUE(status.has_value()) << "run did not settle in time";
    return status.value_or(engine::RunStatus::running);
  }

  std::map<std::string, engine::StepRecord> steps() {
    std::map<std::string, engine::StepRecord> out;
    for (auto& s : store_->get_steps(last_run_)) {
      if (s.index < 0) out[s.step_id] = s;
    }
    return out;
  }

  std::string run_error() { return store_->get_run(last_run_)->error; }

  std::filesystem::path dir_;
  std::unique_ptr<engine::HttpClient> http_;
  std::unique_ptr<engine::PluginHost> plugins_;
  engine::StepRegistry registry_;
  scripting::ExpressionEngine expressions_;
  std::unique_ptr<engine::Store> store_;
  std::unique_ptr<engine::Executor> executor_;
  std::string last_run_;
};

}  // namespace flowpilot::data_testing
