#include "engine/http/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <variant>

#include "engine/http/detail/curl_handles.h"
#include "engine/http/detail/redaction.h"
#include "engine/http/detail/retry_after.h"
#include "engine/http/detail/ssrf_guard.h"

namespace flowpilot::engine {

namespace {

using http_detail::CurlString;
using http_detail::EasyHandle;
using http_detail::HeaderList;
using http_detail::IpNetwork;
using http_detail::MultiHandle;
using http_detail::UrlHandle;
using Clock = std::chrono::steady_clock;

constexpr int kMaxRedirects = 5;
// While requests are in flight the loop wakes at least this often to notice cancellations.
constexpr std::chrono::milliseconds kCancelPollInterval{100};
constexpr int kIdlePollMs = 1000;
constexpr std::string_view kRefusedPrefix = "refused by the SSRF guard: ";
constexpr std::string_view kCancelled = "cancelled";
constexpr std::string_view kStopped = "client stopped";

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  });
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

// RFC 9110 token characters: what a method or header name may consist of.
bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

std::string format_duration(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 == 0) return fmt::format("{}s", duration.count() / 1000);
  return fmt::format("{}ms", duration.count());
}

std::string url_part(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* raw = nullptr;
  if (curl_url_get(url, part, &raw, flags) != CURLUE_OK) return {};
  const CurlString owned(raw);
  return raw;
}

// The URL as curl will use it. Parsing with curl's own parser (and handing curl the parsed
// handle) means the host checked here is the host curl connects to: no parser differential for
// "http://a@b", backslashes or odd IPv4 spellings to slip through.
struct ParsedUrl {
  UrlHandle handle;
  std::string host;
  std::string origin;  // scheme://host:port, to tell whether a redirect changes the server
};

std::variant<ParsedUrl, std::string> parse_url(const std::string& text,
                                               const std::vector<IpNetwork>& allowed) {
  UrlHandle handle(curl_url());
  if (!handle) return std::string("out of memory");
  // Parse unknown schemes too, so that "gopher:" is refused by name rather than as malformed.
  if (const auto code =
          curl_url_set(handle.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME);
      code != CURLUE_OK) {
    return fmt::format("malformed URL: {}", curl_url_strerror(code));
  }
  const auto scheme = lower(url_part(handle.get(), CURLUPART_SCHEME));
  if (scheme != "http" && scheme != "https") {
    return fmt::format("{}scheme \"{}\" is not http or https", kRefusedPrefix, scheme);
  }
  ParsedUrl parsed;
  parsed.host = url_part(handle.get(), CURLUPART_HOST);
  if (parsed.host.empty()) return std::string("malformed URL: no host");
  // A literal address is refused before any connection; names are checked when connecting.
  if (auto address = http_detail::parse_ip_address(parsed.host)) {
    if (auto reason = http_detail::refusal_reason(*address, allowed); !reason.empty()) {
      return fmt::format("{}{} is {}", kRefusedPrefix, address->to_string(), reason);
    }
  }
  parsed.origin = fmt::format("{}://{}:{}", scheme, lower(parsed.host),
                              url_part(handle.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT));
  parsed.handle = std::move(handle);
  return parsed;
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

const std::string* find_header(const HttpHeaders& headers, std::string_view lower_name) {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

bool append(HeaderList& list, const std::string& line) {
  curl_slist* head = curl_slist_append(list.get(), line.c_str());
  if (head == nullptr) return false;  // the list is unchanged and still owned
  static_cast<void>(list.release());  // same head, or the first node of a new list
  list.reset(head);
  return true;
}

bool has_header(const HttpHeaders& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& header) { return lower(header.first) == name; });
}

}  // namespace

class HttpClient::Impl {
 public:
  explicit Impl(HttpClientOptions options)
      : options_(std::move(options)),
        allowed_(http_detail::parse_networks(options_.allowed_networks)) {
    init_curl_once();
    multi_.reset(curl_multi_init());
    if (!multi_) throw std::runtime_error("curl_multi_init failed");
    thread_ = std::thread([this] { run(); });
  }

  ~Impl() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    curl_multi_wakeup(multi_.get());
    thread_.join();
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void send(HttpRequest request, Done done, std::shared_ptr<std::atomic<bool>> cancel) {
    {
      const std::lock_guard lock(mutex_);
      if (!stopping_) {
        incoming_.push_back({std::move(request), std::move(done), std::move(cancel), Clock::now()});
        curl_multi_wakeup(multi_.get());
        return;
      }
    }
    HttpResponse response;
    response.error = kStopped;
    if (done) done(std::move(response));
  }

  std::vector<HttpHostMetrics> metrics() const {
    const std::lock_guard lock(metrics_mutex_);
    std::vector<HttpHostMetrics> out;
    out.reserve(metrics_.size());
    for (const auto& [host, counters] : metrics_) {
      HttpHostMetrics metrics = counters.totals;
      metrics.host = host;
      metrics.by_status.assign(counters.by_status.begin(), counters.by_status.end());
      out.push_back(std::move(metrics));
    }
    return out;
  }

 private:
  struct Submission {
    HttpRequest request;
    Done done;
    std::shared_ptr<std::atomic<bool>> cancel;
    Clock::time_point submitted;
  };

  // One request through its attempts and redirect hops; owned by the loop thread.
  struct Transfer {
    std::uint64_t id = 0;
    Submission submission;
    Impl* owner = nullptr;
    int hops = 0;
    int attempts = 1;
    bool waiting = false;  // for a throttling retry
    bool in_multi = false;
    // The current attempt.
    ParsedUrl url;
    EasyHandle easy;
    HeaderList header_list;
    HttpResponse response;
    bool too_large = false;
    std::string refusal;  // set by the open-socket callback
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
  };

  struct HostCounters {
    HttpHostMetrics totals;
    std::map<int, std::uint64_t> by_status;
  };

  enum class Outcome { response, error, refused };

  // ---- the loop ------------------------------------------------------------------------------

  void run() {
    for (;;) {
      std::vector<Submission> arrived;
      {
        const std::lock_guard lock(mutex_);
        if (stopping_) break;
        arrived.swap(incoming_);
      }
      for (auto& submission : arrived) accept(std::move(submission));
      start_due_retries();
      abort_cancelled();
      int running = 0;
      curl_multi_perform(multi_.get(), &running);
      collect_finished();
      curl_multi_poll(multi_.get(), nullptr, 0, poll_timeout_ms(), nullptr);
    }
    std::vector<Submission> arrived;
    {
      const std::lock_guard lock(mutex_);
      arrived.swap(incoming_);
    }
    for (auto& submission : arrived) {
      HttpResponse response;
      response.error = kStopped;
      deliver(submission, std::move(response));
    }
    std::vector<std::uint64_t> ids;
    for (const auto& [id, transfer] : transfers_) ids.push_back(id);
    for (const auto id : ids) fail(id, std::string(kStopped), Outcome::error);
  }

  int poll_timeout_ms() const {
    if (transfers_.empty()) return kIdlePollMs;
    auto timeout = kCancelPollInterval;
    if (!retries_.empty()) {
      const auto until_due = std::chrono::duration_cast<std::chrono::milliseconds>(
          retries_.top().first - Clock::now());
      timeout = std::clamp(until_due, std::chrono::milliseconds{0}, timeout);
    }
    return static_cast<int>(timeout.count());
  }

  void accept(Submission submission) {
    auto transfer = std::make_unique<Transfer>();
    transfer->id = next_id_++;
    transfer->owner = this;
    transfer->submission = std::move(submission);
    const auto id = transfer->id;
    transfers_.emplace(id, std::move(transfer));
    begin_attempt(id);
  }

  void start_due_retries() {
    const auto now = Clock::now();
    while (!retries_.empty() && retries_.top().first <= now) {
      const auto id = retries_.top().second;
      retries_.pop();
      const auto found = transfers_.find(id);
      if (found == transfers_.end() || !found->second->waiting) continue;
      found->second->waiting = false;
      begin_attempt(id);
    }
  }

  void abort_cancelled() {
    std::vector<std::uint64_t> cancelled;
    for (const auto& [id, transfer] : transfers_) {
      const auto& flag = transfer->submission.cancel;
      if (flag && flag->load(std::memory_order_relaxed)) cancelled.push_back(id);
    }
    for (const auto id : cancelled) fail(id, std::string(kCancelled), Outcome::error);
  }

  void collect_finished() {
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_.get(), &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      void* data = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &data);
      finish_attempt(*static_cast<Transfer*>(data), message->data.result);
    }
  }

  // ---- one attempt ---------------------------------------------------------------------------

  // Starts the transfer's current hop; on a refusal or a bad request, completes it.
  void begin_attempt(std::uint64_t id) {
    auto& transfer = *transfers_.at(id);
    transfer.response = HttpResponse{};
    transfer.too_large = false;
    transfer.refusal.clear();
    transfer.error_buffer.fill('\0');
    const auto& request = transfer.submission.request;
    auto parsed = parse_url(request.url, allowed_);
    if (auto* error = std::get_if<std::string>(&parsed)) {
      transfer.url.host = host_of(request.url);
      const auto outcome = error->starts_with(kRefusedPrefix) ? Outcome::refused : Outcome::error;
      fail(id, *error, outcome);
      return;
    }
    transfer.url = std::move(std::get<ParsedUrl>(parsed));
    if (auto error = configure(transfer); !error.empty()) {
      fail(id, error, Outcome::error);
      return;
    }
    if (curl_multi_add_handle(multi_.get(), transfer.easy.get()) != CURLM_OK) {
      fail(id, "could not start the transfer", Outcome::error);
      return;
    }
    transfer.in_multi = true;
  }

  // A best-effort host for metrics when the URL did not parse as a usable one.
  static std::string host_of(const std::string& url) {
    const UrlHandle handle(curl_url());
    if (handle && curl_url_set(handle.get(), CURLUPART_URL, url.c_str(),
                               CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
      if (auto host = url_part(handle.get(), CURLUPART_HOST); !host.empty()) return host;
    }
    return "-";
  }

  std::string configure(Transfer& transfer) {
    const auto& request = transfer.submission.request;
    if (!is_token(request.method)) return fmt::format("invalid method \"{}\"", request.method);
    HeaderList headers;
    for (const auto& [name, value] : request.headers) {
      if (!is_token(name)) return fmt::format("invalid header name \"{}\"", name);
      if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
        return fmt::format("header \"{}\" contains a line break or NUL", name);
      }
      // curl sends "Name;" as a header with an empty value; "Name:" would remove the header.
      const auto line =
          value.empty() ? fmt::format("{};", name) : fmt::format("{}: {}", name, value);
      if (!append(headers, line)) return "out of memory";
    }
    // Servers that do not answer "Expect: 100-continue" would cost every large POST a second.
    if (!has_header(request.headers, "expect") && !append(headers, "Expect:"))
      return "out of memory";
    transfer.header_list = std::move(headers);

    if (!transfer.easy)
      transfer.easy.reset(curl_easy_init());
    else
      curl_easy_reset(transfer.easy.get());
    CURL* easy = transfer.easy.get();
    if (easy == nullptr) return "out of memory";

    auto timeout = request.timeout.count() > 0 ? request.timeout : options_.default_timeout;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, &transfer);
    curl_easy_setopt(easy, CURLOPT_CURLU, transfer.url.handle.get());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    // Redirects are followed by this client, hop by hop (see finish_attempt).
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    // A proxy from the environment would make the open-socket check see the proxy's address
    // instead of the target's.
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer.error_buffer.data());
    curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer.header_list.get());
    // Decoded bodies go through the write callback's cap, so a compression bomb stops there.
    if (!has_header(request.headers, "accept-encoding")) {
      curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip");
    }
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(options_.max_response_bytes));
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Impl::on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &Impl::on_open_socket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &transfer);

    const auto& method = request.method;
    if (!request.body.empty() || method == "POST") {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, request.body.c_str());
      if (method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
    } else if (method == "HEAD") {
      curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (method != "GET") {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    return {};
  }

  void finish_attempt(Transfer& transfer, CURLcode result) {
    const auto id = transfer.id;
    CURL* easy = transfer.easy.get();
    curl_multi_remove_handle(multi_.get(), easy);
    transfer.in_multi = false;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_off_t micros = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &micros);
    const double seconds = static_cast<double>(micros) / 1e6;
    const auto& request = transfer.submission.request;

    if (result != CURLE_OK) {
      const auto outcome = transfer.refusal.empty() ? Outcome::error : Outcome::refused;
      record(transfer.url.host, 0, outcome, seconds);
      fail(id, describe_error(transfer, result), outcome, /*recorded=*/true);
      return;
    }
    transfer.response.status = static_cast<int>(status);
    record(transfer.url.host, transfer.response.status, Outcome::response, seconds);

    if (request.follow_redirects && is_redirect(transfer.response.status)) {
      char* location = nullptr;
      curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &location);
      if (location != nullptr) {
        if (transfer.hops >= kMaxRedirects) {
          fail(id, fmt::format("too many redirects (more than {})", kMaxRedirects), Outcome::error,
               true);
          return;
        }
        redirect(transfer, location);
        begin_attempt(id);
        return;
      }
    }

    const auto status_code = transfer.response.status;
    if (request.retry_throttled && (status_code == 429 || status_code == 503) &&
        transfer.attempts <= request.max_retries) {
      schedule_retry(transfer);
      return;
    }
    complete(id);
  }

  // Rewrites the transfer's request for the next hop the way browsers and curl do: 303 (and 301
  // or 302 after a POST) become a GET without body. Credentials never follow to another server
  // (BAD-INPUTS 38): Authorization, Cookie and any header carrying a listed secret are dropped.
  void redirect(Transfer& transfer, const char* location) {
    auto& request = transfer.submission.request;
    const int status = transfer.response.status;
    ++transfer.hops;
    if ((status == 303 && request.method != "HEAD") ||
        ((status == 301 || status == 302) && request.method == "POST")) {
      request.method = "GET";
      request.body.clear();
      std::erase_if(request.headers, [](const auto& header) {
        const auto name = lower(header.first);
        return name == "content-type" || name == "content-length";
      });
    }
    const auto previous_origin = transfer.url.origin;
    request.url = location;
    auto next = parse_url(request.url, allowed_);
    const auto* parsed = std::get_if<ParsedUrl>(&next);
    if (parsed == nullptr || parsed->origin != previous_origin) {
      std::erase_if(request.headers, [&](const auto& header) {
        const auto name = lower(header.first);
        if (name == "authorization" || name == "proxy-authorization" || name == "cookie")
          return true;
        return std::any_of(request.secrets.begin(), request.secrets.end(), [&](const auto& secret) {
          return !secret.empty() && header.second.find(secret) != std::string::npos;
        });
      });
    }
  }

  void schedule_retry(Transfer& transfer) {
    const auto& headers = transfer.response.headers;
    std::optional<std::chrono::milliseconds> delay;
    if (const auto* value = find_header(headers, "retry-after")) {
      delay = http_detail::parse_retry_after(*value, std::chrono::system_clock::now());
    }
    if (!delay) {
      std::uniform_real_distribution<double> jitter(0.0, 1.0);
      delay = http_detail::backoff_delay(transfer.attempts, jitter(random_));
    }
    transfer.waiting = true;
    ++transfer.attempts;
    retries_.emplace(Clock::now() + *delay, transfer.id);
  }

  std::string describe_error(const Transfer& transfer, CURLcode result) const {
    const auto& request = transfer.submission.request;
    if (!transfer.refusal.empty()) return std::string(kRefusedPrefix) + transfer.refusal;
    if (transfer.too_large || result == CURLE_FILESIZE_EXCEEDED) {
      return fmt::format("response larger than {} bytes", options_.max_response_bytes);
    }
    if (result == CURLE_OPERATION_TIMEDOUT) {
      const auto timeout = request.timeout.count() > 0 ? request.timeout : options_.default_timeout;
      return fmt::format("timed out after {}", format_duration(timeout));
    }
    const std::string detail = transfer.error_buffer.data();
    if (detail.empty()) return curl_easy_strerror(result);
    return fmt::format("{}: {}", curl_easy_strerror(result), detail);
  }

  // ---- completion ----------------------------------------------------------------------------

  void complete(std::uint64_t id) {
    auto node = transfers_.extract(id);
    auto& transfer = *node.mapped();
    transfer.response.attempts = transfer.attempts;
    deliver(transfer.submission, std::move(transfer.response));
  }

  // Ends the transfer without a response. Errors about the request name it (method and URL,
  // secrets redacted in deliver); "cancelled" and "client stopped" stay bare, being about the
  // caller.
  void fail(std::uint64_t id, const std::string& error, Outcome outcome, bool recorded = false) {
    const auto found = transfers_.find(id);
    if (found == transfers_.end()) return;
    auto& transfer = *found->second;
    if (transfer.in_multi) {
      curl_multi_remove_handle(multi_.get(), transfer.easy.get());
      transfer.in_multi = false;
    }
    const auto& request = transfer.submission.request;
    if (!recorded) {
      record(transfer.url.host.empty() ? host_of(request.url) : transfer.url.host, 0, outcome, 0);
    }
    HttpResponse response;
    response.error = error == kCancelled || error == kStopped
                         ? error
                         : fmt::format("{} ({} {})", error, request.method, request.url);
    transfer.response = std::move(response);
    complete(id);
  }

  void deliver(Submission& submission, HttpResponse response) {
    response.error = http_detail::redact(std::move(response.error), submission.request.secrets);
    response.elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - submission.submitted);
    if (!submission.done) return;
    try {
      submission.done(std::move(response));
    } catch (...) {
      // A callback that throws has nobody to report to on this thread; the client carries on.
    }
  }

  void record(const std::string& host, int status, Outcome outcome, double seconds) {
    const std::lock_guard lock(metrics_mutex_);
    auto& counters = metrics_[host];
    ++counters.totals.requests;
    if (outcome != Outcome::response) ++counters.totals.errors;
    if (outcome == Outcome::refused) ++counters.totals.refused;
    if (status != 0) ++counters.by_status[status];
    counters.totals.total_seconds += seconds;
  }

  // ---- curl callbacks (on the loop thread, inside curl_multi_perform) ------------------------

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto& transfer = *static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
    auto& body = transfer.response.body;
    if (body.size() + bytes > transfer.owner->options_.max_response_bytes) {
      transfer.too_large = true;
      return 0;  // any short count makes curl abort with CURLE_WRITE_ERROR
    }
    body.append(data, bytes);
    return bytes;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& transfer = *static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
    const std::string_view line(data, bytes);
    auto& headers = transfer.response.headers;
    if (line.starts_with("HTTP/")) {
      headers.clear();  // an interim (1xx) response's headers are not the final response's
    } else if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      if (!headers.empty()) {
        headers.back().second += ' ';
        headers.back().second += trim(line);
      }
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      headers.emplace_back(lower(trim(line.substr(0, colon))),
                           std::string(trim(line.substr(colon + 1))));
    }
    return bytes;
  }

  // The SSRF guard's decisive check: the address curl is about to connect to, after DNS, for
  // every hop and every address tried.
  static curl_socket_t on_open_socket(void* user, curlsocktype /*purpose*/,
                                      curl_sockaddr* address) {
    auto& transfer = *static_cast<Transfer*>(user);
    const auto ip = http_detail::from_sockaddr(&address->addr);
    std::string reason =
        ip ? http_detail::refusal_reason(*ip, transfer.owner->allowed_) : "not an internet address";
    if (!reason.empty()) {
      if (transfer.refusal.empty()) {
        transfer.refusal = ip ? fmt::format("{} is {}", ip->to_string(), reason) : reason;
      }
      return CURL_SOCKET_BAD;
    }
    return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  }

  const HttpClientOptions options_;
  const std::vector<IpNetwork> allowed_;
  MultiHandle multi_;

  std::mutex mutex_;
  bool stopping_ = false;             // guarded by mutex_
  std::vector<Submission> incoming_;  // guarded by mutex_

  // Owned by the loop thread.
  std::unordered_map<std::uint64_t, std::unique_ptr<Transfer>> transfers_;
  using Due = std::pair<Clock::time_point, std::uint64_t>;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> retries_;
  std::uint64_t next_id_ = 1;
  std::minstd_rand random_{std::random_device{}()};

  mutable std::mutex metrics_mutex_;
  std::map<std::string, HostCounters> metrics_;  // guarded by metrics_mutex_

  std::thread thread_;  // last: starts after everything it uses exists
};

HttpClient::HttpClient(HttpClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpClient::~HttpClient() = default;

void HttpClient::send(HttpRequest request, Done done, std::shared_ptr<std::atomic<bool>> cancel) {
  impl_->send(std::move(request), std::move(done), std::move(cancel));
}

std::vector<HttpHostMetrics> HttpClient::metrics() const { return impl_->metrics(); }

std::string ssrf_refusal(std::string_view address,
                         const std::vector<std::string>& allowed_networks) {
  const auto parsed = http_detail::parse_ip_address(address);
  if (!parsed) return "not an IP address";
  return http_detail::refusal_reason(*parsed, http_detail::parse_networks(allowed_networks));
}

std::string redact_secrets(std::string text, const std::vector<std::string>& secrets) {
  return http_detail::redact(std::move(text), secrets);
}

}  // namespace flowpilot::engine
