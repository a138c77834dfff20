// The web UI built into this binary (web/ui, bundled by Vite at build time and embedded by
// cmake/EmbedUi.cmake), and the routes that serve it at `/`.
#pragma once

#include "web/router.h"

#include <span>
#include <string_view>

namespace flowpilot::web {

struct UiFile {
  std::string_view path;  // "/index.html", "/assets/index-3fa1b2c4.js"
  std::string_view body;
};

// Every file of the built UI; empty when the binary was built with FLOWPILOT_BUILD_UI=OFF.
std::span<const UiFile> ui_files();

// The UI's page paths (web/ui/routes.json, "{name}" for one segment): each is answered with
// index.html and the UI's own router draws the page.
std::span<const std::string_view> ui_pages();

// Registers GET for every page and every file, all open: the UI holds no data, and the API it
// calls checks the session. Files under /assets/ have content-hashed names and are cached for a
// year; pages are revalidated so that a new build is picked up at once. Without a built UI the
// pages answer with a short HTML note saying so.
void add_ui_routes(Router& router);

}  // namespace flowpilot::web
