#include "web/ui_bundle.h"

#include <string>

namespace flowpilot::web {
namespace {

// The UI loads its scripts and styles from its own origin only. Inline styles stay allowed
// because the graph and editor components set element styles at run time; scripts never inline.
constexpr std::string_view kUiPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

constexpr std::string_view kNotBuilt =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Flowpilot</title></head>"
    "<body><h1>Flowpilot</h1><p>This binary was built without the web UI "
    "(FLOWPILOT_BUILD_UI=OFF). The API is at <a href=\"/api/v1/openapi.json\">/api/v1</a>.</p>"
    "</body></html>";

std::string_view content_type_of(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},    {".svg", "image/svg+xml"},
      {".json", "application/json"},         {".png", "image/png"},
      {".woff2", "font/woff2"},               {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},  {".map", "application/json"},
  };
  for (const auto& [extension, type] : kTypes) {
    if (path.ends_with(extension)) return type;
  }
  return "application/octet-stream";
}

Response file_response(std::string_view path, std::string_view body, bool immutable) {
  Response response;
  response.status = 200;
  response.headers.set("Content-Type", content_type_of(path));
  response.headers.set("Content-Security-Policy", kUiPolicy);
  response.headers.set("Cache-Control",
                       immutable ? "public, max-age=31536000, immutable" : "no-cache");
  response.body = std::string(body);
  return response;
}

}  // namespace

void add_ui_routes(Router& router) {
  std::string_view index = kNotBuilt;
  for (const UiFile& file : ui_files()) {
    if (file.path == "/index.html") {
      index = file.body;
      continue;  // reached through the pages only, so that there is one address per page
    }
    const bool hashed = file.path.starts_with("/assets/");
    router.add(Method::kGet, file.path, Access::open(), [&file, hashed](const Request&) {
      return file_response(file.path, file.body, hashed);
    });
  }
  for (const std::string_view page : ui_pages()) {
    router.add(Method::kGet, page, Access::open(),
               [index](const Request&) { return file_response("/index.html", index, false); });
  }
}

}  // namespace flowpilot::web
