#include "engine/connections/connections.h"

#include <boost/json.hpp>

namespace flowpilot::engine {

namespace json = boost::json;

namespace {

// Vendor defaults are only defaults: base URLs and versions are fields so that a connection can
// point at the simulator or at a newer API version without a new build.
std::vector<ConnectionType> build_types() {
  const ConnectionField google_token_url{"token_url", "Token URL",
                                         "OAuth2 token endpoint for the refresh-token grant",
                                         false, false, "https://oauth2.googleapis.com/token", "url"};
  return {
      {"meta_ads",
       "Meta Ads",
       "Meta Marketing API (Graph API) with a long-lived or system-user access token",
       {
           {"access_token", "Access token", "System-user or long-lived user token", true, true, "",
            "secret"},
           {"account_id", "Ad account", "Default ad account, e.g. act_1001", false, false, "",
            "text"},
           {"base_url", "Base URL", "Graph API host", false, false, "https://graph.facebook.com",
            "url"},
           {"api_version", "API version", "Graph API version segment", false, false, "v25.0",
            "text"},
           {"currency", "Currency", "The ad account's currency (e.g. EUR), for rows the API sends without one",
            false, false, "", "text"},
           {"app_id", "App id", "With the app secret: renew a long-lived token before it expires",
            false, false, "", "text"},
           {"app_secret", "App secret", "The Meta app's secret, for the token exchange", true,
            false, "", "secret"},
           {"token_expires_at", "Token expires at",
            "Unix time (seconds) when the access token expires; updated on each renewal", false,
            false, "", "digits"},
       },
       RateLimit{5, 10}},
      {"google_ads",
       "Google Ads",
       "Google Ads API with an OAuth2 refresh token and a developer token",
       {
           {"developer_token", "Developer token", "From the Google Ads API Center", true, true, "",
            "secret"},
           {"client_id", "OAuth2 client id", "", false, true, "", "text"},
           {"client_secret", "OAuth2 client secret", "", true, true, "", "secret"},
           {"refresh_token", "Refresh token", "Offline refresh token for the Ads scope", true, true,
            "", "secret"},
           {"login_customer_id", "Manager account id",
            "Digits only; set when access goes through a manager account", false, false, "",
            "digits"},
           {"account_id", "Customer id", "Default customer id, digits only", false, false, "",
            "digits"},
           google_token_url,
           {"base_url", "Base URL", "Google Ads API host", false, false,
            "https://googleads.googleapis.com", "url"},
           {"api_version", "API version", "Google Ads API version segment", false, false, "v26",
            "text"},
           {"currency", "Currency", "The account's currency (e.g. EUR); reports carry no currency",
            false, false, "", "text"},
       },
       RateLimit{10, 20},
       true},
      {"hubspot",
       "HubSpot",
       "HubSpot CRM with a private app token, or OAuth2 with a refresh token",
       {
           {"access_token", "Private app token", "Or leave empty and use OAuth2 below", true, false,
            "", "secret"},
           {"client_id", "OAuth2 client id", "", false, false, "", "text"},
           {"client_secret", "OAuth2 client secret", "", true, false, "", "secret"},
           {"refresh_token", "Refresh token", "", true, false, "", "secret"},
           {"token_url", "Token URL", "OAuth2 token endpoint", false, false,
            "https://api.hubapi.com/oauth/v1/token", "url"},
           {"base_url", "Base URL", "HubSpot API host", false, false, "https://api.hubapi.com",
            "url"},
       },
       RateLimit{10, 10},
       true,
       {"access_token", "refresh_token"}},
      {"ga4",
       "Google Analytics 4",
       "GA4 Data API with an OAuth2 refresh token",
       {
           {"client_id", "OAuth2 client id", "", false, true, "", "text"},
           {"client_secret", "OAuth2 client secret", "", true, true, "", "secret"},
           {"refresh_token", "Refresh token", "Offline refresh token for analytics.readonly", true,
            true, "", "secret"},
           {"property_id", "Property id", "GA4 property, digits only", false, true, "", "digits"},
           google_token_url,
           {"base_url", "Base URL", "Data API host", false, false,
            "https://analyticsdata.googleapis.com", "url"},
           {"api_version", "API version", "Data API version segment", false, false, "v1beta",
            "text"},
       },
       RateLimit{5, 10},
       true},
      {"slack",
       "Slack",
       "An incoming webhook URL, a bot token for chat.postMessage, or both",
       {
           {"webhook_url", "Incoming webhook URL", "The URL is itself the credential", true, false,
            "", "url"},
           {"bot_token", "Bot token", "xoxb-... for chat.postMessage", true, false, "", "secret"},
           {"channel", "Default channel", "Channel id or #name for chat.postMessage", false, false,
            "", "text"},
           {"base_url", "Base URL", "Web API host", false, false, "https://slack.com/api", "url"},
       },
       RateLimit{1, 5},
       false,
       {"webhook_url", "bot_token"}},
      {"http",
       "HTTP",
       "Any HTTP API: bearer token, basic authentication or one custom header",
       {
           {"base_url", "Base URL", "Prefix for relative request URLs", false, false, "", "url"},
           {"auth", "Authentication", "How requests are authenticated", false, false, "none",
            "choice", {"none", "bearer", "basic", "header"}},
           {"token", "Bearer token", "For auth bearer", true, false, "", "secret"},
           {"username", "User name", "For auth basic", false, false, "", "text"},
           {"password", "Password", "For auth basic", true, false, "", "secret"},
           {"header_name", "Header name", "For auth header, e.g. X-Api-Key", false, false, "",
            "text"},
           {"header_value", "Header value", "For auth header", true, false, "", "secret"},
       },
       RateLimit{0, 1}},
  };
}

}  // namespace

const std::vector<ConnectionType>& connection_types() {
  static const std::vector<ConnectionType> types = build_types();
  return types;
}

const ConnectionType* find_connection_type(std::string_view name) {
  for (const auto& t : connection_types()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

json::array connection_types_json() {
  json::array out;
  for (const auto& t : connection_types()) {
    json::array fields;
    for (const auto& f : t.fields) {
      json::object field{{"name", f.name},         {"label", f.label},
                         {"description", f.description}, {"secret", f.secret},
                         {"required", f.required}, {"kind", f.kind}};
      if (!f.default_value.empty()) field["default"] = f.default_value;
      if (!f.choices.empty()) {
        json::array choices;
        for (auto c : f.choices) choices.emplace_back(c);
        field["choices"] = std::move(choices);
      }
      fields.push_back(std::move(field));
    }
    json::array one_of;
    for (auto f : t.one_of) one_of.emplace_back(f);
    out.push_back(json::object{
        {"name", t.name},
        {"title", t.title},
        {"description", t.description},
        {"oauth2", t.oauth2},
        {"rate_limit", json::object{{"per_second", t.rate_limit.per_second},
                                    {"burst", t.rate_limit.burst}}},
        {"one_of", std::move(one_of)},
        {"fields", std::move(fields)}});
  }
  return out;
}

}  // namespace flowpilot::engine
