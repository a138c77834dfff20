// The only translation unit that includes Boost.Beast (see server.h for the behaviour).
#include "web/server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

namespace flowpilot::web {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class Session;

// What sessions share with the server. Declared before the io_context in Impl so that it outlives
// the sessions the io_context destroys with its pending handlers.
struct ServerCore {
  ServerCore(ServerOptions o, const Router& r) : options(std::move(o)), router(r) {}

  ServerOptions options;
  const Router& router;
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable drained;                                  // sessions became empty
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // guarded by mutex
};

// How long an error response's connection keeps reading (and discarding) before it closes.
constexpr auto kLingerTime = std::chrono::seconds(1);

bool is_http_parse_error(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_method).category();
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, ServerCore& core) : stream_(std::move(socket)), core_(core) {}

  ~Session() {
    std::lock_guard lock(core_.mutex);
    core_.sessions.erase(this);
    if (core_.sessions.empty()) core_.drained.notify_all();
  }

  void start(bool over_capacity) {
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), over_capacity] {
      if (over_capacity) {
        Response busy = problem_json(503, "Server busy",
                                     "the server has too many open connections; retry shortly");
        busy.headers.set("Retry-After", "1");
        self->write(std::move(busy), 11, /*keep_alive=*/false, /*head=*/false, /*linger=*/true);
      } else {
        self->read_request();
      }
    });
  }

  // Runs on the session's strand (posted by stop()).
  void close_if_idle() {
    const bool partial = buffer_.size() > 0 || (parser_ && parser_->got_some());
    if (reading_ && !partial) close();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  net::any_io_executor executor() { return stream_.get_executor(); }

 private:
  void read_request() {
    if (core_.stopping) return close();
    parser_.emplace();
    parser_->body_limit(core_.options.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(core_.options.max_header_bytes));
    reading_ = true;
    stream_.expires_after(core_.options.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    reading_ = false;
    if (ec == http::error::body_limit) {
      return send_error(413, "Content too large",
                        "the request body exceeds " +
                            std::to_string(core_.options.max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return send_error(431, "Request header fields too large",
                        "the request line and headers exceed " +
                            std::to_string(core_.options.max_header_bytes) + " bytes");
    }
    // end_of_stream: the client closed between requests. timeout: the timed stream has already
    // closed the socket. Anything else that is not a parse error is a transport failure.
    if (ec && is_http_parse_error(ec) && ec != http::error::end_of_stream &&
        ec != http::error::partial_message) {
      return send_error(400, "Malformed request", "the request is not valid HTTP/1.1: " +
                                                      ec.message());
    }
    if (ec) return close();

    auto message = parser_->release();
    parser_.reset();
    Headers headers;
    for (const auto& field : message) {
      headers.add(std::string_view(field.name_string()), std::string_view(field.value()));
    }
    const bool head = message.method() == http::verb::head;
    const bool keep_alive = message.keep_alive();
    const unsigned version = message.version();
    Request request = make_request(std::string_view(message.method_string()),
                                   std::string_view(message.target()), std::move(headers),
                                   std::move(message.body()));
    Response response;
    try {
      response = core_.router.handle(std::move(request));
    } catch (...) {
      response = problem_json(500, "Internal error", "the server failed to handle the request");
    }
    write(std::move(response), version, keep_alive && !core_.stopping, head, /*linger=*/false);
  }

  void send_error(int status, std::string_view title, const std::string& detail) {
    // After a refused request the rest of its bytes may still be in flight; answer, then linger.
    write(problem_json(status, title, detail), 11, /*keep_alive=*/false, /*head=*/false,
          /*linger=*/true);
  }

  void write(Response response, unsigned version, bool keep_alive, bool head, bool linger) {
    auto message = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(response.status), version);
    std::optional<std::string> head_length = std::nullopt;
    for (const auto& [name, value] : response.headers.fields()) {
      if (beast::iequals(name, "Content-Length")) {
        head_length = value;  // only meaningful for HEAD; otherwise computed from the body
        continue;
      }
      message->insert(name, value);
    }
    if (head) {
      // strtoull, not stoull: nothing may throw inside a completion handler.
      const std::size_t length = head_length
                                     ? std::strtoull(head_length->c_str(), nullptr, 10)
                                     : response.body.size();
      message->content_length(length);
    } else {
      message->body() = std::move(response.body);
      message->prepare_payload();
    }
    message->keep_alive(keep_alive);
    stream_.expires_after(core_.options.read_timeout);
    http::async_write(stream_, *message,
                      [self = shared_from_this(), message, keep_alive, linger](
                          beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        if (keep_alive) return self->read_request();
                        if (linger) return self->linger();
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                      });
  }

  // Half-close and discard what the client still sends, so that closing does not reset the
  // connection before the client has read the response.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > self->core_.options.max_body_bytes) {
                                return self->close();
                              }
                              self->drain();
                            });
  }

  beast::tcp_stream stream_;
  ServerCore& core_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool reading_ = false;  // waiting in async_read; only touched on the strand
  std::array<char, 4096> scratch_{};
  std::size_t drained_ = 0;
};

}  // namespace

struct HttpServer::Impl {
  Impl(ServerOptions options, const Router& router) : core(std::move(options), router) {}

  void accept() {
    acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || core.stopping) return;
      if (ec) {
        // Out of descriptors and the like: back off instead of spinning on the error.
        retry.expires_after(std::chrono::milliseconds(50));
        retry.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec && !core.stopping) accept();
        });
        return;
      }
      auto session = std::make_shared<Session>(std::move(socket), core);
      bool over_capacity = false;
      {
        std::lock_guard lock(core.mutex);
        over_capacity = core.sessions.size() >= core.options.max_connections;
        core.sessions.emplace(session.get(), session);
      }
      session->start(over_capacity);
      accept();
    });
  }

  // Posts `action` to every live session's strand.
  template <typename Action>
  void for_each_session(Action action) {
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard lock(core.mutex);
      for (auto& [ptr, weak] : core.sessions) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) net::post(s->executor(), [s, action] { action(*s); });
  }

  bool wait_drained(std::chrono::milliseconds limit) {
    std::unique_lock lock(core.mutex);
    return core.drained.wait_for(lock, limit, [this] { return core.sessions.empty(); });
  }

  ServerCore core;
  net::io_context ioc;
  // The acceptor and its back-off timer share one strand, so accepting, retrying and stop()'s
  // close never run at the same time.
  net::strand<net::io_context::executor_type> accept_strand{net::make_strand(ioc)};
  std::optional<tcp::acceptor> acceptor;
  net::steady_timer retry{accept_strand};
  std::vector<std::thread> threads;
  bool started = false;
  bool stopped = false;
};

HttpServer::HttpServer(ServerOptions options, const Router& router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::start() {
  if (impl_->started) throw std::logic_error("HttpServer::start called twice");
  const ServerOptions& options = impl_->core.options;
  beast::error_code ec;
  const auto address = net::ip::make_address(options.address, ec);
  if (ec) {
    throw std::invalid_argument("listen address `" + options.address +
                                "` is not an IP address (use e.g. 127.0.0.1 or ::1)");
  }
  const tcp::endpoint endpoint(address, options.port);
  const std::string where = options.address + ":" + std::to_string(options.port);
  auto& acceptor = impl_->acceptor.emplace(impl_->accept_strand);
  auto fail = [&](const char* what) {
    throw std::runtime_error(std::string("cannot ") + what + " " + where + ": " + ec.message());
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) fail("open a socket for");
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) fail("set SO_REUSEADDR for");
  acceptor.bind(endpoint, ec);
  if (ec) fail("listen on");
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) fail("listen on");
  const std::uint16_t port = acceptor.local_endpoint().port();
  impl_->started = true;
  impl_->accept();
  const int threads = options.threads > 0 ? options.threads : 1;
  for (int i = 0; i < threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
  return port;
}

void HttpServer::stop() {
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  impl_->core.stopping = true;
  // Close the acceptor on its strand and wait, so no accept races the close.
  std::promise<void> closed;
  net::post(impl_->acceptor->get_executor(), [this, &closed] {
    beast::error_code ignored;
    impl_->acceptor->close(ignored);
    impl_->retry.cancel();
    closed.set_value();
  });
  closed.get_future().wait();
  impl_->for_each_session([](Session& s) { s.close_if_idle(); });
  if (!impl_->wait_drained(impl_->core.options.shutdown_timeout)) {
    impl_->for_each_session([](Session& s) { s.close(); });
    impl_->wait_drained(std::chrono::seconds(1));
  }
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace flowpilot::web
