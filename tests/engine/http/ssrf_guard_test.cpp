#include "engine/http/detail/ssrf_guard.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/http/http_client.h"

namespace flowpilot::engine {
namespace {

struct Case {
  const char* address;
  const char* reason;  // "" when allowed
};

// Only classification: no test here opens a connection.
TEST(SsrfRefusal, ClassifiesEveryRange) {
  const std::vector<Case> cases = {
      {"127.0.0.1", "loopback"},
      {"127.255.255.254", "loopback"},
      {"127.1", "loopback"},
      {"2130706433", "loopback"},
      {"0x7f000001", "loopback"},
      {"0177.0.0.1", "loopback"},
      {"0x7f.1", "loopback"},
      {"0.0.0.0", "unspecified"},
      {"0", "unspecified"},
      {"10.0.0.1", "private"},
      {"012.0.0.1", "private"},
      {"172.16.0.1", "private"},
      {"172.31.255.255", "private"},
      {"192.168.1.1", "private"},
      {"169.254.169.254", "metadata"},
      {"0xa9fea9fe", "metadata"},
      {"169.254.1.1", "link-local"},
      {"100.64.0.1", "CGNAT"},
      {"100.127.255.255", "CGNAT"},
      {"224.0.0.1", "multicast"},
      {"239.255.255.250", "multicast"},
      {"240.0.0.1", "reserved"},
      {"255.255.255.255", "broadcast"},
      {"192.0.2.10", "reserved"},
      {"::1", "loopback"},
      {"[::1]", "loopback"},
      {"0:0:0:0:0:0:0:1", "loopback"},
      {"::", "unspecified"},
      {"[::]", "unspecified"},
      {"fd00:ec2::254", "metadata"},
      {"[fd00:ec2::254]", "metadata"},
      {"fc00::1", "private"},
      {"fd12:3456::1", "private"},
      {"fe80::1", "link-local"},
      {"fe80::1%eth0", "link-local"},
      {"febf::1", "link-local"},
      {"ff02::1", "multicast"},
      {"::ffff:127.0.0.1", "loopback"},
      {"[::ffff:127.0.0.1]", "loopback"},
      {"::ffff:7f00:1", "loopback"},
      {"::ffff:169.254.169.254", "metadata"},
      {"::ffff:10.0.0.1", "private"},
      {"::127.0.0.1", "loopback"},
      {"::10.0.0.1", "private"},
      {"64:ff9b::127.0.0.1", "loopback"},
      {"64:ff9b::a9fe:a9fe", "metadata"},
      {"64:ff9b::192.168.0.1", "private"},
      {"2002:7f00:1::", "loopback"},
      {"2002:a00:1::1", "private"},
      {"2001:db8::1", "reserved"},
      // Public addresses are allowed.
      {"8.8.8.8", ""},
      {"1.1.1.1", ""},
      {"172.32.0.1", ""},
      {"100.128.0.1", ""},
      {"169.253.255.255", ""},
      {"::ffff:8.8.8.8", ""},
      {"64:ff9b::8.8.8.8", ""},
      {"2001:4860:4860::8888", ""},
      {"2606:4700::1111", ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ssrf_refusal(c.address, {}), c.reason) << c.address;
  }
}

TEST(SsrfRefusal, RefusesWhatIsNotAnAddress) {
  for (const auto* text : {"localhost", "", "127.0.0.1 x", "127.0.0.1.", "1.2.3.4.5", "::g", "[::1",
                           "example.com", "256.0.0.1"}) {
    EXPECT_EQ(ssrf_refusal(text, {}), "not an IP address") << text;
  }
}

TEST(SsrfRefusal, AllowedNetworksOverride) {
  EXPECT_EQ(ssrf_refusal("127.0.0.1", {"127.0.0.0/8"}), "");
  EXPECT_EQ(ssrf_refusal("127.0.0.1", {"127.0.0.1/32"}), "");
  EXPECT_EQ(ssrf_refusal("127.0.0.1", {"127.0.0.1"}), "");
  EXPECT_EQ(ssrf_refusal("127.0.0.2", {"127.0.0.1/32"}), "loopback");
  EXPECT_EQ(ssrf_refusal("10.1.200.3", {"10.1.0.0/16"}), "");
  EXPECT_EQ(ssrf_refusal("10.2.0.1", {"10.1.0.0/16"}), "private");
  EXPECT_EQ(ssrf_refusal("172.20.1.1", {"172.16.0.0/13"}), "");
  EXPECT_EQ(ssrf_refusal("172.24.1.1", {"172.16.0.0/13"}), "private");
  EXPECT_EQ(ssrf_refusal("fd00::5", {"fd00::/8"}), "");
  EXPECT_EQ(ssrf_refusal("fd00:ec2::254", {"fd00:ec2::/32"}), "");
  EXPECT_EQ(ssrf_refusal("fe80::1", {"fd00::/8"}), "link-local");
  EXPECT_EQ(ssrf_refusal("::ffff:127.0.0.1", {"127.0.0.0/8"}), "");
  EXPECT_EQ(ssrf_refusal("::1", {"127.0.0.0/8"}), "loopback");
  EXPECT_EQ(ssrf_refusal("127.0.0.1", {"::1/128"}), "loopback");
  EXPECT_EQ(ssrf_refusal("169.254.169.254", {"0.0.0.0/0"}), "");
}

TEST(SsrfRefusal, MalformedAllowedNetworksThrow) {
  for (const auto* text :
       {"10.0.0.0/33", "nonsense", "10.0.0.0/", "::/129", "10.0.0.0/-1", "10.0.0.0/8x", "/8"}) {
    EXPECT_THROW(ssrf_refusal("8.8.8.8", {text}), std::invalid_argument) << text;
    HttpClientOptions options;
    options.allowed_networks = {text};
    EXPECT_THROW(HttpClient{options}, std::invalid_argument) << text;
  }
}

TEST(SsrfGuardDetail, NetworkBaseIsMasked) {
  const auto network = http_detail::parse_network("10.1.2.3/12");
  EXPECT_EQ(network.base.to_string(), "10.0.0.0");
  EXPECT_EQ(network.prefix, 12);
  EXPECT_TRUE(network.contains(*http_detail::parse_ip_address("10.15.255.255")));
  EXPECT_FALSE(network.contains(*http_detail::parse_ip_address("10.16.0.0")));
  const auto v6 = http_detail::parse_network("2001:db8:abcd::1/33");
  EXPECT_EQ(v6.base.to_string(), "2001:db8:8000::");
  const auto everything = http_detail::parse_network("::/0");
  EXPECT_TRUE(everything.contains(*http_detail::parse_ip_address("2001::1")));
  EXPECT_FALSE(everything.contains(*http_detail::parse_ip_address("1.2.3.4")));
}

}  // namespace
}  // namespace flowpilot::engine
