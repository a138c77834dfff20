#include "web/webhooks.h"

#include "web/detail/api_support.h"
#include "web/webhook_auth.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace flowpilot::web {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

// Headers that carry credentials are not recorded with the run (runs are readable through the
// API and kept for the retention period); the auth check has already used them.
bool is_credential_header(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "proxy-authorization" ||
         lower_name == "cookie" || lower_name == "x-flowpilot-token";
}

// name=value&... with '+' as space; repeated names collect into an array. Nullopt on a bad escape.
std::optional<json::object> parse_form(std::string_view text) {
  json::object out;
  while (!text.empty()) {
    const auto amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string name(pair.substr(0, eq));
    std::string value(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    std::replace(name.begin(), name.end(), '+', ' ');
    std::replace(value.begin(), value.end(), '+', ' ');
    auto n = percent_decode(name);
    auto v = percent_decode(value);
    if (!n || !v) return std::nullopt;
    if (auto* existing = out.if_contains(*n)) {
      if (!existing->is_array()) *existing = json::array{*existing};
      existing->get_array().push_back(json::value(*v));
    } else {
      out[*n] = *v;
    }
  }
  return out;
}

// Where a JSON text stops parsing, for the 400 answer.
std::string json_error_place(std::string_view text, std::size_t offset) {
  const auto [line, column] = api_detail::line_column(text, offset);
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

struct Bucket {
  double tokens = 0;
  Clock::time_point refilled;
};

struct Waiter {
  Reply reply;
  Clock::time_point deadline;
  std::string instance;  // the request's path, for problems
};

}  // namespace

struct WebhookReceiver::Impl : std::enable_shared_from_this<WebhookReceiver::Impl> {
  Impl(WebhookServices s, WebhookOptions o) : services(std::move(s)), options(o) {
    if (services.metrics != nullptr) {
      deliveries = &services.metrics->counter(
          "flowpilot_webhook_deliveries_total",
          "Webhook deliveries by path and outcome (accepted, duplicate, rejected reasons, results)",
          {"path", "outcome"});
    }
  }

  WebhookServices services;
  WebhookOptions options;
  metrics::CounterFamily* deliveries = nullptr;

  std::mutex buckets_mu;
  std::map<std::string, Bucket, std::less<>> buckets;

  std::mutex waiters_mu;
  std::condition_variable waiters_cv;
  std::map<std::string, std::vector<Waiter>> waiters;  // by run id
  std::deque<std::string> finished;                     // run ids to answer
  bool stopping = false;
  std::thread timer;

  void count(std::string_view path, std::string_view outcome) {
    if (deliveries != nullptr) deliveries->with({path, outcome}).inc();
  }

  // Takes one token; returns the seconds to wait when none is left.
  std::optional<int> take_token(const std::string& path) {
    if (options.rate <= 0) return std::nullopt;
    std::lock_guard lock(buckets_mu);
    auto now = Clock::now();
    auto [it, inserted] = buckets.try_emplace(path, Bucket{options.burst, now});
    Bucket& b = it->second;
    const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min(options.burst, b.tokens + elapsed * options.rate);
    b.refilled = now;
    if (b.tokens >= 1.0) {
      b.tokens -= 1.0;
      return std::nullopt;
    }
    return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / options.rate)));
  }

  void handle(Request request, Reply reply);
  void wait_for_result(const std::string& run_id, const std::string& instance, Reply reply);
  void answer_result(const std::string& run_id, std::vector<Waiter> waiters, bool timed_out);
  void timer_loop();
};

void WebhookReceiver::Impl::handle(Request request, Reply reply) {
  const std::string& path = request.params.at("path");
  auto reject = [&](int status, std::string_view outcome, std::string_view title,
                    const std::string& detail, const std::string& label_path,
                    std::string retry_after = {}) {
    count(label_path, outcome);
    Response r = problem_json(status, title, detail, json::object{{"instance", request.path}});
    if (!retry_after.empty()) r.headers.set("Retry-After", retry_after);
    reply(std::move(r));
  };
  auto route = services.catalog.find_webhook(path);
  // Unknown paths are counted without their name: it comes from the sender.
  if (!route) return reject(404, "unknown_path", "Not found", "no webhook at " + request.path, "");
  if (auto wait = take_token(path)) {
    return reject(429, "rate_limited", "Too many requests",
                  "webhook `" + path + "` takes at most " + metrics::format_value(options.rate) +
                      " deliveries per second; retry after " + std::to_string(*wait) + " s",
                  path, std::to_string(*wait));
  }

  // The secret comes from the trigger's template (usually `${{ secrets.NAME }}`).
  std::string secret;
  if (route->trigger->scheme != engine::WebhookAuthScheme::none) {
    std::string why;
    auto tmpl = scripting::Template::parse(route->trigger->secret, &why);
    scripting::Scope scope;
    scope.set_secret_resolver(services.secrets);
    auto rendered = tmpl ? scripting::render(services.expressions, *tmpl, scope)
                         : scripting::EvalResult(scripting::EvalError{
                               scripting::EvalError::Kind::compile, why});
    if (!rendered.ok() || !rendered.value().is_string() || rendered.value().get_string().empty()) {
      // The workflow's configuration is wrong, not the request: say so without details.
      return reject(503, "no_secret", "Webhook not configured",
                    "the webhook's secret is not available on this server", path);
    }
    secret = std::string(rendered.value().get_string());
  }
  WebhookRequest verify_input{request.body, [&request](std::string_view name) {
                                return request.headers.get(name);
                              }};
  const AuthVerdict verdict = verify_webhook(route->trigger->scheme, secret, verify_input,
                                             std::chrono::system_clock::now(), options.tolerance);
  if (!verdict.ok) return reject(401, "unauthorized", "Unauthorized", verdict.reason, path);

  if (request.headers.get("Content-Encoding") &&
      api_detail::ascii_lowercase(*request.headers.get("Content-Encoding")) != "identity") {
    return reject(415, "unsupported_type", "Unsupported media type",
                  "compressed bodies are not accepted; send the body uncompressed", path);
  }
  const std::string type = api_detail::media_type(request);
  json::value body;
  if (request.body.empty()) {
    body = nullptr;
  } else if (api_detail::is_json_type(type)) {
    json::stream_parser parser;
    boost::system::error_code ec;
    const std::size_t used = parser.write(request.body.data(), request.body.size(), ec);
    if (!ec) parser.finish(ec);
    if (ec) {
      return reject(400, "bad_body", "Malformed JSON",
                    "the body is not valid JSON at " + json_error_place(request.body, used) +
                        ": " + ec.message(),
                    path);
    }
    body = parser.release();
  } else if (type == "application/x-www-form-urlencoded") {
    auto form = parse_form(request.body);
    if (!form) {
      return reject(400, "bad_body", "Malformed form", "the form body has a bad %-escape", path);
    }
    body = std::move(*form);
  } else if (type.rfind("text/", 0) == 0 || type.empty()) {
    body = json::value(request.body);
  } else {
    return reject(415, "unsupported_type", "Unsupported media type",
                  "webhook bodies may be JSON, form (application/x-www-form-urlencoded) or text, "
                  "not `" + type + "`",
                  path);
  }

  json::object headers;
  for (const auto& [name, value] : request.headers.fields()) {
    std::string lower = api_detail::ascii_lowercase(name);
    if (is_credential_header(lower)) continue;
    if (auto* existing = headers.if_contains(lower)) {
      *existing = std::string(existing->get_string()) + ", " + value;
    } else {
      headers[lower] = value;
    }
  }
  json::object query;
  if (!request.query.empty()) {
    if (auto q = parse_form(request.query)) query = std::move(*q);
  }
  json::value trigger = json::object{{"type", "webhook"},
                                     {"path", path},
                                     {"method", request.method_text},
                                     {"headers", std::move(headers)},
                                     {"query", std::move(query)},
                                     {"body", std::move(body)},
                                     {"received_at", engine::now_millis()}};

  // One key, one run: the trigger's expression, else the sender's Idempotency-Key, else the
  // delivery id the signature vouches for.
  std::string key;
  if (!route->trigger->idempotency_key.empty()) {
    std::string why;
    auto tmpl = scripting::Template::parse(route->trigger->idempotency_key, &why);
    scripting::Scope scope;
    scope.bind("trigger", trigger);
    auto rendered = tmpl ? scripting::render(services.expressions, *tmpl, scope)
                         : scripting::EvalResult(scripting::EvalError{
                               scripting::EvalError::Kind::compile, why});
    if (!rendered.ok()) {
      return reject(400, "bad_idempotency_key", "Bad request",
                    "the webhook's idempotency_key could not be computed from this request: " +
                        rendered.error().message,
                    path);
    }
    key = rendered.value().is_string() ? std::string(rendered.value().get_string())
                                       : scripting::to_display_text(rendered.value());
  }
  if (key.empty()) {
    if (auto header = request.headers.get("Idempotency-Key")) key = std::string(*header);
  }
  if (key.empty()) key = verdict.event_id;
  if (key.size() > 512) {
    return reject(400, "bad_idempotency_key", "Bad request",
                  "the idempotency key is longer than 512 characters", path);
  }

  engine::RunRequest run;
  run.workflow = route->workflow;
  run.trigger = std::move(trigger);
  if (!key.empty()) run.idempotency_key = "hook:" + path + ":" + key;
  const bool wants_result = route->trigger->respond == engine::WebhookRespond::result;
  auto self = shared_from_this();
  try {
    services.executor.start_async(
        std::move(run), [self, path, wants_result, reply, instance = request.path](
                            std::exception_ptr error, engine::StartedRun started) {
          if (error) {
            self->count(path, "store_error");
            reply(problem_json(503, "Not recorded",
                               "the delivery could not be recorded; retry later",
                               json::object{{"instance", instance}}));
            return;
          }
          self->count(path, started.created ? "accepted" : "duplicate");
          if (wants_result) {
            self->wait_for_result(started.run_id, instance, reply);
            return;
          }
          Response r = json_response(started.created ? 202 : 200,
                                     json::object{{"run_id", started.run_id},
                                                  {"created", started.created},
                                                  {"url", "/api/v1/runs/" + started.run_id}});
          r.headers.set("Location", "/api/v1/runs/" + started.run_id);
          reply(std::move(r));
        });
  } catch (const engine::InputError& e) {
    count(path, "invalid_inputs");
    json::array errors;
    for (const auto& p : e.problems()) errors.push_back(json::object{{"path", "inputs"}, {"message", p}});
    reply(problem_json(422, "Invalid inputs",
                       "the workflow's inputs have no valid defaults for a webhook run",
                       json::object{{"instance", request.path}, {"errors", std::move(errors)}}));
  }
}

void WebhookReceiver::Impl::wait_for_result(const std::string& run_id, const std::string& instance,
                                            Reply reply) {
  {
    std::lock_guard lock(waiters_mu);
    if (stopping) {
      reply(problem_json(503, "Stopping", "the server is stopping; the run continues",
                         json::object{{"run_id", run_id},
                                      {"url", "/api/v1/runs/" + run_id},
                                      {"instance", instance}}));
      return;
    }
    waiters[run_id].push_back(
        Waiter{std::move(reply), Clock::now() + options.result_timeout, instance});
    // Registered first, then checked: a run that finished before we listened is answered now.
    finished.push_back(run_id);
  }
  waiters_cv.notify_all();
}

namespace {

// The answer to `respond: result` waiters of a run in `status` (nullopt: not known yet).
Response result_response(const std::string& run_id, std::optional<engine::RunStatus> status,
                         const json::value& outputs, const std::string& error, bool timed_out) {
  const std::string location = "/api/v1/runs/" + run_id;
  Response r;
  if (!status || !engine::is_terminal(*status) || timed_out) {
    r = json_response(202, json::object{{"run_id", run_id},
                                        {"status", status ? engine::to_string(*status) : "queued"},
                                        {"url", location}});
  } else if (*status == engine::RunStatus::succeeded) {
    r = json_response(200, json::object{{"run_id", run_id},
                                        {"status", "succeeded"},
                                        {"outputs", outputs}});
  } else {
    r = problem_json(500, "Run did not succeed",
                     "run " + run_id + " ended " + std::string(engine::to_string(*status)) +
                         (error.empty() ? "" : ": " + error),
                     json::object{{"run_id", run_id},
                                  {"status", engine::to_string(*status)},
                                  {"url", location}});
  }
  r.headers.set("Location", location);
  return r;
}

}  // namespace

void WebhookReceiver::Impl::answer_result(const std::string& run_id, std::vector<Waiter> list,
                                          bool timed_out) {
  std::optional<engine::RunRecord> run;
  try {
    run = services.store.get_run(run_id);
  } catch (const std::exception&) {
  }
  const Response r = run ? result_response(run_id, run->status, run->outputs, run->error, timed_out)
                         : result_response(run_id, std::nullopt, nullptr, "", timed_out);
  for (auto& w : list) w.reply(r);
}

void WebhookReceiver::Impl::timer_loop() {
  std::unique_lock lock(waiters_mu);
  Clock::time_point next_poll = Clock::now() + options.poll_results;
  for (;;) {
    Clock::time_point next = Clock::now() + std::chrono::seconds(1);
    for (const auto& [id, list] : waiters) {
      for (const auto& w : list) next = std::min(next, w.deadline);
    }
    const bool polling = options.poll_results.count() > 0 && !waiters.empty();
    if (polling) next = std::min(next, next_poll);
    waiters_cv.wait_until(lock, next, [this] { return stopping || !finished.empty(); });
    if (stopping) break;
    if (polling && Clock::now() >= next_poll) {
      for (const auto& [id, list] : waiters) finished.push_back(id);
      next_poll = Clock::now() + options.poll_results;
    }
    // Runs that finished (or are to be checked): answer their waiters if the run is over.
    while (!finished.empty()) {
      const std::string id = std::move(finished.front());
      finished.pop_front();
      auto it = waiters.find(id);
      if (it == waiters.end()) continue;
      lock.unlock();
      std::optional<engine::RunRecord> run;
      try {
        run = services.store.get_run(id);
      } catch (const std::exception&) {
      }
      lock.lock();
      if (!run || !engine::is_terminal(run->status)) continue;
      it = waiters.find(id);
      if (it == waiters.end()) continue;
      auto list = std::move(it->second);
      waiters.erase(it);
      lock.unlock();
      answer_result(id, std::move(list), false);
      lock.lock();
    }
    // Deadlines: answer 202 with the run id; the run goes on.
    const auto now = Clock::now();
    std::vector<std::pair<std::string, std::vector<Waiter>>> expired;
    for (auto it = waiters.begin(); it != waiters.end();) {
      std::vector<Waiter> due;
      auto& list = it->second;
      for (auto w = list.begin(); w != list.end();) {
        if (w->deadline <= now) {
          due.push_back(std::move(*w));
          w = list.erase(w);
        } else {
          ++w;
        }
      }
      if (!due.empty()) expired.emplace_back(it->first, std::move(due));
      it = list.empty() ? waiters.erase(it) : std::next(it);
    }
    if (!expired.empty()) {
      lock.unlock();
      for (auto& [id, list] : expired) {
        count("", "result_timeout");
        answer_result(id, std::move(list), true);
      }
      lock.lock();
    }
  }
  // Stopping: nobody will answer these otherwise.
  auto left = std::move(waiters);
  waiters.clear();
  lock.unlock();
  for (auto& [id, list] : left) {
    for (auto& w : list) {
      w.reply(problem_json(503, "Stopping", "the server is stopping; the run continues",
                           json::object{{"run_id", id},
                                        {"url", "/api/v1/runs/" + id},
                                        {"instance", w.instance}}));
    }
  }
}

WebhookReceiver::WebhookReceiver(WebhookServices services, WebhookOptions options)
    : impl_(std::make_shared<Impl>(std::move(services), options)) {
  impl_->timer = std::thread([impl = impl_.get()] { impl->timer_loop(); });
}

WebhookReceiver::~WebhookReceiver() {
  {
    std::lock_guard lock(impl_->waiters_mu);
    impl_->stopping = true;
  }
  impl_->waiters_cv.notify_all();
  impl_->timer.join();
}

void WebhookReceiver::add_routes(Router& router) {
  router.add_async(Method::kPost, "/hooks/{path}", Access::open(), [impl = impl_](Request request, Reply reply) {
    impl->handle(std::move(request), std::move(reply));
  });
}

void WebhookReceiver::on_event(const engine::RunEvent& event) {
  if (event.kind != engine::RunEvent::Kind::run) return;
  auto status = engine::parse_run_status(event.status);
  if (!status || !engine::is_terminal(*status)) return;
  std::vector<Waiter> list;
  {
    std::lock_guard lock(impl_->waiters_mu);
    auto it = impl_->waiters.find(event.run_id);
    if (it == impl_->waiters.end()) return;
    list = std::move(it->second);
    impl_->waiters.erase(it);
  }
  // The event carries the final state (it is durable by now): answer here, with no store read
  // and no hop through the timer thread.
  const Response r = result_response(event.run_id, status, event.outputs, event.error, false);
  for (auto& w : list) w.reply(r);
}

}  // namespace flowpilot::web
