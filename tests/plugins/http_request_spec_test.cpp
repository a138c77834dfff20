// http.request's rules without a network: input → request, auth, statuses, pagination.
#include <gtest/gtest.h>

#include "plugins/http/request_spec.h"

namespace {

namespace json = boost::json;
namespace sdk = flowpilot::sdk;
namespace hp = flowpilot::http_plugin;

hp::RequestSpec build(std::string_view input,
                      std::optional<json::object> credentials = std::nullopt) {
  return hp::build_request(json::parse(input).as_object(), credentials);
}

std::string header(const sdk::Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (hp::iequals(k, name)) return v;
  }
  return "";
}

TEST(HttpRequestSpec, DefaultsAndQuery) {
  const auto spec = build(R"({"url":"https://api.example.com/v1/items?x=1#top",
                              "query":{"q":"a b&c","ids":[1,2],"skip":null,"on":true}})");
  EXPECT_EQ(spec.request.method, "GET");
  EXPECT_EQ(spec.request.url,
            "https://api.example.com/v1/items?x=1&q=a%20b%26c&ids=1&ids=2&on=true#top");
  EXPECT_TRUE(spec.request.retry_throttled);
  EXPECT_FALSE(spec.request.follow_redirects);
  EXPECT_EQ(spec.request.timeout.count(), 0);
  EXPECT_EQ(spec.response, hp::ResponseMode::automatic);
  EXPECT_EQ(spec.pagination.type, hp::PaginationType::none);
}

TEST(HttpRequestSpec, Bodies) {
  auto spec = build(R"({"method":"post","url":"https://x.test/","json":{"a":[1,"two"]}})");
  EXPECT_EQ(spec.request.method, "POST");
  EXPECT_EQ(spec.request.body, R"({"a":[1,"two"]})");
  EXPECT_EQ(header(spec.request.headers, "content-type"), "application/json");

  spec = build(R"({"method":"PUT","url":"https://x.test/","form":{"name":"Ada L","n":3}})");
  EXPECT_EQ(spec.request.body, "name=Ada+L&n=3");
  EXPECT_EQ(header(spec.request.headers, "content-type"), "application/x-www-form-urlencoded");

  spec = build(
      R"({"url":"https://x.test/","body":"raw","headers":{"Content-Type":"text/csv","X-N":5}})");
  EXPECT_EQ(spec.request.body, "raw");
  EXPECT_EQ(header(spec.request.headers, "content-type"), "text/csv");
  EXPECT_EQ(header(spec.request.headers, "x-n"), "5");

  // A header the author set wins over the default content type.
  spec = build(
      R"({"url":"https://x.test/","json":{},"headers":{"content-type":"application/vnd+json"}})");
  EXPECT_EQ(spec.request.headers.size(), 1u);

  EXPECT_THROW(build(R"({"url":"https://x.test/","json":{},"body":"x"})"), sdk::StepError);
  EXPECT_THROW(build(R"({"url":"ftp://x.test/"})"), sdk::StepError);
  EXPECT_THROW(build(R"({"url":"file:///etc/passwd"})"), sdk::StepError);
  EXPECT_THROW(build(R"({"method":"GET\r\nX: y","url":"https://x.test/"})"), sdk::StepError);
  EXPECT_THROW(build(R"({})"), sdk::StepError);
}

TEST(HttpRequestSpec, OptionsParse) {
  const auto spec = build(R"({"url":"https://x.test/","timeout":"1m30s","follow_redirects":true,
                              "retry_throttled":false,"expect_status":[200,404,"3xx"],
                              "response":"text"})");
  EXPECT_EQ(spec.request.timeout.count(), 90'000);
  EXPECT_TRUE(spec.request.follow_redirects);
  EXPECT_FALSE(spec.request.retry_throttled);
  EXPECT_EQ(spec.response, hp::ResponseMode::text);
  EXPECT_TRUE(hp::status_expected(404, spec.expect_status));
  EXPECT_TRUE(hp::status_expected(302, spec.expect_status));
  EXPECT_FALSE(hp::status_expected(201, spec.expect_status));
  EXPECT_THROW(build(R"({"url":"https://x.test/","timeout":"soon"})"), sdk::StepError);
  EXPECT_THROW(build(R"({"url":"https://x.test/","response":"xml"})"), sdk::StepError);
  EXPECT_THROW(build(R"({"url":"https://x.test/","max_pages":0})"), sdk::StepError);
}

TEST(HttpRequestSpec, AuthFromCredentialsIsSecretAndMasked) {
  auto spec = build(R"({"url":"https://x.test/"})",
                    json::parse(R"({"type":"bearer","token":"tok-123"})").as_object());
  EXPECT_EQ(header(spec.request.headers, "authorization"), "Bearer tok-123");
  EXPECT_EQ(header(spec.masked_headers, "authorization"), "***");
  EXPECT_NE(std::find(spec.request.secrets.begin(), spec.request.secrets.end(), "tok-123"),
            spec.request.secrets.end());

  spec = build(
      R"({"url":"https://x.test/"})",
      json::parse(R"({"type":"basic","username":"Aladdin","password":"open sesame"})").as_object());
  EXPECT_EQ(header(spec.request.headers, "authorization"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_NE(std::find(spec.request.secrets.begin(), spec.request.secrets.end(), "open sesame"),
            spec.request.secrets.end());

  spec = build(R"({"url":"https://x.test/"})",
               json::parse(R"({"type":"header","name":"X-Api-Key","value":"k"})").as_object());
  EXPECT_EQ(header(spec.request.headers, "x-api-key"), "k");
  EXPECT_EQ(header(spec.masked_headers, "x-api-key"), "***");

  EXPECT_THROW(
      build(R"({"url":"https://x.test/"})", json::parse(R"({"type":"oauth1"})").as_object()),
      sdk::StepError);
  EXPECT_EQ(hp::mask_secrets("GET https://x.test/?key=k123&a=k123", {"k123"}),
            "GET https://x.test/?key=***&a=***");
}

TEST(HttpRequestSpec, Base64) {
  EXPECT_EQ(hp::base64(""), "");
  EXPECT_EQ(hp::base64("f"), "Zg==");
  EXPECT_EQ(hp::base64("fo"), "Zm8=");
  EXPECT_EQ(hp::base64("foo"), "Zm9v");
  EXPECT_EQ(hp::base64("foobar"), "Zm9vYmFy");
}

TEST(HttpRequestSpec, StatusClassification) {
  EXPECT_TRUE(hp::status_expected(204, {}));
  EXPECT_FALSE(hp::status_expected(301, {}));
  EXPECT_TRUE(hp::status_retryable(429));
  EXPECT_TRUE(hp::status_retryable(408));
  EXPECT_TRUE(hp::status_retryable(503));
  EXPECT_FALSE(hp::status_retryable(404));
  EXPECT_FALSE(hp::status_retryable(400));
  EXPECT_EQ(hp::retry_after(" 12 ").count(), 12'000);
  EXPECT_EQ(hp::retry_after("Wed, 21 Oct 2015 07:28:00 GMT").count(), 0);
}

TEST(HttpRequestSpec, ResponseParsing) {
  sdk::HttpResponse r;
  r.status = 200;
  r.headers = {{"content-type", "application/problem+json; charset=utf-8"}};
  r.body = R"({"a":1})";
  EXPECT_EQ(hp::parse_body(r, hp::ResponseMode::automatic), (json::value{{"a", 1}}));
  EXPECT_EQ(hp::parse_body(r, hp::ResponseMode::text), json::value(R"({"a":1})"));
  r.headers = {{"content-type", "text/plain"}};
  EXPECT_EQ(hp::parse_body(r, hp::ResponseMode::automatic), json::value(R"({"a":1})"));
  EXPECT_EQ(hp::parse_body(r, hp::ResponseMode::json_body), (json::value{{"a", 1}}));
  r.body = "<html>";
  EXPECT_THROW(hp::parse_body(r, hp::ResponseMode::json_body), sdk::StepError);
  r.headers = {{"Content-Type", "application/json"}};
  EXPECT_EQ(hp::parse_body(r, hp::ResponseMode::automatic), json::value("<html>"));

  const auto h = hp::headers_object({{"Set-Cookie", "a=1"}, {"set-cookie", "b=2"}, {"X-Id", "7"}});
  EXPECT_EQ(h.at("set-cookie"), "a=1, b=2");
  EXPECT_EQ(h.at("x-id"), "7");
}

TEST(HttpRequestSpec, LinkHeader) {
  EXPECT_EQ(
      hp::link_next(
          R"(<https://api.x/items?page=2>; rel="next", <https://api.x/items?page=9>; rel="last")"),
      "https://api.x/items?page=2");
  EXPECT_EQ(hp::link_next(R"(<https://api.x/p1>; rel="prev", <https://api.x/p3>; rel=next)"),
            "https://api.x/p3");
  EXPECT_EQ(hp::link_next(R"(<https://api.x/p3>; title="a, b"; rel="nofollow next")"),
            "https://api.x/p3");
  EXPECT_FALSE(hp::link_next(R"(<https://api.x/p1>; rel="prev")"));
  EXPECT_FALSE(hp::link_next(""));
  EXPECT_FALSE(hp::link_next("garbage <unclosed"));
  EXPECT_EQ(hp::resolve_url("https://api.x/v1/items?page=1", "/v1/items?page=2"),
            "https://api.x/v1/items?page=2");
  EXPECT_EQ(hp::resolve_url("https://api.x/v1/items?page=1", "items?page=2"),
            "https://api.x/v1/items?page=2");
  EXPECT_EQ(hp::resolve_url("https://api.x/v1/items", "//cdn.x/a"), "https://cdn.x/a");
}

TEST(HttpRequestSpec, CursorAndNextUrlPagination) {
  auto spec = build(R"({"url":"https://graph.x/ads?limit=2&after=old",
                        "paginate":{"type":"cursor","cursor_path":"paging.cursors.after",
                                    "param":"after","items_path":"data"},"max_pages":3})");
  EXPECT_EQ(spec.pagination.max_pages, 3);
  sdk::HttpResponse r;
  json::value body =
      json::parse(R"({"data":[{"id":1},{"id":2}],"paging":{"cursors":{"after":"c 2"}}})");
  ASSERT_NE(hp::page_items(body, spec.pagination), nullptr);
  EXPECT_EQ(hp::page_items(body, spec.pagination)->size(), 2u);
  EXPECT_EQ(hp::next_page_url(spec.request.url, r, body, spec.pagination),
            "https://graph.x/ads?limit=2&after=c%202");
  body = json::parse(R"({"data":[],"paging":{"cursors":{"after":""}}})");
  EXPECT_FALSE(hp::next_page_url(spec.request.url, r, body, spec.pagination));

  spec =
      build(R"({"url":"https://graph.x/ads","paginate":{"type":"next_url","next_path":"paging.next",
                                                            "items_path":"data"}})");
  body = json::parse(R"({"data":[1],"paging":{"next":"https://graph.x/ads?p=2"}})");
  EXPECT_EQ(hp::next_page_url(spec.request.url, r, body, spec.pagination),
            "https://graph.x/ads?p=2");
  body = json::parse(R"({"data":[1],"paging":{}})");
  EXPECT_FALSE(hp::next_page_url(spec.request.url, r, body, spec.pagination));

  spec = build(R"({"url":"https://api.x/items","paginate":{"type":"link"}})");
  r.headers = {{"link", R"(</items?page=2>; rel="next")"}};
  body = json::parse("[1,2,3]");
  EXPECT_EQ(hp::page_items(body, spec.pagination)->size(), 3u);
  EXPECT_EQ(hp::next_page_url(spec.request.url, r, body, spec.pagination),
            "https://api.x/items?page=2");

  EXPECT_THROW(build(R"({"url":"https://x/","paginate":{"type":"cursor"}})"), sdk::StepError);
  EXPECT_THROW(build(R"({"url":"https://x/","paginate":{"type":"offset"}})"), sdk::StepError);
}

TEST(HttpRequestSpec, FindPath) {
  const json::value v = json::parse(R"({"a":{"b":[10,{"c":"x"}]}})");
  EXPECT_EQ(*hp::find_path(v, "a.b.0"), 10);
  EXPECT_EQ(*hp::find_path(v, "a.b.1.c"), "x");
  EXPECT_EQ(hp::find_path(v, "a.b.2"), nullptr);
  EXPECT_EQ(hp::find_path(v, "a.z"), nullptr);
  EXPECT_EQ(hp::find_path(v, "a.b.-1"), nullptr);
}

}  // namespace
