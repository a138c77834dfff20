#include "cli/server_log.h"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

namespace flowpilot::cli {

namespace {

// Marks a payload that already holds its fields (as `,"k":"v"...` or ` k=v...`), so the
// formatter knows the message part ends at the first kFieldMark.
constexpr char kFieldMark = '\x1e';

bool g_json = false;

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string timestamp(spdlog::log_clock::time_point at) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch());
  const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count() % 1000));
  return buf;
}

class LineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const auto mark = payload.find(kFieldMark);
    const std::string_view text = payload.substr(0, mark);
    const std::string_view fields =
        mark == std::string_view::npos ? std::string_view() : payload.substr(mark + 1);
    const auto level = spdlog::level::to_string_view(msg.level);
    std::string line;
    if (g_json) {
      line = "{\"ts\":\"" + timestamp(msg.time) + "\",\"level\":\"";
      line.append(level.data(), level.size());
      line += "\",\"msg\":";
      append_json_string(line, text);
      line += fields;
      line += "}\n";
    } else {
      line = timestamp(msg.time) + " ";
      line.append(level.data(), level.size());
      line += " ";
      line += text;
      line += fields;
      line += "\n";
    }
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>();
  }
};

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return spdlog::level::trace;
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void configure_server_log(LogFormat format, LogLevel level) {
  g_json = format == LogFormat::kJson;
  auto logger = std::make_shared<spdlog::logger>(
      "flowpilot", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_formatter(std::make_unique<LineFormatter>());
  logger->set_level(to_spdlog(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

bool log_enabled(spdlog::level::level_enum level) {
  return spdlog::default_logger_raw()->should_log(level);
}

void log_fields(spdlog::level::level_enum level, std::string_view message,
                std::initializer_list<LogField> fields) {
  if (!log_enabled(level)) return;
  std::string payload(message);
  payload += kFieldMark;
  for (const auto& [name, value] : fields) {
    if (value.empty()) continue;  // an absent field, e.g. no error
    if (g_json) {
      payload += ',';
      append_json_string(payload, name);
      payload += ':';
      append_json_string(payload, value);
    } else {
      payload += ' ';
      payload += name;
      payload += '=';
      payload += value;
    }
  }
  spdlog::log(level, "{}", payload);
}

}  // namespace flowpilot::cli
