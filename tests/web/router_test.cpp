// The router and the request/response values, without sockets.
#include "web/router.h"
#include "web/routes.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace flowpilot::web {
namespace {

boost::json::object body_of(const Response& r) { return boost::json::parse(r.body).as_object(); }

Router sample_router() {
  Router router;
  router.add(Method::kGet, "/runs/{id}", [](const Request& req) {
    return json_response(200, boost::json::object{{"id", req.params.at("id")}, {"path", req.path}});
  });
  router.add(Method::kGet, "/runs/active", [](const Request&) {
    return json_response(200, boost::json::object{{"active", true}});
  });
  router.add(Method::kPost, "/runs", [](const Request& req) {
    return json_response(201, boost::json::object{{"body", req.body}});
  });
  router.add(Method::kDelete, "/runs/{id}", [](const Request&) { return Response{204, {}, {}}; });
  router.add(Method::kGet, "/boom", [](const Request&) -> Response {
    throw std::runtime_error("secret internal detail");
  });
  return router;
}

TEST(ProblemJson, HasRfc9457FieldsAndExtras) {
  auto r = problem_json(422, "Invalid workflow", "steps[2].uses is unknown",
                        {{"instance", "/api/v1/workflows"},
                         {"errors", boost::json::array{"a"}},
                         {"status", 999}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.headers.get("content-type"), "application/problem+json");
  auto body = body_of(r);
  EXPECT_EQ(body.at("type"), "about:blank");
  EXPECT_EQ(body.at("title"), "Invalid workflow");
  EXPECT_EQ(body.at("status"), 422);  // an extra "status" cannot override the real one
  EXPECT_EQ(body.at("detail"), "steps[2].uses is unknown");
  EXPECT_EQ(body.at("instance"), "/api/v1/workflows");
  EXPECT_EQ(body.at("errors").as_array().size(), 1u);
  auto typed = problem_json(400, "t", "d", {{"type", "https://flowpilot.dev/problems/x"}});
  EXPECT_EQ(body_of(typed).at("type"), "https://flowpilot.dev/problems/x");
}

TEST(HttpTypes, RequestSplitsTargetAndDecodesQuery) {
  auto req = make_request("GET", "/a/b?x=1&name=hello+w%C3%B6rld&bad=%zz");
  EXPECT_EQ(req.raw_path, "/a/b");
  EXPECT_EQ(req.query_value("x"), "1");
  EXPECT_EQ(req.query_value("name"), "hello w\xC3\xB6rld");
  EXPECT_EQ(req.query_value("bad"), std::nullopt);
  EXPECT_EQ(req.query_value("missing"), std::nullopt);
  Headers h;
  h.add("X-One", "1");
  EXPECT_EQ(h.get("x-one"), "1");
  h.set("x-ONE", "2");
  EXPECT_EQ(h.fields().size(), 1u);
  EXPECT_EQ(h.get("X-One"), "2");
  EXPECT_EQ(percent_decode("%4"), std::nullopt);
  EXPECT_EQ(percent_decode("a%2Fb"), "a/b");
}

TEST(Router, UnknownPathIs404Problem) {
  auto r = sample_router().handle(make_request("GET", "/nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers.get("Content-Type"), "application/problem+json");
  EXPECT_EQ(body_of(r).at("instance"), "/nope");
}

TEST(Router, OtherMethodIs405WithAllow) {
  auto r = sample_router().handle(make_request("PUT", "/runs/abc"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.get("Allow"), "GET, HEAD, DELETE");
  EXPECT_EQ(body_of(r).at("status"), 405);
  auto post_only = sample_router().handle(make_request("GET", "/runs"));
  EXPECT_EQ(post_only.status, 405);
  EXPECT_EQ(post_only.headers.get("Allow"), "POST");
}

TEST(Router, ParamsAreDecodedAndLiteralsWin) {
  auto router = sample_router();
  auto r = router.handle(make_request("GET", "/runs/r%20one"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r).at("id"), "r one");
  auto active = router.handle(make_request("GET", "/runs/active"));
  EXPECT_EQ(body_of(active).at("active"), true);
  auto post = router.handle(make_request("POST", "/runs", {}, "payload"));
  EXPECT_EQ(post.status, 201);
  EXPECT_EQ(body_of(post).at("body"), "payload");
}

TEST(Router, HeadRunsGetWithoutBody) {
  auto router = sample_router();
  auto get = router.handle(make_request("GET", "/runs/x"));
  auto head = router.handle(make_request("HEAD", "/runs/x"));
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.headers.get("Content-Length"), std::to_string(get.body.size()));
  EXPECT_EQ(head.headers.get("Content-Type"), "application/json");
  EXPECT_EQ(router.handle(make_request("HEAD", "/nope")).status, 404);
}

TEST(Router, DotSegmentsAreRefusedEvenEncoded) {
  auto router = sample_router();
  for (const char* target : {"/runs/..", "/runs/%2e%2e", "/runs/%2E%2e/x", "/runs/.", "/runs/%2e",
                             "/a/../runs/x", "/runs/..%2f", "/runs/a%2fb", "/runs/%00",
                             "/runs//x", "/runs/%zz", "runs/x", "*",
                             "http://evil/runs/x"}) {
    auto r = router.handle(make_request("GET", target));
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_EQ(r.headers.get("Content-Type"), "application/problem+json") << target;
  }
}

TEST(Router, TrailingSlashIsTheSameRouteAndSuffixesAreNot) {
  auto router = sample_router();
  auto r = router.handle(make_request("GET", "/runs/x/"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r).at("path"), "/runs/x");  // handlers see the canonical form
  EXPECT_EQ(router.handle(make_request("GET", "/runs/active/")).status, 200);
  EXPECT_EQ(router.handle(make_request("GET", "/runs/x/.svg")).status, 404);
  EXPECT_EQ(router.handle(make_request("GET", "/runs/x//")).status, 400);
  // "/runs/active.svg" is a different id, never the literal route "/runs/active".
  EXPECT_EQ(body_of(router.handle(make_request("GET", "/runs/active.svg"))).at("id"),
            "active.svg");
}

TEST(Router, HandlerExceptionIs500WithoutItsMessage) {
  auto r = sample_router().handle(make_request("GET", "/boom"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

TEST(Router, BadPatternsAreRefused) {
  Router router;
  auto ok = [](const Request&) { return Response{}; };
  EXPECT_THROW(router.add(Method::kGet, "runs", ok), std::invalid_argument);
  EXPECT_THROW(router.add(Method::kGet, "/a//b", ok), std::invalid_argument);
  EXPECT_THROW(router.add(Method::kGet, "/a/{}", ok), std::invalid_argument);
  router.add(Method::kGet, "/", ok);
  EXPECT_EQ(router.handle(make_request("GET", "/")).status, 200);
}

TEST(HealthRoutes, HealthzAndReadyz) {
  bool ready = true;
  Router router;
  add_health_routes(router, [&ready] { return ready; });
  auto health = router.handle(make_request("GET", "/healthz"));
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"status":"ok"})");
  EXPECT_EQ(router.handle(make_request("GET", "/readyz")).status, 200);
  ready = false;
  auto not_ready = router.handle(make_request("GET", "/readyz"));
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(not_ready.headers.get("Content-Type"), "application/problem+json");
  EXPECT_TRUE(not_ready.headers.get("Retry-After").has_value());
  Router throwing;
  add_health_routes(throwing, []() -> bool { throw std::runtime_error("db gone"); });
  EXPECT_EQ(throwing.handle(make_request("GET", "/readyz")).status, 503);
}

}  // namespace
}  // namespace flowpilot::web
