#include "engine/http/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/http/test_server.h"

// Every request here goes to a loopback test server or is refused before connecting: no test
// contacts a non-loopback address.
namespace flowpilot::engine {
namespace {

using std::chrono::milliseconds;
using test::ScriptedResponse;
using test::TestServer;

HttpClientOptions local_options(std::vector<std::string> allowed = {"127.0.0.1/32"}) {
  HttpClientOptions options;
  options.allowed_networks = std::move(allowed);
  options.default_timeout = milliseconds{10'000};
  return options;
}

HttpRequest get(std::string url) {
  HttpRequest request;
  request.url = std::move(url);
  return request;
}

HttpResponse fetch(HttpClient& client, HttpRequest request,
                   std::shared_ptr<std::atomic<bool>> cancel = nullptr) {
  auto promise = std::make_shared<std::promise<HttpResponse>>();
  auto future = promise->get_future();
  client.send(
      std::move(request),
      [promise](HttpResponse response) { promise->set_value(std::move(response)); },
      std::move(cancel));
  if (future.wait_for(std::chrono::seconds{30}) != std::future_status::ready) {
    ADD_FAILURE() << "no answer within 30 s";
    return {};
  }
  return future.get();
}

const std::string* header(const HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

// Counts callbacks from the client's thread.
class Completions {
 public:
  HttpClient::Done callback() {
    return [this](HttpResponse response) {
      const std::lock_guard lock(mutex_);
      responses_.push_back(std::move(response));
      changed_.notify_all();
    };
  }
  bool wait_for(std::size_t count, std::chrono::seconds limit) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return responses_.size() >= count; });
  }
  std::vector<HttpResponse> responses() {
    const std::lock_guard lock(mutex_);
    return responses_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<HttpResponse> responses_;
};

TEST(HttpClient, GetSendsHeadersAndReadsResponse) {
  TestServer server;
  server.on("/hello", {200, {{"X-Answer", "42"}, {"Content-Type", "text/plain"}}, "hi there"});
  HttpClient client(local_options());
  auto request = get(server.url("/hello?x=1"));
  request.headers = {{"X-Test", "yes"}, {"Accept", "text/plain"}};
  const auto response = fetch(client, request);
  EXPECT_EQ(response.error, "");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hi there");
  EXPECT_EQ(response.attempts, 1);
  ASSERT_NE(header(response, "x-answer"), nullptr);
  EXPECT_EQ(*header(response, "x-answer"), "42");
  EXPECT_NE(header(response, "content-type"), nullptr);

  const auto received = server.requests();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "GET");
  EXPECT_EQ(received[0].target, "/hello?x=1");
  ASSERT_NE(received[0].header("x-test"), nullptr);
  EXPECT_EQ(*received[0].header("x-test"), "yes");
  ASSERT_NE(received[0].header("user-agent"), nullptr);
  EXPECT_EQ(*received[0].header("user-agent"), "flowpilot/0.1");
}

TEST(HttpClient, PostPutDeleteCarryMethodAndBody) {
  TestServer server;
  HttpClient client(local_options());
  HttpRequest post = get(server.url("/echo"));
  post.method = "POST";
  post.body = std::string("{\"a\":1}\0tail", 12);
  post.headers = {{"Content-Type", "application/json"}};
  const auto posted = fetch(client, post);
  EXPECT_EQ(posted.status, 200);
  EXPECT_NE(posted.body.find("POST /echo"), std::string::npos);
  EXPECT_TRUE(posted.body.ends_with(post.body));

  HttpRequest put = get(server.url("/echo"));
  put.method = "PUT";
  put.body = "replacement";
  EXPECT_EQ(fetch(client, put).status, 200);

  HttpRequest remove = get(server.url("/echo"));
  remove.method = "DELETE";
  EXPECT_EQ(fetch(client, remove).status, 200);

  HttpRequest empty_post = get(server.url("/echo"));
  empty_post.method = "POST";
  EXPECT_EQ(fetch(client, empty_post).status, 200);

  const auto received = server.requests();
  ASSERT_EQ(received.size(), 4u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].body, post.body);
  EXPECT_EQ(*received[0].header("content-type"), "application/json");
  EXPECT_EQ(received[0].header("expect"), nullptr);
  EXPECT_EQ(received[1].method, "PUT");
  EXPECT_EQ(received[1].body, "replacement");
  EXPECT_EQ(received[2].method, "DELETE");
  EXPECT_EQ(received[2].body, "");
  EXPECT_EQ(received[3].method, "POST");
  EXPECT_EQ(*received[3].header("content-length"), "0");
}

TEST(HttpClient, RejectsHeaderInjectionAndBadMethods) {
  TestServer server;
  HttpClient client(local_options());
  auto request = get(server.url("/echo"));
  request.headers = {{"X-Evil", "a\r\nHost: elsewhere"}};
  EXPECT_NE(fetch(client, request).error.find("line break"), std::string::npos);
  request = get(server.url("/echo"));
  request.method = "GET /other";
  EXPECT_NE(fetch(client, request).error.find("invalid method"), std::string::npos);
  EXPECT_NE(fetch(client, get("not a url")).error.find("malformed URL"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 0u);
}

TEST(HttpClient, TimesOut) {
  TestServer server;
  server.on("/slow", {200, {}, "late", milliseconds{3000}});
  HttpClient client(local_options());
  auto request = get(server.url("/slow"));
  request.timeout = milliseconds{200};
  const auto response = fetch(client, request);
  EXPECT_EQ(response.status, 0);
  EXPECT_TRUE(response.error.starts_with("timed out after 200ms")) << response.error;
  EXPECT_LT(response.elapsed, milliseconds{2000});
}

TEST(HttpClient, DefaultTimeoutAppliesAndIsReported) {
  TestServer server;
  server.on("/slow", {200, {}, "late", milliseconds{3000}});
  auto options = local_options();
  options.default_timeout = milliseconds{1000};
  HttpClient client(options);
  const auto response = fetch(client, get(server.url("/slow")));
  EXPECT_TRUE(response.error.starts_with("timed out after 1s")) << response.error;
}

TEST(HttpClient, RefusesResponsesOverTheCap) {
  TestServer server;
  server.on("/big", {200, {}, std::string(4096, 'x')});
  server.on("/big-unannounced", {200, {}, std::string(200'000, 'x'), milliseconds{0}, false});
  server.on("/fits", {200, {}, std::string(1024, 'x')});
  auto options = local_options();
  options.max_response_bytes = 1024;
  HttpClient client(options);
  for (const auto* path : {"/big", "/big-unannounced"}) {
    const auto response = fetch(client, get(server.url(path)));
    EXPECT_EQ(response.status, 0) << path;
    EXPECT_TRUE(response.error.starts_with("response larger than 1024 bytes")) << response.error;
    EXPECT_EQ(response.body, "");
  }
  EXPECT_EQ(fetch(client, get(server.url("/fits"))).body.size(), 1024u);
}

TEST(HttpClient, RetriesTooManyRequestsAfterRetryAfter) {
  TestServer server;
  server.on_sequence("/limited", {{429, {{"Retry-After", "1"}}, "slow down"}, {200, {}, "ok"}});
  HttpClient client(local_options());
  auto request = get(server.url("/limited"));
  request.retry_throttled = true;
  const auto response = fetch(client, request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok");
  EXPECT_EQ(response.attempts, 2);
  EXPECT_GE(response.elapsed, milliseconds{1000});
  EXPECT_EQ(server.hits("/limited"), 2);
}

TEST(HttpClient, RetriesUnavailableWithBackoffThenGivesUp) {
  TestServer server;
  server.on_sequence("/flaky", {{503, {}, "down"}, {200, {}, "up"}});
  server.on("/down", {503, {}, "still down"});
  HttpClient client(local_options());
  Completions done;
  auto flaky = get(server.url("/flaky"));
  flaky.retry_throttled = true;
  auto down = get(server.url("/down"));
  down.retry_throttled = true;
  down.max_retries = 1;
  client.send(flaky, done.callback());
  client.send(down, done.callback());
  ASSERT_TRUE(done.wait_for(2, std::chrono::seconds{20}));
  for (const auto& response : done.responses()) {
    EXPECT_EQ(response.attempts, 2);
    EXPECT_GE(response.elapsed, milliseconds{1000});
    EXPECT_LT(response.elapsed, milliseconds{5000});
    if (response.status == 503) {
      EXPECT_EQ(response.body, "still down");
    } else {
      EXPECT_EQ(response.status, 200);
    }
  }
  EXPECT_EQ(server.hits("/down"), 2);
}

TEST(HttpClient, ThrottlingIsReturnedAsIsByDefault) {
  TestServer server;
  server.on("/limited", {429, {{"Retry-After", "1"}}, "slow down"});
  HttpClient client(local_options());
  const auto response = fetch(client, get(server.url("/limited")));
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.attempts, 1);
  EXPECT_EQ(response.body, "slow down");
  EXPECT_EQ(*header(response, "retry-after"), "1");
  EXPECT_EQ(server.hits("/limited"), 1);
}

TEST(HttpClient, RedirectsAreNotFollowedUnlessAsked) {
  TestServer server;
  server.on("/moved", {302, {{"Location", "/echo"}}, ""});
  HttpClient client(local_options());
  const auto plain = fetch(client, get(server.url("/moved")));
  EXPECT_EQ(plain.status, 302);
  EXPECT_EQ(*header(plain, "location"), "/echo");
  EXPECT_EQ(server.hits("/echo"), 0);

  auto follow = get(server.url("/moved"));
  follow.follow_redirects = true;
  follow.method = "POST";
  follow.body = "form";
  const auto followed = fetch(client, follow);
  EXPECT_EQ(followed.status, 200);
  // A 302 after a POST continues as a GET without body, as browsers and curl do.
  EXPECT_TRUE(followed.body.starts_with("GET /echo")) << followed.body;
  EXPECT_EQ(server.hits("/echo"), 1);
}

TEST(HttpClient, TemporaryRedirectKeepsMethodAndBody) {
  TestServer server;
  server.on("/moved", {307, {{"Location", "/echo"}}, ""});
  HttpClient client(local_options());
  auto request = get(server.url("/moved"));
  request.follow_redirects = true;
  request.method = "POST";
  request.body = "payload";
  const auto response = fetch(client, request);
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.body.starts_with("POST /echo")) << response.body;
  EXPECT_TRUE(response.body.ends_with("payload"));
}

TEST(HttpClient, StopsAfterFiveRedirects) {
  TestServer server;
  server.on("/loop", {302, {{"Location", "/loop"}}, ""});
  HttpClient client(local_options());
  auto request = get(server.url("/loop"));
  request.follow_redirects = true;
  const auto response = fetch(client, request);
  EXPECT_TRUE(response.error.starts_with("too many redirects")) << response.error;
  EXPECT_EQ(server.hits("/loop"), 6);
}

TEST(HttpClient, RedirectToOtherSchemeIsRefused) {
  TestServer server;
  server.on("/moved", {302, {{"Location", "file:///etc/passwd"}}, ""});
  HttpClient client(local_options());
  auto request = get(server.url("/moved"));
  request.follow_redirects = true;
  const auto response = fetch(client, request);
  EXPECT_TRUE(response.error.starts_with("refused by the SSRF guard: scheme \"file\""))
      << response.error;
}

TEST(HttpClient, RedirectIntoRefusedAddressIsRefused) {
  if (!TestServer::can_bind("127.0.0.2")) GTEST_SKIP() << "127.0.0.2 cannot be bound here";
  TestServer allowed;
  TestServer internal("127.0.0.2");
  allowed.on("/hop", {302, {{"Location", internal.url("/secret")}}, ""});
  HttpClient client(local_options({"127.0.0.1/32"}));
  auto request = get(allowed.url("/hop"));
  request.follow_redirects = true;
  const auto response = fetch(client, request);
  EXPECT_EQ(response.status, 0);
  EXPECT_TRUE(response.error.starts_with("refused by the SSRF guard: 127.0.0.2 is loopback"))
      << response.error;
  EXPECT_EQ(internal.requests().size(), 0u);
}

TEST(HttpClient, CredentialsDoNotFollowRedirectsToAnotherHost) {
  if (!TestServer::can_bind("127.0.0.2")) GTEST_SKIP() << "127.0.0.2 cannot be bound here";
  TestServer first;
  TestServer second("127.0.0.2");
  first.on("/same", {302, {{"Location", "/echo"}}, ""});
  first.on("/away", {302, {{"Location", second.url("/echo")}}, ""});
  HttpClient client(local_options({"127.0.0.0/8"}));
  auto request = get(first.url("/same"));
  request.follow_redirects = true;
  request.headers = {{"Authorization", "Bearer TOKEN1"}, {"X-Api-Key", "KEY2"}, {"X-Plain", "ok"}};
  request.secrets = {"KEY2"};
  EXPECT_EQ(fetch(client, request).status, 200);
  const auto same = first.requests().back();
  EXPECT_NE(same.header("authorization"), nullptr);
  EXPECT_NE(same.header("x-api-key"), nullptr);

  request.url = first.url("/away");
  EXPECT_EQ(fetch(client, request).status, 200);
  const auto away = second.requests();
  ASSERT_EQ(away.size(), 1u);
  EXPECT_EQ(away[0].header("authorization"), nullptr);
  EXPECT_EQ(away[0].header("x-api-key"), nullptr);
  ASSERT_NE(away[0].header("x-plain"), nullptr);
}

TEST(HttpClient, LoopbackIsRefusedByDefault) {
  TestServer server;
  HttpClient client;
  const auto response = fetch(client, get(server.url("/echo")));
  EXPECT_EQ(response.status, 0);
  EXPECT_TRUE(response.error.starts_with("refused by the SSRF guard: 127.0.0.1 is loopback"))
      << response.error;
  EXPECT_EQ(server.requests().size(), 0u);
}

TEST(HttpClient, LiteralSpellingsAndUserinfoTricksAreRefused) {
  TestServer server;
  HttpClient client;
  const auto port = std::to_string(server.port());
  for (const auto& url : std::vector<std::string>{
           "http://2130706433:" + port + "/", "http://0x7f000001:" + port + "/",
           "http://0177.0.0.1:" + port + "/", "http://127.1:" + port + "/",
           "http://[::ffff:127.0.0.1]:" + port + "/", "http://8.8.8.8@127.0.0.1:" + port + "/",
           "http://user:pass@127.0.0.1:" + port + "/", "http://[::1]:" + port + "/",
           "http://0.0.0.0:" + port + "/", "http://169.254.169.254/latest/meta-data/",
           "http://[fd00:ec2::254]/latest/meta-data/"}) {
    const auto response = fetch(client, get(url));
    EXPECT_TRUE(response.error.starts_with("refused by the SSRF guard: "))
        << url << ": " << response.error;
  }
  EXPECT_EQ(server.requests().size(), 0u);
}

TEST(HttpClient, NamesResolvingToLoopbackAreRefusedAtConnect) {
  TestServer server;
  HttpClient client;
  const auto response =
      fetch(client, get("http://localhost:" + std::to_string(server.port()) + "/echo"));
  EXPECT_EQ(response.status, 0);
  EXPECT_TRUE(response.error.starts_with("refused by the SSRF guard: ")) << response.error;
  EXPECT_NE(response.error.find(" is loopback"), std::string::npos) << response.error;
  EXPECT_EQ(server.requests().size(), 0u);
}

TEST(HttpClient, OtherSchemesAreRefused) {
  HttpClient client;
  for (const auto* url :
       {"file:///etc/passwd", "gopher://127.0.0.1:70/_x", "ftp://127.0.0.1/",
        "dict://127.0.0.1:11211/stats", "ldap://127.0.0.1/", "FILE:///etc/passwd"}) {
    const auto response = fetch(client, get(url));
    EXPECT_TRUE(response.error.starts_with("refused by the SSRF guard: scheme")) << response.error;
  }
}

TEST(HttpClient, SecretsAreRedactedFromErrors) {
  TestServer server;
  HttpClient client;
  auto request = get(server.url("/x?token=SECRET123&user=me"));
  request.secrets = {"SECRET123"};
  const auto response = fetch(client, request);
  EXPECT_TRUE(response.error.starts_with("refused by the SSRF guard")) << response.error;
  EXPECT_NE(response.error.find("token=***&user=me"), std::string::npos) << response.error;
  EXPECT_EQ(response.error.find("SECRET123"), std::string::npos) << response.error;

  HttpClient allowed(local_options());
  server.on("/slow", {200, {}, "", milliseconds{3000}});
  request.url = server.url("/slow?key=SECRET123");
  request.timeout = milliseconds{100};
  const auto timed_out = fetch(allowed, request);
  EXPECT_TRUE(timed_out.error.starts_with("timed out")) << timed_out.error;
  EXPECT_NE(timed_out.error.find("key=***"), std::string::npos) << timed_out.error;
  EXPECT_EQ(timed_out.error.find("SECRET123"), std::string::npos) << timed_out.error;
}

TEST(HttpClient, CancellationAbortsQuickly) {
  TestServer server;
  server.on("/slow", {200, {}, "late", milliseconds{5000}});
  server.on("/limited", {429, {{"Retry-After", "60"}}, ""});
  HttpClient client(local_options());
  Completions done;
  auto in_flight = std::make_shared<std::atomic<bool>>(false);
  auto waiting = std::make_shared<std::atomic<bool>>(false);
  auto retried = get(server.url("/limited"));
  retried.retry_throttled = true;
  client.send(get(server.url("/slow")), done.callback(), in_flight);
  client.send(retried, done.callback(), waiting);
  std::this_thread::sleep_for(milliseconds{300});
  const auto cancelled_at = std::chrono::steady_clock::now();
  in_flight->store(true);
  waiting->store(true);
  ASSERT_TRUE(done.wait_for(2, std::chrono::seconds{5}));
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, milliseconds{1000});
  for (const auto& response : done.responses()) {
    EXPECT_EQ(response.error, "cancelled");
    EXPECT_EQ(response.status, 0);
  }
}

TEST(HttpClient, ManyConcurrentRequestsComplete) {
  TestServer server;
  server.on("/pause", {200, {}, "paused", milliseconds{50}});
  HttpClient client(local_options());
  Completions done;
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i) {
    client.send(
        get(server.url(i % 2 == 0 ? "/echo?i=" + std::to_string(i) : std::string("/pause"))),
        done.callback());
  }
  ASSERT_TRUE(done.wait_for(kRequests, std::chrono::seconds{60}));
  int ok = 0;
  for (const auto& response : done.responses()) {
    EXPECT_EQ(response.error, "");
    if (response.status == 200) ++ok;
  }
  EXPECT_EQ(ok, kRequests);
  EXPECT_EQ(server.requests().size(), static_cast<std::size_t>(kRequests));
}

TEST(HttpClient, ManyThreadsMaySend) {
  TestServer server;
  HttpClient client(local_options());
  Completions done;
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&] {
      for (int i = 0; i < 10; ++i) client.send(get(server.url("/echo")), done.callback());
    });
  }
  for (auto& sender : senders) sender.join();
  ASSERT_TRUE(done.wait_for(40, std::chrono::seconds{30}));
  for (const auto& response : done.responses()) EXPECT_EQ(response.status, 200);
}

TEST(HttpClient, DestructorCompletesEveryRequest) {
  TestServer server;
  server.on("/slow", {200, {}, "late", milliseconds{5000}});
  server.on("/limited", {429, {{"Retry-After", "60"}}, ""});
  Completions done;
  const auto started = std::chrono::steady_clock::now();
  {
    HttpClient client(local_options());
    for (int i = 0; i < 5; ++i) client.send(get(server.url("/slow")), done.callback());
    auto retried = get(server.url("/limited"));
    retried.retry_throttled = true;
    client.send(retried, done.callback());
    std::this_thread::sleep_for(milliseconds{300});
    for (int i = 0; i < 3; ++i) client.send(get(server.url("/slow")), done.callback());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds{3000});
  const auto responses = done.responses();
  ASSERT_EQ(responses.size(), 9u);
  for (const auto& response : responses) EXPECT_EQ(response.error, "client stopped");
}

TEST(HttpClient, CountsPerHost) {
  TestServer server;
  server.on("/missing", {404, {}, "no"});
  HttpClient client(local_options());
  fetch(client, get(server.url("/echo")));
  fetch(client, get(server.url("/echo")));
  fetch(client, get(server.url("/missing")));
  fetch(client, get("http://10.0.0.1/refused"));
  const auto metrics = client.metrics();
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics[0].host, "10.0.0.1");
  EXPECT_EQ(metrics[0].requests, 1u);
  EXPECT_EQ(metrics[0].refused, 1u);
  EXPECT_EQ(metrics[0].errors, 1u);
  EXPECT_EQ(metrics[1].host, "127.0.0.1");
  EXPECT_EQ(metrics[1].requests, 3u);
  EXPECT_EQ(metrics[1].errors, 0u);
  EXPECT_EQ(metrics[1].refused, 0u);
  const std::vector<std::pair<int, std::uint64_t>> by_status = {{200, 2}, {404, 1}};
  EXPECT_EQ(metrics[1].by_status, by_status);
  EXPECT_GT(metrics[1].total_seconds, 0.0);
}

TEST(HttpClient, CallbackMaySendAgain) {
  TestServer server;
  HttpClient client(local_options());
  std::promise<HttpResponse> second;
  client.send(get(server.url("/echo")), [&](HttpResponse) {
    client.send(get(server.url("/echo?again")),
                [&](HttpResponse response) { second.set_value(std::move(response)); });
  });
  auto future = second.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds{10}), std::future_status::ready);
  EXPECT_EQ(future.get().status, 200);
}

}  // namespace
}  // namespace flowpilot::engine
