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
#include <string>
#include <thread>
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
  ~Client() { ::close(fd_); }
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

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    add_health_routes(router_, [this] { return ready_.load(); });
    router_.add(Method::kPost, "/echo", [](const Request& req) {
      Response r;
      r.body = req.body;
      return r;
    });
    router_.add(Method::kGet, "/slow", [this](const Request&) {
      slow_started_ = true;
      std::this_thread::sleep_for(500ms);
      Response r;
      r.body = "done";
      return r;
    });
    options_.address = "127.0.0.1";
    options_.port = 0;
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

}  // namespace
}  // namespace flowpilot::web
