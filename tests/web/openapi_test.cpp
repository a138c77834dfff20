// The REST API against its OpenAPI document (web/openapi.json).
//
// The server side is built for real, in-process and without sockets: a SQLite store in a
// temporary directory, the built-in steps and plugins, the workflow catalog over a watched
// directory, the executor, live events, webhooks, the health routes and /metrics, all on one
// Router. The test drives every documented operation through Router::handle with realistic
// requests, both successes and the documented errors, and checks each answer against the
// document: the status is documented for the operation, the Content-Type is one the document
// names, required headers are there, and a JSON body validates against the response's schema (on
// valijson, through engine::JsonSchema). Bodies and query parameters of successful requests must
// be documented too, so the document cannot describe less than the server accepts. Finally every
// operation and every documented status must have been produced (server failures aside), so the
// document cannot describe more than the server does either. Event streams are checked by status
// and Content-Type only; their `data:` payloads are checked through event_json().
//
// OpenAPI 3.1 schemas are JSON Schema 2020-12; valijson reads draft 7. The document keeps to the
// keywords both share (a keyword the checker cannot honour fails the test rather than being
// skipped), and `$ref`s are resolved into one self-contained schema per response.
#include "engine/catalog/workflow_catalog.h"
#include "engine/connections/connections.h"
#include "engine/executor/executor.h"
#include "engine/http/http_client.h"
#include "engine/loader/loader.h"
#include "engine/plugins/plugin_host.h"
#include "engine/schema/json_schema.h"
#include "engine/steps/builtin_steps.h"
#include "engine/store/sqlite_store.h"
#include "scripting/expression.h"
#include "server_fixture.h"
#include "web/api.h"
#include "web/live_events.h"
#include "web/metrics.h"
#include "web/observability.h"
#include "web/router.h"
#include "web/routes.h"
#include "web/webhooks.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace flowpilot::web {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr auto kSettle = std::chrono::seconds(60);
constexpr int kAnyStatus = 0;  // call(): whatever the document allows

// JSON Schema 2020-12 keywords that valijson's draft-7 parser would silently ignore.
constexpr std::array<std::string_view, 11> kUnsupportedKeywords = {
    "prefixItems",
    "$defs",
    "unevaluatedProperties",
    "unevaluatedItems",
    "dependentRequired",
    "dependentSchemas",
    "$dynamicRef",
    "$dynamicAnchor",
    "$anchor",
    "minContains",
    "maxContains",
};

bool is_unsupported_keyword(std::string_view key) {
  return std::find(kUnsupportedKeywords.begin(), kUnsupportedKeywords.end(), key) !=
         kUnsupportedKeywords.end();
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// "text/plain; version=0.0.4; charset=utf-8" -> {"text/plain", {"version=0.0.4", "charset=utf-8"}}
std::pair<std::string, std::set<std::string>> split_media_type(std::string_view text) {
  std::set<std::string> params;
  const auto semicolon = text.find(';');
  std::string base = lowercase(trim(text.substr(0, semicolon)));
  std::string_view rest =
      semicolon == std::string_view::npos ? std::string_view() : text.substr(semicolon + 1);
  while (!rest.empty()) {
    const auto next = rest.find(';');
    std::string param = lowercase(trim(rest.substr(0, next)));
    if (!param.empty()) params.insert(std::move(param));
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
  }
  return {std::move(base), std::move(params)};
}

bool is_json_media(const std::string& base) {
  return base == "application/json" ||
         (base.size() > 5 && base.compare(base.size() - 5, 5, "+json") == 0);
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    out.emplace_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

// The OpenAPI document, with lookups by method and concrete path, and schemas made self-contained.
class Document {
 public:
  explicit Document(json::value root) : root_(std::move(root)) {}

  const json::value& root() const { return root_; }

  struct Operation {
    std::string key;  // "POST /api/v1/workflows/{id}/runs"
    const json::object* object = nullptr;
  };

  // The operation whose path template matches `path` (the one with most literal segments, as the
  // router chooses), or nullopt.
  std::optional<Operation> find(std::string_view method, std::string_view path) const {
    const std::string verb = lowercase(method);
    const auto concrete = split_path(path);
    std::optional<Operation> best;
    int best_literals = -1;
    for (const auto& [tmpl, item] : root_.at("paths").as_object()) {
      const auto parts = split_path(tmpl);
      const bool rest = rest_of_path(item, verb, parts.back());
      if (rest ? concrete.size() < parts.size() : parts.size() != concrete.size()) continue;
      int literals = 0;
      bool matches = true;
      for (std::size_t i = 0; i < parts.size() && matches; ++i) {
        const bool param = parts[i].size() > 2 && parts[i].front() == '{' && parts[i].back() == '}';
        if (param) {
          matches = !concrete[i].empty();
        } else {
          matches = parts[i] == concrete[i];
          ++literals;
        }
      }
      if (!matches || literals <= best_literals) continue;
      const json::value* op = item.as_object().if_contains(verb);
      if (op == nullptr) continue;
      best = Operation{std::string(method) + " " + std::string(tmpl), &op->as_object()};
      best_literals = literals;
    }
    return best;
  }

  // Whether the operation's last template segment `last` is a parameter marked
  // `x-flowpilot-rest-of-path`, which takes the rest of the path (the router's `{name...}`).
  bool rest_of_path(const json::value& item, const std::string& verb,
                    const std::string& last) const {
    if (last.size() < 3 || last.front() != '{') return false;
    const json::value* op = item.as_object().if_contains(verb);
    if (op == nullptr || !op->as_object().contains("parameters")) return false;
    std::vector<std::string> problems;
    const json::value parameters = resolve(op->at("parameters"), problems);
    for (const auto& p : parameters.as_array()) {
      const auto& param = p.as_object();
      const std::string name = last.substr(1, last.size() - 2);
      if (param.at("in") != "path" || param.at("name").as_string() != name) continue;
      const auto* flag = param.if_contains("x-flowpilot-rest-of-path");
      return flag != nullptr && flag->is_bool() && flag->as_bool();
    }
    return false;
  }

  // Every "operation key + status" the document lists.
  std::set<std::string> responses() const {
    std::set<std::string> out;
    for (const auto& [tmpl, item] : root_.at("paths").as_object()) {
      for (const auto& [method, op] : item.as_object()) {
        std::string upper(method);
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        for (const auto& [status, response] : op.at("responses").as_object()) {
          out.insert(upper + " " + std::string(tmpl) + " " + std::string(status));
        }
      }
    }
    return out;
  }

  // Every operation key in the document.
  std::set<std::string> operations() const {
    static constexpr std::array<std::string_view, 8> kMethods = {
        "get", "put", "post", "delete", "patch", "head", "options", "trace"};
    std::set<std::string> out;
    for (const auto& [tmpl, item] : root_.at("paths").as_object()) {
      for (const auto& [method, op] : item.as_object()) {
        if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end()) continue;
        std::string upper(method);
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        out.insert(upper + " " + std::string(tmpl));
      }
    }
    return out;
  }

  // `value` with every local `$ref` replaced by what it points at, recursively. Problems (a ref
  // that does not resolve, a keyword the checker cannot honour) are appended to `problems`.
  json::value resolve(const json::value& value, std::vector<std::string>& problems,
                      int depth = 0) const {
    if (depth > 64) {
      problems.push_back("`$ref`s nest deeper than 64 (a cycle?)");
      return json::value(nullptr);
    }
    if (const json::object* o = value.if_object()) {
      if (const json::value* ref = o->if_contains("$ref")) {
        const std::string_view text = ref->is_string() ? ref->get_string() : std::string_view();
        const json::value* target = nullptr;
        if (text.size() > 1 && text.front() == '#') {
          boost::system::error_code ec;
          target = root_.find_pointer(text.substr(1), ec);
          if (ec) target = nullptr;
        }
        if (target == nullptr) {
          problems.push_back("`$ref` " + json::serialize(*ref) + " does not resolve");
          return json::value(nullptr);
        }
        return resolve(*target, problems, depth + 1);
      }
      json::object out;
      for (const auto& [key, member] : *o) {
        if (is_unsupported_keyword(key)) {
          problems.push_back("keyword `" + std::string(key) +
                             "` cannot be checked here; use a draft-7 equivalent");
        }
        out[key] = resolve(member, problems, depth + 1);
      }
      return out;
    }
    if (const json::array* a = value.if_array()) {
      json::array out;
      for (const auto& item : *a) out.push_back(resolve(item, problems, depth + 1));
      return out;
    }
    return value;
  }

  // The compiled schema of `schema` (already resolved), cached by its text.
  std::shared_ptr<const engine::JsonSchema> compile(const json::value& schema,
                                                    std::string* error) const {
    const std::string key = json::serialize(schema);
    std::lock_guard lock(mu_);
    if (auto it = compiled_.find(key); it != compiled_.end()) return it->second;
    auto compiled = engine::JsonSchema::compile(schema, error);
    if (compiled) compiled_.emplace(key, compiled);
    return compiled;
  }

 private:
  json::value root_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<const engine::JsonSchema>> compiled_;
};

// Problems of `value` against `schema` (an OpenAPI schema, refs unresolved), one per line.
std::string schema_problems(const Document& doc, const json::value& schema,
                            const json::value& value) {
  std::vector<std::string> problems;
  const json::value resolved = doc.resolve(schema, problems);
  std::string out;
  for (const auto& p : problems) out += "document: " + p + "\n";
  if (!problems.empty()) return out;
  std::string error;
  auto compiled = doc.compile(resolved, &error);
  if (!compiled) return "document: the schema does not compile: " + error + "\n";
  for (const auto& p : compiled->validate(value, "body")) out += p.path + ": " + p.message + "\n";
  return out;
}

json::value load_document_file() {
  std::ifstream in(fs::path(FLOWPILOT_SOURCE_DIR) / "web" / "openapi.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path);
  out << text;
}

// ---- workflows used by the scenarios ----

constexpr std::string_view kHello = R"(id: hello
name: Hello
description: Greets, then fans out over a list.
inputs:
  name: {type: string, default: world, description: Who to greet}
  items: {type: array, default: [1, 2, 3]}
  budget: {type: number, default: 10, unit: EUR}
triggers:
  - cron: "0 9 * * MON-FRI"
    timezone: Europe/Berlin
  - webhook: {path: hello-hook}
steps:
  - id: greet
    uses: core.log
    with: {message: "hello ${{ inputs.name }}"}
  - id: fan
    uses: core.noop
    needs: [greet]
    foreach: ${{ inputs.items }}
    with: {n: "${{ item }}"}
  - id: report
    uses: core.noop
    needs: [fan]
    if: ${{ inputs.budget > 0 }}
outputs:
  greeting: ${{ steps.greet.output.message }}
)";

// The same workflow with another greeting: a second revision.
std::string hello_v2() {
  std::string text(kHello);
  text.replace(text.find("hello ${{"), 5, "howdy");
  return text;
}

constexpr std::string_view kGate = R"(id: gate
steps:
  - id: approve
    uses: core.approval
    with: {message: "Raise the daily budget to 250 EUR?", timeout: 1h}
  - id: apply
    uses: core.noop
    needs: [approve]
)";

constexpr std::string_view kBrokenJson = R"({"id": "broken",
 "steps": [{"id": "ok_step", "uses": "core.noop"},
           {"id": "boom", "uses": "core.fail", "needs": ["ok_step"],
            "with": {"message": "always fails", "retryable": false}}],
 "on_failure": [{"id": "alert", "uses": "core.log", "with": {"message": "broken failed"}}]})";

constexpr std::string_view kLua = R"(return workflow{
  id = "lua-flow",
  description = "Defined in Lua",
  steps = {
    step{id = "hello", uses = "core.log", with = {message = "hello from Lua"}},
  },
})";

constexpr std::string_view kSlow = R"(id: slow
triggers:
  - webhook: {path: slow-hook, respond: result}
steps:
  - {id: wait, uses: core.sleep, with: {duration: 10m}}
)";

constexpr std::string_view kInvalid = R"(id: invalid
steps:
  - id: fetch
    uses: core.nop
)";

// The server's parts as ServerFixture assembles them, plus the health and metrics routes, with
// two workflow files (one broken) in the watched directory and a low webhook rate.
class OpenApiTest : public test::ServerFixture {
 protected:
  void SetUp() override {
    document_ = std::make_unique<Document>(load_document_file());
    ServerFixture::SetUp();
    ASSERT_TRUE(registry_.has_step("core.noop"))
        << "core plugin not found in " << engine::builtin_plugin_dir();
    add_health_routes(router_, [this] { return ready_.load(); });
    server_metrics_ = std::make_unique<ServerMetrics>(metrics_);
    server_metrics_->set_sources(executor_.get(), http_.get());
    router_.set_observer(
        [this](const RequestSummary& summary) { server_metrics_->observe_request(summary); });
    server_metrics_->add_route(router_, "metrics-token");
  }

  void add_workflow_files(const fs::path& dir) override {
    write_file(dir / "file-flow.yaml", "id: file-flow\nsteps:\n  - {id: one, uses: core.noop}\n");
    write_file(dir / "bad-file.yaml", "id: bad-file\nsteps:\n  - {id: one, uses: core.nop}\n");
  }

  WebhookOptions webhook_options() const override {
    WebhookOptions o;
    o.rate = 0.001;  // a burst per path, then 429
    o.burst = 20;
    return o;
  }

  // Sends a request, checks the answer against the document, and expects `expected_status`.
  Response call(int expected_status, std::string_view method, const std::string& target,
                std::string body = {}, std::string_view content_type = {},
                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return call_on(router_, expected_status, method, target, std::move(body), content_type,
                   headers);
  }

  Response call_on(const Router& router, int expected_status, std::string_view method,
                   const std::string& target, std::string body = {},
                   std::string_view content_type = {},
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    Headers h;
    if (!content_type.empty()) h.set("Content-Type", content_type);
    for (const auto& [name, value] : headers) h.set(name, value);
    if (!h.get("Authorization") && !h.get("Cookie") && !anonymous_) {
      h.set("Authorization", "Bearer " + admin_token_);
    }
    Request request = make_request(method, target, std::move(h), std::move(body));
    const Request sent = request;
    Response response = router.handle(std::move(request));
    SCOPED_TRACE(std::string(method) + " " + target);
    if (expected_status != kAnyStatus) {
      EXPECT_EQ(response.status, expected_status) << response.body;
    }
    check(method, sent, response);
    return response;
  }

  static json::object body_of(const Response& r) {
    boost::system::error_code ec;
    json::value v = json::parse(r.body, ec);
    if (ec || !v.is_object()) {
      ADD_FAILURE() << "not a JSON object: " << r.body;
      return {};
    }
    return v.get_object();
  }

  std::string started_run(const Response& r) {
    auto body = body_of(r);
    return body.contains("run_id") ? std::string(body.at("run_id").as_string()) : std::string();
  }

  engine::RunStatus settle(const std::string& run_id) {
    auto status = executor_->wait(run_id, kSettle);
    EXPECT_TRUE(status.has_value()) << "run " << run_id << " did not settle";
    return status.value_or(engine::RunStatus::running);
  }

  // The answer against the operation the document gives for (method, path).
  void check(std::string_view method, const Request& request, const Response& response) {
    auto op = document_->find(method, request.raw_path);
    if (!op) {
      ADD_FAILURE() << method << " " << request.raw_path << " is not in web/openapi.json";
      return;
    }
    exercised_.insert(op->key);
    answered_.insert(op->key + " " + std::to_string(response.status));
    std::vector<std::string> problems;
    const json::value responses = document_->resolve(op->object->at("responses"), problems);
    for (const auto& p : problems) ADD_FAILURE() << op->key << ": " << p;
    const json::object* documented = nullptr;
    if (const auto* r = responses.as_object().if_contains(std::to_string(response.status))) {
      documented = &r->as_object();
    } else if (const auto* d = responses.as_object().if_contains("default")) {
      documented = &d->as_object();
    }
    if (documented == nullptr) {
      ADD_FAILURE() << op->key << " answered " << response.status
                    << ", which the document does not list: " << response.body;
      return;
    }
    if (const auto* headers = documented->if_contains("headers")) {
      for (const auto& [name, header] : headers->as_object()) {
        const auto* required = header.as_object().if_contains("required");
        if (required != nullptr && required->as_bool()) {
          EXPECT_TRUE(response.headers.get(name).has_value())
              << op->key << " " << response.status << ": header " << name << " is missing";
        }
      }
    }
    const auto actual_type = response.headers.get("Content-Type");
    const json::value* content = documented->if_contains("content");
    if (content == nullptr) {
      EXPECT_TRUE(response.body.empty() && !response.stream)
          << op->key << " " << response.status << " documents no body but has one";
      EXPECT_FALSE(actual_type.has_value()) << op->key << ": Content-Type " << *actual_type;
      return;
    }
    if (!actual_type) {
      ADD_FAILURE() << op->key << " " << response.status << " has no Content-Type";
      return;
    }
    const auto [base, params] = split_media_type(*actual_type);
    const json::value* schema = nullptr;
    bool found = false;
    for (const auto& [media, entry] : content->as_object()) {
      const auto [doc_base, doc_params] = split_media_type(media);
      if (doc_base != base) continue;
      bool all = true;
      for (const auto& p : doc_params) all = all && params.count(p) != 0;
      if (!all) continue;
      found = true;
      schema = entry.as_object().if_contains("schema");
      break;
    }
    if (!found) {
      ADD_FAILURE() << op->key << " " << response.status << " answered Content-Type "
                    << *actual_type << ", which the document does not list";
      return;
    }
    if (response.stream) {
      EXPECT_EQ(base, "text/event-stream") << op->key << ": only event streams are streamed";
      return;
    }
    if (is_json_media(base) && schema != nullptr) {
      boost::system::error_code ec;
      const json::value body = json::parse(response.body, ec);
      if (ec) {
        ADD_FAILURE() << op->key << " " << response.status
                      << ": the body is not JSON: " << response.body;
        return;
      }
      const std::string mismatch = schema_problems(*document_, *schema, body);
      EXPECT_TRUE(mismatch.empty())
          << op->key << " " << response.status << " does not match the document:\n"
          << mismatch << "body: " << response.body;
    }
    if (response.status >= 200 && response.status < 300) check_request(*op, request);
  }

  // A request the server accepted: its query parameters and body must be documented.
  void check_request(const Document::Operation& op, const Request& request) {
    std::set<std::string> documented_query;
    std::vector<std::string> problems;
    const json::value parameters = op.object->contains("parameters")
                                       ? document_->resolve(op.object->at("parameters"), problems)
                                       : json::value(json::array());
    for (const auto& p : parameters.as_array()) {
      if (p.at("in") == "query") documented_query.insert(std::string(p.at("name").as_string()));
    }
    std::string_view query = request.query;
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const std::string name(pair.substr(0, pair.find('=')));
      EXPECT_TRUE(documented_query.count(name) != 0)
          << op.key << ": query parameter `" << name << "` is accepted but not documented";
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
    if (request.body.empty()) return;
    const auto type = request.headers.get("Content-Type");
    if (!type) return;
    const json::value* body = op.object->if_contains("requestBody");
    if (body == nullptr) {
      ADD_FAILURE() << op.key << " accepted a body, but the document has no requestBody";
      return;
    }
    const json::value resolved = document_->resolve(*body, problems);
    const auto base = split_media_type(*type).first;
    const json::value* media = resolved.at("content").as_object().if_contains(base);
    if (media == nullptr) {
      ADD_FAILURE() << op.key << " accepted a body of type " << base
                    << ", which its requestBody does not list";
      return;
    }
    if (is_json_media(base)) {
      const std::string mismatch =
          schema_problems(*document_, media->at("schema"), json::parse(request.body));
      EXPECT_TRUE(mismatch.empty()) << op.key << ": the accepted request body does not match "
                                    << "the document's requestBody:\n"
                                    << mismatch << "body: " << request.body;
    }
  }

  void workflow_operations();
  void run_operations();
  void approval_operations();
  void webhook_operations();
  void other_operations();
  void connection_operations();
  void file_operations();
  void access_operations();
  void kpi_operations();
  void role_matrix();
  void every_change_is_audited();

  bool anonymous_ = false;  // call() adds no credentials

  std::unique_ptr<Document> document_;
  std::set<std::string> exercised_;  // operation keys
  std::set<std::string> answered_;   // operation key + " " + status
  std::unique_ptr<ServerMetrics> server_metrics_;
  std::atomic<bool> ready_{true};
};

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kYaml = "application/yaml";

void OpenApiTest::workflow_operations() {
  SCOPED_TRACE("workflows");
  auto list = body_of(call(200, "GET", "/api/v1/workflows"));
  EXPECT_EQ(list.at("problems").as_array().size(), 1u) << "bad-file.yaml is reported";

  auto created = call(201, "POST", "/api/v1/workflows", std::string(kHello), kYaml);
  EXPECT_EQ(created.headers.get("Location"), "/api/v1/workflows/hello");
  call(409, "POST", "/api/v1/workflows", std::string(kHello), kYaml);
  auto invalid = body_of(call(422, "POST", "/api/v1/workflows", std::string(kInvalid), kYaml));
  ASSERT_FALSE(invalid.at("errors").as_array().empty());
  EXPECT_EQ(invalid.at("errors").as_array()[0].as_object().at("suggestion"), "core.noop");
  call(201, "POST", "/api/v1/workflows", std::string(kLua), "application/x-lua");
  call(201, "POST", "/api/v1/workflows",
       json::serialize(json::object{{"source", kGate}, {"format", "yaml"}}), kJson);
  call(201, "POST", "/api/v1/workflows", std::string(kBrokenJson), kJson);
  call(201, "POST", "/api/v1/workflows", std::string(kSlow), "application/yaml; charset=utf-8");
  call(422, "POST", "/api/v1/workflows",
       json::serialize(json::object{{"source", kGate}, {"format", "xml"}}), kJson);
  call(422, "POST", "/api/v1/workflows", "[1, 2]", kJson);
  call(400, "POST", "/api/v1/workflows", "", kYaml);
  call(400, "POST", "/api/v1/workflows", "{\"id\": ", kJson);
  call(415, "POST", "/api/v1/workflows", "\x89PNG", "image/png");

  call(200, "GET", "/api/v1/workflows/hello");
  call(404, "GET", "/api/v1/workflows/nope");

  call(200, "PUT", "/api/v1/workflows/hello", hello_v2(), kYaml);
  call(201, "PUT", "/api/v1/workflows/put-new",
       "id: put-new\nsteps:\n  - {id: one, uses: core.noop}\n", kYaml);
  call(422, "PUT", "/api/v1/workflows/other-id", std::string(kGate), kYaml);
  call(409, "PUT", "/api/v1/workflows/file-flow",
       "id: file-flow\nsteps:\n  - {id: two, uses: core.noop}\n", kYaml);
  call(400, "PUT", "/api/v1/workflows/hello", "", kYaml);
  call(415, "PUT", "/api/v1/workflows/hello", "<workflow/>", "application/xml");

  auto versions = body_of(call(200, "GET", "/api/v1/workflows/hello/versions"));
  EXPECT_EQ(versions.at("items").as_array().size(), 2u);
  call(404, "GET", "/api/v1/workflows/nope/versions");
  call(200, "GET", "/api/v1/workflows/hello/versions/1");
  call(404, "GET", "/api/v1/workflows/hello/versions/99");

  auto rolled =
      body_of(call(200, "POST", "/api/v1/workflows/hello/rollback", R"({"revision": 1})", kJson));
  EXPECT_EQ(rolled.at("revision"), 3);
  call(422, "POST", "/api/v1/workflows/hello/rollback", R"({"revision": 0})", kJson);
  call(404, "POST", "/api/v1/workflows/hello/rollback", R"({"revision": 99})", kJson);
  call(404, "POST", "/api/v1/workflows/nope/rollback", R"({"revision": 1})", kJson);
  call(400, "POST", "/api/v1/workflows/hello/rollback", "", kJson);
  call(415, "POST", "/api/v1/workflows/hello/rollback", "revision=1", "text/plain");
  call(409, "POST", "/api/v1/workflows/file-flow/rollback", R"({"revision": 1})", kJson);

  call(200, "POST", "/api/v1/workflows/hello/disable");
  call(200, "POST", "/api/v1/workflows/hello/enable");
  call(404, "POST", "/api/v1/workflows/nope/enable");
  call(404, "POST", "/api/v1/workflows/nope/disable");
  // Two workflows claiming one webhook path: the second may only exist while the first is off.
  const std::string hook_a =
      "id: hook-a\ntriggers:\n  - webhook: {path: shared-hook}\n"
      "steps:\n  - {id: one, uses: core.noop}\n";
  const std::string hook_b =
      "id: hook-b\ntriggers:\n  - webhook: {path: shared-hook}\n"
      "steps:\n  - {id: one, uses: core.noop}\n";
  call(201, "POST", "/api/v1/workflows", hook_a, kYaml);
  call(409, "POST", "/api/v1/workflows", hook_b, kYaml);
  call(200, "POST", "/api/v1/workflows/hook-a/disable");
  call(201, "POST", "/api/v1/workflows", hook_b, kYaml);
  call(409, "POST", "/api/v1/workflows/hook-a/enable");

  call(204, "DELETE", "/api/v1/workflows/put-new");
  call(404, "DELETE", "/api/v1/workflows/put-new");
  call(409, "DELETE", "/api/v1/workflows/file-flow");

  auto valid = body_of(call(200, "POST", "/api/v1/validate", std::string(kHello), kYaml));
  EXPECT_EQ(valid.at("valid"), true);
  call(200, "POST", "/api/v1/validate", std::string(kLua), "application/x-lua");
  auto not_valid = body_of(call(200, "POST", "/api/v1/validate", std::string(kInvalid), kYaml));
  EXPECT_EQ(not_valid.at("valid"), false);
  call(200, "POST", "/api/v1/validate", std::string(kBrokenJson), kJson);
  call(400, "POST", "/api/v1/validate", "", kYaml);
  call(415, "POST", "/api/v1/validate", "x", "image/gif");
  call(422, "POST", "/api/v1/validate", R"({"source": 42})", kJson);

  call(200, "GET", "/api/v1/workflows");
}

void OpenApiTest::run_operations() {
  SCOPED_TRACE("runs");
  auto first = call(201, "POST", "/api/v1/workflows/hello/runs");
  const std::string hello_run = started_run(first);
  EXPECT_EQ(first.headers.get("Location"), "/api/v1/runs/" + hello_run);
  const std::string keyed_body =
      R"({"inputs": {"name": "Ann", "items": [4, 5]}, "dry_run": false, "idempotency_key": "k-1"})";
  const std::string keyed =
      started_run(call(201, "POST", "/api/v1/workflows/hello/runs", keyed_body, kJson));
  EXPECT_EQ(started_run(call(200, "POST", "/api/v1/workflows/hello/runs", keyed_body, kJson)),
            keyed);
  call(201, "POST", "/api/v1/workflows/hello/runs", "{}", kJson, {{"Idempotency-Key", "h-1"}});
  call(422, "POST", "/api/v1/workflows/hello/runs", R"({"bogus": 1})", kJson);
  call(422, "POST", "/api/v1/workflows/hello/runs", R"({"inputs": {"nope": 1}})", kJson);
  call(422, "POST", "/api/v1/workflows/hello/runs", "[]", kJson);
  call(404, "POST", "/api/v1/workflows/nope/runs", "{}", kJson);
  call(400, "POST", "/api/v1/workflows/hello/runs", "{", kJson);
  call(415, "POST", "/api/v1/workflows/hello/runs", "inputs", "text/plain");
  EXPECT_EQ(settle(hello_run), engine::RunStatus::succeeded);
  EXPECT_EQ(settle(keyed), engine::RunStatus::succeeded);

  call(200, "GET", "/api/v1/runs");
  auto page = body_of(call(200, "GET", "/api/v1/runs?limit=1"));
  ASSERT_TRUE(page.contains("next_cursor"));
  call(200, "GET",
       "/api/v1/runs?limit=2&cursor=" + std::string(page.at("next_cursor").as_string()));
  call(200, "GET", "/api/v1/runs?workflow=hello&status=succeeded&trigger=api");
  call(
      200, "GET",
      "/api/v1/runs?from=2026-01-01T00:00:00Z&to=" + std::to_string(engine::now_millis() + 60'000));
  call(400, "GET", "/api/v1/runs?status=finished");
  call(400, "GET", "/api/v1/runs?limit=0");
  call(400, "GET", "/api/v1/runs?from=yesterday");

  auto detail = body_of(call(200, "GET", "/api/v1/runs/" + hello_run));
  EXPECT_EQ(detail.at("status"), "succeeded");
  call(404, "GET", "/api/v1/runs/0000000000000-0000000000000000");

  auto items = body_of(call(200, "GET", "/api/v1/runs/" + hello_run + "/steps/fan/items"));
  EXPECT_EQ(items.at("total"), 3);
  call(200, "GET", "/api/v1/runs/" + hello_run + "/steps/fan/items?offset=1&limit=1");
  call(404, "GET", "/api/v1/runs/" + hello_run + "/steps/nope/items");
  call(404, "GET", "/api/v1/runs/0000000000000-0000000000000000/steps/fan/items");
  call(400, "GET", "/api/v1/runs/" + hello_run + "/steps/fan/items?limit=501");

  auto logs = body_of(call(200, "GET", "/api/v1/runs/" + hello_run + "/logs"));
  EXPECT_GE(logs.at("total").as_int64(), 1);
  call(200, "GET", "/api/v1/runs/" + hello_run + "/logs?step=greet&offset=0&limit=10");
  call(400, "GET", "/api/v1/runs/" + hello_run + "/logs?offset=-1");
  call(404, "GET", "/api/v1/runs/0000000000000-0000000000000000/logs");

  // A failed run, retried; a run that did not fail cannot be.
  const std::string broken = started_run(call(201, "POST", "/api/v1/workflows/broken/runs"));
  EXPECT_EQ(settle(broken), engine::RunStatus::failed);
  call(200, "GET", "/api/v1/runs/" + broken);
  const std::string retried = started_run(call(201, "POST", "/api/v1/runs/" + broken + "/retry"));
  settle(retried);
  call(409, "POST", "/api/v1/runs/" + hello_run + "/retry");
  call(404, "POST", "/api/v1/runs/0000000000000-0000000000000000/retry");

  settle(started_run(call(201, "POST", "/api/v1/runs/" + hello_run + "/rerun")));
  settle(started_run(
      call(201, "POST", "/api/v1/runs/" + hello_run + "/rerun", R"({"from_step": "fan"})", kJson)));
  settle(started_run(
      call(201, "POST", "/api/v1/runs/" + hello_run + "/rerun", R"({"from_step": null})", kJson)));
  call(409, "POST", "/api/v1/runs/" + hello_run + "/rerun", R"({"from_step": "nope"})", kJson);
  call(422, "POST", "/api/v1/runs/" + hello_run + "/rerun", R"({"step": "fan"})", kJson);
  call(422, "POST", "/api/v1/runs/" + hello_run + "/rerun", "[]", kJson);
  call(400, "POST", "/api/v1/runs/" + hello_run + "/rerun", "{\"from_step\"", kJson);
  call(415, "POST", "/api/v1/runs/" + hello_run + "/rerun", "fan", "text/plain");
  call(404, "POST", "/api/v1/runs/0000000000000-0000000000000000/rerun");

  // Cancelling: a run that sleeps for ten minutes.
  const std::string slow = started_run(call(201, "POST", "/api/v1/workflows/slow/runs"));
  call(202, "POST", "/api/v1/runs/" + slow + "/cancel", R"({"reason": "not needed"})", kJson);
  EXPECT_EQ(settle(slow), engine::RunStatus::cancelled);
  call(409, "POST", "/api/v1/runs/" + slow + "/cancel");
  call(422, "POST", "/api/v1/runs/" + slow + "/cancel", R"({"reason": 5})", kJson);
  call(400, "POST", "/api/v1/runs/" + slow + "/cancel", "{", kJson);
  call(415, "POST", "/api/v1/runs/" + slow + "/cancel", "why", "text/plain");
  call(404, "POST", "/api/v1/runs/0000000000000-0000000000000000/cancel");

  // Event streams: only the status and Content-Type are checked (the stream is not run).
  call(200, "GET", "/api/v1/runs/" + hello_run + "/events");
  call(404, "GET", "/api/v1/runs/0000000000000-0000000000000000/events");
  call(200, "GET", "/api/v1/events");
  call(200, "GET", "/api/v1/events?workflow=hello");
}

void OpenApiTest::approval_operations() {
  SCOPED_TRACE("approvals");
  const std::string approve_run = started_run(call(201, "POST", "/api/v1/workflows/gate/runs"));
  const std::string reject_run = started_run(call(201, "POST", "/api/v1/workflows/gate/runs"));
  settle(approve_run);
  settle(reject_run);
  ASSERT_TRUE(executor_->is_parked(approve_run));

  auto pending = body_of(call(200, "GET", "/api/v1/approvals"));
  EXPECT_EQ(pending.at("items").as_array().size(), 2u);
  call(200, "GET", "/api/v1/approvals?status=pending");
  call(400, "GET", "/api/v1/approvals?status=maybe");
  call(200, "GET", "/api/v1/runs/" + approve_run);

  const std::string approve = "/api/v1/approvals/" + approve_run + "/approve/approve";
  call(422, "POST", approve, json::serialize(json::object{{"comment", std::string(2001, 'x')}}),
       kJson);
  call(400, "POST", approve, "{\"comment\": ", kJson);
  call(415, "POST", approve, "ok", "text/plain");
  auto approved = body_of(call(200, "POST", approve, R"({"comment": "within budget"})", kJson));
  EXPECT_EQ(approved.at("status"), "approved");
  call(409, "POST", approve);
  call(404, "POST", "/api/v1/approvals/" + approve_run + "/apply/approve");
  EXPECT_EQ(settle(approve_run), engine::RunStatus::succeeded);

  auto rejected = body_of(
      call(200, "POST", "/api/v1/approvals/" + reject_run + "/approve/reject", "{}", kJson));
  EXPECT_EQ(rejected.at("status"), "rejected");
  call(409, "POST", "/api/v1/approvals/" + reject_run + "/approve/reject");
  call(404, "POST", "/api/v1/approvals/0000000000000-0000000000000000/approve/reject");
  call(422, "POST", "/api/v1/approvals/" + reject_run + "/approve/reject", R"({"by": "me"})",
       kJson);
  call(400, "POST", "/api/v1/approvals/" + reject_run + "/approve/reject", "[", kJson);
  call(415, "POST", "/api/v1/approvals/" + reject_run + "/approve/reject", "no", "text/csv");
  EXPECT_EQ(settle(reject_run), engine::RunStatus::failed);

  auto all = body_of(call(200, "GET", "/api/v1/approvals?status=all"));
  EXPECT_EQ(all.at("items").as_array().size(), 2u);
  call(200, "GET", "/api/v1/runs/" + reject_run);
}

void OpenApiTest::webhook_operations() {
  SCOPED_TRACE("webhooks");
  const std::string hooks =
      "id: hooks\ntriggers:\n"
      "  - webhook: {path: token-hook, auth: {scheme: token, secret: \"${{ secrets.HOOK_TOKEN "
      "}}\"}}\n"
      "  - webhook: {path: no-secret-hook, auth: {scheme: token, secret: \"${{ secrets.MISSING "
      "}}\"}}\n"
      "  - webhook: {path: flood-hook}\n"
      "steps:\n  - {id: one, uses: core.noop, with: {body: \"${{ trigger.body }}\"}}\n";
  call(201, "POST", "/api/v1/workflows", hooks, kYaml);
  call(201, "POST", "/api/v1/workflows",
       "id: sync\ntriggers:\n  - webhook: {path: sync-hook, respond: result}\n"
       "steps:\n  - {id: echo, uses: core.noop, with: {body: \"${{ trigger.body }}\"}}\n"
       "outputs:\n  body: ${{ steps.echo.output.body }}\n",
       kYaml);
  call(201, "POST", "/api/v1/workflows",
       "id: sync-fail\ntriggers:\n  - webhook: {path: fail-hook, respond: result}\n"
       "steps:\n  - {id: boom, uses: core.fail, with: {retryable: false}}\n",
       kYaml);
  call(201, "POST", "/api/v1/workflows",
       "id: needs-input\ntriggers:\n  - webhook: {path: needs-input-hook}\n"
       "inputs:\n  account: {type: string, required: true}\n"
       "steps:\n  - {id: one, uses: core.noop}\n",
       kYaml);

  const std::string accepted = started_run(
      call(202, "POST", "/hooks/hello-hook", R"({"campaign": "c-101", "spend": 12.5})", kJson));
  settle(accepted);
  const std::string first = started_run(
      call(202, "POST", "/hooks/hello-hook", "{}", kJson, {{"Idempotency-Key", "delivery-1"}}));
  EXPECT_EQ(started_run(call(200, "POST", "/hooks/hello-hook", "{}", kJson,
                             {{"Idempotency-Key", "delivery-1"}})),
            first);
  settle(first);
  settle(started_run(
      call(202, "POST", "/hooks/hello-hook", "a=1&b=2&b=3", "application/x-www-form-urlencoded")));
  settle(started_run(call(202, "POST", "/hooks/hello-hook", "ping", "text/plain")));
  call(400, "POST", "/hooks/hello-hook", "{\"a\": ", kJson);
  call(400, "POST", "/hooks/hello-hook", "{}", kJson, {{"Idempotency-Key", std::string(600, 'k')}});
  call(415, "POST", "/hooks/hello-hook", "\x89PNG", "image/png");
  call(415, "POST", "/hooks/hello-hook", "{}", kJson, {{"Content-Encoding", "gzip"}});
  call(404, "POST", "/hooks/nope");

  call(401, "POST", "/hooks/token-hook", "{}", kJson);
  settle(started_run(call(202, "POST", "/hooks/token-hook", "{}", kJson,
                          {{"Authorization", "Bearer hook-token-123"}})));
  call(503, "POST", "/hooks/no-secret-hook", "{}", kJson, {{"Authorization", "Bearer x"}});
  call(422, "POST", "/hooks/needs-input-hook", "{}", kJson);

  auto result = body_of(call(200, "POST", "/hooks/sync-hook", R"({"n": 1})", kJson));
  EXPECT_EQ(result.at("status"), "succeeded");
  call(500, "POST", "/hooks/fail-hook", "{}", kJson);
  // `respond: result` on a run that outlasts the wait: 202 with where to follow it. Asked of a
  // receiver that waits briefly, so that the main one can wait as long as a loaded machine needs.
  {
    WebhookOptions brief;
    brief.result_timeout = std::chrono::milliseconds(300);
    WebhookReceiver impatient(
        WebhookServices{*catalog_, *executor_, *store_, expressions_, secrets(), nullptr}, brief);
    Router router;
    impatient.add_routes(router);
    const std::string slow = started_run(call_on(router, 202, "POST", "/hooks/slow-hook"));
    call(202, "POST", "/api/v1/runs/" + slow + "/cancel");
    settle(slow);
  }

  // The rate limit: a burst of 20 per path, then 429 with Retry-After.
  for (int i = 0; i < 20; ++i) {
    call(i == 0 ? 202 : 200, "POST", "/hooks/flood-hook", "{}", kJson,
         {{"Idempotency-Key", "same"}});
  }
  call(429, "POST", "/hooks/flood-hook", "{}", kJson, {{"Idempotency-Key", "same"}});
}

void OpenApiTest::other_operations() {
  SCOPED_TRACE("plugins, schedules, health, document");
  auto plugins = body_of(call(200, "GET", "/api/v1/plugins"));
  EXPECT_FALSE(plugins.at("plugins").as_array().empty());

  auto cron = body_of(call(
      200, "GET",
      "/api/v1/cron/next?expr=0+9+*+*+MON-FRI&tz=Europe/Berlin&count=3&from=2026-03-27T00:00:00"));
  EXPECT_EQ(cron.at("times").as_array().size(), 3u);
  call(200, "GET", "/api/v1/cron/next?expr=%40daily");
  call(400, "GET", "/api/v1/cron/next?expr=61+*+*+*+*");
  call(400, "GET", "/api/v1/cron/next");
  call(400, "GET", "/api/v1/cron/next?expr=%40daily&tz=Mars%2FOlympus");
  call(400, "GET", "/api/v1/cron/next?expr=%40daily&count=101");
  call(400, "GET", "/api/v1/cron/next?expr=%40daily&from=tomorrow");

  auto served = call(200, "GET", "/api/v1/openapi.json");
  boost::system::error_code ec;
  const json::value parsed = json::parse(served.body, ec);
  ASSERT_FALSE(ec) << "the served document does not parse: " << ec.message();
  EXPECT_TRUE(parsed == document_->root())
      << "the binary serves another document than web/openapi.json: rebuild flowpilot_web";

  call(200, "GET", "/healthz");
  call(200, "GET", "/readyz");
  ready_ = false;
  call(503, "GET", "/readyz");
  ready_ = true;
  call(401, "GET", "/metrics");
  call(200, "GET", "/metrics", {}, {}, {{"Authorization", "Bearer metrics-token"}});
}

void OpenApiTest::kpi_operations() {
  SCOPED_TRACE("kpis");
  std::vector<engine::FactRow> rows;
  for (int day = 1; day <= 30; ++day) {
    engine::FactRow f;
    f.platform = "meta";
    f.account_id = "a1";
    f.campaign_id = "c1";
    f.campaign_name = "Brand";
    f.date = "2026-04-" + std::string(day < 10 ? "0" : "") + std::to_string(day);
    f.currency = "EUR";
    f.spend_micros = (day == 29 ? 900 : 100) * 1'000'000LL;
    f.conversions_micros = 4'000'000;
    f.impressions = 1000;
    f.clicks = 40;
    rows.push_back(f);
  }
  for (int day = 1; day <= 30; ++day) {  // a second campaign, four times as dear per conversion
    engine::FactRow f = rows[static_cast<std::size_t>(day - 1)];
    f.campaign_id = "c2";
    f.campaign_name = "Costly";
    f.spend_micros = 400'000'000;
    rows.push_back(f);
  }
  warehouse_->upsert_facts(rows, "openapi");
  auto report = body_of(call(200, "GET", "/api/v1/kpis?since=2026-04-24&until=2026-04-30"));
  EXPECT_FALSE(report.at("currencies").at(0).at("anomalies").as_array().empty());
  call(200, "GET", "/api/v1/kpis?platform=google_ads");
  call(400, "GET", "/api/v1/kpis?since=30.04.2026");
  call(200, "GET", "/api/v1/kpis/campaigns");
  call(400, "GET", "/api/v1/kpis/campaigns?until=2026-04-31");
  call(200, "GET", "/api/v1/kpis/campaigns/meta/a1/c1?since=2026-04-24&until=2026-04-30");
  call(404, "GET", "/api/v1/kpis/campaigns/meta/a1/c3");
  call(400, "GET", "/api/v1/kpis/campaigns/meta/a1/c1?since=2026-05-01&until=2026-04-01");
  // Recommendations: c2's, over two periods (so two ids), one accepted and one dismissed.
  const auto first_id = [this](const std::string& period) {
    auto listed = body_of(call(200, "GET", "/api/v1/recommendations" + period));
    EXPECT_FALSE(listed.at("items").as_array().empty()) << listed;
    return listed.at("items").as_array().empty() ? std::string()
                                                  : std::string(listed.at("items").at(0).at("id").as_string());
  };
  const std::string accept_period = "?since=2026-04-01&until=2026-04-30";
  const std::string dismiss_period = "?since=2026-04-10&until=2026-04-30";
  const std::vector<std::string> ids = {first_id(accept_period), first_id(dismiss_period)};
  call(400, "GET", "/api/v1/recommendations?until=someday");
  for (const std::string verb : {"accept", "dismiss"}) {
    const std::string id = verb == "accept" ? ids[0] : ids[1];
    const std::string period = verb == "accept" ? accept_period : dismiss_period;
    const std::string base = "/api/v1/recommendations/" + id + "/" + verb;
    call(400, "POST", base + "?since=1.4.2026", "{}", kJson);
    call(404, "POST", "/api/v1/recommendations/r_0/" + verb + period, "{}", kJson);
    call(400, "POST", base + period, "{", kJson);
    call(415, "POST", base + period, "comment", "text/plain");
    call(422, "POST", base + period, R"({"comment": 1})", kJson);
    call(200, "POST", base + period, R"({"comment": "checked"})", kJson);
    call(409, "POST", base + period, "{}", kJson);
  }
  engine::Warehouse* const warehouse = api_->warehouse;
  api_->warehouse = nullptr;
  call(503, "GET", "/api/v1/recommendations");
  call(503, "POST", "/api/v1/recommendations/" + ids[0] + "/accept", "{}", kJson);
  call(503, "POST", "/api/v1/recommendations/" + ids[0] + "/dismiss", "{}", kJson);
  call(503, "GET", "/api/v1/kpis");
  call(503, "GET", "/api/v1/kpis/campaigns");
  call(503, "GET", "/api/v1/kpis/campaigns/meta/a1/c1");
  api_->warehouse = warehouse;
}

void OpenApiTest::file_operations() {
  SCOPED_TRACE("files");
  const fs::path root = api_->files_root;
  api_->files_root.clear();
  call(503, "GET", "/api/v1/files");
  call(503, "PUT", "/api/v1/files/uploads/spend.csv", "a,b\n1,2\n", "text/csv");
  call(503, "GET", "/api/v1/files/uploads/spend.csv");
  call(503, "DELETE", "/api/v1/files/uploads/spend.csv");
  api_->files_root = root;

  auto created = call(201, "PUT", "/api/v1/files/uploads/spend.csv", "a,b\n1,2\n", "text/csv");
  EXPECT_EQ(created.headers.get("Location"), "/api/v1/files/uploads/spend.csv");
  call(200, "PUT", "/api/v1/files/uploads/spend.csv", "a,b\n3,4\n", "application/octet-stream");
  call(201, "PUT", "/api/v1/files/notes.txt", "hello", "text/plain");
  call(400, "PUT", "/api/v1/files/uploads/.env", "x", "text/plain");
  call(400, "PUT", "/api/v1/files/a%01b.csv", "x", "text/csv");
  call(409, "PUT", "/api/v1/files/notes.txt/inside.csv", "x", "text/csv");
  call(409, "PUT", "/api/v1/files/uploads", "x", "text/csv");
  call(415, "PUT", "/api/v1/files/uploads/x.csv", "{}", kJson);

  auto listed = body_of(call(200, "GET", "/api/v1/files?prefix=uploads%2F"));
  EXPECT_EQ(listed.at("items").as_array().size(), 1u);
  call(200, "GET", "/api/v1/files");

  call(200, "GET", "/api/v1/files/uploads/spend.csv");
  call(200, "GET", "/api/v1/files/notes.txt");
  call(400, "GET", "/api/v1/files/.hidden");
  call(404, "GET", "/api/v1/files/uploads/nope.csv");
  call(409, "GET", "/api/v1/files/uploads");
  const auto limit = api_->max_file_download_bytes;
  api_->max_file_download_bytes = 2;
  call(409, "GET", "/api/v1/files/notes.txt");
  api_->max_file_download_bytes = limit;

  call(204, "DELETE", "/api/v1/files/notes.txt");
  call(404, "DELETE", "/api/v1/files/notes.txt");
  call(400, "DELETE", "/api/v1/files/%FF");
  call(409, "DELETE", "/api/v1/files/uploads");
}

void OpenApiTest::connection_operations() {
  SCOPED_TRACE("connections");
  // Without a connection store every route but the type table answers 503.
  call(503, "GET", "/api/v1/connections");
  call(503, "POST", "/api/v1/connections", R"({"name": "x", "type": "http"})", kJson);
  call(503, "GET", "/api/v1/connections/x");
  call(503, "PUT", "/api/v1/connections/x", "{}", kJson);
  call(503, "DELETE", "/api/v1/connections/x");
  call(503, "POST", "/api/v1/connections/x/test");
  call(200, "GET", "/api/v1/connection-types");

  engine::ConnectionService service(*store_,
                                    engine::Keyring({engine::Keyring::generate_key()}));
  api_->connections = &service;
  api_->http = http_.get();
  const std::string meta =
      R"({"name": "meta", "type": "meta_ads", "fields": {"access_token": "tok-123456",
          "account_id": "act_1"}, "rate_limit": {"per_second": 2, "burst": 4}})";
  call(201, "POST", "/api/v1/connections", meta, kJson);
  call(409, "POST", "/api/v1/connections", meta, kJson);
  call(422, "POST", "/api/v1/connections", R"({"name": "y", "type": "nope"})", kJson);
  call(400, "POST", "/api/v1/connections", "{\"name\": ", kJson);
  call(415, "POST", "/api/v1/connections", "name=y", "text/plain");
  call(200, "GET", "/api/v1/connections");
  call(200, "GET", "/api/v1/connections/meta");
  call(404, "GET", "/api/v1/connections/nope");
  call(200, "PUT", "/api/v1/connections/meta", R"({"fields": {"account_id": "act_2"}})", kJson);
  call(422, "PUT", "/api/v1/connections/meta", R"({"fields": {"access_token": null}})", kJson);
  call(404, "PUT", "/api/v1/connections/nope", "{}", kJson);
  call(400, "PUT", "/api/v1/connections/meta", "", kJson);
  call(415, "PUT", "/api/v1/connections/meta", "<x/>", "application/xml");
  call(200, "POST", "/api/v1/connections/meta/test");
  call(404, "POST", "/api/v1/connections/nope/test");
  call(204, "DELETE", "/api/v1/connections/meta");
  call(404, "DELETE", "/api/v1/connections/meta");
  api_->connections = nullptr;
  api_->http = nullptr;
}


// The value of the session cookie a sign-in set ("flowpilot_session=..."), as a Cookie header.
std::string session_cookie_of(const Response& r) {
  const std::string set = std::string(r.headers.get("Set-Cookie").value_or(""));
  return set.substr(0, set.find(';'));
}

void OpenApiTest::access_operations() {
  SCOPED_TRACE("access");
  users_->add({"signin@test.local", "Sign In", "editor", std::string("correct horse battery")});
  const std::string login = "/api/v1/auth/login";
  anonymous_ = true;
  call(400, "POST", login, "{", kJson);
  call(415, "POST", login, "email=a", "application/x-www-form-urlencoded");
  call(422, "POST", login, R"({"email": "signin@test.local"})", kJson);
  call(422, "POST", login, R"({"email": "signin@test.local", "password": 12})", kJson);
  call(401, "POST", login, R"({"email": "signin@test.local", "password": "not the one!"})", kJson);
  call(401, "POST", login, R"({"email": "nobody@test.local", "password": "not the one!"})", kJson);
  auto signed_in = call(200, "POST", login,
                        R"({"email": " SignIn@test.local", "password": "correct horse battery"})",
                        kJson);
  const std::string cookie = session_cookie_of(signed_in);
  ASSERT_TRUE(cookie.starts_with("flowpilot_session=")) << cookie;
  const std::string csrf(body_of(signed_in).at("csrf_token").as_string());
  using Fields = std::vector<std::pair<std::string, std::string>>;
  const Fields with_cookie = {{"Cookie", cookie}};
  const Fields with_csrf = {{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
  auto me = body_of(call(200, "GET", "/api/v1/auth/session", {}, {}, with_cookie));
  EXPECT_EQ(me.at("csrf_token").as_string(), csrf);
  EXPECT_EQ(me.at("user").at("email"), "signin@test.local");

  // A change made with the cookie needs the session's CSRF token.
  call(403, "POST", "/api/v1/tokens", R"({"scopes": ["runs:read"]})", kJson, with_cookie);
  call(403, "POST", "/api/v1/tokens", R"({"scopes": ["runs:read"]})", kJson,
       {{"Cookie", cookie}, {"X-CSRF-Token", std::string(csrf.size(), '0')}});
  auto made = body_of(call(201, "POST", "/api/v1/tokens",
                           R"({"name": "ci", "scopes": ["runs:read"], "expires": "30d"})", kJson,
                           with_csrf));
  const std::string secret(made.at("secret").as_string());
  const std::string token_id(made.at("id").as_string());
  const Fields with_token = {{"Authorization", "Bearer " + secret}};
  EXPECT_EQ(body_of(call(200, "GET", "/api/v1/auth/session", {}, {}, with_token)).at("kind"),
            "token");
  call(200, "GET", "/api/v1/runs", {}, {}, with_token);
  auto denied = body_of(call(403, "GET", "/api/v1/workflows", {}, {}, with_token));
  EXPECT_EQ(denied.at("required_permission"), "workflows:read");
  // A token cannot mint a broader one, nor one for somebody else.
  call(403, "POST", "/api/v1/tokens", R"({"scopes": ["runs:write"]})", kJson, with_token);
  call(403, "POST", "/api/v1/tokens", R"({"scopes": ["runs:read"], "user": "admin@test.local"})",
       kJson, with_csrf);
  call(403, "POST", "/api/v1/tokens", R"({"scopes": ["approvals"]})", kJson, with_csrf);
  anonymous_ = false;
  call(404, "POST", "/api/v1/tokens", R"({"scopes": ["runs:read"], "user": "ghost@test.local"})",
       kJson);
  call(422, "POST", "/api/v1/tokens", R"({"scopes": ["runs:fly"]})", kJson);
  call(422, "POST", "/api/v1/tokens", R"({"scopes": ["runs:read"], "expires": "soon"})", kJson);
  call(422, "POST", "/api/v1/tokens", R"({"name": "no scopes"})", kJson);
  call(400, "POST", "/api/v1/tokens", "{", kJson);
  call(415, "POST", "/api/v1/tokens", "scopes", "text/plain");
  auto mine = body_of(call(200, "GET", "/api/v1/tokens", {}, {}, with_cookie));
  ASSERT_EQ(mine.at("items").as_array().size(), 1u);
  EXPECT_FALSE(mine.at("items").as_array()[0].as_object().contains("secret"));
  call(403, "GET", "/api/v1/tokens?user=admin%40test.local", {}, {}, with_cookie);
  call(404, "GET", "/api/v1/tokens?user=ghost%40test.local");
  call(200, "GET", "/api/v1/tokens?user=signin%40test.local");
  anonymous_ = true;
  call(403, "DELETE", "/api/v1/tokens/" + token_id, {}, {}, with_cookie);
  call(200, "DELETE", "/api/v1/tokens/" + token_id, {}, {}, with_csrf);
  call(401, "GET", "/api/v1/auth/session", {}, {}, with_token);
  EXPECT_EQ(body_of(call(200, "GET", "/api/v1/auth/session", {}, {}, {{"Accept", "application/json"}}))
                .at("signed_in"),
            false);
  call(404, "DELETE", "/api/v1/tokens/t_nope", {}, {}, with_csrf);
  call(403, "POST", "/api/v1/auth/logout", {}, {}, with_cookie);
  call(204, "POST", "/api/v1/auth/logout", {}, {}, with_csrf);
  call(401, "GET", "/api/v1/auth/session", {}, {}, with_cookie);
  // Five failures for an account (since its last sign-in) and the next attempt waits, right
  // password or not.
  for (int i = 0; i < 5; ++i) {
    call(401, "POST", login, R"({"email": "signin@test.local", "password": "still not it"})",
         kJson);
  }
  auto throttled = call(429, "POST", login,
                        R"({"email": "signin@test.local", "password": "correct horse battery"})",
                        kJson);
  EXPECT_TRUE(throttled.headers.get("Retry-After").has_value());
  anonymous_ = false;

  call(200, "GET", "/api/v1/users");
  auto created = body_of(call(201, "POST", "/api/v1/users",
                              R"({"email": "new@test.local", "role": "approver"})", kJson));
  EXPECT_EQ(created.at("password").as_string().size(), 20u);
  const std::string user_id(created.at("user").at("id").as_string());
  call(409, "POST", "/api/v1/users", R"({"email": "NEW@test.local"})", kJson);
  call(422, "POST", "/api/v1/users", R"({"email": "not-an-email"})", kJson);
  call(422, "POST", "/api/v1/users", R"({"email": "x@test.local", "role": "owner"})", kJson);
  call(400, "POST", "/api/v1/users", "{", kJson);
  call(415, "POST", "/api/v1/users", "email", "text/plain");
  const std::string user = "/api/v1/users/" + user_id;
  call(200, "PATCH", user, R"({"role": "viewer"})", kJson);
  call(200, "PATCH", user, R"({"disabled": true})", kJson);
  call(422, "PATCH", user, R"({"role": "owner"})", kJson);
  call(422, "PATCH", user, R"({"disabled": "yes"})", kJson);
  call(404, "PATCH", "/api/v1/users/u_nope", "{}", kJson);
  call(400, "PATCH", user, "{", kJson);
  call(415, "PATCH", user, "role", "text/plain");
  EXPECT_EQ(body_of(call(200, "POST", user + "/password")).at("password").as_string().size(), 20u);
  call(200, "POST", user + "/password", R"({"password": "a long enough password"})", kJson);
  call(422, "POST", user + "/password", R"({"password": "short"})", kJson);
  call(404, "POST", "/api/v1/users/u_nope/password");
  call(400, "POST", user + "/password", "{", kJson);
  call(415, "POST", user + "/password", "x", "text/plain");
  call(204, "DELETE", user + "/sessions");
  call(404, "DELETE", "/api/v1/users/u_nope/sessions");

  auto page = body_of(call(200, "GET", "/api/v1/audit?action=user.&limit=2"));
  ASSERT_EQ(page.at("items").as_array().size(), 2u);
  ASSERT_TRUE(page.at("next_cursor").is_string());
  auto next = body_of(call(200, "GET", "/api/v1/audit?action=user.&cursor=" +
                                           std::string(page.at("next_cursor").as_string())));
  EXPECT_FALSE(next.at("items").as_array().empty());
  EXPECT_LT(next.at("items").as_array()[0].at("id").as_int64(),
            page.at("items").as_array()[1].at("id").as_int64());
  call(400, "GET", "/api/v1/audit?limit=0");
}

// The permissions each role grants, as docs/access.md states them. Written out here rather than
// taken from engine::PermissionSet, so that the server is checked against the spec.
bool role_grants(const std::string& role, const std::string& permission) {
  static const std::map<std::string, std::set<std::string>> kGrants = {
      {"editor", {"workflows:read", "workflows:write", "runs:read", "runs:write", "connections:read"}},
      {"approver", {"workflows:read", "runs:read", "approvals"}},
      {"viewer", {"workflows:read", "runs:read"}},
  };
  if (role == "admin" || permission == "signed-in") return true;
  return kGrants.at(role).count(permission) != 0;
}

// Every documented operation, with every role: no credentials is 401, a role without the
// operation's permission (x-permission) is 403 naming it, and a role with it gets past the check
// (the resource does not exist, so an allowed call changes nothing but an upload of an empty
// file). A token whose scopes grant none of the permissions is 403 wherever one is needed.
void OpenApiTest::role_matrix() {
  SCOPED_TRACE("role matrix");
  std::vector<std::pair<std::string, std::string>> principals = {{"admin", admin_token_}};
  for (const std::string role : {"editor", "approver", "viewer"}) {
    principals.emplace_back(role, token_for(role + "@matrix.test", role));
  }
  const std::string narrow =
      tokens_->create({"admin@test.local", "narrow", {"pii:read"}, std::nullopt}).secret;
  int checked = 0;
  for (const auto& [tmpl, item] : document_->root().at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      if (!op.is_object() || !op.as_object().contains("responses")) continue;  // not an operation
      const std::string permission(op.at("x-permission").as_string());
      if (permission == "open") continue;
      std::string target;
      for (const auto& segment : split_path(tmpl)) {
        target += "/" + (segment.front() == '{' ? std::string("matrix-none") : segment);
      }
      std::string verb(method);
      for (char& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      SCOPED_TRACE(verb + " " + target);
      anonymous_ = true;
      call(401, verb, target);
      for (const auto& [role, token] : principals) {
        SCOPED_TRACE(role);
        auto r = call(kAnyStatus, verb, target, {}, {}, {{"Authorization", "Bearer " + token}});
        if (role_grants(role, permission)) {
          EXPECT_NE(r.status, 401) << r.body;
          EXPECT_NE(r.status, 403) << r.body;
        } else {
          ASSERT_EQ(r.status, 403) << r.body;
          EXPECT_EQ(r.headers.get("Content-Type"), "application/problem+json");
          EXPECT_EQ(body_of(r).at("required_permission").as_string(), permission);
        }
        ++checked;
      }
      auto r = call(kAnyStatus, verb, target, {}, {}, {{"Authorization", "Bearer " + narrow}});
      EXPECT_EQ(r.status == 403, permission != "signed-in") << r.status << " " << r.body;
      anonymous_ = false;
    }
  }
  EXPECT_GT(checked, 4 * 45);
}

// Each audited operation (x-audit) that succeeded in this test left an entry with its action.
void OpenApiTest::every_change_is_audited() {
  store_->flush();
  for (const auto& answer : answered_) {
    const auto space = answer.find(' ');
    const auto last = answer.rfind(' ');
    const int status = std::stoi(answer.substr(last + 1));
    if (status < 200 || status >= 300) continue;
    const std::string method = lowercase(answer.substr(0, space));
    const std::string tmpl = answer.substr(space + 1, last - space - 1);
    const auto& op = document_->root().at("paths").at(tmpl).at(method).as_object();
    const auto* action = op.if_contains("x-audit");
    if (action == nullptr) continue;
    engine::AuditFilter filter;
    filter.action = std::string(action->as_string());
    filter.limit = 1;
    EXPECT_EQ(audit_->list(filter).size(), 1u)
        << answer << " succeeded but the audit log has no " << filter.action;
  }
}

TEST_F(OpenApiTest, EveryOperationAnswersAsDocumented) {
  workflow_operations();
  run_operations();
  approval_operations();
  webhook_operations();
  other_operations();
  connection_operations();
  file_operations();
  access_operations();
  kpi_operations();
  role_matrix();
  every_change_is_audited();

  for (const auto& op : document_->operations()) {
    EXPECT_TRUE(exercised_.count(op) != 0) << op << " is documented but this test never calls it";
  }
  // And every documented answer was produced, so the document lists no status a handler cannot
  // give; except a server failure (500: the store failing) and the event streams' 503, which
  // needs hundreds of streams actually running.
  // Neither are an upload over the limit (413, answered by the HTTP server before any route:
  // files_api_test.cpp sends one) and a full disk (507).
  // Nor is a sign-in refused for too many checks at once (503: 32 waiting on two threads).
  const std::set<std::string> not_produced_here = {"POST /api/v1/auth/login 503",
                                                   "GET /api/v1/events 503",
                                                   "GET /api/v1/runs/{id}/events 503",
                                                   "PUT /api/v1/files/{path} 413",
                                                   "PUT /api/v1/files/{path} 507"};
  for (const auto& response : document_->responses()) {
    if (response.ends_with(" 500") || not_produced_here.count(response) != 0) continue;
    EXPECT_TRUE(answered_.count(response) != 0)
        << response << " is documented but no request in this test produced it";
  }
}

TEST_F(OpenApiTest, DocumentIsWellFormed) {
  const json::object& doc = document_->root().as_object();
  EXPECT_EQ(doc.at("openapi"), "3.1.0");
  EXPECT_EQ(doc.at("info").at("title"), "Flowpilot");
  EXPECT_EQ(doc.at("info").at("version"), "0.1.0");
  std::set<std::string> ids;
  std::set<std::string> tags;
  for (const auto& t : doc.at("tags").as_array())
    tags.insert(std::string(t.at("name").as_string()));
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op_value] : item.as_object()) {
      const json::object& op = op_value.as_object();
      const std::string where = std::string(method) + " " + std::string(path);
      ASSERT_TRUE(op.contains("operationId")) << where;
      EXPECT_TRUE(ids.insert(std::string(op.at("operationId").as_string())).second)
          << where << ": operationId " << op.at("operationId") << " is used twice";
      for (const auto& tag : op.at("tags").as_array()) {
        EXPECT_TRUE(tags.count(std::string(tag.as_string())) != 0) << where << ": tag " << tag;
      }
      // Every path parameter of the template is declared, and nothing else is.
      std::vector<std::string> problems;
      std::set<std::string> declared;
      if (op.contains("parameters")) {
        const json::value parameters = document_->resolve(op.at("parameters"), problems);
        for (const auto& p : parameters.as_array()) {
          if (p.at("in") == "path") declared.insert(std::string(p.at("name").as_string()));
        }
      }
      std::set<std::string> in_template;
      for (const auto& segment : split_path(path)) {
        if (segment.size() > 2 && segment.front() == '{') {
          in_template.insert(segment.substr(1, segment.size() - 2));
        }
      }
      EXPECT_EQ(declared, in_template) << where;
      // Every schema in the operation resolves and compiles.
      const json::value resolved = document_->resolve(op_value, problems);
      for (const auto& p : problems) ADD_FAILURE() << where << ": " << p;
      std::vector<const json::value*> schemas;
      auto collect = [&schemas](const json::value& content) {
        for (const auto& [media, entry] : content.as_object()) {
          if (const auto* s = entry.as_object().if_contains("schema")) schemas.push_back(s);
        }
      };
      for (const auto& [status, response] : resolved.at("responses").as_object()) {
        if (const auto* c = response.as_object().if_contains("content")) collect(*c);
      }
      if (const auto* body = resolved.as_object().if_contains("requestBody")) {
        collect(body->at("content"));
      }
      for (const auto* s : schemas) {
        std::string error;
        EXPECT_NE(document_->compile(*s, &error), nullptr) << where << ": " << error;
      }
    }
  }
}

// The router's routes are the document's operations, each with the access (x-permission) and
// audit action (x-audit) the document states.
TEST_F(OpenApiTest, EveryRouteDeclaresTheAccessTheDocumentStates) {
  std::set<std::string> routed;
  for (const auto& route : router_.routes()) {
    std::string tmpl = route.pattern;
    if (auto dots = tmpl.find("...}"); dots != std::string::npos) tmpl.erase(dots, 3);
    const std::string key = std::string(method_name(route.method)) + " " + tmpl;
    routed.insert(key);
    const auto* item = document_->root().at("paths").as_object().if_contains(tmpl);
    const auto* op = item == nullptr ? nullptr : item->as_object().if_contains(lowercase(method_name(route.method)));
    if (op == nullptr) {
      ADD_FAILURE() << key << " is routed but not documented";
      continue;
    }
    EXPECT_EQ(route.access.describe(), op->at("x-permission").as_string()) << key;
    const auto* audit = op->as_object().if_contains("x-audit");
    EXPECT_EQ(std::string(route.access.audit_action),
              audit == nullptr ? std::string() : std::string(audit->as_string()))
        << key;
    // A route that may record pii.read says so in the document.
    if (route.access.personal_data) {
      const auto* personal = op->as_object().if_contains("x-personal-data");
      EXPECT_TRUE(personal != nullptr && personal->is_bool() && personal->get_bool()) << key;
    }
  }
  for (const auto& op : document_->operations()) {
    EXPECT_TRUE(routed.count(op) != 0) << op << " is documented but not routed";
  }
}

// The `data:` of event stream lines, which the document describes as RunEvent and StepEvent.
TEST_F(OpenApiTest, EventPayloadsMatchTheirSchemas) {
  const json::value& schemas = document_->root().at("components").at("schemas");
  engine::RunEvent run;
  run.run_id = engine::new_run_id();
  run.workflow_id = "hello";
  run.status = "running";
  run.started_at = engine::now_millis();
  std::string mismatch =
      schema_problems(*document_, schemas.at("RunEvent"), json::parse(event_json(run)));
  EXPECT_TRUE(mismatch.empty()) << mismatch;

  run.status = "failed";
  run.error = "step `boom` failed";
  run.finished_at = run.started_at + 5;
  mismatch = schema_problems(*document_, schemas.at("RunEvent"), json::parse(event_json(run)));
  EXPECT_TRUE(mismatch.empty()) << mismatch;

  engine::RunEvent step = run;
  step.kind = engine::RunEvent::Kind::step;
  step.step_id = "fan";
  step.index = 2;
  step.attempt = 1;
  step.status = "succeeded";
  step.error.clear();
  mismatch = schema_problems(*document_, schemas.at("StepEvent"), json::parse(event_json(step)));
  EXPECT_TRUE(mismatch.empty()) << mismatch;
}

}  // namespace
}  // namespace flowpilot::web
