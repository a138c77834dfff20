// The SSRF guard's address arithmetic: parsing literal addresses and CIDR blocks, and classifying
// an address as public or as one of the ranges outbound requests must not reach. Pure functions,
// callable from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sockaddr;

namespace flowpilot::engine::http_detail {

// An IPv4 address is kept in its first 4 bytes with `v6` false.
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};

  std::string to_string() const;
};

struct IpNetwork {
  IpAddress base;  // host bits cleared
  int prefix = 0;

  bool contains(const IpAddress& address) const;
};

// Any spelling inet_aton accepts for IPv4 (127.1, 0177.0.0.1, 0x7f000001, 2130706433) or
// inet_pton for IPv6, with optional brackets and zone id ("[fe80::1%eth0]").
std::optional<IpAddress> parse_ip_address(std::string_view text);

// "a.b.c.d/n" or "v6/n"; a bare address means a single host. Throws std::invalid_argument.
IpNetwork parse_network(std::string_view text);
std::vector<IpNetwork> parse_networks(const std::vector<std::string>& texts);

// The address of an AF_INET or AF_INET6 socket address; nullopt for any other family.
std::optional<IpAddress> from_sockaddr(const sockaddr* address);

// Why the address may not be contacted ("loopback", "private", "metadata", ...), or "" when it is
// public or inside one of `allowed`.
std::string refusal_reason(const IpAddress& address, const std::vector<IpNetwork>& allowed);

}  // namespace flowpilot::engine::http_detail
