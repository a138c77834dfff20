// POST /hooks/<path> against the real executor and store: auth, replay dedup, idempotency keys,
// body types, limits, and both ways of answering (BAD-INPUTS.md 13-19).
#include "server_fixture.h"
#include "web/webhook_auth.h"

namespace flowpilot::web::test {
namespace {

namespace json = boost::json;
using engine::WebhookAuthScheme;

constexpr const char* kGithubHook = R"(
id: gh
triggers:
  - webhook:
      path: gh
      auth: {scheme: github, secret: "${{ secrets.HOOK_SECRET }}"}
steps:
  - {id: echo, uses: core.noop, with: {body: "${{ trigger.body }}"}}
)";

constexpr const char* kOpenHook = R"(
id: open
triggers:
  - webhook: {path: open, respond: result, idempotency_key: "${{ trigger.headers['x-event-id'] }}"}
steps:
  - {id: echo, uses: core.noop, with: {body: "${{ trigger.body }}", method: "${{ trigger.method }}"}}
outputs:
  body: ${{ steps.echo.output.body }}
)";

Headers json_headers() {
  Headers h;
  h.set("Content-Type", "application/json");
  return h;
}

std::string signed_github(Headers& h, const std::string& body) {
  h.set("X-Hub-Signature-256",
        sign_webhook(WebhookAuthScheme::github, "It's a Secret to Everybody", body,
                     std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())));
  return body;
}

class WebhooksTest : public ServerFixture {};

TEST_F(WebhooksTest, AcceptedAnswers202OnlyOnceTheRunIsDurable) {
  define(kGithubHook);
  Headers h = json_headers();
  const std::string body = signed_github(h, R"({"action":"opened"})");
  Response r = call("POST", "/hooks/gh", body, h);
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string run_id(body_of(r).at("run_id").as_string());
  // The run exists in the store at the moment the answer exists.
  auto run = store_->get_run(run_id);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->trigger.at("type"), json::value("webhook"));
  EXPECT_EQ(run->trigger.at("body").at("action"), json::value("opened"));
  EXPECT_EQ(r.headers.get("Location").value_or(""), "/api/v1/runs/" + run_id);
  EXPECT_EQ(executor_->wait(run_id, std::chrono::seconds(20)), engine::RunStatus::succeeded);
}

TEST_F(WebhooksTest, BadSignaturesAre401AndStartNothing) {
  define(kGithubHook);
  const std::string body = R"({"action":"opened"})";
  Headers missing = json_headers();
  EXPECT_EQ(call("POST", "/hooks/gh", body, missing).status, 401);
  Headers wrong = json_headers();
  wrong.set("X-Hub-Signature-256", "sha256=" + std::string(64, '0'));
  EXPECT_EQ(call("POST", "/hooks/gh", body, wrong).status, 401);
  Headers truncated = json_headers();
  signed_github(truncated, body);
  truncated.set("X-Hub-Signature-256",
                std::string(truncated.get("X-Hub-Signature-256")->substr(0, 40)));
  EXPECT_EQ(call("POST", "/hooks/gh", body, truncated).status, 401);
  // Signed over one serialisation, sent as another: refused (the raw bytes are what count).
  Headers reserialised = json_headers();
  signed_github(reserialised, body);
  Response r = call("POST", "/hooks/gh", R"({ "action": "opened" })", reserialised);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_TRUE(store_->list_runs({}).empty());
}

TEST_F(WebhooksTest, AReplayedDeliveryAnswersTheFirstRun) {
  define(kGithubHook);
  Headers h = json_headers();
  const std::string body = signed_github(h, R"({"n":1})");
  h.set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  Response first = call("POST", "/hooks/gh", body, h);
  Response again = call("POST", "/hooks/gh", body, h);
  ASSERT_EQ(first.status, 202);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(body_of(again).at("run_id"), body_of(first).at("run_id"));
  EXPECT_EQ(body_of(again).at("created"), json::value(false));
  EXPECT_EQ(store_->list_runs({}).size(), 1u);
}

TEST_F(WebhooksTest, IdempotencyKeyFromTheExpressionOrTheHeader) {
  define(kOpenHook);
  define(R"(
id: plain
triggers:
  - webhook: {path: plain}
steps:
  - {id: a, uses: core.noop}
)");
  Headers keyed = json_headers();
  keyed.set("X-Event-Id", "evt-1");
  const auto a = body_of(call("POST", "/hooks/open", "{}", keyed)).at("run_id");
  const auto b = body_of(call("POST", "/hooks/open", R"({"other":true})", keyed)).at("run_id");
  EXPECT_EQ(a, b);
  Headers header = json_headers();
  header.set("Idempotency-Key", "order-42");
  Response p1 = call("POST", "/hooks/plain", "{}", header);
  Response p2 = call("POST", "/hooks/plain", "{}", header);
  EXPECT_EQ(p1.status, 202);
  EXPECT_EQ(p2.status, 200);
  EXPECT_EQ(body_of(p1).at("run_id"), body_of(p2).at("run_id"));
  // No key at all: every delivery is a run of its own.
  EXPECT_NE(body_of(call("POST", "/hooks/plain", "{}", json_headers())).at("run_id"),
            body_of(call("POST", "/hooks/plain", "{}", json_headers())).at("run_id"));
}

TEST_F(WebhooksTest, RespondResultReturnsTheOutputsAndBodiesStayData) {
  define(kOpenHook);
  // Expression syntax inside the body is data, never evaluated (n8n CVE-2025-68613), and a body
  // that claims file metadata is just a body (CVE-2026-21858).
  const std::string body =
      R"({"name":"${{ secrets.HOOK_SECRET }}","files":{"x":{"filepath":"/etc/passwd"}}})";
  Headers h = json_headers();
  h.set("X-Event-Id", "evt-data");
  Response r = call("POST", "/hooks/open", body, h);
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value answer = body_of(r);
  EXPECT_EQ(answer.at("status"), json::value("succeeded"));
  EXPECT_EQ(answer.at("outputs").at("body").at("name"), json::value("${{ secrets.HOOK_SECRET }}"));
  EXPECT_EQ(answer.at("outputs").at("body").at("files").at("x").at("filepath"),
            json::value("/etc/passwd"));
}

TEST_F(WebhooksTest, RespondResultReportsAFailedRunAndTimesOutWith202) {
  define(R"(
id: broken
triggers:
  - webhook: {path: broken, respond: result}
steps:
  - {id: boom, uses: core.fail, with: {message: "no budget"}}
)");
  Response failed = call("POST", "/hooks/broken", "", {});
  EXPECT_EQ(failed.status, 500);
  EXPECT_NE(failed.body.find("no budget"), std::string::npos);
  EXPECT_TRUE(body_of(failed).as_object().contains("run_id"));

  define(R"(
id: parked
triggers:
  - webhook: {path: parked, respond: result}
steps:
  - {id: ok, uses: core.approval, with: {message: "go?"}}
)");
  Response waiting = call("POST", "/hooks/parked", "", {});
  EXPECT_EQ(waiting.status, 202);
  EXPECT_EQ(body_of(waiting).at("status"), json::value("running"));
}

TEST_F(WebhooksTest, BodiesByContentType) {
  define(kOpenHook);
  Headers form;
  form.set("Content-Type", "application/x-www-form-urlencoded");
  form.set("X-Event-Id", "form");
  Response f = call("POST", "/hooks/open", "a=1&b=two+words&a=3&c=%2Fx", form);
  ASSERT_EQ(f.status, 200) << f.body;
  EXPECT_EQ(body_of(f).at("outputs").at("body"),
            json::parse(R"({"a":["1","3"],"b":"two words","c":"/x"})"));
  Headers text;
  text.set("Content-Type", "text/plain; charset=utf-8");
  text.set("X-Event-Id", "text");
  EXPECT_EQ(body_of(call("POST", "/hooks/open", "hello", text)).at("outputs").at("body"),
            json::value("hello"));
  Headers bad_json = json_headers();
  bad_json.set("X-Event-Id", "bad");
  Response b = call("POST", "/hooks/open", "{\"a\":\n  tru}", bad_json);
  EXPECT_EQ(b.status, 400);
  EXPECT_NE(b.body.find("line 2"), std::string::npos) << b.body;
  Headers xml;
  xml.set("Content-Type", "application/xml");
  EXPECT_EQ(call("POST", "/hooks/open", "<a/>", xml).status, 415);
  Headers gzip = json_headers();
  gzip.set("Content-Encoding", "gzip");
  EXPECT_EQ(call("POST", "/hooks/open", std::string("\x1f\x8b", 2), gzip).status, 415);
}

TEST_F(WebhooksTest, CredentialsAreNotRecordedWithTheRun) {
  define(R"(
id: tok
triggers:
  - webhook: {path: tok, auth: {scheme: token, secret: "${{ secrets.HOOK_SECRET }}"}}
steps:
  - {id: a, uses: core.noop}
)");
  Headers h;
  h.set("Authorization", "Bearer It's a Secret to Everybody");
  h.set("Cookie", "session=abc");
  Response r = call("POST", "/hooks/tok", "", h);
  ASSERT_EQ(r.status, 202) << r.body;
  auto run = store_->get_run(std::string(body_of(r).at("run_id").as_string()));
  const auto& headers = run->trigger.at("headers").as_object();
  EXPECT_FALSE(headers.contains("authorization"));
  EXPECT_FALSE(headers.contains("cookie"));
  EXPECT_EQ(json::serialize(run->trigger).find("Secret to Everybody"), std::string::npos);
}

TEST_F(WebhooksTest, UnknownDisabledAndUnconfiguredHooks) {
  EXPECT_EQ(call("POST", "/hooks/nothing-here", "", {}).status, 404);
  define(kOpenHook);
  ASSERT_TRUE(catalog_->set_enabled("open", false).ok());
  EXPECT_EQ(call("POST", "/hooks/open", "", {}).status, 404);
  EXPECT_EQ(call("GET", "/hooks/open", "", {}).status, 405);
  define(R"(
id: nosecret
triggers:
  - webhook: {path: nosecret, auth: {scheme: github, secret: "${{ secrets.MISSING }}"}}
steps:
  - {id: a, uses: core.noop}
)");
  Response r = call("POST", "/hooks/nosecret", "", {});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body.find("MISSING"), std::string::npos);
}

class RateLimitedWebhooksTest : public ServerFixture {
 protected:
  WebhookOptions webhook_options() const override {
    WebhookOptions o;
    o.rate = 0.01;  // one token per 100 s: the bucket does not refill during the test
    o.burst = 3;
    return o;
  }
};

TEST_F(RateLimitedWebhooksTest, OverTheRateAnswers429WithRetryAfter) {
  define(kOpenHook);
  int accepted = 0;
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 6; ++i) {
    Headers h = json_headers();
    h.set("X-Event-Id", "e" + std::to_string(i));
    Response r = call("POST", "/hooks/open", "{}", h);
    if (r.status == 429) {
      ++limited;
      retry_after = std::string(r.headers.get("Retry-After").value_or(""));
    } else if (r.status == 200) {
      ++accepted;
    }
  }
  EXPECT_EQ(accepted, 3);
  EXPECT_EQ(limited, 3);
  EXPECT_FALSE(retry_after.empty());
  EXPECT_GE(std::stoi(retry_after), 1);
  // Every refusal is counted, none is silent.
  const std::string scrape = metrics_.render();
  EXPECT_NE(scrape.find("flowpilot_webhook_deliveries_total{path=\"open\",outcome=\"rate_limited\"} 3"),
            std::string::npos)
      << scrape;
}

}  // namespace
}  // namespace flowpilot::web::test
