// The server's parts assembled in-process, as `flowpilot serve` assembles them, for tests that
// drive routes through Router::handle without sockets: a real SQLite store in a temporary
// directory, the built-in steps and plugins, the catalog over a temporary workflows directory, the
// executor, live events, the webhook receiver, the REST API and sign-in. call() sends requests as
// an admin with a real API token unless they carry their own Authorization or Cookie header.
#pragma once

#include "engine/access/audit.h"
#include "engine/access/login_throttle.h"
#include "engine/access/sessions.h"
#include "engine/access/tokens.h"
#include "engine/access/users.h"
#include "engine/catalog/workflow_catalog.h"
#include "engine/executor/executor.h"
#include "engine/http/http_client.h"
#include "engine/plugins/plugin_host.h"
#include "engine/steps/builtin_steps.h"
#include "engine/store/sqlite_store.h"
#include "web/access.h"
#include "web/api.h"
#include "web/live_events.h"
#include "web/metrics.h"
#include "web/router.h"
#include "web/webhooks.h"
#include "store_under_test.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>

namespace flowpilot::web::test {

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("flowpilot-web-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_ / "flows");
    add_workflow_files(dir_ / "flows");
    engine::register_builtin_steps(registry_);
    engine::HttpClientOptions http_options;
    http_options.allowed_networks = {"127.0.0.1/32"};
    http_ = std::make_unique<engine::HttpClient>(http_options);
    // The csv steps read and write under files/, which /api/v1/files manages, as in `serve`.
    engine::PluginServices services;
    services.http = http_.get();
    services.plugin_config = {
        {"csv", boost::json::object{{"roots", boost::json::array{(dir_ / "files").string()}}}}};
    plugins_ = std::make_unique<engine::PluginHost>(std::move(services));
    for (const auto& refusal : plugins_->load_directories({engine::builtin_plugin_dir()}, registry_)) {
      ADD_FAILURE() << refusal.to_string();
    }
    add_steps(registry_);
    store_ = ::flowpilot::engine::testing::open_store_under_test(dir_ / "flowpilot.db");
    catalog_ = std::make_unique<engine::WorkflowCatalog>(
        *store_, load_context(), std::vector<std::filesystem::path>{dir_ / "flows"});
    catalog_->load();
    engine::ExecutorOptions options;
    options.worker_threads = 2;
    options.on_event = [this](const engine::RunEvent& e) {
      if (auto* w = webhooks_ptr_.load()) w->on_event(e);
      live_.publish(e);
    };
    executor_ = std::make_unique<engine::Executor>(
        *store_, registry_, expressions_, secrets(),
        [this](const engine::WorkflowVersionRecord& v) { return catalog_->resolve(v); }, options);
    webhooks_ = std::make_unique<WebhookReceiver>(
        WebhookServices{*catalog_, *executor_, *store_, expressions_, secrets(), &metrics_},
        webhook_options());
    webhooks_ptr_ = webhooks_.get();
    webhooks_->add_routes(router_);
    api_ = std::make_unique<ApiServices>(ApiServices{*store_, *executor_, *catalog_, registry_,
                                                     plugins_.get(), load_context(), &live_});
    api_->files_root = dir_ / "files";
    warehouse_ = engine::open_sqlite_warehouse({dir_ / "warehouse.db"});
    api_->warehouse = warehouse_.get();
    add_api_routes(router_, *api_);
    users_ = std::make_unique<engine::UserService>(*store_);
    tokens_ = std::make_unique<engine::TokenService>(*store_);
    sessions_ = std::make_unique<engine::SessionService>(*store_);
    audit_ = std::make_unique<engine::AuditLog>(*store_);
    access_ = std::make_unique<AccessApi>(
        AccessServices{*users_, *tokens_, *sessions_, throttle_, *audit_});
    access_->install(router_);
    admin_token_ = token_for("admin@test.local", "admin");
  }

  // A user with `role` (written straight to the store: hashing a password costs a tenth of a
  // second, and tokens need none) and an API token with every scope the role allows.
  std::string token_for(const std::string& email, const std::string& role) {
    engine::UserRecord user;
    user.id = "u_" + role + "_" + std::to_string(std::hash<std::string>{}(email));
    user.email = email;
    user.name = role;
    user.role = role;
    user.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$none";
    user.created_at = user.updated_at = user.password_changed_at = engine::now_millis();
    engine::WriteBatch batch;
    batch.add(engine::PutUser{user});
    EXPECT_FALSE(store_->commit(std::move(batch)).error);
    return tokens_->create({email, role, engine::PermissionSet::of_role(role).names(), std::nullopt})
        .secret;
  }

  void TearDown() override {
    webhooks_ptr_ = nullptr;
    access_.reset();
    webhooks_.reset();
    executor_.reset();
    catalog_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Step kinds a test adds beside the built-in ones, before the API reads their descriptors.
  virtual void add_steps(engine::StepRegistry& /*registry*/) {}

  // Files the watched workflow directory holds before the catalog first loads it.
  virtual void add_workflow_files(const std::filesystem::path& /*dir*/) {}

  virtual WebhookOptions webhook_options() const {
    WebhookOptions o;
    o.result_timeout = std::chrono::milliseconds(5000);
    return o;
  }

  static scripting::SecretResolver secrets() {
    return [](std::string_view name) -> std::optional<std::string> {
      if (name == "HOOK_SECRET") return std::string("It's a Secret to Everybody");
      if (name == "HOOK_TOKEN") return std::string("hook-token-123");
      return std::nullopt;
    };
  }

  engine::LoadContext load_context() { return {registry_, expressions_, {}}; }

  // Saves a workflow through the catalog (as the API would) and fails the test if it is refused.
  void define(const std::string& yaml) {
    auto result = catalog_->save(yaml, "yaml", "", false);
    ASSERT_TRUE(result.ok()) << result.message
                             << (result.diagnostics.empty() ? "" : result.diagnostics[0].to_string());
  }

  Response call(std::string_view method, std::string_view target, std::string body = {},
                Headers headers = {}) {
    if (!headers.get("Authorization") && !headers.get("Cookie")) {
      headers.set("Authorization", "Bearer " + admin_token_);
    }
    return router_.handle(make_request(method, target, std::move(headers), std::move(body)));
  }

  static boost::json::value body_of(const Response& r) { return boost::json::parse(r.body); }

  std::filesystem::path dir_;
  engine::StepRegistry registry_;
  scripting::ExpressionEngine expressions_;
  std::unique_ptr<engine::HttpClient> http_;
  std::unique_ptr<engine::PluginHost> plugins_;
  std::unique_ptr<engine::Store> store_;
  std::unique_ptr<engine::WorkflowCatalog> catalog_;
  std::unique_ptr<engine::Executor> executor_;
  metrics::Registry metrics_;
  LiveEvents live_;
  std::unique_ptr<WebhookReceiver> webhooks_;
  std::atomic<WebhookReceiver*> webhooks_ptr_{nullptr};
  std::unique_ptr<engine::Warehouse> warehouse_;
  std::unique_ptr<ApiServices> api_;
  std::unique_ptr<engine::UserService> users_;
  std::unique_ptr<engine::TokenService> tokens_;
  std::unique_ptr<engine::SessionService> sessions_;
  engine::LoginThrottle throttle_;
  std::unique_ptr<engine::AuditLog> audit_;
  std::unique_ptr<AccessApi> access_;
  std::string admin_token_;
  Router router_;
};

}  // namespace flowpilot::web::test
