// The http plugin: http.request, a generic HTTP call through the host's client (SSRF guard,
// timeouts, Retry-After handling and metrics live there), with authentication from the step's
// connection, response parsing and pagination. The rules are in request_spec.h.
#include <flowpilot/plugin.hpp>
#include <memory>
#include <string>
#include <utility>

#include "request_spec.h"

namespace {

namespace json = boost::json;
namespace sdk = flowpilot::sdk;
namespace hp = flowpilot::http_plugin;

constexpr std::size_t kErrorBodyChars = 300;

// The state of one call across its pages.
struct Exchange {
  hp::RequestSpec spec;
  json::array items;
  std::int64_t pages = 0;
};

// Ends the call with an error for an unexpected status or a missing response.
void fail_response(const sdk::Call& call, const Exchange& ex, const sdk::HttpResponse& response) {
  const std::string where = ex.spec.request.method + " " + ex.spec.request.url;
  if (response.status == 0) {
    // No answer: network trouble is worth another attempt; a refusal or cancellation is not.
    const bool refused = response.error.find("refused by") != std::string::npos ||
                         response.error.find("cancelled") != std::string::npos ||
                         response.error.find("not allowed") != std::string::npos;
    // The client's error already names the method and the URL.
    call.fail(hp::mask_secrets("http.request: " + response.error, ex.spec.request.secrets),
              !refused);
    return;
  }
  std::string snippet = response.body.substr(0, kErrorBodyChars);
  if (response.body.size() > kErrorBodyChars) snippet += "...";
  std::string message = "http.request: HTTP " + std::to_string(response.status) + " from " + where;
  if (!snippet.empty()) message += ": " + snippet;
  const auto wait = hp::retry_after(response.header("retry-after").value_or(""));
  call.fail(hp::mask_secrets(std::move(message), ex.spec.request.secrets),
            hp::status_retryable(response.status), wait);
}

void send_page(const sdk::Call& call, std::shared_ptr<Exchange> ex);

void on_response(sdk::Call& call, const std::shared_ptr<Exchange>& ex,
                 const sdk::HttpResponse& response) {
  if (!hp::status_expected(response.status, ex->spec.expect_status)) {
    fail_response(call, *ex, response);
    return;
  }
  json::value body = hp::parse_body(response, ex->spec.response);
  const hp::Pagination& pagination = ex->spec.pagination;
  if (pagination.type == hp::PaginationType::none) {
    call.complete(json::object{{"status", response.status},
                               {"headers", hp::headers_object(response.headers)},
                               {"body", std::move(body)}});
    return;
  }
  ++ex->pages;
  if (const json::array* items = hp::page_items(body, pagination)) {
    for (const auto& item : *items) ex->items.push_back(item);
  }
  const auto next = hp::next_page_url(ex->spec.request.url, response, body, pagination);
  if (!next || ex->pages >= pagination.max_pages) {
    if (next) call.log(sdk::Level::info, "http.request: stopped at max_pages with more pages left");
    call.complete(json::object{
        {"status", response.status}, {"pages", ex->pages}, {"items", std::move(ex->items)}});
    return;
  }
  if (call.cancelled()) {
    call.fail("http.request: cancelled between pages");
    return;
  }
  ex->spec.request.url = *next;
  send_page(call, ex);
}

void send_page(const sdk::Call& call, std::shared_ptr<Exchange> ex) {
  const sdk::HttpRequest& request = ex->spec.request;
  call.http(request, [ex = std::move(ex)](sdk::Call& done, const sdk::HttpResponse& response) {
    on_response(done, ex, response);
  });
}

json::value plan_of(const hp::RequestSpec& spec) {
  json::object headers;
  for (const auto& [name, value] : spec.masked_headers) headers[name] = value;
  json::object plan{{"method", spec.request.method},
                    {"url", hp::mask_secrets(spec.request.url, spec.request.secrets)},
                    {"headers", std::move(headers)}};
  if (!spec.request.body.empty()) {
    boost::system::error_code ec;
    json::value parsed = json::parse(spec.request.body, ec);
    plan["body"] = ec ? json::value(json::string(spec.request.body)) : std::move(parsed);
  } else {
    plan["body"] = nullptr;
  }
  return json::object{{"plan", std::move(plan)}};
}

constexpr const char* kInputSchema = R"({
  "type": "object",
  "required": ["url"],
  "properties": {
    "method": {"type": "string", "default": "GET"},
    "url": {"type": "string", "description": "absolute http(s) URL"},
    "headers": {"type": "object"},
    "query": {"type": "object", "description": "URL-encoded and appended to the URL"},
    "json": {"description": "body sent as JSON"},
    "form": {"type": "object", "description": "body sent as application/x-www-form-urlencoded"},
    "body": {"type": "string", "description": "body sent as is"},
    "timeout": {"type": ["string", "integer"], "description": "duration such as 30s; default 30s"},
    "follow_redirects": {"type": "boolean", "default": false},
    "retry_throttled": {"type": "boolean", "default": true},
    "expect_status": {"type": "array", "items": {"type": ["integer", "string"]},
                      "description": "statuses that succeed, such as [200, 404] or [\"2xx\"]; default any 2xx"},
    "response": {"enum": ["json", "text", "auto"], "default": "auto"},
    "paginate": {
      "type": "object",
      "required": ["type"],
      "properties": {
        "type": {"enum": ["link", "cursor", "next_url"]},
        "cursor_path": {"type": "string"},
        "param": {"type": "string"},
        "next_path": {"type": "string"},
        "items_path": {"type": "string"}
      },
      "additionalProperties": false
    },
    "max_pages": {"type": "integer", "minimum": 1, "default": 10}
  },
  "additionalProperties": false
})";

constexpr const char* kOutputSchema = R"({
  "type": "object",
  "properties": {
    "status": {"type": "integer"},
    "headers": {"type": "object"},
    "body": {},
    "pages": {"type": "integer"},
    "items": {"type": "array"},
    "plan": {"type": "object"}
  }
})";

}  // namespace

FLOWPILOT_PLUGIN("http", "1.0.0",
                 sdk::Step("request",
                           "Sends an HTTP request and returns the status, headers and body.")
                     .input_schema(kInputSchema)
                     .output_schema(kOutputSchema)
                     .flags(FP_STEP_SIDE_EFFECTS | FP_STEP_SUPPORTS_PLAN)
                     .start([](sdk::Call& call) {
                       auto ex = std::make_shared<Exchange>();
                       ex->spec = hp::build_request(call.input(), call.credentials());
                       // A dry run sends reads for real (GET, HEAD and OPTIONS change nothing by
                       // HTTP's definition) and only describes the requests that would write.
                       const std::string& method = ex->spec.request.method;
                       const bool reads = method == "GET" || method == "HEAD" || method == "OPTIONS";
                       if (call.plan_mode() && !reads) {
                         call.complete(plan_of(ex->spec));
                         return;
                       }
                       send_page(call, std::move(ex));
                     }))
