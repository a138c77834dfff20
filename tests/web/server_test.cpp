// HttpServer over real sockets on 127.0.0.1 with an ephemeral port. The client is plain POSIX
// sockets on purpose: the tests must not share the server's HTTP implementation.
#include "web/routes.h"
#include "web/server.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace flowpilot::web {
namespace {

using namespace std::chrono_literals;

// A connected socket, closed on destruction. Every receive gives up after 5 s.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { disconnect(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool send(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Reads one response (status line, headers, Content-Length body). Empty on EOF or error.
  std::string response() {
    while (pending_.find("\r\n\r\n") == std::string::npos) {
      if (!fill()) return {};
    }
    const auto header_end = pending_.find("\r\n\r\n") + 4;
    std::size_t length = 0;
    const std::string head = pending_.substr(0, header_end);
    if (auto at = lower(head).find("content-length:"); at != std::string::npos) {
      length = std::stoul(head.substr(at + 15));
    }
    if (head.rfind("HTTP/1.1 ", 0) == 0 && is_head_) length = 0;
    while (pending_.size() < header_end + length) {
      if (!fill()) return {};
    }
    std::string out = pending_.substr(0, header_end + length);
    pending_.erase(0, header_end + length);
    return out;
  }

  std::string request(const std::string& method, const std::string& target,
                      const std::string& extra_headers = "") {
    is_head_ = method == "HEAD";
    if (!send(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers +
              "\r\n")) {
      return {};
    }
    return response();
  }

  // The status line and headers of a response whose body has no length (a stream); what follows
  // stays for read_to_eof(). Empty on EOF or error.
  std::string head_block() {
    while (pending_.find("\r\n\r\n") == std::string::npos) {
      if (!fill()) return {};
    }
    const auto header_end = pending_.find("\r\n\r\n") + 4;
    std::string out = pending_.substr(0, header_end);
    pending_.erase(0, header_end);
    return out;
  }

  // Everything until the server closes the connection (or the receive timeout).
  std::string read_to_eof() {
    while (fill()) {
    }
    return std::exchange(pending_, std::string());
  }

  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // True once the server closed the connection (EOF or reset) within the receive timeout.
  bool closed_by_peer() {
    char c = 0;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool fill() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  static std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool is_head_ = false;
  std::string pending_;
};

int status_of(const std::string& response) {
  return response.size() >= 12 ? std::stoi(response.substr(9, 3)) : -1;
}

std::string body_of(const std::string& response) {
  const auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : response.substr(at + 4);
}

// Threads that answer async requests or feed streams later; joined when the test ends.
class Workers {
 public:
  ~Workers() { join(); }
  template <typename Fn>
  void run(Fn fn) {
    std::lock_guard lock(mutex_);
    threads_.emplace_back(std::move(fn));
  }
  void join() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;  // guarded by mutex_
};

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    add_health_routes(router_, [this] { return ready_.load(); });
    router_.add(Method::kPost, "/echo", Access::open(), [](const Request& req) {
      Response r;
      r.body = req.body;
      return r;
    });
    router_.add(Method::kGet, "/slow", Access::open(), [this](const Request&) {
      slow_started_ = true;
      std::this_thread::sleep_for(500ms);
      Response r;
      r.body = "done";
      return r;
    });
    router_.add_async(Method::kGet, "/async/{ms}", Access::open(), [this](Request request, Reply reply) {
      ++async_started_;
      const int ms = std::stoi(request.params.at("ms"));
      workers_.run([ms, id = request.request_id, reply = std::move(reply)] {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        Response r;
        r.body = "late " + id;
        reply(std::move(r));
      });
    });
    router_.add_async(Method::kGet, "/held", Access::open(), [this](Request, Reply reply) {
      std::lock_guard lock(mutex_);
      held_.push_back(std::move(reply));
    });
    router_.add_async(Method::kGet, "/forgets", Access::open(), [](Request, Reply) {});
    router_.add(Method::kGet, "/events", Access::open(), [this](const Request&) {
      Response r;
      r.headers.set("Content-Type", "text/event-stream");
      r.stream = [this](std::shared_ptr<StreamSink> sink) {
        producer_called_ = true;
        workers_.run([this, sink] {
          for (int i = 1; i <= 3; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(event_delay_ms_.load()));
            sink->write("id: " + std::to_string(i) + "\ndata: event " + std::to_string(i) +
                        "\n\n");
          }
          sink->close();
        });
      };
      return r;
    });
    router_.add(Method::kGet, "/held-stream", Access::open(), [this](const Request&) {
      Response r;
      r.headers.set("Content-Type", "text/event-stream");
      r.stream = [this](std::shared_ptr<StreamSink> sink) {
        std::lock_guard lock(mutex_);
        sinks_.push_back(std::move(sink));
      };
      return r;
    });
    options_.address = "127.0.0.1";
    options_.port = 0;
  }

  void TearDown() override { workers_.join(); }

  // Waits up to 5 s for a handler to have taken a Reply (or a producer a sink); the newest.
  Reply held_reply() {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(mutex_);
        if (!held_.empty()) return held_.back();
      }
      std::this_thread::sleep_for(10ms);
    }
    return nullptr;
  }
  std::shared_ptr<StreamSink> held_sink() {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(mutex_);
        if (!sinks_.empty()) return sinks_.back();
      }
      std::this_thread::sleep_for(10ms);
    }
    return nullptr;
  }

  std::uint16_t start() {
    server_ = std::make_unique<HttpServer>(options_, router_);
    return server_->start();
  }

  Router router_;
  ServerOptions options_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<bool> ready_{true};
  std::atomic<bool> slow_started_{false};
  std::atomic<int> async_started_{0};
  std::atomic<bool> producer_called_{false};
  std::atomic<int> event_delay_ms_{10};
  std::mutex mutex_;
  std::vector<Reply> held_;                         // guarded by mutex_
  std::vector<std::shared_ptr<StreamSink>> sinks_;  // guarded by mutex_
  Workers workers_;                                 // last: joined before the rest goes
};

TEST_F(ServerTest, HealthzAndReadyz) {
  const auto port = start();
  Client c(port);
  ASSERT_TRUE(c.connected());
  auto health = c.request("GET", "/healthz");
  EXPECT_EQ(status_of(health), 200) << health;
  EXPECT_EQ(body_of(health), R"({"status":"ok"})");
  EXPECT_EQ(status_of(c.request("GET", "/readyz")), 200);
  ready_ = false;
  auto not_ready = c.request("GET", "/readyz");  // same connection: keep-alive
  EXPECT_EQ(status_of(not_ready), 503) << not_ready;
  EXPECT_NE(not_ready.find("application/problem+json"), std::string::npos);
  auto head = c.request("HEAD", "/healthz");
  EXPECT_EQ(status_of(head), 200);
  EXPECT_NE(head.find("Content-Length: 15"), std::string::npos) << head;
  EXPECT_EQ(body_of(head), "");
  EXPECT_EQ(status_of(c.request("GET", "/healthz")), 200);  // no stray body bytes after HEAD
  EXPECT_EQ(status_of(c.request("GET", "/%2e%2e/healthz")), 400);
  EXPECT_EQ(status_of(c.request("DELETE", "/healthz")), 405);
}

TEST_F(ServerTest, EveryAnswerCarriesTheSecurityHeaders) {
  options_.max_header_bytes = 1024;
  const auto port = start();
  auto has_all = [](const std::string& response) {
    for (const char* header :
         {"X-Content-Type-Options: nosniff",
          "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
          "X-Frame-Options: DENY", "Referrer-Policy: no-referrer"}) {
      if (response.find(header) == std::string::npos) return ::testing::AssertionFailure() << header;
    }
    return ::testing::AssertionSuccess();
  };
  Client c(port);
  EXPECT_TRUE(has_all(c.request("GET", "/healthz")));      // routed
  EXPECT_TRUE(has_all(c.request("GET", "/no-such-path")));  // the router's 404
  EXPECT_TRUE(has_all(c.request("DELETE", "/healthz")));    // 405
  Client big(port);  // refused by the server before any route: 431
  ASSERT_TRUE(big.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'h') +
                       "\r\n\r\n"));
  const auto refused = big.response();
  EXPECT_EQ(status_of(refused), 431);
  EXPECT_TRUE(has_all(refused));
}

TEST_F(ServerTest, OversizedBodyIs413) {
  options_.max_body_bytes = 1024;
  const auto port = start();
  {
    Client c(port);
    ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"));
    auto ok = c.response();
    EXPECT_EQ(status_of(ok), 200);
    EXPECT_EQ(body_of(ok), "hello");
  }
  {
    Client c(port);
    ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" +
                       std::string(2000, 'a')));
    auto r = c.response();
    EXPECT_EQ(status_of(r), 413) << r;
    EXPECT_NE(r.find("application/problem+json"), std::string::npos);
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    // Chunked, so the size is only known while reading.
    Client c(port);
    std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 5; ++i) chunked += "200\r\n" + std::string(512, 'b') + "\r\n";
    chunked += "0\r\n\r\n";
    ASSERT_TRUE(c.send(chunked));
    EXPECT_EQ(status_of(c.response()), 413);
  }
}

TEST_F(ServerTest, OversizedHeaderIs431) {
  options_.max_header_bytes = 1024;
  const auto port = start();
  Client c(port);
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'h') +
                     "\r\n\r\n"));
  auto r = c.response();
  EXPECT_EQ(status_of(r), 431) << r;
}

TEST_F(ServerTest, MalformedRequestIs400) {
  const auto port = start();
  Client c(port);
  ASSERT_TRUE(c.send("GET /healthz HTTP/9.9 junk\r\n\r\n"));
  EXPECT_EQ(status_of(c.response()), 400);
}

TEST_F(ServerTest, SlowClientIsDisconnectedAfterTheReadTimeout) {
  options_.read_timeout = 300ms;
  const auto port = start();
  Client c(port);
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
  const auto begin = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 4s);  // the client gives up after 5 s
}

TEST_F(ServerTest, FiftyConcurrentKeepAliveClients) {
  const auto port = start();
  std::vector<std::future<int>> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(std::async(std::launch::async, [port] {
      Client c(port);
      if (!c.connected()) return 0;
      int ok = 0;
      for (int j = 0; j < 5; ++j) {
        if (status_of(c.request("GET", "/healthz")) == 200) ++ok;
      }
      return ok;
    }));
  }
  int total = 0;
  for (auto& f : clients) total += f.get();
  EXPECT_EQ(total, 250);
}

TEST_F(ServerTest, ConnectionsOverTheCapGet503) {
  options_.max_connections = 2;
  const auto port = start();
  Client a(port), b(port);
  // A response on each proves the server has accepted (and counts) both.
  ASSERT_EQ(status_of(a.request("GET", "/healthz")), 200);
  ASSERT_EQ(status_of(b.request("GET", "/healthz")), 200);
  Client c(port);
  auto r = c.request("GET", "/healthz");
  EXPECT_EQ(status_of(r), 503) << r;
  EXPECT_NE(r.find("Retry-After"), std::string::npos);
}

TEST_F(ServerTest, StopWaitsForInFlightRequestsAndClosesIdleOnes) {
  const auto port = start();
  Client idle(port);
  ASSERT_EQ(status_of(idle.request("GET", "/healthz")), 200);
  Client busy(port);
  auto slow = std::async(std::launch::async, [&busy] { return busy.request("GET", "/slow"); });
  while (!slow_started_) std::this_thread::sleep_for(5ms);
  server_->stop();  // returns only after the slow handler's response is written
  auto r = slow.get();
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_EQ(body_of(r), "done");
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
  EXPECT_TRUE(idle.closed_by_peer());
  Client late(port);
  EXPECT_FALSE(late.connected());
}

TEST_F(ServerTest, BadListenAddressIsRefused) {
  options_.address = "not-an-ip";
  server_ = std::make_unique<HttpServer>(options_, router_);
  EXPECT_THROW(server_->start(), std::invalid_argument);
}

TEST_F(ServerTest, AsyncHandlerRepliesFromAnotherThread) {
  const auto port = start();
  Client c(port);
  ASSERT_TRUE(c.connected());
  const auto begin = std::chrono::steady_clock::now();
  auto r = c.request("GET", "/async/50", "X-Request-Id: req-42\r\n");
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 50ms);
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_EQ(body_of(r), "late req-42");
  EXPECT_TRUE(has(r, "X-Request-Id: req-42\r\n")) << r;
  auto again = c.request("GET", "/async/0");  // keep-alive holds after an async reply
  EXPECT_EQ(status_of(again), 200) << again;
  EXPECT_TRUE(has(again, "X-Request-Id: ")) << again;
  EXPECT_EQ(status_of(c.request("GET", "/healthz")), 200);
}

TEST_F(ServerTest, ManyConcurrentAsyncRequestsDoNotHoldTheIoThreads) {
  options_.threads = 1;
  const auto port = start();
  constexpr std::size_t kClients = 30;
  std::vector<std::future<int>> clients;
  for (std::size_t i = 0; i < kClients; ++i) {
    clients.push_back(std::async(std::launch::async, [port] {
      Client c(port);
      return c.connected() ? status_of(c.request("GET", "/held")) : 0;
    }));
  }
  // Every handler runs although none has replied yet: the one io thread is not held by them.
  std::vector<Reply> replies;
  for (int i = 0; i < 3000 && replies.size() < kClients; ++i) {
    {
      std::lock_guard lock(mutex_);
      if (held_.size() == kClients) replies.swap(held_);
    }
    if (replies.empty()) std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(replies.size(), kClients);
  for (auto& reply : replies) {
    Response r;
    r.body = "released";
    reply(std::move(r));
  }
  for (auto& f : clients) EXPECT_EQ(f.get(), 200);
}

TEST_F(ServerTest, ADroppedReplyIs500) {
  const auto port = start();
  Client c(port);
  auto r = c.request("GET", "/forgets");
  EXPECT_EQ(status_of(r), 500) << r;
  EXPECT_TRUE(has(r, "application/problem+json")) << r;
}

TEST_F(ServerTest, AReplyAfterTheClientHasGoneIsDropped) {
  const auto port = start();
  {
    Client c(port);
    ASSERT_TRUE(c.send("GET /held HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(held_reply());
  }
  std::this_thread::sleep_for(50ms);
  Reply reply = held_reply();
  workers_.run([reply] { reply(Response{200, {}, std::string(100000, 'x')}); });
  workers_.join();
  Client next(port);
  EXPECT_EQ(status_of(next.request("GET", "/healthz")), 200);
}

TEST_F(ServerTest, StopWaitsForAPendingAsyncReply) {
  const auto port = start();
  Client busy(port);
  auto slow = std::async(std::launch::async, [&busy] { return busy.request("GET", "/async/300"); });
  while (async_started_ == 0) std::this_thread::sleep_for(5ms);
  server_->stop();  // returns only after the reply has been written
  auto r = slow.get();
  EXPECT_EQ(status_of(r), 200) << r;
  EXPECT_TRUE(has(r, "Connection: close")) << r;
}

TEST_F(ServerTest, StopGivesUpOnAReplyThatNeverComes) {
  options_.shutdown_timeout = 200ms;
  const auto port = start();
  Client c(port);
  ASSERT_TRUE(c.send("GET /held HTTP/1.1\r\nHost: x\r\n\r\n"));
  Reply reply = held_reply();
  ASSERT_TRUE(reply);
  const auto begin = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 2s);
  EXPECT_TRUE(c.closed_by_peer());
  reply(Response{});  // after stop(): ignored
  server_.reset();
  std::lock_guard lock(mutex_);
  held_.clear();  // the last copies go after the server: the 500 they produce is ignored too
}

TEST_F(ServerTest, AStreamDeliversEventsThenCloses) {
  const auto port = start();
  Client c(port);
  ASSERT_TRUE(c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string head = c.head_block();
  EXPECT_EQ(status_of(head), 200) << head;
  EXPECT_TRUE(has(head, "Content-Type: text/event-stream\r\n")) << head;
  EXPECT_TRUE(has(head, "Cache-Control: no-cache\r\n")) << head;
  EXPECT_TRUE(has(head, "Connection: close\r\n")) << head;
  EXPECT_TRUE(has(head, "X-Accel-Buffering: no\r\n")) << head;
  EXPECT_TRUE(has(head, "X-Request-Id: ")) << head;
  EXPECT_FALSE(has(head, "Content-Length")) << head;
  EXPECT_FALSE(has(head, "Transfer-Encoding")) << head;
  EXPECT_EQ(c.read_to_eof(),
            "id: 1\ndata: event 1\n\nid: 2\ndata: event 2\n\nid: 3\ndata: event 3\n\n");
}

TEST_F(ServerTest, AStreamOutlivesTheReadTimeout) {
  options_.read_timeout = 100ms;
  event_delay_ms_ = 150;
  const auto port = start();
  Client c(port);
  ASSERT_TRUE(c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto all = c.read_to_eof();
  EXPECT_TRUE(has(all, "data: event 3\n\n")) << all;
}

TEST_F(ServerTest, HeadOnAStreamSendsHeadersOnly) {
  const auto port = start();
  Client c(port);
  ASSERT_TRUE(c.send("HEAD /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto all = c.read_to_eof();
  EXPECT_EQ(status_of(all), 200) << all;
  EXPECT_TRUE(has(all, "Content-Type: text/event-stream\r\n")) << all;
  EXPECT_EQ(body_of(all), "");
  EXPECT_FALSE(producer_called_);
}

TEST_F(ServerTest, AClientLeavingMidStreamClosesTheSink) {
  const auto port = start();
  Client c(port);
  ASSERT_TRUE(c.send("GET /held-stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(status_of(c.head_block()), 200);
  auto sink = held_sink();
  ASSERT_TRUE(sink);
  EXPECT_TRUE(sink->write("data: hello\n\n"));
  c.disconnect();
  const auto begin = std::chrono::steady_clock::now();
  while (sink->write("data: more\n\n") && std::chrono::steady_clock::now() - begin < 3s) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(sink->closed());
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 2s);
}

TEST_F(ServerTest, AClientThatStopsReadingHasItsStreamClosed) {
  const auto port = start();
  Client c(port);
  ASSERT_TRUE(c.send("GET /held-stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(status_of(c.head_block()), 200);
  auto sink = held_sink();
  ASSERT_TRUE(sink);
  // The client reads nothing more: once the socket buffers are full, the queue passes 1 MiB.
  const std::string chunk(64 * 1024, 'x');
  int accepted = 0;
  while (accepted < 2000 && sink->write(chunk)) ++accepted;
  EXPECT_LT(accepted, 2000);
  EXPECT_TRUE(sink->closed());
  // The connection is dropped too, not left with a write that never completes.
  const auto begin = std::chrono::steady_clock::now();
  c.read_to_eof();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 4s);  // a receive gives up after 5 s
}

TEST_F(ServerTest, StopEndsOpenStreamsPromptly) {
  const auto port = start();  // shutdown_timeout stays 10 s
  Client c(port);
  ASSERT_TRUE(c.send("GET /held-stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(status_of(c.head_block()), 200);
  auto sink = held_sink();
  ASSERT_TRUE(sink);
  ASSERT_TRUE(sink->write("data: one\n\n"));
  const auto begin = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 1s);
  EXPECT_FALSE(sink->write("data: two\n\n"));
  EXPECT_TRUE(sink->closed());
  EXPECT_FALSE(has(c.read_to_eof(), "two"));
  sink->close();  // harmless on a closed sink
}

}  // namespace
}  // namespace flowpilot::web
