// What the slack steps know about Slack, as pure functions: Block Kit messages built from plain
// inputs (a KPI table, approval buttons) within Slack's limits, and what the answers of incoming
// webhooks and of chat.postMessage mean.
#pragma once

#include "api_exchange.h"

#include <boost/json.hpp>

#include <string>

namespace flowpilot::slack {

// Builds the `blocks` of a message from a step's input: `title` (header), `text` (a section),
// `kpis` ({title?, columns: [...], rows: [[...], ...]} shown as an aligned table), `fields`
// (label → value pairs), `buttons` ([{text, url | action_id, value?, style?}]) and any `blocks`
// given as is, in that order. Throws sdk::StepError naming the field when a limit is exceeded
// (50 blocks, 150 characters in a header, 3,000 in a section, 25 buttons).
boost::json::array build_blocks(const boost::json::object& input);

// Renders rows as a monospaced table (a code block in mrkdwn), numbers right-aligned.
std::string kpi_table(const boost::json::array& columns, const boost::json::array& rows);

// Incoming webhooks: 200 `ok`; otherwise a plain-text error name with its status.
marketing::Verdict classify_webhook(const sdk::HttpResponse& response);
// chat.postMessage: errors come as HTTP 200 with {"ok": false, "error": "..."}; 429 ratelimited.
marketing::Verdict classify_web_api(const sdk::HttpResponse& response);

}  // namespace flowpilot::slack
