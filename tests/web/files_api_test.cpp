// /api/v1/files: uploads into the folder the csv steps read, downloads, listing and removal,
// through the router (every refused path, with the problem naming the parameter), on disk (symbolic
// links below the root are never followed, a file in the way of a folder is a conflict), through
// the real engine (a csv.read workflow reads what was uploaded), and through the real HTTP server
// (an upload may exceed the ordinary body limit up to the upload limit, and no further; a client
// asking `Expect: 100-continue` is answered from the headers; concurrent uploads are bounded).
#include "server_fixture.h"
#include "web/server.h"

#include <arpa/inet.h>
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace flowpilot::web {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr std::string_view kSpend =
    "date,platform,account_id,campaign_id,spend,currency\n"
    "2026-05-01,tiktok,adv-7001,tt-1,120.50,EUR\n"
    "2026-05-02,tiktok,adv-7001,tt-1,98.20,EUR\n"
    "2026-05-02,linkedin,li-3001,li-9,not-money,EUR\n";

class FilesApiTest : public test::ServerFixture {
 protected:
  fs::path root() const { return dir_ / "files"; }

  Response put(std::string_view target, std::string body, std::string_view type = "text/csv") {
    Headers h;
    if (!type.empty()) h.set("Content-Type", type);
    return call("PUT", target, std::move(body), h);
  }

  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // The problem's `errors[0].path` (the parameter it blames), or "" when there is none.
  static std::string blamed(const Response& r) {
    const auto body = json::parse(r.body).as_object();
    const auto* errors = body.if_contains("errors");
    if (errors == nullptr || errors->as_array().empty()) return "";
    return std::string(errors->as_array()[0].at("path").as_string());
  }
};

TEST_F(FilesApiTest, UploadReplaceListDownloadAndDelete) {
  auto created = put("/api/v1/files/uploads/spend.csv", "abc");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.headers.get("Location"), "/api/v1/files/uploads/spend.csv");
  auto body = body_of(created).as_object();
  EXPECT_EQ(body.at("path"), "uploads/spend.csv");
  EXPECT_EQ(body.at("size"), 3);
  // SHA-256 of "abc" (FIPS 180-2, appendix B.1).
  EXPECT_EQ(body.at("sha256"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  EXPECT_NEAR(static_cast<double>(body.at("modified_at").as_int64()), static_cast<double>(now_ms),
              60'000.0);
  EXPECT_EQ(read(root() / "uploads" / "spend.csv"), "abc");

  auto replaced =
      put("/api/v1/files/uploads/spend.csv", std::string(kSpend), "application/octet-stream");
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(body_of(replaced).at("size"), kSpend.size());
  EXPECT_FALSE(replaced.headers.get("Location").has_value());
  EXPECT_EQ(read(root() / "uploads" / "spend.csv"), kSpend);
  // No temporary file is left beside it.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(root() / "uploads")) {
    names.push_back(e.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"spend.csv"});

  auto spaced = put("/api/v1/files/reports/2026/may%20%C3%A9t%C3%A9.csv", "x\n");
  ASSERT_EQ(spaced.status, 201) << spaced.body;
  EXPECT_EQ(spaced.headers.get("Location"), "/api/v1/files/reports/2026/may%20%C3%A9t%C3%A9.csv");
  EXPECT_EQ(body_of(spaced).at("path"), "reports/2026/may \u00e9t\u00e9.csv");
  ASSERT_EQ(put("/api/v1/files/notes.txt", "", "").status, 201) << "an empty file without a type";

  auto listed = body_of(call("GET", "/api/v1/files")).as_object();
  std::vector<std::string> paths;
  for (const auto& item : listed.at("items").as_array()) {
    paths.emplace_back(item.at("path").as_string());
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"notes.txt", "reports/2026/may \u00e9t\u00e9.csv",
                                             "uploads/spend.csv"}));
  EXPECT_EQ(listed.at("items").as_array()[2].at("size"), kSpend.size());
  EXPECT_EQ(listed.at("truncated"), false);
  auto filtered = body_of(call("GET", "/api/v1/files?prefix=uploads%2F")).as_object();
  ASSERT_EQ(filtered.at("items").as_array().size(), 1u);
  EXPECT_EQ(filtered.at("items").as_array()[0].at("path"), "uploads/spend.csv");

  auto download = call("GET", "/api/v1/files/uploads/spend.csv");
  ASSERT_EQ(download.status, 200);
  EXPECT_EQ(download.body, kSpend);
  EXPECT_EQ(download.headers.get("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(download.headers.get("Content-Disposition"), "attachment; filename*=UTF-8''spend.csv");
  EXPECT_EQ(download.headers.get("X-Content-Type-Options"), "nosniff");

  EXPECT_EQ(call("DELETE", "/api/v1/files/uploads/spend.csv").status, 204);
  EXPECT_FALSE(fs::exists(root() / "uploads" / "spend.csv"));
  EXPECT_EQ(call("GET", "/api/v1/files/uploads/spend.csv").status, 404);
  EXPECT_EQ(call("DELETE", "/api/v1/files/uploads/spend.csv").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/files/nowhere/x.csv").status, 404);
}

TEST_F(FilesApiTest, ListingIsEmptyBeforeTheFolderExists) {
  ASSERT_FALSE(fs::exists(root()));
  auto r = call("GET", "/api/v1/files");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(body_of(r).at("items").as_array().empty());
}

TEST_F(FilesApiTest, RefusesBadNamesNamingThePathParameter) {
  struct Case {
    std::string target;
    std::string says;  // in the problem's detail
  };
  // Refused by the files API itself, which names the `path` parameter.
  const std::vector<Case> refused = {
      {"/api/v1/files/.env", "hidden segment `.env`"},
      {"/api/v1/files/uploads/.cache/spend.csv", "hidden segment `.cache`"},
      {"/api/v1/files/a%01b.csv", "control character 0x01"},
      {"/api/v1/files/a%1Fb.csv", "control character 0x1f"},
      {"/api/v1/files/a%7Fb.csv", "control character 0x7f"},
      {"/api/v1/files/uploads/a%0Ab.csv", "control character 0x0a"},
      {"/api/v1/files/a%5Cb.csv", "backslash"},
      {"/api/v1/files/%FF.csv", "not valid UTF-8"},
      {"/api/v1/files/%C0%AF.csv", "not valid UTF-8"},  // an overlong '/'
      {"/api/v1/files/" + std::string(256, 'a'), "longer than 255 bytes"},
      {"/api/v1/files/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q.csv", "more than 16 folders deep"},
  };
  for (const auto& c : refused) {
    for (const char* method : {"PUT", "GET", "DELETE"}) {
      SCOPED_TRACE(std::string(method) + " " + c.target);
      auto r = call(method, c.target, "x");
      ASSERT_EQ(r.status, 400) << r.body;
      EXPECT_EQ(r.headers.get("Content-Type"), "application/problem+json");
      EXPECT_NE(body_of(r).at("detail").as_string().find(c.says), json::string::npos) << r.body;
      EXPECT_EQ(blamed(r), "path");
    }
  }
  // Refused before any route runs: the router never resolves relative segments, never lets an
  // escape create a segment boundary or a NUL, and never accepts an empty segment (which is how
  // an absolute path would have to be spelled here).
  const std::vector<Case> refused_by_router = {
      {"/api/v1/files/uploads/../secrets.yaml", "relative segments are refused"},
      {"/api/v1/files/%2e%2e/flowpilot.db", "relative segments are refused"},
      {"/api/v1/files/..", "relative segments are refused"},
      {"/api/v1/files/..%2Fflowpilot.db", "encodes '/' or NUL"},
      {"/api/v1/files/%2Fetc%2Fpasswd", "encodes '/' or NUL"},
      {"/api/v1/files/a%00b.csv", "encodes '/' or NUL"},
      {"/api/v1/files//etc/passwd", "empty segment"},
  };
  for (const auto& c : refused_by_router) {
    SCOPED_TRACE(c.target);
    auto r = put(c.target, "x");
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.headers.get("Content-Type"), "application/problem+json");
    EXPECT_NE(body_of(r).at("detail").as_string().find(c.says), json::string::npos) << r.body;
  }
  // Nothing was written anywhere: not under the root, not beside it.
  EXPECT_FALSE(fs::exists(root()) && !fs::is_empty(root()));
  EXPECT_FALSE(fs::exists(dir_ / "secrets.yaml"));
}

TEST_F(FilesApiTest, RefusesBodiesThatAreNotFiles) {
  auto r = put("/api/v1/files/uploads/spend.csv", "{}", "application/json");
  ASSERT_EQ(r.status, 415) << r.body;
  EXPECT_EQ(blamed(r), "Content-Type");
  EXPECT_FALSE(fs::exists(root() / "uploads" / "spend.csv"));
  EXPECT_EQ(put("/api/v1/files/uploads/spend.csv", "a,b\n", "text/csv; charset=utf-8").status, 201);
}

TEST_F(FilesApiTest, NeverFollowsSymbolicLinks) {
  const fs::path outside = dir_ / "outside";
  fs::create_directories(outside);
  fs::create_directories(root());
  std::ofstream(outside / "secret.txt") << "do not serve";
  fs::create_directory_symlink(outside, root() / "uploads");
  fs::create_symlink(outside / "secret.txt", root() / "link.csv");

  // A linked folder on the way.
  auto through = put("/api/v1/files/uploads/spend.csv", "a,b\n");
  ASSERT_EQ(through.status, 409) << through.body;
  EXPECT_NE(through.body.find("symbolic link"), std::string::npos) << through.body;
  EXPECT_FALSE(fs::exists(outside / "spend.csv"));
  EXPECT_EQ(call("GET", "/api/v1/files/uploads/secret.txt").status, 409);
  EXPECT_EQ(call("DELETE", "/api/v1/files/uploads/secret.txt").status, 409);

  // A linked file: not read, not replaced (which would leave the target alone but is refused all
  // the same, so that a link cannot be mistaken for a file), not removed.
  auto read_link = call("GET", "/api/v1/files/link.csv");
  ASSERT_EQ(read_link.status, 409) << read_link.body;
  EXPECT_EQ(read_link.body.find("do not serve"), std::string::npos);
  EXPECT_EQ(put("/api/v1/files/link.csv", "x").status, 409);
  EXPECT_EQ(call("DELETE", "/api/v1/files/link.csv").status, 409);
  EXPECT_TRUE(fs::is_symlink(root() / "link.csv"));
  EXPECT_EQ(read(outside / "secret.txt"), "do not serve");

  // Links are left out of the listing, and so is what lies behind them.
  ASSERT_EQ(put("/api/v1/files/real.csv", "a\n").status, 201);
  auto listed = body_of(call("GET", "/api/v1/files")).as_object();
  ASSERT_EQ(listed.at("items").as_array().size(), 1u) << json::serialize(listed);
  EXPECT_EQ(listed.at("items").as_array()[0].at("path"), "real.csv");
}

TEST_F(FilesApiTest, AFileInTheWayOfAFolderIsAConflict) {
  ASSERT_EQ(put("/api/v1/files/report", "not a folder").status, 201);
  auto nested = put("/api/v1/files/report/may.csv", "a\n");
  ASSERT_EQ(nested.status, 409) << nested.body;
  EXPECT_NE(nested.body.find("`report` is not a folder"), std::string::npos) << nested.body;
  EXPECT_EQ(call("GET", "/api/v1/files/report/may.csv").status, 409);

  ASSERT_EQ(put("/api/v1/files/uploads/spend.csv", "a\n").status, 201);
  auto folder = put("/api/v1/files/uploads", "a\n");
  ASSERT_EQ(folder.status, 409) << folder.body;
  EXPECT_NE(folder.body.find("is a folder"), std::string::npos) << folder.body;
  EXPECT_EQ(call("GET", "/api/v1/files/uploads").status, 409);
  EXPECT_EQ(call("DELETE", "/api/v1/files/uploads").status, 409);
  EXPECT_TRUE(fs::is_directory(root() / "uploads"));
}

TEST_F(FilesApiTest, LargeDownloadsAreRefused) {
  api_->max_file_download_bytes = 4;
  ASSERT_EQ(put("/api/v1/files/big.csv", "0123456789").status, 201);
  auto r = call("GET", "/api/v1/files/big.csv");
  ASSERT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("10 bytes"), std::string::npos) << r.body;
  ASSERT_EQ(put("/api/v1/files/small.csv", "0123").status, 201);
  EXPECT_EQ(call("GET", "/api/v1/files/small.csv").status, 200);
}

TEST_F(FilesApiTest, WithoutAFilesFolderTheRoutesAnswer503) {
  api_->files_root.clear();
  EXPECT_EQ(call("GET", "/api/v1/files").status, 503);
  EXPECT_EQ(put("/api/v1/files/a.csv", "x").status, 503);
  EXPECT_EQ(call("GET", "/api/v1/files/a.csv").status, 503);
  EXPECT_EQ(call("DELETE", "/api/v1/files/a.csv").status, 503);
  // Whatever the path holds, the problem is JSON: `instance` is the path as sent.
  auto odd = call("GET", "/api/v1/files/%FF%01.csv");
  ASSERT_EQ(odd.status, 503);
  EXPECT_EQ(body_of(odd).at("instance"), "/api/v1/files/%FF%01.csv");
}

TEST_F(FilesApiTest, AWorkflowReadsTheUploadedCsv) {
  ASSERT_EQ(put("/api/v1/files/uploads/spend.csv", std::string(kSpend)).status, 201);
  define(R"(id: read-upload
steps:
  - id: read
    uses: csv.read
    with:
      path: uploads/spend.csv
      schema:
        - {name: date, type: date, required: true}
        - {name: platform, required: true}
        - {name: account_id, required: true}
        - {name: campaign_id, required: true}
        - {name: spend, type: money, required: true, min: 0}
        - {name: currency, required: true}
outputs:
  rows: ${{ steps.read.output.rows }}
  rejected: ${{ steps.read.output.rejected }}
)");
  auto started = call("POST", "/api/v1/workflows/read-upload/runs");
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string run_id(body_of(started).at("run_id").as_string());
  ASSERT_EQ(executor_->wait(run_id, std::chrono::seconds(30)), engine::RunStatus::succeeded)
      << store_->get_run(run_id)->error;
  const auto outputs = store_->get_run(run_id)->outputs.as_object();
  const auto& rows = outputs.at("rows").as_array();
  ASSERT_EQ(rows.size(), 2u) << json::serialize(outputs);
  EXPECT_EQ(rows[0].at("campaign_id"), "tt-1");
  EXPECT_EQ(rows[0].at("spend").to_number<double>(), 120.5);
  EXPECT_EQ(rows[1].at("date"), "2026-05-02");
  const auto& rejected = outputs.at("rejected").as_array();
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].at("line"), 4);
}

// Over sockets: the server's own limits decide before any handler runs.
class FilesOverHttpTest : public FilesApiTest {
 protected:
  void SetUp() override {
    FilesApiTest::SetUp();
    ServerOptions options;
    options.port = 0;
    options.threads = 1;
    options.max_body_bytes = 1024;
    options.upload_prefix = "/api/v1/files/";
    options.max_upload_bytes = 64 * 1024;
    server_ = std::make_unique<HttpServer>(options, router_);
    port_ = server_->start();
  }
  void TearDown() override {
    server_->stop();
    FilesApiTest::TearDown();
  }

  std::string auth() const { return "Authorization: Bearer " + admin_token_ + "\r\n"; }

  engine::HttpResponse send(std::string method, std::string path, std::string body,
                            std::string type = "text/csv") {
    engine::HttpRequest request;
    request.method = std::move(method);
    request.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    request.body = std::move(body);
    request.headers = {{"Content-Type", std::move(type)}, {"Authorization", "Bearer " + admin_token_}};
    request.timeout = std::chrono::milliseconds(20'000);
    std::promise<engine::HttpResponse> promise;
    auto future = promise.get_future();
    http_->send(std::move(request),
                [&promise](engine::HttpResponse r) { promise.set_value(std::move(r)); });
    return future.get();
  }

  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
};

TEST_F(FilesOverHttpTest, UploadsHaveTheirOwnBodyLimit) {
  const std::string ten_kib(10 * 1024, 'x');
  auto uploaded = send("PUT", "/api/v1/files/uploads/big.csv", ten_kib);
  ASSERT_EQ(uploaded.status, 201) << uploaded.error << uploaded.body;
  EXPECT_EQ(read(root() / "uploads" / "big.csv"), ten_kib);

  // The ordinary limit still holds everywhere else, for PUT and for other methods on the route.
  EXPECT_EQ(send("POST", "/api/v1/workflows", ten_kib, "application/yaml").status, 413);
  EXPECT_EQ(send("PUT", "/api/v1/workflows/x", ten_kib, "application/yaml").status, 413);
  EXPECT_EQ(send("DELETE", "/api/v1/files/uploads/big.csv", ten_kib).status, 413);

  auto too_big = send("PUT", "/api/v1/files/uploads/huge.csv", std::string(65 * 1024, 'y'));
  ASSERT_EQ(too_big.status, 413) << too_big.error;
  EXPECT_NE(too_big.body.find("65536 bytes"), std::string::npos) << too_big.body;
  EXPECT_FALSE(fs::exists(root() / "uploads" / "huge.csv"));

  auto back = send("GET", "/api/v1/files/uploads/big.csv", "");
  ASSERT_EQ(back.status, 200) << back.error;
  EXPECT_EQ(back.body, ten_kib);
}

// A client that asks before sending its body is told to go on; one whose upload is too large is
// told so instead, before it sends anything.
TEST_F(FilesOverHttpTest, ExpectContinueIsAnsweredFromTheHeaders) {
  auto exchange = [this](const std::string& head, const std::string& body) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port_);
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    auto receive = [fd] {
      char buffer[4096];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
    };
    EXPECT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(head.size()));
    std::vector<std::string> answers{receive()};  // before any body byte is sent
    if (answers[0].starts_with("HTTP/1.1 100 ")) {
      EXPECT_EQ(::send(fd, body.data(), body.size(), MSG_NOSIGNAL),
                static_cast<ssize_t>(body.size()));
      answers.push_back(receive());
    }
    ::close(fd);
    return answers;
  };
  const std::string body(4096, 'z');
  auto accepted = exchange(
      "PUT /api/v1/files/uploads/asked.csv HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n" +
      auth() +
      "Content-Length: 4096\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
      body);
  ASSERT_EQ(accepted.size(), 2u) << accepted[0];
  EXPECT_TRUE(accepted[0].starts_with("HTTP/1.1 100 Continue\r\n")) << accepted[0];
  EXPECT_TRUE(accepted[1].starts_with("HTTP/1.1 201 ")) << accepted[1];
  EXPECT_EQ(read(root() / "uploads" / "asked.csv"), body);

  auto refused = exchange(
      "PUT /api/v1/files/uploads/huge.csv HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n" +
      auth() +
      "Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n",
      body);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_TRUE(refused[0].starts_with("HTTP/1.1 413 ")) << refused[0];
}

// Upload bodies are held in memory, so only so many are received at once; one more is told to
// come back, from its headers alone.
TEST_F(FilesOverHttpTest, ConcurrentUploadsAreBounded) {
  server_->stop();
  ServerOptions options;
  options.port = 0;
  options.threads = 1;
  options.upload_prefix = "/api/v1/files/";
  options.max_concurrent_uploads = 1;
  server_ = std::make_unique<HttpServer>(options, router_);
  port_ = server_->start();

  // The first upload sends its headers and half its body, then waits.
  const int first = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port_);
  timeval timeout{10, 0};
  ::setsockopt(first, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ASSERT_EQ(::connect(first, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const std::string head =
      "PUT /api/v1/files/uploads/first.csv HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n" +
      auth() +
      "Content-Length: 8\r\nConnection: close\r\n\r\nabcd";
  ASSERT_EQ(::send(first, head.data(), head.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(head.size()));

  // Until the server has read those headers, a second upload might still get the slot.
  engine::HttpResponse second;
  for (int i = 0; i < 100; ++i) {
    second = send("PUT", "/api/v1/files/uploads/second.csv", "a,b\n");
    if (second.status == 503) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(second.status, 503) << second.error << second.body;
  const auto retry = std::find_if(second.headers.begin(), second.headers.end(),
                                  [](const auto& h) { return h.first == "retry-after"; });
  ASSERT_NE(retry, second.headers.end());
  EXPECT_EQ(retry->second, "1");
  EXPECT_NE(second.body.find("uploads already"), std::string::npos) << second.body;
  // Other requests are not limited.
  EXPECT_EQ(send("GET", "/api/v1/files", "").status, 200);

  ASSERT_EQ(::send(first, "efgh", 4, MSG_NOSIGNAL), 4);
  char buffer[1024];
  const ssize_t n = ::recv(first, buffer, sizeof buffer, 0);
  ::close(first);
  ASSERT_GT(n, 0);
  EXPECT_TRUE(std::string(buffer, static_cast<std::size_t>(n)).starts_with("HTTP/1.1 201 "));
  EXPECT_EQ(read(root() / "uploads" / "first.csv"), "abcdefgh");

  // The slot is free again once the first upload was answered.
  EXPECT_EQ(send("PUT", "/api/v1/files/uploads/second.csv", "a,b\n").status, 201);
}

}  // namespace
}  // namespace flowpilot::web
