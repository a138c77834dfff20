// The outbound HTTP client that plugins use through the host API: libcurl's multi interface on
// one thread of its own, so a step waiting on HTTP holds no worker thread.
//
// Safety by default:
//   - only http and https; redirects are off unless a request asks, and each hop is re-checked;
//   - the SSRF guard refuses loopback, private (RFC 1918, ULA), link-local, CGNAT, multicast,
//     unspecified and cloud-metadata addresses (169.254.169.254, fd00:ec2::254), including
//     IPv4-mapped IPv6 forms, decimal/octal/hex IPv4 spellings, and names that resolve to such
//     addresses. The check is made on the address actually connected to (curl's open-socket
//     callback), so DNS rebinding between check and connect does not get through. An operator
//     may allow networks explicitly (HttpClientOptions::allowed_networks);
//   - response bodies are capped; secrets listed in a request are redacted in every log line and
//     error message the client produces.
// Throttling: with `retry_throttled`, 429 and 503 answers are retried up to `max_retries` times
// after the Retry-After delay (seconds or an HTTP date), or an exponential back-off without one.
//
// Thread-safety: send() and metrics() may be called from any thread. Completion callbacks run on
// the client's thread and must not block.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowpilot::engine {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  std::string body;
  std::chrono::milliseconds timeout{0};  // 0: HttpClientOptions::default_timeout
  bool follow_redirects = false;         // at most 5 hops, each SSRF-checked
  bool retry_throttled = false;          // retry 429/503 honouring Retry-After
  int max_retries = 3;
  std::vector<std::string> secrets;      // redacted from logs and errors
};

struct HttpResponse {
  int status = 0;  // 0: no response (see error)
  HttpHeaders headers;  // names lower-cased
  std::string body;
  std::string error;    // why no response: "refused by the SSRF guard: ...", "timed out after 30s"
  int attempts = 1;     // including throttling retries
  std::chrono::milliseconds elapsed{0};
};

struct HttpClientOptions {
  std::chrono::milliseconds default_timeout{30'000};
  std::size_t max_response_bytes = 64u << 20;
  // CIDR blocks the guard lets through although they are not public, e.g. "127.0.0.0/8" for
  // tests against a local server, or "10.1.0.0/16" for an internal API. Empty by default.
  std::vector<std::string> allowed_networks;
  std::string user_agent = "flowpilot/0.1";
};

// Per-host counters for metrics.
struct HttpHostMetrics {
  std::string host;
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;  // no response
  std::uint64_t refused = 0; // SSRF guard
  std::vector<std::pair<int, std::uint64_t>> by_status;  // status → count
  double total_seconds = 0;
};

class HttpClient {
 public:
  using Done = std::function<void(HttpResponse)>;

  // Throws std::invalid_argument for a malformed allowed network.
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();  // fails pending requests with "client stopped", then joins its thread
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts a request; `done` runs exactly once. Setting `*cancel` to true aborts it ("cancelled").
  void send(HttpRequest request, Done done,
            std::shared_ptr<std::atomic<bool>> cancel = nullptr);

  std::vector<HttpHostMetrics> metrics() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// `text` with each non-empty secret, as written and percent-encoded, replaced by "***": for
// messages that quote what a server answered (which may echo a token back).
std::string redact_secrets(std::string text, const std::vector<std::string>& secrets);

// The guard's verdict for one literal address (IPv4 or IPv6 text, any spelling inet_aton takes).
// Returns an empty string when the address is allowed, else the reason ("loopback", "private",
// "link-local", "metadata", ...).
std::string ssrf_refusal(std::string_view address, const std::vector<std::string>& allowed_networks);

}  // namespace flowpilot::engine
