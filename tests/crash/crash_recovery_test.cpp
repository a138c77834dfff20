// Kills a process running a 200-step workflow with SIGKILL at random moments, restarts it each
// time, and checks once the run has completed that:
//   - every step and every foreach item succeeded, with exactly one succeeded attempt recorded;
//   - no step ran again after its output had been recorded: each step appends one journal line
//     per execution (key, attempt, a fresh nonce) and puts the nonce in its output, so the nonce
//     the store recorded must be the key's last journal line;
//   - every re-execution reused the step's idempotency key (the journal keys are the only keys).
//
// Usage: flowpilot_crash_test [--rounds N] [--kills N] [--seed N]
//        flowpilot_crash_test --child DB JOURNAL WORKFLOW   (internal: one worker process)
#include "engine/executor/executor.h"
#include "engine/loader/loader.h"
#include "engine/plugins/plugin_host.h"
#include "engine/steps/builtin_steps.h"
#include "engine/store/sqlite_store.h"

#include <boost/json.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace flowpilot::engine;  // a test program, not a header

namespace {

constexpr const char* kRunKey = "crash-test-run";

// Appends one line per execution, then completes after a short asynchronous pause so that
// kills land in the middle of executions as well as between them.
class JournalStep final : public StepHandler {
 public:
  explicit JournalStep(std::string journal) : journal_(std::move(journal)) {
    descriptor_.name = "test.journal";
    descriptor_.summary = "Appends each execution to a journal file (crash test only).";
  }
  const StepDescriptor& descriptor() const override { return descriptor_; }
  void start(std::shared_ptr<StepCall> call) override {
    char nonce[17];
    std::uint64_t raw = 0;
    randombytes_buf(&raw, sizeof raw);
    std::snprintf(nonce, sizeof nonce, "%016llx", static_cast<unsigned long long>(raw));
    const std::string line =
        call->idempotency_key() + " " + std::to_string(call->attempt()) + " " + nonce + "\n";
    const int fd = ::open(journal_.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      std::perror("journal");
      std::_Exit(70);
    }
    ::close(fd);
    int fail_attempts = 0;
    if (const auto* in = call->input().if_object()) {
      if (const auto* f = in->if_contains("fail_attempts")) fail_attempts = int(f->as_int64());
    }
    const auto pause = std::chrono::milliseconds(randombytes_uniform(16));
    const std::string n(nonce);
    call->after(pause, [call, n, fail_attempts] {
      if (call->attempt() <= fail_attempts) {
        call->fail({"planned failure", true, std::nullopt});
      } else {
        call->complete(json::object{{"nonce", n}, {"attempt", call->attempt()}});
      }
    });
  }

 private:
  std::string journal_;
  StepDescriptor descriptor_;
};

std::string make_workflow() {
  std::ostringstream y;
  y << "id: crash-200\n"
    << "defaults:\n  retry: {attempts: 3, delay: 5ms, max_delay: 20ms}\n"
    << "steps:\n"
    << "  - {id: start, uses: test.journal}\n"
    << "  - id: fanout\n    uses: test.journal\n    needs: [start]\n"
    << "    foreach: \"${{ (function() local t = {} for i = 1, 60 do t[i] = i end return t end)() }}\"\n"
    << "    concurrency: 6\n    with: {n: \"${{ item }}\"}\n";
  int count = 2;
  for (int b = 0; b < 4; ++b) {
    for (int i = 0; i < 45; ++i) {
      y << "  - {id: b" << b << "_" << i << ", uses: test.journal, needs: ["
        << (i == 0 ? std::string("start") : "b" + std::to_string(b) + "_" + std::to_string(i - 1))
        << "]" << (i % 10 == 5 ? ", with: {fail_attempts: 1}" : "") << "}\n";
      ++count;
    }
  }
  for (int j = 0; count < 200; ++j, ++count) {
    y << "  - {id: join" << j << ", uses: test.journal, needs: [b0_" << j * 2 << ", b1_" << j * 2
      << ", fanout]}\n";
  }
  return y.str();
}

int run_child(const std::string& db, const std::string& journal, const std::string& workflow) {
  StepRegistry registry;
  register_builtin_steps(registry);
  PluginHost plugins({});
  plugins.load_directories({builtin_plugin_dir()}, registry);
  registry.add(std::make_shared<JournalStep>(journal));
  flowpilot::scripting::ExpressionEngine expressions;
  LoadContext context{registry, expressions, {}};
  auto store = open_sqlite_store({db});
  auto resolver = [&](const WorkflowVersionRecord& v) {
    return load_workflow_source(v.source_text, v.source_file, v.format, context).workflow;
  };
  Executor executor(*store, registry, expressions, nullptr, resolver);
  executor.resume_all();
  auto loaded = load_workflow_file(workflow, context);
  if (!loaded.ok()) {
    for (const auto& d : loaded.diagnostics) std::cerr << d.to_string() << "\n";
    return 71;
  }
  RunRequest request;
  request.workflow = loaded.workflow;
  request.idempotency_key = kRunKey;
  const auto started = executor.start(request);
  const auto status = executor.wait(started.run_id, std::chrono::minutes(5));
  return status == RunStatus::succeeded ? 0 : 72;
}

struct Failure {
  std::string what;
};

void check(bool ok, const std::string& what) {
  if (!ok) throw Failure{what};
}

void verify(const std::string& db, const std::string& journal) {
  auto store = open_sqlite_store({db});
  auto run = store->find_run_by_idempotency_key(kRunKey);
  check(run.has_value(), "no run was created");
  check(run->status == RunStatus::succeeded,
        "run ended " + std::string(to_string(run->status)) + ": " + run->error);

  // key -> nonces in execution order
  std::map<std::string, std::vector<std::string>> executions;
  std::ifstream in(journal);
  std::string key, nonce;
  int attempt = 0;
  while (in >> key >> attempt >> nonce) executions[key].push_back(nonce);

  std::map<std::string, int> succeeded_attempts;
  for (const auto& a : store->get_attempts(run->id)) {
    if (a.status == StepStatus::succeeded) {
      ++succeeded_attempts[a.step_id + (a.index >= 0 ? "/" + std::to_string(a.index) : "")];
    }
  }
  int units = 0;
  for (const auto& s : store->get_steps(run->id)) {
    const std::string unit = s.step_id + (s.index >= 0 ? "/" + std::to_string(s.index) : "");
    check(s.status == StepStatus::succeeded,
          unit + " ended " + std::string(to_string(s.status)) + ": " + s.error);
    if (s.item_count >= 0) continue;  // a foreach parent: its items are the executions
    ++units;
    const std::string full_key = run->id + "/" + unit;
    auto it = executions.find(full_key);
    check(it != executions.end(), unit + " has no journal entry");
    check(s.output.is_object() && s.output.as_object().contains("nonce"),
          unit + " has no recorded nonce");
    const std::string recorded(s.output.at("nonce").as_string());
    check(it->second.back() == recorded,
          unit + " ran again after its output was recorded (" +
              std::to_string(it->second.size()) + " executions)");
    check(succeeded_attempts[unit] == 1,
          unit + " has " + std::to_string(succeeded_attempts[unit]) + " succeeded attempts");
  }
  check(units == 199 + 60, "expected 259 executed units, found " + std::to_string(units));
  for (const auto& [k, nonces] : executions) {
    check(k.rfind(run->id + "/", 0) == 0, "journal key " + k + " is not an idempotency key");
  }
}

pid_t spawn_child(const char* self, const std::string& db, const std::string& journal,
                  const std::string& workflow) {
  const pid_t pid = fork();
  if (pid == 0) {
    execl(self, self, "--child", db.c_str(), journal.c_str(), workflow.c_str(),
          static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  if (argc == 5 && std::string(argv[1]) == "--child") return run_child(argv[2], argv[3], argv[4]);

  int rounds = 3;
  int kills = 25;
  unsigned seed = std::random_device{}();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rounds") rounds = std::stoi(argv[i + 1]);
    else if (flag == "--kills") kills = std::stoi(argv[i + 1]);
    else if (flag == "--seed") seed = static_cast<unsigned>(std::stoul(argv[i + 1]));
  }
  std::cout << "crash test: " << rounds << " rounds of " << kills << " kills, seed " << seed
            << std::endl;
  std::mt19937 rng(seed);
  int passed = 0;
  int failed = 0;
  for (int round = 0; round < rounds; ++round) {
    const fs::path dir = fs::temp_directory_path() /
                         ("flowpilot-crash-" + std::to_string(seed) + "-" + std::to_string(round));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string db = (dir / "flowpilot.db").string();
    const std::string journal = (dir / "journal.txt").string();
    const std::string workflow = (dir / "crash-200.yaml").string();
    std::ofstream(workflow) << make_workflow();

    // Until the run has finished, every kill interrupts it somewhere: while loading, between
    // commits, in the middle of a step. Once a child exits 0 the run is complete.
    int killed = 0;
    for (int k = 0; k < kills; ++k) {
      const pid_t pid = spawn_child(argv[0], db, journal, workflow);
      std::uniform_int_distribution<int> delay(5, 150);
      std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng)));
      ::kill(pid, SIGKILL);
      const int code = wait_exit(pid);
      if (code == 128 + SIGKILL) {
        ++killed;
      } else if (code == 0) {
        break;
      } else {
        std::cout << "round " << round << ": a child exited with " << code << std::endl;
        break;
      }
    }
    const int killed_mid_run = killed;
    const int code = wait_exit(spawn_child(argv[0], db, journal, workflow));
    try {
      check(code == 0, "the final, uninterrupted process exited with " + std::to_string(code));
      verify(db, journal);
      ++passed;
      std::cout << "round " << round << ": ok (" << killed_mid_run << " kills before the run completed)"
                << std::endl;
      fs::remove_all(dir);
    } catch (const Failure& f) {
      ++failed;
      std::cout << "round " << round << ": FAILED: " << f.what << " (data kept in " << dir
                << ")" << std::endl;
    }
  }
  std::cout << passed << " passed, " << failed << " failed" << std::endl;
  return failed == 0 ? 0 : 1;
}
