// plugins/http's `http.request` through the loader, the executor and the real HTTP client, against
// a local test server.
#include "engine/http/test_server.h"
#include "engine/runtime/runtime_fixture.h"

namespace flowpilot::engine::testing {
namespace {

namespace json = boost::json;
using engine::test::ScriptedResponse;
using engine::test::TestServer;

class HttpStepTest : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    executor_.reset();
    ExecutorOptions options;
    options.connections = [](std::string_view name) -> std::optional<json::object> {
      if (name == "api") return json::object{{"type", "bearer"}, {"token", "tok-abcdef-123"}};
      return std::nullopt;
    };
    executor_ = make_executor(options);
  }

  std::string yaml(const std::string& with, const std::string& extra = "") {
    return "id: http-step\nsteps:\n  - id: call\n    uses: http.request\n    connection: api\n" +
           extra + "    with: " + with + "\n";
  }

  TestServer server_;
};

TEST_F(HttpStepTest, GetsJsonWithCredentialsThatNeverReachTheRecords) {
  server_.on("/campaigns", {200, {{"Content-Type", "application/json"}}, R"({"data":[1,2,3]})"});
  auto status = run_to_end(yaml("{url: \"" + server_.url("/campaigns") + "\", query: {level: campaign}}"));
  ASSERT_EQ(status, RunStatus::succeeded) << store_->get_run(last_run_)->error;
  auto out = steps_of(last_run_)["call"].output;
  EXPECT_EQ(out.at("status"), json::value(200));
  EXPECT_EQ(out.at("body").at("data").as_array().size(), 3u);
  auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/campaigns?level=campaign");
  ASSERT_NE(requests[0].header("authorization"), nullptr);
  EXPECT_EQ(*requests[0].header("authorization"), "Bearer tok-abcdef-123");
  for (const auto& a : store_->get_attempts(last_run_)) {
    EXPECT_EQ(json::serialize(a.input).find("tok-abcdef"), std::string::npos);
    EXPECT_EQ(json::serialize(a.output).find("tok-abcdef"), std::string::npos);
  }
}

TEST_F(HttpStepTest, WaitsOutRetryAfterOnA429) {
  server_.on_sequence("/limited", {{429, {{"Retry-After", "1"}}, "slow down"},
                                   {200, {{"Content-Type", "application/json"}}, "{\"ok\":true}"}});
  const auto t0 = std::chrono::steady_clock::now();
  auto status = run_to_end(yaml("{url: \"" + server_.url("/limited") + "\"}"));
  ASSERT_EQ(status, RunStatus::succeeded) << store_->get_run(last_run_)->error;
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(950));
  EXPECT_EQ(server_.hits("/limited"), 2);
}

TEST_F(HttpStepTest, RefusesPrivateAddressesWithoutRetrying) {
  auto status = run_to_end(
      yaml("{url: \"http://127.0.0.2:9/x\"}", "    retry: {attempts: 3, delay: 1ms}\n"));
  ASSERT_EQ(status, RunStatus::failed);
  auto step = steps_of(last_run_)["call"];
  EXPECT_NE(step.error.find("refused by the SSRF guard"), std::string::npos) << step.error;
  EXPECT_EQ(step.attempt, 1);
  auto metadata = run_to_end(yaml("{url: \"http://169.254.169.254/latest/meta-data/\"}"));
  ASSERT_EQ(metadata, RunStatus::failed);
  EXPECT_NE(steps_of(last_run_)["call"].error.find("metadata"), std::string::npos);
}

TEST_F(HttpStepTest, ClientErrorsFailAtOnceServerErrorsRetry) {
  server_.on("/missing", {404, {}, "no such thing"});
  ASSERT_EQ(run_to_end(yaml("{url: \"" + server_.url("/missing") + "\"}",
                            "    retry: {attempts: 3, delay: 1ms}\n")),
            RunStatus::failed);
  EXPECT_EQ(steps_of(last_run_)["call"].attempt, 1);
  EXPECT_NE(steps_of(last_run_)["call"].error.find("HTTP 404"), std::string::npos);

  server_.on_sequence("/flaky", {{500, {}, "oops"}, {200, {}, "fine"}});
  ASSERT_EQ(run_to_end(yaml("{url: \"" + server_.url("/flaky") + "\"}",
                            "    retry: {attempts: 3, delay: 1ms}\n")),
            RunStatus::succeeded);
  EXPECT_EQ(steps_of(last_run_)["call"].attempt, 2);
}

TEST_F(HttpStepTest, FollowsLinkPagination) {
  server_.on("/page1", {200,
                        {{"Content-Type", "application/json"},
                         {"Link", "<" + server_.url("/page2") + ">; rel=\"next\""}},
                        R"({"data":[1,2]})"});
  server_.on("/page2", {200, {{"Content-Type", "application/json"}}, R"({"data":[3]})"});
  auto status = run_to_end(yaml("{url: \"" + server_.url("/page1") +
                                "\", paginate: {type: link, items_path: data}}"));
  ASSERT_EQ(status, RunStatus::succeeded) << store_->get_run(last_run_)->error;
  auto out = steps_of(last_run_)["call"].output;
  EXPECT_EQ(out.at("pages"), json::value(2));
  EXPECT_EQ(out.at("items"), json::parse("[1,2,3]"));
}

TEST_F(HttpStepTest, DryRunDescribesWritesAndSendsNothing) {
  server_.on("/pause", {200, {}, "{}"});
  auto wf = load(yaml("{method: POST, url: \"" + server_.url("/pause") +
                      "\", json: {status: PAUSED}}"));
  RunRequest request;
  request.workflow = wf;
  request.dry_run = true;
  const auto id = executor_->start(request).run_id;
  ASSERT_EQ(executor_->wait(id, std::chrono::seconds(10)), RunStatus::succeeded);
  auto plan = steps_of(id)["call"].output.at("plan");
  EXPECT_EQ(plan.at("method"), json::value("POST"));
  EXPECT_EQ(plan.at("headers").at("Authorization"), json::value("***"));
  EXPECT_EQ(server_.hits("/pause"), 0);
}

}  // namespace
}  // namespace flowpilot::engine::testing
