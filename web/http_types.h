// Flowpilot's own HTTP request and response values, independent of Boost.Beast, so that route
// handlers are plain functions over values: tests build a Request and inspect the Response without
// sockets, and only web/http_server.cpp knows about Beast (STYLE.md, "HTTP").
//
// Errors at the HTTP border are `application/problem+json` bodies (RFC 9457) made by
// problem_json(); handlers return them as values rather than throwing.
//
// A Response either carries its whole body or, for long-lived answers such as Server-Sent Events,
// a producer (Response::stream) that the server hands a StreamSink once the headers are sent.
//
// Thread-safety: plain values; no shared state. StreamSink implementations are thread-safe.
#pragma once

#include "engine/access/principal.h"

#include <boost/json/object.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowpilot::web {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

// "GET", "HEAD", ...; "OTHER" for kOther.
std::string_view method_name(Method method);
// Case-sensitive, as RFC 9110 defines method names; anything unknown is kOther.
Method parse_method(std::string_view text);

// Header fields in arrival order. Lookup is case-insensitive (field names are, per RFC 9110).
class Headers {
 public:
  // The first value of `name`, or nullopt. The view is valid until this object changes.
  std::optional<std::string_view> get(std::string_view name) const;
  // Replaces every field called `name` with one field.
  void set(std::string_view name, std::string_view value);
  // Appends a field, keeping any existing ones of the same name.
  void add(std::string_view name, std::string_view value);
  void remove(std::string_view name);

  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct Request {
  Method method = Method::kGet;
  std::string method_text = "GET";  // as received, for 405 messages and logs
  std::string target;               // the request-target exactly as received
  std::string raw_path;             // target up to '?', still percent-encoded
  std::string query;                // after '?', still percent-encoded; empty if none
  Headers headers;
  std::string body;

  // Set by the Router before the handler runs: the canonical, percent-decoded path (no trailing
  // slash except for "/") and the values of the pattern's {param} segments, decoded.
  std::string path;
  std::map<std::string, std::string, std::less<>> params;
  // Set by the Router before the handler runs: the client's X-Request-Id when it is 1-64
  // characters of [A-Za-z0-9._-], otherwise 16 random hex digits. Echoed on the response.
  std::string request_id;
  // The client's IP address as the server saw it (or as a trusted proxy reported it); empty when
  // unknown (a request made in-process).
  std::string remote_address;
  // Set by the Router before the handler of a route that requires a caller: who is calling.
  // Null on open routes.
  std::shared_ptr<const engine::Principal> principal;

  // The decoded value of the first `name=value` pair in the query ('+' is a space), or nullopt.
  std::optional<std::string> query_value(std::string_view name) const;
};

// Splits `target` into raw_path and query and fills the other fields of a Request.
Request make_request(std::string_view method, std::string_view target, Headers headers = {},
                     std::string body = {});

// The write end of a streamed response body. Thread-safe. write() queues bytes and returns
// false once the stream is closed (client gone, server stopping, or too much unsent data);
// close() ends the response. A producer typically keeps the sink, writes whenever it has
// something to say, and drops the sink once closed() is true or write() returned false.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual bool write(std::string bytes) = 0;
  virtual void close() = 0;
  virtual bool closed() const = 0;
};

using StreamProducer = std::function<void(std::shared_ptr<StreamSink>)>;

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, `body` is ignored: the server sends the status and headers without Content-Length
  // and with Connection: close, then calls stream(sink) once, on a server thread (so it should
  // return quickly, keeping the sink for later writes); the body is whatever the sink is given.
  // For HEAD the server sends the headers only and never calls it.
  StreamProducer stream = nullptr;
  // Not sent. For audited routes (router.h): what the change was, for the audit log's `details`;
  // a string member "target" names the changed thing when the route's parameters do not (the id
  // of something created). Never put a secret here.
  boost::json::object audit{};
};

// The standard reason phrase of `status` ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status);

// A 2xx/4xx/5xx JSON response: Content-Type application/json and the serialised `body`.
Response json_response(int status, const boost::json::value& body);

// An RFC 9457 problem: Content-Type application/problem+json and a body with
//   type     - "about:blank" unless `extra` carries "type" (a URI naming the problem kind),
//   title    - short, the same for every occurrence of the kind,
//   status   - the HTTP status, repeated for clients that only see the body,
//   detail   - what went wrong with this request, naming the field or part concerned,
//   instance - only if `extra` carries it (the request path, usually),
// plus every other member of `extra` (e.g. "errors": [{"path": ..., "message": ...}]). Members of
// `extra` named "title", "status" or "detail" are ignored: those come from the parameters.
Response problem_json(int status, std::string_view title, std::string_view detail,
                      const boost::json::object& extra = {});

// How many bytes the valid UTF-8 sequence starting at text[i] takes; 0 when it is not valid
// UTF-8 (overlong forms, surrogates and code points above U+10FFFF included).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

// `text` safe to quote in a message, a log or a terminal: control characters and bytes that are
// not UTF-8 become \xNN.
std::string printable_text(std::string_view text);

// `text` with only the bytes that are not UTF-8 written as \xNN: what a JSON string can hold.
// problem_json() applies it to every string of the answer.
std::string valid_utf8_text(std::string_view text);

// The headers every answer carries unless its handler set them itself: no MIME sniffing, no
// framing by other sites, no referrer leaving the page, and a Content-Security-Policy that allows
// nothing (JSON and event streams need nothing; pages of the UI set their own policy).
void add_security_headers(Headers& headers);

// Percent-decodes `text`; nullopt if a '%' is not followed by two hex digits. '+' stays '+'.
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace flowpilot::web
