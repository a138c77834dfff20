// The marketing pack's two benchmarks (docs/benchmarks.md):
//   ingest  a generated CSV of N daily fact rows read with a typed schema by csv.read and loaded by
//           warehouse.upsert_facts, as one durable workflow run through the real engine: rows/minute.
//   kpi     with those rows in the warehouse, the KPI queries a dashboard makes (one account's
//           campaigns over 30 days; every platform over 7 days), summed in the database: latency.
//
//   flowpilot_marketing_bench [rows (default 1000000)] [queries (default 200)]
#include "engine/executor/executor.h"
#include "engine/http/http_client.h"
#include "engine/loader/loader.h"
#include "engine/plugins/plugin_host.h"
#include "engine/steps/builtin_steps.h"
#include "engine/store/sqlite_store.h"
#include "engine/warehouse/warehouse.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

namespace fe = flowpilot::engine;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kAccounts = 10;
constexpr int kCampaignsPerAccount = 100;

std::string day(int index) {  // consecutive days from 2023-01-01
  const auto d = std::chrono::sys_days(std::chrono::year(2023) / 1 / 1) + std::chrono::days(index);
  const std::chrono::year_month_day ymd(d);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()));
}

// rows / (accounts × campaigns) days of data for every campaign.
int write_csv(const fs::path& file, long rows) {
  const int campaigns = kAccounts * kCampaignsPerAccount;
  const int days = static_cast<int>((rows + campaigns - 1) / campaigns);
  std::ofstream out(file);
  out << "date,platform,account_id,campaign_id,campaign_name,spend,impressions,clicks,conversions,revenue,currency\n";
  std::mt19937 random(7);
  long written = 0;
  for (int d = 0; d < days && written < rows; ++d) {
    const std::string date = day(d);
    for (int a = 0; a < kAccounts && written < rows; ++a) {
      for (int c = 0; c < kCampaignsPerAccount && written < rows; ++c, ++written) {
        const unsigned spend_cents = random() % 50'000;
        const unsigned impressions = 1000 + random() % 50'000;
        const unsigned clicks = impressions / (20 + random() % 80);
        const unsigned conversions = clicks / (10 + random() % 40);
        out << date << (a % 2 == 0 ? ",meta,act_" : ",google_ads,") << (1000 + a) << ",c" << a << "-" << c
            << ",Campaign " << c << "," << spend_cents / 100 << "." << fmt::format("{:02}", spend_cents % 100)
            << "," << impressions << "," << clicks << "," << conversions << "," << (spend_cents * 3) / 100
            << ".00,EUR\n";
      }
    }
  }
  return days;
}

struct Latency {
  double p50_ms, p99_ms, max_ms;
};

template <class F>
Latency measure(int queries, F&& query) {
  std::vector<double> ms;
  for (int i = 0; i < queries; ++i) {
    const auto t0 = Clock::now();
    query(i);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&ms](double q) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * ms.size()))]; };
  return {at(0.5), at(0.99), ms.back()};
}

double cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

// The warehouse alone, without the engine: the same rows as the CSV, upserted in one batch.
void bench_warehouse_alone(const fs::path& dir, long rows) {
  std::vector<fe::FactRow> facts;
  facts.reserve(static_cast<std::size_t>(rows));
  std::mt19937 random(7);
  for (long i = 0; i < rows; ++i) {
    const long per_day = kAccounts * kCampaignsPerAccount;
    const int a = static_cast<int>(i % per_day / kCampaignsPerAccount);
    fe::FactRow r;
    r.platform = a % 2 == 0 ? "meta" : "google_ads";
    r.account_id = fmt::format("{}{}", a % 2 == 0 ? "act_" : "", 1000 + a);
    r.campaign_id = fmt::format("c{}-{}", a, i % kCampaignsPerAccount);
    r.date = day(static_cast<int>(i / per_day));
    r.campaign_name = "Campaign";
    r.currency = "EUR";
    r.spend_micros = static_cast<std::int64_t>(random() % 50'000) * 10'000;
    r.impressions = 1000 + random() % 50'000;
    facts.push_back(std::move(r));
  }
  auto warehouse = fe::open_sqlite_warehouse({dir / "alone.db"});
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  const auto counts = warehouse->upsert_facts(facts, "bench");
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("warehouse alone: %zu rows inserted in %.1f s (%.1f s CPU): %.0f rows/minute\n", counts.inserted,
              seconds, cpu_seconds() - cpu0, rows / seconds * 60);
  const double cpu1 = cpu_seconds();
  const auto t1 = Clock::now();
  const auto again = warehouse->upsert_facts(facts, "bench");
  const double seconds_again = std::chrono::duration<double>(Clock::now() - t1).count();
  std::printf("warehouse alone, loaded again: %zu rows unchanged in %.1f s (%.1f s CPU)\n", again.unchanged,
              seconds_again, cpu_seconds() - cpu1);
}

}  // namespace

int main(int argc, char** argv) {
  const long rows = argc > 1 ? std::stol(argv[1]) : 1'000'000;
  const int queries = argc > 2 ? std::stoi(argv[2]) : 200;
  const fs::path dir = fs::temp_directory_path() / fmt::format("flowpilot-marketing-bench-{}", ::getpid());
  fs::create_directories(dir / "files");

  if (std::getenv("FLOWPILOT_BENCH_WAREHOUSE_ONLY") != nullptr) {
    bench_warehouse_alone(dir, rows);
    fs::remove_all(dir);
    return 0;
  }
  auto t0 = Clock::now();
  const int days = write_csv(dir / "files" / "facts.csv", rows);
  std::printf("generated %ld rows (%d days x %d campaigns) in %.1f s\n", rows, days,
              kAccounts * kCampaignsPerAccount, std::chrono::duration<double>(Clock::now() - t0).count());

  fe::StepRegistry registry;
  fe::register_builtin_steps(registry);
  fe::HttpClient http;
  auto warehouse = fe::open_sqlite_warehouse({dir / "warehouse.db"});
  boost::json::object config{{"csv", boost::json::object{{"roots", boost::json::array{(dir / "files").string()}}}}};
  fe::PluginHost plugins(fe::PluginServices{&http, warehouse.get(), config, {}});
  for (const auto& refusal : plugins.load_directories({fe::builtin_plugin_dir()}, registry)) {
    std::fprintf(stderr, "plugin not loaded: %s\n", refusal.to_string().c_str());
  }
  auto store = fe::open_sqlite_store({dir / "flowpilot.db"});
  flowpilot::scripting::ExpressionEngine expressions;
  const fe::LoadContext context{registry, expressions, {}};
  fe::Executor executor(*store, registry, expressions, [](std::string_view) { return std::nullopt; },
                        [&](const fe::WorkflowVersionRecord& v) {
                          return fe::load_workflow_source(v.source_text, v.source_file, v.format, context).workflow;
                        });
  const auto loaded = fe::load_workflow_yaml(R"(
id: csv-ingest
steps:
  - id: read
    uses: csv.read
    with:
      path: facts.csv
      max_rejected: 0
      schema:
        - {name: date, type: date, required: true}
        - {name: platform, required: true}
        - {name: account_id, required: true}
        - {name: campaign_id, required: true}
        - {name: campaign_name}
        - {name: spend, type: money, required: true, min: 0}
        - {name: impressions, type: integer, min: 0}
        - {name: clicks, type: integer, min: 0}
        - {name: conversions, type: number, min: 0}
        - {name: revenue, type: money}
        - {name: currency, required: true}
  - {id: load, uses: warehouse.upsert_facts, needs: [read], with: {rows: "${{ steps.read.output.rows }}"}}
)", "csv-ingest.yaml", context);
  for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
  if (!loaded.ok()) return 1;

  fe::RunRequest request;
  request.workflow = loaded.workflow;
  const double cpu0 = cpu_seconds();
  t0 = Clock::now();
  const auto run = executor.start(std::move(request)).run_id;
  const auto status = executor.wait(run, std::chrono::minutes(30));
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (status != fe::RunStatus::succeeded) {
    std::fprintf(stderr, "the ingest run did not succeed: %s\n", store->get_run(run)->error.c_str());
    return 1;
  }
  double read_s = 0;
  double load_s = 0;
  for (const auto& s : store->get_steps(run)) {
    const double d = static_cast<double>(s.finished_at - s.started_at) / 1000.0;
    if (s.step_id == "read") read_s = d;
    if (s.step_id == "load") load_s = d;
  }
  std::printf("ingest: %ld rows in %.1f s (csv.read %.1f s, warehouse.upsert_facts %.1f s; %.1f s CPU): "
              "%.0f rows/minute\n",
              rows, seconds, read_s, load_s, cpu_seconds() - cpu0, rows / seconds * 60);

  const std::string last = day(days - 1);
  const std::string month_ago = day(std::max(0, days - 30));
  const std::string week_ago = day(std::max(0, days - 7));
  std::size_t groups = 0;
  const Latency by_campaign = measure(queries, [&](int i) {
    fe::FactQuery q;
    q.since = month_ago;
    q.until = last;
    q.account_ids = {i % kAccounts % 2 == 0 ? fmt::format("act_{}", 1000 + i % kAccounts)
                                            : std::to_string(1000 + i % kAccounts)};
    q.group_by = {"campaign_id"};
    groups = warehouse->facts(q).size();
  });
  std::printf("kpi: one account's campaigns over 30 days (%zu groups): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              groups, by_campaign.p50_ms, by_campaign.p99_ms, by_campaign.max_ms);
  const Latency by_platform = measure(queries, [&](int) {
    fe::FactQuery q;
    q.since = week_ago;
    q.until = last;
    q.group_by = {"platform", "date"};
    groups = warehouse->facts(q).size();
  });
  std::printf("kpi: every platform by day over 7 days (%zu groups): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              groups, by_platform.p50_ms, by_platform.p99_ms, by_platform.max_ms);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
