// http.request's pure parts: turning a step's input and connection credentials into a request,
// classifying responses, and following pagination. No host calls here, so the rules are unit
// tested without an engine (tests/plugins/http_request_spec_test.cpp). Any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <flowpilot/plugin.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/duration.h"

namespace flowpilot::http_plugin {

namespace json = boost::json;

inline constexpr std::int64_t kDefaultMaxPages = 10;
inline constexpr std::string_view kMask = "***";

enum class ResponseMode { automatic, json_body, text };
enum class PaginationType { none, link, cursor, next_url };

struct Pagination {
  PaginationType type = PaginationType::none;
  std::string cursor_path;  // cursor: where the next cursor is in the body
  std::string param;        // cursor: the query parameter that carries it
  std::string next_path;    // next_url: where the next page's URL is in the body
  std::string items_path;   // where a page's items are; empty: the body itself when an array
  std::int64_t max_pages = kDefaultMaxPages;
};

// Everything http.request needs after reading its input.
struct RequestSpec {
  sdk::HttpRequest request;
  sdk::Headers masked_headers;  // request.headers with credential values replaced by kMask
  ResponseMode response = ResponseMode::automatic;
  std::vector<std::string> expect_status;  // "200", "2xx"; empty: any 2xx
  Pagination pagination;
};

inline char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
inline char ascii_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

inline bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// RFC 3986 percent-encoding of everything but unreserved characters. `form`: space as '+'.
inline std::string url_encode(std::string_view text, bool form = false) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += ch;
    } else if (form && c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

// A query or form value as text: strings as they are, other scalars as JSON, objects as JSON.
inline std::string scalar_text(const json::value& v) {
  return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

// "a=1&b=x%20y"; arrays repeat the key, nulls are left out. Keeps the object's order.
inline std::string encode_pairs(const json::object& fields, bool form) {
  std::string out;
  auto add = [&](std::string_view key, const json::value& v) {
    if (v.is_null()) return;
    if (!out.empty()) out += '&';
    out += url_encode(key, form);
    out += '=';
    out += url_encode(scalar_text(v), form);
  };
  for (const auto& [key, value] : fields) {
    if (value.is_array()) {
      for (const auto& item : value.get_array()) add(key, item);
    } else {
      add(key, value);
    }
  }
  return out;
}

// Appends an encoded query to `url`, before any fragment.
inline std::string append_query(const std::string& url, std::string_view query) {
  if (query.empty()) return url;
  const std::size_t hash = url.find('#');
  std::string base = url.substr(0, hash);
  const std::string fragment = hash == std::string::npos ? "" : url.substr(hash);
  if (base.find('?') == std::string::npos)
    base += '?';
  else if (base.back() != '?' && base.back() != '&')
    base += '&';
  return base + std::string(query) + fragment;
}

// Sets query parameter `name` to `value` in `url`, replacing earlier occurrences.
inline std::string set_query_param(const std::string& url, std::string_view name,
                                   std::string_view value) {
  const std::size_t hash = url.find('#');
  const std::string fragment = hash == std::string::npos ? "" : url.substr(hash);
  std::string base = url.substr(0, hash);
  const std::size_t q = base.find('?');
  std::string kept;
  if (q != std::string::npos) {
    const std::string query = base.substr(q + 1);
    base.resize(q);
    const std::string encoded_name = url_encode(name);
    std::size_t start = 0;
    while (start <= query.size()) {
      std::size_t end = query.find('&', start);
      if (end == std::string::npos) end = query.size();
      const std::string part = query.substr(start, end - start);
      const std::string key = part.substr(0, part.find('='));
      if (!part.empty() && key != encoded_name && key != name) {
        if (!kept.empty()) kept += '&';
        kept += part;
      }
      start = end + 1;
    }
  }
  if (!kept.empty()) kept += '&';
  kept += url_encode(name) + "=" + url_encode(value);
  return base + "?" + kept + fragment;
}

inline std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(in[i]) << 16) |
                            (static_cast<unsigned char>(in[i + 1]) << 8) |
                            static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < in.size()) {
    std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// The value at a dotted path ("paging.cursors.after", "data.0.id"), or nullptr.
inline const json::value* find_path(const json::value& root, std::string_view path) {
  const json::value* at = &root;
  while (!path.empty() && at != nullptr) {
    const std::size_t dot = path.find('.');
    const std::string_view key = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (const auto* o = at->if_object()) {
      at = o->if_contains(key);
    } else if (const auto* a = at->if_array()) {
      std::size_t index = 0;
      bool numeric = !key.empty();
      for (const char c : key) {
        if (c < '0' || c > '9')
          numeric = false;
        else
          index = index * 10 + static_cast<std::size_t>(c - '0');
      }
      at = numeric && index < a->size() ? &(*a)[index] : nullptr;
    } else {
      at = nullptr;
    }
  }
  return at;
}

// The target of the `rel="next"` link in an RFC 8288 Link header, or nullopt.
inline std::optional<std::string> link_next(std::string_view header) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    const std::size_t open = header.find('<', pos);
    if (open == std::string_view::npos) return std::nullopt;
    const std::size_t close = header.find('>', open);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view target = header.substr(open + 1, close - open - 1);
    // Parameters run to the next comma outside quotes.
    std::size_t end = close + 1;
    bool quoted = false;
    for (; end < header.size(); ++end) {
      if (header[end] == '"')
        quoted = !quoted;
      else if (header[end] == ',' && !quoted)
        break;
    }
    std::string_view params = header.substr(close + 1, end - close - 1);
    // Find rel=..., whose value may list several relation types.
    std::size_t p = 0;
    while (p < params.size()) {
      const std::size_t semi = params.find(';', p);
      std::string_view param =
          params.substr(p, semi == std::string_view::npos ? std::string_view::npos : semi - p);
      p = semi == std::string_view::npos ? params.size() : semi + 1;
      while (!param.empty() && (param.front() == ' ' || param.front() == '\t'))
        param.remove_prefix(1);
      if (!istarts_with(param, "rel")) continue;
      std::string_view value = param.substr(3);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (value.empty() || value.front() != '=') continue;
      value.remove_prefix(1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '"'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '"')) value.remove_suffix(1);
      std::size_t w = 0;
      while (w < value.size()) {
        std::size_t space = value.find(' ', w);
        if (space == std::string_view::npos) space = value.size();
        if (iequals(value.substr(w, space - w), "next")) return std::string(target);
        w = space + 1;
      }
    }
    pos = end + 1;
  }
  return std::nullopt;
}

// Resolves a link target against the URL it came from (absolute, "//host/..", "/path", "rel").
inline std::string resolve_url(const std::string& base, const std::string& target) {
  if (istarts_with(target, "http://") || istarts_with(target, "https://")) return target;
  const std::size_t scheme_end = base.find("://");
  if (scheme_end == std::string::npos) return target;
  if (target.rfind("//", 0) == 0) return base.substr(0, scheme_end + 1) + target;
  const std::size_t path_start = base.find('/', scheme_end + 3);
  const std::string origin = base.substr(0, path_start);
  if (!target.empty() && target.front() == '/') return origin + target;
  std::string path = path_start == std::string::npos ? "/" : base.substr(path_start);
  path = path.substr(0, path.find_first_of("?#"));
  return origin + path.substr(0, path.rfind('/') + 1) + target;
}

// Does `status` match one of `expected` ("404", "2xx")? Empty: any 2xx.
inline bool status_expected(int status, const std::vector<std::string>& expected) {
  if (expected.empty()) return status >= 200 && status < 300;
  const std::string text = std::to_string(status);
  for (const auto& e : expected) {
    if (e.size() == 3 && (e[1] == 'x' || e[1] == 'X') && (e[2] == 'x' || e[2] == 'X')) {
      if (text.size() == 3 && text[0] == e[0]) return true;
    } else if (e == text) {
      return true;
    }
  }
  return false;
}

// Whether an unexpected status is worth another attempt: timeouts, throttling and server errors.
inline bool status_retryable(int status) { return status == 408 || status == 429 || status >= 500; }

// A Retry-After given in seconds; HTTP dates and garbage give 0 (the host's back-off applies).
inline std::chrono::milliseconds retry_after(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty() || value.size() > 9) return std::chrono::milliseconds(0);
  std::int64_t seconds = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') return std::chrono::milliseconds(0);
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::milliseconds(seconds * 1000);
}

inline bool is_json_content_type(std::string_view content_type) {
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  for (std::size_t i = 0; i + 4 <= media.size(); ++i) {
    if (iequals(media.substr(i, 4), "json")) return true;
  }
  return false;
}

// Replaces every secret in `text` with kMask (for error messages and plans).
inline std::string mask_secrets(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    for (std::size_t at = text.find(s); at != std::string::npos;
         at = text.find(s, at + kMask.size())) {
      text.replace(at, s.size(), kMask);
    }
  }
  return text;
}

namespace detail {

inline sdk::StepError invalid(const std::string& message) {
  return sdk::StepError("http.request: " + message, false);
}

inline std::string required_string(const json::object& o, std::string_view key,
                                   std::string_view what) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string() || v->get_string().empty()) {
    throw invalid(std::string(what) + " needs a non-empty string `" + std::string(key) + "`");
  }
  return std::string(v->get_string());
}

inline std::int64_t duration_ms(const json::value& v) {
  std::string error;
  std::optional<std::int64_t> ms;
  if (v.is_string())
    ms = core_plugin::parse_duration_ms(v.get_string(), &error);
  else if (v.is_int64() || v.is_uint64())
    ms = core_plugin::parse_duration_ms(json::serialize(v), &error);
  else
    error = "`timeout` must be a duration such as 30s";
  if (!ms) throw invalid(error);
  return *ms;
}

// Adds the connection's authentication to `spec`, listing every credential value as a secret.
inline void apply_auth(const json::object& credentials, RequestSpec& spec) {
  std::string type;
  if (const auto* t = credentials.if_contains("type"); t != nullptr && t->is_string()) {
    type = std::string(t->get_string());
  } else if (credentials.contains("token")) {
    type = "bearer";
  } else if (credentials.contains("username")) {
    type = "basic";
  } else {
    return;  // credentials without an HTTP authentication method
  }
  auto& secrets = spec.request.secrets;
  auto add_header = [&](std::string name, std::string value) {
    secrets.push_back(value);
    spec.masked_headers.emplace_back(name, std::string(kMask));
    spec.request.headers.emplace_back(std::move(name), std::move(value));
  };
  if (type == "bearer") {
    const std::string token = required_string(credentials, "token", "bearer credentials");
    secrets.push_back(token);
    add_header("Authorization", "Bearer " + token);
  } else if (type == "basic") {
    const std::string user = required_string(credentials, "username", "basic credentials");
    std::string password;
    if (const auto* p = credentials.if_contains("password"); p != nullptr && p->is_string()) {
      password = std::string(p->get_string());
    }
    if (!password.empty()) secrets.push_back(password);
    const std::string blob = base64(user + ":" + password);
    secrets.push_back(blob);
    add_header("Authorization", "Basic " + blob);
  } else if (type == "header") {
    const std::string name = required_string(credentials, "name", "header credentials");
    const std::string value = required_string(credentials, "value", "header credentials");
    add_header(name, value);
  } else {
    throw invalid("unknown credential type `" + type + "`; use bearer, basic or header");
  }
}

inline Pagination parse_pagination(const json::value& v, std::int64_t max_pages) {
  if (!v.is_object()) throw invalid("`paginate` must be an object such as {type: link}");
  const json::object& o = v.get_object();
  Pagination p;
  p.max_pages = max_pages;
  const std::string type = required_string(o, "type", "`paginate`");
  auto optional_string = [&](std::string_view key) {
    const json::value* s = o.if_contains(key);
    if (s == nullptr) return std::string();
    if (!s->is_string()) throw invalid("`paginate." + std::string(key) + "` must be a string");
    return std::string(s->get_string());
  };
  p.items_path = optional_string("items_path");
  if (type == "link") {
    p.type = PaginationType::link;
  } else if (type == "cursor") {
    p.type = PaginationType::cursor;
    p.cursor_path = required_string(o, "cursor_path", "`paginate` of type cursor");
    p.param = required_string(o, "param", "`paginate` of type cursor");
  } else if (type == "next_url") {
    p.type = PaginationType::next_url;
    p.next_path = required_string(o, "next_path", "`paginate` of type next_url");
  } else {
    throw invalid("unknown pagination type `" + type + "`; use link, cursor or next_url");
  }
  return p;
}

}  // namespace detail

// Reads http.request's input (and the connection's credentials, when any). Throws StepError
// (not retryable) naming the offending field.
inline RequestSpec build_request(const json::object& input,
                                 const std::optional<json::object>& credentials) {
  RequestSpec spec;
  sdk::HttpRequest& req = spec.request;

  if (const auto* m = input.if_contains("method")) {
    if (!m->is_string() || m->get_string().empty())
      throw detail::invalid("`method` must be a string such as GET");
    req.method.clear();
    for (const char c : m->get_string()) {
      const char u = ascii_upper(c);
      if (u < 'A' || u > 'Z') throw detail::invalid("`method` must be letters only, such as POST");
      req.method += u;
    }
  }

  req.url = detail::required_string(input, "url", "http.request");
  if (!istarts_with(req.url, "http://") && !istarts_with(req.url, "https://")) {
    throw detail::invalid("`url` must start with http:// or https://");
  }
  if (const auto* q = input.if_contains("query")) {
    if (!q->is_object()) throw detail::invalid("`query` must be an object");
    req.url = append_query(req.url, encode_pairs(q->get_object(), false));
  }

  bool has_content_type = false;
  if (const auto* h = input.if_contains("headers")) {
    if (!h->is_object()) throw detail::invalid("`headers` must be an object");
    for (const auto& [name, value] : h->get_object()) {
      if (value.is_null()) continue;
      if (iequals(name, "content-type")) has_content_type = true;
      req.headers.emplace_back(std::string(name), scalar_text(value));
      spec.masked_headers.emplace_back(std::string(name), scalar_text(value));
    }
  }

  int bodies = 0;
  std::string content_type;
  if (const auto* j = input.if_contains("json")) {
    ++bodies;
    req.body = json::serialize(*j);
    content_type = "application/json";
  }
  if (const auto* f = input.if_contains("form")) {
    ++bodies;
    if (!f->is_object()) throw detail::invalid("`form` must be an object");
    req.body = encode_pairs(f->get_object(), true);
    content_type = "application/x-www-form-urlencoded";
  }
  if (const auto* b = input.if_contains("body")) {
    ++bodies;
    if (!b->is_string()) throw detail::invalid("`body` must be a string; use `json` for JSON");
    req.body = std::string(b->get_string());
  }
  if (bodies > 1) throw detail::invalid("give at most one of `json`, `form` and `body`");
  if (!content_type.empty() && !has_content_type) {
    req.headers.emplace_back("Content-Type", content_type);
    spec.masked_headers.emplace_back("Content-Type", content_type);
  }

  if (credentials) detail::apply_auth(*credentials, spec);

  if (const auto* t = input.if_contains("timeout")) {
    req.timeout = std::chrono::milliseconds(detail::duration_ms(*t));
    if (req.timeout.count() > 0xFFFFFFFFLL) throw detail::invalid("`timeout` is too long");
  }
  if (const auto* f = input.if_contains("follow_redirects")) {
    if (!f->is_bool()) throw detail::invalid("`follow_redirects` must be true or false");
    req.follow_redirects = f->get_bool();
  }
  req.retry_throttled = true;
  if (const auto* r = input.if_contains("retry_throttled")) {
    if (!r->is_bool()) throw detail::invalid("`retry_throttled` must be true or false");
    req.retry_throttled = r->get_bool();
  }

  if (const auto* e = input.if_contains("expect_status")) {
    const json::array* list = e->if_array();
    if (list == nullptr) throw detail::invalid("`expect_status` must be a list such as [200, 404]");
    for (const auto& s : *list) {
      if (s.is_int64() && s.get_int64() >= 100 && s.get_int64() <= 599) {
        spec.expect_status.push_back(std::to_string(s.get_int64()));
      } else if (s.is_string() && s.get_string().size() == 3) {
        spec.expect_status.emplace_back(s.get_string());
      } else {
        throw detail::invalid("`expect_status` entries must be statuses such as 200 or \"2xx\"");
      }
    }
  }

  if (const auto* r = input.if_contains("response")) {
    const std::string_view mode = r->is_string() ? std::string_view(r->get_string()) : "";
    if (mode == "json")
      spec.response = ResponseMode::json_body;
    else if (mode == "text")
      spec.response = ResponseMode::text;
    else if (mode == "auto")
      spec.response = ResponseMode::automatic;
    else
      throw detail::invalid("`response` must be json, text or auto");
  }

  std::int64_t max_pages = kDefaultMaxPages;
  if (const auto* m = input.if_contains("max_pages")) {
    if (!m->is_int64() || m->get_int64() < 1)
      throw detail::invalid("`max_pages` must be a positive integer");
    max_pages = m->get_int64();
  }
  if (const auto* p = input.if_contains("paginate"); p != nullptr && !p->is_null()) {
    spec.pagination = detail::parse_pagination(*p, max_pages);
  }
  return spec;
}

// The response body as http.request outputs it: parsed JSON or text per `mode`. Throws
// StepError when `json` was asked for and the body is not JSON.
inline json::value parse_body(const sdk::HttpResponse& response, ResponseMode mode) {
  const bool want_json = mode == ResponseMode::json_body ||
                         (mode == ResponseMode::automatic &&
                          is_json_content_type(response.header("content-type").value_or("")));
  if (!want_json) return json::string(response.body);
  if (response.body.empty()) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(response.body, ec);
  if (!ec) return v;
  if (mode == ResponseMode::json_body) {
    throw sdk::StepError("http.request: the response is not JSON (" + ec.message() + ")", false);
  }
  return json::string(response.body);
}

// Response headers as an object with lower-case names; repeated headers joined by ", ".
inline json::object headers_object(const sdk::Headers& headers) {
  json::object out;
  for (const auto& [name, value] : headers) {
    std::string key;
    for (const char c : name) key += ascii_lower(c);
    if (auto* existing = out.if_contains(key); existing != nullptr && existing->is_string()) {
      existing->get_string().append(", ").append(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

// A page's items: at `items_path`, else the body itself when it is an array, else nothing.
inline const json::array* page_items(const json::value& body, const Pagination& p) {
  const json::value* at = p.items_path.empty() ? &body : find_path(body, p.items_path);
  return at != nullptr ? at->if_array() : nullptr;
}

// The next page's URL, or nullopt at the last page.
inline std::optional<std::string> next_page_url(const std::string& current_url,
                                                const sdk::HttpResponse& response,
                                                const json::value& body, const Pagination& p) {
  switch (p.type) {
    case PaginationType::none:
      return std::nullopt;
    case PaginationType::link: {
      const auto link = response.header("link");
      if (!link) return std::nullopt;
      const auto next = link_next(*link);
      if (!next) return std::nullopt;
      return resolve_url(current_url, *next);
    }
    case PaginationType::cursor: {
      const json::value* cursor = find_path(body, p.cursor_path);
      if (cursor == nullptr || cursor->is_null() ||
          (cursor->is_string() && cursor->get_string().empty())) {
        return std::nullopt;
      }
      return set_query_param(current_url, p.param, scalar_text(*cursor));
    }
    case PaginationType::next_url: {
      const json::value* next = find_path(body, p.next_path);
      if (next == nullptr || !next->is_string() || next->get_string().empty()) return std::nullopt;
      return resolve_url(current_url, std::string(next->get_string()));
    }
  }
  return std::nullopt;
}

}  // namespace flowpilot::http_plugin
