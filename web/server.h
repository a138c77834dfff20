// The HTTP/1.1 server of `flowpilot serve`: accepts connections and hands each complete request to
// a Router. Boost.Beast stays inside web/http_server.cpp (this header is Beast-free, so the TUs
// that include it compile fast).
//
// Roles as in Beast's advanced server: a listener accepts; a session per connection reads a
// request, passes it to Router::dispatch, writes the response when the reply comes, and loops
// while keep-alive holds. Each session runs on its own strand; the io_context is run by `threads`
// threads. Sync handlers run on those threads, so a slow one occupies one of them: long work
// belongs on the executor, or in an async handler that replies when it is done. A reply may come
// from any thread; its write is posted onto the session's strand. A reply that comes after its
// session was closed (client gone, server stopped) is dropped; replies never keep a session, let
// alone the server, alive.
//
// Streamed responses (Response::stream, for Server-Sent Events): the status line and headers are
// sent with `Cache-Control: no-cache`, `Connection: close` and `X-Accel-Buffering: no` and without
// Content-Length; the producer then gets a StreamSink, whose writes go out in order on the
// session's strand, and the body ends when the sink is closed and everything queued is written
// (the connection then closes: streams end keep-alive). The read timeout does not apply to a
// stream. A read stays pending so that a client's disconnect closes the sink; more than 1 MiB
// queued and unsent (a client that stopped reading) also closes it and drops the connection.
// For HEAD only the headers are sent and the producer is not called.
//
// Limits, set before every read (BAD-INPUTS 17): the body (413 once exceeded, by Content-Length
// or while reading chunks; uploads have their own, larger limit, see ServerOptions), the header
// block including the request line (431), and the time to receive a whole request, which also
// bounds how long an idle keep-alive connection is kept (uploads get longer once their headers
// are in). A body is read asynchronously into memory, so a slow or large one holds no thread; a
// request with `Expect: 100-continue` that passes the header checks gets `100 Continue`. On
// timeout the connection is closed without a response: Beast's timed stream closes the socket
// when the deadline passes, so there is nothing left to write a 408 on. A malformed request gets
// a 400 and the connection is closed. Past `max_connections` open connections a new one gets 503
// with Retry-After and is closed. After an error response the server stops sending, reads and
// discards what the client still sends for up to a second, then closes, so that the client sees
// the response rather than a reset. These transport-level answers (400, 413, 431, 503) do not go
// through the Router, so they carry no X-Request-Id and the observer does not see them.
//
// stop() is graceful: it stops accepting, closes connections waiting for a request, ends every
// stream at once (dropping what is queued: streams never finish on their own), lets requests in
// progress, async ones included, finish and their responses be written (with
// `Connection: close`), and waits at most `shutdown_timeout` before closing whatever is left. It
// then joins the threads; replies and sink writes after that are ignored.
//
// Thread-safety: start() and stop() are called by the owner, not from a handler (stop() waits for
// handlers). The Router must outlive the server and not change after start().
#pragma once

#include "web/router.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace flowpilot::web {

struct ServerOptions {
  std::string address = "127.0.0.1";                  // an IPv4 or IPv6 literal
  std::uint16_t port = 8080;                          // 0: the OS picks a free port
  std::size_t max_body_bytes = 1024 * 1024;           // 1 MiB
  std::size_t max_header_bytes = 16 * 1024;           // 16 KiB, request line included
  std::chrono::milliseconds read_timeout{10'000};     // per request, and per idle keep-alive wait
  std::size_t max_connections = 1024;                 // open connections at once
  int threads = 2;                                    // threads running the io_context
  std::chrono::milliseconds shutdown_timeout{10'000};  // stop()'s wait for requests in progress
  // Uploads: a PUT whose raw target starts with `upload_prefix` (e.g. "/api/v1/files/") may carry
  // up to `max_upload_bytes` instead of max_body_bytes, and once its headers are in it has
  // `upload_timeout` (or read_timeout, if longer) to send the rest. Empty: no upload route.
  std::string upload_prefix;
  std::size_t max_upload_bytes = 64u * 1024 * 1024;   // 64 MiB
  std::chrono::milliseconds upload_timeout{300'000};  // 5 min
  // Uploads being received or handled at once (each may hold max_upload_bytes in memory); one
  // more is answered 503 with Retry-After as soon as its headers are in.
  std::size_t max_concurrent_uploads = 4;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, const Router& router);
  // Calls stop().
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the threads; returns the bound port (useful with port 0). Throws
  // std::invalid_argument for an address that is not an IP literal and std::runtime_error when
  // the address cannot be bound (the message names it and the OS reason). Call once.
  std::uint16_t start();

  // Graceful stop, described above. Idempotent; does nothing if start() was not called.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowpilot::web
