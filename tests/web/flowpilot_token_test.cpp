// Flowpilot's own hmac-sha256 scheme, the token scheme and none.
//
// Fixed vector for our format, computed independently with the openssl CLI:
//   printf '%s' '1700000000.{"event":"spend.alert","amount":42}' |
//     openssl dgst -sha256 -hmac 'flowpilot-hook-secret'
//     -> 616844e69d1006fad20279ff511bc3aac62dcff3ee0906abd7758ab88e400686
// and one with a 100-byte key (longer than the HMAC block, so the key is hashed first):
//   printf '%s' '1700000000.{"a":1}' |
//     openssl dgst -sha256 -hmac "$(printf 'k%.0s' $(seq 100))"
//     -> e0b419ce90349e7bf07569fb4c3e646db7042eb8c074a060f9d00f9df36890d1
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "web/fake_request.h"
#include "web/webhook_auth.h"

namespace flowpilot::web {
namespace {

using engine::WebhookAuthScheme;
using test::at;
using test::FakeRequest;
using ::testing::HasSubstr;

constexpr std::string_view kSecret = "flowpilot-hook-secret";
constexpr std::int64_t kT = 1700000000;
constexpr std::string_view kBody = R"({"event":"spend.alert","amount":42})";
constexpr std::string_view kHex =
    "616844e69d1006fad20279ff511bc3aac62dcff3ee0906abd7758ab88e400686";

std::chrono::sys_seconds sys(std::int64_t unix_seconds) {
  return std::chrono::sys_seconds(std::chrono::seconds(unix_seconds));
}

FakeRequest signed_request(std::string_view body, std::int64_t t,
                           std::string_view secret = kSecret) {
  FakeRequest req{std::string(body)};
  req.set("X-Flowpilot-Timestamp", std::to_string(t));
  req.set("X-Flowpilot-Signature",
          sign_webhook(WebhookAuthScheme::hmac_sha256, secret, body, sys(t)));
  return req;
}

AuthVerdict verify_ours(const FakeRequest& req, std::int64_t now = kT,
                        std::string_view secret = kSecret) {
  return verify_webhook(WebhookAuthScheme::hmac_sha256, secret, req.view(), at(now));
}

TEST(FlowpilotSignature, MatchesIndependentVector) {
  EXPECT_EQ(sign_webhook(WebhookAuthScheme::hmac_sha256, kSecret, kBody, sys(kT)),
            "sha256=" + std::string(kHex));
  FakeRequest req{std::string(kBody)};
  req.set("X-Flowpilot-Timestamp", "1700000000");
  req.set("X-Flowpilot-Signature", "sha256=" + std::string(kHex));
  const AuthVerdict verdict = verify_ours(req);
  EXPECT_TRUE(verdict.ok) << verdict.reason;
  EXPECT_EQ(verdict.event_id, "1700000000." + std::string(kHex));
}

TEST(FlowpilotSignature, KeysLongerThanTheBlockWork) {
  const std::string long_key(100, 'k');
  EXPECT_EQ(sign_webhook(WebhookAuthScheme::hmac_sha256, long_key, R"({"a":1})", sys(kT)),
            "sha256=e0b419ce90349e7bf07569fb4c3e646db7042eb8c074a060f9d00f9df36890d1");
}

TEST(FlowpilotSignature, RoundTrip) {
  for (std::string_view body :
       {std::string_view(kBody), std::string_view(""), std::string_view("\0binary\xff", 8)}) {
    const FakeRequest req = signed_request(body, kT);
    const AuthVerdict verdict = verify_ours(req);
    EXPECT_TRUE(verdict.ok) << verdict.reason;
  }
}

TEST(FlowpilotSignature, DeliveryHeaderBecomesTheEventId) {
  FakeRequest req = signed_request(kBody, kT);
  req.set("X-Flowpilot-Delivery", "d-42");
  EXPECT_EQ(verify_ours(req).event_id, "d-42");
}

TEST(FlowpilotSignature, ReplayOutsideTheWindowIsRefused) {
  const FakeRequest req = signed_request(kBody, kT);
  EXPECT_TRUE(verify_ours(req, kT + 300).ok);
  AuthVerdict verdict = verify_ours(req, kT + 301);
  EXPECT_FALSE(verdict.ok);
  EXPECT_THAT(verdict.reason, HasSubstr("timestamp outside the 300 s window"));
  verdict = verify_ours(req, kT - 301);  // from the future: a skewed or forged clock
  EXPECT_FALSE(verdict.ok);
  EXPECT_THAT(verdict.reason, HasSubstr("timestamp outside the 300 s window"));
}

TEST(FlowpilotSignature, ReplayInsideTheWindowHasTheSameEventId) {
  // BAD-INPUTS 16: the dedup layer sees the same id for a replayed request.
  const FakeRequest req = signed_request(kBody, kT);
  EXPECT_EQ(verify_ours(req, kT).event_id, verify_ours(req, kT + 200).event_id);
}

TEST(FlowpilotSignature, ReserialisedBodyFails) {
  FakeRequest req = signed_request(kBody, kT);
  req.body() = R"({"event": "spend.alert", "amount": 42})";
  EXPECT_EQ(verify_ours(req).reason, "signature mismatch");
  req.body() = R"({"amount":42,"event":"spend.alert"})";
  EXPECT_EQ(verify_ours(req).reason, "signature mismatch");
}

TEST(FlowpilotSignature, WrongSecretOrShiftedTimestampFails) {
  EXPECT_EQ(verify_ours(signed_request(kBody, kT, "another-secret")).reason, "signature mismatch");
  FakeRequest req = signed_request(kBody, kT);
  req.set("X-Flowpilot-Timestamp", std::to_string(kT + 1));
  EXPECT_EQ(verify_ours(req).reason, "signature mismatch");
}

TEST(FlowpilotSignature, MissingAndMalformedHeaders) {
  FakeRequest req = signed_request(kBody, kT);
  req.erase("X-Flowpilot-Signature");
  EXPECT_THAT(verify_ours(req).reason, HasSubstr("signature missing"));

  req = signed_request(kBody, kT);
  req.erase("X-Flowpilot-Timestamp");
  EXPECT_THAT(verify_ours(req).reason, HasSubstr("timestamp missing"));

  req = signed_request(kBody, kT);
  req.set("X-Flowpilot-Timestamp", "17e8");
  EXPECT_THAT(verify_ours(req).reason, HasSubstr("malformed timestamp"));

  for (const std::string& signature : {std::string(kHex), "sha256=" + std::string(kHex.substr(1)),
                                       "sha256=" + std::string(kHex) + "0",
                                       "sha512=" + std::string(kHex), std::string("sha256=")}) {
    req = signed_request(kBody, kT);
    req.set("X-Flowpilot-Signature", signature);
    const AuthVerdict verdict = verify_ours(req);
    EXPECT_FALSE(verdict.ok) << signature;
    EXPECT_THAT(verdict.reason, HasSubstr("malformed signature header")) << signature;
  }
}

TEST(WebhookAuth, EmptySecretIsRefusedForEverySchemeButNone) {
  const FakeRequest req = signed_request(kBody, kT);
  for (WebhookAuthScheme scheme :
       {WebhookAuthScheme::token, WebhookAuthScheme::hmac_sha256, WebhookAuthScheme::github,
        WebhookAuthScheme::slack, WebhookAuthScheme::stripe}) {
    const AuthVerdict verdict = verify_webhook(scheme, "", req.view(), at(kT));
    EXPECT_FALSE(verdict.ok);
    EXPECT_THAT(verdict.reason, HasSubstr("no secret configured"));
    EXPECT_THROW((void)sign_webhook(scheme, "", kBody, sys(kT)), std::invalid_argument);
  }
}

TEST(WebhookAuth, NoneAcceptsAnything) {
  FakeRequest req{"anything"};
  AuthVerdict verdict = verify_webhook(WebhookAuthScheme::none, "", req.view(), at(kT));
  EXPECT_TRUE(verdict.ok);
  EXPECT_EQ(verdict.event_id, "");
  req.set("X-Flowpilot-Delivery", "d-1");
  verdict = verify_webhook(WebhookAuthScheme::none, "", req.view(), at(kT));
  EXPECT_TRUE(verdict.ok);
  EXPECT_EQ(verdict.event_id, "d-1");
  EXPECT_EQ(sign_webhook(WebhookAuthScheme::none, "", "x", sys(kT)), "");
}

constexpr std::string_view kToken = "tok_3f9a7c1e";

AuthVerdict verify_token(const FakeRequest& req, std::string_view secret = kToken) {
  return verify_webhook(WebhookAuthScheme::token, secret, req.view(), at(kT));
}

TEST(TokenAuth, BearerHeaderAccepted) {
  FakeRequest req{"{}"};
  req.set("Authorization", "Bearer tok_3f9a7c1e");
  EXPECT_TRUE(verify_token(req).ok);
  req.set("authorization", "bearer   tok_3f9a7c1e");  // scheme and header name are case-insensitive
  EXPECT_TRUE(verify_token(req).ok);
  EXPECT_EQ(sign_webhook(WebhookAuthScheme::token, kToken, "", sys(kT)), "Bearer tok_3f9a7c1e");
}

TEST(TokenAuth, FlowpilotTokenHeaderAccepted) {
  FakeRequest req{"{}"};
  req.set("X-Flowpilot-Token", "tok_3f9a7c1e");
  req.set("X-Flowpilot-Delivery", "d-7");
  const AuthVerdict verdict = verify_token(req);
  EXPECT_TRUE(verdict.ok) << verdict.reason;
  EXPECT_EQ(verdict.event_id, "d-7");
}

TEST(TokenAuth, WrongTokenRefused) {
  for (const std::string& token :
       {std::string("tok_3f9a7c1f"), std::string("tok_3f9a7c1"), std::string("tok_3f9a7c1ee"),
        std::string("TOK_3F9A7C1E"), std::string("x")}) {
    FakeRequest req{"{}"};
    req.set("Authorization", "Bearer " + token);
    const AuthVerdict verdict = verify_token(req);
    EXPECT_FALSE(verdict.ok) << token;
    EXPECT_EQ(verdict.reason, "token mismatch") << token;
    FakeRequest other{"{}"};
    other.set("X-Flowpilot-Token", token);
    EXPECT_FALSE(verify_token(other).ok) << token;
  }
}

TEST(TokenAuth, MissingOrNonBearerRefused) {
  FakeRequest req{"{}"};
  EXPECT_THAT(verify_token(req).reason, HasSubstr("token missing"));
  req.set("Authorization", "Basic dG9rXzNmOWE3YzFl");
  EXPECT_THAT(verify_token(req).reason, HasSubstr("token missing"));
  req.set("Authorization", "Bearer");
  EXPECT_FALSE(verify_token(req).ok);
  req.set("Authorization", "Bearertok_3f9a7c1e");
  EXPECT_FALSE(verify_token(req).ok);
}

TEST(TokenAuth, EmptyTokenNeverMatchesEmptySecret) {
  FakeRequest req{"{}"};
  req.set("X-Flowpilot-Token", "");
  const AuthVerdict verdict = verify_token(req, "");
  EXPECT_FALSE(verdict.ok);
  EXPECT_THAT(verdict.reason, HasSubstr("no secret configured"));
}

}  // namespace
}  // namespace flowpilot::web
