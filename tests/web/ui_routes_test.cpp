// The web UI as the server serves it: every page path answers with index.html under the UI's
// content policy, every file index.html names is served, and nothing else changes for the API.
#include "web/ui_bundle.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

namespace flowpilot::web {
namespace {

Router ui_router() {
  Router router;
  router.add(Method::kGet, "/api/v1/runs/{id}", Access::open(),
             [](const Request&) { return json_response(200, boost::json::object{}); });
  add_ui_routes(router);
  return router;
}

std::string index_body() {
  for (const UiFile& file : ui_files()) {
    if (file.path == "/index.html") return std::string(file.body);
  }
  return {};
}

TEST(UiRoutesTest, EveryPageAnswersWithTheIndexUnderTheUiPolicy) {
  const Router router = ui_router();
  const std::set<std::string> expected = {"/", "/login", "/workflows", "/runs", "/approvals"};
  std::set<std::string> pages;
  for (const std::string_view page : ui_pages()) pages.emplace(page);
  for (const auto& page : expected) EXPECT_TRUE(pages.count(page)) << page;

  for (const std::string target : {"/", "/login", "/runs", "/runs/01J0ABC", "/workflows/cpa-guardrail"}) {
    SCOPED_TRACE(target);
    const Response r = router.handle(make_request("GET", target));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "text/html; charset=utf-8");
    EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-cache");
    const std::string policy(r.headers.get("Content-Security-Policy").value_or(""));
    EXPECT_NE(policy.find("script-src 'self'"), std::string::npos) << policy;
    EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos) << policy;
    EXPECT_EQ(policy.find("unsafe-eval"), std::string::npos) << policy;
    if (ui_files().empty()) {
      EXPECT_NE(r.body.find("without the web UI"), std::string::npos) << r.body;
    } else {
      EXPECT_EQ(r.body, index_body());
    }
  }
}

TEST(UiRoutesTest, OnlyThePagesAreTheUis) {
  const Router router = ui_router();
  EXPECT_EQ(router.handle(make_request("GET", "/runs/a/b")).status, 404);
  EXPECT_EQ(router.handle(make_request("GET", "/index.html")).status, 404);
  EXPECT_EQ(router.handle(make_request("GET", "/assets/missing.js")).status, 404);
  EXPECT_EQ(router.handle(make_request("POST", "/login")).status, 405);
  const Response api = router.handle(make_request("GET", "/api/v1/runs/x"));
  EXPECT_EQ(api.headers.get("Content-Type").value_or(""), "application/json");
}

TEST(UiRoutesTest, EveryFileTheIndexNamesIsServedAndCachedByItsHash) {
  const std::string index = index_body();
  if (ui_files().empty()) GTEST_SKIP() << "built with FLOWPILOT_BUILD_UI=OFF";
  const Router router = ui_router();
  const std::regex reference(R"re((?:src|href)="(/[^"]+)")re");
  int scripts = 0;
  for (std::sregex_iterator it(index.begin(), index.end(), reference), end; it != end; ++it) {
    const std::string path = (*it)[1];
    SCOPED_TRACE(path);
    const Response r = router.handle(make_request("GET", path));
    ASSERT_EQ(r.status, 200);
    EXPECT_FALSE(r.body.empty());
    if (path.ends_with(".js")) {
      ++scripts;
      EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "text/javascript; charset=utf-8");
    }
    if (path.starts_with("/assets/")) {
      EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "public, max-age=31536000, immutable");
    }
  }
  EXPECT_GE(scripts, 1) << index;
  // The policy forbids inline scripts, so the page must have none.
  EXPECT_EQ(std::regex_search(index, std::regex("<script(?![^>]*\\ssrc=)[^>]*>")), false);
}

}  // namespace
}  // namespace flowpilot::web
