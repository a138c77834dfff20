#include "web/http_types.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cstdio>

namespace flowpilot::web {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::array<std::pair<Method, std::string_view>, 7> kMethods{{
    {Method::kGet, "GET"},
    {Method::kHead, "HEAD"},
    {Method::kPost, "POST"},
    {Method::kPut, "PUT"},
    {Method::kPatch, "PATCH"},
    {Method::kDelete, "DELETE"},
    {Method::kOptions, "OPTIONS"},
}};

}  // namespace

std::string_view method_name(Method method) {
  for (const auto& [m, name] : kMethods) {
    if (m == method) return name;
  }
  return "OTHER";
}

Method parse_method(std::string_view text) {
  for (const auto& [m, name] : kMethods) {
    if (name == text) return m;
  }
  return Method::kOther;
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [field, value] : fields_) {
    if (iequals(field, name)) return std::string_view(value);
  }
  return std::nullopt;
}

void Headers::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

void Headers::add(std::string_view name, std::string_view value) {
  fields_.emplace_back(std::string(name), std::string(value));
}

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [name](const auto& field) { return iequals(field.first, name); });
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;  // fewer than two characters follow '%'
    const int hi = hex_value(text[i + 1]);
    const int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::optional<std::string> Request::query_value(std::string_view name) const {
  std::string_view rest(query);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    std::string key(pair.substr(0, eq));
    std::string value(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    // HTML forms encode spaces as '+' in queries; decode that before the %XX escapes.
    std::replace(key.begin(), key.end(), '+', ' ');
    std::replace(value.begin(), value.end(), '+', ' ');
    auto decoded_key = percent_decode(key);
    if (!decoded_key || *decoded_key != name) continue;
    return percent_decode(value);
  }
  return std::nullopt;
}

Request make_request(std::string_view method, std::string_view target, Headers headers,
                     std::string body) {
  Request request;
  request.method = parse_method(method);
  request.method_text = std::string(method);
  request.target = std::string(target);
  const auto question = target.find('?');
  request.raw_path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
  request.headers = std::move(headers);
  request.body = std::move(body);
  return request;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

Response json_response(int status, const boost::json::value& body) {
  Response response;
  response.status = status;
  response.headers.set("Content-Type", "application/json");
  response.body = boost::json::serialize(body);
  return response;
}

std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  std::size_t n = 0;
  unsigned min = 0;
  unsigned cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) {
    n = 2, min = 0x80, cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3, min = 0x800, cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4, min = 0x10000, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto t = static_cast<unsigned char>(text[i + k]);
    if ((t & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (t & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

namespace {

// Copies `text`, writing each byte that is not part of valid UTF-8 (and each control character
// when `controls`) as \xNN.
std::string escape_bytes(std::string_view text, bool controls) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0 || (controls && (c < 0x20 || c == 0x7f))) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

// Every string in `value` as valid UTF-8: a problem often quotes what the client sent (a decoded
// path, a name), which may hold any byte, and one invalid byte would make the answer invalid JSON.
boost::json::value utf8_json(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::string:
      return boost::json::value(valid_utf8_text(value.get_string()));
    case boost::json::kind::array: {
      boost::json::array out;
      for (const auto& v : value.get_array()) out.push_back(utf8_json(v));
      return out;
    }
    case boost::json::kind::object: {
      boost::json::object out;
      for (const auto& [k, v] : value.get_object()) out[valid_utf8_text(k)] = utf8_json(v);
      return out;
    }
    default:
      return value;
  }
}

}  // namespace

void add_security_headers(Headers& headers) {
  static constexpr std::pair<std::string_view, std::string_view> kDefaults[] = {
      {"X-Content-Type-Options", "nosniff"},
      {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
  };
  for (const auto& [name, value] : kDefaults) {
    if (!headers.get(name)) headers.set(name, value);
  }
}

std::string printable_text(std::string_view text) { return escape_bytes(text, true); }

std::string valid_utf8_text(std::string_view text) { return escape_bytes(text, false); }

Response problem_json(int status, std::string_view title, std::string_view detail,
                      const boost::json::object& extra) {
  boost::json::object body;
  const auto* type = extra.if_contains("type");
  body["type"] = type != nullptr ? utf8_json(*type) : boost::json::value("about:blank");
  body["title"] = valid_utf8_text(title);
  body["status"] = status;
  body["detail"] = valid_utf8_text(detail);
  for (const auto& member : extra) {
    const std::string_view key = member.key();
    if (key == "type" || key == "title" || key == "status" || key == "detail") continue;
    body[valid_utf8_text(key)] = utf8_json(member.value());
  }
  Response response;
  response.status = status;
  response.headers.set("Content-Type", "application/problem+json");
  response.body = boost::json::serialize(body);
  return response;
}

}  // namespace flowpilot::web
