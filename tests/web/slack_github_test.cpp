// Slack and GitHub signatures, checked against the vendors' published vectors (API-SHAPES.md
// §6-7), never against values computed by the code under test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <string>

#include "web/fake_request.h"
#include "web/webhook_auth.h"

namespace flowpilot::web {
namespace {

using engine::WebhookAuthScheme;
using test::at;
using test::FakeRequest;
using ::testing::HasSubstr;

// Slack's documented example (API-SHAPES.md §6).
constexpr std::string_view kSlackSecret = "8f742231b10e8888abcd99yyyzzz85a5";
constexpr std::int64_t kSlackTimestamp = 1531420618;
constexpr std::string_view kSlackBody =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
    "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
    "803a0bc887a14d10d2c447fce8b6703c";
constexpr std::string_view kSlackSignature =
    "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

FakeRequest slack_request() {
  FakeRequest req{std::string(kSlackBody)};
  req.set("X-Slack-Request-Timestamp", std::to_string(kSlackTimestamp));
  req.set("X-Slack-Signature", std::string(kSlackSignature));
  return req;
}

AuthVerdict verify_slack(const FakeRequest& req, std::int64_t now = kSlackTimestamp) {
  return verify_webhook(WebhookAuthScheme::slack, kSlackSecret, req.view(), at(now));
}

TEST(SlackSignature, DocumentedExampleVerifies) {
  const FakeRequest req = slack_request();
  const AuthVerdict verdict = verify_slack(req);
  EXPECT_TRUE(verdict.ok) << verdict.reason;
  EXPECT_EQ(verdict.reason, "");
  EXPECT_EQ(verdict.event_id,
            "1531420618:a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503");
}

TEST(SlackSignature, SignMatchesDocumentedExample) {
  EXPECT_EQ(sign_webhook(WebhookAuthScheme::slack, kSlackSecret, kSlackBody,
                         std::chrono::sys_seconds(std::chrono::seconds(kSlackTimestamp))),
            kSlackSignature);
}

TEST(SlackSignature, OneChangedBodyByteFails) {
  FakeRequest req = slack_request();
  req.body()[req.body().find("roadrunner")] = 'R';
  const AuthVerdict verdict = verify_slack(req);
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.reason, "signature mismatch");
  EXPECT_EQ(verdict.event_id, "");
}

TEST(SlackSignature, ChangedTimestampFailsEvenInsideTheWindow) {
  // The timestamp is part of the signed base string: moving it by one second breaks the signature.
  FakeRequest req = slack_request();
  req.set("X-Slack-Request-Timestamp", std::to_string(kSlackTimestamp + 1));
  const AuthVerdict verdict = verify_slack(req);
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.reason, "signature mismatch");
}

TEST(SlackSignature, WindowIsPlusMinus300Seconds) {
  const FakeRequest req = slack_request();
  EXPECT_TRUE(verify_slack(req, kSlackTimestamp + 300).ok);
  EXPECT_TRUE(verify_slack(req, kSlackTimestamp - 300).ok);
  for (std::int64_t now : {kSlackTimestamp + 301, kSlackTimestamp - 301}) {
    const AuthVerdict verdict = verify_slack(req, now);
    EXPECT_FALSE(verdict.ok);
    EXPECT_THAT(verdict.reason, HasSubstr("timestamp outside the 300 s window"));
  }
}

TEST(SlackSignature, ToleranceIsAParameter) {
  const FakeRequest req = slack_request();
  const AuthVerdict verdict = verify_webhook(WebhookAuthScheme::slack, kSlackSecret, req.view(),
                                             at(kSlackTimestamp + 61), std::chrono::seconds(60));
  EXPECT_FALSE(verdict.ok);
  EXPECT_THAT(verdict.reason, HasSubstr("timestamp outside the 60 s window"));
}

TEST(SlackSignature, MissingHeadersNameTheHeader) {
  FakeRequest no_signature = slack_request();
  no_signature.erase("X-Slack-Signature");
  AuthVerdict verdict = verify_slack(no_signature);
  EXPECT_FALSE(verdict.ok);
  EXPECT_THAT(verdict.reason, HasSubstr("signature missing"));
  EXPECT_THAT(verdict.reason, HasSubstr("X-Slack-Signature"));

  FakeRequest no_timestamp = slack_request();
  no_timestamp.erase("X-Slack-Request-Timestamp");
  verdict = verify_slack(no_timestamp);
  EXPECT_FALSE(verdict.ok);
  EXPECT_THAT(verdict.reason, HasSubstr("timestamp missing"));
  EXPECT_THAT(verdict.reason, HasSubstr("X-Slack-Request-Timestamp"));

  const FakeRequest nothing{std::string(kSlackBody)};
  EXPECT_FALSE(verify_slack(nothing).ok);
  // A request object with no header function at all is just "no headers".
  EXPECT_FALSE(verify_webhook(WebhookAuthScheme::slack, kSlackSecret,
                              WebhookRequest{kSlackBody, {}}, at(kSlackTimestamp))
                   .ok);
}

TEST(SlackSignature, MalformedHeadersAreRefusedNotThrown) {
  const std::string hex(kSlackSignature.substr(3));
  for (const std::string& signature :
       {std::string("a2114d57"), "v0=" + hex.substr(0, 63), "v0=" + hex.substr(0, 62),
        "v0=" + hex + "00", "v1=" + hex, "v0=" + hex.substr(0, 63) + "g", "v0= " + hex.substr(1),
        std::string("v0="), std::string()}) {
    FakeRequest req = slack_request();
    req.set("X-Slack-Signature", signature);
    const AuthVerdict verdict = verify_slack(req);
    EXPECT_FALSE(verdict.ok) << signature;
    EXPECT_THAT(verdict.reason, HasSubstr("malformed signature header")) << signature;
  }
  for (const std::string& timestamp :
       {std::string("abc"), std::string("-1531420618"), std::string("+1531420618"),
        std::string(" 1531420618"), std::string("1531420618 "), std::string("1531420618.5"),
        std::string("1e9"), std::string(""), std::string("99999999999999999999999")}) {
    FakeRequest req = slack_request();
    req.set("X-Slack-Request-Timestamp", timestamp);
    const AuthVerdict verdict = verify_slack(req);
    EXPECT_FALSE(verdict.ok) << timestamp;
    EXPECT_THAT(verdict.reason, HasSubstr("malformed timestamp")) << timestamp;
  }
}

TEST(SlackSignature, WrongSecretFails) {
  const FakeRequest req = slack_request();
  EXPECT_FALSE(verify_webhook(WebhookAuthScheme::slack, "8f742231b10e8888abcd99yyyzzz85a6",
                              req.view(), at(kSlackTimestamp))
                   .ok);
}

// GitHub's documented example (API-SHAPES.md §7).
constexpr std::string_view kGithubSecret = "It's a Secret to Everybody";
constexpr std::string_view kGithubBody = "Hello, World!";
constexpr std::string_view kGithubHex =
    "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

FakeRequest github_request(std::string signature = "sha256=" + std::string(kGithubHex)) {
  FakeRequest req{std::string(kGithubBody)};
  req.set("X-Hub-Signature-256", std::move(signature));
  req.set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  return req;
}

AuthVerdict verify_github(const FakeRequest& req) {
  // GitHub signs no timestamp, so any "now" will do.
  return verify_webhook(WebhookAuthScheme::github, kGithubSecret, req.view(), at(1'700'000'000));
}

TEST(GithubSignature, DocumentedExampleVerifies) {
  const FakeRequest req = github_request();
  const AuthVerdict verdict = verify_github(req);
  EXPECT_TRUE(verdict.ok) << verdict.reason;
  EXPECT_EQ(verdict.event_id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
}

TEST(GithubSignature, SignMatchesDocumentedExample) {
  EXPECT_EQ(sign_webhook(WebhookAuthScheme::github, kGithubSecret, kGithubBody, {}),
            "sha256=" + std::string(kGithubHex));
}

TEST(GithubSignature, ComparesDecodedBytesSoUppercaseHexIsAccepted) {
  // GitHub sends lowercase; we compare the decoded 32 bytes, so the case of the hex is irrelevant
  // and the event id (derived from bytes) is the same for both spellings.
  std::string upper(kGithubHex);
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  FakeRequest req = github_request("sha256=" + upper);
  EXPECT_TRUE(verify_github(req).ok);
  req.erase("X-GitHub-Delivery");
  const AuthVerdict verdict = verify_github(req);
  ASSERT_TRUE(verdict.ok);
  EXPECT_EQ(verdict.event_id, "sha256=" + std::string(kGithubHex));
}

TEST(GithubSignature, WrongOrTruncatedSignatureFails) {
  std::string flipped(kGithubHex);
  flipped.back() = flipped.back() == '7' ? '8' : '7';
  AuthVerdict verdict = verify_github(github_request("sha256=" + flipped));
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.reason, "signature mismatch");

  verdict = verify_github(github_request("sha256=" + std::string(kGithubHex.substr(0, 40))));
  EXPECT_FALSE(verdict.ok);
  EXPECT_THAT(verdict.reason, HasSubstr("malformed signature header"));

  // The legacy SHA-1 header form is not accepted in place of the SHA-256 one.
  verdict = verify_github(github_request("sha1=" + std::string(kGithubHex)));
  EXPECT_FALSE(verdict.ok);
  EXPECT_THAT(verdict.reason, HasSubstr("malformed signature header"));
}

TEST(GithubSignature, MissingSignatureFails) {
  FakeRequest req = github_request();
  req.erase("X-Hub-Signature-256");
  const AuthVerdict verdict = verify_github(req);
  EXPECT_FALSE(verdict.ok);
  EXPECT_THAT(verdict.reason, HasSubstr("signature missing"));
  EXPECT_THAT(verdict.reason, HasSubstr("X-Hub-Signature-256"));
}

TEST(GithubSignature, ReserialisedBodyFails) {
  // BAD-INPUTS 15: a framework that parses JSON and re-serialises it changes the bytes.
  FakeRequest req{R"({"action":"opened","number":1})"};
  const std::string signature =
      sign_webhook(WebhookAuthScheme::github, kGithubSecret, req.body(), {});
  req.set("X-Hub-Signature-256", signature);
  ASSERT_TRUE(verify_github(req).ok);
  req.body() = R"({"action": "opened", "number": 1})";
  EXPECT_FALSE(verify_github(req).ok);
  req.body() = R"({"number":1,"action":"opened"})";
  EXPECT_FALSE(verify_github(req).ok);
  req.body() = R"({"action":"opened","number":1})"
               "\n";
  EXPECT_FALSE(verify_github(req).ok);
}

}  // namespace
}  // namespace flowpilot::web
