// A token limited to one workflow asking for another (BAD-INPUTS.md 20): 403 wherever a
// workflow, its runs or its approvals are named, and the lists leave the others out.
#include "server_fixture.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

namespace flowpilot::web {
namespace {

namespace json = boost::json;

class TokenReachTest : public test::ServerFixture {
 protected:
  // A file that does not load: its problem names a file, not a workflow a token could reach.
  void add_workflow_files(const std::filesystem::path& dir) override {
    std::ofstream(dir / "broken.yaml") << "id: gamma\nsteps: [\n";
  }

  void SetUp() override {
    ServerFixture::SetUp();
    define("id: alpha\nsteps:\n  - {id: a, uses: core.noop}\n");
    define("id: beta\nsteps:\n  - {id: ask, uses: core.approval, with: {message: \"go on\"}}\n");
    limited_ = tokens_
                   ->create({"admin@test.local", "alpha only",
                             {"workflows:read", "workflows:write", "runs:read", "runs:write",
                              "approvals", "connections:read"},
                             std::nullopt, {"alpha"}})
                   .secret;
    beta_run_ = started(call("POST", "/api/v1/workflows/beta/runs"));
    for (int i = 0; i < 500 && !store_->get_approval(beta_run_, "ask"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(store_->get_approval(beta_run_, "ask").has_value());
  }

  static std::string started(const Response& r) {
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(body_of(r).at("run_id").as_string());
  }

  Response limited(std::string_view method, std::string_view target, std::string body = {}) {
    Headers h;
    h.set("Authorization", "Bearer " + limited_);
    if (!body.empty()) h.set("Content-Type", "application/json");
    return call(method, target, std::move(body), std::move(h));
  }

  void expect_refused(std::string_view method, const std::string& target, std::string body = {}) {
    SCOPED_TRACE(std::string(method) + " " + target);
    auto r = limited(method, target, std::move(body));
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/problem+json");
    EXPECT_NE(r.body.find("limited to the workflow `alpha`"), std::string::npos) << r.body;
  }

  std::string limited_;
  std::string beta_run_;
};

TEST_F(TokenReachTest, ItsOwnWorkflowWorks) {
  EXPECT_EQ(limited("GET", "/api/v1/workflows/alpha").status, 200);
  const std::string run = started(limited("POST", "/api/v1/workflows/alpha/runs", "{}"));
  executor_->wait(run, std::chrono::seconds(10));
  EXPECT_EQ(limited("GET", "/api/v1/runs/" + run).status, 200);
  EXPECT_EQ(limited("GET", "/api/v1/runs/" + run + "/logs").status, 200);
  EXPECT_EQ(limited("GET", "/api/v1/runs?workflow=alpha").status, 200);
  // What is not tied to a workflow and harmless stays open to it.
  EXPECT_EQ(limited("GET", "/api/v1/plugins").status, 200);
  EXPECT_EQ(limited("GET", "/api/v1/connection-types").status, 200);
  EXPECT_EQ(limited("GET", "/api/v1/auth/session").status, 200);
}

TEST_F(TokenReachTest, AnotherWorkflowIsForbiddenEverywhereItIsNamed) {
  for (const std::string& path : std::vector<std::string>{"/api/v1/workflows/beta", "/api/v1/workflows/beta/versions",
                                 "/api/v1/workflows/beta/versions/1", "/api/v1/runs/" + beta_run_,
                                 "/api/v1/runs/" + beta_run_ + "/logs",
                                 "/api/v1/runs/" + beta_run_ + "/steps/ask/items",
                                 "/api/v1/runs?workflow=beta", "/api/v1/events?workflow=beta",
                                 "/api/v1/runs/" + beta_run_ + "/events"}) {
    expect_refused("GET", path);
  }
  for (const std::string& path : std::vector<std::string>{
           "/api/v1/workflows/beta/runs", "/api/v1/workflows/beta/enable", "/api/v1/workflows/beta/disable",
        "/api/v1/workflows/beta/rollback", "/api/v1/runs/" + beta_run_ + "/cancel",
        "/api/v1/runs/" + beta_run_ + "/retry", "/api/v1/runs/" + beta_run_ + "/rerun",
        "/api/v1/approvals/" + beta_run_ + "/ask/approve",
        "/api/v1/approvals/" + beta_run_ + "/ask/reject"}) {
    expect_refused("POST", path, "{}");
  }
  expect_refused("PUT", "/api/v1/workflows/beta", "id: beta\nsteps:\n  - {id: a, uses: core.noop}\n");
  expect_refused("DELETE", "/api/v1/workflows/beta");
  // Nothing happened to beta.
  EXPECT_EQ(store_->get_approval(beta_run_, "ask")->status, engine::ApprovalStatus::pending);
  EXPECT_TRUE(catalog_->get("beta").has_value());
}

TEST_F(TokenReachTest, ListsLeaveOtherWorkflowsOut) {
  const auto listing = body_of(limited("GET", "/api/v1/workflows"));
  EXPECT_TRUE(listing.at("problems").as_array().empty()) << listing;
  EXPECT_FALSE(body_of(call("GET", "/api/v1/workflows")).at("problems").as_array().empty());
  const auto& workflows = listing.at("items").as_array();
  ASSERT_EQ(workflows.size(), 1u);
  EXPECT_EQ(workflows[0].at("id"), "alpha");
  const auto runs = body_of(limited("GET", "/api/v1/runs"));
  for (const auto& run : runs.at("items").as_array()) {
    EXPECT_EQ(run.at("workflow_id"), "alpha");
  }
  EXPECT_TRUE(body_of(limited("GET", "/api/v1/approvals")).at("items").as_array().empty());
  // The all-runs stream must name one of its workflows.
  auto all = limited("GET", "/api/v1/events");
  EXPECT_EQ(all.status, 403);
  EXPECT_NE(all.body.find("?workflow="), std::string::npos);
}

TEST_F(TokenReachTest, WhatBelongsToNoWorkflowIsForbidden) {
  expect_refused("GET", "/api/v1/connections");
  expect_refused("GET", "/api/v1/tokens");
  expect_refused("GET", "/api/v1/files");
  // Creating a workflow, even one it could reach, is not for a limited token: it would escape
  // review of what the token was made for; PUT changes its own workflow.
  expect_refused("POST", "/api/v1/workflows", "{\"source\": \"id: alpha2\\nsteps: []\\n\"}");
  // A token cannot be used to make a wider one.
  expect_refused("POST", "/api/v1/tokens", R"({"scopes": ["runs:read"]})");
}

TEST_F(TokenReachTest, LimitsAreValidatedAndShown) {
  auto bad = call("POST", "/api/v1/tokens", R"({"scopes": ["runs:read"], "workflows": ["Beta/../x"]})",
                  [] {
                    Headers h;
                    h.set("Content-Type", "application/json");
                    return h;
                  }());
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(body_of(bad).at("errors").at(0).at("path"), "workflows[0]");
  auto not_strings = call("POST", "/api/v1/tokens", R"({"scopes": ["runs:read"], "workflows": [7]})",
                          [] {
                            Headers h;
                            h.set("Content-Type", "application/json");
                            return h;
                          }());
  EXPECT_EQ(not_strings.status, 422);
  auto listed = body_of(call("GET", "/api/v1/tokens")).at("items").as_array();
  bool found = false;
  for (const auto& t : listed) {
    if (t.at("name") == "alpha only") {
      found = true;
      EXPECT_EQ(t.at("workflows"), json::array{"alpha"});
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace flowpilot::web
