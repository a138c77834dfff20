// The only translation unit that includes Boost.Beast (see server.h for the behaviour).
#include "web/server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
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

// Replies and stream sinks may outlive the server: a handler can keep a Reply, a producer a
// StreamSink, for as long as it likes. Everything they post to a session goes through this gate,
// which stop() closes once the io threads are joined, so nothing is ever posted to an io_context
// that is being destroyed.
struct PostGate {
  std::mutex mutex;
  bool open = true;  // guarded by mutex
};

// What sessions share with the server. Declared before the io_context in Impl so that it outlives
// the sessions the io_context destroys with its pending handlers.
struct ServerCore {
  ServerCore(ServerOptions o, const Router& r) : options(std::move(o)), router(r) {}

  ServerOptions options;
  const Router& router;
  std::atomic<bool> stopping{false};
  std::shared_ptr<PostGate> gate = std::make_shared<PostGate>();
  std::mutex mutex;
  std::condition_variable drained;                                  // sessions became empty
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // guarded by mutex
  std::atomic<std::size_t> uploads{0};  // upload requests between their headers and their reply
};

// One of ServerOptions::max_concurrent_uploads, held by a session from an upload's headers until
// its reply (or the session's end): upload bodies are large and held in memory, so their number
// is bounded, not only their size.
class UploadSlot {
 public:
  explicit UploadSlot(ServerCore& core) : core_(core) {}
  ~UploadSlot() { core_.uploads.fetch_sub(1); }
  UploadSlot(const UploadSlot&) = delete;
  UploadSlot& operator=(const UploadSlot&) = delete;

  // Counts one more upload unless all slots are taken; on true, the caller emplaces an
  // UploadSlot, whose destruction gives it back.
  static bool acquire(ServerCore& core) {
    std::size_t taken = core.uploads.load();
    do {
      if (taken >= core.options.max_concurrent_uploads) return false;
    } while (!core.uploads.compare_exchange_weak(taken, taken + 1));
    return true;
  }

 private:
  ServerCore& core_;
};

// How long an error response's connection keeps reading (and discarding) before it closes.
constexpr auto kLingerTime = std::chrono::seconds(1);
// Bytes a stream may have queued and not yet written before it is closed: a client that stops
// reading must not make the server buffer without bound.
constexpr std::size_t kMaxUnsentStreamBytes = 1024 * 1024;

bool is_http_parse_error(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_method).category();
}

// The StreamSink of one streamed response. Producers call it from any thread; the session takes
// the queued bytes on its strand. `unsent_` counts queued bytes plus those being written, so the
// cap covers data stuck in a write to a client that does not read.
class SessionSink final : public StreamSink {
 public:
  struct Taken {
    std::string bytes;
    bool closed = false;   // no more bytes will come
    bool aborted = false;  // drop the connection without writing what is queued
  };

  // `request_flush` asks the session to call take() on its strand; it is called without the
  // sink's lock held, since posting takes the gate's lock and a session's destructor takes ours.
  explicit SessionSink(std::function<void()> request_flush)
      : request_flush_(std::move(request_flush)) {}

  bool write(std::string bytes) override {
    bool accepted = false;
    bool flush = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return false;
      if (unsent_ + bytes.size() > kMaxUnsentStreamBytes) {
        closed_ = aborted_ = true;
      } else {
        accepted = true;
        unsent_ += bytes.size();
        pending_ += bytes;
      }
      flush = !flush_requested_;
      flush_requested_ = true;
    }
    if (flush) request_flush_();
    return accepted;
  }

  void close() override {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
      if (flush_requested_) return;
      flush_requested_ = true;
    }
    request_flush_();
  }

  bool closed() const override {
    std::lock_guard lock(mutex_);
    return closed_;
  }

  // The session's side, on its strand.
  Taken take() {
    std::lock_guard lock(mutex_);
    flush_requested_ = false;
    Taken taken{std::move(pending_), closed_, aborted_};
    pending_.clear();
    return taken;
  }
  void sent(std::size_t bytes) {
    std::lock_guard lock(mutex_);
    unsent_ -= std::min(bytes, unsent_);
  }
  bool aborted() const {
    std::lock_guard lock(mutex_);
    return aborted_;
  }
  // The connection is gone or being dropped: refuse further writes.
  void abort() {
    std::lock_guard lock(mutex_);
    closed_ = aborted_ = true;
  }

 private:
  const std::function<void()> request_flush_;
  mutable std::mutex mutex_;
  std::string pending_;           // guarded by mutex_
  std::size_t unsent_ = 0;        // guarded by mutex_
  bool closed_ = false;           // guarded by mutex_
  bool aborted_ = false;          // guarded by mutex_
  bool flush_requested_ = false;  // guarded by mutex_; a flush is posted and has not taken yet
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, ServerCore& core) : stream_(std::move(socket)), core_(core) {
    boost::system::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ = peer.address().to_string();
  }

  ~Session() {
    if (sink_) sink_->abort();
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

  // Runs on the session's strand (posted by stop()). Streams end at once: they never finish on
  // their own, and the server must not wait shutdown_timeout for them.
  void close_if_idle() {
    if (sink_) return close();
    const bool partial = buffer_.size() > 0 || (parser_ && parser_->got_some());
    if (reading_ && !partial) close();
  }

  // On the strand. Also gives up on a reply still to come: it will be dropped.
  void close() {
    closed_ = true;
    awaiting_self_.reset();
    if (sink_) sink_->abort();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  // Called by stop() once the io threads are joined and the gate is closed, so nothing else runs
  // on this session: breaks the self-reference of a session still waiting for a reply.
  void abandon() {
    awaiting_self_.reset();
    if (sink_) sink_->abort();
  }

  net::any_io_executor executor() { return stream_.get_executor(); }

 private:
  // Runs `fn(session)` on the session's strand, unless the server has stopped or the session is
  // gone, in which case `fn` is dropped. Safe from any thread, at any time.
  template <typename Fn>
  static void post_to(const std::shared_ptr<PostGate>& gate, const std::weak_ptr<Session>& weak,
                      Fn fn) {
    std::shared_ptr<Session> session;  // declared first, released last: ~Session takes locks
    std::lock_guard lock(gate->mutex);
    if (!gate->open) return;
    session = weak.lock();
    if (!session) return;
    auto executor = session->executor();
    net::post(executor, [session, fn = std::move(fn)]() mutable { fn(*session); });
  }

  void read_request() {
    if (core_.stopping) return close();
    const ServerOptions& o = core_.options;
    parser_.emplace();
    // Beast checks Content-Length against the limit while parsing the headers, before the route
    // is known: start with the larger limit and narrow it in on_header.
    body_limit_ = o.upload_prefix.empty() ? o.max_body_bytes
                                          : std::max(o.max_body_bytes, o.max_upload_bytes);
    parser_->body_limit(body_limit_);
    parser_->header_limit(static_cast<std::uint32_t>(o.max_header_bytes));
    reading_ = true;
    stream_.expires_after(o.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  // The headers are in: the body limit and the time left depend on whether this is an upload.
  void on_header(beast::error_code ec, std::size_t bytes) {
    if (ec) return on_read(ec, bytes);
    const ServerOptions& o = core_.options;
    const auto& message = parser_->get();
    const bool upload = !o.upload_prefix.empty() && message.method() == http::verb::put &&
                        std::string_view(message.target()).starts_with(o.upload_prefix);
    if (upload) {
      if (!UploadSlot::acquire(core_)) {
        reading_ = false;
        Response busy = problem_json(
            503, "Too many uploads",
            "the server is receiving " + std::to_string(o.max_concurrent_uploads) +
                " uploads already; retry shortly");
        busy.headers.set("Retry-After", "1");
        return write(std::move(busy), message.version(), /*keep_alive=*/false, /*head=*/false,
                     /*linger=*/true);
      }
      upload_slot_.emplace(core_);
      body_limit_ = o.max_upload_bytes;
      stream_.expires_after(std::max(o.read_timeout, o.upload_timeout));
    } else {
      body_limit_ = o.max_body_bytes;
    }
    if (const auto length = parser_->content_length(); length && *length > body_limit_) {
      return on_read(http::error::body_limit, bytes);
    }
    // No body byte has been parsed yet, so the narrower limit applies to all of it (chunked
    // bodies included).
    parser_->body_limit(body_limit_);
    if (parser_->is_done()) return on_read({}, bytes);
    // A client that asked whether to send the body (curl does for bodies over 1 KiB) would
    // otherwise wait a second before sending it anyway.
    if (beast::iequals(message[http::field::expect], "100-continue")) {
      auto go_on = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                      message.version());
      http::async_write(stream_, *go_on,
                        [self = shared_from_this(), go_on](beast::error_code ec, std::size_t) {
                          if (ec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t /*bytes*/) {
    reading_ = false;
    if (ec == http::error::body_limit) {
      return send_error(413, "Content too large",
                        "the request body exceeds " + std::to_string(body_limit_) + " bytes");
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
    request.remote_address = peer_;
    // Nothing else holds the session while the handler works (no socket operation is pending),
    // so it holds itself until the reply comes or it is closed. The reply only has a weak_ptr:
    // it may be called long after the session, or the server, is gone.
    awaiting_self_ = shared_from_this();
    auto replied = std::make_shared<std::atomic<bool>>(false);
    Reply reply = [gate = core_.gate, weak = weak_from_this(), replied, version, keep_alive,
                   head](Response response) {
      if (replied->exchange(true)) return;
      post_to(gate, weak, [response = std::move(response), version, keep_alive,
                           head](Session& s) mutable {
        s.on_reply(std::move(response), version, keep_alive, head);
      });
    };
    try {
      core_.router.dispatch(std::move(request), reply);
    } catch (...) {
      reply(problem_json(500, "Internal error", "the server failed to handle the request"));
    }
  }

  void on_reply(Response response, unsigned version, bool keep_alive, bool head) {
    upload_slot_.reset();
    if (!awaiting_self_ || closed_) return;  // closed while the handler worked: drop the reply
    // This handler holds the session too, so releasing the self-reference here is safe.
    awaiting_self_.reset();
    if (response.stream) return start_stream(std::move(response), version, head);
    // Re-read `stopping`: stop() may have begun while the handler worked.
    write(std::move(response), version, keep_alive && !core_.stopping, head, /*linger=*/false);
  }

  void send_error(int status, std::string_view title, const std::string& detail) {
    // After a refused request the rest of its bytes may still be in flight; answer, then linger.
    write(problem_json(status, title, detail), 11, /*keep_alive=*/false, /*head=*/false,
          /*linger=*/true);
  }

  void write(Response response, unsigned version, bool keep_alive, bool head, bool linger) {
    add_security_headers(response.headers);
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

  // A streamed response: the header block without Content-Length, the body delimited by closing
  // the connection (no chunking, so that an SSE client sees each event as soon as it is written).
  void start_stream(Response response, unsigned version, bool head) {
    add_security_headers(response.headers);
    auto message = std::make_shared<http::response<http::empty_body>>(
        static_cast<http::status>(response.status), version);
    for (const auto& [name, value] : response.headers.fields()) {
      if (beast::iequals(name, "Content-Length") || beast::iequals(name, "Transfer-Encoding") ||
          beast::iequals(name, "Connection")) {
        continue;
      }
      message->insert(name, value);
    }
    message->set(http::field::cache_control, "no-cache");
    message->set(http::field::connection, "close");
    message->set("X-Accel-Buffering", "no");  // nginx would otherwise hold events back
    stream_.expires_after(core_.options.read_timeout);
    http::async_write(stream_, *message,
                      [self = shared_from_this(), message, head,
                       producer = std::move(response.stream)](beast::error_code ec,
                                                              std::size_t) mutable {
                        if (ec) return self->close();
                        if (head) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          return;
                        }
                        self->begin_stream(std::move(producer));
                      });
  }

  void begin_stream(StreamProducer producer) {
    if (closed_) return;
    // stop()'s sweep may have passed this session while the header block was being written.
    if (core_.stopping) return close();
    stream_.expires_never();  // streams are long-lived; the read timeout must not end them
    sink_ = std::make_shared<SessionSink>([gate = core_.gate, weak = weak_from_this()] {
      post_to(gate, weak, [](Session& s) { s.flush_stream(); });
    });
    watch_for_eof();
    try {
      producer(sink_);
    } catch (...) {
      sink_->close();  // end the response with what the producer managed to write
    }
  }

  // A streaming client has nothing more to send; a read stays pending so that its disconnect is
  // noticed (and the sink closed) even when no event is being written.
  void watch_for_eof() {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->watch_for_eof();
                            });
  }

  void flush_stream() {
    if (!sink_ || closed_) return;
    if (stream_writing_) {
      // An overflow must not wait for the write in progress: that write is what is stuck.
      if (sink_->aborted()) close();
      return;
    }
    SessionSink::Taken taken = sink_->take();
    if (taken.aborted) return close();
    if (taken.bytes.empty()) {
      if (taken.closed) close();  // everything written: closing the connection ends the body
      return;
    }
    stream_out_ = std::move(taken.bytes);
    stream_writing_ = true;
    net::async_write(stream_, net::buffer(stream_out_),
                     [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                       self->stream_writing_ = false;
                       if (ec) return self->close();
                       self->sink_->sent(n);
                       self->flush_stream();
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

  // All members below are only touched on the session's strand (abandon() aside, see there).
  beast::tcp_stream stream_;
  ServerCore& core_;
  std::string peer_;  // the client's IP address, for Request::remote_address
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::size_t body_limit_ = 0;  // the limit of the request being read
  std::optional<UploadSlot> upload_slot_;  // while an upload is read and handled
  bool reading_ = false;  // waiting in async_read
  bool closed_ = false;
  std::shared_ptr<Session> awaiting_self_;  // set while a handler has the request
  std::shared_ptr<SessionSink> sink_;       // set once a streamed response's body has begun
  std::string stream_out_;                  // the stream bytes being written
  bool stream_writing_ = false;
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
  // A session waiting for an async reply has no operation pending; without this, run() would
  // return once stop() closes the acceptor, and the reply's write would never run.
  net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
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
  {
    std::lock_guard lock(impl_->core.gate->mutex);
    impl_->core.gate->open = false;
  }
  // No thread runs the sessions any more and nothing can be posted to them: release the ones
  // still waiting for a reply (the io_context's destruction takes care of the rest).
  std::vector<std::shared_ptr<Session>> left;
  {
    std::lock_guard lock(impl_->core.mutex);
    for (auto& [ptr, weak] : impl_->core.sessions) {
      if (auto s = weak.lock()) left.push_back(std::move(s));
    }
  }
  for (auto& s : left) s->abandon();
}

}  // namespace flowpilot::web
