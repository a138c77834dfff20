// Stripe-Signature verification. Stripe publishes no test vector, so the expected HMACs were
// computed once, independently of this code, with the openssl CLI and are hard-coded:
//   printf '%s' '1700000000.{"id":"evt_123","type":"payment_intent.succeeded"}' |
//     openssl dgst -sha256 -hmac 'whsec_test_secret_flowpilot'
//     -> f5f59aba9b95914f81b828ab2e58ff756a52ee64ddeee56cd870e82cde107b9d
//   printf '%s' '1700000000.{"id":"evt_123","type":"payment_intent.succeeded"}' |
//     openssl dgst -sha256 -hmac 'whsec_other_secret'
//     -> 284aa208d9ac16f441970bbec40aa82ce9751620a4d92dc62cba773509961ae7
#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

constexpr std::string_view kSecret = "whsec_test_secret_flowpilot";
constexpr std::int64_t kT = 1700000000;
constexpr std::string_view kBody = R"({"id":"evt_123","type":"payment_intent.succeeded"})";
constexpr std::string_view kGood =
    "f5f59aba9b95914f81b828ab2e58ff756a52ee64ddeee56cd870e82cde107b9d";
// The same payload signed with another secret, as Stripe sends during a secret roll.
constexpr std::string_view kOtherSecretSig =
    "284aa208d9ac16f441970bbec40aa82ce9751620a4d92dc62cba773509961ae7";

AuthVerdict verify(const std::string& header, std::int64_t now = kT,
                   std::string_view body = kBody) {
  FakeRequest req{std::string(body)};
  req.set("Stripe-Signature", header);
  return verify_webhook(WebhookAuthScheme::stripe, kSecret, req.view(), at(now));
}

std::string good_header() { return "t=1700000000,v1=" + std::string(kGood); }

TEST(StripeSignature, SingleV1Verifies) {
  const AuthVerdict verdict = verify(good_header());
  EXPECT_TRUE(verdict.ok) << verdict.reason;
  EXPECT_EQ(verdict.event_id, "1700000000." + std::string(kGood));
}

TEST(StripeSignature, SignMatchesIndependentHmac) {
  EXPECT_EQ(sign_webhook(WebhookAuthScheme::stripe, kSecret, kBody,
                         std::chrono::sys_seconds(std::chrono::seconds(kT))),
            good_header());
}

TEST(StripeSignature, AnyMatchingV1IsEnoughAndV0IsIgnored) {
  const std::string other(kOtherSecretSig);
  const std::string good(kGood);
  for (const std::string& header : {
           "t=1700000000,v1=" + other + ",v1=" + good,
           "t=1700000000,v1=" + good + ",v1=" + other,
           "v1=" + other + ",t=1700000000,v1=" + good + ",v0=" + other,
           // v0 is not checked, so even a non-hex v0 does not matter.
           "t=1700000000,v1=" + good + ",v0=not-hex",
           "t=1700000000, v1=" + good,
       }) {
    const AuthVerdict verdict = verify(header);
    EXPECT_TRUE(verdict.ok) << header << ": " << verdict.reason;
    EXPECT_EQ(verdict.event_id, "1700000000." + good) << header;
  }
}

TEST(StripeSignature, NoMatchingV1Fails) {
  const AuthVerdict verdict = verify("t=1700000000,v1=" + std::string(kOtherSecretSig));
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.reason, "signature mismatch");
  // A correct signature offered only as v0 is not accepted: only v1 counts.
  EXPECT_FALSE(verify("t=1700000000,v0=" + std::string(kGood)).ok);
}

TEST(StripeSignature, ToleranceBothWays) {
  EXPECT_TRUE(verify(good_header(), kT + 300).ok);
  EXPECT_TRUE(verify(good_header(), kT - 300).ok);
  for (std::int64_t now : {kT + 301, kT - 301, kT + 86400}) {
    const AuthVerdict verdict = verify(good_header(), now);
    EXPECT_FALSE(verdict.ok);
    EXPECT_THAT(verdict.reason, HasSubstr("timestamp outside the 300 s window"));
  }
}

TEST(StripeSignature, TimestampIsSigned) {
  // Moving t into the window without re-signing does not help a replayer.
  EXPECT_FALSE(verify("t=1700000100,v1=" + std::string(kGood), kT + 100).ok);
}

TEST(StripeSignature, ReserialisedBodyFails) {
  const AuthVerdict verdict =
      verify(good_header(), kT, R"({"id": "evt_123", "type": "payment_intent.succeeded"})");
  EXPECT_FALSE(verdict.ok);
  EXPECT_EQ(verdict.reason, "signature mismatch");
}

TEST(StripeSignature, MalformedHeadersAreRefused) {
  const std::string good(kGood);
  for (const std::string& header : {
           "t=abc,v1=" + good,
           "t=,v1=" + good,
           "t=-1700000000,v1=" + good,
           "t=1700000000.5,v1=" + good,
           "v1=" + good,                                   // no t
           "t=1700000000,t=1700000000,v1=" + good,         // two t
           "t=1700000000,v1=" + good.substr(0, 63),        // odd-length hex
           "t=1700000000,v1=" + good.substr(0, 62),        // truncated
           "t=1700000000,v1=" + good + "ab",               // too long
           "t=1700000000,v1=" + good.substr(0, 63) + "z",  // not hex
           std::string("t=1700000000,v1"),                 // no '='
           "t=1700000000,v1=" + good + ",",                // trailing empty item
           std::string("garbage"),
           std::string(),
       }) {
    const AuthVerdict verdict = verify(header);
    EXPECT_FALSE(verdict.ok) << header;
    EXPECT_THAT(verdict.reason, HasSubstr("malformed signature header")) << header;
  }
}

TEST(StripeSignature, MissingSignaturesAreRefused) {
  AuthVerdict verdict = verify("t=1700000000");
  EXPECT_FALSE(verdict.ok);
  EXPECT_THAT(verdict.reason, HasSubstr("signature missing"));
  verdict = verify("t=1700000000,v0=" + std::string(kGood));
  EXPECT_FALSE(verdict.ok);
  EXPECT_THAT(verdict.reason, HasSubstr("signature missing"));

  const FakeRequest no_header{std::string(kBody)};
  verdict = verify_webhook(WebhookAuthScheme::stripe, kSecret, no_header.view(), at(kT));
  EXPECT_FALSE(verdict.ok);
  EXPECT_THAT(verdict.reason, HasSubstr("Stripe-Signature"));
}

TEST(StripeSignature, TooManyCandidatesAreRefused) {
  // Bounds the HMAC work one request can ask for.
  std::string header = "t=1700000000";
  for (int i = 0; i < 9; ++i) {
    header += ",v1=" + std::string(kOtherSecretSig);
  }
  EXPECT_FALSE(verify(header).ok);
}

}  // namespace
}  // namespace flowpilot::web
