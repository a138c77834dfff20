// Personal data through the API: masked for callers without pii:read wherever a run shows it
// (its steps, attempts, logs, approvals), shown to callers with it and recorded as pii.read, and
// gone after an erasure, from the runs and from the warehouse.
#include "engine/access/erasure.h"
#include "web/server_fixture.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <thread>

namespace flowpilot::web::test {
namespace {

namespace json = boost::json;

constexpr const char* kEmail = "jane.doe@example.com";

// A CRM read that marks its contacts' personal fields, as hubspot.contacts does.
class ContactsStep final : public engine::StepHandler {
 public:
  ContactsStep() {
    descriptor_.name = "test.contacts";
    descriptor_.summary = "Returns two contacts.";
    descriptor_.output_schema = json::parse(R"({"type": "object", "properties": {"contacts":
      {"type": "array", "items": {"type": "object", "properties": {
        "email": {"x-pii": true}, "firstname": {"x-pii": true}, "lastname": {"x-pii": true},
        "phone": {"x-pii": true}}}}}})");
  }
  const engine::StepDescriptor& descriptor() const override { return descriptor_; }
  void start(std::shared_ptr<engine::StepCall> call) override {
    call->log(engine::LogLevel::info, std::string("fetched ") + kEmail);
    call->complete(json::parse(R"({"contacts": [
      {"email": "Jane.Doe@example.com", "firstname": "Jane", "lastname": "Doe",
       "phone": "+1 555 0100", "stage": "lead"},
      {"email": "bo@example.org", "firstname": "Bo", "lastname": "Lee", "phone": null,
       "stage": "customer"}]})"));
  }

 private:
  engine::StepDescriptor descriptor_;
};

class PiiApiTest : public ServerFixture {
 protected:
  void add_steps(engine::StepRegistry& registry) override {
    registry.add(std::make_shared<ContactsStep>());
  }

  // A run that read contacts, logged one, and waits for an approval that names her.
  std::string parked_run() {
    define(R"(
id: crm-sync
steps:
  - id: contacts
    uses: test.contacts
  - id: greet
    uses: core.log
    needs: [contacts]
    with: {message: "welcome ${{ steps.contacts.output.contacts[1].email }}"}
  - id: ask
    uses: core.approval
    needs: [greet]
    with:
      message: "Pause ads for ${{ steps.contacts.output.contacts[1].firstname }} ${{ steps.contacts.output.contacts[1].lastname }}?"
)");
    auto started = call("POST", "/api/v1/workflows/crm-sync/runs", "{}", json_type());
    EXPECT_EQ(started.status, 201) << started.body;
    const std::string run_id(body_of(started).at("run_id").as_string());
    for (int i = 0; i < 500 && !store_->get_approval(run_id, "ask"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(store_->get_approval(run_id, "ask").has_value())
        << call("GET", "/api/v1/runs/" + run_id).body;
    return run_id;
  }

  Response as(const std::string& token, const std::string& target) {
    Headers h;
    h.set("Authorization", "Bearer " + token);
    return call("GET", target, {}, std::move(h));
  }

  static Headers json_type() {
    Headers h;
    h.set("Content-Type", "application/json");
    return h;
  }

  std::size_t pii_reads(const std::string& run_id) {
    engine::AuditFilter filter;
    filter.action = "pii.read";
    filter.target = run_id;
    return store_->list_audit(filter).size();
  }

  static const json::value& step_of(const json::value& detail, std::string_view id) {
    for (const auto& s : detail.at("steps").as_array()) {
      if (s.at("step_id").as_string() == id) return s;
    }
    throw std::runtime_error("no step " + std::string(id));
  }

  static bool shows_her(const std::string& body) {
    return body.find(kEmail) != std::string::npos ||
           body.find("Jane.Doe@example.com") != std::string::npos ||
           body.find("+1 555 0100") != std::string::npos || body.find("Jane") != std::string::npos;
  }
};

TEST_F(PiiApiTest, ViewersSeeEveryCopyMaskedAndNothingIsRecorded) {
  const std::string run_id = parked_run();
  const std::string viewer = token_for("viewer@test.local", "viewer");
  for (const std::string& target :
       {"/api/v1/runs/" + run_id, "/api/v1/runs/" + run_id + "/logs", std::string("/api/v1/approvals")}) {
    SCOPED_TRACE(target);
    auto r = as(viewer, target);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_FALSE(shows_her(r.body)) << r.body;
    EXPECT_FALSE(r.body.find("bo@example.org") != std::string::npos) << r.body;
    EXPECT_NE(r.body.find("[pii]"), std::string::npos) << r.body;
  }
  auto detail = body_of(as(viewer, "/api/v1/runs/" + run_id));
  const auto& contacts = step_of(detail, "contacts").at("output").at("contacts");
  EXPECT_EQ(contacts.at(0).at("email"), "[pii]");
  EXPECT_EQ(contacts.at(0).at("stage"), "lead");  // what is not personal stays readable
  EXPECT_EQ(contacts.at(1).at("phone"), nullptr);
  // The copy in the next step's input was never marked; it is masked by its value.
  EXPECT_EQ(step_of(detail, "greet").at("attempts").at(0).at("input").at("message"), "welcome [pii]");
  EXPECT_EQ(detail.at("approvals").at(0).at("message"), "Pause ads for [pii] [pii]?");
  auto logs = body_of(as(viewer, "/api/v1/runs/" + run_id + "/logs?step=contacts"));
  EXPECT_EQ(logs.at("items").at(0).at("message"), "fetched [pii]");
  EXPECT_EQ(pii_reads(run_id), 0u);
}

TEST_F(PiiApiTest, AnAdminTokenWithoutPiiReadSeesItMaskedToo) {
  const std::string run_id = parked_run();
  auto token = tokens_->create({"admin@test.local", "", {"runs:read"}, std::nullopt}).secret;
  auto r = as(token, "/api/v1/runs/" + run_id);
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(shows_her(r.body));
}

TEST_F(PiiApiTest, PiiReadSeesTheDataAndEveryReadIsRecorded) {
  const std::string run_id = parked_run();
  auto r = call("GET", "/api/v1/runs/" + run_id);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("Jane.Doe@example.com"), std::string::npos);
  EXPECT_EQ(pii_reads(run_id), 1u);
  call("GET", "/api/v1/runs/" + run_id + "/logs");
  EXPECT_EQ(pii_reads(run_id), 2u);
  engine::AuditFilter filter;
  filter.action = "pii.read";
  auto entries = store_->list_audit(filter);
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.front().actor_email, "admin@test.local");
  EXPECT_EQ(entries.front().details.at("route"), json::value("GET /api/v1/runs/" + run_id + "/logs"));
  EXPECT_GT(entries.front().details.at("values").as_int64(), 0);
  // The approvals list names the runs whose data it showed.
  call("GET", "/api/v1/approvals");
  filter.target = "approvals";
  auto listed = store_->list_audit(filter);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed.front().details.at("runs").at(0), json::value(run_id));
}

TEST_F(PiiApiTest, TheRunListAndTheCancelAnswerMaskTheRunsOutputs) {
  define(R"(
id: crm-out
steps:
  - {id: contacts, uses: test.contacts}
outputs:
  first: "${{ steps.contacts.output.contacts[1].email }}"
)");
  auto started = call("POST", "/api/v1/workflows/crm-out/runs", "{}", json_type());
  const std::string run_id(body_of(started).at("run_id").as_string());
  ASSERT_EQ(executor_->wait(run_id, std::chrono::seconds(10)), engine::RunStatus::succeeded);
  const std::string viewer = token_for("viewer@test.local", "viewer");
  auto listed = as(viewer, "/api/v1/runs?workflow=crm-out");
  ASSERT_EQ(listed.status, 200);
  EXPECT_FALSE(shows_her(listed.body)) << listed.body;
  EXPECT_EQ(body_of(listed).at("items").at(0).at("outputs").at("first"), "[pii]");
  EXPECT_EQ(pii_reads("runs"), 0u);

  auto shown = call("GET", "/api/v1/runs?workflow=crm-out");
  EXPECT_NE(shown.body.find("Jane.Doe@example.com"), std::string::npos);
  engine::AuditFilter filter;
  filter.action = "pii.read";
  filter.target = "runs";
  auto entries = store_->list_audit(filter);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].details.at("runs").at(0), json::value(run_id));

  // An editor (runs:write, no pii:read) cancelling a run whose inputs quote her gets it back
  // masked: the contacts step made her email one of the run's personal values.
  define(R"(
id: crm-park
inputs:
  owner: {type: string}
steps:
  - {id: contacts, uses: test.contacts}
  - {id: ask, uses: core.approval, needs: [contacts], with: {message: "go on"}}
)");
  auto parked = call("POST", "/api/v1/workflows/crm-park/runs",
                     R"({"inputs": {"owner": "jane.doe@example.com"}})", json_type());
  ASSERT_EQ(parked.status, 201) << parked.body;
  const std::string parked_id(body_of(parked).at("run_id").as_string());
  for (int i = 0; i < 500 && !store_->get_approval(parked_id, "ask"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Headers h = json_type();
  h.set("Authorization", "Bearer " + token_for("editor@test.local", "editor"));
  auto cancelled = call("POST", "/api/v1/runs/" + parked_id + "/cancel", "{}", std::move(h));
  EXPECT_EQ(cancelled.status, 202) << cancelled.body;
  EXPECT_EQ(body_of(cancelled).at("inputs").at("owner"), "[pii]");
}

TEST_F(PiiApiTest, ARunWithoutPersonalDataIsNotRecorded) {
  define("id: plain\nsteps:\n  - {id: a, uses: core.log, with: {message: hello}}\n");
  auto started = call("POST", "/api/v1/workflows/plain/runs");
  const std::string run_id(body_of(started).at("run_id").as_string());
  executor_->wait(run_id, std::chrono::seconds(10));
  EXPECT_EQ(call("GET", "/api/v1/runs/" + run_id).status, 200);
  EXPECT_EQ(pii_reads(run_id), 0u);
}

TEST_F(PiiApiTest, ErasureRemovesHerFromRunsAndTheWarehouseAndNothingElse) {
  const std::string run_id = parked_run();
  ASSERT_EQ(call("POST", "/api/v1/approvals/" + run_id + "/ask/approve", "{}", json_type()).status, 200);
  ASSERT_EQ(executor_->wait(run_id, std::chrono::seconds(10)), engine::RunStatus::succeeded);

  auto warehouse = engine::open_sqlite_warehouse({dir_ / "warehouse.db", false});
  engine::DealRow hers;
  hers.deal_id = "d1";
  hers.name = "Renewal - Jane Doe";
  hers.amount_micros = 5'000'000;
  engine::DealRow other;
  other.deal_id = "d2";
  other.name = "Renewal - Bo Lee";
  warehouse->upsert_deals({hers, other}, "b1");

  engine::PiiCatalog marks(registry_);
  // A dry run counts and changes nothing.
  auto dry = engine::erase_person(*store_, warehouse.get(), marks, {"JANE.DOE@example.com", true});
  EXPECT_GT(dry.total(), 0);
  EXPECT_EQ(dry.warehouse_rows, 1);
  EXPECT_NE(call("GET", "/api/v1/runs/" + run_id).body.find("Jane.Doe@example.com"), std::string::npos);

  auto report = engine::erase_person(*store_, warehouse.get(), marks, {"JANE.DOE@example.com", false});
  EXPECT_EQ(report.runs_changed, 1);
  EXPECT_EQ(report.step_values, dry.step_values);
  // Her row (email, first and last name, phone) and the greeting that copied her email.
  EXPECT_EQ(report.step_values, 5);
  EXPECT_EQ(report.log_lines, 2);  // "fetched ..." and the greeting
  EXPECT_GE(report.attempt_values, 1);
  EXPECT_EQ(report.approval_values, 1);
  EXPECT_EQ(report.warehouse_rows, 1);
  const auto ids = report.identifiers;
  EXPECT_NE(std::find(ids.begin(), ids.end(), "Jane Doe"), ids.end());

  auto body = call("GET", "/api/v1/runs/" + run_id).body;
  EXPECT_FALSE(shows_her(body)) << body;
  EXPECT_NE(body.find("bo@example.org"), std::string::npos);  // somebody else's data stays
  auto detail = json::parse(body);
  EXPECT_EQ(step_of(detail, "contacts").at("output").at("contacts").at(0).at("stage"), "lead");
  EXPECT_EQ(detail.at("approvals").at(0).at("message"), "Pause ads for [erased]?");
  auto logs = call("GET", "/api/v1/runs/" + run_id + "/logs").body;
  EXPECT_EQ(logs.find("Jane"), std::string::npos) << logs;
  EXPECT_EQ(logs.find(kEmail), std::string::npos) << logs;

  auto deals = warehouse->deals({});
  ASSERT_EQ(deals.size(), 2u);
  EXPECT_EQ(deals[0].name, "[erased]");
  EXPECT_EQ(deals[0].amount_micros, 5'000'000);  // the figures stay
  EXPECT_EQ(deals[1].name, "Renewal - Bo Lee");

  // Erasing again finds nothing.
  EXPECT_EQ(engine::erase_person(*store_, warehouse.get(), marks, {kEmail, false}).total(), 0);
  EXPECT_THROW(engine::erase_person(*store_, warehouse.get(), marks, {"not-an-email", false}),
               std::invalid_argument);
}

TEST_F(PiiApiTest, ErasureLeavesUnfinishedRunsAndSaysSo) {
  const std::string run_id = parked_run();
  engine::PiiCatalog marks(registry_);
  auto report = engine::erase_person(*store_, nullptr, marks, {kEmail, false});
  ASSERT_EQ(report.unfinished_runs.size(), 1u);
  EXPECT_EQ(report.unfinished_runs[0], run_id);
  EXPECT_EQ(report.runs_changed, 0);
}

}  // namespace
}  // namespace flowpilot::web::test
