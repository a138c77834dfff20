#include "slack_api.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <vector>

namespace flowpilot::slack {

namespace json = boost::json;
using marketing::Verdict;

namespace {

constexpr std::size_t kMaxBlocks = 50;
constexpr std::size_t kMaxHeader = 150;
constexpr std::size_t kMaxSection = 3000;
constexpr std::size_t kMaxButtons = 25;

// Characters, not bytes: Slack counts what people see.
std::size_t length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string text_of(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return "–";
  if (v.is_double()) {
    // Two decimals reads well for money and ratios alike in a chat message.
    char buffer[64];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v.get_double(),
                                   std::chars_format::fixed, 2);
    return ec == std::errc() ? std::string(buffer, end) : json::serialize(v);
  }
  return json::serialize(v);
}

std::chrono::milliseconds retry_after(const sdk::HttpResponse& r) {
  const auto header = r.header("retry-after");
  if (!header) return std::chrono::milliseconds(0);
  long long seconds = 0;
  auto [end, ec] = std::from_chars(header->data(), header->data() + header->size(), seconds);
  if (ec != std::errc() || seconds < 0) return std::chrono::milliseconds(0);
  return std::chrono::seconds(seconds);
}

}  // namespace

std::string kpi_table(const json::array& columns, const json::array& rows) {
  std::vector<std::vector<std::string>> cells;
  std::vector<bool> numeric(columns.size(), true);
  std::vector<std::string> header;
  for (const auto& c : columns) header.push_back(text_of(c));
  cells.push_back(header);
  for (const auto& row : rows) {
    std::vector<std::string> line;
    if (const auto* arr = row.if_array()) {
      for (std::size_t i = 0; i < columns.size(); ++i) {
        const json::value v = i < arr->size() ? (*arr)[i] : json::value();
        if (!v.is_number() && !v.is_null()) numeric[i] = false;
        line.push_back(text_of(v));
      }
    } else if (const auto* obj = row.if_object()) {
      for (std::size_t i = 0; i < columns.size(); ++i) {
        const json::value* v = obj->if_contains(header[i]);
        if (v != nullptr && !v->is_number() && !v->is_null()) numeric[i] = false;
        line.push_back(v != nullptr ? text_of(*v) : "–");
      }
    }
    cells.push_back(std::move(line));
  }
  std::vector<std::size_t> width(columns.size(), 0);
  for (const auto& line : cells) {
    for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], length(line[i]));
  }
  std::string out = "```\n";
  for (std::size_t r = 0; r < cells.size(); ++r) {
    for (std::size_t i = 0; i < cells[r].size(); ++i) {
      const std::string& cell = cells[r][i];
      const std::string pad(width[i] - length(cell), ' ');
      if (i > 0) out += "  ";
      out += numeric[i] ? pad + cell : cell + pad;  // headers sit over their numbers
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  }
  out += "```";
  return out;
}

json::array build_blocks(const json::object& input) {
  json::array blocks;
  auto section = [&blocks](std::string text, const std::string& field) {
    if (length(text) > kMaxSection) {
      throw sdk::StepError("slack: with." + field + " is " + std::to_string(length(text)) +
                           " characters; Slack shows at most 3000 in a section");
    }
    blocks.push_back(json::object{{"type", "section"},
                                  {"text", json::object{{"type", "mrkdwn"}, {"text", std::move(text)}}}});
  };
  if (const auto* title = input.if_contains("title"); title && title->is_string()) {
    if (length(title->get_string()) > kMaxHeader) {
      throw sdk::StepError("slack: with.title is longer than Slack's 150 characters for a header");
    }
    blocks.push_back(json::object{
        {"type", "header"},
        {"text", json::object{{"type", "plain_text"}, {"text", title->get_string()}}}});
  }
  if (const auto* text = input.if_contains("text"); text && text->is_string()) {
    section(std::string(text->get_string()), "text");
  }
  if (const auto* kpis = input.if_contains("kpis"); kpis && kpis->is_object()) {
    const auto& k = kpis->get_object();
    const json::value* columns = k.if_contains("columns");
    const json::value* rows = k.if_contains("rows");
    if (columns == nullptr || !columns->is_array() || rows == nullptr || !rows->is_array()) {
      throw sdk::StepError("slack: with.kpis needs `columns` (a list) and `rows` (a list)");
    }
    std::string body;
    if (const auto* t = k.if_contains("title"); t && t->is_string()) body = "*" + std::string(t->get_string()) + "*\n";
    body += kpi_table(columns->get_array(), rows->get_array());
    section(std::move(body), "kpis");
  }
  if (const auto* fields = input.if_contains("fields"); fields && fields->is_object()) {
    json::array items;
    for (const auto& [label, value] : fields->get_object()) {
      items.push_back(json::object{{"type", "mrkdwn"},
                                   {"text", "*" + std::string(label) + "*\n" + text_of(value)}});
    }
    // A section holds at most ten fields.
    for (std::size_t i = 0; i < items.size(); i += 10) {
      json::array chunk(items.begin() + static_cast<std::ptrdiff_t>(i),
                        items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), i + 10)));
      blocks.push_back(json::object{{"type", "section"}, {"fields", std::move(chunk)}});
    }
  }
  if (const auto* buttons = input.if_contains("buttons"); buttons && buttons->is_array()) {
    const auto& list = buttons->get_array();
    if (list.size() > kMaxButtons) throw sdk::StepError("slack: with.buttons has more than 25 buttons");
    json::array elements;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto* b = list[i].if_object();
      const std::string where = "with.buttons[" + std::to_string(i) + "]";
      if (b == nullptr || !b->contains("text") || !b->at("text").is_string()) {
        throw sdk::StepError("slack: " + where + " needs a `text`");
      }
      json::object element{{"type", "button"},
                           {"text", json::object{{"type", "plain_text"}, {"text", b->at("text")}}}};
      bool target = false;
      for (const char* key : {"url", "action_id", "value"}) {
        if (const auto* v = b->if_contains(key); v && v->is_string()) {
          element[key] = *v;
          target = target || std::string_view(key) != "value";
        }
      }
      if (!target) throw sdk::StepError("slack: " + where + " needs a `url` or an `action_id`");
      if (const auto* style = b->if_contains("style"); style && style->is_string()) {
        if (style->get_string() != "primary" && style->get_string() != "danger") {
          throw sdk::StepError("slack: " + where + ".style must be primary or danger");
        }
        element["style"] = *style;
      }
      elements.push_back(std::move(element));
    }
    blocks.push_back(json::object{{"type", "actions"}, {"elements", std::move(elements)}});
  }
  if (const auto* extra = input.if_contains("blocks"); extra && extra->is_array()) {
    for (const auto& b : extra->get_array()) blocks.push_back(b);
  }
  if (blocks.size() > kMaxBlocks) {
    throw sdk::StepError("slack: the message has " + std::to_string(blocks.size()) +
                         " blocks; Slack accepts at most 50");
  }
  return blocks;
}

Verdict classify_webhook(const sdk::HttpResponse& r) {
  if (r.status == 0) return Verdict::retry("Slack unreachable: " + r.error);
  if (r.status == 200) return Verdict::ok();
  const std::string name = marketing::excerpt(r.body, 80);
  const std::string message = "Slack incoming webhook: HTTP " + std::to_string(r.status) + " " + name;
  if (r.status == 429) return Verdict::retry(message, retry_after(r), true);
  if (name == "rollup_error" || r.status >= 500) return Verdict::retry(message);
  return Verdict::fail(message);
}

Verdict classify_web_api(const sdk::HttpResponse& r) {
  if (r.status == 0) return Verdict::retry("Slack unreachable: " + r.error);
  if (r.status == 429) return Verdict::retry("Slack: ratelimited", retry_after(r), true);
  if (r.status >= 500) return Verdict::retry("Slack: HTTP " + std::to_string(r.status));
  json::error_code ec;
  json::value body = json::parse(r.body, ec);
  if (ec || !body.is_object()) {
    return Verdict::retry("Slack answered HTTP " + std::to_string(r.status) + " with a body that is not JSON");
  }
  const auto& o = body.get_object();
  const json::value* ok = o.if_contains("ok");
  if (ok != nullptr && ok->is_bool() && ok->get_bool()) return Verdict::ok();
  const json::value* error = o.if_contains("error");
  const std::string name = error != nullptr && error->is_string() ? std::string(error->get_string()) : "unknown_error";
  const std::string message = "Slack chat.postMessage: " + name;
  static const std::set<std::string, std::less<>> kToken = {"token_expired", "invalid_auth",
                                                            "not_authed", "token_revoked",
                                                            "account_inactive"};
  if (kToken.count(name) > 0) return Verdict::refresh(message);
  if (name == "ratelimited") return Verdict::retry(message, retry_after(r), true);
  if (name == "internal_error" || name == "fatal_error" || name == "service_unavailable") {
    return Verdict::retry(message);
  }
  return Verdict::fail(message);
}

}  // namespace flowpilot::slack
