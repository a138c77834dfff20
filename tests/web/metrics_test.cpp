// The metrics registry and its Prometheus text exposition. Expected texts are written by hand from
// the format's specification (text format 0.0.4); the last test checks a realistic registry with
// Prometheus' own linter, `promtool check metrics` (Debian package `prometheus`).
#include "web/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace flowpilot::web::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// ---- number formatting ----

TEST(MetricsFormat, NumbersRoundTripWithoutLocaleInGoStyle) {
  EXPECT_EQ(format_value(0.0), "0");
  EXPECT_EQ(format_value(1.0), "1");
  EXPECT_EQ(format_value(42.0), "42");
  EXPECT_EQ(format_value(-2.5), "-2.5");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(0.0001), "0.0001");
  EXPECT_EQ(format_value(0.00025), "0.00025");
  EXPECT_EQ(format_value(1e-5), "1e-05");
  EXPECT_EQ(format_value(1234567.0), "1234567");
  EXPECT_EQ(format_value(1e20), "100000000000000000000");
  EXPECT_EQ(format_value(1e21), "1e+21");
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  const double third = 1.0 / 3.0;
  EXPECT_EQ(std::strtod(format_value(third).c_str(), nullptr), third);
}

TEST(MetricsFormat, DefaultLatencyBucketsSpan100MicrosecondsTo10Seconds) {
  const std::vector<double>& b = default_latency_buckets();
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(b.front(), 0.0001);
  EXPECT_EQ(b.back(), 10.0);
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
}

// ---- counters ----

TEST(MetricsCounter, ExactTextSortedByLabelValues) {
  Registry r;
  CounterFamily& f = r.counter("flowpilot_http_requests_total", "HTTP requests served.",
                               {"method", "route", "status"});
  f.with({"POST", "/hooks/{path}", "202"}).inc(3);
  f.with({"GET", "/api/v1/runs", "200"}).inc();
  f.with({"GET", "/api/v1/runs", "200"}).inc();
  f.with({"GET", "/api/v1/runs", "404"});
  EXPECT_EQ(r.render(),
            "# HELP flowpilot_http_requests_total HTTP requests served.\n"
            "# TYPE flowpilot_http_requests_total counter\n"
            "flowpilot_http_requests_total{method=\"GET\",route=\"/api/v1/runs\",status=\"200\"} 2\n"
            "flowpilot_http_requests_total{method=\"GET\",route=\"/api/v1/runs\",status=\"404\"} 0\n"
            "flowpilot_http_requests_total{method=\"POST\",route=\"/hooks/{path}\",status=\"202\"} "
            "3\n");
}

TEST(MetricsCounter, WithReturnsTheSameChildForTheSameLabels) {
  Registry r;
  CounterFamily& f = r.counter("c_total", "h", {"a"});
  Counter& one = f.with({"x"});
  Counter& two = f.with(std::vector<std::string>{"x"});
  EXPECT_EQ(&one, &two);
  EXPECT_NE(&one, &f.with({"y"}));
}

TEST(MetricsCounter, FractionalAddsAndWholeIncrementsSum) {
  Registry r;
  Counter& c = r.counter("cpu_seconds_total", "CPU time.").with({});
  c.inc(2);
  c.add(0.25);
  c.add(0.25);
  EXPECT_EQ(c.value(), 2.5);
  EXPECT_EQ(r.render(),
            "# HELP cpu_seconds_total CPU time.\n"
            "# TYPE cpu_seconds_total counter\n"
            "cpu_seconds_total 2.5\n");
  EXPECT_THROW(c.add(-1.0), std::invalid_argument);
  EXPECT_THROW(c.add(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
}

TEST(MetricsCounter, HelpAndLabelValuesAreEscaped) {
  Registry r;
  r.counter("esc_total", "Back\\slash, \"quotes\" stay,\nnew line.", {"v"})
      .with({"a\\b \"q\"\nz"})
      .inc();
  // HELP escapes only backslash and newline; label values also escape the double quote.
  EXPECT_EQ(r.render(),
            "# HELP esc_total Back\\\\slash, \"quotes\" stay,\\nnew line.\n"
            "# TYPE esc_total counter\n"
            "esc_total{v=\"a\\\\b \\\"q\\\"\\nz\"} 1\n");
}

TEST(MetricsCounter, InvalidUtf8InLabelValueIsReplaced) {
  Registry r;
  CounterFamily& f = r.counter("hosts_total", "h", {"host"});
  f.with({std::string_view("ok\xff\xc3(\xe2\x82\xac", 8)}).inc();  // bad, truncated, then "€"
  f.with({"\xed\xa0\x80"}).inc();                                  // a UTF-16 surrogate
  EXPECT_EQ(r.render(),
            "# HELP hosts_total h\n"
            "# TYPE hosts_total counter\n"
            "hosts_total{host=\"ok\xEF\xBF\xBD\xEF\xBF\xBD(\xe2\x82\xac\"} 1\n"
            "hosts_total{host=\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"} 1\n");
}

// ---- gauges ----

TEST(MetricsGauge, SetIncDecAndAdd) {
  Registry r;
  Gauge& g = r.gauge("flowpilot_inflight_requests", "Requests being served.").with({});
  g.set(5);
  g.inc();
  g.dec();
  g.dec();
  g.add(0.5);
  EXPECT_EQ(g.value(), 4.5);
  g.set(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(r.render(),
            "# HELP flowpilot_inflight_requests Requests being served.\n"
            "# TYPE flowpilot_inflight_requests gauge\n"
            "flowpilot_inflight_requests -Inf\n");
}

TEST(MetricsGauge, CallbacksAreEvaluatedAtEachRender) {
  Registry r;
  GaugeFamily& f = r.gauge("flowpilot_queue_depth", "Runs waiting for a worker.", {"queue"});
  std::atomic<int> depth{3};
  f.set_callback({"default"}, [&] { return static_cast<double>(depth.load()); });
  f.with({"bulk"}).set(7);
  f.set_callback({"broken"}, []() -> double { throw std::runtime_error("gone"); });
  const std::string header =
      "# HELP flowpilot_queue_depth Runs waiting for a worker.\n"
      "# TYPE flowpilot_queue_depth gauge\n";
  // The throwing callback's sample is left out; the others are rendered.
  EXPECT_EQ(r.render(), header +
                            "flowpilot_queue_depth{queue=\"bulk\"} 7\n"
                            "flowpilot_queue_depth{queue=\"default\"} 3\n");
  depth = 11;
  EXPECT_THAT(r.render(), HasSubstr("flowpilot_queue_depth{queue=\"default\"} 11\n"));
  // An empty callback reverts the child to its stored value.
  f.set_callback({"broken"}, nullptr);
  f.set_callback({"default"}, nullptr);
  EXPECT_EQ(r.render(), header +
                            "flowpilot_queue_depth{queue=\"broken\"} 0\n"
                            "flowpilot_queue_depth{queue=\"bulk\"} 7\n"
                            "flowpilot_queue_depth{queue=\"default\"} 0\n");
}

TEST(MetricsGauge, CallbackMayRegisterAChildOfItsOwnFamily) {
  // Callbacks run outside the family lock, so this does not deadlock.
  Registry r;
  GaugeFamily& f = r.gauge("g", "h", {"k"});
  f.set_callback({"a"}, [&] {
    f.with({"b"}).set(2);
    return 1.0;
  });
  EXPECT_EQ(r.render(), "# HELP g h\n# TYPE g gauge\ng{k=\"a\"} 1\n");
  EXPECT_EQ(r.render(), "# HELP g h\n# TYPE g gauge\ng{k=\"a\"} 1\ng{k=\"b\"} 2\n");
}

// ---- histograms ----

TEST(MetricsHistogram, ExactTextWithCumulativeBucketsSumAndCount) {
  Registry r;
  Histogram& h = r.histogram("job_seconds", "Job time.", {}, {0.125, 1, 10}).with({});
  h.observe(0.0625);  // binary fractions keep the expected _sum exact
  h.observe(0.125);  // on the bound: le means "less than or equal"
  h.observe(5.0);
  h.observe(100.0);
  h.observe(std::chrono::milliseconds(250));
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(r.render(),
            "# HELP job_seconds Job time.\n"
            "# TYPE job_seconds histogram\n"
            "job_seconds_bucket{le=\"0.125\"} 2\n"
            "job_seconds_bucket{le=\"1\"} 3\n"
            "job_seconds_bucket{le=\"10\"} 4\n"
            "job_seconds_bucket{le=\"+Inf\"} 5\n"
            "job_seconds_sum 105.4375\n"
            "job_seconds_count 5\n");
}

TEST(MetricsHistogram, LabelsComeBeforeLeAndTrailingInfIsDropped) {
  Registry r;
  HistogramFamily& f = r.histogram("step_seconds", "Step time.", {"workflow", "plugin"},
                                   {0.0001, 0.00025, std::numeric_limits<double>::infinity()});
  EXPECT_EQ(f.buckets(), (std::vector<double>{0.0001, 0.00025}));
  f.with({"wf", "http"}).observe(0.0002);
  f.with({"a", "kpi"}).observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(r.render(),
            "# HELP step_seconds Step time.\n"
            "# TYPE step_seconds histogram\n"
            "step_seconds_bucket{workflow=\"a\",plugin=\"kpi\",le=\"0.0001\"} 0\n"
            "step_seconds_bucket{workflow=\"a\",plugin=\"kpi\",le=\"0.00025\"} 0\n"
            "step_seconds_bucket{workflow=\"a\",plugin=\"kpi\",le=\"+Inf\"} 1\n"
            "step_seconds_sum{workflow=\"a\",plugin=\"kpi\"} NaN\n"
            "step_seconds_count{workflow=\"a\",plugin=\"kpi\"} 1\n"
            "step_seconds_bucket{workflow=\"wf\",plugin=\"http\",le=\"0.0001\"} 0\n"
            "step_seconds_bucket{workflow=\"wf\",plugin=\"http\",le=\"0.00025\"} 1\n"
            "step_seconds_bucket{workflow=\"wf\",plugin=\"http\",le=\"+Inf\"} 1\n"
            "step_seconds_sum{workflow=\"wf\",plugin=\"http\"} 0.0002\n"
            "step_seconds_count{workflow=\"wf\",plugin=\"http\"} 1\n");
}

TEST(MetricsHistogram, DefaultBucketsRenderGoStyleLeValues) {
  Registry r;
  r.histogram("commit_seconds", "Commit time.").with({}).observe(0.003);
  const std::string text = r.render();
  EXPECT_THAT(text, HasSubstr("commit_seconds_bucket{le=\"0.0001\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("commit_seconds_bucket{le=\"0.0025\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("commit_seconds_bucket{le=\"0.005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("commit_seconds_bucket{le=\"10\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("commit_seconds_bucket{le=\"+Inf\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("commit_seconds_count 1\n"));
}

// ---- registry ----

TEST(MetricsRegistry, FamiliesSortedByNameEmptyLabelledFamiliesOmitted) {
  Registry r;
  r.counter("zeta_total", "z").with({}).inc();
  r.gauge("alpha", "a");                       // no labels: rendered as 0 from the start
  r.counter("middle_total", "m", {"status"});  // labelled, no child yet: omitted
  EXPECT_EQ(r.render(),
            "# HELP alpha a\n# TYPE alpha gauge\nalpha 0\n"
            "# HELP zeta_total z\n# TYPE zeta_total counter\nzeta_total 1\n");
}

TEST(MetricsRegistry, EmptyRegistryRendersNothing) {
  Registry r;
  EXPECT_EQ(r.render(), "");
  EXPECT_THAT(std::string(kContentType), StartsWith("text/plain; version=0.0.4"));
}

TEST(MetricsRegistry, InvalidNamesThrowAtRegistration) {
  Registry r;
  EXPECT_THROW(r.counter("", "h"), std::invalid_argument);
  EXPECT_THROW(r.counter("1abc", "h"), std::invalid_argument);
  EXPECT_THROW(r.counter("a-b", "h"), std::invalid_argument);
  EXPECT_THROW(r.counter("a b", "h"), std::invalid_argument);
  EXPECT_THROW(r.gauge("caf\xc3\xa9", "h"), std::invalid_argument);
  EXPECT_NO_THROW(r.gauge("ns:sub_metric", "h"));  // colons are allowed in metric names
  EXPECT_NO_THROW(r.gauge("_x9", "h"));
  EXPECT_THROW(r.counter("l1", "h", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.counter("l2", "h", {"a:b"}), std::invalid_argument);
  EXPECT_THROW(r.counter("l3", "h", {"9a"}), std::invalid_argument);
  EXPECT_THROW(r.counter("l4", "h", {""}), std::invalid_argument);
  EXPECT_THROW(r.counter("l5", "h", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("l6", "h", {"le"}), std::invalid_argument);
  EXPECT_NO_THROW(r.counter("l7_total", "h", {"le", "_a"}));  // le is only reserved in histograms
}

TEST(MetricsRegistry, NameCollisionsThrowIncludingHistogramSuffixes) {
  Registry r;
  r.counter("dup_total", "h");
  EXPECT_THROW(r.counter("dup_total", "h"), std::invalid_argument);
  EXPECT_THROW(r.gauge("dup_total", "h"), std::invalid_argument);
  r.histogram("lat_seconds", "h");
  EXPECT_THROW(r.counter("lat_seconds_count", "h"), std::invalid_argument);
  EXPECT_THROW(r.gauge("lat_seconds_bucket", "h"), std::invalid_argument);
  r.gauge("other_sum", "h");
  EXPECT_THROW(r.histogram("other", "h"), std::invalid_argument);
  // A failed registration leaves nothing behind.
  EXPECT_THAT(r.render(), ::testing::Not(HasSubstr("other_bucket")));
}

TEST(MetricsRegistry, BadBucketsAndWrongLabelCountThrow) {
  Registry r;
  EXPECT_THROW(r.histogram("b1", "h", {}, {1, 1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("b2", "h", {}, {2, 1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("b3", "h", {}, {std::nan("")}), std::invalid_argument);
  EXPECT_THROW(r.histogram("b4", "h", {}, {-std::numeric_limits<double>::infinity(), 1}),
               std::invalid_argument);
  EXPECT_NO_THROW(r.histogram("b5", "h", {}, {}));  // only +Inf
  CounterFamily& f = r.counter("c_total", "h", {"a", "b"});
  EXPECT_THROW(f.with({"x"}), std::invalid_argument);
  EXPECT_THROW(f.with({"x", "y", "z"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("g", "h", {"a"}).set_callback({}, [] { return 1.0; }),
               std::invalid_argument);
}

// ---- concurrency ----

constexpr int kThreads = 8;
constexpr int kPerThread = 100'000;

TEST(MetricsConcurrency, CounterIncrementsFromEightThreadsAreExact) {
  Registry r;
  Counter& c = r.counter("hits_total", "h", {"k"}).with({"x"});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) c.inc();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(c.value(), static_cast<double>(kThreads) * kPerThread);
  EXPECT_THAT(r.render(), HasSubstr("hits_total{k=\"x\"} 800000\n"));
}

TEST(MetricsConcurrency, HistogramAndGaugeUpdatesFromEightThreadsAreExact) {
  Registry r;
  Histogram& h = r.histogram("obs_seconds", "h", {}, {0.25, 1}).with({});
  Gauge& g = r.gauge("level", "h").with({});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        h.observe(0.5);  // exactly representable, so the sum is exact too
        g.add(1.0);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(h.count(), static_cast<std::uint64_t>(kThreads) * kPerThread);
  EXPECT_EQ(h.sum(), 0.5 * kThreads * kPerThread);
  EXPECT_EQ(g.value(), static_cast<double>(kThreads) * kPerThread);
  EXPECT_EQ(h.cumulative_counts(), (std::vector<std::uint64_t>{0, 800000, 800000}));
}

TEST(MetricsConcurrency, LookupsRegistrationAndRenderRaceSafely) {
  // Mostly for ASan/TSan: children created from many threads while another thread scrapes.
  Registry r;
  CounterFamily& f = r.counter("routes_total", "h", {"route"});
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) (void)r.render();
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2'000; ++i) f.with({std::to_string(i % 50)}).inc();
      r.gauge("late_" + std::to_string(t), "h").with({}).set(t);
    });
  }
  for (std::thread& t : threads) t.join();
  done = true;
  scraper.join();
  double total = 0;
  for (int i = 0; i < 50; ++i) total += f.with({std::to_string(i)}).value();
  EXPECT_EQ(total, kThreads * 2'000.0);
  EXPECT_THAT(r.render(), HasSubstr("late_7 7\n"));
}

// ---- promtool ----

// A registry shaped like `flowpilot serve`'s (the families the server issue asks for), with a
// few children each, including awkward label values.
void fill_realistic(Registry& r, std::atomic<double>& queue_depth) {
  auto& http = r.counter("flowpilot_http_requests_total", "HTTP requests by route and status.",
                         {"method", "route", "status"});
  auto& http_lat = r.histogram("flowpilot_http_request_duration_seconds",
                               "HTTP request latency by route.", {"method", "route"});
  const char* const routes[][3] = {{"GET", "/api/v1/runs", "200"},
                                   {"GET", "/api/v1/runs/{id}", "404"},
                                   {"POST", "/hooks/{path}", "202"},
                                   {"POST", "/hooks/{path}", "401"},
                                   {"GET", "/metrics", "200"}};
  for (const auto& rt : routes) {
    http.with({rt[0], rt[1], rt[2]}).inc(17);
    http_lat.with({rt[0], rt[1]}).observe(0.0042);
  }
  auto& runs = r.counter("flowpilot_runs_total", "Runs finished, by workflow and status.",
                         {"workflow", "status"});
  auto& steps = r.counter("flowpilot_steps_total", "Steps finished, by workflow and status.",
                          {"workflow", "status"});
  auto& step_lat = r.histogram("flowpilot_step_duration_seconds", "Step latency by plugin.",
                               {"workflow", "plugin"});
  for (const char* wf : {"cpa-guardrail", "weekly-roas", "odd \"name\"\\with\nnewline"}) {
    for (const char* status : {"succeeded", "failed", "cancelled"}) {
      runs.with({wf, status}).inc(3);
      steps.with({wf, status}).inc(30);
    }
    step_lat.with({wf, "meta_ads"}).observe(0.35);
    step_lat.with({wf, "kpi"}).observe(std::chrono::microseconds(80));
  }
  auto& depth = r.gauge("flowpilot_queue_depth", "Runs waiting for a worker.", {"queue"});
  depth.set_callback({"default"}, [&] { return queue_depth.load(); });
  depth.with({"retry"}).set(2);
  r.gauge("flowpilot_runs_active", "Runs being executed now.").with({}).set(4);
  auto& hooks = r.counter("flowpilot_webhook_deliveries_total",
                          "Webhook deliveries accepted, by hook.", {"hook"});
  hooks.with({"stripe"}).inc(120);
  hooks.with({"github"}).inc(9);
  auto& rejected = r.counter("flowpilot_webhook_rejections_total",
                             "Webhook deliveries rejected, by hook and reason.",
                             {"hook", "reason"});
  for (const char* reason : {"bad_signature", "stale_timestamp", "duplicate", "body_too_large"}) {
    rejected.with({"stripe", reason}).inc();
  }
  r.histogram("flowpilot_store_commit_duration_seconds", "Store commit latency (group commit).",
              {"store"})
      .with({"sqlite"})
      .observe(0.0011);
  auto& plugin_http = r.counter("flowpilot_plugin_http_requests_total",
                                "Outbound plugin HTTP calls by host and status.",
                                {"host", "status"});
  plugin_http.with({"graph.facebook.com", "200"}).inc(40);
  plugin_http.with({"graph.facebook.com", "429"}).inc(2);
  plugin_http.with({"hooks.slack.com", "200"}).inc(5);
  plugin_http.with({std::string_view("bad\xff.example", 12), "error"}).inc();
  r.counter("flowpilot_plugin_http_duration_seconds_total", "Seconds spent in plugin HTTP calls.")
      .with({})
      .add(12.75);
}

// Finds an executable on PATH the way a shell would, so the failure message can be precise.
bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(MetricsPromtool, RealisticRegistryPassesPromtoolCheckMetrics) {
  // Not a skip: the setup script installs promtool, and a silently skipped check proves nothing.
  ASSERT_TRUE(on_path("promtool"))
      << "promtool is not on PATH; install the Debian package `prometheus` "
         "(scripts/setup.sh does: apt-get install --no-install-recommends prometheus)";

  Registry r;
  std::atomic<double> queue_depth{9};
  fill_realistic(r, queue_depth);
  const std::string text = r.render();
  // Sanity: every family the server issue lists is there.
  for (const char* name :
       {"flowpilot_http_requests_total{", "flowpilot_http_request_duration_seconds_bucket{",
        "flowpilot_runs_total{", "flowpilot_steps_total{", "flowpilot_queue_depth{queue=\"default\"} 9",
        "flowpilot_step_duration_seconds_bucket{", "flowpilot_webhook_deliveries_total{",
        "flowpilot_webhook_rejections_total{", "flowpilot_store_commit_duration_seconds_bucket{",
        "flowpilot_plugin_http_requests_total{"}) {
    EXPECT_THAT(text, HasSubstr(name));
  }

  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("flowpilot_metrics_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path in = dir / "metrics.txt";
  const std::filesystem::path out = dir / "stdout.txt";
  const std::filesystem::path err = dir / "stderr.txt";
  {
    std::ofstream f(in, std::ios::binary);
    f << text;
  }
  const std::string cmd = "promtool check metrics < '" + in.string() + "' > '" + out.string() +
                          "' 2> '" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  const std::string out_text = read_all(out);
  const std::string err_text = read_all(err);
  std::filesystem::remove_all(dir);

  ASSERT_NE(status, -1) << "could not run: " << cmd;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "promtool exit status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1)
      << "\nstdout:\n" << out_text << "\nstderr:\n" << err_text << "\ninput:\n" << text;
  EXPECT_EQ(err_text, "") << "input:\n" << text;
  EXPECT_EQ(out_text, "");
}

TEST(MetricsPromtool, PromtoolRejectsABrokenExpositionSoTheCheckAboveMeansSomething) {
  ASSERT_TRUE(on_path("promtool")) << "promtool is not on PATH; install the Debian package "
                                      "`prometheus`";
  const std::filesystem::path in =
      std::filesystem::temp_directory_path() /
      ("flowpilot_metrics_bad_" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream f(in, std::ios::binary);
    f << "# HELP hits h\n# TYPE hits counter\nhits 1\n";  // counter without _total: a lint error
  }
  const int status =
      std::system(("promtool check metrics < '" + in.string() + "' > /dev/null 2>&1").c_str());
  std::filesystem::remove(in);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

}  // namespace
}  // namespace flowpilot::web::metrics
