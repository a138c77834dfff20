// Durable engine benchmarks (docs/benchmarks.md):
//   foreach    one run fanning core.noop out over 10,000 items
//   runs       1,000 runs of a 3-step workflow started together
//   chain      a 40-step sequential chain, end to end, repeated
//   overhead   the chain again on a tmpfs database with relaxed durability: the engine's own cost
//              per step (scheduling, expressions, JSON, SQLite CPU) without the disk flush
//   claim      the latency of claiming 16 runs out of 10,000 queued ones (run leases)
// Usage: flowpilot_bench [--dir DIR] [--repeat N] [--store postgres://...]
//   DIR: where the durable SQLite databases live. With --store, every case runs on that
//   PostgreSQL database instead (each in a fresh schema), and the tmpfs case is left out.
#include "engine/executor/executor.h"
#include "engine/loader/loader.h"
#include "engine/plugins/plugin_host.h"
#include "engine/steps/builtin_steps.h"
#include "engine/store/detail/pg_connection.h"
#include "engine/store/postgres_store.h"
#include "engine/store/sqlite_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
namespace fe = flowpilot::engine;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string g_postgres_url;  // --store: run on PostgreSQL

// A fresh store named `name`: a SQLite file at `db`, or a PostgreSQL schema of that name.
std::unique_ptr<fe::Store> fresh_store(const fs::path& db, const std::string& name, fe::Durability durability) {
  if (!g_postgres_url.empty()) {
    const std::string schema = "bench_" + name;
    fe::store_detail::PgConnection(g_postgres_url, "flowpilot-bench", "", false)
        .exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    fe::PostgresStoreOptions options;
    options.url = g_postgres_url;
    options.schema = schema;
    return fe::open_postgres_store(options);
  }
  fs::remove(db);
  fs::remove(db.string() + "-wal");
  fs::remove(db.string() + "-shm");
  fe::SqliteStoreOptions options;
  options.path = db;
  options.durability = durability;
  return fe::open_sqlite_store(options);
}

struct Bench {
  fe::PluginHost plugins{fe::PluginServices{}};
  fe::StepRegistry registry;
  flowpilot::scripting::ExpressionEngine expressions;
  std::unique_ptr<fe::Store> store;
  std::unique_ptr<fe::Executor> executor;

  Bench(const fs::path& db, fe::Durability durability) {
    fe::register_builtin_steps(registry);
    plugins.load_directories({fe::builtin_plugin_dir()}, registry);
    if (!registry.has_step("core.noop")) {
      std::cerr << "core plugin not found in " << fe::builtin_plugin_dir() << "\n";
      std::exit(2);
    }
    store = fresh_store(db, db.stem().string(), durability);
    executor = std::make_unique<fe::Executor>(*store, registry, expressions, nullptr,
                                              [](const fe::WorkflowVersionRecord&) {
                                                return std::shared_ptr<const fe::Workflow>();
                                              });
  }

  std::shared_ptr<const fe::Workflow> load(const std::string& yaml) {
    auto r = fe::load_workflow_yaml(yaml, "bench.yaml", {registry, expressions, {}});
    if (!r.ok()) {
      for (const auto& d : r.diagnostics) std::cerr << d.to_string() << "\n";
      std::exit(2);
    }
    return r.workflow;
  }

  fe::RunStatus run(const std::shared_ptr<const fe::Workflow>& wf) {
    fe::RunRequest request;
    request.workflow = wf;
    const auto id = executor->start(request).run_id;
    return executor->wait(id).value_or(fe::RunStatus::failed);
  }
};

std::string chain_yaml(int n) {
  std::ostringstream y;
  y << "id: chain" << n << "\nsteps:\n  - {id: s0, uses: core.noop, with: {n: 0}}\n";
  for (int i = 1; i < n; ++i) {
    y << "  - {id: s" << i << ", uses: core.noop, needs: [s" << i - 1 << "], with: {n: \"${{ steps.s"
      << i - 1 << ".output.n + 1 }}\"}}\n";
  }
  return y.str();
}

void check(fe::RunStatus s, const char* what) {
  if (s != fe::RunStatus::succeeded) {
    std::cerr << what << ": run ended " << fe::to_string(s) << "\n";
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = fs::temp_directory_path() / "flowpilot-bench";
  int repeat = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--dir") dir = argv[i + 1];
    else if (flag == "--repeat") repeat = std::stoi(argv[i + 1]);
    else if (flag == "--store") g_postgres_url = argv[i + 1];
  }
  fs::create_directories(dir);
  const fs::path shm = fs::exists("/dev/shm") ? fs::path("/dev/shm") : dir;
  std::cout << fmt::format("machine: {} hardware threads; store: {}\n\n", std::thread::hardware_concurrency(),
                           g_postgres_url.empty() ? "SQLite in " + dir.string() : std::string("PostgreSQL"));
  std::cout << "| benchmark | result |\n| --- | --- |\n";

  {
    Bench b(dir / "foreach.db", fe::Durability::full);
    auto wf = b.load(R"(
id: fanout
steps:
  - id: each
    uses: core.noop
    foreach: "${{ (function() local t = {} for i = 1, 10000 do t[i] = i end return t end)() }}"
    concurrency: 64
    with: {n: "${{ item }}"}
)");
    const auto t0 = Clock::now();
    check(b.run(wf), "foreach");
    const double ms = ms_since(t0);
    std::cout << fmt::format("| foreach of 10,000 core.noop items, durable | {:.0f} ms, {:.0f} steps/s |\n",
                             ms, 10000.0 / (ms / 1000.0));
  }
  {
    Bench b(dir / "runs.db", fe::Durability::full);
    auto wf = b.load(R"(
id: three
steps:
  - {id: a, uses: core.noop, with: {x: 1}}
  - {id: b, uses: core.noop, needs: [a], with: {x: "${{ steps.a.output.x + 1 }}"}}
  - {id: c, uses: core.noop, needs: [b], with: {x: "${{ steps.b.output.x + 1 }}"}}
)");
    // Runs are started by 16 client threads, as concurrent API or webhook requests would: each
    // start() returns once its run is durable, and concurrent starts share commits.
    const int runs = 1000;
    const int clients = 16;
    const auto t0 = Clock::now();
    std::vector<std::vector<std::string>> ids(clients);
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        for (int i = c; i < runs; i += clients) {
          fe::RunRequest request;
          request.workflow = wf;
          ids[c].push_back(b.executor->start(request).run_id);
        }
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& list : ids) {
      for (const auto& id : list) check(b.executor->wait(id).value_or(fe::RunStatus::failed), "runs");
    }
    const double ms = ms_since(t0);
    std::cout << fmt::format(
        "| 1,000 runs of a 3-step workflow started by {} clients, durable | {:.0f} ms, {:.0f} runs/s, "
        "{:.0f} steps/s |\n",
        clients, ms, runs / (ms / 1000.0), 3 * runs / (ms / 1000.0));
  }
  std::vector<std::tuple<const char*, fs::path, fe::Durability>> chains = {
      {"40-step chain end to end, durable", dir / "chain.db", fe::Durability::full}};
  if (g_postgres_url.empty()) {
    chains.emplace_back("40-step chain, relaxed durability on tmpfs (engine overhead)",
                        shm / "flowpilot-bench-chain.db", fe::Durability::relaxed);
  }
  for (const auto& [label, path, durability] : chains) {
    Bench b(path, durability);
    auto wf = b.load(chain_yaml(40));
    check(b.run(wf), "warm-up");
    std::vector<double> samples;
    for (int i = 0; i < repeat; ++i) {
      const auto t0 = Clock::now();
      check(b.run(wf), "chain");
      samples.push_back(ms_since(t0));
    }
    std::cout << fmt::format(
        "| {} | median {:.2f} ms, p90 {:.2f} ms ({:.0f} µs per step at the median) |\n", label,
        percentile(samples, 0.5), percentile(samples, 0.9), percentile(samples, 0.5) * 1000 / 40);
    fs::remove(path);
    fs::remove(path.string() + "-wal");
    fs::remove(path.string() + "-shm");
  }
  {
    // What a worker process pays to take work: one ClaimRuns of 16 runs while 10,000 wait.
    auto store = fresh_store(dir / "claim.db", "claim", fe::Durability::full);
    fe::WriteBatch queued;
    for (int i = 0; i < 10'000; ++i) {
      fe::RunRecord r;
      r.id = fe::new_run_id();
      r.workflow_id = "wf";
      r.workflow_version = "v1";
      r.created_at = fe::now_millis();
      queued.add(fe::CreateRun{r});
    }
    if (store->commit(std::move(queued)).error) std::exit(1);
    std::vector<double> samples;
    std::size_t claimed = 0;
    for (int i = 0; i < 200; ++i) {
      fe::WriteBatch claim;
      claim.add(fe::ClaimRuns{"bench", 16, fe::now_millis(), 600'000});
      const auto t0 = Clock::now();
      const fe::CommitResult r = store->commit(std::move(claim));
      samples.push_back(ms_since(t0));
      if (r.error) std::exit(1);
      claimed += r.claimed.size();
    }
    std::cout << fmt::format("| claim 16 of 10,000 queued runs (200 claims, {} runs taken), durable | median {:.2f} ms, "
                             "p99 {:.2f} ms |\n",
                             claimed, percentile(samples, 0.5), percentile(samples, 0.99));
  }
  return 0;
}
