// A small scripted HTTP/1.1 server for the HTTP client's tests: one thread accepting on a
// loopback address (port 0), one thread per connection, one request per connection
// ("Connection: close"). Each path answers with a scripted response, or a sequence of them (the
// last one repeats); unknown paths echo the request. Every request received is recorded.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace flowpilot::engine::test {

struct ScriptedResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};  // before anything is sent
  bool content_length = true;          // false: the body ends when the connection closes
};

struct ReceivedRequest {
  std::string method;
  std::string target;                                        // path and query
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  const std::string* header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return &value;
    }
    return nullptr;
  }
};

class TestServer {
 public:
  explicit TestServer(std::string address = "127.0.0.1") : address_(std::move(address)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener_ < 0) throw std::runtime_error("socket failed");
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in bound{};
    bound.sin_family = AF_INET;
    bound.sin_port = 0;
    if (::inet_pton(AF_INET, address_.c_str(), &bound.sin_addr) != 1 ||
        ::bind(listener_, reinterpret_cast<sockaddr*>(&bound), sizeof bound) != 0 ||
        ::listen(listener_, 1024) != 0) {
      ::close(listener_);
      throw std::runtime_error("cannot listen on " + address_);
    }
    socklen_t length = sizeof bound;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &length);
    port_ = ntohs(bound.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~TestServer() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    acceptor_.join();
    std::vector<std::thread> connections;
    {
      const std::lock_guard lock(mutex_);
      connections.swap(connections_);
    }
    for (auto& connection : connections) connection.join();
    ::close(listener_);
  }

  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  // Whether a server can listen on `address` (127.0.0.2 needs the whole 127/8 on lo, as Linux has).
  static bool can_bind(const std::string& address) {
    try {
      const TestServer probe(address);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  int port() const { return port_; }
  std::string url(std::string_view target) const {
    return "http://" + address_ + ":" + std::to_string(port_) + std::string(target);
  }

  void on(const std::string& path, ScriptedResponse response) {
    on_sequence(path, {std::move(response)});
  }
  void on_sequence(const std::string& path, std::vector<ScriptedResponse> responses) {
    const std::lock_guard lock(mutex_);
    routes_[path] = std::move(responses);
  }

  std::vector<ReceivedRequest> requests() const {
    const std::lock_guard lock(mutex_);
    return received_;
  }
  int hits(std::string_view path) const {
    const std::lock_guard lock(mutex_);
    return static_cast<int>(std::count_if(received_.begin(), received_.end(), [&](const auto& r) {
      return path_of(r.target) == path;
    }));
  }

 private:
  static std::string_view path_of(std::string_view target) {
    return target.substr(0, target.find('?'));
  }

  void accept_loop() {
    for (;;) {
      {
        const std::lock_guard lock(mutex_);
        if (stopping_) return;
      }
      pollfd waiting{listener_, POLLIN, 0};
      if (::poll(&waiting, 1, 20) <= 0) continue;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      const std::lock_guard lock(mutex_);
      connections_.emplace_back([this, fd] {
        serve(fd);
        ::close(fd);
      });
    }
  }

  // Reads one request; false if the peer went away or the server is stopping.
  bool read_request(int fd, ReceivedRequest& request) {
    std::string data;
    std::size_t header_end = std::string::npos;
    std::size_t content_length = 0;
    char buffer[16384];
    for (;;) {
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          parse_head(std::string_view(data).substr(0, header_end), request);
          if (const auto* length = request.header("content-length"))
            content_length = std::stoul(*length);
        }
      }
      if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) {
        request.body = data.substr(header_end + 4, content_length);
        return true;
      }
      pollfd readable{fd, POLLIN, 0};
      if (::poll(&readable, 1, 20) == 0) {
        const std::lock_guard lock(mutex_);
        if (stopping_) return false;
        continue;
      }
      const auto got = ::recv(fd, buffer, sizeof buffer, 0);
      if (got <= 0) return false;
      data.append(buffer, static_cast<std::size_t>(got));
    }
  }

  static void parse_head(std::string_view head, ReceivedRequest& request) {
    auto line_end = head.find("\r\n");
    const auto request_line = head.substr(0, line_end);
    const auto first_space = request_line.find(' ');
    const auto second_space = request_line.find(' ', first_space + 1);
    request.method = std::string(request_line.substr(0, first_space));
    request.target =
        std::string(request_line.substr(first_space + 1, second_space - first_space - 1));
    while (line_end != std::string_view::npos) {
      const auto start = line_end + 2;
      line_end = head.find("\r\n", start);
      const auto line =
          head.substr(start, line_end == std::string_view::npos ? line_end : line_end - start);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(line.substr(0, colon));
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      request.headers.emplace_back(std::move(name), std::string(value));
    }
  }

  void serve(int fd) {
    ReceivedRequest request;
    if (!read_request(fd, request)) return;
    ScriptedResponse response;
    {
      const std::lock_guard lock(mutex_);
      const auto hit = static_cast<std::size_t>(std::count_if(
          received_.begin(), received_.end(),
          [&](const auto& r) { return path_of(r.target) == path_of(request.target); }));
      received_.push_back(request);
      const auto route = routes_.find(std::string(path_of(request.target)));
      if (route != routes_.end()) {
        response = route->second[std::min(hit, route->second.size() - 1)];
      } else {
        response.body = echo(request);
      }
    }
    if (response.delay.count() > 0) {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, response.delay, [this] { return stopping_; })) return;
    }
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " Scripted\r\n";
    out += "Connection: close\r\nX-Served-By: test-server\r\n";
    for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
    if (response.content_length)
      out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    out += "\r\n";
    out += response.body;
    std::size_t sent = 0;
    while (sent < out.size()) {
      const auto wrote = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (wrote <= 0) return;
      sent += static_cast<std::size_t>(wrote);
    }
    ::shutdown(fd, SHUT_WR);
    // Let the client read everything before the close (a close with unread input sends RST).
    char drain[256];
    pollfd readable{fd, POLLIN, 0};
    while (::poll(&readable, 1, 1000) > 0 && ::recv(fd, drain, sizeof drain, 0) > 0) {
    }
  }

  static std::string echo(const ReceivedRequest& request) {
    std::string body = request.method + " " + request.target + "\n";
    for (const auto& [name, value] : request.headers) body += name + ": " + value + "\n";
    body += "\n" + request.body;
    return body;
  }

  std::string address_;
  int listener_ = -1;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;                                        // guarded by mutex_
  std::map<std::string, std::vector<ScriptedResponse>> routes_;  // guarded by mutex_
  std::vector<ReceivedRequest> received_;                        // guarded by mutex_
  std::vector<std::thread> connections_;                         // guarded by mutex_
  std::thread acceptor_;
};

}  // namespace flowpilot::engine::test
