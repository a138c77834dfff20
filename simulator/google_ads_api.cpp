// Google Ads REST under /google-ads (googleAds:searchStream, googleAds:search, campaigns:mutate)
// and Google's OAuth token endpoint under /google-oauth.
#include <algorithm>
#include <cctype>
#include <set>
#include <variant>

#include "simulator/detail/state.h"

namespace flowpilot::simulator::detail {

namespace {

namespace json = boost::json;
using std::chrono::sys_days;

constexpr std::size_t kPageSize = 10'000;

web::Response query_error(std::string_view code, std::string_view message) {
  return google_error(400, "INVALID_ARGUMENT", message, "queryError", code);
}

web::Response invalid_argument(std::string_view key, std::string_view code,
                               std::string_view message) {
  return google_error(400, "INVALID_ARGUMENT", message, key, code);
}

bool version_ok(std::string_view v) {
  if (v.size() < 3 || v[0] != 'v') return false;
  auto major = parse_int(v.substr(1));
  return major && *major >= 16 && *major <= 99;
}

// Valid Google access token (issued by /google-oauth/token), or the refusal.
std::optional<web::Response> check_google_token(Simulator::State& state,
                                                const web::Request& request, bool ads) {
  auto token = bearer_token(request);
  auto refuse = [&](std::string_view message, std::string_view code) {
    return ads ? google_error(401, "UNAUTHENTICATED", message, "authenticationError", code)
               : google_error(401, "UNAUTHENTICATED", message);
  };
  if (!token) {
    return refuse(
        "Request is missing required authentication credential. Expected OAuth 2 access "
        "token, login cookie or other valid authentication credential.",
        "OAUTH_TOKEN_HEADER_INVALID");
  }
  auto valid = state.token_valid(Vendor::kGoogleOauth, *token);
  if (!valid) {
    return refuse(
        "Request had invalid authentication credentials. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential.",
        "OAUTH_TOKEN_INVALID");
  }
  if (!*valid) {
    return refuse(
        "Request had invalid authentication credentials. The OAuth 2 access token has "
        "expired.",
        "OAUTH_TOKEN_EXPIRED");
  }
  return std::nullopt;
}

// ---- GAQL ----

struct Token {
  enum Kind { kWord, kString, kNumber, kSymbol, kEnd } kind = kEnd;
  std::string text;
};

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::optional<std::vector<Token>> tokenize(std::string_view q, std::string& error) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < q.size()) {
    const char c = q[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t j = i;
      while (j < q.size() &&
             (std::isalnum(static_cast<unsigned char>(q[j])) || q[j] == '_' || q[j] == '.')) {
        ++j;
      }
      out.push_back({Token::kWord, std::string(q.substr(i, j - i))});
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '-') {
      std::size_t j = i + 1;
      while (j < q.size() && (std::isdigit(static_cast<unsigned char>(q[j])) || q[j] == '.')) ++j;
      out.push_back({Token::kNumber, std::string(q.substr(i, j - i))});
      i = j;
    } else if (c == '\'' || c == '"') {
      const auto end = q.find(c, i + 1);
      if (end == std::string_view::npos) {
        error = "unterminated string literal at position " + std::to_string(i);
        return std::nullopt;
      }
      out.push_back({Token::kString, std::string(q.substr(i + 1, end - i - 1))});
      i = end + 1;
    } else if ((c == '!' || c == '<' || c == '>') && i + 1 < q.size() && q[i + 1] == '=') {
      out.push_back({Token::kSymbol, std::string(q.substr(i, 2))});
      i += 2;
    } else if (c == ',' || c == '(' || c == ')' || c == '=' || c == '<' || c == '>') {
      out.push_back({Token::kSymbol, std::string(1, c)});
      ++i;
    } else {
      error = std::string("unexpected character '") + c + "' at position " + std::to_string(i);
      return std::nullopt;
    }
  }
  out.push_back({Token::kEnd, ""});
  return out;
}

const std::set<std::string, std::less<>> kFields = {"campaign.id",
                                                    "campaign.name",
                                                    "campaign.status",
                                                    "campaign.resource_name",
                                                    "campaign.advertising_channel_type",
                                                    "campaign_budget.amount_micros",
                                                    "customer.id",
                                                    "customer.currency_code",
                                                    "customer.descriptive_name",
                                                    "customer.time_zone",
                                                    "metrics.cost_micros",
                                                    "metrics.impressions",
                                                    "metrics.clicks",
                                                    "metrics.conversions",
                                                    "metrics.conversions_value",
                                                    "metrics.ctr",
                                                    "metrics.average_cpc",
                                                    "segments.date"};

struct Condition {
  std::string field;
  std::string op;  // = != < <= > >= BETWEEN DURING IN NOT_IN
  std::vector<std::string> values;
};

struct Query {
  std::vector<std::string> fields;
  std::vector<Condition> where;
  std::vector<std::pair<std::string, bool>> order;  // field, descending
  std::optional<std::size_t> limit;
};

std::variant<Query, web::Response> parse_gaql(std::string_view text) {
  std::string error;
  auto tokens = tokenize(text, error);
  if (!tokens) return query_error("QUERY_ERROR", "Error in query: " + error + ".");
  std::size_t p = 0;
  auto peek = [&]() -> const Token& { return (*tokens)[p]; };
  auto is_kw = [&](std::string_view kw) {
    return peek().kind == Token::kWord && upper(peek().text) == kw;
  };
  auto expect_field = [&](std::string_view clause) -> std::variant<std::string, web::Response> {
    if (peek().kind != Token::kWord) {
      return query_error("QUERY_ERROR", "Error in " + std::string(clause) +
                                            " clause: expected a "
                                            "field name, found '" +
                                            peek().text + "'.");
    }
    std::string f = (*tokens)[p++].text;
    if (!kFields.count(f)) {
      return query_error("UNRECOGNIZED_FIELD", "Error in " + std::string(clause) +
                                                   " clause: unrecognized field '" + f + "'.");
    }
    return f;
  };
  Query q;
  if (!is_kw("SELECT")) return query_error("QUERY_ERROR", "Error in query: expected SELECT.");
  ++p;
  while (true) {
    auto f = expect_field("SELECT");
    if (auto* r = std::get_if<web::Response>(&f)) return *r;
    q.fields.push_back(std::get<std::string>(f));
    if (peek().kind == Token::kSymbol && peek().text == ",") {
      ++p;
      continue;
    }
    break;
  }
  if (!is_kw("FROM")) return query_error("QUERY_ERROR", "Error in query: expected FROM.");
  ++p;
  if (peek().kind != Token::kWord || peek().text != "campaign") {
    return query_error("PROHIBITED_RESOURCE_TYPE_IN_FROM_CLAUSE",
                       "Error in FROM clause: the simulator serves FROM campaign only, found '" +
                           peek().text + "'.");
  }
  ++p;
  if (is_kw("WHERE")) {
    ++p;
    while (true) {
      auto f = expect_field("WHERE");
      if (auto* r = std::get_if<web::Response>(&f)) return *r;
      Condition c;
      c.field = std::get<std::string>(f);
      auto value = [&]() -> std::optional<std::string> {
        const Token& t = peek();
        if (t.kind == Token::kString || t.kind == Token::kNumber ||
            (t.kind == Token::kWord && t.text.find('.') == std::string::npos)) {
          ++p;
          return t.text;
        }
        return std::nullopt;
      };
      if (peek().kind == Token::kSymbol) {
        c.op = (*tokens)[p++].text;
        auto v = value();
        if (!v)
          return query_error("QUERY_ERROR",
                             "Error in WHERE clause: expected a value after " + c.op + ".");
        c.values.push_back(*v);
      } else if (is_kw("BETWEEN")) {
        ++p;
        c.op = "BETWEEN";
        auto a = value();
        if (!a || !is_kw("AND")) {
          return query_error("QUERY_ERROR", "Error in WHERE clause: expected BETWEEN 'a' AND 'b'.");
        }
        ++p;
        auto b = value();
        if (!b)
          return query_error("QUERY_ERROR", "Error in WHERE clause: expected BETWEEN 'a' AND 'b'.");
        c.values = {*a, *b};
      } else if (is_kw("DURING")) {
        ++p;
        c.op = "DURING";
        if (peek().kind != Token::kWord) {
          return query_error("QUERY_ERROR",
                             "Error in WHERE clause: expected a date range after DURING.");
        }
        c.values.push_back((*tokens)[p++].text);
      } else if (is_kw("IN") || is_kw("NOT")) {
        c.op = is_kw("NOT") ? "NOT_IN" : "IN";
        ++p;
        if (c.op == "NOT_IN") {
          if (!is_kw("IN"))
            return query_error("QUERY_ERROR", "Error in WHERE clause: expected NOT IN.");
          ++p;
        }
        if (peek().text != "(")
          return query_error("QUERY_ERROR", "Error in WHERE clause: expected '(' after IN.");
        ++p;
        while (true) {
          auto v = value();
          if (!v)
            return query_error("QUERY_ERROR",
                               "Error in WHERE clause: expected a value in the IN list.");
          c.values.push_back(*v);
          if (peek().text == ",") {
            ++p;
            continue;
          }
          break;
        }
        if (peek().text != ")")
          return query_error("QUERY_ERROR", "Error in WHERE clause: expected ')'.");
        ++p;
      } else {
        return query_error("QUERY_ERROR",
                           "Error in WHERE clause: expected an operator after " + c.field + ".");
      }
      if (c.field != "segments.date" && c.field != "campaign.status" && c.field != "campaign.id" &&
          c.field != "campaign.name") {
        return query_error("QUERY_ERROR",
                           "Error in WHERE clause: the simulator filters on "
                           "segments.date, campaign.status, campaign.id and "
                           "campaign.name only, not " +
                               c.field + ".");
      }
      q.where.push_back(std::move(c));
      if (is_kw("AND")) {
        ++p;
        continue;
      }
      break;
    }
  }
  if (is_kw("ORDER")) {
    ++p;
    if (!is_kw("BY")) return query_error("QUERY_ERROR", "Error in query: expected ORDER BY.");
    ++p;
    while (true) {
      auto f = expect_field("ORDER BY");
      if (auto* r = std::get_if<web::Response>(&f)) return *r;
      bool desc = false;
      if (is_kw("DESC")) {
        desc = true;
        ++p;
      } else if (is_kw("ASC")) {
        ++p;
      }
      q.order.emplace_back(std::get<std::string>(f), desc);
      if (peek().text == ",") {
        ++p;
        continue;
      }
      break;
    }
  }
  if (is_kw("LIMIT")) {
    ++p;
    auto n = peek().kind == Token::kNumber ? parse_int(peek().text) : std::nullopt;
    if (!n) return query_error("QUERY_ERROR", "Error in LIMIT clause: expected a number.");
    q.limit = static_cast<std::size_t>(*n);
    ++p;
  }
  if (peek().kind != Token::kEnd) {
    return query_error("QUERY_ERROR", "Error in query: unexpected input '" + peek().text + "'.");
  }
  return q;
}

std::string camel(std::string_view field) {
  std::string out;
  bool up = false;
  for (char c : field) {
    if (c == '_') {
      up = true;
    } else {
      out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      up = false;
    }
  }
  return out;
}

struct ResultRow {
  const CampaignState* campaign;
  std::string date;  // "" when not segmented
  std::int64_t cost = 0, impressions = 0, clicks = 0;
  std::int64_t conv_hundredths = 0, value_hundredths = 0;
};

// Evaluates the query; rows as JSON objects in order.
std::variant<std::vector<json::object>, web::Response> run_query(Simulator::State& state,
                                                                 const std::string& customer,
                                                                 const Query& q) {
  const Dataset& data = state.dataset;
  const sys_days today = data.options().today;
  const sys_days first = *parse_date(data.first_date());
  std::optional<std::string> since, until;
  auto narrow = [&](std::optional<std::string> lo, std::optional<std::string> hi) {
    if (lo && (!since || *lo > *since)) since = lo;
    if (hi && (!until || *hi < *until)) until = hi;
  };
  std::vector<const Condition*> campaign_filters;
  for (const auto& c : q.where) {
    if (c.field != "segments.date") {
      campaign_filters.push_back(&c);
      continue;
    }
    if (c.op == "DURING") {
      static const std::pair<const char*, const char*> kDuring[] = {
          {"TODAY", "today"},
          {"YESTERDAY", "yesterday"},
          {"LAST_7_DAYS", "last_7d"},
          {"LAST_14_DAYS", "last_14d"},
          {"LAST_30_DAYS", "last_30d"},
          {"THIS_MONTH", "this_month"},
          {"LAST_MONTH", "last_month"},
          {"THIS_WEEK_MON_TODAY", "this_week_mon_today"},
          {"THIS_WEEK_SUN_TODAY", "this_week_sun_today"},
          {"LAST_WEEK_MON_SUN", "last_week_mon_sun"},
          {"LAST_WEEK_SUN_SAT", "last_week_sun_sat"}};
      std::optional<std::pair<sys_days, sys_days>> range;
      for (const auto& [name, preset] : kDuring) {
        if (c.values[0] == name) range = preset_range(preset, today, first);
      }
      if (!range) {
        return query_error(
            "INVALID_VALUE_WITH_DURING_OPERATOR",
            "Error in WHERE clause: invalid date range '" + c.values[0] + "' for DURING.");
      }
      narrow(format_date(range->first), format_date(range->second));
      continue;
    }
    for (const auto& v : c.values) {
      if (!parse_date(v)) {
        return query_error("INVALID_VALUE_WITH_BETWEEN_OPERATOR",
                           "Error in WHERE clause: '" + v + "' is not a date (YYYY-MM-DD).");
      }
    }
    if (c.op == "BETWEEN")
      narrow(c.values[0], c.values[1]);
    else if (c.op == "=")
      narrow(c.values[0], c.values[0]);
    else if (c.op == ">=")
      narrow(c.values[0], std::nullopt);
    else if (c.op == "<=")
      narrow(std::nullopt, c.values[0]);
    else if (c.op == ">")
      narrow(format_date(*parse_date(c.values[0]) + std::chrono::days(1)), std::nullopt);
    else if (c.op == "<")
      narrow(std::nullopt, format_date(*parse_date(c.values[0]) - std::chrono::days(1)));
    else
      return query_error("QUERY_ERROR", "Error in WHERE clause: operator " + c.op +
                                            " is not supported on segments.date.");
  }
  auto selected = [&](std::string_view f) {
    return std::find(q.fields.begin(), q.fields.end(), f) != q.fields.end();
  };
  const bool by_date = selected("segments.date");
  bool any_metric = false;
  for (const auto& f : q.fields) any_metric |= f.rfind("metrics.", 0) == 0;

  std::vector<CampaignState> campaigns;
  {
    std::lock_guard lock(state.mutex);
    for (const auto& [id, c] : state.campaigns) {
      if (c.platform == "google_ads" && c.account_id == customer) campaigns.push_back(c);
    }
  }
  auto keep = [&](const CampaignState& c) {
    for (const Condition* f : campaign_filters) {
      const std::string& v = f->field == "campaign.status" ? c.status
                             : f->field == "campaign.id"   ? c.id
                                                           : c.name;
      const bool in = std::find(f->values.begin(), f->values.end(), v) != f->values.end();
      if ((f->op == "=" || f->op == "IN") && !in) return false;
      if ((f->op == "!=" || f->op == "NOT_IN") && in) return false;
    }
    return true;
  };
  std::map<std::pair<std::string, std::string>, ResultRow> rows;  // (date, campaign id)
  std::map<std::string, const CampaignState*> by_id;
  for (const auto& c : campaigns) {
    if (!keep(c)) continue;
    by_id[c.id] = &c;
    if (!any_metric && !by_date) rows[{"", c.id}] = ResultRow{&c, ""};
  }
  if (any_metric || by_date) {
    for (const auto& r : data.google_rows()) {
      auto it = by_id.find(r.campaign_id);
      if (it == by_id.end()) continue;
      if ((since && r.date < *since) || (until && r.date > *until)) continue;
      auto& row = rows[{by_date ? r.date : "", r.campaign_id}];
      row.campaign = it->second;
      row.date = by_date ? r.date : "";
      row.cost += r.cost_micros;
      row.impressions += r.impressions;
      row.clicks += r.clicks;
      row.conv_hundredths += std::llround(r.conversions * 100);
      row.value_hundredths += std::llround(r.conversions_value * 100);
    }
  }
  std::vector<ResultRow> ordered;
  for (auto& [key, row] : rows) ordered.push_back(row);
  if (!q.order.empty()) {
    auto number = [](const ResultRow& r, const std::string& f) -> double {
      if (f == "metrics.cost_micros") return static_cast<double>(r.cost);
      if (f == "metrics.impressions") return static_cast<double>(r.impressions);
      if (f == "metrics.clicks") return static_cast<double>(r.clicks);
      if (f == "metrics.conversions") return static_cast<double>(r.conv_hundredths);
      if (f == "metrics.conversions_value") return static_cast<double>(r.value_hundredths);
      if (f == "campaign_budget.amount_micros")
        return static_cast<double>(r.campaign->daily_budget);
      return 0;
    };
    auto text = [](const ResultRow& r, const std::string& f) -> std::string {
      if (f == "segments.date") return r.date;
      if (f == "campaign.id") return r.campaign->id;
      if (f == "campaign.name") return r.campaign->name;
      if (f == "campaign.status") return r.campaign->status;
      return "";
    };
    std::stable_sort(ordered.begin(), ordered.end(), [&](const ResultRow& a, const ResultRow& b) {
      for (const auto& [f, desc] : q.order) {
        int cmp;
        if (f.rfind("metrics.", 0) == 0 || f == "campaign_budget.amount_micros") {
          const double x = number(a, f), y = number(b, f);
          cmp = x < y ? -1 : x > y ? 1 : 0;
        } else {
          cmp = text(a, f).compare(text(b, f));
        }
        if (cmp != 0) return desc ? cmp > 0 : cmp < 0;
      }
      return false;
    });
  }
  if (q.limit && ordered.size() > *q.limit) ordered.resize(*q.limit);

  const Account* account = data.find_account("google_ads", customer);
  std::vector<json::object> out;
  for (const auto& r : ordered) {
    const CampaignState& c = *r.campaign;
    const std::string resource = "customers/" + customer + "/campaigns/" + c.id;
    json::object o, campaign, budget, cust, metrics, segments;
    for (const auto& f : q.fields) {
      if (f == "campaign.id")
        campaign["id"] = c.id;
      else if (f == "campaign.name")
        campaign["name"] = c.name;
      else if (f == "campaign.status")
        campaign["status"] = c.status;
      else if (f == "campaign.advertising_channel_type") {
        campaign["advertisingChannelType"] = data.find_campaign(c.id)->objective;
      } else if (f == "campaign_budget.amount_micros") {
        budget["resourceName"] = "customers/" + customer + "/campaignBudgets/" + c.id;
        budget["amountMicros"] = std::to_string(c.daily_budget);
      } else if (f == "customer.id")
        cust["id"] = customer;
      else if (f == "customer.currency_code")
        cust["currencyCode"] = account->currency;
      else if (f == "customer.descriptive_name")
        cust["descriptiveName"] = account->name;
      else if (f == "customer.time_zone")
        cust["timeZone"] = account->time_zone;
      // proto3 JSON leaves zero values out.
      else if (f == "metrics.cost_micros" && r.cost)
        metrics["costMicros"] = std::to_string(r.cost);
      else if (f == "metrics.impressions" && r.impressions)
        metrics["impressions"] = std::to_string(r.impressions);
      else if (f == "metrics.clicks" && r.clicks)
        metrics["clicks"] = std::to_string(r.clicks);
      else if (f == "metrics.conversions" && r.conv_hundredths) {
        metrics["conversions"] = static_cast<double>(r.conv_hundredths) / 100.0;
      } else if (f == "metrics.conversions_value" && r.value_hundredths) {
        metrics["conversionsValue"] = static_cast<double>(r.value_hundredths) / 100.0;
      } else if (f == "metrics.ctr" && r.impressions && r.clicks) {
        metrics["ctr"] = static_cast<double>(r.clicks) / static_cast<double>(r.impressions);
      } else if (f == "metrics.average_cpc" && r.clicks && r.cost) {
        metrics["averageCpc"] = static_cast<double>(r.cost) / static_cast<double>(r.clicks);
      } else if (f == "segments.date")
        segments["date"] = r.date;
    }
    bool any_campaign = false;
    for (const auto& f : q.fields) any_campaign |= f.rfind("campaign.", 0) == 0;
    if (any_campaign) {
      json::object with_name{{"resourceName", resource}};
      for (auto& [k, v] : campaign) with_name[k] = v;
      o["campaign"] = std::move(with_name);
    }
    if (!budget.empty()) o["campaignBudget"] = std::move(budget);
    if (!cust.empty()) {
      json::object with_name{{"resourceName", "customers/" + customer}};
      for (auto& [k, v] : cust) with_name[k] = v;
      o["customer"] = std::move(with_name);
    }
    bool metric_selected = false;
    for (const auto& f : q.fields) metric_selected |= f.rfind("metrics.", 0) == 0;
    if (metric_selected) o["metrics"] = std::move(metrics);
    if (!segments.empty()) o["segments"] = std::move(segments);
    out.push_back(std::move(o));
  }
  return out;
}

std::string field_mask(const Query& q) {
  std::string mask;
  for (const auto& f : q.fields) mask += (mask.empty() ? "" : ",") + camel(f);
  return mask;
}

using AdsHandler = std::function<web::Response(Simulator::State&, const web::Request&,
                                               const std::string&, const json::object&)>;

// Version, token, developer token, customer, JSON body and rate budget; then `inner`.
VendorHandler ads_route(AdsHandler inner) {
  return [inner = std::move(inner)](Simulator::State& state, const web::Request& request) {
    if (!version_ok(request.params.at("version"))) {
      return google_error(404, "NOT_FOUND",
                          "Unknown API version '" + request.params.at("version") + "'.");
    }
    if (auto refused = check_google_token(state, request, true)) return *refused;
    auto developer = request.headers.get("developer-token");
    if (!developer) {
      return google_error(401, "UNAUTHENTICATED", "The developer token is missing.",
                          "authenticationError", "DEVELOPER_TOKEN_PARAMETER_MISSING");
    }
    if (*developer != credentials::kGoogleDeveloperToken) {
      return google_error(401, "UNAUTHENTICATED", "The developer token is not valid.",
                          "authenticationError", "DEVELOPER_TOKEN_INVALID");
    }
    const std::string customer = request.params.at("customer");
    if (!parse_int(customer)) {
      return invalid_argument("requestError", "INVALID_CUSTOMER_ID",
                              "Invalid customer ID '" + customer + "': digits only, no dashes.");
    }
    if (auto login = request.headers.get("login-customer-id"); login && !parse_int(*login)) {
      return invalid_argument("requestError", "INVALID_CUSTOMER_ID",
                              "login-customer-id must be digits only.");
    }
    if (!state.dataset.find_account("google_ads", customer)) {
      return google_error(403, "PERMISSION_DENIED",
                          "User doesn't have permission to access customer. Note: If you're "
                          "accessing a client customer, the manager's customer id must be set in "
                          "the 'login-customer-id' header.",
                          "authorizationError", "USER_PERMISSION_DENIED");
    }
    boost::system::error_code ec;
    auto body = json::parse(request.body, ec);
    if (ec || !body.is_object()) {
      return google_error(400, "INVALID_ARGUMENT",
                          "Invalid JSON payload received: the body must be "
                          "a JSON object.");
    }
    const BudgetUse use = state.take(Vendor::kGoogleAds, customer);
    if (!use.allowed) return google_quota_exhausted(use.reset_in);
    auto response = inner(state, request, customer, body.as_object());
    if (!response.headers.get("request-id")) response.headers.set("request-id", random_id(22));
    return response;
  };
}

std::variant<Query, web::Response> query_of(const json::object& body) {
  const json::value* query = body.if_contains("query");
  if (!query || !query->is_string()) {
    return invalid_argument("requestError", "REQUIRED_FIELD_MISSING",
                            "The field 'query' is required.");
  }
  return parse_gaql(query->as_string());
}

web::Response search_stream(Simulator::State& state, const web::Request&,
                            const std::string& customer, const json::object& body) {
  auto parsed = query_of(body);
  if (auto* r = std::get_if<web::Response>(&parsed)) return *r;
  const Query& q = std::get<Query>(parsed);
  auto result = run_query(state, customer, q);
  if (auto* r = std::get_if<web::Response>(&result)) return *r;
  auto& rows = std::get<std::vector<json::object>>(result);
  const std::string request_id = random_id(22);
  json::array batches;
  for (std::size_t start = 0; start < rows.size() || batches.empty(); start += kPageSize) {
    json::object batch;
    if (start < rows.size()) {
      json::array results;
      for (std::size_t i = start; i < rows.size() && i < start + kPageSize; ++i) {
        results.push_back(std::move(rows[i]));
      }
      batch["results"] = std::move(results);
    }
    batch["fieldMask"] = field_mask(q);
    batch["requestId"] = request_id;
    batches.push_back(std::move(batch));
    if (rows.empty()) break;
  }
  auto response = json_answer(200, batches);
  response.headers.set("request-id", request_id);
  return response;
}

web::Response search(Simulator::State& state, const web::Request&, const std::string& customer,
                     const json::object& body) {
  auto parsed = query_of(body);
  if (auto* r = std::get_if<web::Response>(&parsed)) return *r;
  const Query& q = std::get<Query>(parsed);
  std::size_t page_size = kPageSize;
  if (const json::value* v = body.if_contains("pageSize")) {
    std::optional<std::int64_t> n;
    if (v->is_int64())
      n = v->as_int64();
    else if (v->is_string())
      n = parse_int(v->as_string());
    if (!n || *n < 1 || *n > static_cast<std::int64_t>(kPageSize)) {
      return invalid_argument("requestError", "INVALID_PAGE_SIZE", "pageSize must be 1-10000.");
    }
    page_size = static_cast<std::size_t>(*n);
  }
  std::size_t offset = 0;
  if (const json::value* v = body.if_contains("pageToken");
      v && v->is_string() && !v->as_string().empty()) {
    auto decoded = base64_decode(v->as_string());
    auto n =
        decoded && decoded->rfind("offset:", 0) == 0 ? parse_int(decoded->substr(7)) : std::nullopt;
    if (!n) return invalid_argument("requestError", "INVALID_PAGE_TOKEN", "Invalid page token.");
    offset = static_cast<std::size_t>(*n);
  }
  auto result = run_query(state, customer, q);
  if (auto* r = std::get_if<web::Response>(&result)) return *r;
  auto& rows = std::get<std::vector<json::object>>(result);
  json::array results;
  for (std::size_t i = offset; i < rows.size() && results.size() < page_size; ++i) {
    results.push_back(std::move(rows[i]));
  }
  json::object out;
  if (!results.empty()) out["results"] = std::move(results);
  out["fieldMask"] = field_mask(q);
  if (offset + page_size < rows.size()) {
    out["nextPageToken"] = base64_encode("offset:" + std::to_string(offset + page_size));
  }
  if (const json::value* v = body.if_contains("returnTotalResultsCount");
      v && v->is_bool() && v->as_bool()) {
    out["totalResultsCount"] = std::to_string(rows.size());
  }
  const std::string request_id = random_id(22);
  out["requestId"] = request_id;
  auto response = json_answer(200, out);
  response.headers.set("request-id", request_id);
  return response;
}

web::Response mutate(Simulator::State& state, const web::Request&, const std::string& customer,
                     const json::object& body) {
  const json::value* ops = body.if_contains("operations");
  if (!ops || !ops->is_array() || ops->as_array().empty()) {
    return invalid_argument("requestError", "REQUIRED_FIELD_MISSING",
                            "The field 'operations' must be a non-empty array.");
  }
  auto flag = [&](std::string_view name) {
    const json::value* v = body.if_contains(name);
    return v && v->is_bool() && v->as_bool();
  };
  const bool validate_only = flag("validateOnly");
  const bool partial = flag("partialFailure");
  struct Change {
    std::string id, status, name;
  };
  std::vector<std::optional<Change>> changes;
  json::array errors;
  std::lock_guard lock(state.mutex);
  const auto& ops_array = ops->as_array();
  for (std::size_t i = 0; i < ops_array.size(); ++i) {
    const std::string where = "operations[" + std::to_string(i) + "]";
    auto fail = [&](std::string_view key, std::string_view code, std::string message) {
      errors.push_back(json::object{
          {"errorCode", json::object{{key, code}}},
          {"message", where + ": " + message},
          {"location",
           json::object{{"fieldPathElements",
                         json::array{json::object{{"fieldName", "operations"}, {"index", i}}}}}}});
      changes.push_back(std::nullopt);
    };
    const json::object* op = ops_array[i].if_object();
    const json::value* update = op ? op->if_contains("update") : nullptr;
    if (!update || !update->is_object()) {
      fail("requestError", "UNSUPPORTED_OPERATION",
           "the simulator supports `update` operations only");
      continue;
    }
    const json::value* mask = op->if_contains("updateMask");
    if (!mask || !mask->is_string() || mask->as_string().empty()) {
      fail("fieldMaskError", "FIELD_MASK_MISSING", "updateMask is required");
      continue;
    }
    const json::object& u = update->as_object();
    const json::value* resource = u.if_contains("resourceName");
    const std::string prefix = "customers/" + customer + "/campaigns/";
    if (!resource || !resource->is_string() ||
        resource->as_string().subview().substr(0, prefix.size()) != prefix) {
      fail("requestError", "INVALID_RESOURCE_NAME",
           "resourceName must be " + prefix + "{campaign_id}");
      continue;
    }
    Change change;
    change.id = std::string(resource->as_string().subview().substr(prefix.size()));
    auto it = state.campaigns.find(change.id);
    if (it == state.campaigns.end() || it->second.platform != "google_ads" ||
        it->second.account_id != customer) {
      fail("mutateError", "RESOURCE_NOT_FOUND", "campaign " + change.id + " not found");
      continue;
    }
    bool bad = false;
    std::string_view m = mask->as_string();
    while (!m.empty() && !bad) {
      const auto comma = m.find(',');
      const std::string_view path = m.substr(0, comma);
      m = comma == std::string_view::npos ? std::string_view() : m.substr(comma + 1);
      const json::value* v = path == "status" ? u.if_contains("status")
                             : path == "name" ? u.if_contains("name")
                                              : nullptr;
      if (path != "status" && path != "name") {
        fail("fieldMaskError", "FIELD_NOT_FOUND",
             "updateMask path '" + std::string(path) + "' is not supported (status, name)");
        bad = true;
      } else if (!v || !v->is_string()) {
        fail("fieldError", "REQUIRED", std::string(path) + " is in updateMask but missing");
        bad = true;
      } else if (path == "status") {
        change.status = v->as_string();
        if (change.status != "ENABLED" && change.status != "PAUSED" && change.status != "REMOVED") {
          fail("requestError", "INVALID_ENUM_VALUE", "status must be ENABLED, PAUSED or REMOVED");
          bad = true;
        }
      } else {
        change.name = v->as_string();
      }
    }
    if (!bad) changes.push_back(std::move(change));
  }
  if (!errors.empty() && !partial) {
    json::object failure{
        {"@type", "type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure"},
        {"errors", errors},
        {"requestId", random_id(22)}};
    return json_answer(
        400,
        json::object{{"error", json::object{{"code", 400},
                                            {"message", "Request contains an invalid argument."},
                                            {"status", "INVALID_ARGUMENT"},
                                            {"details", json::array{failure}}}}});
  }
  if (validate_only) return json_answer(200, json::object{});
  json::array results;
  for (const auto& change : changes) {
    if (!change) {
      results.push_back(json::object{});
      continue;
    }
    auto& c = state.campaigns[change->id];
    if (!change->status.empty()) c.status = change->status;
    if (!change->name.empty()) c.name = change->name;
    results.push_back(
        json::object{{"resourceName", "customers/" + customer + "/campaigns/" + change->id}});
  }
  json::object out{{"results", results}};
  if (!errors.empty()) {
    out["partialFailureError"] = json::object{
        {"code", 3},
        {"message", "Multiple errors in 'details'. First error: " +
                        std::string(errors[0].as_object().at("message").as_string())},
        {"details",
         json::array{json::object{
             {"@type", "type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure"},
             {"errors", errors}}}}};
  }
  return json_answer(200, out);
}

web::Response google_token(Simulator::State& state, const web::Request& request) {
  auto form = parse_form(request.body);
  auto oauth_error = [](int status, std::string_view error, std::string_view description) {
    return json_answer(status, json::object{{"error", error}, {"error_description", description}});
  };
  const std::string grant = form_value(form, "grant_type").value_or("");
  if (grant != "refresh_token") {
    return oauth_error(400, "unsupported_grant_type", "Invalid grant_type: " + grant);
  }
  if (form_value(form, "client_id") != credentials::kGoogleClientId) {
    return oauth_error(401, "invalid_client", "The OAuth client was not found.");
  }
  if (form_value(form, "client_secret") != credentials::kGoogleClientSecret) {
    return oauth_error(401, "invalid_client", "Unauthorized");
  }
  if (form_value(form, "refresh_token") != credentials::kGoogleRefreshToken) {
    return oauth_error(400, "invalid_grant", "Bad Request");
  }
  const auto lifetime = state.options.token_lifetime;
  const std::string token = state.issue_token(Vendor::kGoogleOauth, "ya29.sim-", lifetime);
  return json_answer(200, json::object{{"access_token", token},
                                       {"expires_in", lifetime.count()},
                                       {"scope",
                                        "https://www.googleapis.com/auth/adwords "
                                        "https://www.googleapis.com/auth/analytics.readonly"},
                                       {"token_type", "Bearer"}});
}

}  // namespace

std::optional<web::Response> check_google_access(Simulator::State& state,
                                                 const web::Request& request) {
  return check_google_token(state, request, false);
}

void register_google(Simulator::State& state) {
  add_vendor_route(state, Vendor::kGoogleAds, web::Method::kPost,
                   "/{version}/customers/{customer}/googleAds:searchStream",
                   ads_route(search_stream));
  add_vendor_route(state, Vendor::kGoogleAds, web::Method::kPost,
                   "/{version}/customers/{customer}/googleAds:search", ads_route(search));
  add_vendor_route(state, Vendor::kGoogleAds, web::Method::kPost,
                   "/{version}/customers/{customer}/campaigns:mutate", ads_route(mutate));
  add_vendor_route(state, Vendor::kGoogleOauth, web::Method::kPost, "/token", google_token);
}

}  // namespace flowpilot::simulator::detail
