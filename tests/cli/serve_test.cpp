// Runs the real `flowpilot serve` as an operator would, on a loopback port picked by the OS, and
// talks HTTP to it: graceful stop, SIGKILL between accepting and answering, directory reloads,
// cron firing across a restart, Prometheus metrics checked by promtool, and --print-config.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <mutex>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

struct HttpAnswer {
  int status = 0;  // 0: no answer (connection failed or closed)
  std::string headers;
  std::string body;
};

// One request on a fresh connection, Connection: close; reads to EOF.
HttpAnswer http(std::uint16_t port, const std::string& method, const std::string& target,
                const std::string& body = {}, const std::string& extra_headers = {}) {
  HttpAnswer answer;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return answer;
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return answer;
  }
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                        extra_headers + "Content-Length: " + std::to_string(body.size()) +
                        "\r\n\r\n" + body;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) {
    ::close(fd);
    return answer;
  }
  std::string raw;
  std::array<char, 8192> buf{};
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    raw.append(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return answer;
  answer.status = std::stoi(raw.substr(9, 3));
  answer.headers = raw.substr(0, end);
  answer.body = raw.substr(end + 4);
  return answer;
}

// `flowpilot serve` as a child process; stdout is read for the port it serves on.
class ServeProcess {
 public:
  ServeProcess(const fs::path& dir, std::vector<std::string> extra) {
    std::vector<std::string> args = {std::string(FLOWPILOT_BINARY_DIR) + "/cli/flowpilot",
                                     "serve",
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--data-dir",
                                     (dir / "data").string(),
                                     "--workflows",
                                     (dir / "flows").string(),
                                     "--watch-interval",
                                     "100ms"};
    args.insert(args.end(), extra.begin(), extra.end());
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      const std::string log = (dir / "serve.log").string();
      FILE* err = std::fopen(log.c_str(), "a");
      if (err != nullptr) dup2(fileno(err), STDERR_FILENO);
      ::close(out[0]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c = 0;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    const auto colon = line.rfind(':');
    if (line.find("serving on") != std::string::npos && colon != std::string::npos) {
      port_ = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
    }
  }
  ~ServeProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::uint16_t port() const { return port_; }
  void kill_hard() {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    reaped_ = true;
  }
  // SIGTERM, then the exit code (-1 when it did not exit by itself within 30 s).
  int terminate() {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(100ms);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  bool reaped_ = false;
};

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("flowpilot-serve-" + std::to_string(rd()));
    fs::create_directories(dir_ / "flows");
  }
  void TearDown() override {
    if (HasFailure()) {
      std::ifstream log(dir_ / "serve.log");
      std::string text((std::istreambuf_iterator<char>(log)), {});
      std::cerr << "---- serve.log ----\n" << text.substr(text.size() > 4000 ? text.size() - 4000 : 0);
    }
    fs::remove_all(dir_);
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / "flows" / name) << text;
  }
  std::string run_command(const std::string& cmd) {
    std::string out;
    FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
    if (pipe == nullptr) return out;
    std::array<char, 4096> buf{};
    while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) out += buf.data();
    last_code_ = WEXITSTATUS(pclose(pipe));
    return out;
  }
  // An admin API token for the server's data directory, made once with `flowpilot tokens create`
  // for the admin `serve` created on the empty store.
  const std::string& token() {
    if (token_.empty()) {
      const std::string out = run_command(std::string(FLOWPILOT_BINARY_DIR) +
                                          "/cli/flowpilot tokens create --user "
                                          "admin@flowpilot.local --scopes admin --json --data-dir '" +
                                          (dir_ / "data").string() + "'");
      EXPECT_EQ(last_code_, 0) << out;
      if (last_code_ == 0) token_ = std::string(json::parse(out).at("secret").as_string());
    }
    return token_;
  }
  // http() with the admin token.
  HttpAnswer api(std::uint16_t port, const std::string& method, const std::string& target,
                 const std::string& body = {}, const std::string& extra_headers = {}) {
    return http(port, method, target, body,
                "Authorization: Bearer " + token() + "\r\n" + extra_headers);
  }
  std::vector<json::object> all_runs(std::uint16_t port) {
    std::vector<json::object> out;
    std::string cursor;
    for (;;) {
      auto page = api(port, "GET", "/api/v1/runs?limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor));
      if (page.status != 200) break;
      auto body = json::parse(page.body).as_object();
      for (auto& item : body["items"].as_array()) out.push_back(item.as_object());
      if (!body.contains("next_cursor")) break;
      cursor = std::string(body["next_cursor"].as_string());
    }
    return out;
  }

  fs::path dir_;
  int last_code_ = -1;
  std::string token_;
};

constexpr const char* kHook = R"(
id: hook
triggers:
  - webhook: {path: in}
steps:
  - {id: a, uses: core.noop, with: {n: "${{ trigger.body.n }}"}}
)";

TEST_F(ServeTest, ServesTheApiAndStopsGracefullyOnSigterm) {
  write("hook.yaml", kHook);
  ServeProcess serve(dir_, {});
  ASSERT_NE(serve.port(), 0);
  auto ready = http(serve.port(), "GET", "/readyz");
  EXPECT_EQ(ready.status, 200);
  auto hook = http(serve.port(), "POST", "/hooks/in", R"({"n":1})", "Content-Type: application/json\r\n");
  ASSERT_EQ(hook.status, 202) << hook.body;
  EXPECT_EQ(http(serve.port(), "GET", "/api/v1/nope").status, 404);
  // A fresh install has no unauthenticated API (BAD-INPUTS 24).
  EXPECT_EQ(http(serve.port(), "GET", "/api/v1/workflows").status, 401);
  EXPECT_EQ(api(serve.port(), "GET", "/api/v1/workflows").status, 200);
  auto not_allowed = http(serve.port(), "DELETE", "/api/v1/runs");
  EXPECT_EQ(not_allowed.status, 405);
  EXPECT_NE(not_allowed.headers.find("Allow: GET, HEAD"), std::string::npos);
  EXPECT_EQ(serve.terminate(), 0);
}

TEST_F(ServeTest, MetricsPassPromtool) {
  write("hook.yaml", kHook);
  ServeProcess serve(dir_, {});
  ASSERT_NE(serve.port(), 0);
  for (int i = 0; i < 3; ++i) {
    http(serve.port(), "POST", "/hooks/in", R"({"n":1})", "Content-Type: application/json\r\n");
  }
  http(serve.port(), "POST", "/hooks/unknown");
  std::this_thread::sleep_for(300ms);
  auto metrics = http(serve.port(), "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  for (const char* family :
       {"flowpilot_http_requests_total", "flowpilot_http_request_duration_seconds_bucket",
        "flowpilot_runs_total", "flowpilot_steps_total", "flowpilot_step_duration_seconds",
        "flowpilot_store_commit_duration_seconds", "flowpilot_webhook_deliveries_total",
        "flowpilot_runs_active", "flowpilot_runs_queued"}) {
    EXPECT_NE(metrics.body.find(family), std::string::npos) << family;
  }
  EXPECT_NE(metrics.body.find("outcome=\"unknown_path\""), std::string::npos);
  std::ofstream(dir_ / "metrics.txt") << metrics.body;
  const std::string out = run_command("promtool check metrics < '" + (dir_ / "metrics.txt").string() + "'");
  EXPECT_EQ(last_code_, 0) << out;
}

TEST_F(ServeTest, NothingAcceptedIsLostWhenKilledBetweenAcceptingAndAnswering) {
  write("hook.yaml", kHook);
  std::map<std::string, std::string> accepted;  // idempotency key -> run id answered with 202
  {
    ServeProcess serve(dir_, {});
    ASSERT_NE(serve.port(), 0);
    std::vector<std::thread> senders;
    std::mutex mu;
    std::atomic<bool> stop{false};
    for (int t = 0; t < 4; ++t) {
      senders.emplace_back([&, t] {
        for (int i = 0; i < 500 && !stop; ++i) {
          const std::string key = std::to_string(t) + "-" + std::to_string(i);
          auto r = http(serve.port(), "POST", "/hooks/in", R"({"n":1})",
                        "Content-Type: application/json\r\nIdempotency-Key: " + key + "\r\n");
          if (r.status == 202) {
            std::lock_guard lock(mu);
            accepted[key] = std::string(json::parse(r.body).at("run_id").as_string());
          }
        }
      });
    }
    std::this_thread::sleep_for(700ms);
    serve.kill_hard();
    stop = true;
    for (auto& s : senders) s.join();
  }
  ASSERT_FALSE(accepted.empty());
  ServeProcess again(dir_, {});
  ASSERT_NE(again.port(), 0);
  // Every accepted delivery has its run; a resend with the same key answers that same run.
  for (const auto& [key, run_id] : accepted) {
    auto run = api(again.port(), "GET", "/api/v1/runs/" + run_id);
    ASSERT_EQ(run.status, 200) << "accepted run " << run_id << " was lost";
  }
  int checked = 0;
  for (const auto& [key, run_id] : accepted) {
    if (++checked > 50) break;
    auto r = http(again.port(), "POST", "/hooks/in", R"({"n":1})",
                  "Content-Type: application/json\r\nIdempotency-Key: " + key + "\r\n");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body).at("run_id"), json::value(run_id));
  }
  // Every run finishes after the restart: those interrupted by the kill are resumed.
  bool all_done = false;
  std::vector<json::object> runs;
  for (int i = 0; i < 200 && !all_done; ++i) {
    runs = all_runs(again.port());
    all_done = !runs.empty();
    for (const auto& run : runs) all_done = all_done && run.at("status") == json::value("succeeded");
    if (!all_done) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(all_done) << "runs still unfinished 20 s after the restart";
  EXPECT_GE(runs.size(), accepted.size());
  EXPECT_EQ(again.terminate(), 0);
}

TEST_F(ServeTest, ReloadsWorkflowDirectoriesAndReportsBadFiles) {
  ServeProcess serve(dir_, {});
  ASSERT_NE(serve.port(), 0);
  write("hook.yaml", kHook);
  write("bad.yaml", "id: bad\nsteps:\n  - {id: a, uses: core.nope}\n");
  json::object list;
  for (int i = 0; i < 100; ++i) {
    list = json::parse(api(serve.port(), "GET", "/api/v1/workflows").body).as_object();
    if (!list["items"].as_array().empty() && !list["problems"].as_array().empty()) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(list["items"].as_array().size(), 1u);
  EXPECT_EQ(list["items"].as_array()[0].at("id"), json::value("hook"));
  ASSERT_EQ(list["problems"].as_array().size(), 1u);
  EXPECT_EQ(list["problems"].as_array()[0].at("errors").as_array()[0].at("line"), json::value(3));
}

TEST_F(ServeTest, CronFiresEachTickOnceAcrossARestart) {
  write("tick.yaml", R"(
id: tick
triggers:
  - cron: "* * * * * *"
    catch_up: all
steps:
  - {id: a, uses: core.noop}
)");
  {
    ServeProcess serve(dir_, {});
    ASSERT_NE(serve.port(), 0);
    std::this_thread::sleep_for(2500ms);
    EXPECT_EQ(serve.terminate(), 0);
  }
  std::this_thread::sleep_for(1500ms);
  ServeProcess again(dir_, {});
  ASSERT_NE(again.port(), 0);
  std::this_thread::sleep_for(2500ms);
  auto runs = all_runs(again.port());
  EXPECT_EQ(again.terminate(), 0);
  ASSERT_GE(runs.size(), 4u);
  // Each run's key names its tick ("cron:tick#0@2026-11-22T14:03:07Z"). With catch_up: all, the
  // ticks missed while the server was down fire after the restart: the ticks form one unbroken
  // run of seconds, each exactly once.
  std::vector<long long> ticks;
  for (const auto& run : runs) {
    EXPECT_EQ(run.at("trigger_type"), json::value("cron"));
    const std::string key(run.at("idempotency_key").as_string());
    std::tm tm{};
    ASSERT_EQ(std::sscanf(key.c_str() + key.find('@') + 1, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year,
                          &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
              6)
        << key;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    ticks.push_back(static_cast<long long>(timegm(&tm)));
  }
  std::sort(ticks.begin(), ticks.end());
  for (std::size_t i = 1; i < ticks.size(); ++i) {
    EXPECT_EQ(ticks[i] - ticks[i - 1], 1) << "tick " << i << " of " << ticks.size();
  }
}

TEST_F(ServeTest, AnEmptyStoreGetsItsFirstAdminFromTheEnvironmentOnce) {
  ::setenv("FLOWPILOT_ADMIN_EMAIL", "Owner@Example.com", 1);
  ::setenv("FLOWPILOT_ADMIN_PASSWORD", "first admin password", 1);
  {
    ServeProcess serve(dir_, {});
    ASSERT_NE(serve.port(), 0);
    EXPECT_EQ(serve.terminate(), 0);
  }
  ::setenv("FLOWPILOT_ADMIN_EMAIL", "second@example.com", 1);
  {
    ServeProcess again(dir_, {});  // the store has a user now: nobody is added
    ASSERT_NE(again.port(), 0);
    EXPECT_EQ(again.terminate(), 0);
  }
  ::unsetenv("FLOWPILOT_ADMIN_EMAIL");
  ::unsetenv("FLOWPILOT_ADMIN_PASSWORD");
  const std::string users = run_command("'" + std::string(FLOWPILOT_BINARY_DIR) +
                                        "/cli/flowpilot' users list --data-dir '" +
                                        (dir_ / "data").string() + "'");
  EXPECT_NE(users.find("owner@example.com"), std::string::npos) << users;
  EXPECT_NE(users.find("admin"), std::string::npos) << users;
  EXPECT_EQ(users.find("second@example.com"), std::string::npos) << users;
  // A password the user list refuses stops the server with the variable's name.
  const std::string bad = run_command(
      "FLOWPILOT_ADMIN_PASSWORD=short '" + std::string(FLOWPILOT_BINARY_DIR) +
      "/cli/flowpilot' serve --listen 127.0.0.1:0 --data-dir '" + (dir_ / "fresh").string() + "'");
  EXPECT_EQ(last_code_, 2) << bad;
  EXPECT_NE(bad.find("FLOWPILOT_ADMIN_PASSWORD"), std::string::npos) << bad;
  EXPECT_NE(bad.find("at least 12 characters"), std::string::npos) << bad;
}

TEST_F(ServeTest, PrintConfigMasksSecrets) {
  const std::string out = run_command(
      "FLOWPILOT_METRICS_TOKEN=hunter2-token '" + std::string(FLOWPILOT_BINARY_DIR) +
      "/cli/flowpilot' serve --print-config --store postgres://fp:pa55word@127.0.0.1/fp");
  EXPECT_EQ(last_code_, 0) << out;
  EXPECT_EQ(out.find("hunter2-token"), std::string::npos) << out;
  EXPECT_EQ(out.find("pa55word"), std::string::npos) << out;
  EXPECT_NE(out.find("listen"), std::string::npos);
  const std::string bad = run_command("FLOWPILOT_LOG_LEVEL=loud '" + std::string(FLOWPILOT_BINARY_DIR) +
                                      "/cli/flowpilot' serve --print-config");
  EXPECT_EQ(last_code_, 2);
  EXPECT_NE(bad.find("FLOWPILOT_LOG_LEVEL"), std::string::npos) << bad;
}

TEST_F(ServeTest, RolesOtherThanAllAreRefusedOnSqlite) {
  const std::string out = run_command("'" + std::string(FLOWPILOT_BINARY_DIR) +
                                      "/cli/flowpilot' serve --role api,worker --listen 127.0.0.1:0 "
                                      "--data-dir '" + (dir_ / "roles").string() + "'");
  EXPECT_EQ(last_code_, 2) << out;
  EXPECT_NE(out.find("role `api,worker` needs a PostgreSQL store"), std::string::npos) << out;
}

}  // namespace
