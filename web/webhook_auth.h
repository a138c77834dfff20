// Verification of an incoming webhook request against its trigger's auth scheme (DESIGN.md §5,
// BAD-INPUTS.md 15-16). A pure function over the raw body and a header lookup, so the HTTP server
// calls it per request and tests call it without sockets.
//
// Schemes (engine::WebhookAuthScheme):
//   none        - always ok.
//   token       - `Authorization: Bearer <secret>` or `X-Flowpilot-Token: <secret>`; ok if any
//                 token the request carries equals the secret.
//   hmac_sha256 - Flowpilot's own format, for senders we control:
//                   X-Flowpilot-Timestamp: <unix seconds, decimal digits only>
//                   X-Flowpilot-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>
//                   X-Flowpilot-Delivery:  <optional unique id, used for replay dedup>
//                 where {timestamp} is the header's text exactly as sent. Refused if the timestamp
//                 is more than `tolerance` away from `now` (either direction).
//   github      - `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`; no timestamp, so
//                 replays are caught only by dedup on `X-GitHub-Delivery` (also Meta's scheme).
//   slack       - `X-Slack-Request-Timestamp: <unix seconds>`,
//                 `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:{timestamp}:{body}")>`,
//                 window `tolerance` (Slack asks for 5 minutes).
//   stripe      - `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]`, signed
//                 payload "{t}.{body}"; ok if ANY v1 matches (Stripe sends several while a secret
//                 is being rolled); other schemes (v0, ...) are ignored; window `tolerance`.
//
// Rules common to all signed schemes:
//   - The signature is checked over the body bytes exactly as received. A body that was parsed
//     and re-serialised (whitespace, key order) does not verify, by design.
//   - Hex is decoded and the 32-byte digests are compared in constant time (sodium_memcmp), so
//     upper- and lowercase hex are both accepted (GitHub, Slack and Stripe send lowercase). A
//     signature that is not exactly 64 hex digits is "malformed", never an exception.
//   - Timestamps are parsed strictly: 1 to 18 ASCII digits, no sign, no spaces, no fraction.
//   - An empty secret is refused ("no secret configured") for every scheme except none: an
//     HMAC keyed with nothing, or an empty token, would let anyone in.
//   - The key may have any length (HMAC hashes long keys); Stripe's `whsec_...` is used as-is.
//
// AuthVerdict::event_id identifies the delivery for replay dedup (BAD-INPUTS 16); it is set only
// when ok is true:
//   hmac_sha256: X-Flowpilot-Delivery if sent, else "{timestamp}.{signature hex}";
//   github:      X-GitHub-Delivery if sent, else "sha256={signature hex}" (same body = same event);
//   slack:       "{timestamp}:{signature hex}";
//   stripe:      "{t}.{the matching v1 hex}";
//   token, none: X-Flowpilot-Delivery if sent, else empty (no dedup possible).
// Signature hex in event ids is lowercased so that case variants of one request dedup together.
//
// Thread-safety: both functions are pure (libsodium is initialised once, thread-safely) and may be
// called from any thread concurrently.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "engine/model/workflow.h"

namespace flowpilot::web {

// What verify_webhook needs from an HTTP request.
struct WebhookRequest {
  // The raw body bytes as received, before any decoding or parsing.
  std::string_view body;
  // Case-insensitive header lookup: the value of the named header, or nullopt if absent. An empty
  // function means "no headers". The returned view must stay valid for the verify_webhook call.
  std::function<std::optional<std::string_view>(std::string_view name)> header;
};

struct AuthVerdict {
  bool ok = false;
  // Why the request was refused, for logs and the 401 body; safe to show the sender (it never
  // contains the secret or the expected signature). Empty when ok.
  std::string reason;
  // Identity of the delivery for replay dedup; see the table above.
  std::string event_id;
};

// The default replay window: 300 s either side of now, as Slack, Stripe and HubSpot use.
inline constexpr std::chrono::seconds kDefaultTolerance{300};

// Verifies `req` against `scheme` keyed by `secret` (already resolved from its template). `now` is
// a parameter so tests can pin it; `tolerance` is the allowed |now - timestamp| in seconds
// (negative values count as 0). Never throws for any request content.
AuthVerdict verify_webhook(engine::WebhookAuthScheme scheme, std::string_view secret,
                           const WebhookRequest& req, std::chrono::system_clock::time_point now,
                           std::chrono::seconds tolerance = kDefaultTolerance);

// The signature header value a sender would attach to `body` at `timestamp`:
//   hmac_sha256: "sha256=<hex>" for X-Flowpilot-Signature (send X-Flowpilot-Timestamp with the
//                same timestamp in unix seconds);
//   github:      "sha256=<hex>" for X-Hub-Signature-256 (timestamp ignored);
//   slack:       "v0=<hex>" for X-Slack-Signature (send X-Slack-Request-Timestamp alongside);
//   stripe:      "t=<unix seconds>,v1=<hex>" for Stripe-Signature;
//   token:       "Bearer <secret>" for Authorization;
//   none:        "".
// Hex is lowercase. Throws std::invalid_argument if `secret` is empty for a scheme other than
// none (a caller bug, not request content).
std::string sign_webhook(engine::WebhookAuthScheme scheme, std::string_view secret,
                         std::string_view body, std::chrono::sys_seconds timestamp);

}  // namespace flowpilot::web
