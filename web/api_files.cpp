// /api/v1/files: the folder the csv steps read from and write to (files/ beside the database),
// so that a person can upload the CSV a workflow reads (uploads/spend.csv) without shell access.
//
// Every path is relative to that root and checked twice. First as text: no empty, `.` or `..`
// segment, no absolute path, no hidden segment (a leading dot: also what keeps the upload's
// temporary files out of sight), no control character or backslash, UTF-8 only, bounded lengths.
// Then on disk: the path is walked from the root one directory at a time with openat() and
// O_NOFOLLOW, so a symbolic link anywhere below the root is refused rather than followed, and a
// link swapped in between a check and its use cannot lead elsewhere either.
//
// An upload is written to a temporary file in the target directory, flushed, and renamed over the
// target, so readers see the old file or the new one, never a part. The body arrives whole (the
// server reads it asynchronously under its own upload limit, ServerOptions::max_upload_bytes),
// and is written on a thread of the route's own (UploadWriter), not on a server thread.
#include "web/api.h"
#include "web/detail/api_support.h"
#include "web/detail/work_queue.h"

#include <boost/json.hpp>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace flowpilot::web {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace api_detail;  // NOLINT(google-build-using-namespace): a .cpp's own helpers

namespace {

constexpr std::string_view kRoute = "/api/v1/files/";
constexpr std::size_t kMaxPathBytes = 1024;
constexpr std::size_t kMaxSegmentBytes = 255;  // NAME_MAX on the usual file systems
constexpr std::size_t kMaxDepth = 16;
constexpr std::size_t kMaxListed = 10'000;

// Closes a descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_;
};

Response bad_path(const Request& request, const std::string& path, const std::string& why) {
  return problem(request, 400, "Invalid file path",
                      "the file path `" + printable_text(path) + "` " + why,
                      json::array{json::object{{"path", "path"}, {"message", why}}});
}

Response unavailable(const Request& request) {
  return problem(request, 503, "Files unavailable",
                      "this server has no files folder configured");
}

// The segments of a relative file path, or why the path is refused (said after "the file path
// `...` ").
std::variant<std::vector<std::string>, std::string> split_file_path(std::string_view path) {
  if (path.empty()) return std::string("is empty; name a file such as uploads/spend.csv");
  if (path.size() > kMaxPathBytes) {
    return "is longer than " + std::to_string(kMaxPathBytes) + " bytes";
  }
  if (path.front() == '/') {
    return std::string("is absolute; give a path relative to the files folder");
  }
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (true) {
    const auto slash = path.find('/', start);
    const std::string_view segment = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    const std::string quoted = "`" + printable_text(segment) + "`";
    if (segment.empty()) return std::string("has an empty segment ('//' or a trailing '/')");
    if (segment == "." || segment == "..") {
      return "has a " + quoted + " segment; relative segments are refused";
    }
    if (segment.front() == '.') {
      return "has the hidden segment " + quoted + " (starting with '.'), which is refused";
    }
    if (segment.size() > kMaxSegmentBytes) {
      return "has a segment longer than " + std::to_string(kMaxSegmentBytes) + " bytes";
    }
    for (std::size_t i = 0; i < segment.size();) {
      const auto c = static_cast<unsigned char>(segment[i]);
      if (c < 0x20 || c == 0x7f) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", c);
        return std::string("contains the control character ") + hex + ", which is refused";
      }
      if (c == '\\') return std::string("contains a backslash, which is refused");
      const std::size_t n = utf8_sequence_length(segment, i);
      if (n == 0) return std::string("is not valid UTF-8");
      i += n;
    }
    segments.emplace_back(segment);
    if (segments.size() > kMaxDepth) {
      return "is more than " + std::to_string(kMaxDepth) + " folders deep";
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

// A failure on disk, as the status and sentence the client gets.
struct FsFailure {
  int status = 500;
  std::string message;
};

FsFailure failure_of(int error, const std::string& what) {
  switch (error) {
    case ENOENT:
      return {404, what + " does not exist"};
    case ENOTDIR:
      return {409, what + " is not a folder (a file is in the way)"};
    case ELOOP:
      return {409, what + " is a symbolic link, which the files API does not follow"};
    case ENOSPC:
    case EDQUOT:
      return {507, "no space left to write " + what};
    default:
      return {500, "cannot access " + what + ": " + std::strerror(error)};
  }
}

Response failure_response(const Request& request, const FsFailure& f) {
  static constexpr std::pair<int, std::string_view> kTitles[] = {
      {404, "Not found"}, {409, "Conflict"}, {507, "Insufficient storage"}};
  std::string_view title = "Internal error";
  for (const auto& [status, t] : kTitles) {
    if (status == f.status) title = t;
  }
  return problem(request, f.status, title, f.message);
}

// The 409 for a path that exists but is not a regular file (a folder, a FIFO, a device).
Response not_a_file(const Request& request, const std::string& path, const struct stat& st) {
  return problem(request, 409, "Conflict",
                      "`" + path + "` is " +
                          (S_ISDIR(st.st_mode) ? "a folder" : "not a regular file") +
                          ", not a file this API reads or writes");
}

// `a/b/c` for the first `n` segments.
std::string joined(const std::vector<std::string>& segments, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += '/';
    out += segments[i];
  }
  return out;
}

// The directory holding the last segment, reached from the root without following any link;
// with `create`, missing directories (the root included) are made.
std::variant<Fd, FsFailure> open_parent(const fs::path& root,
                                        const std::vector<std::string>& segments, bool create) {
  if (create) {
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) return FsFailure{500, "cannot create the files folder: " + ec.message()};
  }
  Fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) {
    if (errno == ENOENT) {
      return FsFailure{404, "`" + joined(segments, segments.size()) + "` does not exist"};
    }
    return FsFailure{500, std::string("cannot open the files folder: ") + std::strerror(errno)};
  }
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    const char* name = segments[i].c_str();
    if (create && ::mkdirat(dir.get(), name, 0755) != 0 && errno != EEXIST) {
      return failure_of(errno, "the folder `" + joined(segments, i + 1) + "`");
    }
    Fd next(::openat(dir.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      int error = errno;
      // With O_DIRECTORY a link is "not a directory"; say what it is.
      struct stat st {};
      if (error == ENOTDIR && ::fstatat(dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(st.st_mode)) {
        error = ELOOP;
      }
      if (error == ENOENT) {
        return FsFailure{404, "`" + joined(segments, segments.size()) + "` does not exist"};
      }
      return failure_of(error, "`" + joined(segments, i + 1) + "`");
    }
    dir = std::move(next);
  }
  return dir;
}

long long modified_ms(const struct stat& st) {
  return static_cast<long long>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

std::string sha256_hex(std::string_view bytes) {
  static const bool ready = sodium_init() >= 0;  // picks the fastest implementation; thread-safe
  (void)ready;
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  std::string hex(2 * sizeof digest, '0');
  sodium_bin2hex(hex.data(), hex.size() + 1, digest, sizeof digest);
  return hex;
}

std::string random_suffix() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  auto value = engine();
  for (auto& c : out) {
    c = kHex[value & 0xf];
    value >>= 4;
  }
  return out;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Upload bodies are files, not form posts or JSON documents.
bool acceptable_upload_type(std::string_view type) {
  return type.empty() || type.starts_with("text/") || type == "application/octet-stream" ||
         type == "application/vnd.ms-excel";
}

// A valid path from the route's parameter, or the 400 answer.
std::variant<std::vector<std::string>, Response> path_of(const Request& request) {
  const std::string& path = request.params.at("path");
  auto split = split_file_path(path);
  if (auto* why = std::get_if<std::string>(&split)) return bad_path(request, path, *why);
  return std::get<std::vector<std::string>>(std::move(split));
}

// Percent-encodes all but letters, digits and `.-_`: for Content-Disposition's filename*
// (RFC 8187) and for a path segment in a URL.
std::string attr_encode(std::string_view name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '-' || c == '_') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// Writes one upload under `root` (the body is already in memory); runs on the UploadWriter.
Response put_file(const fs::path& root, const Request& request) {
  auto parsed = path_of(request);
  if (auto* r = std::get_if<Response>(&parsed)) return std::move(*r);
  const auto& segments = std::get<std::vector<std::string>>(parsed);
  const std::string path = joined(segments, segments.size());
  if (const std::string type = media_type(request); !acceptable_upload_type(type)) {
    return problem(
        request, 415, "Unsupported media type",
        "send the file's bytes as text/csv or application/octet-stream, not " + type,
        json::array{json::object{{"path", "Content-Type"},
                                 {"message", "must be text/csv or application/octet-stream"}}});
  }
  auto parent = open_parent(root, segments, true);
  if (auto* f = std::get_if<FsFailure>(&parent)) return failure_response(request, *f);
  const Fd& dir = std::get<Fd>(parent);
  const std::string& leaf = segments.back();

  struct stat existing {};
  bool replaced = false;
  if (::fstatat(dir.get(), leaf.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(existing.st_mode)) {
      return failure_response(request, failure_of(ELOOP, "`" + path + "`"));
    }
    if (!S_ISREG(existing.st_mode)) {
      return not_a_file(request, path, existing);
    }
    replaced = true;
  } else if (errno != ENOENT) {
    return failure_response(request, failure_of(errno, "`" + path + "`"));
  }

  // Hidden, so that listings and the path check never show or accept it.
  const std::string temp = ".upload-" + random_suffix() + ".tmp";
  Fd out(::openat(dir.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0644));
  if (!out) return failure_response(request, failure_of(errno, "`" + path + "`"));
  struct stat written {};
  if (!write_all(out.get(), request.body) || ::fsync(out.get()) != 0 ||
      ::fstat(out.get(), &written) != 0 ||
      ::renameat(dir.get(), temp.c_str(), dir.get(), leaf.c_str()) != 0) {
    const int error = errno;
    ::unlinkat(dir.get(), temp.c_str(), 0);
    return failure_response(request, failure_of(error, "`" + path + "`"));
  }
  // The rename is durable once the directory is flushed too.
  ::fsync(dir.get());
  Response r =
      json_response(replaced ? 200 : 201, json::object{{"path", path},
                                                       {"size", request.body.size()},
                                                       {"sha256", sha256_hex(request.body)},
                                                       {"modified_at", modified_ms(written)}});
  if (!replaced) {
    std::string location(kRoute);
    for (std::size_t i = 0; i < segments.size(); ++i) {
      if (i > 0) location += '/';
      location += attr_encode(segments[i]);
    }
    r.headers.set("Location", location);
  }
  return r;
}

// An existing file's place for GET and DELETE: its checked segments, its path for messages and
// its folder, opened without following links; or the answer that says why there is none.
struct Located {
  std::vector<std::string> segments;
  std::string path;
  Fd parent;
};

std::variant<Located, Response> locate(const ApiServices& api, const Request& request) {
  if (api.files_root.empty()) return unavailable(request);
  auto parsed = path_of(request);
  if (auto* r = std::get_if<Response>(&parsed)) return std::move(*r);
  auto& segments = std::get<std::vector<std::string>>(parsed);
  std::string path = joined(segments, segments.size());
  auto parent = open_parent(api.files_root, segments, false);
  if (auto* f = std::get_if<FsFailure>(&parent)) return failure_response(request, *f);
  return Located{std::move(segments), std::move(path), std::move(std::get<Fd>(parent))};
}

Response get_file(const ApiServices& api, const Request& request) {
  auto located = locate(api, request);
  if (auto* r = std::get_if<Response>(&located)) return std::move(*r);
  const auto& [segments, path, parent] = std::get<Located>(located);
  Fd in(::openat(parent.get(), segments.back().c_str(),
                 O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!in) return failure_response(request, failure_of(errno, "`" + path + "`"));
  struct stat st {};
  if (::fstat(in.get(), &st) != 0)
    return failure_response(request, failure_of(errno, "`" + path + "`"));
  if (!S_ISREG(st.st_mode)) {
    return not_a_file(request, path, st);
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size > api.max_file_download_bytes) {
    return problem(
        request, 409, "Conflict",
        "`" + path + "` has " + std::to_string(size) + " bytes, more than this server sends (" +
            std::to_string(api.max_file_download_bytes) + "); read it with the csv steps instead");
  }
  Response r;
  r.body.resize(size);
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(in.get(), r.body.data() + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // shrank while being read: send what there was
    got += static_cast<std::size_t>(n);
  }
  r.body.resize(got);
  const bool csv = segments.back().ends_with(".csv");
  r.headers.set("Content-Type", csv ? "text/csv; charset=utf-8" : "application/octet-stream");
  // Served as a download, never rendered (BAD-INPUTS 39).
  r.headers.set("Content-Disposition",
                "attachment; filename*=UTF-8''" + attr_encode(segments.back()));
  // Every answer gets nosniff from the server; a download says it itself, so that it holds for
  // whatever sends it on.
  r.headers.set("X-Content-Type-Options", "nosniff");
  return r;
}

Response delete_file(const ApiServices& api, const Request& request) {
  auto located = locate(api, request);
  if (auto* r = std::get_if<Response>(&located)) return std::move(*r);
  const auto& [segments, path, dir] = std::get<Located>(located);
  struct stat st {};
  if (::fstatat(dir.get(), segments.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return failure_response(request, failure_of(errno, "`" + path + "`"));
  }
  if (S_ISLNK(st.st_mode)) return failure_response(request, failure_of(ELOOP, "`" + path + "`"));
  if (!S_ISREG(st.st_mode)) {
    return not_a_file(request, path, st);
  }
  if (::unlinkat(dir.get(), segments.back().c_str(), 0) != 0) {
    return failure_response(request, failure_of(errno, "`" + path + "`"));
  }
  Response r;
  r.status = 204;
  return r;
}

Response list_files(const ApiServices& api, const Request& request) {
  if (api.files_root.empty()) return unavailable(request);
  const std::string prefix = request.query_value("prefix").value_or("");
  std::vector<json::object> items;
  bool truncated = false;
  std::error_code ec;
  // The iterator does not follow directory links by default; file links are skipped below.
  fs::recursive_directory_iterator it(api.files_root, fs::directory_options::skip_permission_denied,
                                      ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return problem(request, 500, "Internal error",
                        "cannot list the files folder: " + ec.message());
  }
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    const std::string name = entry.path().filename().string();
    const fs::file_status status = entry.symlink_status(ec);
    if (ec) break;
    if (name.starts_with(".")) {
      if (fs::is_directory(status)) it.disable_recursion_pending();
      continue;
    }
    if (!fs::is_regular_file(status)) continue;
    const std::string path = entry.path().lexically_relative(api.files_root).generic_string();
    if (!path.starts_with(prefix)) continue;
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0) continue;  // removed meanwhile
    if (items.size() == kMaxListed) {
      truncated = true;
      break;
    }
    items.push_back(json::object{{"path", path},
                                 {"size", static_cast<std::uint64_t>(st.st_size)},
                                 {"modified_at", modified_ms(st)}});
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return problem(request, 500, "Internal error",
                        "cannot list the files folder: " + ec.message());
  }
  std::sort(items.begin(), items.end(), [](const json::object& a, const json::object& b) {
    return a.at("path").as_string() < b.at("path").as_string();
  });
  json::array out;
  for (auto& item : items) out.emplace_back(std::move(item));
  return json_response(200, json::object{{"items", std::move(out)}, {"truncated", truncated}});
}

}  // namespace

void add_file_routes(Router& router, const ApiServices& api) {
  // Uploads are written one at a time on a thread of their own: writing and flushing tens of MiB
  // should not occupy one of the server's few threads. Owned by the route: it lives, and its
  // thread runs, as long as the router does; queued jobs still run when it goes (each answers).
  auto writer = std::make_shared<WorkQueue>(1);
  router.add(Method::kGet, "/api/v1/files", Access::needs(engine::Permission::workflows_read),
             [&api](const Request& request) { return list_files(api, request); });
  router.add_async(Method::kPut, "/api/v1/files/{path...}", Access::needs(engine::Permission::workflows_write, "file.upload"), [&api, writer](Request request, Reply reply) {
        if (api.files_root.empty()) return reply(unavailable(request));
        // The job takes copies: it may run after this handler's services are gone.
        writer->post(
            [root = api.files_root, request = std::move(request), reply = std::move(reply)] {
              Response response;
              try {
                response = put_file(root, request);
              } catch (...) {
                response = problem(request, 500, "Internal error",
                                        "the server failed to store the file");
              }
              reply(std::move(response));
            });
      });
  router.add(Method::kGet, "/api/v1/files/{path...}", Access::needs(engine::Permission::workflows_write),
             [&api](const Request& request) { return get_file(api, request); });
  router.add(Method::kDelete, "/api/v1/files/{path...}", Access::needs(engine::Permission::workflows_write, "file.delete"),
             [&api](const Request& request) { return delete_file(api, request); });
}

}  // namespace flowpilot::web
