// The router and the request/response values, without sockets.
#include "web/router.h"
#include "web/routes.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace flowpilot::web {
namespace {

boost::json::object body_of(const Response& r) { return boost::json::parse(r.body).as_object(); }

Router sample_router() {
  Router router;
  router.add(Method::kGet, "/runs/{id}", Access::open(), [](const Request& req) {
    return json_response(200, boost::json::object{{"id", req.params.at("id")}, {"path", req.path}});
  });
  router.add(Method::kGet, "/runs/active", Access::open(), [](const Request&) {
    return json_response(200, boost::json::object{{"active", true}});
  });
  router.add(Method::kPost, "/runs", Access::open(), [](const Request& req) {
    return json_response(201, boost::json::object{{"body", req.body}});
  });
  router.add(Method::kDelete, "/runs/{id}", Access::open(), [](const Request&) { return Response{204, {}, {}}; });
  router.add(Method::kGet, "/boom", Access::open(), [](const Request&) -> Response {
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

TEST(Router, AProblemAboutAPathOfAnyBytesIsStillJson) {
  // %FF decodes to a byte that is not UTF-8; quoted raw, it would make the answer invalid JSON.
  auto r = sample_router().handle(make_request("GET", "/nope/%FF%0A"));
  EXPECT_EQ(r.status, 404);
  const auto body = body_of(r);  // parses: the answer is valid JSON
  EXPECT_EQ(body.at("instance"), "/nope/%FF%0A");
  EXPECT_EQ(body.at("detail"), "no resource at /nope/\\xff\n");
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
  EXPECT_THROW(router.add(Method::kGet, "runs", Access::open(), ok), std::invalid_argument);
  EXPECT_THROW(router.add(Method::kGet, "/a//b", Access::open(), ok), std::invalid_argument);
  EXPECT_THROW(router.add(Method::kGet, "/a/{}", Access::open(), ok), std::invalid_argument);
  router.add(Method::kGet, "/", Access::open(), ok);
  EXPECT_EQ(router.handle(make_request("GET", "/")).status, 200);
}

TEST(Router, RestParameterTakesTheRemainingSegments) {
  Router router;
  router.add(Method::kGet, "/files/{path...}", Access::open(), [](const Request& req) {
    return json_response(200, boost::json::object{{"path", req.params.at("path")}});
  });
  router.add(Method::kGet, "/files/special", Access::open(), [](const Request&) {
    return json_response(200, boost::json::object{{"special", true}});
  });
  EXPECT_EQ(body_of(router.handle(make_request("GET", "/files/a.csv"))).at("path"), "a.csv");
  auto nested = router.handle(make_request("GET", "/files/up%20loads/2026/spend.csv"));
  EXPECT_EQ(body_of(nested).at("path"), "up loads/2026/spend.csv");
  EXPECT_EQ(body_of(router.handle(make_request("GET", "/files/uploads/"))).at("path"), "uploads");
  EXPECT_EQ(body_of(router.handle(make_request("GET", "/files/special"))).at("special"), true);
  // At least one segment, and the canonical form's rules hold inside the rest too.
  EXPECT_EQ(router.handle(make_request("GET", "/files")).status, 404);
  EXPECT_EQ(router.handle(make_request("GET", "/files/a/../b")).status, 400);
  EXPECT_EQ(router.handle(make_request("GET", "/files/a%2Fb")).status, 400);
  EXPECT_EQ(router.handle(make_request("GET", "/files/a//b")).status, 400);
  auto ok = [](const Request&) { return Response{}; };
  EXPECT_THROW(router.add(Method::kGet, "/x/{rest...}/y", Access::open(), ok), std::invalid_argument);
  EXPECT_THROW(router.add(Method::kGet, "/x/{...}", Access::open(), ok), std::invalid_argument);
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

TEST(AsyncRouter, HandleWaitsForAnAsyncReply) {
  Router router;
  router.add_async(Method::kGet, "/runs/{id}/wait", Access::open(), [](Request request, Reply reply) {
    reply(json_response(200, boost::json::object{{"id", request.params.at("id")}}));
  });
  auto r = router.handle(make_request("GET", "/runs/abc/wait"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r).at("id"), "abc");
}

TEST(AsyncRouter, ReplyFromAnotherThread) {
  Router router;
  std::vector<std::thread> workers;
  std::mutex workers_mutex;
  router.add_async(Method::kPost, "/later", Access::open(), [&](Request request, Reply reply) {
    std::lock_guard lock(workers_mutex);
    workers.emplace_back([body = request.body, reply = std::move(reply)] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      Response response;
      response.status = 202;
      response.body = body;
      reply(std::move(response));
    });
  });
  auto r = router.handle(make_request("POST", "/later", {}, "payload"));
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, "payload");
  for (auto& t : workers) t.join();
}

TEST(AsyncRouter, OnlyTheFirstReplyCounts) {
  Router router;
  Reply kept;
  router.add_async(Method::kGet, "/twice", Access::open(), [&kept](Request, Reply reply) {
    kept = reply;
    reply(Response{201, {}, "first"});
    reply(Response{202, {}, "second"});
  });
  std::vector<int> statuses;
  router.dispatch(make_request("GET", "/twice"),
                  [&statuses](Response r) { statuses.push_back(r.status); });
  kept(Response{203, {}, "third"});
  kept = nullptr;
  EXPECT_EQ(statuses, std::vector<int>{201});
}

TEST(AsyncRouter, SyncHandlersReplyBeforeDispatchReturns) {
  auto router = sample_router();
  int status = 0;
  router.dispatch(make_request("GET", "/runs/x"), [&status](Response r) { status = r.status; });
  EXPECT_EQ(status, 200);
  router.dispatch(make_request("GET", "/nope"), [&status](Response r) { status = r.status; });
  EXPECT_EQ(status, 404);
}

TEST(AsyncRouter, DroppedReplyGives500) {
  Router router;
  router.add_async(Method::kGet, "/forgets", Access::open(), [](Request, Reply) {});
  std::thread dropper;
  router.add_async(Method::kGet, "/forgets-later", Access::open(), [&dropper](Request, Reply reply) {
    dropper = std::thread([reply = std::move(reply)]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      reply = nullptr;  // destroyed without a call
    });
  });
  auto r = router.handle(make_request("GET", "/forgets"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.headers.get("Content-Type"), "application/problem+json");
  EXPECT_EQ(router.handle(make_request("GET", "/forgets-later")).status, 500);
  dropper.join();
}

TEST(AsyncRouter, ThrowingAsyncHandlerIs500UnlessItReplied) {
  Router router;
  router.add_async(Method::kGet, "/throws", Access::open(), [](Request, Reply) -> void {
    throw std::runtime_error("secret internal detail");
  });
  router.add_async(Method::kGet, "/replies-then-throws", Access::open(), [](Request, Reply reply) -> void {
    reply(Response{204, {}, {}});
    throw std::runtime_error("late");
  });
  auto r = router.handle(make_request("GET", "/throws"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  EXPECT_EQ(router.handle(make_request("GET", "/replies-then-throws")).status, 204);
}

TEST(AsyncRouter, HeadOnAnAsyncGetKeepsTheLength) {
  Router router;
  router.add_async(Method::kGet, "/doc", Access::open(), [](Request, Reply reply) {
    reply(Response{200, {}, "twelve bytes"});
  });
  auto head = router.handle(make_request("HEAD", "/doc"));
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.headers.get("Content-Length"), "12");
}

TEST(AsyncRouter, HeadOnAStreamedGetKeepsTheProducer) {
  Router router;
  router.add(Method::kGet, "/events", Access::open(), [](const Request&) {
    Response response;
    response.headers.set("Content-Type", "text/event-stream");
    response.stream = [](std::shared_ptr<StreamSink> sink) { sink->close(); };
    return response;
  });
  auto head = router.handle(make_request("HEAD", "/events"));
  EXPECT_TRUE(static_cast<bool>(head.stream));  // the server decides not to call it
  EXPECT_FALSE(head.headers.get("Content-Length").has_value());
}

class ObservedRouter : public ::testing::Test {
 protected:
  void SetUp() override {
    router_ = sample_router();
    router_.add_async(Method::kGet, "/slow", Access::open(), [this](Request, Reply reply) {
      std::lock_guard lock(mutex_);
      workers_.emplace_back([reply = std::move(reply)] {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        reply(Response{});
      });
    });
    router_.set_observer([this](const RequestSummary& summary) {
      std::lock_guard lock(mutex_);
      seen_.push_back(summary);
    });
  }

  void TearDown() override {
    for (auto& t : workers_) t.join();
  }

  RequestSummary last() {
    std::lock_guard lock(mutex_);
    return seen_.empty() ? RequestSummary{} : seen_.back();
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return seen_.size();
  }

  Router router_;
  std::mutex mutex_;
  std::vector<RequestSummary> seen_;
  std::vector<std::thread> workers_;  // guarded by mutex_ while requests run
};

TEST_F(ObservedRouter, SeesTheRoutePatternAndStatus) {
  router_.handle(make_request("GET", "/runs/abc/"));
  auto s = last();
  EXPECT_EQ(s.method, Method::kGet);
  EXPECT_EQ(s.method_text, "GET");
  EXPECT_EQ(s.route, "/runs/{id}");
  EXPECT_EQ(s.path, "/runs/abc");
  EXPECT_EQ(s.status, 200);
  EXPECT_GE(s.seconds, 0.0);

  router_.handle(make_request("DELETE", "/runs/abc"));
  EXPECT_EQ(last().route, "/runs/{id}");
  EXPECT_EQ(last().status, 204);

  router_.handle(make_request("HEAD", "/runs/active"));
  EXPECT_EQ(last().route, "/runs/active");
  EXPECT_EQ(last().method_text, "HEAD");

  router_.handle(make_request("GET", "/boom"));
  EXPECT_EQ(last().route, "/boom");
  EXPECT_EQ(last().status, 500);
  EXPECT_EQ(count(), 4u);
}

TEST_F(ObservedRouter, SeesUnmatchedRequestsWithAnEmptyRoute) {
  router_.handle(make_request("GET", "/nope"));
  EXPECT_EQ(last().route, "");
  EXPECT_EQ(last().status, 404);
  EXPECT_EQ(last().path, "/nope");
  router_.handle(make_request("PATCH", "/runs"));
  EXPECT_EQ(last().route, "");
  EXPECT_EQ(last().status, 405);
  EXPECT_EQ(last().method, Method::kPatch);
  router_.handle(make_request("GET", "/a/%2e%2e/b"));
  EXPECT_EQ(last().route, "");
  EXPECT_EQ(last().status, 400);
  EXPECT_EQ(last().path, "/a/%2e%2e/b");  // not canonicalisable: the raw path
  EXPECT_EQ(count(), 3u);
}

TEST_F(ObservedRouter, TimesAsyncRequestsUntilTheReply) {
  auto r = router_.handle(make_request("GET", "/slow"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(count(), 1u);  // observed before the reply is passed on
  EXPECT_EQ(last().route, "/slow");
  EXPECT_GE(last().seconds, 0.025);
}

TEST_F(ObservedRouter, AThrowingObserverDoesNotCostTheResponse) {
  router_.set_observer([](const RequestSummary&) { throw std::runtime_error("metrics down"); });
  EXPECT_EQ(router_.handle(make_request("GET", "/runs/x")).status, 200);
}

TEST(RequestId, GeneratedWhenMissingAndEchoedOnEveryResponse) {
  Router router;
  std::string seen_by_handler;
  router.add(Method::kGet, "/id", Access::open(), [&seen_by_handler](const Request& request) {
    seen_by_handler = request.request_id;
    return Response{};
  });
  auto r = router.handle(make_request("GET", "/id"));
  ASSERT_TRUE(r.headers.get("X-Request-Id").has_value());
  const std::string id(*r.headers.get("X-Request-Id"));
  EXPECT_EQ(id, seen_by_handler);
  ASSERT_EQ(id.size(), 16u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  auto again = router.handle(make_request("GET", "/id"));
  EXPECT_NE(again.headers.get("X-Request-Id"), id);
  for (const char* target : {"/nope", "/a/..", "/id/"}) {
    auto other = router.handle(make_request(target == std::string("/id/") ? "POST" : "GET",
                                            target));
    EXPECT_EQ(other.headers.get("X-Request-Id").value_or("").size(), 16u) << target;
  }
}

TEST(RequestId, AWellFormedClientIdIsKept) {
  Router router;
  std::string seen_by_handler;
  router.add_async(Method::kGet, "/id", Access::open(), [&seen_by_handler](Request request, Reply reply) {
    seen_by_handler = request.request_id;
    reply(Response{});
  });
  const std::string longest(64, 'a');
  for (const std::string& id : {std::string("abc-123_X.y"), longest, std::string("7")}) {
    Headers headers;
    headers.set("x-request-id", id);
    auto r = router.handle(make_request("GET", "/id", headers));
    EXPECT_EQ(r.headers.get("X-Request-Id"), id);
    EXPECT_EQ(seen_by_handler, id);
    EXPECT_EQ(router.handle(make_request("GET", "/nope", headers)).headers.get("X-Request-Id"),
              id);
  }
}

TEST(RequestId, AMalformedClientIdIsReplaced) {
  Router router;
  router.add(Method::kGet, "/id", Access::open(), [](const Request&) { return Response{}; });
  for (const std::string& id : {std::string(65, 'a'), std::string(""), std::string("a b"),
                                std::string("id\r\nX-Evil: 1"), std::string("caf\xC3\xA9"),
                                std::string("a/b"), std::string("{json}")}) {
    Headers headers;
    headers.set("X-Request-Id", id);
    auto r = router.handle(make_request("GET", "/id", headers));
    const auto echoed = r.headers.get("X-Request-Id");
    ASSERT_TRUE(echoed.has_value());
    EXPECT_NE(*echoed, id);
    EXPECT_EQ(echoed->size(), 16u);
  }
}

}  // namespace
}  // namespace flowpilot::web
