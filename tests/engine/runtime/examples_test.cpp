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
  std::string yaml;
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
    int line_no = 0;
    int start = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (!in_yaml && line.rfind("```yaml", 0) == 0) {
        in_yaml = true;
        block.clear();
        start = line_no;
      } else if (in_yaml && line.rfind("```", 0) == 0) {
        in_yaml = false;
        if (block.rfind("id:", 0) == 0) {
          out.push_back({entry.path().filename().string() + ":" + std::to_string(start), block});
        }
      } else if (in_yaml) {
        block += line + "\n";
      }
    }
  }
  for (const auto& entry : fs::directory_iterator(root / "workflows")) {
    if (entry.path().extension() != ".yaml") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    out.push_back({"workflows/" + entry.path().filename().string(), text.str()});
  }
  return out;
}

TEST_F(RuntimeTest, EveryDocumentedWorkflowLoadsAndRuns) {
  const auto all = examples();
  ASSERT_GE(all.size(), 8u) << "the docs lost their examples";
  for (const auto& example : all) {
    SCOPED_TRACE(example.name);
    auto loaded = load_workflow_yaml(example.yaml, example.name, context());
    for (const auto& d : loaded.diagnostics) ADD_FAILURE() << d.to_string();
    if (!loaded.ok()) continue;
    const auto id = start(loaded.workflow);
    const auto status = executor_->wait(id, std::chrono::seconds(30));
    const bool has_approval = example.yaml.find("core.approval") != std::string::npos;
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
