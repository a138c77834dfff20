// Every workflow shown to users must load and run: the ```yaml blocks of docs/*.md that define a
// workflow (they start with `id:`), and the files in workflows/.
#include "engine/runtime/runtime_fixture.h"

#include <fstream>
#include <regex>
#include <sstream>

namespace flowpilot::engine::testing {
namespace {

namespace fs = std::filesystem;

struct Example {
  std::string name;
  std::string text;
  std::string format;  // "yaml" or "lua"
};

std::vector<Example> examples() {
  std::vector<Example> out;
  const fs::path root = FLOWPILOT_SOURCE_DIR;
  for (const auto& entry : fs::directory_iterator(root / "docs")) {
    if (entry.path().extension() != ".md") continue;
    std::ifstream in(entry.path());
    std::string line;
    std::string block;
    bool in_yaml = false;
    std::string format;
    int line_no = 0;
    int start = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (!in_yaml && (line.rfind("```yaml", 0) == 0 || line.rfind("```lua", 0) == 0)) {
        in_yaml = true;
        format = line.rfind("```lua", 0) == 0 ? "lua" : "yaml";
        block.clear();
        start = line_no;
      } else if (in_yaml && line.rfind("```", 0) == 0) {
        in_yaml = false;
        // A complete workflow: YAML starting with `id:`, or Lua starting with `-- workflow`.
        if ((format == "yaml" && block.rfind("id:", 0) == 0) ||
            (format == "lua" && block.rfind("-- workflow\n", 0) == 0)) {
          out.push_back({entry.path().filename().string() + ":" + std::to_string(start), block,
                         format});
        }
      } else if (in_yaml) {
        block += line + "\n";
      }
    }
  }
  for (const auto& entry : fs::directory_iterator(root / "workflows")) {
    const auto ext = entry.path().extension();
    if (ext != ".yaml" && ext != ".lua") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    out.push_back({entry.path().string(), text.str(), ext == ".lua" ? "lua" : "yaml"});
  }
  return out;
}

TEST_F(RuntimeTest, EveryDocumentedWorkflowLoadsAndRuns) {
  const auto all = examples();
  ASSERT_GE(all.size(), 12u) << "the docs lost their examples";
  EXPECT_GE(std::count_if(all.begin(), all.end(), [](const Example& e) { return e.format == "lua"; }),
            3);
  for (const auto& example : all) {
    SCOPED_TRACE(example.name);
    auto loaded = load_workflow_source(example.text, example.name, example.format, context());
    for (const auto& d : loaded.diagnostics) ADD_FAILURE() << d.to_string();
    if (!loaded.ok()) continue;
    // Workflows that talk to marketing APIs need connections: tests/connectors runs them against
    // the simulator. Here they only have to load.
    bool needs_connection = false;
    for (const auto& step : loaded.workflow->steps) needs_connection = needs_connection || !step.connection.empty();
    if (needs_connection) continue;
    // So do examples that read files (csv.read with a path): tests/plugins/csv runs those over
    // a prepared folder.
    if (example.text.find("uses: csv.") != std::string::npos &&
        example.text.find("path:") != std::string::npos) {
      continue;
    }
    const auto id = start(loaded.workflow);
    const auto status = executor_->wait(id, std::chrono::seconds(30));
    const bool has_approval = example.text.find("core.approval") != std::string::npos;
    if (has_approval) {
      EXPECT_TRUE(executor_->is_parked(id));
      auto approvals = store_->list_approvals(ApprovalStatus::pending);
      ASSERT_FALSE(approvals.empty());
      executor_->decide(id, approvals.back().step_id, true, "docs-test", "");
      EXPECT_EQ(executor_->wait(id, std::chrono::seconds(30)), RunStatus::succeeded);
    } else {
      EXPECT_EQ(status, RunStatus::succeeded) << store_->get_run(id)->error;
    }
  }
}

}  // namespace
}  // namespace flowpilot::engine::testing
