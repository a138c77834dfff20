#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <random>

#include "simulator/detail/state.h"

namespace flowpilot::simulator::detail {

DelayQueue::DelayQueue() : thread_([this] { loop(); }) {}

DelayQueue::~DelayQueue() { shutdown(); }

void DelayQueue::schedule(std::chrono::milliseconds delay, std::function<void()> callback) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      pending_.emplace(Clock::now() + delay, std::move(callback));
      wake_.notify_all();
      return;
    }
  }
  callback();
}

void DelayQueue::shutdown() {
  std::multimap<Clock::time_point, std::function<void()>> left;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    left.swap(pending_);
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  for (auto& [at, callback] : left) callback();
}

void DelayQueue::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (pending_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto due = pending_.begin()->first;
    if (Clock::now() < due) {
      wake_.wait_until(lock, due);
      continue;
    }
    auto callback = std::move(pending_.begin()->second);
    pending_.erase(pending_.begin());
    lock.unlock();
    callback();
    lock.lock();
  }
}

std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!body.empty()) {
    const auto amp = body.find('&');
    std::string pair(body.substr(0, amp));
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    std::replace(pair.begin(), pair.end(), '+', ' ');
    const auto eq = pair.find('=');
    auto key = web::percent_decode(pair.substr(0, eq));
    auto value = web::percent_decode(eq == std::string::npos ? std::string() : pair.substr(eq + 1));
    if (!key || !value) continue;
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

std::optional<std::string> form_value(const std::vector<std::pair<std::string, std::string>>& form,
                                      std::string_view name) {
  for (const auto& [k, v] : form) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

namespace {
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < text.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(text[i]) << 16) |
                       (static_cast<unsigned char>(text[i + 1]) << 8) |
                       static_cast<unsigned char>(text[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < text.size()) {
    unsigned v = static_cast<unsigned char>(text[i]) << 16;
    if (i + 1 < text.size()) v |= static_cast<unsigned char>(text[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < text.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const auto pos = kAlphabet.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

std::optional<std::string> bearer_token(const web::Request& request) {
  auto header = request.headers.get("Authorization");
  if (!header) return std::nullopt;
  std::string_view value = *header;
  if (value.size() < 7) return std::nullopt;
  std::string scheme(value.substr(0, 7));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "bearer ") return std::nullopt;
  return std::string(value.substr(7));
}

std::string random_id(std::size_t length) {
  static constexpr std::string_view kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::string out;
  for (std::size_t i = 0; i < length; ++i) out += kChars[engine() % kChars.size()];
  return out;
}

web::Response json_answer(int status, const boost::json::value& body) {
  web::Response response;
  response.status = status;
  response.headers.set("Content-Type", "application/json; charset=UTF-8");
  response.body = boost::json::serialize(body);
  return response;
}

web::Response text_answer(int status, std::string body, std::string_view content_type) {
  web::Response response;
  response.status = status;
  response.headers.set("Content-Type", content_type);
  response.body = std::move(body);
  return response;
}

std::string decimal_string(std::int64_t units, int decimals) {
  const bool negative = units < 0;
  std::string digits = std::to_string(negative ? -units : units);
  if (decimals > 0) {
    if (digits.size() <= static_cast<std::size_t>(decimals)) {
      digits.insert(0, static_cast<std::size_t>(decimals) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<std::size_t>(decimals), ".");
  }
  return negative ? "-" + digits : digits;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

std::optional<std::pair<std::chrono::sys_days, std::chrono::sys_days>> preset_range(
    std::string_view preset, std::chrono::sys_days today, std::chrono::sys_days first) {
  using namespace std::chrono;
  using std::chrono::days;
  const year_month_day ymd{today};
  const sys_days month_start{ymd.year() / ymd.month() / 1};
  const weekday wd{today};
  const int since_monday = static_cast<int>((wd.c_encoding() + 6) % 7);
  const int since_sunday = static_cast<int>(wd.c_encoding());
  const unsigned quarter_first_month = (static_cast<unsigned>(ymd.month()) - 1) / 3 * 3 + 1;
  const sys_days quarter_start{ymd.year() / month{quarter_first_month} / 1};
  if (preset == "today") return std::pair{today, today};
  if (preset == "yesterday") return std::pair{today - days(1), today - days(1)};
  for (int n : {3, 7, 14, 28, 30, 90}) {
    if (preset == "last_" + std::to_string(n) + "d")
      return std::pair{today - days(n), today - days(1)};
  }
  if (preset == "this_month") return std::pair{month_start, today};
  if (preset == "last_month") {
    const sys_days prev{(ymd.year() / ymd.month() / 1) - months(1)};
    return std::pair{prev, month_start - days(1)};
  }
  if (preset == "this_quarter") return std::pair{quarter_start, today};
  if (preset == "last_quarter") {
    const sys_days prev{year_month_day{quarter_start} - months(3)};
    return std::pair{prev, quarter_start - days(1)};
  }
  if (preset == "this_year") return std::pair{sys_days{ymd.year() / January / 1}, today};
  if (preset == "last_year") {
    return std::pair{sys_days{(ymd.year() - years(1)) / January / 1},
                     sys_days{(ymd.year() - years(1)) / December / 31}};
  }
  if (preset == "maximum" || preset == "data_maximum") return std::pair{first, today};
  if (preset == "last_week_mon_sun") {
    const sys_days monday = today - days(since_monday) - days(7);
    return std::pair{monday, monday + days(6)};
  }
  if (preset == "last_week_sun_sat") {
    const sys_days sunday = today - days(since_sunday) - days(7);
    return std::pair{sunday, sunday + days(6)};
  }
  if (preset == "this_week_mon_today") return std::pair{today - days(since_monday), today};
  if (preset == "this_week_sun_today") return std::pair{today - days(since_sunday), today};
  return std::nullopt;
}

}  // namespace flowpilot::simulator::detail
