// `flowpilot connections` and `flowpilot secrets` through the real binary, on a data directory as
// `serve` uses it: secrets read from stdin never show up in any output, validation names fields,
// key files are created private and refused when they are not, rotation and retirement; and
// `serve` creates the master key and hands a stored connection's credentials to a step that calls
// a loopback server standing in for the vendor, without the token reaching its log.
#include "engine/http/http_client.h"
#include "web/router.h"
#include "web/server.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kToken = "EAAB-secret-token-31337";

struct Result {
  int code = -1;
  std::string output;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

class ConnectionsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("flowpilot-conn-cli-" + std::to_string(rd()));
    fs::create_directories(dir_);
    data_ = dir_ / "data";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs flowpilot with `stdin_text` piped in; FLOWPILOT_* variables of the test's environment
  // are cleared so that only `env` counts.
  Result run(const std::string& args, const std::string& stdin_text = "",
             const std::string& env = "") {
    const fs::path input = dir_ / "stdin.txt";
    std::ofstream(input) << stdin_text;
    const std::string cmd = "cd '" + dir_.string() + "' && env -u FLOWPILOT_MASTER_KEY " + env +
                            " '" + FLOWPILOT_BINARY_DIR + "/cli/flowpilot' " + args +
                            " --data-dir '" + data_.string() + "' < '" + input.string() + "' 2>&1";
    Result r;
    FILE* pipe = popen(cmd.c_str(), "r");
    if (pipe == nullptr) return r;
    std::array<char, 4096> buf{};
    while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) r.output += buf.data();
    const int status = pclose(pipe);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    EXPECT_EQ(r.output.find(kToken), std::string::npos) << "secret in the output of " << args;
    return r;
  }

  static unsigned mode_of(const fs::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? (st.st_mode & 0777) : 0;
  }
  static int key_lines(const fs::path& file) {
    int n = 0;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) n += !line.empty() && line[0] != '#';
    return n;
  }

  fs::path dir_;
  fs::path data_;
};

TEST_F(ConnectionsCliTest, AddListTestRemoveWithoutShowingSecrets) {
  auto add = run("connections add meta-main --type meta_ads --field account_id=act_1001 "
                 "--secret-field access_token",
                 std::string(kToken) + "\n");
  ASSERT_EQ(add.code, 0) << add.output;
  EXPECT_NE(add.output.find("created master key file"), std::string::npos) << add.output;
  EXPECT_NE(add.output.find("connection meta-main (meta_ads) added; secret fields set: access_token"),
            std::string::npos)
      << add.output;
  EXPECT_EQ(mode_of(data_ / "master.key"), 0600u);
  // Nothing of the secret in the database file either.
  EXPECT_EQ(read_file(data_ / "flowpilot.db").find(kToken), std::string::npos);

  auto list = run("connections list");
  ASSERT_EQ(list.code, 0) << list.output;
  EXPECT_NE(list.output.find("meta-main"), std::string::npos);
  EXPECT_NE(list.output.find("account_id=act_1001"), std::string::npos);
  EXPECT_NE(list.output.find("access_token"), std::string::npos);
  auto json = run("connections list --json");
  ASSERT_EQ(json.code, 0);
  EXPECT_NE(json.output.find("\"secret_fields_set\""), std::string::npos) << json.output;

  auto test = run("connections test meta-main");
  EXPECT_EQ(test.code, 0) << test.output;
  EXPECT_NE(test.output.find("ok: decrypted the secret fields"), std::string::npos);
  EXPECT_NE(test.output.find("ok: made no network call"), std::string::npos);

  auto update = run("connections update meta-main --field account_id=act_2002 --rate-limit 2:4");
  EXPECT_EQ(update.code, 0) << update.output;
  EXPECT_NE(run("connections list").output.find("2:4"), std::string::npos);

  EXPECT_EQ(run("connections remove meta-main").code, 0);
  auto again = run("connections remove meta-main");
  EXPECT_EQ(again.code, 2);
  EXPECT_NE(again.output.find("does not exist"), std::string::npos);
}

TEST_F(ConnectionsCliTest, ValidationErrorsNameFields) {
  auto r = run("connections add x --type myspace");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("type: unknown connection type `myspace`"), std::string::npos) << r.output;
  r = run("connections add x --type meta_ads --field base_url=graph.facebook.com --field colour=red");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("fields.base_url: `graph.facebook.com` is not an http(s) URL"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("fields.colour: unknown field"), std::string::npos);
  r = run("connections add x --type meta_ads");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("fields.access_token: is required"), std::string::npos) << r.output;
  // A secret that fails validation is not echoed.
  r = run("connections add x --type slack --secret-field webhook_url", std::string(kToken) + "\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("fields.webhook_url: the value is not an http(s) URL"), std::string::npos)
      << r.output;
}

TEST_F(ConnectionsCliTest, KeyFileReadableByOthersIsRefused) {
  ASSERT_EQ(run("connections add m --type meta_ads --secret-field access_token",
                std::string(kToken) + "\n")
                .code,
            0);
  fs::permissions(data_ / "master.key", fs::perms::group_read | fs::perms::others_read,
                  fs::perm_options::add);
  auto r = run("connections test m");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("chmod 600"), std::string::npos) << r.output;
  // Listing needs no key.
  EXPECT_EQ(run("connections list").code, 0);
}

TEST_F(ConnectionsCliTest, RotateKeyReencryptsAndRetiresOldKeys) {
  ASSERT_EQ(run("connections add a --type meta_ads --secret-field access_token",
                std::string(kToken) + "\n").code, 0);
  ASSERT_EQ(run("connections add b --type slack --secret-field bot_token", "xoxb-123456\n").code, 0);
  const std::string first_key = read_file(data_ / "master.key");

  auto rotate = run("secrets rotate-key");
  ASSERT_EQ(rotate.code, 0) << rotate.output;
  EXPECT_NE(rotate.output.find("re-encrypted 2 connections"), std::string::npos) << rotate.output;
  EXPECT_NE(rotate.output.find("kept older keys for reading"), std::string::npos);
  EXPECT_EQ(key_lines(data_ / "master.key"), 2);
  EXPECT_EQ(mode_of(data_ / "master.key"), 0600u);
  auto keys = run("secrets keys");
  EXPECT_NE(keys.output.find("(primary): 2 connection(s)"), std::string::npos) << keys.output;
  EXPECT_NE(keys.output.find(": 0 connection(s)"), std::string::npos) << keys.output;
  EXPECT_EQ(run("connections test a").code, 0);

  auto retire = run("secrets rotate-key --retire-old");
  ASSERT_EQ(retire.code, 0) << retire.output;
  EXPECT_NE(retire.output.find("retired keys:"), std::string::npos);
  EXPECT_EQ(key_lines(data_ / "master.key"), 1);
  EXPECT_EQ(run("connections test a").code, 0);
  EXPECT_EQ(run("connections test b").code, 0);

  // The first key alone no longer opens anything.
  std::ofstream(data_ / "master.key", std::ios::trunc) << first_key;
  auto old = run("connections test a");
  EXPECT_EQ(old.code, 1);
  EXPECT_NE(old.output.find("not among the configured keys"), std::string::npos) << old.output;
}

TEST_F(ConnectionsCliTest, EnvironmentKeyIsUsedAndNoFileIsCreated) {
  const std::string env = "FLOWPILOT_MASTER_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
  auto add = run("connections add a --type meta_ads --secret-field access_token",
                 std::string(kToken) + "\n", env);
  ASSERT_EQ(add.code, 0) << add.output;
  EXPECT_FALSE(fs::exists(data_ / "master.key"));
  EXPECT_EQ(run("connections test a", "", env).code, 0);
  auto rotate = run("secrets rotate-key", "", env);
  EXPECT_EQ(rotate.code, 2);
  EXPECT_NE(rotate.output.find("FLOWPILOT_MASTER_KEY"), std::string::npos);
  // Without the variable the row cannot be opened, and the message says which key is missing.
  auto missing = run("connections test a");
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.output.find("no master key"), std::string::npos) << missing.output;
}

// `serve` end to end: the stored connection's token reaches the vendor and nothing else, and its
// rate limit spaces the calls although the connection was added while the server ran.
TEST_F(ConnectionsCliTest, ServeCreatesTheKeyAndStepsUseStoredConnections) {
  std::mutex mu;
  std::vector<std::string> authorizations;
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  flowpilot::web::Router vendor;
  vendor.add(flowpilot::web::Method::kGet, "/campaigns", flowpilot::web::Access::open(), [&](const flowpilot::web::Request& r) {
    std::lock_guard lock(mu);
    authorizations.emplace_back(r.headers.get("Authorization").value_or(""));
    arrivals.push_back(std::chrono::steady_clock::now());
    flowpilot::web::Response answer;
    answer.status = 200;
    answer.headers.set("Content-Type", "application/json");
    answer.body = R"({"ok": true})";
    return answer;
  });
  flowpilot::web::ServerOptions vendor_options;
  vendor_options.port = 0;
  flowpilot::web::HttpServer vendor_server(vendor_options, vendor);
  const auto vendor_port = vendor_server.start();

  fs::create_directories(dir_ / "flows");
  std::ofstream(dir_ / "flows" / "pull.yaml")
      << "id: pull\nsteps:\n  - id: get\n    uses: http.request\n    connection: vendor\n"
         "    foreach: [1, 2, 3]\n"
         "    with: {url: \"http://127.0.0.1:"
      << vendor_port << "/campaigns?i=${{ item }}\"}\n";

  // The server creates the key on its first start.
  const fs::path log = dir_ / "serve.log";
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("FLOWPILOT_HTTP_ALLOW_NETWORKS", "127.0.0.1/32", 1);
    ::unsetenv("FLOWPILOT_MASTER_KEY");
    dup2(out[1], STDOUT_FILENO);
    FILE* err = std::fopen(log.c_str(), "a");
    if (err != nullptr) dup2(fileno(err), STDERR_FILENO);
    ::close(out[0]);
    const std::string binary = std::string(FLOWPILOT_BINARY_DIR) + "/cli/flowpilot";
    const std::string data = data_.string();
    const std::string flows = (dir_ / "flows").string();
    execl(binary.c_str(), binary.c_str(), "serve", "--listen", "127.0.0.1:0", "--data-dir",
          data.c_str(), "--workflows", flows.c_str(), "--log-level", "debug",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(out[1]);
  std::string line;
  char c = 0;
  while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(out[0]);
  const auto colon = line.rfind(':');
  ASSERT_NE(colon, std::string::npos) << line << read_file(log);
  const int port = std::stoi(line.substr(colon + 1));
  EXPECT_EQ(mode_of(data_ / "master.key"), 0600u);
  EXPECT_NE(read_file(log).find("created master key file"), std::string::npos) << read_file(log);

  // A connection added while the server runs, with the file the server created.
  // Two calls a second, no burst: the three items are spread over about a second.
  auto add = run("connections add vendor --type http --field auth=bearer --secret-field token "
                 "--rate-limit 2:1",
                 std::string(kToken) + "\n");
  ASSERT_EQ(add.code, 0) << add.output;

  // An API token for the admin the server created, made while it runs.
  auto token = run("tokens create --user admin@flowpilot.local --scopes runs:read,runs:write,"
                   "connections:read --json");
  ASSERT_EQ(token.code, 0) << token.output;
  const std::string secret(
      boost::json::parse(token.output).at("secret").as_string());

  flowpilot::engine::HttpClientOptions client_options;
  client_options.allowed_networks = {"127.0.0.1/32"};
  flowpilot::engine::HttpClient client(client_options);
  auto send = [&](std::string method, std::string path) {
    flowpilot::engine::HttpRequest request;
    request.method = std::move(method);
    request.url = "http://127.0.0.1:" + std::to_string(port) + path;
    request.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + secret}};
    if (request.method == "POST") request.body = "{}";
    std::promise<flowpilot::engine::HttpResponse> done;
    auto future = done.get_future();
    client.send(request, [&done](flowpilot::engine::HttpResponse r) { done.set_value(std::move(r)); });
    return future.get();
  };
  auto started = send("POST", "/api/v1/workflows/pull/runs");
  ASSERT_EQ(started.status, 201) << started.body;
  std::string run_body;
  for (int i = 0; i < 100; ++i) {
    run_body = send("GET", "/api/v1/runs?workflow=pull").body;
    if (run_body.find("\"succeeded\"") != std::string::npos ||
        run_body.find("\"failed\"") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(run_body.find("\"succeeded\""), std::string::npos) << run_body << read_file(log);
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(authorizations.size(), 3u);
    for (const auto& a : authorizations) EXPECT_EQ(a, std::string("Bearer ") + kToken);
    EXPECT_GE(arrivals.back() - arrivals.front(), 900ms);
  }
  auto listed = send("GET", "/api/v1/connections");
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.find(kToken), std::string::npos);
  EXPECT_NE(listed.body.find("\"vendor\""), std::string::npos);
  for (const char* path : {"/api/v1/runs?workflow=pull", "/api/v1/connections/vendor"}) {
    EXPECT_EQ(send("GET", path).body.find(kToken), std::string::npos) << path;
  }

  ::kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  vendor_server.stop();
  EXPECT_EQ(read_file(log).find(kToken), std::string::npos) << "the token reached the server log";
}

}  // namespace

namespace {

// `flowpilot users` on the same kind of data directory: passwords come from standard input or are
// generated and shown once, never stored or printed otherwise, and bad input names the field.
TEST_F(ConnectionsCliTest, UsersAddListDisableAndResetPassword) {
  const std::string password = "correct horse battery staple";
  auto added = run("users add Ana@Example.com --role admin --name Ana --password-stdin", password + "\n");
  ASSERT_EQ(added.code, 0) << added.output;
  EXPECT_NE(added.output.find("user ana@example.com added (admin)"), std::string::npos) << added.output;
  EXPECT_EQ(added.output.find(password), std::string::npos);
  auto generated = run("users add bob@example.com --role editor");
  ASSERT_EQ(generated.code, 0) << generated.output;
  EXPECT_NE(generated.output.find("password: "), std::string::npos) << "shown once";

  EXPECT_EQ(run("users add ana@example.com").code, 2);
  auto bad_email = run("users add not-an-email");
  EXPECT_EQ(bad_email.code, 2);
  EXPECT_NE(bad_email.output.find("email: `not-an-email` is not an email address"), std::string::npos);
  auto bad_role = run("users add c@example.com --role boss");
  EXPECT_NE(bad_role.output.find("role: `boss` is not one of admin, editor, approver, viewer"),
            std::string::npos);
  auto short_password = run("users add d@example.com --password-stdin", "short\n");
  EXPECT_EQ(short_password.code, 2);
  EXPECT_NE(short_password.output.find("password: it must be at least 12 characters"), std::string::npos);
  EXPECT_EQ(short_password.output.find("short\n"), std::string::npos);

  ASSERT_EQ(run("users disable BOB@example.com").code, 0);
  auto listed = run("users list");
  EXPECT_NE(listed.output.find("ana@example.com"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("disabled"), std::string::npos) << listed.output;
  EXPECT_EQ(listed.output.find("argon2"), std::string::npos) << "no hashes";
  auto as_json = run("users list --json");
  EXPECT_EQ(as_json.output.find("password"), std::string::npos) << as_json.output;

  auto reset = run("users reset-password ana@example.com");
  ASSERT_EQ(reset.code, 0) << reset.output;
  EXPECT_NE(reset.output.find("password: "), std::string::npos);
  EXPECT_EQ(run("users reset-password nobody@example.com").code, 2);
  // The store holds the argon2id hash, never the password.
  EXPECT_EQ(read_file(data_ / "flowpilot.db").find(password), std::string::npos);
}


// `flowpilot tokens` and `flowpilot audit export`: a token is shown once and stored as a hash,
// scopes beyond the owner's role are refused naming the scope, and every change made by these
// commands is in the export, oldest first, without a secret.
TEST_F(ConnectionsCliTest, TokensCreateListRevokeAndAuditExport) {
  ASSERT_EQ(run("users add ed@example.com --role editor").code, 0);
  auto created = run("tokens create --user ED@example.com --scopes runs:read,workflows:write "
                     "--name ci --expires 30d");
  ASSERT_EQ(created.code, 0) << created.output;
  const auto at = created.output.find("fpt_");
  ASSERT_NE(at, std::string::npos) << created.output;
  const std::string secret = created.output.substr(at, 52);
  EXPECT_EQ(read_file(data_ / "flowpilot.db").find(secret), std::string::npos) << "stored in clear";

  auto too_much = run("tokens create --user ed@example.com --scopes runs:read --scopes admin");
  EXPECT_EQ(too_much.code, 2);
  EXPECT_NE(too_much.output.find("scopes[1]: `admin` is more than the role editor"),
            std::string::npos)
      << too_much.output;
  auto unknown = run("tokens create --user ed@example.com --scopes runs:fly");
  EXPECT_NE(unknown.output.find("scopes[0]: `runs:fly` is not a scope"), std::string::npos);
  auto bad_expiry = run("tokens create --user ed@example.com --scopes runs:read --expires soon");
  EXPECT_NE(bad_expiry.output.find("--expires: `soon` is not a lifetime"), std::string::npos)
      << bad_expiry.output;
  EXPECT_EQ(run("tokens create --user ghost@example.com --scopes runs:read").code, 2);

  auto bad_workflow = run("tokens create --user ed@example.com --scopes runs:read --workflow ../x");
  EXPECT_EQ(bad_workflow.code, 2);
  EXPECT_NE(bad_workflow.output.find("workflows[0]: `../x` is not a workflow id"), std::string::npos)
      << bad_workflow.output;

  auto listed = run("tokens list --json");
  ASSERT_EQ(listed.code, 0) << listed.output;
  EXPECT_EQ(listed.output.find(secret), std::string::npos);
  const auto tokens = boost::json::parse(listed.output).at("tokens").as_array();
  ASSERT_EQ(tokens.size(), 1u);
  const std::string id(tokens[0].at("id").as_string());
  EXPECT_EQ(tokens[0].at("prefix").as_string(), secret.substr(0, 12));
  ASSERT_EQ(run("tokens revoke " + id).code, 0);
  EXPECT_EQ(run("tokens revoke t_missing").code, 2);
  const auto after = boost::json::parse(run("tokens list --json").output).at("tokens").as_array();
  EXPECT_TRUE(after[0].at("revoked_at").is_int64()) << after;
  EXPECT_NE(run("tokens list").output.find(" ci "), std::string::npos);

  auto limited = run("tokens create --user ed@example.com --scopes runs:read --workflow alpha,beta "
                     "--workflow alpha --json");
  ASSERT_EQ(limited.code, 0) << limited.output;
  EXPECT_EQ(boost::json::parse(limited.output).at("workflows"), (boost::json::array{"alpha", "beta"}));
  ASSERT_EQ(run("tokens revoke " + std::string(boost::json::parse(limited.output).at("id").as_string())).code, 0);

  auto exported = run("audit export");
  ASSERT_EQ(exported.code, 0) << exported.output;
  EXPECT_EQ(exported.output.find(secret), std::string::npos);
  std::vector<std::string> actions;
  std::istringstream lines(exported.output);
  for (std::string line; std::getline(lines, line);) {
    actions.emplace_back(boost::json::parse(line).at("action").as_string());
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"user.create", "token.create", "token.revoke",
                                               "token.create", "token.revoke"}));
  EXPECT_EQ(run("audit export --action token.").output.find("user.create"), std::string::npos);
  EXPECT_EQ(run("audit export --since yesterday").code, 2);
}

TEST_F(ConnectionsCliTest, PiiEraseReportsAndIsAuditedWithoutTheEmail) {
  auto bad = run("pii erase --email not-an-email");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("--email: `not-an-email` is not an email address"), std::string::npos)
      << bad.output;
  EXPECT_EQ(run("pii erase").code, 2);  // --email is required

  auto dry = run("pii erase --email Jane.Doe@example.com --dry-run");
  ASSERT_EQ(dry.code, 0) << dry.output;
  EXPECT_NE(dry.output.find("Would erase the data of jane.doe@example.com"), std::string::npos)
      << dry.output;
  EXPECT_NE(dry.output.find("Nothing stored mentions this person."), std::string::npos);

  auto erased = run("pii erase --email Jane.Doe@example.com --json");
  ASSERT_EQ(erased.code, 0) << erased.output;
  const auto report = boost::json::parse(erased.output);
  EXPECT_EQ(report.at("dry_run"), false);
  EXPECT_EQ(report.at("runs_changed"), 0);

  // The erasure is in the audit log under the email's hash, and the email is not.
  auto exported = run("audit export --action pii.");
  ASSERT_EQ(exported.code, 0) << exported.output;
  EXPECT_EQ(exported.output.find("jane.doe"), std::string::npos) << exported.output;
  const auto entry = boost::json::parse(exported.output);
  EXPECT_EQ(entry.at("action"), "pii.erase");
  EXPECT_EQ(std::string(entry.at("target").as_string()).substr(0, 7), "sha256:");
}

}  // namespace
