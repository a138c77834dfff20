// Fault injection, the vendors' error and rate-limit bodies, and the route wrapper that applies
// them.
#include <cmath>
#include <stdexcept>

#include "simulator/detail/state.h"

namespace flowpilot::simulator {

namespace json = boost::json;

std::string_view fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kRateLimit:
      return "rate_limit";
    case FaultKind::kServerError:
      return "server_error";
    case FaultKind::kSlow:
      return "slow";
    case FaultKind::kMalformed:
      return "malformed";
    case FaultKind::kExpiredToken:
      return "expired_token";
  }
  return "unknown";
}

std::optional<Fault> parse_fault_header(std::string_view text, std::string* error) {
  const auto colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  const std::optional<std::string_view> arg =
      colon == std::string_view::npos ? std::nullopt : std::optional(text.substr(colon + 1));
  auto fail = [&](std::string message) -> std::optional<Fault> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  Fault fault;
  if (kind == "rate_limit") {
    fault.kind = FaultKind::kRateLimit;
  } else if (kind == "server_error") {
    fault.kind = FaultKind::kServerError;
    if (arg) {
      auto status = detail::parse_int(*arg);
      if (!status || *status < 500 || *status > 599) {
        return fail("server_error status must be 500-599, got `" + std::string(*arg) + "`");
      }
      fault.status = static_cast<int>(*status);
    }
  } else if (kind == "slow") {
    fault.kind = FaultKind::kSlow;
    auto ms = arg ? detail::parse_int(*arg) : std::optional<std::int64_t>(1000);
    if (!ms || *ms > 600'000) {
      return fail("slow takes a delay in milliseconds (0-600000), got `" +
                  std::string(arg.value_or("")) + "`");
    }
    fault.delay = std::chrono::milliseconds(*ms);
  } else if (kind == "malformed") {
    fault.kind = FaultKind::kMalformed;
  } else if (kind == "expired_token") {
    fault.kind = FaultKind::kExpiredToken;
  } else {
    return fail("unknown fault `" + std::string(kind) +
                "` (expected rate_limit, server_error[:STATUS], slow[:MS], malformed, "
                "expired_token)");
  }
  if (arg && (fault.kind == FaultKind::kRateLimit || fault.kind == FaultKind::kMalformed ||
              fault.kind == FaultKind::kExpiredToken)) {
    return fail("fault `" + std::string(kind) + "` takes no argument");
  }
  return fault;
}

Fault make_fault(std::string_view kind, std::string_view vendor, std::string path,
                 std::int64_t count, std::int64_t status, std::int64_t delay_ms) {
  Fault fault;
  bool known = false;
  for (FaultKind k : {FaultKind::kRateLimit, FaultKind::kServerError, FaultKind::kSlow,
                      FaultKind::kMalformed, FaultKind::kExpiredToken}) {
    if (fault_kind_name(k) == kind) {
      fault.kind = k;
      known = true;
    }
  }
  if (!known) {
    throw std::invalid_argument("kind: unknown fault `" + std::string(kind) +
                                "` (expected rate_limit, server_error, slow, malformed, "
                                "expired_token)");
  }
  if (!vendor.empty() && vendor != "*") {
    fault.vendor = parse_vendor(vendor);
    if (!fault.vendor) {
      throw std::invalid_argument(
          "vendor: unknown vendor `" + std::string(vendor) +
          "` (expected meta, google_ads, google_oauth, hubspot, ga4, slack, "
          "slack_hooks or *)");
    }
  }
  if (!path.empty() && path[0] != '/') {
    throw std::invalid_argument("path: must start with '/' (the path after the vendor prefix)");
  }
  fault.path = std::move(path);
  if (count < 0 || count > 1'000'000) {
    throw std::invalid_argument("count: must be 0 (until cleared) to 1000000");
  }
  fault.count = static_cast<int>(count);
  if (status < 500 || status > 599) throw std::invalid_argument("status: must be 500-599");
  fault.status = static_cast<int>(status);
  if (delay_ms < 0 || delay_ms > 600'000) throw std::invalid_argument("delay_ms: must be 0-600000");
  fault.delay = std::chrono::milliseconds(delay_ms);
  if (fault.kind == FaultKind::kSlow && delay_ms == 0) {
    throw std::invalid_argument("delay_ms: a slow fault needs a delay above 0");
  }
  return fault;
}

namespace detail {

namespace {

std::int64_t ceil_seconds(std::chrono::milliseconds ms) {
  return std::max<std::int64_t>(1, (ms.count() + 999) / 1000);
}

std::string google_status_name(int status) {
  switch (status) {
    case 500:
      return "INTERNAL";
    case 501:
      return "UNIMPLEMENTED";
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return "UNKNOWN";
  }
}

}  // namespace

web::Response meta_error(int http_status, int code, std::optional<int> subcode,
                         std::string_view type, std::string_view message, bool transient) {
  json::object error{{"message", message}, {"type", type}, {"code", code}};
  if (subcode) error["error_subcode"] = *subcode;
  if (transient) error["is_transient"] = true;
  error["fbtrace_id"] = "A" + random_id(10);
  auto response = json_answer(http_status, json::object{{"error", std::move(error)}});
  if (code == 190 || code == 104) {
    response.headers.set("WWW-Authenticate", "OAuth \"Facebook Platform\" \"invalid_token\"");
  }
  return response;
}

web::Response google_error(int http_status, std::string_view status, std::string_view message,
                           std::string_view error_key, std::string_view error_value,
                           const json::object& details) {
  json::object error{{"code", http_status}, {"message", message}, {"status", status}};
  const std::string request_id = random_id(22);
  if (!error_key.empty()) {
    json::object entry{{"errorCode", json::object{{error_key, error_value}}}, {"message", message}};
    if (!details.empty()) entry["details"] = details;
    error["details"] = json::array{json::object{
        {"@type", "type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure"},
        {"errors", json::array{std::move(entry)}},
        {"requestId", request_id}}};
  }
  auto response = json_answer(http_status, json::object{{"error", std::move(error)}});
  response.headers.set("request-id", request_id);
  return response;
}

web::Response hubspot_error(int http_status, std::string_view category, std::string_view message) {
  return json_answer(http_status, json::object{{"status", "error"},
                                               {"message", message},
                                               {"correlationId", random_id(8) + "-" + random_id(4)},
                                               {"category", category}});
}

web::Response meta_throttled(int code, std::chrono::milliseconds reset_in) {
  std::string message;
  if (code == 17) {
    message = "(#17) User request limit reached";
  } else if (code == 80000) {
    message =
        "(#80000) There have been too many calls from this ad-account. Wait a bit and try "
        "again.";
  } else {
    message = "(#" + std::to_string(code) +
              ") There have been too many calls to this ad-account. Wait a bit and try again.";
  }
  auto response = meta_error(400, code, 2446079, "OAuthException", message, true);
  response.headers.set("Retry-After", std::to_string(ceil_seconds(reset_in)));
  return response;
}

void add_meta_usage_headers(web::Response& response, std::string_view account,
                            std::string_view type, const BudgetUse& use) {
  const int pct = use.limit > 0 ? std::min(100, use.used * 100 / use.limit) : 0;
  const std::int64_t regain_minutes =
      use.allowed ? 0 : std::max<std::int64_t>(1, (use.reset_in.count() + 59'999) / 60'000);
  std::string key(account);
  if (key.rfind("act_", 0) == 0) key = key.substr(4);
  json::object buc{{"type", type},
                   {"call_count", pct},
                   {"total_cputime", pct / 2},
                   {"total_time", pct / 2},
                   {"estimated_time_to_regain_access", regain_minutes},
                   {"ads_api_access_tier", "standard_access"}};
  response.headers.set("X-Business-Use-Case-Usage",
                       json::serialize(json::object{{key, json::array{buc}}}));
  response.headers.set("X-App-Usage", json::serialize(json::object{{"call_count", pct},
                                                                   {"total_cputime", pct / 2},
                                                                   {"total_time", pct / 2}}));
  response.headers.set("X-Ad-Account-Usage",
                       json::serialize(json::object{
                           {"acc_id_util_pct", pct},
                           {"reset_time_duration", use.limit > 0 ? ceil_seconds(use.reset_in) : 0},
                           {"ads_api_access_tier", "standard_access"}}));
}

web::Response google_quota_exhausted(std::chrono::milliseconds retry_in) {
  const std::string delay = std::to_string(ceil_seconds(retry_in)) + "s";
  json::object quota{{"rateScope", "ACCOUNT"},
                     {"rateName", "Requests per account per minute"},
                     {"retryDelay", delay}};
  return google_error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).",
                      "quotaError", "RESOURCE_TEMPORARILY_EXHAUSTED",
                      json::object{{"quotaErrorDetails", std::move(quota)}});
}

web::Response hubspot_rate_limited(std::string_view policy, const BudgetUse& use) {
  std::string lower(policy);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto response = json_answer(
      429, json::object{{"status", "error"},
                        {"message", "You have reached your " + lower + " limit."},
                        {"errorType", "RATE_LIMIT"},
                        {"correlationId", random_id(8) + "-" + random_id(4)},
                        {"policyName", policy},
                        {"groupName", "api-calls:" + std::string(Dataset::kHubspotPortalId)}});
  response.headers.set("Retry-After", std::to_string(ceil_seconds(use.reset_in)));
  if (policy == "TEN_SECONDLY_ROLLING") {
    response.headers.set("X-HubSpot-RateLimit-Max", std::to_string(use.limit));
    response.headers.set("X-HubSpot-RateLimit-Remaining", "0");
    response.headers.set("X-HubSpot-RateLimit-Interval-Milliseconds",
                         std::to_string(use.window.count()));
    response.headers.set("X-HubSpot-RateLimit-Secondly",
                         std::to_string(std::max(1, use.limit / 10)));
    response.headers.set("X-HubSpot-RateLimit-Secondly-Remaining", "0");
  }
  return response;
}

web::Response slack_rate_limited(Vendor vendor, std::chrono::milliseconds retry_in) {
  web::Response response =
      vendor == Vendor::kSlack
          ? json_answer(429, json::object{{"ok", false}, {"error", "ratelimited"}})
          : text_answer(429, "rate_limited");
  response.headers.set("Retry-After", std::to_string(ceil_seconds(retry_in)));
  return response;
}

web::Response fault_answer(Simulator::State& state, Vendor vendor, const Fault& fault,
                           const web::Request& request) {
  const bool oauth_path = request.path.find("/oauth/") != std::string::npos;
  if (fault.kind == FaultKind::kRateLimit) {
    BudgetUse full;
    full.allowed = false;
    const RateBudget budget = [&] {
      std::lock_guard lock(state.mutex);
      return state.budgets[std::string(vendor_name(vendor))];
    }();
    full.limit = std::max(1, budget.calls);
    full.used = full.limit;
    full.window = budget.window;
    full.reset_in = budget.window;
    switch (vendor) {
      case Vendor::kMeta: {
        auto response = meta_throttled(17, full.reset_in);
        add_meta_usage_headers(response,
                               request.params.count("object") ? request.params.at("object") : "0",
                               "ads_insights", full);
        return response;
      }
      case Vendor::kGoogleAds:
        return google_quota_exhausted(full.reset_in);
      case Vendor::kGa4:
        return google_error(429, "RESOURCE_EXHAUSTED",
                            "Exhausted property tokens per hour. Wait and retry.");
      case Vendor::kGoogleOauth:
        return json_answer(429, json::object{{"error", "rate_limit_exceeded"},
                                             {"error_description", "Rate Limit Exceeded"}});
      case Vendor::kHubspot:
        return hubspot_rate_limited("TEN_SECONDLY_ROLLING", full);
      case Vendor::kSlack:
      case Vendor::kSlackHooks:
        return slack_rate_limited(vendor, std::chrono::milliseconds(1000));
    }
  }
  if (fault.kind == FaultKind::kServerError) {
    const int status = fault.status;
    switch (vendor) {
      case Vendor::kMeta:
        return meta_error(status, 2, std::nullopt, "OAuthException",
                          "An unexpected error has occurred. Please retry your request later.",
                          true);
      case Vendor::kGoogleAds:
      case Vendor::kGa4:
        return google_error(status, google_status_name(status),
                            status == 503 ? "The service is currently unavailable."
                                          : "Internal error encountered.");
      case Vendor::kGoogleOauth:
        return json_answer(status, json::object{{"error", "internal_failure"},
                                                {"error_description", "Backend Error"}});
      case Vendor::kHubspot:
        return hubspot_error(status, "INTERNAL_ERROR", "internal error");
      case Vendor::kSlack:
        return json_answer(status, json::object{{"ok", false}, {"error", "internal_error"}});
      case Vendor::kSlackHooks:
        return text_answer(status, "internal_error");
    }
  }
  // Expired token.
  switch (vendor) {
    case Vendor::kMeta:
      return meta_error(400, 190, 463, "OAuthException",
                        "Error validating access token: Session has expired. The current time is "
                        "later than the token's expiry.");
    case Vendor::kGoogleAds:
    case Vendor::kGa4:
      return google_error(401, "UNAUTHENTICATED",
                          "Request had invalid authentication credentials. Expected OAuth 2 access "
                          "token, login cookie or other valid authentication credential.");
    case Vendor::kGoogleOauth:
      return json_answer(400,
                         json::object{{"error", "invalid_grant"},
                                      {"error_description", "Token has been expired or revoked."}});
    case Vendor::kHubspot:
      if (oauth_path) {
        return json_answer(400, json::object{{"status", "BAD_REFRESH_TOKEN"},
                                             {"error", "invalid_grant"},
                                             {"message", "missing or unknown refresh token"},
                                             {"correlationId", random_id(12)}});
      }
      return hubspot_error(401, "EXPIRED_AUTHENTICATION",
                           "The OAuth token used to make this call expired.");
    case Vendor::kSlack:
      return json_answer(200, json::object{{"ok", false}, {"error", "token_expired"}});
    case Vendor::kSlackHooks:
      return text_answer(403, "invalid_token");
  }
  return text_answer(500, "unknown vendor");
}

void add_vendor_route(Simulator::State& state, Vendor vendor, web::Method method,
                      std::string_view pattern, VendorHandler handler) {
  const std::string prefix(vendor_prefix(vendor));
  const std::string route_key = std::string(vendor_name(vendor)) + " " +
                                std::string(web::method_name(method)) + " " + std::string(pattern);
  state.router.add_async(
      method, prefix + std::string(pattern), web::Access::open(),
      [&state, vendor, prefix, route_key, handler = std::move(handler)](web::Request request,
                                                                        web::Reply reply) {
        {
          std::lock_guard lock(state.mutex);
          ++state.counts[std::string(vendor_name(vendor))];
          ++state.counts[route_key];
          ++state.counts["total"];
        }
        const std::string sub_path = request.path.substr(prefix.size());
        std::optional<Fault> fault;
        if (auto header = request.headers.get("X-Sim-Fault")) {
          std::string error;
          fault = parse_fault_header(*header, &error);
          if (!fault) {
            reply(text_answer(400, "X-Sim-Fault: " + error + "\n"));
            return;
          }
        } else {
          fault = state.take_fault(vendor, sub_path);
        }
        web::Response response;
        if (fault &&
            (fault->kind == FaultKind::kRateLimit || fault->kind == FaultKind::kServerError ||
             fault->kind == FaultKind::kExpiredToken)) {
          response = fault_answer(state, vendor, *fault, request);
        } else {
          try {
            response = handler(state, request);
          } catch (const std::exception&) {
            response = fault_answer(
                state, vendor,
                Fault{FaultKind::kServerError, vendor, "", 1, 500, std::chrono::milliseconds(0)},
                request);
          }
        }
        if (fault && fault->kind == FaultKind::kMalformed) {
          // Cut the body mid-way, as a dropped connection or a broken proxy would.
          response.body = response.body.size() > 1
                              ? response.body.substr(0, response.body.size() / 2)
                              : std::string("{");
        }
        if (fault && fault->kind == FaultKind::kSlow && fault->delay.count() > 0) {
          state.delays.schedule(fault->delay, [reply, r = std::move(response)]() { reply(r); });
          return;
        }
        reply(std::move(response));
      });
}

}  // namespace detail
}  // namespace flowpilot::simulator
