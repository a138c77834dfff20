// Lua workflow files (load_workflow_lua) and the loader's side of the `lua` step: the program
// (`code:` or `file:`), its limits, and compile errors at the right line.
#include "engine/loader/loader.h"

#include "scripting/expression.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace flowpilot::engine {
namespace {

namespace fs = std::filesystem;

class Catalog final : public StepCatalog {
 public:
  bool has_step(std::string_view uses) const override {
    return std::find(names_.begin(), names_.end(), uses) != names_.end();
  }
  std::vector<std::string> step_names() const override { return names_; }

 private:
  std::vector<std::string> names_{"core.noop", "core.log", "core.sleep", "core.fail",
                                  "core.approval", "lua"};
};

const LoadContext& context() {
  static const scripting::ExpressionEngine engine({}, 1);
  static const Catalog catalog;
  static const LoadContext ctx{catalog, engine, {}};
  return ctx;
}

LoadResult lua(std::string_view text) { return load_workflow_lua(text, "wf.lua", context()); }
LoadResult yaml(std::string_view text) { return load_workflow_yaml(text, "wf.yaml", context()); }

std::string dump(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += "\n  " + d.to_string();
  return out;
}

// Passes when some diagnostic in `file` at `line` contains `fragment`.
::testing::AssertionResult has_diag(const LoadResult& r, const std::string& file, int line,
                                    std::string_view fragment) {
  if (r.ok()) return ::testing::AssertionFailure() << "the workflow loaded";
  for (const auto& d : r.diagnostics) {
    if (d.message.find(fragment) != std::string::npos && d.where.file == file &&
        d.where.line == line) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure() << "no diagnostic at " << file << ":" << line
                                       << " containing `" << fragment << "`; got:" << dump(r);
}

// A directory of its own under the system temp dir, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() /
            ("flowpilot-luawf-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  fs::path write(const std::string& name, std::string_view text) const {
    const fs::path file = path_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

constexpr const char* kYaml = R"(id: sync
name: Sync
description: Copies rows
inputs:
  target: {type: number, default: 40}
  dry_run: {type: boolean, default: true}
triggers:
  - cron: "*/30 * * * *"
    timezone: Europe/Berlin
concurrency: {limit: 1, on_limit: skip}
timeout: 30m
defaults:
  retry: {attempts: 3, backoff: fixed, delay: 2s}
  timeout: 2m
steps:
  - id: load
    uses: core.noop
    with: {rows: [1, 2, 3]}
  - id: each
    uses: core.log
    needs: [load]
    foreach: ${{ steps.load.output.rows }}
    concurrency: 2
    with: {message: "row ${{ item }}"}
  - id: report
    uses: core.log
    needs: [each]
    if: ${{ not inputs.dry_run }}
    retry: {attempts: 5}
    timeout: 10s
    with: {message: done}
outputs:
  count: "${{ #steps.each.output }}"
on_failure:
  - id: alert
    uses: core.log
    with: {message: "failed: ${{ run.error }}"}
)";

constexpr const char* kLua = R"(-- The same workflow as kYaml.
return workflow{
  id = "sync",
  name = "Sync",
  description = "Copies rows",
  inputs = {
    target = {type = "number", default = 40},
    dry_run = {type = "boolean", default = true},
  },
  triggers = {{cron = "*/30 * * * *", timezone = "Europe/Berlin"}},
  concurrency = {limit = 1, on_limit = "skip"},
  timeout = "30m",
  defaults = {retry = {attempts = 3, backoff = "fixed", delay = "2s"}, timeout = "2m"},
  steps = {
    step{id = "load", uses = "core.noop", with = {rows = {1, 2, 3}}},
    step{
      id = "each", uses = "core.log", needs = {"load"},
      foreach = "${{ steps.load.output.rows }}", concurrency = 2,
      with = {message = "row ${{ item }}"},
    },
    step{
      id = "report", uses = "core.log", needs = {"each"},
      ["if"] = "${{ not inputs.dry_run }}",
      retry = {attempts = 5}, timeout = "10s",
      with = {message = "done"},
    },
  },
  outputs = {count = "${{ #steps.each.output }}"},
  on_failure = {
    step{id = "alert", uses = "core.log", with = {message = "failed: ${{ run.error }}"}},
  },
}
)";

void expect_same_steps(const std::vector<StepSpec>& a, const std::vector<StepSpec>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(a[i].id);
    EXPECT_EQ(a[i].id, b[i].id);
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].uses, b[i].uses);
    EXPECT_EQ(a[i].with, b[i].with);
    EXPECT_EQ(a[i].needs, b[i].needs);
    EXPECT_EQ(a[i].if_expression, b[i].if_expression);
    EXPECT_EQ(a[i].foreach, b[i].foreach);
    EXPECT_EQ(a[i].concurrency, b[i].concurrency);
    EXPECT_EQ(a[i].retry.has_value(), b[i].retry.has_value());
    if (a[i].retry && b[i].retry) {
      EXPECT_EQ(a[i].retry->attempts, b[i].retry->attempts);
      EXPECT_EQ(a[i].retry->backoff, b[i].retry->backoff);
      EXPECT_EQ(a[i].retry->delay, b[i].retry->delay);
    }
    EXPECT_EQ(a[i].timeout, b[i].timeout);
  }
}

TEST(LuaWorkflow, BuildsTheSameModelAsTheSameYaml) {
  const auto y = yaml(kYaml);
  const auto l = lua(kLua);
  ASSERT_TRUE(y.ok()) << dump(y);
  ASSERT_TRUE(l.ok()) << dump(l);
  const Workflow& a = *y.workflow;
  const Workflow& b = *l.workflow;
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.description, b.description);
  ASSERT_EQ(a.inputs.size(), b.inputs.size());
  for (const auto& input : a.inputs) {
    auto it = std::find_if(b.inputs.begin(), b.inputs.end(),
                           [&](const InputSpec& other) { return other.name == input.name; });
    ASSERT_NE(it, b.inputs.end()) << input.name;
    EXPECT_EQ(it->type, input.type);
    EXPECT_EQ(it->default_value, input.default_value);
  }
  ASSERT_EQ(b.triggers.size(), 1u);
  const auto& cron = std::get<CronTrigger>(b.triggers[0]);
  EXPECT_EQ(cron.expression, "*/30 * * * *");
  EXPECT_EQ(cron.timezone, "Europe/Berlin");
  EXPECT_EQ(cron.location.file, "wf.lua");
  EXPECT_EQ(a.concurrency.limit, b.concurrency.limit);
  EXPECT_EQ(a.concurrency.on_limit, b.concurrency.on_limit);
  EXPECT_EQ(a.timeout, b.timeout);
  EXPECT_EQ(a.default_retry.attempts, b.default_retry.attempts);
  EXPECT_EQ(a.default_retry.backoff, b.default_retry.backoff);
  EXPECT_EQ(a.default_timeout, b.default_timeout);
  expect_same_steps(a.steps, b.steps);
  expect_same_steps(a.on_failure, b.on_failure);
  EXPECT_EQ(a.outputs, b.outputs);
  EXPECT_EQ(b.source_format, "lua");
  EXPECT_EQ(b.source_text, kLua);
  EXPECT_EQ(b.source_file, "wf.lua");
  // Every step carries the line its `step{` is on; the workflow the line of `workflow{`.
  EXPECT_EQ(b.steps[0].location.line, 15);
  EXPECT_EQ(b.steps[1].location.line, 16);
  EXPECT_EQ(b.steps[2].location.line, 21);
  EXPECT_EQ(b.on_failure[0].location.line, 30);
  EXPECT_EQ(b.location_of("steps[2].with.message").line, 21);
  EXPECT_EQ(b.location_of("").line, 2);
}

TEST(LuaWorkflow, PlainTablesWorkWithoutTheBuilders) {
  const auto r = lua("return {id = 'plain', steps = {{id = 'a', uses = 'core.noop', with = {}}}}\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.workflow->steps[0].with.is_object()) << "an empty Lua table is an empty mapping";
}

TEST(LuaWorkflow, ValidationErrorsPointAtTheStepsLine) {
  const auto r = lua(R"(return workflow{
  id = "demo",
  steps = {
    step{id = "first", uses = "core.noop"},
    step{
      id = "second",
      uses = "core.noop",
      neeeds = {"first"},
    },
    step{id = "third", uses = "core.nope"},
  },
}
)");
  EXPECT_TRUE(has_diag(r, "wf.lua", 5, "unknown key `neeeds` in step `second`"));
  EXPECT_TRUE(has_diag(r, "wf.lua", 10, "unknown step kind `core.nope`"));
  EXPECT_EQ(r.diagnostics.size(), 2u) << dump(r);
}

TEST(LuaWorkflow, FragmentsAndGeneratedStepsKeepTheirLines) {
  const auto r = lua(R"(local accounts = {"a1", "a2", "a3"}

local function retry_then_alert(prefix)
  return {
    step{id = prefix .. "_try", uses = "core.noop"},
    step{id = prefix .. "_alert", uses = "core.log", needs = {prefix .. "_try"},
         with = {message = prefix}},
  }
end

return workflow{
  id = "generated",
  steps = concat(
    steps_from(accounts, function(account)
      return step{id = "sync_" .. account, uses = "core.noop", with = {account = account}}
    end),
    retry_then_alert("north"),
    retry_then_alert("south"),
    step{id = "summary", uses = "core.log", needs = {"sync_a1", "sync_a2", "sync_a3"},
         with = {message = "done"}}
  ),
}
)");
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& steps = r.workflow->steps;
  ASSERT_EQ(steps.size(), 8u);
  EXPECT_EQ(steps[0].id, "sync_a1");
  EXPECT_EQ(steps[2].id, "sync_a3");
  EXPECT_EQ(steps[2].with.at("account"), "a3");
  EXPECT_EQ(steps[0].location.line, 15);
  EXPECT_EQ(steps[3].id, "north_try");
  EXPECT_EQ(steps[3].location.line, 5);
  EXPECT_EQ(steps[6].id, "south_alert");
  EXPECT_EQ(steps[6].location.line, 6);
  EXPECT_EQ(steps[7].location.line, 19);
}

TEST(LuaWorkflow, SyntaxErrorIsReportedAtItsLine) {
  const auto r = lua("return workflow{\n  id = \"x\",\n  steps = {\n    step{id = = 1},\n  },\n}\n");
  ASSERT_EQ(r.diagnostics.size(), 1u) << dump(r);
  EXPECT_TRUE(has_diag(r, "wf.lua", 4, "Lua syntax error")) << dump(r);
  EXPECT_EQ(r.diagnostics[0].where.column, 1);
}

TEST(LuaWorkflow, RuntimeErrorIsReportedAtItsLine) {
  const auto r = lua("local n = 1\nlocal t = nil\nlocal x = t.field\nreturn workflow{id = 'x'}\n");
  ASSERT_EQ(r.diagnostics.size(), 1u) << dump(r);
  EXPECT_TRUE(has_diag(r, "wf.lua", 3, "Lua error")) << dump(r);
  const auto raised = lua("\n\nerror('no accounts configured')\n");
  EXPECT_TRUE(has_diag(raised, "wf.lua", 3, "no accounts configured")) << dump(raised);
}

TEST(LuaWorkflow, BuilderMisuseIsReportedAtTheCallersLine) {
  const auto r = lua("return workflow{\n  id = 'x',\n  steps = {step 'oops'},\n}\n");
  EXPECT_TRUE(has_diag(r, "wf.lua", 3, "workflow{...} and step{...} take a table")) << dump(r);
}

TEST(LuaWorkflow, EndlessLoopHitsALimit) {
  const auto started = std::chrono::steady_clock::now();
  const auto r = lua("local n = 0\nwhile true do n = n + 1 end\nreturn workflow{id = 'x'}\n");
  ASSERT_EQ(r.diagnostics.size(), 1u) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("did not finish"), std::string::npos) << dump(r);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  // The engine is fine afterwards.
  EXPECT_TRUE(lua(kLua).ok());
}

TEST(LuaWorkflow, NoFilesProcessesOrModules) {
  for (const char* code : {"local f = io.open('/etc/passwd')\nreturn {}\n",
                           "os.execute('touch /tmp/x')\nreturn {}\n",
                           "local m = require('socket')\nreturn {}\n",
                           "dofile('other.lua')\nreturn {}\n"}) {
    SCOPED_TRACE(code);
    const auto r = lua(code);
    ASSERT_EQ(r.diagnostics.size(), 1u) << dump(r);
    EXPECT_EQ(r.diagnostics[0].where.line, 1) << dump(r);
    EXPECT_NE(r.diagnostics[0].message.find("runs in the sandbox"), std::string::npos) << dump(r);
  }
}

TEST(LuaWorkflow, ReturningSomethingElseIsAClearError) {
  const auto text = lua("local x = 1\nreturn 'a workflow'\n");
  EXPECT_TRUE(has_diag(text, "wf.lua", 2, "the file returns a string, not a table")) << dump(text);
  const auto list = lua("return {1, 2}\n");
  EXPECT_TRUE(has_diag(list, "wf.lua", 1, "the file returns a list")) << dump(list);
  const auto nothing = lua("local x = 1\n");
  EXPECT_TRUE(has_diag(nothing, "wf.lua", 1, "the file returns nothing")) << dump(nothing);
  const auto function = lua("return workflow{id = 'x', steps = {step{id = 'a', uses = print}}}\n");
  ASSERT_FALSE(function.ok());
  EXPECT_NE(function.diagnostics[0].message.find("cannot become a workflow"), std::string::npos)
      << dump(function);
}

TEST(LuaWorkflow, LoadWorkflowFileDispatchesLua) {
  TempDir dir;
  const auto file = dir.write("per_account.lua", kLua);
  const auto r = load_workflow_file(file, context());
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.workflow->source_format, "lua");
  EXPECT_EQ(r.workflow->source_file, file.string());
  EXPECT_EQ(r.workflow->steps[0].location.file, file.string());
}

// ---- the `lua` step in the loader ----

TEST(LuaStep, InlineCodeIsKeptWithItsLineAndLimits) {
  const auto r = yaml(R"(id: score
steps:
  - id: score
    uses: lua
    with: {threshold: 2}
    limits: {instructions: 200000, memory: 32MiB, time: 5s}
    code: |
      local total = 0
      for i = 1, with.threshold do total = total + i end
      return {total = total}
  - id: quick
    uses: lua
    needs: [score]
    limits: {memory: 1048576}
    code: "return 1"
)");
  ASSERT_TRUE(r.ok()) << dump(r);
  const StepSpec& score = r.workflow->steps[0];
  EXPECT_EQ(score.code, "local total = 0\nfor i = 1, with.threshold do total = total + i end\n"
                        "return {total = total}\n");
  EXPECT_EQ(score.code_origin, "wf.yaml");
  EXPECT_EQ(score.code_line, 8);
  EXPECT_EQ(score.max_instructions, 200000u);
  EXPECT_EQ(score.max_memory_bytes, std::size_t{32} << 20);
  EXPECT_EQ(score.max_time, std::chrono::milliseconds(5000));
  const StepSpec& quick = r.workflow->steps[1];
  EXPECT_EQ(quick.code, "return 1");
  EXPECT_EQ(quick.code_line, 15);
  EXPECT_EQ(quick.max_memory_bytes, std::size_t{1} << 20);
  EXPECT_FALSE(quick.max_instructions.has_value());
  EXPECT_FALSE(quick.max_time.has_value());
}

TEST(LuaStep, CodeThatDoesNotCompileIsReportedAtItsWorkflowLine) {
  const auto r = yaml(R"(id: score
steps:
  - id: score
    uses: lua
    code: |
      local total = 0
      for i = 1, 3 do
        total = total +
      end
      return total
)");
  EXPECT_TRUE(has_diag(r, "wf.yaml", 9, "step `score`: the Lua code does not compile")) << dump(r);
}

TEST(LuaStep, ProgramIsRequiredOnce) {
  const auto missing = yaml("id: x\nsteps:\n  - id: a\n    uses: lua\n");
  EXPECT_TRUE(has_diag(missing, "wf.yaml", 3, "step `a` has no program")) << dump(missing);
  const auto both = yaml(
      "id: x\nsteps:\n  - id: a\n    uses: lua\n    code: return 1\n    file: a.lua\n");
  EXPECT_TRUE(has_diag(both, "wf.yaml", 6, "has both `code` and `file`")) << dump(both);
  const auto empty = yaml("id: x\nsteps:\n  - id: a\n    uses: lua\n    code: '  '\n");
  EXPECT_TRUE(has_diag(empty, "wf.yaml", 5, "`code` in step `a` is empty")) << dump(empty);
  const auto number = yaml("id: x\nsteps:\n  - id: a\n    uses: lua\n    code: 5\n");
  EXPECT_TRUE(has_diag(number, "wf.yaml", 5, "must be Lua source text")) << dump(number);
}

TEST(LuaStep, FileMustStayInsideTheWorkflowsFolder) {
  const auto up = yaml("id: x\nsteps:\n  - id: a\n    uses: lua\n    file: ../secrets.lua\n");
  EXPECT_TRUE(has_diag(up, "wf.yaml", 5, "uses `..`")) << dump(up);
  const auto inner = yaml("id: x\nsteps:\n  - id: a\n    uses: lua\n    file: lib/../../x.lua\n");
  EXPECT_TRUE(has_diag(inner, "wf.yaml", 5, "uses `..`")) << dump(inner);
  const auto absolute = yaml("id: x\nsteps:\n  - id: a\n    uses: lua\n    file: /etc/passwd\n");
  EXPECT_TRUE(has_diag(absolute, "wf.yaml", 5, "not the absolute path")) << dump(absolute);
  const auto missing =
      yaml("id: x\nsteps:\n  - id: a\n    uses: lua\n    file: not-there-at-all.lua\n");
  EXPECT_TRUE(has_diag(missing, "wf.yaml", 5, "no such file")) << dump(missing);
}

TEST(LuaStep, FileIsReadAndCheckedAtLoadTime) {
  TempDir dir;
  dir.write("lib/score.lua", "local x = 1\nreturn x * 2\n");
  dir.write("lib/broken.lua", "local x = 1\n\nreturn x +\n");
  dir.write("big.lua", std::string((1u << 20) + 1, ' '));
  const auto wf = dir.write("wf.yaml", R"(id: files
steps:
  - id: score
    uses: lua
    file: lib/score.lua
)");
  const auto r = load_workflow_file(wf, context());
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.workflow->steps[0].code, "local x = 1\nreturn x * 2\n");
  EXPECT_EQ(r.workflow->steps[0].code_origin, (dir.path() / "lib/score.lua").string());
  EXPECT_EQ(r.workflow->steps[0].code_line, 1);

  const auto broken_wf = dir.write("broken.yaml", R"(id: files
steps:
  - id: broken
    uses: lua
    file: lib/broken.lua
  - id: big
    uses: lua
    file: big.lua
)");
  const auto broken = load_workflow_file(broken_wf, context());
  const std::string broken_file = (dir.path() / "lib/broken.lua").string();
  EXPECT_TRUE(has_diag(broken, broken_file, 4, "step `broken`: the Lua code does not compile"))
      << dump(broken);
  EXPECT_TRUE(has_diag(broken, broken_wf.string(), 8, "at most 1048576 bytes")) << dump(broken);
}

TEST(LuaStep, BadLimitsAreReported) {
  const auto r = yaml(R"(id: x
steps:
  - id: a
    uses: lua
    code: return 1
    limits:
      instructions: 10
      memory: 32XB
      time: 0s
      cpu: 1
  - id: b
    uses: lua
    code: return 1
    limits: {memory: 100}
  - id: c
    uses: lua
    code: return 1
    limits: 5
)");
  EXPECT_TRUE(has_diag(r, "wf.yaml", 7, "`instructions` in `limits` in step `a` must be at least 1000"))
      << dump(r);
  EXPECT_TRUE(has_diag(r, "wf.yaml", 8, "size such as 32MiB")) << dump(r);
  EXPECT_TRUE(has_diag(r, "wf.yaml", 9, "must be longer than zero")) << dump(r);
  EXPECT_TRUE(has_diag(r, "wf.yaml", 10, "unknown key `cpu`")) << dump(r);
  EXPECT_TRUE(has_diag(r, "wf.yaml", 14, "must be at least 65536")) << dump(r);
  EXPECT_TRUE(has_diag(r, "wf.yaml", 18, "`limits` in step `c` must be a mapping")) << dump(r);
  EXPECT_EQ(r.diagnostics.size(), 6u) << dump(r);
}

TEST(LuaStep, ProgramKeysAreUnknownOnOtherSteps) {
  const auto r = yaml(R"(id: x
steps:
  - id: a
    uses: core.noop
    code: return 1
    limits: {time: 1s}
)");
  EXPECT_TRUE(has_diag(r, "wf.yaml", 5, "unknown key `code` in step `a`")) << dump(r);
  EXPECT_TRUE(has_diag(r, "wf.yaml", 6, "unknown key `limits` in step `a`")) << dump(r);
}

TEST(LuaStep, InlineCodeInALuaWorkflowPointsAtItsLines) {
  const auto r = lua(R"(return workflow{
  id = "x",
  steps = {
    step{id = "score", uses = "lua", code = [[
local rows = {1, 2}
return rows[1] +
]]},
  },
}
)");
  EXPECT_TRUE(has_diag(r, "wf.lua", 7, "the Lua code does not compile")) << dump(r);
}

// Every complete Lua workflow in docs/lua.md (a ```lua block whose first line is `-- workflow`)
// loads; the runtime examples test runs them.
TEST(LuaWorkflow, EveryLuaWorkflowInTheDocsLoads) {
  std::ifstream in(fs::path(FLOWPILOT_SOURCE_DIR) / "docs" / "lua.md");
  ASSERT_TRUE(in) << "docs/lua.md is missing";
  std::string line;
  std::string block;
  bool in_lua = false;
  int line_no = 0;
  int start = 0;
  int count = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!in_lua && line.rfind("```lua", 0) == 0) {
      in_lua = true;
      block.clear();
      start = line_no;
    } else if (in_lua && line.rfind("```", 0) == 0) {
      in_lua = false;
      if (block.rfind("-- workflow\n", 0) != 0) continue;
      ++count;
      const auto r = load_workflow_lua(block, "docs/lua.md:" + std::to_string(start), context());
      EXPECT_TRUE(r.ok()) << "docs/lua.md:" << start << dump(r);
    } else if (in_lua) {
      block += line + "\n";
    }
  }
  EXPECT_GE(count, 2) << "docs/lua.md lost its Lua workflows";
}

TEST(LuaWorkflow, ExampleWorkflowsLoad) {
  const fs::path dir = fs::path(FLOWPILOT_SOURCE_DIR) / "workflows";
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".lua") continue;
    ++count;
    const auto r = load_workflow_file(entry.path(), context());
    EXPECT_TRUE(r.ok()) << entry.path() << dump(r);
  }
  EXPECT_GE(count, 1);
  const auto scoring = load_workflow_file(dir / "lua-scoring.yaml", context());
  EXPECT_TRUE(scoring.ok()) << dump(scoring);
}

}  // namespace
}  // namespace flowpilot::engine
