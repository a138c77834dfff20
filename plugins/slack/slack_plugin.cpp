// The slack plugin: slack.notify posts a message through an incoming webhook or chat.postMessage,
// with Block Kit built from plain inputs (a KPI table, fields, approval buttons). The connection
// gives `webhook_url` and/or `bot_token` (and optionally `base_url`, the Web API's base, default
// https://slack.com/api).
#include "api_exchange.h"
#include "slack_api.h"

#include <flowpilot/plugin.hpp>

#include <memory>
#include <string>

namespace {

namespace json = boost::json;
namespace sdk = flowpilot::sdk;
namespace mk = flowpilot::marketing;
namespace slack = flowpilot::slack;

constexpr const char* kNotifyInput = R"({
  "type": "object", "required": ["text"], "additionalProperties": false,
  "properties": {
    "text": {"type": "string", "minLength": 1,
             "description": "The message; also the fallback shown in notifications."},
    "title": {"type": "string"},
    "kpis": {"type": "object", "required": ["columns", "rows"],
             "properties": {"title": {"type": "string"}, "columns": {"type": "array"},
                            "rows": {"type": "array"}}},
    "fields": {"type": "object"},
    "buttons": {"type": "array", "items": {"type": "object"}},
    "blocks": {"type": "array", "items": {"type": "object"}},
    "channel": {"type": "string", "description": "For chat.postMessage: a channel id or #name."},
    "thread_ts": {"type": "string"},
    "via": {"enum": ["auto", "webhook", "api"], "default": "auto"}
  }})";

std::string field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

void notify(sdk::Call& call) {
  auto credentials = call.credentials();
  if (!credentials) throw sdk::StepError("slack.notify: the step needs a `connection` of type slack");
  const json::object& input = call.input();
  const std::string text = call.get_string("text");
  const std::string channel = call.input_or<std::string>("channel", "");
  const std::string via_asked = call.input_or<std::string>("via", "auto");
  const std::string webhook_url = field(*credentials, "webhook_url");
  const std::string bot_token = field(*credentials, "bot_token");
  std::string via = via_asked;
  if (via == "auto") via = !channel.empty() && !bot_token.empty() ? "api" : "webhook";
  if (via == "webhook" && webhook_url.empty()) {
    throw sdk::StepError("slack.notify: the connection has no webhook_url" +
                         std::string(bot_token.empty() ? "" : "; give `channel` to post with its bot_token"));
  }
  if (via == "api" && (bot_token.empty() || channel.empty())) {
    throw sdk::StepError("slack.notify: chat.postMessage needs the connection's bot_token and with.channel");
  }
  json::object message{{"text", text}, {"blocks", slack::build_blocks(input)}};
  if (via == "api") {
    message["channel"] = channel;
    if (const auto* ts = input.if_contains("thread_ts")) message["thread_ts"] = *ts;
  }
  if (call.plan_mode()) {
    json::object plan{{"via", via}, {"text", text}, {"blocks", message["blocks"].as_array().size()}};
    if (!channel.empty()) plan["channel"] = channel;
    call.complete(json::object{{"plan", json::array{plan}}});
    return;
  }
  auto ex = std::make_shared<mk::Exchange>();
  ex->use_token = false;
  ex->request.method = "POST";
  ex->request.body = json::serialize(message);
  if (via == "webhook") {
    ex->request.url = webhook_url;
    ex->request.headers = {{"Content-Type", "application/json"}};
    ex->request.secrets = {webhook_url};
    ex->rate_key = "slack:webhook:" + std::to_string(std::hash<std::string>{}(webhook_url));
    ex->classify = slack::classify_webhook;
    ex->authorize = [](sdk::HttpRequest&, const std::string&) {};
  } else {
    // The Web API's base, as the connection type describes it.
    std::string base = field(*credentials, "base_url");
    if (base.empty()) base = "https://slack.com/api";
    while (!base.empty() && base.back() == '/') base.pop_back();
    ex->request.url = base + "/chat.postMessage";
    ex->request.headers = {{"Content-Type", "application/json; charset=utf-8"}};
    ex->rate_key = "slack:channel:" + channel;
    ex->classify = slack::classify_web_api;
    ex->authorize = [bot_token](sdk::HttpRequest& r, const std::string&) {
      r.headers.emplace_back("Authorization", "Bearer " + bot_token);
      r.secrets.push_back(bot_token);
    };
  }
  ex->on_ok = [via, channel](sdk::Call& c, mk::Exchange&, const sdk::HttpResponse& response) {
    json::object out{{"delivered", true}, {"via", via}};
    if (via == "api") {
      json::value body = json::parse(response.body);
      if (const auto* o = body.if_object()) {
        if (const auto* ts = o->if_contains("ts")) out["ts"] = *ts;
        if (const auto* ch = o->if_contains("channel")) out["channel"] = *ch;
      }
    }
    c.complete(out);
  };
  mk::start(call, ex);
}

}  // namespace

FLOWPILOT_PLUGIN("slack", "1.0.0",
                 sdk::Step("notify", "Posts a message to Slack, with KPI tables and approval buttons.")
                     .input_schema(kNotifyInput)
                     .flags(FP_STEP_SIDE_EFFECTS | FP_STEP_SUPPORTS_PLAN)
                     .start(notify))
