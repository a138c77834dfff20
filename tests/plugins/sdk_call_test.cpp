// plugin.hpp against a fake host table: the C boundary as a test double, so the SDK's rules
// (getters, exception mapping, exactly-once completion, thunks, descriptors) are checked without
// an engine.
#include <gtest/gtest.h>

#include <flowpilot/plugin.hpp>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace json = boost::json;
namespace sdk = flowpilot::sdk;

// The host's side of one call, as the fake sees it.
struct fp_call {
  std::string input = "{}";
  std::string step_name = "test.step";
  std::string credentials;
  int attempt = 1;
  bool plan = false;
  bool cancelled = false;
  std::vector<std::pair<int, std::string>> logs;
  int endings = 0;
  std::optional<std::string> output;
  std::optional<std::string> error;
  std::uint32_t error_flags = 0;
  std::int64_t retry_after_ms = 0;
  std::vector<std::function<void()>> pending;  // timers and HTTP callbacks not yet run
  fp_http_request last_request{};
  std::vector<std::pair<std::string, std::string>> last_headers;
  std::vector<std::string> last_secrets;
  std::string last_url;
  std::uint64_t last_delay = 0;
};

namespace {

fp_str str(const std::string& s) { return fp_str{s.data(), s.size()}; }

fp_host_api make_host() {
  fp_host_api h{};
  h.struct_size = sizeof(fp_host_api);
  h.abi_major = FP_ABI_MAJOR;
  h.abi_minor = FP_ABI_MINOR;
  h.input = [](const fp_call* c) { return str(c->input); };
  h.step_name = [](const fp_call* c) { return str(c->step_name); };
  h.run_id = [](const fp_call*) { return fp_str{"run-1", 5}; };
  h.idempotency_key = [](const fp_call*) { return fp_str{"run-1/s", 7}; };
  h.attempt = [](const fp_call* c) { return c->attempt; };
  h.plan_mode = [](const fp_call* c) { return c->plan ? 1 : 0; };
  h.credentials = [](const fp_call* c) {
    return c->credentials.empty() ? fp_str{nullptr, 0} : str(c->credentials);
  };
  h.log = [](fp_call* c, int level, fp_str message, fp_str) {
    c->logs.emplace_back(level, std::string(message.data, message.size));
  };
  h.progress = [](fp_call*, double, fp_str) {};
  h.cancelled = [](const fp_call* c) { return c->cancelled ? 1 : 0; };
  h.after = [](fp_call* c, std::uint64_t delay, fp_callback_fn fn, void* user) {
    c->last_delay = delay;
    c->pending.push_back([c, fn, user] { fn(c, user); });
  };
  h.complete = [](fp_call* c, fp_str output) {
    ++c->endings;
    c->output = std::string(output.data, output.size);
  };
  h.fail = [](fp_call* c, fp_str message, std::uint32_t flags, std::int64_t retry_after) {
    ++c->endings;
    c->error = std::string(message.data, message.size);
    c->error_flags = flags;
    c->retry_after_ms = retry_after;
  };
  h.http_send = [](fp_call* c, const fp_http_request* r, fp_http_done_fn done, void* user) {
    c->last_request = *r;
    c->last_url = std::string(r->url.data, r->url.size);
    c->last_headers.clear();
    for (std::size_t i = 0; i < r->header_count; ++i) {
      c->last_headers.emplace_back(std::string(r->headers[i].name.data, r->headers[i].name.size),
                                   std::string(r->headers[i].value.data, r->headers[i].value.size));
    }
    c->last_secrets.clear();
    for (std::size_t i = 0; i < r->secret_count; ++i) {
      c->last_secrets.emplace_back(r->secrets[i].data, r->secrets[i].size);
    }
    c->pending.push_back([c, done, user] {
      // Only valid during the callback, like the host's buffers.
      std::string body = R"({"ok":true})";
      fp_header header{{"Content-Type", 12}, {"application/json", 16}};
      fp_http_response response{};
      response.struct_size = sizeof(response);
      response.status = 201;
      response.headers = &header;
      response.header_count = 1;
      response.body = str(body);
      done(c, &response, user);
    });
  };
  h.eval = [](fp_call*, fp_str expression, fp_str row, fp_buffer* result) {
    const std::string expr(expression.data, expression.size);
    std::string text = expr == "bad" ? "syntax error near `bad`" : std::string(row.data, row.size);
    result->data = new char[text.size()];
    std::copy(text.begin(), text.end(), result->data);
    result->size = text.size();
    return expr == "bad" ? 1 : 0;
  };
  h.rate_acquire = [](fp_call* c, fp_str, double, fp_callback_fn fn, void* user) {
    c->pending.push_back([c, fn, user] { fn(c, user); });
  };
  h.buffer_free = [](fp_buffer* b) {
    delete[] b->data;
    b->data = nullptr;
    b->size = 0;
  };
  return h;
}

const fp_host_api kHost = make_host();

void run_pending(fp_call& c) {
  while (!c.pending.empty()) {
    auto next = std::move(c.pending.front());
    c.pending.erase(c.pending.begin());
    next();
  }
}

json::value output_of(const fp_call& c) { return json::parse(c.output.value()); }

// Builds a plugin from `steps`, inits it and starts step `index` on `c`.
void start_step(std::vector<sdk::Step> steps, fp_call& c, std::size_t index = 0) {
  static std::vector<std::unique_ptr<sdk::Plugin>> plugins;  // descriptors must outlive calls
  plugins.push_back(std::make_unique<sdk::Plugin>("test", "1.0.0", std::move(steps)));
  const fp_plugin* d = plugins.back()->entry(&kHost);
  ASSERT_NE(d, nullptr);
  const char* error = nullptr;
  void* state = d->init(&kHost, fp_str{"{}", 2}, &error);
  ASSERT_EQ(error, nullptr);
  d->steps[index]->start(state, &c);
}

TEST(SdkCall, TypedGettersReadFieldsAndNameTheProblem) {
  fp_call c;
  c.input = R"({"name":"Ada","count":3.0,"big":1e30,"flag":true,"list":[1],"nothing":null})";
  sdk::Call call(&kHost, &c);
  EXPECT_EQ(call.get_string("name"), "Ada");
  EXPECT_EQ(call.get_int("count"), 3);
  EXPECT_TRUE(call.get_bool("flag"));
  EXPECT_EQ(call.input_as<json::array>("list").size(), 1u);
  EXPECT_EQ(call.input_or<std::string>("nothing", "fallback"), "fallback");
  EXPECT_EQ(call.input_or<int>("absent", 7), 7);
  EXPECT_FALSE(call.input_opt<bool>("absent").has_value());
  try {
    call.get_string("absent");
    FAIL() << "no exception";
  } catch (const sdk::StepError& e) {
    EXPECT_EQ(std::string(e.what()), "test.step needs `absent`");
    EXPECT_FALSE(e.retryable());
  }
  try {
    call.get_int("name");
    FAIL() << "no exception";
  } catch (const sdk::StepError& e) {
    EXPECT_EQ(std::string(e.what()), "test.step: `name` must be an integer, not a string");
  }
  EXPECT_THROW(call.get_int("big"), sdk::StepError);
  EXPECT_EQ(call.input_as<std::uint8_t>("count"), 3);
  EXPECT_THROW(call.input_as<std::uint8_t>("big"), sdk::StepError);
  call.complete(json::object());
}

TEST(SdkCall, CompletesOnceAndIgnoresLaterEndings) {
  fp_call c;
  {
    sdk::Call call(&kHost, &c);
    call.complete(json::object{{"a", 1}});
    call.fail("too late");
    call.complete(json::object{{"a", 2}});
    call.log(sdk::Level::info, "after the end");  // the handle is invalid now: not forwarded
  }
  EXPECT_EQ(c.endings, 1);
  EXPECT_EQ(output_of(c), (json::value{{"a", 1}}));
  EXPECT_TRUE(c.logs.empty());
}

TEST(SdkCall, LastHandleDroppedWithoutResultFailsTheCall) {
  fp_call c;
  { sdk::Call call(&kHost, &c); }
  EXPECT_EQ(c.endings, 1);
  ASSERT_TRUE(c.error);
  EXPECT_NE(c.error->find("without a result"), std::string::npos);
}

TEST(SdkCall, InputThatIsNotAnObjectFailsOnce) {
  fp_call c;
  c.input = "[1,2]";
  start_step({sdk::Step("s", "S.").run([](sdk::Call&) { return json::value(1); })}, c);
  EXPECT_EQ(c.endings, 1);
  EXPECT_EQ(c.error.value(), "the step's input is not a JSON object");
}

TEST(SdkCall, CredentialsAndEval) {
  fp_call c;
  c.credentials = R"({"token":"t0k"})";
  sdk::Call call(&kHost, &c);
  ASSERT_TRUE(call.credentials());
  EXPECT_EQ(call.credentials()->at("token"), "t0k");
  EXPECT_EQ(call.eval("row", json::value{{"x", 1}}), (json::value{{"x", 1}}));
  const sdk::Evaluated bad = call.try_eval("bad");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error, "syntax error near `bad`");
  EXPECT_THROW(call.eval("bad"), sdk::StepError);
  fp_call none;
  sdk::Call no_connection(&kHost, &none);
  EXPECT_FALSE(no_connection.credentials());
  call.complete(nullptr);
  no_connection.complete(nullptr);
}

TEST(SdkPlugin, DescriptorCarriesNamesSchemasFlagsAndAbi) {
  sdk::Plugin plugin(
      "demo", "2.1.0",
      {sdk::Step("one", "First.").input_schema(R"({"type":"object"})"),
       sdk::Step("two", "Second.").flags(FP_STEP_SIDE_EFFECTS | FP_STEP_SUPPORTS_PLAN)});
  const fp_plugin* d = plugin.entry(&kHost);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->struct_size, sizeof(fp_plugin));
  EXPECT_EQ(d->abi_major, FP_ABI_MAJOR);
  EXPECT_STREQ(d->name, "demo");
  EXPECT_STREQ(d->version, "2.1.0");
  ASSERT_EQ(d->step_count, 2u);
  EXPECT_STREQ(d->steps[0]->name, "one");
  EXPECT_STREQ(d->steps[0]->input_schema, R"({"type":"object"})");
  EXPECT_EQ(d->steps[0]->output_schema, nullptr);
  EXPECT_EQ(d->steps[1]->flags, FP_STEP_SIDE_EFFECTS | FP_STEP_SUPPORTS_PLAN);
  EXPECT_NE(d->steps[0]->start, d->steps[1]->start);
  EXPECT_EQ(plugin.entry(&kHost), d);  // built once

  fp_host_api old_host = kHost;
  old_host.struct_size = offsetof(fp_host_api, eval);  // lacks ABI 1.0 functions
  sdk::Plugin other("other", "1.0.0");
  EXPECT_EQ(other.entry(&old_host), nullptr);
}

TEST(SdkPlugin, InitHookReceivesConfigAndMayRefuse) {
  sdk::Plugin plugin("cfg", "1.0.0");
  std::string seen;
  plugin.on_init([&](const json::object& config) -> std::string {
    seen = json::serialize(config);
    return config.contains("refuse") ? "refused by config" : "";
  });
  const fp_plugin* d = plugin.entry(&kHost);
  ASSERT_NE(d, nullptr);
  const char* error = nullptr;
  const std::string good = R"({"region":"eu"})";
  EXPECT_NE(d->init(&kHost, str(good), &error), nullptr);
  EXPECT_EQ(error, nullptr);
  EXPECT_EQ(seen, good);
  EXPECT_EQ(plugin.config().at("region"), "eu");
  const std::string bad = R"({"refuse":true})";
  EXPECT_EQ(d->init(&kHost, str(bad), &error), nullptr);
  EXPECT_STREQ(error, "refused by config");
}

TEST(SdkPlugin, SyncStepReturnValueCompletes) {
  fp_call c;
  c.input = R"({"name":"Ada"})";
  start_step({sdk::Step("greet", "Greets.").run([](sdk::Call& call) -> json::value {
               return json::object{{"greeting", "Hello, " + call.get_string("name")}};
             })},
             c);
  EXPECT_EQ(c.endings, 1);
  EXPECT_EQ(output_of(c), (json::value{{"greeting", "Hello, Ada"}}));
}

TEST(SdkPlugin, VoidSyncStepCompletesWithEmptyObject) {
  fp_call c;
  start_step({sdk::Step("v", "V.").run([](sdk::Call& call) { call.log(sdk::Level::warn, "hi"); })},
             c);
  EXPECT_EQ(output_of(c), json::value(json::object()));
  ASSERT_EQ(c.logs.size(), 1u);
  EXPECT_EQ(c.logs[0].first, FP_LOG_WARN);
}

TEST(SdkPlugin, ExceptionsBecomeFailures) {
  fp_call retryable;
  start_step({sdk::Step("e", "E.").run([](sdk::Call&) -> json::value {
               throw sdk::StepError("throttled", true, std::chrono::milliseconds(1500));
             })},
             retryable);
  EXPECT_EQ(retryable.endings, 1);
  EXPECT_EQ(retryable.error.value(), "throttled");
  EXPECT_EQ(retryable.error_flags, FP_ERROR_RETRYABLE);
  EXPECT_EQ(retryable.retry_after_ms, 1500);

  fp_call plain;
  start_step({sdk::Step("e", "E.").run(
                 [](sdk::Call&) -> json::value { throw std::out_of_range("index 7"); })},
             plain);
  EXPECT_EQ(plain.error.value(), "index 7");
  EXPECT_EQ(plain.error_flags, 0u);

  fp_call odd;
  start_step({sdk::Step("e", "E.").run([](sdk::Call&) -> json::value { throw 42; })}, odd);
  EXPECT_EQ(odd.error.value(), "unknown exception");

  fp_call missing;
  start_step(
      {sdk::Step("e", "E.").run([](sdk::Call& call) { return json::value(call.get_int("n")); })},
      missing);
  EXPECT_EQ(missing.error.value(), "test.step needs `n`");
}

TEST(SdkPlugin, AsyncStepFinishesFromTimerCallback) {
  fp_call c;
  start_step({sdk::Step("wait", "Waits.").start([](sdk::Call& call) {
               call.after(std::chrono::milliseconds(250), [](sdk::Call& done) {
                 done.complete(json::object{{"attempt", done.attempt()}});
               });
             })},
             c);
  EXPECT_EQ(c.endings, 0);  // the thunk holds the call open
  EXPECT_EQ(c.last_delay, 250u);
  run_pending(c);
  EXPECT_EQ(c.endings, 1);
  EXPECT_EQ(output_of(c), (json::value{{"attempt", 1}}));
}

TEST(SdkPlugin, ExceptionInCallbackFails) {
  fp_call c;
  start_step({sdk::Step("wait", "Waits.").start([](sdk::Call& call) {
               call.after(std::chrono::milliseconds(1),
                          [](sdk::Call&) { throw sdk::StepError("late", true); });
             })},
             c);
  run_pending(c);
  EXPECT_EQ(c.endings, 1);
  EXPECT_EQ(c.error.value(), "late");
  EXPECT_EQ(c.error_flags, FP_ERROR_RETRYABLE);
}

TEST(SdkPlugin, AsyncStepThatForgetsToFinishIsFailed) {
  fp_call c;
  start_step({sdk::Step("lazy", "Forgets.").start([](sdk::Call&) {})}, c);
  EXPECT_EQ(c.endings, 1);
  EXPECT_NE(c.error.value().find("without a result"), std::string::npos);

  fp_call chained;  // a callback that neither completes nor schedules more
  start_step({sdk::Step("lazy", "Forgets later.").start([](sdk::Call& call) {
               call.rate_acquire("acct", 1.0, [](sdk::Call&) {});
             })},
             chained);
  EXPECT_EQ(chained.endings, 0);
  run_pending(chained);
  EXPECT_EQ(chained.endings, 1);
}

TEST(SdkPlugin, HttpTranslatesTheRequestAndCopiesTheResponse) {
  fp_call c;
  start_step({sdk::Step("get", "Gets.").start([](sdk::Call& call) {
               sdk::HttpRequest request;
               request.method = "POST";
               request.url = "https://api.example.com/x";
               request.headers = {{"Authorization", "Bearer s3cret"}};
               request.body = "{}";
               request.timeout = std::chrono::seconds(5);
               request.retry_throttled = true;
               request.secrets = {"s3cret"};
               call.http(request, [](sdk::Call& done, const sdk::HttpResponse& response) {
                 done.complete(json::object{{"status", response.status},
                                            {"type", response.header("content-TYPE").value_or("")},
                                            {"body", response.body}});
               });
             })},
             c);
  EXPECT_EQ(c.last_url, "https://api.example.com/x");
  EXPECT_EQ(c.last_request.struct_size, sizeof(fp_http_request));
  EXPECT_EQ(c.last_request.timeout_ms, 5000u);
  EXPECT_EQ(c.last_request.flags, FP_HTTP_RETRY_THROTTLED);
  ASSERT_EQ(c.last_headers.size(), 1u);
  EXPECT_EQ(c.last_headers[0].second, "Bearer s3cret");
  EXPECT_EQ(c.last_secrets, std::vector<std::string>{"s3cret"});
  run_pending(c);
  EXPECT_EQ(
      output_of(c),
      (json::value{{"status", 201}, {"type", "application/json"}, {"body", R"({"ok":true})"}}));
}

}  // namespace
