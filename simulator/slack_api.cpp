// Slack under /slack (chat.postMessage) and /slack-hooks (incoming webhooks).
#include <cstdio>

#include "simulator/detail/state.h"

namespace flowpilot::simulator::detail {

namespace {

namespace json = boost::json;

constexpr std::size_t kMaxBlocks = 50;
constexpr std::size_t kMaxText = 40'000;

struct Channel {
  const char* id;
  const char* name;
  bool archived;
};
constexpr Channel kChannels[] = {{"C0SIMALERT", "marketing-alerts", false},
                                 {"C0SIMREPORT", "marketing-reports", false},
                                 {"C0SIMARCHIV", "old-campaigns", true}};
constexpr const char* kWebhookChannel = "C0SIMALERT";

const Channel* find_channel(std::string_view text) {
  if (!text.empty() && text[0] == '#') text.remove_prefix(1);
  for (const auto& c : kChannels) {
    if (text == c.id || text == c.name) return &c;
  }
  return nullptr;
}

web::Response slack_fail(std::string_view error) {
  return json_answer(200, json::object{{"ok", false}, {"error", error}});
}

// The message fields from a JSON body or a form body (blocks as a JSON string there).
struct Message {
  std::string token, channel, text, thread_ts;
  std::optional<json::value> blocks;
  bool bad_json = false;
  bool bad_blocks = false;
};

Message read_message(const web::Request& request) {
  Message m;
  const std::string type(request.headers.get("Content-Type").value_or(""));
  if (type.find("application/json") != std::string::npos) {
    boost::system::error_code ec;
    auto value = json::parse(request.body, ec);
    if (ec || !value.is_object()) {
      m.bad_json = true;
      return m;
    }
    const json::object& o = value.as_object();
    auto str = [&](std::string_view key) {
      const json::value* v = o.if_contains(key);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    m.channel = str("channel");
    m.text = str("text");
    m.thread_ts = str("thread_ts");
    if (const json::value* b = o.if_contains("blocks")) m.blocks = *b;
  } else {
    auto form = parse_form(request.body);
    m.token = form_value(form, "token").value_or("");
    m.channel = form_value(form, "channel").value_or("");
    m.text = form_value(form, "text").value_or("");
    m.thread_ts = form_value(form, "thread_ts").value_or("");
    if (auto b = form_value(form, "blocks")) {
      boost::system::error_code ec;
      auto value = json::parse(*b, ec);
      if (ec)
        m.bad_blocks = true;
      else
        m.blocks = value;
    }
  }
  if (m.blocks) {
    if (!m.blocks->is_array()) {
      m.bad_blocks = true;
    } else {
      for (const auto& block : m.blocks->as_array()) {
        const json::object* o = block.if_object();
        const json::value* t = o ? o->if_contains("type") : nullptr;
        if (!t || !t->is_string()) m.bad_blocks = true;
      }
    }
  }
  return m;
}

bool has_blocks(const Message& m) {
  return m.blocks && m.blocks->is_array() && !m.blocks->as_array().empty();
}

std::string next_ts(Simulator::State& state) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  std::uint64_t seq;
  {
    std::lock_guard lock(state.mutex);
    seq = ++state.sequence % 1'000'000;
  }
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%lld.%06llu", static_cast<long long>(seconds),
                static_cast<unsigned long long>(seq));
  return buffer;
}

web::Response post_message(Simulator::State& state, const web::Request& request) {
  Message m = read_message(request);
  std::string token = bearer_token(request).value_or(m.token);
  if (token.empty()) return slack_fail("not_authed");
  if (token != credentials::kSlackBotToken) return slack_fail("invalid_auth");
  if (m.bad_json) return slack_fail("invalid_json");
  if (m.channel.empty()) return slack_fail("channel_not_found");
  const Channel* channel = find_channel(m.channel);
  if (!channel) return slack_fail("channel_not_found");
  if (channel->archived) return slack_fail("is_archived");
  if (m.bad_blocks) return slack_fail("invalid_blocks");
  if (m.text.empty() && !has_blocks(m)) return slack_fail("no_text");
  if (m.blocks && m.blocks->as_array().size() > kMaxBlocks)
    return slack_fail("msg_blocks_too_long");
  if (m.text.size() > kMaxText) return slack_fail("msg_too_long");
  const BudgetUse use = state.take(Vendor::kSlack, channel->id);
  if (!use.allowed) return slack_rate_limited(Vendor::kSlack, use.reset_in);
  const std::string ts = next_ts(state);
  SlackMessage record{
      "chat.postMessage", channel->id, m.text, m.blocks ? json::serialize(*m.blocks) : "",
      m.thread_ts,        ts};
  {
    std::lock_guard lock(state.mutex);
    state.messages.push_back(record);
  }
  json::object message{{"type", "message"},  {"subtype", "bot_message"}, {"text", m.text},
                       {"user", "U0SIMBOT"}, {"bot_id", "B0SIMBOT"},     {"ts", ts}};
  if (m.blocks) message["blocks"] = *m.blocks;
  if (!m.thread_ts.empty()) message["thread_ts"] = m.thread_ts;
  json::object out{{"ok", true}, {"channel", channel->id}, {"ts", ts}, {"message", message}};
  const std::string type(request.headers.get("Content-Type").value_or(""));
  if (type.find("application/json") != std::string::npos &&
      type.find("charset") == std::string::npos) {
    out["warning"] = "missing_charset";
    out["response_metadata"] = json::object{{"warnings", json::array{"missing_charset"}}};
  }
  return json_answer(200, out);
}

web::Response incoming_webhook(Simulator::State& state, const web::Request& request) {
  const std::string path = "/services/" + request.params.at("team") + "/" +
                           request.params.at("hook") + "/" + request.params.at("secret");
  const std::string expected(credentials::kSlackWebhookPath);
  if (path.substr(0, path.rfind('/')) != expected.substr(0, expected.rfind('/'))) {
    return text_answer(404, "no_service", "text/html");
  }
  if (path != expected) return text_answer(403, "invalid_token", "text/html");
  Message m;
  const std::string type(request.headers.get("Content-Type").value_or(""));
  std::string json_text = request.body;
  if (type.find("application/x-www-form-urlencoded") != std::string::npos) {
    json_text = form_value(parse_form(request.body), "payload").value_or("");
  }
  boost::system::error_code ec;
  auto value = json::parse(json_text, ec);
  if (ec || !value.is_object()) return text_answer(400, "invalid_payload", "text/html");
  const json::object& o = value.as_object();
  if (const json::value* t = o.if_contains("text"); t && t->is_string()) m.text = t->as_string();
  if (const json::value* b = o.if_contains("blocks")) {
    m.blocks = *b;
    if (!b->is_array()) return text_answer(400, "invalid_blocks", "text/html");
  }
  if (m.text.empty() && !has_blocks(m)) return text_answer(400, "no_text", "text/html");
  if (m.blocks && m.blocks->as_array().size() > kMaxBlocks) {
    return text_answer(400, "invalid_blocks", "text/html");
  }
  const BudgetUse use = state.take(Vendor::kSlackHooks, kWebhookChannel);
  if (!use.allowed) return slack_rate_limited(Vendor::kSlackHooks, use.reset_in);
  SlackMessage record{"webhook", kWebhookChannel,
                      m.text,    m.blocks ? json::serialize(*m.blocks) : "",
                      "",        next_ts(state)};
  {
    std::lock_guard lock(state.mutex);
    state.messages.push_back(std::move(record));
  }
  return text_answer(200, "ok", "text/html");
}

}  // namespace

void register_slack(Simulator::State& state) {
  add_vendor_route(state, Vendor::kSlack, web::Method::kPost, "/api/chat.postMessage",
                   post_message);
  add_vendor_route(state, Vendor::kSlackHooks, web::Method::kPost,
                   "/services/{team}/{hook}/{secret}", incoming_webhook);
}

}  // namespace flowpilot::simulator::detail
