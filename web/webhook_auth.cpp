#include "web/webhook_auth.h"

#include <fmt/format.h>
#include <sodium.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace flowpilot::web {
namespace {

using engine::WebhookAuthScheme;

constexpr std::size_t kDigestSize = crypto_auth_hmacsha256_BYTES;  // 32
constexpr std::size_t kDigestHexSize = 2 * kDigestSize;            // 64
// 18 digits keep the value below 10^18, so the window arithmetic below cannot overflow int64.
constexpr std::size_t kMaxTimestampDigits = 18;
// Stripe sends one v1 per active secret (two while rolling). A cap bounds the HMAC work a single
// request can cause with a header full of candidates.
constexpr std::size_t kMaxStripeSignatures = 8;

using Digest = std::array<unsigned char, kDigestSize>;

bool sodium_ready() {
  // sodium_init is idempotent and thread-safe; a function-local static runs it once.
  static const bool ready = sodium_init() >= 0;
  return ready;
}

// HMAC-SHA256 over the concatenation of `parts`. The init/update/final API takes a key of any
// length (longer than a block is hashed first), unlike crypto_auth_hmacsha256(), whose key is a
// fixed 32 bytes.
Digest hmac_sha256(std::string_view key, std::initializer_list<std::string_view> parts) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  for (std::string_view part : parts) {
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                                  part.size());
  }
  Digest digest{};
  crypto_auth_hmacsha256_final(&state, digest.data());
  // The state holds key-derived pads; do not leave them on the stack.
  sodium_memzero(&state, sizeof state);
  return digest;
}

std::string to_hex(const Digest& digest) {
  std::string hex(kDigestHexSize + 1, '\0');  // sodium_bin2hex writes a terminating NUL
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  hex.resize(kDigestHexSize);
  return hex;
}

// Decodes exactly 64 hex digits (either case). Anything else - wrong length, odd length, a
// non-hex character - is nullopt.
std::optional<Digest> decode_hex_digest(std::string_view hex) {
  if (hex.size() != kDigestHexSize) {
    return std::nullopt;
  }
  Digest digest{};
  std::size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(digest.data(), digest.size(), hex.data(), hex.size(), nullptr, &decoded,
                     &end) != 0 ||
      decoded != kDigestSize || end != hex.data() + hex.size()) {
    return std::nullopt;
  }
  return digest;
}

bool digests_equal(const Digest& a, const Digest& b) {
  return sodium_memcmp(a.data(), b.data(), kDigestSize) == 0;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) { return lowercase(a) == lowercase(b); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<std::string_view> header(const WebhookRequest& req, std::string_view name) {
  if (!req.header) {
    return std::nullopt;
  }
  return req.header(name);
}

// Unix seconds: 1-18 ASCII digits and nothing else. Leading zeros are allowed (the signature
// covers the text as sent, so they change nothing an attacker could use).
std::optional<std::int64_t> parse_timestamp(std::string_view text) {
  if (text.empty() || text.size() > kMaxTimestampDigits) {
    return std::nullopt;
  }
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
  }
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

AuthVerdict refuse(std::string reason) { return AuthVerdict{false, std::move(reason), {}}; }

AuthVerdict accept(std::string event_id) { return AuthVerdict{true, {}, std::move(event_id)}; }

// nullopt if `ts` lies within the window around `now`, else the refusal.
std::optional<AuthVerdict> check_window(std::int64_t ts, std::chrono::system_clock::time_point now,
                                        std::chrono::seconds tolerance) {
  const std::int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const std::int64_t allowed = tolerance.count() < 0 ? 0 : tolerance.count();
  // ts < 10^18 and now_s is a real clock reading, so neither difference overflows.
  const std::int64_t skew = ts > now_s ? ts - now_s : now_s - ts;
  if (skew > allowed) {
    return refuse(fmt::format("timestamp outside the {} s window (off by {} s)", allowed, skew));
  }
  return std::nullopt;
}

// Parses "<prefix><64 hex>" from a signature header.
std::optional<Digest> parse_prefixed_signature(std::string_view value, std::string_view prefix) {
  if (value.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  return decode_hex_digest(value.substr(prefix.size()));
}

AuthVerdict verify_token(std::string_view secret, const WebhookRequest& req) {
  std::vector<std::string_view> offered;
  if (auto token = header(req, "X-Flowpilot-Token")) {
    offered.push_back(trim(*token));
  }
  if (auto authorization = header(req, "Authorization")) {
    std::string_view value = trim(*authorization);
    constexpr std::string_view kBearer = "bearer";
    if (value.size() > kBearer.size() && iequals(value.substr(0, kBearer.size()), kBearer) &&
        (value[kBearer.size()] == ' ' || value[kBearer.size()] == '\t')) {
      offered.push_back(trim(value.substr(kBearer.size())));
    }
  }
  if (offered.empty()) {
    return refuse("token missing: send Authorization: Bearer <token> or X-Flowpilot-Token");
  }
  // Hash both sides first so the comparison takes the same time whatever the lengths; comparing
  // the raw strings would leak the secret's length and, byte by byte, its prefix.
  Digest expected{};
  crypto_hash_sha256(expected.data(), reinterpret_cast<const unsigned char*>(secret.data()),
                     secret.size());
  bool match = false;
  for (std::string_view token : offered) {
    Digest got{};
    crypto_hash_sha256(got.data(), reinterpret_cast<const unsigned char*>(token.data()),
                       token.size());
    // No early exit: every offered token is compared.
    match = digests_equal(expected, got) || match;
  }
  if (!match) {
    return refuse("token mismatch");
  }
  auto delivery = header(req, "X-Flowpilot-Delivery");
  return accept(delivery ? std::string(*delivery) : std::string());
}

AuthVerdict verify_flowpilot(std::string_view secret, const WebhookRequest& req,
                             std::chrono::system_clock::time_point now,
                             std::chrono::seconds tolerance) {
  auto signature = header(req, "X-Flowpilot-Signature");
  if (!signature) {
    return refuse("signature missing: no X-Flowpilot-Signature header");
  }
  auto timestamp = header(req, "X-Flowpilot-Timestamp");
  if (!timestamp) {
    return refuse("timestamp missing: no X-Flowpilot-Timestamp header");
  }
  auto ts = parse_timestamp(*timestamp);
  if (!ts) {
    return refuse("malformed timestamp header: X-Flowpilot-Timestamp must be unix seconds");
  }
  auto got = parse_prefixed_signature(*signature, "sha256=");
  if (!got) {
    return refuse("malformed signature header: X-Flowpilot-Signature must be sha256=<64 hex>");
  }
  // The window is checked before the HMAC so stale replays cost no hashing.
  if (auto refused = check_window(*ts, now, tolerance)) {
    return *refused;
  }
  if (!digests_equal(hmac_sha256(secret, {*timestamp, ".", req.body}), *got)) {
    return refuse("signature mismatch");
  }
  if (auto delivery = header(req, "X-Flowpilot-Delivery")) {
    return accept(std::string(*delivery));
  }
  return accept(fmt::format("{}.{}", *timestamp, to_hex(*got)));
}

AuthVerdict verify_github(std::string_view secret, const WebhookRequest& req) {
  auto signature = header(req, "X-Hub-Signature-256");
  if (!signature) {
    return refuse("signature missing: no X-Hub-Signature-256 header");
  }
  auto got = parse_prefixed_signature(*signature, "sha256=");
  if (!got) {
    return refuse("malformed signature header: X-Hub-Signature-256 must be sha256=<64 hex>");
  }
  if (!digests_equal(hmac_sha256(secret, {req.body}), *got)) {
    return refuse("signature mismatch");
  }
  if (auto delivery = header(req, "X-GitHub-Delivery")) {
    return accept(std::string(*delivery));
  }
  return accept("sha256=" + to_hex(*got));
}

AuthVerdict verify_slack(std::string_view secret, const WebhookRequest& req,
                         std::chrono::system_clock::time_point now,
                         std::chrono::seconds tolerance) {
  auto signature = header(req, "X-Slack-Signature");
  if (!signature) {
    return refuse("signature missing: no X-Slack-Signature header");
  }
  auto timestamp = header(req, "X-Slack-Request-Timestamp");
  if (!timestamp) {
    return refuse("timestamp missing: no X-Slack-Request-Timestamp header");
  }
  auto ts = parse_timestamp(*timestamp);
  if (!ts) {
    return refuse("malformed timestamp header: X-Slack-Request-Timestamp must be unix seconds");
  }
  auto got = parse_prefixed_signature(*signature, "v0=");
  if (!got) {
    return refuse("malformed signature header: X-Slack-Signature must be v0=<64 hex>");
  }
  if (auto refused = check_window(*ts, now, tolerance)) {
    return *refused;
  }
  if (!digests_equal(hmac_sha256(secret, {"v0:", *timestamp, ":", req.body}), *got)) {
    return refuse("signature mismatch");
  }
  return accept(fmt::format("{}:{}", *timestamp, to_hex(*got)));
}

AuthVerdict verify_stripe(std::string_view secret, const WebhookRequest& req,
                          std::chrono::system_clock::time_point now,
                          std::chrono::seconds tolerance) {
  auto value = header(req, "Stripe-Signature");
  if (!value) {
    return refuse("signature missing: no Stripe-Signature header");
  }
  std::optional<std::string_view> timestamp;
  std::vector<Digest> candidates;
  std::string_view rest = *value;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return refuse("malformed signature header: Stripe-Signature items must be key=value");
    }
    const std::string_view key = item.substr(0, eq);
    const std::string_view val = item.substr(eq + 1);
    if (key == "t") {
      if (timestamp) {
        return refuse("malformed signature header: Stripe-Signature has more than one t=");
      }
      timestamp = val;
    } else if (key == "v1") {
      auto digest = decode_hex_digest(val);
      if (!digest) {
        return refuse("malformed signature header: Stripe-Signature v1 must be 64 hex digits");
      }
      if (candidates.size() == kMaxStripeSignatures) {
        return refuse(
            fmt::format("malformed signature header: Stripe-Signature has more than {} v1 entries",
                        kMaxStripeSignatures));
      }
      candidates.push_back(*digest);
    }
    // Other schemes (v0 is Stripe's test-mode legacy scheme) are ignored, as Stripe's SDKs do.
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  if (!timestamp) {
    return refuse("malformed signature header: Stripe-Signature has no t=");
  }
  auto ts = parse_timestamp(*timestamp);
  if (!ts) {
    return refuse("malformed signature header: Stripe-Signature t= must be unix seconds");
  }
  if (candidates.empty()) {
    return refuse("signature missing: Stripe-Signature has no v1 signature");
  }
  if (auto refused = check_window(*ts, now, tolerance)) {
    return *refused;
  }
  const Digest expected = hmac_sha256(secret, {*timestamp, ".", req.body});
  const Digest* matched = nullptr;
  for (const Digest& candidate : candidates) {
    // Every candidate is compared; which one matched does not change the work done.
    if (digests_equal(expected, candidate) && matched == nullptr) {
      matched = &candidate;
    }
  }
  if (matched == nullptr) {
    return refuse("signature mismatch");
  }
  return accept(fmt::format("{}.{}", *timestamp, to_hex(*matched)));
}

}  // namespace

AuthVerdict verify_webhook(WebhookAuthScheme scheme, std::string_view secret,
                           const WebhookRequest& req, std::chrono::system_clock::time_point now,
                           std::chrono::seconds tolerance) {
  if (scheme == WebhookAuthScheme::none) {
    auto delivery = header(req, "X-Flowpilot-Delivery");
    return accept(delivery ? std::string(*delivery) : std::string());
  }
  if (secret.empty()) {
    return refuse("no secret configured for this webhook's auth scheme");
  }
  if (!sodium_ready()) {
    return refuse("cryptography library failed to initialise");
  }
  switch (scheme) {
    case WebhookAuthScheme::token:
      return verify_token(secret, req);
    case WebhookAuthScheme::hmac_sha256:
      return verify_flowpilot(secret, req, now, tolerance);
    case WebhookAuthScheme::github:
      return verify_github(secret, req);
    case WebhookAuthScheme::slack:
      return verify_slack(secret, req, now, tolerance);
    case WebhookAuthScheme::stripe:
      return verify_stripe(secret, req, now, tolerance);
    case WebhookAuthScheme::none:
      break;
  }
  // An enum value outside the declared ones: refuse rather than let anything through.
  return refuse("unknown webhook auth scheme");
}

std::string sign_webhook(WebhookAuthScheme scheme, std::string_view secret, std::string_view body,
                         std::chrono::sys_seconds timestamp) {
  if (scheme == WebhookAuthScheme::none) {
    return {};
  }
  if (secret.empty()) {
    throw std::invalid_argument("sign_webhook: empty secret");
  }
  if (!sodium_ready()) {
    throw std::runtime_error("sign_webhook: libsodium failed to initialise");
  }
  const std::string ts = std::to_string(timestamp.time_since_epoch().count());
  switch (scheme) {
    case WebhookAuthScheme::token:
      return fmt::format("Bearer {}", secret);
    case WebhookAuthScheme::hmac_sha256:
      return "sha256=" + to_hex(hmac_sha256(secret, {ts, ".", body}));
    case WebhookAuthScheme::github:
      return "sha256=" + to_hex(hmac_sha256(secret, {body}));
    case WebhookAuthScheme::slack:
      return "v0=" + to_hex(hmac_sha256(secret, {"v0:", ts, ":", body}));
    case WebhookAuthScheme::stripe:
      return fmt::format("t={},v1={}", ts, to_hex(hmac_sha256(secret, {ts, ".", body})));
    case WebhookAuthScheme::none:
      break;
  }
  throw std::invalid_argument("sign_webhook: unknown scheme");
}

}  // namespace flowpilot::web
