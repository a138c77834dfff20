// The workflow catalog: API workflows with revisions and rollback, watched directories, and the
// trigger indexes the server routes by.
#include "engine/catalog/workflow_catalog.h"
#include "runtime_fixture.h"

#include <fstream>
#include <thread>

namespace flowpilot::engine::testing {
namespace {

namespace fs = std::filesystem;

const char* kHook = R"(
id: hooked
triggers:
  - webhook: {path: spend-alert}
  - cron: "0 9 * * MON"
    timezone: Europe/Berlin
steps:
  - {id: a, uses: core.noop}
)";

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

class CatalogTest : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    flows_ = dir_ / "flows";
    fs::create_directories(flows_);
  }
  std::unique_ptr<WorkflowCatalog> make_catalog() {
    auto catalog = std::make_unique<WorkflowCatalog>(*store_, context(),
                                                     std::vector<fs::path>{flows_});
    catalog->load();
    return catalog;
  }
  // Bumps the modification time so that a rewrite within the same clock tick is still seen.
  void touch_later(const fs::path& path) {
    fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(2));
  }
  fs::path flows_;
};

TEST_F(CatalogTest, ApiWorkflowsKeepRevisionsAndRollBack) {
  auto catalog = make_catalog();
  auto created = catalog->save("id: wf\nsteps:\n  - {id: a, uses: core.noop}\n", "yaml", "", true);
  ASSERT_TRUE(created.ok()) << created.message;
  EXPECT_TRUE(created.created);
  EXPECT_EQ(created.entry->record.revision, 1);
  auto same = catalog->save("id: wf\nsteps:\n  - {id: a, uses: core.noop}\n", "yaml", "wf", false);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same.changed);  // identical text: no new revision
  auto updated =
      catalog->save("id: wf\nsteps:\n  - {id: b, uses: core.noop}\n", "yaml", "wf", false);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated.entry->record.revision, 2);
  EXPECT_EQ(catalog->revisions("wf").size(), 2u);

  auto back = catalog->rollback("wf", 1);
  ASSERT_TRUE(back.ok()) << back.message;
  EXPECT_EQ(back.entry->record.revision, 3);
  EXPECT_EQ(back.entry->workflow->steps.at(0).id, "a");
  EXPECT_EQ(catalog->revisions("wf").front().note, "rolled back to revision 1");

  EXPECT_EQ(catalog->save("id: wf\nsteps:\n  - {id: c, uses: core.noop}\n", "yaml", "", true).code,
            CatalogErrc::conflict);
  EXPECT_EQ(catalog->rollback("wf", 9).code, CatalogErrc::not_found);
  EXPECT_EQ(catalog->save("id: other\nsteps:\n  - {id: a, uses: core.noop}\n", "yaml", "wf", false).code,
            CatalogErrc::invalid);

  // A new process sees the same workflows.
  catalog.reset();
  auto again = make_catalog();
  ASSERT_TRUE(again->get("wf"));
  EXPECT_EQ(again->get("wf")->record.revision, 3);

  ASSERT_TRUE(again->remove("wf").ok());
  EXPECT_FALSE(again->get("wf"));
  EXPECT_EQ(again->remove("wf").code, CatalogErrc::not_found);
}

TEST_F(CatalogTest, InvalidDefinitionsReportEveryProblemWithItsLine) {
  auto catalog = make_catalog();
  auto result = catalog->save("id: wf\nsteps:\n  - {id: a, uses: core.nop}\n  - {id: a, uses: core.noop}\n",
                              "yaml", "", true);
  ASSERT_EQ(result.code, CatalogErrc::invalid);
  ASSERT_GE(result.diagnostics.size(), 2u);
  EXPECT_EQ(result.diagnostics[0].where.line, 3);
  EXPECT_EQ(result.diagnostics[0].suggestion, "core.noop");
  EXPECT_FALSE(catalog->get("wf"));
}

TEST_F(CatalogTest, ApiDefinitionsCannotReadProgramFiles) {
  auto catalog = make_catalog();
  auto result = catalog->save(
      "id: wf\nsteps:\n  - {id: a, uses: lua, file: ../../etc/passwd}\n", "yaml", "", true);
  ASSERT_EQ(result.code, CatalogErrc::invalid);
  EXPECT_NE(result.diagnostics.at(0).message.find("only available to workflows read from a directory"),
            std::string::npos);
}

TEST_F(CatalogTest, DirectoryWorkflowsAreLoadedReloadedAndRemoved) {
  write_file(flows_ / "hooked.yaml", kHook);
  write_file(flows_ / "broken.yaml", "id: broken\nsteps:\n  - {id: a, uses: core.nope}\n");
  write_file(flows_ / "notes.txt", "not a workflow");
  auto catalog = make_catalog();
  auto entry = catalog->get("hooked");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->record.source, "file");
  ASSERT_EQ(catalog->problems().size(), 1u);
  EXPECT_NE(catalog->problems()[0].file.find("broken.yaml"), std::string::npos);
  EXPECT_EQ(catalog->problems()[0].diagnostics[0].where.line, 3);
  ASSERT_TRUE(catalog->find_webhook("spend-alert"));
  ASSERT_EQ(catalog->cron_triggers().size(), 1u);
  EXPECT_EQ(catalog->cron_triggers()[0].key, "hooked#1");

  // The API may not change a file's workflow.
  EXPECT_EQ(catalog->save(kHook, "yaml", "hooked", false).code, CatalogErrc::read_only);
  EXPECT_EQ(catalog->remove("hooked").code, CatalogErrc::read_only);

  // Broken edit: the last good definition stays, the problem is reported.
  write_file(flows_ / "hooked.yaml", "id: hooked\nsteps: [\n");
  touch_later(flows_ / "hooked.yaml");
  catalog->rescan();
  EXPECT_TRUE(catalog->get("hooked"));
  EXPECT_EQ(catalog->problems().size(), 2u);

  // Fixed edit: a new revision.
  write_file(flows_ / "hooked.yaml", std::string(kHook) + "  - {id: b, uses: core.noop}\n");
  touch_later(flows_ / "hooked.yaml");
  EXPECT_TRUE(catalog->rescan());
  EXPECT_EQ(catalog->get("hooked")->record.revision, 2);
  EXPECT_EQ(catalog->problems().size(), 1u);

  // Disabled: no live triggers, and the state survives a restart.
  ASSERT_TRUE(catalog->set_enabled("hooked", false).ok());
  EXPECT_FALSE(catalog->find_webhook("spend-alert"));
  EXPECT_TRUE(catalog->cron_triggers().empty());
  catalog.reset();
  catalog = make_catalog();
  ASSERT_TRUE(catalog->get("hooked"));
  EXPECT_FALSE(catalog->get("hooked")->record.enabled);
  EXPECT_EQ(catalog->get("hooked")->record.revision, 2);

  fs::remove(flows_ / "hooked.yaml");
  EXPECT_TRUE(catalog->rescan());
  EXPECT_FALSE(catalog->get("hooked"));
}

TEST_F(CatalogTest, OneOwnerPerIdAndPerWebhookPath) {
  auto catalog = make_catalog();
  ASSERT_TRUE(catalog->save(kHook, "yaml", "", true).ok());
  // A file with the same id: reported, ignored.
  write_file(flows_ / "hooked.yaml", kHook);
  catalog->rescan();
  EXPECT_EQ(catalog->get("hooked")->record.source, "api");
  ASSERT_EQ(catalog->problems().size(), 1u);
  EXPECT_NE(catalog->problems()[0].diagnostics[0].message.find("already defined through the API"),
            std::string::npos);
  // Another workflow claiming the same webhook path: a conflict.
  auto clash = catalog->save(
      "id: second\ntriggers:\n  - webhook: {path: spend-alert}\nsteps:\n  - {id: a, uses: core.noop}\n",
      "yaml", "", true);
  EXPECT_EQ(clash.code, CatalogErrc::conflict);
  EXPECT_NE(clash.message.find("hooked"), std::string::npos);
}

TEST_F(CatalogTest, WatchingPicksUpNewFiles) {
  auto catalog = make_catalog();
  std::atomic<int> changes{0};
  catalog->set_listener([&] { ++changes; });
  catalog->start_watching(std::chrono::milliseconds(20));
  write_file(flows_ / "hooked.yaml", kHook);
  for (int i = 0; i < 500 && !catalog->get("hooked"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(catalog->get("hooked"));
  catalog->stop_watching();
  EXPECT_GE(changes.load(), 1);
}

TEST_F(CatalogTest, ResolveLoadsStoredVersionsOnce) {
  auto catalog = make_catalog();
  auto saved = catalog->save(kHook, "yaml", "", true);
  ASSERT_TRUE(saved.ok());
  auto version = store_->get_workflow_version("hooked", saved.entry->record.current_version);
  ASSERT_TRUE(version);
  auto a = catalog->resolve(*version);
  auto b = catalog->resolve(*version);
  ASSERT_TRUE(a);
  EXPECT_EQ(a.get(), b.get());
}

}  // namespace
}  // namespace flowpilot::engine::testing
